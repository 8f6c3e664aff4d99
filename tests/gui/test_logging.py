"""The desktop app's log: Qt's messages in it, the problems dialog's Show log, no query in it."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMessageLogger, qDebug, qInfo, qWarning
from PySide6.QtGui import QDesktopServices

from seekwise import logfile
from seekwise.gui import qt_messages
from seekwise.gui.status import ProblemsDialog
from tests.gui.conftest import DEPOSIT_QUERY, search
from tests.gui.test_search_window import catch_file_urls
from tests.conftest import seekwise_logs_at_info


@pytest.fixture
def routed():
    previous = qt_messages.route()
    yield
    from PySide6.QtCore import qInstallMessageHandler
    qInstallMessageHandler(previous)          # pytest-qt's own capture, back


def test_qt_messages_reach_logging_at_their_level(qapp, routed, caplog):
    caplog.set_level(logging.DEBUG, logger="seekwise.qt")
    qWarning("a Qt warning")
    qInfo("a Qt note")
    qDebug("a Qt detail")
    QMessageLogger("qdbus.cpp", 12, "call", "qt.dbus.integration").critical("no session bus")
    got = [(r.name, r.levelno, r.getMessage()) for r in caplog.records if r.name == "seekwise.qt"]
    assert got == [("seekwise.qt", logging.WARNING, "a Qt warning"), ("seekwise.qt", logging.INFO, "a Qt note"),
                   ("seekwise.qt", logging.DEBUG, "a Qt detail"),
                   ("seekwise.qt", logging.ERROR, "qt.dbus.integration: no session bus")]


def test_the_app_logs_qt_and_its_start_to_the_file(tmp_path):
    """seekwise-gui's own start-up, in a process of its own: the file is made, Qt's warning goes
    through logging (its format on stderr is ours, not Qt's), and the app stops where the window
    would be made."""
    code = ("import sys\nfrom PySide6.QtCore import qWarning\nfrom seekwise.gui import launch\n"
            "def stop_here(argv):\n    qWarning('a Qt warning at start-up')\n    raise SystemExit(0)\n"
            "launch.make_application = stop_here\nsys.exit(launch.main([]))\n")
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip().splitlines() == ["WARNING seekwise.qt: a Qt warning at start-up"]
    text = (tmp_path / "state" / "seekwise" / "log" / "seekwise-gui.log").read_text()
    assert "INFO seekwise.logfile: seekwise-gui" in text and "started" in text
    assert "WARNING seekwise.qt: a Qt warning at start-up" in text


def test_show_log_says_plainly_when_there_is_no_log_yet(qtbot, log_folder):
    dialog = ProblemsDialog([])
    qtbot.addWidget(dialog)
    assert dialog.show_log.text() == "Show log" and not dialog.show_log.isEnabled()
    assert dialog.log_note.text() == f"No log yet: Seekwise keeps one in {log_folder} while it runs."


def test_show_log_opens_the_folder_that_holds_the_log(qtbot, log_folder):
    handler = logfile.file_handler("seekwise-gui")
    handler.close()
    dialog = ProblemsDialog([("/docs/broken.pdf", "error", "damaged PDF")])
    qtbot.addWidget(dialog)
    assert dialog.log_file == log_folder / "seekwise-gui.log"
    assert dialog.log_note.text() == f"Seekwise's log: {log_folder / 'seekwise-gui.log'}"
    assert dialog.show_log.isEnabled() and str(log_folder) in dialog.show_log.toolTip()
    catcher = catch_file_urls()
    try:
        dialog.show_log.click()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [Path(u.toLocalFile()) for u in catcher.urls] == [log_folder]


def test_a_search_in_the_window_leaves_no_query_words_in_the_log(qtbot, app, log_folder):
    with seekwise_logs_at_info("seekwise-gui"):
        logging.getLogger("seekwise.gui.test").info("searching now")
        answer = search(qtbot, app.window, DEPOSIT_QUERY)
        assert answer.rows[0].name == "tenancy-agreement.txt"
    text = (log_folder / "seekwise-gui.log").read_text().lower()
    assert "searching now" in text
    for word in ("security", "money", "move out", "bond", "shorthold"):
        assert word not in text, word
