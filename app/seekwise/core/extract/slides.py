"""Slide decks (PPTX, ODP): per slide its title as '# ', text boxes, tables, then the speaker notes.

Each slide starts a page, so a hit knows its slide number, as a PDF hit knows its page. Both formats
are zip containers of XML, read with SafeZip and defusedxml like DOCX and ODT: python-pptx would
add lxml and Pillow (~35 MB) and read the archive without bounds, for what is a few element names.
"""

from __future__ import annotations

import posixpath
import re

from seekwise.core.extract import xmlsafe
from seekwise.core.extract.base import Document, ExtractionError, Family, Unsupported, join_pages
from seekwise.core.extract.docx import core_title
from seekwise.core.extract.layout import Layout
from seekwise.core.extract.odt import _Content
from seekwise.core.extract.xmlsafe import local
from seekwise.core.extract.zipsafe import SafeZip

VERSION = "slides/1"
EXTENSIONS = frozenset({".pptx", ".pptm", ".ppsx", ".odp"})
MAX_SLIDES = 5000
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DAMAGED = "damaged slide deck"
_SLIDE = re.compile(r"ppt/slides/slide(\d+)\.xml$")
_TITLE_TYPES = frozenset({"title", "ctrTitle"})
_NOTES_SKIP = frozenset({"sldNum", "sldImg", "hdr", "ftr", "dt"})
_PRESENTATION = "{urn:oasis:names:tc:opendocument:xmlns:presentation:1.0}"
_DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"


def read(data: bytes, name: str) -> Document:
    if data.startswith(_OLE):
        raise Unsupported("password-protected or old-format (.ppt) slide deck")
    archive = SafeZip(data)
    if archive.find("ppt/presentation.xml"):
        slides = _pptx_slides(archive)
        title = core_title(archive, "docProps/core.xml")
    elif archive.find("content.xml"):
        manifest = archive.find("META-INF/manifest.xml")
        if manifest and b"encryption-data" in archive.read(manifest):
            raise Unsupported("password-protected slide deck")
        slides = _odp_slides(archive)
        title = core_title(archive, "meta.xml")
    else:
        raise ExtractionError("not a slide deck (no ppt/presentation.xml or content.xml)")
    text, starts = join_pages(slides)
    if not text:
        raise Unsupported("slide deck without any text")
    first = next((t for t in slides if t.startswith("# ")), "")
    return Document(text, "slides", VERSION, title=title or first[2:].split("\n")[0] or None, page_starts=starts)


def _slide_text(title: str, body: str, notes: str) -> str:
    blocks = [f"# {' '.join(title.split())}" if title.strip() else "", body, f"Notes: {notes}" if notes else ""]
    return "\n\n".join(b for b in blocks if b)


# -- PPTX --------------------------------------------------------------------------------------

class _Rels:
    """A .rels part: relationship id -> (type's last word, target)."""

    def __init__(self) -> None:
        self.found: dict[str, tuple[str, str]] = {}

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if local(tag) == "Relationship":
            self.found[attrs.get("Id", "")] = (attrs.get("Type", "").rsplit("/", 1)[-1], attrs.get("Target", ""))

    def end(self, tag: str) -> None:
        pass

    def data(self, text: str) -> None:
        pass


def _rels(archive: SafeZip, part: str) -> dict[str, tuple[str, str]]:
    """The relationships of `part`, targets resolved to member names; damage means none."""
    folder, base = posixpath.split(part)
    found = archive.find(posixpath.join(folder, "_rels", base + ".rels"))
    if not found:
        return {}
    target = _Rels()
    try:
        xmlsafe.parse(archive.stream(found), target, found)
    except ExtractionError as exc:
        if exc.reason == xmlsafe.ENTITIES or exc.reason.startswith("compressed archive"):
            raise
        return {}
    return {rid: (kind, posixpath.normpath(posixpath.join(folder, to)) if not to.startswith("/") else to[1:])
            for rid, (kind, to) in target.found.items()}


class _SlideOrder:
    """presentation.xml's p:sldIdLst: the relationship ids of the slides, in show order."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if local(tag) == "sldId":
            rid = next((v for k, v in attrs.items() if local(k) == "id" and k.startswith("{")), "")
            if rid:
                self.ids.append(rid)

    def end(self, tag: str) -> None:
        pass

    def data(self, text: str) -> None:
        pass


def _pptx_slides(archive: SafeZip) -> list[str]:
    order = _SlideOrder()
    xmlsafe.parse(archive.stream("ppt/presentation.xml"), order, "ppt/presentation.xml")
    rels = _rels(archive, "ppt/presentation.xml")
    parts = [rels[r][1] for r in order.ids if r in rels and rels[r][0] == "slide" and archive.find(rels[r][1])]
    if not parts:  # no usable list: the slide files in number order
        numbered = [(int(m.group(1)), n) for n in archive.names() if (m := _SLIDE.match(n))]
        parts = [n for _, n in sorted(numbered)]
    slides = []
    for part in parts[:MAX_SLIDES]:
        member = archive.find(part)
        shapes = _Shapes()
        xmlsafe.parse(archive.stream(member), shapes, member)
        notes = ""
        for kind, target in _rels(archive, member).values():
            if kind == "notesSlide" and archive.find(target):
                note_shapes = _Shapes(skip_types=_NOTES_SKIP)
                xmlsafe.parse(archive.stream(archive.find(target)), note_shapes, target)
                notes = note_shapes.layout.text()
                break
        slides.append(_slide_text(shapes.title.text(), shapes.layout.text(), notes))
    return slides


class _Shapes:
    """DrawingML shapes of one slide: placeholder titles apart, other text frames and tables in order."""

    def __init__(self, skip_types: frozenset[str] = frozenset()) -> None:
        self.layout = Layout()
        self.title = Layout()
        self.skip_types = skip_types
        self.shape_kind: list[str] = []   # placeholder type of each open p:sp
        self.in_text = 0
        self.skip = 0

    def _target(self) -> Layout:
        return self.title if self.shape_kind and self.shape_kind[-1] in _TITLE_TYPES else self.layout

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        name = local(tag)
        if self.skip:
            self.skip += 1
            return
        if name == "sp":
            self.shape_kind.append("")
        elif name == "ph" and self.shape_kind:
            kind = attrs.get("type", "body")
            self.shape_kind[-1] = kind
        elif name in ("AlternateContent",):
            pass
        elif name == "Fallback":
            self.skip = 1
        elif name == "txBody" and self.shape_kind and self.shape_kind[-1] in self.skip_types:
            self.skip = 1
        elif name == "p":
            self._target().open_paragraph()
        elif name == "t":
            self.in_text += 1
        elif name == "br":
            self._target().add("\n")
        elif name == "tbl":
            self.layout.open_table()
        elif name == "tr":
            self.layout.open_row()
        elif name == "tc":
            self.layout.open_cell()

    def end(self, tag: str) -> None:
        if self.skip:
            self.skip -= 1
            return
        name = local(tag)
        if name == "sp" and self.shape_kind:
            self.shape_kind.pop()
        elif name == "p":
            self._target().close_paragraph()
        elif name == "t":
            self.in_text = max(0, self.in_text - 1)
        elif name == "tbl":
            self.layout.close_table()
        elif name == "tr":
            self.layout.close_row()
        elif name == "tc":
            self.layout.close_cell()

    def data(self, text: str) -> None:
        if self.in_text and not self.skip:
            self._target().add(text.replace("\n", " "))


# -- ODP ---------------------------------------------------------------------------------------

class _Pages:
    """ODF presentation: per draw:page, the title frame's text, the other frames, the notes."""

    def __init__(self) -> None:
        self.slides: list[str] = []
        self.page: dict[str, _Content] | None = None
        self.current: _Content | None = None
        self.depth = 0              # depth inside the frame or notes that `current` collects
        self.notes = 0

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == _DRAW + "page":
            if len(self.slides) < MAX_SLIDES:
                self.page = {"title": _Content(), "body": _Content(), "notes": _Content()}
            self.current, self.depth = None, 0
            return
        if self.page is None:
            return
        if tag == _PRESENTATION + "notes":
            self.notes += 1
        if self.current is None and tag == _DRAW + "frame":
            kind = "notes" if self.notes else "title" if attrs.get(_PRESENTATION + "class") == "title" else "body"
            self.current, self.depth = self.page[kind], 0
        if self.current is not None:
            self.depth += 1
            self.current.start(tag, attrs)

    def end(self, tag: str) -> None:
        if self.page is None:
            return
        if self.current is not None:
            self.current.end(tag)
            self.depth -= 1
            if self.depth == 0:
                self.current = None
        if tag == _PRESENTATION + "notes":
            self.notes = max(0, self.notes - 1)
        elif tag == _DRAW + "page":
            page = self.page
            self.slides.append(_slide_text(page["title"].layout.text(), page["body"].layout.text(),
                                           page["notes"].layout.text()))
            self.page = None

    def data(self, text: str) -> None:
        if self.current is not None:
            self.current.data(text)


def _odp_slides(archive: SafeZip) -> list[str]:
    content = archive.find("content.xml")
    target = _Pages()
    xmlsafe.parse(archive.stream(content), target, content)
    return target.slides


FAMILY = Family(VERSION, read, EXTENSIONS, isolated=True, size_factor=8)
