"""Run core calls off the GUI thread and get the answer back on it (the event loop never waits)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class _Job(QRunnable):
    def __init__(self, runner: "Runner", ticket: int, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._runner, self._ticket, self._fn = runner, ticket, fn

    def run(self) -> None:  # a pool thread
        try:
            result, error = self._fn(), None
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread, never lost
            result, error = None, exc
        try:
            self._runner._finished.emit(self._ticket, result, error)
        except RuntimeError:  # the runner was deleted while we worked (the app is closing)
            pass


class Runner(QObject):
    """`run(fn, on_done, on_failed)`: fn on a pool thread, a callback on the GUI thread.

    One signal on one long-lived object carries every answer, so no per-call QObject can be
    collected before its queued answer arrives (Anki's QueryOp, reduced to what we need)."""

    _finished = Signal(int, object, object)

    def __init__(self, threads: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._tickets = itertools.count(1)
        self._callbacks: dict[int, tuple[Done | None, Failed | None]] = {}
        self._finished.connect(self._deliver)
        self.closed = False

    def close(self, msecs: int = 30000) -> None:
        """Take no more work, finish what runs (the app is closing)."""
        self.closed = True
        self.pool.waitForDone(msecs)

    def run(self, fn: Callable[[], Any], on_done: Done | None = None, on_failed: Failed | None = None) -> int:
        if self.closed:
            return 0
        ticket = next(self._tickets)
        self._callbacks[ticket] = (on_done, on_failed)
        self.pool.start(_Job(self, ticket, fn))
        return ticket

    @property
    def busy(self) -> bool:
        return bool(self._callbacks)

    def wait(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)

    @Slot(int, object, object)
    def _deliver(self, ticket: int, result: object, error: object) -> None:
        on_done, on_failed = self._callbacks.pop(ticket, (None, None))
        if error is not None:
            if on_failed is not None:
                on_failed(error)
            else:
                log.error("background task failed", exc_info=error)  # type: ignore[arg-type]
        elif on_done is not None:
            on_done(result)
