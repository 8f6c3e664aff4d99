"""OpenDocument text (ODT): content.xml's paragraphs, headings by outline level, tables, notes."""

from __future__ import annotations

from seekwise.core.extract import xmlsafe
from seekwise.core.extract.base import Document, ExtractionError, Family, Unsupported
from seekwise.core.extract.docx import core_title
from seekwise.core.extract.layout import Layout
from seekwise.core.extract.zipsafe import SafeZip

VERSION = "odt/1"
EXTENSIONS = frozenset({".odt", ".ott"})

_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_SKIP = frozenset({_TEXT + "note-citation", _TEXT + "tracked-changes", _OFFICE + "annotation",
                   _TEXT + "sequence-decls", _TEXT + "variable-decls", _TABLE + "covered-table-cell",
                   _OFFICE + "forms", _OFFICE + "scripts", _OFFICE + "font-face-decls",
                   _OFFICE + "automatic-styles", _TEXT + "bookmark-ref", _TEXT + "ruby-text"})


def read(data: bytes, name: str) -> Document:
    archive = SafeZip(data)
    manifest = archive.find("META-INF/manifest.xml")
    if manifest and b"encryption-data" in archive.read(manifest):
        raise Unsupported("password-protected document")
    content = archive.find("content.xml")
    if content is None:
        raise ExtractionError("not an OpenDocument file (no content.xml)")
    target = _Content()
    xmlsafe.parse(archive.stream(content), target, content)
    layout = target.layout
    return Document(layout.text(), "odt", VERSION, title=core_title(archive, "meta.xml") or layout.first_heading())


class _Content:
    """ODF text events to Layout calls."""

    def __init__(self) -> None:
        self.layout = Layout()
        self.skip = 0
        self.fresh_items: list[bool] = []  # per open list item: no paragraph in it yet

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if self.skip:
            self.skip += 1
            return
        if tag in _SKIP:
            self.skip = 1
            return
        if not (tag.startswith(_TEXT) or tag.startswith(_TABLE)):
            return
        layout = self.layout
        name = tag.rsplit("}", 1)[1]
        if name in ("p", "h"):
            layout.open_paragraph()
            if name == "h":
                level = attrs.get(_TEXT + "outline-level", "1")
                layout.heading(int(level) if level.isdigit() else 1)
            if self.fresh_items and self.fresh_items[-1]:
                self.fresh_items[-1] = False
                layout.list_item()
        elif name == "s":
            count = attrs.get(_TEXT + "c", "1")
            layout.add(" " * min(int(count) if count.isdigit() else 1, 100))
        elif name == "tab":
            layout.add("\t")
        elif name == "line-break":
            layout.add("\n")
        elif name in ("list-item", "list-header"):
            self.fresh_items.append(name == "list-item")
        elif name == "table":
            layout.open_table()
        elif name == "table-row":
            layout.open_row()
        elif name == "table-cell":
            layout.open_cell()

    def end(self, tag: str) -> None:
        if self.skip:
            self.skip -= 1
            return
        if not (tag.startswith(_TEXT) or tag.startswith(_TABLE)):
            return
        layout = self.layout
        name = tag.rsplit("}", 1)[1]
        if name in ("p", "h"):
            layout.close_paragraph()
        elif name in ("list-item", "list-header"):
            if self.fresh_items:
                self.fresh_items.pop()
        elif name == "table":
            layout.close_table()
        elif name == "table-row":
            layout.close_row()
        elif name == "table-cell":
            layout.close_cell()

    def data(self, text: str) -> None:
        if not self.skip and self.layout.in_paragraph:
            self.layout.add(text.replace("\n", " "))  # a line break in the XML is a space


FAMILY = Family(VERSION, read, EXTENSIONS, isolated=True, size_factor=4)
