"""The status line (files indexed, queued, errors, what the indexer does) and the problems dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFrame, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from seekwise.core.library import FileStatus, LibraryStatus
from seekwise.core.service import ServiceState, ServiceStatus
from seekwise.core.wording import percent, plural


def describe_state(state: ServiceState | None) -> str:
    """The indexer's state in a few words; '' when there is nothing to say."""
    if state is None:
        return ""
    s = state.state
    if s is ServiceStatus.INDEXING and state.phase == "meaning" and state.meaning_share is not None:
        eta = f", about {duration(state.meaning_eta_s)} left" if state.meaning_eta_s and state.meaning_eta_s > 5 else ""
        return f"{meaning_words(state.meaning_share)}{eta}"
    if s is ServiceStatus.INDEXING and state.phase == "pictures":
        return f"Reading text in pictures (OCR): {state.files_done:,} of {plural(state.files_todo, 'file')}"
    if s is ServiceStatus.INDEXING:
        pct = f" {100 * state.files_done // state.files_todo}%" if state.files_todo else ""
        eta = f", about {duration(state.eta_s)} left" if state.eta_s and state.eta_s > 5 else ""
        return f"Indexing{pct} ({state.files_done:,} of {plural(state.files_todo, 'file')}{eta})"
    if s is ServiceStatus.SCANNING:
        return "Looking for changes…"
    if s is ServiceStatus.PAUSED:
        return "Indexing paused"
    if s is ServiceStatus.WAITING:
        return "Another Seekwise is indexing this library; searching still works"
    if s is ServiceStatus.ERROR:
        return f"Indexing stopped: {state.message}" if state.message else "Indexing stopped"
    if s is ServiceStatus.STARTING:
        return "Starting…"
    if s is ServiceStatus.STOPPED:
        return "Indexer stopped"
    return "Up to date"


def meaning_words(share: float) -> str:
    return f"Meaning: {percent(share)} of passages — keywords find every file"


def meaning_share(state: ServiceState | None, status: LibraryStatus | None) -> float | None:
    """How much of the library a search by meaning reaches: the running meaning phase's live
    figure, else the library's last counted one; None when nothing says."""
    if (state is not None and state.state is ServiceStatus.INDEXING and state.phase == "meaning"
            and state.meaning_share is not None):
        return state.meaning_share
    return status.meaning_share if status is not None else None


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 5400:
        return f"{int(seconds // 60)} min"
    return f"{seconds / 3600:.1f} h"


class StatusLine(QFrame):
    problems_clicked = Signal()
    pause_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="statusLine")
        self.counts = QLabel(objectName="dim")
        self.activity = QLabel(objectName="dim")
        self.errors = QPushButton(objectName="errors", cursor=Qt.CursorShape.PointingHandCursor,
                                  toolTip="Which files could not be read, and why")
        self.errors.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.errors.clicked.connect(self.problems_clicked)
        self.errors.hide()
        self.pause = QPushButton("Pause", objectName="link", cursor=Qt.CursorShape.PointingHandCursor,
                                 toolTip="Pause or resume background indexing")
        self.pause.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.pause.clicked.connect(self.pause_clicked)
        self.pause.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 5, 12, 5)
        layout.setSpacing(10)
        layout.addWidget(self.counts)
        layout.addWidget(self.errors)
        self.notice = QLabel(objectName="errors", wordWrap=True)   # e.g. the settings were reset
        self.notice.hide()
        layout.addWidget(self.notice, 2)
        layout.addStretch(1)
        layout.addWidget(self.activity)
        layout.addWidget(self.pause)
        self.state: ServiceState | None = None
        self.status: LibraryStatus | None = None
        self.search_ms: float | None = None

    def set_state(self, state: ServiceState) -> None:
        self.state = state
        self.pause.setVisible(state.state.can_pause)
        self.pause.setText("Resume" if state.state is ServiceStatus.PAUSED else "Pause")
        self._refresh()

    def set_notice(self, text: str) -> None:
        """Something the user should know once (not a state): shown until cleared."""
        self.notice.setText(text)
        self.notice.setToolTip(text)
        self.notice.setVisible(bool(text))

    def set_status(self, status: LibraryStatus) -> None:
        self.status = status
        self._refresh()

    def set_search_time(self, ms: float | None) -> None:
        self.search_ms = ms
        self._refresh()

    @property
    def error_count(self) -> int:
        return self.status.by_status.get(FileStatus.ERROR, 0) if self.status else 0

    def _refresh(self) -> None:
        parts = []
        if self.status is not None:
            parts.append(plural(self.status.by_status.get(FileStatus.OK, 0), "file") + " indexed")
        live = self.state is not None and self.state.state is ServiceStatus.INDEXING and self.state.phase == "meaning"
        if self.status is not None and self.status.meaning_share < 1 and not live:   # e.g. paused meanwhile
            parts.append(f"meaning {percent(self.status.meaning_share)} of passages")
        if self.state is not None and self.state.queued:
            parts.append(f"{self.state.queued:,} queued")
        if self.search_ms is not None:
            parts.append(f"search {self.search_ms:.0f} ms")
        self.counts.setText("  ·  ".join(parts))
        skipped = self.status.by_status.get(FileStatus.SKIPPED, 0) if self.status else 0
        errors = self.error_count
        if errors or skipped:
            self.errors.setText(plural(errors, "error") if errors else f"{skipped:,} skipped")
            self.errors.setObjectName("errors" if errors else "link")
            self.errors.style().unpolish(self.errors)
            self.errors.style().polish(self.errors)
        self.errors.setVisible(bool(errors or skipped))
        self.activity.setText(describe_state(self.state))


class ProblemsDialog(QDialog):
    """Which files were not indexed and why (Library.status().problems)."""

    def __init__(self, problems: list[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Files Seekwise could not index")
        self.resize(760, 420)
        stale = any(kind == "stale" for _, kind, _ in problems)
        intro = QLabel("These files were skipped or could not be read. Everything else was indexed."
                       + (" A stale file is still found by its last version that could be read." if stale else "")
                       if problems else "Every file was indexed.", wordWrap=True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["File", "Problem", "Why"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        for path, status, reason in problems:
            item = QTreeWidgetItem([path, status, reason])
            item.setToolTip(0, path)
            item.setToolTip(2, reason)
            self.tree.addTopLevelItem(item)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        from seekwise import logfile
        self.log_file = logfile.path_for("seekwise-gui")
        self.show_log = buttons.addButton("Show log", QDialogButtonBox.ButtonRole.ActionRole)
        self.show_log.clicked.connect(self.open_log_folder)
        self.log_note = QLabel(objectName="dim", wordWrap=True,
                               textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        self._describe_log()
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.log_note)
        layout.addWidget(buttons)

    def _describe_log(self) -> None:
        """Where the log is, or plainly that there is none yet (the folder may hold crash reports)."""
        folder = self.log_file.parent
        if self.log_file.is_file():
            self.log_note.setText(f"Seekwise's log: {self.log_file}")
        else:
            self.log_note.setText(f"No log yet: Seekwise keeps one in {folder} while it runs.")
        self.show_log.setEnabled(folder.is_dir())
        self.show_log.setToolTip(f"Open {folder}: the log and any crash reports" if folder.is_dir()
                                 else "There is no log yet")

    def open_log_folder(self) -> bool:
        """The folder rather than the file: it holds the older logs and the crash reports too."""
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices
        folder = self.log_file.parent
        opened = QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
        if not opened:
            self.log_note.setText(f"No program could open the folder. The log is in {folder}")
        return opened
