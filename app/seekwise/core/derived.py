"""The indexes rebuilt from the store (HNSW, sign bits, FTS5): loaded on demand, kept in step, saved."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

from seekwise.core.ann import AnnIndex, AnnSettings
from seekwise.core.binary import BinaryIndex
from seekwise.core.errors import DiskFull, LibraryDamaged, LibraryLocked
from seekwise.core.file_meaning import FileMeanings
from seekwise.core.heap import trim_heap
from seekwise.core.lazy import Lazy
from seekwise.core.lexical import LexicalIndex
from seekwise.core.lock import WriterLock
from seekwise.core.paths import LibraryPaths
from seekwise.core.store import CommitResult, Store

log = logging.getLogger(__name__)

COMPACT_DELETED_FRACTION = 0.3


class DerivedIndexes:
    """Each index says which store generation it reflects; a mismatch means catch up, never trust."""

    def __init__(self, store: Store, paths: LibraryPaths, model_version: str, dims: int,
                 ef: int = 96, threads: int | None = None, readonly: bool = False) -> None:
        self.store = store
        self.paths = paths
        self.model_version = model_version
        self.dims = dims
        self.ef = ef
        self.threads = threads or os.cpu_count() or 1
        self.readonly = readonly
        self.ann: Lazy[AnnIndex] = Lazy(self._load_ann)
        self.binary: Lazy[BinaryIndex] = Lazy(self._load_binary)
        self.lexical: Lazy[LexicalIndex] = Lazy(self._load_lexical)
        self.file_meanings = FileMeanings(store, paths.ann_dir(model_version), model_version, dims)
        # Catching an index up (a search, on any thread) and the writer's updates take turns: a catch-up
        # works from a snapshot of the store, and would drop chunks the writer added meanwhile as stale.
        self._sync_lock = threading.Lock()

    def close(self) -> None:
        if self.lexical.loaded:
            self.lexical.get().close()

    # -- loading and catching up ---------------------------------------------------------------

    def _load_ann(self) -> AnnIndex:
        ann = AnnIndex(self.paths.ann_dir(self.model_version), AnnSettings(self.model_version, self.dims),
                       ef=self.ef, threads=self.threads)
        ann.load()
        self._catch_up(ann, self._reconcile_ann)
        return ann

    def _load_binary(self) -> BinaryIndex:
        binary = BinaryIndex(self.paths.ann_dir(self.model_version), self.model_version, self.dims)
        binary.load()
        self._catch_up(binary, lambda b: b.reconcile(self.store))
        return binary

    def _load_lexical(self) -> LexicalIndex:
        try:
            lexical = LexicalIndex(self.paths.lexical, on_rebuilt=lambda lex: lex.reconcile(self.store))
            if lexical.generation != self.store.generation() and self._may_write():
                lexical.reconcile(self.store)
        except DiskFull as exc:
            return self._lexical_in_memory(exc)
        return lexical

    def _lexical_in_memory(self, why: DiskFull) -> LexicalIndex:
        """No room to bring the keyword index up to date: what the store committed is searched from
        a copy in memory until there is room (the next writer catches the file up)."""
        log.warning("keyword search works from memory until there is room: %s", why)
        lexical = LexicalIndex(Path(":memory:"))
        lexical.reconcile(self.store)
        return lexical

    def _reconcile_ann(self, ann: AnnIndex) -> tuple[int, int]:
        result = ann.reconcile(self.store, self.model_version)
        if ann.deleted_fraction() > COMPACT_DELETED_FRACTION and len(ann) > 1000:
            ann.compact(self.store, self.model_version)
        return result

    def _catch_up(self, index: AnnIndex | BinaryIndex, reconcile) -> None:  # noqa: ANN001
        if index.generation == self.store.generation():
            return
        with self._sync_lock:
            generation = self.store.generation()
            if index.generation == generation:
                return
            added, removed = reconcile(index)
            index.generation = generation
        if added or removed:
            log.info("%s caught up: +%d -%d chunks", type(index).__name__, added, removed)
            if self._may_write():
                try:
                    index.save(generation)
                except DiskFull as exc:   # a search must not fail for want of room to cache its index
                    log.warning("%s", exc)

    def _may_write(self) -> bool:
        """A read-only opener writes derived files only when no indexer is running."""
        if not self.readonly:
            return True
        try:
            with WriterLock(self.paths.writer_lock):
                return True
        except (LibraryLocked, LibraryDamaged, OSError):
            return False

    def current_ann(self) -> AnnIndex:
        ann = self.ann.get()
        self._catch_up(ann, self._reconcile_ann)
        return ann

    def current_binary(self) -> BinaryIndex:
        binary = self.binary.get()
        self._catch_up(binary, lambda b: b.reconcile(self.store))
        return binary

    def build_vector_indexes(self) -> None:
        """Both vector indexes caught up from the store and saved, at the end of a meaning phase that
        left them behind: the sign codes too (48 bytes a passage), which a one-off search from the
        command line reads instead of the graph. The heap is trimmed after each: a catch-up's lists
        and vector slices, freed, would otherwise sit under the graph's peak."""
        self.current_binary()
        trim_heap()
        self.current_ann()
        trim_heap()
        self.save_file_meanings()

    def current_lexical(self) -> LexicalIndex:
        lexical = self.lexical.get()
        if lexical.generation != self.store.generation() and not self.readonly:
            with self._sync_lock:
                if lexical.generation != self.store.generation():
                    try:
                        lexical.reconcile(self.store)
                    except DiskFull as exc:
                        lexical.close()
                        lexical = self._lexical_in_memory(exc)
                        self.lexical = Lazy(lambda: lexical)
        return lexical

    # -- the indexer's side --------------------------------------------------------------------

    def after_commit(self, result: CommitResult, texts: list[str]) -> None:
        """One store commit into every index that is open (the keyword index always: it is cheap).
        Chunks whose vectors are not in the store yet join the vector indexes in after_new_vectors."""
        indexes = self._vector_indexes() if result.added or result.removed else []
        lexical = self.lexical.get()          # both loaded before the lock: a load catches up under it
        with self._sync_lock:
            # One behind (a meaning phase that builds them at its end skipped some commits) is left
            # behind: stamping it current would hide the vectors it never got; it catches up from the
            # store when next asked.
            indexes = [index for index in indexes if index.generation == result.generation - 1]
            if indexes:
                ids, vecs = self._with_vectors(result.added)
            for index in indexes:
                index.remove(result.removed)
                index.add(ids, vecs)
                index.generation = result.generation  # the only writer: nothing else changed the store
            if lexical.generation == result.generation - 1:
                ids = [cid for cid, _ in result.added]
                lexical.apply(zip(ids, texts), result.removed, result.generation)
            else:
                lexical.reconcile(self.store)

    def _vector_indexes(self) -> list[AnnIndex | BinaryIndex]:
        """The open ones; HNSW also when none is open (a library in binary mode never loads it,
        and it catches up from the store if it is ever opened)."""
        out: list[AnnIndex | BinaryIndex] = []
        if self.ann.loaded or not self.binary.loaded:
            out.append(self.ann.get())
        if self.binary.loaded:
            out.append(self.binary.get())
        return out

    def _with_vectors(self, pairs: list[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
        ids = np.fromiter((cid for cid, _ in pairs), dtype=np.int64, count=len(pairs))
        vecs = self.store.get_vectors(self.model_version, (d for _, d in pairs), self.dims)
        have = ~np.isnan(vecs).any(axis=1)
        return ids[have], vecs[have]

    def after_new_vectors(self, pairs: list[tuple[int, bytes]] | None, generation: int,
                          vector_indexes: bool = True) -> None:
        """Vectors arrived for chunks the store already holds: (chunk id, digest) pairs, or None for
        'look at every chunk' (a model switch, the end of a meaning phase that built them last).
        `vector_indexes=False` leaves HNSW and sign bits behind (they catch up from the store when
        next asked): a run that builds them at its end does not hold them meanwhile."""
        indexes = self._vector_indexes() if vector_indexes else []
        with self._sync_lock:
            if pairs is not None:   # only into an index that holds everything before this commit
                indexes = [index for index in indexes if index.generation == generation - 1]
            if pairs is not None and indexes:
                ids, vecs = self._with_vectors(pairs)
            for index in indexes:
                if pairs is None:
                    self._reconcile_ann(index) if isinstance(index, AnnIndex) else index.reconcile(self.store)
                else:
                    index.add(ids, vecs)
                index.generation = generation
            lexical = self.lexical.peek()
            if lexical is not None and lexical.generation == generation - 1:
                lexical.apply([], [], generation)  # nothing textual changed in that commit

    def save(self, file_meanings: bool = True) -> None:
        """Each open index under the generation it reflects, which may be behind the store's (a run
        stopped before it built them): the next opener catches up, never trusts a stale file. The
        file meanings too unless told not to (a run being stopped leaves them to the next one)."""
        for index in (self.ann.peek(), self.binary.peek()):
            if index is not None and index.saved_generation != index.generation:   # else on disk as it is
                index.save(index.generation)
        if file_meanings:
            self.save_file_meanings()

    def save_file_meanings(self) -> None:
        """Files' whole-text meanings saved for the next search (core.file_meaning) once every passage
        has its vector; what changed since is computed by the search that needs it."""
        if not self.store.get_meta("vectors_pending") and self._may_write():
            self.file_meanings.save()

    def remove_chunks(self, result: CommitResult) -> None:
        self.after_commit(result, [])
        self.save()
