"""Sign bits of every vector, searched by Hamming distance: 48 bytes a chunk in memory instead of 1,536."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import numpy as np

from seekwise.core.ann import saving
from seekwise.core.store import Store

log = logging.getLogger(__name__)

FORMAT = 1
CODES_FILE = "binary-codes.npy"
IDS_FILE = "binary-ids.npy"
STAMP_FILE = "binary.json"
SCAN_BLOCK = 1 << 18   # rows XOR-ed at a time: bounds the temporary memory of a scan


def pack_signs(vectors: np.ndarray) -> np.ndarray:
    """One bit per dimension, set where the component is positive; rows padded to whole 64-bit words."""
    vectors = np.atleast_2d(vectors)
    dims = vectors.shape[1]
    words = (dims + 63) // 64
    bits = np.zeros((len(vectors), words * 64), dtype=bool)
    bits[:, :dims] = vectors > 0
    return np.packbits(bits, axis=1).view(np.uint64)


class BinaryIndex:
    """Packed codes with their chunk ids; derived from the store's float32 vectors."""

    def __init__(self, folder: Path, model_version: str, dims: int) -> None:
        self.folder = Path(folder)
        self.model_version = model_version
        self.dims = dims
        self.words = (dims + 63) // 64
        self.codes = np.zeros((0, self.words), dtype=np.uint64)
        self.ids = np.zeros(0, dtype=np.int64)
        self.generation = -1
        self.saved_generation = -2   # what the files on disk hold: none yet
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        return self.codes.nbytes + self.ids.nbytes

    # -- persistence ---------------------------------------------------------------------------

    def _stamp(self) -> dict:
        return {"format": FORMAT, "model_version": self.model_version, "dims": self.dims}

    def load(self) -> bool:
        try:
            stamp = json.loads((self.folder / STAMP_FILE).read_text())
            if {k: stamp.get(k) for k in self._stamp()} != self._stamp():
                return False
            codes = np.load(self.folder / CODES_FILE)
            ids = np.load(self.folder / IDS_FILE)
            if codes.shape != (len(ids), self.words) or codes.dtype != np.uint64 or len(ids) != stamp["count"]:
                log.warning("binary codes disagree with their stamp; rebuilding")
                return False
        except FileNotFoundError:
            return False
        except Exception as exc:  # torn or corrupt files: derived data, so rebuild
            log.warning("binary codes unreadable (%s); rebuilding from the store", exc)
            return False
        with self._lock:
            self.codes, self.ids, self.generation = codes, ids.astype(np.int64), int(stamp["generation"])
            self.saved_generation = self.generation
        return True

    def save(self, generation: int) -> None:
        """Write beside, then rename; the stamp goes last and names the count, so a torn save is caught."""
        with saving(self.folder, (CODES_FILE, IDS_FILE)), self._lock:
            for name, array in ((CODES_FILE, self.codes), (IDS_FILE, self.ids)):
                with open(self.folder / (name + ".tmp"), "wb") as fh:
                    np.save(fh, array)
            (self.folder / STAMP_FILE).unlink(missing_ok=True)
            os.replace(self.folder / (CODES_FILE + ".tmp"), self.folder / CODES_FILE)
            os.replace(self.folder / (IDS_FILE + ".tmp"), self.folder / IDS_FILE)
            (self.folder / STAMP_FILE).write_text(json.dumps(
                self._stamp() | {"generation": generation, "count": len(self.ids)}))
            self.generation = generation
            self.saved_generation = generation

    # -- changes -------------------------------------------------------------------------------

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if not len(ids):
            return
        with self._lock:
            ids = np.asarray(ids, dtype=np.int64)
            self.remove(ids)
            self.codes = np.concatenate([self.codes, pack_signs(vectors)])
            self.ids = np.concatenate([self.ids, ids])

    def remove(self, ids) -> None:  # noqa: ANN001 - any iterable of ints
        ids = np.fromiter((int(i) for i in ids), dtype=np.int64)
        if not len(ids) or not len(self.ids):
            return
        with self._lock:
            keep = ~np.isin(self.ids, ids)
            if not keep.all():
                self.codes, self.ids = self.codes[keep], self.ids[keep]

    def reconcile(self, store: Store) -> tuple[int, int]:
        """Hold exactly the store's chunks that have a vector for this model; returns (added, removed)."""
        ids, digests = store.chunk_digests()
        with self._lock:
            stale = np.setdiff1d(self.ids, ids)
            self.remove(stale)
            missing_pos = np.flatnonzero(~np.isin(ids, self.ids))
        added = 0
        for part, vecs in store.vectors_in_slices(self.model_version, ids, digests, missing_pos, self.dims):
            self.add(part, vecs)
            added += len(part)
        return added, len(stale)

    # -- queries -------------------------------------------------------------------------------

    def candidates(self, vector: np.ndarray, n: int, allowed: np.ndarray | None = None,
                   denied: np.ndarray | None = None) -> np.ndarray:
        """Chunk ids of the `n` codes nearest the query's signs by Hamming distance, nearest first;
        only `allowed` ids if given, never `denied` ones."""
        query = pack_signs(vector.reshape(1, -1))[0]
        with self._lock:
            codes, ids = self.codes, self.ids
        if allowed is not None:
            mask = np.isin(ids, allowed)
            codes, ids = codes[mask], ids[mask]
        if denied is not None and len(denied):
            mask = ~np.isin(ids, denied)
            codes, ids = codes[mask], ids[mask]
        if not len(ids):
            return np.empty(0, dtype=np.int64)
        dist = np.empty(len(ids), dtype=np.uint16)
        for start in range(0, len(ids), SCAN_BLOCK):
            block = codes[start:start + SCAN_BLOCK]
            dist[start:start + len(block)] = np.bitwise_count(block ^ query).sum(axis=1, dtype=np.uint16)
        n = min(n, len(ids))
        top = np.argpartition(dist, n - 1)[:n]
        top = top[np.argsort(dist[top], kind="stable")]
        return ids[top]
