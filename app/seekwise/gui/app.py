"""The controller of `seekwise-gui` (started by gui.launch): it owns the library, the background
indexer and the window.

One Library per process (LMDB allows one environment per file per process): the IndexService's
thread writes through it, searches read through it from a pool thread. The tray, the global hotkey,
single-instance activation and the settings dialog plug into the slots of SeekwiseApp."""

from __future__ import annotations

import gc
import logging
import os
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from seekwise.core import idle, power
from seekwise.core import settings as user_settings
from seekwise.core.library import Library, LibraryStatus
from seekwise.core.paths import default_config_dir
from seekwise.core.query_server import QueryServer
from seekwise.core.service import CpuBudget, IndexService, ServiceState, ServiceStatus
from seekwise.gui.window import SearchWindow
from seekwise.gui.workers import Runner

log = logging.getLogger(__name__)

STATUS_EVERY_MS = 1500
POWER_EVERY_MS = 30_000     # how often to look at mains vs battery (a sysfs read)
IDLE_EVERY_MS = 3_000       # how often to ask whether the person is away (full speed while they are)


class SeekwiseApp(QObject):
    """Open the library off the GUI thread, run the indexer, feed the window; the slots below are
    what a tray menu, a hotkey or a second launch call."""

    state_changed = Signal(object)       # ServiceState, re-posted from the indexer's thread
    library_opened = Signal(object)      # Library
    status_changed = Signal(object)      # LibraryStatus
    failed = Signal(str)
    repaired = Signal(object)            # seekwise.core.repair.RepairResult

    def __init__(self, data_dir: str | None = None, model: str | None = None, *, index: bool = True,
                 prefs: user_settings.Settings | None = None, window_settings: QSettings | None = None) -> None:
        super().__init__()
        self.prefs = prefs or user_settings.Settings()
        self.data_dir = data_dir
        self.model = model
        self.index_enabled = index
        self.library: Library | None = None
        self.service: IndexService | None = None   # the writer once its worker runs
        self.writer: IndexService | None = None    # every write to the open library goes through it
        self.tray = None          # seekwise.gui.tray.Tray, when available
        self.hotkey = None        # seekwise.gui.hotkey.GlobalHotkey
        self.instance = None      # seekwise.gui.single_instance.SingleInstance
        self.queries: QueryServer | None = None   # answers `seekwise search` on this library
        self.settings_dialog = None
        self.open_error = ""      # why the library did not open
        self.repair_view = None   # seekwise.gui.repair_view.RepairView, made when a library fails to open
        self._unsubscribe: Callable[[], None] | None = None
        self._status_busy = False
        self._status_again = False
        self._last_chunks = -1
        self._state: ServiceState | None = None
        self._closing = False
        self.warm = False
        self.window_settings = window_settings or QSettings(str(default_config_dir() / "window.ini"),
                                                            QSettings.Format.IniFormat)
        self.runner = Runner(threads=2, parent=self)
        self.window = SearchWindow(self.runner)
        w = self.window
        w.hide_requested.connect(self.hide_search)
        w.quit_requested.connect(self.quit)
        w.settings_requested.connect(self.open_settings)
        w.pause_requested.connect(self.toggle_pause)
        w.start_requested.connect(self.start_indexing)
        w.add_folder_requested.connect(self.add_folder)
        self.state_changed.connect(self._on_state)
        self.status_changed.connect(w.set_library_status)
        self.status_timer = QTimer(self, interval=STATUS_EVERY_MS)
        self.status_timer.timeout.connect(self._poll)
        self.power_supply = power.POWER_SUPPLY      # where Linux tells mains from battery
        self._paused_for_battery = False
        self.power_timer = QTimer(self, interval=POWER_EVERY_MS)
        self.power_timer.timeout.connect(self.check_power)
        self.idle_probe: idle.IdleProbe | None = None   # made with the service: it may open an X connection
        self.idle_timer = QTimer(self, interval=IDLE_EVERY_MS)
        self.idle_timer.timeout.connect(self.check_idle)
        if self.prefs.problem:      # the settings were reset: say so once, with where the damaged copy is
            self.window.status.set_notice(self.prefs.problem)

    # -- start-up ------------------------------------------------------------------------------

    def open(self) -> None:
        """Open the library on a pool thread (it may build indexes); the window shows 'Opening…'."""
        data_dir, model, rules = self.data_dir, self.model, self.prefs.ignore_rules()
        self.runner.run(lambda: Library(data_dir, model=model, ignore=rules), self._opened, self._open_failed)

    def _opened(self, lib: Library) -> None:
        if self._closing:
            lib.close()
            return
        self.library = lib
        self.writer = IndexService(lib)            # its worker starts once there is a folder to index
        self.window.set_library(lib)
        self.runner.run(lib.warm_up, self._warmed)   # the model and indexes, before the first keystroke
        self.queries = QueryServer(lib)
        if not self.queries.start():
            self.queries = None   # another Seekwise answers them, or no private folder: they search alone
        if lib.roots() and self.index_enabled:
            self.start_service()
        self.status_timer.start()
        self.power_timer.start()
        self.idle_timer.start()
        self.refresh_status()
        self.check_power()
        self.library_opened.emit(lib)

    def _warmed(self, _: object) -> None:
        self.warm = True
        # What start-up built (Qt wrappers, the tokenizer, the indexes' bookkeeping) lives as long as
        # the app: out of the collector's sight, a full collection no longer pauses the window for it
        # (no gc.collect() first: that would be the very pause we avoid).
        gc.freeze()

    def _open_failed(self, exc: BaseException) -> None:
        log.error("cannot open the library", exc_info=exc)
        self.open_error = str(exc) or type(exc).__name__
        self.window.loading.setText(f"Seekwise cannot open its library:\n{exc}")
        self._show_open_problem(exc)
        self._on_state(ServiceState(state=ServiceStatus.ERROR, message=f"cannot open the library: {self.open_error}"))
        self.failed.emit(str(exc))

    # -- a damaged library: the Repair page (seekwise.core.repair, off the GUI thread) -----------

    def _show_open_problem(self, exc: BaseException) -> None:
        """The error page, with Repair when the library is damaged (what `seekwise repair` fixes)."""
        from seekwise.core.errors import LibraryDamaged
        from seekwise.gui.repair_view import RepairView
        if self.repair_view is None:
            self.repair_view = RepairView()
            self.repair_view.repair_requested.connect(self.repair_library)
            self.window.stack.addWidget(self.repair_view)
        damaged = isinstance(exc, LibraryDamaged)
        self.repair_view.show_problem(f"{exc.path}: {exc.what}" if damaged else str(exc), damaged)
        self.window.stack.setCurrentWidget(self.repair_view)

    @Slot()
    def repair_library(self) -> None:
        """Set the damaged store aside and start afresh over the same folders, then open and index."""
        from seekwise.core import repair
        data_dir, model, prefs, rules = self.data_dir, self.model, self.prefs, self.prefs.ignore_rules()
        self.repair_view.set_busy("Setting the damaged file aside and starting the library again…")
        self.runner.run(lambda: repair.repair(data_dir, model=model, prefs=prefs, ignore=rules),
                        self._repaired, self._repair_failed)

    def _repaired(self, result) -> None:  # noqa: ANN001 - repair.RepairResult
        self.repaired.emit(result)
        if self._closing:
            return
        self.open_error = ""
        self.window.loading.setText(f"Opening your library… ({result.estimate()})" if result.roots else
                                    "Opening your library…")
        self.window.stack.setCurrentWidget(self.window.loading)
        self._on_state(ServiceState(state=ServiceStatus.STARTING))
        self.open()               # opens, then the background indexer re-reads the folders

    def _repair_failed(self, exc: BaseException) -> None:
        log.error("repair failed", exc_info=exc)
        self.repair_view.show_problem(f"The repair did not finish: {exc}", True)

    def start_service(self) -> None:
        if self.service is not None or self.writer is None:
            return
        self.writer.budget = CpuBudget(threads=max(1, self.prefs.background_threads))   # as set by now
        self.service = self.writer
        self._unsubscribe = self.service.subscribe(self.state_changed.emit)   # queued to this thread
        self.service.start()
        self.check_power()

    @Slot(list)
    def start_indexing(self, folders: list[str]) -> None:
        """The welcome view's Start: remember the folders (off-thread: a store write), then index."""
        writer = self.writer
        if writer is None:
            return

        def added(_: object) -> None:
            self.window.show_search_page()
            if self.index_enabled and self.service is None:
                self.start_service()
            self.refresh_status()
        # a running service scans the new root and restarts its watcher to include it
        self.runner.run(lambda: [writer.add_root(f) for f in folders], added)

    @Slot()
    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Add a folder to search", os.path.expanduser("~"))
        if folder:
            self.start_indexing([folder])

    # -- what the tray, the hotkey and a second launch call --------------------------------------

    @Slot()
    def show_search(self) -> None:
        w = self.window
        if w.isMinimized():
            w.showNormal()
        w.show()
        w.raise_()
        w.activateWindow()
        w.focus_search()
        self.refresh_status()

    @Slot()
    def hide_search(self) -> None:
        """Esc or closing the window: hide when something can bring it back (tray, hotkey), else minimise."""
        self.window.save_geometry(self.window_settings)
        if self.can_hide:
            self.window.hide()
        else:
            self.window.showMinimized()

    @property
    def can_hide(self) -> bool:
        return self.tray is not None or bool(getattr(self.hotkey, "active", False))

    @Slot()
    def toggle_pause(self) -> None:
        if self.service is None:
            return
        self._paused_for_battery = False   # the user's say from now on
        if self.service.paused:
            self.service.resume()
        else:
            self.service.pause()

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        if self.service is not None and self.service.paused != paused:
            self.toggle_pause()

    # -- pause on battery ----------------------------------------------------------------------

    @Slot()
    def check_power(self) -> None:
        """With the setting on, indexing pauses while on battery and resumes on mains; a pause the
        user asked for is theirs: mains does not undo it."""
        if self.service is None or self._closing:
            return
        if not self.prefs.pause_on_battery:
            self.power_changed(False)
            return
        where = self.power_supply
        self.runner.run(lambda: power.on_battery(where), self.power_changed)

    def power_changed(self, on_battery: bool | None) -> None:
        service = self.service
        if service is None or on_battery is None:
            return
        if on_battery and self.prefs.pause_on_battery and not service.paused:
            self._paused_for_battery = True
            service.pause()
        elif not on_battery and self._paused_for_battery:
            self._paused_for_battery = False
            if service.paused:
                service.resume()

    # -- every core while the person is away ----------------------------------------------------

    @Slot()
    def check_idle(self) -> None:
        """Is the session away (locked, or no input for a few minutes) and on mains? Asked off the
        GUI thread (logind is a D-Bus call); the answer switches the service's full speed."""
        if self.service is None or self._closing:
            return
        if self.idle_probe is None:
            self.idle_probe = idle.IdleProbe()
        probe, where = self.idle_probe, self.power_supply
        self.runner.run(lambda: (probe.presence(), power.on_battery(where)), lambda got: self.presence_changed(*got))

    def presence_changed(self, presence: idle.Presence, on_battery: bool | None) -> None:
        """Full speed while away on mains; back to the background budget from the next batch the
        moment input comes again or the machine goes on battery."""
        service = self.service
        if service is None or self._closing:
            return
        wanted = idle.full_speed_wanted(presence, on_battery)
        if wanted != service.state().full_speed:
            log.info("session %s: indexing at %s", "away" if wanted else "in use",
                     "full speed" if wanted else "the background budget")
            service.set_full_speed(wanted)

    @Slot()
    def open_settings(self) -> None:
        """The settings dialog over this library (and its running indexer, which owns the writes)."""
        if self.library is None and not self.open_error:
            return                          # still opening
        try:
            from seekwise.gui.settings_backend import LibraryBackend, NoLibraryBackend
            from seekwise.gui.settings_dialog import SettingsDialog
        except ImportError:
            QMessageBox.information(self.window, "Settings", f"Settings are kept in {user_settings.settings_path()}.")
            return
        if self.settings_dialog is not None and self.settings_dialog.isVisible():
            self.settings_dialog.raise_()
            self.settings_dialog.activateWindow()
            return
        backend = (LibraryBackend(self.library, self.writer) if self.writer is not None
                   else NoLibraryBackend(self.open_error, self.data_dir))
        dialog = SettingsDialog(backend, self.prefs, hotkey=self.hotkey, parent=self.window)
        dialog.settings_saved.connect(self._settings_saved)
        dialog.folders_changed.connect(self._folders_changed)
        self.settings_dialog = dialog
        dialog.show()

    def _folders_changed(self, roots: list[str]) -> None:
        """A folder added in Settings on first run: start indexing and leave the welcome page."""
        self.window.filters.set_roots(roots)
        if roots and self.service is None and self.library is not None and self.index_enabled:
            self.start_service()
        if roots and self.window.stack.currentWidget() is self.window.welcome:
            self.window.show_search_page()
        self.refresh_status()

    def _settings_saved(self, prefs: user_settings.Settings) -> None:
        self.prefs = prefs
        self.window.status.set_notice("")
        self.check_power()
        hotkey = self.hotkey
        if hotkey is None:
            return
        if not prefs.hotkey:
            hotkey.stop()                   # cleared: let the old key go
        elif prefs.hotkey != hotkey.sequence or not hotkey.active:
            if not hotkey.start(prefs.hotkey):
                log.info("global hotkey unavailable: %s", hotkey.problem)

    @Slot()
    def quit(self) -> None:
        """Save the window, let the indexer commit what it has (off the GUI thread), then leave."""
        if self._closing:
            return
        self._stop_extras()                 # a relaunch while the indexer stops starts afresh
        self.window.welcome.deactivate()
        self.window.save_geometry(self.window_settings)
        self.window.hide()
        self.runner.run(self._stop_core, lambda _: QApplication.quit(), lambda _: QApplication.quit())
        self._closing = True

    def shutdown(self) -> None:
        """Synchronous stop (tests, the end of main)."""
        self._closing = True
        self.status_timer.stop()
        self.power_timer.stop()
        self.idle_timer.stop()
        if self.idle_probe is not None:
            self.idle_probe.close()
        self._stop_extras()
        self._stop_core()
        self.window.detach()
        self.runner.close()
        if self.library is not None:
            self.library.close()
            self.library = None

    def _stop_extras(self) -> None:
        if self.instance is not None:
            self.instance.release()
        if self.queries is not None:
            self.queries.stop()   # a search it is answering ends first: the library closes after
            self.queries = None
        if self.hotkey is not None:
            self.hotkey.stop()
        if self.tray is not None:
            self.tray.hide()

    def _stop_core(self) -> None:
        service, self.service, self.writer = self.service, None, None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if service is not None:
            service.stop()

    # -- status --------------------------------------------------------------------------------

    @Slot(object)
    def _on_state(self, state: ServiceState) -> None:
        settled = state.state.settled and (self._state is None or self._state.state != state.state)
        self._state = state
        if settled:
            self.refresh_status()           # the final counts, once; the poll rests from here
        self.window.set_service_state(state)
        if self.tray is not None and hasattr(self.tray, "set_state"):
            self.tray.set_state(state)

    def _poll(self) -> None:
        """Counts change only while the indexer works, and are seen only in the window: hidden in the
        tray and idle, the library is left alone."""
        working = self.service is not None and (self._state is None or self._state.state.busy)
        if working or self.window.isVisible():
            self.refresh_status()

    def refresh_status(self) -> None:
        """Library.status() off the GUI thread, one at a time (one asked for meanwhile runs after)."""
        if self._status_busy:
            self._status_again = True
            return
        if self.library is None or self._closing:
            return
        self._status_busy = True
        lib = self.library
        self.runner.run(lambda: lib.status(problems=0), self._status_ready, self._status_failed)

    def _status_ready(self, status: LibraryStatus) -> None:
        self._status_busy = False
        self.status_changed.emit(status)
        if self._last_chunks >= 0 and status.chunks != self._last_chunks:
            self.window.searcher.library_changed()      # new files landed: refresh what is on screen
        self._last_chunks = status.chunks
        self._status_next()

    def _status_failed(self, exc: BaseException) -> None:
        self._status_busy = False
        log.warning("status failed: %s", exc)
        self._status_next()

    def _status_next(self) -> None:
        if self._status_again:
            self._status_again = False
            self.refresh_status()


if __name__ == "__main__":
    # Start-at-login entries written by earlier versions run `python -m seekwise.gui.app`.
    from seekwise.gui.launch import main

    sys.exit(main())
