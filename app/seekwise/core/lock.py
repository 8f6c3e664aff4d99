"""One writer per library, across processes: an OS file lock the kernel drops if we die."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from seekwise.core.errors import LibraryDamaged, LibraryLocked

log = logging.getLogger(__name__)


class WriterLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = None

    def acquire(self) -> "WriterLock":
        try:
            fh = open(self.path, "a+")
        except (IsADirectoryError, NotADirectoryError):
            raise LibraryDamaged(self.path, "it is not a plain file", kind="lock file",
                                 advice="Remove it (it holds no data) or run `seekwise repair`.") from None
        try:
            _lock(fh)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            fh.close()
            raise LibraryLocked(f"Another Seekwise process (pid {holder}) is indexing this library "
                                f"({self.path.parent}); wait for it to finish or stop it.") from None
        try:   # unbuffered: a full disk fails here, not later in close(), and loses no lock
            os.ftruncate(fh.fileno(), 0)
            os.lseek(fh.fileno(), 0, os.SEEK_SET)   # (os.pwrite is not on Windows)
            os.write(fh.fileno(), str(os.getpid()).encode())
        except OSError as exc:   # the pid only names us to a second writer; the lock is what counts
            log.info("cannot write the pid into %s: %s", self.path, exc)
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            try:
                try:
                    os.ftruncate(self._fh.fileno(), 0)
                except OSError:
                    pass
                _unlock(self._fh)
            finally:
                self._fh.close()
                self._fh = None

    def __enter__(self) -> "WriterLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


if os.name == "nt":  # pragma: no cover - exercised on Windows CI only
    import msvcrt

    def _lock(fh) -> None:  # noqa: ANN001
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(fh) -> None:  # noqa: ANN001
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _lock(fh) -> None:  # noqa: ANN001
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fh) -> None:  # noqa: ANN001
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
