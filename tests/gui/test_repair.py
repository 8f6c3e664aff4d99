"""A damaged library in the app: the error page offers Repair, which runs off the GUI thread, reopens
the library and indexes the folders again."""

from __future__ import annotations

import os
import shutil

from PySide6.QtCore import QSettings, Qt
from seekwise.core.library import Library
from seekwise.gui import app as gui_app

from tests.gui.conftest import DATA


def test_a_damaged_store_offers_repair_and_the_app_indexes_again(qtbot, themed, tmp_path):
    shutil.copytree(DATA / "corpus", tmp_path / "docs")
    with Library(tmp_path / "lib", threads=2) as lib:
        lib.index([tmp_path / "docs"])
    store = tmp_path / "lib" / "store.lmdb"
    os.truncate(store, store.stat().st_size // 5 // 4096 * 4096)      # a Bus error before
    ctrl = gui_app.SeekwiseApp(str(tmp_path / "lib"), index=True,
                               window_settings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(ctrl.window)
    try:
        with qtbot.waitSignal(ctrl.failed, timeout=30000):
            ctrl.open()
        ctrl.window.resize(900, 560)
        ctrl.window.show()
        view = ctrl.repair_view
        assert ctrl.window.stack.currentWidget() is view and view.button.isVisible()
        assert str(store) in view.problem and "shorter than its own header" in view.problem
        ctrl.window.grab().save(str(tmp_path / "repair.png"))
        if os.environ.get("SEEKWISE_SCREENSHOTS"):
            ctrl.window.grab().save(os.path.join(os.environ["SEEKWISE_SCREENSHOTS"], "repair.png"))
        with qtbot.waitSignal(ctrl.repaired, timeout=30000) as repaired:
            qtbot.mouseClick(view.button, Qt.MouseButton.LeftButton)
            assert not view.button.isEnabled()          # the event loop runs on while it works
        assert repaired.args[0].kept_as.exists() and repaired.args[0].roots
        qtbot.waitUntil(lambda: ctrl.library is not None and ctrl.service is not None, timeout=30000)
        qtbot.waitUntil(lambda: (ctrl.window.status.status or None) is not None
                        and ctrl.window.status.status.by_status.get("ok", 0) == 6, timeout=60000)
        assert ctrl.window.stack.currentWidget() is ctrl.window.search_page
    finally:
        ctrl.shutdown()


def test_an_error_that_is_not_damage_shows_no_repair(qtbot, themed, tmp_path):
    ctrl = gui_app.SeekwiseApp(str(tmp_path / "lib"), model=str(tmp_path / "no-such-model"), index=False,
                               window_settings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(ctrl.window)
    try:
        with qtbot.waitSignal(ctrl.failed, timeout=30000):
            ctrl.open()
        assert ctrl.window.stack.currentWidget() is ctrl.repair_view
        assert "no-such-model" in ctrl.repair_view.problem and ctrl.repair_view.button.isHidden()
    finally:
        ctrl.shutdown()
