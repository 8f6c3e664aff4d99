"""HTML: visible text only, with headings as '#' lines and blocks as paragraphs."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from seekwise.core.extract.base import Document, ExtractionError
from seekwise.core.extract.decode import decode_text

VERSION = "html/1"
EXTENSIONS = frozenset({".html", ".htm", ".xhtml", ".shtml"})

_HIDDEN = frozenset({"script", "style", "noscript", "template", "svg", "head", "iframe", "object", "canvas"})
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                   "source", "track", "wbr"})
_BLOCK = frozenset({"p", "div", "section", "article", "aside", "header", "footer", "nav", "main", "ul", "ol",
                    "li", "dl", "dt", "dd", "table", "tr", "blockquote", "figure", "figcaption", "form",
                    "fieldset", "details", "summary", "address", "hr", "br", "caption", "body", "html"})
_CELL = frozenset({"td", "th"})
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_MANY_BLANKS = re.compile(r"\n{3,}")


class _Visible(HTMLParser):
    """Iterative (no recursion), so deep nesting costs memory for the hidden-count only."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.pre = 0
        self.in_title = False
        self.title: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:  # noqa: ANN001
        if tag == "title":
            self.in_title = True
        if tag in _HIDDEN and tag not in _VOID:
            self.hidden += 1
        elif tag in _HEADINGS:
            self.parts.append("\n\n" + "#" * _HEADINGS[tag] + " ")
        elif tag == "pre":
            self.pre += 1
            self.parts.append("\n\n")
        elif tag in _BLOCK:
            self.parts.append("\n\n" if tag not in ("br", "li", "tr", "dt", "dd") else "\n")
        elif tag in _CELL:
            self.parts.append(" | ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt and not self.hidden:
                self.parts.append(f" {alt} ")

    def handle_startendtag(self, tag: str, attrs: list) -> None:  # noqa: ANN001
        if tag in _VOID:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in _HIDDEN and tag not in _VOID:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _HEADINGS or tag in _BLOCK:
            if tag not in ("li", "tr", "dt", "dd"):  # items are separated by their start tags
                self.parts.append("\n\n")
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
            return
        if self.hidden:
            return
        self.parts.append(data if self.pre else _SPACES.sub(" ", data.replace("\n", " ")))


def _declared_charset(data: bytes) -> str | None:
    m = _CHARSET.search(data[:4096])
    return m.group(1).decode("ascii").lower() if m else None


def extract(data: bytes) -> Document:
    text = decode_text(data, declared=_declared_charset(data))
    parser = _Visible()
    try:
        parser.feed(text)
        parser.close()
    except (AssertionError, ValueError) as exc:  # html.parser gives up on some malformed markup
        raise ExtractionError(f"malformed HTML: {exc}") from exc
    body = "".join(parser.parts)
    lines = [line.strip(" ") for line in body.split("\n")]
    body = _MANY_BLANKS.sub("\n\n", "\n".join(lines)).strip()
    title = _SPACES.sub(" ", "".join(parser.title)).strip() or None
    if title and not body.startswith("#"):
        body = f"# {title}\n\n{body}"
    return Document(body, "html", VERSION, title=title)
