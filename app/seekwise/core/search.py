"""Query to ranked files: dense and keyword candidates, fused, filtered, grouped by file, marked up."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from seekwise.core.store import ChunkRecord, FileRecord, Store

CANDIDATES_PER_HIT = 5   # chunks fetched per file wanted, since several chunks may share a file
MODES = ("hybrid", "dense", "lexical")
DENSE_BACKENDS = ("hnsw", "binary", "exact")


@dataclass(frozen=True)
class FusionSettings:
    """Reciprocal-rank fusion: a chunk scores the sum of weight / (k + its rank) over the retrievers.

    Tuned on NFCorpus dev: every k in 30-100 and lexical weight in 0.85-1.2 gave nDCG@10 0.329-0.332,
    so the textbook k=60 with equal weights stays. A keyword hit counts in proportion to the share of
    the query's words it holds, and not at all below half: otherwise one shared word ("glass") in a
    small library outranks the passage that means the query. That costs 0.001 nDCG@10 on NFCorpus.
    """

    k: float = 60.0
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    min_coverage: float = 0.5


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
    score: float
    best: Passage
    others: list[Passage] = field(default_factory=list)

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
    return np.unique(np.asarray(ids, dtype=np.int64))


def whole_files(store: Store, chunk_ids: Iterable[int]) -> np.ndarray:
    """Every chunk id of the files these chunks belong to (sorted): `-word` bars a file, not a passage."""
    return np.asarray(sorted(store.chunks_of_files(chunk_ids)), dtype=np.int64)


# -- fusion and grouping -----------------------------------------------------------------------

def fuse(legs: list[tuple[float, list[int], dict[int, float] | None]], settings: FusionSettings) -> dict[int, float]:
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


def group_by_file(chunks: list[ChunkRecord], scores: dict[int, float], k: int) -> list[Hit]:
    """A file's score is its best chunk's; ties broken by path for stable output."""
    by_path: dict[str, list[Passage]] = {}
    for ch in chunks:
        by_path.setdefault(ch.path, []).append(
            Passage(ch.id, scores[ch.id], ch.line, ch.start, ch.end, ch.text, page=ch.page))
    hits = []
    for path, passages in by_path.items():
        passages.sort(key=lambda p: -p.score)
        hits.append(Hit(path, passages[0].score, passages[0], passages[1:]))
    hits.sort(key=lambda h: (-h.score, h.path))
    return hits[:k]


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
    meaning (one model call for all such passages)."""
    marked: list[Hit] = []
    need_sentence: list[int] = []
    for i, hit in enumerate(hits):
        marks = word_marks(hit.best.text, words, phrases)
        if marks:
            hit = replace(hit, best=replace(hit.best, marks=tuple(marks), mark_kind="words"))
        else:
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
    if flat_marks and flat_marks[0][1] > width:
        start = max(0, flat_marks[0][0] - width // 4)
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < flat_marks[0][0] else start
    end = min(len(flat), start + width)
    if end < len(flat):
        cut = flat.rfind(" ", start, end)
        end = cut if cut > start + width // 2 else end
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(flat) else ""
    shown = [(max(s, start) - start + len(prefix), min(e, end) - start + len(prefix))
             for s, e in flat_marks if s < end and e > start]
    return prefix + flat[start:end] + suffix, shown
