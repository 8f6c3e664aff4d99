"""`seekwise bench-vectors`: memory, latency and recall@10 of each dense search at 100k-1M chunks.

Real vectors come from an indexed library; to reach a larger scale each real vector is joined by
noisy copies (cosine about 0.9 to it), which is harder for sign bits than real data, not easier.
Each method runs in a fresh process so its resident memory is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

METHODS = [("exact", 1), ("hnsw", 1), ("binary", 2), ("binary", 4), ("binary", 10)]
COMMIT_CHUNKS = 20000
NOISE = 0.5 / np.sqrt(384)   # per component: a noise vector of norm ~0.5 before renormalising


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def build(source: str, target: Path, scale: int, seed: int = 0) -> None:
    """A library of `scale` chunks: the source's real vectors, then noisy copies of them."""
    from seekwise.core.library import Library
    from seekwise.core.store import FileChange, FileRecord, NewChunk, text_digest

    with Library(source, readonly=True) as src:
        ids, digests = src.store.chunk_digests()
        unique = list(dict.fromkeys(digests))
        real = src.store.get_vectors(src.model_version, unique, src.manifest.dims)
        real = real[~np.isnan(real).any(axis=1)]
        model_version = src.model_version
    print(f"{len(real)} real vectors from {source}", file=sys.stderr)
    rng = np.random.default_rng(seed)
    with Library(target) as lib:
        if lib.model_version != model_version:
            raise SystemExit("the source library was built with another model")
        done = 0
        while done < scale:
            n = min(COMMIT_CHUNKS, scale - done)
            base = real[np.arange(done, done + n) % len(real)]
            if done + n > len(real):
                copy = np.arange(done, done + n) >= len(real)
                base = base.copy()
                base[copy] += rng.normal(0, NOISE, (int(copy.sum()), base.shape[1])).astype(np.float32)
                base /= np.linalg.norm(base, axis=1, keepdims=True)
            chunks, vectors = [], {}
            for i in range(n):
                text = f"vector {done + i}"
                digest = text_digest("bench", text)
                chunks.append(NewChunk(0, len(text), 1, text, digest))
                vectors[digest] = base[i]
            rec = FileRecord(f"/bench/{done // COMMIT_CHUNKS:05d}.txt", 1, 1)
            lib.store.commit([FileChange(rec, chunks)], [], vectors, model_version)
            done += n
            print(f"\r{done}/{scale} chunks", end="", file=sys.stderr)
        print(file=sys.stderr)
        for backend in ("hnsw", "binary"):
            t0 = time.perf_counter()
            lib.nearest_chunks(base[0], 10, dense=backend)  # builds and saves the derived index
            print(f"{backend} built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def measure_one(library: str, queries: str, method: str, oversample: int, truth: str | None) -> dict:
    """Runs in its own process: open, load one dense index, time every query, compare with exact."""
    from seekwise.core.library import Library

    vecs = np.load(queries)
    before = rss_mb()
    with Library(library, readonly=True, dense=method, oversample=oversample) as lib:
        t0 = time.perf_counter()
        lib.nearest_chunks(vecs[0], 10)
        load_s = time.perf_counter() - t0
        loaded = rss_mb()
        resident = {"exact": lambda: lib._exact[1].nbytes + lib._exact[2].nbytes,
                    "hnsw": lambda: lib.derived.ann.get().size_bytes(),
                    "binary": lambda: lib.derived.binary.get().nbytes}[method]()
        times, found = [], []
        for v in vecs:
            t0 = time.perf_counter()
            ids, scores = lib.nearest_chunks(v, 10)
            times.append((time.perf_counter() - t0) * 1000)
            found.append(np.pad(scores[:10].astype(np.float64), (0, 10 - len(scores[:10])), constant_values=-2))
        chunks = lib.store.counts()["chunks"]
    out = {"method": method, "oversample": oversample if method == "binary" else None, "chunks": chunks,
           "load_s": round(load_s, 2), "ms_p50": round(statistics.median(times), 2),
           "ms_p95": round(sorted(times)[int(0.95 * (len(times) - 1))], 2),
           "index_mb": round(resident / 2**20, 1), "rss_mb": round(rss_mb(), 1),
           "rss_after_load_mb": round(loaded - before, 1),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if truth:
        # Tie-aware: a hit counts if it scores at least the exact 10th (the library holds many
        # identical chunks -- licences, boilerplate -- and which of equals is returned is arbitrary).
        # Every method's scores are float32 inner products on the same vectors, so they compare.
        kth = np.load(truth)
        hit = np.array([(f >= t - 1e-5).sum() / 10 for f, t in zip(found, kth)])
        ood = np.load(Path(queries).with_suffix(".ood.npy"))
        out["recall@10"] = round(float(hit[~ood].mean()), 4)
        out["recall@10_ood"] = round(float(hit[ood].mean()), 4) if ood.any() else None
    else:
        out["recall@10"] = out["recall@10_ood"] = 1.0
        np.save(Path(queries).with_suffix(".truth.npy"), np.array([f[9] for f in found]))
    return out


def embed_queries(source: str, beir: str | None, out: Path, limit: int, seed: int = 0) -> None:
    """In-library queries (the bench's own, then a sentence from randomly chosen chunks: what a
    user half remembers) and, apart, out-of-domain ones (a BEIR set's) whose best match is weak."""
    from seekwise.devtools.bench import DEFAULT_QUERIES
    from seekwise.core.library import Library

    rng = np.random.default_rng(seed)
    texts = list(DEFAULT_QUERIES)
    with Library(source, readonly=True) as lib:
        ids, _ = lib.store.chunk_digests()
        for chunk in lib.store.get_chunks(rng.choice(ids, size=min(len(ids), limit * 4), replace=False).tolist()):
            if len(texts) >= limit:
                break
            sentence = next((s.strip() for s in chunk.text.replace("\n", " ").split(". ")
                             if 6 <= len(s.split()) <= 25), None)
            if sentence:
                texts.append(sentence)
        ood: list[str] = []
        if beir:
            with open(Path(beir) / "queries.jsonl", encoding="utf-8") as fh:
                ood = [json.loads(line)["text"] for line in fh if line.strip()][:limit]
        encoder = lib.encoder.get()
        np.save(out, np.stack([encoder.embed_query(t) for t in texts + ood]))
        np.save(out.with_suffix(".ood.npy"), np.array([False] * len(texts) + [True] * len(ood)))


def run(args: argparse.Namespace) -> int:
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    library = work / f"lib-{args.scale}"
    queries = work / "queries.npy"
    if not (library / "store.lmdb").exists():
        build(args.source, library, args.scale)
    if not queries.exists():
        embed_queries(args.source, args.beir_queries, queries, args.queries)
    rows = []
    truth = None
    for method, oversample in METHODS:
        cmd = [sys.executable, "-m", "seekwise.devtools.vecbench", "--one", str(library), str(queries), method,
               str(oversample), truth or ""]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        row = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout)
        rows.append(row)
        if method == "exact":
            truth = str(queries.with_suffix(".truth.npy"))
        ood = f" (out of domain {row['recall@10_ood']:.3f})" if row["recall@10_ood"] is not None else ""
        print(f"{method:6} x{row['oversample'] or '-':<3} recall@10 {row['recall@10']:.3f}{ood}  "
              f"p50 {row['ms_p50']:7.2f} ms  p95 {row['ms_p95']:7.2f} ms  vectors in memory "
              f"{row['index_mb']:8.1f} MB  RSS {row['rss_mb']:7.0f} MB (load +{row['rss_after_load_mb']:.0f} MB)")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"scale": args.scale, "queries": args.queries, "methods": rows},
                                                  indent=2) + "\n")
    return 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    from seekwise.cli import positive_int  # the command line's checked numbers (imported late: cli imports us)

    p.add_argument("source", help="an indexed library whose real vectors seed the benchmark")
    p.add_argument("--scale", type=positive_int(10**9), default=100_000, help="chunks in the benchmark library")
    p.add_argument("--work", required=True, help="folder for the benchmark libraries (reused across runs)")
    p.add_argument("--queries", type=positive_int(10**6), default=200, help="how many queries")
    p.add_argument("--beir-queries", help="a BEIR folder whose queries.jsonl adds out-of-domain queries "
                                          "(recall reported apart)")
    p.add_argument("--json", dest="json_out")


if __name__ == "__main__" and sys.argv[1:2] == ["--one"]:
    _, _, lib_dir, qfile, meth, over, truth_file = sys.argv
    print(json.dumps(measure_one(lib_dir, qfile, meth, int(over), truth_file or None)))
