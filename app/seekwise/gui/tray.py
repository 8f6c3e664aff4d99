"""The system-tray icon: the indexer's state at a glance (a badge and a tooltip) and a small menu."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from seekwise.core.library import LibraryStatus
from seekwise.core.service import ServiceState, ServiceStatus
from seekwise.core.wording import percent
from seekwise.gui.status import duration

SIZES = (16, 22, 24, 32, 48, 64)
BADGE_COLOURS = {ServiceStatus.INDEXING: "#2f80ed", ServiceStatus.PAUSED: "#e8a33d", ServiceStatus.ERROR: "#d64541",
                 ServiceStatus.WAITING: "#7a8694"}


def badge_kind(state: ServiceState) -> ServiceStatus:
    """What the icon shows: idle (stopped too, with no badge), indexing (any activity), paused, error
    or waiting."""
    if state.state.busy:
        return ServiceStatus.INDEXING
    if state.state.is_problem or state.state is ServiceStatus.PAUSED:
        return state.state
    return ServiceStatus.IDLE


def progress_of(state: ServiceState) -> float | None:
    """The badge's arc: files read in the keywords phase, then the share searchable by meaning."""
    if state.state is ServiceStatus.INDEXING and state.phase == "meaning" and state.meaning_share is not None:
        return state.meaning_share
    if state.state is ServiceStatus.INDEXING and state.files_todo > 0:
        return min(1.0, state.files_done / state.files_todo)
    return None


def describe(state: ServiceState, meaning_share: float | None = None) -> str:
    """The tooltip: one line on what the indexer does, a second with the detail. `meaning_share`
    (the library's, from its status) is said while some passages wait and no run says it live."""
    kind = badge_kind(state)
    if kind is ServiceStatus.INDEXING and state.phase == "meaning" and state.meaning_share is not None:
        head = f"Meaning: {percent(state.meaning_share)} of passages"
        detail = "Keywords find every file" + (f"; about {duration(state.meaning_eta_s)} left"
                                               if state.meaning_eta_s and state.meaning_eta_s > 5 else "")
        return "Seekwise — " + head + f"\n{detail}"
    waiting = (f"Meaning: {percent(meaning_share)} of passages; keywords find every file"
               if meaning_share is not None and meaning_share < 1 else "")
    if kind is ServiceStatus.INDEXING:
        share = progress_of(state)
        head = f"Indexing {share:.0%}" if share is not None else "Looking for changes"
        detail = f"{state.files_done:,} of {state.files_todo:,} files" if state.files_todo else state.message
    elif kind is ServiceStatus.PAUSED:
        head, detail = "Indexing paused", state.message if state.message != "indexing paused" else ""
    elif kind is ServiceStatus.ERROR:
        head, detail = "Indexing stopped by an error", state.message
    elif kind is ServiceStatus.WAITING:
        head, detail = "Waiting: another Seekwise is indexing this library", state.message
    else:
        head = "Up to date" if not waiting else "Partly searchable by meaning"
        detail = f"{state.errors:,} files could not be read" if state.errors else ""
    detail = "\n".join(part for part in (detail, waiting if kind is not ServiceStatus.INDEXING else "") if part)
    return "Seekwise — " + head + (f"\n{detail}" if detail else "")


def badged_icon(base: QIcon, kind: ServiceStatus, progress: float | None = None) -> QIcon:
    """The app icon with a small state badge in its lower right corner, at every tray size and at 1x
    and 2x (high-DPI screens pick the sharp one)."""
    if kind == ServiceStatus.IDLE:
        return base
    icon = QIcon()
    for size in SIZES:
        for scale in (1, 2):
            icon.addPixmap(_badged_pixmap(base, kind, progress, size, scale))
    return icon


def _badged_pixmap(base: QIcon, kind: ServiceStatus, progress: float | None, size: int, scale: int) -> QPixmap:
    px = size * scale
    pixmap = QPixmap(px, px)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    base.paint(painter, 0, 0, px, px)
    d = px * 0.56
    rect = QRectF(px - d, px - d, d, d).adjusted(0.5, 0.5, -0.5, -0.5)
    colour = QColor(BADGE_COLOURS[kind])
    painter.setPen(QPen(QColor("white"), max(1.0, px / 32)))
    painter.setBrush(colour)
    painter.drawEllipse(rect)
    mark = QPen(QColor("white"), max(1.0, d / 7), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    painter.setPen(mark)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    c = rect.center()
    r = rect.width() / 2
    if kind == ServiceStatus.PAUSED:
        for dx in (-r * 0.28, r * 0.28):
            painter.drawLine(QPointF(c.x() + dx, c.y() - r * 0.4), QPointF(c.x() + dx, c.y() + r * 0.4))
    elif kind == ServiceStatus.ERROR:
        painter.drawLine(QPointF(c.x(), c.y() - r * 0.5), QPointF(c.x(), c.y() + r * 0.1))
        painter.drawPoint(QPointF(c.x(), c.y() + r * 0.45))
    elif kind == ServiceStatus.WAITING:
        for dx in (-r * 0.45, 0.0, r * 0.45):
            painter.drawPoint(QPointF(c.x() + dx, c.y()))
    else:  # indexing: an arc that fills with progress (a quarter when the share is unknown)
        inner = rect.adjusted(r * 0.35, r * 0.35, -r * 0.35, -r * 0.35)
        span = int(360 * 16 * (progress if progress is not None else 0.25))
        painter.drawArc(inner, 90 * 16, -max(span, 16))
    painter.end()
    pixmap.setDevicePixelRatio(scale)
    return pixmap


class Tray(QObject):
    """Owns the QSystemTrayIcon and its menu; the controller connects the signals and feeds set_state."""

    search_requested = Signal()
    pause_toggled = Signal(bool)       # True: pause indexing, False: resume
    settings_requested = Signal()
    quit_requested = Signal()

    def __init__(self, icon: QIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.base_icon = icon
        self.state = ServiceState()
        self.meaning_share: float | None = None     # the library's, from its status
        self._kind: tuple[ServiceStatus, int | None] = (ServiceStatus.IDLE, None)
        self.menu = QMenu()
        self.search_action = QAction("Search…", self.menu)
        self.pause_action = QAction("Pause indexing", self.menu)
        self.pause_action.setCheckable(True)
        self.settings_action = QAction("Settings…", self.menu)
        self.quit_action = QAction("Quit Seekwise", self.menu)
        self.menu.addAction(self.search_action)
        self.menu.addAction(self.pause_action)
        self.menu.addSeparator()
        self.menu.addAction(self.settings_action)
        self.menu.addAction(self.quit_action)
        self.search_action.triggered.connect(self.search_requested)
        self.pause_action.toggled.connect(self._pause_toggled)
        self.settings_action.triggered.connect(self.settings_requested)
        self.quit_action.triggered.connect(self.quit_requested)
        self.icon = QSystemTrayIcon(icon, self)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.icon.setToolTip(describe(self.state))

    @staticmethod
    def available() -> bool:
        """Whether the desktop shows tray icons (a bare window manager, or GNOME without the
        AppIndicator extension, does not: then closing the window should quit, or minimise)."""
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def set_state(self, state: ServiceState) -> None:
        """Tooltip, badge and the Pause item follow the service (call on the GUI thread)."""
        self.state = state
        self.icon.setToolTip(describe(state, self.meaning_share))
        kind = badge_kind(state)
        progress = progress_of(state)
        step = None if progress is None else round(progress * 20)  # redraw at most every 5 %
        if (kind, step) != self._kind:
            self._kind = (kind, step)
            self.icon.setIcon(badged_icon(self.base_icon, kind, None if step is None else step / 20))
        paused = kind is ServiceStatus.PAUSED
        if self.pause_action.isChecked() != paused:
            self.pause_action.blockSignals(True)
            self.pause_action.setChecked(paused)
            self.pause_action.blockSignals(False)
        self.pause_action.setText("Resume indexing" if paused else "Pause indexing")

    def set_status(self, status: LibraryStatus) -> None:
        """The library's counts (polled): how much of it meaning reaches, for the tooltip."""
        if status.meaning_share != self.meaning_share:
            self.meaning_share = status.meaning_share
            self.icon.setToolTip(describe(self.state, self.meaning_share))

    def notify(self, title: str, message: str) -> None:
        """A balloon where the tray supports them (used sparingly: a first index finished, an error)."""
        if self.icon.isVisible() and self.icon.supportsMessages():
            self.icon.showMessage(title, message, QSystemTrayIcon.MessageIcon.Information, 5000)

    def _pause_toggled(self, checked: bool) -> None:
        self.pause_action.setText("Resume indexing" if checked else "Pause indexing")
        self.pause_toggled.emit(checked)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.search_requested.emit()

