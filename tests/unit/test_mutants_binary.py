"""Binary codes: cases mutation testing (bench/mutation.sh) showed no fast test would notice going
wrong: the allowed filter, exact top-n, the empty answer, load's checks, reconcile's counts."""

from __future__ import annotations

import numpy as np

from seekwise.core import binary
from seekwise.core.binary import BinaryIndex, pack_signs
from seekwise.core.store import FileChange, FileRecord, NewChunk, Store, text_digest


def signs(rows, d=384):
    """Vectors whose codes differ from the all-positive query in exactly rows[i] bits."""
    v = np.ones((len(rows), d), dtype=np.float32)
    for i, flips in enumerate(rows):
        v[i, :flips] = -1.0
    return v


def test_top_n_is_exactly_the_nearest_in_order(tmp_path):
    idx = BinaryIndex(tmp_path, "m", 384)
    flips = [9, 1, 7, 3, 5, 0, 8, 2, 6, 4]
    idx.add(np.arange(10, 20), signs(flips))
    q = np.ones(384, dtype=np.float32)
    by_distance = [10 + i for i in np.argsort(flips)]
    for n in (1, 2, 3, 9, 10, 50):
        assert idx.candidates(q, n).tolist() == by_distance[:n]
    allowed = np.array([10, 12, 14, 99])
    assert idx.candidates(q, 2, allowed).tolist() == [14, 12]          # the nearest *among* allowed
    assert idx.candidates(q, 2, allowed, denied=np.array([14])).tolist() == [12, 10]


def test_the_farthest_first_row_is_not_taken_for_the_nearest(tmp_path):
    idx = BinaryIndex(tmp_path, "m", 384)
    idx.add(np.arange(5), signs([300, 10, 20, 30, 40]))
    assert idx.candidates(np.ones(384, dtype=np.float32), 1).tolist() == [1]


def test_scans_in_blocks_give_the_same_answer(tmp_path, monkeypatch):
    idx = BinaryIndex(tmp_path, "m", 384)
    flips = [9, 1, 7, 3, 5, 0, 8, 2, 6, 4]
    idx.add(np.arange(10), signs(flips))
    monkeypatch.setattr(binary, "SCAN_BLOCK", 3)
    assert idx.candidates(np.ones(384, dtype=np.float32), 10).tolist() == np.argsort(flips).tolist()


def test_nothing_allowed_is_an_empty_id_array(tmp_path):
    idx = BinaryIndex(tmp_path, "m", 384)
    idx.add(np.arange(3), signs([1, 2, 3]))
    got = idx.candidates(np.ones(384, dtype=np.float32), 5, denied=np.arange(3))
    assert got.dtype == np.int64 and got.shape == (0,)
    assert BinaryIndex(tmp_path, "m", 384).candidates(np.ones(384), 5).shape == (0,)


def test_dims_not_a_multiple_of_64(tmp_path):
    idx = BinaryIndex(tmp_path, "m", 130)
    assert idx.words == 3 and idx.codes.shape == (0, 3)
    idx.add(np.arange(2), signs([0, 129], d=130))
    assert idx.candidates(np.ones(130, dtype=np.float32), 2).tolist() == [0, 1]
    idx.save(generation=1)
    assert BinaryIndex(tmp_path, "m", 130).load()


def test_a_new_index_is_behind_every_store_generation(tmp_path):
    assert BinaryIndex(tmp_path, "m", 384).generation < 0


def test_load_rejects_missing_files_wrong_dtype_and_wrong_shape(tmp_path):
    assert not BinaryIndex(tmp_path, "m", 384).load()                   # nothing saved yet
    idx = BinaryIndex(tmp_path, "m", 384)
    idx.add(np.arange(4), signs([1, 2, 3, 4]))
    idx.save(generation=3)
    assert idx.generation == 3
    again = BinaryIndex(tmp_path, "m", 384)
    assert again.load() and again.ids.dtype == np.int64 and again.generation == 3
    codes = np.load(tmp_path / binary.CODES_FILE)
    np.save(tmp_path / binary.CODES_FILE, codes.view(np.int64))         # right shape and count, wrong dtype
    assert not BinaryIndex(tmp_path, "m", 384).load()
    np.save(tmp_path / binary.CODES_FILE, codes[:3])                     # a row short, ids and count agree
    assert not BinaryIndex(tmp_path, "m", 384).load()
    (tmp_path / binary.CODES_FILE).write_bytes(b"torn")                  # unreadable
    assert not BinaryIndex(tmp_path, "m", 384).load()


def test_reconcile_counts_only_what_changed(tmp_path):
    store = Store(tmp_path / "store.lmdb")
    try:
        texts = [f"chunk {i}" for i in range(4)]
        digests = [text_digest("c1", t) for t in texts]
        vecs = dict(zip(digests, signs([1, 2, 3, 4])))
        store.commit([FileChange(FileRecord("/a", 1, 1), [NewChunk(0, 7, 1, t, d) for t, d in zip(texts, digests)])],
                     [], vecs, "m")
        idx = BinaryIndex(tmp_path / "bin", "m", 384)
        assert idx.reconcile(store) == (4, 0)
        assert idx.reconcile(store) == (0, 0)                            # in step: nothing added or removed
        store.commit([FileChange(FileRecord("/b", 1, 1), [NewChunk(0, 7, 1, texts[0], digests[0])])], [], {}, "m")
        assert idx.reconcile(store) == (1, 0) and len(idx) == 5
    finally:
        store.close()


def test_pack_signs_of_one_vector():
    assert pack_signs(np.ones(64, dtype=np.float32)).tolist() == [[np.iinfo(np.uint64).max]]
