"""`seekwise-gui`: the controller that owns the library, the background indexer and the window.

One Library per process (LMDB allows one environment per file per process): the IndexService's
thread writes through it, searches read through it from a pool thread. The tray, the global hotkey,
single-instance activation and the settings dialog plug into the slots of SeekwiseApp."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from seekwise import __version__
from seekwise.core import idle, power
from seekwise.core import settings as user_settings
from seekwise.core.library import Library, LibraryStatus
from seekwise.core.paths import LibraryPaths, default_config_dir
from seekwise.core.query_server import QueryServer
from seekwise.core.service import CpuBudget, IndexService, ServiceState
from seekwise.gui import theme
from seekwise.gui.icons import app_icon
from seekwise.gui.window import SearchWindow
from seekwise.gui.workers import Runner

log = logging.getLogger(__name__)

STATUS_EVERY_MS = 1500
POWER_EVERY_MS = 30_000     # how often to look at mains vs battery (a sysfs read)
IDLE_EVERY_MS = 3_000       # how often to ask whether the person is away (full speed while they are)
_RESTING = ("idle", "paused", "stopped", "error", "waiting")   # service states where the counts stand still


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
        self.service: IndexService | None = None
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
        self.window.set_library(lib)
        self.runner.run(lambda: _warm_up(lib), self._warmed)   # the model and indexes, before the first keystroke
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
        self._on_state(ServiceState(state="error", message=f"cannot open the library: {self.open_error}"))
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
        self._on_state(ServiceState(state="starting"))
        self.open()               # opens, then the background indexer re-reads the folders

    def _repair_failed(self, exc: BaseException) -> None:
        log.error("repair failed", exc_info=exc)
        self.repair_view.show_problem(f"The repair did not finish: {exc}", True)

    def start_service(self) -> None:
        if self.service is not None or self.library is None:
            return
        budget = CpuBudget(threads=max(1, self.prefs.background_threads))
        self.service = IndexService(self.library, budget=budget)
        self._unsubscribe = self.service.subscribe(self.state_changed.emit)   # queued to this thread
        self.service.start()
        self.check_power()

    @Slot(list)
    def start_indexing(self, folders: list[str]) -> None:
        """The welcome view's Start: remember the folders (off-thread: a store write), then index."""
        lib, service = self.library, self.service
        if lib is None:
            return

        def added(_: object) -> None:
            self.window.show_search_page()
            if self.index_enabled and self.service is None:
                self.start_service()
            self.refresh_status()
        # a running service adds the root itself: it scans it and restarts the watcher to include it
        add = service.add_root if service is not None else lib.add_root
        self.runner.run(lambda: [add(f) for f in folders], added)

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
        backend = (LibraryBackend(self.library, self.service) if self.library is not None
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
            if self.settings_dialog is not None:
                self.settings_dialog.backend.service = self.service   # later edits go through it
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
        service, self.service = self.service, None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if service is not None:
            service.stop()

    # -- status --------------------------------------------------------------------------------

    @Slot(object)
    def _on_state(self, state: ServiceState) -> None:
        settled = state.state in ("idle", "paused") and (self._state is None or self._state.state != state.state)
        self._state = state
        if settled:
            self.refresh_status()           # the final counts, once; the poll rests from here
        self.window.set_service_state(state)
        if self.tray is not None and hasattr(self.tray, "set_state"):
            self.tray.set_state(state)

    def _poll(self) -> None:
        """Counts change only while the indexer works, and are seen only in the window: hidden in the
        tray and idle, the library is left alone."""
        working = self.service is not None and (self._state is None or self._state.state not in _RESTING)
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


def _warm_up(lib: Library) -> None:
    lib.encoder.get().embed_query("warm up")
    lib.derived.current_ann()
    lib.derived.current_lexical()


# -- the command line ---------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seekwise-gui", description="Seekwise: find your own files by meaning.")
    p.add_argument("--version", action="version", version=f"seekwise {__version__}")
    p.add_argument("--data-dir", help="library folder (default: settings, $SEEKWISE_DATA_DIR, the platform's)")
    p.add_argument("--model", help="model id or folder (default: settings or the bundled model)")
    p.add_argument("--background", action="store_true", help="start hidden, in the tray (start at login)")
    p.add_argument("--show", action="store_true", help="show the search window (of the running instance)")
    p.add_argument("--query", help="type this into the search field")
    p.add_argument("--screenshot", metavar="PNG", help="render the window (with --query's results) to PNG and exit")
    p.add_argument("--theme", choices=theme.SCHEMES, default="system", help="light, dark or follow the system")
    p.add_argument("--size", default="1180x740", help="window size for --screenshot (default 1180x740)")
    p.add_argument("--no-index", action="store_true", help="do not run the background indexer")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def make_application(argv: list[str]) -> QApplication:
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv)
        if getattr(sys, "frozen", False):
            # The bundle's Qt has read them; programs we start (a PDF viewer, the file manager) must
            # find their own Qt's plugins, not ours.
            for name in ("QT_PLUGIN_PATH", "QML2_IMPORT_PATH"):
                os.environ.pop(name, None)
    app.setApplicationName("Seekwise")
    app.setOrganizationName("Seekwise")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("seekwise")
    app.setWindowIcon(app_icon())
    return app  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    """seekwise-gui. A failure at start-up is one line on stderr naming a log file with the traceback
    (exit 3, as for the command line), never a traceback."""
    try:
        return _main(argv)
    except Exception as exc:  # noqa: BLE001 - the one place that turns a surprise into a line and a log
        from seekwise import crashlog
        return crashlog.report("seekwise-gui", exc)


def _main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    qapp = make_application([sys.argv[0], *argv])
    theme.apply(qapp, args.theme)
    if args.theme == "system":
        theme.follow_system(qapp, lambda: None)
    prefs = user_settings.load()
    if prefs.problem:
        log.warning("settings: %s", prefs.problem)
    data_dir = prefs.library_dir(args.data_dir)
    model = prefs.model_spec(args.model)
    if args.screenshot:
        return screenshot(qapp, data_dir, model, args)

    ctrl = launch(qapp, args, prefs, data_dir, model)
    if ctrl is None:
        return 0
    code = qapp.exec()
    ctrl.shutdown()
    return code


def launch(qapp: QApplication, args: argparse.Namespace, prefs: user_settings.Settings,
           data_dir: str | None, model: str | None) -> "SeekwiseApp | None":
    """The app as a user starts it, up to its event loop: single instance, signals, controller, tray,
    hotkey, window. None when a running instance took the launch's wish. The tests start it this way."""
    # single-instance: a second launch hands its wish to the first and leaves (hook for single_instance.py)
    stopper = _QuitOnSignals(qapp)      # before the socket exists, so a SIGTERM from now on removes it
    instance = _claim_instance(data_dir, "show" if (args.show or not args.background) else "background")
    if instance is False:
        return None
    ctrl = SeekwiseApp(data_dir, model, index=not args.no_index, prefs=prefs)
    ctrl.instance = instance or None
    stopper.target = ctrl.quit
    _plug_in_extras(ctrl)
    qapp.setQuitOnLastWindowClosed(False)
    ctrl.window.restore_geometry(ctrl.window_settings)
    ctrl.open()
    if args.query:
        ctrl.library_opened.connect(lambda _lib: ctrl.window.search(args.query))
    if not args.background or ctrl.tray is None:
        ctrl.show_search()
    return ctrl


# -- single instance and signals (see single_instance.py) ---------------------------------------

def _claim_instance(data_dir: str | None, wish: str):  # noqa: ANN202 - SingleInstance | None | False
    """None: run on our own (no module, or the socket cannot be used safely: said on stderr, since a
    silent exit 0 would leave the user with no window and no clue); False: another instance took it."""
    try:
        from seekwise.gui.single_instance import SingleInstance, Unavailable
    except ImportError:
        return None
    try:
        instance = SingleInstance(SingleInstance.key_for(LibraryPaths.resolve(data_dir).root))
    except Unavailable as exc:
        _running_alone(str(exc))
        return None
    if not instance.claim():
        if instance.send(wish):
            return False
        if not instance.problem and instance.claim() and instance.listening:
            return instance             # the first one quit between our probe and our message
    if instance.listening:
        return instance
    _running_alone(instance.problem or "the running instance did not take the request")
    return None


def _running_alone(why: str) -> None:
    """One line on stderr (and the log): without the socket a second launch will open a second window."""
    log.info("single instance unavailable: %s", why)
    if sys.stderr is not None:          # pythonw on Windows has none
        print(f"seekwise-gui: cannot use the single-instance socket: {why}; running on its own "
              "(a second launch will not find this window)", file=sys.stderr, flush=True)


class _QuitOnSignals(QObject):
    """SIGTERM, SIGINT and SIGHUP quit through the event loop, so the socket file is removed and the
    indexer commits. A Python handler runs only when the interpreter gets control, which it does not
    while Qt waits in C: signal.set_wakeup_fd writes the signal to a socket a QSocketNotifier watches.
    A second signal while quitting takes the default action (the user means it). POSIX only."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.target: Callable[[], None] = QApplication.quit
        self._quitting = False
        if os.name != "posix":
            return
        import signal
        import socket

        from PySide6.QtCore import QSocketNotifier
        self._rx, self._tx = socket.socketpair()
        self._rx.setblocking(False)
        self._tx.setblocking(False)
        signal.set_wakeup_fd(self._tx.fileno(), warn_on_full_buffer=False)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda *_: None)     # the work is done in _woken, from the event loop
        self._notifier = QSocketNotifier(self._rx.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._woken)

    @Slot()
    def _woken(self) -> None:
        import signal
        try:
            got = self._rx.recv(64)
        except OSError:
            return
        if not got:
            return
        if self._quitting:
            signal.signal(got[-1], signal.SIG_DFL)
            os.kill(os.getpid(), got[-1])
            return
        self._quitting = True
        self.target()


def _plug_in_extras(ctrl: SeekwiseApp) -> None:
    """The tray, the global hotkey and the second-launch channel, where those modules exist."""
    if ctrl.instance is not None:
        ctrl.instance.message_received.connect(
            lambda msg: ctrl.show_search() if msg != "background" else None)
    try:
        from seekwise.gui.tray import Tray
    except ImportError:
        Tray = None  # noqa: N806
    if Tray is not None and Tray.available():
        tray = Tray(app_icon(), parent=ctrl)
        tray.search_requested.connect(ctrl.show_search)
        tray.pause_toggled.connect(ctrl.set_paused)
        tray.settings_requested.connect(ctrl.open_settings)
        tray.quit_requested.connect(ctrl.quit)
        ctrl.tray = tray
        ctrl.status_changed.connect(tray.set_status)      # the tooltip says how much meaning reaches
        tray.show()
        if ctrl.prefs.problem:
            tray.notify("Seekwise settings", ctrl.prefs.problem)
    try:
        from seekwise.gui.hotkey import GlobalHotkey
    except ImportError:
        GlobalHotkey = None  # noqa: N806
    if GlobalHotkey is not None:
        # kept even when it cannot grab: Settings says why (and offers `seekwise-gui --show`), and a
        # shortcut changed later is tried again
        hotkey = GlobalHotkey(ctrl)
        hotkey.activated.connect(ctrl.show_search)
        ctrl.hotkey = hotkey
        if ctrl.prefs.hotkey and not hotkey.start(ctrl.prefs.hotkey):
            log.info("global hotkey unavailable: %s", hotkey.problem)
    ctrl.window.keep_running_on_close = ctrl.tray is not None


# -- --screenshot ------------------------------------------------------------------------------

def screenshot(qapp: QApplication, data_dir: str | None, model: str | None, args: argparse.Namespace,
               timeout_s: float = 90.0) -> int:
    """Render the window over a library (no indexing: nothing is written) with the query's results
    and the first one's preview, save it as PNG, exit. Exit code 1 if it timed out."""
    width, height = (int(v) for v in args.size.lower().split("x"))
    ctrl = SeekwiseApp(data_dir, model, index=False)
    ctrl.window.resize(width, height)
    ctrl.window.show()
    outcome = {"code": 1}
    deadline = time.monotonic() + timeout_s

    def grab() -> None:
        qapp.processEvents()
        ok = ctrl.window.grab().save(args.screenshot, "PNG")
        outcome["code"] = 0 if ok else 1
        qapp.quit()

    def ready(what: object) -> None:
        if outcome.get("grabbing"):
            return
        outcome["grabbing"] = True
        QTimer.singleShot(300, grab)          # let the preview scroll and the status line fill in

    def answered(answer) -> None:  # noqa: ANN001
        if answer.request.query and not answer.rows:
            ready(answer)                     # nothing matched: the 'nothing matches' view is the picture

    def opened(_lib: Library) -> None:
        ctrl.refresh_status()
        if args.query:
            ctrl.window.search(args.query)
        else:
            ready(None)

    ctrl.window.preview_shown.connect(ready)
    ctrl.window.results_shown.connect(answered)
    ctrl.library_opened.connect(opened)
    ctrl.failed.connect(lambda _msg: ready(None))
    watchdog = QTimer(interval=250)
    watchdog.timeout.connect(lambda: time.monotonic() > deadline and ready(None))
    watchdog.start()
    ctrl.open()
    qapp.exec()
    ctrl.shutdown()
    if outcome["code"] == 0 and time.monotonic() > deadline:
        outcome["code"] = 1
    return outcome["code"]


if __name__ == "__main__":
    sys.exit(main())
