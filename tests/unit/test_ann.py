"""The hnswlib index: finds what exact search finds, survives save/load, refuses a stale or torn file."""

from __future__ import annotations

import numpy as np

from seekwise.core.ann import AnnIndex, AnnSettings, exact_search
from seekwise.core.store import FileChange, FileRecord, NewChunk, Store, text_digest

DIMS = 32


def unit(n, seed=0):
    v = np.random.default_rng(seed).standard_normal((n, DIMS)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def make(tmp_path, model="m1"):
    return AnnIndex(tmp_path / "ann", AnnSettings(model, DIMS), ef=64)


def test_search_agrees_with_exact(tmp_path):
    vecs, ids = unit(2000), np.arange(10, 2010)
    ann = make(tmp_path)
    ann.add(ids, vecs)
    queries = unit(50, seed=1)
    recall = []
    for q in queries:
        got, scores = ann.search(q, 10)
        want, _ = exact_search(vecs, ids, q, 10)
        recall.append(len(set(got) & set(want)) / 10)
        assert np.all(np.diff(scores) <= 1e-6)
    assert np.mean(recall) > 0.95


def test_denied_ids_are_barred_during_the_search(tmp_path):
    vecs, ids = unit(2000), np.arange(10, 2010)
    ann = make(tmp_path)
    ann.add(ids, vecs)
    q = unit(1, seed=3)[0]
    first, _ = ann.search(q, 10)
    got, _ = ann.search(q, 10, denied=first[:5])
    assert len(got) == 10 and not set(got.tolist()) & set(first[:5].tolist())
    assert set(first[5:].tolist()) <= set(got.tolist())
    got, _ = ann.search(q, 10, allowed=first[:8], denied=first[:2])
    assert sorted(got.tolist()) == sorted(first[2:8].tolist())
    nearly_all = ids[ids != first[0]]
    got, _ = ann.search(q, 10, denied=nearly_all[:-3])   # three left: three back
    assert sorted(got.tolist()) == sorted([int(first[0]), *nearly_all[-3:].tolist()])


def test_removed_ids_are_never_returned_and_slots_are_reused(tmp_path):
    vecs = unit(300)
    ann = make(tmp_path)
    ann.add(np.arange(300), vecs)
    ann.remove(list(range(0, 300, 2)))
    got, _ = ann.search(vecs[0], 300)
    assert len(got) == 150 and all(i % 2 for i in got)
    ann.add(np.arange(1000, 1150), unit(150, seed=3))
    assert len(ann) == 300 and ann.deleted_fraction() == 0


def test_save_load_round_trip_and_stamp_mismatch(tmp_path):
    ann = make(tmp_path)
    ann.add(np.arange(100), unit(100))
    ann.remove([5])
    ann.save(generation=7)
    again = make(tmp_path)
    assert again.load() and again.generation == 7 and len(again) == 99
    assert 5 not in again.search(unit(100)[5], 5)[0]
    assert not make(tmp_path, model="m2").load()


def test_torn_file_means_rebuild(tmp_path):
    ann = make(tmp_path)
    ann.add(np.arange(100), unit(100))
    ann.save(generation=1)
    path = tmp_path / "ann" / "hnsw.bin"
    path.write_bytes(path.read_bytes()[:1000])
    assert not make(tmp_path).load()


def test_reconcile_makes_the_index_match_the_store(tmp_path):
    st = Store(tmp_path / "s.lmdb")
    texts = [f"t{i}" for i in range(50)]
    vecs = unit(50)
    chunks = [NewChunk(0, 1, 1, t, text_digest("c", t)) for t in texts]
    st.commit([FileChange(FileRecord("/f", 1, 1), chunks)], [],
              {c.digest: v for c, v in zip(chunks, vecs)}, "m1")
    ann = make(tmp_path)
    ann.add(np.array([999]), unit(1, seed=9))  # something the store no longer has
    added, removed = ann.reconcile(st, "m1")
    assert (added, removed) == (50, 1) and len(ann) == 50
    assert ann.search(vecs[7], 1)[0][0] == 8  # ids start at 1
