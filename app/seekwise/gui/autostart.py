"""Start at login, the platform's way: an XDG autostart entry (Linux), the HKCU Run key (Windows),
a LaunchAgent (macOS). No Qt: the setting writes and removes these, nothing else reads them."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

APP_NAME = "Seekwise"
DESKTOP_FILE = "seekwise.desktop"
LAUNCH_AGENT = "app.seekwise.agent"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
DELAY_S = 10  # after login, let the desktop settle before indexing starts


def default_command() -> list[str]:
    """What login runs: the installed launcher (or this interpreter) straight into the tray."""
    if getattr(sys, "frozen", False):
        # A PyInstaller build holds two executables side by side; this may be the CLI (`seekwise gui`),
        # which has no --background: the windowed one is what login starts.
        name = "seekwise-gui.exe" if sys.platform == "win32" else "seekwise-gui"
        return [os.path.join(os.path.dirname(sys.executable), name), "--background"]
    launcher = shutil.which("seekwise-gui")
    if launcher:
        return [launcher, "--background"]
    return [sys.executable, "-m", "seekwise.gui.launch", "--background"]


def enable(command: list[str] | None = None) -> None:
    command = list(command or default_command())
    if sys.platform == "win32":
        _windows_set(subprocess.list2cmdline(command))
    elif sys.platform == "darwin":
        _write_atomic(_launch_agent(), plistlib.dumps({
            "Label": LAUNCH_AGENT, "ProgramArguments": command, "RunAtLoad": True,
            "ProcessType": "Interactive", "LimitLoadToSessionType": "Aqua"}))
    else:
        _write_atomic(_xdg_entry(), _desktop_entry(command).encode("utf-8"))


def disable() -> None:
    if sys.platform == "win32":
        _windows_set(None)
    else:
        path = _launch_agent() if sys.platform == "darwin" else _xdg_entry()
        path.unlink(missing_ok=True)


def is_enabled() -> bool:
    if sys.platform == "win32":
        return _windows_get() is not None
    if sys.platform == "darwin":
        return _launch_agent().is_file()
    path = _xdg_entry()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return False
    keys = dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
    return keys.get("Hidden", "false") != "true" and keys.get("X-GNOME-Autostart-enabled", "true") != "false"


# -- Linux: XDG autostart -------------------------------------------------------------------------

def _xdg_entry() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "autostart" / DESKTOP_FILE


def _desktop_entry(command: list[str]) -> str:
    return "\n".join([
        "[Desktop Entry]", "Type=Application", f"Name={APP_NAME}",
        "Comment=Keeps the search index of your folders up to date",
        "Exec=" + " ".join(exec_quote(arg) for arg in command),
        "Icon=seekwise", "Terminal=false", "NoDisplay=true", "X-GNOME-Autostart-enabled=true",
        f"X-GNOME-Autostart-Delay={DELAY_S}", "X-KDE-autostart-after=panel", ""])


def exec_quote(arg: str) -> str:
    """One Exec argument by the Desktop Entry spec: quoted when it holds a reserved character (with
    `"`, `` ` ``, `$` and `\\` escaped inside), `%` doubled, and the value's own `\\` escape applied."""
    arg = arg.replace("%", "%%")
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
        quoted = arg
    else:
        quoted = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
    return quoted.replace("\\", "\\\\")


# -- macOS: a LaunchAgent -------------------------------------------------------------------------

def _launch_agent() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT}.plist"


# -- Windows: the Run key -------------------------------------------------------------------------

def _windows_set(value: str | None) -> None:
    import winreg  # type: ignore[import-not-found]

    with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
        if value is not None:
            winreg.SetValueEx(key, APP_NAME, 0, winreg.REG_SZ, value)
        else:
            try:
                winreg.DeleteValue(key, APP_NAME)
            except FileNotFoundError:
                pass


def _windows_get() -> str | None:
    import winreg  # type: ignore[import-not-found]

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_READ) as key:
            return str(winreg.QueryValueEx(key, APP_NAME)[0])
    except FileNotFoundError:
        return None


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
