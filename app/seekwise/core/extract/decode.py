"""Bytes to str for text in any common encoding, and the test that tells text from binary."""

from __future__ import annotations

import codecs
import re

from seekwise.core.extract.base import Unsupported

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"%PDF-", b"\x7fELF", b"\x1f\x8b\x08",
          b"BZh91", b"\xfd7zXZ", b"7z\xbc\xaf", b"Rar!\x1a", b"OggS\x00", b"fLaC\x00", b"\xca\xfe\xba\xbe",
          b"SQLite format 3\x00")  # unambiguous signatures of binary formats
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_NEWLINES = re.compile(r"\r\n?")
SNIFF = 8192


def _utf16_without_bom(head: bytes) -> str | None:
    """Mostly-ASCII UTF-16 has a NUL in every other byte."""
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode, or raise Unsupported('binary file'); newlines become '\\n', a BOM is dropped."""
    if data.startswith(_MAGIC):
        raise Unsupported("binary file")
    text = None
    for bom, enc in _BOMS:
        if data.startswith(bom):
            text = data[len(bom):].decode(enc, errors="replace")
            break
    if text is None:
        head = data[:SNIFF]
        wide = _utf16_without_bom(head) if b"\x00" in head else None
        if wide:
            text = data.decode(wide, errors="replace")
        else:
            if b"\x00" in head or len(_CONTROL.findall(head)) > 0.02 * max(len(head), 1) + 2:
                raise Unsupported("binary file")
            text = _decode_8bit(data, declared)
    if "\x00" in text[:SNIFF]:
        raise Unsupported("binary file")
    return _NEWLINES.sub("\n", text)


def _decode_8bit(data: bytes, declared: str | None) -> str:
    candidates = [declared] if declared else []
    candidates += ["utf-8", "cp1252"]
    for enc in candidates:
        try:
            return data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")  # every byte is a character: never fails
