"""Index a small real folder with the real model, LMDB and hnswlib; find files by meaning alone."""

from __future__ import annotations

import re

import pytest

STOP = {"the", "and", "for", "with", "when", "what", "how", "must", "that", "this", "from", "into", "out", "are"}

PARAPHRASES = [
    ("deposit refund when moving home", "tenancy-agreement.txt"),
    ("leavened loaves raised by natural fermentation", "notes/sourdough.md"),
    ("mend a leaking bike", "notes/bicycle.html"),
    ("repeat a failing download with increasing pauses", "code/retry.py"),
    ("deadline to declare freelance earnings to the revenue office", "notes/tax-return.txt"),
    ("cultivating vegetables under glass", "notes/tomatoes.txt"),
]


def words(text):
    return {w for w in re.findall(r"[a-z]{3,}", text.lower()) if w not in STOP}


@pytest.mark.parametrize(("query", "expected"), PARAPHRASES)
def test_paraphrase_finds_the_file_without_shared_keywords(library, corpus, query, expected):
    shared = words(query) & words((corpus / expected).read_text())
    assert len(shared) <= 1, f"query shares keywords {shared}; pick another paraphrase"
    library.index([corpus])
    hits = library.search(query, k=3)
    assert hits[0].path == str(corpus / expected), [h.path for h in hits]


def test_hits_carry_passage_line_and_are_grouped_by_file(library, corpus):
    library.index([corpus])
    hits = library.search("how do I get my deposit back", k=10)
    assert len({h.path for h in hits}) == len(hits) == 6
    assert hits[0].path.endswith("tenancy-agreement.txt")
    best = library.search("when is the bond paid back to the renter", k=1)[0]
    assert "3. Security bond" in best.text and best.others  # the file's other passages come along
    assert all(p.score <= best.score for p in best.others)
    lines = (corpus / "tenancy-agreement.txt").read_text().splitlines()
    assert best.text.splitlines()[0] == lines[best.line - 1].strip()
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_exact_and_hnsw_agree_on_a_small_library(library, corpus):
    library.index([corpus])
    for query, _ in PARAPHRASES:
        assert [h.path for h in library.search(query, k=3)] == \
               [h.path for h in library.search(query, k=3, exact=True)]


def test_status_reports_what_is_there(library, corpus):
    library.index([corpus])
    st = library.status()
    assert st.roots == [str(corpus)] and st.files == 6 and st.by_status == {"ok": 6}
    assert st.chunks >= 6 and st.store_bytes > 0 and st.ann_bytes > 0
    assert st.model_id == "all-minilm-l6-v2-int8"
    (corpus / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    library.index()  # a commit: the counts kept between polls are counted again
    assert library.status().by_status == {"ok": 6, "skipped": 1}
    (corpus / "photo.txt").unlink()
    library.index()
    assert library.status().by_status == {"ok": 6}


def test_search_from_a_second_readonly_library_sees_committed_work(tmp_path, corpus):
    from seekwise.core.library import Library

    with Library(tmp_path / "lib", threads=2) as writer:
        writer.index([corpus])
        with Library(tmp_path / "lib", readonly=True) as reader:
            assert reader.search("cultivating vegetables under glass")[0].path.endswith("tomatoes.txt")
            (corpus / "notes" / "knots.txt").write_text(
                "To tie a bowline, form a small loop, pass the end up through it, around the standing "
                "part and back down. It makes a fixed loop that will not slip or jam under load.")
            writer.index()
            assert reader.search("a loop in a rope that stays put")[0].path.endswith("knots.txt")
