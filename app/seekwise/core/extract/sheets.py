"""Spreadsheets (XLSX, XLSM, XLSB, XLS, ODS): each sheet as '## name', then a line per non-empty row.

python-calamine (MIT; the calamine Rust crate, MIT) reads all four formats natively and fast. It is
native code reading hostile archives, so this family runs isolated; zip-based workbooks are first
streamed through SafeZip, so a zip bomb gets the same clear reason as a bomb in a DOCX. Sheets are
not pages: no viewer opens a workbook "at page 2", so no page starts are kept.
"""

from __future__ import annotations

import datetime
import io
import logging

from seekwise.core.extract.base import Document, ExtractionError, Family, Unsupported
from seekwise.core.extract.ole import SIGNATURE
from seekwise.core.extract.zipsafe import SafeZip

log = logging.getLogger(__name__)

VERSION = "sheet/1"
EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"})
MAX_CELLS = 200_000   # past this, the rest of the workbook is left out (and logged)
MAX_CELL_CHARS = 10_000
ENCRYPTED = "password-protected spreadsheet"
DAMAGED = "damaged spreadsheet (cannot be opened)"


def read(data: bytes, name: str) -> Document:
    import python_calamine as calamine

    _check_container(data)
    try:
        book = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except calamine.PasswordError as exc:
        raise Unsupported(ENCRYPTED) from exc
    except (calamine.CalamineError, ValueError, TypeError, OSError) as exc:
        if "password" in str(exc).lower() or "encrypt" in str(exc).lower():
            raise Unsupported(ENCRYPTED) from exc
        raise ExtractionError(DAMAGED) from exc
    blocks: list[str] = []
    cells = 0
    try:
        for sheet_name in book.sheet_names:
            if cells >= MAX_CELLS:
                log.info("%s: stopped after %d cells; later sheets left out", name, MAX_CELLS)
                break
            rows, cells = _sheet_rows(book, sheet_name, cells, name)
            if rows:
                blocks.append(f"## {' '.join(str(sheet_name).split()) or 'Sheet'}\n" + "\n".join(rows))
    finally:
        book.close()
    if not blocks:
        raise Unsupported("spreadsheet without any text")
    return Document("\n\n".join(blocks), "sheet", VERSION)


def _sheet_rows(book, sheet_name: str, cells: int, name: str) -> tuple[list[str], int]:  # noqa: ANN001
    """The sheet's non-empty rows, cells joined by ' | ', until the workbook's cell budget is spent."""
    import python_calamine as calamine

    rows: list[str] = []
    try:
        sheet = book.get_sheet_by_name(sheet_name)
        for row in sheet.iter_rows():
            values = [_cell(v) for v in row]
            cells += len(row)
            line = " | ".join(v for v in values if v)
            if line:
                rows.append(line)
            if cells >= MAX_CELLS:
                log.info("%s: stopped after %d cells in a sheet", name, MAX_CELLS)  # its name is the file's text
                break
    except calamine.PasswordError as exc:
        raise Unsupported(ENCRYPTED) from exc
    except (calamine.CalamineError, ValueError, TypeError, OSError) as exc:
        if not rows:
            raise ExtractionError(f"damaged spreadsheet (sheet {sheet_name!r} cannot be read)") from exc
        log.info("%s: a sheet is damaged; rows read so far kept", name)
    return rows, cells


def _cell(value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime.datetime) and not (value.hour or value.minute or value.second):
        return value.date().isoformat()
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta)):
        return str(value)
    text = " ".join(str(value).split())
    return text[:MAX_CELL_CHARS]


def _check_container(data: bytes) -> None:
    """Refuse encrypted OOXML (an OLE file holding EncryptionInfo) and zip bombs with clear reasons."""
    if data.startswith(SIGNATURE):
        if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00i\x00o\x00n\x00I\x00n\x00f\x00o" in data[:1 << 20]:
            raise Unsupported(ENCRYPTED)
        return  # .xls: BIFF in an OLE file, read by calamine
    if data.startswith(b"PK"):
        archive = SafeZip(data)
        for member in archive.names():
            if member.endswith((".xml", ".bin")):
                for _ in archive.stream(member):  # counts the inflated bytes; raises past the bounds
                    pass
        return
    raise ExtractionError("not a spreadsheet (neither a zip nor an OLE file)")


FAMILY = Family(VERSION, read, EXTENSIONS, isolated=True, size_factor=4)
