"""The hnswlib index: derived from the store, stamped with its build settings, rebuilt when in doubt."""

from __future__ import annotations

import errno
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import hnswlib
import numpy as np

from seekwise.core.errors import DiskFull, StoreError
from seekwise.core.paths import make_folder
from seekwise.core.store import Store

log = logging.getLogger(__name__)

FORMAT = 1
INDEX_FILE = "hnsw.bin"
LABELS_FILE = "labels.npy"
SETTINGS_FILE = "settings.json"


@dataclass(frozen=True)
class AnnSettings:
    """Everything that makes a saved index unusable when it differs."""

    model_version: str
    dims: int
    space: str = "ip"
    m: int = 16
    # 100, not 200: on the bench library's 182k real vectors, half the insert CPU (0.37 vs 0.67 ms a
    # vector) and quicker searches (0.34 vs 0.48 ms at ef 96) for recall@10 0.9915 vs 0.9927 against exact
    ef_construction: int = 100

    def stamp(self) -> dict:
        return {"format": FORMAT, "model_version": self.model_version, "dims": self.dims,
                "space": self.space, "M": self.m, "ef_construction": self.ef_construction}


class AnnIndex:
    """Inner-product HNSW over unit vectors. Labels are chunk ids; `live` is what search may return."""

    def __init__(self, folder: Path, settings: AnnSettings, ef: int = 96, threads: int = 1) -> None:
        self.folder = Path(folder)
        self.settings = settings
        self.ef = ef
        self.threads = threads
        self.live: set[int] = set()
        self.generation = -1
        self.saved_generation = -2   # what the files on disk hold: none yet
        self._lock = threading.RLock()
        self._index = self._new(1024)

    def _new(self, capacity: int) -> hnswlib.Index:
        index = hnswlib.Index(space=self.settings.space, dim=self.settings.dims)
        index.init_index(max_elements=capacity, ef_construction=self.settings.ef_construction,
                         M=self.settings.m, allow_replace_deleted=True)
        index.set_ef(self.ef)
        return index

    # -- persistence ---------------------------------------------------------------------------

    def load(self) -> bool:
        """Load a saved index if its stamp matches; False means start empty and reconcile."""
        try:
            stamp = json.loads((self.folder / SETTINGS_FILE).read_text())
            if {k: stamp.get(k) for k in self.settings.stamp()} != self.settings.stamp():
                log.info("ANN settings changed; rebuilding")
                return False
            labels = np.load(self.folder / LABELS_FILE)
            index = hnswlib.Index(space=self.settings.space, dim=self.settings.dims)
            index.load_index(str(self.folder / INDEX_FILE), max_elements=int(stamp["capacity"]),
                             allow_replace_deleted=True)
            live = set(labels.tolist())
            if index.get_current_count() != stamp["elements"] or not live <= set(index.get_ids_list()):
                log.warning("ANN files disagree with each other; rebuilding")
                return False
        except FileNotFoundError:
            return False
        except Exception as exc:  # a torn or corrupt file: hnswlib raises RuntimeError, numpy ValueError
            log.warning("ANN index unreadable (%s); rebuilding from the store", exc)
            return False
        index.set_ef(self.ef)
        with self._lock:
            self._index, self.live, self.generation = index, live, int(stamp.get("generation", -1))
            self.saved_generation = self.generation
        return True

    def save(self, generation: int) -> None:
        """Write beside, then rename: a crash leaves the old index or the new one; a full disk leaves
        the old one (and DiskFull)."""
        with saving(self.folder, (INDEX_FILE, LABELS_FILE, SETTINGS_FILE)):
            self._save(generation)

    def _save(self, generation: int) -> None:
        with self._lock:
            tmp_index = self.folder / (INDEX_FILE + ".tmp")
            self._index.save_index(str(tmp_index))
            with open(self.folder / (LABELS_FILE + ".tmp"), "wb") as fh:
                np.save(fh, np.fromiter(self.live, dtype=np.int64, count=len(self.live)))
            stamp = self.settings.stamp() | {"generation": generation,
                                             "elements": self._index.get_current_count(),
                                             "capacity": self._index.get_max_elements(),
                                             "live": len(self.live)}
            (self.folder / (SETTINGS_FILE + ".tmp")).write_text(json.dumps(stamp))
            (self.folder / SETTINGS_FILE).unlink(missing_ok=True)  # no stamp = not trusted, mid-swap
            os.replace(tmp_index, self.folder / INDEX_FILE)
            os.replace(self.folder / (LABELS_FILE + ".tmp"), self.folder / LABELS_FILE)
            os.replace(self.folder / (SETTINGS_FILE + ".tmp"), self.folder / SETTINGS_FILE)
            self.generation = generation
            self.saved_generation = generation

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.glob("*") if p.is_file()) if self.folder.is_dir() else 0

    # -- changes -------------------------------------------------------------------------------

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        ids = np.asarray(ids, dtype=np.int64)
        with self._lock:
            fresh = ~np.isin(ids, np.fromiter(self.live, dtype=np.int64, count=len(self.live)))
            ids, vectors = ids[fresh], vectors[fresh]
            if not len(ids):
                return
            deleted = self._index.get_current_count() - len(self.live)
            need = self._index.get_current_count() - min(deleted, len(ids)) + len(ids)
            if need > self._index.get_max_elements():
                self._index.resize_index(max(need, 2 * self._index.get_max_elements()))
            self._index.add_items(vectors, ids, num_threads=self.threads, replace_deleted=True)
            self.live.update(ids.tolist())

    def remove(self, ids: list[int]) -> None:
        with self._lock:
            for cid in ids:
                if cid in self.live:
                    self._index.mark_deleted(cid)
                    self.live.discard(cid)

    def deleted_fraction(self) -> float:
        total = self._index.get_current_count()
        return (total - len(self.live)) / total if total else 0.0

    def reconcile(self, store: Store, model_version: str) -> tuple[int, int]:
        """Make the index hold exactly the store's chunks; returns (added, removed). Arrays, not sets
        of Python ints: a rebuild of 180k chunks would hold some 50 MB of them beside the graph."""
        ids, digests = store.chunk_digests()
        with self._lock:
            live = np.fromiter(self.live, dtype=np.int64, count=len(self.live))
            stale = np.setdiff1d(live, ids)
            self.remove(stale.tolist())
            missing = np.flatnonzero(~np.isin(ids, live))
            self._reserve(len(missing))
        del live
        added = 0
        for part, vecs in store.vectors_in_slices(model_version, ids, digests, missing, self.settings.dims):
            self.add(part, vecs)
            added += len(part)
        return added, len(stale)

    def _reserve(self, more: int) -> None:
        """Room for `more` labels in one resize, to the size needed: a rebuild doubling its way up
        would end with up to twice the room (and hnswlib's per-element locks) it uses."""
        count = self._index.get_current_count()
        need = count - min(count - len(self.live), more) + more   # deleted slots are reused first
        if need > self._index.get_max_elements():
            self._index.resize_index(need)

    def compact(self, store: Store, model_version: str) -> None:
        """Rebuild from the store: drops the tombstones that mark_deleted leaves behind."""
        with self._lock:
            self._index = self._new(max(1024, len(self.live)))
            self.live = set()
            self.reconcile(store, model_version)

    # -- queries -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.live)

    def search(self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None,
               denied: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, cosine scores), best first; `allowed` limits the labels a search may return,
        `denied` bars some (both during the search, so k come back if k qualify)."""
        with self._lock:
            filtered = allowed is not None or (denied is not None and len(denied) > 0)
            barred = set(np.asarray(denied).tolist()) if denied is not None else set()
            if allowed is not None:   # what may come back, so k never asks for more than there is
                permitted = set(np.asarray(allowed).tolist()) & self.live
                permitted -= barred
                k = min(k, len(permitted))
                keep = permitted.__contains__
            else:
                barred &= self.live
                k = min(k, len(self.live) - len(barred))

                def keep(label: int) -> bool:
                    return label not in barred
            if k <= 0:
                return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
            self._index.set_ef(max(self.ef, k))
            query = vector.reshape(1, -1)
            only = keep if filtered else None
            try:
                labels, dist = self._index.knn_query(query, k=k, num_threads=1, filter=only)
            except RuntimeError:  # fewer than k reachable (under the filter, or among many identical
                labels, dist = self._filtered_fallback(query, k, only)   # vectors): take fewer
        return labels[0].astype(np.int64), (1.0 - dist[0]).astype(np.float32)

    def _filtered_fallback(self, query: np.ndarray, k: int,
                           keep: Callable[[int], bool] | None) -> tuple[np.ndarray, np.ndarray]:
        for want in (k // 2, k // 4, 1):
            if want < 1:
                continue
            try:
                return self._index.knn_query(query, k=want, num_threads=1, filter=keep)
            except RuntimeError:
                continue
        return np.empty((1, 0), dtype=np.uint64), np.empty((1, 0), dtype=np.float32)


@contextmanager
def saving(folder: Path, names: tuple[str, ...]) -> Iterator[None]:
    """Around a derived index's save: a file where its folder goes is set aside; on a full disk the
    half-written temp files go and DiskFull says so (the index rebuilds from the store later)."""
    make_folder(folder, folder.parent.parent)
    try:
        yield
    except OSError as exc:
        for name in names:
            (folder / (name + ".tmp")).unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(f"The disk holding {folder} is full: free some space; the search index is "
                           "rebuilt from the store once there is room.") from exc
        raise
    except RuntimeError as exc:   # hnswlib's save_index raises RuntimeError on a failed write
        for name in names:
            (folder / (name + ".tmp")).unlink(missing_ok=True)
        raise StoreError(f"Cannot save the search index in {folder} ({exc}); it is rebuilt from the store "
                         "at the next start.") from exc


def exact_search(matrix: np.ndarray, ids: np.ndarray, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute force over every vector: the ground truth for tests and eval."""
    if len(ids) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    scores = matrix @ vector
    k = min(k, len(ids))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top])]
    return ids[top], scores[top]
