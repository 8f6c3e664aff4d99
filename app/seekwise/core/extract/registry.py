"""Which family reads which file, by name alone; a new format is one module and one line here."""

from __future__ import annotations

import logging
import os
from dataclasses import replace

from seekwise.core.extract import (
    code, doc, docx, epub, html, image, mail, markdown, markup, mbox, ocr, odt, outlook, pdf, plain, rtf, sheets,
    slides, structured,
)
from seekwise.core.extract.base import Document, ExtractionError, Family, Unsupported

log = logging.getLogger(__name__)

# A family that needs a heavy library imports it inside its read(), so this list stays cheap.
FAMILIES: tuple[Family, ...] = (
    plain.FAMILY, markdown.FAMILY, code.FAMILY, html.FAMILY, pdf.FAMILY, docx.FAMILY, odt.FAMILY, epub.FAMILY,
    rtf.FAMILY, mail.FAMILY, structured.CSV_FAMILY, structured.JSON_FAMILY, markup.RST_FAMILY, markup.ORG_FAMILY,
    sheets.FAMILY, slides.FAMILY, outlook.FAMILY, mbox.FAMILY, doc.FAMILY, image.FAMILY,
)
NO_EXTENSION = plain.FAMILY  # README, LICENSE-MIT, scripts: tried, and refused if the bytes are binary


def _index(families: tuple[Family, ...]) -> tuple[dict[str, Family], dict[str, Family]]:
    by_extension: dict[str, Family] = {}
    by_name: dict[str, Family] = {}
    for family in families:
        for table, keys in ((by_extension, family.extensions), (by_name, family.names)):
            for key in keys:
                if key != key.lower() or key in table:
                    raise ValueError(f"{family.id}: {key!r} is not lower-case or already taken")
                table[key] = family
    return by_extension, by_name


_BY_EXTENSION, _BY_NAME = _index(FAMILIES)
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(_BY_EXTENSION)


def _name_and_extension(path: str | os.PathLike[str]) -> tuple[str, str]:
    name = os.path.basename(os.fsdecode(path)).lower()
    extension = os.path.splitext(name)[1]
    return name, "" if extension == "." else extension


def family_for(path: str | os.PathLike[str]) -> Family | None:
    """The family that reads this file, by exact name, then extension; None if none does."""
    name, extension = _name_and_extension(path)
    if not name:
        return None
    found = _BY_NAME.get(name) or _BY_EXTENSION.get(extension)
    if found is None and not extension:
        return NO_EXTENSION
    return found


def is_supported(path: str | os.PathLike[str]) -> bool:
    """Cheap, by name only: would extract() try this file?"""
    return family_for(path) is not None


def extractor_id(path: str | os.PathLike[str]) -> str:
    """The id/version extract() will stamp on this file's Document ('' if unsupported)."""
    family = family_for(path)
    return family.id if family else ""


def size_limit(family: Family, max_file_bytes: int) -> int:
    """The largest file of this family we read, given the library's limit for text files."""
    return max_file_bytes * family.size_factor


def extract(path: str | os.PathLike[str], data: bytes, family: Family | None = None,
            with_ocr: bool = False) -> Document:
    """Bytes the caller read to text, in this process. The path only names the file: it is never opened.
    `family` overrides the choice by name (the isolation worker is handed the family the caller chose).
    `with_ocr`: text in pictures too (slow; the OCR pass), stamped "<family id>+<OCR version>".

    Raises Unsupported (skip it) or ExtractionError (a reason for the user), never anything else.
    """
    family = family or family_for(path)
    name, extension = _name_and_extension(path)
    if family is None:
        raise Unsupported(f"not a supported file type ({extension or 'no name'})")
    try:
        if with_ocr and family.read_with_ocr is not None:
            doc = family.read_with_ocr(data, name)
            return replace(doc, extractor=f"{doc.extractor}+{ocr.VERSION}")
        return family.read(data, name)
    except ExtractionError:
        raise
    except MemoryError:
        raise
    except RecursionError as exc:
        raise ExtractionError("file nested too deeply to read") from exc
    except Exception as exc:  # a bug in a reader must cost one file, not the indexing run
        log.exception("%s failed on %s", family.id, os.fsdecode(path))
        raise ExtractionError(f"could not extract text (unexpected {type(exc).__name__})") from exc
