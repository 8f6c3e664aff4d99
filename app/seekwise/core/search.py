"""Query to ranked files: dense and keyword candidates, fused, filtered, grouped by file, marked up."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:   # numpy and the store are imported where used: `seekwise search` asking a running
    import numpy as np   # Seekwise (core.query_server) needs Hit and snippet here, not a library load
    from seekwise.core.store import ChunkRecord, FileRecord, Store

CANDIDATES_PER_HIT = 5   # chunks fetched per file wanted, since several chunks may share a file
# Each leg's candidate pool, whatever the number of files asked for (a larger -k only adds to it): the
# first N results are the same for every -k >= N up to POOL / CANDIDATES_PER_HIT.
POOL = 100
PER_FILE = 5             # chunks of one file a leg's ranking keeps: one repetitive file cannot fill it


def pool_size(k: int) -> int:
    """Chunks each retriever fetches for a search of k files."""
    return max(POOL, k * CANDIDATES_PER_HIT)


def cap_per_file(ids: np.ndarray, scores: np.ndarray, path_of: dict[int, str], per_file: int = PER_FILE
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A leg's ranking with at most `per_file` chunks of any one file, order kept (a 300 KB log of
    near-identical lines would otherwise take every rank, and the rank-based fusion with them)."""
    import numpy as np

    count: dict[str, int] = {}
    keep = np.zeros(len(ids), dtype=bool)
    for i, cid in enumerate(ids.tolist()):
        path = path_of.get(cid)
        if path is None:
            continue
        n = count.get(path, 0)
        if n < per_file:
            count[path] = n + 1
            keep[i] = True
    return ids[keep], scores[keep]


MODES = ("hybrid", "dense", "lexical")
DENSE_BACKENDS = ("hnsw", "binary", "exact")


@dataclass(frozen=True)
class FusionSettings:
    """How the two legs fuse. By default (method "score", fuse_scores) a chunk's cosine plus a keyword
    boost scaled by its BM25 against the best keyword passage; "rrf" (fuse) is reciprocal-rank
    fusion, weight / (k + rank) summed over the legs, the first default, kept to compare against.

    RRF was tuned on NFCorpus dev: every k in 30-100 and lexical weight in 0.85-1.2 gave nDCG@10
    0.329-0.332, so the textbook k=60 with equal weights stays. In both, a keyword hit counts in
    proportion to the share of the query's words it holds, and not at all below half: otherwise one
    shared word ("glass") in a small library outranks the passage that means the query.
    """

    k: float = 60.0
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    min_coverage: float = 0.5
    method: str = "score"          # "score" (see fuse_scores, the default) or "rrf" (see fuse)
    # score fusion: what the best keyword passage holding every word adds. 0.3 before file_weight, and
    # 0.3 x (1 + file_weight) with it, so keywords keep their share beside the file's meaning: realdocs
    # dev paraphrase top-5 0.755 -> 0.796, NFCorpus dev nDCG@10 0.3352 -> 0.3375, train 0.3532 -> 0.3531.
    lexical_boost: float = 0.36
    identifier_boost: float = 1.0  # the same for a query holding an identifier (SO_REUSEADDR, os.replace)
    sentence_boost: float = 0.05   # the same for a query of sentence_words words or more: a sentence's
                                   # common words pull in passages that share them, not its meaning
    sentence_words: int = 8
    file_weight: float = 0.2       # what a file's whole-text meaning adds, x its cosine (see file_score)
    match_keyword_weight: float = 0.3   # relevance: what keyword evidence adds to a cosine (calibrated
                                        # with the match bar; identifiers take identifier_boost)


_IDENTIFIER = re.compile(r"^(?=.*[A-Za-z])(?:.*[\d_]|[a-z]+[A-Z]|.*\w[.\-:/]\w|--|[A-Z]{3,}$)")
IDENTIFIER_WORDS = 5   # a longer query is a sentence, whatever words it holds ("in RAM", "JavaScript")


def looks_like_identifier(query: str) -> bool:
    """A short query with a word holding a digit, an underscore, a camelCase hump, inner punctuation
    (os.replace, dpkg-divert), an option (--onto) or in capitals (VACUUM): what someone types who knows
    the exact term, where the model's sense of it is noise (an unknown token embeds near anything)."""
    words = query.split()
    return len(words) <= IDENTIFIER_WORDS and any(_IDENTIFIER.search(w.strip("\"'()[]{},;")) for w in words)


def keyword_evidence_for(query: str, settings: FusionSettings) -> float:
    """What keyword evidence weighs in a hit's relevance: fixed where the ranking's boost is tuned."""
    return settings.identifier_boost if looks_like_identifier(query) else settings.match_keyword_weight


def boost_for(query: str, settings: FusionSettings) -> float:
    if looks_like_identifier(query):
        return settings.identifier_boost
    return settings.sentence_boost if len(query.split()) >= settings.sentence_words else settings.lexical_boost


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    score: float
    line: int
    start: int
    end: int
    text: str
    marks: tuple[tuple[int, int], ...] = ()   # char spans in `text` to highlight
    mark_kind: str = ""                        # "words" (query words found) or "sentence" (closest in meaning)
    page: int = 0                              # 1-based page where the passage starts; 0 if the file has none


@dataclass(frozen=True)
class Hit:
    """One file in the results: its best passage first, other matching passages after."""

    path: str
    score: float                     # the ranking's own score (fused, cosine or BM25 by mode): the order
    best: Passage
    others: list[Passage] = field(default_factory=list)
    relevance: float = 0.0           # 0..1, calibrated: the chance this file is what was asked for
    legs: dict[str, float] = field(default_factory=dict)   # raw scores of the best passage, by leg

    @property
    def line(self) -> int:
        return self.best.line

    @property
    def page(self) -> int:
        return self.best.page

    @property
    def text(self) -> str:
        return self.best.text


# -- filters -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchFilters:
    """Which files may be hits. Empty means all; every given condition must hold."""

    folders: tuple[str, ...] = ()         # under one of these
    types: tuple[str, ...] = ()           # extension ("pdf", ".md") or family ("markdown", "code")
    after: float | None = None            # modified at or after (epoch seconds)
    before: float | None = None           # modified before
    path_contains: str = ""               # case-insensitive substring of the full path

    @property
    def active(self) -> bool:
        return bool(self.folders or self.types or self.after is not None or self.before is not None
                    or self.path_contains)

    def prefixes(self) -> list[str | None]:
        if not self.folders:
            return [None]
        return [os.path.realpath(os.path.expanduser(f)).rstrip(os.sep) + os.sep for f in self.folders]

    def accepts(self, rec: FileRecord) -> bool:
        if rec.status != "ok":
            return False
        if self.types:
            ext = os.path.splitext(rec.path)[1].lower().lstrip(".")
            family = rec.extractor.split("/")[0]
            wanted = {t.lower().lstrip(".") for t in self.types}
            if ext not in wanted and family not in wanted and rec.kind not in wanted:
                return False
        mtime = rec.mtime_ns / 1e9
        if self.after is not None and mtime < self.after:
            return False
        if self.before is not None and mtime >= self.before:
            return False
        return not self.path_contains or self.path_contains.lower() in rec.path.lower()


def allowed_chunk_ids(store: Store, filters: SearchFilters) -> np.ndarray:
    """The chunk ids of every file the filters accept (sorted); reads file records only."""
    ids: list[int] = []
    seen: set[str] = set()
    for prefix in filters.prefixes():
        for rec in store.iter_files(prefix):
            if rec.path not in seen and filters.accepts(rec):
                seen.add(rec.path)
                ids.extend(rec.chunk_ids)
    import numpy as np

    return np.unique(np.asarray(ids, dtype=np.int64))


def whole_files(store: Store, chunk_ids: Iterable[int]) -> np.ndarray:
    """Every chunk id of the files these chunks belong to (sorted): `-word` bars a file, not a passage."""
    import numpy as np

    return np.asarray(sorted(store.chunks_of_files(chunk_ids)), dtype=np.int64)


# -- fusion and grouping -----------------------------------------------------------------------

class Ranking(NamedTuple):
    """One leg as fusion sees it: its weight, its chunk ids best first, and each chunk's share of that
    weight (None: all of it)."""

    weight: float
    ranked: list[int]
    scale: dict[int, float] | None


def fuse(legs: list[Ranking], settings: FusionSettings) -> dict[int, float]:
    """Reciprocal-rank fusion over chunks; a file then scores as its best fused chunk (on NFCorpus dev
    this beat fusing file rankings, nDCG@10 0.331 against 0.325). A leg may scale each chunk's share
    (keyword coverage); a chunk scaled below `min_coverage` is dropped from that leg's ranking."""
    chunks: dict[int, float] = {}
    for weight, ranked, scale in legs:
        rank = 0
        for cid in ranked:
            share = 1.0 if scale is None else scale.get(cid, 0.0)
            if share < settings.min_coverage:
                continue
            rank += 1
            chunks[cid] = chunks.get(cid, 0.0) + weight * share / (settings.k + rank)
    return chunks


@dataclass(frozen=True)
class Leg:
    """One retriever's candidates, best first: dense (cosine) or lexical (BM25, and the share of the
    query's words each chunk holds)."""

    name: str
    weight: float
    ids: np.ndarray
    scores: np.ndarray
    coverage: dict[int, float] | None = None
    full_match: float = 0.0   # lexical: the BM25 of a passage holding each query term once (its IDF sum)


def rank(legs: list[Leg], k: int, paths: dict[int, str], read: Callable[[list[int]], list[ChunkRecord]],
         settings: FusionSettings, cosines: Callable[[list[int]], dict[int, float]] | None,
         boost: float | None = None, bar: float | None = None,
         file_cosines: Callable[[list[str]], dict[str, float]] | None = None,
         evidence: float | None = None) -> list[Hit]:
    """Files best first (see file_score), each with its raw leg scores and a calibrated relevance
    (`bar`: see relevance). `paths` maps every candidate to its file; `read` gets chunk records (only
    the best k files' are read); `cosines` gives the query's cosine to chunks the dense leg did not
    return; `file_cosines` the query's cosine to candidate files' mean passage vectors (see
    file_score); `evidence` what keywords weigh in relevance (see keyword_evidence_for)."""
    if len(legs) == 1:
        scored = top_ids(legs[0].ids, legs[0].scores)
    elif settings.method == "rrf":
        scored = fuse([Ranking(leg.weight, leg.ids.tolist(), leg.coverage) for leg in legs], settings)
    else:
        dense, lexical = (legs if legs[0].name == "dense" else legs[::-1])
        cos = top_ids(dense.ids, dense.scores)
        missing = [c for c in lexical.ids.tolist() if c not in cos]
        if missing and cosines is not None:
            cos |= cosines(missing)
        scored = fuse_scores(cos, lexical, settings, settings.lexical_boost if boost is None else boost)
    by_file: dict[str, list[float]] = {}
    for cid, score in scored.items():
        path = paths.get(cid)
        if path is not None:
            by_file.setdefault(path, []).append(score)
    best = {path: file_score(scores) for path, scores in by_file.items()}
    bonus: dict[str, float] = {}
    if file_cosines is not None and settings.file_weight:
        bonus = {path: settings.file_weight * cos for path, cos in file_cosines(list(best)).items()}
        best = {path: score + bonus.get(path, 0.0) for path, score in best.items()}
    top = set(sorted(best, key=lambda p: (-best[p], p))[:k])
    hits = group_by_file(read([c for c in scored if paths.get(c) in top]), scored, k, bonus)
    weight = settings.match_keyword_weight if evidence is None else evidence
    return with_relevance(hits, legs, scored if len(legs) > 1 else None, cosines, bar, weight,
                          settings.min_coverage)


# A file scores its best passage plus what its next best ones add: a soft maximum over its top
# FILE_PASSAGES passage scores at temperature FILE_TEMPERATURE (cosine units). A manual with three good
# passages on the topic beats a page with one lucky sentence, while a passage far below the best adds
# almost nothing (so length alone does not pay). Against the best passage alone: realdocs dev
# paraphrase top-5 file hits 0.694 -> 0.796, NFCorpus dev nDCG@10 0.3345 -> 0.3339, train 0.3511 ->
# 0.3529; a plain sum of the top 3 lost 0.014 on NFCorpus dev. bench/fusion_sweep.py replays them.
FILE_PASSAGES, FILE_TEMPERATURE = 3, 0.1
# A file's whole text adds FusionSettings.file_weight x the query's cosine to the normalised mean of
# its passage vectors (core.file_meaning): a manual about the topic throughout beats a page with one
# passage that happens to read like the query. Meaning only (HNSW) over the bench corpus, realdocs dev
# paraphrases, `seekwise eval bench/realdocs --corpus CORPUS --split dev [--file-weight 0]`: top-5 file
# hits 0.714 -> 0.816.


def file_score(scores: Iterable[float]) -> float:
    top = sorted(scores, reverse=True)[:FILE_PASSAGES]
    return top[0] + FILE_TEMPERATURE * math.log(sum(math.exp((s - top[0]) / FILE_TEMPERATURE) for s in top))


def with_relevance(hits: list[Hit], legs: list[Leg], fused: dict[int, float] | None,
                   cosines: Callable[[list[int]], dict[int, float]] | None, bar: float | None = None,
                   keyword_weight: float = 0.3, min_share: float = 0.5) -> list[Hit]:
    """Each hit with its best passage's raw leg scores and its relevance: the best `relevance` among
    its passages (the one ranked first may owe its place to keywords, another mean the query more),
    capped by the relevance of the hit ranked above it, so the list reads best first and the matches
    come before the divider. (Moving matches above weaker hits instead pushed the answer out of the
    top 5 of paraphrase queries whose best passage was below the bar: realdocs dev 0.796 -> 0.755.)"""
    by_leg = {leg.name: dict(zip(leg.ids.tolist(), leg.scores.tolist())) for leg in legs}
    lexical = next((leg for leg in legs if leg.name == "lexical"), None)
    coverage = (lexical.coverage if lexical is not None else None) or {}
    dense = by_leg.get("dense")
    if dense is not None and cosines is not None:
        missing = [p.chunk_id for h in hits for p in (h.best, *h.others) if p.chunk_id not in dense]
        dense = dense | (cosines(missing) if missing else {})

    def raw_scores(cid: int) -> dict[str, float]:
        raw: dict[str, float] = {}
        if dense is not None and cid in dense:
            raw["dense_cosine"] = dense[cid]
        if lexical is not None:
            raw["bm25"] = by_leg["lexical"].get(cid, 0.0)
            raw["coverage"] = coverage.get(cid, 0.0)
        if fused is not None:
            raw["fused"] = fused[cid]
        return raw

    def passage_relevance(raw: dict[str, float]) -> float:
        held = raw.get("coverage", 0.0)
        keywords = (min(1.0, raw["bm25"] / lexical.full_match) * held
                    if lexical is not None and lexical.full_match > 0 else held)
        if "dense_cosine" not in raw:
            return relevance(None, keywords)
        return relevance(raw["dense_cosine"], keyword_weight * keywords if held >= min_share else 0.0, bar)

    out = []
    for hit in hits:
        raw = raw_scores(hit.best.chunk_id)
        best = max([passage_relevance(raw)] + [passage_relevance(raw_scores(p.chunk_id)) for p in hit.others])
        out.append(replace(hit, relevance=best, legs=raw))
    for i in range(1, len(out)):   # never above the hit ranked before it: what shows as a match is a prefix
        if out[i].relevance > out[i - 1].relevance:
            out[i] = replace(out[i], relevance=out[i - 1].relevance)
    return out


def relevance(cosine: float | None, keywords: float, bar: float | None = None) -> float:
    """0..1 for one passage: a logistic curve over its match evidence, its cosine to the query plus
    `keywords` (the fusion's keyword boost x its BM25 against a passage holding every query term once x
    the share of the terms it holds), centred on `bar`, where this library's best passage for an
    unrelated query lies (see match_bar). Keywords only (no cosine): `keywords` itself, the keyword
    match (BM25 against a passage holding every query term once x the share of the terms held)."""
    if cosine is None:
        return round(keywords, 4)
    evidence = cosine + keywords
    centre = DEFAULT_BAR if bar is None else bar
    return round(1.0 / (1.0 + math.exp(-RELEVANCE_SLOPE * (evidence - centre))), 4)


def fuse_scores(dense: dict[int, float], lexical: Leg, settings: FusionSettings, boost: float) -> dict[int, float]:
    """Score fusion: a chunk's cosine to the query plus `boost` x its BM25 relative to the best keyword
    passage x the share of the query's words it holds. Unlike ranks, scores keep how much better a
    passage is: the one note holding a rare token gets the whole boost, where RRF tied it with
    whichever note meaning ranked first. `dense` holds the cosine of every candidate of both legs."""
    best = float(lexical.scores.max()) if len(lexical.scores) else 0.0
    coverage = lexical.coverage or {}
    fused = {cid: settings.dense_weight * cos for cid, cos in dense.items()}
    if best > 0:
        boost = boost * settings.lexical_weight / best
        for cid, bm25 in zip(lexical.ids.tolist(), lexical.scores.tolist()):
            fused[cid] = fused.get(cid, 0.0) + boost * bm25 * coverage.get(cid, 0.0)
    return fused


def group_by_file(chunks: list[ChunkRecord], scores: dict[int, float], k: int,
                  bonus: dict[str, float] | None = None) -> list[Hit]:
    """A file's score is file_score over its chunks' plus its `bonus` (whole-file meaning); ties broken
    by path for stable output."""
    by_path: dict[str, list[Passage]] = {}
    for ch in chunks:
        by_path.setdefault(ch.path, []).append(
            Passage(ch.id, scores[ch.id], ch.line, ch.start, ch.end, ch.text, page=ch.page))
    hits = []
    for path, passages in by_path.items():
        passages.sort(key=lambda p: -p.score)
        score = file_score(p.score for p in passages) + (bonus or {}).get(path, 0.0)
        hits.append(Hit(path, score, passages[0], passages[1:]))
    hits.sort(key=lambda h: (-h.score, h.path))
    return hits[:k]


GOOD_MATCH = 0.5   # relevance from which a hit counts as a match; below it is "no good match"
# Match evidence and its curve (see relevance, match_bar). A passage's evidence is its cosine plus the
# fusion's keyword boost x its keyword match on an absolute scale (BM25 over the query's IDF sum: a
# shared common word adds little, every rare term once adds it all), counted only for a passage holding
# at least FusionSettings.min_coverage of the query's terms: one shared word of four ("lattice" for
# "quantum chromodynamics lattice simulations", in a number theory manual) is not a keyword match.
# The bar is the median of this library's best cosines for NULL_QUERIES (topics no particular library is about) plus a margin: a large
# library holds closer look-alikes for anything (median 0.360 over the 182,629 passages of the bench
# corpus, 0.331 over NFCorpus, 0.134 over the 13 of the test corpus). The margin is where relevant and
# unrelated queries part, and it widens with the library: over the bench corpus (realdocs dev:
# unrelated best 0.418, relevant worst 0.448) anything in 0.058-0.088 parts them, over the test corpus
# (unrelated best 0.171, "how do I get my deposit back" 0.189) 0.037-0.055; BAR_MARGIN +
# BAR_MARGIN_PER_DECADE x log10(passages) gives 0.046 and 0.066 (bench/fusion_sweep.py bar prints
# these). Slope: a logistic fit of judged relevance over the top 10 of NFCorpus dev and realdocs dev
# (3,980 query/passage pairs).
BAR_MARGIN, BAR_MARGIN_PER_DECADE = 0.04, 0.005
DEFAULT_BAR = 0.42        # before a library can measure its own (no passage with a vector yet)
RELEVANCE_SLOPE = 4.0
# Cosine from which the sentence closest to the query is marked as what matched. A sentence is short and
# scores lower than a passage: "a kitten sleeping near the fireplace" against "The cat curled up by the
# fire..." is 0.41, against the unrelated sentences beside it and recipe sentences for an unrelated
# query -0.03-0.12. Set between by hand from those, not fitted.
SENTENCE_MATCH = 0.3


def good_matches(hits: list[Hit]) -> list[Hit]:
    """The hits that match (relevance calibrated so that 0.5 is even odds); the rest are weaker."""
    return [h for h in hits if h.relevance >= GOOD_MATCH]


def top_ids(ids: np.ndarray, scores: np.ndarray) -> dict[int, float]:
    return {int(i): float(s) for i, s in zip(ids, scores)}


# -- highlighting ------------------------------------------------------------------------------

_SUFFIXES = ("ingly", "edly", "ings", "ing", "ied", "ies", "ed", "es", "ly", "s")
_WORD_RE = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n\s*\n|\n(?=\s*[-*#>|])")


def _stem(word: str) -> str:
    """Crude suffix stripping, enough to mark 'deposits' for 'deposit' the way FTS5's Porter matched it."""
    word = word.lower()
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def word_marks(text: str, words: list[str], phrases: list[str]) -> list[tuple[int, int]]:
    """Spans of the query's words (by stem) and phrases (whitespace-insensitive) in text."""
    stems = {_stem(w) for w in words}
    marks = [(m.start(), m.end()) for m in _WORD_RE.finditer(text) if _stem(m.group()) in stems]
    for phrase in phrases:
        pattern = r"\b" + r"\W+".join(re.escape(w) for w in phrase.split()) + r"\b"
        marks += [(m.start(), m.end()) for m in re.finditer(pattern, text, re.IGNORECASE)]
    return _merge(marks)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentences end at . ! ? before a space (not in 0.5 or a.b), a blank line, or a list/heading line."""
    bounds = [m.end() for m in _SENTENCE_END.finditer(text)]
    if not bounds or bounds[-1] < len(text):
        bounds.append(len(text))
    spans, start = [], 0
    for end in bounds:
        s0 = start
        start = end
        while s0 < end and text[s0].isspace():
            s0 += 1
        while end > s0 and text[end - 1].isspace():
            end -= 1
        if end - s0 >= 3:
            spans.append((s0, end))
    return spans


def mark_passages(hits: list[Hit], words: list[str], phrases: list[str],
                  closest_sentence: Callable[[list[list[str]]], list[int]] | None) -> list[Hit]:
    """Mark the query's words in each best passage; where none occur, mark the sentence closest in
    meaning (one model call for all such passages) if `closest_sentence` finds one that matches (-1:
    none does; the closest sentence of a passage that does not match is no match either). A hit below
    the good-match bar gets no sentence mark: it is shown as weaker, and nothing in it is what matched."""
    marked: list[Hit] = []
    need_sentence: list[int] = []
    for i, hit in enumerate(hits):
        marks = word_marks(hit.best.text, words, phrases)
        if marks:
            hit = replace(hit, best=replace(hit.best, marks=tuple(marks), mark_kind="words"))
        elif hit.relevance >= GOOD_MATCH:
            need_sentence.append(i)
        marked.append(hit)
    if closest_sentence is not None and need_sentence:
        spans = [sentence_spans(marked[i].best.text) for i in need_sentence]
        texts = [[marked[i].best.text[s:e] for s, e in sp] for i, sp in zip(need_sentence, spans)]
        choice = closest_sentence(texts)
        for i, sp, pick in zip(need_sentence, spans, choice):
            if 0 <= pick < len(sp) and len(sp) > 1:
                best = replace(marked[i].best, marks=(sp[pick],), mark_kind="sentence")
                marked[i] = replace(marked[i], best=best)
    return marked


LEAD_IN = 60   # a snippet starts at the passage's start only when its first mark ends within this


def snippet(text: str, width: int = 240, marks: tuple[tuple[int, int], ...] = ()) -> tuple[str, list[tuple[int, int]]]:
    """The passage on one line, about `width` characters around its first mark; marks moved to match."""
    flat_chars: list[str] = []
    index_map: list[int] = []   # flat position -> original position
    prev_space = True
    for i, ch in enumerate(text):
        if ch.isspace():
            if prev_space:
                continue
            ch, prev_space = " ", True
        else:
            prev_space = False
        flat_chars.append(ch)
        index_map.append(i)
    flat = "".join(flat_chars).rstrip()
    index_map = index_map[: len(flat)]
    orig_to_flat = {orig: pos for pos, orig in enumerate(index_map)}

    def to_flat(pos: int) -> int:
        while pos not in orig_to_flat and pos < len(text):
            pos += 1
        return orig_to_flat.get(pos, len(flat))

    flat_marks = [(to_flat(s), to_flat(e - 1) + 1) for s, e in marks if s < e]
    start = 0
    if flat_marks and flat_marks[0][1] > LEAD_IN:
        # Start at the sentence holding the first mark (where the preview scrolls): a list shows only
        # the snippet's first line or two, and a mark further in leaves the clause before it on show.
        first = flat_marks[0][0]
        start = max(0, first - width // 4)
        ends = [m.end() for m in _SENTENCE_END.finditer(flat, start, first)]
        if ends:
            start = ends[-1]
        else:
            space = flat.find(" ", start)
            start = space + 1 if 0 <= space < first else start
        while start < first and flat[start] == " ":
            start += 1
    end = min(len(flat), start + width)
    if end < len(flat):
        cut = flat.rfind(" ", start, end)
        end = cut if cut > start + width // 2 else end
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(flat) else ""
    shown = [(max(s, start) - start + len(prefix), min(e, end) - start + len(prefix))
             for s, e in flat_marks if s < end and e > start]
    return prefix + flat[start:end] + suffix, shown
