"""The global hotkey on a real X server: grab, press it through XTest, see `activated`; a taken key,
no display and Wayland each give a reason with the `seekwise-gui --show` fallback."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from seekwise.gui.hotkey import FALLBACK_COMMAND, GlobalHotkey, parse_sequence  # noqa: E402
from xvfb import x_display  # noqa: E402,F401 - the fixture


@pytest.fixture
def on_x(x_display, monkeypatch):
    pytest.importorskip("Xlib", reason="python-xlib is not installed")
    monkeypatch.setenv("DISPLAY", x_display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    return x_display


def press(display_name: str, *keys: str) -> None:
    """Hold the keys down in order, then let them go, as a person would (XTest)."""
    from Xlib import X, XK, display
    from Xlib.ext import xtest

    d = display.Display(display_name)
    codes = [d.keysym_to_keycode(XK.string_to_keysym(k)) for k in keys]
    for code in codes:
        xtest.fake_input(d, X.KeyPress, code)
    for code in reversed(codes):
        xtest.fake_input(d, X.KeyRelease, code)
    d.sync()
    d.close()


def test_pressing_the_hotkey_activates(qtbot, on_x):
    hotkey = GlobalHotkey()
    assert hotkey.start("Ctrl+Alt+Space"), hotkey.problem
    assert hotkey.active and hotkey.problem == ""
    try:
        with qtbot.waitSignal(hotkey.activated, timeout=5000):
            press(on_x, "Control_L", "Alt_L", "space")
        with qtbot.assertNotEmitted(hotkey.activated, wait=300):
            press(on_x, "Control_L", "space")  # a different combination
        with qtbot.waitSignal(hotkey.activated, timeout=5000):  # and again, with NumLock on
            press(on_x, "Num_Lock")
            press(on_x, "Control_L", "Alt_L", "space")
    finally:
        press(on_x, "Num_Lock")
        hotkey.stop()
    assert not hotkey.active
    with qtbot.assertNotEmitted(hotkey.activated, wait=300):
        press(on_x, "Control_L", "Alt_L", "space")


def test_a_key_taken_by_another_client_is_reported(qtbot, on_x):
    first, second = GlobalHotkey(), GlobalHotkey()
    assert first.start("Ctrl+Shift+F9")
    try:
        assert not second.start("Ctrl+Shift+F9")
        assert "already taken" in second.problem
        assert second.start("Ctrl+Shift+F10"), second.problem  # another key is fine
        second.stop()
    finally:
        first.stop()
    assert second.start("Ctrl+Shift+F9"), second.problem  # released: free again
    second.stop()


def test_wayland_and_no_display_say_why_and_offer_the_command(qtbot, monkeypatch):
    hotkey = GlobalHotkey()
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    assert not hotkey.start()
    assert "Wayland" in hotkey.problem and FALLBACK_COMMAND in hotkey.problem
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    assert not hotkey.start()
    assert "no X display" in hotkey.problem and FALLBACK_COMMAND in hotkey.problem


def test_sequences():
    assert parse_sequence("Ctrl+Alt+Space") == (frozenset({"ctrl", "alt"}), "Space")
    assert parse_sequence("Meta+F") == (frozenset({"meta"}), "F")
    assert parse_sequence("F12") == (frozenset(), "F12")
    for bad in ("Space", "Hyper+K", "Ctrl+K, Ctrl+L", ""):
        with pytest.raises(ValueError):
            parse_sequence(bad)
    assert not GlobalHotkey().start("Space")
