"""Frozen entry point of both executables, `seekwise` (CLI) and `seekwise-gui`, told apart by file name.

One script (one PyInstaller Analysis) for both keeps a single dependency graph, so the two
executables can never disagree about which modules or libraries the bundle holds; they are two
files only because Windows needs a console program for the CLI and a windowed one for the GUI.
"""

import multiprocessing
import os
import sys


def _wants_gui(executable: str) -> bool:
    # The name of the file that runs, not argv[0]: symlinks and wrappers in /usr/bin cannot fool it.
    name = os.path.splitext(os.path.basename(executable))[0].lower()
    return name.startswith("seekwise-gui") or name == "seekwise gui"


def main() -> int:
    # The extraction worker (core/extract/isolate.py, "spawn") re-runs this binary: serve it and exit here.
    multiprocessing.freeze_support()
    if _wants_gui(sys.executable):
        from seekwise.gui.app import main as gui_main
        return gui_main()
    from seekwise.cli import main as cli_main
    return cli_main()


if __name__ == "__main__":
    raise SystemExit(main())
