"""`seekwise search` latency from the command line, as a user runs it: a fresh process per query.

cold: nothing runs on the library, every query loads what it needs. warm: a `seekwise watch` on the
library (started here, once it says it is up to date) answers through its socket. Per round: p50/p95
over the queries; the figure reported is the median of the rounds, for wall time and for the CPU time
(user + system) of the search process, which varies less on a shared machine. The --json output of
every query is kept from the first round, and compared: cold with warm, and between contenders.

    python bench/cli_latency.py /tmp/copy-of-bench-library [--queries bench/queries-recoll.txt]
    python bench/cli_latency.py LIB --tree before=/tmp/old/app --tree after=app   # one session, A/B

`watch` writes to the library it watches: give it a copy (cp -a) of a library you want unchanged;
with several contenders each warm one watches a copy of its own (made with cp -a --reflink=auto).
--tree runs another copy of the package (a folder holding seekwise/); the rounds of the contenders
take turns, so a change in the machine's load falls on all of them. The children run as an installed
Seekwise does, from compiled bytecode (kept in a folder of this run's, never beside the sources,
whatever PYTHONDONTWRITEBYTECODE says).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEEKWISE = str(Path(sys.executable).with_name("seekwise"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def child_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run_round(lib: str, queries: list[str], env: dict) -> tuple[list[float], list[float], list[str]]:
    times, cpu, outputs = [], [], []
    for query in queries:
        cpu_before, started = child_cpu(), time.perf_counter()
        out = subprocess.run([SEEKWISE, "search", "--data-dir", lib, "--json", query],
                             capture_output=True, text=True, env=env, check=False)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((child_cpu() - cpu_before) * 1000)
        if out.returncode not in (0, 1):
            raise SystemExit(f"seekwise search {query!r} failed ({out.returncode}): {out.stderr}")
        outputs.append(out.stdout)
    return times, cpu, outputs


class Contender:
    def __init__(self, name: str, tree: str | None, cache: str) -> None:
        self.name = name
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.env["PYTHONPYCACHEPREFIX"] = cache
        if tree:
            self.env["PYTHONPATH"] = os.path.abspath(tree)
        self.rounds: dict[str, list[tuple[float, float, float]]] = {}
        self.outputs: dict[str, list[str]] = {}

    def round(self, kind: str, lib: str, queries: list[str]) -> None:
        times, cpu, outputs = run_round(lib, queries, self.env)
        self.outputs.setdefault(kind, outputs)
        self.rounds.setdefault(kind, []).append(
            (percentile(times, 0.5), percentile(times, 0.95), percentile(cpu, 0.5)))

    def figures(self, kind: str) -> dict:
        rounds = self.rounds[kind]
        return {"p50_ms": round(statistics.median(r[0] for r in rounds), 1),
                "p95_ms": round(statistics.median(r[1] for r in rounds), 1),
                "cpu_p50_ms": round(statistics.median(r[2] for r in rounds), 1),
                "rounds_p50": [round(r[0], 1) for r in rounds]}


def start_watch(lib: str, env: dict, timeout: float = 600) -> subprocess.Popen:
    """A `seekwise watch` on `lib`, returned once it has said it is up to date."""
    watch = subprocess.Popen([SEEKWISE, "watch", "--data-dir", lib], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, env=env)
    ready = threading.Event()

    def read() -> None:
        for line in watch.stderr:
            if "up to date" in line:
                ready.set()
    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(timeout):
        watch.terminate()
        raise SystemExit("seekwise watch did not get up to date in time")
    return watch


def interleaved(kind: str, contenders: list[Contender], libs: list[str], queries: list[str], rounds: int) -> None:
    for r in range(rounds):
        order = list(range(len(contenders)))
        order = order[r % len(order):] + order[:r % len(order)]
        for i in order:
            contenders[i].round(kind, libs[i], queries)
    for c in contenders:
        f = c.figures(kind)
        print(f"{c.name} {kind}: p50 {f['p50_ms']} ms, p95 {f['p95_ms']} ms, CPU p50 {f['cpu_p50_ms']} ms "
              f"(rounds p50 {f['rounds_p50']})", flush=True)


def same(a: list[str], b: list[str]) -> tuple[int, int]:
    """(queries whose --json output is identical, queries with the same files in the same order)."""
    files = sum([json.loads(x)["path"] for x in p.splitlines()] == [json.loads(x)["path"] for x in q.splitlines()]
                for p, q in zip(a, b))
    return sum(p == q for p, q in zip(a, b)), files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("library", help="a library folder (a copy: watch writes to it)")
    ap.add_argument("--queries", default=str(HERE / "queries-recoll.txt"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip", choices=("cold", "warm"), help="measure only the other one")
    ap.add_argument("--tree", action="append", default=[], metavar="NAME=FOLDER",
                    help="a contender: the seekwise package in FOLDER (repeatable; default: the installed one)")
    ap.add_argument("--json", dest="json_out", help="write the figures (and outputs) here")
    args = ap.parse_args()
    queries = [q.strip() for q in Path(args.queries).read_text().splitlines() if q.strip()]
    work = tempfile.mkdtemp(prefix="seekwise-cli-latency-")
    trees = [t.split("=", 1) if "=" in t else (t, t) for t in args.tree] or [("installed", None)]
    contenders = [Contender(name, tree, os.path.join(work, f"pycache-{i}")) for i, (name, tree) in enumerate(trees)]
    libs = [args.library]
    try:
        for c in contenders:
            c.round("warmup", args.library, queries[:2])   # bytecode compiled, files in the page cache
        if args.skip != "cold":
            interleaved("cold", contenders, [args.library] * len(contenders), queries, args.rounds)
        if args.skip != "warm":
            for i in range(1, len(contenders)):
                libs.append(os.path.join(work, f"library-{i}"))
                subprocess.run(["cp", "-a", "--reflink=auto", args.library, libs[-1]], check=True)
            watches = []
            try:
                for c, lib in zip(contenders, libs):
                    watches.append(start_watch(lib, c.env))
                    c.round("warmup", lib, queries[:1])     # its first search loads the model and the graph
                interleaved("warm", contenders, libs, queries, args.rounds)
            finally:
                for w in watches:
                    w.terminate()
                    w.wait(60)
        for c in contenders:
            if "cold" in c.outputs and "warm" in c.outputs:
                print(f"{c.name}: cold and warm --json identical for %d/{len(queries)}, the same files in order "
                      f"for %d/{len(queries)}" % same(c.outputs["cold"], c.outputs["warm"]))
        for c in contenders[1:]:
            for kind in ("cold", "warm"):
                if kind in c.outputs:
                    print(f"{c.name} vs {contenders[0].name} {kind}: --json identical for %d/{len(queries)}, "
                          f"the same files in order for %d/{len(queries)}" % same(c.outputs[kind],
                                                                                 contenders[0].outputs[kind]))
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(
                {"queries": queries, "rounds": args.rounds,
                 "contenders": {c.name: {"tree": dict(trees)[c.name],
                                         **{k: {**c.figures(k), "outputs": c.outputs[k]}
                                            for k in ("cold", "warm") if k in c.rounds}} for c in contenders}},
                indent=1, ensure_ascii=False))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
