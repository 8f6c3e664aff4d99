"""The .gitignore reader: each line compiled to a regex over "/"-separated relative paths.

Supported: blank lines and comments, "\\#" and "\\!" escapes, trailing-space trimming, "!"
negation, a trailing "/" for folders only, a leading or inner "/" anchoring the pattern to its
file's folder, "*", "?", "[...]" classes, and "**" as "any folders" ("**/x", "x/**", "a/**/b").
Which file decides for a path (the deepest one with a matching line, its last such line) is the
exclusion policy's business: see core.ignore.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

log = logging.getLogger(__name__)

GITIGNORE = ".gitignore"


@dataclass(frozen=True)
class GitRule:
    regex: re.Pattern[str]  # full match against the path relative to the .gitignore's folder
    negate: bool
    dir_only: bool
    source: str


def read_gitignore(path: str) -> tuple[GitRule, ...]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return parse_gitignore(fh.read())
    except (FileNotFoundError, NotADirectoryError):
        return ()
    except OSError as exc:  # unreadable: as if absent, but say so once
        log.info("cannot read %s: %s", path, exc)
        return ()


def parse_gitignore(text: str) -> tuple[GitRule, ...]:
    rules = []
    for line in text.splitlines():
        rule = parse_gitignore_line(line)
        if rule is not None:
            rules.append(rule)
    return tuple(rules)


def parse_gitignore_line(line: str) -> GitRule | None:
    source = line
    line = line.rstrip("\r")
    if not line or line.startswith("#"):
        return None
    while line.endswith(" ") and not line.endswith("\\ "):  # trailing spaces, unless escaped
        line = line[:-1]
    negate = line.startswith("!")
    if negate:
        line = line[1:]
    elif line.startswith(("\\!", "\\#")):
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    body = _glob_regex(line)
    if not anchored:
        body = "(?:.*/)?" + body  # a bare name matches at any depth
    try:
        regex = re.compile(body, re.DOTALL)
    except re.error:
        log.debug("skipping a .gitignore line we cannot read: %r", source)  # a file's text: DEBUG only
        return None
    return GitRule(regex, negate, dir_only, source)


def _glob_regex(pat: str) -> str:
    """gitignore glob -> regex: "*" and "?" stay within one path component, "**" spans them."""
    out: list[str] = []
    i, n = 0, len(pat)
    while i < n:
        c = pat[i]
        if c == "*":
            at_start = i == 0 or pat[i - 1] == "/"
            if pat.startswith("**", i) and at_start and (i + 2 == n or pat[i + 2] == "/"):
                if i + 2 == n:
                    out.append(".*")  # "x/**": everything inside x
                    i += 2
                else:
                    out.append("(?:[^/]+/)*")  # "**/": zero or more folders
                    i += 3
                continue
            while i + 1 < n and pat[i + 1] == "*":  # other runs of stars act as one
                i += 1
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = _class_end(pat, i)
            if end < 0:
                out.append(re.escape(c))
            else:
                out.append(_class_regex(pat[i + 1:end]))
                i = end
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pat[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _class_end(pat: str, start: int) -> int:
    j = start + 1
    if j < len(pat) and pat[j] in "!^":
        j += 1
    if j < len(pat) and pat[j] == "]":
        j += 1
    while j < len(pat) and pat[j] != "]":
        if pat[j] == "\\":
            j += 1
        j += 1
    return j if j < len(pat) else -1


def _class_regex(body: str) -> str:
    """A "[...]" class; like git's, it never matches the "/" between folders."""
    parts = ["["]
    i = 0
    if body[:1] in ("!", "^"):
        parts.append("^/")
        i = 1
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            i += 1
            parts.append(re.escape(body[i]))
        elif c in "[]\\^":
            parts.append("\\" + c)
        else:
            parts.append(c)  # letters, digits and "-" ranges pass through
        i += 1
    parts.append("]")
    return "".join(parts)
