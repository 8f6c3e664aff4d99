"""SeekwiseApp's wiring: folders from Settings or the menu get indexed and watched, the status poll
rests while hidden, quit lets go of the instance at once, problems reach the user."""

from __future__ import annotations

import shutil
from dataclasses import replace

from seekwise.gui import app as gui_app, launch as gui_launch
from seekwise.gui.hotkey import FALLBACK_COMMAND
from seekwise.gui.icons import app_icon
from tests.gui.conftest import DATA, open_app


def ok_files(ctrl) -> int:  # noqa: ANN001
    status = ctrl.window.status.status
    return status.by_status.get("ok", 0) if status is not None else -1


def test_a_folder_added_in_settings_on_first_run_starts_indexing(qtbot, themed, tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DATA / "corpus", docs)
    ctrl = open_app(qtbot, tmp_path / "lib", index=True)
    try:
        w = ctrl.window
        assert w.stack.currentWidget() is w.welcome and ctrl.service is None
        ctrl.open_settings()
        dialog = ctrl.settings_dialog
        with qtbot.waitSignal(dialog.job_finished, timeout=10000):
            dialog.add_folder(str(docs))
        qtbot.waitUntil(lambda: ctrl.service is not None and w.stack.currentWidget() is w.search_page, timeout=10000)
        assert dialog.backend.writer is ctrl.service   # the one writer, now running
        qtbot.waitUntil(lambda: ok_files(ctrl) == 6, timeout=60000)
        dialog.reject()
    finally:
        ctrl.shutdown()


def test_a_folder_added_from_the_menu_is_watched(qtbot, themed, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(DATA / "corpus", first)
    second.mkdir()
    (second / "plan.txt").write_text("The garden plan: tomatoes along the south fence, beans by the shed.\n")
    ctrl = open_app(qtbot, tmp_path / "lib", index=True)
    try:
        ctrl.start_indexing([str(first)])
        qtbot.waitUntil(lambda: ok_files(ctrl) == 6, timeout=60000)
        ctrl.start_indexing([str(second)])               # the window menu's "Add a folder…"
        qtbot.waitUntil(lambda: ok_files(ctrl) == 7, timeout=60000)
        (second / "later.txt").write_text("Written after the folder was added: the watcher must see it.\n")
        qtbot.waitUntil(lambda: ok_files(ctrl) == 8, timeout=30000)
    finally:
        ctrl.shutdown()


def test_settings_explain_a_hotkey_that_cannot_be_grabbed(qtbot, app, monkeypatch):
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")      # no application may grab a key here
    monkeypatch.delenv("DISPLAY", raising=False)
    app.prefs.hotkey = "Ctrl+Alt+Space"
    gui_launch._plug_in_extras(app)
    try:
        assert app.hotkey is not None and not app.hotkey.active
        app.open_settings()
        note = app.settings_dialog.hotkey_note.text()
        assert "Wayland" in note and FALLBACK_COMMAND in note
        app._settings_saved(replace(app.prefs, hotkey="Ctrl+Alt+K"))      # a new shortcut is tried
        assert app.hotkey.sequence == "Ctrl+Alt+K" and "Wayland" in app.hotkey.problem
        app.settings_dialog.reject()
    finally:
        app._stop_extras()


def test_quit_lets_go_of_the_instance_at_once(qtbot, themed, indexed_dir, tmp_path):
    shutil.copytree(indexed_dir / "lib", tmp_path / "lib")
    ctrl = open_app(qtbot, tmp_path / "lib", index=True)
    try:
        ctrl.instance = gui_launch._claim_instance(str(tmp_path / "lib"), "show")
        assert ctrl.instance.listening
        ctrl.quit()                                   # the indexer may take a while to stop...
        assert not ctrl.instance.listening            # ...a relaunch meanwhile is not swallowed
        again = gui_launch._claim_instance(str(tmp_path / "lib"), "show")
        assert again and again.listening
        again.release()
    finally:
        ctrl.shutdown()


def test_status_is_not_polled_while_hidden_and_idle(qtbot, app):
    app.status_timer.setInterval(40)
    polls = []
    app.status_changed.connect(polls.append)
    qtbot.waitUntil(lambda: len(polls) >= 2, timeout=5000)     # shown: the counts stay current
    app.window.hide()                                          # in the tray, no indexer running
    qtbot.wait(200)
    polls.clear()
    qtbot.wait(500)
    assert polls == []
    with qtbot.waitSignal(app.status_changed, timeout=5000):
        app.show_search()                                      # shown again: fresh counts at once


def test_a_library_that_cannot_open_shows_the_error_and_limited_settings(qtbot, themed, tmp_path):
    from PySide6.QtCore import QSettings

    from seekwise.gui.tray import Tray
    ctrl = gui_app.SeekwiseApp(str(tmp_path / "lib"), model=str(tmp_path / "no-such-model"), index=True,
                               window_settings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(ctrl.window)
    ctrl.tray = Tray(app_icon(), parent=ctrl)      # built even where no tray shows it
    try:
        with qtbot.waitSignal(ctrl.failed, timeout=30000):
            ctrl.open()
        assert ctrl.tray.state.state == "error" and "no-such-model" in ctrl.tray.state.message
        ctrl.open_settings()
        dialog = ctrl.settings_dialog
        assert dialog is not None and dialog.isVisible()
        assert not dialog.tabs.isTabEnabled(0) and not dialog.rebuild_button.isEnabled()
        assert "no-such-model" in dialog.status.text()
        assert dialog.model_path.isEnabled() and dialog.data_dir.isEnabled()
        dialog.model_bundled.setChecked(True)                  # the way out: the bundled model checks fine
        qtbot.waitUntil(lambda: dialog.model_ok is True, timeout=10000)
        assert "starts again" in dialog.threads_note.text()        # threads: applied at the next start
        dialog.reject()
    finally:
        ctrl.shutdown()


def test_a_damaged_settings_file_is_said_once_in_the_status_line(qtbot, themed, indexed_dir, tmp_path):
    from PySide6.QtCore import QSettings

    from seekwise.core.settings import Settings
    problem = "The settings file /x/settings.toml is damaged (bad); it was kept as /x/settings.toml.bad"
    ctrl = gui_app.SeekwiseApp(str(indexed_dir / "lib"), prefs=Settings(problem=problem),
                               window_settings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(ctrl.window)
    try:
        with qtbot.waitSignal(ctrl.library_opened, timeout=30000):
            ctrl.open()
        ctrl.window.show()
        assert ctrl.window.status.notice.isVisible() and "settings.toml.bad" in ctrl.window.status.notice.text()
        ctrl._settings_saved(Settings())                       # saved again: the notice has done its job
        assert not ctrl.window.status.notice.isVisible()
    finally:
        ctrl.shutdown()
