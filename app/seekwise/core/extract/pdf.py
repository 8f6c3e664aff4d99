"""PDF: PDFium's text layer page by page, with where each page starts, so a passage knows its page.

A page with no text but a picture (a scan) is left to OCR: `read` records it in Document.ocr_pages,
and `read_with_ocr` (the indexer's OCR pass) renders it and reads it with Tesseract in its place.

pypdfium2 (Apache-2.0/BSD-3-Clause, PDFium itself BSD-3-Clause) reads a few hundred pages a second
and copes with damaged files as Chrome does. It is native code, so this family runs isolated.
"""

from __future__ import annotations

import logging
import re

from seekwise.core.extract import ocr
from seekwise.core.extract.base import Document, ExtractionError, Family, Unsupported, join_pages

log = logging.getLogger(__name__)

VERSION = "pdf/2"
EXTENSIONS = frozenset({".pdf"})
NO_TEXT = "PDF without any text"
PASSWORD = "password-protected PDF"
DAMAGED = "damaged PDF (cannot be opened)"
# PDFium marks a hyphen it removed at a line end with U+FFFE and returns glyphs without a Unicode
# mapping as C0 controls; neither is text. Tabs and line breaks stay.
_JUNK = {c: None for c in [*range(0, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF, 0xAD]}
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")


def read(data: bytes, name: str) -> Document:
    """Pages joined by a blank line; a page without text still has its start (that of the next)."""
    return _read(data, with_ocr=False)


def read_with_ocr(data: bytes, name: str) -> Document:
    """As `read`, with the text of each scanned page (no text layer, a picture) read by OCR."""
    return _read(data, with_ocr=True)


def _read(data: bytes, with_ocr: bool) -> Document:
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == raw.FPDF_ERR_PASSWORD:
            raise Unsupported(PASSWORD) from exc
        if code == raw.FPDF_ERR_SECURITY:
            raise Unsupported("PDF encrypted with a scheme PDFium cannot read") from exc
        raise ExtractionError(DAMAGED) from exc
    try:
        pages = len(pdf)
        texts = [_page_text(pdf, i) for i in range(pages)]
        if pages and all(t is None for t in texts):
            raise ExtractionError("damaged PDF (no page could be read)")
        scanned = tuple(i for i, t in enumerate(texts) if t == "" and _has_images(pdf, i))
        for i in scanned if with_ocr else ():
            texts[i] = _ocr_page(pdf, i)
        text, starts = join_pages(texts)
        if not text and not scanned:
            raise Unsupported(NO_TEXT)
        return Document(text, "pdf", VERSION, title=_title(pdf), page_starts=starts,
                        ocr_pages=() if with_ocr else scanned)
    finally:
        pdf.close()


def _ocr_page(pdf, index: int) -> str:  # noqa: ANN001
    page = pdf[index]
    try:
        width, height = page.get_size()
        bitmap = page.render(scale=ocr.render_scale(width, height), grayscale=True)
        try:
            picture = ocr.pnm(bitmap.to_numpy())
        finally:
            bitmap.close()
    finally:
        page.close()
    try:
        return ocr.read_picture(picture)
    except ocr.OcrError as exc:
        raise ExtractionError(f"page {index + 1}: {exc}") from exc


def _page_text(pdf, index: int) -> str | None:  # noqa: ANN001 - pypdfium2 is imported lazily
    """One page's text, tidied; None if PDFium cannot load the page."""
    import pypdfium2 as pdfium

    try:
        page = pdf[index]
    except pdfium.PdfiumError:
        log.debug("page %d cannot be loaded", index + 1)
        return None
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
        finally:
            textpage.close()
    except pdfium.PdfiumError:
        return None
    finally:
        page.close()
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_JUNK)
    return _BLANK_LINES.sub("\n\n", text).strip()


def _has_images(pdf, index: int) -> bool:  # noqa: ANN001
    """Does this page show a picture (a scan) rather than nothing at all?"""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    try:
        page = pdf[index]
    except pdfium.PdfiumError:
        return False
    try:
        return any(True for _ in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=2))
    finally:
        page.close()


def _title(pdf) -> str | None:  # noqa: ANN001
    try:
        title = pdf.get_metadata_value("Title")
    except Exception:  # noqa: BLE001 - metadata is a nicety; a broken Info dictionary costs only the title
        return None
    title = " ".join(title.translate(_JUNK).split())
    return title or None


FAMILY = Family(VERSION, read, EXTENSIONS, isolated=True, size_factor=8, read_with_ocr=read_with_ocr)
