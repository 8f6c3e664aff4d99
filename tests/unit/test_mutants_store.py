"""Store.commit on a real LMDB environment, pinned where mutation testing (bench/mutation.sh) showed
no fast test would notice: touched records, pages, the generation count, vectors_pending, vector
dtype, and problems dropped with their file."""

from __future__ import annotations

import numpy as np

from seekwise.core.store import FileChange, FileRecord, NewChunk, Store, text_digest

MODEL = "test-model-1234"


def change(path, texts, status="ok", reason="", page=0):
    chunks = [NewChunk(i * 10, i * 10 + len(t), i + 1, t, text_digest("c", t), page) for i, t in enumerate(texts)]
    return FileChange(FileRecord(path=path, size=1, mtime_ns=1, status=status, reason=reason), chunks)


def test_generation_counts_every_commit_and_vectors_pending_is_kept(tmp_path):
    st = Store(tmp_path / "s.lmdb")
    try:
        assert [st.commit([], [], {}, MODEL).generation for _ in range(3)] == [1, 2, 3]
        assert st.generation() == 3 and st.get_meta("vectors_pending") is None
        st.commit([change("/a", ["x"])], [], {}, MODEL, vectors_pending=True)
        assert st.get_meta("vectors_pending") is True
        st.commit([], [], {}, MODEL)                                  # None: left as it was
        assert st.get_meta("vectors_pending") is True
        st.commit([], [], {}, MODEL, vectors_pending=False)
        assert st.get_meta("vectors_pending") is False and st.generation() == 6
    finally:
        st.close()


def test_touched_records_are_rewritten_and_keep_their_chunks(tmp_path):
    st = Store(tmp_path / "s.lmdb")
    try:
        st.commit([change("/a", ["one", "two"]), change("/b", ["three"])], [], {}, MODEL)
        rec = st.get_file("/a")
        rec.mtime_ns, rec.status, rec.reason = 99, "error", "cannot read"
        st.commit([], [], {}, MODEL, touched=[rec])
        again = st.get_file("/a")
        assert again.mtime_ns == 99 and again.chunk_ids == rec.chunk_ids
        assert [c.text for c in st.get_chunks(again.chunk_ids)] == ["one", "two"]
        assert st.problems_list() == [("/a", "error", "cannot read")]
        rec.status, rec.reason = "ok", ""
        st.commit([], [], {}, MODEL, touched=[rec])
        assert st.problems_list() == [] and st.get_file("/b").chunk_ids == [3]
    finally:
        st.close()


def test_pages_and_float64_vectors_survive_a_commit(tmp_path):
    st = Store(tmp_path / "s.lmdb")
    try:
        ch = change("/p.pdf", ["page text"], page=4)
        v = np.array([0.5, -1.25, 2.0, 3.0], dtype=np.float64)
        st.commit([ch], [], {ch.chunks[0].digest: v}, MODEL)
        (chunk,) = st.get_chunks(st.get_file("/p.pdf").chunk_ids)
        assert chunk.page == 4
        assert st.get_vectors(MODEL, [chunk.digest], 4)[0].tolist() == [0.5, -1.25, 2.0, 3.0]
    finally:
        st.close()


def test_a_removed_file_takes_its_problem_with_it(tmp_path):
    st = Store(tmp_path / "s.lmdb")
    try:
        st.commit([change("/bad", [], status="error", reason="locked"), change("/ok", ["t"])], [], {}, MODEL)
        assert st.problems_list() == [("/bad", "error", "locked")]
        res = st.commit([], ["/bad", "/ok", "/never"], {}, MODEL)
        assert st.problems_list() == [] and res.removed == [1] and st.get_file("/bad") is None
        assert st.get_chunks([1]) == []
    finally:
        st.close()
