"""Ctrl+C for a child process in a test, whoever started the test run.

A command started as a background job of a shell without job control (`.ci/run &` in a script)
inherits SIGINT ignored, and so does every process it starts; Python then installs no
KeyboardInterrupt handler, and a test's SIGINT is lost. A child that a test will interrupt gets
the default disposition back, as it would have under a terminal."""
from __future__ import annotations

import signal


def interruptible() -> None:
    """preexec_fn for subprocess.Popen: SIGINT as a terminal leaves it (default, not ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
