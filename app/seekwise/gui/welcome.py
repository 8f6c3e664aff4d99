"""First run: pick folders (Documents, Desktop, Downloads suggested), see how many files that is, start."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QVBoxLayout, QWidget)

from seekwise.core.frontend import count_files
from seekwise.gui import theme
from seekwise.gui.icons import app_icon
from seekwise.gui.results import short_folder
from seekwise.gui.workers import Runner

_SUGGESTED = (QStandardPaths.StandardLocation.DocumentsLocation, QStandardPaths.StandardLocation.DesktopLocation,
              QStandardPaths.StandardLocation.DownloadLocation)


def suggested_folders() -> list[str]:
    """Documents, Desktop, Downloads where they exist (and are not just the home folder)."""
    home = os.path.realpath(os.path.expanduser("~"))
    out: list[str] = []
    for where in _SUGGESTED:
        path = QStandardPaths.writableLocation(where)
        if path and os.path.isdir(path) and os.path.realpath(path) != home and path not in out:
            out.append(path)
    return out


@dataclass
class Estimate:
    files: int          # files we can read
    other: int          # files we would skip (formats we do not read)
    complete: bool = True


def estimate(folders: list[str], cancel: threading.Event) -> Estimate:
    """Walk with the indexer's own scanner and ignore rules (pool thread); stops when cancelled."""
    count = count_files(folders, cancelled=cancel.is_set)
    return Estimate(count.readable, count.other, not cancel.is_set())


class WelcomeView(QWidget):
    start_requested = Signal(list)        # folders

    def __init__(self, runner: Runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self._cancel = threading.Event()
        self.counting = False                # True while the page shows: counts run only then
        self.last_estimate: Estimate | None = None
        icon = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        icon.setPixmap(app_icon().pixmap(72, 72))
        title = QLabel("Welcome to Seekwise", alignment=Qt.AlignmentFlag.AlignCenter)
        title.setFont(theme.heading_font(self.font(), 1.8))
        intro = QLabel("Seekwise finds your own files by what they mean, not only the words in them.\n"
                       "Choose the folders to search. Everything stays on this computer.",
                       alignment=Qt.AlignmentFlag.AlignCenter, objectName="dim", wordWrap=True)
        self.folders = QListWidget()
        self.folders.setMinimumHeight(140)
        self.folders.itemChanged.connect(lambda *_: self.recount())
        self.add_button = QPushButton("Add folder…")
        self.add_button.clicked.connect(self._choose)
        self.estimate_label = QLabel(objectName="dim")
        self.start_button = QPushButton("Start indexing", default=True)
        self.start_button.clicked.connect(self._start)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        buttons.addWidget(self.estimate_label)
        buttons.addSpacing(12)
        buttons.addWidget(self.start_button)
        column = QVBoxLayout()
        column.setSpacing(12)
        column.addStretch(1)
        column.addWidget(icon)
        column.addWidget(title)
        column.addWidget(intro)
        column.addSpacing(10)
        column.addWidget(QLabel("Folders to search:"))
        column.addWidget(self.folders)
        column.addLayout(buttons)
        column.addStretch(2)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column, 4)
        outer.addStretch(1)
        for folder in suggested_folders():
            self.add_folder(folder, checked=True)
        self.recount()

    def activate(self) -> None:
        """The page is on screen: count (a walk of whole folders, so never for a configured library)."""
        self.counting = True
        self.recount()

    def deactivate(self) -> None:
        self.counting = False
        self._cancel.set()

    def add_folder(self, folder: str, checked: bool = True) -> None:
        for i in range(self.folders.count()):
            if self.folders.item(i).data(Qt.ItemDataRole.UserRole) == folder:
                self.folders.item(i).setCheckState(Qt.CheckState.Checked)
                return
        item = QListWidgetItem(short_folder(folder))
        item.setData(Qt.ItemDataRole.UserRole, folder)
        item.setToolTip(folder)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        self.folders.blockSignals(True)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.folders.addItem(item)
        self.folders.blockSignals(False)
        self.recount()

    def chosen(self) -> list[str]:
        return [self.folders.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.folders.count())
                if self.folders.item(i).checkState() == Qt.CheckState.Checked]

    def recount(self) -> None:
        """Count again off the GUI thread; a count still running for the old choice is cancelled."""
        self._cancel.set()
        folders = self.chosen()
        self.start_button.setEnabled(bool(folders))
        if not folders:
            self.estimate_label.setText("Choose at least one folder")
            return
        if not self.counting:
            self.estimate_label.setText("")
            return
        cancel = self._cancel = threading.Event()
        self.estimate_label.setText("Counting files…")
        self.runner.run(lambda: estimate(folders, cancel), lambda est: self._counted(est, cancel))

    def _counted(self, est: Estimate, cancel: threading.Event) -> None:
        if cancel is not self._cancel or not est.complete:
            return
        self.last_estimate = est
        text = f"About {est.files:,} file{'' if est.files == 1 else 's'} to index"
        if est.other:
            text += f" ({est.other:,} other files skipped)"
        self.estimate_label.setText(text)

    def _choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to search", os.path.expanduser("~"))
        if folder:
            self.add_folder(folder)

    def _start(self) -> None:
        if self.chosen():
            self.deactivate()
            self.start_requested.emit(self.chosen())
