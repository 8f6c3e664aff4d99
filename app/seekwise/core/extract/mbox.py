"""Mailbox files (.mbox): one '# Subject' section per message, with the text of readable attachments.

The mbox format is messages one after another, each opened by a "From " line at the start of a
line after a blank one. The stdlib mailbox module wants a path and reads it with its own limits,
so the bytes are split here and each message is read by the e-mail family's rendering. Attachments
(a PDF, a DOCX...) go through the registry, so this family runs isolated like them.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
from email.message import EmailMessage

from seekwise.core.extract import attached, mail
from seekwise.core.extract.base import Document, ExtractionError, Family, Unsupported

log = logging.getLogger(__name__)

VERSION = "mbox/1"
EXTENSIONS = frozenset({".mbox", ".mbx"})
MAX_MESSAGES = 20_000
_FROM_LINE = re.compile(rb"(?:\A|\n)From [^\n]*\n")
_QUOTED_FROM = re.compile(rb"^>(>*From )", re.M)


def read(data: bytes, name: str) -> Document:
    if not data.startswith(b"From "):
        raise ExtractionError("not an mbox mailbox (no 'From ' line at the start)")
    if b"\0" in data[:65536]:
        raise Unsupported("binary file")
    lines = list(_FROM_LINE.finditer(data))
    starts = [m.end() for m in lines]
    ends = [m.start() for m in lines[1:]] + [len(data)]
    if len(starts) > MAX_MESSAGES:
        log.info("%s: %d messages, the first %d read", name, len(starts), MAX_MESSAGES)
    budget = attached.Budget()
    sections: list[str] = []
    for start, end in list(zip(starts, ends))[:MAX_MESSAGES]:
        raw = _QUOTED_FROM.sub(rb"\1", data[start:end])  # mboxrd quoting: '>From ' in a body
        try:
            msg = email.message_from_bytes(raw, policy=email.policy.default)
        except mail.EMAIL_ERRORS:
            sections.append("(damaged message)")
            continue
        if not isinstance(msg, EmailMessage):
            continue
        subject, text = mail.render(msg, budget)
        if text and not subject:
            text = "# (no subject)\n" + text
        if text:
            sections.append(text)
    if not sections:
        raise Unsupported("mailbox without any message text")
    return Document("\n\n".join(sections), "mbox", VERSION)


FAMILY = Family(VERSION, read, EXTENSIONS, isolated=True, size_factor=8)
