"""Markdown: the text a reader sees, line for line, keeping headings and code fences for the chunker."""

from __future__ import annotations

import re

from seekwise.core.extract.base import Document, Family
from seekwise.core.extract.decode import decode

VERSION = "markdown/2"
EXTENSIONS = frozenset({".md", ".markdown", ".mdown", ".mkd", ".mkdn", ".mdx"})

# Linear: the text part stops at the next bracket, the URL part at the next unpaired parenthesis
# (one level of pairs, as in Wikipedia URLs), and the alternatives never match the same character.
_URL = r"\((?:[^()\n]|\([^()\n]*\))*\)"
_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]" + _URL)
_LINK = re.compile(r"\[([^\[\]\n]*)\]" + _URL)
_REF_DEF = re.compile(r" {0,3}\[(?!\^)[^\[\]\n]+\]:(?:[ \t]|$)")  # "[id]: url"; footnotes "[^1]:" are text
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_META_TITLE = re.compile(r"title[ \t]*[:=][ \t]*(.*)", re.I)


def read(data: bytes, name: str) -> Document:
    """Markup a reader does not see is dropped; every line stays where it was."""
    text = decode(data)
    lines = text.split("\n")
    meta_title = _blank_front_matter(lines)
    last_close = text.rfind("-->")  # a "<!--" after this never closes: it is text, not a comment
    title: str | None = None
    fence: str | None = None  # the opening run of backticks or tildes while inside a fenced block
    in_comment = False
    offset = 0
    for i, line in enumerate(lines):
        line_offset, offset = offset, offset + len(line) + 1
        if fence is not None:
            if _closes(line, fence):
                fence = None
            continue
        if not in_comment:
            m = _FENCE.match(line)
            if m and not (m.group(1)[0] == "`" and "`" in line[m.end():]):
                fence = m.group(1)
                continue
        line, in_comment = _drop_comments(line, in_comment, line_offset, last_close)
        if _REF_DEF.match(line):
            line = ""
        if "](" in line:
            line = _LINK.sub(r"\1", _IMAGE.sub(r"\1", line))
        if title is None:
            title = _h1(line)
        lines[i] = line
    return Document("\n".join(lines), "markdown", VERSION, title=title or meta_title)


def _blank_front_matter(lines: list[str]) -> str | None:
    """Blank a leading '---' YAML (or '+++' TOML) block in place; return its title, if it has one."""
    opener = lines[0].rstrip() if lines else ""
    if opener not in ("---", "+++"):
        return None
    closers = ("---", "...") if opener == "---" else ("+++",)
    end = next((k for k in range(1, len(lines)) if lines[k].rstrip() in closers), None)
    if end is None:
        return None
    title = None
    for k in range(end + 1):
        m = _META_TITLE.match(lines[k]) if title is None and 0 < k < end else None
        if m:
            title = m.group(1).strip().strip("'\"").strip() or None
        lines[k] = ""
    return title


def _closes(line: str, fence: str) -> bool:
    """A closing fence: same character, at least as long, nothing after it but spaces."""
    stripped = line.strip()
    return len(line) - len(line.lstrip(" ")) <= 3 and len(stripped) >= len(fence) \
        and stripped == fence[0] * len(stripped)


def _drop_comments(line: str, in_comment: bool, line_offset: int, last_close: int) -> tuple[str, bool]:
    """Cut '<!-- ... -->' out of a line (a comment may have opened on an earlier line)."""
    kept: list[str] = []
    pos = 0
    while True:
        if in_comment:
            end = line.find("-->", pos)
            if end < 0:
                break
            pos, in_comment = end + 3, False
        start = line.find("<!--", pos)
        if start < 0 or line_offset + start + 4 > last_close:
            kept.append(line[pos:])
            break
        kept.append(line[pos:start])
        pos, in_comment = start + 4, True
    return "".join(kept), in_comment


def _h1(line: str) -> str | None:
    """The text of an ATX '# ' heading (up to three spaces in, closing '#'s dropped), else None."""
    body = line.lstrip(" ")
    if len(line) - len(body) > 3 or not body.startswith("#") or body[1:2] not in (" ", "\t"):
        return None
    body = body[2:].strip()
    trimmed = body.rstrip("#")
    if trimmed != body and (not trimmed or trimmed[-1] in " \t"):
        body = trimmed.rstrip()
    return body or None


FAMILY = Family(VERSION, read, EXTENSIONS)
