"""Qt's own messages (a missing plugin, a failed D-Bus call, a bad style sheet) into `logging` as
"seekwise.qt": they reach the log file beside ours, where a person can find them, instead of only
a stderr that nobody sees when the app starts from a menu."""

from __future__ import annotations

import logging

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

log = logging.getLogger("seekwise.qt")

LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,   # Qt aborts once the handler returns: logged first
}


def route():  # noqa: ANN201 - the handler it replaced, a callable or None
    """From now on Qt's messages go to `logging`. Returns the handler replaced (None: Qt's own), for
    whoever wants it back."""
    return qInstallMessageHandler(to_logging)


def to_logging(kind: QtMsgType, context: QMessageLogContext | None, message: str) -> None:
    level = LEVELS.get(kind, logging.WARNING)
    if not log.isEnabledFor(level):
        return
    category = context.category if context is not None else None
    if category and category != "default":     # e.g. qt.qpa.xcb, qt.dbus.integration
        log.log(level, "%s: %s", category, message)
    else:
        log.log(level, "%s", message)
