"""Query to ranked files: embed, nearest chunks, group by file, best passage with its line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from seekwise.core.store import ChunkRecord

CANDIDATES_PER_HIT = 5   # chunks fetched per file wanted, since several chunks may share a file


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    score: float
    line: int
    start: int
    end: int
    text: str


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
    def text(self) -> str:
        return self.best.text


def group_by_file(chunks: list[ChunkRecord], scores: dict[int, float], k: int) -> list[Hit]:
    """A file's score is its best chunk's; files ordered by that, ties by path for stable output."""
    by_path: dict[str, list[Passage]] = {}
    for ch in chunks:
        by_path.setdefault(ch.path, []).append(
            Passage(ch.id, scores[ch.id], ch.line, ch.start, ch.end, ch.text))
    hits = []
    for path, passages in by_path.items():
        passages.sort(key=lambda p: -p.score)
        hits.append(Hit(path, passages[0].score, passages[0], passages[1:]))
    hits.sort(key=lambda h: (-h.score, h.path))
    return hits[:k]


def snippet(text: str, width: int = 240) -> str:
    """The passage on one line, cut at a word near `width` characters."""
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= width:
        return flat
    cut = flat.rfind(" ", 0, width)
    return flat[: cut if cut > width // 2 else width] + " …"


def top_ids(ids: np.ndarray, scores: np.ndarray) -> dict[int, float]:
    return {int(i): float(s) for i, s in zip(ids, scores)}
