"""A private X server for the tests that need a real one (tray, global hotkey): Xvfb on a display
it picks itself (-displayfd, so parallel runs never collide), skipped with the reason when missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

APP = os.path.join(os.path.dirname(__file__), "..", "..", "app")


def start_xvfb() -> tuple[subprocess.Popen, str]:
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp",
                             "-noreset"],  # not reset when the last client leaves: the next one would be refused
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write_fd)
    number = b""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not number.endswith(b"\n"):
        chunk = os.read(read_fd, 16)
        if not chunk:
            break
        number += chunk
    os.close(read_fd)
    if not number.strip().isdigit():
        proc.kill()
        err = proc.stderr.read().decode(errors="replace")[-300:] if proc.stderr else ""
        raise RuntimeError(f"Xvfb did not start: {err}")
    return proc, ":" + number.decode().strip()


@pytest.fixture(scope="session")
def x_display():
    """DISPLAY of a fresh Xvfb for this test session."""
    if not sys.platform.startswith("linux"):
        pytest.skip("Xvfb tests are for Linux")
    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    try:
        proc, display = start_xvfb()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    yield display
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    if proc.stderr is not None:
        proc.stderr.close()


def qt_env(display: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", PYTHONPATH=os.path.abspath(APP), **extra)
    env.pop("WAYLAND_DISPLAY", None)
    env["XDG_SESSION_TYPE"] = "x11"
    return env


@pytest.fixture(scope="session")
def xcb_env(x_display):
    """Environment for a subprocess that runs Qt on the Xvfb display (QT_QPA_PLATFORM is per process);
    skipped with Qt's own words when the xcb platform cannot start (e.g. libxcb-cursor0 missing)."""
    env = qt_env(x_display)
    probe = subprocess.run([sys.executable, "-c", "from PySide6.QtWidgets import QApplication; QApplication([])"],
                           env=dict(env, QT_DEBUG_PLUGINS="1"), capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        missing = sorted({line.split(": cannot open shared object")[0].rsplit(": ", 1)[-1]
                          for line in probe.stderr.splitlines() if "cannot open shared object" in line})
        why = (f"missing libraries {', '.join(missing)} (Debian/Ubuntu: libxcb-cursor0, libxcb-icccm4, "
               "libxcb-keysyms1, ...)") if missing else probe.stderr.strip()[-300:]
        pytest.skip(f"Qt's xcb platform cannot start here: {why}")
    return env


@pytest.fixture(scope="session")
def tray_host(xcb_env):
    """A real system tray on the Xvfb display (trayer or stalonetray), owning _NET_SYSTEM_TRAY_S0, so
    Qt calls a tray available; skipped with the reason when neither is installed."""
    cmd = next(([c, *args] for c, args in (("stalonetray", ["--geometry", "4x1+0+0"]),
                                            ("trayer", ["--edge", "top", "--widthtype", "request"]))
                if shutil.which(c)), None)
    if cmd is None:
        pytest.skip("no system tray to dock into on this machine (apt-get install trayer or stalonetray)")
    host = subprocess.Popen(cmd, env=xcb_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_tray(xcb_env["DISPLAY"])
        yield xcb_env
    finally:
        host.terminate()
        try:
            host.wait(10)
        except subprocess.TimeoutExpired:
            host.kill()


def wait_for_tray(display_name: str, timeout: float = 15.0) -> None:
    """Until the tray host owns the _NET_SYSTEM_TRAY_S0 selection (what Qt asks to call a tray available)."""
    try:
        from Xlib import X, display
    except ImportError:
        time.sleep(2.0)
        return
    d = display.Display(display_name)
    try:
        atom = d.intern_atom("_NET_SYSTEM_TRAY_S0")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and d.get_selection_owner(atom) == X.NONE:
            time.sleep(0.1)
    finally:
        d.close()
