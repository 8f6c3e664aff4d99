"""Pictures (a phone photo of a receipt, a scanned letter saved as PNG or TIFF): their text by OCR.

Reading them is slow, so the keyword phase only checks that the bytes are a picture of a known kind
and records that its text waits for OCR; the indexer's OCR pass reads it later (read_with_ocr). A
multi-page TIFF keeps its pages, like a PDF.
"""

from __future__ import annotations

import struct

from seekwise.core.extract import ocr
from seekwise.core.extract.base import Document, ExtractionError, Family, join_pages

VERSION = "image/1"
EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".webp", ".bmp"})
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"),
          (b"BM", "BMP"))
NOT_A_PICTURE = "not a picture Seekwise can read (PNG, JPEG, TIFF, WebP or BMP)"


def read(data: bytes, name: str) -> Document:
    """No text yet: one picture (a page) waiting for OCR."""
    _check(data)
    return Document("", "image", VERSION, ocr_pages=(0,))


def read_with_ocr(data: bytes, name: str) -> Document:
    _check(data)
    try:
        text = ocr.read_picture(data)
    except ocr.OcrError as exc:
        raise ExtractionError(str(exc)) from exc
    pages = text.split("\f")
    body, starts = join_pages(pages)
    return Document(body, "image", VERSION, page_starts=starts if len(pages) > 1 else ())


def _check(data: bytes) -> None:
    kind = next((k for magic, k in _MAGIC if data.startswith(magic)), None)
    if kind is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind = "WebP"
    if kind is None:
        raise ExtractionError(NOT_A_PICTURE)
    size = _dimensions(data, kind)
    if size and size[0] * size[1] > ocr.MAX_IMAGE_PIXELS:
        raise ExtractionError(f"picture too large to read ({size[0]:,} x {size[1]:,} pixels)")


def _dimensions(data: bytes, kind: str) -> tuple[int, int] | None:
    """Width and height from the header, where it is cheap to find (PNG, JPEG); None otherwise."""
    if kind == "PNG":
        if len(data) < 24:
            raise ExtractionError("damaged picture (PNG header cut short)")
        return struct.unpack(">II", data[16:24])
    if kind == "JPEG":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            length = struct.unpack(">H", data[i + 2:i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5:i + 9])
                return width, height
            i += 2 + length
    return None


FAMILY = Family(VERSION, read, EXTENSIONS, isolated=True, size_factor=4, read_with_ocr=read_with_ocr)
