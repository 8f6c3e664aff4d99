"""What every extractor returns, raises and registers, so families stay interchangeable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    """Extracted text ("\\n" line ends: offsets and line numbers are computed on it) and what it is."""

    text: str
    kind: str            # family: text, markdown, code, html
    extractor: str       # id/version, e.g. "html/2": bump it when the output changes, files are re-read
    language: str | None = None   # code only: "python", "rust", ...
    title: str | None = None      # html <title>, markdown first "# " heading


class ExtractionError(Exception):
    """A reason a file was not indexed, worded for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unsupported(ExtractionError):
    """Not something we read (binary content, unknown type): recorded as skipped, not as an error."""


Reader = Callable[[bytes, str], Document]
"""(file bytes, lower-case file name) -> Document; raises ExtractionError for what it cannot read."""


@dataclass(frozen=True)
class Family:
    """One format family as the registry sees it: its id, what it claims by name, how it reads."""

    id: str                                  # "name/version"; every Document it returns carries it
    read: Reader
    extensions: frozenset[str] = frozenset()  # lower-case, with the dot: ".md"
    names: frozenset[str] = frozenset()       # exact lower-case file names: "makefile"
