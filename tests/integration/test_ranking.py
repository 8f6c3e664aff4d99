"""Ranking on small real data: -k does not change the top, a rare exact term wins, a repetitive file
cannot hijack meaning search, unrelated queries get "no good match", the snippet shows what matched."""

from __future__ import annotations

import os
import random

import pytest

from seekwise.core.library import Library
from seekwise.core.search import good_matches

TOPICS = [
    "The quarterly budget review moved the marketing spend into the next financial year.",
    "Replace the bicycle chain when it stretches past half a percent, and clean the cassette.",
    "Water the tomato plants at the base in the morning so the leaves stay dry.",
    "The landlord returns the deposit within ten days once the inventory is signed off.",
    "Our retry helper backs off exponentially and gives up after five attempts.",
    "Sourdough needs a lively starter, a long cold prove and a very hot oven.",
    "The tax return is due at the end of January; keep receipts for six years.",
    "Book the train early: advance fares to the coast are a third of the walk-up price.",
    "The team agreed to move the stand-up meeting to half past nine on Mondays.",
    "Back up the photo library to the external disk every Sunday evening.",
]


def _note(i: int, rnd: random.Random) -> str:
    lines = rnd.sample(TOPICS, 3)
    lines.insert(rnd.randint(0, 3), f"Reference code uniqtoken{i}x for this note.")
    return f"Note {i}\n\n" + " ".join(lines) + "\n"


@pytest.fixture(scope="module")
def notes(tmp_path_factory):
    """300 short notes mixing the same ten topics, each holding one token no other note holds."""
    root = tmp_path_factory.mktemp("notes")
    docs = root / "docs"
    docs.mkdir()
    rnd = random.Random(14)
    for i in range(300):
        (docs / f"note-{i:03d}.txt").write_text(_note(i, rnd), encoding="utf-8")
    lib = Library(root / "lib", threads=2)
    lib.index([docs])
    yield lib, docs
    lib.close()


def names(hits) -> list[str]:
    return [os.path.basename(h.path) for h in hits]


def test_a_rare_exact_term_puts_its_only_file_first(notes):
    lib, _ = notes
    wrong = [i for i in range(300)
             if names(lib.search(f"uniqtoken{i}x", k=2, mark=False))[:1] != [f"note-{i:03d}.txt"]]
    assert wrong == [], f"hybrid put another note first for {len(wrong)} of 300: {wrong[:10]}"


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_the_first_results_do_not_depend_on_how_many_are_asked_for(notes, mode):
    lib, _ = notes
    for query in ("when is the deposit given back", "train tickets cheaper if booked ahead",
                  "budget marketing", "uniqtoken7x chain"):
        widest = names(lib.search(query, k=40, mode=mode, mark=False))
        for k in (1, 2, 5, 10, 20):
            assert names(lib.search(query, k=k, mode=mode, mark=False)) == widest[:k], (query, mode, k)


RECIPES = {
    "sourdough.md": "# Sourdough bread\n\nA country loaf raised with a wild yeast starter instead of packet yeast. "
                    "Feed the starter the night before so it is bubbly. Mix 500 g strong white flour with 350 g "
                    "water and rest it for an hour. Add 100 g of active starter and 10 g salt, then stretch and "
                    "fold the dough every half hour. Shape the loaf, prove it in a floured banneton in the "
                    "fridge overnight and bake it in a hot Dutch oven until the crust is deep brown.\n",
    "lentil-soup.md": "# Red lentil soup\n\nSoften a chopped onion, two carrots and celery in olive oil. Stir in "
                      "cumin and smoked paprika, add red lentils and vegetable stock, simmer for 25 minutes "
                      "and blend half of the pot. Finish with lemon juice.\n",
    "pancakes.md": "# Weekend pancakes\n\nWhisk flour, sugar, baking powder and salt. Beat in two eggs, milk and "
                   "melted butter. Cook ladlefuls in a hot buttered pan until bubbles form, flip, and serve "
                   "with maple syrup.\n",
    "tomato-sauce.md": "# Quick tomato sauce\n\nWarm sliced garlic in olive oil, add chopped tomatoes, chilli and "
                       "salt, and simmer for twenty minutes until thick. Tear in fresh basil at the end.\n",
}


@pytest.fixture(scope="module")
def kitchen(tmp_path_factory):
    """Recipes beside a 120 KB server log of near-identical lines and a 60 KB file of one word: the
    repetitive files add hundreds of near-duplicate chunks (identical ones for the word)."""
    root = tmp_path_factory.mktemp("kitchen")
    docs = root / "docs"
    docs.mkdir()
    for name, text in RECIPES.items():
        (docs / name).write_text(text, encoding="utf-8")
    rnd = random.Random(7)
    lines = [f"2024-05-{rnd.randint(1, 28):02d} {rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:"
             f"{rnd.randint(0, 59):02d} INFO worker-{rnd.randint(1, 8)} GET /api/v1/items?page={rnd.randint(1, 400)} "
             f"status=200 bytes={rnd.randint(200, 9000)} took={rnd.randint(2, 90)}ms\n" for _ in range(1300)]
    (docs / "server.log").write_text("".join(lines), encoding="utf-8")
    (docs / "words.txt").write_text("lorem " * 10_000, encoding="utf-8")
    lib = Library(root / "lib", threads=2)
    lib.index([docs])
    yield lib, docs
    lib.close()


@pytest.mark.parametrize("dense", ["hnsw", "binary", "exact"])
def test_a_repetitive_file_does_not_hijack_meaning_search(kitchen, dense):
    lib, _ = kitchen
    assert lib.store.counts()["chunks"] > 400
    for mode in ("dense", "hybrid"):
        hits = lib.search("bread recipe", k=3, mode=mode, dense=dense, mark=False)
        assert names(hits)[0] == "sourdough.md", (mode, names(hits))
    hits = lib.search("a thick soup of pulses", k=3, mode="dense", dense=dense, mark=False)
    assert names(hits)[0] == "lentil-soup.md"


def test_an_unrelated_query_gets_no_good_match_and_no_sentence_marked(kitchen):
    lib, _ = kitchen
    for query in ("quantum chromodynamics lattice", "offside rule in football"):
        hits = lib.search(query, k=5)
        assert hits and good_matches(hits) == [], [(names([h]), h.relevance) for h in hits]
        assert all(h.best.mark_kind != "sentence" for h in hits)
    hits = lib.search("how do I bake a loaf with wild yeast", k=5)
    assert names(good_matches(hits))[:1] == ["sourdough.md"]
    assert 0.5 <= hits[0].relevance <= 1 and hits[0].legs["dense_cosine"] > 0 and "bm25" in hits[0].legs


def test_the_bar_a_match_must_clear_is_the_librarys_own(kitchen, library, corpus):
    """The test corpus's 13 passages hold no close look-alike for an unrelated query: its bar is lower
    than a default fitted on a large library, low enough for the tenancy agreement's bond clause to
    match the deposit question; both libraries tell unrelated queries "no good match"."""
    from seekwise.core.match_bar import FILE_NAME
    from seekwise.core.search import DEFAULT_BAR

    library.index([corpus])
    bar = library.match_bar()
    assert bar is not None and bar < DEFAULT_BAR
    assert (library.paths.ann_dir(library.model_version) / FILE_NAME).is_file()   # measured by the writer
    hits = library.search("how do I get my deposit back", k=3)
    assert names(good_matches(hits)) == ["tenancy-agreement.txt"], [(names([h]), h.relevance) for h in hits]
    for lib in (library, kitchen[0]):
        assert good_matches(lib.search("quantum chromodynamics lattice", k=3)) == []
    relevance = [h.relevance for h in hits]
    assert relevance == sorted(relevance, reverse=True)   # the matches are the top of the list


def test_the_cli_says_no_good_match_and_shows_weaker_ones_below_a_divider(kitchen, capsys):
    from seekwise.cli import WEAKER, main

    lib, _ = kitchen
    data_dir = str(lib.paths.root)
    assert main(["search", "--data-dir", data_dir, "-k", "3", "quantum chromodynamics lattice"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == 'No good match for "quantum chromodynamics lattice".' and out[1] == WEAKER
    # The four recipes match in part (the soup only just); the file of one repeated word comes after,
    # below the divider.
    assert main(["search", "--data-dir", data_dir, "-k", "5", "bread recipe"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "sourdough.md" in out[0] and "%" in out[0] and WEAKER in out
    assert not [line for line in out[:out.index(WEAKER)] if "words.txt" in line or "server.log" in line]


def test_the_list_snippet_starts_at_the_passage_the_preview_scrolls_to(library, corpus):
    from seekwise.core.search import snippet

    library.index([corpus])
    hit = library.search("getting the security money back when I move out", k=1)[0]
    assert names([hit]) == ["tenancy-agreement.txt"]
    start, end = hit.best.marks[0]                # the preview scrolls to the first mark
    text, marks = snippet(hit.text, 260, hit.best.marks)
    assert text[marks[0][0]:marks[0][1]] == hit.text[start:end]
    assert marks[0][0] < 60, text                 # on the first line the list shows, not the third


def test_folder_eval_scores_files_by_path_per_kind_and_reuses_a_library(tmp_path, corpus):
    import json

    from seekwise.core.search import FusionSettings
    from seekwise.evaluation import evaluate_folder, format_folder_table

    qset = tmp_path / "set"
    (qset / "qrels").mkdir(parents=True)
    queries = [("p1", "getting my security money back when I move out", "paraphrase"),
               ("k1", "banneton", "keyword"), ("u1", "offside rule in football", "unrelated")]
    (qset / "queries.jsonl").write_text("".join(
        json.dumps({"_id": q, "text": t, "metadata": {"kind": kind, "set": "dev"}}) + "\n" for q, t, kind in queries))
    (qset / "qrels" / "dev.tsv").write_text("query-id\tcorpus-id\tscore\np1\ttenancy-agreement.txt\t2\n"
                                            "k1\tnotes/sourdough.md\t2\n")
    lib_dir = tmp_path / "lib"
    args = (str(qset), str(corpus), "dev", ["hnsw", "bm25", "hybrid"], None, 2, str(lib_dir), FusionSettings(), 4, None)
    first = evaluate_folder(*args, log=lambda m: None)
    assert first["library"] == "indexed" and first["documents"] == 6
    hybrid = first["modes"]["hybrid"]
    assert hybrid["paraphrase"]["hit@5"] == 1.0 and hybrid["keyword"]["mrr@10"] == 1.0
    assert hybrid["all"]["queries"] == 3 and hybrid["all"]["no_match"] == 0
    assert hybrid["unrelated"] == {"queries": 1, "unjudged": 1, "no_match_unjudged": 1.0}
    again = evaluate_folder(*args, log=lambda m: None)
    assert again["library"] == "reused" and again["modes"]["hybrid"]["all"] == hybrid["all"]
    assert "paraphrase" in format_folder_table(again)
