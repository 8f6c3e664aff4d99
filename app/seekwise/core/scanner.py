"""Walk the chosen folders: every file with its size and mtime, and every place we could not look."""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from seekwise.core.ignore import DEFAULT_RULES, IGNORED_DIR_NAMES, IgnoreRules, builtin_ignored
from seekwise.core.under import is_under

log = logging.getLogger(__name__)

IGNORED_DIRS = IGNORED_DIR_NAMES  # the rules live in core/ignore.py, shared with the watcher


@dataclass(frozen=True)
class SeenFile:
    path: str
    size: int
    mtime_ns: int


@dataclass
class ScanResult:
    files: list[SeenFile] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    unreadable_dirs: list[str] = field(default_factory=list)  # keep what we indexed under these
    missing_roots: list[str] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): known, never read


def is_ignored(name: str, is_dir: bool = False) -> bool:
    """Hidden files and folders, machine-made trees and editors' temp files (built-in rules only)."""
    return builtin_ignored(name, is_dir)


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "disappeared while scanning (or a broken link)"
    return exc.strerror or str(exc)


class Confinement:
    """The library's folders, resolved: a link is followed only to a place inside one of them, so a
    link to /etc/passwd (or to a whole folder elsewhere) never brings what the user did not choose."""

    def __init__(self, roots: Iterable[str]) -> None:
        self._roots = frozenset(os.path.realpath(os.fspath(r)) for r in roots)

    def outside(self, path: str) -> str | None:
        """Where `path` leads, if that is outside every folder; None if inside one."""
        target = os.path.realpath(path)
        if any(is_under(target, root) for root in self._roots):
            return None
        return target


def outside_reason(target: str) -> str:
    return f"link to a place outside your folders ({target}): not followed"


def scan(roots: Iterable[str], rules: IgnoreRules | None = None,
         cancelled: Callable[[], bool] = lambda: False, within: Iterable[str] | None = None) -> ScanResult:
    """Iterative walk that follows links to folders once each (a link loop cannot trap it).

    `rules` (default: the built-in ones) are the watcher's too, so both leave out the same paths.
    `within` are the library's folders (default: `roots`): a path or link leading outside them is
    not read but listed in `left_out`. Pass them when `roots` are paths inside (a watcher's)."""
    rules = rules if rules is not None else DEFAULT_RULES
    roots = list(roots)
    fence = Confinement(roots if within is None else within)
    result = ScanResult()
    visited: set[tuple[int, int]] = set()
    for root in roots:
        target = fence.outside(root)
        if target is not None:  # a watcher's path that is (or is under) a link leading out
            result.left_out.append((root, outside_reason(target)))
            continue
        try:
            st = os.stat(root)
        except OSError:
            result.missing_roots.append(root)
            continue
        if not stat.S_ISDIR(st.st_mode):
            result.files.append(SeenFile(root, st.st_size, st.st_mtime_ns))
            continue
        visited.add((st.st_dev, st.st_ino))
        matcher = rules.matcher(root)
        stack = [root]
        while stack:
            if cancelled():
                return result
            folder = stack.pop()
            try:
                with os.scandir(folder) as it:
                    entries = list(it)
            except OSError as exc:
                result.problems.append((folder, _reason(exc)))
                result.unreadable_dirs.append(folder)
                continue
            for entry in entries:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if matcher.ignored_entry(entry.path, is_dir):
                    continue
                try:
                    is_link = entry.is_symlink()
                    target = fence.outside(entry.path) if is_link else None
                    if target is not None:
                        result.left_out.append((entry.path, outside_reason(target)))
                        continue
                    st = entry.stat(follow_symlinks=True)
                except OSError as exc:
                    result.problems.append((entry.path, _reason(exc)))
                    continue
                if stat.S_ISDIR(st.st_mode):
                    key = (st.st_dev, st.st_ino)
                    if key in visited:
                        if is_link:
                            log.debug("link to a folder already seen: %s", entry.path)
                        continue
                    visited.add(key)
                    stack.append(entry.path)
                elif stat.S_ISREG(st.st_mode):
                    result.files.append(SeenFile(entry.path, st.st_size, st.st_mtime_ns))
    return result
