"""Legacy Word (.doc, Word 97-2003): the text of the piece table in the WordDocument stream.

Word 97 keeps the text as pieces (MS-DOC 2.4.1): the FIB at the start of the WordDocument stream
says where the CLX lies in the table stream (0Table or 1Table); its PlcPcd maps character positions
to file offsets, each piece either 8-bit (cp1252, "compressed") or UTF-16. Every offset and count
from the file is checked against the stream sizes before use, so a hostile file costs a reason.
olefile (BSD-2-Clause, pure Python) reads the compound file.
"""

from __future__ import annotations

import re
import struct

from seekwise.core.extract.base import Document, ExtractionError, Family, Unsupported
from seekwise.core.extract.ole import SIGNATURE, open_ole

VERSION = "doc/1"
EXTENSIONS = frozenset({".doc", ".dot"})
DAMAGED = "damaged Word document"
ENCRYPTED = "password-protected Word document"
MAX_PIECES = 100_000
MAX_CHARS = 64 << 20
_WORD97 = 0x00C1
# Word's control characters (MS-DOC 2.8): paragraph and cell ends become line ends and tabs,
# object anchors, footnote marks and optional hyphens go.
_CONTROL = {0x0D: "\n", 0x07: "\t", 0x0B: "\n", 0x0C: "\n", 0x0E: "\n", 0x1E: "-", 0x09: "\t",
            **{c: None for c in (*range(0, 7), 0x08, 0x0A, *range(0x0F, 0x13), *range(0x16, 0x1E), 0x1F)}}
_BLANK = re.compile(r"[ \t]*\n(?:[ \t]*\n)+")
_TRAILING = re.compile(r"[ \t]+\n")


def read(data: bytes, name: str) -> Document:
    if not data.startswith(SIGNATURE):
        if data.startswith(b"PK"):
            raise ExtractionError("a DOCX file named .doc (rename it to .docx)")
        if data.lstrip()[:5] == b"{\\rtf":
            raise ExtractionError("an RTF file named .doc (rename it to .rtf)")
        raise ExtractionError("not a Word 97-2003 document (not an OLE file)")
    ole = open_ole(data, DAMAGED)
    try:
        word = _stream(ole, "WordDocument")
        if word is None:
            if _stream(ole, "EncryptionInfo") is not None:
                raise Unsupported(ENCRYPTED)
            raise ExtractionError("not a Word document (no WordDocument stream)")
        fib = _Fib(word)
        table = _stream(ole, "1Table" if fib.table_one else "0Table")
        if table is None:
            raise ExtractionError(DAMAGED + " (no table stream)")
        text = _text(word, table, fib)
        title = _title(ole)
    finally:
        ole.close()
    text = _TRAILING.sub("\n", _BLANK.sub("\n\n", _fields(text).translate(_CONTROL))).strip()
    if not text:
        raise Unsupported("Word document without any text")
    return Document(text, "doc", VERSION, title=title)


def _stream(ole, name: str) -> bytes | None:  # noqa: ANN001 - olefile is imported lazily
    try:
        if not ole.exists(name) or ole.get_type(name) != 2:
            return None
        return ole.openstream(name).read()
    except (OSError, ValueError, struct.error, IndexError, KeyError, TypeError, OverflowError) as exc:
        raise ExtractionError(DAMAGED) from exc


class _Fib:
    """What we need of the File Information Block: flags, the main text's length, the CLX's place."""

    def __init__(self, word: bytes) -> None:
        if len(word) < 34:
            raise ExtractionError(DAMAGED + " (file information block cut short)")
        ident, nfib = struct.unpack_from("<HH", word, 0)
        if ident != 0xA5EC:
            raise ExtractionError("not a Word document (bad file information block)")
        (flags,) = struct.unpack_from("<H", word, 0x0A)
        if flags & 0x0100:  # fEncrypted
            raise Unsupported(ENCRYPTED)
        if nfib < _WORD97 and nfib not in (0x00C0,):
            raise Unsupported("Word 6 or Word 95 document (too old to read)")
        self.table_one = bool(flags & 0x0200)  # fWhichTblStm
        at = 32
        (csw,) = struct.unpack_from("<H", word, at)
        at += 2 + csw * 2
        if at + 2 > len(word):
            raise ExtractionError(DAMAGED + " (file information block cut short)")
        (cslw,) = struct.unpack_from("<H", word, at)
        lw = at + 2
        at = lw + cslw * 4
        if cslw < 4 or at + 2 > len(word):
            raise ExtractionError(DAMAGED + " (file information block cut short)")
        self.ccp_text, self.ccp_ftn = struct.unpack_from("<ii", word, lw + 12)
        (count,) = struct.unpack_from("<H", word, at)
        pairs = at + 2
        if count < 34 or pairs + 34 * 8 > len(word):
            raise ExtractionError(DAMAGED + " (file information block cut short)")
        self.fc_clx, self.lcb_clx = struct.unpack_from("<II", word, pairs + 33 * 8)


def _pieces(table: bytes, fib: _Fib) -> list[tuple[int, int, int, bool]]:
    """(first cp, last cp, byte offset, compressed) per piece, from the CLX's PlcPcd."""
    at, end = fib.fc_clx, fib.fc_clx + fib.lcb_clx
    if fib.lcb_clx == 0 or end > len(table):
        raise ExtractionError(DAMAGED + " (no piece table)")
    while at < end and table[at] == 0x01:  # Prc: property modifiers, skipped
        if at + 3 > end:
            raise ExtractionError(DAMAGED + " (piece table cut short)")
        (size,) = struct.unpack_from("<h", table, at + 1)
        if size < 0:
            raise ExtractionError(DAMAGED + " (bad piece table)")
        at += 3 + size
    if at + 5 > end or table[at] != 0x02:
        raise ExtractionError(DAMAGED + " (no piece table)")
    (lcb,) = struct.unpack_from("<I", table, at + 1)
    at += 5
    if lcb < 4 or at + lcb > end or (lcb - 4) % 12:
        raise ExtractionError(DAMAGED + " (bad piece table)")
    n = (lcb - 4) // 12
    if n > MAX_PIECES:
        raise ExtractionError(f"Word document with too many pieces (over {MAX_PIECES})")
    cps = struct.unpack_from(f"<{n + 1}I", table, at)
    pieces = []
    for i in range(n):
        (fc,) = struct.unpack_from("<I", table, at + (n + 1) * 4 + i * 8 + 2)
        compressed = bool(fc & 0x40000000)
        offset = (fc & 0x3FFFFFFF) // 2 if compressed else fc & 0x3FFFFFFF
        pieces.append((cps[i], cps[i + 1], offset, compressed))
    return pieces


def _text(word: bytes, table: bytes, fib: _Fib) -> str:
    """The main text and the footnotes, which follow it in character positions."""
    wanted = max(0, fib.ccp_text) + max(0, fib.ccp_ftn)
    parts: list[str] = []
    total = 0
    for first, last, offset, compressed in _pieces(table, fib):
        if first >= wanted or last <= first:
            continue
        count = min(last, wanted) - first
        count = min(count, MAX_CHARS - total)
        size = count if compressed else count * 2
        if offset + size > len(word):
            raise ExtractionError(DAMAGED + " (text outside the file)")
        raw = word[offset:offset + size]
        parts.append(raw.decode("cp1252", "replace") if compressed else raw.decode("utf-16-le", "replace"))
        total += count
        if total >= MAX_CHARS:
            break
    return "".join(parts)


def _fields(text: str) -> str:
    """Fields are \\x13 instructions \\x14 result \\x15 (nested): keep results, drop instructions."""
    if "\x13" not in text:
        return text
    out: list[str] = []
    stack: list[bool] = []   # per open field: past its separator (showing its result)?
    for ch in text:
        if ch == "\x13":
            stack.append(False)
        elif ch == "\x14" and stack:
            stack[-1] = True
        elif ch == "\x15" and stack:
            stack.pop()
        elif all(stack):
            out.append(ch)
    return "".join(out)


def _title(ole) -> str | None:  # noqa: ANN001
    """The title in the document's summary information; damage there costs the title only."""
    try:
        title = ole.get_metadata().title
    except Exception:  # noqa: BLE001 - olefile raises many types from a broken property set
        return None
    if isinstance(title, bytes):
        title = title.decode("cp1252", "replace")
    title = " ".join(str(title or "").replace("\0", " ").split())
    return title or None


FAMILY = Family(VERSION, read, EXTENSIONS, isolated=True, size_factor=4)
