"""The frozen app leaves seekwise.devtools out (packaging/seekwise.spec): its CLI still lists the
benchmark commands, and running one says it is not part of this build, in one line, never a traceback.
The build is stood in for by Python's own import block (None in sys.modules), as PyInstaller's
missing module fails: ModuleNotFoundError naming seekwise.devtools."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

WITHOUT_DEVTOOLS = ("import sys\nsys.modules['seekwise.devtools'] = None\n"
                    "from seekwise.cli import main\nraise SystemExit(main(sys.argv[1:]))\n")


def seekwise_without_devtools(*args: str, home: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), XDG_STATE_HOME=home, XDG_CACHE_HOME=home)
    return subprocess.run([sys.executable, "-c", WITHOUT_DEVTOOLS, *args], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [("bench-vectors", "--help"), ("bench-vectors", "LIB", "--work", "W"),
                                  ("bench", "FOLDER")])
def test_a_benchmark_command_says_it_is_not_in_this_build(args, tmp_path):
    out = seekwise_without_devtools(*args, home=str(tmp_path))
    assert out.returncode == 1, out.stderr
    assert out.stderr.startswith(f"seekwise: `seekwise {args[0]}` is not part of this build")
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1 and out.stdout == ""


def test_the_rest_of_the_cli_works_without_them(tmp_path):
    listing = seekwise_without_devtools("--help", home=str(tmp_path))
    assert listing.returncode == 0 and "bench-vectors" in listing.stdout
    assert seekwise_without_devtools("eval", "--help", home=str(tmp_path)).returncode == 0
