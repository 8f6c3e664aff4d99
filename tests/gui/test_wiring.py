"""The controller's hook points with the real tray-side modules: a second launch shows the first
instance's window, Ctrl+, opens the settings over the open library, the tray's Pause reaches the service."""

from __future__ import annotations

import shutil

import pytest

from seekwise.gui import app as gui_app
from tests.gui.conftest import open_app


def test_a_second_launch_shows_the_running_window(qtbot, app, indexed_dir):
    data_dir = str(indexed_dir / "lib")
    first = gui_app._claim_instance(data_dir, "show")
    if first is None:
        pytest.skip("single_instance is not available")
    try:
        app.instance = first
        gui_app._plug_in_extras(app)
        app.window.hide()
        assert gui_app._claim_instance(data_dir, "show") is False      # handed over: the second leaves
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


def test_tray_pause_reaches_the_service(qtbot, themed, indexed_dir, tmp_path):
    tray_module = pytest.importorskip("seekwise.gui.tray")
    shutil.copytree(indexed_dir / "lib", tmp_path / "lib")
    ctrl = open_app(qtbot, tmp_path / "lib", index=True)
    try:
        tray = tray_module.Tray(gui_app.app_icon(), parent=ctrl)   # built even where no tray shows it
        tray.pause_toggled.connect(ctrl.set_paused)
        ctrl.tray = tray
        qtbot.waitUntil(lambda: ctrl.window.status.state is not None and ctrl.window.status.state.state == "idle",
                        timeout=60000)
        tray.pause_action.trigger()
        qtbot.waitUntil(lambda: tray.state.state == "paused", timeout=10000)
        assert ctrl.service.paused and tray.pause_action.text() == "Resume indexing"
        tray.pause_action.trigger()
        qtbot.waitUntil(lambda: not ctrl.service.paused, timeout=10000)
    finally:
        ctrl.shutdown()
