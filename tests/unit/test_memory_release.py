"""What keeps an index run's peak memory down still gives the same results: long vector reads in
slices (the map handed back between them), an ANN rebuilt slice by slice, idle workers stopped."""

from __future__ import annotations

import numpy as np

from seekwise.core import extract, store as store_module
from seekwise.core.ann import AnnIndex, AnnSettings
from seekwise.core.extract import isolate
from seekwise.core.store import FileChange, FileRecord, NewChunk, Store, text_digest

DIMS = 16


def _library(tmp_path, n):  # noqa: ANN202
    st = Store(tmp_path / "s.lmdb")
    vecs = np.random.default_rng(1).standard_normal((n, DIMS)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    chunks = [NewChunk(0, 1, 1, f"t{i}", text_digest("c", f"t{i}")) for i in range(n)]
    st.commit([FileChange(FileRecord("/f", 1, 1), chunks)], [], {c.digest: v for c, v in zip(chunks, vecs)}, "m")
    return st, chunks, vecs


def test_a_long_vector_read_in_released_slices_returns_every_row_in_order(tmp_path):
    st, chunks, vecs = _library(tmp_path, 3 * store_module.RELEASE_KEYS + 5)
    digests = [c.digest for c in reversed(chunks)] + [b"\0" * 32]
    out = st.get_vectors("m", digests, DIMS)
    assert np.array_equal(out[:-1], vecs[::-1])
    assert np.isnan(out[-1]).all()


def test_an_ann_rebuilt_in_slices_holds_every_vector(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "VECTOR_SLICE", 7)   # the slices Store.vectors_in_slices reads
    st, _, vecs = _library(tmp_path, 50)
    ann = AnnIndex(tmp_path / "ann", AnnSettings("m", DIMS), ef=64)
    assert ann.reconcile(st, "m") == (50, 0)
    assert ann.live == set(range(1, 51))
    assert all(ann.search(vecs[i], 1)[0][0] == i + 1 for i in range(50))


def test_release_idle_stops_the_worker_a_pool_keeps(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("some words to read")
    family = extract.family_for(str(path))
    pool = isolate.Pool(workers=1, keep=1)
    try:
        replies = list(pool.map(isolate.extract_job, [str(path)],
                                lambda p: isolate.Job((family, p, 1 << 20), path.stat().st_size)))
        assert replies[0][1][0] == "ok" and replies[0][1][1].text.strip() == "some words to read"
        assert len(pool.pids()) == 1       # kept for the next map
        pool.release_idle()
        assert pool.pids() == []
    finally:
        pool.close()
