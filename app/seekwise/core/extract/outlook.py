"""Outlook messages (.msg): subject, sender, recipients, date and body, then the attachments.

A .msg is an OLE compound file of MAPI properties (MS-OXMSG): each string property is a stream
named __substg1.0_<tag><type>, fixed-size ones (the dates) sit in __properties_version1.0. It is
read here with olefile (BSD-2-Clause) rather than extract-msg, which is GPL-3.0 and so cannot ship
in an MIT app. olefile is pure Python; the family runs isolated because attachments go through the
registry (a PDF attachment is PDFium's).
"""

from __future__ import annotations

import datetime
import logging
import struct

from seekwise.core.extract import attached
from seekwise.core.extract.base import Document, ExtractionError, Family, Unsupported
from seekwise.core.extract.html import visible_text
from seekwise.core.extract.ole import SIGNATURE, open_ole

log = logging.getLogger(__name__)

VERSION = "outlook/1"
EXTENSIONS = frozenset({".msg"})
DAMAGED = "damaged Outlook message"
MAX_STRING_BYTES = 16 << 20
MAX_ATTACHMENTS = 200
MAX_RECIPIENTS = 500
_SUBJECT, _BODY, _HTML = "0037", "1000", "1013"
_SENDER_NAME, _SENDER_SMTP, _SENDER_EMAIL = "0C1A", "5D01", "0C1F"
_DISPLAY_TO, _DISPLAY_CC = "0E04", "0E03"
_DATES = (0x0039, 0x0E06)       # PR_CLIENT_SUBMIT_TIME, PR_MESSAGE_DELIVERY_TIME
_CODEPAGE = 0x3FFD              # PR_MESSAGE_CODEPAGE, for 8-bit (001E) strings


def read(data: bytes, name: str) -> Document:
    if not data.startswith(SIGNATURE):
        raise ExtractionError("not an Outlook message (not an OLE file)")
    ole = open_ole(data, DAMAGED)
    try:
        return _message(_Reader(ole), name)
    finally:
        ole.close()


class _Reader:
    """Property streams of one OLE file, every access bounded and guarded."""

    def __init__(self, ole) -> None:  # noqa: ANN001 - olefile is imported lazily
        self.ole = ole
        try:
            self.streams = {"/".join(p) for p in ole.listdir(streams=True, storages=False)}
        except (OSError, ValueError, struct.error, IndexError, KeyError, TypeError, RecursionError) as exc:
            raise ExtractionError(DAMAGED) from exc

    def raw(self, path: str, limit: int = MAX_STRING_BYTES) -> bytes | None:
        if path not in self.streams:
            return None
        try:
            if self.ole.get_size(path) > limit:
                log.debug("%s larger than %d bytes: left out", path, limit)
                return None
            return self.ole.openstream(path).read(limit)
        except (OSError, ValueError, struct.error, IndexError, KeyError, TypeError, OverflowError):
            return None

    def string(self, prefix: str, tag: str, codepage: str = "cp1252") -> str:
        data = self.raw(f"{prefix}__substg1.0_{tag}001F")
        if data is not None:
            return data.decode("utf-16-le", "replace").split("\0", 1)[0]
        data = self.raw(f"{prefix}__substg1.0_{tag}001E")
        if data is not None:
            try:
                return data.decode(codepage, "replace").split("\0", 1)[0]
            except LookupError:
                return data.decode("cp1252", "replace").split("\0", 1)[0]
        return ""

    def fixed(self, prefix: str, header: int) -> dict[int, bytes]:
        """Fixed-size property values (8 bytes each) by property id, from the properties stream."""
        data = self.raw(f"{prefix}__properties_version1.0", 1 << 20) or b""
        found: dict[int, bytes] = {}
        for at in range(header, len(data) - 15, 16):
            tag, _flags = struct.unpack_from("<II", data, at)
            found.setdefault(tag >> 16, data[at + 8:at + 16])
        return found

    def storages(self, kind: str) -> list[str]:
        return sorted({p.split("/", 1)[0] + "/" for p in self.streams if p.startswith(kind) and "/" in p})


def _message(reader: _Reader, name: str) -> Document:
    props = reader.fixed("", 32)
    codepage = _codepage(props)
    subject = " ".join(reader.string("", _SUBJECT, codepage).split())
    sender = _sender(reader, codepage)
    to = reader.string("", _DISPLAY_TO, codepage) or _recipients(reader, codepage)
    cc = reader.string("", _DISPLAY_CC, codepage)
    date = _date(props)
    lines = [f"# {subject}"] if subject else []
    lines += [f"{h}: {' '.join(v.split())}" for h, v in (("From", sender), ("To", to), ("Cc", cc), ("Date", date)) if v]
    body = _body(reader, codepage)
    names, texts = _attachments(reader, codepage)
    text = "\n".join(lines)
    if body:
        text = f"{text}\n\n{body}" if text else body
    if names:
        text += ("\n\n" if text else "") + "Attachments: " + ", ".join(names)
    for attachment, content in texts:
        text += f"\n\n## Attachment: {attachment}\n\n{content}"
    if not text:
        if "__properties_version1.0" not in reader.streams:
            raise ExtractionError("not an Outlook message (no MAPI properties)")
        raise Unsupported("Outlook message without any text")
    return Document(text.replace("\r\n", "\n").replace("\r", "\n"), "outlook", VERSION, title=subject or None)


def _codepage(props: dict[int, bytes]) -> str:
    value = props.get(_CODEPAGE)
    if value is None:
        return "cp1252"
    cp = struct.unpack_from("<I", value)[0]
    return "utf-8" if cp == 65001 else f"cp{cp}"


def _sender(reader: _Reader, codepage: str) -> str:
    name = reader.string("", _SENDER_NAME, codepage)
    address = reader.string("", _SENDER_SMTP, codepage) or reader.string("", _SENDER_EMAIL, codepage)
    if address and "@" in address and address not in name:
        return f"{name} <{address}>" if name else address
    return name


def _recipients(reader: _Reader, codepage: str) -> str:
    people = []
    for prefix in reader.storages("__recip_version1.0_")[:MAX_RECIPIENTS]:
        shown = reader.string(prefix, "3001", codepage) or reader.string(prefix, "39FE", codepage)
        if shown:
            people.append(shown)
    return "; ".join(people)


def _date(props: dict[int, bytes]) -> str:
    for prop in _DATES:
        value = props.get(prop)
        if value is None:
            continue
        (ticks,) = struct.unpack("<Q", value)  # FILETIME: 100 ns since 1601-01-01 UTC
        try:
            when = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(
                microseconds=ticks // 10)
        except OverflowError:
            continue
        if when.year > 1970:
            return when.strftime("%a, %d %b %Y %H:%M:%S +0000")
    return ""


def _body(reader: _Reader, codepage: str) -> str:
    """The plain-text body, else the HTML one as a browser shows it (the compressed RTF is not read)."""
    body = reader.string("", _BODY, codepage).strip()
    if body:
        return body
    html = reader.raw(f"__substg1.0_{_HTML}0102") or reader.raw(f"__substg1.0_{_HTML}001F")
    if not html:
        return ""
    try:
        return visible_text(html)[0].strip()
    except ExtractionError:
        return ""


def _attachments(reader: _Reader, codepage: str) -> tuple[list[str], list[tuple[str, str]]]:
    names: list[str] = []
    texts: list[tuple[str, str]] = []
    budget = attached.Budget()
    for prefix in reader.storages("__attach_version1.0_")[:MAX_ATTACHMENTS]:
        shown = reader.string(prefix, "3707", codepage) or reader.string(prefix, "3704", codepage) \
            or reader.string(prefix, "3001", codepage)
        shown = " ".join(shown.split())
        if not shown:
            if any(p.startswith(prefix + "__substg1.0_3701000D") for p in reader.streams):
                names.append("(attached message)")
            continue
        names.append(shown)
        data = reader.raw(f"{prefix}__substg1.0_37010102", attached.MAX_BYTES)
        content = budget(shown, data) if data else ""
        if content:
            texts.append((shown, content))
    return names, texts


FAMILY = Family(VERSION, read, EXTENSIONS, isolated=True, size_factor=8)
