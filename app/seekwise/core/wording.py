"""Counts as words, in one place, so no message says "1 files" or "(+1 more passages)"."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 file', '2 files', '3,732 files'; `many` for a word whose plural is not word + 's'."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def percent(share: float) -> str:
    """'41 %' of a 0..1 share; never '100 %' while a part is missing, nor '0 %' once a part is there."""
    pct = 100 * share
    return f"{99 if 99 < pct < 100 else 1 if 0 < pct < 1 else round(pct)} %"
