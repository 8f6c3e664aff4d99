"""Spreadsheets: a section per sheet, a line per non-empty row, bounded by a cell count; clear reasons."""

from __future__ import annotations

import makedocs as mk
import pytest

from seekwise.core import extract
from seekwise.core.extract import ExtractionError, Unsupported, sheets
from test_extract_formats import reason

BOOK = {"Budget 2024": [["category", "monthly amount"], ["electricity bill", 85], [None, None], ["groceries", 320.5]],
        "Empty": [], "Contacts": [["Ana Lima", None, "Lisbon"]]}


@pytest.mark.parametrize("name, data", [("b.xlsx", mk.xlsx(BOOK)), ("b.ods", mk.ods(BOOK))])
def test_each_sheet_is_a_section_and_empty_rows_and_sheets_are_left_out(name, data):
    doc = extract.extract(name, data)
    assert doc.text == ("## Budget 2024\ncategory | monthly amount\nelectricity bill | 85\ngroceries | 320.5\n\n"
                        "## Contacts\nAna Lima | Lisbon")
    assert doc.kind == "sheet" and doc.extractor == "sheet/1" and doc.page_starts == ()
    assert extract.family_for(name).isolated


def test_reading_stops_at_the_cell_budget_and_keeps_what_it_read(monkeypatch):
    monkeypatch.setattr(sheets, "MAX_CELLS", 10)
    doc = extract.extract("big.xlsx", mk.xlsx({"A": [[f"r{i}", i] for i in range(50)], "B": [["later"]]}))
    assert doc.text.splitlines() == ["## A", "r0 | 0", "r1 | 1", "r2 | 2", "r3 | 3", "r4 | 4"]



def test_damaged_encrypted_and_mislabelled_workbooks_give_reasons():
    good = mk.xlsx(BOOK)
    assert reason("t.xlsx", good[: len(good) // 2]) == (ExtractionError, "damaged or truncated archive")
    assert reason("n.xlsx", b"name,city\nAna,Lisbon\n") == (
        ExtractionError, "not a spreadsheet (neither a zip nor an OLE file)")
    no_workbook = mk.zip_bytes({"[Content_Types].xml": "<Types/>", "hello.txt": "hi"})
    assert reason("z.xlsx", no_workbook)[1].startswith("damaged spreadsheet")
    encrypted = mk.ole({"EncryptionInfo": b"\4\0\4\0" + b"\0" * 200, "EncryptedPackage": b"\0" * 5000})
    assert reason("e.xlsx", encrypted) == (Unsupported, "password-protected spreadsheet")
    # an OLE file whose Workbook stream holds no sheet: calamine finds no sheet, so nothing to index
    assert reason("x.xls", mk.ole({"Workbook": b"\0" * 5000})) == (Unsupported, "spreadsheet without any text")


def test_a_zip_bomb_sheet_is_stopped_by_the_archive_bound():
    bomb = mk.zip_bomb_docx(1)  # 1 GiB of blank XML behind a valid zip directory
    assert reason("bomb.xlsx", bomb) == (ExtractionError, "compressed archive expands beyond 128 MB (a zip bomb?)")


def test_dates_booleans_and_whole_numbers_read_as_people_write_them():
    assert sheets._cell(3.0) == "3" and sheets._cell(True) == "TRUE" and sheets._cell("  a \n b ") == "a b"
    import datetime
    assert sheets._cell(datetime.datetime(2024, 3, 1)) == "2024-03-01"
