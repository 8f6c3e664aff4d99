"""A file whose new version cannot be read keeps its last good version searchable, marked stale; a big
table that compresses well is a document, not a zip bomb."""

from __future__ import annotations

import os
from pathlib import Path

import makedocs as mk

from seekwise.cli import format_status
from seekwise.core.library import Library

GOOD = "The tenancy deposit is returned within fourteen days of the keys being handed back."
NEWER = "Quarterly minutes: the orchard committee voted to plant twelve new pear trees."


def paths(hits) -> list[str]:
    return [Path(h.path).name for h in hits]


def bump(path: Path, data: bytes) -> None:
    """New content with an mtime the size+mtime diff cannot miss, even within one clock tick."""
    st = path.stat()
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def test_a_file_that_stops_reading_keeps_its_last_good_version_until_it_reads_again(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "other.txt").write_text("Notes about the garden shed and its leaking roof.")
    lease = docs / "lease.docx"
    lease.write_bytes(mk.docx(mk.w_p(GOOD)))
    good_bytes = lease.read_bytes()
    with Library(tmp_path / "lib", threads=2) as lib:
        lib.index([docs])
        assert paths(lib.search("tenancy deposit", mode="lexical")) == ["lease.docx"]
        chunks_before = lib.store.get_file(str(lease)).chunk_ids

        bump(lease, os.urandom(len(good_bytes) + 100))  # overwritten with garbage under the same name
        report = lib.index()
        assert report.files_failed == 1
        rec = lib.store.get_file(str(lease))
        assert rec.stale and rec.status == "ok" and rec.chunk_ids == chunks_before
        reason = ("could not re-read the new version: damaged or truncated archive; "
                  "showing the last good version")
        assert rec.reason == reason and report.problems == [(str(lease), reason)]
        assert paths(lib.search("tenancy deposit", mode="lexical")) == ["lease.docx"]
        assert paths(lib.search("when do I get my bond back", mode="dense"))[0] == "lease.docx"
        assert paths(lib.search("tenancy deposit", filters=_docx_only())) == ["lease.docx"]
        status = lib.status()
        assert (str(lease), "stale", reason) in status.problems
        assert f"[stale] {lease}: could not re-read the new version" in format_status(status)

        again = lib.index()  # the broken version is not read again until it changes
        assert again.files_failed == 0 and again.files_unchanged == 2 and lib.store.get_file(str(lease)).stale

        bump(lease, mk.zip_bomb_docx(1))  # a bomb in its place: refused, and the good version still stands
        assert lib.index().files_failed == 1
        rec = lib.store.get_file(str(lease))
        assert rec.stale and rec.chunk_ids == chunks_before and "(a zip bomb?)" in rec.reason
        assert paths(lib.search("tenancy deposit", mode="lexical")) == ["lease.docx"]

        bump(lease, mk.docx(mk.w_p(NEWER)))  # readable again: indexed as any changed file
        fixed = lib.index()
        assert fixed.files_indexed == 1 and fixed.files_failed == 0
        rec = lib.store.get_file(str(lease))
        assert not rec.stale and rec.reason == "" and lib.status().problems == []
        assert paths(lib.search("orchard pear trees", mode="lexical")) == ["lease.docx"]
        assert lib.search("tenancy deposit", mode="lexical") == []


def test_restoring_the_exact_good_bytes_clears_stale_and_a_deleted_stale_file_drops_out(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    report_pdf = docs / "report.pdf"
    report_pdf.write_bytes(mk.pdf([GOOD]))
    good_bytes = report_pdf.read_bytes()
    with Library(tmp_path / "lib", threads=2) as lib:
        lib.index([docs])
        bump(report_pdf, good_bytes[:len(good_bytes) // 3] + b"\0" * (len(good_bytes) - len(good_bytes) // 3))
        assert lib.index().files_failed == 1 and lib.store.get_file(str(report_pdf)).stale
        assert lib.status().problems[0][1] == "stale"

        bump(report_pdf, good_bytes)  # same bytes as the version we hold: only the record changes
        back = lib.index()
        assert back.files_touched == 1 and back.files_failed == 0
        assert not lib.store.get_file(str(report_pdf)).stale and lib.status().problems == []
        assert paths(lib.search("tenancy deposit", mode="lexical")) == ["report.pdf"]

        bump(report_pdf, b"%PDF-1.7\ntruncated")
        lib.index()
        assert lib.store.get_file(str(report_pdf)).stale
        report_pdf.unlink()
        gone = lib.index()
        assert gone.files_removed == 1 and lib.store.get_file(str(report_pdf)) is None
        assert lib.search("tenancy deposit", mode="lexical") == [] and lib.status().problems == []


def test_a_file_never_read_well_is_still_an_error(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "broken.docx").write_bytes(os.urandom(3000))
    with Library(tmp_path / "lib", threads=2) as lib:
        lib.index([docs])
        rec = lib.store.get_file(str(docs / "broken.docx"))
        assert rec.status == "error" and not rec.stale and rec.reason == "damaged or truncated archive"
        assert lib.status().problems == [(str(docs / "broken.docx"), "error", "damaged or truncated archive")]


def test_a_small_docx_with_a_40000_row_table_is_indexed_and_its_last_rows_found(tmp_path):
    """~70 KB inflating over 200-fold was refused as a zip bomb; it is a spreadsheet pasted into Word."""
    docs = tmp_path / "docs"
    docs.mkdir()
    table = docs / "inventory.docx"
    table.write_bytes(mk.table_docx(40_000, 39_500, ["zanzibar", "quokka", "ok", "no"]))
    assert table.stat().st_size < 100_000
    with Library(tmp_path / "lib", threads=2) as lib:
        report = lib.index([docs])
        assert report.files_failed == 0 and report.files_indexed == 1 and lib.status().problems == []
        hits = lib.search("zanzibar", mode="lexical")
        assert paths(hits) == ["inventory.docx"] and "zanzibar | quokka" in hits[0].text
        assert hits[0].line > 39_000


def _docx_only():
    from seekwise.core.search import SearchFilters

    return SearchFilters(types=("docx",))
