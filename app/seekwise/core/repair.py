"""`seekwise repair` and the GUI's "Repair library": a damaged store is set aside (never deleted) and
the library starts again over the same folders, keeping what can still be read from the old store.

The store is the truth, so nothing can be rebuilt from the derived indexes; what a damaged store
may still give is its folder list and its cached vectors (every one checked: right length, finite,
unit norm), read from a copy so the damaged file itself is never written. The folders also come
from the settings file and from the caller. The re-index itself is the caller's (the CLI runs it
with a progress bar, the GUI hands it to its background indexer). No Qt here.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import lmdb
import numpy as np

from seekwise.core import settings as user_settings
from seekwise.core.embedding import resolve_model
from seekwise.core.errors import LibraryDamaged, NoLibrary
from seekwise.core.ignore import IgnoreRules
from seekwise.core.library import Library
from seekwise.core.lock import WriterLock
from seekwise.core.paths import LibraryPaths, drop_derived
from seekwise.core.store import FOLDERS_COPY, Store, read_header
from seekwise.core.wording import plural

log = logging.getLogger(__name__)

SALVAGE_MARK = "repair-salvage.started"   # there at start-up: the last salvage never finished
VECTOR_BATCH = 2000
_TXNID_AT = 16 + 128           # page header, then MDB_meta up to mm_txnid (LMDB 0.9, 64-bit)


@dataclass
class Salvage:
    """What the damaged store still gave."""

    roots: list[str] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    vectors: dict[bytes, bytes] = field(default_factory=dict)   # full key (model:digest) -> float32 bytes
    problem: str = ""


@dataclass
class RepairResult:
    data_dir: Path
    damage: str = ""                  # what was wrong; "" = nothing (the library opened and read whole)
    kept_as: Path | None = None       # where the damaged store now is
    roots: list[str] = field(default_factory=list)
    salvage: Salvage = field(default_factory=Salvage)

    @property
    def repaired(self) -> bool:
        return bool(self.damage)

    def estimate(self) -> str:
        """How long the re-index will take, as far as the old store lets us say."""
        s = self.salvage
        if s.files:
            size = f"{'at least ' if s.problem else ''}{s.files:,} files, {s.bytes / 2**20:,.1f} MB"
            text = f"{size} to read again: about as long as indexing them the first time took"
        else:
            text = "this re-reads every file in your folders, which can take a while"
        if s.vectors:
            saved = plural(len(s.vectors), "cached vector")
            text += f" ({saved} {'was' if len(s.vectors) == 1 else 'were'} saved, so those passages are not embedded again)"
        return text


def _existing(data_dir: str | os.PathLike | None) -> LibraryPaths:
    paths = LibraryPaths.resolve(data_dir)
    paths.check()
    if not paths.root.is_dir() or not (paths.store.exists() or paths.store.is_symlink() or paths.has_indexes()):
        raise NoLibrary(f"no library at {paths.root}: nothing to repair (seekwise index FOLDER makes one)")
    return paths


def check(data_dir: str | os.PathLike | None = None) -> str:
    """'' when the library's store opens and reads end to end, else what is wrong with it."""
    paths = _existing(data_dir)
    if not (paths.store.exists() or paths.store.is_symlink()):
        return f"{paths.store} is missing, yet the library's indexes are there"
    try:
        store = Store(paths.store, readonly=True, new_ok=not paths.has_indexes())
    except LibraryDamaged as exc:
        return f"{exc.path} is damaged ({exc.what})"
    try:
        with store.read() as txn:      # every record: damage deep in a table shows here, not mid-search
            for db in (store.files, store.problems, store.chunks, store.vectors, store.meta):
                for _ in txn.cursor(db=db).iternext(keys=True, values=True):
                    pass
    except LibraryDamaged as exc:
        return f"{exc.path} is damaged ({exc.what})"
    finally:
        store.close()
    return ""


def repair(data_dir: str | os.PathLike | None = None, model: str | os.PathLike | None = None,
           folders: list[str] | None = None, prefs: user_settings.Settings | None = None,
           ignore: IgnoreRules | None = None) -> RepairResult:
    """Set a damaged store aside and open a fresh library over the same folders, with the vectors
    still readable; a healthy library is left as it is. The caller then indexes (Library.index)."""
    paths = _existing(data_dir)
    result = RepairResult(paths.root)
    _clear_lock_file(paths.writer_lock)
    with WriterLock(paths.writer_lock):       # no indexer may write while the store moves
        _clear_lock_file(Path(str(paths.store) + "-lock"))   # LMDB makes a new one
        damage = check(data_dir)
        if not damage:
            return result
        result.damage = damage
        manifest = resolve_model(model, paths.models)
        result.salvage = _salvage(paths, manifest.version_id, manifest.dims)
        result.kept_as = _set_store_aside(paths)
        drop_derived(paths)      # they hold the old store's chunk ids: a new store's would collide
    prefs = prefs if prefs is not None else user_settings.load()
    wanted = list(folders or []) + result.salvage.roots + _copied_folders(paths)
    if not wanted and LibraryPaths.resolve(prefs.library_dir(None)).root == paths.root:
        # the last resort, and only for the library the settings describe: folders with exclusions
        wanted = sorted(prefs.excludes)
    with Library(paths.root, model=model, ignore=ignore) as lib:
        for folder in wanted:
            if os.path.isdir(folder):
                lib.add_root(folder)
        _restore_vectors(lib, result.salvage.vectors)
        result.roots = lib.roots()
    log.info("library %s repaired: %s; the damaged store is kept as %s", paths.root, damage, result.kept_as)
    return result


def _copied_folders(paths: LibraryPaths) -> list[str]:
    """The folder list the store keeps beside itself (Store.folders_copy)."""
    try:
        roots = json.loads((paths.root / FOLDERS_COPY).read_text())
    except (OSError, ValueError):
        return []
    return [r for r in roots if isinstance(r, str)] if isinstance(roots, list) else []


def _aside_name(path: Path) -> Path:
    """NAME.damaged-YYYYmmdd-HHMMSS[-n] beside it: a name no earlier repair took."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside, n = path.with_name(f"{path.name}.damaged-{stamp}"), 1
    while aside.exists() or aside.is_symlink():
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    return aside


def _clear_lock_file(path: Path) -> None:
    """A lock file holds no data: one that is a folder (or not a plain file) is moved out of the way."""
    if (path.exists() or path.is_symlink()) and not path.is_file():
        os.replace(path, _aside_name(path))


def _set_store_aside(paths: LibraryPaths) -> Path | None:
    store = paths.store
    if not (store.exists() or store.is_symlink()):
        return None
    aside = _aside_name(store)
    os.replace(store, aside)
    Path(str(store) + "-lock").unlink(missing_ok=True)
    return aside


# -- salvage -------------------------------------------------------------------------------------

def _salvage(paths: LibraryPaths, model_version: str, dims: int) -> Salvage:
    """Read what we can from a copy of the damaged store. A copy short of its header's length is
    padded with zeros first (LMDB then meets empty pages, an error, instead of a SIGBUS past the
    end). Should even that kill the process, the mark left behind makes the next repair skip it."""
    out = Salvage()
    mark = paths.root / SALVAGE_MARK
    if mark.exists():
        out.problem = "an earlier repair stopped while reading the damaged store; not read again"
        mark.unlink(missing_ok=True)
        return out
    if not paths.store.is_file():
        return out
    try:
        header = read_header(paths.store)
        if header is None:
            return out
    except LibraryDamaged as exc:
        if "shorter than its own header says" not in exc.what:
            out.problem = exc.what
            return out
        header = None
    with tempfile.TemporaryDirectory(prefix="seekwise-salvage-", dir=paths.root) as tmp:
        copy = Path(tmp) / "store.lmdb"
        mark.write_text(str(os.getpid()))
        try:
            shutil.copyfile(paths.store, copy)
            if header is None:
                header = _padded_header(copy)
            for older in (False, True):     # the newest snapshot, then the one before it
                if older and not _use_older_snapshot(copy, header.page_size):
                    break
                found = _apart(lambda: _read_copy(copy, header.needed_bytes, model_version, dims), Path(tmp))
                out.roots = out.roots or found.roots
                out.files, out.bytes = max(out.files, found.files), max(out.bytes, found.bytes)
                out.vectors.update(found.vectors)
                out.problem = found.problem
                if not found.problem:
                    break
            if out.problem:     # LMDB could not walk it: look at every page ourselves
                scanned = _scan_pages(paths.store, header.page_size, model_version.encode() + b":", dims)
                out.vectors.update(scanned.vectors)
                out.roots = out.roots or scanned.roots
                out.files, out.bytes = max(out.files, scanned.files), max(out.bytes, scanned.bytes)
        except (lmdb.Error, OSError, LibraryDamaged, ValueError, struct.error) as exc:
            out.problem = str(exc)
        finally:
            mark.unlink(missing_ok=True)
    log.info("salvaged from the damaged store: %d folders, %d vectors (%s)", len(out.roots), len(out.vectors),
             out.problem or "no problem")
    return out


def _padded_header(copy: Path):
    """Zeros up to the length the header names (sparse: no disk is used), then the header again."""
    from seekwise.core.store import (  # the one layout, kept in store.py
        _DB,
        _META,
        _PAGEHDR,
        StoreHeader,
    )
    with open(copy, "rb") as fh:     # the two meta pages only: the store may be gigabytes
        raw = fh.read(2 * 65536)
    _, _, _, _, free_db, _, last_page, txnid = _META.unpack_from(raw, _PAGEHDR)
    page_size = _DB.unpack(free_db)[0]
    second = _META.unpack_from(raw, page_size + _PAGEHDR) if len(raw) >= page_size + _PAGEHDR + _META.size else None
    if second is not None and second[7] > txnid:
        last_page = max(last_page, second[6])
    header = StoreHeader(page_size, last_page, txnid, 0)
    os.truncate(copy, header.needed_bytes)
    return header


def _read_copy(copy: Path, needed: int, model_version: str, dims: int) -> Salvage:
    found = Salvage()
    env = lmdb.open(str(copy), subdir=False, readonly=True, lock=False, max_dbs=8, map_size=max(needed, 1 << 20))
    try:
        _read_salvage(env, found, model_version.encode() + b":", dims)
    finally:
        env.close()
    return found


def _apart(fn, tmp: Path) -> Salvage:
    """fn() in a forked child where there is fork: LMDB meets a damaged page with an assertion
    (abort) or a stray read (SIGSEGV), and that must end the child, not the app."""
    if not hasattr(os, "fork"):     # Windows: in this process; the salvage mark guards a crash
        return fn()
    answer = tmp / f"salvage-{time.monotonic_ns()}.pickle"
    pid = os.fork()
    if pid == 0:                    # the child: no logging, no Qt, nothing but the read
        code = 1
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)         # LMDB's assertion text is not for the user
            import faulthandler
            faulthandler.disable()      # nor a traceback of the abort, on a stderr faulthandler kept aside
            found = fn()
            with open(answer, "wb") as fh:
                pickle.dump(found, fh)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) or not answer.exists():
        how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.waitstatus_to_exitcode(status)}"
        return Salvage(problem=f"reading the damaged store failed ({how})")
    with open(answer, "rb") as fh:      # written by our own child a moment ago
        return pickle.load(fh)


def _scan_pages(path: Path, page_size: int, prefix: bytes, dims: int) -> Salvage:
    """Every leaf page of the file read as LMDB lays it out, without LMDB (no map, no assertion):
    vectors are content-addressed, so any that checks out is right wherever its page came from;
    folder lists from stale pages are merged (a folder the user had removed may come back)."""
    out, files, want = Salvage(), {}, dims * 4
    roots: set[str] = set()
    with open(path, "rb") as fh:
        while block := fh.read(page_size * 256):
            for base in range(0, len(block) - page_size + 1, page_size):
                page = block[base:base + page_size]
                flags, lower, upper = struct.unpack_from("=HHH", page, 10)
                if flags & 0x6F != 0x02 or not 16 <= lower <= upper <= page_size:   # plain leaf pages only
                    continue
                for i in range((lower - 16) // 2):
                    (ptr,) = struct.unpack_from("=H", page, 16 + 2 * i)
                    if ptr < upper or ptr + 8 > page_size:
                        continue
                    lo, hi, nflags, ksize = struct.unpack_from("=HHHH", page, ptr)
                    dsize, kstart = lo | hi << 16, ptr + 8
                    if nflags or kstart + ksize + dsize > page_size:   # big, sub-database or dup records
                        continue
                    key = page[kstart:kstart + ksize]
                    value = page[kstart + ksize:kstart + ksize + dsize]
                    if dsize == want and ksize == len(prefix) + 32 and key.startswith(prefix):
                        if _plausible(value):
                            out.vectors[key] = value
                    elif key == b"roots":
                        try:
                            roots.update(r for r in json.loads(value) if isinstance(r, str))
                        except (ValueError, TypeError):
                            pass
                    elif value.startswith(b'{"size":'):
                        try:
                            files[key] = int(json.loads(value)["size"])
                        except (ValueError, KeyError, TypeError):
                            pass
    out.roots = sorted(roots)
    out.files, out.bytes = len(files), sum(files.values())
    return out


def _use_older_snapshot(copy: Path, page_size: int) -> bool:
    """Copy the older meta page over the newer one: the pages of the commit before the last are
    intact (LMDB reuses them at the earliest two commits later) and may lie before the damage."""
    with open(copy, "r+b") as fh:
        first, second = fh.read(page_size), fh.read(page_size)
        if len(second) < page_size:
            return False
        txnid = [struct.unpack_from("=Q", page, _TXNID_AT)[0] for page in (first, second)]
        fh.seek(page_size if txnid[1] > txnid[0] else 0)
        fh.write(first if txnid[1] > txnid[0] else second)
    return True


def _read_salvage(env: lmdb.Environment, out: Salvage, prefix: bytes, dims: int) -> None:
    """Each table on its own: a damaged one stops only its own reading."""
    def each(name: bytes):
        try:
            db = env.open_db(name, create=False)
            with env.begin(db=db) as txn:
                yield from txn.cursor()
        except lmdb.Error as exc:
            out.problem = out.problem or f"{name.decode()}: {exc}"

    for key, raw in each(b"meta"):
        if key == b"roots":
            try:
                roots = json.loads(raw)
                out.roots = [r for r in roots if isinstance(r, str)]
            except ValueError:
                pass
    for _, raw in each(b"files"):
        try:
            out.files += 1
            out.bytes += int(json.loads(raw).get("size", 0))
        except (ValueError, AttributeError, TypeError):
            pass
    want = dims * 4
    for key, raw in each(b"vectors"):
        if not key.startswith(prefix) or len(key) != len(prefix) + 32 or len(raw) != want:
            continue
        if _plausible(raw):
            out.vectors[bytes(key)] = bytes(raw)


def _plausible(raw: bytes) -> bool:
    """A salvaged vector is kept only if it could be one of ours: finite and of unit length."""
    vec = np.frombuffer(raw, dtype=np.float32)
    return bool(np.isfinite(vec).all()) and abs(float(vec @ vec) - 1.0) < 1e-3


def _restore_vectors(lib: Library, vectors: dict[bytes, bytes]) -> None:
    items = list(vectors.items())
    for start in range(0, len(items), VECTOR_BATCH):
        lib.store.put_raw_vectors(items[start:start + VECTOR_BATCH])
