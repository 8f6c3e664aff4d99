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

CONTEXT_CHARS = 6000     # of text either side of the passage (a whole page, for a PDF)


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
    """Lay the file's chunks back on their character offsets around the passage (pool thread)."""
    rec = lib.store.get_file(path)
    doc = PreviewDoc(path, page=passage.page, line=passage.line,
                     mtime=rec.mtime_ns / 1e9 if rec else None, size=rec.size if rec else 0)
    chunks = lib.store.get_chunks(rec.chunk_ids) if rec else []
    if passage.page:
        chunks = [ch for ch in chunks if ch.page == passage.page or ch.id == passage.chunk_id]
    chunks = [ch for ch in chunks
              if ch.end >= passage.start - CONTEXT_CHARS and ch.start <= passage.end + CONTEXT_CHARS]
    chunks.sort(key=lambda ch: (ch.start, ch.id))
    if not any(ch.id == passage.chunk_id for ch in chunks):
        doc.text, doc.passage_span = passage.text, (0, len(passage.text))
        doc.marks = list(passage.marks)
        doc.note = "The file changed since it was indexed." if rec is None else ""
        return doc
    parts: list[str] = []
    length = 0
    cursor = None            # the file offset the text so far reaches
    for ch in chunks:
        exact = len(ch.text) == ch.end - ch.start
        if cursor is None or not exact:
            piece = ch.text if cursor is None else "\n\n" + ch.text
            offset = 0 if cursor is None else 2
        elif ch.start >= cursor:
            gap = ch.start - cursor
            piece = ("\n\n" if gap > 1 else " " if gap else "") + ch.text
            offset = len(piece) - len(ch.text)
        else:                # overlaps what we have: add only the new tail
            piece = ch.text[cursor - ch.start:]
            offset = -(cursor - ch.start)
        if ch.id == passage.chunk_id:
            begin = length + offset
            doc.passage_span = (begin, begin + len(ch.text))
            doc.marks = [(begin + s, begin + e) for s, e in passage.marks]
        parts.append(piece)
        length += len(piece)
        cursor = ch.end if cursor is None else max(cursor, ch.end)
    doc.text = "".join(parts)
    return doc


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
