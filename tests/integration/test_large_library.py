"""Size-dependent search paths on a library of ~3,000 real chunks, where candidates are far fewer than
chunks: HNSW and binary recall against exact search, binary candidates that follow the query, filters,
phrases and exclusions applied before any retriever truncates. Ground truth is brute force over the
store's vectors, computed here, and file facts (folder, type, mtime, planted word) known from the corpus.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from largecorpus import PLANTED

from seekwise.core.query import parse_query
from seekwise.core import search
from seekwise.core.search import SearchFilters, pool_size

pytestmark = pytest.mark.slow

K = 10
WANT = pool_size(K)                # chunks each retriever keeps for a k=10 search
EVERY_MODE = [("dense", "exact"), ("dense", "hnsw"), ("dense", "binary"),
              ("hybrid", "exact"), ("hybrid", "hnsw"), ("hybrid", "binary"), ("lexical", "hnsw")]


def own_text_queries(big, n=40) -> list[str]:
    """Ten words from the middle of n chunks spread over the library: queries its own text answers."""
    out = []
    for cid in big.ids[:: max(1, len(big.ids) // n)][:n]:
        words = re.findall(r"[A-Za-z]{3,}", big.texts[int(cid)])
        if len(words) >= 8:
            out.append(" ".join(words[4:14]))
    return out


def recall_at_10(big, got: np.ndarray, vector: np.ndarray) -> float:
    """Tie-aware: a returned chunk counts if it scores at least the exact 10th best."""
    scores = dict(zip(big.ids.tolist(), (big.matrix @ vector).tolist()))
    tenth = np.sort(big.matrix @ vector)[-K]
    return sum(scores[int(c)] >= tenth - 1e-6 for c in got[:K]) / K


def test_the_library_is_large_mixed_and_spread_over_time(large_library):
    big = large_library
    assert 2500 <= len(big.ids) <= 5000
    exts = {}
    for rel in big.corpus.files:
        exts[rel.rsplit(".", 1)[-1]] = exts.get(rel.rsplit(".", 1)[-1], 0) + 1
    assert {"py", "md", "html", "txt"} <= set(exts) and min(exts[e] for e in ("py", "md", "html", "txt")) >= 10
    assert len({rel.rsplit("/", 1)[0] for rel in big.corpus.files}) >= 8
    mtimes = [f.mtime for f in big.corpus.files.values()]
    assert max(mtimes) - min(mtimes) > 2 * 365 * 86400
    print(f"\nlarge library: {len(big.corpus.files)} files, {len(big.ids)} chunks, "
          f"indexed in {big.index_seconds:.1f} s ({len(big.ids) / big.index_seconds:.0f} chunks/s)")


def test_hnsw_recall_at_10_against_exact(large_library):
    big = large_library
    queries = own_text_queries(big)
    recalls, same_top_file = [], 0
    for q in queries:
        v = big.embed(q)
        got, _ = big.lib.nearest_chunks(v, K, dense="hnsw")
        recalls.append(recall_at_10(big, got, v))
        hits = big.lib.search(q, k=3, mode="dense", dense="hnsw", mark=False)
        same_top_file += big.relpath(hits[0].path) == big.exact_files(v)[0]
    assert np.mean(recalls) >= 0.9, recalls
    assert same_top_file >= 0.9 * len(queries)


def test_binary_rescoring_recall_at_10_against_exact(large_library):
    big = large_library
    queries = own_text_queries(big)
    by_oversample = {}
    for oversample in (2, 4, 10):
        recalls = []
        for q in queries:
            v = big.embed(q)
            got, scores = big.lib.nearest_chunks(v, K, dense="binary", oversample=oversample)
            recalls.append(recall_at_10(big, got, v))
            exact = dict(zip(big.ids.tolist(), (big.matrix @ v).tolist()))
            assert scores == pytest.approx([exact[int(c)] for c in got], abs=1e-5)   # full precision
        by_oversample[oversample] = float(np.mean(recalls))
    # Measured on this library: x2 0.79, x4 0.92, x10 0.98 (40 candidates of ~2,900 chunks at x4).
    assert by_oversample[4] >= 0.85, by_oversample
    assert by_oversample[10] >= by_oversample[4] >= by_oversample[2], by_oversample
    assert by_oversample[10] >= 0.95, by_oversample


def test_binary_candidates_follow_the_query(large_library):
    """A picker that ignores the query (the first n codes, any fixed or random n) fails here."""
    big = large_library
    binary = big.lib.derived.current_binary()
    n = K * 4
    assert n < 0.02 * len(binary)
    queries = own_text_queries(big)
    sets, top_found = [], 0
    for q in queries:
        v = big.embed(q)
        cands = binary.candidates(v, n)
        assert len(cands) == n and len(set(cands.tolist())) == n
        top_found += int(big.ids[big.exact_order(v)[0]]) in set(cands.tolist())
        sets.append(set(cands.tolist()))
    assert top_found >= 0.9 * len(queries)
    overlaps = [len(a & b) / n for i, a in enumerate(sets) for b in sets[i + 1:]]
    assert np.mean(overlaps) < 0.2


# -- filters, phrases and exclusions: applied before truncation -------------------------------

def _date_window(big):
    mtimes = sorted(f.mtime for f in big.corpus.files.values())
    lo, hi = mtimes[len(mtimes) // 4], mtimes[len(mtimes) // 4 + len(mtimes) // 12]
    return lo, hi


FILTER_CASES = {
    # name: (a query by meaning and one by keyword, both far from what the filter keeps; the filter;
    #        which files pass, decided here from the corpus's own facts)
    "in-folder": ("send an email message through an SMTP server", "raise an error",
                  lambda big: SearchFilters(folders=(big.root + "/code/json",)),
                  lambda big: lambda rel: rel.startswith("code/json/")),
    "type": ("logging handler writes records to a stream", "message header",
             lambda big: SearchFilters(types=("html",)),
             lambda big: lambda rel: rel.endswith(".html")),
    "after-before": ("schedule events with a delay", "decode the string",
                     lambda big: SearchFilters(after=_date_window(big)[0], before=_date_window(big)[1]),
                     lambda big: lambda rel: _date_window(big)[0] <= big.corpus.files[rel].mtime
                     < _date_window(big)[1]),
    "path": ("random numbers from a distribution", "object attribute",
             lambda big: SearchFilters(path_contains="WSGIREF"),
             lambda big: lambda rel: "wsgiref" in rel),
    "folder-and-older": ("compress files into an archive", "return the value",
                         lambda big: SearchFilters(folders=(big.root + "/code/email",), before=_date_window(big)[1]),
                         lambda big: lambda rel: rel.startswith("code/email/")
                         and big.corpus.files[rel].mtime < _date_window(big)[1]),
}


@pytest.mark.parametrize("case", list(FILTER_CASES))
def test_filters_keep_a_small_share_and_apply_before_truncation(large_library, case, monkeypatch):
    # A smaller candidate pool than the default (the same code path) lets a corpus of this size hold
    # enough better-ranked passages outside every filter.
    monkeypatch.setattr(search, "POOL", 40)
    k = 8
    want = pool_size(k)
    big = large_library
    query, keywords, make_filters, make_keep = FILTER_CASES[case]
    filters, keep = make_filters(big), make_keep(big)
    share = np.mean([keep(r) for r in big.rel])
    assert 0 < share <= 0.16, share
    # By meaning: the filter's best file is what brute force over the passing chunks says, though
    # more than want chunks elsewhere rank higher (truncating first would lose it).
    v = big.embed(query)
    expected = big.exact_files(v, keep)
    assert big.first_rank(v, keep) >= want, "many unfiltered chunks must rank above the filter's best"
    for mode, dense in EVERY_MODE:
        if mode == "lexical":
            continue
        hits = big.lib.search(query, k=k, mode=mode, dense=dense, filters=filters, mark=False)
        got = [big.relpath(h.path) for h in hits]
        assert got and all(keep(r) for r in got), (mode, dense, got)
        if (mode, dense) == ("dense", "exact"):
            assert len(got) >= min(k, len(big.exact_files(v, keep, top=want))), got  # a per-file cap: more files
        if mode == "dense":
            assert got[0] == expected[0], (mode, dense, got, expected[:3])
        else:
            assert expected[0] in got, (mode, dense, got, expected[:3])
    # By keyword: BM25 over the whole index (no filter) gives the order; the filter's best keyword
    # hit comes after more than want others.
    lexical = big.lib.derived.current_lexical()
    lex_ids, lex_scores = lexical.search(parse_query(keywords).ranking_match(), len(big.ids))
    row_of = {int(c): i for i, c in enumerate(big.ids)}
    passing = [(int(c), float(s)) for c, s in zip(lex_ids, lex_scores) if keep(big.rel[row_of[int(c)]])]
    assert passing, "the keyword query must match inside the filter"
    assert next(i for i, c in enumerate(lex_ids.tolist()) if keep(big.rel[row_of[c]])) >= want, \
        "many unfiltered keyword hits must rank above the filter's best"
    best = {big.rel[row_of[c]] for c, s in passing if s >= passing[0][1] - 1e-4}
    matching_files = {big.rel[row_of[c]] for c, _ in passing}
    for mode, dense in (("lexical", "hnsw"), ("hybrid", "hnsw"), ("hybrid", "binary")):
        hits = big.lib.search(keywords, k=k, mode=mode, dense=dense, filters=filters, mark=False)
        got = [big.relpath(h.path) for h in hits]
        assert got and all(keep(r) for r in got), (mode, dense, got)
        if mode == "lexical":
            assert len(got) == min(k, len(matching_files)) and got[0] in best, (got, best)


def _holds_planted(big, rel: str) -> bool:
    with open(big.corpus.path(rel), encoding="utf-8") as fh:
        return PLANTED in fh.read().lower()


def test_excluded_word_bars_whole_files_in_a_large_library(large_library):
    """Every fourth file ends with a planted word: its best passage for most queries lacks it, so
    dropping passages rather than files lets those files through."""
    big = large_library
    query = "send an email message through an SMTP server"
    v = big.embed(query)
    top = big.exact_files(v)[:K]
    planted_top = [r for r in top if big.corpus.files[r].planted]
    assert len(planted_top) >= 2, top
    for rel in planted_top:   # the passage that ranks is not the one holding the word
        best_row = next(row for row in big.exact_order(v) if big.rel[row] == rel)
        assert PLANTED not in big.texts[int(big.ids[best_row])].lower()
    expected = big.exact_files(v, lambda rel: not big.corpus.files[rel].planted)
    for mode, dense in EVERY_MODE:
        hits = big.lib.search(f"{query} -{PLANTED}", k=K, mode=mode, dense=dense, mark=False)
        got = [big.relpath(h.path) for h in hits]
        assert len(got) == K, (mode, dense, got)
        assert not [r for r in got if _holds_planted(big, r)], (mode, dense, got)
        if mode == "dense":
            assert got[:3] == expected[:3], (mode, dense, got)
    # With a filter too: both narrow before truncation.
    for mode, dense in EVERY_MODE:
        hits = big.lib.search(f"{query} -{PLANTED}", k=K, mode=mode, dense=dense, mark=False,
                              filters=SearchFilters(types=("md",)))
        got = [big.relpath(h.path) for h in hits]
        assert got and all(r.endswith(".md") and not _holds_planted(big, r) for r in got), (mode, dense, got)


@pytest.mark.parametrize(("words", "phrase"), [("network socket connection", "keyword argument"),
                                               ("compress files into an archive", "default value")])
def test_phrase_applies_before_truncation_in_a_large_library(large_library, words, phrase):
    big = large_library
    query = f'{words} "{phrase}"'
    lexical = big.lib.derived.current_lexical()
    holding = lexical.matching(f'"{phrase}"', big.ids.tolist())
    rows = [i for i, c in enumerate(big.ids) if int(c) in holding]
    assert 5 <= len(rows) <= 0.05 * len(big.ids)
    v = big.embed(parse_query(query).text)
    assert big.first_rank(v, rows=rows) >= WANT, "the phrase's best passage must rank low for the query"
    expected = big.exact_files(v, rows=rows)
    # As FTS5 matches a phrase: word by word by stem ("defaults: values"), split at _ too.
    pattern = re.compile(r"(?<![^\W_])" + r"\w*[\W_]+".join(phrase.split()), re.IGNORECASE)
    for mode, dense in EVERY_MODE:
        hits = big.lib.search(query, k=K, mode=mode, dense=dense)
        got = [big.relpath(h.path) for h in hits]
        assert got or mode == "lexical", (mode, dense)   # keywords: the phrase AND one of the words
        if (mode, dense) == ("dense", "exact"):
            assert len(got) == min(K, len(big.exact_files(v, rows=rows, top=WANT))), got
        assert all(pattern.search(h.text) for h in hits), (mode, dense)   # in the passage shown
        assert all(pattern.search(p.text) for h in hits for p in h.others), (mode, dense)
        if mode == "dense":
            assert got[0] == expected[0], (mode, dense, got, expected[:3])
