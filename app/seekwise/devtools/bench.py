"""`seekwise bench DIR`: index into a fresh library, re-index, time queries; print a table, write JSON."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from seekwise import __version__
from seekwise.core.library import Library

DEFAULT_QUERIES = [
    "how do I undo the last commit", "restore a deleted file from version control",
    "configure a database to accept remote connections", "back up and restore a database",
    "how to read a file line by line", "handle errors when opening a file",
    "start a web server that listens on a port", "format dates and times",
    "split a string into words", "sort a list of records by a field",
    "run a command when the machine starts", "install a package from a local file",
    "set an environment variable for one command", "find which process uses the most memory",
    "compress a folder into an archive", "schedule a job to run every night",
    "plot a function and save the picture", "solve a system of linear equations",
    "fit a linear regression model", "compute the inverse of a matrix",
    "write a macro that takes arguments", "put a table with a caption in a document",
    "change the font size of the whole document", "number the equations in a paper",
    "what happens when a transaction is rolled back", "speed up a slow query with an index",
    "parse command line options", "send an HTTP request and read the reply",
    "encrypt a password before storing it", "test that a function raises an exception",
    "merge two branches that both changed a file", "ignore some files so they are not tracked",
    "linear programming with integer variables", "factor a large integer into primes",
    "history of previously typed commands in the shell", "complete file names with the tab key",
    "rules for naming a package and its version", "who may upload a package to the archive",
    "make an asynchronous call and wait for the result", "read environment variables in a script",
]



def time_queries(lib: Library, queries: list[str], rounds: int = 3, **search: object) -> list[float]:
    """Milliseconds per search, sorted; the query-embedding cache is cleared before each round, so
    every round pays for embedding its queries."""
    latencies = []
    for _round in range(rounds):
        lib.encoder.get()._query_cache.clear()
        for q in queries:
            t0 = time.perf_counter()
            lib.search(q, k=10, **search)
            latencies.append((time.perf_counter() - t0) * 1000)
    return sorted(latencies)


def percentiles(sorted_ms: list[float], prefix: str) -> dict[str, float]:
    return {f"{prefix}p50": round(statistics.median(sorted_ms), 2),
            f"{prefix}p95": round(sorted_ms[int(0.95 * (len(sorted_ms) - 1))], 2)}

def run_bench(args: argparse.Namespace) -> int:
    folder = os.path.abspath(args.folder)
    if not os.path.isdir(folder):
        print(f"seekwise: {folder}: no such folder", file=sys.stderr)
        return 1
    queries = DEFAULT_QUERIES
    if args.queries:
        queries = [q.strip() for q in Path(args.queries).read_text(encoding="utf-8").splitlines() if q.strip()]
    data_dir = args.keep or tempfile.mkdtemp(prefix="seekwise-bench-")
    if args.keep and os.path.exists(os.path.join(args.keep, "store.lmdb")):
        print(f"seekwise: {args.keep} already holds a library; bench needs a fresh one", file=sys.stderr)
        return 1
    model = getattr(args, "model", None)
    try:
        figures = _measure(folder, data_dir, model, args.threads, queries)
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    _print_table(figures)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=2) + "\n")
        print(f"wrote {args.json_out}")
    return 0


def _measure(folder: str, data_dir: str, model: str | None, threads: int | None, queries: list[str]) -> dict:
    with Library(data_dir, model=model, threads=threads) as lib:
        t0 = time.perf_counter()
        report = lib.index([folder])
        index_s = time.perf_counter() - t0
        model_id, version = lib.manifest.id, lib.model_version
    t0 = time.perf_counter()
    with Library(data_dir, model=model, threads=threads) as lib:
        again = lib.index([folder])
    reindex_s = time.perf_counter() - t0
    with Library(data_dir, model=model, threads=threads) as lib:
        t0 = time.perf_counter()
        lib.search("warm up: load the model and the index")
        first_search_s = time.perf_counter() - t0
        latencies = time_queries(lib, queries)
        st = lib.status()
    chunks = st.chunks
    return {
        "seekwise": __version__, "folder": folder, "model": model_id, "model_version": version,
        "threads": threads or os.cpu_count(), "cpus": os.cpu_count(), "machine": platform.machine(),
        "files": report.files_indexed, "files_seen": report.files_seen,
        "files_skipped": report.files_skipped, "files_failed": report.files_failed,
        "chunks": chunks, "chunks_embedded": report.chunks_embedded,
        "index_s": round(index_s, 2),
        "chunks_per_s": round(report.chunks_embedded / index_s, 1) if index_s else None,
        "files_per_s": round(report.files_indexed / index_s, 1) if index_s else None,
        "reindex_s": round(reindex_s, 3), "reindex_files_changed": again.files_indexed,
        "first_search_s": round(first_search_s, 3),
        "queries": len(latencies),
        **percentiles(latencies, "query_ms_"),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "store_mb": round(st.store_bytes / 2**20, 1), "ann_mb": round(st.ann_bytes / 2**20, 1),
    }


def _print_table(fig: dict) -> None:
    rows = [
        ("files indexed (seen)", f"{fig['files']} ({fig['files_seen']}; {fig['files_skipped']} skipped, "
                                 f"{fig['files_failed']} failed)"),
        ("chunks", f"{fig['chunks']}"),
        ("index", f"{fig['index_s']:.1f} s  ({fig['chunks_per_s']} chunks/s, {fig['files_per_s']} files/s)"),
        ("no-change re-index", f"{fig['reindex_s']:.3f} s"),
        ("first search (cold)", f"{fig['first_search_s'] * 1000:.0f} ms"),
        ("query p50 / p95", f"{fig['query_ms_p50']:.1f} / {fig['query_ms_p95']:.1f} ms "
                            f"({fig['queries']} queries, embedding included)"),
        ("peak RSS", f"{fig['peak_rss_mb']:.0f} MB"),
        ("store / ANN", f"{fig['store_mb']:.1f} MB / {fig['ann_mb']:.1f} MB"),
        ("model", f"{fig['model']} ({fig['threads']} threads)"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
