"""E-mail (.eml): subject, who and when, then the body (plain text, else HTML); attachments by name only."""

from __future__ import annotations

import email
import email.policy
import logging
from collections.abc import Callable
from email.message import EmailMessage, Message

from seekwise.core.extract.base import Document, ExtractionError, Family
from seekwise.core.extract.decode import decode
from seekwise.core.extract.html import visible_text

log = logging.getLogger(__name__)

VERSION = "mail/1"
EXTENSIONS = frozenset({".eml"})
_HEADERS = ("From", "To", "Cc", "Date")
_MAX_PARTS = 1000
# The email package parses headers and MIME structure lazily and, on hostile input, raises from deep
# inside (ValueError, OverflowError from a date, IndexError, LookupError from a charset...): each
# access is guarded, and a part that fails costs that part only.
EMAIL_ERRORS = (ValueError, TypeError, IndexError, LookupError, AttributeError, KeyError, OverflowError,
                 AssertionError, UnicodeError)


def read(data: bytes, name: str) -> Document:
    """'# Subject', header lines, the body, then 'Attachments: a.pdf, b.png'."""
    decode(data[:65536])  # a binary file named .eml is refused here, like any text family
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
    except EMAIL_ERRORS as exc:
        raise ExtractionError("damaged e-mail message") from exc
    if not isinstance(msg, EmailMessage):
        raise ExtractionError("damaged e-mail message")
    subject, text = render(msg)
    return Document(text, "mail", VERSION, title=subject or None)


def render(msg: EmailMessage, attached: Callable[[str, bytes], str] | None = None) -> tuple[str, str]:
    """(subject, text) of one message; mbox reuses it. `attached` may turn an attachment's bytes into
    text to index with the message ('' keeps it listed by name only)."""
    subject = _header(msg, "Subject")
    lines = [f"# {subject}"] if subject else []
    lines += [f"{h}: {v}" for h in _HEADERS if (v := _header(msg, h))]
    body = _body(msg)
    attachments = _attachments(msg, attached)
    text = "\n".join(lines)
    if body:
        text = f"{text}\n\n{body}" if text else body
    names = [n for n, _ in attachments]
    if names:
        text += ("\n\n" if text else "") + "Attachments: " + ", ".join(names)
    for n, content in attachments:
        if content:
            text += f"\n\n## Attachment: {n}\n\n{content}"
    return subject, text


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
        return " ".join(str(value).split()) if value is not None else ""
    except EMAIL_ERRORS:
        log.debug("unreadable %s header", name)
        return ""


def _body(msg: EmailMessage) -> str:
    """The plain-text body if there is one, else the HTML one as a browser shows it."""
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
        if part is None:
            return ""
        raw = _payload(part)
        if not raw:
            return ""
        if part.get_content_subtype() == "html":
            return visible_text(raw)[0]
        return decode(raw, declared=part.get_content_charset()).strip()
    except ExtractionError:  # a body that is not text costs the body, not the headers
        return ""
    except EMAIL_ERRORS:
        log.debug("damaged MIME structure; no body")
        return ""


def _payload(part: Message) -> bytes:
    """Transfer-decoded bytes (base64, quoted-printable); charset decoding is left to decode()."""
    try:
        payload = part.get_payload(decode=True)
    except EMAIL_ERRORS:
        return b""
    return payload if isinstance(payload, bytes) else b""


def _attachments(msg: EmailMessage, attached: Callable[[str, bytes], str] | None = None) -> list[tuple[str, str]]:
    """(name, text or '') per attachment."""
    found: list[tuple[str, str]] = []
    try:
        for i, part in enumerate(msg.walk()):
            if i >= _MAX_PARTS:
                break
            if part.is_multipart():
                continue
            filename = part.get_filename()
            if filename or part.get_content_disposition() == "attachment":
                name = " ".join(str(filename or part.get_content_type()).split())
                found.append((name, attached(name, _payload(part)) if attached and filename else ""))
    except EMAIL_ERRORS:
        log.debug("damaged MIME structure; attachments listed so far kept")
    return found


FAMILY = Family(VERSION, read, EXTENSIONS)
