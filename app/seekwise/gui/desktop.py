"""Hand a file to the desktop: open it (at a PDF page where the viewer allows), reveal it, copy its path."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication

log = logging.getLogger(__name__)

# PDF viewers that take a page on the command line, by their .desktop id (Linux)
_PAGE_ARGS = {
    "org.gnome.Evince": ("evince", "--page-label={page}"),
    "evince": ("evince", "--page-label={page}"),
    "org.gnome.Papers": ("papers", "--page-label={page}"),
    "okularApplication_pdf": ("okular", "--page={page}"),
    "org.kde.okular": ("okular", "--page={page}"),
    "okular": ("okular", "--page={page}"),
    "org.pwmt.zathura": ("zathura", "--page={page}"),
    "zathura": ("zathura", "--page={page}"),
    "xreader": ("xreader", "--page-label={page}"),
    "atril": ("atril", "--page-label={page}"),
}

_pdf_viewer: tuple[str, str] | None | bool = False   # False: not looked up yet


def open_file(path: str) -> bool:
    """The system's default app for the file, through QDesktopServices (tests hook the file scheme)."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(path))


def open_at_page(path: str, page: int) -> bool:
    """A PDF at a page where the default viewer takes one on its command line; else just open it.
    The first call asks xdg-mime (a process): call default_pdf_viewer() off the GUI thread first."""
    if page > 0 and path.lower().endswith(".pdf"):
        viewer = default_pdf_viewer()
        if viewer:
            program, arg = viewer
            try:
                subprocess.Popen([program, arg.format(page=page), path], start_new_session=True,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                return True
            except OSError as exc:
                log.info("cannot start %s: %s", program, exc)
    return open_file(path)


def default_pdf_viewer() -> tuple[str, str] | None:
    """Linux only: ask xdg-mime once which app opens PDFs, and whether it takes a page."""
    global _pdf_viewer
    if _pdf_viewer is False:
        _pdf_viewer = None
        if sys.platform.startswith("linux") and shutil.which("xdg-mime"):
            try:
                out = subprocess.run(["xdg-mime", "query", "default", "application/pdf"], capture_output=True,
                                     text=True, timeout=2).stdout.strip()
            except (OSError, subprocess.SubprocessError):
                out = ""
            found = _PAGE_ARGS.get(out.removesuffix(".desktop"))
            if found and shutil.which(found[0]):
                _pdf_viewer = found
    return _pdf_viewer or None


def reveal(path: str) -> bool:
    """Show the file selected in the file manager: FileManager1 over D-Bus on Linux, explorer /select
    on Windows, open -R on macOS; where none works, open the folder that holds it."""
    try:
        if sys.platform == "win32":
            subprocess.Popen(["explorer", "/select,", os.path.normpath(path)])
            return True
        if sys.platform == "darwin":
            subprocess.Popen(["open", "-R", path])
            return True
        if _reveal_dbus(path):
            return True
    except OSError as exc:
        log.info("cannot reveal %s: %s", path, exc)
    return _open_folder(path)


def _open_folder(path: str) -> bool:
    return QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(path) or path))


_pending: set = set()    # D-Bus calls in flight (their watchers must outlive this call)


def _reveal_dbus(path: str) -> bool:
    """Asynchronous: the file manager may have to be started first (seconds; the bus allows 25 s),
    and the window must not wait for it. An error answer opens the folder instead."""
    try:
        from PySide6.QtDBus import QDBusConnection, QDBusMessage, QDBusPendingCallWatcher
    except ImportError:
        return False
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return False
    msg = QDBusMessage.createMethodCall("org.freedesktop.FileManager1", "/org/freedesktop/FileManager1",
                                        "org.freedesktop.FileManager1", "ShowItems")
    msg.setArguments([[QUrl.fromLocalFile(path).toString()], ""])
    watcher = QDBusPendingCallWatcher(bus.asyncCall(msg))

    def answered(w: QDBusPendingCallWatcher) -> None:
        _pending.discard(w)
        if w.isError():
            log.info("no file manager on D-Bus (%s): opening the folder", w.error().message())
            _open_folder(path)
        w.deleteLater()

    watcher.finished.connect(answered)
    _pending.add(watcher)
    return True


def copy_path(path: str) -> None:
    QGuiApplication.clipboard().setText(path)
