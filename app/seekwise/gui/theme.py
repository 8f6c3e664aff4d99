"""Fusion with a light or dark palette that follows the system (or is forced, for screenshots)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

SCHEMES = ("system", "light", "dark")


@dataclass(frozen=True)
class Colours:
    """What our own painting needs beyond the palette: highlights must read in both schemes."""

    dark: bool
    mark_bg: QColor
    mark_fg: QColor
    sentence_bg: QColor      # a sentence marked for its meaning: softer than matched words
    passage_bg: QColor
    dim: QColor
    accent: QColor
    card: QColor
    border: QColor


LIGHT = Colours(False, QColor("#ffe27a"), QColor("#1d1d1f"), QColor("#fdf0c2"), QColor("#eef3fb"), QColor("#6b7280"),
                QColor("#2f6fde"), QColor("#ffffff"), QColor("#dcdfe4"))
DARK = Colours(True, QColor("#8a6d12"), QColor("#fff8e1"), QColor("#4a3f1c"), QColor("#2b3242"), QColor("#9aa3ae"),
               QColor("#5b9bff"), QColor("#26282c"), QColor("#3a3d43"))

_current = LIGHT


def colours() -> Colours:
    return _current


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hasattr(hints, "colorScheme") and hints.colorScheme() == Qt.ColorScheme.Dark


def _palette(dark: bool) -> QPalette:
    p = QPalette()
    if dark:
        window, base, alt, text, button = "#1f2023", "#26282c", "#2b2d31", "#e8eaed", "#2d2f34"
        highlight, hl_text, dim, link = "#2d5aa8", "#ffffff", "#8b929c", "#7fb2ff"
    else:
        window, base, alt, text, button = "#f3f4f6", "#ffffff", "#f7f8fa", "#1d1d1f", "#fbfbfc"
        highlight, hl_text, dim, link = "#d7e5fb", "#111418", "#6b7280", "#1f5fcf"
    roles = QPalette.ColorRole
    for role, colour in ((roles.Window, window), (roles.Base, base), (roles.AlternateBase, alt),
                         (roles.Text, text), (roles.WindowText, text), (roles.Button, button),
                         (roles.ButtonText, text), (roles.ToolTipBase, base), (roles.ToolTipText, text),
                         (roles.Highlight, highlight), (roles.HighlightedText, hl_text),
                         (roles.PlaceholderText, dim), (roles.Link, link), (roles.BrightText, "#ff6b6b")):
        p.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.Text, roles.WindowText, roles.ButtonText):
        p.setColor(disabled, role, QColor(dim))
    p.setColor(roles.Mid, QColor("#44474d" if dark else "#c9cdd3"))
    p.setColor(roles.Midlight, QColor("#3a3d42" if dark else "#e4e6ea"))
    return p


def apply(app: QApplication, scheme: str = "system") -> Colours:
    """Set the style, palette, font and our colours; call again when the system scheme changes."""
    global _current
    dark = system_is_dark() if scheme == "system" else scheme == "dark"
    app.setStyle("Fusion")
    app.setPalette(_palette(dark))
    font = app.font()
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
        app.setFont(font)
    _current = DARK if dark else LIGHT
    app.setStyleSheet(_sheet(_current))
    return _current


def follow_system(app: QApplication, on_change=None) -> None:  # noqa: ANN001
    """Re-apply when the desktop switches light/dark (Qt 6.5+ reports it)."""
    hints = QGuiApplication.styleHints()
    if hasattr(hints, "colorSchemeChanged"):
        def changed(*_: object) -> None:
            apply(app, "system")
            if on_change is not None:
                on_change()
        hints.colorSchemeChanged.connect(changed)


def heading_font(base: QFont, scale: float = 1.6, bold: bool = True) -> QFont:
    font = QFont(base)
    font.setPointSizeF(base.pointSizeF() * scale)
    font.setBold(bold)
    return font


def _sheet(c: Colours) -> str:
    border = c.border.name()
    accent = c.accent.name()
    card = c.card.name()
    dim = c.dim.name()
    return f"""
    QLineEdit#searchField {{
        border: 1px solid {border}; border-radius: 10px; padding: 8px 12px;
        background: {card}; selection-background-color: {accent};
    }}
    QLineEdit#searchField:focus {{ border: 2px solid {accent}; padding: 7px 11px; }}
    QListView#results, QTextBrowser#previewText {{ border: 1px solid {border}; border-radius: 8px; background: {card}; }}
    QFrame#previewHeader {{ background: transparent; }}
    QLabel#dim {{ color: {dim}; }}
    QLabel#emptyState {{ color: {dim}; }}
    QToolButton#mode {{
        border: 1px solid {border}; padding: 4px 12px; background: {card};
    }}
    QToolButton#mode:checked {{ background: {accent}; color: white; border-color: {accent}; }}
    QToolButton#mode:focus {{ border: 1px solid {accent}; }}
    QToolButton#modeFirst {{ border-top-left-radius: 6px; border-bottom-left-radius: 6px; }}
    QToolButton#menuButton {{ font-size: 16px; padding: 2px 6px; }}
    QToolButton#menuButton::menu-indicator {{ image: none; width: 0; }}
    QPushButton#link {{ border: none; color: {accent}; text-decoration: underline; padding: 0 4px; background: transparent; }}
    QPushButton#errors {{ border: none; color: #d9534f; padding: 0 4px; background: transparent; font-weight: bold; }}
    QFrame#statusLine {{ border-top: 1px solid {border}; }}
    QComboBox {{ padding: 3px 8px; }}
    """
