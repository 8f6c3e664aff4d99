"""Legacy Word .doc: the piece table's 8-bit and UTF-16 pieces in order, fields' results, clear reasons."""

from __future__ import annotations

import struct

import makedocs as mk

from seekwise.core import extract
from seekwise.core.extract import ExtractionError, Unsupported
from test_extract_formats import reason


def test_compressed_and_unicode_pieces_fields_and_cell_marks():
    paragraphs = ["Caf\u00e9 \u2014 the \u201cfirst\u201d paragraph", "Second in \u0416\u0443\u0440\u043d\u0430\u043b",
                  "Total: \x13 PAGE \x14seven\x15 pages", "cell one\x07cell two\x07\x07"]
    doc = extract.extract("old.doc", mk.doc(paragraphs, unicode_from=1, title="Minutes"))
    assert doc.text == ("Caf\u00e9 \u2014 the \u201cfirst\u201d paragraph\nSecond in \u0416\u0443\u0440\u043d\u0430\u043b\n"
                        "Total: seven pages\ncell one\tcell two")
    assert doc.kind == "doc" and doc.extractor == "doc/1" and doc.title == "Minutes"
    assert extract.family_for("a.doc").isolated



def _word_stream_patched(offset: int, fmt: str, value: int) -> bytes:
    """A .doc whose WordDocument stream has one field overwritten."""
    good = mk.doc(["some text"])
    at = good.index(b"\xec\xa5\xc1\x00")
    data = bytearray(good)
    struct.pack_into(fmt, data, at + offset, value)
    return bytes(data)


def test_encrypted_old_truncated_and_hostile_files_give_reasons():
    assert reason("x.doc", mk.doc(["secret"], encrypted=True)) == (Unsupported, "password-protected Word document")
    assert reason("x.doc", _word_stream_patched(2, "<H", 0x0065)) == (Unsupported, "Word 6 or Word 95 document (too old to read)")
    assert reason("x.doc", _word_stream_patched(154 + 33 * 8, "<I", 3000)) == (ExtractionError, "damaged Word document (no piece table)")
    assert reason("x.doc", mk.doc(["x" * 50])[:600]) == (ExtractionError, "damaged Word document")
    assert reason("x.doc", mk.docx(mk.w_p("x"))) == (ExtractionError, "a DOCX file named .doc (rename it to .docx)")
    assert reason("x.doc", mk.rtf(["x"])) == (ExtractionError, "an RTF file named .doc (rename it to .rtf)")
    assert reason("x.doc", mk.ole({"Other": b"1"})) == (ExtractionError, "not a Word document (no WordDocument stream)")


def test_a_text_length_past_the_pieces_reads_the_pieces_only():
    """A FIB claiming a billion characters costs nothing: the text is what the piece table holds."""
    assert extract.extract("x.doc", _word_stream_patched(64 + 12, "<i", 10**9)).text == "some text"
