"""Folder, type and date filters and the hybrid / meaning / keywords switch, under the search field."""

from __future__ import annotations

import os
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QButtonGroup, QComboBox, QHBoxLayout, QLabel, QToolButton, QWidget

from seekwise.core.search import SearchFilters
from seekwise.gui.results import short_folder

TYPES = (
    ("All types", ()),
    ("Documents", ("pdf", "docx", "odt", "rtf", "epub")),
    ("PDF", ("pdf",)),
    ("Notes and text", ("text", "markdown", "txt", "md", "rst", "org")),
    ("Code", ("code",)),
    ("Web pages", ("html",)),
    ("Spreadsheets and data", ("csv", "tsv", "json")),
    ("E-mail", ("eml", "mbox")),
)
DATES = (("Any time", None), ("Past week", 7), ("Past month", 31), ("Past year", 365))
MODES = (("hybrid", "Hybrid", "Meaning and keywords, fused (best for most searches)"),
         ("dense", "Meaning", "Meaning only: finds paraphrases, ignores exact wording"),
         ("lexical", "Keywords", "Keywords only (BM25): exact words, names, codes"))


class FiltersBar(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = QComboBox(toolTip="Only files under this folder")
        self.folder.addItem("All folders", "")
        self.type = QComboBox(toolTip="Only files of this kind")
        for label, types in TYPES:
            self.type.addItem(label, types)
        self.date = QComboBox(toolTip="Only files modified recently")
        for label, days in DATES:
            self.date.addItem(label, days)
        for box, chars in ((self.folder, 16), (self.type, 14), (self.date, 10)):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(chars)   # a long folder path must not widen the window
            box.currentIndexChanged.connect(lambda *_: self.changed.emit())
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[str, QToolButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.folder)
        layout.addWidget(self.type)
        layout.addWidget(self.date)
        layout.addStretch(1)
        layout.addWidget(QLabel("Match:", objectName="dim"))
        segment = QHBoxLayout()
        segment.setSpacing(0)
        for i, (mode, label, tip) in enumerate(MODES):
            b = QToolButton(text=label, toolTip=tip, checkable=True, objectName="mode")
            b.setProperty("pos", "first" if i == 0 else "last" if i == len(MODES) - 1 else "middle")
            b.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            self.mode_group.addButton(b)
            self.mode_buttons[mode] = b
            segment.addWidget(b)
        self.mode_buttons["hybrid"].setChecked(True)
        self.mode_group.buttonToggled.connect(lambda _b, on: on and self.changed.emit())
        layout.addLayout(segment)

    def focus_widgets(self) -> list[QWidget]:
        return [self.folder, self.type, self.date, *self.mode_buttons.values()]

    def set_roots(self, roots: list[str]) -> None:
        current = self.folder.currentData()
        self.folder.blockSignals(True)
        self.folder.clear()
        self.folder.addItem("All folders", "")
        for root in roots:
            self.folder.addItem(short_folder(root), root)
            self.folder.setItemData(self.folder.count() - 1, root, Qt.ItemDataRole.ToolTipRole)
        index = self.folder.findData(current)
        self.folder.setCurrentIndex(max(0, index))
        self.folder.blockSignals(False)

    def mode(self) -> str:
        return next((m for m, b in self.mode_buttons.items() if b.isChecked()), "hybrid")

    def set_mode(self, mode: str) -> None:
        self.mode_buttons[mode].setChecked(True)

    def set_type(self, label: str) -> None:
        self.type.setCurrentIndex(self.type.findText(label))

    def filters(self, now: float | None = None) -> SearchFilters | None:
        folder = self.folder.currentData() or ""
        types = tuple(self.type.currentData() or ())
        days = self.date.currentData()
        after = (now or time.time()) - days * 86400 if days else None
        f = SearchFilters(folders=(folder,) if folder else (), types=types, after=after)
        return f if f.active else None

    def describe(self) -> str:
        """The active filters in words, for 'no results' messages."""
        parts = [self.type.currentText().lower() if self.type.currentIndex() else "",
                 f"in {os.path.basename(self.folder.currentData())}" if self.folder.currentIndex() else "",
                 self.date.currentText().lower() if self.date.currentIndex() else ""]
        return ", ".join(p for p in parts if p)
