"""The one facade the CLI and the GUI use: open a library, add roots, index, search, status, close."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seekwise.core.ann import exact_search
from seekwise.core.chunking import OVERLAP_TOKENS, TARGET_TOKENS, Chunker
from seekwise.core.context import CONTEXT_CHARS, PassageContext, lay_out
from seekwise.core.derived import DerivedIndexes
from seekwise.core.embedding import Encoder, ModelManifest, TokenCounter, resolve_model
from seekwise.core.errors import LibraryDamaged, NoLibrary, SeekwiseError
from seekwise.core.ignore import DEFAULT_RULES, IgnoreRules
from seekwise.core.extract.reading import DEFAULT_MAX_FILE_MB
from seekwise.core.lazy import Lazy
from seekwise.core.lock import WriterLock
from seekwise.core.match_bar import NULL_QUERIES, MatchBar
from seekwise.core.paths import LibraryPaths, drop_derived
from seekwise.core.query import parse_query
from seekwise.core.search import (CANDIDATES_PER_HIT, DENSE_BACKENDS, MODES, SENTENCE_MATCH, FusionSettings, Hit,
                                  Leg, Passage, SearchFilters, allowed_chunk_ids, boost_for, cap_per_file,
                                  keyword_evidence_for, mark_passages, pool_size, rank, whole_files)
from seekwise.core.store import FileStatus, Store
from seekwise.core.under import is_under

if TYPE_CHECKING:   # the indexer pulls in every reader (~80 ms): a search never needs it
    from seekwise.core.indexer import IndexReport, Indexer, Progress

log = logging.getLogger(__name__)

__all__ = ["FileStatus", "Hit", "IndexReport", "Library", "LibraryStatus", "PassageContext", "Progress",
           "SearchFilters", "SeekwiseError"]


def __getattr__(name: str) -> object:
    """IndexReport and Progress stay importable from here, loading the indexer only when asked for."""
    if name in ("IndexReport", "Progress"):
        from seekwise.core import indexer

        return getattr(indexer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


DEFAULT_OVERSAMPLE = 4
RESTRICTIVE_FILTER = 0.05   # below this share of the library, a filtered dense search is brute force
WIDEN, WIDEN_ROUNDS = 4, 2  # a dense pool spanning too few files is fetched again 4x, then 16x, as wide
RECHECK_COST_SHARE = 10     # the lacking vectors are checked again at most every 10x what a check took
BAR_OVERSAMPLE = 256        # sign-code candidates rescored per null query for the match bar: its
                            # median within 0.0001 of an exact scan's on the bench corpus (32: 0.010 low)


@dataclass
class LibraryStatus:
    data_dir: str
    roots: list[str]
    model_id: str
    model_version: str
    model_folder: str
    files: int = 0
    chunks: int = 0
    vectors: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    problems: list[tuple[str, str, str]] = field(default_factory=list)
    store_bytes: int = 0
    ann_bytes: int = 0
    ann_entries: int | None = None
    lexical_bytes: int = 0
    last_indexed: float | None = None
    keyword_files: int = 0             # files whose text the keyword index holds (every readable one)
    chunks_with_vectors: int = 0       # passages searchable by meaning, for this model
    chunks_without_vectors: int = 0    # passages the meaning phase has still to embed
    meaning_share: float = 1.0         # chunks_with_vectors / chunks (1.0 for an empty library)
    meaning_eta_s: float | None = None  # at the last recorded embedding rate, when passages wait
    awaiting_ocr: int = 0              # files whose pictures (scans) OCR has still to read
    ocr_unavailable: str | None = None  # why it cannot now (switched off, no Tesseract), if so


@dataclass
class _Gaps:
    """Chunks without a vector for the library's model, as last counted (Library._vector_gaps)."""

    generation: int
    last_id: int                      # the highest chunk id looked at: above it, chunks are new
    chunks: int                       # the store's chunk and vector entry counts then
    vectors: int
    missing: dict[int, bytes] = field(default_factory=dict)   # chunk id -> digest, lacking a vector
    stale: bool = False               # vectors came or chunks went since `missing` was checked
    gone: bool = False                # chunks went
    checked: float = 0.0              # time.monotonic() of that check, and what it took
    cost: float = 0.0


class Library:
    """Open with a data dir (or the default); `readonly` for searching beside a running indexer."""

    def __init__(self, data_dir: str | os.PathLike | None = None, model: str | os.PathLike | None = None,
                 threads: int | None = None, readonly: bool = False, ef: int = 96,
                 max_file_mb: int = DEFAULT_MAX_FILE_MB, dense: str = "hnsw",
                 oversample: int = DEFAULT_OVERSAMPLE, fusion: FusionSettings | None = None,
                 ignore: IgnoreRules | None = None) -> None:
        self.paths = LibraryPaths.resolve(data_dir)
        self.paths.check()
        if readonly and not self.paths.store.exists():   # a reader creates nothing
            if not self.paths.has_indexes():
                raise NoLibrary(f"no library at {self.paths.root} yet: index a folder first "
                                "(seekwise index FOLDER)")
            raise LibraryDamaged(self.paths.store, "it is missing, yet the library's indexes are there")
        if not readonly:
            self.paths.ensure()
        self.readonly = readonly
        self.threads = threads
        self.ef = ef
        if dense not in DENSE_BACKENDS:
            raise SeekwiseError(f"unknown dense search {dense!r}; one of {', '.join(DENSE_BACKENDS)}")
        self.dense = dense
        self.oversample = oversample
        self.fusion = fusion or FusionSettings()
        self.max_file_bytes = max_file_mb << 20
        self.ignore = ignore or DEFAULT_RULES  # what scans and the watcher leave out (core.settings makes it)
        self.manifest: ModelManifest = resolve_model(model, self.paths.models)
        self.store = Store(self.paths.store, readonly=readonly, new_ok=not self.paths.has_indexes())
        self.encoder: Lazy[Encoder] = Lazy(lambda: Encoder(self.manifest, threads=self.threads,
                                                           record=self.paths.verified_models))
        self.tokens: Lazy[TokenCounter] = Lazy(lambda: TokenCounter(self.manifest))
        self.chunker: Lazy[Chunker] = Lazy(self._make_chunker)
        self.derived = DerivedIndexes(self.store, self.paths, self.model_version, self.manifest.dims,
                                      ef=ef, threads=threads, readonly=readonly)
        self._exact: tuple[int, np.ndarray, np.ndarray] | None = None
        self._bar = MatchBar(self.paths.ann_dir(self.model_version))
        self._by_status: tuple[int, dict[str, int]] | None = None
        self._gaps: _Gaps | None = None
        self._gaps_lock = threading.Lock()
        self._writer = WriterLock(self.paths.writer_lock)
        self._writer_depth = 0
        self._writer_mutex = threading.RLock()

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        self.derived.close()
        self.store.close()

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def model_version(self) -> str:
        return self.manifest.version_id

    chunk_target = TARGET_TOKENS    # set on an instance before its first chunk to try other sizes
    chunk_overlap = OVERLAP_TOKENS

    def _make_chunker(self) -> Chunker:
        counter = self.tokens.get()
        return Chunker(counter, counter.budget, self.chunk_target, self.chunk_overlap, tokenizer_tag=counter.tag)

    # -- roots ---------------------------------------------------------------------------------

    def roots(self) -> list[str]:
        return list(self.store.get_meta("roots", []))

    def add_root(self, folder: str | os.PathLike) -> str:
        """Remember a folder to index; a folder inside one we already watch adds nothing."""
        root = os.path.realpath(os.path.expanduser(os.fspath(folder)))
        roots = self.roots()
        if not any(is_under(root, r) for r in roots):
            roots = [r for r in roots if not is_under(r, root)] + [root]
            self.store.put_meta("roots", sorted(roots))
        return root

    def remove_root(self, folder: str | os.PathLike) -> None:
        with self.writing():
            self.forget(self.drop_root(folder))

    def drop_root(self, folder: str | os.PathLike) -> str:
        """No longer a folder to index (its records stay until `forget`); the root as it was stored."""
        root = os.path.realpath(os.path.expanduser(os.fspath(folder)))
        self.store.put_meta("roots", [r for r in self.roots() if r != root])
        return root

    def forget(self, folder: str) -> int:
        """Records of a folder (no longer a root) leave the library; the caller holds `writing()`."""
        prefix = folder.rstrip(os.sep) + os.sep
        gone = [rec.path for rec in self.store.iter_files(prefix)]
        gone += [folder] if self.store.get_file(folder) else []
        if gone:
            result = self.store.commit([], gone, {}, self.model_version)
            self.derived.remove_chunks(result)
        return len(gone)

    def clear(self) -> None:
        """Forget everything: folders, files, chunks, the vector cache, the derived indexes. Settings stay."""
        with self.writing():
            self.store.clear(keep_vectors=False, keep_roots=False)
            self._reset_derived()

    def rebuild(self) -> None:
        """Start over from the files: records and derived indexes go; the folders and the vector cache
        stay, so the next run (the caller starts it) re-reads every file but embeds nothing twice."""
        with self.writing():
            self.store.clear(keep_vectors=True, keep_roots=True)
            self._reset_derived()

    def _reset_derived(self) -> None:
        """Delete the derived files (they may be what is broken) and open fresh ones over the store."""
        self.derived.close()
        drop_derived(self.paths)
        self.derived = DerivedIndexes(self.store, self.paths, self.model_version, self.manifest.dims,
                                      ef=self.ef, threads=self.threads, readonly=self.readonly)
        self._exact = None

    # -- indexing ------------------------------------------------------------------------------

    def acquire_writer(self) -> None:
        """Take the library's writer lock (re-entrant within this object); LibraryLocked if another
        process holds it. A background service holds it for its lifetime, an `index` for its run."""
        if self.readonly:
            raise SeekwiseError("This library was opened read-only")
        with self._writer_mutex:
            if self._writer_depth == 0:
                self._writer.acquire()
            self._writer_depth += 1

    def release_writer(self) -> None:
        with self._writer_mutex:
            self._writer_depth -= 1
            if self._writer_depth == 0:
                self._writer.release()

    @contextmanager
    def writing(self) -> Iterator[None]:
        self.acquire_writer()
        try:
            yield
        finally:
            self.release_writer()

    def make_indexer(self, encoder: Lazy[Encoder] | None = None) -> Indexer:
        """An indexer on this library; the caller holds `writing()`. `encoder` lets a background
        service embed with its own thread budget while searches keep the foreground one."""
        from seekwise.core.indexer import Indexer

        return Indexer(self.store, self.model_version, encoder or self.encoder, self.derived, self.chunker,
                       self.chunker.get().version, self.max_file_bytes, rules=self.ignore)

    def finish_run(self) -> None:
        self.store.put_meta("last_indexed", time.time())
        self.store.put_meta("model", self.model_version)

    def index(self, folders: list[str | os.PathLike] | None = None,
              progress: Callable[[Progress], None] | None = None,
              cancel: threading.Event | None = None) -> IndexReport:
        """Index the given folders (added as roots) or all roots; refuses if another writer runs."""
        with self.writing():
            roots = [self.add_root(f) for f in folders] if folders else self.roots()
            report = self.make_indexer().run(roots, progress, cancel)
            self.finish_run()
            return report

    # -- searching -----------------------------------------------------------------------------

    def search(self, query: str, k: int = 10, mode: str = "hybrid", dense: str | None = None,
               filters: SearchFilters | None = None, exact: bool = False, mark: bool = True,
               oversample: int | None = None, closest_sentence: bool = True) -> list[Hit]:
        """Files that best match `query`, best first, each with its best passage marked up.

        mode: hybrid (meaning and keywords, fused), dense (meaning only), lexical (keywords, BM25).
        dense: hnsw, binary (sign bits, then float32 rescoring) or exact; `exact=True` is dense="exact".
        Query syntax: plain words; "exact phrase": the passage shown holds it; -word: no file holding
        it anywhere is a hit. Both narrow the candidates before any retriever takes its best few.
        mark: the query's words in each best passage and, where none occur, the sentence closest in
        meaning. That sentence costs a model call over those passages, several times the search, so a
        front end showing results as one types passes closest_sentence=False, then `mark_closest`.
        """
        if mode not in MODES:
            raise SeekwiseError(f"unknown search mode {mode!r}; one of {', '.join(MODES)}")
        parsed = parse_query(query)
        if parsed.empty:
            return []
        backend = "exact" if exact else (dense or self.dense)
        allowed = allowed_chunk_ids(self.store, filters) if filters is not None and filters.active else None
        if allowed is not None and not len(allowed):
            return []
        allowed, denied = self._query_constraints(parsed, allowed)
        if allowed is not None and not len(allowed):
            return []
        pool = pool_size(k)
        paths: dict[int, str] = {}   # chunk id -> file, read once for the legs' per-file caps and the grouping
        legs: list[Leg] = []
        vector = None
        if mode in ("hybrid", "dense"):
            vector = self.encoder.get().embed_query(parsed.text)
            ids, scores = self._dense_leg(vector, pool, backend, allowed, oversample or self.oversample, denied,
                                          paths)
            legs.append(Leg("dense", self.fusion.dense_weight, ids, scores))
        if mode in ("hybrid", "lexical"):
            match = parsed.ranking_match()
            if match:
                lexical = self.derived.current_lexical()
                terms = parsed.ranking_terms()
                rare = lexical.narrowing_terms(terms)
                ids, scores = lexical.search(match, pool, allowed, narrow=rare and parsed.ranking_match(rare),
                                             without=denied)
                ids, scores = cap_per_file(ids, scores, self._paths(ids, paths))
                legs.append(Leg("lexical", self.fusion.lexical_weight, ids, scores,
                                lexical.coverage(terms, ids) if terms else {}, lexical.full_match(terms)))
        legs = [leg for leg in legs if len(leg.ids)]
        if not legs:
            return []
        bar = self.match_bar() if vector is not None else None
        hits = self._rank(legs, k, paths, vector, boost_for(parsed.text, self.fusion), bar,
                          keyword_evidence_for(parsed.text, self.fusion))
        if mark:
            closest = (lambda texts: self._closest_sentences(parsed.text, vector, texts)) if closest_sentence else None
            hits = mark_passages(hits, parsed.highlight_words(), parsed.phrases, closest)
        return hits

    def mark_closest(self, query: str, hits: list[Hit]) -> list[Hit]:
        """The second half of `search(closest_sentence=False)`: in the hits whose passage has no mark,
        the sentence closest in meaning to `query` marked where it is close enough to match (one
        model call for them all); hits already marked come back as they were."""
        todo = [i for i, hit in enumerate(hits) if not hit.best.marks]
        if not todo:
            return list(hits)
        text = parse_query(query).text
        marked = mark_passages([hits[i] for i in todo], [], [],
                               lambda texts: self._closest_sentences(text, None, texts))
        out = list(hits)
        for i, hit in zip(todo, marked):
            out[i] = hit
        return out

    def modified(self, paths: list[str]) -> dict[str, float | None]:
        """When each file last changed as the library knows it (seconds since the epoch), None for
        one it no longer holds: what a result list shows beside a hit without reading the disk."""
        out: dict[str, float | None] = {}
        for path in paths:
            rec = self.store.get_file(path)
            out[path] = rec.mtime_ns / 1e9 if rec else None
        return out

    def passage_context(self, path: str, passage: Passage, chars: int = CONTEXT_CHARS) -> PassageContext:
        """The text around a hit's passage, about `chars` either side (its page, for a paged file),
        rebuilt from the indexed chunks: a preview shows PDFs and documents without parsing them."""
        rec = self.store.get_file(path)
        context = lay_out(self.store.get_chunks(rec.chunk_ids) if rec else [], passage, chars)
        if rec is None:
            context.in_library = False
        else:
            context.mtime, context.size = rec.mtime_ns / 1e9, rec.size
        return context

    def warm_up(self) -> None:
        """Load the model and open the indexes a search reads, so a front end's first search does
        not wait for them (seconds on a big library): call it off any GUI thread once opened."""
        self.encoder.get().embed_query("warm up")
        self.derived.current_ann()
        self.derived.current_lexical()

    def check_model(self, spec: str | None) -> ModelManifest:
        """The manifest of a model id or folder as this library would load it (its own models folder
        first; None: the bundled one); raises ModelError saying why it is unusable."""
        return resolve_model(spec, self.paths.models)

    def _paths(self, ids: np.ndarray, paths: dict[int, str]) -> dict[int, str]:
        """chunk id -> its file for `ids`, reading (into `paths`) only those not read yet, and only the
        path: decoding the text of every candidate cost a third of a search."""
        todo = [int(c) for c in ids.tolist() if int(c) not in paths]
        if todo:
            paths.update(self.store.chunk_paths(todo))
        return {int(c): paths[int(c)] for c in ids.tolist() if int(c) in paths}

    def _dense_leg(self, vector: np.ndarray, pool: int, backend: str, allowed: np.ndarray | None,
                   oversample: int, denied: np.ndarray | None, paths: dict[int, str]
                   ) -> tuple[np.ndarray, np.ndarray]:
        """The dense candidates for a search, widened until they span enough files, capped per file.
        Hundreds of near-identical chunks of one file (a log) crowd HNSW's beam: with the default
        breadth the recipe a query means is never reached, and a wider search finds it."""
        want = pool
        while True:
            ids, scores = self._dense_search(vector, want, backend, allowed, oversample, denied)
            found = self._paths(ids, paths)
            if (len(ids) < want or len(set(found.values())) * CANDIDATES_PER_HIT >= pool
                    or want >= pool * WIDEN ** WIDEN_ROUNDS):
                break
            want *= WIDEN
        return cap_per_file(ids, scores, found)

    def _rank(self, legs: list[Leg], k: int, paths: dict[int, str], vector: np.ndarray | None,
              boost: float, bar: float | None = None, evidence: float | None = None) -> list[Hit]:
        """Fused, grouped by file, each hit's relevance from its best passage's cosine (read for the
        passages only the keyword leg found) and keyword coverage."""
        for leg in legs:
            self._paths(leg.ids, paths)
        cosines = file_cosines = None
        if vector is not None:
            def cosines(ids: list[int]) -> dict[int, float]:
                got, scores = self._rescore(vector, np.asarray(ids, dtype=np.int64), len(ids))
                return dict(zip(got.tolist(), scores.tolist()))

            def file_cosines(files: list[str]) -> dict[str, float]:
                return self.derived.file_meanings.cosines(vector, files)
        return rank(legs, k, paths, self.store.get_chunks, self.fusion, cosines, boost, bar, file_cosines, evidence)

    def match_bar(self) -> float | None:
        """The evidence a passage needs to be a match in this library (see core.match_bar); None
        before any passage has a vector. Measured by sign codes and exact rescoring whatever the
        search's backend, so a one-off CLI search and a running app agree, and no graph is loaded."""
        binary = self.derived.current_binary()

        def measure() -> list[float]:
            encoder = self.encoder.get()
            best = []
            for query in NULL_QUERIES:
                _, scores = self._dense_search(encoder.embed_query(query), 1, "binary", None, BAR_OVERSAMPLE)
                best.extend(float(s) for s in scores[:1])
            return best

        return self._bar.get(len(binary), measure)

    def _query_constraints(self, parsed, allowed: np.ndarray | None  # noqa: ANN001
                           ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(allowed, denied) chunk ids once the query's phrases and exclusions are applied, for every
        retriever to honour before it truncates (afterwards, a big library leaves too few or none).
        A phrase must occur in the passage shown, so only chunks holding every phrase are allowed;
        an excluded word bars its whole file, so every chunk of a file holding one is denied."""
        if not parsed.has_constraints:
            return allowed, None
        lexical = self.derived.current_lexical()
        denied = None
        if parsed.excluded_match():
            denied = whole_files(self.store, lexical.matches(parsed.excluded_match()))
        if parsed.required_match():
            holding = lexical.matches(parsed.required_match())
            allowed = holding if allowed is None else np.intersect1d(allowed, holding)
        if allowed is not None and denied is not None:
            allowed, denied = np.setdiff1d(allowed, denied), None
        return allowed, denied if denied is not None and len(denied) else None

    def nearest_chunks(self, vector: np.ndarray, k: int, dense: str | None = None,
                       oversample: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The dense leg alone, on a query vector: (chunk ids, cosine), best first. For benchmarks."""
        return self._dense_search(vector, k, dense or self.dense, None, oversample or self.oversample)

    def _dense_search(self, vector: np.ndarray, want: int, backend: str, allowed: np.ndarray | None,
                      oversample: int, denied: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The best `want` chunks by meaning among `allowed` (all if None) less `denied`."""
        if backend == "exact":
            matrix, ids = self._exact_matrix()
            if allowed is not None or denied is not None:
                mask = np.isin(ids, allowed) if allowed is not None else np.ones(len(ids), dtype=bool)
                if denied is not None:
                    mask &= ~np.isin(ids, denied)
                matrix, ids = matrix[mask], ids[mask]
            return exact_search(matrix, ids, vector, want)
        if backend == "binary":
            candidates = self.derived.current_binary().candidates(vector, want * max(1, oversample), allowed,
                                                                  denied)
            return self._rescore(vector, candidates, want)
        ann = self.derived.current_ann()
        if allowed is None and denied is not None and \
                len(ann) - len(denied) < RESTRICTIVE_FILTER * max(1, len(ann)):
            allowed, denied = np.setdiff1d(self.store.chunk_digests()[0], denied), None   # few files left
        if allowed is not None and denied is not None:
            allowed, denied = np.setdiff1d(allowed, denied), None
        if allowed is not None and len(allowed) < RESTRICTIVE_FILTER * max(1, len(ann)):
            return self._rescore(vector, allowed, want)   # few files pass: brute force is exact and cheap
        return ann.search(vector, want, allowed, denied)

    def _rescore(self, vector: np.ndarray, ids: np.ndarray, want: int) -> tuple[np.ndarray, np.ndarray]:
        """Full-precision scores for candidate chunks, vectors read from the store (memory-mapped)."""
        ids = np.asarray(ids, dtype=np.int64)
        digests = self.store.get_digests(ids.tolist())
        have = np.fromiter((d is not None for d in digests), dtype=bool, count=len(ids))
        ids = ids[have]
        matrix = self.store.get_vectors(self.model_version, (d for d in digests if d is not None),
                                        self.manifest.dims)
        ok = ~np.isnan(matrix).any(axis=1)
        return exact_search(matrix[ok], ids[ok], vector, want)

    def _closest_sentences(self, text: str, vector: np.ndarray | None, passages: list[list[str]]) -> list[int]:
        """For each passage (a list of sentences), the index of the sentence nearest the query."""
        flat = [s for sentences in passages for s in sentences]
        if not flat:
            return [-1] * len(passages)
        encoder = self.encoder.get()
        if vector is None:
            vector = encoder.embed_query(text)
        scores = encoder.embed_documents(flat) @ vector
        out, pos = [], 0
        for sentences in passages:
            part = scores[pos:pos + len(sentences)]
            out.append(int(np.argmax(part)) if len(part) and part.max() >= SENTENCE_MATCH else -1)
            pos += len(sentences)
        return out

    def _exact_matrix(self) -> tuple[np.ndarray, np.ndarray]:
        generation = self.store.generation()
        if self._exact is None or self._exact[0] != generation:
            ids, digests = self.store.chunk_digests()
            matrix = self.store.get_vectors(self.model_version, digests, self.manifest.dims)
            have = ~np.isnan(matrix).any(axis=1)
            self._exact = (generation, matrix[have], ids[have])
        return self._exact[1], self._exact[2]

    # -- status --------------------------------------------------------------------------------

    def _status_counts(self) -> dict[str, int]:
        """Files per status. It walks every file record, so it is kept until the next commit: a front
        end polling status while nothing changes costs nothing."""
        generation = self.store.generation()
        cached = self._by_status
        if cached is not None and cached[0] == generation:
            return dict(cached[1])
        by_status = self.store.status_counts()
        self._by_status = (generation, by_status)
        return dict(by_status)

    def _vector_gaps(self) -> int:
        """How many chunks lack a vector for this model. A full pass reads every chunk and looks up
        every vector (about 2 s at 250k chunks), too much for a front end polling while the meaning
        phase commits every few seconds, so the count is kept: a library whose flag says nothing is
        pending costs nothing; otherwise new chunks (ids only grow) are looked at once, and the
        lacking ones are checked again when vectors came or chunks went, at most every
        RECHECK_COST_SHARE times what the last check took (meanwhile the count errs high)."""
        store = self.store
        with self._gaps_lock:
            generation = store.generation()
            gaps = self._gaps
            if gaps is not None and gaps.generation == generation and not gaps.stale:
                return len(gaps.missing)
            counts = store.counts()
            complete = (not store.get_meta("vectors_pending")
                        and store.get_meta("model") == self.model_version)
            if complete:
                gaps = _Gaps(generation, int(store.get_meta("next_id", 1)) - 1, counts["chunks"], counts["vectors"])
            elif gaps is None or counts["vectors"] < gaps.vectors:   # first look, or vectors were dropped
                ids, digests = store.chunk_digests()
                have = store.vector_digests(self.model_version)
                gaps = _Gaps(generation, int(ids.max()) if len(ids) else 0, counts["chunks"], counts["vectors"],
                             {int(i): d for i, d in zip(ids, digests) if d not in have})
            else:
                self._add_new_gaps(gaps, counts)
            gaps.generation = generation
            if store.generation() != generation:
                gaps.stale = True            # a commit landed meanwhile: check again next time
            self._gaps = gaps
            return len(gaps.missing)

    def _add_new_gaps(self, gaps: _Gaps, counts: dict[str, int]) -> None:
        """`gaps` brought up to date: the chunks added since, then (when due) the old gaps again."""
        new_ids, new_digests = self.store.chunk_digests_after(gaps.last_id)
        if new_ids:
            lacking = self.store.missing_vectors(self.model_version, new_digests)
            gaps.missing.update((i, d) for i, d in zip(new_ids, new_digests) if d in lacking)
            gaps.last_id = new_ids[-1]
        gaps.gone = gaps.gone or counts["chunks"] != gaps.chunks + len(new_ids)
        gaps.stale = gaps.stale or gaps.gone or counts["vectors"] != gaps.vectors
        gaps.chunks, gaps.vectors = counts["chunks"], counts["vectors"]
        now = time.monotonic()
        if gaps.missing and gaps.stale and now - gaps.checked >= RECHECK_COST_SHARE * gaps.cost:
            missing = gaps.missing
            if gaps.gone:    # chunks left (files changed or removed): only the ones still there count
                ids = list(missing)
                missing = {i: d for i, d in zip(ids, self.store.get_digests(ids)) if d is not None}
            if 2 * len(missing) > counts["vectors"]:
                have = self.store.vector_digests(self.model_version)
                gaps.missing = {i: d for i, d in missing.items() if d not in have}
            else:
                lacking = self.store.missing_vectors(self.model_version, set(missing.values()))
                gaps.missing = {i: d for i, d in missing.items() if d in lacking}
            gaps.stale = gaps.gone = False
            gaps.checked, gaps.cost = now, time.monotonic() - now
        elif not gaps.missing:
            gaps.stale = gaps.gone = False

    def status(self, problems: int = 20) -> LibraryStatus:
        counts = self.store.counts()
        by_status = self._status_counts()
        without = min(self._vector_gaps(), counts["chunks"])
        rate = self.store.get_meta("embed_rate")
        ann_dir = self.paths.ann_dir(self.model_version)
        ann = self.derived.ann.peek()
        awaiting = self.store.awaiting_ocr()
        return LibraryStatus(
            data_dir=str(self.paths.root), roots=self.roots(), model_id=self.manifest.id,
            model_version=self.model_version, model_folder=str(self.manifest.folder),
            files=counts["files"], chunks=counts["chunks"], vectors=counts["vectors"],
            by_status=by_status, problems=self.store.problems_list(problems),
            store_bytes=self.store.size_bytes(),
            ann_bytes=sum(p.stat().st_size for p in Path(ann_dir).glob("*")) if ann_dir.is_dir() else 0,
            ann_entries=len(ann) if ann else None,
            lexical_bytes=self.derived.lexical.peek().size_bytes() if self.derived.lexical.peek() else
            (self.paths.lexical.stat().st_size if self.paths.lexical.exists() else 0),
            last_indexed=self.store.get_meta("last_indexed"),
            keyword_files=by_status.get("ok", 0), chunks_with_vectors=counts["chunks"] - without,
            chunks_without_vectors=without,
            meaning_share=1.0 - without / counts["chunks"] if counts["chunks"] else 1.0,
            meaning_eta_s=without / rate if without and isinstance(rate, (int, float)) and rate > 0 else None,
            awaiting_ocr=awaiting, ocr_unavailable=self._ocr_unavailable() if awaiting else None)

    def _ocr_unavailable(self) -> str | None:
        from seekwise.core.extract import ocr

        return ocr.unavailable(self.ignore.skip_families)

    def meaning_share(self) -> float:
        """Share of the passages searchable by meaning, cheaply, for a note beside a search: 1.0 when
        the store's flag says none waits; after a search by meaning, the vector index it caught up
        holds exactly the passages that have a vector, so its size tells; else status's count."""
        store = self.store
        if not store.get_meta("vectors_pending") and store.get_meta("model") == self.model_version:
            return 1.0
        chunks = store.counts()["chunks"]
        if not chunks:
            return 1.0
        generation = store.generation()
        for index in (self.derived.ann.peek(), self.derived.binary.peek()):
            if index is not None and index.generation == generation:
                return min(1.0, len(index) / chunks)
        return 1.0 - min(self._vector_gaps(), chunks) / chunks
