"""Outlook .msg, read from its MAPI property streams: headers, body, attachments' text; clear reasons."""

from __future__ import annotations

import makedocs as mk

from seekwise.core import extract
from seekwise.core.extract import ExtractionError, Unsupported, attached
from test_extract_formats import reason


def test_subject_sender_recipients_date_body_and_readable_attachments():
    data = mk.msg("Boiler invoice", "Dear customer,\r\nthe plumber replaced the valve. 240 EUR.",
                  attachments={"note.txt": b"pressure valve part number 42", "photo.png": b"\x89PNG\r\n\x1a\n"})
    doc = extract.extract("invoice.msg", data)
    assert doc.text == ("# Boiler invoice\nFrom: Ana Lima <ana@example.org>\nTo: Ben Okafor\n"
                        "Date: Tue, 03 Sep 2024 08:15:00 +0000\n\nDear customer,\nthe plumber replaced the valve. "
                        "240 EUR.\n\nAttachments: note.txt, photo.png\n\n## Attachment: note.txt\n\n"
                        "pressure valve part number 42")
    assert doc.kind == "outlook" and doc.extractor == "outlook/1" and doc.title == "Boiler invoice"
    assert extract.family_for("a.msg").isolated


def test_html_only_body_and_attachment_bound(monkeypatch):
    doc = extract.extract("h.msg", mk.msg("Hi", "", html=b"<p>Meet at <b>noon</b></p><script>x()</script>"))
    assert doc.text.endswith("\n\nMeet at noon")
    monkeypatch.setattr(attached, "MAX_BYTES", 10)
    doc = extract.extract("a.msg", mk.msg("Hi", "b", attachments={"long.txt": b"more than ten bytes of text"}))
    assert doc.text.endswith("Attachments: long.txt")



def test_damaged_and_foreign_files_give_reasons():
    good = mk.msg("S", "body")
    assert reason("t.msg", good[:1000]) == (ExtractionError, "damaged Outlook message")
    assert reason("n.msg", b"Subject: plain text\n\nhello") == (
        ExtractionError, "not an Outlook message (not an OLE file)")
    assert reason("w.msg", mk.ole({"WordDocument": b"\0" * 100})) == (
        ExtractionError, "not an Outlook message (no MAPI properties)")
    assert reason("e.msg", mk.ole({"__properties_version1.0": b"\0" * 32})) == (
        Unsupported, "Outlook message without any text")
