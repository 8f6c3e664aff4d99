"""A file's whole-text meaning: the normalised mean of its passage vectors, for a search's candidates.

A manual about the topic throughout should beat a page with one passage that happens to read like the
query (core.search.rank adds FusionSettings.file_weight x the query's cosine to it). The means are
derived data like the vector indexes: saved beside them at the end of a meaning phase (and when a
service saves its indexes), memory-mapped by a search, and each trusted only while its file's chunk
ids are the ones it was made from; a file that changed since, or whose vectors were still being
embedded, is computed from the store when a search first needs it, and kept.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seekwise.core.ann import saving
from seekwise.core.errors import DiskFull
from seekwise.core.store import Store

log = logging.getLogger(__name__)

MEANS_FILE, PATHS_FILE = "file-means.npy", "file-means.json"
MAX_KEPT = 50_000      # means computed on demand and kept (1.5 KB each at 384 dims); then the oldest half goes
BATCH_CHUNKS = 20_000  # vectors read at once while every file's mean is rebuilt


def signature(chunk_ids: Iterable[int]) -> int:
    """What a mean was made from: the same chunk ids mean the same texts, so the same vectors."""
    return zlib.crc32(np.fromiter(chunk_ids, dtype=np.int64).tobytes())


@dataclass(frozen=True)
class _Mean:
    signature: int
    complete: bool            # every chunk had a vector: it cannot change while the signature holds
    vector: np.ndarray | None


class FileMeanings:
    """The query's cosine to candidate files' whole-text meanings (saved ones, else from the store)."""

    def __init__(self, store: Store, folder: Path, model_version: str, dims: int) -> None:
        self.store = store
        self.folder = folder
        self.model_version = model_version
        self.dims = dims
        self._kept: dict[str, _Mean] = {}
        self._saved: dict[str, tuple[int, int]] | None = None   # path -> (row, signature), once loaded
        self._matrix: np.ndarray | None = None
        self.saved_generation = -2
        self._lock = threading.Lock()

    def cosines(self, query: np.ndarray, files: list[str]) -> dict[str, float]:
        """path -> cosine for the files that have at least one passage vector."""
        with self._lock:
            self._load()
            means = self._means(files)
        have = [f for f in files if means.get(f) is not None]
        if not have:
            return {}
        scores = np.stack([means[f] for f in have]) @ query
        return dict(zip(have, scores.tolist()))

    def _means(self, files: list[str]) -> dict[str, np.ndarray | None]:
        out: dict[str, np.ndarray | None] = {}
        if self._saved and self.store.generation() == self.saved_generation:   # nothing changed since
            out = {f: self._matrix[self._saved[f][0]] for f in files if f in self._saved}
            files = [f for f in files if f not in out]
        todo: dict[str, list[int]] = {}
        for path, chunk_ids in (self.store.file_chunk_ids(files) if files else {}).items():
            sig = signature(chunk_ids)
            vector = self._known(path, sig)
            if vector is False:
                todo[path] = chunk_ids
            else:
                out[path] = vector
        if todo:
            if len(self._kept) + len(todo) > MAX_KEPT:
                for path in list(self._kept)[:len(self._kept) // 2]:
                    del self._kept[path]
            for path, mean in self._compute(todo).items():
                self._kept[path] = mean
                out[path] = mean.vector
        return out

    def _known(self, path: str, sig: int) -> np.ndarray | None | bool:
        """The mean for this file as its chunks are now, or False when it must be computed."""
        kept = self._kept.get(path)
        if kept is not None and kept.signature == sig and kept.complete:
            return kept.vector
        saved = self._saved.get(path) if self._saved else None
        if saved is not None and saved[1] == sig:
            return np.asarray(self._matrix[saved[0]])
        return False

    def _compute(self, files: dict[str, list[int]]) -> dict[str, _Mean]:
        ids = [cid for chunk_ids in files.values() for cid in chunk_ids]
        digests = self.store.get_digests(ids)
        vectors = self.store.get_vectors(self.model_version, (d for d in digests if d is not None), self.dims)
        out: dict[str, _Mean] = {}
        row = pos = 0
        for path, chunk_ids in files.items():
            n = len(chunk_ids)
            got = sum(d is not None for d in digests[pos:pos + n])
            part = vectors[row:row + got]
            ok = ~np.isnan(part).any(axis=1)
            out[path] = _Mean(signature(chunk_ids), bool(ok.all()) and got == n, _normalised(part[ok]))
            row += got
            pos += n
        return out

    # -- on disk -------------------------------------------------------------------------------

    def _load(self) -> None:
        if self._saved is not None:
            return
        self._saved = {}
        try:
            stamp = json.loads((self.folder / PATHS_FILE).read_text())
            matrix = np.load(self.folder / MEANS_FILE, mmap_mode="r")
        except (OSError, ValueError):
            return                     # none yet, or unreadable: every mean comes from the store
        if stamp.get("model") != self.model_version or matrix.shape != (len(stamp["files"]), self.dims):
            return
        self._saved = {path: (row, sig) for row, (path, sig) in enumerate(stamp["files"])}
        self._matrix = matrix
        self.saved_generation = int(stamp.get("generation", -1))

    def save(self) -> None:
        """Every file's complete mean written beside the vector indexes, reusing what is still good;
        skipped when nothing was committed since the last save."""
        generation = self.store.generation()
        with self._lock:
            self._load()
            if generation == self.saved_generation:
                return
            rows: list[np.ndarray] = []
            names: list[tuple[str, int]] = []
            todo: dict[str, list[int]] = {}

            def flush() -> None:
                for path, mean in self._compute(todo).items():
                    if mean.complete and mean.vector is not None:
                        rows.append(mean.vector)
                        names.append((path, mean.signature))
                todo.clear()

            pending = 0
            for rec in self.store.iter_files():
                if not rec.chunk_ids:
                    continue
                sig = signature(rec.chunk_ids)
                known = self._known(rec.path, sig)
                if known is False:
                    todo[rec.path] = rec.chunk_ids
                    pending += len(rec.chunk_ids)
                    if pending >= BATCH_CHUNKS:
                        flush()
                        pending = 0
                elif known is not None:
                    rows.append(np.asarray(known, dtype=np.float32))
                    names.append((rec.path, sig))
            flush()
            self._write(np.stack(rows) if rows else np.zeros((0, self.dims), np.float32), names, generation)

    def _write(self, matrix: np.ndarray, names: list[tuple[str, int]], generation: int) -> None:
        try:
            with saving(self.folder, (MEANS_FILE, PATHS_FILE)):
                with open(self.folder / (MEANS_FILE + ".tmp"), "wb") as fh:
                    np.save(fh, matrix)
                stamp = {"model": self.model_version, "generation": generation, "files": names}
                (self.folder / (PATHS_FILE + ".tmp")).write_text(json.dumps(stamp, separators=(",", ":")))
                (self.folder / PATHS_FILE).unlink(missing_ok=True)   # no list = nothing trusted, mid-swap
                os.replace(self.folder / (MEANS_FILE + ".tmp"), self.folder / MEANS_FILE)
                os.replace(self.folder / (PATHS_FILE + ".tmp"), self.folder / PATHS_FILE)
        except DiskFull as exc:   # the means are computed on demand meanwhile
            log.warning("%s", exc)
            return
        self._saved = {path: (row, sig) for row, (path, sig) in enumerate(names)}
        self._matrix = np.load(self.folder / MEANS_FILE, mmap_mode="r")
        self._kept.clear()
        self.saved_generation = generation


def _normalised(vectors: np.ndarray) -> np.ndarray | None:
    if not len(vectors):
        return None
    mean = vectors.sum(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm).astype(np.float32) if norm > 1e-9 else None
