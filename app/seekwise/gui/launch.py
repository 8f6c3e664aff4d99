"""`seekwise-gui` up to its event loop: the command line, the QApplication, one instance per
library, quitting on signals, the tray and hotkey plugged into the controller (gui.app), and the
--screenshot mode."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from seekwise import __version__, logfile
from seekwise.core import settings as user_settings
from seekwise.core.library import Library
from seekwise.core.paths import LibraryPaths
from seekwise.gui import qt_messages, theme
from seekwise.gui.app import SeekwiseApp
from seekwise.gui.icons import app_icon

log = logging.getLogger(__name__)


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
    # --screenshot renders a picture and writes nothing else: no log file for it
    logfile.configure("seekwise-gui", verbose=args.verbose, to_file=not args.screenshot)
    qt_messages.route()                 # before the QApplication: its own start-up warnings too
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
