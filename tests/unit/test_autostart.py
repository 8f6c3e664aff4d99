"""Start at login on Linux: the XDG autostart entry is written, read back, runs what it says, removed."""

from __future__ import annotations

import configparser
import subprocess
import sys

import pytest

from seekwise.gui import autostart

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG autostart entry is Linux's")


def exec_args(value: str) -> list[str]:
    """Split an Exec value as a desktop environment does (the spec's string, then its quoting)."""
    value = value.replace("\\\\", "\x00").replace("\x00", "\\")  # the string value's own escape
    args, cur, quoted, i, started = [], [], False, 0, False
    while i < len(value):
        c = value[i]
        if quoted:
            if c == "\\" and i + 1 < len(value):
                i += 1
                cur.append(value[i])
            elif c == '"':
                quoted = False
            else:
                cur.append(c)
        elif c == '"':
            quoted = started = True
        elif c == " ":
            if started:
                args.append("".join(cur))
            cur, started = [], False
        else:
            cur.append(c)
            started = True
        i += 1
    if started:
        args.append("".join(cur))
    return [a.replace("%%", "%") for a in args]


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "autostart" / "seekwise.desktop"


def test_enable_disable_and_state(xdg):
    assert not autostart.is_enabled()
    autostart.enable(["/opt/seekwise/bin/seekwise-gui", "--background"])
    assert autostart.is_enabled() and xdg.is_file()
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(xdg)
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Exec"] == "/opt/seekwise/bin/seekwise-gui --background"
    assert section["X-GNOME-Autostart-enabled"] == "true"
    autostart.disable()
    assert not autostart.is_enabled() and not xdg.exists()
    autostart.disable()  # twice is fine


def test_a_disabled_entry_edited_by_the_desktop_counts_as_off(xdg):
    autostart.enable(["seekwise-gui", "--background"])
    xdg.write_text(xdg.read_text().replace("X-GNOME-Autostart-enabled=true", "X-GNOME-Autostart-enabled=false"))
    assert not autostart.is_enabled()


def test_the_exec_line_runs_the_command_with_awkward_arguments(xdg, tmp_path):
    out = tmp_path / "odd $dir" / "ran 100%.txt"
    out.parent.mkdir()
    code = 'import sys; open(sys.argv[1], "w").write(sys.argv[2])'
    command = [sys.executable, "-c", code, str(out), 'back\\slash "quoted" `tick`']
    autostart.enable(command)
    line = next(ln for ln in xdg.read_text().splitlines() if ln.startswith("Exec="))
    assert exec_args(line[len("Exec="):]) == command
    subprocess.run(exec_args(line[len("Exec="):]), check=True, timeout=30)
    assert out.read_text() == 'back\\slash "quoted" `tick`'


def test_default_command_starts_in_the_tray():
    assert autostart.default_command()[-1] == "--background"


@pytest.mark.parametrize("platform, gui", [("linux", "seekwise-gui"), ("darwin", "seekwise-gui"),
                                           ("win32", "seekwise-gui.exe")])
@pytest.mark.parametrize("running", ["seekwise", "seekwise-gui"])
def test_a_frozen_build_starts_its_windowed_executable_even_from_the_cli(monkeypatch, platform, gui, running):
    # `seekwise gui` runs the GUI inside the CLI executable, which rejects --background.
    suffix = ".exe" if platform == "win32" else ""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(sys, "executable", f"/opt/seekwise/{running}{suffix}")
    assert autostart.default_command() == [f"/opt/seekwise/{gui}", "--background"]


def test_an_installed_package_starts_its_gui_script_or_this_interpreter(monkeypatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.setattr(autostart.shutil, "which", lambda name: f"/home/me/.local/bin/{name}")
    assert autostart.default_command() == ["/home/me/.local/bin/seekwise-gui", "--background"]
    monkeypatch.setattr(autostart.shutil, "which", lambda name: None)
    assert autostart.default_command() == [sys.executable, "-m", "seekwise.gui.launch", "--background"]
