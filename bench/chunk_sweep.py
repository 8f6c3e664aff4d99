"""Passage size and overlap against retrieval quality and model work (issue 13, item 4). A benchmark.

    python bench/chunk_sweep.py count CORPUS [--configs 128/32,128/0,...]
        chunks and tokens to embed per config (extraction once, no model)
    python bench/chunk_sweep.py realdocs CORPUS --work /tmp/sweep [--configs ...]
        index CORPUS per config, score the realdocs dev queries by file (hit@5, MRR@5, nDCG@10)
    python bench/chunk_sweep.py nfcorpus /work/shared/eval/nfcorpus --work /tmp/sweep [--configs ...]
        NFCorpus dev through the app's indexer and search (the figures `seekwise eval` prints)

A config is TARGET/OVERLAP in tokens. Vectors are memoized by chunk text in WORK/vectors.sqlite,
so a passage that two configs share is embedded once (the same model gives it the same vector);
everything else is the app's own indexer, store, keyword index, HNSW and search.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import pickle
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from seekwise.core import extract
from seekwise.core.chunking import Chunker
from seekwise.core.embedding import Encoder, TokenCounter, resolve_model
from seekwise.core.extract import isolate, reading
from seekwise.core.lazy import Lazy
from seekwise.core.library import Library
from seekwise.core.paths import LibraryPaths

HERE = Path(__file__).resolve().parent
DEFAULT_CONFIGS = "128/32,128/16,128/0,192/32,192/16,192/0,256/32,256/16,256/0"


def parse_configs(text: str) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in (c.split("/") for c in text.split(",") if c.strip())]


class MemoEncoder:
    """The real encoder, with document vectors kept by text across runs (queries go straight through)."""

    def __init__(self, encoder: Encoder, path: Path) -> None:
        self.encoder = encoder
        self.db = sqlite3.connect(path)
        self.db.execute("CREATE TABLE IF NOT EXISTS v (k BLOB PRIMARY KEY, vec BLOB)")
        self.embedded = 0
        self.reused = 0

    def __getattr__(self, name: str):  # noqa: ANN204 - everything else is the encoder's
        return getattr(self.encoder, name)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha256(t.encode("utf-8", "surrogatepass")).digest() for t in texts]
        found: dict[bytes, bytes] = {}
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            found.update(self.db.execute(f"SELECT k, vec FROM v WHERE k IN ({','.join('?' * len(part))})", part))
        todo = sorted({i for i, k in enumerate(keys) if k not in found}, key=lambda i: keys[i])
        todo = list({keys[i]: i for i in todo}.values())
        if todo:
            vecs = self.encoder.embed_documents([texts[i] for i in todo])
            rows = [(keys[i], v.tobytes()) for i, v in zip(todo, vecs)]
            self.db.executemany("INSERT OR REPLACE INTO v VALUES (?, ?)", rows)
            self.db.commit()
            found.update(rows)
        self.embedded += len(todo)
        self.reused += len(texts) - len(todo)
        return np.stack([np.frombuffer(found[k], dtype=np.float32) for k in keys])


def open_library(folder: Path, target: int, overlap: int, work: Path) -> tuple[Library, MemoEncoder]:
    lib = Library(folder)
    lib.chunk_target, lib.chunk_overlap = target, overlap
    memo = MemoEncoder(Encoder(lib.manifest), work / "vectors.sqlite")
    lib.encoder = Lazy(lambda: memo)
    return lib, memo


# -- count ---------------------------------------------------------------------------------------

def documents(corpus: Path, cache: Path) -> list[tuple[str, str, str, tuple[int, ...]]]:
    """Every readable file's text (rel path, text, kind, page starts), extracted once and kept."""
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    out = []
    isolator = isolate.Isolator()
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        family = extract.family_for(path)
        if family is None:
            continue
        limit = extract.size_limit(family, 32 << 20)
        try:
            if family.isolated:
                doc, _, _ = isolator.extract_file(str(path), family, limit)
            else:
                doc = extract.extract(str(path), reading.read_file(str(path), limit), family)
        except (extract.ExtractionError, extract.Unsupported):
            continue
        out.append((str(path.relative_to(corpus)), doc.text, doc.kind, tuple(doc.page_starts)))
    cache.write_bytes(pickle.dumps(out))
    return out


def cmd_count(args: argparse.Namespace) -> None:
    manifest = resolve_model(None, LibraryPaths.resolve(None).models)
    counter = TokenCounter(manifest)
    cache = Path(args.work) / f"docs-{hashlib.sha1(str(args.corpus.resolve()).encode()).hexdigest()[:8]}.pickle"
    Path(args.work).mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    docs = documents(args.corpus, cache)
    print(f"{len(docs)} documents from {args.corpus} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    print(f"{'config':>8} {'chunks':>8} {'tokens':>10} {'+specials':>10} {'mean':>6} {'p90':>5} {'vs 128/32':>9}")
    base = None
    for target, overlap in parse_configs(args.configs):
        chunker = Chunker(counter, counter.budget, target, overlap, tokenizer_tag=counter.tag)
        lengths: list[int] = []
        for _, text, kind, pages in docs:
            if text.strip():
                chunks = chunker.chunk(text, kind, pages)
                lengths += counter([c.text for c in chunks])
        tokens = sum(lengths)
        work = tokens + 2 * len(lengths)
        base = base or work
        lengths.sort()
        print(f"{target:>4}/{overlap:<3} {len(lengths):>8} {tokens:>10} {work:>10} "
              f"{tokens / len(lengths):>6.1f} {lengths[int(0.9 * len(lengths))]:>5} {work / base:>9.3f}", flush=True)


# -- realdocs ------------------------------------------------------------------------------------

def realdocs_dev() -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    qrels: dict[str, dict[str, int]] = {}
    for line in (HERE / "realdocs" / "qrels" / "dev.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        if line.strip():
            q, path, grade = line.split("\t")
            qrels.setdefault(q, {})[path] = int(grade)
    queries = {}
    for line in (HERE / "realdocs" / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line) if line.strip() else None
        if rec and rec["metadata"]["set"] == "dev" and rec["_id"] in qrels:
            queries[rec["_id"]] = rec["text"]
    return queries, qrels


def file_scores(ranked: list[str], rels: dict[str, int]) -> tuple[float, float, float]:
    """hit@5, MRR@5, nDCG@10 (graded) of one ranked list of relative paths."""
    first = next((i for i, p in enumerate(ranked[:5]) if rels.get(p, 0) > 0), None)
    dcg = sum(rels.get(p, 0) / math.log2(i + 2) for i, p in enumerate(ranked[:10]))
    ideal = sum(g / math.log2(i + 2) for i, g in enumerate(sorted(rels.values(), reverse=True)[:10]))
    return (1.0 if first is not None else 0.0), (1.0 / (first + 1) if first is not None else 0.0), dcg / ideal


def cmd_realdocs(args: argparse.Namespace) -> None:
    corpus = args.corpus.resolve()
    queries, qrels = realdocs_dev()
    print(f"{len(queries)} judged dev queries over {corpus}", file=sys.stderr)
    for target, overlap in parse_configs(args.configs):
        work = Path(args.work)
        work.mkdir(parents=True, exist_ok=True)
        lib, memo = open_library(work / f"real-{corpus.name}-{target}-{overlap}", target, overlap, work)
        with lib:
            t0 = time.perf_counter()
            lib.index([corpus])
            took = time.perf_counter() - t0
            chunks = lib.store.counts()["chunks"]
            row = {"config": f"{target}/{overlap}", "chunks": chunks, "embedded": memo.embedded,
                   "reused": memo.reused, "index_s": round(took, 1)}
            for mode in ("dense", "hybrid", "lexical"):
                figures = np.zeros(3)
                for qid, text in queries.items():
                    hits = lib.search(text, k=10, mode=mode, mark=False)
                    ranked = [os.path.relpath(h.path, corpus) for h in hits]
                    figures += file_scores(ranked, qrels[qid])
                figures /= len(queries)
                row[mode] = {"hit@5": round(figures[0], 4), "mrr@5": round(figures[1], 4),
                             "ndcg@10": round(figures[2], 4)}
        print(json.dumps(row), flush=True)


# -- nfcorpus ------------------------------------------------------------------------------------

def cmd_nfcorpus(args: argparse.Namespace) -> None:
    from seekwise.evaluation import MODES, load_beir, score_run, write_corpus

    data = load_beir(args.folder, "dev")
    work = Path(args.work)
    docs_dir = work / "nfcorpus-docs"
    doc_of = write_corpus(data, docs_dir)
    for target, overlap in parse_configs(args.configs):
        lib, memo = open_library(work / f"nf-{target}-{overlap}", target, overlap, work)
        with lib:
            t0 = time.perf_counter()
            lib.index([docs_dir])
            took = time.perf_counter() - t0
            row = {"config": f"{target}/{overlap}", "chunks": lib.store.counts()["chunks"],
                   "embedded": memo.embedded, "reused": memo.reused, "index_s": round(took, 1)}
            for name in ("hybrid", "hnsw", "exact", "bm25"):
                mode, dense = MODES[name]
                run: dict[str, list[str]] = {}
                times: list[float] = []
                for qid, text in data.queries.items():   # as `seekwise eval` ranks: files, the query's own doc left out
                    t0 = time.perf_counter()
                    hits = lib.search(text, k=101, mode=mode, dense=dense, mark=False)
                    times.append((time.perf_counter() - t0) * 1000)
                    run[qid] = [d for d in (doc_of.get(h.path) for h in hits) if d is not None and d != qid][:100]
                row[name] = score_run(run, data.qrels)["ndcg@10"]
                row[name + "_ms_p50"] = round(statistics.median(times), 1)
        print(json.dumps(row), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("count", "realdocs", "nfcorpus"):
        p = sub.add_parser(name)
        p.add_argument("corpus" if name != "nfcorpus" else "folder", type=Path)
        p.add_argument("--configs", default=DEFAULT_CONFIGS)
        p.add_argument("--work", default="/tmp/chunk-sweep")
    args = ap.parse_args()
    {"count": cmd_count, "realdocs": cmd_realdocs, "nfcorpus": cmd_nfcorpus}[args.cmd](args)


if __name__ == "__main__":
    main()
