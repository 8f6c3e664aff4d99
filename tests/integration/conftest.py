"""The large library: ~3,000 real chunks from the Python standard library, indexed once per session.

Indexing takes about a minute on 2 cores. SEEKWISE_LARGE_LIBRARY=DIR keeps the library in DIR
between sessions (the corpus is rewritten each time, the index catches up and embeds nothing twice).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import largecorpus
import numpy as np
import pytest

from seekwise.core.library import Library


@dataclass
class LargeLibrary:
    lib: Library
    corpus: largecorpus.LargeCorpus
    index_seconds: float
    ids: np.ndarray          # every chunk id, sorted
    matrix: np.ndarray       # their vectors, row per id
    rel: np.ndarray          # each chunk's file, relative to the corpus root
    texts: dict[int, str]

    @property
    def root(self) -> str:
        return os.path.realpath(self.corpus.root)

    def relpath(self, path: str) -> str:
        return os.path.relpath(path, self.root).replace(os.sep, "/")

    def embed(self, text: str) -> np.ndarray:
        return self.lib.encoder.get().embed_query(text)

    def exact_order(self, vector: np.ndarray) -> np.ndarray:
        """Row numbers of every chunk, best first by cosine: the ground truth, computed here."""
        return np.argsort(-(self.matrix @ vector), kind="stable")

    def exact_files(self, vector: np.ndarray, keep=None, rows=None, top: int | None = None) -> list[str]:
        """Files best first as search ranks them (search.file_score over each file's chunks, plus
        file_weight x the cosine to the normalised mean of all its chunks), among files `keep(rel)`
        accepts and chunk `rows`; with `top`, only the files of the best `top` such chunks."""
        from seekwise.core.search import FusionSettings, file_score

        weight = FusionSettings().file_weight

        cosines = self.matrix @ vector
        allowed_rows = None if rows is None else set(rows)
        scores: dict[str, list[float]] = {}
        chosen: list[str] = []
        seen = 0
        for row in self.exact_order(vector):
            rel = self.rel[row]
            if (keep is None or keep(rel)) and (allowed_rows is None or row in allowed_rows):
                seen += 1
                if top is None or seen <= top:
                    if rel not in scores:
                        chosen.append(rel)
                scores.setdefault(rel, []).append(float(cosines[row]))
        whole = {rel: self.file_mean(rel) @ vector for rel in chosen}
        return sorted(chosen, key=lambda rel: (-(file_score(scores[rel]) + weight * whole[rel]), rel))

    def file_mean(self, rel: str) -> np.ndarray:
        """A file's whole-text meaning, computed here from its rows."""
        mean = self.matrix[self.rel == rel].sum(axis=0)
        return mean / np.linalg.norm(mean)

    def first_rank(self, vector: np.ndarray, keep=None, rows=None) -> int:
        """Where the best chunk that passes comes in the unfiltered ranking of all chunks (0 = first)."""
        allowed_rows = None if rows is None else set(rows)
        for rank, row in enumerate(self.exact_order(vector)):
            if (keep is None or keep(self.rel[row])) and (allowed_rows is None or row in allowed_rows):
                return rank
        return -1


@pytest.fixture(scope="session")
def large_library(tmp_path_factory):
    keep = os.environ.get("SEEKWISE_LARGE_LIBRARY")
    base = Path(keep) if keep else tmp_path_factory.mktemp("large")
    shutil.rmtree(base / "docs", ignore_errors=True)
    corpus = largecorpus.build(base / "docs")
    lib = Library(base / "lib", threads=2)
    started = time.perf_counter()
    report = lib.index([corpus.root])
    seconds = time.perf_counter() - started
    assert not report.problems, report.problems
    ids, digests = lib.store.chunk_digests()
    matrix = lib.store.get_vectors(lib.model_version, digests, lib.manifest.dims)
    assert not np.isnan(matrix).any()
    records = lib.store.get_chunks(ids.tolist())
    root = os.path.realpath(corpus.root)
    rel = np.array([os.path.relpath(r.path, root).replace(os.sep, "/") for r in records])
    yield LargeLibrary(lib, corpus, seconds, ids, matrix, rel, {r.id: r.text for r in records})
    lib.close()
