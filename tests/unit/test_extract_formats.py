"""Each document family on real files built by the test: the text a reader sees, its structure, its pages."""

from __future__ import annotations

import time

import makedocs as mk
import pytest

from seekwise.core import extract
from seekwise.core.chunking import Chunker
from seekwise.core.extract import ExtractionError, Unsupported, structured
from seekwise.core.store import ChunkRecord, FileChange, FileRecord, NewChunk, Store, text_digest


def run(name: str, data: bytes | str) -> extract.Document:
    return extract.extract(name, data.encode() if isinstance(data, str) else data)


def reason(name: str, data: bytes) -> tuple[type, str]:
    with pytest.raises(ExtractionError) as info:
        run(name, data)
    return type(info.value), info.value.reason


# -- registry ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "family", "isolated"), [
    ("a.pdf", "pdf", True), ("b.docx", "docx", True), ("c.odt", "odt", True), ("d.epub", "epub", True),
    ("e.rtf", "rtf", True), ("f.eml", "mail", False), ("g.csv", "csv", False), ("h.tsv", "csv", False),
    ("i.json", "json", False), ("j.jsonl", "json", False), ("k.rst", "rst", False), ("l.org", "org", False),
    ("m.xht", "html", False), ("n.txt", "text", False), ("o.md", "markdown", False), ("p.py", "code", False),
])
def test_each_format_has_its_family_and_only_parsers_of_binary_formats_run_isolated(name, family, isolated):
    found = extract.family_for(name)
    assert found.name == family and found.isolated is isolated


def test_containers_may_be_larger_than_text_files():
    assert extract.size_limit(extract.family_for("a.pdf"), 32 << 20) == 256 << 20
    assert extract.size_limit(extract.family_for("a.txt"), 32 << 20) == 32 << 20


# -- PDF ---------------------------------------------------------------------------------------

def test_pdf_text_layer_with_a_start_per_page_and_its_title():
    doc = run("r.pdf", mk.pdf(["Tenancy agreement\nThe bond (deposit) is 800 EUR.", "Page two: keys and meters."],
                              title="Lease 2024"))
    assert doc.text == "Tenancy agreement\nThe bond (deposit) is 800 EUR.\n\nPage two: keys and meters."
    assert doc.kind == "pdf" and doc.extractor == "pdf/2" and doc.title == "Lease 2024"
    assert doc.page_starts == (0, doc.text.index("Page two"))
    assert [doc.page_at(doc.text.index(w)) for w in ("bond", "keys")] == [1, 2]


def test_pdf_blank_and_image_pages_keep_the_numbering():
    doc = run("r.pdf", mk.pdf(["first page", None, mk.IMAGE, "fourth page"]))
    assert doc.text == "first page\n\nfourth page" and len(doc.page_starts) == 4
    assert doc.page_at(doc.text.index("fourth")) == 4 and doc.page_at(0) == 1


def test_scanned_pdf_pages_are_left_to_ocr_and_a_blank_pdf_is_refused():
    doc = run("scan.pdf", mk.pdf([mk.IMAGE, mk.IMAGE]))   # tests/unit/test_ocr.py reads them
    assert (doc.text, doc.ocr_pages, len(doc.page_starts)) == ("", (0, 1), 2)
    assert reason("blank.pdf", mk.pdf([None])) == (Unsupported, "PDF without any text")


def test_password_protected_pdf_is_skipped_with_a_clear_reason():
    data = mk.pdf(["secret contract terms"], title="Secret", password="hunter2")
    assert b"secret contract" not in data  # really encrypted
    assert reason("locked.pdf", data) == (Unsupported, "password-protected PDF")


@pytest.mark.parametrize("data", [b"%PDF-1.4\n" + b"garbage " * 100, b"", b"%PDF-1.7\n1 0 obj\n<<"],
                         ids=["garbage", "empty", "cut"])
def test_damaged_pdf_is_an_error_with_a_clear_reason(data):
    assert reason("bad.pdf", data) == (ExtractionError, "damaged PDF (cannot be opened)")


# -- DOCX --------------------------------------------------------------------------------------

def test_docx_headings_tables_lists_breaks_and_notes():
    body = (mk.w_p("Return of the bond", "Titre1")  # localised style id, English name "heading 1"
            + mk.w_p("The landlord repays\tthe deposit\nwithin ten days.")
            + mk.w_p("Deductions", "Heading2")
            + mk.w_table([["Item", "Cost"], ["Cleaning", "40 EUR"]])
            + mk.w_p("keys returned", listed=True)
            + mk.w_p("Annex", "MyChapter"))  # a custom style based on a heading style
    doc = run("lease.docx", mk.docx(body, title="Lease", footnotes=["Unless agreed otherwise."]))
    assert doc.text == ("# Return of the bond\n\nThe landlord repays the deposit\nwithin ten days.\n\n"
                        "## Deductions\n\nItem | Cost\nCleaning | 40 EUR\n\n- keys returned\n\n# Annex\n\n"
                        "Unless agreed otherwise.")
    assert doc.kind == "docx" and doc.title == "Lease"
    assert run("x.docx", mk.docx(mk.w_p("Only heading", "Heading2"))).title == "Only heading"


def test_docx_leaves_out_deleted_text_field_codes_and_duplicate_fallbacks():
    w = f'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:w="{mk.W_NS}"'
    body = (f"<w:p {w}><w:r><w:t>kept </w:t></w:r><w:del><w:r><w:delText>deleted </w:delText></w:r></w:del>"
            '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>PAGE \\* MERGEFORMAT</w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>7</w:t></w:r>'
            "<w:r><mc:AlternateContent><mc:Choice><w:txbxContent><w:p><w:r><w:t>in a text box</w:t></w:r></w:p>"
            "</w:txbxContent></mc:Choice><mc:Fallback><w:txbxContent><w:p><w:r><w:t>in a text box</w:t></w:r>"
            "</w:p></w:txbxContent></mc:Fallback></mc:AlternateContent></w:r></w:p>")
    assert run("f.docx", mk.docx(body)).text == "in a text box\n\nkept 7"


def test_docx_that_is_not_one():
    assert reason("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))[0] is Unsupported
    assert reason("no.docx", b"just text") == (ExtractionError, "damaged or truncated archive")
    assert reason("empty.docx", mk.zip_bytes({"a.txt": "x"})) == (ExtractionError,
                                                                  "not a Word document (no word/document.xml)")


# -- ODT ---------------------------------------------------------------------------------------

def test_odt_headings_spaces_lists_tables_and_notes():
    body = ('<text:h text:outline-level="1">Moving out</text:h>'
            '<text:p>Give <text:span>notice</text:span><text:s text:c="3"/>in writing,<text:tab/>then'
            "<text:line-break/>return the keys.</text:p>"
            '<text:h text:outline-level="2">Checklist</text:h>'
            "<text:list><text:list-item><text:p>meter readings</text:p></text:list-item></text:list>"
            "<table:table><table:table-row><table:table-cell><text:p>Room</text:p></table:table-cell>"
            "<table:table-cell><text:p>State</text:p></table:table-cell></table:table-row></table:table>"
            "<text:p>See the lease<text:note><text:note-citation>1</text:note-citation><text:note-body>"
            "<text:p>Clause 9.</text:p></text:note-body></text:note>.</text:p>"
            "<text:p>visible<office:annotation><text:p>a reviewer's comment</text:p></office:annotation></text:p>")
    doc = run("move.odt", mk.odt(body, title="Moving out guide"))
    assert doc.text == ("# Moving out\n\nGive notice in writing, then\nreturn the keys.\n\n## Checklist\n\n"
                        "- meter readings\n\nRoom | State\n\nClause 9.\n\nSee the lease.\n\nvisible")
    assert doc.kind == "odt" and doc.title == "Moving out guide"


def test_password_protected_odt_is_skipped():
    data = mk.zip_bytes({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": b"\x8f\x12",
                         "META-INF/manifest.xml": "<manifest><file-entry><encryption-data/></file-entry></manifest>"})
    assert reason("secret.odt", data) == (Unsupported, "password-protected document")


# -- EPUB --------------------------------------------------------------------------------------

def test_epub_reads_chapters_in_spine_order_without_repeating_the_book_title():
    data = mk.epub([("a.xhtml", "<h1>Chapter One</h1><p>Rent &amp; bills.</p>"),
                    ("b.xhtml", "<h1>Preface</h1><p>Why this book.</p>")], title="Renting Well", spine=[1, 0])
    doc = run("book.epub", data)
    assert doc.text == "# Preface\n\nWhy this book.\n\n# Chapter One\n\nRent & bills."
    assert doc.kind == "epub" and doc.title == "Renting Well"


def test_epub_drm_and_missing_chapters_have_reasons():
    assert reason("drm.epub", mk.epub([("a.xhtml", "<p>x</p>")], encrypted=True)) == (
        Unsupported, "DRM-protected e-book (its text is encrypted)")
    book = mk.epub([("a.xhtml", "<p>x</p>")])
    broken = mk.zip_bytes({k: v for k, v in _members(book).items() if not k.endswith("a.xhtml")})
    assert reason("gone.epub", broken) == (ExtractionError, "e-book chapters are missing from the archive")


def test_epub_without_container_finds_its_package():
    members = {k: v for k, v in _members(mk.epub([("a.xhtml", "<p>found anyway</p>")])).items()
               if "container" not in k}
    assert run("nocontainer.epub", mk.zip_bytes(members)).text == "found anyway"


def _members(data: bytes) -> dict[str, bytes]:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


# -- RTF ---------------------------------------------------------------------------------------

def test_rtf_text_code_pages_unicode_and_title():
    doc = run("letter.rtf", mk.rtf(["Caf\u00e9 cr\u00e8me \u2014 r\u00e9sum\u00e9", "Smile \U0001F600 and \u03a9mega"],
                                   title="Br\u00fcckenbau"))
    assert doc.text == "Caf\u00e9 cr\u00e8me \u2014 r\u00e9sum\u00e9\n\nSmile \U0001F600 and \u03a9mega"
    assert doc.kind == "rtf" and doc.title == "Br\u00fcckenbau"


def test_rtf_skips_destinations_and_binary_and_reads_font_charsets():
    data = (rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fswiss Arial;}{\f1\fcharset204 Arial Cyr;}}"
            rb"{\*\panose 02020603050405020304}{\pict\pngblip\bin5 }{}\}more 89abc}{\*\unknowndest hidden}"
            rb"{\field{\*\fldinst HYPERLINK x}{\fldrslt link text}}\par"
            rb"\f1 \'cf\'f0\'e8\'e2\'e5\'f2\f0  and \uc2\u8364\'80\'80 done\cell two\cell\row}")
    assert run("x.rtf", data).text == "link text\n\n\u041f\u0440\u0438\u0432\u0435\u0442 and \u20ac done | two"


def test_rtf_deep_nesting_and_huge_input_stay_linear():
    t0 = time.perf_counter()
    assert run("deep.rtf", b"{\\rtf1 " + b"{" * 200_000 + b"deep" + b"}" * 200_000 + b"}").text == "deep"
    assert run("long.rtf", b"{\\rtf1 " + b"{\\b word} " * 100_000 + b"}").text.startswith("word word")
    assert time.perf_counter() - t0 < 5
    assert reason("no.rtf", b"plain text pretending") == (ExtractionError, "not an RTF file (no {\\rtf header)")


# -- e-mail ------------------------------------------------------------------------------------

def test_eml_headers_plain_body_and_attachment_names():
    data = mk.eml("Deposit refund", "Hi Ben,\nthe bond comes back on Friday.", html="<p>HTML twin</p>",
                  attachments={"inventory.pdf": b"%PDF-1.4 not read"})
    doc = run("mail.eml", data)
    assert doc.text == ("# Deposit refund\nFrom: Ana Lima <ana@example.org>\nTo: Ben Okafor <ben@example.org>\n"
                        "Date: Tue, 03 Sep 2024 10:15:00 +0200\n\nHi Ben,\nthe bond comes back on Friday.\n\n"
                        "Attachments: inventory.pdf")
    assert doc.kind == "mail" and doc.title == "Deposit refund"


def test_eml_html_only_and_legacy_charset():
    html = (b"Subject: =?iso-8859-1?q?R=E9sum=E9?=\nContent-Type: text/html; charset=utf-8\n\n"
            b"<html><head><title>t</title><style>p{}</style></head>"
            b"<body><p>Bonjour <b>\xc3\xa0</b> tous</p></body></html>")
    assert run("h.eml", html).text == "# R\u00e9sum\u00e9\n\nBonjour \u00e0 tous"
    latin = (b"Subject: x\nContent-Type: text/plain; charset=iso-8859-1\n"
             b"Content-Transfer-Encoding: quoted-printable\n\nd=E9j=E0 vu\n")
    assert run("l.eml", latin).text.endswith("d\u00e9j\u00e0 vu")


# -- CSV and JSON ------------------------------------------------------------------------------

def test_csv_rows_as_column_value_lines_in_file_order():
    data = 'name;city;note\nAna;Lisboa;"likes\nthe sea"\nBen;;41\n'
    assert run("people.csv", data).text == ("name | city | note\nname: Ana | city: Lisboa | note: likes the sea\n"
                                            "name: Ben | note: 41")
    assert run("t.tsv", "a\tb\n1\t2\n").text == "a | b\na: 1 | b: 2"
    assert run("nums.csv", "1,2\n3,4\n").text == "1 | 2\n3 | 4"  # no header row: values only


def test_csv_is_bounded_with_a_note(monkeypatch):
    monkeypatch.setattr(structured, "MAX_ROWS", 3)
    text = run("big.csv", "h1,h2\n" + "x,y\n" * 10).text
    assert text.splitlines()[-1] == "[only the first 3 rows are indexed]" and len(text.splitlines()) == 4


def test_json_keys_and_values_records_apart_and_fallbacks():
    data = '{"title": "Lease", "rooms": [{"name": "kitchen", "area": 12.5}, {"name": "hall", "x": null}], "ok": 1}'
    assert run("a.json", data).text == ("title: Lease\nrooms.name: kitchen\nrooms.area: 12.5\n\n"
                                        "rooms.name: hall\n\nok: 1")
    assert run("bad.json", "{not json, but text").text == "{not json, but text"
    t0 = time.perf_counter()
    assert run("deep.json", "[" * 100_000 + "]" * 100_000).text.startswith("[[[")  # too deep: kept as text
    assert time.perf_counter() - t0 < 2
    assert run("l.jsonl", '{"a": "one"}\n\n{"a": "two"}\nnot json\n').text == "a: one\n\na: two\n\nnot json"


# -- reStructuredText and Org ------------------------------------------------------------------

def test_rst_headings_become_levels_in_order_of_first_use_and_lines_stay():
    data = ("=======\nManual\n=======\n\nIntro with ``code`` and `a link <http://x.org>`_.\n\n"
            "Install\n-------\n\n.. _target: http://x.org\n.. a comment\n.. note:: kept directive\n\n"
            "Use :ref:`the guide`.\n\nDetails\n~~~~~~~\n\nSecond\n-------\n")
    doc = run("m.rst", data)
    assert doc.text.split("\n") == ["", "# Manual", "", "", "Intro with code and a link.", "", "## Install", "",
                                    "", "", "", ".. note:: kept directive", "", "Use the guide.", "",
                                    "### Details", "", "", "## Second", "", ""]
    assert doc.text.count("\n") == data.count("\n") and doc.title == "Manual" and doc.kind == "rst"


def test_org_headlines_blocks_drawers_and_lines_stay():
    data = ("#+TITLE: Garden notes\n#+STARTUP: overview\n* TODO Plant tomatoes   :spring:garden:\n"
            ":PROPERTIES:\n:ID: 42\n:END:\nSee [[https://x.org][the seed shop]] and [[file:a.org]].\n"
            "** Watering\n#+BEGIN_SRC python\n# not a heading\nwater(2)\n#+END_SRC\n# a comment\n:notadrawer:\n")
    doc = run("g.org", data)
    assert doc.text.split("\n") == ["Garden notes", "", "# TODO Plant tomatoes", "", "", "",
                                    "See the seed shop and file:a.org.", "## Watering", "```python",
                                    "# not a heading", "water(2)", "```", "", ":notadrawer:", ""]
    assert doc.title == "Garden notes" and doc.kind == "org"


# -- pages through the chunker and the store ---------------------------------------------------

def test_chunks_carry_the_page_they_start_on_and_prefer_page_breaks(token_counter):
    pages = [f"Page {n} is about topic {n}. " + "More words about this subject follow here. " * 20 for n in range(1, 5)]
    doc = run("r.pdf", mk.pdf(pages))
    chunker = Chunker(token_counter, token_counter.budget, target=128, overlap=16, tokenizer_tag=token_counter.tag)
    chunks = chunker.chunk(doc.text, doc.kind, doc.page_starts)
    assert {c.page for c in chunks} == {1, 2, 3, 4}
    for c in chunks:
        assert c.page == doc.page_at(c.start)
    starts = {doc.page_starts[p] for p in range(1, 4)}
    assert starts <= {c.start for c in chunks}  # every page break is also a chunk break
    assert all(c.page == 0 for c in chunker.chunk("no pages here.\n\nat all."))


def test_chunk_pages_persist_and_old_records_read_as_unpaged(tmp_path):
    st = Store(tmp_path / "s.lmdb")
    try:
        paged = NewChunk(0, 5, 1, "hello", text_digest("c", "hello"), page=7)
        plain = NewChunk(6, 11, 2, "world", text_digest("c", "world"))
        st.commit([FileChange(FileRecord("/a.pdf", 1, 1), [paged, plain])], [], {}, "m")
        got = {c.text: c.page for c in st.get_chunks([1, 2])}
        assert got == {"hello": 7, "world": 0}
    finally:
        st.close()
    old = ChunkRecord(3, "/x.txt", 0, 2, 1, "hi", bytes(32))
    assert old.encode() == bytes(32) + b"\0\0\0\0\x02\0\0\0\x01\0\0\0" + b"\x06\0\0\0/x.txthi"  # schema 1 bytes
    assert ChunkRecord.decode(3, old.encode()) == old


def test_a_schema_1_store_opens_and_is_stamped_2_by_a_writer(tmp_path):
    import lmdb

    st = Store(tmp_path / "s.lmdb")
    st.close()
    env = lmdb.open(str(tmp_path / "s.lmdb"), subdir=False, max_dbs=8)
    with env.begin(write=True) as txn:
        txn.put(b"schema", b"1", db=env.open_db(b"meta", txn=txn))
    env.close()
    st = Store(tmp_path / "s.lmdb")
    try:
        with st.read() as txn:
            assert txn.get(b"schema", db=st.meta) == b"2"
    finally:
        st.close()
