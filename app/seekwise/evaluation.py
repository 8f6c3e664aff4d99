"""`seekwise eval DIR`: a BEIR data set through the app's own indexer and search, scored per retrieval mode."""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from seekwise.core.errors import NoLibrary, SeekwiseError
from seekwise.core.library import Library
from seekwise.core.search import FusionSettings, good_matches

# name -> (search mode, dense backend)
MODES: dict[str, tuple[str, str]] = {
    "exact": ("dense", "exact"),
    "hnsw": ("dense", "hnsw"),
    "binary": ("dense", "binary"),
    "bm25": ("lexical", "hnsw"),
    "hybrid": ("hybrid", "hnsw"),
}
DEPTH = 100
SHOWN = 10    # results a user asks for (the CLI's default -k): nDCG@10, MRR@10, hit@5 are measured on these


@dataclass
class DataSet:
    name: str
    corpus: dict[str, tuple[str, str]]      # doc id -> (title, text)
    queries: dict[str, str]                 # query id -> text, only those judged in the split
    qrels: dict[str, dict[str, int]]        # query id -> doc id -> grade


def load_beir(folder: str | Path, split: str = "test") -> DataSet:
    folder = Path(folder)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    for needed in (folder / "corpus.jsonl", folder / "queries.jsonl", qrels_path):
        if not needed.is_file():
            splits = sorted(p.stem for p in (folder / "qrels").glob("*.tsv")) if (folder / "qrels").is_dir() else []
            hint = f" (splits here: {', '.join(splits)})" if splits and needed == qrels_path else ""
            raise SeekwiseError(f"{needed}: missing; a BEIR data set has corpus.jsonl, queries.jsonl "
                                f"and qrels/<split>.tsv{hint}")
    qrels: dict[str, dict[str, int]] = {}
    with open(qrels_path, encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if len(row) < 3 or row[0] == "query-id":
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    corpus: dict[str, tuple[str, str]] = {}
    for rec in _jsonl(folder / "corpus.jsonl"):
        corpus[str(rec["_id"])] = (rec.get("title") or "", rec.get("text") or "")
    queries = {str(rec["_id"]): rec["text"] for rec in _jsonl(folder / "queries.jsonl")
               if str(rec["_id"]) in qrels}
    qrels = {q: rels for q, rels in qrels.items() if q in queries}
    return DataSet(folder.name, corpus, queries, qrels)


def _jsonl(path: Path) -> Iterable[dict]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


# -- metrics (as pytrec_eval computes them for BEIR: linear gains, judged grades > 0 relevant) ----

def ndcg_at(ranked: list[str], rels: dict[str, int], k: int) -> float:
    dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((g for g in rels.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], rels: dict[str, int], k: int) -> float:
    relevant = {d for d, g in rels.items() if g > 0}
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def mrr_at(ranked: list[str], rels: dict[str, int], k: int) -> float:
    for i, d in enumerate(ranked[:k]):
        if rels.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def hit_at(ranked: list[str], rels: dict[str, int], k: int) -> float:
    """1 when a relevant document is among the first k: did the user find the file on the first screen."""
    return float(any(rels.get(d, 0) > 0 for d in ranked[:k]))


def score_run(run: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """Mean of each metric over every judged query (a query with no results scores 0)."""
    n = len(qrels)
    out = {"ndcg@10": 0.0, "recall@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0, "hit@5": 0.0}
    for qid, rels in qrels.items():
        ranked = run.get(qid, [])
        out["hit@5"] += hit_at(ranked, rels, 5)
        out["ndcg@10"] += ndcg_at(ranked, rels, 10)
        out["recall@10"] += recall_at(ranked, rels, 10)
        out["recall@100"] += recall_at(ranked, rels, 100)
        out["mrr@10"] += mrr_at(ranked, rels, 10)
    return {k: round(v / n, 4) for k, v in out.items()} if n else out


# -- the run -----------------------------------------------------------------------------------

def write_corpus(data: DataSet, folder: Path) -> dict[str, str]:
    """One file per document (title, blank line, text); returns path -> doc id."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, str] = {}
    for i, (doc_id, (title, text)) in enumerate(data.corpus.items()):
        path = folder / f"{i:07d}.txt"
        path.write_text(f"{title}\n\n{text}\n" if title else f"{text}\n", encoding="utf-8")
        paths[str(path.resolve())] = doc_id
    return paths


def run_queries(lib: Library, data: DataSet, doc_of: dict[str, str], mode: str, dense: str,
                depth: int = DEPTH) -> tuple[dict[str, list[str]], dict[str, list[str]], list[float]]:
    """(the first SHOWN documents as a search for SHOWN files returns them, the first `depth` for
    recall@100, the SHOWN searches' times): candidate pools grow with -k past POOL / CANDIDATES_PER_HIT,
    so the top 10 is measured as a user asking for 10 sees it."""
    run: dict[str, list[str]] = {}
    deep: dict[str, list[str]] = {}
    times: list[float] = []
    for qid, text in data.queries.items():
        t0 = time.perf_counter()
        hits = lib.search(text, k=SHOWN + 1, mode=mode, dense=dense, mark=False)
        times.append((time.perf_counter() - t0) * 1000)
        run[qid] = [d for d in (doc_of.get(h.path) for h in hits) if d is not None and d != qid][:SHOWN]
        hits = lib.search(text, k=depth + 1, mode=mode, dense=dense, mark=False)
        deep[qid] = [d for d in (doc_of.get(h.path) for h in hits) if d is not None and d != qid][:depth]
    return run, deep, times


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def latency(times: list[float]) -> dict[str, float]:
    """A mode's query times (ms) as the tables print them."""
    return {"ms_p50": round(statistics.median(times), 2), "ms_p95": round(percentile(times, 95), 2)}


def evaluate(folder: str, split: str, modes: list[str], model: str | None, threads: int | None,
             library: str | None, fusion: FusionSettings, oversample: int, max_queries: int | None,
             log=print) -> dict:  # noqa: ANN001
    data = load_beir(folder, split)
    if max_queries:
        keep = list(data.queries)[:max_queries]
        data.queries = {q: data.queries[q] for q in keep}
        data.qrels = {q: data.qrels[q] for q in keep}
    work = Path(library) if library else Path(tempfile.mkdtemp(prefix="seekwise-eval-"))
    try:
        doc_of = write_corpus(data, work / "docs")
        log(f"{data.name}/{split}: {len(data.corpus)} documents, {len(data.queries)} judged queries")
        with Library(work / "library", model=model, threads=threads, oversample=oversample, fusion=fusion) as lib:
            t0 = time.perf_counter()
            report = lib.index([work / "docs"])
            index_s = time.perf_counter() - t0
            log(f"indexed {report.files_indexed} files, {report.chunks_added} chunks "
                f"({report.chunks_embedded} embedded) in {index_s:.1f} s")
            result = {"dataset": data.name, "split": split, "model": lib.manifest.id,
                      "model_version": lib.model_version, "documents": len(data.corpus),
                      "queries": len(data.queries), "chunks": lib.store.counts()["chunks"],
                      "index_s": round(index_s, 1),
                      "fusion": {"k": fusion.k, "dense_weight": fusion.dense_weight,
                                 "lexical_weight": fusion.lexical_weight, "file_weight": fusion.file_weight},
                      "oversample": oversample, "modes": {}}
            for name in modes:
                mode, dense = MODES[name]
                lib.search("warm up the index and the model", mode=mode, dense=dense, mark=False)
                run, deep, times = run_queries(lib, data, doc_of, mode, dense)
                figures = score_run(run, data.qrels)
                figures["recall@100"] = score_run(deep, data.qrels)["recall@100"]
                figures |= latency(times)
                result["modes"][name] = figures
                log(f"  {name:7} nDCG@10 {figures['ndcg@10']:.4f}")
        return result
    finally:
        if not library:
            shutil.rmtree(work, ignore_errors=True)


# -- folder mode: real files, one document per file ---------------------------------------------

@dataclass
class FolderSet:
    """Queries and judgments over a folder of real files; a document id is a path relative to `root`."""

    name: str
    root: Path
    queries: dict[str, str]                 # every query of the split, judged or not
    kinds: dict[str, str]                   # query id -> metadata kind ("unrelated" when unjudged)
    qrels: dict[str, dict[str, int]]


def load_folder_set(folder: str | Path, corpus: str | Path, split: str = "test") -> FolderSet:
    """queries.jsonl (metadata kind/set) and qrels/<split>.tsv over the files under `corpus`. A query
    belongs to the split by its metadata `set`, or, lacking one, by having judgments in it; a query
    of the split with no judgments is one nothing should match (its kind says so, or "unrelated")."""
    folder, root = Path(folder), Path(corpus)
    if not root.is_dir():
        raise SeekwiseError(f"{root}: no such folder (the corpus: the files the judgments name)")
    qrels_path = folder / "qrels" / f"{split}.tsv"
    for needed in (folder / "queries.jsonl", qrels_path):
        if not needed.is_file():
            raise SeekwiseError(f"{needed}: missing; a folder data set has queries.jsonl and qrels/<split>.tsv")
    qrels: dict[str, dict[str, int]] = {}
    with open(qrels_path, encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if len(row) >= 3 and row[0] != "query-id":
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    missing = sorted({d for rels in qrels.values() for d in rels if not (root / d).is_file()})
    if missing:
        raise SeekwiseError(f"{len(missing)} judged files are not under {root}, e.g. {missing[0]}: "
                            "is that the corpus the judgments were made on?")
    queries: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for rec in _jsonl(folder / "queries.jsonl"):
        qid, meta = str(rec["_id"]), rec.get("metadata") or {}
        if meta.get("set", split if qid in qrels else None) != split:
            continue
        queries[qid] = rec["text"]
        kinds[qid] = meta.get("kind") or ("judged" if qid in qrels else "unrelated")
    return FolderSet(folder.name, root, queries, kinds, {q: r for q, r in qrels.items() if q in queries})


def _open_folder_library(data: FolderSet, data_dir: str | None, model: str | None, threads: int | None,
                         oversample: int, fusion: FusionSettings, log) -> tuple[Library, str]:  # noqa: ANN001
    """A library that holds the corpus: `data_dir` as it is when it already indexes that folder
    (opened read-only, nothing re-indexed), else indexed there (or in a temp dir, the caller's to
    delete) first."""
    root = os.path.realpath(data.root)
    if data_dir:
        try:
            lib = Library(data_dir, model=model, threads=threads, oversample=oversample, fusion=fusion,
                          readonly=True)
        except NoLibrary:
            pass
        else:
            if root in lib.roots() and lib.store.counts()["files"]:
                return lib, "reused"
            lib.close()
    lib = Library(data_dir or tempfile.mkdtemp(prefix="seekwise-eval-"), model=model, threads=threads,
                  oversample=oversample, fusion=fusion)
    t0 = time.perf_counter()
    report = lib.index([root])
    log(f"indexed {report.files_indexed} files, {report.chunks_added} chunks in {time.perf_counter() - t0:.1f} s")
    return lib, "indexed"


def evaluate_folder(folder: str, corpus: str, split: str, modes: list[str], model: str | None,
                    threads: int | None, data_dir: str | None, fusion: FusionSettings, oversample: int,
                    max_queries: int | None, log=print) -> dict:  # noqa: ANN001
    """Every mode over the folder set, overall and per query kind: top-5 file hit rate, nDCG@10, MRR;
    for unjudged queries, the share the search called "no good match" (and, for judged ones, how
    many it wrongly did)."""
    data = load_folder_set(folder, corpus, split)
    if max_queries:
        data.queries = dict(list(data.queries.items())[:max_queries])
        data.qrels = {q: r for q, r in data.qrels.items() if q in data.queries}
    log(f"{data.name}/{split}: {len(data.queries)} queries ({len(data.qrels)} judged) over {data.root}")
    lib, how = _open_folder_library(data, data_dir, model, threads, oversample, fusion, log)
    root = os.path.realpath(data.root)
    try:
        result = {"dataset": data.name, "split": split, "corpus": str(data.root), "library": how,
                  "model": lib.manifest.id, "documents": lib.store.counts()["files"],
                  "chunks": lib.store.counts()["chunks"], "queries": len(data.queries), "modes": {}}
        kinds = sorted(set(data.kinds.values()))
        for name in modes:
            mode, dense = MODES[name]
            lib.search("warm up the index and the model", mode=mode, dense=dense, mark=False)
            run: dict[str, list[str]] = {}
            no_match: dict[str, bool] = {}
            times: list[float] = []
            for qid, text in data.queries.items():
                t0 = time.perf_counter()
                hits = lib.search(text, k=SHOWN, mode=mode, dense=dense, mark=False)
                times.append((time.perf_counter() - t0) * 1000)
                run[qid] = [os.path.relpath(h.path, root).replace(os.sep, "/") for h in hits]
                no_match[qid] = not good_matches(hits)
            figures: dict = {}
            for kind in ["all", *kinds]:
                ids = [q for q in data.queries if kind == "all" or data.kinds[q] == kind]
                judged = {q: data.qrels[q] for q in ids if q in data.qrels}
                row = {"queries": len(ids)}
                if judged:
                    row |= {k: v for k, v in score_run(run, judged).items() if k in ("hit@5", "ndcg@10", "mrr@10")}
                    row["no_match"] = sum(no_match[q] for q in judged)   # wrong: these have an answer
                unjudged = [q for q in ids if q not in data.qrels]
                if unjudged:
                    row["unjudged"] = len(unjudged)
                    row["no_match_unjudged"] = round(sum(no_match[q] for q in unjudged) / len(unjudged), 4)
                figures[kind] = row
            figures |= latency(times)
            result["modes"][name] = figures
            log(f"  {name:7} hit@5 {figures['all'].get('hit@5', 0):.3f}")
        return result
    finally:
        lib.close()
        if how == "indexed" and not data_dir:
            shutil.rmtree(lib.paths.root, ignore_errors=True)


def format_folder_table(result: dict) -> str:
    lines = [f"{result['dataset']} ({result['split']}, {result['queries']} queries, {result['documents']} files, "
             f"{result['chunks']} chunks, library {result['library']}), model {result['model']}",
             f"{'mode':8}{'kind':12}{'queries':>8}{'hit@5':>8}{'nDCG@10':>9}{'MRR@10':>8}{'nomatch':>9}"
             f"{'ms p50':>8}{'ms p95':>8}"]
    for name, fig in result["modes"].items():
        for kind, row in fig.items():
            if not isinstance(row, dict):
                continue
            judged = "hit@5" in row
            nomatch = (f"{row['no_match_unjudged']:>9.0%}" if "no_match_unjudged" in row and not judged
                       else f"{row.get('no_match', 0):>9}")
            lines.append(f"{name:8}{kind:12}{row['queries']:>8}" +
                         (f"{row['hit@5']:>8.3f}{row['ndcg@10']:>9.4f}{row['mrr@10']:>8.4f}" if judged else " " * 25) +
                         nomatch + (f"{fig['ms_p50']:>8.1f}{fig['ms_p95']:>8.1f}" if kind == "all" else ""))
    lines.append("nomatch: judged kinds, queries wrongly told \"no good match\"; unjudged kinds, the share told so")
    return "\n".join(lines)


def format_table(result: dict) -> str:
    cols = ("ndcg@10", "recall@10", "recall@100", "mrr@10", "ms_p50", "ms_p95")
    lines = [f"{result['dataset']} ({result['split']}, {result['queries']} queries, {result['documents']} docs, "
             f"{result['chunks']} chunks), model {result['model']}",
             f"{'mode':8}" + "".join(f"{c:>11}" for c in cols)]
    for name, fig in result["modes"].items():
        lines.append(f"{name:8}" + "".join(f"{fig[c]:>11.4f}" if not c.startswith("ms") else f"{fig[c]:>11.1f}"
                                           for c in cols))
    return "\n".join(lines)


def run_eval(args: argparse.Namespace) -> int:
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        print(f"seekwise: unknown mode {', '.join(unknown)}; choose from {', '.join(MODES)}", file=sys.stderr)
        return 2
    fusion = FusionSettings(k=args.rrf_k, dense_weight=args.dense_weight, lexical_weight=args.lexical_weight,
                            file_weight=args.file_weight)
    if args.corpus:
        result = evaluate_folder(args.folder, args.corpus, args.split, modes, getattr(args, "model", None),
                                 args.threads, getattr(args, "data_dir", None) or args.library, fusion,
                                 args.oversample, args.max_queries, log=lambda m: print(m, file=sys.stderr))
        print(format_folder_table(result))
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(result, indent=2) + "\n")
            print(f"wrote {args.json_out}")
        return 0
    result = evaluate(args.folder, args.split, modes, getattr(args, "model", None), args.threads, args.library,
                      fusion, args.oversample, args.max_queries, log=lambda m: print(m, file=sys.stderr))
    print(format_table(result))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json_out}")
    return 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    from seekwise.cli import positive_int  # the command line's checked numbers (imported late: cli imports us)

    defaults = FusionSettings()
    p.add_argument("folder", help="a BEIR data set: corpus.jsonl, queries.jsonl, qrels/<split>.tsv; with "
                                  "--corpus, only queries.jsonl and qrels whose ids are paths under that folder")
    p.add_argument("--corpus", help="folder mode: the files themselves, one document per file, judged by path "
                                    "relative to this folder; with --data-dir, a library that already indexes "
                                    "it is searched as it is (nothing re-indexed)")
    p.add_argument("--split", default="test", help="qrels/<split>.tsv to score against (default test)")
    p.add_argument("--json", dest="json_out", help="write the figures to this JSON file")
    p.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    p.add_argument("--threads", type=positive_int(256), default=None)
    p.add_argument("--library", help="build the library here and keep it; a second run re-indexes nothing")
    p.add_argument("--rrf-k", type=float, default=defaults.k, help=f"fusion constant (default {defaults.k:g})")
    p.add_argument("--dense-weight", type=float, default=defaults.dense_weight)
    p.add_argument("--lexical-weight", type=float, default=defaults.lexical_weight)
    p.add_argument("--file-weight", type=float, default=defaults.file_weight,
                   help=f"what a file's mean passage vector adds to its score (default {defaults.file_weight:g})")
    p.add_argument("--oversample", type=positive_int(1_000), default=4, help="binary mode: candidates per wanted chunk")
    p.add_argument("--max-queries", type=positive_int(10**9), default=None, help="score only the first N judged queries")
