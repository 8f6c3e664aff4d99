"""Linux's inotify, where the kernel's limits and lost events need more than watchdog gives.

watchdog 7 only logs a queue overflow (IN_Q_OVERFLOW) and silently skips folders it cannot watch
once fs.inotify.max_user_watches is reached; the watcher needs to hear both. Here: an observer
with an inotify reader of our own that reports overflows, a probe for watch headroom, and the
wording for the limits. Elsewhere (another OS, an older watchdog) `AVAILABLE` is False.
"""

from __future__ import annotations

import ctypes
import errno
import inspect
import logging
import os
import sys
from collections.abc import Callable

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileSystemEvent,
)
from watchdog.observers.api import BaseObserver

log = logging.getLogger(__name__)

try:  # Linux with watchdog >= 7: an inotify instance of our own, so its queue overflows reach us
    from watchdog.observers.inotify import InotifyFullEmitter
    from watchdog.observers.inotify_c import InotifyFD

    AVAILABLE = "inotify_fd" in inspect.signature(InotifyFullEmitter.__init__).parameters
except Exception:  # another OS (or an older watchdog): its default observer; overflows go unheard
    AVAILABLE = False

# What the observer above is asked for: enough to know what a file holds, no opens, reads or
# attribute changes. A file counts as changed when it is created or closed after writing, so a
# long copy is not indexed half-way.
FULL_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent, FileClosedEvent, FileDeletedEvent, FileMovedEvent,
    DirCreatedEvent, DirDeletedEvent, DirMovedEvent,
]


if AVAILABLE:
    class _OverflowAwareFD(InotifyFD):
        """watchdog's inotify reader, telling us when the kernel dropped events."""

        def __init__(self, on_overflow: Callable[[], None]) -> None:
            super().__init__()
            self._seekwise_on_overflow = on_overflow

        def handle_event(self, event):  # noqa: ANN001, ANN201 - watchdog's InotifyEvent
            if event.is_queue_overflow:
                try:
                    self._seekwise_on_overflow()
                except Exception:
                    log.exception("reporting an inotify queue overflow")
            super().handle_event(event)

    class InotifyObserver(BaseObserver):
        """watchdog's InotifyObserver with our reader, and moves in and out reported as such
        (the "full" emitter): a folder moved in is told apart from one made with mkdir."""

        def __init__(self, on_overflow: Callable[[], None]) -> None:
            self._seekwise_fd = _OverflowAwareFD(on_overflow)
            self._seekwise_fd.start()
            super().__init__(InotifyFullEmitter, inotify_fd=self._seekwise_fd)

        def on_thread_stop(self) -> None:
            super().on_thread_stop()
            self._seekwise_fd.stop()
            self._seekwise_fd.join()


# -- the watch limit ------------------------------------------------------------------------------

_IN_CLOEXEC = 0o2000000
_IN_DELETE_SELF = 0x400
_libc: ctypes.CDLL | None = None


def probe_watch_headroom(path: str) -> int | None:
    """errno.ENOSPC if no inotify watch can be added right now (the per-user limit), else None.

    watchdog silently skips sub-folders it cannot watch, so a limit reached half-way through a
    tree leaves no trace; one more watch, on a throwaway inotify instance, tells. Other
    failures (out of inotify instances, no inotify at all) are not this question: None.
    """
    global _libc
    if not sys.platform.startswith("linux"):
        return None
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        fd = _libc.inotify_init1(_IN_CLOEXEC)
    except (OSError, AttributeError):
        return None
    if fd < 0:
        return None
    try:
        if _libc.inotify_add_watch(fd, os.fsencode(path), _IN_DELETE_SELF) < 0:
            return errno.ENOSPC if ctypes.get_errno() == errno.ENOSPC else None
        return None
    finally:
        os.close(fd)  # closing the instance frees the watch


def describe_error(exc: OSError) -> str:
    """A failed watch in plain words, naming the kernel setting to raise when it is a limit."""
    if exc.errno == errno.ENOSPC:
        return "too many folders to watch (raise fs.inotify.max_user_watches)"
    if exc.errno == errno.EMFILE:
        return "too many programs are watching files (raise fs.inotify.max_user_instances)"
    return exc.strerror or str(exc)
