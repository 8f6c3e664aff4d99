"""The desktop app's and `seekwise watch`'s own log: what they did, for a person asking why.

Both run for hours where nobody reads stderr (started from a menu, at login, in the background), so
they also log to a file: a few rotating files (FILES of at most MAX_BYTES) in the crash reports'
private folder (crashlog.private_log_dir: ~/.local/state/seekwise/log on Linux, 0700, files 0600).
At INFO it names files and counts, never what a file or a query says: passage text and query words
are DEBUG at most (tests/unit/test_logfile.py indexes and searches with the file at INFO to hold
that). Stderr keeps WARNING; --verbose makes both DEBUG.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from seekwise import crashlog

MAX_BYTES = 1 << 20
FILES = 3                 # the live file and two older ones: at most 3 MB a program
FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
STDERR_FORMAT = "%(levelname)s %(name)s: %(message)s"

log = logging.getLogger(__name__)


def path_for(prog: str) -> Path:
    """Where `prog`'s log is (or will be): one file a program, so two never rotate each other's."""
    return crashlog.log_dir() / f"{prog}.log"


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """RotatingFileHandler whose files are the user's alone (0600), like the crash reports, and never
    a link planted in their name. Rotation renames, so the older files keep their mode."""

    def _open(self):  # noqa: ANN202 - logging's own hook for opening the stream
        flags = (os.O_WRONLY | os.O_CREAT | os.O_APPEND
                 | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
        fd = os.open(self.baseFilename, flags, 0o600)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)      # one left by a looser umask
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)  # noqa: SIM115 - the handler closes it


def file_handler(prog: str, level: int = logging.INFO) -> PrivateRotatingFileHandler:
    """`prog`'s rotating log, opened (an OSError when the folder cannot be used)."""
    folder = crashlog.private_log_dir()
    handler = PrivateRotatingFileHandler(folder / f"{prog}.log", maxBytes=MAX_BYTES, backupCount=FILES - 1,
                                         encoding="utf-8", errors="backslashreplace")
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(FILE_FORMAT))
    handler.addFilter(ours_or_serious)
    return handler


def ours_or_serious(record: logging.LogRecord) -> bool:
    """Another library's debug and info stay out of the file even with --verbose: a PDF parser's
    debug output quotes the page it reads."""
    return record.levelno >= logging.WARNING or record.name == "seekwise" or record.name.startswith("seekwise.")


def configure(prog: str, verbose: bool = False, to_file: bool = True) -> Path | None:
    """Logging for a program that runs a while, replacing what was set before: stderr at WARNING,
    the log file at INFO for Seekwise's own loggers (other libraries' reach both from WARNING);
    everything at DEBUG with `verbose`. The log file, or None when there is none (not wanted, or
    the folder cannot be written: said on stderr, and the program runs on without it)."""
    handlers: list[logging.Handler] = []
    if sys.stderr is not None:         # pythonw on Windows has none
        to_stderr = logging.StreamHandler(sys.stderr)
        to_stderr.setLevel(logging.DEBUG if verbose else logging.WARNING)
        to_stderr.setFormatter(logging.Formatter(STDERR_FORMAT))
        handlers.append(to_stderr)
    to_log, problem = None, ""
    if to_file:
        try:
            to_log = file_handler(prog, logging.DEBUG if verbose else logging.INFO)
            handlers.append(to_log)
        except OSError as exc:
            problem = f"{path_for(prog)}: {exc.strerror or exc}"
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=handlers, force=True)
    logging.getLogger("seekwise").setLevel(logging.DEBUG if verbose else logging.INFO)
    if problem:
        log.warning("no log file (%s); logging to stderr only", problem)
    if to_log is None:
        return None
    from seekwise import __version__
    log.info("%s %s started (pid %d, Python %s, %s)", prog, __version__, os.getpid(),
             sys.version.split()[0], sys.platform)
    return Path(to_log.baseFilename)
