"""Hostile and broken files cost one file each: a reason, in bounded time and memory, and the next file reads.

Files are read the way the indexer reads them: risky families in the isolation worker (which opens
the file itself), the rest in this process after a size check.
"""

from __future__ import annotations

import os
import resource
import time

import hostile_readers
import makedocs as mk
import pytest

from seekwise.core import extract
from seekwise.core.extract import ExtractionError, Unsupported, isolate, reading

LIMIT = 32 << 20


@pytest.fixture(scope="module")
def iso():
    isolator = isolate.Isolator(time_limit=2, memory_mb=1024)
    yield isolator
    isolator.close()


def read_as_indexer(iso: isolate.Isolator, path) -> extract.Document:
    """What Indexer._process does between the size check and the chunker."""
    path = str(path)
    family = extract.family_for(path)
    limit = extract.size_limit(family, LIMIT)
    if os.stat(path).st_size > limit:
        raise reading.too_large(limit)
    if family.isolated:
        return iso.extract_file(path, family, limit)[0]
    return extract.extract(path, reading.read_file(path, limit), family)


def outcome(iso, path) -> tuple[str, str]:
    try:
        read_as_indexer(iso, path)
    except Unsupported as exc:
        return "skipped", exc.reason
    except ExtractionError as exc:
        return "error", exc.reason
    return "ok", ""


def _truncated_docx() -> bytes:
    data = mk.docx(mk.w_p("some text " * 200))
    return data[: len(data) // 2]


def _deep_docx(depth: int) -> bytes:
    cell = "<w:tbl><w:tr><w:tc>"
    return mk.docx(cell * depth + mk.w_p("deep inside") + "</w:tc></w:tr></w:tbl>" * depth)


HOSTILE = {
    "corrupt.pdf": (b"%PDF-1.7\n" + os.urandom(4000), ("error", "damaged PDF (cannot be opened)")),
    "truncated.pdf": (mk.pdf(["text"])[:200], ("error", "damaged PDF (cannot be opened)")),
    "truncated.docx": (_truncated_docx(), ("error", "damaged or truncated archive")),
    "laughs.docx": (mk.docx(mk.w_p("&lol9;"), prolog=mk.BILLION_LAUGHS),
                    ("error", "XML with a DTD or entity declarations (refused: a possible entity-expansion attack)")),
    "notazip.epub": (b"PK\x03\x04" + os.urandom(3000), ("error", "damaged or truncated archive")),
    "bad.odt": (mk.zip_bytes({"content.xml": "<office:document-content><unclosed>"}),
                ("error", "damaged XML in content.xml")),
    "binary.txt": (bytes(range(256)) * 64, ("skipped", "binary file")),
    "binary.rtf": (os.urandom(5000), ("error", "not an RTF file (no {\\rtf header)")),
    "truncated.xlsx": (mk.xlsx({"S": [["a"]]})[:300], ("error", "damaged or truncated archive")),
    "random.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(3000),
                   ("error", "damaged spreadsheet (cannot be opened)")),
    "bad.ods": (mk.zip_bytes({"content.xml": "<office:document-content><unclosed>"}),
                ("error", "damaged spreadsheet (cannot be opened)")),
    "truncated.pptx": (mk.pptx([("T", ["b"], "")])[:400], ("error", "damaged or truncated archive")),
    "notazip.odp": (b"PK\x03\x04" + os.urandom(3000), ("error", "damaged or truncated archive")),
    "garbage.msg": (os.urandom(4000), ("error", "not an Outlook message (not an OLE file)")),
    "truncated.msg": (mk.msg("S", "B")[:700], ("error", "damaged Outlook message")),
    "binary.mbox": (os.urandom(5000), ("error", "not an mbox mailbox (no 'From ' line at the start)")),
    "garbage.doc": (os.urandom(4000), ("error", "not a Word 97-2003 document (not an OLE file)")),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_broken_files_give_a_clear_reason(iso, tmp_path, name):
    data, expected = HOSTILE[name]
    (tmp_path / name).write_bytes(data)
    t0 = time.perf_counter()
    assert outcome(iso, tmp_path / name) == expected
    assert time.perf_counter() - t0 < 2


BOMB = "compressed archive expands beyond 128 MB (a zip bomb?)"


@pytest.mark.parametrize("name", ["bomb.docx", "bomb.xlsx"])
def test_zip_bomb_stops_early_in_little_time_and_memory(iso, tmp_path, name):
    bomb = tmp_path / name
    bomb.write_bytes(mk.zip_bomb_docx(1))  # 1 GiB of XML in about 1 MB
    assert bomb.stat().st_size < 2 << 20
    t0 = time.perf_counter()
    assert outcome(iso, bomb) == ("error", BOMB)
    assert time.perf_counter() - t0 < 3
    assert outcome(iso, tmp_path / name)[0] == "error"  # and again: the worker survived it


@pytest.mark.parametrize("declared", [4_000_000_000, 0, 1000])
def test_a_zip_bomb_that_lies_about_its_size_is_still_stopped(iso, tmp_path, declared):
    """Headers claiming 4 GB, nothing or 1 KB change nothing: the budget counts what comes out.
    Inflating stops at the cap (or at the claimed size, where the checksum then fails)."""
    bomb = tmp_path / "liar.docx"
    bomb.write_bytes(mk.zip_bomb_docx(1, declared_size=declared))
    t0 = time.perf_counter()
    found = outcome(iso, bomb)
    assert found == ("error", BOMB) if declared > 1 << 30 else found[0] == "error"
    assert time.perf_counter() - t0 < 3
    assert read_as_indexer(iso, _write(tmp_path / "after.docx", mk.docx(mk.w_p("still fine")))).text == "still fine"


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_a_small_docx_with_a_huge_table_is_not_a_bomb(tmp_path):
    """A ~70 KB DOCX of 40,000 table rows inflates 16 MB (over 200-fold): legitimate, so it reads in
    full, its last rows included (in the worker, with the indexer's default time limit)."""
    path = _write(tmp_path / "table.docx", mk.table_docx(40_000, 39_000, ["zanzibar", "quokka", "ok", "no"]))
    assert path.stat().st_size < 100_000
    worker = isolate.Isolator()
    try:
        doc = read_as_indexer(worker, path)
    finally:
        worker.close()
    assert "zanzibar | quokka" in doc.text and doc.text.count("\n") >= 39_999


def test_deep_nesting_is_read_in_linear_time(iso, tmp_path):
    (tmp_path / "deep.html").write_bytes(b"<div>" * 100_000 + b"deep text" + b"</div>" * 100_000)
    (tmp_path / "deep.docx").write_bytes(_deep_docx(20_000))
    (tmp_path / "deep.epub").write_bytes(mk.epub([("a.xhtml", "<div>" * 100_000 + "bottom" + "</div>" * 100_000)]))
    (tmp_path / "deep.json").write_bytes(b"[" * 200_000 + b"]" * 200_000)
    (tmp_path / "deep.rtf").write_bytes(b"{\\rtf1 " + b"{" * 300_000 + b"x" + b"}" * 300_000 + b"}")
    t0 = time.perf_counter()
    assert read_as_indexer(iso, tmp_path / "deep.html").text == "deep text"
    assert read_as_indexer(iso, tmp_path / "deep.docx").text == "deep inside"
    assert read_as_indexer(iso, tmp_path / "deep.epub").text == "bottom"
    assert read_as_indexer(iso, tmp_path / "deep.json").text.startswith("[[[")
    assert read_as_indexer(iso, tmp_path / "deep.rtf").text == "x"
    assert time.perf_counter() - t0 < 10


def test_a_2_gb_file_is_refused_by_its_size_without_reading_it(iso, tmp_path):
    for name in ("huge.txt", "huge.pdf"):
        with open(tmp_path / name, "wb") as fh:
            fh.truncate(2 << 30)  # sparse: no disk used
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    assert outcome(iso, tmp_path / "huge.txt") == ("skipped", "larger than the 32 MB limit")
    assert outcome(iso, tmp_path / "huge.pdf") == ("skipped", "larger than the 256 MB limit")
    with pytest.raises(Unsupported):  # and the reader itself checks the open file, not just the scan
        reading.read_file(str(tmp_path / "huge.txt"), LIMIT)
    with pytest.raises(Unsupported):
        iso.extract_file(str(tmp_path / "huge.pdf"), extract.family_for("x.pdf"), LIMIT)
    assert time.perf_counter() - t0 < 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 << 10  # KiB: nothing was read


def test_a_small_file_under_a_large_limit_costs_only_its_size(iso, tmp_path):
    (tmp_path / "small.pdf").write_bytes(mk.pdf(["small"]))
    read_as_indexer(iso, tmp_path / "small.pdf")
    spawns = iso.spawns
    doc, _, size = iso.extract_file(str(tmp_path / "small.pdf"), extract.family_for("x.pdf"), 8 << 30)
    assert doc.text == "small" and size < 2000 and iso.spawns == spawns  # no 8 GB buffer under a 1 GB cap


def test_unreadable_missing_and_odd_files_have_reasons(iso, tmp_path):
    with pytest.raises(ExtractionError, match="^disappeared while being read$"):
        iso.extract_file(str(tmp_path / "gone.pdf"), extract.family_for("x.pdf"), LIMIT)
    with pytest.raises(ExtractionError, match="^disappeared while being read$"):
        reading.read_file(str(tmp_path / "gone.txt"), LIMIT)
    os.mkfifo(tmp_path / "pipe.txt")  # a FIFO swapped in for a file must not block the reader
    with pytest.raises(ExtractionError, match="^not a regular file$"):
        reading.read_file(str(tmp_path / "pipe.txt"), LIMIT)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file, and a worker started as 'nobody' cannot run "
                    "this Python (under /root); tests/integration/test_bad_input.py checks the in-process path as root")
def test_an_unreadable_file_read_by_the_worker_is_permission_denied(iso, tmp_path):
    (tmp_path / "secret.pdf").write_bytes(mk.pdf(["secret"]))
    (tmp_path / "secret.pdf").chmod(0)
    assert outcome(iso, tmp_path / "secret.pdf") == ("error", "permission denied")


# -- the worker itself -------------------------------------------------------------------------

@pytest.fixture
def hostile(monkeypatch):
    """Register the misbehaving families for the duration of a test."""
    from seekwise.core.extract import registry

    table = dict(registry._BY_EXTENSION)
    for fam in (hostile_readers.HANG, hostile_readers.CRASH, hostile_readers.HOG, hostile_readers.SLOW):
        for ext in fam.extensions:
            table[ext] = fam
    monkeypatch.setattr(registry, "_BY_EXTENSION", table)


def test_a_hanging_parser_is_stopped_at_the_time_limit_and_the_next_file_reads(hostile, tmp_path):
    iso = isolate.Isolator(time_limit=1)
    try:
        (tmp_path / "a.hang").write_bytes(b"x")
        (tmp_path / "b.rtf").write_bytes(mk.rtf(["after the hang"]))
        t0 = time.perf_counter()
        assert outcome(iso, tmp_path / "a.hang") == ("error", "extraction took longer than 1 s")
        assert time.perf_counter() - t0 < 4
        assert read_as_indexer(iso, tmp_path / "b.rtf").text == "after the hang"
        assert iso.spawns == 2
    finally:
        iso.close()


def test_a_crashing_parser_costs_one_file(hostile, iso, tmp_path):
    (tmp_path / "a.crash").write_bytes(b"x")
    (tmp_path / "b.rtf").write_bytes(mk.rtf(["after the crash"]))
    assert outcome(iso, tmp_path / "a.crash") == ("error", "extractor crashed (SIGSEGV)")
    assert read_as_indexer(iso, tmp_path / "b.rtf").text == "after the crash"


def test_a_parser_that_eats_memory_hits_the_cap(hostile, tmp_path):
    """Uncapped, it would take this machine's memory; capped, it fails fast with the cap as its reason."""
    iso = isolate.Isolator(memory_mb=600)
    try:
        (tmp_path / "a.hog").write_bytes(b"x")
        (tmp_path / "b.rtf").write_bytes(mk.rtf(["after the hog"]))
        t0 = time.perf_counter()
        assert outcome(iso, tmp_path / "a.hog") == (
            "error", "needs more than the 600 MB of memory extraction may use")
        assert time.perf_counter() - t0 < 10
        assert read_as_indexer(iso, tmp_path / "b.rtf").text == "after the hog"
        assert iso.spawns == 2
    finally:
        iso.close()


def test_the_worker_is_reused_and_costs_little_per_file(iso, tmp_path):
    paths = []
    for i in range(100):
        paths.append(tmp_path / f"f{i}.rtf")
        paths[-1].write_bytes(mk.rtf([f"file number {i}"]))
    read_as_indexer(iso, paths[0])  # the worker is up
    spawns = iso.spawns
    t0 = time.perf_counter()
    texts = [read_as_indexer(iso, p).text for p in paths]
    isolated = (time.perf_counter() - t0) / len(paths)
    t0 = time.perf_counter()
    for p in paths:
        extract.extract(str(p), reading.read_file(str(p), LIMIT))
    local = (time.perf_counter() - t0) / len(paths)
    assert texts == [f"file number {i}" for i in range(100)] and iso.spawns == spawns
    assert isolated - local < 0.005, f"isolation costs {1000 * (isolated - local):.2f} ms a file"


def test_the_worker_is_replaced_after_its_quota(tmp_path):
    iso = isolate.Isolator(recycle_after=3)
    try:
        (tmp_path / "a.rtf").write_bytes(mk.rtf(["again"]))
        assert [read_as_indexer(iso, tmp_path / "a.rtf").text for _ in range(7)] == ["again"] * 7
        assert iso.spawns == 3
    finally:
        iso.close()
