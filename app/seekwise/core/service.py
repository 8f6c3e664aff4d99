"""The background indexer both front ends drive: `seekwise watch` in the foreground, the GUI in a thread.

It is also the one writer API of a front end: folders, exclusions, clear and rebuild go through it
whether or not its worker runs yet (before `start`, they are done at once on the calling thread).

One worker thread owns the library's writer lock and does all writing. Work comes in two queues:
paths a watcher just reported (a save the user is waiting to find) and the backlog (full scans of
roots: the catch-up at start, rescans after lost events). A long backlog run is preempted when an
edit arrives: it commits what it has, the edit is indexed, and the scan starts again, which costs
little because every file it already did is unchanged by size and mtime.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, replace

from seekwise.core.embedding import Encoder
from seekwise.core.errors import LibraryLocked, Preempted, SeekwiseError
from seekwise.core.ignore import IgnoreRules
from seekwise.core.indexer import IndexReport, Indexer, Progress
from seekwise.core.lazy import Lazy
from seekwise.core.library import Library
from seekwise.core.strenum import StrEnum
from seekwise.core.under import is_under

log = logging.getLogger(__name__)

PREEMPT_AFTER_S = 0.5        # a backlog run younger than this finishes its file before an edit jumps in
LOCK_RETRY_S = 5.0           # how often a service that found another writer tries again
PUBLISH_EVERY_S = 0.25       # progress events at most this often (final states always)
JOB_TIMEOUT_S = 600.0        # how long clear/rebuild wait for the worker to take them
SAVE_EVERY_S = 120.0         # the ANN file, while the service runs
BACKGROUND_BATCH = 32        # chunks embedded per commit: what an edit may wait behind (~1 s on one thread)
FULL_SPEED_BATCH = 256


@dataclass(frozen=True)
class CpuBudget:
    """Background work: few threads at a low priority. Full speed: every core (what `index` uses).
    A niced thread still gets a whole idle CPU; it only yields when the user's programs want it."""

    threads: int = 1
    nice: int = 10

    @staticmethod
    def full_speed() -> "CpuBudget":
        return CpuBudget(threads=os.cpu_count() or 1, nice=0)


class ServiceStatus(StrEnum):
    """What the worker is doing; the front ends ask its properties rather than spell its words."""

    STARTING = "starting"
    SCANNING = "scanning"
    INDEXING = "indexing"
    IDLE = "idle"
    PAUSED = "paused"
    WAITING = "waiting"      # another writer holds the library
    STOPPED = "stopped"
    ERROR = "error"

    @property
    def working(self) -> bool:
        """A run is under way (scanning or indexing)."""
        return self in (ServiceStatus.SCANNING, ServiceStatus.INDEXING)

    @property
    def busy(self) -> bool:
        """Working or about to: the counts move, the icon shows activity."""
        return self.working or self is ServiceStatus.STARTING

    @property
    def settled(self) -> bool:
        """Idle or paused: a run's counts are final."""
        return self in (ServiceStatus.IDLE, ServiceStatus.PAUSED)

    @property
    def is_problem(self) -> bool:
        """The worker cannot index (an error, or another writer); its message says why."""
        return self in (ServiceStatus.ERROR, ServiceStatus.WAITING)

    @property
    def can_pause(self) -> bool:
        """Pausing means something: the worker neither stopped nor waits for another writer."""
        return self not in (ServiceStatus.STOPPED, ServiceStatus.WAITING)


@dataclass(frozen=True)
class ServiceState:
    """What a front end shows; published to subscribers from the worker thread (a GUI re-posts it)."""

    state: ServiceStatus = ServiceStatus.STARTING   # a word ("idle") given is taken as its member
    message: str = ""
    files_done: int = 0
    files_todo: int = 0
    queued: int = 0              # changed paths waiting
    backlog: int = 0             # roots waiting for a full scan
    chunks_per_s: float = 0.0
    eta_s: float | None = None
    current: str = ""
    errors: int = 0
    full_speed: bool = False
    last_report: IndexReport | None = None
    indexed_at: float = 0.0      # time.time() of the last commit of changed paths
    phase: str = ""              # while indexing: keywords (files into the keyword index), then meaning
    vectors_done: int = 0        # meaning phase: passages embedded in this run, of
    vectors_todo: int = 0        # those that had no vector when it began
    meaning_share: float | None = None   # meaning phase: share of the library's passages with a vector
    meaning_eta_s: float | None = None   # meaning phase: seconds until every passage has one

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", ServiceStatus(self.state))


Listener = Callable[[ServiceState], None]


class IndexService:
    """Start, stop, pause, resume, ask for full speed, feed paths; subscribe to progress. Thread-safe."""

    def __init__(self, library: Library, *, watch: bool = True, budget: CpuBudget | None = None,
                 debounce_s: float = 0.5, watcher_factory: Callable[..., object] | None = None) -> None:
        self.library = library
        self.watch = watch
        self.budget = budget or CpuBudget()
        self.debounce_s = debounce_s
        self._watcher_factory = watcher_factory
        self._watcher = None
        self._cond = threading.Condition()
        self._urgent: dict[str, None] = {}       # ordered set of paths
        self._backlog: dict[str, None] = {}      # roots / folders to scan
        self._jobs: list[tuple[Callable[[Library], object], Future]] = []  # run_exclusive, ahead of all
        self._paused = False
        self._stopping = False
        self._full_speed = False
        self._run_started = 0.0
        self._listeners: list[Listener] = []
        self._state = ServiceState()
        self._last_publish = 0.0
        self._thread: threading.Thread | None = None
        self._encoders: dict[bool, Lazy[Encoder]] = {}
        self._has_lock = False
        self._last_save = time.monotonic()

    # -- control (any thread) ------------------------------------------------------------------

    def start(self, catch_up: bool = True) -> "IndexService":
        """Begin: a catch-up scan of every root (what changed while we were not running), then watch."""
        if catch_up:
            self.rescan()
        self._thread = threading.Thread(target=self._work, name="seekwise-indexer", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 30.0) -> None:
        """Commit what is in hand and stop; idempotent."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._stop_watching()

    def __enter__(self) -> "IndexService":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._cond.notify_all()
        self._publish(state=ServiceStatus.PAUSED, message="indexing paused", force=True)

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    def set_full_speed(self, on: bool) -> None:
        """Every core, from the next batch on (the user asked, or the machine is plugged in and idle)."""
        with self._cond:
            self._full_speed = on
        self._publish(full_speed=on, force=True)

    def changed(self, paths: Iterable[str]) -> None:
        """Paths that changed (created, modified, deleted): indexed before any backlog."""
        with self._cond:
            for path in paths:
                self._urgent[os.path.abspath(path)] = None
            self._cond.notify_all()

    def rescan(self, folders: Iterable[str] | None = None) -> None:
        """Queue a full scan of these folders (default: every root) behind the changed paths."""
        with self._cond:
            for folder in (self.library.roots() if folders is None else folders):
                self._backlog[os.path.abspath(folder)] = None
            self._cond.notify_all()

    def add_root(self, folder: str) -> str:
        root = self.library.add_root(folder)
        self.rescan([root])
        self._restart_watcher()
        return root

    def remove_root(self, folder: str) -> None:
        """Forget a folder: its files leave the library (done by the worker, which holds the lock)."""
        if not self.running:
            self.library.remove_root(folder)
            return
        root = self.library.drop_root(folder)
        with self._cond:
            self._backlog.pop(root, None)
        self.changed([root])  # no longer under any root: the worker forgets its records
        self._restart_watcher()

    def set_ignore(self, rules: IgnoreRules) -> None:
        """New exclusions or file types: the watcher filters by them and every root is scanned again, so
        what is now left out leaves the library and what is let in joins it. Slow-ish: not on a GUI thread."""
        self.library.ignore = rules
        self._restart_watcher()
        self.rescan()

    def clear(self, timeout: float = JOB_TIMEOUT_S) -> None:
        """Forget every folder and everything indexed (the files themselves are untouched)."""
        self._exclusive(Library.clear, timeout)

    def rebuild(self, timeout: float = JOB_TIMEOUT_S) -> None:
        """Re-read every file into fresh indexes; nothing is embedded twice (the vector cache stays).
        A running worker re-reads them in the background; before `start`, it is done here and now."""
        self._exclusive(Library.rebuild, timeout)
        if self.running:
            self.rescan()
        else:
            self.library.index()

    def _exclusive(self, fn: Callable[[Library], object], timeout: float) -> object:
        return self.run_exclusive(fn).result(timeout) if self.running else fn(self.library)

    @property
    def running(self) -> bool:
        """The worker is up and takes the writes (until it has stopped: never two writers in one
        process); before `start` and after `stop` they happen in place."""
        return self._thread is not None and self._thread.is_alive()

    def run_exclusive(self, fn: Callable[[Library], object]) -> Future:
        """Run fn(library) in the worker, holding the writer lock, between runs (a running one is
        preempted); e.g. Library.clear or Library.rebuild. Runs even while paused; cancelled at stop."""
        future: Future = Future()
        with self._cond:
            self._jobs.append((fn, future))
            self._cond.notify_all()
        return future

    def _run_jobs(self) -> bool:
        with self._cond:
            jobs, self._jobs = self._jobs, []
            if jobs:  # busy from the moment the work leaves the queue: wait_idle must not see a gap
                self._publish_locked(state=ServiceStatus.INDEXING, message="updating the library", force=True)
        for fn, future in jobs:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(self.library))
                except BaseException as exc:  # handed to whoever waits on the future
                    future.set_exception(exc)
        return bool(jobs)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Called from the worker thread on every progress step; returns the unsubscribe function."""
        self._listeners.append(listener)
        listener(self._state)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def state(self) -> ServiceState:
        with self._cond:
            return replace(self._state, queued=len(self._urgent), backlog=len(self._backlog))

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """True once nothing is queued and the worker is idle (tests, `index --watch` scripts)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cond:
                done = self._state.state in (ServiceStatus.IDLE, ServiceStatus.STOPPED)
                if not self._urgent and not self._backlog and done:
                    return True
            time.sleep(0.02)
        return False

    # -- watching ------------------------------------------------------------------------------

    def _start_watching(self) -> None:
        if not self.watch or self._watcher is not None or self._stopping:
            return  # (stopping: a root added while the service stops must not leave a watcher running)
        factory = self._watcher_factory
        if factory is None:
            from seekwise.core.watcher import Watcher
            factory = Watcher
        try:
            watcher = factory(self.library.roots(), self._on_batch, ignore=self.library.ignore,
                              debounce_s=self.debounce_s)
            watcher.start()
        except Exception as exc:  # never lose indexing for want of a watcher: periodic rescans remain
            log.exception("cannot watch the folders")
            self._publish(message=f"not watching for changes: {exc}", force=True)
            return
        self._watcher = watcher

    def _stop_watching(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    def _restart_watcher(self) -> None:
        if self._watcher is not None:
            self._stop_watching()
            self._start_watching()

    def watcher_problems(self) -> list[str]:
        return list(self._watcher.status()) if self._watcher is not None else []

    def _on_batch(self, batch) -> None:  # noqa: ANN001 - a watcher.ChangeBatch
        paths = set(batch.changed)
        for src, dst in batch.moved:
            paths.update((src, dst))  # the destination's chunks come from the vector cache: no model time
        if paths:
            self.changed(sorted(paths))
        if batch.rescan:
            self.rescan(sorted(batch.rescan))

    # -- the worker ----------------------------------------------------------------------------

    def _work(self) -> None:
        self._lower_priority()
        try:
            while True:
                with self._cond:
                    while not self._stopping and not self._jobs and (
                            self._paused or not (self._urgent or self._backlog)):
                        if not self._paused:
                            self._publish_locked(state=ServiceStatus.IDLE, current="", message="", force=True)
                        self._cond.wait(1.0)
                    if self._stopping:
                        break
                if not self._take_lock():
                    continue
                if self._run_jobs():
                    continue
                self._start_watching()
                self._run_next()
        except Exception as exc:  # the worker must say why it stopped, not vanish
            log.exception("the indexing service stopped")
            self._publish(state=ServiceStatus.ERROR, message=f"indexing stopped: {exc}", force=True)
        finally:
            if self._has_lock:
                try:
                    self._save_now_and_then(force=True)
                except Exception:
                    log.exception("saving the search index on the way out")
            self._release_lock()
            with self._cond:
                jobs, self._jobs = self._jobs, []
            for _, future in jobs:
                future.cancel()
            self._publish(state=ServiceStatus.STOPPED, current="", force=True)

    def _take_lock(self) -> bool:
        if self._has_lock:
            return True
        try:
            self.library.acquire_writer()
        except LibraryLocked as exc:
            self._publish(state=ServiceStatus.WAITING, message=str(exc), force=True)
            with self._cond:
                self._cond.wait(LOCK_RETRY_S)
            return False
        self._has_lock = True
        return True

    def _release_lock(self) -> None:
        if self._has_lock:
            self._has_lock = False
            self.library.release_writer()

    def _run_next(self) -> None:
        with self._cond:
            if self._urgent:
                paths, self._urgent = list(self._urgent), {}
                urgent = True
            else:
                paths, urgent = list(self._backlog), False
            self._run_started = time.monotonic()
            self._publish_locked(state=ServiceStatus.SCANNING, force=True)  # not idle, before the indexer says so
        indexer = self.library.make_indexer(self._encoder())
        indexer.batch_misses = FULL_SPEED_BATCH if self._full_speed else BACKGROUND_BATCH
        roots = self.library.roots()
        targets = [p for p in paths if _under_any(p, roots)]
        for folder in (p for p in paths if not _under_any(p, roots)):
            self.library.forget(folder)  # a root was removed: its records leave
        try:
            report = indexer.run(targets, self._progress, checkpoint=self._checkpoint(indexer),
                                 changed=urgent, save=False) if targets else IndexReport()
        except Preempted:
            self._save_now_and_then()
            if urgent:  # the rest of this batch waits behind what arrived since (files done are cheap to re-check)
                self.changed(paths)
            return
        except SeekwiseError as exc:
            self._publish(state=ServiceStatus.ERROR, message=str(exc), force=True)
            with self._cond:  # a full disk or a broken store: do not spin; retry later
                self._cond.wait(LOCK_RETRY_S)
            if urgent:
                self.changed(paths)
            return
        self.library.finish_run()
        self._save_now_and_then()
        with self._cond:
            if not urgent:
                for p in paths:
                    self._backlog.pop(p, None)
        self._publish(last_report=report, indexed_at=time.time() if urgent else self._state.indexed_at,
                      errors=self._state.errors + report.files_failed, force=True)

    def _save_now_and_then(self, force: bool = False) -> None:
        """The ANN file on a timer, not after every edit: a restart catches up from the store anyway."""
        now = time.monotonic()
        if force or now - self._last_save > SAVE_EVERY_S:
            self._last_save = now
            self.library.derived.save()

    def _checkpoint(self, indexer: Indexer) -> Callable[[], None]:
        def check() -> None:
            with self._cond:
                if self._stopping or self._paused or self._jobs:
                    raise Preempted()
                # Full speed on or off (the user, or the session went idle or came back): from the
                # next batch on, not the next run (the meaning phase of a library is one long run).
                indexer.encoder = self._encoder()
                indexer.batch_misses = FULL_SPEED_BATCH if self._full_speed else BACKGROUND_BATCH
                # Newer edits jump ahead of a backlog and of an older, long batch of changes (a
                # checkout of thousands of files): what is done is committed, the rest re-queued.
                if self._urgent and time.monotonic() - self._run_started > PREEMPT_AFTER_S:
                    raise Preempted()
        return check

    def _encoder(self) -> Lazy[Encoder]:
        """Its own session (its own thread count); built lazily in this thread, so its threads
        inherit this thread's low priority."""
        full = self._full_speed
        if full not in self._encoders:
            threads = (CpuBudget.full_speed() if full else self.budget).threads
            manifest, record = self.library.manifest, self.library.paths.verified_models
            self._encoders[full] = Lazy(lambda: Encoder(manifest, threads=threads, record=record))
        return self._encoders[full]

    def _lower_priority(self) -> None:
        if self.budget.nice <= 0 or not hasattr(os, "setpriority"):
            return
        try:  # Linux: per thread; the threads this one starts (onnxruntime's pool) inherit it
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + self.budget.nice)
        except OSError as exc:
            log.info("cannot lower the indexer's priority: %s", exc)

    # -- progress ------------------------------------------------------------------------------

    def _progress(self, prog: Progress) -> None:
        meaning = prog.phase == "meaning"
        working = prog.phase in ("keywords", "meaning", "pictures")
        elapsed = max(prog.elapsed - (prog.meaning_started if meaning else prog.indexing_started), 1e-6)
        self._publish(state=ServiceStatus.SCANNING if prog.phase == "scanning" else ServiceStatus.INDEXING,
                      phase=prog.phase if working else "",
                      files_done=prog.pictures_done if prog.phase == "pictures" else prog.files_done,
                      files_todo=prog.pictures_todo if prog.phase == "pictures" else prog.files_todo,
                      current=prog.current,
                      chunks_per_s=prog.vectors_done / elapsed if meaning else 0.0,
                      eta_s=prog.eta_s, vectors_done=prog.vectors_done if meaning else 0,
                      vectors_todo=prog.vectors_todo if meaning else 0,
                      meaning_share=prog.meaning_share if meaning else None,
                      meaning_eta_s=prog.meaning_eta_s if meaning else None, force=not working)

    def _publish(self, force: bool = False, **changes: object) -> None:
        with self._cond:
            self._publish_locked(force=force, **changes)

    def _publish_locked(self, force: bool = False, **changes: object) -> None:
        # a phase and its figures belong to a run
        if changes.get("state", ServiceStatus.INDEXING) != ServiceStatus.INDEXING:
            changes.update(phase="", vectors_done=0, vectors_todo=0, meaning_share=None, meaning_eta_s=None)
        new = replace(self._state, **{"queued": len(self._urgent), "backlog": len(self._backlog),
                                      "full_speed": self._full_speed, **changes})
        if new == self._state:
            return
        self._state = new
        now = time.monotonic()
        if not force and now - self._last_publish < PUBLISH_EVERY_S:
            return
        self._last_publish = now
        for listener in list(self._listeners):
            try:
                listener(new)
            except Exception:  # a front end's bug must not stop indexing
                log.exception("a progress listener failed")


def _under_any(path: str, roots: list[str]) -> bool:
    return any(is_under(path, r) for r in roots)
