"""The preview pane: the passage in the text around it (rebuilt from the file's indexed chunks, so
PDFs and documents show without parsing them again), scrolled to the match and highlighted."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QTextBlockFormat, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QTextBrowser, QVBoxLayout,
                               QWidget)

from seekwise.core.library import Library
from seekwise.core.search import Passage
from seekwise.gui import theme
from seekwise.gui.results import friendly_date, short_folder


@dataclass
class PreviewDoc:
    path: str
    text: str = ""
    passage_span: tuple[int, int] = (0, 0)               # where the passage sits in `text`
    marks: list[tuple[int, int]] = field(default_factory=list)
    page: int = 0
    line: int = 0
    mtime: float | None = None
    size: int = 0
    note: str = ""


def load_context(lib: Library, path: str, passage: Passage) -> PreviewDoc:
    """The passage in the text around it, as the library rebuilds it from the index (pool thread)."""
    context = lib.passage_context(path, passage)
    return PreviewDoc(path, context.text, context.passage_span, context.marks, page=passage.page,
                      line=passage.line, mtime=context.mtime, size=context.size,
                      note="" if context.in_library else "The file changed since it was indexed.")


_HARD_WRAP = re.compile(r"(?<=[^\n]{50})\n(?=[^\n\s\d#*>|-])")


def reflow(text: str) -> str:
    """Join lines a file hard-wrapped (at ~60-80 columns) so the pane wraps them at its own width;
    one character for one, so highlight offsets stay true. Blank lines, lists, headings stay."""
    return _HARD_WRAP.sub(" ", text)


class PreviewPane(QWidget):
    """Header (name, folder, date, line or page, Open / Show in folder) over the text."""

    open_requested = Signal(str, int)     # path, page (0: none)
    reveal_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc: PreviewDoc | None = None
        header = QFrame(objectName="previewHeader")
        self.title = QLabel(textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setFont(theme.heading_font(self.font(), 1.2))
        self.subtitle = QLabel(objectName="dim")
        self.subtitle.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.open_button = QPushButton("Open")
        self.reveal_button = QPushButton("Show in folder")
        for b in (self.open_button, self.reveal_button):
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.open_button.clicked.connect(self._open)
        self.reveal_button.clicked.connect(lambda: self.doc and self.reveal_requested.emit(self.doc.path))
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row = QHBoxLayout()
        row.addWidget(self.title, 1)
        row.addWidget(self.open_button)
        row.addWidget(self.reveal_button)
        top = QVBoxLayout(header)
        top.setContentsMargins(2, 0, 0, 6)
        top.setSpacing(2)
        top.addLayout(row)
        top.addWidget(self.subtitle)
        self.text = QTextBrowser(objectName="previewText", openLinks=False)
        self.text.document().setDocumentMargin(14)
        self.placeholder = QLabel("Select a result to see it in context.", objectName="emptyState",
                                  alignment=Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(header)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.placeholder, 1)
        self.clear()

    def clear(self) -> None:
        self.doc = None
        self.title.setText("")
        self.subtitle.setText("")
        self.text.clear()
        for w in (self.open_button, self.reveal_button, self.text):
            w.setVisible(False)
        self.placeholder.setVisible(True)

    def show_doc(self, doc: PreviewDoc) -> None:
        self.doc = doc
        self.placeholder.setVisible(False)
        for w in (self.open_button, self.reveal_button, self.text):
            w.setVisible(True)
        self.title.setText(os.path.basename(doc.path))
        where = [short_folder(os.path.dirname(doc.path))]
        if doc.page:
            where.append(f"page {doc.page}")
        elif doc.line:
            where.append(f"line {doc.line}")
        if doc.mtime:
            where.append(friendly_date(doc.mtime))
        if doc.note:
            where.append(doc.note)
        self.subtitle.setText("  ·  ".join(where))
        self.subtitle.setToolTip(doc.path)
        self.open_button.setText(f"Open at page {doc.page}" if doc.page and doc.path.lower().endswith(".pdf")
                                 else "Open")
        self._render(doc)

    def _render(self, doc: PreviewDoc) -> None:
        c = theme.colours()
        self.text.setPlainText(reflow(doc.text))
        cursor = QTextCursor(self.text.document())
        mark = QTextCharFormat()
        mark.setBackground(c.mark_bg)
        mark.setForeground(c.mark_fg)
        start, end = doc.passage_span
        if end - start < 0.8 * len(doc.text):      # a band behind the passage's paragraphs, unless it is all
            band = QTextBlockFormat()
            band.setBackground(c.passage_bg)
            document = self.text.document()
            block, last = document.findBlock(start), document.findBlock(max(start, end - 1))
            while block.isValid():
                QTextCursor(block).mergeBlockFormat(band)
                if block == last:
                    break
                block = block.next()
        for s, e in doc.marks:
            s, e = max(0, s), min(len(doc.text), e)
            if s < e:
                cursor.setPosition(s)
                cursor.setPosition(e, QTextCursor.MoveMode.KeepAnchor)
                cursor.mergeCharFormat(mark)
        self.scroll_to_focus()

    def scroll_to_focus(self) -> None:
        """To the first mark, else the passage (again once the view is laid out)."""
        if self.doc is not None:
            self._scroll_to(self.doc.marks[0][0] if self.doc.marks else self.doc.passage_span[0])

    def _scroll_to(self, pos: int) -> None:
        cursor = QTextCursor(self.text.document())
        cursor.setPosition(min(pos, len(self.text.toPlainText())))
        self.text.setTextCursor(cursor)
        bar = self.text.verticalScrollBar()
        block = self.text.document().findBlock(cursor.position())
        layout = self.text.document().documentLayout()
        top = layout.blockBoundingRect(block).top()
        line = block.layout().lineForTextPosition(cursor.position() - block.position()) if block.layout() else None
        if line is not None and line.isValid():
            top += line.y()
        bar.setValue(max(0, int(top - self.text.viewport().height() / 3)))

    def _open(self) -> None:
        if self.doc:
            self.open_requested.emit(self.doc.path, self.doc.page)
