"""HTML: the text a browser shows, with headings as '#' lines and blocks as lines and paragraphs."""

from __future__ import annotations

import html as _entities
import logging
import re

from seekwise.core.extract.base import Document, Family
from seekwise.core.extract.decode import decode, usable_charset
from seekwise.core.extract.htmlscan import END, START, TEXT, Token, tokens

log = logging.getLogger(__name__)

VERSION = "html/2"
EXTENSIONS = frozenset({".html", ".htm", ".xhtml", ".xht", ".shtml"})

_HIDDEN = frozenset({"template", "svg", "canvas", "audio", "video", "object"})  # and htmlscan.RAW_HIDDEN
_HEAD_CONTENT = frozenset({"title", "meta", "link", "style", "script", "base", "noscript", "template",
                           "basefont", "bgsound", "head"})
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                   "source", "track", "wbr", "basefont", "bgsound", "keygen"})
_PARAGRAPH = frozenset({"p", "blockquote", "pre", "listing", "xmp", "table", "ul", "ol", "dl", "section",
                        "article", "header", "footer", "main", "aside", "nav", "figure", "hr", "form",
                        "fieldset", "details", "address", "center", "menu", "hgroup", "plaintext"})
_LINE = frozenset({"div", "li", "dt", "dd", "tr", "caption", "figcaption", "summary", "option", "legend",
                   "body", "html", "textarea", "dialog", "search"})
_CELL = frozenset({"td", "th"})
_PRE = frozenset({"pre", "listing", "xmp", "plaintext", "textarea"})
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]{1,40})""")
CHARSET_SNIFF = 2048


def read(data: bytes, name: str) -> Document:
    """Visible text of the page; its <title> as the title (and as a first '# ' line if not there yet)."""
    body, title = visible_text(data)
    if title and not (body.startswith(f"# {title}") and body[len(title) + 2:len(title) + 3] in ("", "\n")):
        body = f"# {title}\n\n{body}" if body else f"# {title}"
    return Document(body, "html", VERSION, title=title)


def visible_text(data: bytes) -> tuple[str, str | None]:
    """(what a browser shows, the page's <title>) of HTML or XHTML bytes; also used for e-books and mail."""
    page = _Page()
    for token in tokens(decode(data, declared=declared_charset(data))):
        page.feed(token)
    return page.out.result(), " ".join("".join(page.title).split()) or None


def declared_charset(data: bytes) -> str | None:
    """The charset a <meta> or XML declaration in the first 2 KiB names, if Python can decode it."""
    head = data[:CHARSET_SNIFF]
    m = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    if not m:
        return None
    label = m.group(1).decode("ascii")
    encoding = usable_charset(label)
    if encoding is None:
        log.debug("ignoring declared charset %r", label)
    return encoding


class _Writer:
    """Lays text out: runs of space collapse, blocks become line breaks (at most one blank line)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.breaks = 0        # line breaks owed before the next text
        self.space = False     # a space owed before the next text on the same line
        self.sep = ""          # a table cell separator owed instead of that space
        self.prefix = ""       # "## " owed at the start of a heading's text
        self.line_start = True

    def block(self, breaks: int) -> None:
        self.breaks, self.sep = max(self.breaks, breaks), ""

    def line_break(self) -> None:
        self.breaks, self.sep = min(self.breaks + 1, 2), ""

    def cell(self) -> None:
        if not self.breaks and not self.line_start:
            self.sep = " | "

    def add_text(self, data: str) -> None:
        words = data.split()
        if not words:
            self.space = self.space or bool(data)
            return
        self._flush(lead_space=data[0].isspace())
        self.parts.append(" ".join(words))
        self.space, self.line_start = data[-1].isspace(), False

    def add_literal(self, data: str) -> None:
        """Preformatted text: every space and line break kept."""
        if data:
            data = data.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")  # "&#13;" is a "\r"
            self._flush(lead_space=False)
            self.parts.append(data)
            self.line_start = data.endswith("\n")

    def _flush(self, lead_space: bool) -> None:
        if self.parts and self.breaks:
            owed = self.breaks - self.parts[-1].endswith("\n")  # preformatted text may end its own line
            if owed:
                self.parts.append("\n" * owed)
            self.line_start = True
        elif not self.line_start and (self.sep or self.space or lead_space):
            self.parts.append(self.sep or " ")
        if self.prefix and self.line_start:
            self.parts.append(self.prefix)
        self.breaks, self.space, self.sep, self.prefix = 0, False, "", ""

    def result(self) -> str:
        return "".join(self.parts).rstrip()


class _Page:
    """What a browser would show, followed token by token in constant state (no element stack).

    Only a count of open elements per tag name is kept, so the end of a hidden element is found
    however deeply the page nests and however badly it is closed.
    """

    def __init__(self) -> None:
        self.out = _Writer()
        self.title: list[str] = []
        self.in_title = self.title_done = self.in_head = self.fresh_pre = False
        self.pre = 0
        self.depth: dict[str, int] = {}
        self.hidden: tuple[str, int] | None = None  # the outermost hidden element: (tag, its depth)

    def feed(self, token: Token) -> None:
        fresh_pre, self.fresh_pre = self.fresh_pre, False
        if token.kind == START:
            self._start(token.data, token.attrs or {}, token.closed)
        elif token.kind == END:
            self._end(token.data)
        elif self.in_title:  # a title is never shown in the page; the first one names it
            if not self.title_done:
                self.title.append(_entities.unescape(token.data))
        elif not self.hidden and self._in_body(token.data):
            if token.kind == TEXT and not self.pre:
                self.out.add_text(_entities.unescape(token.data))
            else:
                data = _entities.unescape(token.data) if token.kind == TEXT else token.data
                if fresh_pre and data.startswith("\n"):  # the newline right after <pre> is markup
                    data = data[1:]
                self.out.add_literal(data)

    def _in_body(self, data: str) -> bool:
        """Text in <head> is not shown, unless it is real text: then the head has ended."""
        if self.in_head and data.strip():
            self.in_head = False
        return not self.in_head

    def _start(self, name: str, attrs: dict[str, str], closed: bool) -> None:
        opens = not closed and name not in _VOID
        level = 0
        if opens:
            level = self.depth[name] = self.depth.get(name, 0) + 1
        if name == "body" or (self.in_head and name not in _HEAD_CONTENT):
            self.in_head = False
        elif name == "head" and not self.out.parts:
            self.in_head = True
        if self.hidden:
            return
        if name == "title":
            self.in_title = opens
            return
        if opens and (name in _HIDDEN or "hidden" in attrs or _display_none(attrs)):
            self.hidden = (name, level)
            return
        out = self.out
        if name in _HEADINGS:
            out.block(2)
            out.prefix = "#" * _HEADINGS[name] + " "
        elif name == "br":
            if self.pre:
                out.add_literal("\n")
            else:
                out.line_break()
        elif name == "img":
            alt = attrs.get("alt", "")
            if alt.strip():
                out.add_text(f" {_entities.unescape(alt)} ")
        elif name in _CELL:
            out.cell()
        elif name in _PARAGRAPH:
            out.block(2)
        elif name in _LINE:
            out.block(1)
        if name in _PRE and opens:
            self.pre += 1
            self.fresh_pre = True

    def _end(self, name: str) -> None:
        level = self.depth.get(name, 0)
        if level:
            self.depth[name] = level - 1
        if name == "head":
            self.in_head = False
        if self.hidden:
            if self.hidden == (name, level):
                self.hidden = None
            return
        if name == "title":
            if self.in_title:
                self.in_title = False
                self.title_done = self.title_done or bool("".join(self.title).strip())
            return
        out = self.out
        if name in _HEADINGS:
            out.prefix = ""
            out.block(2)
        elif name in _PARAGRAPH:
            out.block(2)
        elif name in _LINE:
            out.block(1)
        if name in _PRE and self.pre:
            self.pre -= 1


def _display_none(attrs: dict[str, str]) -> bool:
    style = attrs.get("style")
    return bool(style) and "display:none" in "".join(style.lower().split())


FAMILY = Family(VERSION, read, EXTENSIONS)
