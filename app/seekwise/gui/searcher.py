"""Search as you type: one search at a time off the GUI thread, only the newest query's answer shown."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal

from seekwise.core.library import Library
from seekwise.core.search import GOOD_MATCH, Hit, Passage, SearchFilters, good_matches, snippet
from seekwise.gui.workers import Runner

log = logging.getLogger(__name__)

DEBOUNCE_MS = 150
RESULTS = 30
REFINE_TOP = 12                        # rows whose passage gets a meaning mark when no word matched
NO_GOOD_MATCH = "No good match. Weaker matches:"
WEAKER = "Weaker matches"


@dataclass(frozen=True)
class ResultRow:
    """What a result line shows, computed off the GUI thread (painting must not touch the store)."""

    path: str
    name: str
    folder: str
    mtime: float | None
    score: float
    relevance: float          # 0..1, calibrated (core.search.relevance): 0.5 and up is a good match
    snippet: str
    marks: tuple[tuple[int, int], ...]
    passage: Passage
    mark_kind: str = ""
    divider: str = ""         # drawn above this row: where the weaker matches start

    @property
    def good(self) -> bool:
        return self.relevance >= GOOD_MATCH

    @property
    def page(self) -> int:
        return self.passage.page

    @property
    def line(self) -> int:
        return self.passage.line


@dataclass(frozen=True)
class SearchRequest:
    seq: int
    query: str
    mode: str = "hybrid"
    filters: SearchFilters | None = None


@dataclass
class SearchAnswer:
    request: SearchRequest
    rows: list[ResultRow] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""
    refined: bool = True          # sentence marks done (or not needed)


def run_search(lib: Library, request: SearchRequest, k: int = RESULTS) -> SearchAnswer:
    """The query on a pool thread: search, the query's words marked, the fields each row shows.

    Marking the sentence closest in meaning costs a model call over every unmarked passage (50-150
    ms), ten times the search itself, so it comes after, in `refine_marks`: results show at once."""
    started = time.perf_counter()
    hits = lib.search(request.query, k=k, mode=request.mode, filters=request.filters, closest_sentence=False)
    modified = lib.modified([hit.path for hit in hits])
    rows = []
    good = len(good_matches(hits))
    for i, hit in enumerate(hits):
        divider = (NO_GOOD_MATCH if not good else WEAKER) if i == good else ""
        rows.append(_row(hit, modified[hit.path], divider))
    answer = SearchAnswer(request, rows, time.perf_counter() - started)
    answer.refined = request.mode == "lexical" or all(r.marks for r in rows[:REFINE_TOP])
    return answer


def _row(hit: Hit, mtime: float | None, divider: str) -> ResultRow:
    text, marks = snippet(hit.best.text, 260, hit.best.marks)
    return ResultRow(path=hit.path, name=os.path.basename(hit.path), folder=os.path.dirname(hit.path),
                     mtime=mtime, score=hit.score, relevance=hit.relevance, snippet=text, marks=tuple(marks),
                     passage=hit.best, mark_kind=hit.best.mark_kind, divider=divider)


def refine_marks(lib: Library, answer: SearchAnswer) -> SearchAnswer:
    """Mark the sentence closest in meaning in the top passages that hold none of the query's words,
    where it is close enough to match (a passage that does not match has no sentence that does)."""
    rows = list(answer.rows)
    todo = [i for i, r in enumerate(rows[:REFINE_TOP]) if not r.marks]
    if todo:
        hits = [Hit(rows[i].path, rows[i].score, rows[i].passage, relevance=rows[i].relevance) for i in todo]
        for i, hit in zip(todo, lib.mark_closest(answer.request.query, hits)):
            rows[i] = _row(hit, rows[i].mtime, rows[i].divider)
    refined = SearchAnswer(answer.request, rows, answer.seconds)
    refined.refined = True
    return refined


class Searcher(QObject):
    """Debounces keystrokes, runs at most one search at a time, and keeps only the newest request
    waiting: an older query finishing after a newer one was asked for is dropped, never shown."""

    answered = Signal(object)      # SearchAnswer of the newest request
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, debounce_ms: int = DEBOUNCE_MS) -> None:
        super().__init__(parent)
        self.library: Library | None = None
        self._runner = Runner(threads=1, parent=self)
        self._timer = QTimer(self, singleShot=True, interval=debounce_ms)
        self._timer.timeout.connect(self._kick)
        self._seq = 0
        self._wanted: SearchRequest | None = None   # the newest request
        self._running: SearchRequest | None = None
        self.dropped = 0                             # stale answers thrown away (tests, figures)

    def set_library(self, lib: Library | None) -> None:
        self.library = lib

    def request(self, query: str, mode: str = "hybrid", filters: SearchFilters | None = None,
                now: bool = False) -> int:
        self._seq += 1
        self._wanted = SearchRequest(self._seq, query.strip(), mode, filters)
        if now:
            self._timer.stop()
            self._kick()
        else:
            self._timer.start()
        return self._seq

    @property
    def latest(self) -> SearchRequest | None:
        return self._wanted

    @property
    def busy(self) -> bool:
        return self._running is not None or self._timer.isActive()

    def _kick(self) -> None:
        want = self._wanted
        if want is None or self._running is not None or self.library is None:
            return                              # the running search's end starts the newest one
        if not want.query:
            self.answered.emit(SearchAnswer(want))
            return
        self._running = want
        self.busy_changed.emit(True)
        lib = self.library
        self._runner.run(lambda: run_search(lib, want), self._done, lambda exc: self._failed(want, exc))

    def _failed(self, want: SearchRequest, exc: BaseException) -> None:
        # the traceback, never the query: the log holds no query words at INFO or above
        log.warning("the search failed", exc_info=exc)
        self._done(SearchAnswer(want, error=str(exc) or type(exc).__name__))

    def _done(self, answer: SearchAnswer) -> None:
        self._running = None
        if self._wanted is not None and answer.request.seq == self._wanted.seq and not self._timer.isActive():
            self.answered.emit(answer)
            if not answer.refined and not answer.error and self.library is not None:
                lib, self._running = self.library, answer.request
                self._runner.run(lambda: refine_marks(lib, answer), self._done, lambda exc: self._unrefined(answer, exc))
            else:
                self.busy_changed.emit(False)
        else:
            self.dropped += 1
            self._kick()

    def _unrefined(self, answer: SearchAnswer, exc: BaseException) -> None:
        log.warning("marking the closest sentences failed; the results stand as they are", exc_info=exc)
        self._done(answer.__class__(answer.request, answer.rows, answer.seconds))

    def close(self) -> None:
        self._timer.stop()
        self.library = None
        self._runner.close()

    def library_changed(self) -> None:
        """The library grew (a commit): run the current query again, quietly."""
        if self._wanted is not None and self._wanted.query and not self.busy:
            self.request(self._wanted.query, self._wanted.mode, self._wanted.filters, now=True)
