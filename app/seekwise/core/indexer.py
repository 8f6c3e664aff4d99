"""Roots to store and index: scan, diff, extract, chunk, embed only the misses, commit in batches."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from seekwise.core import extract
from seekwise.core.chunking import Chunker
from seekwise.core.derived import DerivedIndexes
from seekwise.core.embedding import Encoder
from seekwise.core.errors import Interrupted, Preempted
from seekwise.core.extract import isolate, reading
from seekwise.core.ignore import IgnoreRules
from seekwise.core.lazy import Lazy
from seekwise.core.scanner import SeenFile, scan
from seekwise.core.store import FileChange, FileRecord, NewChunk, Store, text_digest

log = logging.getLogger(__name__)

DEFAULT_MAX_FILE_MB = 32
BATCH_MISSES = 256        # chunks to embed before a commit
BATCH_FILES = 500         # files per commit when there is little to embed
BATCH_SECONDS = 3.0       # a commit at least this often, so a kill loses little
ANN_SAVE_SECONDS = 60.0


@dataclass
class Progress:
    """A snapshot the CLI prints and the GUI polls; never a call per file."""

    phase: str = "starting"           # scanning, indexing, saving, done
    files_total: int = 0              # files seen by the scan
    files_todo: int = 0               # new or changed ones, the real work
    files_done: int = 0
    bytes_todo: int = 0
    bytes_done: int = 0
    chunks_added: int = 0
    chunks_embedded: int = 0
    errors: int = 0
    current: str = ""
    started: float = field(default_factory=time.monotonic)
    indexing_started: float = 0.0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def eta_s(self) -> float | None:
        if self.phase != "indexing" or self.bytes_done <= 0 or self.bytes_todo <= 0:
            return None
        rate = self.bytes_done / max(self.elapsed - self.indexing_started, 1e-6)
        return max(0.0, (self.bytes_todo - self.bytes_done) / rate)


@dataclass
class IndexReport:
    files_seen: int = 0
    files_indexed: int = 0         # new or changed, now searchable
    files_unchanged: int = 0
    files_touched: int = 0         # mtime changed, content not
    files_removed: int = 0
    files_skipped: int = 0         # not a format we read
    files_failed: int = 0
    chunks_added: int = 0
    chunks_embedded: int = 0       # model work done; the rest came from the vector cache
    problems: list[tuple[str, str]] = field(default_factory=list)
    missing_roots: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class _Batch:
    changes: list[FileChange] = field(default_factory=list)
    misses: dict[bytes, str] = field(default_factory=dict)  # digest -> text to embed
    removed: list[str] = field(default_factory=list)
    touched: list[FileRecord] = field(default_factory=list)  # same content, new mtime

    def __len__(self) -> int:
        return len(self.changes) + len(self.removed) + len(self.touched)


class Indexer:
    """The only writer of a library. Cancel with the Event; progress via the callback."""

    def __init__(self, store: Store, model_version: str, encoder: Lazy[Encoder], derived: DerivedIndexes,
                 chunker: Lazy[Chunker], chunking_version: str,
                 max_file_bytes: int = DEFAULT_MAX_FILE_MB << 20, rules: IgnoreRules | None = None) -> None:
        self.store = store
        self.model_version = model_version
        self.encoder = encoder
        self.derived = derived
        self.chunker = chunker
        self.chunking_version = chunking_version
        self.max_file_bytes = max_file_bytes
        self.rules = rules  # what the scan leaves out (the user's patterns and file types); None: built-ins
        self.batch_misses = BATCH_MISSES  # a background service lowers it: a batch is what an edit waits for
        self._pending_elsewhere = False

    # -- the run -------------------------------------------------------------------------------

    def run(self, roots: list[str], progress: Callable[[Progress], None] | None = None,
            cancel: threading.Event | None = None, checkpoint: Callable[[], None] | None = None,
            changed: bool = False, save: bool = True) -> IndexReport:
        """Index `roots` (folders or files). With `changed`, they are paths a watcher reported: one that
        no longer exists is gone (its records leave), where a missing root is otherwise kept as it was.
        `checkpoint` is called between files: it may raise Interrupted (cancel) or Preempted (commit
        what is done, then stop). `save=False` leaves saving the ANN file to the caller (a service
        saves on a timer, not after every small run)."""
        cancel = cancel or threading.Event()
        report = IndexReport()
        prog = Progress(phase="scanning")
        notify = _Throttle(progress)
        notify(prog, force=True)
        t0 = time.monotonic()

        # The library's folders fence the scan (`roots` may be paths inside them: a watcher's, a rescan's);
        # a bare store with none: the roots given.
        seen = scan(roots, self.rules, cancelled=cancel.is_set, within=self.store.get_meta("roots", None) or None)
        if cancel.is_set():
            raise Interrupted()
        report.files_seen = len(seen.files)
        gone_roots = seen.missing_roots if changed else []
        report.missing_roots = [] if changed else seen.missing_roots
        report.problems.extend(seen.problems)
        todo, removed = self._diff(roots, seen, report)
        for root in gone_roots:
            removed += [root] if self.store.get_file(root) else []
            removed += [rec.path for rec in self.store.iter_files(root.rstrip(os.sep) + os.sep)]
        report.files_removed = len(removed)
        prog.files_total, prog.files_todo = len(seen.files), len(todo)
        prog.bytes_todo = sum(f.size for f in todo)
        prog.phase, prog.indexing_started = "indexing", prog.elapsed
        notify(prog, force=True)

        batch = _Batch(removed=removed)
        for path, reason in seen.problems:
            old = self.store.get_file(path)
            if old is None or (old.status, old.reason) != ("error", reason):
                batch.changes.append(FileChange(FileRecord(path, 0, 0, status="error", reason=reason,
                                                           indexed_at=time.time())))
            report.files_failed += 1
        for path, reason in seen.left_out:  # links leading out of the folders: listed, never read
            old = self.store.get_file(path)
            if old is None or (old.status, old.reason) != ("skipped", reason):
                batch.changes.append(FileChange(FileRecord(path, 0, 0, status="skipped", reason=reason,
                                                           indexed_at=time.time())))
            report.files_skipped += 1
            report.problems.append((path, reason))
        last_commit = last_save = time.monotonic()
        self._pending_elsewhere = bool(self.store.get_meta("vectors_pending"))  # a run killed mid-batch
        try:
            try:
                for seen_file in todo:
                    if cancel.is_set():
                        raise Interrupted()
                    if checkpoint is not None:
                        checkpoint()
                    prog.current = seen_file.path
                    self._process(seen_file, batch, report)
                    prog.files_done += 1
                    prog.bytes_done += seen_file.size
                    prog.errors = report.files_failed
                    notify(prog)
                    if (len(batch.misses) >= self.batch_misses or len(batch) >= BATCH_FILES
                            or time.monotonic() - last_commit > BATCH_SECONDS):
                        self._commit(batch, report, prog)
                        batch = _Batch()
                        last_commit = time.monotonic()
                        if save and last_commit - last_save > ANN_SAVE_SECONDS:
                            self.derived.save()
                            last_save = time.monotonic()
            except Preempted:
                # More urgent work waits: keep the files (keyword search has them); their vectors
                # stay pending and a later run embeds them.
                self._commit(batch, report, prog, embed=False)
                raise
            self._commit(batch, report, prog)
            if self.store.get_meta("model") != self.model_version or self._pending_elsewhere:
                self.fill_missing_vectors(cancel, report, checkpoint)
        finally:
            # Whatever was committed stays; the saved ANN catches up from the store next time if we die here.
            if save and (self.derived.ann.loaded or self.derived.binary.loaded):
                prog.phase = "saving"
                notify(prog, force=True)
                self.derived.save()
        prog.phase, prog.current = "done", ""
        notify(prog, force=True)
        report.seconds = time.monotonic() - t0
        return report

    # -- diff ----------------------------------------------------------------------------------

    def _diff(self, roots: list[str], seen, report: IndexReport) -> tuple[list[SeenFile], list[str]]:  # noqa: ANN001
        """What is new or changed by size/mtime (or needs new extraction), and what disappeared."""
        known: dict[str, FileRecord] = {}
        for root in roots:
            if root in seen.missing_roots:
                continue
            prefix = root if root.endswith(os.sep) else root + os.sep
            for rec in self.store.iter_files(prefix):
                known[rec.path] = rec
            rec = self.store.get_file(root)
            if rec:
                known[rec.path] = rec
        todo: list[SeenFile] = []
        seen_paths = set()
        for f in seen.files:
            seen_paths.add(f.path)
            rec = known.get(f.path)
            if rec is None or rec.size != f.size or rec.mtime_ns != f.mtime_ns or self._outdated(rec, f.path):
                todo.append(f)
            else:
                report.files_unchanged += 1
        guarded = tuple(d + os.sep for d in seen.unreadable_dirs)
        problem_paths = {p for p, _ in seen.problems} | {p for p, _ in seen.left_out}
        removed = [p for p in known if p not in seen_paths and p not in problem_paths
                   and not p.startswith(guarded)]
        return todo, removed

    def _outdated(self, rec: FileRecord, path: str) -> bool:
        """A better extractor or new chunking rules mean the file is read again."""
        if rec.status == "unsupported":
            return extract.is_supported(path)
        if rec.stale:  # its version on disk failed to read: again when it changes, not on every run
            return False
        if rec.status in ("ok", "empty"):
            return rec.chunking != self.chunking_version or rec.extractor != extract.extractor_id(path)
        # A failure to read (no extractor recorded) is tried again; a failure of the content only
        # once the extractor changes (the size+mtime check above catches a changed file).
        return rec.status == "error" and rec.extractor != extract.extractor_id(path)

    # -- one file ------------------------------------------------------------------------------

    def _process(self, f: SeenFile, batch: _Batch, report: IndexReport) -> None:
        rec = FileRecord(path=f.path, size=f.size, mtime_ns=f.mtime_ns, indexed_at=time.time())
        family = extract.family_for(f.path)
        if family is None:
            rec.status, rec.reason = "unsupported", "not a file type Seekwise reads"
            report.files_skipped += 1
            batch.changes.append(FileChange(rec))
            return
        limit = extract.size_limit(family, self.max_file_bytes)
        try:
            if f.size > limit:  # refused by its size before a byte is read
                raise reading.too_large(limit)
            doc = self._read(f, family, limit, rec, batch, report)
        except extract.Unsupported as exc:
            self._fail(rec, "skipped", exc.reason, batch, report)
            return
        except extract.ExtractionError as exc:
            if self._keep_last_good(f, exc, batch, report):
                return
            rec.extractor = "" if exc.retry else extract.extractor_id(f.path)
            self._fail(rec, "error", exc.reason, batch, report)
            return
        if doc is None:
            return
        rec.kind, rec.extractor, rec.chunking = doc.kind, doc.extractor, self.chunking_version
        chunks = self.chunker.get().chunk(doc.text, doc.kind, doc.page_starts) if doc.text.strip() else []
        rec.status = "ok" if chunks else "empty"
        rec.reason = "" if chunks else "no text in this file"
        new_chunks = [NewChunk(c.start, c.end, c.line, c.text, text_digest(self.chunking_version, c.text), c.page)
                      for c in chunks]
        for ch in new_chunks:
            batch.misses.setdefault(ch.digest, ch.text)
        batch.changes.append(FileChange(rec, new_chunks))
        report.files_indexed += 1

    def _read(self, f: SeenFile, family: extract.Family, limit: int, rec: FileRecord, batch: _Batch,
              report: IndexReport) -> extract.Document | None:
        """The file's Document, or None when its content is what we hold already (only its mtime moved).

        Risky families are read and parsed in the isolation worker (time and memory bounded; the file's
        bytes never enter this process); the rest are read and parsed here.
        """
        old = self.store.get_file(f.path)
        if family.isolated:
            if old and old.sha256 and old.size == f.size:  # perhaps only touched: hash it before parsing
                rec.sha256, rec.size = reading.hash_file(f.path, limit)
                if self._touched(old, rec, f, batch, report):
                    return None
            doc, rec.sha256, rec.size = isolate.shared().extract_file(f.path, family, limit)
            return doc
        data = reading.read_file(f.path, limit)
        rec.size, rec.sha256 = len(data), hashlib.sha256(data).hexdigest()
        if old and self._touched(old, rec, f, batch, report):
            return None
        return extract.extract(f.path, data, family)

    def _touched(self, old: FileRecord, rec: FileRecord, f: SeenFile, batch: _Batch, report: IndexReport) -> bool:
        """Same content as indexed, and nothing says to read it again: keep it, with its new mtime."""
        if old.sha256 != rec.sha256 or self._outdated(replace(old, size=rec.size), f.path):
            return False
        report.files_touched += 1
        # Back to the content we hold: a stale file is current again.
        batch.touched.append(replace(old, size=rec.size, mtime_ns=f.mtime_ns, stale=False,
                                     reason="" if old.stale else old.reason))
        return True

    def _keep_last_good(self, f: SeenFile, exc: extract.ExtractionError, batch: _Batch, report: IndexReport) -> bool:
        """A new version that fails to read (damaged, too slow, a bomb) must not take the last good one
        out of the library: its chunks and vectors stay, the record says it is stale and why. A file
        never read well is an error as before; a refused one (too large, encrypted) is skipped as before.

        The stale record takes the new size and mtime, so the broken version is not read again until it
        changes; after a failure of access (retry) it keeps the old ones, so the next run tries again.
        """
        old = self.store.get_file(f.path)
        if old is None or old.status != "ok" or not old.chunk_ids:
            return False
        reason = f"could not re-read the new version: {exc.reason}; showing the last good version"
        size, mtime_ns = (old.size, old.mtime_ns) if exc.retry else (f.size, f.mtime_ns)
        batch.touched.append(replace(old, size=size, mtime_ns=mtime_ns, stale=True, reason=reason,
                                     indexed_at=time.time()))
        report.files_failed += 1
        report.problems.append((f.path, reason))
        return True

    def _fail(self, rec: FileRecord, status: str, reason: str, batch: _Batch, report: IndexReport) -> None:
        rec.status, rec.reason = status, reason
        if status == "error":
            report.files_failed += 1
        else:
            report.files_skipped += 1
        report.problems.append((rec.path, reason))
        batch.changes.append(FileChange(rec))

    # -- commit --------------------------------------------------------------------------------

    def _commit(self, batch: _Batch, report: IndexReport, prog: Progress, embed: bool = True) -> None:
        """Files first (keyword search has them at once), then the vectors only the model can make."""
        if not len(batch):
            return
        missing = self.store.missing_vectors(self.model_version, batch.misses) if batch.misses else set()
        # The flag says "some chunks may lack vectors": set with files committed ahead of their
        # vectors, cleared only when no earlier batch left any behind (fill_missing_vectors clears it).
        result = self.store.commit(batch.changes, batch.removed, {}, self.model_version,
                                   touched=batch.touched, vectors_pending=True if missing else None)
        report.chunks_added += len(result.added)
        prog.chunks_added += len(result.added)
        self.derived.after_commit(result, [ch.text for change in batch.changes for ch in change.chunks])
        if not missing:
            return
        if not embed:
            self._pending_elsewhere = True
            return
        digests = [d for d in batch.misses if d in missing]
        vecs = self.encoder.get().embed_documents([batch.misses[d] for d in digests])
        done = self.store.commit([], [], dict(zip(digests, vecs)), self.model_version,
                                 vectors_pending=None if self._pending_elsewhere else False)
        report.chunks_embedded += len(digests)
        prog.chunks_embedded += len(digests)
        self.derived.after_new_vectors([(cid, d) for cid, d in result.added if d in missing], done.generation)

    def fill_missing_vectors(self, cancel: threading.Event, report: IndexReport,
                             checkpoint: Callable[[], None] | None = None) -> None:
        """Chunks without a vector for this model (a model switch, or a run killed between a batch's
        files and its vectors): embed them."""
        ids, digests = self.store.chunk_digests()
        missing = self.store.missing_vectors(self.model_version, digests)
        if not missing:
            if self.store.get_meta("vectors_pending"):
                self.store.put_meta("vectors_pending", False)
            return
        log.info("embedding %d chunks that have no vector for %s", len(missing), self.model_version)
        todo = [int(cid) for cid, d in zip(ids, digests) if d in missing]
        for start in range(0, len(todo), self.batch_misses):
            if cancel.is_set():
                raise Interrupted()
            if checkpoint is not None:
                checkpoint()
            records = self.store.get_chunks(todo[start:start + self.batch_misses])
            chunks = {c.digest: c.text for c in records}
            digests_now = list(chunks)
            vecs = self.encoder.get().embed_documents([chunks[d] for d in digests_now])
            result = self.store.commit([], [], dict(zip(digests_now, vecs)), self.model_version)
            report.chunks_embedded += len(digests_now)
            self.derived.after_new_vectors([(c.id, c.digest) for c in records], result.generation)
        self.store.put_meta("vectors_pending", False)


class _Throttle:
    """Calls back at most ten times a second, plus on every phase change."""

    def __init__(self, callback: Callable[[Progress], None] | None) -> None:
        self.callback = callback
        self.last = 0.0

    def __call__(self, prog: Progress, force: bool = False) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        if force or now - self.last >= 0.1:
            self.last = now
            self.callback(prog)
