"""EPUB: the package's reading order (container.xml -> OPF spine), each chapter's XHTML as the browser shows it."""

from __future__ import annotations

import posixpath
from urllib.parse import unquote

from seekwise.core.extract import xmlsafe
from seekwise.core.extract.base import Document, ExtractionError, Family, Unsupported
from seekwise.core.extract.html import visible_text
from seekwise.core.extract.xmlsafe import local
from seekwise.core.extract.zipsafe import SafeZip

VERSION = "epub/1"
EXTENSIONS = frozenset({".epub"})
_HTML_TYPES = frozenset({"application/xhtml+xml", "text/html", "application/xml", "text/x-oeb1-document"})
_HTML_SUFFIXES = (".xhtml", ".html", ".htm", ".xht")
# Font obfuscation (IDPF, Adobe) scrambles fonts only; any other algorithm on a chapter is DRM.
_FONT_MANGLING = frozenset({"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"})


def read(data: bytes, name: str) -> Document:
    archive = SafeZip(data)
    opf = _package_path(archive)
    if opf is None:
        raise ExtractionError("not an e-book (no package document)")
    package = _Package()
    xmlsafe.parse(archive.stream(opf), package, opf, allow_doctype=True)
    base = posixpath.dirname(opf)
    chapters = [_resolve(base, href) for href in package.reading_order()]
    encrypted = _encrypted(archive)
    if encrypted and any(c in encrypted for c in chapters):
        raise Unsupported("DRM-protected e-book (its text is encrypted)")
    texts: list[str] = []
    found = 0
    for chapter in dict.fromkeys(chapters):  # a chapter listed twice is read once
        member = archive.find(chapter)
        if member is None:
            continue
        found += 1
        body, _ = visible_text(archive.read(member))
        if body:
            texts.append(body)
    if chapters and not found:
        raise ExtractionError("e-book chapters are missing from the archive")
    return Document("\n\n".join(texts), "epub", VERSION, title=package.title or None)


def _package_path(archive: SafeZip) -> str | None:
    """container.xml names the OPF; without it, the first .opf in the archive."""
    container = archive.find("META-INF/container.xml")
    if container:
        target = _Container()
        xmlsafe.parse(archive.stream(container), target, container, allow_doctype=True)
        for path in target.rootfiles:
            found = archive.find(unquote(path))
            if found:
                return found
    return next((n for n in archive.names() if n.lower().endswith(".opf")), None)


def _resolve(base: str, href: str) -> str:
    path = unquote(href.split("#", 1)[0])
    return posixpath.normpath(posixpath.join(base, path)).lstrip("/")


def _encrypted(archive: SafeZip) -> set[str]:
    part = archive.find("META-INF/encryption.xml")
    if not part:
        return set()
    target = _Encryption()
    xmlsafe.parse(archive.stream(part), target, part, allow_doctype=True)
    return {unquote(uri).lstrip("/") for uri in target.encrypted}


class _Container:
    def __init__(self) -> None:
        self.rootfiles: list[str] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if local(tag) == "rootfile" and attrs.get("full-path"):
            oebps = attrs.get("media-type", "") == "application/oebps-package+xml"
            self.rootfiles.insert(0 if oebps else len(self.rootfiles), attrs["full-path"])

    def end(self, tag: str) -> None:
        pass

    def data(self, text: str) -> None:
        pass


class _Package:
    """The OPF: title, manifest (id -> href, type) and spine (ids in reading order)."""

    def __init__(self) -> None:
        self.title = ""
        self.in_title = False
        self.items: dict[str, tuple[str, str]] = {}
        self.spine: list[str] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        name = local(tag)
        if name == "title" and not self.title:
            self.in_title = True
        elif name == "item" and attrs.get("id") and attrs.get("href"):
            self.items.setdefault(attrs["id"], (attrs["href"], attrs.get("media-type", "").lower()))
        elif name == "itemref" and attrs.get("idref"):
            self.spine.append(attrs["idref"])

    def end(self, tag: str) -> None:
        if self.in_title and local(tag) == "title":
            self.in_title = False
            self.title = " ".join(self.title.split())

    def data(self, text: str) -> None:
        if self.in_title:
            self.title += text

    def reading_order(self) -> list[str]:
        """The spine's documents; a package without a spine gives its HTML items in manifest order."""
        ids = self.spine or list(self.items)
        hrefs = []
        for item_id in ids:
            href, media = self.items.get(item_id, ("", ""))
            if href and (media in _HTML_TYPES or href.lower().endswith(_HTML_SUFFIXES)):
                hrefs.append(href)
        return hrefs


class _Encryption:
    """encryption.xml: URIs of encrypted members, except fonts merely obfuscated."""

    def __init__(self) -> None:
        self.encrypted: list[str] = []
        self.algorithm = ""

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        name = local(tag)
        if name == "EncryptedData":
            self.algorithm = ""
        elif name == "EncryptionMethod":
            self.algorithm = attrs.get("Algorithm", "")
        elif name == "CipherReference" and self.algorithm not in _FONT_MANGLING and attrs.get("URI"):
            self.encrypted.append(attrs["URI"])

    def end(self, tag: str) -> None:
        pass

    def data(self, text: str) -> None:
        pass


FAMILY = Family(VERSION, read, EXTENSIONS, isolated=True, size_factor=8)
