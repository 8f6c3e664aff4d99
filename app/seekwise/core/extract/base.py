"""What every extractor returns or raises."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    """Extracted text ("\\n" line ends: offsets and line numbers are computed on it) and what it is."""

    text: str
    kind: str            # family: text, markdown, code, html
    extractor: str       # id/version, e.g. "html/1": bump it when the output changes, files are re-read
    language: str | None = None
    title: str | None = None


class ExtractionError(Exception):
    """A reason a file was not indexed, worded for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unsupported(ExtractionError):
    """Not something we read (binary content, unknown type): recorded as skipped, not as an error."""
