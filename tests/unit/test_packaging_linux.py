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
    launch_py = (ROOT / "app" / "seekwise" / "gui" / "launch.py").read_text()
    assert f'setApplicationName("{entry["StartupWMClass"]}")' in launch_py
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


# --- the .deb's Depends and the bundle's system libraries, whatever else the build machine has ---

ELF_TOOLS = pytest.mark.skipif(sys.platform != "linux" or not shutil.which("readelf"), reason="ELF and readelf only")
# Sonames PACKAGES does not list, with the package that ships them on Debian and Ubuntu alike.
NOT_IN_TABLE = {"libXss.so.1": "libxss1", "libXtst.so.6": "libxtst6", "libepoxy.so.0": "libepoxy0",
                "libsqlite3.so.0": "libsqlite3-0", "libXmu.so.6": "libxmu6", "libXpm.so.4": "libxpm4"}
DESKTOP_X_LIBS = ("libXi.so.6", "libXinerama.so.1", "libXrandr.so.2", "libXext.so.6", "libXrender.so.1",
                  "libXcursor.so.1", "libXfixes.so.3", "libXdamage.so.1", "libXcomposite.so.1")


def qt_plugin(name: str) -> Path:
    return Path(__import__("PySide6").__file__).parent / "Qt" / "plugins" / name


def bundle_needing(tmp_path: Path, soname: str) -> Path:
    """A bundle whose one ELF needs soname and otherwise only what the bundle carries.

    It is libqxcb.so with its libQt6XcbQpa.so.6 entry renamed in place (readelf reads a name up to
    its NUL); empty files stand for the rest of its NEEDED, which depends.py counts as carried."""
    depends = load(PACKAGING / "linux" / "depends.py")
    plugin = qt_plugin("platforms/libqxcb.so")
    old = b"libQt6XcbQpa.so.6\0"
    data = plugin.read_bytes()
    assert data.count(old) == 1 and len(soname) < len(old)
    bundle = tmp_path / soname
    bundle.mkdir()
    (bundle / "libqxcb.so").write_bytes(data.replace(old, soname.encode().ljust(len(old), b"\0")))
    for name in set(depends.needed(plugin)) - {"libQt6XcbQpa.so.6"}:
        (bundle / name).touch()
    assert depends.needed(bundle / "libqxcb.so")[0] == soname
    return bundle


def present_not_in_table(depends) -> list[str]:
    found = [s for s in NOT_IN_TABLE if s not in depends.PACKAGES and depends.library_path(s)]
    if not found:
        pytest.skip(f"none of {sorted(NOT_IN_TABLE)} installed here")
    return found


@ELF_TOOLS
@pytest.mark.skipif(not shutil.which("dpkg-query"), reason="needs the dpkg package database")
def test_a_soname_the_table_does_not_know_is_mapped_through_dpkg(tmp_path):
    depends = load(PACKAGING / "linux" / "depends.py")
    assert depends.dpkg_package("libc.so.6") == "libc6"           # its real path, through /lib or /usr/lib
    soname = present_not_in_table(depends)[0]
    assert depends.package(soname) == NOT_IN_TABLE[soname]
    assert NOT_IN_TABLE[soname] in depends.depends(bundle_needing(tmp_path, soname)).split(", ")


@ELF_TOOLS
def test_without_dpkg_the_fixed_table_still_maps_what_it_knows(tmp_path, monkeypatch):
    depends = load(PACKAGING / "linux" / "depends.py")
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "readelf").symlink_to(shutil.which("readelf"))
    monkeypatch.setenv("PATH", str(tools))                       # a build machine without dpkg
    assert not shutil.which("dpkg-query")
    assert depends.package("libc.so.6") == "libc6"
    assert depends.depends(bundle_needing(tmp_path, "libXi.so.6")).split(", ") == ["libxi6"]
    with pytest.raises(LookupError, match="no dpkg-query"):
        depends.package("libXss.so.1")
    with pytest.raises(SystemExit, match=r"libXss.so.1: no dpkg-query on PATH \(needed by libqxcb.so\)"):
        depends.depends(bundle_needing(tmp_path, "libXss.so.1"))


@ELF_TOOLS
def test_a_library_neither_the_table_nor_dpkg_knows_stops_the_build_naming_it(tmp_path):
    depends = load(PACKAGING / "linux" / "depends.py")
    with pytest.raises(SystemExit) as stop:
        depends.depends(bundle_needing(tmp_path, "libnosuch.so.7"))
    message = str(stop.value)
    assert "libnosuch.so.7" in message and "needed by libqxcb.so" in message
    assert "not found by ldconfig" in message or "no dpkg-query" in message
    assert "PACKAGES in packaging/linux/depends.py" in message


def spec_wanted():
    """seekwise.spec's wanted(), run outside PyInstaller: its literal settings and the function itself."""
    import ast

    source = (PACKAGING / "seekwise.spec").read_text()
    namespace = {"Path": Path, "sys": sys, "LINUX_LIBS": load(PACKAGING / "linux" / "depends.py")}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in ("QT_PLUGINS", "QT_UNWANTED"):
            namespace[node.targets[0].id] = ast.literal_eval(node.value)
        elif isinstance(node, ast.FunctionDef) and node.name == "wanted":
            exec(compile(ast.Module([node], []), "seekwise.spec", "exec"), namespace)  # noqa: S102 - our spec
    return namespace["wanted"]


@pytest.mark.skipif(sys.platform != "linux", reason="the Linux bundle's rule")
def test_the_spec_leaves_the_desktop_x_libraries_to_the_system():
    wanted = spec_wanted()
    depends = load(PACKAGING / "linux" / "depends.py")
    for name in DESKTOP_X_LIBS + ("libX11.so.6", "libepoxy.so.0", "libatspi.so.0", "libgtk-3.so.0"):
        assert not wanted(name), name
    assert all(name in depends.PACKAGES for name in DESKTOP_X_LIBS)   # and the .deb Depends on them
    for name in ("libpython3.11.so.1.0", "libsqlite3.so.0", "PySide6/Qt/lib/libQt6Gui.so.6",
                 "PySide6/Qt/lib/libicuuc.so.73", "numpy.libs/libscipy_openblas64_-ff651d7f.so"):
        assert wanted(name), name


@ELF_TOOLS
@pytest.mark.skipif(not Path("/usr/sbin/ldconfig").exists() and not shutil.which("ldconfig"), reason="ldconfig")
def test_libraries_only_the_gtk_theme_plugin_needs_are_left_out(tmp_path):
    depends = load(PACKAGING / "linux" / "depends.py")
    if depends.library_path("libgtk-3.so.0") is None:
        pytest.skip("GTK 3 not installed: PyInstaller would not follow libqgtk3 here either")
    qt = qt_plugin("").parent
    # (dest, src) as PyInstaller collects them: Qt's own under PySide6/, the system's at the top.
    binaries = {f"PySide6/Qt/plugins/{p}": qt_plugin(p) for p in ("platforms/libqxcb.so", "platformthemes/libqgtk3.so")}
    todo = list(binaries.values())
    while todo:
        for name in depends.needed(todo.pop()):
            dest, src = (f"PySide6/Qt/lib/{name}", qt / "lib" / name) if (qt / "lib" / name).exists() \
                else (name, depends.library_path(name))
            if src is not None and dest not in binaries:
                binaries[dest] = src
                todo.append(src)
    binaries["libsqlite3.so.0"] = depends.library_path("libsqlite3.so.0")  # a hook's: nothing NEEDs it
    left_out = depends.optional_only([(d, str(s)) for d, s in binaries.items() if s is not None])
    assert {"libXi.so.6", "libXinerama.so.1", "libXrandr.so.2", "libgtk-3.so.0"} <= left_out
    assert not {"libX11.so.6", "libxcb.so.1", "libstdc++.so.6", "libsqlite3.so.0"} & left_out   # libqxcb's, the hook's
    assert not any("/" in d for d in left_out)                     # never Qt's own libraries
