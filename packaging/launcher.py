"""Frozen entry point of both executables, `seekwise` (CLI) and `seekwise-gui`, told apart by file name.

One script (one PyInstaller Analysis) for both keeps a single dependency graph, so the two
executables can never disagree about which modules or libraries the bundle holds; they are two
files only because Windows needs a console program for the CLI and a windowed one for the GUI.
"""

import os

# ONNX Runtime's telemetry off before anything in the bundle can import it (see seekwise/__init__.py,
# which does the same for every other way in); the extraction workers this binary spawns inherit it.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

import multiprocessing  # noqa: E402
import multiprocessing.util  # noqa: E402
import sys  # noqa: E402

# Windows: held while any Seekwise program runs (this session); the uninstaller (packaging/windows/
# seekwise.iss, InitializeUninstall) asks the user to quit Seekwise before removing locked files.
WINDOWS_MUTEX = "SeekwiseRunning"


def _wants_gui(executable: str) -> bool:
    # The name of the file that runs, not argv[0]: symlinks and wrappers in /usr/bin cannot fool it.
    name = os.path.splitext(os.path.basename(executable))[0].lower()
    return name.startswith("seekwise-gui") or name == "seekwise gui"


def _restore_library_path(environ) -> str | None:
    """Undo the bootloader's LD_LIBRARY_PATH (the bundle's _internal first) in this process's
    environment, which every program Seekwise starts inherits: xdg-open, a PDF viewer, whatever
    QDesktopServices runs must load the system's Qt, SQLite and Python, not ours. Returns the
    bundle's value, for the bundle's own child processes (see _spawn_with_library_path)."""
    bundled = environ.get("LD_LIBRARY_PATH")
    original = environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is None:
        environ.pop("LD_LIBRARY_PATH", None)
    else:
        environ["LD_LIBRARY_PATH"] = original
    return bundled


def _spawn_with_library_path(library_path: str, spawnv_passfds):
    """multiprocessing's spawn (the extraction worker, the resource tracker) re-runs this bundle.
    Its bootloader, seeing it is a child of the bundle, trusts the inherited environment and does
    not set LD_LIBRARY_PATH again, so the child gets the bundle's value back here, through
    /bin/sh, for that one exec: the parent's environment is not touched (no race with threads
    starting other programs), and the passed file descriptors stay open across sh's exec."""
    def spawn(path, args, passfds):
        script = 'LD_LIBRARY_PATH="$0"; export LD_LIBRARY_PATH; exec "$@"'
        sh = b"/bin/sh" if isinstance(path, bytes) else "/bin/sh"  # the path is bytes on POSIX since 3.11
        return spawnv_passfds(sh, [sh, "-c", script, library_path, path, *args[1:]], passfds)
    return spawn


def _utf8_stdio(*streams) -> None:
    """Windows: text written to a pipe or file (`seekwise search --json > hits.jsonl`) would use the
    ANSI code page (cp1252), which cannot encode most file names; write UTF-8 as on Linux and macOS."""
    for stream in streams:
        if stream is not None and hasattr(stream, "reconfigure") and stream.encoding.lower() not in ("utf-8", "utf8"):
            stream.reconfigure(encoding="utf-8")


def _hold_windows_mutex() -> None:
    import ctypes

    # The handle stays open until the process ends, which is the point: never closed here.
    ctypes.windll.kernel32.CreateMutexW(None, False, WINDOWS_MUTEX)


def main() -> int:
    # The extraction worker (core/extract/isolate.py, "spawn") re-runs this binary: serve it and exit here.
    multiprocessing.freeze_support()
    if getattr(sys, "frozen", False) and sys.platform.startswith("linux"):
        bundled = _restore_library_path(os.environ)
        if bundled:
            multiprocessing.util.spawnv_passfds = _spawn_with_library_path(
                bundled, multiprocessing.util.spawnv_passfds)
    if sys.platform == "win32":
        _utf8_stdio(sys.stdout, sys.stderr)
        _hold_windows_mutex()
    if _wants_gui(sys.executable):
        from seekwise.gui.launch import main as gui_main
        return gui_main()
    from seekwise.cli import main as cli_main
    return cli_main()


if __name__ == "__main__":
    raise SystemExit(main())
