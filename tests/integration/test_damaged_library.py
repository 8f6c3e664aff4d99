"""Every file of a real library damaged in turn: a clear message naming the file and the way forward,
never a signal or a traceback; `seekwise repair` keeps the damaged store aside and brings the corpus
back; the derived indexes heal themselves; a folder that is not a library is left alone."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from seekwise.core.errors import LibraryDamaged, NoLibrary, StoreError
from seekwise.core.library import Library

DATA = Path(__file__).parents[1] / "data"
BOND = "bond"     # a word of tenancy-agreement.txt: a keyword search needs no model


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A library over a copy of the corpus, built once; each test damages its own copy."""
    root = tmp_path_factory.mktemp("damaged")
    shutil.copytree(DATA / "corpus", root / "docs")
    with Library(root / "lib", threads=2) as lib:
        lib.index([root / "docs"])
        lib.search("deposit")                 # the ANN and keyword files are on disk
        lib.derived.current_binary()
        lib.derived.binary.get().save(lib.store.generation())
    return root


@pytest.fixture
def lib_dir(built, tmp_path) -> Path:
    dest = tmp_path / "lib"
    shutil.copytree(built / "lib", dest)
    return dest


def cli(*args: str, data_dir: Path, config: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), SEEKWISE_DATA_DIR=str(data_dir),
               SEEKWISE_CONFIG_DIR=str(config or data_dir.parent / "config"))
    return subprocess.run([sys.executable, "-m", "seekwise", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def said_plainly(out: subprocess.CompletedProcess, *words: str) -> None:
    """Exit 1, one line of ours, no traceback, no signal."""
    assert out.returncode == 1, (out.returncode, out.stderr)
    assert "Traceback" not in out.stderr and "Bus error" not in out.stderr, out.stderr
    for word in words:
        assert word in out.stderr, (word, out.stderr)


def ann_dir(lib_dir: Path) -> Path:
    return next((lib_dir / "ann").iterdir())


def _truncate(part: float):
    def damage(d: Path) -> Path:
        store = d / "store.lmdb"
        os.truncate(store, int(store.stat().st_size * part) // 4096 * 4096)
        return store
    return damage


def _garbage_after_meta(d: Path) -> Path:
    store = d / "store.lmdb"
    raw = bytearray(store.read_bytes())
    raw[8192:] = os.urandom(len(raw) - 8192)
    store.write_bytes(raw)
    return store


def _garbage(d: Path) -> Path:
    store = d / "store.lmdb"
    store.write_bytes(os.urandom(store.stat().st_size))
    return store


def _a_folder_instead(name: str):
    """A damage: the library's file NAME replaced by an (empty) folder of that name."""
    def damage(d: Path) -> Path:
        target = d / name
        target.unlink()
        target.mkdir()
        return target
    return damage


def _missing(d: Path) -> Path:
    (d / "store.lmdb").unlink()
    return d / "store.lmdb"


STORE_DAMAGE = {
    "truncated to 20%": _truncate(0.2),
    "truncated to 60%": _truncate(0.6),
    "truncated to 0 bytes": _truncate(0),
    "garbage after the header": _garbage_after_meta,
    "all garbage": _garbage,
    "a folder": _a_folder_instead("store.lmdb"),
    "missing beside its indexes": _missing,
}


@pytest.mark.parametrize("damage", STORE_DAMAGE, ids=list(STORE_DAMAGE))
def test_a_damaged_store_is_said_and_repaired(lib_dir, damage):
    bad = STORE_DAMAGE[damage](lib_dir)
    for command in (("status",), ("search", "--mode", "lexical", BOND)):
        said_plainly(cli(*command, data_dir=lib_dir), str(bad), "damaged", "seekwise repair")
    out = cli("repair", "-q", data_dir=lib_dir)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert "Repaired: 6 files indexed" in out.stdout, out.stdout
    kept = sorted(p.name for p in lib_dir.glob("store.lmdb.damaged-*"))
    assert len(kept) == (0 if damage == "missing beside its indexes" else 1), kept
    found = cli("search", "--mode", "lexical", BOND, data_dir=lib_dir)
    assert found.returncode == 0 and "tenancy-agreement.txt" in found.stdout, found.stderr
    assert cli("repair", data_dir=lib_dir).stdout.startswith("The library at")   # healthy now: left alone


@pytest.mark.parametrize("damage", [_a_folder_instead("store.lmdb-lock"), _a_folder_instead("writer.lock")],
                         ids=["store.lmdb-lock", "writer.lock"])
def test_a_lock_file_in_the_way_is_said_and_cleared(lib_dir, damage):
    bad = damage(lib_dir)
    command = ("index", "-q") if bad.name == "writer.lock" else ("status",)
    said_plainly(cli(*command, data_dir=lib_dir), str(bad), "seekwise repair")
    out = cli("repair", "-q", data_dir=lib_dir)
    assert out.returncode == 0, out.stderr
    assert cli(*command, data_dir=lib_dir).returncode == 0
    assert (lib_dir / "store.lmdb").is_file() and not list(lib_dir.glob("store.lmdb.damaged-*"))


def test_repair_without_a_folder_list_asks_for_folders(built, lib_dir, tmp_path):
    _truncate(0.2)(lib_dir)       # the folder list is in the lost part...
    (lib_dir / "folders.json").unlink()     # ...and so is its copy beside the store
    out = cli("repair", "-q", data_dir=lib_dir)
    said_plainly(out, "seekwise index")
    again = cli("index", "-q", str(built / "docs"), data_dir=lib_dir)
    assert again.returncode == 0, again.stderr


def test_salvaged_vectors_are_not_embedded_again(built, tmp_path):
    from seekwise.core import repair
    lib_dir = tmp_path / "lib"
    shutil.copytree(built / "lib", lib_dir)
    _truncate(0.6)(lib_dir)            # LMDB cannot walk it; a page scan finds the vectors before the cut
    result = repair.repair(lib_dir, folders=[str(built / "docs")])
    assert result.repaired and result.kept_as.exists() and len(result.salvage.vectors) > 0
    with Library(lib_dir, threads=2) as lib:
        report = lib.index()
        assert report.files_indexed == 6
        assert report.chunks_embedded <= report.chunks_added - len(result.salvage.vectors)


# -- the derived indexes: rebuilt from the store, without a word to the user -----------------------

def _corrupt_fts_pages(d: Path) -> None:
    """Garbage over the FTS data pages only: the file opens, its meta reads, the first MATCH fails."""
    db = sqlite3.connect(d / "lexical.sqlite")
    (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'chunks_data'").fetchone()
    page = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    with open(d / "lexical.sqlite", "r+b") as fh:
        fh.seek((root - 1) * page + 100)
        fh.write(os.urandom(page - 100))


def _model_folder_a_file(d: Path) -> None:
    folder = ann_dir(d)
    shutil.rmtree(folder)
    folder.write_text("x")


DERIVED_DAMAGE = {
    "lexical garbage": lambda d: (d / "lexical.sqlite").write_bytes(os.urandom(40960)),
    "lexical truncated": lambda d: os.truncate(d / "lexical.sqlite", 4096),
    "lexical pages": _corrupt_fts_pages,
    "lexical a folder": lambda d: ((d / "lexical.sqlite").unlink(), (d / "lexical.sqlite").mkdir()),
    "hnsw garbage": lambda d: (ann_dir(d) / "hnsw.bin").write_bytes(os.urandom(20000)),
    "hnsw truncated": lambda d: os.truncate(ann_dir(d) / "hnsw.bin", 1000),
    "labels garbage": lambda d: (ann_dir(d) / "labels.npy").write_bytes(b"\x93NUMPY garbage"),
    "ann stamp garbage": lambda d: (ann_dir(d) / "settings.json").write_text("{"),
    "binary codes truncated": lambda d: os.truncate(ann_dir(d) / "binary-codes.npy", 64),
    "model folder a file": _model_folder_a_file,
    "ann folder a file": lambda d: (shutil.rmtree(d / "ann"), (d / "ann").write_text("x")),
}


@pytest.mark.parametrize("damage", DERIVED_DAMAGE, ids=list(DERIVED_DAMAGE))
def test_damaged_derived_indexes_are_rebuilt_from_the_store(lib_dir, damage):
    DERIVED_DAMAGE[damage](lib_dir)
    with Library(lib_dir, threads=2) as lib:
        for mode, dense in (("lexical", "hnsw"), ("dense", "hnsw"), ("dense", "binary"), ("hybrid", "hnsw")):
            hits = lib.search("security bond deposit", mode=mode, dense=dense, k=3)
            assert hits and hits[0].path.endswith("tenancy-agreement.txt"), (mode, dense)
        lib.index()                            # and the indexer writes through them
        lib.derived.save()
    if damage.startswith("lexical"):
        assert (lib_dir / "lexical.sqlite.damaged").exists()
    with Library(lib_dir, readonly=True) as again:   # what was saved reads back
        assert again.search(BOND, mode="lexical")[0].path.endswith("tenancy-agreement.txt")


# -- a data dir that is not a library --------------------------------------------------------------

def test_a_folder_of_other_files_is_refused_and_left_alone(tmp_path, corpus):
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o755)
    os.chmod(theirs, 0o755)
    (theirs / "holiday.txt").write_text("not a library")
    for command in (("status",), ("index", "-q", str(corpus))):
        out = cli(*command, data_dir=theirs)
        said_plainly(out, str(theirs))
    assert "not a Seekwise library and is not empty" in out.stderr
    assert sorted(os.listdir(theirs)) == ["holiday.txt"]
    assert stat.S_IMODE(theirs.stat().st_mode) == 0o755
    with pytest.raises(StoreError, match="not a Seekwise library"):
        Library(theirs)


def test_a_reader_creates_no_library(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    os.chmod(empty, 0o755)
    mode = stat.S_IMODE(empty.stat().st_mode)
    out = cli("status", data_dir=empty)
    said_plainly(out, f"no library at {empty} yet", "seekwise index FOLDER")
    out = cli("search", "anything", data_dir=tmp_path / "new")
    said_plainly(out, "no library at")
    assert os.listdir(empty) == [] and not (tmp_path / "new").exists()
    with pytest.raises(NoLibrary):
        Library(empty, readonly=True)
    with Library(empty) as lib:               # a writer still makes one in an empty folder...
        assert lib.roots() == []
    assert stat.S_IMODE(empty.stat().st_mode) == mode                        # ...and leaves its modes
    with Library(tmp_path / "made") as lib:   # ...and one it makes is its owner's only
        assert stat.S_IMODE(lib.paths.root.stat().st_mode) == 0o700


def test_a_data_dir_that_is_a_file_is_said(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for where in (afile, afile / "lib"):
        said_plainly(cli("status", data_dir=where), str(afile), "is a file, not a folder")
        said_plainly(cli("index", "-q", str(tmp_path), data_dir=where), "is a file, not a folder")
        with pytest.raises(StoreError, match="is a file"):
            Library(where)


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root reads any file: no permission to take away")
def test_an_unreadable_store_is_said(lib_dir):
    os.chmod(lib_dir / "store.lmdb", 0)
    try:
        said_plainly(cli("status", data_dir=lib_dir), str(lib_dir / "store.lmdb"), "access")
    finally:
        os.chmod(lib_dir / "store.lmdb", 0o600)


def test_damage_found_mid_search_is_library_damaged(lib_dir):
    """A page that goes bad after opening: LibraryDamaged from the store, not a raw lmdb error."""
    import lmdb
    with Library(lib_dir, threads=2) as lib:
        with pytest.raises(LibraryDamaged) as caught:
            with lib.store.read():
                raise lmdb.CorruptedError("mdb_get: MDB_CORRUPTED: Located page was wrong type")
        assert caught.value.path == lib.store.path and "seekwise repair" in str(caught.value)


# -- a full disk -------------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """An 8 MB tmpfs (root only): room for some batches, not all; unmounted after the test."""
    if os.name == "nt" or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root on Linux")
    where = tmp_path / "disk"
    where.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)], capture_output=True, text=True)
    if made.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_is_said_and_indexing_resumes_with_room(small_disk, tmp_path):
    docs = tmp_path / "many"
    docs.mkdir()
    text = (DATA / "corpus" / "tenancy-agreement.txt").read_text() * 8   # one text: embedded once, stored 1,200 times
    for i in range(1200):
        (docs / f"lease-{i:04d}.txt").write_text(text)
    lib_dir = small_disk / "lib"
    out = cli("index", "-q", str(docs), data_dir=lib_dir)
    said_plainly(out, "is full", str(small_disk))
    status = cli("status", data_dir=lib_dir)          # still opens: what was committed is there
    assert status.returncode == 0 and "Files:" in status.stdout, status.stderr
    committed = int(re.search(r"Files:\s+([\d,]+) known", status.stdout).group(1).replace(",", ""))
    assert 0 < committed < 1200, status.stdout
    # and is searched, with no room to bring the keyword index up to date (it works from memory)
    full = cli("search", "--mode", "lexical", BOND, data_dir=lib_dir)
    assert full.returncode == 0 and "lease-" in full.stdout, (full.stdout, full.stderr)
    assert "Traceback" not in full.stderr
    subprocess.run(["mount", "-o", "remount,size=200m", str(small_disk)], check=True)
    again = cli("index", "-q", data_dir=lib_dir)
    assert again.returncode == 0 and "unchanged" in again.stdout, again.stderr
    found = cli("search", "--mode", "lexical", BOND, data_dir=lib_dir)
    assert found.returncode == 0 and "lease-" in found.stdout, found.stderr
    final = cli("status", data_dir=lib_dir).stdout
    assert re.search(r"Files:\s+1,200 known: 1,200 ok", final), final
