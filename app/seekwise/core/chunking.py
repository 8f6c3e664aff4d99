"""Text to chunks that always fit the model: split on structure first, then sentences, lines, words."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from seekwise.core.extract.base import page_at

CHUNKING_VERSION = "c1"
# Passage size and the most a passage repeats of the one before it, in tokens: both are in every
# vector key (a change re-chunks and re-embeds). No overlap: NFCorpus dev nDCG@10 the same as with
# 32 (hybrid .3323 vs .3317, dense .3031 vs .3008), 7 % fewer tokens to embed on the bench corpus
# (bench/chunk_sweep.py). The model reads the passage alone: a line of file name and heading path
# before it (tried, then removed) cost meaning search on the real documents (999-file subset,
# realdocs dev top-5 file hits: dense 0.905 -> 0.811, hybrid 0.905 -> 0.892) and 10 % more tokens.
TARGET_TOKENS = 128
OVERLAP_TOKENS = 0

TokenCounter = Callable[[Sequence[str]], list[int]]

_LINE = re.compile(r"[^\n]*\n|[^\n]+")
_HEADING = re.compile(r"#{1,6}\s+\S")
_FENCE = re.compile(r"\s{0,3}(```|~~~)")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+|\n")
_SPACE = re.compile(r"\s+")
# Kinds whose extractors write '#' headings and fences the chunker may trust (plain text may start a
# line with '# ' for other reasons).
_STRUCTURED_KINDS = frozenset({"markdown", "html", "docx", "odt", "epub", "rst", "org", "mail"})


@dataclass(frozen=True)
class Chunk:
    """A passage of a file: its text and where it sits (char span, 1-based line and page of its start)."""

    text: str
    start: int
    end: int
    line: int
    page: int = 0  # 0: the document has no pages


@dataclass
class _Unit:
    start: int
    end: int
    tokens: int = 0
    heading: bool = False
    mid_word: bool = False  # cut inside a word: its token count is an estimate, checked at the end
    new_page: bool = False  # the first unit of a page: a chunk would rather start here


class Chunker:
    """Packs structural units greedily up to `target` tokens; never returns a chunk over `budget`."""

    def __init__(self, count_tokens: TokenCounter, budget: int, target: int = TARGET_TOKENS,
                 overlap: int = OVERLAP_TOKENS, tokenizer_tag: str = "") -> None:
        if budget < 8:
            raise ValueError("token budget too small to chunk with")
        self.count_tokens = count_tokens
        self.tokenizer_tag = tokenizer_tag
        self.budget = budget
        self.target = min(target, budget)
        self.overlap = overlap
        self._starts: np.ndarray | None = None

    @property
    def version(self) -> str:
        """Part of every vector key: new chunking rules mean new chunks, never stale ones."""
        return f"{CHUNKING_VERSION}-t{self.target}-o{self.overlap}-b{self.budget}-{self.tokenizer_tag}"

    def chunk(self, text: str, kind: str = "text", page_starts: Sequence[int] = ()) -> list[Chunk]:
        """Chunks of `text`; with `page_starts` (where each page begins) each knows its page, and a
        chunk of a quarter of the target or more ends at a page break rather than run across it."""
        units = self._blocks(text, structured=kind in _STRUCTURED_KINDS)
        if not units:
            return []
        if page_starts:
            _mark_pages(units, page_starts)
        starts = getattr(self.count_tokens, "starts_in", None)
        if starts:
            self._starts = _token_starts(starts, text, units)
        try:
            units = self._fit(text, units, level=0)
        finally:
            self._starts = None   # one file's offsets (8 bytes a token): not kept past it
        spans = self._pack(units)
        return self._finish(text, spans, page_starts)

    # -- splitting -----------------------------------------------------------------------------

    def _blocks(self, text: str, structured: bool) -> list[_Unit]:
        """Paragraphs, headings and fenced code blocks, as char spans with surrounding space trimmed."""
        units: list[_Unit] = []
        start: int | None = None
        in_fence = False

        def close(end: int) -> None:
            nonlocal start
            if start is not None:
                units.append(_Unit(start, end))
                start = None

        for m in _LINE.finditer(text):
            line = m.group()
            blank = not line.strip()
            if structured and _FENCE.match(line):
                if not in_fence:
                    close(m.start())
                    start = m.start()
                in_fence = not in_fence
                if not in_fence:
                    close(m.end())
                continue
            if in_fence:
                continue
            if blank:
                close(m.start())
            elif structured and _HEADING.match(line):
                close(m.start())
                units.append(_Unit(m.start(), m.end(), heading=True))
            elif start is None:
                start = m.start()
        close(len(text))
        return [u for u in (_trim(text, u) for u in units) if u is not None]

    def _fit(self, text: str, units: list[_Unit], level: int) -> list[_Unit]:
        """Count tokens; split what is over target into finer units (sentences, lines, words, chars)."""
        counts = self._estimate(text, units)
        out: list[_Unit] = []
        for unit, n in zip(units, counts):
            unit.tokens = n
            if n <= self.target:
                out.append(unit)
                continue
            parts, next_level = self._split(text, unit, n, level)
            parts[0].new_page = unit.new_page
            if len(parts) <= 1 and next_level > 4:
                raise AssertionError("chunker could not split a unit")  # unreachable: chars always split
            out.extend(self._fit(text, parts, next_level) if len(parts) > 1 else
                       self._fit(text, [unit], next_level))
        return out

    def _estimate(self, text: str, units: list[_Unit]) -> list[int]:
        """Tokens per span from one tokenization of the whole text (exact but at mid-word cuts)."""
        if self._starts is None:
            return self.count_tokens([text[u.start:u.end] for u in units])
        bounds = np.array([(u.start, u.end) for u in units], dtype=np.int64)
        found = np.searchsorted(self._starts, bounds)
        return (found[:, 1] - found[:, 0]).tolist()

    def _split(self, text: str, unit: _Unit, tokens: int, level: int) -> tuple[list[_Unit], int]:
        for lvl in range(level, 5):
            if lvl == 0:
                cuts = [m.end() for m in _SENTENCE_END.finditer(text, unit.start, unit.end)]
            elif lvl == 1:
                cuts = [m.end() for m in re.finditer(r"\n", text[unit.start:unit.end])]
                cuts = [unit.start + c for c in cuts]
            elif lvl == 2:
                cuts = _word_cuts(text, unit, tokens, self.target)
            else:
                width = max(1, (unit.end - unit.start) * self.target // (2 * tokens))
                cuts = list(range(unit.start + width, unit.end, width))
            parts = _cut(text, unit, cuts)
            if len(parts) > 1:
                if lvl >= 3:
                    for part in parts:
                        part.mid_word = True
                return parts, lvl + 1
        return [unit], 5

    # -- packing -------------------------------------------------------------------------------

    def _pack(self, units: list[_Unit]) -> list[tuple[int, int, bool]]:
        spans: list[tuple[int, int, bool]] = []
        cur: list[_Unit] = []
        size = 0
        for unit in units:
            fresh_section = (unit.heading or unit.new_page) and size >= self.target // 4
            if cur and (size + unit.tokens > self.target or fresh_section):
                spans.append(_span(cur))
                tail = cur[-1]
                carry = not fresh_section and not tail.heading and tail.tokens <= self.overlap \
                    and tail.tokens + unit.tokens <= self.target and len(cur) > 1
                cur, size = ([tail], tail.tokens) if carry else ([], 0)
            cur.append(unit)
            size += unit.tokens
        if cur:
            spans.append(_span(cur))
        return spans

    def _finish(self, text: str, spans: list[tuple[int, int, bool]], page_starts: Sequence[int] = ()) -> list[Chunk]:
        """Spans cut mid-word are checked with the real tokenizer and split again if over budget.

        Elsewhere the count is exact: tokens never cross whitespace, and every other cut is at whitespace.
        """
        doubtful = [(a, b) for a, b, mid in spans if mid]
        over = {span for span, n in zip(doubtful, self.count_tokens([text[a:b] for a, b in doubtful]))
                if n > self.budget}
        final: list[tuple[int, int]] = []
        for a, b, _ in spans:
            if (a, b) not in over:
                final.append((a, b))
            else:
                half = Chunker(self.count_tokens, self.budget, max(8, self.target // 2), 0)
                final.extend((u.start, u.end) for u in half._fit(text, [_Unit(a, b)], 0))
        newlines = [m.start() for m in re.finditer("\n", text)]
        return [Chunk(text[a:b], a, b, bisect.bisect_left(newlines, a) + 1, page_at(page_starts, a))
                for a, b in final]


STARTS_CHARS = 1 << 18   # text per tokenizer call when finding token offsets


def _token_starts(starts_in: Callable[[str, list[tuple[int, int]]], np.ndarray], text: str,
                  units: list[_Unit]) -> np.ndarray:
    """Char offsets of every token of the units, tokenized a slice of text at a time: the tokenizer's
    per-token objects for a whole book at once came to some 45 bytes a char (200 MB for a 4.4 M char
    PDF), and the allocator kept most of that after the file."""
    parts: list[np.ndarray] = []
    group: list[tuple[int, int]] = []
    size = 0
    for i, unit in enumerate(units):
        group.append((unit.start, unit.end))
        size += unit.end - unit.start
        if size >= STARTS_CHARS or i == len(units) - 1:
            parts.append(starts_in(text, group))
            group, size = [], 0
    return np.concatenate(parts)


def _mark_pages(units: list[_Unit], page_starts: Sequence[int]) -> None:
    page = 0
    for unit in units:
        here = page_at(page_starts, unit.start)
        unit.new_page, page = here != page, here


def _span(units: list[_Unit]) -> tuple[int, int, bool]:
    return units[0].start, units[-1].end, any(u.mid_word for u in units)


def _trim(text: str, unit: _Unit) -> _Unit | None:
    a, b = unit.start, unit.end
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return _Unit(a, b, heading=unit.heading) if b > a else None


def _cut(text: str, unit: _Unit, cuts: list[int]) -> list[_Unit]:
    bounds = [unit.start] + [c for c in cuts if unit.start < c < unit.end] + [unit.end]
    parts = (_trim(text, _Unit(a, b)) for a, b in zip(bounds, bounds[1:]))
    return [p for p in parts if p is not None]


def _word_cuts(text: str, unit: _Unit, tokens: int, target: int) -> list[int]:
    """Cut at whitespace roughly every `target` tokens' worth of characters."""
    width = max(1, (unit.end - unit.start) * target // max(tokens, 1) * 3 // 4)
    cuts: list[int] = []
    pos = unit.start + width
    while pos < unit.end:
        m = _SPACE.search(text, pos, unit.end)
        if not m:
            break
        cuts.append(m.end())
        pos = m.end() + width
    return cuts
