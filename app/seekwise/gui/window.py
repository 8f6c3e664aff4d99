"""The search window: one field, filters, results, preview, status line; the welcome view on first run."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QLabel, QLineEdit, QListView, QMainWindow, QMenu,
                               QSplitter, QStackedWidget, QToolButton, QVBoxLayout, QWidget)

from seekwise.core.library import FileStatus, Library, LibraryStatus
from seekwise.core.service import ServiceState, ServiceStatus
from seekwise.core.wording import percent, plural
from seekwise.gui import desktop, theme
from seekwise.gui.filters import FiltersBar
from seekwise.gui.icons import app_icon
from seekwise.gui.preview import PreviewDoc, PreviewPane, load_context
from seekwise.gui.results import ROW_ROLE, ResultDelegate, ResultsModel
from seekwise.gui.searcher import ResultRow, SearchAnswer, Searcher
from seekwise.gui.status import ProblemsDialog, StatusLine, meaning_share
from seekwise.gui.welcome import WelcomeView
from seekwise.gui.workers import Runner

_RETURN = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def _shown_as(rows: list[ResultRow]) -> list[tuple[str, int, int]]:
    """What identifies the rows on screen: each file and its best passage."""
    return [(r.path, r.passage.start, r.passage.end) for r in rows]


class SearchWindow(QMainWindow):
    hide_requested = Signal()
    quit_requested = Signal()
    settings_requested = Signal()
    pause_requested = Signal()
    start_requested = Signal(list)        # folders chosen in the welcome view
    add_folder_requested = Signal()
    results_shown = Signal(object)        # the SearchAnswer on screen (tests, screenshots)
    preview_shown = Signal(object)        # the PreviewDoc on screen
    opened = Signal(str)                  # a path handed to the desktop

    def __init__(self, runner: Runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.library: Library | None = None
        self.keep_running_on_close = False
        self.setWindowTitle("Seekwise")
        self.setWindowIcon(app_icon())
        self.searcher = Searcher(self)
        self.searcher.answered.connect(self._show_answer)
        self.answer: SearchAnswer | None = None
        self._preview_seq = 0
        self._total_files = 0

        self.welcome = WelcomeView(runner)
        self.welcome.start_requested.connect(self.start_requested)
        self.search_page = self._build_search_page()
        self.loading = QLabel("Opening your library…", alignment=Qt.AlignmentFlag.AlignCenter, objectName="emptyState")
        self.stack = QStackedWidget()
        for page in (self.loading, self.welcome, self.search_page):
            self.stack.addWidget(page)
        self.setCentralWidget(self.stack)
        self._build_actions()
        self.resize(QSize(1120, 720))

    # -- building ------------------------------------------------------------------------------

    def _build_search_page(self) -> QWidget:
        self.field = QLineEdit(objectName="searchField", placeholderText="Search your files by meaning…",
                               clearButtonEnabled=True)
        self.field.setFont(theme.heading_font(self.font(), 1.25, bold=False))
        self.field.textChanged.connect(self._query_changed)
        self.field.installEventFilter(self)
        self.menu_button = QToolButton(text="☰", toolTip="Menu", autoRaise=True, objectName="menuButton")
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(self.field, 1)
        top.addWidget(self.menu_button)

        self.filters = FiltersBar()
        self.filters.changed.connect(lambda: self._query_changed(self.field.text(), now=True))

        self.model = ResultsModel(self)
        self.results = QListView(objectName="results")
        self.results.setModel(self.model)
        self.results.setItemDelegate(ResultDelegate(self.results))
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.results.setUniformItemSizes(True)
        self.results.setMouseTracking(True)
        self.results.setSpacing(1)
        self.results.installEventFilter(self)
        self.results.doubleClicked.connect(lambda _i: self.open_current())
        self.results.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._load_preview(cur.row()))
        self.empty = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, objectName="emptyState", wordWrap=True)
        self.results_stack = QStackedWidget()
        self.results_stack.addWidget(self.empty)
        self.results_stack.addWidget(self.results)

        self.preview = PreviewPane()
        self.preview.open_requested.connect(self.open_path)
        self.preview.reveal_requested.connect(self.reveal_path)
        # While passages still wait for their vectors: a line above the results says so (not a dialog).
        self.coverage_note = QLabel(objectName="dim", wordWrap=True)
        self.coverage_note.hide()
        results_area = QWidget()
        area = QVBoxLayout(results_area)
        area.setContentsMargins(0, 0, 0, 0)
        area.setSpacing(6)
        area.addWidget(self.coverage_note)
        area.addWidget(self.results_stack, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(results_area)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 6)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(12)

        self.status = StatusLine()
        self.status.pause_clicked.connect(self.pause_requested)
        self.status.problems_clicked.connect(self.show_problems)

        page = QWidget()
        inner = QVBoxLayout()
        inner.setContentsMargins(16, 16, 16, 10)
        inner.setSpacing(10)
        inner.addLayout(top)
        inner.addWidget(self.filters)
        inner.addWidget(self.splitter, 1)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(inner, 1)
        layout.addWidget(self.status)
        QWidget.setTabOrder(self.field, self.filters.focus_widgets()[0])
        chain = self.filters.focus_widgets() + [self.results, self.preview.open_button, self.preview.reveal_button]
        for a, b in zip(chain, chain[1:]):
            QWidget.setTabOrder(a, b)
        self._set_empty_message()
        return page

    def _build_actions(self) -> None:
        menu = QMenu(self)
        self.add_folder_action = menu.addAction("Add a folder…", self.add_folder_requested.emit)
        self.pause_action = menu.addAction("Pause indexing", self.pause_requested.emit)
        self.problems_action = menu.addAction("Files not indexed…", self.show_problems)
        menu.addSeparator()
        self.settings_action = menu.addAction("Settings…", self.settings_requested.emit)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        menu.addSeparator()
        self.quit_action = menu.addAction("Quit Seekwise", self.quit_requested.emit)
        self.quit_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        self.menu_button.setMenu(menu)
        for action in (self.settings_action, self.quit_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)
        focus = QAction(self, shortcut=QKeySequence("Ctrl+L"), triggered=self.focus_search)
        self.addAction(focus)

    # -- pages ---------------------------------------------------------------------------------

    def set_library(self, lib: Library) -> None:
        self.library = lib
        self.searcher.set_library(lib)
        self.filters.set_roots(lib.roots())
        if lib.roots():
            self.show_search_page()
        else:
            self.stack.setCurrentWidget(self.welcome)
            self.welcome.activate()

    def detach(self) -> None:
        """The app is closing: no more searches or previews (their threads are waited for)."""
        self.library = None
        self.welcome.deactivate()
        self.searcher.close()

    def show_search_page(self) -> None:
        if self.library is not None:
            self.filters.set_roots(self.library.roots())
        self.welcome.deactivate()
        self.stack.setCurrentWidget(self.search_page)
        self.focus_search()

    def focus_search(self) -> None:
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.field.selectAll()

    # -- searching -----------------------------------------------------------------------------

    def search(self, text: str) -> None:
        """Type `text` into the field (what a user does; tests and --query use it)."""
        self.field.setText(text)

    def _query_changed(self, text: str, now: bool = False) -> None:
        self.searcher.request(text, self.filters.mode(), self.filters.filters(), now=now)
        if not text.strip():
            self._show_answer(SearchAnswer(self.searcher.latest))  # type: ignore[arg-type]

    def _show_answer(self, answer: SearchAnswer) -> None:
        self.answer = answer
        current = self.current_row()
        self.status.set_search_time(answer.seconds * 1000 if answer.rows or answer.request.query else None)
        if answer.rows and _shown_as(answer.rows) == _shown_as(self.model.rows):
            # the same rows again (a re-run while indexing, or marks refined): selection and scroll stay
            self.model.update_rows(answer.rows)
            row = self.results.currentIndex().row()
            if current is not None and 0 <= row < len(answer.rows) and answer.rows[row] != current:
                self._load_preview(row)
            self._show_coverage()
            self.results_shown.emit(answer)
            return
        self.model.set_rows(answer.rows)
        if answer.rows:
            self.results_stack.setCurrentWidget(self.results)
            keep = next((i for i, r in enumerate(answer.rows) if current and r.path == current.path), 0)
            self.results.setCurrentIndex(self.model.index(keep))
        else:
            self._set_empty_message(answer)
            self.results_stack.setCurrentWidget(self.empty)
            self.preview.clear()
        self._show_coverage()
        self.results_shown.emit(answer)

    def _show_coverage(self) -> None:
        """A search by meaning made while the meaning phase runs sees only the passages embedded so
        far: one line above the results says how much, and that keywords already reach every file."""
        share = meaning_share(self.status.state, self.status.status)
        answer = self.answer
        shown = (answer is not None and bool(answer.request.query) and answer.request.mode != "lexical"
                 and share is not None and share < 1)
        if shown:
            self.coverage_note.setText(f"Meaning covers {percent(share)} of your passages so far; "
                                       "keywords already find every file.")
        self.coverage_note.setVisible(shown)

    def _set_empty_message(self, answer: SearchAnswer | None = None) -> None:
        if answer is None or not answer.request.query:
            files = plural(self._total_files, "file") if self._total_files else "your files"
            self.empty.setText(f"Type to search {files}.\n\nPlain words search by meaning and keywords;\n"
                               '"an exact phrase" must occur; -word leaves out files with that word.')
        elif answer.error:
            self.empty.setText(f"The search failed: {answer.error}")
        else:
            where = self.filters.describe()
            self.empty.setText(f"Nothing matches “{answer.request.query}”" + (f" ({where})" if where else "") + ".")

    def current_row(self) -> ResultRow | None:
        index = self.results.currentIndex()
        return index.data(ROW_ROLE) if index.isValid() else None

    def _load_preview(self, row_index: int) -> None:
        if not (0 <= row_index < len(self.model.rows)) or self.library is None:
            return
        row = self.model.rows[row_index]
        self._preview_seq += 1
        seq, lib = self._preview_seq, self.library
        self.runner.run(lambda: load_context(lib, row.path, row.passage), lambda doc: self._show_preview(seq, doc))

    def _show_preview(self, seq: int, doc: PreviewDoc) -> None:
        if seq != self._preview_seq:
            return                       # the selection moved on while it loaded
        if self.preview.doc != doc:      # an identical document keeps its rendering and scroll
            self.preview.show_doc(doc)
            QTimer.singleShot(0, lambda: self.preview.doc is doc and self.preview.scroll_to_focus())  # laid out by then
        self.preview_shown.emit(doc)

    # -- acting on a result --------------------------------------------------------------------

    def open_current(self) -> None:
        row = self.current_row()
        if row is not None:
            self.open_path(row.path, row.page)

    def open_path(self, path: str, page: int = 0) -> None:
        if page and path.lower().endswith(".pdf"):    # which viewer takes a page: xdg-mime, off this thread
            self.runner.run(desktop.default_pdf_viewer, lambda _v: self._open(path, page),
                            lambda _e: self._open(path, 0))
        else:
            self._open(path, 0)

    def _open(self, path: str, page: int) -> None:
        (desktop.open_at_page(path, page) if page else desktop.open_file(path))
        self.opened.emit(path)

    def reveal_current(self) -> None:
        row = self.current_row()
        if row is not None:
            self.reveal_path(row.path)

    def reveal_path(self, path: str) -> None:
        desktop.reveal(path)

    def copy_current(self) -> bool:
        row = self.current_row()
        if row is not None:
            desktop.copy_path(row.path)
        return row is not None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.KeyPress and obj in (self.field, self.results):
            return self._key(obj, event)  # type: ignore[arg-type]
        return super().eventFilter(obj, event)

    def _key(self, obj: QObject, event: QKeyEvent) -> bool:
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        if key in _RETURN:
            self.reveal_current() if ctrl else self.open_current()
            return True
        if key == Qt.Key.Key_Escape:
            if obj is self.results:
                self.focus_search()
            self.hide_requested.emit()
            return True
        if ctrl and key == Qt.Key.Key_C and not (obj is self.field and self.field.hasSelectedText()):
            return self.copy_current()
        if obj is self.field and key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
            self._move(key)
            return True
        return False

    def _move(self, key: Qt.Key) -> None:
        count = self.model.rowCount()
        if not count:
            return
        row = self.results.currentIndex().row()
        step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_PageDown: 5, Qt.Key.Key_PageUp: -5}[key]
        row = max(0, min(count - 1, (row if row >= 0 else -1) + step))
        self.results.setCurrentIndex(self.model.index(row))

    # -- status --------------------------------------------------------------------------------

    def set_service_state(self, state: ServiceState) -> None:
        self.status.set_state(state)
        self.pause_action.setText("Resume indexing" if state.state is ServiceStatus.PAUSED else "Pause indexing")
        self._show_coverage()

    def set_library_status(self, status: LibraryStatus) -> None:
        self._total_files = status.by_status.get(FileStatus.OK, 0)
        self.status.set_status(status)
        self._show_coverage()
        self.filters.set_roots(status.roots)
        if self.answer is None or not self.answer.request.query:
            self._set_empty_message()

    def show_problems(self) -> None:
        if self.library is None:
            return
        lib = self.library
        self.runner.run(lambda: lib.status(problems=1000).problems, self._problems_ready)

    def _problems_ready(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems_dialog = ProblemsDialog(problems, self)
        self.problems_dialog.show()

    # -- window state --------------------------------------------------------------------------

    def restore_geometry(self, settings: QSettings) -> None:
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = settings.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def save_geometry(self, settings: QSettings) -> None:
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/splitter", self.splitter.saveState())

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        """Esc from anywhere in the window (filters, preview, buttons) hides it; a popup (an open
        combo box) takes its Esc first, as the key reaches us only when no child used it."""
        if event.key() == Qt.Key.Key_Escape and not event.modifiers():
            self.hide_requested.emit()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.keep_running_on_close:
            event.ignore()
            self.hide_requested.emit()
        else:
            event.accept()
            self.quit_requested.emit()

