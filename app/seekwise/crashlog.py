"""An unexpected error ends in one line on stderr and a private log file holding the traceback.

A traceback on screen tells a user nothing and can spill what it holds (a query vector, a path);
the log keeps it for a bug report without it leaving the machine. The log folder is the platform's
user log folder (~/.local/state/seekwise/log on Linux: hidden, so never inside a folder Seekwise
indexes), private to the user (0700, files 0600); only the last KEEP logs of at most MAX_BYTES stay.
"""

from __future__ import annotations

import os
import stat
import sys
import time
import traceback
from pathlib import Path

EXIT_UNEXPECTED = 3
KEEP = 5
MAX_BYTES = 256 << 10
_ONE_LINE = 200  # characters of the exception's message on stderr


def log_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_log_dir("seekwise", appauthor=False))


def private_log_dir() -> Path:
    """log_dir(), made if need be and checked: this user's own folder, 0700 (a log names files).
    The running programs' rotating logs (seekwise.logfile) live here too."""
    folder = log_dir()
    folder.mkdir(parents=True, mode=0o700, exist_ok=True)
    st = os.lstat(folder)
    if not stat.S_ISDIR(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
        raise PermissionError(f"{folder} is not a folder of this user's")
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(folder, 0o700)
    return folder


def report(prog: str, exc: BaseException, show_traceback: bool = False) -> int:
    """Say on one line what went wrong and where the details are; returns EXIT_UNEXPECTED."""
    try:
        path, why = write(prog, exc), ""
    except Exception as failure:  # noqa: BLE001 - the log is a courtesy: it must never add a second error
        path, why = None, f"{type(failure).__name__}: {failure}"
    where = f"details in {path}" if path else f"no log written ({_squash(why)})"
    if sys.stderr is not None:  # pythonw on Windows has none
        if show_traceback:
            traceback.print_exception(exc, file=sys.stderr)
        print(f"{prog}: unexpected error: {type(exc).__name__}: {_squash(str(exc))} — {where}",
              file=sys.stderr, flush=True)
    return EXIT_UNEXPECTED


def write(prog: str, exc: BaseException) -> Path:
    """The traceback in a new private file; older logs beyond KEEP go."""
    folder = private_log_dir()
    text = (f"{prog} {_version()} on Python {sys.version.split()[0]}, {sys.platform}\n"
            f"{time.strftime('%Y-%m-%d %H:%M:%S')}  argv: {sys.argv!r}\n\n"
            + "".join(traceback.format_exception(exc)))
    data = text.encode("utf-8", "backslashreplace")
    if len(data) > MAX_BYTES:  # keep the start (what ran) and the end (where it broke)
        half = MAX_BYTES // 2
        data = data[:half] + b"\n[... cut ...]\n" + data[-half:]
    now = time.time()  # fixed-width stamp first: names sort in time order, which pruning relies on
    stem = f"crash-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}.{int(now % 1 * 1e6):06d}-{os.getpid()}"
    for n in range(100):  # a new file, never one that is there (or a link planted in its name)
        path = folder / (f"{stem}.log" if not n else f"{stem}-{n}.log")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"{folder} is full of logs named {stem}")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    _prune(folder)
    return path


def _prune(folder: Path) -> None:
    """The newest KEEP stay (by name: a file's mtime may be as coarse as a clock tick); another
    process pruning at the same time is no error."""
    for old in sorted(folder.glob("crash-*.log"), reverse=True)[KEEP:]:
        try:
            old.unlink()
        except OSError:
            pass


def _squash(message: str) -> str:
    """One line, bounded: a message may hold a whole array."""
    line = " ".join(message.split())
    return line if len(line) <= _ONE_LINE else line[:_ONE_LINE - 1] + "…"


def _version() -> str:
    try:
        from seekwise import __version__
        return __version__
    except Exception:  # noqa: BLE001
        return "?"
