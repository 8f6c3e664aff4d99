"""The app icon (scalable SVG from the installed `seekwise.resources`) and per-file-type icons."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QFileInfo, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import QFileIconProvider

# family colours for the badge we draw where the desktop has no icon theme (offscreen, bare WMs)
_BADGE_COLOURS = {
    "pdf": "#d64541", "doc": "#2b6cb0", "docx": "#2b6cb0", "odt": "#2b6cb0", "rtf": "#2b6cb0",
    "epub": "#7b4bb7", "md": "#3b8d6e", "markdown": "#3b8d6e", "txt": "#6b7785", "rst": "#3b8d6e",
    "org": "#3b8d6e", "html": "#e07b24", "htm": "#e07b24", "csv": "#1f8a4c", "tsv": "#1f8a4c",
    "json": "#a07a10", "eml": "#c2417a",
}
_CODE_COLOUR = "#5a57c8"


def icon_path() -> Path:
    """seekwise.svg where the package is installed (or in a source checkout)."""
    try:
        found = Path(str(resources.files("seekwise.resources") / "icons" / "seekwise.svg"))
        if found.is_file():
            return found
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[3] / "resources" / "icons" / "seekwise.svg"


def app_icon() -> QIcon:
    path = icon_path()
    return QIcon(str(path)) if path.is_file() else QIcon()


class FileIcons:
    """QFileIconProvider's icon where the desktop's icon theme knows the type, else a drawn badge;
    cached per extension, since the provider can be slow and is called while painting."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._provider = QFileIconProvider()
        self._cache: dict[str, QIcon] = {}
        self._themed = bool(QIcon.themeName()) and QIcon.themeName() not in ("hicolor",)

    def icon(self, path: str) -> QIcon:
        ext = os.path.splitext(path)[1].lower().lstrip(".")
        if ext not in self._cache:
            icon = self._provider.icon(QFileInfo(path)) if self._themed else QIcon()
            self._cache[ext] = icon if not icon.isNull() else self._badge(ext)
        return self._cache[ext]

    def _badge(self, ext: str) -> QIcon:
        icon = QIcon()
        for scale in (1, 2):
            icon.addPixmap(_draw_badge(ext, self.size, scale))
        return icon


def _draw_badge(ext: str, size: int, scale: int) -> QPixmap:
    """A folded page with the extension on a coloured band: readable at 32 px, crisp at 2x."""
    px = QPixmap(QSize(size, size) * scale)
    px.setDevicePixelRatio(scale)
    px.fill(Qt.GlobalColor.transparent)
    p = QPainter(px)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    w, h = size * 0.74, size * 0.92
    x, y = (size - w) / 2, (size - h) / 2
    fold = w * 0.3
    page = QPainterPath()
    page.moveTo(x, y + 2)
    page.quadTo(x, y, x + 2, y)
    page.lineTo(x + w - fold, y)
    page.lineTo(x + w, y + fold)
    page.lineTo(x + w, y + h - 2)
    page.quadTo(x + w, y + h, x + w - 2, y + h)
    page.lineTo(x + 2, y + h)
    page.quadTo(x, y + h, x, y + h - 2)
    page.closeSubpath()
    p.setPen(QColor(0, 0, 0, 60))
    p.setBrush(QColor("#fbfbfc"))
    p.drawPath(page)
    p.setBrush(QColor(0, 0, 0, 30))
    corner = QPainterPath()
    corner.moveTo(x + w - fold, y)
    corner.lineTo(x + w - fold, y + fold)
    corner.lineTo(x + w, y + fold)
    corner.closeSubpath()
    p.drawPath(corner)
    colour = QColor(_BADGE_COLOURS.get(ext, _CODE_COLOUR if ext else "#6b7785"))
    band = QRectF(x - 2, y + h * 0.52, w + 2, h * 0.3)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(colour)
    p.drawRoundedRect(band, 2, 2)
    label = (ext or "file")[:4].upper()
    font = QFont()
    font.setBold(True)
    font.setPixelSize(max(6, int(size * (0.22 if len(label) <= 3 else 0.18))))
    p.setFont(font)
    p.setPen(QColor("white"))
    p.drawText(band, Qt.AlignmentFlag.AlignCenter, label)
    p.end()
    return px
