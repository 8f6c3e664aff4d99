"""`python bench/bench_extract.py DIR [--json OUT]`: extraction throughput per format family.

Every file under DIR goes through the registry the way the indexer takes it (size check, then the
isolation worker for risky families, in-process for the rest); nothing is chunked or embedded.
Prints files, files/s, MB/s and failures by reason per family, and writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

from seekwise import __version__
from seekwise.core import extract
from seekwise.core.extract import ExtractionError, Unsupported, isolate, reading
from seekwise.core.extract.reading import DEFAULT_MAX_FILE_MB
from seekwise.core.scanner import scan


@dataclass
class FamilyFigures:
    family: str
    isolated: bool
    files: int = 0
    ok: int = 0
    bytes: int = 0
    chars: int = 0
    seconds: float = 0.0
    slowest: tuple[float, str] = (0.0, "")
    failures: Counter = field(default_factory=Counter)

    @property
    def files_per_s(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 2**20 / self.seconds if self.seconds else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/bench_extract.py", description=__doc__.split("\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--json", dest="json_out", help="write the figures to this JSON file")
    parser.add_argument("--max-file-mb", type=int, default=DEFAULT_MAX_FILE_MB)
    parser.add_argument("--in-process", action="store_true",
                        help="parse risky families in this process too (to measure what isolation costs)")
    parser.add_argument("--limit", type=int, default=0, help="stop after this many files")
    parser.add_argument("--family", action="append", default=[], help="only this family (repeatable): pdf, docx...")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.folder):
        print(f"seekwise: {args.folder}: no such folder", file=sys.stderr)
        return 1
    figures, summary = measure(os.path.abspath(args.folder), args.max_file_mb << 20, not args.in_process, args.limit,
                               set(args.family))
    print(table(figures, summary))
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump(as_json(figures, summary), fh, indent=2)
    return 0


def measure(folder: str, max_file_bytes: int, isolated: bool, limit: int = 0,
            families: set[str] | frozenset[str] = frozenset()) -> tuple[dict[str, FamilyFigures], dict]:
    seen = scan([folder])
    files = sorted(seen.files, key=lambda f: f.path)
    if families:
        files = [f for f in files if (fam := extract.family_for(f.path)) is not None and fam.name in families]
    files = files[: limit or None]
    iso = isolate.Isolator()
    figures: dict[str, FamilyFigures] = {}
    unsupported: Counter = Counter()
    t0 = time.perf_counter()
    try:
        for f in files:
            family = extract.family_for(f.path)
            if family is None:
                unsupported[os.path.splitext(f.path)[1].lower() or "(none)"] += 1
                continue
            fig = figures.setdefault(family.name, FamilyFigures(family.name, family.isolated and isolated))
            fig.files += 1
            start = time.perf_counter()
            try:
                chars, size = _extract_one(f.path, f.size, family, max_file_bytes, iso if isolated else None)
                fig.ok += 1
                fig.chars += chars
                fig.bytes += size
            except ExtractionError as exc:
                fig.failures[("skipped: " if isinstance(exc, Unsupported) else "error: ") + exc.reason] += 1
            took = time.perf_counter() - start
            fig.seconds += took
            fig.slowest = max(fig.slowest, (took, os.path.relpath(f.path, folder)))
        wall = time.perf_counter() - t0
        overhead = _isolation_overhead(iso) if isolated else None
    finally:
        iso.close()
    summary = {
        "folder": folder, "files_seen": len(seen.files), "files_measured": len(files), "wall_seconds": round(wall, 2),
        "unsupported": dict(unsupported), "isolated": isolated, "worker_spawns": iso.spawns,
        "isolation_overhead": overhead, "worker_start_seconds": round(iso.spawn_seconds, 3), "peak_rss_mb": _peak_rss_mb(resource.RUSAGE_SELF),
        "worker_peak_rss_mb": _peak_rss_mb(resource.RUSAGE_CHILDREN), "max_file_mb": max_file_bytes >> 20,
        "seekwise": __version__, "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    return figures, summary


def _extract_one(path: str, size: int, family: extract.Family, max_file_bytes: int,
                 iso: isolate.Isolator | None) -> tuple[int, int]:
    """As Indexer._process does it: (characters of text, bytes read)."""
    limit = extract.size_limit(family, max_file_bytes)
    if size > limit:
        raise reading.too_large(limit)
    if family.isolated and iso is not None:
        doc, _, size = iso.extract_file(path, family, limit)
    else:
        data = reading.read_file(path, limit)
        doc, size = extract.extract(path, data, family), len(data)
    return len(doc.text), size


def _isolation_overhead(iso: isolate.Isolator) -> dict:
    """What a file pays for the round trip to the worker, in milliseconds: a tiny RTF file extracted
    there and here, many times (the parse itself is negligible, so the difference is the trip)."""
    family = extract.family_for("x.rtf")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "tiny.rtf")
        with open(path, "wb") as fh:
            fh.write(b"{\\rtf1\\ansi a tiny file\\par}")
        iso.extract_file(path, family, 1 << 20)
        rounds = 500
        t0 = time.perf_counter()
        for _ in range(rounds):
            iso.extract_file(path, family, 1 << 20)
        worker = (time.perf_counter() - t0) / rounds
        t0 = time.perf_counter()
        for _ in range(rounds):
            extract.extract(path, reading.read_file(path, 1 << 20), family)
        here = (time.perf_counter() - t0) / rounds
    return {"worker_ms": round(worker * 1000, 3), "in_process_ms": round(here * 1000, 3),
            "overhead_ms": round((worker - here) * 1000, 3)}


def _peak_rss_mb(who: int) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)  # KiB on Linux


def table(figures: dict[str, FamilyFigures], summary: dict) -> str:
    rows = [f"{'family':<10} {'where':<9} {'files':>6} {'ok':>6} {'MB':>8} {'s':>7} {'files/s':>8} {'MB/s':>7}  "
            "failures (by reason)"]
    for fig in sorted(figures.values(), key=lambda x: -x.files):
        fails = "; ".join(f"{n}× {r}" for r, n in fig.failures.most_common(4)) or "-"
        rows.append(f"{fig.family:<10} {'worker' if fig.isolated else 'in-proc':<9} {fig.files:>6} {fig.ok:>6} "
                    f"{fig.bytes / 2**20:>8.1f} {fig.seconds:>7.2f} {fig.files_per_s:>8.1f} {fig.mb_per_s:>7.1f}  {fails}")
    total_files = sum(f.files for f in figures.values())
    total_bytes = sum(f.bytes for f in figures.values())
    wall = summary["wall_seconds"]
    rows.append(f"{'all':<10} {'':<9} {total_files:>6} {sum(f.ok for f in figures.values()):>6} "
                f"{total_bytes / 2**20:>8.1f} {wall:>7.2f} {total_files / wall if wall else 0:>8.1f} "
                f"{total_bytes / 2**20 / wall if wall else 0:>7.1f}")
    over = summary["isolation_overhead"]
    if over:
        rows.append(f"isolation: {summary['worker_spawns']} worker start(s), {summary['worker_start_seconds']} s; "
                    f"a tiny file takes {over['worker_ms']} ms through the worker, {over['in_process_ms']} ms here: "
                    f"{over['overhead_ms']} ms a file")
    rows.append(f"peak RSS {summary['peak_rss_mb']} MB here, {summary['worker_peak_rss_mb']} MB in the worker; "
                f"unsupported: {summary['unsupported'] or 'none'}")
    slow = sorted(((f.slowest, f.family) for f in figures.values()), reverse=True)[:3]
    rows.append("slowest: " + ", ".join(f"{name} {sec:.2f} s ({fam})" for (sec, name), fam in slow))
    return "\n".join(rows)


def as_json(figures: dict[str, FamilyFigures], summary: dict) -> dict:
    out = {"summary": summary, "families": {}}
    for name, fig in figures.items():
        data = asdict(fig)
        data["failures"] = dict(fig.failures)
        data["files_per_s"] = round(fig.files_per_s, 2)
        data["mb_per_s"] = round(fig.mb_per_s, 2)
        data["seconds"] = round(fig.seconds, 3)
        data["slowest"] = {"seconds": round(fig.slowest[0], 3), "file": fig.slowest[1]}
        out["families"][name] = data
    return out


if __name__ == "__main__":
    raise SystemExit(main())
