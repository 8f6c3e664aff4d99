"""The settings dialog driven like a person would, over a real library and its background service:
the saved file round-trips, exclusions and file types reach the index, folders come and go, the model
is checked, rebuild and clear ask first and run without blocking the window."""

from __future__ import annotations

import os
import sys
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from seekwise.core import settings  # noqa: E402
from seekwise.core.embedding.resolve import DEFAULT_MODEL_ID, bundled_models_dir  # noqa: E402
from seekwise.core.library import Library  # noqa: E402
from seekwise.core.service import IndexService  # noqa: E402
from seekwise.core.settings import Settings  # noqa: E402
from seekwise.gui import autostart  # noqa: E402
from seekwise.gui.hotkey import FALLBACK_COMMAND, GlobalHotkey  # noqa: E402
from seekwise.gui.settings_backend import LibraryBackend  # noqa: E402
from seekwise.gui.settings_dialog import SettingsDialog  # noqa: E402


@pytest.fixture
def env(tmp_path, monkeypatch, corpus):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("SEEKWISE_CONFIG_DIR", str(tmp_path / "conf"))
    lib = Library(tmp_path / "lib", threads=2)
    lib.add_root(corpus)
    service = IndexService(lib, watch=False).start()
    assert service.wait_idle(120)
    yield lib, service, corpus
    service.stop()
    lib.close()


def indexed(lib: Library) -> set[str]:
    return {os.path.basename(rec.path) for rec in lib.store.iter_files()}


def open_dialog(qtbot, lib, service, prefs=None, hotkey=None) -> SettingsDialog:
    dialog = SettingsDialog(LibraryBackend(lib, service), prefs or settings.load(), hotkey=hotkey)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.folder_list.count() > 0 or not lib.roots(), timeout=5000)
    return dialog


def test_edit_save_and_load_again(qtbot, env):
    lib, service, corpus = env
    root = lib.roots()[0]
    dialog = open_dialog(qtbot, lib, service)
    assert dialog.folder_list.item(0).text() == root
    dialog.folder_list.setCurrentRow(0)
    dialog.patterns.setFocus()
    qtbot.keyClicks(dialog.patterns, "tomatoes.*")
    dialog.tabs.setCurrentIndex(1)  # File types
    box = dialog.type_boxes["code"]
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(6, box.height() // 2))  # on its tick box
    assert not dialog.type_boxes["code"].isChecked()
    dialog.gitignore.setChecked(True)
    dialog.tabs.setCurrentIndex(3)  # General
    dialog.threads.setValue(min(2, dialog.threads.maximum()))
    dialog.battery.setChecked(False)
    dialog.hotkey_edit.setFocus()
    qtbot.keyClick(dialog.hotkey_edit, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: dialog.hotkey_sequence() == "Ctrl+Shift+K", timeout=3000)
    dialog.login.setChecked(True)
    dialog.data_dir.setText("/somewhere/else")
    with qtbot.waitSignal(dialog.settings_saved, timeout=30000) as saved:
        qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton)
    back = settings.load()
    assert back == saved.args[0]
    assert back.excludes == {root: ["tomatoes.*"]} and back.skip_types == ["code"] and back.gitignore
    assert back.background_threads == min(2, os.cpu_count() or 1) and not back.pause_on_battery
    assert back.hotkey == "Ctrl+Shift+K" and back.start_at_login and back.data_dir == "/somewhere/else"
    assert autostart.is_enabled()
    assert not dialog.isVisible()
    # the library follows: the service rescans with the new rules (wait_idle may answer before the
    # worker publishes that it took the work, so wait for the outcome itself)
    qtbot.waitUntil(lambda: {"tomatoes.txt", "retry.py"}.isdisjoint(indexed(lib)), timeout=60000)
    assert "tenancy-agreement.txt" in indexed(lib)

    again = open_dialog(qtbot, lib, service)  # the next opening shows what was saved
    again.folder_list.setCurrentRow(0)
    assert again.patterns.toPlainText() == "tomatoes.*" and not again.type_boxes["code"].isChecked()
    assert again.hotkey_sequence() == "Ctrl+Shift+K" and again.login.isChecked()
    again.login.setChecked(False)
    with qtbot.waitSignal(again.settings_saved, timeout=30000):
        again.buttons.button(again.buttons.StandardButton.Ok).click()
    assert not autostart.is_enabled() and not settings.load().start_at_login


def test_cancel_saves_nothing(qtbot, env):
    lib, service, _ = env
    dialog = open_dialog(qtbot, lib, service)
    dialog.type_boxes["pdf"].setChecked(False)
    dialog.buttons.button(dialog.buttons.StandardButton.Cancel).click()
    assert not settings.settings_path().exists()


def test_folders_are_added_and_removed(qtbot, env, tmp_path):
    lib, service, corpus = env
    extra = tmp_path / "more"
    extra.mkdir()
    (extra / "glacier.txt").write_text("Zanskar glacier trek: crampons, an ice axe and the frozen river.")
    dialog = open_dialog(qtbot, lib, service)
    with qtbot.waitSignal(dialog.folders_changed, timeout=10000) as changed:
        dialog.add_folder(str(extra))
    assert str(extra.resolve()) in changed.args[0] and dialog.folder_list.count() == 2
    qtbot.waitUntil(lambda: "glacier.txt" in indexed(lib), timeout=60000)
    items = [dialog.folder_list.item(i).text() for i in range(dialog.folder_list.count())]
    dialog.folder_list.setCurrentRow(items.index(str(extra.resolve())))
    with qtbot.waitSignal(dialog.folders_changed, timeout=10000) as changed:
        qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert changed.args[0] == [str(corpus.resolve())]
    qtbot.waitUntil(lambda: "glacier.txt" not in indexed(lib), timeout=60000)


def test_model_choice_is_checked(qtbot, env, tmp_path):
    lib, service, _ = env
    dialog = open_dialog(qtbot, lib, service)
    qtbot.waitUntil(lambda: dialog.model_ok is True, timeout=5000)
    assert DEFAULT_MODEL_ID in dialog.model_info.text() and "In use" in dialog.model_info.text()
    dialog.model_custom.setChecked(True)
    dialog.model_path.setText(str(tmp_path / "not-a-model"))
    with qtbot.waitSignal(dialog.job_finished, timeout=5000, check_params_cb=lambda job, err: job == "model"):
        dialog.model_path.editingFinished.emit()
    assert dialog.model_ok is False and "Cannot use this model" in dialog.model_info.text()
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()  # refused while the model is unusable
    assert dialog.isVisible() and "model" in dialog.status.text()
    dialog.model_path.setText(str(bundled_models_dir() / DEFAULT_MODEL_ID))
    with qtbot.waitSignal(dialog.job_finished, timeout=5000, check_params_cb=lambda job, err: job == "model"):
        dialog.model_path.editingFinished.emit()
    assert dialog.model_ok is True and "Found" in dialog.model_info.text()


def test_rebuild_and_clear_ask_first_and_never_block(qtbot, env):
    lib, service, corpus = env
    dialog = open_dialog(qtbot, lib, service)
    before = indexed(lib)
    dialog.tabs.setCurrentIndex(4)  # Data
    qtbot.mouseClick(dialog.rebuild_button, Qt.MouseButton.LeftButton)
    assert dialog.confirm_box is not None and dialog.confirm_box.isVisible()
    dialog.confirm_box.button(QMessageBox.StandardButton.Cancel).click()  # changed my mind
    assert dialog.confirm_box is None and indexed(lib) == before

    service.pause()  # hold the worker so the job is slow; the window must stay responsive meanwhile
    qtbot.mouseClick(dialog.rebuild_button, Qt.MouseButton.LeftButton)
    started = time.monotonic()
    with qtbot.waitSignal(dialog.job_finished, timeout=60000,   # not the model check the dialog began with
                          check_params_cb=lambda job, err: job == "rebuild") as done:
        dialog.confirm_box.button(QMessageBox.StandardButton.Yes).click()
        assert time.monotonic() - started < 0.5
        assert not dialog.rebuild_button.isEnabled()  # busy, and says so
    assert done.args == ["rebuild", ""]
    service.resume()
    qtbot.waitUntil(lambda: indexed(lib) == before, timeout=60000)

    qtbot.mouseClick(dialog.clear_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.folders_changed, timeout=60000) as changed:
        dialog.confirm_box.button(QMessageBox.StandardButton.Yes).click()
    assert changed.args[0] == [] and lib.roots() == [] and indexed(lib) == set()
    assert dialog.folder_list.count() == 0 and not dialog.patterns.isEnabled()


def test_hotkey_problem_and_fallback_are_shown(qtbot, env, monkeypatch):
    lib, service, _ = env
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    hotkey = GlobalHotkey()
    assert not hotkey.start("Ctrl+Alt+Space")
    dialog = open_dialog(qtbot, lib, service, hotkey=hotkey)
    assert "Wayland" in dialog.hotkey_note.text() and FALLBACK_COMMAND in dialog.hotkey_note.text()
    dialog.hotkey_edit.clear()
    assert FALLBACK_COMMAND in dialog.hotkey_note.text()


def test_a_damaged_settings_file_is_reported_in_the_dialog(qtbot, env, tmp_path):
    lib, service, _ = env
    path = settings.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("this = = broken")
    dialog = open_dialog(qtbot, lib, service, prefs=settings.load())
    assert "damaged" in dialog.status.text()
    assert dialog.collect() == Settings()
