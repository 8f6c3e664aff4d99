"""Slide decks (PPTX, ODP): title, text, tables and notes per slide, each slide a page; clear reasons."""

from __future__ import annotations

import makedocs as mk

from seekwise.core import extract
from seekwise.core.extract import ExtractionError, Unsupported
from test_extract_formats import reason

SLIDES = [("Quarterly results", ["Revenue grew in spring", "Costs fell"], "Mention the boiler budget"),
          ("", [], ""),
          ("Next steps", ["Hire two engineers"], "")]


def test_pptx_slides_in_show_order_with_tables_and_notes_but_no_slide_numbers():
    doc = extract.extract("deck.pptx", mk.pptx(SLIDES, table=[["Region", "Sales"], ["North", "120"]], order=[2, 0, 1]))
    assert doc.text == ("# Next steps\n\nHire two engineers\n\n"
                        "# Quarterly results\n\nRevenue grew in spring\n\nCosts fell\n\nRegion | Sales\nNorth | 120\n\n"
                        "Notes: Mention the boiler budget")
    assert doc.kind == "slides" and doc.extractor == "slides/1" and doc.title == "Next steps"
    assert len(doc.page_starts) == 3 and "7" not in doc.text  # the notes page's slide-number placeholder
    assert [doc.page_at(doc.text.index(w)) for w in ("Hire", "Revenue", "boiler")] == [1, 2, 2]


def test_odp_slides_with_notes_and_a_blank_slide_keeping_the_numbering():
    doc = extract.extract("deck.odp", mk.odp(SLIDES))
    assert doc.text == ("# Quarterly results\n\n- Revenue grew in spring\n\n- Costs fell\n\n"
                        "Notes: Mention the boiler budget\n\n# Next steps\n\n- Hire two engineers")
    assert len(doc.page_starts) == 3
    assert doc.page_at(doc.text.index("Hire")) == 3 and doc.page_at(doc.text.index("boiler")) == 1


def test_slide_files_in_number_order_when_the_presentation_lists_none():
    members = mk._members_of(mk.pptx([("One", [], ""), ("Two", [], "")]))
    members["ppt/_rels/presentation.xml.rels"] = members["ppt/_rels/presentation.xml.rels"].replace(b"/slide\"", b"/x\"")
    assert extract.extract("d.pptx", mk.zip_bytes(members)).text == "# One\n\n# Two"



def test_damaged_empty_legacy_and_hostile_decks_give_reasons():
    good = mk.pptx(SLIDES)
    assert reason("t.pptx", good[: len(good) // 2]) == (ExtractionError, "damaged or truncated archive")
    assert reason("w.pptx", mk.docx(mk.w_p("x"))) == (
        ExtractionError, "not a slide deck (no ppt/presentation.xml or content.xml)")
    assert reason("o.ppt.pptx", mk.ole({"PowerPoint Document": b"\0" * 100})) == (
        Unsupported, "password-protected or old-format (.ppt) slide deck")
    assert reason("e.odp", mk.odp([("", [], "")])) == (Unsupported, "slide deck without any text")
    members = mk._members_of(good)
    members["ppt/slides/slide1.xml"] = mk.BILLION_LAUGHS.encode() + members["ppt/slides/slide1.xml"].split(b"?>", 1)[1]
    assert reason("l.pptx", mk.zip_bytes(members))[1].startswith("XML with a DTD")
    members = mk._members_of(good)
    members["ppt/slides/slide1.xml"] = b"<p:sld><unclosed>"
    assert reason("b.pptx", mk.zip_bytes(members)) == (ExtractionError, "damaged XML in ppt/slides/slide1.xml")
