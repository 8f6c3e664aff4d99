"""Replays the ranking's choices on real queries, from a built library. A benchmark, not a test.

    python bench/fusion_sweep.py realdocs /work/bench/lib [--split dev]      # the bench corpus library
    python bench/fusion_sweep.py nfcorpus /tmp/nf-lib /work/shared/eval/nfcorpus [--split dev]
    python bench/fusion_sweep.py bar LIB [LIB ...] [--queries realdocs]        # the match bar's figures

realdocs / nfcorpus: each query's candidates (both legs, their cosines, BM25, coverage, the terms'
document frequencies) are read once through Library.search, then re-fused offline: the per-file
score (best passage, a sum of the top 3, the soft maximum search.file_score uses, at several
temperatures) and the keyword boost's scale (relative to the pool's best BM25, or absolute: over
the query's IDF sum). Prints top-5 file hit rate and nDCG@10 per query kind (realdocs) or nDCG@10
(NFCorpus). Never run it on a test split to choose anything.

bar: for each library, the median of its best cosines for match_bar.NULL_QUERIES (exact scan) and
the bar it makes; with --queries realdocs, the best match evidence of the unrelated and the relevant
dev queries beside it; with --queries small, the same for the queries of SMALL_QUERIES (for the test
corpus, tests/data/corpus).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REALDOCS = HERE / "realdocs"
sys.path.insert(0, str(HERE.parent / "app"))

from seekwise.core.library import Library  # noqa: E402
from seekwise.core.match_bar import NULL_QUERIES  # noqa: E402
from seekwise.core.query import parse_query  # noqa: E402
from seekwise.core.match_bar import bar_from  # noqa: E402
from seekwise.core.search import FusionSettings  # noqa: E402


def capture(lib: Library, text: str, k: int = 10) -> dict | None:
    """The legs Library.search fused for `text`, with every candidate's cosine and file."""
    import numpy as np

    box: dict = {}
    original = lib._rank

    def spy(legs, k, paths, vector, boost, bar=None, evidence=None):  # noqa: ANN001, ANN202
        box.update(legs=legs, paths=paths, vector=vector, boost=boost)
        return original(legs, k, paths, vector, boost, bar, evidence)

    lib._rank = spy
    try:
        lib.search(text, k=k, mode="hybrid", mark=False)
    finally:
        lib._rank = original
    if not box:
        return None
    ids = sorted({int(c) for leg in box["legs"] for c in leg.ids.tolist()})
    got, scores = lib._rescore(box["vector"], np.asarray(ids, dtype=np.int64), len(ids))
    lexical = lib.derived.current_lexical()
    terms = parse_query(text).ranking_terms()
    return {"legs": {leg.name: (leg.ids.tolist(), leg.scores.tolist(), leg.coverage or {}) for leg in box["legs"]},
            "cos": dict(zip(got.tolist(), scores.tolist())), "paths": dict(box["paths"]),
            "boost": box["boost"], "full": lexical.full_match(terms)}


def refuse(c: dict, scale: str = "best", boost: float | None = None, per_file: str = "lse",
           temperature: float = 0.1, top: int = 3) -> list[str]:
    """Files best first under one variant of the fusion."""
    fused = {cid: c["cos"][cid] for cid in c["legs"].get("dense", ([], [], {}))[0]}
    lexical = c["legs"].get("lexical")
    if lexical:
        ids, bm25, coverage = lexical
        for cid in ids:
            fused.setdefault(cid, c["cos"].get(cid, 0.0))
        norm = (max(bm25) if bm25 else 0.0) if scale == "best" else c["full"]
        weight = c["boost"] if boost is None else boost
        if norm > 0:
            for cid, score in zip(ids, bm25):
                fused[cid] += weight * score / norm * coverage.get(cid, 0.0)
    by_file: dict[str, list[float]] = defaultdict(list)
    for cid, score in fused.items():
        if cid in c["paths"]:
            by_file[c["paths"][cid]].append(score)
    files = {}
    for path, scores in by_file.items():
        scores = sorted(scores, reverse=True)[:top]
        if per_file == "max":
            files[path] = scores[0]
        elif per_file == "sum":
            files[path] = scores[0] + 0.3 * sum(scores[1:])
        else:
            files[path] = scores[0] + temperature * math.log(sum(math.exp((s - scores[0]) / temperature) for s in scores))
    return sorted(files, key=lambda p: (-files[p], p))


def ndcg10(files: list[str], judged: dict[str, int]) -> float:
    dcg = sum((2 ** judged.get(f, 0) - 1) / math.log2(i + 2) for i, f in enumerate(files[:10]))
    ideal = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(sorted(judged.values(), reverse=True)[:10]))
    return dcg / ideal if ideal else 0.0


VARIANTS = {
    "best passage, boost / pool's best BM25": dict(per_file="max"),
    "top-3 sum (0.3 each)": dict(per_file="sum"),
    "soft max T=0.05": dict(temperature=0.05),
    "soft max T=0.10 (shipped)": dict(temperature=0.10),
    "soft max T=0.15": dict(temperature=0.15),
    "best passage, boost 0.3 / IDF sum": dict(per_file="max", scale="idf", boost=0.3),
    "soft max T=0.10, boost 0.3 / IDF sum": dict(scale="idf", boost=0.3),
}


def realdocs_queries(split: str) -> tuple[dict[str, dict], dict[str, dict[str, int]]]:
    queries = {}
    for line in (REALDOCS / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if q["metadata"]["set"] == split:
            queries[q["_id"]] = q
    judged: dict[str, dict[str, int]] = defaultdict(dict)
    for line in (REALDOCS / "qrels" / f"{split}.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        qid, doc, grade = line.split("\t")
        judged[qid][doc] = int(grade)
    return queries, judged


def cmd_realdocs(args: argparse.Namespace) -> None:
    queries, judged = realdocs_queries(args.split)
    with Library(args.library) as lib:
        roots = lib.roots()
        caps = {qid: capture(lib, q["text"]) for qid, q in queries.items()}
    def rel_path(path: str) -> str:
        root = next((r for r in roots if path.startswith(r.rstrip("/") + "/")), "")
        return path[len(root.rstrip("/")) + 1:] if root else path
    for name, variant in VARIANTS.items():
        rows: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for qid, q in queries.items():
            kind = q["metadata"]["kind"]
            if kind == "unrelated":
                continue
            files = [rel_path(p) for p in refuse(caps[qid], **variant)] if caps[qid] else []
            rows[kind].append((int(any(f in judged[qid] for f in files[:5])), ndcg10(files, judged[qid])))
        print(f"{name:40}", "  ".join(f"{kind} hit@5 {sum(h for h, _ in r) / len(r):.3f} nDCG@10 "
                                      f"{sum(n for _, n in r) / len(r):.3f}" for kind, r in sorted(rows.items())))


def cmd_nfcorpus(args: argparse.Namespace) -> None:
    from seekwise.evaluation import load_beir, write_corpus

    data = load_beir(args.folder, args.split)
    with Library(args.library) as lib:
        doc_of = write_corpus(data, Path(lib.roots()[0]))   # the folder the library indexed (no change)
        caps = {qid: capture(lib, text, k=101) for qid, text in data.queries.items()}
    for name, variant in VARIANTS.items():
        scores = []
        for qid, c in caps.items():
            if not data.qrels.get(qid):
                continue
            files = [d for d in (doc_of.get(p) for p in refuse(c, **variant)) if d and d != qid] if c else []
            scores.append(ndcg10(files, data.qrels[qid]))
        print(f"{name:40} nDCG@10 {sum(scores) / len(scores):.4f}")


def evidence(c: dict, weight: float = 0.3) -> float:
    """The best match evidence among a query's candidates, as search.relevance weighs it."""
    ids, bm25, coverage = c["legs"].get("lexical", ([], [], {}))
    keywords = {cid: min(1.0, s / c["full"]) * coverage.get(cid, 0.0)
                for cid, s in zip(ids, bm25) if c["full"] > 0 and coverage.get(cid, 0.0) >= FusionSettings().min_coverage}
    return max(cos + weight * keywords.get(cid, 0.0) for cid, cos in c["cos"].items())


# Queries over the test corpus (tests/data/corpus), written for the bar: six with an answer there,
# six about nothing in it.
SMALL_QUERIES = [
    ("relevant", "how do I get my deposit back"), ("relevant", "when must I register for self assessment"),
    ("relevant", "feeding a wild yeast starter before baking"),
    ("relevant", "repair a punctured bicycle tyre at the roadside"),
    ("relevant", "call a flaky network operation again with increasing waits"),
    ("relevant", "why do my tomatoes split"),
    ("unrelated", "quantum chromodynamics lattice"), ("unrelated", "offside rule in football"),
    ("unrelated", "volcano eruption forecasting"), ("unrelated", "jazz chord progressions"),
    ("unrelated", "satellite orbit calculation"), ("unrelated", "medieval castle architecture"),
]


def cmd_bar(args: argparse.Namespace) -> None:
    for folder in args.libraries:
        with Library(folder) as lib:
            matrix, _ = lib._exact_matrix()
            encoder = lib.encoder.get()
            best = [float((matrix @ encoder.embed_query(q)).max()) for q in NULL_QUERIES]
            median = statistics.median(best)
            print(f"{folder}: {len(matrix):,} passages, null median {median:.3f}, "
                  f"bar {bar_from(best, len(matrix)):.3f}")
            if args.queries == "realdocs":
                queries, _ = realdocs_queries("dev")
                labelled = [("unrelated" if q["metadata"]["kind"] == "unrelated" else "relevant", q["text"])
                            for q in queries.values()]
            elif args.queries == "small":
                labelled = SMALL_QUERIES
            else:
                continue
            kinds: dict[str, list[float]] = defaultdict(list)
            for kind, text in labelled:
                c = capture(lib, text)
                if c:
                    kinds[kind].append(evidence(c))
            low, high = max(kinds["unrelated"]) - median, min(kinds["relevant"]) - median
            print(f"  unrelated best {max(kinds['unrelated']):.3f}, relevant worst {min(kinds['relevant']):.3f}: "
                  f"a margin in {low:.3f}-{high:.3f} parts them")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("realdocs")
    p.add_argument("library")
    p.add_argument("--split", default="dev")
    p = sub.add_parser("nfcorpus")
    p.add_argument("library")
    p.add_argument("folder")
    p.add_argument("--split", default="dev")
    p = sub.add_parser("bar")
    p.add_argument("libraries", nargs="+")
    p.add_argument("--queries", choices=["realdocs", "small"])
    args = parser.parse_args()
    {"realdocs": cmd_realdocs, "nfcorpus": cmd_nfcorpus, "bar": cmd_bar}[args.cmd](args)


if __name__ == "__main__":
    main()
