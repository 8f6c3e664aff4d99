"""Extraction on real bytes: encodings, binary refused, markup stripped, structure and lines kept, never a crash."""

from __future__ import annotations

import codecs
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from seekwise.core import extract
from seekwise.core.extract import ExtractionError, Unsupported

SAMPLE = "Café – naïve résumé, “quoted”.\nSecond line: 10 € and ½ price."


def run(name: str, text_or_bytes: str | bytes) -> extract.Document:
    data = text_or_bytes.encode() if isinstance(text_or_bytes, str) else text_or_bytes
    return extract.extract(name, data)


# -- encodings ---------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    SAMPLE.encode("utf-8"),
    codecs.BOM_UTF8 + SAMPLE.encode("utf-8"),
    codecs.BOM_UTF16_LE + SAMPLE.encode("utf-16-le"),
    codecs.BOM_UTF16_BE + SAMPLE.encode("utf-16-be"),
    codecs.BOM_UTF32_LE + SAMPLE.encode("utf-32-le"),
    SAMPLE.encode("utf-16-le"),
    SAMPLE.encode("utf-16-be"),
    SAMPLE.encode("utf-32-le"),
    SAMPLE.encode("utf-32-be"),
    SAMPLE.encode("cp1252"),
], ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf32le-bom", "utf16le-no-bom", "utf16be-no-bom",
        "utf32le-no-bom", "utf32be-no-bom", "cp1252"])
def test_common_encodings_decode_to_the_same_text(data):
    doc = run("a.txt", data)
    assert doc.text == SAMPLE and doc.kind == "text" and doc.extractor == "text/1"


def test_utf16_without_bom_in_a_non_latin_script():
    text = "Договор аренды: залог возвращается в течение месяца.\n" * 3
    assert run("r.txt", text.encode("utf-16-le")).text == text


def test_cp1252_bytes_that_are_invalid_utf8():
    data = "naïve – “quoted” café".encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert run("a.txt", data).text == "naïve – “quoted” café"


def test_latin1_text_and_bytes_cp1252_leaves_undefined():
    assert run("a.txt", "Crème brûlée à la française".encode("latin-1")).text == "Crème brûlée à la française"
    data = b"Caf\xe9 \x81 cr\xe8me"  # 0x81 is not a cp1252 character: latin-1 takes it
    assert run("a.txt", data).text == "Café \x81 crème"


def test_utf8_with_one_damaged_byte_stays_utf8():
    data = "日本語のテキスト, naïve café ".encode() * 20 + b"\xff" + " end".encode()
    text = run("a.txt", data).text
    assert "日本語のテキスト" in text and text.count("\ufffd") == 1 and text.endswith(" end")


def test_newlines_are_normalised_and_bom_stripped():
    doc = run("a.txt", codecs.BOM_UTF8 + b"one\r\ntwo\rthree\nfour\r\n")
    assert doc.text == "one\ntwo\nthree\nfour\n"
    assert run("a.py", "x = 1\r\ny = 2\r\n".encode("utf-16")).text == "x = 1\ny = 2\n"


def test_nuls_after_the_sniffed_head_are_dropped():
    data = b"log line\n" * 1000 + b"\x00" * 5000 + b"after the crash\n"
    assert run("app.log", data).text == "log line\n" * 1000 + "after the crash\n"


@pytest.mark.parametrize("data", [b"", b"   \n\t\n", codecs.BOM_UTF8])
@pytest.mark.parametrize("name", ["a.txt", "b.md", "c.html", "d.py", "README"])
def test_empty_and_blank_files_give_blank_text(name, data):
    doc = run(name, data)
    assert doc.text.strip() == "" and doc.title is None


# -- binary content ----------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n" + bytes(200),
    b"PK\x03\x04" + b"word/document.xml" * 10,
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
    b"\x7fELF\x02\x01\x01" + bytes(100),
    b"text\x00\x01\x02" * 100,
    bytes(range(256)) * 4,
    bytes(range(1, 32)) * 50,  # no NULs, but control characters everywhere
], ids=["png", "zip", "pdf", "elf", "nuls", "all-bytes", "controls"])
@pytest.mark.parametrize("name", ["notes.txt", "page.html", "README", "x.md"])
def test_binary_content_under_a_text_name_is_skipped(name, data):
    with pytest.raises(Unsupported) as info:
        run(name, data)
    assert info.value.reason == "binary file" == str(info.value)


def test_a_bom_over_garbage_is_not_valid_text():
    with pytest.raises(ExtractionError, match="not valid text") as info:
        run("a.txt", codecs.BOM_UTF16_LE + b"\x00\xd8" * 300)  # lone surrogates only
    assert not isinstance(info.value, Unsupported)


def test_text_that_merely_mentions_a_magic_word_is_still_text():
    assert run("a.txt", b"BZh is how bzip2 files start; GIF8 too.").text.startswith("BZh is")


# -- registry ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "kind", "language"), [
    ("README", "text", None), ("LICENSE", "text", None), ("COPYING", "text", None), ("CHANGELOG", "text", None),
    ("notes.TXT", "text", None), ("data.json", "json", None), ("table.csv", "csv", None),
    ("Makefile", "code", "make"), ("Dockerfile", "code", "docker"), ("CMakeLists.txt", "code", "cmake"),
    ("x.PY", "code", "python"), ("lib.rs", "code", "rust"), ("App.tsx", "code", "typescript"),
    ("util.h", "code", "c"), ("query.sql", "code", "sql"), ("style.scss", "code", "scss"),
    ("b.markdown", "markdown", None), ("c.HTM", "html", None), ("d.xhtml", "html", None),
])
def test_names_and_extensions_pick_the_family(name, kind, language):
    assert extract.is_supported(name) and extract.is_supported(Path("/some/dir") / name)
    doc = run(name, b"content here\n")
    assert (doc.kind, doc.language) == (kind, language)
    assert doc.extractor == extract.extractor_id(name) != ""


@pytest.mark.parametrize("name", ["song.MP3", "archive.tar.gz", "movie.mp4", "slides.key", "x.xyz", "dir/"])
def test_other_names_are_not_supported(name):
    assert not extract.is_supported(name) and extract.extractor_id(name) == ""
    with pytest.raises(Unsupported, match="not a supported file type"):
        run(name, b"hello")


def test_unknown_type_reason_names_the_extension():
    with pytest.raises(Unsupported, match=r"\(\.xyz\)$"):
        run("Photo.XYZ", b"hello")


def test_extract_never_opens_the_path(tmp_path):
    missing = tmp_path / "not-there" / "notes.md"
    assert run(str(missing), b"# Kept\n").title == "Kept"


def test_extensionless_scripts_are_code_by_their_shebang():
    doc = run("bin/backup", b"#!/usr/bin/env python3 -u\nprint('copying')\n")
    assert (doc.kind, doc.language, doc.extractor) == ("code", "python", extract.extractor_id("bin/backup"))
    assert run("deploy", b"#!/bin/bash\nset -e\n").language == "shell"
    assert run("LICENSE-MIT", b"Permission is hereby granted").kind == "text"


def test_supported_extensions_belong_to_exactly_one_family():
    seen: dict[str, str] = {}
    for family in extract.FAMILIES:
        for ext in family.extensions:
            assert ext.startswith(".") and ext == ext.lower() and ext not in seen
            seen[ext] = family.id
    assert extract.SUPPORTED_EXTENSIONS == frozenset(seen)
    assert {".txt", ".md", ".py", ".html", ".json", ".csv", ".rs", ".go"} <= extract.SUPPORTED_EXTENSIONS


# -- markdown ----------------------------------------------------------------------------------

MARKDOWN = """---
title: Front matter title
tags: [a, b]
---
# The Title

See [the docs](http://x.example/y "Docs") and ![a cat](c.png). [Foo](https://en.wikipedia.org/wiki/Foo_(bar)).
[![Build status](https://ci.example/badge.svg)](https://ci.example)
<!-- hidden
remark -->
Visible <!-- inline --> words.

```python
# not a title
x = a[i](j)  # [kept](as-is)
```

[ref]: http://example.com/ref
[^1]: A footnote stays.
"""


def test_markdown_keeps_text_and_structure_and_drops_markup():
    doc = run("n.md", MARKDOWN)
    assert doc.kind == "markdown" and doc.extractor == "markdown/2" and doc.title == "The Title"
    text = doc.text
    assert "See the docs and a cat. Foo." in text
    assert "Build status" in text and "badge.svg" not in text and "http://x.example" not in text
    assert "hidden" not in text and "remark" not in text and "inline" not in text and "Visible  words." in text
    assert "```python\n# not a title\nx = a[i](j)  # [kept](as-is)\n```" in text  # code is verbatim
    assert "example.com/ref" not in text and "[^1]: A footnote stays." in text
    assert "tags" not in text and "Front matter" not in text


def test_markdown_keeps_every_line_where_it_was():
    lines = run("n.md", MARKDOWN).text.split("\n")
    original = MARKDOWN.split("\n")
    assert len(lines) == len(original)
    for i, line in enumerate(original):
        if line.startswith(("# ", "```", "x = ", "[^1]")):
            assert lines[i] == line
    assert lines[:4] == ["", "", "", ""]  # front matter blanked, not removed
    assert lines[original.index("<!-- hidden")] == lines[original.index("remark -->")] == ""


def test_markdown_title_falls_back_to_front_matter_then_none():
    assert run("a.md", "---\ntitle: 'Quarterly report'\n---\n## Section\n").title == "Quarterly report"
    assert run("b.md", "```sh\n# a shell comment\n```\n## Only level two\n").title is None
    assert run("c.md", "Intro\n\n  #   Spaced title   ##\n").title == "Spaced title"


def test_markdown_unclosed_comment_and_fence_lose_nothing():
    text = run("a.md", "Use `<!--` to open a comment.\nMore words.\n").text
    assert text == "Use `<!--` to open a comment.\nMore words.\n"
    assert run("b.md", "~~~\n[x](y)\nno closing fence").text == "~~~\n[x](y)\nno closing fence"


# -- code --------------------------------------------------------------------------------------

def test_code_is_kept_verbatim_with_its_language():
    src = "def f(x):\n    \"\"\"Retry with [backoff](url).\"\"\"\n    return x  # <!-- not html -->\n"
    doc = run("retry.py", src)
    assert doc.text == src and (doc.kind, doc.language, doc.extractor) == ("code", "python", "code/1")
    assert doc.title is None


# -- html --------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Tenancy &amp; Deposit</title>
<style>p { color: red }</style><script>var secret = "<p>not text</p>";</script></head>
<body><nav>Home</nav><h2>Return of the  security
 bond</h2><p>The landlord   returns the&nbsp;<b>bond</b> within
<i>ten</i> days.</p><ul><li>one</li><li>two</li></ul><noscript>enable js</noscript>
<table><tr><th>Item</th><th>Price</th></tr><tr><td>Rent</td><td>&euro;900</td></tr></table>
<pre>
def refund():
    return bond
</pre><p>a<br>b</p><div hidden>hidden div</div><p style="display: none">nope</p>
<template><p>template text</p></template><svg><title>icon</title><text>svg text</text></svg>
<img src="x.png" alt="A signed form"><!-- a comment --><p>Caf&eacute; &lt;3 &#8364; &#x20AC;</p></body></html>"""


def test_html_visible_text_only_with_structure():
    doc = run("p.html", PAGE)
    assert doc.kind == "html" and doc.extractor == "html/2" and doc.title == "Tenancy & Deposit"
    text = doc.text
    for gone in ("secret", "not text", "color", "enable js", "hidden div", "nope", "template text", "icon",
                 "svg text", "a comment", "utf-8"):
        assert gone not in text
    lines = text.split("\n")
    assert lines[0] == "# Tenancy & Deposit"  # the title, as the page has no heading of its own saying it
    assert "## Return of the security bond" in lines
    assert "The landlord returns the bond within ten days." in lines
    assert "one\ntwo" in text and "Item | Price\nRent | €900" in text
    assert "def refund():\n    return bond\n" in text  # <pre> keeps its spaces
    assert "a\nb" in text and "A signed form" in text and "Café <3 € €" in text
    assert "\n\n\n" not in text


def test_html_title_is_not_repeated_when_the_page_starts_with_it():
    doc = run("p.html", "<title>Guide</title><h1>Guide</h1><p>Body</p>")
    assert doc.text == "# Guide\n\nBody"


def test_html_declared_legacy_charset():
    src = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252"><p>naïve – “quoted”</p>'
    assert run("p.htm", src.encode("cp1252")).text == "naïve – “quoted”"
    src = "<meta charset='iso-8859-7'><p>Καλημέρα</p>"
    assert run("p.htm", src.encode("iso-8859-7")).text == "Καλημέρα"


def test_html_mislabelled_utf8_is_read_as_utf8():
    src = '<meta charset="iso-8859-1"><p>Crème brûlée</p>'.encode()
    assert run("p.html", src).text == "Crème brûlée"


def test_html_malformed_markup_keeps_the_text():
    assert run("a.html", "<p><b><i>unclosed text<div <<>").text == "unclosed text"
    assert run("b.html", "<head><title>T</title><body><p>Head never closed").text == "# T\n\nHead never closed"
    assert run("c.html", "x < y and y > z, <3").text == "x < y and y > z, <3"
    assert run("d.html", "<p>before<!-- never closed <p>after").text == "before"
    assert run("e.html", '<p title="a>b">quoted > in attribute</p>').text == "quoted > in attribute"
    assert run("f.html", "<p>one</div></div></span>two").text == "one\ntwo"
    assert run("g.html", "<![if !IE]><p>conditional</p><![endif]><?php echo 1 ?>").text == "conditional"


def test_html_deep_nesting_is_fast():
    deep = b"<div><span>" * 5000 + b"deep words" + b"</span></div>" * 5000
    t0 = time.perf_counter()
    assert run("b.html", deep).text == "deep words"
    svg = b"<svg>" * 5000 + b"hidden" + b"</svg>" * 5000 + b"<p>shown</p>"
    assert run("c.html", svg).text == "shown"
    assert time.perf_counter() - t0 < 2


@pytest.mark.parametrize(("name", "data"), [
    ("a.html", "<a" * 100_000),          # html.parser (3.11) takes over ten seconds on this
    ("b.html", "<!--" * 50_000),
    ("c.html", "</" * 100_000),
    ("d.html", '<p x="' * 50_000),
    ("e.md", "[" * 200_000),
    ("f.md", "[a](" * 50_000),
    ("g.md", "# a" + " " * 200_000 + "b"),
    ("h.md", "<!--\n" * 50_000),
])
def test_pathological_input_takes_linear_time(name, data):
    t0 = time.perf_counter()
    assert isinstance(run(name, data).text, str)
    assert time.perf_counter() - t0 < 2


# -- fuzz --------------------------------------------------------------------------------------

NAMES = [f"f{ext}" for ext in sorted(extract.SUPPORTED_EXTENSIONS)] + ["README", "Makefile", "script"]
PIECES = ["<pre>", "</pre>", "<!--", "-->", "<![CDATA[", "]]>", "&#13;", "&amp;", "&", "#", ";", "<script>",
          "</script>", "<title>", "</title>", "<br/>", "<svg/>", "<svg>", "<div hidden>", "</div>", "<h2>",
          "</h2>", "<td>", "<tr>", "<li>", "<p>", "</p>", "<head>", "<body>", "<plaintext>", "<xmp>",
          "<textarea>", "<a href='", "<img alt=", '"', "'", "<", ">", "/", "!", "?", "=", "```", "~~~", "---",
          "[", "]", "](", "(", ")", "![", "# ", "title: x", "\r\n", "\r", "\n", " ", "\t", "x", "é", "\x00",
          "\x01", "\xa0", "\ufeff"]
MARKUP = st.lists(st.sampled_from(PIECES), max_size=80).map(lambda parts: "".join(parts).encode("utf-8"))


def _check(name: str, data: bytes) -> None:
    try:
        doc = extract.extract(name, data)
    except ExtractionError as exc:
        assert exc.reason and str(exc) == exc.reason
        assert "unexpected" not in exc.reason  # the registry's safety net caught a bug in a reader
    else:
        assert isinstance(doc.text, str) and "\r" not in doc.text
        assert doc.extractor == extract.extractor_id(name)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), data=st.binary(max_size=2000))
def test_fuzz_any_bytes_give_text_or_a_reason(name, data):
    _check(name, data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(["a.html", "b.md", "c.txt", "README"]), data=MARKUP)
def test_fuzz_markup_like_text_gives_text_or_a_reason(name, data):
    _check(name, data)


@settings(max_examples=200, deadline=None)
@given(text=st.lists(st.sampled_from([p for p in PIECES if p not in ("\x00", "\x01", "\ufeff")]), max_size=80)
       .map("".join))
def test_fuzz_markdown_never_adds_or_removes_a_line(text):
    expected = text.replace("\r\n", "\n").replace("\r", "\n").count("\n")
    assert run("n.md", text).text.count("\n") == expected
