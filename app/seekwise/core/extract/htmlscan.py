"""HTML to tokens in one forward pass: linear on any input, and the same on every Python version.

Not html.parser: on Python 3.10/3.11 it rescans unterminated markup from every '<' (100 KB of
'<a' takes over ten seconds), raises AssertionError on some declarations, and its handling of
comments and script changed in later patch releases, which would change our output under one
extractor version. Here every character is looked at a bounded number of times; unterminated
markup runs to the end of the input, as it does in browsers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

TEXT, LITERAL, START, END = "text", "literal", "start", "end"

# Elements whose content is not markup. Hidden ones (script, style...) yield no text at all;
# RCDATA ones yield TEXT (entities still to decode); LITERAL ones are shown verbatim, like <pre>.
RAW_HIDDEN = frozenset({"script", "style", "noscript", "iframe", "noembed", "noframes"})
RCDATA = frozenset({"title", "textarea"})
RAW_LITERAL = frozenset({"xmp"})

_TAG_NAME = re.compile(r"[^\s/>]*")
_SPACE_SLASH = re.compile(r"[\s/]*")
_ATTR_NAME = re.compile(r"[^\s/>][^\s/>=]*")
_EQUALS = re.compile(r"\s*=\s*")
_BARE_VALUE = re.compile(r"[^\s>]*")
_raw_ends: dict[str, re.Pattern[str]] = {}


class Token(NamedTuple):
    """TEXT/LITERAL carry text; START/END a lower-case tag name (START also its attributes)."""

    kind: str
    data: str
    attrs: dict[str, str] | None = None  # START: lower-case name -> raw value (entities not decoded)
    closed: bool = False                 # START written as <x/>: nothing inside it


def tokens(html: str) -> Iterator[Token]:
    """Text and tags in document order; comments, doctypes and processing instructions are skipped."""
    n = len(html)
    pos = 0
    while pos < n:
        lt = html.find("<", pos)
        if lt < 0:
            yield Token(TEXT, html[pos:])
            return
        if lt > pos:
            yield Token(TEXT, html[pos:lt])
        after = html[lt + 1:lt + 2]
        if after.isascii() and after.isalpha():
            tag = _start_tag(html, lt)
            if tag is None:
                return  # the input ends inside a tag
            token, pos = tag
            yield token
            name = token.data
            if token.closed or not (name in RAW_HIDDEN or name in RCDATA or name in RAW_LITERAL
                                    or name == "plaintext"):
                continue
            if name == "plaintext":  # everything after it is text, even tags
                yield Token(LITERAL, html[pos:])
                return
            end = _raw_end(name).search(html, pos)
            stop = end.start() if end else n
            if name in RCDATA:
                yield Token(TEXT, html[pos:stop])
            elif name in RAW_LITERAL:
                yield Token(LITERAL, html[pos:stop])
            yield Token(END, name)
            pos = _after(html, ">", stop)
        elif after == "/":
            first = html[lt + 2:lt + 3]
            gt = html.find(">", lt + 2)
            if gt < 0:
                return
            if first.isascii() and first.isalpha():
                yield Token(END, _TAG_NAME.match(html, lt + 2).group().lower())
            pos = gt + 1  # "</>" and "</ junk>" are dropped, as browsers do
        elif after == "!":
            pos, cdata = _declaration(html, lt)
            if cdata:
                yield Token(TEXT, cdata.replace("&", "&amp;"))  # CDATA is literal: keep '&' as it is
        elif after == "?":
            pos = _after(html, ">", lt + 2)
        else:
            yield Token(TEXT, "<")
            pos = lt + 1


def _after(html: str, mark: str, start: int) -> int:
    """The position just past the next `mark`, or the end of the input."""
    found = html.find(mark, start)
    return len(html) if found < 0 else found + len(mark)


def _raw_end(name: str) -> re.Pattern[str]:
    pattern = _raw_ends.get(name)
    if pattern is None:
        pattern = _raw_ends[name] = re.compile(rf"</{re.escape(name)}(?=[\s/>])", re.I)
    return pattern


def _start_tag(html: str, lt: int) -> tuple[Token, int] | None:
    """A start tag from '<' to past its '>' (quoted values may hold '>'), or None at end of input."""
    n = len(html)
    m = _TAG_NAME.match(html, lt + 1)
    name, pos = m.group().lower(), m.end()
    attrs: dict[str, str] = {}
    while True:
        pos = _SPACE_SLASH.match(html, pos).end()
        if pos >= n:
            return None
        if html[pos] == ">":
            return Token(START, name, attrs, html[pos - 1] == "/"), pos + 1
        m = _ATTR_NAME.match(html, pos)
        key, pos = m.group().lower(), m.end()
        value = ""
        m = _EQUALS.match(html, pos)
        if m:
            pos = m.end()
            if pos >= n:
                return None
            quote = html[pos]
            if quote in "\"'":
                close = html.find(quote, pos + 1)
                if close < 0:
                    return None
                value, pos = html[pos + 1:close], close + 1
            else:
                m = _BARE_VALUE.match(html, pos)
                value, pos = m.group(), m.end()
        attrs.setdefault(key, value)


def _declaration(html: str, lt: int) -> tuple[int, str]:
    """Skip '<!--...-->', '<!DOCTYPE ...>', '<![if ...]>'; return the end and any CDATA text."""
    if html.startswith("<!--", lt):
        if html.startswith("<!-->", lt):
            return lt + 5, ""
        if html.startswith("<!--->", lt):
            return lt + 6, ""
        return _after(html, "-->", lt + 4), ""
    if html.startswith("<![CDATA[", lt):
        end = html.find("]]>", lt + 9)
        if end < 0:
            return len(html), html[lt + 9:]
        return end + 3, html[lt + 9:end]
    return _after(html, ">", lt + 2), ""
