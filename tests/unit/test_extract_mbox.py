"""Mailboxes: a section per message, quoted 'From ' lines restored, attachments read, bounded count."""

from __future__ import annotations

import makedocs as mk
import pytest

from seekwise.core import extract
from seekwise.core.extract import ExtractionError, Unsupported, mbox


def test_one_section_per_message_with_its_attachments_text():
    data = mk.mbox([mk.eml("Holiday plans", "From Monday we are away.\nFrom there to the coast."),
                    mk.eml("Boiler", "See the invoice.", attachments={"invoice.txt": b"240 EUR for the valve"}),
                    mk.eml("", "no subject here")])
    doc = extract.extract("inbox.mbox", data)
    sections = doc.text.split("\n\n# ")
    assert len(sections) == 3 and doc.kind == "mbox" and doc.extractor == "mbox/1"
    assert "From Monday we are away.\nFrom there to the coast." in sections[0]
    assert sections[1].endswith("Attachments: invoice.txt\n\n## Attachment: invoice.txt\n\n240 EUR for the valve")
    assert sections[2].startswith("(no subject)")


def test_message_count_is_bounded(monkeypatch):
    monkeypatch.setattr(mbox, "MAX_MESSAGES", 2)
    doc = extract.extract("m.mbox", mk.mbox([mk.eml(f"Message {i}", "x") for i in range(5)]))
    assert "# Message 1" in doc.text and "Message 2" not in doc.text


def test_foreign_and_binary_files_give_reasons():
    with pytest.raises(ExtractionError) as info:
        extract.extract("x.mbox", b"\x89PNG\r\n")
    assert info.value.reason == "not an mbox mailbox (no 'From ' line at the start)"
    with pytest.raises(Unsupported) as info:
        extract.extract("b.mbox", b"From x\n" + bytes(range(256)))
    assert info.value.reason == "binary file"
