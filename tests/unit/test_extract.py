"""Extraction on real bytes: encodings, binary detection, markup stripped, structure kept, never a crash."""

from __future__ import annotations

import codecs
import time

import pytest
from hypothesis import given, settings, strategies as st

from seekwise.core import extract
from seekwise.core.extract import ExtractionError, Unsupported

SAMPLE = "Café – naïve résumé, “quoted”.\nSecond line."


@pytest.mark.parametrize("data", [
    SAMPLE.encode("utf-8"),
    codecs.BOM_UTF8 + SAMPLE.encode("utf-8"),
    codecs.BOM_UTF16_LE + SAMPLE.encode("utf-16-le"),
    codecs.BOM_UTF16_BE + SAMPLE.encode("utf-16-be"),
    SAMPLE.encode("utf-16-le"),
    SAMPLE.encode("cp1252"),
], ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le-no-bom", "cp1252"])
def test_common_encodings_decode_to_the_same_text(data):
    assert extract.extract("a.txt", data).text == SAMPLE


def test_latin1_and_crlf():
    doc = extract.extract("a.txt", "Crème brûlée\r\nline two\rline three".encode("latin-1"))
    assert doc.text == "Crème brûlée\nline two\nline three" and doc.kind == "text"


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n" + bytes(200), b"text\x00\x01\x02" * 100,
                                  b"PK\x03\x04" + bytes(range(256)), bytes(range(256)) * 4])
def test_binary_named_txt_is_skipped(data):
    with pytest.raises(Unsupported, match="binary file"):
        extract.extract("notes.txt", data)


def test_empty_file_gives_empty_text():
    assert extract.extract("empty.md", b"").text == ""


def test_unknown_type_is_unsupported_with_its_extension():
    with pytest.raises(Unsupported, match=r"\.xyz"):
        extract.extract("photo.xyz", b"hello")
    assert not extract.is_supported("photo.JPG")


@pytest.mark.parametrize(("name", "kind"), [("README", "text"), ("Makefile", "code"), ("x.PY", "code"),
                                           ("a.rst", "text"), ("b.markdown", "markdown"), ("c.HTM", "html")])
def test_names_and_extensions(name, kind):
    assert extract.is_supported(name)
    assert extract.extract(name, b"content here").kind == kind


def test_code_keeps_text_and_language():
    src = b"def f(x):\n    return x  # comment\n"
    doc = extract.extract("m.rs", src)
    assert doc.text == src.decode() and doc.language == "rust" and doc.extractor.startswith("code/")


def test_markdown_strips_links_front_matter_and_keeps_lines():
    src = ("---\ntitle: x\ntags: [a]\n---\n# The Title\n\nSee [the docs](http://x/y) and ![a cat](c.png).\n"
           "<!-- hidden\nnote -->\n```\ncode\n```\n[ref]: http://example.com\n")
    doc = extract.extract("n.md", src.encode())
    assert doc.title == "The Title"
    assert "See the docs and a cat." in doc.text and "http" not in doc.text and "hidden" not in doc.text
    assert doc.text.splitlines()[4] == "# The Title" and "```\ncode\n```" in doc.text


def test_html_visible_text_only():
    src = b"""<html><head><title>T &amp; C</title><style>p{color:red}</style>
    <script>var secret = 1;</script></head><body><h2>Terms</h2><p>Pay&nbsp;the <b>bond</b>
    now.</p><ul><li>one</li><li>two</li></ul><noscript>enable js</noscript><p>Caf&eacute;</p></body></html>"""
    doc = extract.extract("p.html", src)
    assert doc.title == "T & C"
    assert "secret" not in doc.text and "color" not in doc.text and "enable js" not in doc.text
    assert "## Terms" in doc.text and "Pay the bond now." in doc.text and "Café" in doc.text
    assert "one\ntwo" in doc.text


def test_html_declared_legacy_charset():
    src = '<meta charset="windows-1252"><p>naïve – “quoted”</p>'.encode("cp1252")
    assert "naïve – “quoted”" in extract.extract("p.htm", src).text


def test_html_malformed_and_deeply_nested_is_fast():
    assert "unclosed text" in extract.extract("a.html", b"<p><b><i>unclosed text<div <<>").text
    deep = b"<div>" * 5000 + b"deep words" + b"</div>" * 5000
    t0 = time.perf_counter()
    assert "deep words" in extract.extract("b.html", deep).text
    assert time.perf_counter() - t0 < 2


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(["a.txt", "b.md", "c.html", "d.py", "README", "e.json"]), data=st.binary(max_size=2000))
def test_fuzz_any_bytes_give_text_or_a_reason(name, data):
    try:
        doc = extract.extract(name, data)
    except ExtractionError as exc:
        assert exc.reason
    else:
        assert isinstance(doc.text, str) and "\r" not in doc.text
