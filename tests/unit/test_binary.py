"""Sign-bit codes: exact bits, Hamming order equal to brute force, safe saves, catching up with the store."""

from __future__ import annotations

import numpy as np

from seekwise.core.binary import BinaryIndex, pack_signs
from seekwise.core.store import FileChange, FileRecord, NewChunk, Store, text_digest


def unit(rng, n, d=384):
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_pack_signs_keeps_one_bit_per_dimension():
    v = np.zeros((1, 384), dtype=np.float32)
    v[0, [0, 9, 383]] = 1.0
    v[0, 5] = -1.0
    codes = pack_signs(v)
    assert codes.shape == (1, 6) and codes.nbytes == 48
    bits = np.unpackbits(codes.view(np.uint8), axis=1)[0]
    assert np.flatnonzero(bits).tolist() == [0, 9, 383]


def test_candidates_are_the_hamming_nearest(tmp_path):
    rng = np.random.default_rng(0)
    vecs = unit(rng, 5000)
    idx = BinaryIndex(tmp_path, "m", 384)
    idx.add(np.arange(100, 5100), vecs)
    q = vecs[42] + 0.1 * unit(rng, 1)[0]
    got = idx.candidates(q, 20)
    bits = np.unpackbits(pack_signs(vecs).view(np.uint8), axis=1)
    qbits = np.unpackbits(pack_signs(q).view(np.uint8), axis=1)[0]
    dist = (bits != qbits).sum(axis=1)
    assert got[0] == 142
    assert sorted(dist[got - 100].tolist()) == sorted(np.sort(dist)[:20].tolist())
    allowed = np.arange(3000, 3100)
    assert set(idx.candidates(q, 20, allowed).tolist()) <= set(allowed.tolist())
    denied = got[:5]
    again = idx.candidates(q, 20, denied=denied)
    assert not set(again.tolist()) & set(denied.tolist()) and len(again) == 20
    kept = ~np.isin(np.arange(100, 5100), denied)
    assert sorted(dist[again - 100].tolist()) == sorted(np.sort(dist[kept])[:20].tolist())


def test_save_load_and_a_torn_save_is_not_trusted(tmp_path):
    rng = np.random.default_rng(1)
    idx = BinaryIndex(tmp_path, "m", 384)
    idx.add(np.arange(10), unit(rng, 10))
    idx.remove([3])
    idx.save(generation=7)
    again = BinaryIndex(tmp_path, "m", 384)
    assert again.load() and again.generation == 7 and sorted(again.ids.tolist()) == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    assert not BinaryIndex(tmp_path, "other-model", 384).load()
    np.save(tmp_path / "binary-ids.npy", np.arange(4))  # ids and codes disagree
    assert not BinaryIndex(tmp_path, "m", 384).load()


def test_reconcile_takes_only_chunks_with_vectors(tmp_path):
    rng = np.random.default_rng(2)
    store = Store(tmp_path / "store.lmdb")
    texts = [f"chunk {i}" for i in range(6)]
    digests = [text_digest("c1", t) for t in texts]
    chunks = [NewChunk(0, 7, 1, t, d) for t, d in zip(texts, digests)]
    vecs = unit(rng, 5)
    res = store.commit([FileChange(FileRecord("/a", 1, 1), chunks)], [], dict(zip(digests[:5], vecs)), "m")
    idx = BinaryIndex(tmp_path / "ann", "m", 384)
    assert idx.reconcile(store) == (5, 0)
    assert set(idx.ids.tolist()) == {cid for cid, d in res.added if d != digests[5]}
    store.commit([], ["/a"], {}, "m")
    assert idx.reconcile(store) == (0, 5) and len(idx) == 0
    store.close()
