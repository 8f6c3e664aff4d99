"""The one facade the CLI and the GUI use: open a library, add roots, index, search, status, close."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seekwise.core.ann import AnnIndex, AnnSettings, exact_search
from seekwise.core.chunking import Chunker
from seekwise.core.embedding import Encoder, ModelManifest, TokenCounter, resolve_model
from seekwise.core.errors import LibraryLocked, SeekwiseError
from seekwise.core.indexer import DEFAULT_MAX_FILE_MB, IndexReport, Indexer, Progress
from seekwise.core.lazy import Lazy
from seekwise.core.lock import WriterLock
from seekwise.core.paths import LibraryPaths
from seekwise.core.search import CANDIDATES_PER_HIT, Hit, group_by_file, top_ids
from seekwise.core.store import Store

log = logging.getLogger(__name__)

__all__ = ["Hit", "IndexReport", "Library", "LibraryStatus", "Progress", "SeekwiseError"]


@dataclass
class LibraryStatus:
    data_dir: str
    roots: list[str]
    model_id: str
    model_version: str
    model_folder: str
    files: int = 0
    chunks: int = 0
    vectors: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    problems: list[tuple[str, str, str]] = field(default_factory=list)
    store_bytes: int = 0
    ann_bytes: int = 0
    ann_entries: int | None = None
    last_indexed: float | None = None


class Library:
    """Open with a data dir (or the default); `readonly` for searching beside a running indexer."""

    def __init__(self, data_dir: str | os.PathLike | None = None, model: str | os.PathLike | None = None,
                 threads: int | None = None, readonly: bool = False, ef: int = 96,
                 max_file_mb: int = DEFAULT_MAX_FILE_MB) -> None:
        self.paths = LibraryPaths.resolve(data_dir)
        if readonly and not self.paths.store.exists():
            readonly = False  # nothing to share yet: create the empty library
        if not readonly:
            self.paths.ensure()
        self.readonly = readonly
        self.threads = threads
        self.ef = ef
        self.max_file_bytes = max_file_mb << 20
        self.manifest: ModelManifest = resolve_model(model, self.paths.models)
        self.store = Store(self.paths.store, readonly=readonly)
        self.encoder: Lazy[Encoder] = Lazy(lambda: Encoder(self.manifest, threads=self.threads))
        self.tokens: Lazy[TokenCounter] = Lazy(lambda: TokenCounter(self.manifest))
        self.chunker: Lazy[Chunker] = Lazy(self._make_chunker)
        self.ann: Lazy[AnnIndex] = Lazy(self._load_ann)
        self._exact: tuple[int, np.ndarray, np.ndarray] | None = None
        self._ann_sync = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def model_version(self) -> str:
        return self.manifest.version_id

    def _make_chunker(self) -> Chunker:
        counter = self.tokens.get()
        return Chunker(counter, counter.budget, tokenizer_tag=counter.tag)

    def _load_ann(self) -> AnnIndex:
        settings = AnnSettings(self.model_version, self.manifest.dims)
        ann = AnnIndex(self.paths.ann_dir(self.model_version), settings, ef=self.ef,
                       threads=self.threads or os.cpu_count() or 1)
        ann.load()
        self._sync_ann(ann)
        return ann

    def _sync_ann(self, ann: AnnIndex) -> None:
        """Catch up with what the store committed since the index was saved (another process, a crash)."""
        generation = self.store.generation()
        if ann.generation == generation:
            return
        with self._ann_sync:
            added, removed = ann.reconcile(self.store, self.model_version)
            if ann.deleted_fraction() > 0.3 and len(ann) > 1000:
                ann.compact(self.store, self.model_version)
            ann.generation = generation
        if added or removed:
            log.info("ANN caught up: +%d -%d chunks", added, removed)
            self._save_ann_if_free(ann, generation)

    def _save_ann_if_free(self, ann: AnnIndex, generation: int) -> None:
        """Save a caught-up index only when no writer is busy, so the next open is fast."""
        if self.readonly:
            try:
                with WriterLock(self.paths.writer_lock):
                    ann.save(generation)
            except (LibraryLocked, OSError):
                pass
        else:
            ann.save(generation)

    # -- roots ---------------------------------------------------------------------------------

    def roots(self) -> list[str]:
        return list(self.store.get_meta("roots", []))

    def add_root(self, folder: str | os.PathLike) -> str:
        """Remember a folder to index; a folder inside one we already watch adds nothing."""
        root = os.path.realpath(os.path.expanduser(os.fspath(folder)))
        roots = self.roots()
        if not any(root == r or root.startswith(r.rstrip(os.sep) + os.sep) for r in roots):
            roots = [r for r in roots if not r.startswith(root.rstrip(os.sep) + os.sep)] + [root]
            self.store.put_meta("roots", sorted(roots))
        return root

    def remove_root(self, folder: str | os.PathLike) -> None:
        root = os.path.realpath(os.path.expanduser(os.fspath(folder)))
        self.store.put_meta("roots", [r for r in self.roots() if r != root])
        with WriterLock(self.paths.writer_lock):
            prefix = root.rstrip(os.sep) + os.sep
            gone = [rec.path for rec in self.store.iter_files(prefix)]
            result = self.store.commit([], gone, {}, self.model_version)
            if self.ann.loaded:
                self.ann.get().remove(result.removed)
                self.ann.get().save(result.generation)

    # -- indexing ------------------------------------------------------------------------------

    def index(self, folders: list[str | os.PathLike] | None = None,
              progress: Callable[[Progress], None] | None = None,
              cancel: threading.Event | None = None) -> IndexReport:
        """Index the given folders (added as roots) or all roots; refuses if another writer runs."""
        if self.readonly:
            raise SeekwiseError("This library was opened read-only")
        with WriterLock(self.paths.writer_lock):
            roots = [self.add_root(f) for f in folders] if folders else self.roots()
            indexer = Indexer(self.store, self.model_version, self.encoder, self.ann, self.chunker,
                              self.chunker.get().version, self.max_file_bytes)
            report = indexer.run(roots, progress, cancel)
            self.store.put_meta("last_indexed", time.time())
            self.store.put_meta("model", self.model_version)
            return report

    # -- searching -----------------------------------------------------------------------------

    def search(self, query: str, k: int = 10, exact: bool = False) -> list[Hit]:
        """Files that best match the meaning of `query`, best first, each with its best passage."""
        query = query.strip()
        if not query:
            return []
        vector = self.encoder.get().embed_query(query)
        want = k * CANDIDATES_PER_HIT
        if exact:
            ids, scores = exact_search(*self._exact_matrix(), vector, want)
        else:
            ann = self.ann.get()
            self._sync_ann(ann)
            ids, scores = ann.search(vector, want)
        scored = top_ids(ids, scores)
        return group_by_file(self.store.get_chunks(scored), scored, k)

    def _exact_matrix(self) -> tuple[np.ndarray, np.ndarray]:
        generation = self.store.generation()
        if self._exact is None or self._exact[0] != generation:
            ids, digests = self.store.chunk_digests()
            matrix = self.store.get_vectors(self.model_version, digests, self.manifest.dims)
            have = ~np.isnan(matrix).any(axis=1)
            self._exact = (generation, matrix[have], ids[have])
        return self._exact[1], self._exact[2]

    # -- status --------------------------------------------------------------------------------

    def status(self, problems: int = 20) -> LibraryStatus:
        counts = self.store.counts()
        by_status: dict[str, int] = {}
        for rec in self.store.iter_files():
            by_status[rec.status] = by_status.get(rec.status, 0) + 1
        ann_dir = self.paths.ann_dir(self.model_version)
        ann = self.ann.peek()
        return LibraryStatus(
            data_dir=str(self.paths.root), roots=self.roots(), model_id=self.manifest.id,
            model_version=self.model_version, model_folder=str(self.manifest.folder),
            files=counts["files"], chunks=counts["chunks"], vectors=counts["vectors"],
            by_status=by_status, problems=self.store.problems_list(problems),
            store_bytes=self.store.size_bytes(),
            ann_bytes=sum(p.stat().st_size for p in Path(ann_dir).glob("*")) if ann_dir.is_dir() else 0,
            ann_entries=len(ann) if ann else None,
            last_indexed=self.store.get_meta("last_indexed"))
