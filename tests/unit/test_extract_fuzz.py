"""Every family, fed random and mutated real files, returns text or a reason: never a crash, never a hang.

Mutations start from a valid file of the family (so the fuzzer gets past the first check), then flip,
cut, splice and repeat bytes. A reason starting "could not extract text (unexpected" is the registry's
safety net catching a bug in a reader, so it fails the test too. PDF and spreadsheets go through the
isolation worker, as in the indexer: PDFium and calamine are native code and must not take the test
run down with them.
"""

from __future__ import annotations

import io
import time
import zipfile

import makedocs as mk
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from seekwise.core import extract
from seekwise.core.extract import ExtractionError, isolate, ocr

SEEDS: dict[str, bytes] = {
    "a.pdf": mk.pdf(["Tenancy agreement\nThe bond is 800 EUR.", "Page two", mk.IMAGE], title="Lease"),
    "b.docx": mk.docx(mk.w_p("Title", "Titre1") + mk.w_p("Some text\twith tab") + mk.w_table([["a", "b"]]),
                      title="Doc", footnotes=["note"]),
    "c.odt": mk.odt('<text:h text:outline-level="1">H</text:h><text:p>Body <text:s text:c="2"/>text</text:p>'),
    "d.epub": mk.epub([("a.xhtml", "<h1>One</h1><p>Text &amp; more</p>"), ("b.xhtml", "<p>Two</p>")]),
    "e.rtf": mk.rtf(["Caf\u00e9 \u2014 \U0001F600", "second"], title="T"),
    "f.eml": mk.eml("Subject", "Body text", html="<p>html</p>", attachments={"x.bin": b"\0\1"}),
    "g.csv": b'name,city\nAna,"Lis\nboa"\nBen,Porto\n',
    "h.json": b'{"a": [1, {"b": "text", "c": null}], "d": true}',
    "i.jsonl": b'{"a": 1}\n{"b": "two"}\n',
    "j.rst": b"Title\n=====\n\nText with ``code`` and `link <http://x>`_.\n\nSub\n---\n\n.. _t: x\n",
    "k.org": b"#+TITLE: T\n* TODO H :tag:\n:PROPERTIES:\n:ID: 1\n:END:\n#+BEGIN_SRC sh\nls\n#+END_SRC\n",
    "l.xht": b"<html><head><title>T</title></head><body><p>x</p></body></html>",
    "m.xlsx": mk.xlsx({"S": [["a", 1.5], [None, "b"]]}),
    "n.ods": mk.ods({"S": [["a", 2]]}),
    "o.pptx": mk.pptx([("T", ["body"], "notes")], table=[["x", "y"]]),
    "p.odp": mk.odp([("T", ["body"], "notes")]),
    "q.msg": mk.msg("Subject", "Body text"),
    "r.doc": mk.doc(["One", "Two \u0416"], unicode_from=1),
    "s.mbox": mk.mbox([mk.eml("One", "first"), mk.eml("Two", "second")]),
    "u.pdf": mk.scanned_pdf([None, "A scanned page"], dpi=40),   # a text page and a picture of one
}
# Read with OCR: Tesseract runs as a child process with a time limit, so a picture it chokes on costs
# that picture only. A small picture keeps each example well under a second.
OCR_SEEDS: dict[str, bytes] = {"t.png": mk.png(*mk.text_pixels("Receipt\nCoffee 12.50", dpi=100, top=0.2))}


# Families parsed by third-party native code (PDFium, calamine) go through the isolation worker, as in
# the indexer: a crash or a hang there is the worker's to bound (a mutated workbook once kept calamine
# busy for minutes), so a time-out is an accepted outcome for them, never for our own readers.
NATIVE = frozenset({"pdf", "sheet"})


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "splice", "repeat", "truncate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif op == "splice" and data:
            other = draw(st.integers(0, len(data) - 1))
            data[at:at] = data[other:other + draw(st.integers(1, 64))]
        elif op == "repeat" and data:
            data[at:at] = data[at:at + draw(st.integers(1, 16))] * draw(st.integers(2, 50))
        elif op == "truncate":
            del data[at:]
    return bytes(data)


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


@st.composite
def mutated_member(draw, seed: bytes) -> bytes:
    """A zip container rebuilt with one of its XML members mutated: the fuzz reaches the XML readers."""
    members = _members(seed)
    name = draw(st.sampled_from(sorted(n for n in members if n.endswith((".xml", ".xhtml", ".opf", ".rels")))))
    members[name] = draw(mutated(members[name]))
    return mk.zip_bytes(members)


@pytest.fixture(scope="module")
def iso():
    isolator = isolate.Isolator(time_limit=10)
    yield isolator
    isolator.close()


def check(iso: isolate.Isolator, tmp_path, name: str, data: bytes) -> None:
    family = extract.family_for(name)
    with_ocr = name in OCR_SEEDS
    t0 = time.perf_counter()
    try:
        if family.isolated and family.name in NATIVE:
            path = tmp_path / name
            path.write_bytes(data)
            doc = iso.extract_file(str(path), family, 1 << 30)[0]
        else:
            doc = extract.extract(name, data, with_ocr=with_ocr)
    except ExtractionError as exc:
        assert exc.reason and str(exc) == exc.reason
        assert not exc.reason.startswith("could not extract text (unexpected"), exc.reason
        assert exc.reason != "extractor crashed"
        assert family.name in NATIVE or not exc.reason.startswith("extraction took longer"), exc.reason
    else:
        assert isinstance(doc.text, str) and "\r" not in doc.text
        assert doc.extractor == extract.extractor_id(name) + (f"+{ocr.VERSION}" if with_ocr else "")
        assert list(doc.page_starts) == sorted(doc.page_starts)
        assert all(0 <= s <= len(doc.text) for s in doc.page_starts)
    assert time.perf_counter() - t0 < (iso.time_limit + 5 if family.name in NATIVE else 5)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seeds_are_valid(iso, tmp_path, name):
    check(iso, tmp_path, name, SEEDS[name])
    assert extract.extract(name, SEEDS[name]).text.strip()


@pytest.mark.skipif(not ocr.available(), reason="Tesseract is not installed (apt install tesseract-ocr)")
@pytest.mark.parametrize("name", sorted(OCR_SEEDS))
def test_ocr_seeds_are_valid(iso, tmp_path, name):
    check(iso, tmp_path, name, OCR_SEEDS[name])
    assert "Coffee" in extract.extract(name, OCR_SEEDS[name], with_ocr=True).text


def _fuzz(name: str):
    seed = SEEDS.get(name) or OCR_SEEDS[name]
    strategies = [mutated(seed), st.binary(max_size=3000)]
    if seed.startswith(b"PK"):
        strategies.append(mutated_member(seed))

    @pytest.mark.skipif(name in OCR_SEEDS and not ocr.available(), reason="Tesseract is not installed")
    @settings(max_examples=40 if name in OCR_SEEDS else 150, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                     HealthCheck.data_too_large])
    @given(data=st.one_of(*strategies))
    def test(iso, tmp_path, data):
        check(iso, tmp_path, name, data)

    test.__name__ = f"test_fuzz_{name.split('.')[0]}_{name.split('.')[1]}"
    return test


for _name in [*SEEDS, *OCR_SEEDS]:
    globals()[f"test_fuzz_{_name.split('.')[0]}_{_name.split('.')[1]}"] = _fuzz(_name)
