"""The search window over a real library: find by meaning, keyboard, open, reveal, copy, filters, modes."""

from __future__ import annotations

import os
import time

from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication

from tests.gui.conftest import DEPOSIT_QUERY, search


class UrlCatcher(QObject):
    """Qt's own hook for opening URLs: the desktop is not asked, we see what would be opened."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def handle(self, url: QUrl) -> None:
        self.urls.append(url)


def catch_file_urls():
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "handle")  # a str, whatever the stub says
    return catcher


def test_a_paraphrase_finds_the_file_first_with_its_passage_in_the_preview(qtbot, app):
    w = app.window
    with qtbot.waitSignal(w.preview_shown, timeout=20000):
        answer = search(qtbot, w, DEPOSIT_QUERY)
    assert answer.rows[0].name == "tenancy-agreement.txt"
    assert w.model.rowCount() == len(answer.rows) and w.current_row().name == "tenancy-agreement.txt"
    doc = w.preview.doc
    assert doc.path.endswith("tenancy-agreement.txt") and "security bond" in doc.text
    assert doc.marks and any(doc.text[s:e].lower() == "security" for s, e in doc.marks)
    assert w.preview.text.toPlainText().startswith("ASSURED SHORTHOLD")
    assert 0 < answer.rows[0].relevance <= 1 and answer.rows[0].relevance > answer.rows[-1].relevance
    bike = search(qtbot, w, "mending a puncture on my bike")
    assert bike.rows[0].name == "bicycle.html"


def test_keyboard_first_navigation_open_reveal_copy_and_escape(qtbot, app):
    w = app.window
    search(qtbot, w, DEPOSIT_QUERY)
    w.field.setFocus()
    assert w.results.currentIndex().row() == 0
    qtbot.keyClick(w.field, Qt.Key.Key_Down)
    assert w.results.currentIndex().row() == 1
    qtbot.keyClick(w.field, Qt.Key.Key_Up)
    assert w.results.currentIndex().row() == 0
    path = w.current_row().path

    catcher = catch_file_urls()
    try:
        with qtbot.waitSignal(w.opened):
            qtbot.keyClick(w.field, Qt.Key.Key_Return)
        assert catcher.urls[-1].toLocalFile() == path
        qtbot.keyClick(w.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        # no file manager on D-Bus here: the folder that holds it is opened instead
        qtbot.waitUntil(lambda: len(catcher.urls) == 2)
        assert catcher.urls[-1].toLocalFile().rstrip("/") == os.path.dirname(path)
    finally:
        QDesktopServices.unsetUrlHandler("file")

    QGuiApplication.clipboard().clear()
    qtbot.keyClick(w.field, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == path

    with qtbot.waitSignal(w.hide_requested):
        qtbot.keyClick(w.field, Qt.Key.Key_Escape)


def test_tab_from_the_field_reaches_the_filters(qtbot, app):
    w = app.window
    w.activateWindow()
    w.field.setFocus()
    qtbot.waitUntil(w.field.hasFocus)
    qtbot.keyClick(w.field, Qt.Key.Key_Tab)
    assert w.focusWidget() is w.filters.folder


def test_type_filter_and_modes(qtbot, app):
    w = app.window
    w.filters.set_type("Code")
    code = search(qtbot, w, "try again after a network failure")
    assert code.rows and all(r.name.endswith(".py") for r in code.rows)
    assert code.request.filters is not None and code.request.filters.types == ("code",)

    w.filters.set_type("All types")
    w.filters.set_mode("lexical")
    words = search(qtbot, w, "greenhouse")
    assert [r.name for r in words.rows] == ["tomatoes.txt"] and words.request.mode == "lexical"
    w.filters.set_mode("dense")
    meaning = search(qtbot, w, "growing vegetables under glass")
    assert meaning.request.mode == "dense" and meaning.rows[0].name == "tomatoes.txt"
    assert len(meaning.rows) > 1          # meaning only ranks every file, keywords only those with the word

    w.filters.set_mode("lexical")
    nothing = search(qtbot, w, "zeppelin")
    assert not nothing.rows and w.results_stack.currentWidget() is w.empty
    assert "zeppelin" in w.empty.text()


def test_search_as_you_type_shows_only_the_newest_query(qtbot, app):
    w = app.window
    qtbot.waitUntil(lambda: app.warm, timeout=30000)    # the model is loaded once, at start
    seen = []
    w.results_shown.connect(lambda a: seen.append(a.request.query))
    started = time.perf_counter()
    for prefix in ("s", "so", "sou", "sour", "sourd", "sourdough", "sourdough bread"):
        w.field.setText(prefix)
        qtbot.wait(20)                       # faster than the debounce: one search for the lot
    qtbot.waitUntil(lambda: "sourdough bread" in seen, timeout=20000)
    latency_ms = (time.perf_counter() - started) * 1000 - 7 * 20
    debounce_ms = w.searcher._timer.interval()
    print(f"last keystroke to results: {latency_ms:.0f} ms (debounce {debounce_ms} ms)")
    # README: results 5-20 ms after the 150 ms debounce on a quiet machine; the ceiling leaves room for a
    # loaded shared CI machine while still failing a search that blocks or waits a second debounce.
    assert latency_ms < debounce_ms + 400, f"results came {latency_ms:.0f} ms after the last keystroke"
    assert set(seen) == {"sourdough bread"}      # no answer for a prefix typed on the way
    assert w.model.rows[0].name == "sourdough.md"

    # an older search that finishes after a newer one was asked for is dropped
    dropped = w.searcher.dropped
    w.searcher.request("tax return deadline", now=True)
    w.searcher.request("tomato seedlings", now=True)
    qtbot.waitUntil(lambda: seen[-1] == "tomato seedlings", timeout=20000)
    qtbot.wait(100)
    assert "tax return deadline" not in seen and w.searcher.dropped == dropped + 1


def test_window_remembers_its_size(qtbot, app):
    w = app.window
    w.resize(760, 540)
    w.move(23, 31)
    w.save_geometry(app.window_settings)
    from seekwise.gui.window import SearchWindow
    again = SearchWindow(app.runner)
    qtbot.addWidget(again)
    again.restore_geometry(app.window_settings)
    # the offscreen screen is 800x600 and restoring keeps a window on screen: the height and place tell
    assert again.height() == 540 and app.window_settings.value("window/geometry") is not None


def test_a_configured_library_never_counts_the_suggested_folders(qtbot, app):
    welcome = app.window.welcome
    assert welcome.chosen()                 # the test home's Documents is suggested...
    qtbot.wait(300)
    assert welcome.last_estimate is None    # ...but never walked: the welcome page was not shown
    assert "Counting" not in welcome.estimate_label.text()


def test_a_rerun_with_the_same_results_keeps_selection_and_preview(qtbot, app):
    w = app.window
    search(qtbot, w, DEPOSIT_QUERY)
    w.results.setCurrentIndex(w.model.index(1))
    qtbot.waitUntil(lambda: w.preview.doc is not None and w.preview.doc.path == w.model.rows[1].path, timeout=10000)
    qtbot.wait(200)                                  # the refined marks, if any, have landed
    doc, resets = w.preview.doc, []
    w.model.modelReset.connect(lambda: resets.append(1))
    with qtbot.waitSignal(w.results_shown, timeout=20000):
        w.searcher.library_changed()                 # what each status poll does while indexing
    qtbot.wait(300)
    assert resets == [] and w.results.currentIndex().row() == 1
    assert w.preview.doc is doc                      # not loaded, rendered or scrolled again


def test_escape_hides_from_the_filters_and_the_preview_too(qtbot, app):
    w = app.window
    search(qtbot, w, DEPOSIT_QUERY)
    qtbot.waitUntil(lambda: w.preview.open_button.isVisible(), timeout=10000)
    for widget in (w.filters.focus_widgets()[0], w.filters.focus_widgets()[-1], w.preview.open_button,
                   w.preview.text):
        widget.setFocus()
        with qtbot.waitSignal(w.hide_requested, timeout=1000):
            qtbot.keyClick(widget, Qt.Key.Key_Escape)
    combo = w.filters.focus_widgets()[0]
    combo.showPopup()                                # Esc closes an open list, not the window
    qtbot.waitUntil(lambda: combo.view().isVisible(), timeout=2000)
    with qtbot.assertNotEmitted(w.hide_requested, wait=200):
        qtbot.keyClick(combo.view(), Qt.Key.Key_Escape)
    assert not combo.view().isVisible()


def test_a_search_during_the_meaning_phase_says_how_much_meaning_covers(qtbot, app):
    """Not a dialog: a line above the results while passages still wait for their vectors; gone for
    a keywords-only search and once meaning reaches every passage."""
    from seekwise.core.service import ServiceState
    w = app.window
    qtbot.waitUntil(lambda: w.status.status is not None, timeout=10000)
    assert w.status.status.meaning_share == 1.0
    search(qtbot, w, DEPOSIT_QUERY)
    assert not w.coverage_note.isVisible()      # the test library is complete
    w.set_service_state(ServiceState(state="indexing", phase="meaning", vectors_done=400, vectors_todo=1000,
                                     meaning_share=0.41, meaning_eta_s=720.0))
    assert w.coverage_note.isVisible() and "Meaning covers 41 %" in w.coverage_note.text()
    assert "keywords already find every file" in w.coverage_note.text()
    assert "Meaning: 41 % of passages — keywords find every file, about 12 min left" == w.status.activity.text()
    w.filters.set_mode("lexical")
    search(qtbot, w, "greenhouse")
    assert not w.coverage_note.isVisible()      # keywords reach every file already
    w.filters.set_mode("hybrid")
    search(qtbot, w, "greenhouse tomatoes")
    assert w.coverage_note.isVisible()
    w.set_service_state(ServiceState(state="idle"))    # the phase ended: the library's own count again
    assert not w.coverage_note.isVisible() and w.status.activity.text() == "Up to date"
