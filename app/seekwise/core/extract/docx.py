"""Word (DOCX): body text in reading order, headings as '# ' lines, tables row by row, then the notes."""

from __future__ import annotations

import re

from seekwise.core.extract import xmlsafe
from seekwise.core.extract.base import Document, ExtractionError, Family, Unsupported
from seekwise.core.extract.layout import Layout
from seekwise.core.extract.xmlsafe import local
from seekwise.core.extract.zipsafe import SafeZip

VERSION = "docx/1"
EXTENSIONS = frozenset({".docx", ".docm", ".dotx", ".dotm"})
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAIN = "word/document.xml"
_NOTES = ("word/footnotes.xml", "word/endnotes.xml")
_HEADING_NAME = re.compile(r"(?:heading|überschrift|titre|titolo|encabezado|kop)\s*(\d)", re.I)
_OFFICE_DOCUMENT = re.compile(rb'Type="[^"]*/officeDocument"[^>]*?Target="([^"]+)"|'
                              rb'Target="([^"]+)"[^>]*?Type="[^"]*/officeDocument"')
_SKIP = frozenset({"Fallback", "instrText", "delText", "moveFrom", "footnoteReference", "endnoteReference",
                   "commentReference", "rPr", "sectPr", "tblPr", "tblGrid", "trPr", "tcPr", "object"})
_NOTE_SEPARATORS = frozenset({"separator", "continuationSeparator", "continuationNotice"})


def read(data: bytes, name: str) -> Document:
    """The main document part, then footnotes and endnotes; the title from the document properties."""
    if data.startswith(_OLE):
        raise Unsupported("password-protected or old-format Word file (not readable as DOCX)")
    archive = SafeZip(data)
    main = _main_part(archive)
    if main is None:
        raise ExtractionError("not a Word document (no word/document.xml)")
    styles = _heading_styles(archive)
    body = _text(archive, main, styles)
    notes = [_text(archive, part, styles) for part in _NOTES if archive.find(part)]
    text = "\n\n".join(t for t in [body.text(), *(n.text() for n in notes)] if t)
    return Document(text, "docx", VERSION, title=_core_title(archive) or body.first_heading())


def _main_part(archive: SafeZip) -> str | None:
    """Where the package's relationships say the document is (almost always word/document.xml)."""
    rels = archive.find("_rels/.rels")
    if rels:
        m = _OFFICE_DOCUMENT.search(archive.read(rels)[:65536])
        if m:
            found = archive.find((m.group(1) or m.group(2)).decode("utf-8", "replace"))
            if found:
                return found
    return archive.find(_MAIN)


def _text(archive: SafeZip, part: str, styles: dict[str, int]) -> Layout:
    target = _Body(styles)
    xmlsafe.parse(archive.stream(part), target, part)
    return target.layout


class _Body:
    """wordprocessingML events to Layout calls; a skipped element hides everything inside it."""

    def __init__(self, styles: dict[str, int]) -> None:
        self.layout = Layout()
        self.styles = styles
        self.skip = 0       # depth inside an element whose content is not text we show
        self.in_text = 0    # inside <w:t>
        self.in_run = 0     # inside <w:r>: where <w:tab/> is a tab (elsewhere it is a tab stop)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        name = local(tag)
        if self.skip:
            self.skip += 1
            return
        if name in _SKIP or (name in ("footnote", "endnote") and _attr(attrs, "type") in _NOTE_SEPARATORS):
            self.skip = 1
            return
        layout = self.layout
        if name == "t":
            self.in_text += 1
        elif name == "r":
            self.in_run += 1
        elif name == "p":
            layout.open_paragraph()
        elif name == "pStyle":
            layout.heading(self.styles.get(_attr(attrs, "val"), 0))
        elif name == "outlineLvl":
            layout.heading(_outline_level(_attr(attrs, "val")))
        elif name == "numPr":
            layout.list_item()
        elif name in ("tab", "ptab") and self.in_run:
            layout.add("\t")
        elif name in ("br", "cr") and self.in_run:
            layout.add("\n")
        elif name == "noBreakHyphen":
            layout.add("-")
        elif name == "tbl":
            layout.open_table()
        elif name == "tr":
            layout.open_row()
        elif name == "tc":
            layout.open_cell()

    def end(self, tag: str) -> None:
        if self.skip:
            self.skip -= 1
            return
        name = local(tag)
        layout = self.layout
        if name == "t":
            self.in_text = max(0, self.in_text - 1)
        elif name == "r":
            self.in_run = max(0, self.in_run - 1)
        elif name == "p":
            layout.close_paragraph()
        elif name == "tbl":
            layout.close_table()
        elif name == "tr":
            layout.close_row()
        elif name == "tc":
            layout.close_cell()

    def data(self, text: str) -> None:
        if self.in_text and not self.skip:
            self.layout.add(text.replace("\n", " "))  # a line break in the XML is a space


def _attr(attrs: dict[str, str], name: str) -> str:
    """An attribute by local name ('w:val' is '{ns}val' to the parser)."""
    for key, value in attrs.items():
        if key == name or key.endswith("}" + name):
            return value
    return ""


def _outline_level(value: str) -> int:
    """OOXML outline levels are 0-based and 9 means body text."""
    return int(value) + 1 if value.isdigit() and int(value) < 6 else 0


class _Styles:
    """styles.xml: each paragraph style's name, outline level and parent, for heading levels."""

    def __init__(self) -> None:
        self.found: dict[str, tuple[str, int, str]] = {}  # id -> (name, outline level, based on)
        self.current: str | None = None
        self.name = self.based_on = ""
        self.level = 0

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        name = local(tag)
        if name == "style":
            self.current = _attr(attrs, "styleId") if _attr(attrs, "type") in ("paragraph", "") else None
            self.name, self.level, self.based_on = "", 0, ""
        elif self.current is not None:
            if name == "name":
                self.name = _attr(attrs, "val")
            elif name == "basedOn":
                self.based_on = _attr(attrs, "val")
            elif name == "outlineLvl":
                self.level = _outline_level(_attr(attrs, "val"))

    def end(self, tag: str) -> None:
        if local(tag) == "style" and self.current:
            self.found[self.current] = (self.name, self.level, self.based_on)
            self.current = None

    def data(self, text: str) -> None:
        pass


def _heading_styles(archive: SafeZip) -> dict[str, int]:
    """Style id -> heading level, from the style's name ("heading 2"), outline level or parent."""
    part = archive.find("word/styles.xml")
    styles = _Styles()
    if part:
        try:
            xmlsafe.parse(archive.stream(part), styles, part)
        except ExtractionError as exc:
            if exc.reason == xmlsafe.ENTITIES:
                raise
            styles.found.clear()  # damaged styles cost the headings, not the text

    def level(style_id: str, hops: int = 0) -> int:
        name, outline, parent = styles.found.get(style_id, ("", 0, ""))
        m = _HEADING_NAME.fullmatch(name.strip()) or _HEADING_NAME.fullmatch(style_id)
        if m and 1 <= int(m.group(1)) <= 6:
            return int(m.group(1))
        if name.strip().lower() == "title" or style_id.lower() == "title":
            return 1
        if outline:
            return outline
        return level(parent, hops + 1) if parent and hops < 8 else 0

    levels = {sid: level(sid) for sid in styles.found}
    for sid in ("Heading1", "Heading2", "Heading3", "Heading4", "Heading5", "Heading6", "Title"):
        levels.setdefault(sid, level(sid))
    return {sid: n for sid, n in levels.items() if n}


class _Title:
    """docProps/core.xml: the dc:title element's text."""

    def __init__(self) -> None:
        self.inside = False
        self.parts: list[str] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.inside = local(tag) == "title"

    def end(self, tag: str) -> None:
        self.inside = False

    def data(self, text: str) -> None:
        if self.inside:
            self.parts.append(text)


def core_title(archive: SafeZip, part: str) -> str | None:
    """A Dublin Core title from a small metadata part (DOCX core.xml, ODT meta.xml); damage is no title."""
    found = archive.find(part)
    if not found:
        return None
    target = _Title()
    try:
        xmlsafe.parse(archive.stream(found), target, found)
    except ExtractionError as exc:
        if exc.reason == xmlsafe.ENTITIES:
            raise
        return None
    return " ".join("".join(target.parts).split()) or None


def _core_title(archive: SafeZip) -> str | None:
    return core_title(archive, "docProps/core.xml")


FAMILY = Family(VERSION, read, EXTENSIONS, isolated=True, size_factor=4)
