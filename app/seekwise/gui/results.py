"""The results list: a model of ResultRows and a delegate that paints icon, name, folder, date,
the passage with its highlights, and a small relevance bar."""

from __future__ import annotations

import html
import os
import time
from datetime import datetime

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QAbstractTextDocumentLayout, QFont, QFontMetrics, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from seekwise.core.under import is_under
from seekwise.gui import theme
from seekwise.gui.icons import FileIcons
from seekwise.gui.searcher import ResultRow

ROW_ROLE = Qt.ItemDataRole.UserRole + 1
PAD = 10
ICON = 32
DIVIDER_PAD = 3


def friendly_date(ts: float | None, now: float | None = None) -> str:
    if ts is None:
        return ""
    now = now or time.time()
    when = datetime.fromtimestamp(ts)
    days = (datetime.fromtimestamp(now).date() - when.date()).days
    if days == 0:
        return when.strftime("Today %H:%M")
    if days == 1:
        return "Yesterday"
    if 0 < days < 7:
        return when.strftime("%A")
    return when.strftime("%d %b %Y").lstrip("0")


def short_folder(folder: str) -> str:
    home = os.path.expanduser("~")
    return "~" + folder[len(home):] if home != "/" and is_under(folder, home) else folder


def marked_html(text: str, marks: tuple[tuple[int, int], ...] | list[tuple[int, int]]) -> str:
    """Escaped text with <b> on the highlighted spans (colours come from the document's style sheet)."""
    out, pos = [], 0
    for start, end in sorted(marks):
        start, end = max(start, pos), min(end, len(text))
        if start >= end:
            continue
        out.append(html.escape(text[pos:start]))
        out.append(f'<span class="m">{html.escape(text[start:end])}</span>')
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


class ResultsModel(QAbstractListModel):
    def __init__(self, parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.rows: list[ResultRow] = []

    def set_rows(self, rows: list[ResultRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def update_rows(self, rows: list[ResultRow]) -> None:
        """The same rows with fresher fields: repainted in place, selection and scroll kept."""
        self.rows = list(rows)
        if rows:
            self.dataChanged.emit(self.index(0), self.index(len(rows) - 1))

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            return row.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.path
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{row.divider + ' ' if row.divider else ''}{row.name} in {row.folder}: {row.snippet}"
        return None


class ResultDelegate(QStyledItemDelegate):
    """Three lines per file: name and date; folder; two lines of the passage, marks highlighted."""

    SNIPPET_LINES = 2

    def __init__(self, parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.icons = FileIcons(ICON)
        self._doc = QTextDocument()
        self._doc.setDocumentMargin(0)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        fm = QFontMetrics(option.font)
        small = QFontMetrics(self._small(option.font))
        height = PAD + fm.height() + 2 + small.height() + 6 + self.SNIPPET_LINES * (fm.lineSpacing() + 2) + PAD
        return QSize(200, height)

    def _paint_divider(self, painter: QPainter, rect: QRect, text: str, font: QFont) -> int:
        """Where the weaker matches start: a rule with its label ("No good match" when no row above it
        matched) in the space of one passage line (the list's rows are all one height); returns the
        height it took."""
        c = theme.colours()
        small = self._small(font)
        small.setBold(True)
        fm = QFontMetrics(small)
        height = fm.height() + 2 * DIVIDER_PAD
        middle = rect.top() + height // 2
        painter.setFont(small)
        painter.setPen(c.dim)
        label_w = fm.horizontalAdvance(text) + 12
        painter.drawText(QRect(rect.left() + PAD, rect.top(), label_w, height),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        painter.setPen(c.border)
        painter.drawLine(rect.left() + PAD + label_w, middle, rect.right() - PAD, middle)
        return height

    @staticmethod
    def _small(font: QFont) -> QFont:
        f = QFont(font)
        f.setPointSizeF(font.pointSizeF() * 0.9)
        return f

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        row: ResultRow | None = index.data(ROW_ROLE)
        if row is None:
            return
        c = theme.colours()
        pal = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect.adjusted(4, 2, -4, -2)
        snippet_lines = self.SNIPPET_LINES
        if row.divider:
            rect.setTop(rect.top() + self._paint_divider(painter, rect, row.divider, option.font) - PAD // 2)
            snippet_lines -= 1
        if selected:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(pal.color(QPalette.ColorRole.Highlight))
            painter.drawRoundedRect(rect, 6, 6)
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(pal.color(QPalette.ColorRole.AlternateBase))
            painter.drawRoundedRect(rect, 6, 6)
        text_colour = pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)

        icon_rect = QRect(rect.left() + PAD, rect.top() + PAD, ICON, ICON)
        self.icons.icon(row.path).paint(painter, icon_rect)

        left = icon_rect.right() + PAD
        right = rect.right() - PAD
        fm = QFontMetrics(option.font)
        bold = QFont(option.font)
        bold.setBold(True)
        small = self._small(option.font)
        sfm = QFontMetrics(small)
        y = rect.top() + PAD

        # line 1: name ............................................ date
        date = friendly_date(row.mtime)
        date_w = sfm.horizontalAdvance(date) + 4
        painter.setFont(small)
        painter.setPen(c.dim if not selected else text_colour)
        painter.drawText(QRect(right - date_w, y, date_w, fm.height()),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, date)
        painter.setFont(bold)
        painter.setPen(text_colour)
        name_w = right - date_w - 12 - left
        painter.drawText(QRect(left, y, name_w, fm.height()), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         QFontMetrics(bold).elidedText(row.name, Qt.TextElideMode.ElideMiddle, name_w))
        y += fm.height() + 2

        # line 2: folder ......................................... relevance
        bar_w, bar_h = 44, 4
        painter.setFont(small)
        painter.setPen(c.dim if not selected else text_colour)
        folder_w = right - left - bar_w - 12
        painter.drawText(QRect(left, y, folder_w, sfm.height()), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         sfm.elidedText(short_folder(row.folder), Qt.TextElideMode.ElideMiddle, folder_w))
        bar = QRectF(right - bar_w, y + (sfm.height() - bar_h) / 2, bar_w, bar_h)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(c.border)
        painter.drawRoundedRect(bar, 2, 2)
        painter.setBrush(c.accent)
        painter.drawRoundedRect(QRectF(bar.left(), bar.top(), max(bar_h, bar_w * row.relevance), bar_h), 2, 2)
        y += sfm.height() + 6

        # lines 3-4: the passage, highlighted, clipped to two lines
        width = right - left
        self._doc.setDefaultFont(option.font)
        self._doc.setDefaultStyleSheet(
            f".m {{ background-color: {(c.sentence_bg if row.mark_kind == 'sentence' else c.mark_bg).name()}; "
            f"color: {c.mark_fg.name()}; }}")
        self._doc.setHtml(f'<span>{marked_html(row.snippet, row.marks)}</span>')
        self._doc.setTextWidth(width)
        lines = self._doc.firstBlock().layout()
        height = (lines.lineAt(snippet_lines).y() if lines is not None and lines.lineCount() > snippet_lines
                  else self._doc.size().height())
        clip = QRectF(0, 0, width, height)     # exactly two lines: no sliver of a third
        painter.translate(left, y)
        ctx = QAbstractTextDocumentLayout.PaintContext()
        ctx.clip = clip
        ctx.palette.setColor(QPalette.ColorRole.Text, text_colour)
        painter.setClipRect(clip)
        self._doc.documentLayout().draw(painter, ctx)
        painter.restore()
