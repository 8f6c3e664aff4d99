"""Word-processor content as the chunker reads it: paragraphs apart, '# ' headings, a line per table row.

DOCX and ODT both describe paragraphs (which may hold text boxes and notes, so paragraphs nest),
tables (which may hold tables) and list items; this collects their text in reading order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SPACE = re.compile(r"[ \t\r\f\v\u00a0]+")
_LINES = re.compile(r" *\n *")


@dataclass
class _Paragraph:
    parts: list[str] = field(default_factory=list)
    heading: int = 0
    listed: bool = False


@dataclass
class _Table:
    rows: list[str] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)


class Layout:
    """Open and close paragraphs, tables, rows and cells as the XML does; `text()` gives the result."""

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._containers: list[list[str]] = [self._blocks]  # the body, then any open table cells
        self._paragraphs: list[_Paragraph] = []
        self._tables: list[_Table] = []

    # -- paragraphs ----------------------------------------------------------------------------

    def open_paragraph(self) -> None:
        self._paragraphs.append(_Paragraph())

    def heading(self, level: int) -> None:
        """The open paragraph is a heading of this level (1 = top)."""
        if self._paragraphs and level > 0:
            self._paragraphs[-1].heading = min(level, 6)

    def list_item(self) -> None:
        if self._paragraphs:
            self._paragraphs[-1].listed = True

    def add(self, text: str) -> None:
        if self._paragraphs and text:
            self._paragraphs[-1].parts.append(text)

    def close_paragraph(self) -> None:
        if not self._paragraphs:
            return
        para = self._paragraphs.pop()
        text = _LINES.sub("\n", _SPACE.sub(" ", "".join(para.parts))).strip()
        if not text:
            return
        if para.heading:
            text = "#" * para.heading + " " + " ".join(text.split("\n"))
        elif para.listed:
            text = "- " + text
        self._containers[-1].append(text)

    @property
    def in_paragraph(self) -> bool:
        return bool(self._paragraphs)

    # -- tables --------------------------------------------------------------------------------

    def open_table(self) -> None:
        self._tables.append(_Table())

    def open_row(self) -> None:
        if self._tables:
            self._tables[-1].cells = []

    def open_cell(self) -> None:
        if self._tables:
            self._containers.append([])

    def close_cell(self) -> None:
        if self._tables and len(self._containers) > 1:
            parts = self._containers.pop()
            self._tables[-1].cells.append(" ".join(" ".join(parts).split()))

    def close_row(self) -> None:
        if self._tables:
            table = self._tables[-1]
            row = " | ".join(c for c in table.cells if c)
            if row:
                table.rows.append(row)
            table.cells = []

    def close_table(self) -> None:
        if self._tables:
            table = self._tables.pop()
            if table.rows:  # a table inside a cell becomes part of that cell's text
                self._containers[-1].append("\n".join(table.rows) if len(self._containers) == 1
                                            else "; ".join(table.rows))

    # -- result --------------------------------------------------------------------------------

    def text(self) -> str:
        while self._paragraphs:  # a document cut short keeps what it had
            self.close_paragraph()
        return "\n\n".join(self._blocks)

    def first_heading(self) -> str | None:
        for block in self._blocks:
            if block.startswith("#"):
                return block.lstrip("#").strip() or None
        return None
