"""A global hotkey that shows the search window from anywhere, or the plain reason there cannot be one.

X11: XGrabKey through python-xlib, events read in a thread. Windows: RegisterHotKey in a thread with
its own message loop. Wayland and macOS: no grab (Wayland forbids it by design; macOS would need the
accessibility permission), and `problem` says to bind `seekwise-gui --show` in the desktop's own
keyboard settings instead.
"""

from __future__ import annotations

import logging
import os
import select
import sys
import threading

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

DEFAULT_SEQUENCE = "Ctrl+Alt+Space"
FALLBACK_COMMAND = "seekwise-gui --show"
MODIFIERS = ("ctrl", "alt", "shift", "meta")
_MOD_ALIASES = {"control": "ctrl", "ctrl": "ctrl", "alt": "alt", "option": "alt", "shift": "shift",
                "meta": "meta", "super": "meta", "win": "meta", "cmd": "meta"}


def parse_sequence(sequence: str) -> tuple[frozenset[str], str]:
    """"Ctrl+Alt+Space" -> ({"ctrl", "alt"}, "Space"); Qt's portable text form. ValueError if unusable."""
    parts = [p.strip() for p in sequence.replace(" ", "").split("+")]
    if sequence.strip().endswith("++"):  # "Ctrl++": the plus key
        parts = parts[:-2] + ["+"]
    if not parts or not parts[-1]:
        raise ValueError(f"no key in {sequence!r}")
    mods, key = parts[:-1], parts[-1]
    unknown = [m for m in mods if m.lower() not in _MOD_ALIASES]
    if unknown:
        raise ValueError(f"unknown modifier {unknown[0]!r} in {sequence!r}")
    if "," in sequence:
        raise ValueError("a global hotkey is one key combination, not a sequence")
    modset = frozenset(_MOD_ALIASES[m.lower()] for m in mods)
    if not modset and not (key.upper().startswith("F") and key[1:].isdigit()):
        raise ValueError("a global hotkey needs Ctrl, Alt, Shift or Meta (or a function key)")
    return modset, key


def wayland_session() -> bool:
    return os.environ.get("XDG_SESSION_TYPE", "").lower() == "wayland" or bool(os.environ.get("WAYLAND_DISPLAY"))


class GlobalHotkey(QObject):
    """start(sequence) grabs it (False and `problem` when it cannot); `activated` fires on the GUI
    thread each time it is pressed; stop() lets it go."""

    activated = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._problem = ""
        self._backend: _Backend | None = None
        self.sequence = ""

    @property
    def problem(self) -> str:
        """Why there is no global grab right now ('' when the hotkey works)."""
        return self._problem

    @property
    def active(self) -> bool:
        return self._backend is not None

    def start(self, sequence: str = DEFAULT_SEQUENCE) -> bool:
        self.stop()
        self.sequence = sequence
        try:
            mods, key = parse_sequence(sequence)
        except ValueError as exc:
            self._problem = f"{sequence!r} cannot be a global shortcut: {exc}."
            return False
        backend_type, why = _backend_for_platform()
        if backend_type is None:
            self._problem = why
            return False
        backend = backend_type(self.activated.emit)
        problem = backend.grab(mods, key, sequence)
        if problem:
            self._problem = problem
            return False
        self._backend, self._problem = backend, ""
        return True

    def stop(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            backend.release()


def _backend_for_platform() -> tuple[type[_Backend] | None, str]:
    fallback = (f"Bind the command `{FALLBACK_COMMAND}` to a shortcut in your desktop's keyboard settings; "
                "it shows the search window of the running Seekwise.")
    if sys.platform == "win32":
        return _WindowsHotkey, ""
    if sys.platform == "darwin":
        return None, "Global shortcuts are not supported on macOS yet. " + fallback
    if wayland_session():
        return None, "This is a Wayland session: Wayland does not let applications grab keys. " + fallback
    if not os.environ.get("DISPLAY"):
        return None, "There is no X display to grab a key on. " + fallback
    try:
        import Xlib  # noqa: F401
    except ImportError:
        return None, "The python-xlib package is missing, so no global shortcut. " + fallback
    return _X11Hotkey, ""


class _Backend:
    def __init__(self, fire) -> None:  # noqa: ANN001 - a no-argument callable
        self.fire = fire

    def grab(self, mods: frozenset[str], key: str, sequence: str) -> str:
        """'' on success, else the reason (worded for the settings dialog)."""
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


# -- X11 ------------------------------------------------------------------------------------------

_X_KEY_NAMES = {"space": "space", "return": "Return", "enter": "Return", "esc": "Escape", "escape": "Escape",
                "tab": "Tab", "backspace": "BackSpace", "del": "Delete", "delete": "Delete", "ins": "Insert",
                "insert": "Insert", "home": "Home", "end": "End", "pgup": "Prior", "pgdown": "Next",
                "up": "Up", "down": "Down", "left": "Left", "right": "Right", "print": "Print",
                "pause": "Pause", "+": "plus", "-": "minus", "=": "equal", ",": "comma", ".": "period",
                "/": "slash", ";": "semicolon", "'": "apostrophe", "`": "grave", "[": "bracketleft",
                "]": "bracketright", "\\": "backslash"}


class _X11Hotkey(_Backend):
    """Its own X connection, read by a thread; the grab also covers NumLock and CapsLock being on."""

    def grab(self, mods: frozenset[str], key: str, sequence: str) -> str:
        from Xlib import X, XK, display, error

        try:
            self.display = display.Display()
        except Exception as exc:  # Xlib raises several kinds for a refused or absent display
            return f"Cannot open the X display ({exc})."
        keysym = XK.string_to_keysym(_X_KEY_NAMES.get(key.lower(), key if len(key) > 1 else key.lower()))
        self.keycode = self.display.keysym_to_keycode(keysym) if keysym else 0
        if not self.keycode:
            self.display.close()
            return f"The key {key!r} is not on this keyboard."
        self.mask = 0
        for name, bit in (("ctrl", X.ControlMask), ("alt", X.Mod1Mask), ("shift", X.ShiftMask),
                          ("meta", X.Mod4Mask)):
            if name in mods:
                self.mask |= bit
        self.root = self.display.screen().root
        self.variants = [self.mask | extra for extra in (0, X.LockMask, X.Mod2Mask, X.LockMask | X.Mod2Mask)]
        catch = error.CatchError(error.BadAccess)
        for mask in self.variants:
            self.root.grab_key(self.keycode, mask, True, X.GrabModeAsync, X.GrabModeAsync, onerror=catch)
        self.display.sync()
        if catch.get_error():
            self._ungrab()
            self.display.close()
            return f"{sequence} is already taken by another application; choose another shortcut."
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="seekwise-hotkey", daemon=True)
        self._thread.start()
        return ""

    def _loop(self) -> None:
        from Xlib import X

        relevant = 0xFF & ~(X.LockMask | X.Mod2Mask)  # modifier bits, NumLock and CapsLock left out
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([self.display.fileno()], [], [], 0.2)
                if not ready and not self.display.pending_events():
                    continue
                for _ in range(self.display.pending_events()):
                    event = self.display.next_event()
                    if (event.type == X.KeyPress and event.detail == self.keycode
                            and (event.state & relevant) == self.mask):
                        self.fire()
        except Exception:  # the X connection died (the session ends): no more hotkey, no crash
            log.exception("the global hotkey stopped")

    def _ungrab(self) -> None:
        for mask in self.variants:
            self.root.ungrab_key(self.keycode, mask)
        self.display.sync()

    def release(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        try:
            self._ungrab()
            self.display.close()
        except Exception:  # already gone with the X server
            pass


# -- Windows --------------------------------------------------------------------------------------

_WM_HOTKEY, _WM_QUIT = 0x0312, 0x0012
_MOD_BITS = {"alt": 0x1, "ctrl": 0x2, "shift": 0x4, "meta": 0x8}
_MOD_NOREPEAT = 0x4000
_VK_NAMES = {"space": 0x20, "return": 0x0D, "enter": 0x0D, "esc": 0x1B, "escape": 0x1B, "tab": 0x09,
             "backspace": 0x08, "del": 0x2E, "delete": 0x2E, "ins": 0x2D, "insert": 0x2D, "home": 0x24,
             "end": 0x23, "pgup": 0x21, "pgdown": 0x22, "up": 0x26, "down": 0x28, "left": 0x25, "right": 0x27,
             "pause": 0x13, "print": 0x2C}


def _virtual_key(key: str) -> int:
    low = key.lower()
    if low in _VK_NAMES:
        return _VK_NAMES[low]
    if len(key) == 1 and key.isalnum():
        return ord(key.upper())
    if low.startswith("f") and low[1:].isdigit() and 1 <= int(low[1:]) <= 24:
        return 0x70 + int(low[1:]) - 1
    return 0


class _WindowsHotkey(_Backend):
    """RegisterHotKey belongs to the thread that registers it, so that thread also runs the message loop."""

    def grab(self, mods: frozenset[str], key: str, sequence: str) -> str:
        vk = _virtual_key(key)
        if not vk:
            return f"The key {key!r} cannot be a global shortcut on Windows."
        flags = _MOD_NOREPEAT
        for name in mods:
            flags |= _MOD_BITS[name]
        self._ready = threading.Event()
        self._result = ""
        self._thread_id = 0
        self._thread = threading.Thread(target=self._loop, args=(flags, vk, sequence), name="seekwise-hotkey",
                                        daemon=True)
        self._thread.start()
        self._ready.wait(5.0)
        return self._result

    def _loop(self, flags: int, vk: int, sequence: str) -> None:
        import ctypes
        from ctypes import wintypes

        user32 = ctypes.windll.user32  # type: ignore[attr-defined]
        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        self._thread_id = kernel32.GetCurrentThreadId()
        if not user32.RegisterHotKey(None, 1, flags, vk):
            self._result = f"{sequence} is already taken by another application; choose another shortcut."
            self._ready.set()
            return
        self._ready.set()
        msg = wintypes.MSG()
        try:
            while user32.GetMessageW(ctypes.byref(msg), None, 0, 0) > 0:
                if msg.message == _WM_HOTKEY:
                    self.fire()
        finally:
            user32.UnregisterHotKey(None, 1)

    def release(self) -> None:
        import ctypes

        if self._thread_id:
            ctypes.windll.user32.PostThreadMessageW(self._thread_id, _WM_QUIT, 0, 0)  # type: ignore[attr-defined]
        self._thread.join(2.0)
