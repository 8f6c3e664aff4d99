"""One file of each format indexed through the real CLI and found by meaning; hostile files cost one file each."""

from __future__ import annotations

import json
import os
import resource
import time

import hostile_readers
import makedocs as mk
import pytest
from test_cli import cli

from seekwise.core.extract import isolate, registry
from seekwise.core.library import Library

FILES = {
    "lease.pdf": mk.pdf(["Tenancy agreement between the landlord and the tenant for the flat on the second floor.\n"
                         "Rent is due on the first day of each month, paid by bank transfer to the account\n"
                         "named in the schedule. The tenant keeps the flat clean and reports any damage.",
                         "Return of the security bond: the landlord repays the bond within fourteen days\n"
                         "after the keys are handed back, minus any itemised deductions."], title="Lease"),
    "bike.docx": mk.docx(mk.w_p("Fixing a puncture", "Heading2") + mk.w_p(
        "Take the wheel off, lever the tyre away from the rim, find the hole in the inner tube and glue a patch "
        "over it.")),
    "garden.odt": mk.odt('<text:h text:outline-level="1">Tomatoes</text:h><text:p>Water the tomato plants every '
                         "morning during the summer heat, at the roots rather than on the leaves.</text:p>"),
    "novel.epub": mk.epub([("c1.xhtml", "<h1>Night</h1><p>The lighthouse keeper climbed the spiral stairs to "
                                        "light the great lamp as the storm rolled in from the sea.</p>")]),
    "recipe.rtf": mk.rtf(["Cr\u00e8me br\u00fbl\u00e9e", "Bake the vanilla custard in a water bath, chill it, then "
                          "caramelise a layer of sugar on top with a blowtorch."]),
    "invoice.eml": mk.eml("Invoice for the boiler repair", "Dear customer, the plumber replaced the pressure valve "
                          "of your boiler. The amount due is 240 EUR.", attachments={"invoice.pdf": b"%PDF-"}),
    "budget.csv": b"category,monthly amount\ngroceries,320\nelectricity bill,85\nstreaming subscriptions,24\n",
    "server.json": b'{"server": {"hostname": "atlas.example.org", "port": 8443, "tls": true}}',
    "telescope.rst": b"Telescope setup\n===============\n\nPolar alignment\n---------------\n\nPoint the mount's "
                     b"axis at the celestial pole, near the north star, before tracking the planets.\n",
    "bees.org": b"* Beekeeping\nOpen the hive every week and look for the queen and her fresh eggs on the frames.\n",
    "mileage.xlsx": mk.xlsx({"Car": [["date", "odometer", "note"],
                                     ["2026-03-02", 48210, "replaced the winter tyres with summer tyres"]]}),
    "harvest.ods": mk.ods({"Orchard": [["fruit", "kilograms"], ["apples picked from the orchard trees", 140]]}),
    "launch.pptx": mk.pptx([("Quarterly plan", [f"Goal {i}: ship release {i} of the mobile app to customers in region {i}, "
                                                f"with the support team trained on its new features by week {i}."
                                                for i in range(1, 9)], "remind the team of deadlines"),
                            ("Rocket launch", ["The rocket lifts off from the pad into orbit"], "")]),
    "choir.odp": mk.odp([("Choir rehearsal", ["The singers practise the hymn in four-part harmony"], "")]),
    "dentist.msg": mk.msg("Appointment reminder", "Your dental check-up and teeth cleaning is on Tuesday at 9."),
    "minutes.doc": mk.doc(["The committee voted to repaint the village hall before the winter fair."]),
    "letters.mbox": mk.mbox([mk.eml("Kitten", "Our cat had four kittens last night, all healthy and purring."),
                             mk.eml("Roof", "The roofer will fix the leaking gutter next week.")]),
}
QUERIES = {
    "how do I get my deposit back": "lease.pdf",
    "repair a flat bicycle tire": "bike.docx",
    "how often should tomato plants be watered": "garden.odt",
    "lighthouse keeper lights the lamp in a storm": "novel.epub",
    "dessert of custard with burnt sugar": "recipe.rtf",
    "plumber bill for fixing the boiler": "invoice.eml",
    "how much do I spend on electricity each month": "budget.csv",
    "atlas.example.org": "server.json",
    "aligning a telescope with the pole star": "telescope.rst",
    "checking a beehive for the queen": "bees.org",
    "when did I change the car tyres": "mileage.xlsx",
    "how much fruit did the orchard give": "harvest.ods",
    "a rocket taking off towards orbit": "launch.pptx",
    "singing practice of the choir": "choir.odp",
    "when is my appointment to have my teeth cleaned": "dentist.msg",
    "decision to paint the community hall": "minutes.doc",
    "the cat gave birth to kittens": "letters.mbox",
}


def test_every_format_is_found_by_meaning_and_pdf_hits_carry_their_page(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, data in FILES.items():
        (docs / name).write_bytes(data)
    data_dir = tmp_path / "lib"
    out = cli("index", str(docs), data_dir=data_dir)
    assert f"{len(FILES)} indexed" in out.stdout and "0 failed" in out.stdout, out.stdout
    with Library(data_dir, readonly=True) as lib:
        found = {q: os.path.basename(lib.search(q, k=3)[0].path) for q in QUERIES}
        assert found == QUERIES
        kinds = {os.path.basename(r.path): r.kind for r in lib.store.iter_files()}
    assert kinds == {"lease.pdf": "pdf", "bike.docx": "docx", "garden.odt": "odt", "novel.epub": "epub",
                     "recipe.rtf": "rtf", "invoice.eml": "mail", "budget.csv": "csv", "server.json": "json",
                     "telescope.rst": "rst", "bees.org": "org", "mileage.xlsx": "sheet", "harvest.ods": "sheet",
                     "launch.pptx": "slides", "choir.odp": "slides", "dentist.msg": "outlook", "minutes.doc": "doc",
                     "letters.mbox": "mbox"}
    hits = [json.loads(line) for line in cli("search", "--json", "-k", "3", "how do I get my deposit back",
                                             data_dir=data_dir).stdout.splitlines()]
    assert hits[0]["path"] == str(docs / "lease.pdf") and hits[0]["page"] == 2 and "bond" in hits[0]["text"]
    assert all(h["page"] is None for h in hits[1:] if not h["path"].endswith((".pdf", ".pptx", ".odp")))
    rocket = json.loads(cli("search", "--json", "-k", "1", "a rocket taking off towards orbit", data_dir=data_dir).stdout)
    assert rocket["path"] == str(docs / "launch.pptx") and rocket["page"] == 2   # slide 2
    text = cli("search", "how do I get my deposit back", data_dir=data_dir).stdout
    assert f"{docs / 'lease.pdf'}  p. 2" in text.splitlines()[0]
    assert "pdf" in cli("search", "--type", "pdf", "--json", "tenant", data_dir=data_dir).stdout


@pytest.fixture
def hostile_setup(monkeypatch):
    """A short time limit and two misbehaving families, registered for this test only."""
    table = dict(registry._BY_EXTENSION)
    table[".hang"], table[".crash"] = hostile_readers.HANG, hostile_readers.CRASH
    monkeypatch.setattr(registry, "_BY_EXTENSION", table)
    yield isolate.configure(time_limit=2)
    isolate.configure()


def test_hostile_files_are_recorded_with_reasons_and_the_run_goes_on(tmp_path, hostile_setup):
    docs = tmp_path / "docs"
    docs.mkdir()
    files = {
        "good.txt": b"The bond is returned within fourteen days of the keys being handed back.",
        "good.pdf": mk.pdf(["Family diary. " * 12, "Our cat Miso sleeps on the radiator all winter long."]),
        "corrupt.pdf": b"%PDF-1.7\n" + os.urandom(5000),
        "scanned.pdf": mk.pdf([mk.IMAGE]),
        "locked.pdf": mk.pdf(["secret"], password="pw"),
        "truncated.docx": mk.docx(mk.w_p("text " * 500))[:700],
        "bomb.docx": mk.zip_bomb_docx(1),
        "laughs.docx": mk.docx(mk.w_p("&lol9;"), prolog=mk.BILLION_LAUGHS),
        "deep.html": b"<div>" * 100_000 + b"buried treasure map" + b"</div>" * 100_000,
        "binary.txt": bytes(range(256)) * 40,
        "stuck.hang": b"loops forever",
        "boom.crash": b"segfaults",
        "gone.txt": b"removed before it is read",
        "gone.pdf": mk.pdf(["removed before it is read"]),
        "bomb.png": mk.png(*mk.text_pixels("tiny", dpi=20, top=0.1), declared=(60_000, 60_000)),
        "fake.jpg": b"a text file saved with a picture's name",
    }
    for name, data in files.items():
        (docs / name).write_bytes(data)
    for name in ("huge.txt", "huge.pdf"):
        with open(docs / name, "wb") as fh:
            fh.truncate(2 << 30)  # sparse 2 GB: no disk used

    def remove_mid_run(progress):
        if progress.phase == "keywords" and (docs / "gone.txt").exists():
            (docs / "gone.txt").unlink()
            (docs / "gone.pdf").unlink()

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    with Library(tmp_path / "lib", threads=2) as lib:
        report = lib.index([docs], progress=remove_mid_run)
        seconds = time.monotonic() - t0
        problems = {os.path.basename(p): (status, reason) for p, status, reason in lib.store.problems_list(100)}
        assert problems == {
            "corrupt.pdf": ("error", "damaged PDF (cannot be opened)"),
            "locked.pdf": ("skipped", "password-protected PDF"),
            "truncated.docx": ("error", "damaged or truncated archive"),
            "bomb.docx": ("error", "compressed archive expands beyond 128 MB (a zip bomb?)"),
            "laughs.docx": ("error", "XML with a DTD or entity declarations (refused: a possible "
                                     "entity-expansion attack)"),
            "binary.txt": ("skipped", "binary file"),
            "huge.txt": ("skipped", "larger than the 32 MB limit"),
            "huge.pdf": ("skipped", "larger than the 256 MB limit"),
            "stuck.hang": ("error", "extraction took longer than 2 s"),
            "boom.crash": ("error", "extractor crashed (SIGSEGV)"),
            "gone.txt": ("error", "disappeared while being read"),
            "gone.pdf": ("error", "disappeared while being read"),
            "bomb.png": ("error", "picture too large to read (60,000 x 60,000 pixels)"),
            "fake.jpg": ("error", "not a picture Seekwise can read (PNG, JPEG, TIFF, WebP or BMP)"),
        }
        assert report.files_indexed == 4 and report.files_failed == 10 and report.files_skipped == 4
        scanned = lib.store.get_file(str(docs / "scanned.pdf"))   # blank grey pictures: OCR found nothing
        assert (scanned.status, scanned.reason, scanned.awaits_ocr) == ("empty", "no text found in its pictures", 0)
        assert os.path.basename(lib.search("where does the cat sleep in winter")[0].path) == "good.pdf"
        assert lib.search("where does the cat sleep in winter")[0].best.page == 2
        assert os.path.basename(lib.search("buried treasure map")[0].path) == "deep.html"
        status = lib.status(problems=50)
        assert ("error", "extractor crashed (SIGSEGV)") in {(s, r) for _, s, r in status.problems}
    assert seconds < 60
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 600 << 10  # KiB: no 2 GB read here


def test_reindexing_reads_nothing_again_and_a_touched_pdf_is_not_parsed(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.pdf").write_bytes(mk.pdf(["The quarterly report shows rising costs."]))
    (docs / "b.docx").write_bytes(mk.docx(mk.w_p("Minutes of the board meeting.")))
    with Library(tmp_path / "lib", threads=2) as lib:
        assert lib.index([docs]).files_indexed == 2
        spawns = isolate.shared().spawns
        os.utime(docs / "a.pdf", ns=(time.time_ns(), time.time_ns() + 10**9))
        report = lib.index()
        assert (report.files_touched, report.files_indexed, report.files_unchanged) == (1, 0, 1)
        assert isolate.shared().spawns == spawns
        rec = lib.store.get_file(str(docs / "a.pdf"))
        assert rec.extractor == "pdf/2" and rec.kind == "pdf" and rec.status == "ok"
