"""Is the person at the machine? Seconds since their last input and whether the session is locked,
asked where the platform tells cheaply (no Qt, no new dependency), None where it does not.

The desktop app gives the meaning phase every core while the session is away and drops back to the
background budget as soon as they return, so the answer is polled every few seconds:
- X11: the MIT-SCREEN-SAVER extension's idle time (libXss, through ctypes; one display connection
  kept open). Not under Wayland: XWayland sees only X clients' input, and would call a person typing
  in a Wayland window idle.
- Linux: logind's LockedHint and IdleHint for this session (over D-Bus, with `busctl`: no binding
  to install; given up after the first failure, e.g. no systemd).
- Windows: GetLastInputInfo. macOS: CGEventSourceSecondsSinceLastEventType.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)

AWAY_AFTER_S = 180.0     # no input for this long: the person is away


@dataclass(frozen=True)
class Presence:
    idle_s: float | None = None      # seconds since the last keyboard or pointer input
    locked: bool | None = None       # the session's screen is locked
    idle_hint: bool | None = None    # the desktop itself calls the session idle (screen saver on)


def away(p: Presence, after_s: float = AWAY_AFTER_S) -> bool | None:
    """True when the session is locked, idle by the desktop's word, or without input for `after_s`;
    None when nothing tells."""
    if p.locked or p.idle_hint:
        return True
    if p.idle_s is not None:
        return p.idle_s >= after_s
    return None if p.locked is None and p.idle_hint is None else False


def full_speed_wanted(p: Presence, on_battery: bool | None, after_s: float = AWAY_AFTER_S) -> bool:
    """Every core for background indexing while the person is away; never on battery, and not when
    the platform cannot tell whether anyone is there."""
    return on_battery is not True and bool(away(p, after_s))


class _X11:
    """The X server's idle time (XScreenSaverQueryInfo). Raises OSError where it cannot answer."""

    class _Info(ctypes.Structure):
        _fields_ = [("window", ctypes.c_ulong), ("state", ctypes.c_int), ("kind", ctypes.c_int),
                    ("til_or_since", ctypes.c_ulong), ("idle", ctypes.c_ulong), ("event_mask", ctypes.c_ulong)]

    def __init__(self, display: str | None) -> None:
        xlib, xss = _library("X11", "libX11.so.6"), _library("Xss", "libXss.so.1")
        xlib.XOpenDisplay.restype = ctypes.c_void_p
        xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        xlib.XDefaultRootWindow.restype = ctypes.c_ulong
        xlib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
        xlib.XFree.argtypes = [ctypes.c_void_p]
        xss.XScreenSaverQueryExtension.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int),
                                                   ctypes.POINTER(ctypes.c_int)]
        xss.XScreenSaverAllocInfo.restype = ctypes.POINTER(self._Info)
        xss.XScreenSaverQueryInfo.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(self._Info)]
        self.xlib, self.xss = xlib, xss
        self.display = xlib.XOpenDisplay(display.encode() if display else None)
        if not self.display:
            raise OSError(f"cannot open the X display {display or os.environ.get('DISPLAY', '')!r}")
        event, error = ctypes.c_int(), ctypes.c_int()
        if not xss.XScreenSaverQueryExtension(self.display, ctypes.byref(event), ctypes.byref(error)):
            self.close()
            raise OSError("the X server has no MIT-SCREEN-SAVER extension")
        self.root = xlib.XDefaultRootWindow(self.display)
        self.info = xss.XScreenSaverAllocInfo()

    def idle_s(self) -> float | None:
        if not self.xss.XScreenSaverQueryInfo(self.display, self.root, self.info):
            return None
        return self.info.contents.idle / 1000.0

    def close(self) -> None:
        if getattr(self, "info", None):
            self.xlib.XFree(self.info)
            self.info = None
        if self.display:
            self.xlib.XCloseDisplay(self.display)
            self.display = None


def _library(name: str, soname: str) -> ctypes.CDLL:
    try:
        return ctypes.CDLL(soname)
    except OSError:
        found = ctypes.util.find_library(name)
        if not found:
            raise OSError(f"lib{name} is not installed") from None
        return ctypes.CDLL(found)


_LOGIND = ["--system", "--", "get-property", "org.freedesktop.login1", "/org/freedesktop/login1/session/auto",
           "org.freedesktop.login1.Session", "LockedHint", "IdleHint"]


def _logind(busctl: str) -> tuple[bool, bool]:
    """(LockedHint, IdleHint) of the caller's session; OSError when logind does not answer."""
    try:
        out = subprocess.run([busctl, *_LOGIND], capture_output=True, text=True, timeout=2.0, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise OSError(str(exc)) from exc
    values = [line.split()[-1] for line in out.stdout.splitlines() if line.startswith("b ")]
    if out.returncode != 0 or len(values) != 2:
        raise OSError(out.stderr.strip() or f"busctl said {out.stdout.strip()!r}")
    return values[0] == "true", values[1] == "true"


def _windows_idle_s() -> float | None:
    class LastInputInfo(ctypes.Structure):
        _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint)]

    info = LastInputInfo(ctypes.sizeof(LastInputInfo), 0)
    windll = ctypes.windll  # type: ignore[attr-defined]
    if not windll.user32.GetLastInputInfo(ctypes.byref(info)):
        return None
    return ((windll.kernel32.GetTickCount() - info.dwTime) & 0xFFFFFFFF) / 1000.0


def _mac_idle() -> ctypes._CFuncPtr:  # type: ignore[name-defined]
    graphics = ctypes.CDLL("/System/Library/Frameworks/CoreGraphics.framework/CoreGraphics")
    since = graphics.CGEventSourceSecondsSinceLastEventType
    since.restype, since.argtypes = ctypes.c_double, [ctypes.c_int, ctypes.c_uint32]
    return since


class IdleProbe:
    """Answers `presence()` from whatever this platform offers; what does not work is given up at
    the first failure (said once in the log), so a poll never retries a dead end. Thread-safe."""

    def __init__(self, display: str | None = None, platform: str = sys.platform,
                 env: dict[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self._lock = threading.Lock()
        self._x11: _X11 | None = None
        self._busctl: str | None = None
        self._idle_fn = None
        if platform.startswith(("linux", "freebsd")):
            wayland = env.get("XDG_SESSION_TYPE") == "wayland" or bool(env.get("WAYLAND_DISPLAY"))
            if (display or env.get("DISPLAY")) and not wayland:
                try:
                    self._x11 = _X11(display)
                except (OSError, AttributeError) as exc:
                    log.info("no X11 idle time: %s", exc)
            self._busctl = shutil.which("busctl") if platform.startswith("linux") else None
        elif platform == "win32":
            self._idle_fn = _windows_idle_s
        elif platform == "darwin":
            try:
                since = _mac_idle()
                self._idle_fn = lambda: float(since(1, 0xFFFFFFFF))   # HID state, any input event
            except (OSError, AttributeError) as exc:
                log.info("no idle time from CoreGraphics: %s", exc)

    @property
    def supported(self) -> bool:
        """Whether it can ever answer here."""
        return bool(self._x11 or self._busctl or self._idle_fn)

    def presence(self) -> Presence:
        with self._lock:
            idle_s = locked = hint = None
            if self._x11 is not None:
                idle_s = self._x11.idle_s()
            elif self._idle_fn is not None:
                try:
                    idle_s = self._idle_fn()
                except (OSError, AttributeError) as exc:
                    log.info("idle time unavailable: %s", exc)
                    self._idle_fn = None
            if self._busctl is not None:
                try:
                    locked, hint = _logind(self._busctl)
                except OSError as exc:
                    log.info("no lock or idle hint from logind: %s", exc)
                    self._busctl = None
            return Presence(idle_s, locked, hint)

    def close(self) -> None:
        with self._lock:
            if self._x11 is not None:
                self._x11.close()
                self._x11 = None


__all__ = ["AWAY_AFTER_S", "IdleProbe", "Presence", "away", "full_speed_wanted"]
