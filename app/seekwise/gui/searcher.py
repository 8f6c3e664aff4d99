"""Search as you type: one search at a time off the GUI thread, only the newest query's answer shown."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal

from seekwise.core.library import Library
from seekwise.core.query import parse_query
from seekwise.core.search import Hit, Passage, SearchFilters, mark_passages, snippet
from seekwise.gui.workers import Runner

DEBOUNCE_MS = 150
RESULTS = 30
REFINE_TOP = 12                        # rows whose passage gets a meaning mark when no word matched
COSINE_FLOOR, COSINE_FULL = 0.1, 0.7   # the relevance bar's empty and full points


@dataclass(frozen=True)
class ResultRow:
    """What a result line shows, computed off the GUI thread (painting must not touch the store)."""

    path: str
    name: str
    folder: str
    mtime: float | None
    score: float
    relevance: float          # 0..1, relative to the best hit of this query
    snippet: str
    marks: tuple[tuple[int, int], ...]
    passage: Passage
    mark_kind: str = ""

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
    parsed = parse_query(request.query)
    hits = lib.search(request.query, k=k, mode=request.mode, filters=request.filters, mark=False)
    hits = mark_passages(hits, parsed.highlight_words(), parsed.phrases, None)
    rows = []
    cues = relevance_cues(lib, request, hits)
    for hit, cue in zip(hits, cues):
        rec = lib.store.get_file(hit.path)
        rows.append(_row(hit, cue, rec.mtime_ns / 1e9 if rec else None))
    answer = SearchAnswer(request, rows, time.perf_counter() - started)
    answer.refined = request.mode == "lexical" or all(r.marks for r in rows[:REFINE_TOP])
    return answer


def _row(hit: Hit, relevance: float, mtime: float | None) -> ResultRow:
    text, marks = snippet(hit.best.text, 260, hit.best.marks)
    return ResultRow(path=hit.path, name=os.path.basename(hit.path), folder=os.path.dirname(hit.path),
                     mtime=mtime, score=hit.score, relevance=relevance, snippet=text, marks=tuple(marks),
                     passage=hit.best, mark_kind=hit.best.mark_kind)


def refine_marks(lib: Library, answer: SearchAnswer) -> SearchAnswer:
    """Mark the sentence closest in meaning in the top passages that hold none of the query's words."""
    rows = list(answer.rows)
    todo = [i for i, r in enumerate(rows[:REFINE_TOP]) if not r.marks]
    if todo:
        encoder = lib.encoder.get()
        vector = encoder.embed_query(parse_query(answer.request.query).text)

        def closest(passages: list[list[str]]) -> list[int]:
            flat = [sentence for sentences in passages for sentence in sentences]
            scores = encoder.embed_documents(flat) @ vector if flat else []
            out, pos = [], 0
            for sentences in passages:
                part = scores[pos:pos + len(sentences)]
                out.append(int(max(range(len(part)), key=lambda j: part[j])) if len(part) else -1)
                pos += len(sentences)
            return out

        hits = [Hit(rows[i].path, rows[i].score, rows[i].passage) for i in todo]
        for i, hit in zip(todo, mark_passages(hits, [], [], closest)):
            rows[i] = _row(hit, rows[i].relevance, rows[i].mtime)
    refined = SearchAnswer(answer.request, rows, answer.seconds)
    refined.refined = True
    return refined


def relevance_cues(lib: Library, request: SearchRequest, hits: list) -> list[float]:
    """0..1 per hit. Fused (RRF) scores say only the order, so where the query was embedded anyway the
    cue is the best passage's cosine to the query (an absolute scale: ~0.15 unrelated, 0.6+ close);
    keywords-only mode shows BM25 relative to the best hit."""
    if not hits:
        return []
    if request.mode == "lexical":
        top = max(hits[0].score, 1e-9)
        return [max(0.05, min(1.0, h.score / top)) for h in hits]
    vector = lib.encoder.get().embed_query(parse_query(request.query).text)   # cached by the search
    digests = lib.store.get_digests([h.best.chunk_id for h in hits])
    known = [d for d in digests if d is not None]
    vecs = iter(lib.store.get_vectors(lib.model_version, known, lib.manifest.dims) @ vector) if known else iter(())
    out = []
    for d in digests:
        cos = float(next(vecs)) if d is not None else float("nan")
        out.append(0.05 if cos != cos else max(0.05, min(1.0, (cos - COSINE_FLOOR) / (COSINE_FULL - COSINE_FLOOR))))
    return out


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
        self._runner.run(lambda: run_search(lib, want), self._done,
                         lambda exc: self._done(SearchAnswer(want, error=str(exc) or type(exc).__name__)))

    def _done(self, answer: SearchAnswer) -> None:
        self._running = None
        if self._wanted is not None and answer.request.seq == self._wanted.seq and not self._timer.isActive():
            self.answered.emit(answer)
            if not answer.refined and not answer.error and self.library is not None:
                lib, self._running = self.library, answer.request
                self._runner.run(lambda: refine_marks(lib, answer), self._done,
                                 lambda exc: self._done(answer.__class__(answer.request, answer.rows, answer.seconds)))
            else:
                self.busy_changed.emit(False)
        else:
            self.dropped += 1
            self._kick()

    def close(self) -> None:
        self._timer.stop()
        self.library = None
        self._runner.close()

    def library_changed(self) -> None:
        """The library grew (a commit): run the current query again, quietly."""
        if self._wanted is not None and self._wanted.query and not self.busy:
            self.request(self._wanted.query, self._wanted.mode, self._wanted.filters, now=True)
