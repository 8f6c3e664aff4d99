"""The controller's hook points with the real tray-side modules: a second launch shows the first
instance's window, Ctrl+, opens the settings over the open library; and the tray the app itself builds
(on Xvfb with a real tray) pauses, resumes, shows, opens settings and quits the app."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile

import pytest

from seekwise.gui import launch as gui_launch
from xvfb import tray_host, x_display, xcb_env  # noqa: F401 - fixtures


def test_a_second_launch_shows_the_running_window(qtbot, app, indexed_dir):
    data_dir = str(indexed_dir / "lib")
    first = gui_launch._claim_instance(data_dir, "show")
    if first is None:
        pytest.skip("single_instance is not available")
    try:
        app.instance = first
        gui_launch._plug_in_extras(app)
        app.window.hide()
        assert gui_launch._claim_instance(data_dir, "show") is False      # handed over: the second leaves
        qtbot.waitUntil(app.window.isVisible, timeout=5000)
    finally:
        app._stop_extras()
        first.deleteLater()


def test_ctrl_comma_opens_settings_over_the_library(qtbot, app):
    pytest.importorskip("seekwise.gui.settings_dialog")
    pytest.importorskip("seekwise.gui.settings_backend")
    app.window.settings_action.trigger()
    qtbot.waitUntil(lambda: app.settings_dialog is not None and app.settings_dialog.isVisible(), timeout=5000)
    assert app.settings_dialog.backend.library is app.library
    app.settings_dialog.reject()


# The app as `seekwise-gui` builds it (gui.launch.launch: single instance, controller, tray, hotkey), on a
# real X server with a real tray; the test only presses the tray's menu items and reads the result.
LAUNCHED = r"""
import json, sys, time
from PySide6.QtCore import QTimer
from seekwise.core import settings
from seekwise.gui import launch as gui_launch

qapp = gui_launch.make_application(["seekwise-gui"])
args = gui_launch.build_parser().parse_args(["--data-dir", sys.argv[1]])
prefs = settings.load()
ctrl = gui_launch.launch(qapp, args, prefs, prefs.library_dir(args.data_dir), None)
out = {"tray": ctrl.tray is not None}


def wait(cond, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not cond():
        qapp.processEvents()
        time.sleep(0.02)
    return bool(cond())


def script():
    tray = ctrl.tray
    out["keeps_running_on_close"] = ctrl.window.keep_running_on_close
    out["idle"] = wait(lambda: ctrl.service is not None and tray.state is not None and tray.state.state == "idle")
    tray.pause_action.trigger()
    out["paused"] = wait(lambda: ctrl.service.paused and tray.state.state == "paused", 10)
    out["pause_text"] = tray.pause_action.text()
    tray.pause_action.trigger()
    out["resumed"] = wait(lambda: not ctrl.service.paused, 10)
    ctrl.window.hide()
    tray.search_action.trigger()
    out["shown_by_tray"] = wait(ctrl.window.isVisible, 10)
    tray.settings_action.trigger()
    out["settings_opened"] = wait(lambda: ctrl.settings_dialog is not None and ctrl.settings_dialog.isVisible(), 10)
    if ctrl.settings_dialog is not None:
        ctrl.settings_dialog.reject()
    tray.quit_action.trigger()          # must end qapp.exec() below


QTimer.singleShot(0, script)
out["exit"] = qapp.exec()
ctrl.shutdown()
print(json.dumps(out), flush=True)
"""


def test_the_tray_the_app_builds_drives_the_app(tray_host, indexed_dir, tmp_path):
    shutil.copytree(indexed_dir / "lib", tmp_path / "lib")
    home = tmp_path / "home"
    env = dict(tray_host, HOME=str(home), SEEKWISE_CONFIG_DIR=str(tmp_path / "config"),
               XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"),
               XDG_CACHE_HOME=str(home / ".cache"), XDG_STATE_HOME=str(home / ".local/state"),
               XDG_RUNTIME_DIR="", TMPDIR=tempfile.mkdtemp(prefix="sw-", dir="/tmp"))
    env.pop("XDG_RUNTIME_DIR")
    home.mkdir()
    done = subprocess.run([sys.executable, "-c", LAUNCHED, str(tmp_path / "lib")], env=env,
                          capture_output=True, text=True, timeout=180)
    shutil.rmtree(env["TMPDIR"], ignore_errors=True)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["tray"] and got["keeps_running_on_close"], got
    assert got["idle"] and got["paused"] and got["pause_text"] == "Resume indexing" and got["resumed"], got
    assert got["shown_by_tray"] and got["settings_opened"], got
    assert got["exit"] == 0, got
