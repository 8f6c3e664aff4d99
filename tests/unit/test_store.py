"""The LMDB store on a real environment: batches land whole, ids stay unique, the map grows itself."""

from __future__ import annotations

import lmdb
import numpy as np
import pytest

from seekwise.core import store as store_mod
from seekwise.core.errors import StoreError
from seekwise.core.store import FileChange, FileRecord, FileStatus, NewChunk, Store, text_digest

MODEL = "test-model-1234"


def change(path, texts, status="ok"):
    chunks = [NewChunk(i * 10, i * 10 + len(t), i + 1, t, text_digest("c", t)) for i, t in enumerate(texts)]
    return FileChange(FileRecord(path=path, size=1, mtime_ns=1, sha256="ab", status=status), chunks)


def vecs(texts, dims=4):
    rng = np.random.default_rng(0)
    return {text_digest("c", t): rng.standard_normal(dims).astype(np.float32) for t in texts}


def test_commit_and_read_back(tmp_path):
    st = Store(tmp_path / "s.lmdb")
    res = st.commit([change("/a/x.txt", ["one", "two"])], [], vecs(["one", "two"]), MODEL)
    assert [cid for cid, _ in res.added] == [1, 2] and res.generation == 1
    rec = st.get_file("/a/x.txt")
    assert rec.chunk_ids == [1, 2] and rec.status == "ok"
    chunks = st.get_chunks([2, 1])
    assert [c.text for c in chunks] == ["two", "one"] and chunks[0].line == 2
    v = st.get_vectors(MODEL, [c.digest for c in chunks], 4)
    assert not np.isnan(v).any()
    assert np.isnan(st.get_vectors("other-model", [chunks[0].digest], 4)).all()


def test_replacing_a_file_drops_its_old_chunks_and_never_reuses_ids(tmp_path):
    st = Store(tmp_path / "s.lmdb")
    st.commit([change("/a/x.txt", ["one", "two"])], [], vecs(["one", "two"]), MODEL)
    res = st.commit([change("/a/x.txt", ["three"])], [], vecs(["three"]), MODEL)
    assert res.removed == [1, 2] and [cid for cid, _ in res.added] == [3]
    assert st.counts()["chunks"] == 1
    res = st.commit([], ["/a/x.txt"], {}, MODEL)
    assert res.removed == [3] and st.get_file("/a/x.txt") is None and st.counts()["chunks"] == 0
    assert st.counts()["vectors"] == 3  # the cache outlives the files: a copy or undo costs nothing


def test_prefix_iteration_stays_inside_the_folder(tmp_path):
    st = Store(tmp_path / "s.lmdb")
    st.commit([change(p, []) for p in ("/a/x", "/a/y/z", "/ab/w", "/b")], [], {}, MODEL)
    assert [r.path for r in st.iter_files("/a/")] == ["/a/x", "/a/y/z"]


def test_problems_are_listed_and_cleared(tmp_path):
    st = Store(tmp_path / "s.lmdb")
    bad = change("/a/bad.txt", [], status="error")
    bad.record.reason = "permission denied"
    st.commit([bad], [], {}, MODEL)
    assert st.problems_list() == [("/a/bad.txt", "error", "permission denied")]
    st.commit([change("/a/bad.txt", ["fine now"])], [], vecs(["fine now"]), MODEL)
    assert st.problems_list() == []


def test_a_status_is_stored_as_its_word_and_an_unknown_word_reads_as_unsupported(tmp_path):
    st = Store(tmp_path / "s.lmdb")
    st.commit([change("/a/x.pdf", [], status="skipped")], [], {}, MODEL)
    with st.env.begin() as txn:
        assert b'"status":"skipped"' in txn.get(b"/a/x.pdf", db=st.files)
    with st.env.begin(write=True) as txn:   # what a newer Seekwise might write
        txn.put(b"/a/y.xyz", b'{"size":1,"mtime_ns":1,"status":"quarantined"}', db=st.files)
    assert st.get_file("/a/x.pdf").status is FileStatus.SKIPPED
    assert st.get_file("/a/y.xyz").status is FileStatus.UNSUPPORTED
    assert st.status_counts() == {"skipped": 1, "quarantined": 1}   # counted by the stored word


def test_map_grows_when_full(tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "INITIAL_MAP_SIZE", 1 << 20)
    st = Store(tmp_path / "s.lmdb")
    texts = [f"chunk number {i} " * 20 for i in range(3000)]
    st.commit([change(f"/f{i}", texts[i * 100:(i + 1) * 100]) for i in range(30)], [], vecs(texts, 96), MODEL)
    assert st.counts()["chunks"] == 3000
    assert st.env.info()["map_size"] > 1 << 20


def test_newer_schema_is_refused_with_a_clear_message(tmp_path):
    Store(tmp_path / "s.lmdb").close()
    env = lmdb.open(str(tmp_path / "s.lmdb"), subdir=False, max_dbs=8)
    with env.begin(write=True) as txn:
        txn.put(b"schema", b"99", db=env.open_db(b"meta", txn=txn))
    env.close()
    with pytest.raises(StoreError, match="newer Seekwise"):
        Store(tmp_path / "s.lmdb")


def test_non_utf8_paths_round_trip(tmp_path):
    st = Store(tmp_path / "s.lmdb")
    odd = "/a/caf\udce9.txt"  # a Latin-1 name as Python sees it on a UTF-8 system
    st.commit([change(odd, ["text"])], [], vecs(["text"]), MODEL)
    assert st.get_file(odd).path == odd and st.get_chunks([1])[0].path == odd


def _store_rss_kb(path):
    """Resident KB of this process's mappings of `path` (from /proc/self/smaps)."""
    real, total, inside = str(path.resolve()), 0, False
    with open("/proc/self/smaps") as fh:
        for line in fh:
            if "-" in line.split(" ", 1)[0] and not line.startswith(("Rss", "Pss")):
                inside = line.rstrip("\n").endswith(real)
            elif inside and line.startswith("Rss:"):
                total += int(line.split()[1])
    return total


@pytest.mark.skipif(store_mod._madvise is None, reason="drops mapped pages on Linux only")
def test_read_pages_leave_the_rss_and_the_data_stays(tmp_path, monkeypatch):
    """An index run reads every page of the store; they must not stay resident in the process (the
    page cache keeps them), and vectors read in slices come back whole and in order."""
    monkeypatch.setattr(store_mod, "VECTOR_SLICE", 700)
    st = Store(tmp_path / "s.lmdb")
    texts = [f"passage {i}" for i in range(3000)]
    st.commit([change("/a/x.txt", texts)], [], vecs(texts, dims=384), MODEL)
    digests = [text_digest("c", t) for t in texts]
    before = st.get_vectors(MODEL, digests + [text_digest("c", "absent")], 384)
    assert np.isnan(before[-1]).all() and not np.isnan(before[:-1]).any()
    assert np.array_equal(before[:-1], np.stack(list(vecs(texts, dims=384).values())))
    assert _store_rss_kb(tmp_path / "s.lmdb") < 1000          # 4.5 MB read, handed back every RELEASE_KEYS
    short = st.get_vectors(MODEL, digests[:store_mod.RELEASE_KEYS], 384)   # a search's few: kept mapped
    assert _store_rss_kb(tmp_path / "s.lmdb") > 500 and np.array_equal(short, before[:store_mod.RELEASE_KEYS])
    store_mod.release_mapped_pages(tmp_path / "s.lmdb")
    assert _store_rss_kb(tmp_path / "s.lmdb") < 400
    assert np.array_equal(st.get_vectors(MODEL, digests, 384), before[:-1])
