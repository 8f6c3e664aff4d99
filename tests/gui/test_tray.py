"""The tray: menu actions emit the controller's signals, the state shows in tooltip and badge; and on
a real X server with a real tray (Xvfb + stalonetray) the icon docks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSize  # noqa: E402
from PySide6.QtGui import QColor, QIcon  # noqa: E402

from seekwise.core.service import ServiceState  # noqa: E402
from seekwise.gui.tray import BADGE_COLOURS, Tray, badged_icon  # noqa: E402
from xvfb import tray_host, x_display, xcb_env  # noqa: E402,F401 - fixtures

ICON = Path(__file__).parents[2] / "resources" / "icons" / "seekwise.svg"


@pytest.fixture
def tray(qapp):
    t = Tray(QIcon(str(ICON)))
    yield t
    t.hide()
    t.deleteLater()


def test_menu_actions_emit_the_signals(qtbot, tray):
    texts = [a.text() for a in tray.menu.actions() if not a.isSeparator()]
    assert texts == ["Search…", "Pause indexing", "Settings…", "Quit Seekwise"]
    with qtbot.waitSignal(tray.search_requested, timeout=1000):
        tray.search_action.trigger()
    with qtbot.waitSignal(tray.settings_requested, timeout=1000):
        tray.settings_action.trigger()
    with qtbot.waitSignal(tray.quit_requested, timeout=1000):
        tray.quit_action.trigger()
    with qtbot.waitSignal(tray.pause_toggled, timeout=1000) as paused:
        tray.pause_action.trigger()
    assert paused.args == [True] and tray.pause_action.text() == "Resume indexing"
    with qtbot.waitSignal(tray.pause_toggled, timeout=1000) as resumed:
        tray.pause_action.trigger()
    assert resumed.args == [False] and tray.pause_action.text() == "Pause indexing"


def test_state_changes_tooltip_badge_and_pause_item(qtbot, tray):
    keys = set()
    tray.set_state(ServiceState(state="idle"))
    assert "Up to date" in tray.icon.toolTip()
    keys.add(tray.icon.icon().cacheKey())
    tray.set_state(ServiceState(state="indexing", files_done=30, files_todo=120))
    assert "Indexing 25%" in tray.icon.toolTip() and "30 of 120 files" in tray.icon.toolTip()
    keys.add(tray.icon.icon().cacheKey())
    with qtbot.assertNotEmitted(tray.pause_toggled):  # following the service is not a user's click
        tray.set_state(ServiceState(state="paused", message="indexing paused"))
    assert "paused" in tray.icon.toolTip() and tray.pause_action.isChecked()
    assert tray.pause_action.text() == "Resume indexing"
    keys.add(tray.icon.icon().cacheKey())
    tray.set_state(ServiceState(state="error", message="The disk is full"))
    assert "error" in tray.icon.toolTip() and "The disk is full" in tray.icon.toolTip()
    assert not tray.pause_action.isChecked()
    keys.add(tray.icon.icon().cacheKey())
    tray.set_state(ServiceState(state="waiting", message="another process writes"))
    assert "another Seekwise" in tray.icon.toolTip()
    keys.add(tray.icon.icon().cacheKey())
    assert len(keys) == 5  # a different icon for each state


def test_the_tooltip_says_how_much_meaning_covers(qtbot, tray):
    from seekwise.core.library import LibraryStatus
    tray.set_state(ServiceState(state="indexing", phase="keywords", files_done=30, files_todo=120))
    assert "Indexing 25%" in tray.icon.toolTip()
    tray.set_state(ServiceState(state="indexing", phase="meaning", vectors_done=10, vectors_todo=100,
                                meaning_share=0.41, meaning_eta_s=720.0))
    tip = tray.icon.toolTip()
    assert "Meaning: 41 % of passages" in tip and "Keywords find every file" in tip and "12 min left" in tip
    paused = LibraryStatus("/lib", [], "m", "m-1", "/m", chunks=1000, chunks_with_vectors=410,
                           chunks_without_vectors=590, meaning_share=0.41)
    tray.set_status(paused)              # the library's count, once no run says it live
    tray.set_state(ServiceState(state="paused", message="indexing paused"))
    assert "Indexing paused" in tray.icon.toolTip() and "Meaning: 41 % of passages" in tray.icon.toolTip()
    tray.set_status(LibraryStatus("/lib", [], "m", "m-1", "/m", chunks=1000, chunks_with_vectors=1000))
    tray.set_state(ServiceState(state="idle"))
    assert tray.icon.toolTip() == "Seekwise — Up to date"


@pytest.mark.parametrize("kind", sorted(BADGE_COLOURS))
def test_badges_are_drawn_at_every_size_and_scale(qapp, kind):
    icon = badged_icon(QIcon(str(ICON)), kind, 0.5)
    plain = QIcon(str(ICON))
    for size in (16, 22, 32, 64):
        for scale in (1.0, 2.0):
            image = icon.pixmap(QSize(size, size), scale).toImage()
            assert image.width() == int(size * scale)  # a sharp pixmap for high-DPI screens
            assert _share_of(image, BADGE_COLOURS[kind]) > 0.15, (kind, size, scale)
            assert _share_of(plain.pixmap(QSize(size, size), scale).toImage(), BADGE_COLOURS[kind]) < 0.05


def _share_of(image, colour: str) -> float:
    """How much of the lower-right quarter (where the badge sits) is near `colour`."""
    want = QColor(colour)
    w, h = image.width(), image.height()
    hits = total = 0
    for x in range(w // 2, w):
        for y in range(h // 2, h):
            c = image.pixelColor(x, y)
            total += 1
            hits += c.alpha() > 200 and abs(c.red() - want.red()) + abs(c.green() - want.green()) \
                + abs(c.blue() - want.blue()) < 60
    return hits / total


DOCKED = """
import json, sys, time
from PySide6.QtWidgets import QApplication
from PySide6.QtGui import QIcon
from seekwise.core.service import ServiceState
from seekwise.gui.tray import Tray
app = QApplication([])
out = {"available": Tray.available()}
tray = Tray(QIcon(sys.argv[1]))
got = []
tray.search_requested.connect(lambda: got.append("search"))
tray.pause_toggled.connect(lambda p: got.append(f"pause:{p}"))
tray.show()
deadline = time.monotonic() + 10
while time.monotonic() < deadline and tray.icon.geometry().isEmpty():
    app.processEvents()
    time.sleep(0.05)
out["geometry"] = tray.icon.geometry().getRect()
out["visible"] = tray.icon.isVisible()
tray.set_state(ServiceState(state="indexing", files_done=1, files_todo=4))
out["tooltip"] = tray.icon.toolTip()
tray.search_action.trigger(); tray.pause_action.trigger()
app.processEvents()
out["signals"] = got
print(json.dumps(out))
"""


def test_the_icon_docks_in_a_real_tray(tray_host):
    out = subprocess.run([sys.executable, "-c", DOCKED, str(ICON)], env=tray_host, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["available"] is True and result["visible"] is True
    assert result["geometry"][2] > 0 and result["geometry"][3] > 0, result
    assert "Indexing 25%" in result["tooltip"]
    assert result["signals"] == ["search", "pause:True"]
