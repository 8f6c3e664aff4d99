"""The window's page for a library that cannot open: what is wrong, and (for damage) a Repair button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

REPAIR_NOTE = ("Repair sets the damaged file aside (nothing is deleted) and builds the library again from "
               "your folders. It re-reads every file, which can take a while; you can search as soon as "
               "the first files are in.")


class RepairView(QWidget):
    """Shown instead of 'Opening…' when the library failed to open; the button only for damage."""

    repair_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Seekwise cannot open its library", objectName="emptyState",
                            alignment=Qt.AlignmentFlag.AlignCenter)
        self.message = QLabel(wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter,
                              textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLabel(REPAIR_NOTE, wordWrap=True, objectName="dim", alignment=Qt.AlignmentFlag.AlignCenter)
        self.button = QPushButton("Repair library", objectName="primary", cursor=Qt.CursorShape.PointingHandCursor)
        self.button.setAutoDefault(True)
        self.button.clicked.connect(self.repair_requested)
        # A column of at most 720 px, centred by stretches: a word-wrapped label given an alignment in
        # its layout gets no height for its width, and its lines are cut off.
        column = QWidget(self)
        column.setMaximumWidth(720)
        inner = QVBoxLayout(column)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(14)
        for widget in (self.title, self.message, self.note):
            inner.addWidget(widget)
        inner.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(column, 4)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 40, 40, 40)
        layout.addStretch(2)
        layout.addLayout(row)
        layout.addStretch(3)
        self.problem = ""

    def show_problem(self, text: str, repairable: bool) -> None:
        self.problem = text
        # A long path has no spaces to wrap at: let it break after each separator (zero-width space).
        self.message.setText(text.replace("/", "/\u200b").replace("\\", "\\\u200b"))
        self.note.setText(REPAIR_NOTE if repairable else "")
        self.note.setVisible(repairable)
        self.button.setVisible(repairable)
        self.button.setEnabled(True)
        self.button.setText("Repair library")

    def set_busy(self, text: str) -> None:
        """While the repair runs (off the GUI thread): the button waits, the note says what happens."""
        self.button.setEnabled(False)
        self.button.setText("Repairing…")
        self.note.setText(text)
