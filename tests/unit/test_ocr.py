"""Text in pictures: scanned PDF pages and image files, read by the OS's Tesseract (no stand-in)."""

from __future__ import annotations

import makedocs as mk
import pytest

from seekwise.core import extract
from seekwise.core.extract import ExtractionError, Unsupported, image, ocr

needs_tesseract = pytest.mark.skipif(not ocr.available(),
                                     reason="Tesseract is not installed (apt install tesseract-ocr)")

LEASE = "Tenancy agreement\nThe bond (deposit) is 800 EUR.\nIt is returned within 30 days."
GARDEN = "House rules\nThe garden is shared with the neighbours."


def test_the_keyword_phase_reads_a_scans_text_layer_and_leaves_its_pictures_to_ocr():
    doc = extract.extract("lease.pdf", mk.scanned_pdf([LEASE, None, GARDEN]))
    assert doc.text == "typed page 2" and doc.extractor == "pdf/2"
    assert doc.ocr_pages == (0, 2) and len(doc.page_starts) == 3


def test_a_pdf_with_neither_text_nor_pictures_is_still_refused_as_empty():
    with pytest.raises(Unsupported, match="PDF without any text"):
        extract.extract("blank.pdf", mk.pdf([None, None]))


@needs_tesseract
def test_ocr_puts_each_scanned_page_in_its_place_and_stamps_its_version():
    doc = extract.extract("lease.pdf", mk.scanned_pdf([LEASE, None, GARDEN]), with_ocr=True)
    assert doc.extractor == f"pdf/2+{ocr.VERSION}" and doc.ocr_pages == ()
    assert "The bond (deposit) is 800 EUR." in doc.text and "typed page 2" in doc.text
    assert [doc.page_at(doc.text.index(w)) for w in ("bond", "typed", "garden")] == [1, 2, 3]


@needs_tesseract
def test_a_photo_like_low_resolution_scan_is_still_read():
    doc = extract.extract("fax.pdf", mk.scanned_pdf(["Invoice 2291\nPlease pay within fourteen days."], dpi=120),
                          with_ocr=True)
    assert "Invoice 2291" in doc.text and "fourteen days" in doc.text


def test_a_picture_waits_for_ocr_and_what_is_not_a_picture_says_so():
    picture = mk.png(*mk.text_pixels("Receipt\nCoffee beans 12.50", dpi=150, top=0.25))
    doc = extract.extract("receipt.png", picture)
    assert (doc.text, doc.kind, doc.extractor, doc.ocr_pages) == ("", "image", "image/1", (0,))
    with pytest.raises(ExtractionError, match="not a picture Seekwise can read"):
        extract.extract("notes.png", b"just some text saved as .png")


@needs_tesseract
def test_a_picture_is_read_by_ocr():
    picture = mk.png(*mk.text_pixels("Receipt\nCoffee beans 12.50\nPaid by card", dpi=150, top=0.25))
    doc = extract.extract("receipt.png", picture, with_ocr=True)
    assert doc.text == "Receipt\nCoffee beans 12.50\nPaid by card"
    assert doc.extractor == f"image/1+{ocr.VERSION}" and doc.page_starts == ()


def test_a_pixel_bomb_is_refused_by_its_header_before_anything_decodes_it():
    width, height, grey = mk.text_pixels("tiny", dpi=20, top=0.1)
    bomb = mk.png(width, height, grey, declared=(60_000, 60_000))
    with pytest.raises(ExtractionError, match="picture too large to read"):
        extract.extract("bomb.png", bomb, with_ocr=True)


@needs_tesseract
def test_a_damaged_picture_is_an_error_with_a_reason():
    picture = mk.png(*mk.text_pixels("Receipt", dpi=100, top=0.2))
    with pytest.raises(ExtractionError, match="Tesseract could not read the picture"):
        extract.extract("cut.png", picture[:60], with_ocr=True)


def test_a_huge_page_is_rendered_smaller_not_at_full_resolution():
    assert ocr.render_scale(612, 792) == pytest.approx(300 / 72)           # Letter at 300 dpi
    scale = ocr.render_scale(14_400, 14_400)                             # a 200-inch poster
    assert 14_400 * scale * 14_400 * scale <= ocr.MAX_PAGE_PIXELS * 1.0001


def test_without_tesseract_the_reason_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))   # an OS without the program
    ocr.languages.cache_clear()
    try:
        assert ocr.unavailable() == ocr.NOT_INSTALLED and "apt install tesseract-ocr" in ocr.NOT_INSTALLED
        with pytest.raises(ExtractionError, match="OCR needs Tesseract"):
            image.read_with_ocr(mk.png(*mk.text_pixels("x", dpi=20, top=0.1)), "x.png")
    finally:
        ocr.languages.cache_clear()


def test_the_settings_switch_wins_over_an_installed_tesseract():
    assert ocr.unavailable({"image"}) == ocr.SWITCHED_OFF


def test_tesseract_output_is_tidied_into_lines_and_pages():
    assert ocr.tidy("a  \n\n\n\nb\n\f c\n\f\fd\f") == "a\n\nb\fc\f\fd"
