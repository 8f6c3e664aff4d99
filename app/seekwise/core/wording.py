"""Counts as words, in one place, so no message says "1 files" or "(+1 more passages)"."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 file', '2 files', '3,732 files'; `many` for a word whose plural is not word + 's'."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"
