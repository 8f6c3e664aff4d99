"""Hybrid search, query syntax, filters, binary rescoring and marks, on the real model, LMDB, hnswlib, FTS5."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from seekwise.cli import main, parse_when
from seekwise.core.library import Library
from seekwise.core.search import SearchFilters, snippet
from seekwise.evaluation import evaluate, format_table
from seekwise.core.search import FusionSettings

MINI = Path(__file__).parents[1] / "data" / "beir-mini"


@pytest.fixture
def indexed(library, corpus):
    library.index([corpus])
    return library, corpus


def paths(hits, corpus):
    return [os.path.relpath(h.path, corpus) for h in hits]


def test_keywords_find_what_meaning_alone_ranks_low(indexed):
    lib, corpus = indexed
    # A rare literal token: BM25 pins it, hybrid keeps it first.
    for mode in ("lexical", "hybrid"):
        assert paths(lib.search("banneton", k=3, mode=mode), corpus)[0] == "notes/sourdough.md"


def test_each_mode_answers_and_hybrid_fuses_both(indexed):
    lib, corpus = indexed
    q = "security bond returned at the end of the tenancy"
    for mode in ("dense", "lexical", "hybrid"):
        assert paths(lib.search(q, k=3, mode=mode), corpus)[0] == "tenancy-agreement.txt", mode
    fused = lib.search(q, k=6, mode="hybrid")
    assert fused == sorted(fused, key=lambda h: -h.score)


def test_phrase_is_required_and_exclusion_removes(indexed):
    lib, corpus = indexed
    hits = lib.search('"security bond"', k=10)
    assert paths(hits, corpus) == ["tenancy-agreement.txt"]
    assert all("security bond" in p.text.replace("\n", " ").lower() for p in [hits[0].best, *hits[0].others])
    without = paths(lib.search("rent deposit -tenancy -landlord", k=10), corpus)
    assert "tenancy-agreement.txt" not in without
    assert lib.search('"no such phrase anywhere"', k=10) == []


EVERY_SEARCH = [(mode, dense) for mode in ("hybrid", "dense") for dense in ("hnsw", "binary", "exact")] + \
    [("lexical", "hnsw")]


def test_excluded_word_removes_the_whole_file_in_every_mode(indexed):
    """`-bond`: the tenancy agreement says "bond" four times, all in one of its passages; its other
    passages still match "deposit back", and dropping passages (not files) would let it through."""
    lib, corpus = indexed
    tenancy = lib.store.get_file(str((corpus / "tenancy-agreement.txt").resolve()))
    texts = [c.text.lower() for c in lib.store.get_chunks(tenancy.chunk_ids)]
    assert len(texts) >= 3 and 1 <= sum("bond" in t for t in texts) < len(texts)
    others = {"code/retry.py", "notes/bicycle.html", "notes/sourdough.md", "notes/tax-return.txt",
              "notes/tomatoes.txt"}
    for mode, dense in EVERY_SEARCH:
        assert "tenancy-agreement.txt" in paths(lib.search("deposit back", mode=mode, dense=dense), corpus)
        for query in ("deposit back -bond", "deposit back -BOND", "deposit back -bonds",
                      'deposit back -"security bond"', "-bond deposit -xylophone back"):
            got = paths(lib.search(query, mode=mode, dense=dense), corpus)
            assert "tenancy-agreement.txt" not in got, (mode, dense, query, got)
            if mode == "dense":   # the exclusion bars one file and starves no other
                assert set(got) == others, (mode, dense, query, got)
        assert "tenancy-agreement.txt" in paths(lib.search("deposit back -xylophone", mode=mode, dense=dense),
                                                corpus)


def test_phrase_must_occur_in_the_passage_shown_in_every_mode(indexed):
    """A phrase is required of the passage a hit shows (so it can be marked there), not only of the
    file: the words point at the bond clause, the phrase is in the last passage, which is shown."""
    lib, corpus = indexed
    query = '"two months notice" security deposit returned at the end of the tenancy'
    for mode, dense in EVERY_SEARCH:
        hits = lib.search(query, mode=mode, dense=dense)
        assert paths(hits, corpus) == ["tenancy-agreement.txt"], (mode, dense)
        best = hits[0].best
        assert "two months' notice" in best.text and not hits[0].others, (mode, dense)
        assert best.mark_kind == "words" and "two months' notice" in [best.text[s:e] for s, e in best.marks]
        assert lib.search('"security bond" -tenancy', mode=mode, dense=dense) == []
        assert lib.search('"months security"', mode=mode, dense=dense) == []   # words apart are no phrase
    without = lib.search("security deposit returned at the end of the tenancy", mode="dense")
    assert "two months" not in without[0].best.text   # the phrase, not the words, chose that passage


def test_words_are_marked_and_a_semantic_hit_marks_its_closest_sentence(indexed):
    lib, corpus = indexed
    hit = lib.search("greenhouse tomatoes", k=1)[0]
    marked = {hit.text[s:e].lower() for s, e in hit.best.marks}
    assert hit.best.mark_kind == "words" and {"greenhouse", "tomatoes"} <= marked
    hit = lib.search("when is the rental money paid", k=1, mode="dense")[0]
    assert hit.best.mark_kind == "sentence"   # none of the query's words occur in the passage
    (start, end), = hit.best.marks
    assert "pay the rent monthly" in hit.text[start:end]
    text, marks = snippet("word " * 100 + "needle " + "word " * 100, width=80, marks=((500, 506),))
    assert [text[s:e] for s, e in marks] == ["needle"] and len(text) < 100


CLOSEST_THIRD = ("The committee met on Tuesday to review the annual budget. Several members asked about the "
                 "new parking rules for visitors. The cat curled up by the fire and purred while the rain "
                 "fell outside. Minutes of the meeting will be circulated to everyone next week. Any "
                 "objections should be sent to the secretary in writing.")


def test_the_sentence_marked_is_the_one_closest_in_meaning(library, tmp_path):
    """One passage of five sentences; the third means the query, which shares no word with it."""
    folder = tmp_path / "minutes"
    folder.mkdir()
    (folder / "minutes.txt").write_text(CLOSEST_THIRD + "\n")
    library.index([folder])
    for mode in ("dense", "hybrid"):
        hits = library.search("a kitten sleeping near the fireplace", k=1, mode=mode)
        best = hits[0].best
        assert best.mark_kind == "sentence", mode
        (start, end), = best.marks
        assert best.text[start:end] == "The cat curled up by the fire and purred while the rain fell outside.", \
            (mode, best.text[start:end])


def test_filters_by_type_folder_path_and_date(indexed):
    lib, corpus = indexed
    q = "instructions"
    assert {p.split("/")[-1] for p in paths(lib.search(q, filters=SearchFilters(types=("md",))), corpus)} \
        == {"sourdough.md"}
    assert set(paths(lib.search(q, filters=SearchFilters(types=("code", "html"))), corpus)) \
        == {"code/retry.py", "notes/bicycle.html"}
    in_notes = paths(lib.search(q, filters=SearchFilters(folders=(str(corpus / "notes"),))), corpus)
    assert in_notes and all(p.startswith("notes/") for p in in_notes)
    assert paths(lib.search(q, filters=SearchFilters(path_contains="TAX")), corpus) == ["notes/tax-return.txt"]
    old = corpus / "notes" / "tomatoes.txt"
    os.utime(old, (time.time() - 400 * 86400,) * 2)
    lib.index()
    assert paths(lib.search("tomatoes", filters=SearchFilters(before=parse_when("1y"))), corpus) == \
        ["notes/tomatoes.txt"]
    assert "notes/tomatoes.txt" not in paths(lib.search("tomatoes", filters=SearchFilters(after=parse_when("30d"))),
                                             corpus)
    for dense in ("hnsw", "binary", "exact"):
        assert lib.search(q, filters=SearchFilters(types=("pdf",)), dense=dense) == []


def test_binary_rescoring_matches_exact_on_a_small_library(indexed):
    lib, corpus = indexed
    for q in ("mend a leaking bike", "deadline to declare earnings", "leavened loaves"):
        exact = lib.search(q, k=3, mode="dense", dense="exact")
        binary = lib.search(q, k=3, mode="dense", dense="binary", oversample=10)
        assert [h.path for h in binary] == [h.path for h in exact]
        assert binary[0].score == pytest.approx(exact[0].score, abs=1e-5)  # full-precision rescoring


def test_keyword_index_follows_edits_and_deletions(indexed):
    lib, corpus = indexed
    (corpus / "notes" / "tomatoes.txt").write_text("Cucumbers climb a trellis in the polytunnel.")
    (corpus / "code" / "retry.py").unlink()
    lib.index()
    assert paths(lib.search("tomatoes", mode="lexical"), corpus) == []
    assert paths(lib.search("polytunnel", mode="lexical"), corpus) == ["notes/tomatoes.txt"]
    assert paths(lib.search("backoff jitter", mode="lexical"), corpus) == []


def test_keyword_index_is_rebuilt_when_deleted(tmp_path, corpus):
    with Library(tmp_path / "lib", threads=2) as lib:
        lib.index([corpus])
    for p in (tmp_path / "lib").glob("lexical.sqlite*"):
        p.unlink()
    with Library(tmp_path / "lib", threads=2) as lib:
        assert paths(lib.search("banneton", mode="lexical"), corpus) == ["notes/sourdough.md"]


def test_cli_search_json_carries_highlights_and_filters(tmp_path, corpus, capsys):
    data = str(tmp_path / "lib")
    assert main(["--data-dir", data, "index", "-q", str(corpus)]) == 0
    capsys.readouterr()
    assert main(["--data-dir", data, "search", "--json", "--type", "txt", "security", "bond"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows and all(r["path"].endswith(".txt") for r in rows)
    top = rows[0]
    assert top["path"].endswith("tenancy-agreement.txt") and top["highlight_kind"] == "words"
    assert {top["text"][s:e].lower() for s, e in top["highlights"]} >= {"security", "bond"}
    assert main(["--data-dir", data, "search", "--after", "last tuesday", "x"]) == 2
    assert "not a date" in capsys.readouterr().err


def test_eval_runs_every_mode_on_a_beir_set(tmp_path):
    result = evaluate(str(MINI), "test", ["exact", "hnsw", "binary", "bm25", "hybrid"], None, 2, None,
                      FusionSettings(), 4, None, log=lambda m: None)
    assert result["queries"] == 6 and result["documents"] == 12
    for name, fig in result["modes"].items():
        assert set(fig) == {"ndcg@10", "recall@10", "recall@100", "mrr@10", "hit@5", "ms_p50", "ms_p95"}
        assert 0.0 <= fig["ndcg@10"] <= 1.0 and fig["ms_p95"] >= fig["ms_p50"] > 0
    assert result["modes"]["exact"]["ndcg@10"] > 0.8    # paraphrased queries: the model finds them
    assert result["modes"]["hnsw"] == {**result["modes"]["exact"], **{k: result["modes"]["hnsw"][k]
                                                                      for k in ("ms_p50", "ms_p95")}}
    assert "hybrid" in format_table(result)


def test_eval_cli_writes_the_json_layout(tmp_path, capsys):
    out = tmp_path / "eval.json"
    assert main(["eval", str(MINI), "--json", str(out), "--modes", "bm25,hybrid", "--threads", "2"]) == 0
    data = json.loads(out.read_text())
    assert data["dataset"] == "beir-mini" and data["split"] == "test" and set(data["modes"]) == {"bm25", "hybrid"}
    assert main(["eval", str(MINI), "--split", "dev"]) == 1
    assert "splits here: test" in capsys.readouterr().err


def test_a_phrase_only_query_keeps_its_keyword_leg(indexed):
    lib, corpus = indexed
    hits = lib.search('"stretch and folds"', k=3)
    assert paths(hits, corpus) == ["notes/sourdough.md"] and hits[0].best.mark_kind == "words"
