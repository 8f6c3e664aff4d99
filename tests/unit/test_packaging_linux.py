"""The packaging pieces that run without building: which executable is the GUI, the .deb's
Depends for the Qt plugins we ship, and the desktop entry / AppStream / icon names agreeing."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGING = ROOT / "packaging"


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_launcher_picks_the_gui_by_the_executable_name():
    wants_gui = load(PACKAGING / "launcher.py")._wants_gui
    assert wants_gui("/opt/seekwise/seekwise-gui")
    assert wants_gui("/Applications/Seekwise.app/Contents/MacOS/seekwise-gui")
    assert not wants_gui("/opt/seekwise/seekwise")
    assert not wants_gui("/usr/bin/python3")  # not frozen: the CLI, as `python -m seekwise` is


@pytest.mark.skipif(sys.platform != "linux" or not shutil.which("readelf"), reason="ELF and readelf only")
def test_every_system_library_the_shipped_qt_plugins_need_has_a_package():
    depends = load(PACKAGING / "linux" / "depends.py")
    plugins = Path(__import__("PySide6").__file__).parent / "Qt" / "plugins"
    shipped = [plugins / "platforms" / "libqxcb.so", plugins / "platforms" / "libqwayland.so",
               plugins / "xcbglintegrations" / "libqxcb-egl-integration.so",
               plugins / "platforminputcontexts" / "libibusplatforminputcontextplugin.so"]
    needed = {so for lib in shipped if lib.exists() for so in depends.needed(lib)}
    assert needed, "no Qt plugins found to read"
    unknown = {so for so in needed if not so.startswith("libQt6") and so not in depends.PACKAGES}
    assert not unknown, f"add to packaging/linux/depends.py PACKAGES: {sorted(unknown)}"


def test_desktop_entry_metainfo_and_icons_name_the_same_things():
    desktop = ROOT / "resources" / "linux" / "seekwise.desktop"
    entry = dict(line.split("=", 1) for line in desktop.read_text().splitlines() if "=" in line)
    meta = ET.parse(PACKAGING / "linux" / "app.seekwise.Seekwise.metainfo.xml").getroot()
    assert meta.findtext("launchable") == desktop.name
    assert meta.findtext("icon") == entry["Icon"] == "seekwise"
    assert (ROOT / "resources" / "icons" / f"{entry['Icon']}.svg").is_file()
    assert entry["Exec"].split()[0] in {b.text for b in meta.iter("binary")}
    assert "%" not in entry["Exec"]  # seekwise-gui takes no files: a field code would pass some (exit 2)
    # Qt's xcb plugin puts QApplication.applicationName in WM_CLASS's class ("seekwise-gui", "Seekwise").
    app_py = (ROOT / "app" / "seekwise" / "gui" / "app.py").read_text()
    assert f'setApplicationName("{entry["StartupWMClass"]}")' in app_py
    main = {"AudioVideo", "Audio", "Video", "Development", "Education", "Game", "Graphics", "Network",
            "Office", "Science", "Settings", "System", "Utility"}
    assert len(main & set(entry["Categories"].strip(";").split(";"))) == 1


def test_launcher_gives_back_the_library_path_the_bootloader_replaced():
    launcher = load(PACKAGING / "launcher.py")
    env = {"LD_LIBRARY_PATH": "/opt/seekwise/_internal", "HOME": "/h"}
    assert launcher._restore_library_path(env) == "/opt/seekwise/_internal"
    assert env == {"HOME": "/h"}                                        # there was none before
    env = {"LD_LIBRARY_PATH": "/opt/seekwise/_internal:/usr/local/lib", "LD_LIBRARY_PATH_ORIG": "/usr/local/lib"}
    assert launcher._restore_library_path(env) == "/opt/seekwise/_internal:/usr/local/lib"
    assert env == {"LD_LIBRARY_PATH": "/usr/local/lib"}


@pytest.mark.skipif(sys.platform != "linux", reason="LD_LIBRARY_PATH and /bin/sh")
def test_spawned_children_of_the_bundle_get_its_library_path_back(monkeypatch):
    import multiprocessing
    import multiprocessing.util
    import os

    launcher = load(PACKAGING / "launcher.py")
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    monkeypatch.setattr(multiprocessing.util, "spawnv_passfds",
                        launcher._spawn_with_library_path("/nonexistent/_internal", multiprocessing.util.spawnv_passfds))
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # its pipes must survive sh's exec
        assert pool.apply(os.getenv, ("LD_LIBRARY_PATH",)) == "/nonexistent/_internal"
    assert "LD_LIBRARY_PATH" not in os.environ


def test_launcher_writes_utf8_on_windows_pipes():
    import io

    launcher = load(PACKAGING / "launcher.py")
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="cp1252")
    launcher._utf8_stdio(out, None)        # None: the windowed executable has no stderr
    out.write("Zoë's 東京 notes ✓\n")
    out.flush()
    assert raw.getvalue().decode("utf-8") == "Zoë's 東京 notes ✓\n"


@pytest.mark.skipif(sys.platform != "linux" or not shutil.which("readelf"), reason="ELF and readelf only")
def test_libc6_minimum_is_the_newest_glibc_symbol_version_a_file_needs():
    depends = load(PACKAGING / "linux" / "depends.py")
    python = Path(sys.executable).resolve()
    versions = depends.glibc_needed(python)
    assert versions and all(len(v) in (2, 3) for v in versions)       # GLIBC_2.2.5, GLIBC_2.34, never GLIBC_PRIVATE
    assert depends.glibc_minimum([python]) == ".".join(map(str, max(versions)))
    assert tuple(map(int, depends.glibc_minimum([python]).split("."))) >= (2, 17)
