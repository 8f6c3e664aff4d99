"""Roots to store and index in two phases: keywords first (scan, diff, extract, chunk, commit: every
file searchable by keyword), then meaning (embed the passages that have no vector, newest files first).
Text that only OCR can read (scanned pages, pictures) comes after both, in the pictures pass, whose
passages then get their meaning too."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace


from seekwise.core import extract, prepare
from seekwise.core.chunking import Chunker
from seekwise.core.derived import DerivedIndexes
from seekwise.core.embedding import Encoder
from seekwise.core.errors import Interrupted, Preempted
from seekwise.core.extract import isolate, ocr, reading
from seekwise.core.extract.reading import DEFAULT_MAX_FILE_MB
from seekwise.core.heap import trim_heap
from seekwise.core.ignore import IgnoreRules
from seekwise.core.lazy import Lazy
from seekwise.core.scanner import SeenFile, scan
from seekwise.core.store import FileChange, FileRecord, NewChunk, Store

log = logging.getLogger(__name__)

BATCH_MISSES = 256        # chunks embedded per commit in the meaning phase
BATCH_FILES = 500         # files per commit in the keywords phase
BATCH_CHUNKS = 4096       # or this many new passages, whichever comes first
BATCH_SECONDS = 3.0       # a commit at least this often, so a kill loses little
ANN_SAVE_SECONDS = 60.0
RATE_EVERY_S = 30.0       # how often the meaning phase records its rate (another process's ETA)
RELEASE_WORKERS_CHUNKS = 4096  # a meaning phase this long stops the idle extraction worker (~110 MB)
OCR_PAGE_SECONDS = 60.0   # a page or picture's share of an OCR job's time limit (about 3 s here)


@dataclass
class Progress:
    """A snapshot the CLI prints and the GUI polls; never a call per file.

    Two phases: "keywords" takes every new or changed file into the store and the keyword index
    (no model call), "meaning" then embeds the passages that have no vector yet."""

    phase: str = "starting"           # scanning, keywords, meaning, pictures, saving, done
    files_total: int = 0              # files seen by the scan
    files_todo: int = 0               # new or changed ones, the real work
    files_done: int = 0
    bytes_todo: int = 0
    bytes_done: int = 0
    chunks_added: int = 0
    chunks_embedded: int = 0          # model work in this run, both phases
    errors: int = 0
    current: str = ""
    started: float = field(default_factory=time.monotonic)
    indexing_started: float = 0.0     # elapsed() when the keywords phase began
    keywords_seconds: float | None = None  # how long the keywords phase took, once it ended
    vectors_todo: int = 0             # passages without a vector when the meaning phase began
    vectors_done: int = 0             # of those, embedded so far
    chunks_total: int = 0             # passages in the library (the meaning phase's denominator)
    meaning_started: float = 0.0      # elapsed() when the meaning phase began
    pictures_todo: int = 0            # files whose pictures the OCR pass reads
    pictures_done: int = 0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def eta_s(self) -> float | None:
        """Seconds left in the current phase, once there is a rate to go by."""
        if self.phase == "meaning":
            return self.meaning_eta_s
        if self.phase != "keywords" or self.bytes_done <= 0 or self.bytes_todo <= 0:
            return None
        rate = self.bytes_done / max(self.elapsed - self.indexing_started, 1e-6)
        return max(0.0, (self.bytes_todo - self.bytes_done) / rate)

    @property
    def meaning_eta_s(self) -> float | None:
        if self.phase != "meaning" or self.vectors_done <= 0:
            return None
        rate = self.vectors_done / max(self.elapsed - self.meaning_started, 1e-6)
        return max(0.0, (self.vectors_todo - self.vectors_done) / rate)

    @property
    def meaning_share(self) -> float:
        """Share of the library's passages searchable by meaning (1.0 for an empty library)."""
        if self.chunks_total <= 0:
            return 1.0
        missing = max(0, self.vectors_todo - self.vectors_done)
        return max(0.0, min(1.0, 1.0 - missing / self.chunks_total))


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
    files_read_by_ocr: int = 0     # files whose pictures the OCR pass read
    keywords_seconds: float = 0.0  # until every new or changed file was searchable by keyword
    problems: list[tuple[str, str]] = field(default_factory=list)
    missing_roots: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class _Batch:
    changes: list[FileChange] = field(default_factory=list)
    digests: set[bytes] = field(default_factory=set)  # of the new passages: which lack a vector?
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

    # -- the run -------------------------------------------------------------------------------

    def run(self, roots: list[str], progress: Callable[[Progress], None] | None = None,
            cancel: threading.Event | None = None, checkpoint: Callable[[], None] | None = None,
            changed: bool = False, save: bool = True) -> IndexReport:
        """Index `roots` (folders or files). With `changed`, they are paths a watcher reported: one that
        no longer exists is gone (its records leave), where a missing root is otherwise kept as it was.
        `checkpoint` is called between files: it may raise Interrupted (cancel) or Preempted (commit
        what is done, then stop). `save=False` leaves saving the ANN file to the caller (a service
        saves on a timer, not after every small run) and keeps the vector indexes current batch by
        batch (the service's searches use them); with `save`, the meaning phase builds them once at
        its end, after the model's memory is handed back (the HNSW is the biggest part of a run's
        peak: it and the model never need to be resident together)."""
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
        prog.phase, prog.indexing_started = "keywords", prog.elapsed
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
        try:
            try:
                for seen_file in self._prepared(todo):
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
                    if (len(batch.digests) >= BATCH_CHUNKS or len(batch) >= BATCH_FILES
                            or time.monotonic() - last_commit > BATCH_SECONDS):
                        self._commit(batch, report, prog)
                        batch = _Batch()
                        last_commit = time.monotonic()
                        if save and last_commit - last_save > ANN_SAVE_SECONDS:
                            self.derived.save(file_meanings=False)
                            last_save = time.monotonic()
            except Preempted:
                # More urgent work waits: what was read is kept (keyword search has it); passages
                # without a vector wait for the meaning phase of a later run.
                self._commit(batch, report, prog)
                raise
            self._commit(batch, report, prog)
            report.keywords_seconds = prog.keywords_seconds = time.monotonic() - t0
            prog.current = ""
            notify(prog, force=True)
            if self.store.get_meta("model") != self.model_version or self.store.get_meta("vectors_pending"):
                self.embed_missing(cancel, report, checkpoint, prog, notify, vectors_at_end=save)
            if self.read_pictures(cancel, report, checkpoint, prog, notify) and self.store.get_meta("vectors_pending"):
                self.embed_missing(cancel, report, checkpoint, prog, notify, vectors_at_end=save)
        finally:
            # Whatever was committed stays; the saved ANN catches up from the store next time if we die here.
            if save and (self.derived.ann.loaded or self.derived.binary.loaded):
                prog.phase = "saving"
                notify(prog, force=True)
                self.derived.save(file_meanings=False)
        if save:   # a run that ends well (a library from before they were saved gets them once)
            self.derived.save_file_meanings()
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
        family_id, _, ocr_id = rec.extractor.partition("+")   # "pdf/2+tesseract/1": its pictures were read
        if ocr_id and ocr_id != ocr.VERSION:
            return True
        if rec.status in ("ok", "empty"):
            return rec.chunking != self.chunking_version or family_id != extract.extractor_id(path)
        # A failure to read (no extractor recorded) is tried again; a failure of the content only
        # once the extractor changes (the size+mtime check above catches a changed file).
        return rec.status == "error" and family_id != extract.extractor_id(path)

    # -- one file ------------------------------------------------------------------------------

    _ready: tuple[SeenFile, isolate.Reply] | None = None  # the pool's outcome for the file in hand

    def _prepared(self, todo: list[SeenFile]) -> Iterator[SeenFile]:
        """`todo` in order, each file read, hashed, extracted and chunked by the extraction pool (a worker
        per core, each file within its time and memory limits) a bounded number of files ahead of the
        one yielded, which _process then takes. Stopping early stops the workers' unwanted files."""
        shared = (prepare.portable(self.chunker.get()), self.chunking_version) if todo else None
        for f, reply in isolate.shared().map(prepare.prepare_file, todo, self._plan, shared):
            self._ready = (f, reply)
            yield f
        self._ready = None

    def _plan(self, f: SeenFile) -> isolate.Job | isolate.Reply:
        """A file's job for the pool, or its outcome when no byte needs reading."""
        family = extract.family_for(f.path)
        if family is None:
            return ("unknown",)
        limit = extract.size_limit(family, self.max_file_bytes)
        if f.size > limit:  # refused by its size before a byte is read
            return "unsupported", reading.too_large(limit).reason
        old = self.store.get_file(f.path)
        # Perhaps only touched: the worker hashes it first, and parses it only if the bytes changed.
        same = old is not None and old.sha256 and old.size == f.size and not self._outdated(old, f.path)
        return isolate.Job((f.path, family, limit, old.sha256 if same else None), f.size)

    def _process(self, f: SeenFile, batch: _Batch, report: IndexReport) -> None:
        """The pool's outcome for `f` (the file _prepared just yielded) into the batch."""
        ready, self._ready = self._ready, None
        if ready is None or ready[0] is not f:
            raise RuntimeError("Indexer._process takes the files Indexer._prepared yields, in turn")
        rec = FileRecord(path=f.path, size=f.size, mtime_ns=f.mtime_ns, indexed_at=time.time())
        if ready[1] == ("unknown",):
            rec.status, rec.reason = "unsupported", "not a file type Seekwise reads"
            report.files_skipped += 1
            batch.changes.append(FileChange(rec))
            return
        try:
            read = self._read(f, ready[1], rec, batch, report)
        except extract.Unsupported as exc:
            self._fail(rec, "skipped", exc.reason, batch, report)
            return
        except extract.ExtractionError as exc:
            if self._keep_last_good(f, exc, batch, report):
                return
            rec.extractor = "" if exc.retry else extract.extractor_id(f.path)
            self._fail(rec, "error", exc.reason, batch, report)
            return
        if read is None:
            return
        doc, new_chunks = read
        rec.kind, rec.extractor, rec.chunking = doc.kind, doc.extractor, self.chunking_version
        rec.status = "ok" if new_chunks else "empty"
        rec.reason = "" if new_chunks else "no text in this file"
        rec.awaits_ocr = len(doc.ocr_pages)
        if rec.awaits_ocr and not new_chunks:
            rec.reason = self.ocr_unavailable() or ocr.WAITING
        for ch in new_chunks:
            batch.digests.add(ch.digest)
        batch.changes.append(FileChange(rec, new_chunks))
        report.files_indexed += 1

    def _read(self, f: SeenFile, reply: isolate.Reply, rec: FileRecord, batch: _Batch,
              report: IndexReport) -> tuple[extract.Document, list[NewChunk]] | None:
        """The file's Document and chunks from the worker's reply, or None when its content is what we
        hold already (only its mtime moved). Raises Unsupported or ExtractionError with the reason."""
        if reply[0] == "touched":
            _, rec.sha256, rec.size = reply
            old = self.store.get_file(f.path)
            if old and self._touched(old, rec, f, batch, report):
                return None
            raise extract.ExtractionError("changed while being read", retry=True)  # its record moved meanwhile
        doc, rec.sha256, rec.size, spans, digests = isolate.unwrap(reply)
        text, size = doc.text, prepare.DIGEST_BYTES
        return doc, [NewChunk(start, end, line, text[start:end], digests[i * size:(i + 1) * size], page)
                     for i, (start, end, line, page) in enumerate(spans)]

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

    def _commit(self, batch: _Batch, report: IndexReport, prog: Progress) -> None:
        """A batch of files into the store and the keyword index; passages whose text was embedded
        before (the vector cache) join the vector indexes at once, the rest in the meaning phase."""
        if not len(batch):
            return
        missing = self.store.missing_vectors(self.model_version, batch.digests) if batch.digests else set()
        # The flag says "some chunks may lack vectors": set here, cleared by embed_missing once none do.
        result = self.store.commit(batch.changes, batch.removed, {}, self.model_version,
                                   touched=batch.touched, vectors_pending=True if missing else None)
        report.chunks_added += len(result.added)
        prog.chunks_added += len(result.added)
        if any(change.record.awaits_ocr for change in batch.changes) and not self.store.get_meta("ocr_pending"):
            self.store.put_meta("ocr_pending", True)   # cleared by read_pictures once none waits
        self.derived.after_commit(result, [ch.text for change in batch.changes for ch in change.chunks])

    # -- pictures (OCR) ------------------------------------------------------------------------

    def ocr_unavailable(self) -> str | None:
        return ocr.unavailable(self.rules.skip_families if self.rules is not None else ())

    def read_pictures(self, cancel: threading.Event, report: IndexReport,
                      checkpoint: Callable[[], None] | None = None, prog: Progress | None = None,
                      notify: Callable[..., None] | None = None) -> bool:
        """The OCR pass: each file with pages (or a picture) only OCR can read is read again with them,
        the most recently modified first, in the extraction pool; its passages replace the ones its text
        layer gave. A file changed since is left to the next run. True if any file was read."""
        if not self.store.get_meta("ocr_pending") or self.ocr_unavailable():
            return False
        files = sorted((rec for rec in self.store.iter_files() if rec.awaits_ocr),
                       key=lambda rec: (-rec.mtime_ns, rec.path))
        prog = prog or Progress()
        notify = notify or (lambda *_a, **_k: None)
        prog.phase, prog.current, prog.pictures_todo, prog.pictures_done = "pictures", "", len(files), 0
        notify(prog, force=True)
        shared = (prepare.portable(self.chunker.get()), self.chunking_version)
        batch, read, last_commit = _Batch(), 0, time.monotonic()
        left = 0
        try:
            for rec, reply in isolate.shared().map(prepare.ocr_file, files, self._plan_ocr, shared):
                if cancel.is_set():
                    raise Interrupted()
                if checkpoint is not None:
                    checkpoint()
                prog.current = rec.path
                if reply == ("changed",) or (reply[0] == "error" and bool(reply[2:] and reply[2])):
                    left += 1   # changed since, or not readable just now: the next run
                else:
                    read += self._take_pictures(rec, reply, batch, report)
                prog.pictures_done += 1
                notify(prog)
                if len(batch) and time.monotonic() - last_commit > BATCH_SECONDS:
                    self._commit(batch, report, prog)
                    batch, last_commit = _Batch(), time.monotonic()
        except Preempted:
            self._commit(batch, report, prog)
            raise
        self._commit(batch, report, prog)
        if not left:
            self.store.put_meta("ocr_pending", False)
        report.files_read_by_ocr += read
        return read > 0

    def _plan_ocr(self, rec: FileRecord) -> isolate.Job | isolate.Reply:
        family = extract.family_for(rec.path)
        if family is None or family.read_with_ocr is None or not rec.sha256:
            return ("changed",)
        limit = extract.size_limit(family, self.max_file_bytes)
        return isolate.Job((rec.path, family, limit, rec.sha256), rec.size, seconds=rec.awaits_ocr * OCR_PAGE_SECONDS)

    def _take_pictures(self, old: FileRecord, reply: isolate.Reply, batch: _Batch, report: IndexReport) -> bool:
        """The OCR pass's reply for a file into the batch: its new passages (True), or why its pictures
        stay unread (the file keeps what its text layer gave, and is not tried again until it changes)."""
        rec = replace(old, awaits_ocr=0, indexed_at=time.time(), chunk_ids=[])
        try:
            doc, rec.sha256, rec.size, spans, digests = isolate.unwrap(reply)
        except extract.ExtractionError as exc:
            reason = f"could not read the text in its pictures: {exc.reason}"
            batch.touched.append(replace(old, awaits_ocr=0, reason=reason if old.status != "ok" else old.reason,
                                         status="error" if old.status != "ok" else old.status))
            report.files_failed += 1
            report.problems.append((old.path, reason))
            return False
        text, size = doc.text, prepare.DIGEST_BYTES
        chunks = [NewChunk(start, end, line, text[start:end], digests[i * size:(i + 1) * size], page)
                  for i, (start, end, line, page) in enumerate(spans)]
        rec.kind, rec.extractor = doc.kind, doc.extractor
        rec.status = "ok" if chunks else "empty"
        rec.reason = "" if chunks else ocr.NOTHING_FOUND
        batch.digests.update(ch.digest for ch in chunks)
        batch.changes.append(FileChange(rec, chunks))
        return True

    def missing_in_order(self) -> list[int]:
        """Ids of the passages with no vector for this model, the most recently modified file's first
        (the one just saved, then what the person worked on lately, then the rest)."""
        ids, digests = self.store.chunk_digests()
        missing = self.store.missing_vectors(self.model_version, digests)
        if not missing:
            return []
        lacking = {int(cid) for cid, d in zip(ids, digests) if d in missing}
        files = sorted(self.store.iter_files(), key=lambda rec: (-rec.mtime_ns, rec.path))
        return [cid for rec in files for cid in rec.chunk_ids if cid in lacking]

    def embed_missing(self, cancel: threading.Event, report: IndexReport,
                      checkpoint: Callable[[], None] | None = None, prog: Progress | None = None,
                      notify: Callable[..., None] | None = None, vectors_at_end: bool = False) -> None:
        """The meaning phase: embed every passage without a vector (new files, a model switch, a run
        stopped before it got here), a batch per commit. `checkpoint` may stop it between batches;
        what is committed stays and the next run goes on from there. `vectors_at_end`: the vector
        indexes catch up from the store once the last batch is in, not batch by batch (a search in
        this process meanwhile catches them up itself; after a stop, the next opener does)."""
        prog = prog or Progress()
        notify = notify or (lambda *_a, **_k: None)
        todo = self.missing_in_order()
        prog.phase, prog.current = "meaning", ""
        prog.chunks_total, prog.vectors_todo, prog.vectors_done = self.store.counts()["chunks"], len(todo), 0
        prog.meaning_started = prog.elapsed
        notify(prog, force=True)
        if todo:
            log.info("embedding %d passages that have no vector for %s", len(todo), self.model_version)
        if len(todo) >= RELEASE_WORKERS_CHUNKS:   # a long phase: an idle extraction worker waits for nothing
            isolate.shared().release_idle()
        last_rate = time.monotonic()
        start = 0
        while start < len(todo):
            if cancel.is_set():
                raise Interrupted()
            if checkpoint is not None:
                checkpoint()
            size = self.batch_misses      # read per batch: a service may change speed meanwhile
            records = self.store.get_chunks(todo[start:start + size])
            start += size
            texts = {c.digest: c.text for c in records}   # identical passages: one model call
            missing = self.store.missing_vectors(self.model_version, texts)
            digests = [d for d in texts if d in missing]   # in the order asked for
            if digests:
                vecs = self.encoder.get().embed_documents([texts[d] for d in digests])
                trim_heap()   # ONNX Runtime's buffers (no arena) go back to the system between batches
                result = self.store.commit([], [], dict(zip(digests, vecs)), self.model_version)
                report.chunks_embedded += len(digests)
                prog.chunks_embedded += len(digests)
                self.derived.after_new_vectors([(c.id, c.digest) for c in records], result.generation,
                                               vector_indexes=not vectors_at_end)
            prog.vectors_done = min(start, len(todo))
            notify(prog)
            now = time.monotonic()
            if now - last_rate > RATE_EVERY_S:
                last_rate = now
                self.store.put_meta("embed_rate", prog.vectors_done / max(prog.elapsed - prog.meaning_started, 1e-6))
        if todo:
            self.store.put_meta("embed_rate", len(todo) / max(prog.elapsed - prog.meaning_started, 1e-6))
        self.store.put_meta("vectors_pending", False)   # every vector is in the store; the indexes derive
        if todo and vectors_at_end:
            # The model's memory goes before the graph's comes (a later search loads it again): the two
            # together made this step the run's peak.
            del todo, records, texts
            self.encoder.discard()
            trim_heap()
            self.derived.build_vector_indexes()


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
