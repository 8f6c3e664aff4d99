"""SeekwiseApp's wiring: folders from Settings or the menu get indexed and watched, the status poll
rests while hidden, quit lets go of the instance at once, problems reach the user."""

from __future__ import annotations

import shutil

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
        assert dialog.backend.service is ctrl.service
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
