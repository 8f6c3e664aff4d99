"""Watch the library's folders; hand the indexer one debounced, coalesced batch of changes at a time.

One watchdog observer, one recursive watch per root. Events are filtered (ignore rules, see
core/ignore.py) and folded (core/changes.py) as they arrive; a single worker thread delivers a
batch once the folders have been quiet for `debounce_s`, or after `max_latency_s` of steady
activity, so a busy disk is still indexed while it churns.

What the kernel cannot tell us reliably is handled here too:

- inotify's event queue overflowed (IN_Q_OVERFLOW): events were lost, so every root is
  rescanned. watchdog 7 only logs this, so our inotify instance (core/inotify.py) reports it.
- the per-user watch limit (fs.inotify.max_user_watches) was reached: the root cannot be
  watched, or (watchdog skips sub-folders it cannot watch without a word) only partly. We
  learn it from the scheduling error, or by adding one throwaway watch afterwards and after
  new folders appear. Such a root is rescanned now and every `rescan_every_s`, and watching
  it is retried each time.
- a root disappears (deleted, renamed, a drive unplugged or unmounted): it is reported as not
  available and nothing under it is reported changed, so the index keeps its files. A cheap
  check every `poll_s` (a stat of each root, and of the mount points it lived under) notices
  when it is back: watched again and rescanned. A root missing at start is treated the same.

Watching starts at start(): a root available then is not rescanned by us (the caller's own
catch-up scan covers what happened before), while one that appears later is.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.api import BaseObserver, ObservedWatch

from seekwise.core import inotify
from seekwise.core.changes import ChangeBatch, Coalescer
from seekwise.core.gitignore import GITIGNORE
from seekwise.core.ignore import DEFAULT_RULES, IgnoreRules, RootMatcher
from seekwise.core.under import is_under

log = logging.getLogger(__name__)

__all__ = ["ChangeBatch", "IgnoreRules", "Watcher"]

WATCHED, LIMITED, MISSING = "watched", "limited", "missing"

# watchdog 7 warns, printing its whole watch table, when a folder made by `mkdir -p` is given
# its watch twice (once by its parent's walk, once by its own event): harmless, and noisy.
warnings.filterwarnings("ignore", message="Callback with id", category=RuntimeWarning,
                        module=r"watchdog\.")
NOTICE_S = 300.0  # how long a one-off problem (lost events) stays in status()

_KINDS = frozenset({"created", "closed", "modified", "deleted", "moved"})


def _every(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


# -- roots ----------------------------------------------------------------------------------------

@dataclass
class _Root:
    path: str
    matcher: RootMatcher
    state: str = MISSING
    watch: ObservedWatch | None = None
    identity: tuple[int, int] | None = None  # (st_dev, st_ino) when last watched
    mounts: tuple[str, ...] = ()  # mount points it lived under (a drive's): must stay mounted
    problem: str = ""
    next_retry: float = 0.0  # LIMITED: next periodic rescan and watch retry


@dataclass(frozen=True)
class _Active:
    """What the event thread needs about a root; replaced whole, never changed in place."""

    root: str
    prefix: str
    matcher: RootMatcher
    identity: tuple[int, int] | None
    mounts: tuple[str, ...]


def _normalize(roots: Iterable[str]) -> list[str]:
    """Absolute, without duplicates; a root inside another is watched through the outer one."""
    paths = sorted({os.path.abspath(os.path.expanduser(os.fspath(r))) for r in roots})
    out: list[str] = []
    for p in paths:
        if not any(is_under(p, q) for q in out):
            out.append(p)
    return out


def _mount_points(path: str) -> tuple[str, ...]:
    """The mount points at or above `path` (not "/"): if one stops being mounted, the root is
    gone even though an empty folder of that name may still be there."""
    out = []
    p = path
    while True:
        parent = os.path.dirname(p)
        if parent == p:
            return tuple(out)
        try:
            if os.path.ismount(p):
                out.append(p)
        except OSError:
            pass
        p = parent


def _availability(path: str, mounts: tuple[str, ...]) -> tuple[bool, tuple[int, int] | None]:
    try:
        st = os.stat(path)
    except OSError:
        return False, None
    if not all(os.path.ismount(m) for m in mounts):
        return False, None
    return True, (st.st_dev, st.st_ino)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self._watcher = watcher

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            self._watcher._on_event(event)
        except Exception:  # an exception here would end watchdog's dispatch thread
            log.exception("handling %r", event)


# -- the watcher ----------------------------------------------------------------------------------

class Watcher:
    """Watches `roots` and calls `on_batch(ChangeBatch)` from one worker thread.

    Thread-safe: start, stop, set_roots, status and flush may be called from any thread
    (flush and stop not from inside on_batch). An exception from on_batch is logged and the
    watcher carries on. Changes still pending at stop() are dropped: the next start's catch-up
    scan finds them.
    """

    def __init__(self, roots: Iterable[str], on_batch: Callable[[ChangeBatch], None],
                 ignore: IgnoreRules | None = None, *, debounce_s: float = 0.5,
                 max_latency_s: float = 2.0, poll_s: float = 5.0,
                 rescan_every_s: float = 600.0) -> None:
        self.on_batch = on_batch
        self.rules = ignore if ignore is not None else DEFAULT_RULES
        self.debounce_s = debounce_s
        self.max_latency_s = max(max_latency_s, debounce_s)
        self.poll_s = poll_s
        self.rescan_every_s = rescan_every_s
        self._manage = threading.RLock()  # roots, watches, the observer. Taken before _cond.
        self._cond = threading.Condition()  # pending changes and the worker's wake-ups
        self._roots: dict[str, _Root] = {p: _Root(p, self.rules.matcher(p)) for p in _normalize(roots)}
        self._view: tuple[_Active, ...] = ()
        self._problems: tuple[str, ...] = ()
        self._notices: list[tuple[float, str]] = []
        self._pending = Coalescer()
        self._first_at: float | None = None
        self._last_at = 0.0
        self._check_now = False
        self._dirs_added: set[str] = set()
        self._flush_asked = 0
        self._flush_done = 0
        self._started = False
        self._stopping = False
        self._worker: threading.Thread | None = None
        self._observer: BaseObserver | None = None
        self._observer_error = ""
        self._observer_retry_at = 0.0
        self._full_events = False
        self._handler = _Handler(self)
        # Seam: tests stand in for a full watch table, which the kernel will not let us fake.
        self._probe: Callable[[str], int | None] = inotify.probe_watch_headroom

    # -- public ------------------------------------------------------------------------------

    @property
    def roots(self) -> list[str]:
        with self._manage:
            return list(self._roots)

    def start(self) -> Watcher:
        """Watch every root (this walks their folder trees) and start delivering batches."""
        with self._manage:
            if self._started:
                return self
            with self._cond:
                self._stopping = False
            self._started = True
            self._observer = self._make_observer()
            for root in self._roots.values():
                self._watch(root)
            self._publish()
            self._worker = threading.Thread(target=self._run, name="seekwise-watcher", daemon=True)
            self._worker.start()
        return self

    def stop(self) -> None:
        """Stop watching and join the threads. Idempotent; start() may be called again."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join()
        with self._manage:
            observer, self._observer = self._observer, None
            self._started = False
            self._worker = None
            for root in self._roots.values():
                root.watch = None
        if observer is not None:
            observer.stop()
            if observer.is_alive() and observer is not threading.current_thread():
                observer.join()
        with self._cond:
            self._pending = Coalescer()
            self._first_at = None

    def set_roots(self, roots: Iterable[str]) -> None:
        """Watch these roots instead. Roots added are not rescanned (the caller scans them);
        what was pending under a root removed is dropped."""
        wanted = _normalize(roots)
        with self._manage:
            old = self._roots
            for path, root in old.items():
                if path not in wanted:
                    self._unwatch(root)
                    with self._cond:
                        self._pending.drop_under(path)
            new: dict[str, _Root] = {}
            for path in wanted:
                root = old.get(path)
                if root is None:
                    root = _Root(path, self.rules.matcher(path))
                    if self._started:
                        self._watch(root)
                new[path] = root
            self._roots = new
            self._publish()

    def status(self) -> list[str]:
        """Problems a person should see, in plain words; empty when all is well."""
        now = time.monotonic()
        with self._cond:
            self._notices = [(t, m) for t, m in self._notices if now - t < NOTICE_S]
            notices = [m for _, m in self._notices]
        return list(self._problems) + notices

    def flush(self, timeout: float = 5.0) -> bool:
        """Deliver what is pending now, without waiting for quiet; returns once on_batch has
        returned. Events still on their way from the kernel are not waited for."""
        with self._cond:
            if self._worker is None or self._stopping or threading.current_thread() is self._worker:
                return False
            self._flush_asked += 1
            target = self._flush_asked
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._flush_done >= target or self._stopping, timeout)

    def __enter__(self) -> Watcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- watching (holding _manage) ------------------------------------------------------------

    def _make_observer(self) -> BaseObserver | None:
        try:
            if inotify.AVAILABLE:
                observer: BaseObserver = inotify.InotifyObserver(self._on_overflow)
                self._full_events = True
            else:
                from watchdog.observers import Observer
                observer = Observer()
                self._full_events = False
            observer.start()
        except OSError as exc:
            self._observer_error = inotify.describe_error(exc)
            self._observer_retry_at = time.monotonic() + self.rescan_every_s
            log.warning("cannot watch for changes: %s", self._observer_error)
            return None
        self._observer_error = ""
        return observer

    def _watch(self, root: _Root) -> None:
        """Schedule a watch; leaves the root WATCHED, LIMITED (rescan requested) or MISSING."""
        now = time.monotonic()
        try:
            st = os.stat(root.path)
        except OSError:
            self._set_missing(root)
            return
        root.identity = (st.st_dev, st.st_ino)
        root.mounts = _mount_points(root.path)
        if not stat.S_ISDIR(st.st_mode):
            self._set_limited(root, f"{root.path} is a file, not a folder", now)
            return
        if self._observer is None and self._started and now >= self._observer_retry_at:
            self._observer = self._make_observer()
        if self._observer is None:
            self._set_limited(root, f"cannot watch for changes ({self._observer_error})", now)
            return
        was_limited = root.state == LIMITED
        root.state = WATCHED  # provisional, so events arriving while the tree is walked count
        self._publish()
        try:
            root.watch = self._schedule(root.path)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                self._set_missing(root)
            else:
                self._set_limited(root, inotify.describe_error(exc), now)
            return
        except Exception as exc:  # a watchdog failure must not take scanning down with it
            log.exception("watching %s", root.path)
            self._set_limited(root, f"cannot watch for changes ({exc})", now)
            return
        if self._probe(root.path) == errno.ENOSPC:
            self._set_limited(root, inotify.describe_error(OSError(errno.ENOSPC, "")), now)
            return
        if was_limited:
            log.info("watching %s again", root.path)
        root.state, root.problem = WATCHED, ""

    def _schedule(self, path: str) -> ObservedWatch:
        """Seam: the one call that asks the kernel for watches."""
        assert self._observer is not None
        return self._observer.schedule(self._handler, path, recursive=True,
                                       event_filter=inotify.FULL_EVENTS if self._full_events else None)

    def _unwatch(self, root: _Root) -> None:
        watch, root.watch = root.watch, None
        if watch is not None and self._observer is not None:
            try:
                self._observer.unschedule(watch)
            except (KeyError, ValueError):
                pass
            except Exception:
                log.exception("unscheduling %s", root.path)

    def _set_missing(self, root: _Root) -> None:
        if root.state != MISSING:
            log.warning("%s is not available; its files stay in the index", root.path)
        root.state = MISSING
        root.problem = (f"{root.path} is not available (deleted, renamed, or on a drive that is "
                        f"not connected); its files stay in the index until it is back")
        with self._cond:
            self._pending.drop_under(root.path)

    def _set_limited(self, root: _Root, reason: str, now: float) -> None:
        every = _every(self.rescan_every_s)
        problem = f"{reason}; falling back to periodic rescans of {root.path} every {every}"
        if problem != root.problem:
            log.warning("%s", problem)
        root.state, root.problem = LIMITED, problem
        root.next_retry = now + self.rescan_every_s
        self._request_rescan(root.path)

    def _request_rescan(self, folder: str) -> None:
        with self._cond:
            self._pending.rescan(folder)
            self._touch_locked()

    def _publish(self) -> None:
        """Hand the event thread a fresh view of the roots, longest first."""
        active = [_Active(r.path, r.path if r.path.endswith(os.sep) else r.path + os.sep,
                          r.matcher, r.identity, r.mounts)
                  for r in self._roots.values() if r.state != MISSING]
        self._view = tuple(sorted(active, key=lambda a: len(a.root), reverse=True))
        self._problems = tuple(r.problem for r in self._roots.values() if r.problem)

    # -- periodic checks (worker thread) ---------------------------------------------------------

    def _maintain(self) -> None:
        with self._cond:
            self._check_now = False
            dirs_added, self._dirs_added = self._dirs_added, set()
        with self._manage:
            if not self._started:
                return
            now = time.monotonic()
            probed: int | None | bool = False
            for root in list(self._roots.values()):
                available, identity = _availability(root.path, root.mounts)
                if root.state == MISSING:
                    if available:
                        log.info("%s is available again", root.path)
                        self._watch(root)
                        if root.state != MISSING:
                            self._request_rescan(root.path)
                elif not available:
                    self._unwatch(root)
                    self._set_missing(root)
                elif identity != root.identity:
                    log.info("%s was replaced by another folder; watching it anew", root.path)
                    self._unwatch(root)
                    self._watch(root)
                    self._request_rescan(root.path)
                elif root.state == LIMITED and now >= root.next_retry:
                    self._unwatch(root)
                    self._watch(root)
                    self._request_rescan(root.path)
                elif root.state == WATCHED and root.path in dirs_added:
                    if probed is False:
                        probed = self._probe(root.path)
                    if probed == errno.ENOSPC:  # new folders could not all be watched
                        self._set_limited(root, inotify.describe_error(OSError(errno.ENOSPC, "")), now)
            self._publish()

    # -- the worker ----------------------------------------------------------------------------

    def _run(self) -> None:
        next_poll = time.monotonic() + self.poll_s
        while True:
            batch: ChangeBatch | None = None
            served: int | None = None
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    now = time.monotonic()
                    due = self._due_locked()
                    if self._flush_asked != self._flush_done or now >= due:
                        served = self._flush_asked
                        batch = self._pending.take() if self._pending else None
                        self._first_at = None
                        break
                    if self._check_now or now >= next_poll:
                        break
                    self._cond.wait(min(due, next_poll) - now)
            if served is None:
                try:
                    self._maintain()
                except Exception:
                    log.exception("checking the watched folders")
                next_poll = time.monotonic() + self.poll_s
                continue
            if batch:
                batch = self._without_vanished_roots(batch)
            if batch:
                try:
                    self.on_batch(batch)
                except Exception:
                    log.exception("the change handler failed; watching goes on")
            with self._cond:
                self._flush_done = max(self._flush_done, served)
                self._cond.notify_all()

    def _due_locked(self) -> float:
        if self._first_at is None:
            return float("inf")
        return min(self._last_at + self.debounce_s, self._first_at + self.max_latency_s)

    def _touch_locked(self) -> None:
        now = time.monotonic()
        if self._first_at is None:
            self._first_at = now
            self._cond.notify_all()  # only the first event of a window changes the worker's plan
        self._last_at = now

    def _without_vanished_roots(self, batch: ChangeBatch) -> ChangeBatch:
        """A root that vanished while its events waited (a drive pulled, a folder deleted):
        its files were not deleted by the user, so none of them is reported."""
        gone = [a for a in self._view if not _availability(a.root, a.mounts)[0]]
        if not gone:
            return batch
        with self._cond:
            self._check_now = True
            self._cond.notify_all()
        inside = lambda p: any(is_under(p, a.root) for a in gone)  # noqa: E731
        changed = {p for p in batch.changed if not inside(p)}
        moved = []
        for src, dst in batch.moved:
            if inside(dst):
                continue
            if inside(src):
                changed.add(dst)
            else:
                moved.append((src, dst))
        return ChangeBatch(frozenset(changed), tuple(moved),
                           frozenset(p for p in batch.rescan if not inside(p)))

    # -- events (watchdog's threads) -----------------------------------------------------------

    def _scope(self, view: tuple[_Active, ...], path: str, is_dir: bool) -> _Active | None:
        """The root `path` is under, unless it is ignored or under no root."""
        if not path:
            return None
        for active in view:
            if path.startswith(active.prefix):
                return None if active.matcher.ignored(path, is_dir) else active
        return None

    def _on_event(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        # Synthetic events are watchdog's own walk of a folder moved (implied by the folder's
        # pair) or moved in (we rescan the folder instead).
        if kind not in _KINDS or getattr(event, "is_synthetic", False):
            return
        src = os.fsdecode(event.src_path) if event.src_path else ""
        dst = os.fsdecode(event.dest_path) if getattr(event, "dest_path", "") else ""
        is_dir = event.is_directory
        view = self._view
        if self.rules.gitignore:
            for path in (src, dst):
                if path and os.path.basename(path) == GITIGNORE:
                    self._gitignore_touched(view, path)
        if kind == "moved":
            self._on_move(view, src, dst, is_dir)
            return
        if any(src == a.root for a in view):
            if kind == "deleted":  # the root itself: check it now, report nothing under it
                with self._cond:
                    self._check_now = True
                    self._cond.notify_all()
            return
        active = self._scope(view, src, is_dir)
        if active is None:
            return
        with self._cond:
            if kind == "created" and is_dir:
                self._dirs_added.add(active.root)
                if self._full_events:
                    return  # an empty folder: what is put in it will come as its own events
                self._pending.rescan(src)  # other observers: moved in and mkdir look alike
            elif kind == "created":
                self._pending.changed(src, created=True)
            elif kind == "deleted":
                self._pending.deleted(src, is_dir=is_dir)
            elif is_dir:
                return
            else:
                self._pending.changed(src)
            self._touch_locked()

    def _on_move(self, view: tuple[_Active, ...], src: str, dst: str, is_dir: bool) -> None:
        origin = self._scope(view, src, is_dir)
        target = self._scope(view, dst, is_dir)
        with self._cond:
            if origin and target:
                self._pending.moved(src, dst, is_dir=is_dir)
            elif origin:  # out of the roots, or to an ignored name: gone
                self._pending.deleted(src, is_dir=is_dir)
            elif target:  # in from outside, or from an ignored name (an editor's temp file)
                if is_dir:
                    self._pending.rescan(dst)
                else:
                    self._pending.changed(dst)
            else:
                return
            if is_dir and target:
                self._dirs_added.add(target.root)
            self._touch_locked()

    def _gitignore_touched(self, view: tuple[_Active, ...], path: str) -> None:
        """Which files are ignored under this folder may have changed: re-read and rescan it."""
        folder = os.path.dirname(path)
        for active in view:
            if is_under(folder, active.root):
                active.matcher.forget(folder)
                if folder == active.root or not active.matcher.ignored(folder, True):
                    self._request_rescan(folder)
                return

    def _on_overflow(self) -> None:
        """The kernel dropped events: any root may have changed unseen."""
        with self._cond:
            roots = [a.root for a in self._view]
            for root in roots:
                self._pending.rescan(root)
            if roots:
                self._notices.append((time.monotonic(), (
                    "some changes were missed (too many at once: the system's change queue "
                    "overflowed; raise fs.inotify.max_queued_events if this repeats); rescanning "
                    + ", ".join(roots))))
                self._touch_locked()
        log.warning("inotify queue overflow: rescanning %s", ", ".join(roots) or "nothing")
