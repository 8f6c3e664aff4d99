"""Query latency on an existing library, per mode, ranking alone and with marked passages.

    python bench/querybench.py LIBRARY [--queries FILE] [--json OUT]

`seekwise bench` times the default search (hybrid, passages marked) on a library it builds; this
times every mode on one already built (e.g. `seekwise bench --keep`), so ranking and the marking of
the closest sentence (one model call over the sentences of every passage without query words) are
seen apart. Three rounds, the query-embedding cache cleared before each.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seekwise.devtools.bench import DEFAULT_QUERIES, percentiles, time_queries
from seekwise.core.library import Library
from seekwise.core.paths import LibraryPaths


def measure(library: str, queries: list[str], rounds: int = 3) -> dict:
    if not LibraryPaths.resolve(library).store.exists():
        raise SystemExit(f"{library} holds no Seekwise library (build one with `seekwise bench --keep` or `index`)")
    out: dict = {}
    with Library(library, readonly=True) as lib:
        out["chunks"] = lib.store.counts()["chunks"]
        lib.search("warm up: load the model and the index")
        for mode in ("hybrid", "dense", "lexical"):
            for mark in (False, True):
                times = time_queries(lib, queries, rounds, mode=mode, mark=mark)
                out[f"{mode}{'_marked' if mark else ''}"] = percentiles(times, "ms_")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/querybench.py", description=__doc__.splitlines()[0])
    p.add_argument("library")
    p.add_argument("--queries", help="one query per line (default: the bench's built-in set)")
    p.add_argument("--json", dest="json_out")
    args = p.parse_args(argv)
    queries = (Path(args.queries).read_text().split("\n") if args.queries else DEFAULT_QUERIES)
    out = measure(args.library, [q for q in queries if q.strip()])
    print(f"{out['chunks']} chunks")
    for name, fig in out.items():
        if name != "chunks":
            print(f"{name:16} p50 {fig['ms_p50']:7.1f} ms   p95 {fig['ms_p95']:7.1f} ms")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
