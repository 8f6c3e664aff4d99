"""Reveal in the file manager never waits for D-Bus: on a private session bus whose FileManager1 takes
5 s to start (activation), reveal() returns at once; with no file manager it opens the folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:tmpdir={tmp}</listen><servicedir>{services}</servicedir>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>
"""

_CHILD = r"""
import os, sys, time
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication
from seekwise.gui import desktop
app = QApplication([])
opened = []
class Catcher(QObject):
    @Slot(QUrl)
    def take(self, url):
        opened.append(url.toLocalFile())
catcher = Catcher()
QDesktopServices.setUrlHandler("file", catcher, "take")
started = time.monotonic()
desktop.reveal(sys.argv[1])
print("returned after %.2f s" % (time.monotonic() - started), flush=True)
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline and not opened:
    app.processEvents()
    time.sleep(0.02)
print("opened", opened, flush=True)
"""


def _run(tmp_path: Path, slow_file_manager: bool, wait_s: float) -> str:
    services = tmp_path / "services"
    services.mkdir(exist_ok=True)
    if slow_file_manager:
        (services / "fm.service").write_text("[D-BUS Service]\nName=org.freedesktop.FileManager1\n"
                                             "Exec=/bin/sleep 5\n")
    config = tmp_path / "bus.conf"
    config.write_text(_CONFIG.format(tmp=tmp_path, services=services))
    target = tmp_path / "folder" / "file.txt"
    target.parent.mkdir(exist_ok=True)
    target.write_text("x")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT / "app"))
    done = subprocess.run(["dbus-run-session", f"--config-file={config}", "--", sys.executable, "-c", _CHILD,
                           str(target), str(wait_s)], env=env, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(not shutil.which("dbus-run-session"), reason="needs dbus-run-session")
def test_reveal_does_not_wait_for_a_file_manager_being_started(tmp_path):
    out = _run(tmp_path, slow_file_manager=True, wait_s=0.5)
    seconds = float(out.split("returned after ")[1].split()[0])
    assert seconds < 1.0, out


@pytest.mark.skipif(not shutil.which("dbus-run-session"), reason="needs dbus-run-session")
def test_reveal_without_a_file_manager_opens_the_folder(tmp_path):
    out = _run(tmp_path, slow_file_manager=False, wait_s=10)
    assert f"opened ['{tmp_path / 'folder'}" in out, out
