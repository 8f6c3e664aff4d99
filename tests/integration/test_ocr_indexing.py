"""Scans and pictures through the whole product: searchable by their text layer first, then by what
OCR reads in them (by keyword and by meaning, with their page), switchable off, losing nothing."""

from __future__ import annotations

import os

import makedocs as mk
import pytest

from seekwise.core.extract import ocr
from seekwise.core.ignore import IgnoreRules
from seekwise.core.library import Library

pytestmark = pytest.mark.skipif(not ocr.available(), reason="Tesseract is not installed (apt install tesseract-ocr)")

LEASE = ("Tenancy agreement\nThe bond (deposit) is 800 EUR.\nIt is returned within 30 days of the end.\n"
         "The tenant pays the rent on the first day of each month.\nRent is paid by bank transfer.\n"
         "The landlord repairs the heating and the roof.\nThe tenant keeps the flat clean and aired.\n"
         "Smoking is not allowed inside the building.\nPets need the written consent of the landlord.\n"
         "Either side may end the lease with three months of notice in writing.")
GARDEN = ("House rules\nThe garden is shared with the neighbours.\nBins go out on Monday evening.\n"
          "Quiet hours are from ten at night until seven in the morning.\nBicycles stay in the cellar.\n"
          "The laundry room may be used on weekdays.\nThe stairs are cleaned in turn, a week each.\n"
          "Parcels for neighbours are left at the door of flat two.\nThe front door stays locked at night.")


def _folder(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lease-scan.pdf").write_bytes(mk.scanned_pdf([LEASE, GARDEN, None]))
    (docs / "receipt.png").write_bytes(mk.png(*mk.text_pixels("Receipt\nCoffee beans 12.50\nPaid by card",
                                                               dpi=150, top=0.25)))
    (docs / "bread.txt").write_text("Sourdough bread needs a starter fed every day and a long rise.\n")
    return docs


def _name(hit) -> str:
    return os.path.basename(hit.path)


def test_text_in_scans_and_pictures_is_found_by_meaning_and_keyword_with_its_page(tmp_path):
    docs = _folder(tmp_path)
    phases = []
    with Library(tmp_path / "lib", threads=2) as lib:
        report = lib.index([docs], progress=lambda p: phases.append(p.phase))
        assert report.files_read_by_ocr == 2 and report.files_failed == 0
        assert phases.index("keywords") < phases.index("pictures")   # cheap text first, OCR after

        hit = lib.search("how do I get my deposit back when I move out")[0]
        assert _name(hit) == "lease-scan.pdf" and hit.best.page == 1
        hit = lib.search("garden neighbours", mode="lexical")[0]
        assert _name(hit) == "lease-scan.pdf" and hit.best.page == 2
        assert _name(lib.search("what did I spend on coffee")[0]) == "receipt.png"

        scan = lib.store.get_file(str(docs / "lease-scan.pdf"))
        assert (scan.status, scan.extractor, scan.awaits_ocr) == ("ok", f"pdf/2+{ocr.VERSION}", 0)
        assert lib.status().awaiting_ocr == 0 and lib.store.get_meta("ocr_pending") is False

        again = lib.index()
        assert (again.files_unchanged, again.files_indexed, again.files_read_by_ocr) == (3, 0, 0)


def test_ocr_switched_off_keeps_the_text_layer_and_says_why_then_reads_the_pictures_when_on(tmp_path):
    docs = _folder(tmp_path)
    off = IgnoreRules(skip_families=["image"])
    with Library(tmp_path / "lib", threads=2, ignore=off) as lib:
        report = lib.index([docs])
        assert report.files_read_by_ocr == 0
        assert lib.store.get_file(str(docs / "receipt.png")) is None   # the file type is off: left out
        scan = lib.store.get_file(str(docs / "lease-scan.pdf"))
        assert (scan.status, scan.awaits_ocr) == ("ok", 2)             # its typed page is searchable
        assert _name(lib.search("typed page", mode="lexical")[0]) == "lease-scan.pdf"
        status = lib.status()
        assert (status.awaiting_ocr, status.ocr_unavailable) == (1, ocr.SWITCHED_OFF)

    with Library(tmp_path / "lib", threads=2) as lib:   # switched on again: nothing on disk changed
        report = lib.index()
        assert report.files_read_by_ocr == 2 and report.files_indexed == 1   # the scan, and the picture now read
        assert _name(lib.search("returning the bond at the end of the tenancy")[0]) == "lease-scan.pdf"
        assert lib.status().awaiting_ocr == 0


def test_a_scan_replaced_while_its_pictures_wait_is_read_again_next_time_not_lost(tmp_path):
    docs = _folder(tmp_path)
    scan = docs / "lease-scan.pdf"

    def replace_the_scan(progress):
        if progress.phase == "pictures" and b"Invoice" not in scan.read_bytes():
            scan.write_bytes(mk.scanned_pdf(["Invoice 2291\nPlease pay within fourteen days."]))

    with Library(tmp_path / "lib", threads=2) as lib:
        report = lib.index([docs], progress=replace_the_scan)
        assert report.files_read_by_ocr == 1                   # the picture; the scan changed under it
        assert lib.store.get_file(str(scan)).awaits_ocr == 2   # still waiting: the bytes it knows are old
        assert lib.store.get_meta("ocr_pending") is True

        report = lib.index()
        assert report.files_indexed == 1 and report.files_read_by_ocr == 1
        assert _name(lib.search("invoice payment deadline")[0]) == "lease-scan.pdf"
        assert lib.store.get_file(str(scan)).awaits_ocr == 0
