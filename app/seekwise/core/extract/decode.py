"""Bytes to str for text in any common encoding, refusing binary content once for every family."""

from __future__ import annotations

import codecs
import logging

from seekwise.core.extract.base import ExtractionError, Unsupported
from seekwise.core.extract.sniff import SNIFF_BYTES, has_binary_magic, too_many_controls

log = logging.getLogger(__name__)

_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_C1 = {c: None for c in range(0x80, 0xA0)}  # never in decoded text; a sign of a wrong guess
_NOT_TEXT = "not valid text in any known encoding"
BINARY = "binary file"


def decode(data: bytes, declared: str | None = None) -> str:
    """Text with '\\n' line ends and no BOM; raises Unsupported('binary file') or ExtractionError.

    Order: binary signatures, BOM, UTF-16/32 without BOM (NULs on one side), then for 8-bit data
    strict UTF-8, the declared charset (HTML), UTF-8 with a few damaged bytes, cp1252, latin-1.
    """
    if has_binary_magic(data):
        raise Unsupported(BINARY)
    head = data[:SNIFF_BYTES]
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _checked(data[len(bom):].decode(encoding, errors="replace"))
            break
    else:
        wide = _wide_encoding(data, head) if b"\x00" in head else None
        if wide:
            text = _checked(data.decode(wide, errors="replace"))
        elif b"\x00" in head or too_many_controls(head):
            raise Unsupported(BINARY)
        else:
            text = _decode_8bit(data, declared)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:  # NULs past the sniffed head (a log padded after a crash): not text, drop them
        text = text.replace("\x00", "")
    return text


def _wide_encoding(data: bytes, head: bytes) -> str | None:
    """UTF-16/32 without a BOM: the NULs (high bytes of ASCII) sit on one side of each code unit."""
    quads = [head[i::4].count(0) for i in range(4)]
    if len(data) % 4 == 0 and len(head) >= 8:
        quarter = len(head) // 4
        # The top byte of a code point is always 0, the next one is 0 but outside the BMP (emoji).
        if quads[3] == quarter and quads[2] * 10 >= quarter * 9 and quads[0] < quarter // 2:
            return "utf-32-le"
        if quads[0] == quarter and quads[1] * 10 >= quarter * 9 and quads[3] < quarter // 2:
            return "utf-32-be"
    even, odd = quads[0] + quads[2], quads[1] + quads[3]
    half = len(head) // 2
    if len(data) % 2 == 0 and half:
        if odd * 20 >= half and even * 10 <= odd:
            return "utf-16-le"
        if even * 20 >= half and odd * 10 <= even:
            return "utf-16-be"
    return None


def _checked(text: str) -> str:
    """A guessed or BOM-declared decoding must look like text: few controls, few replacements."""
    sample = text[:SNIFF_BYTES]
    if too_many_controls(sample) or len(sample) - len(sample.translate(_C1)) > len(sample) // 50 + 2:
        raise Unsupported(BINARY)
    if sample.count("\ufffd") > len(sample) // 10 + 2:
        raise ExtractionError(_NOT_TEXT)
    return text


def _decode_8bit(data: bytes, declared: str | None) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    encoding = usable_charset(declared)
    if encoding:
        try:
            return data.decode(encoding)
        except UnicodeError:
            log.debug("declared charset %s does not fit the bytes", encoding)
    text = data.decode("utf-8", errors="replace")
    damaged = text.count("\ufffd")
    if len(text) - len(text.encode("ascii", errors="ignore")) - damaged > damaged:
        return text  # more good multi-byte characters than bad bytes: UTF-8 with some damage
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        pass
    text = data.decode("latin-1")  # every byte is a character: never fails, so it must look like text
    sample = text[:SNIFF_BYTES]
    if len(sample) - len(sample.translate(_C1)) > len(sample) // 50 + 2:
        raise ExtractionError(_NOT_TEXT)
    return text


# What browsers do with legacy labels (WHATWG Encoding), and codecs that are not charsets at all.
_ALIASES = {
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "l1": "cp1252",
    "ascii": "cp1252", "us-ascii": "cp1252", "iso-8859-9": "cp1254", "latin5": "cp1254", "tis-620": "cp874",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "euc-kr": "cp949", "ks_c_5601-1987": "cp949",
    "big5": "big5hkscs", "x-sjis": "shift_jis", "shift-jis": "shift_jis", "x-mac-roman": "mac-roman",
}
_ASCII_PROBE = bytes(range(9, 14)) + bytes(range(32, 127))
_NOT_CHARSETS = frozenset({"idna", "punycode", "raw-unicode-escape", "unicode-escape", "undefined", "utf-7",
                           "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})


def usable_charset(label: str | None) -> str | None:
    """A declared charset label as a Python codec name, or None when unknown or not ASCII-compatible."""
    if not label:
        return None
    label = label.strip().lower()
    label = _ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    try:  # the label was read as ASCII, so the charset must agree with ASCII (not EBCDIC, not UTF-16)
        if _ASCII_PROBE.decode(info.name) != _ASCII_PROBE.decode("ascii"):
            return None
    except (UnicodeError, LookupError, ValueError, TypeError):
        return None
    return info.name
