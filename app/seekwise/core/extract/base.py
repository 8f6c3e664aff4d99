"""What every extractor returns, raises and registers, so families stay interchangeable."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    """Extracted text ("\\n" line ends: offsets and line numbers are computed on it) and what it is."""

    text: str
    kind: str            # family: text, markdown, code, html, pdf, docx, ...
    extractor: str       # id/version, e.g. "html/2": bump it when the output changes, files are re-read
    language: str | None = None   # code only: "python", "rust", ...
    title: str | None = None      # html <title>, markdown first "# " heading
    page_starts: tuple[int, ...] = ()  # paged formats (PDF): where each page begins in `text`
    ocr_pages: tuple[int, ...] = ()    # 0-based pages (or the picture) whose text only OCR can read

    def page_at(self, offset: int) -> int:
        """The 1-based page holding `offset`, or 0 for a document without pages."""
        return page_at(self.page_starts, offset)


def page_at(page_starts: Sequence[int], offset: int) -> int:
    """1-based page of a char offset; an empty page shares its start with the next, which wins."""
    return max(1, bisect.bisect_right(page_starts, offset)) if page_starts else 0


def join_pages(texts: Sequence[str | None]) -> tuple[str, tuple[int, ...]]:
    """Pages (PDF pages, slides) as one text, a blank line between, and where each page starts; an
    empty page (None or '') adds no text but keeps its place, so page numbers stay the viewer's."""
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    for text in texts:
        if text and parts:
            parts.append("\n\n")
            pos += 2
        starts.append(pos)
        if text:
            parts.append(text)
            pos += len(text)
    return "".join(parts), tuple(starts)


class ExtractionError(Exception):
    """A reason a file was not indexed, worded for the user.

    `retry`: the trouble is access, not content (permission denied, a vanished or locked file, no
    worker), so the unchanged file is tried again next run. A file whose content failed (corrupt, too
    slow, too big for memory) is tried again only when it changes or its extractor improves: a file
    that hits the time limit must not cost that time on every scan.
    """

    def __init__(self, reason: str, retry: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


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
    # Parsers of complex binary formats (native code, archives, XML) run in a worker process with a
    # time and memory limit, so one hostile or broken file cannot hang or kill the indexer.
    isolated: bool = False
    # Times the library's size limit this family accepts: a PDF, an e-book or an office file is mostly
    # images and fonts, so it holds far less text per byte than a text file (and it is read in the
    # worker, whose memory is capped, never in the indexer).
    size_factor: int = 1
    # The reader that also reads text in pictures (OCR), for the indexer's OCR pass; slow, so the
    # keyword phase uses `read` and records the pages it left (Document.ocr_pages).
    read_with_ocr: Reader | None = None

    @property
    def name(self) -> str:
        return self.id.split("/", 1)[0]
