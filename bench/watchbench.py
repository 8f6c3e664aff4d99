"""What watching costs: time to start watching a tree, CPU while idle, and how a burst is batched.

    python bench/watchbench.py --files 10000 --seconds 30 [--dirs 500] [--burst 5000]

Builds a throwaway tree of `files` small files in `dirs` folders, starts a Watcher on it and
prints one JSON object:

- watch_start_s: Watcher.start(), i.e. walking the tree and adding one inotify watch per folder;
- idle_cpu_s / idle_cpu_percent: CPU time (all threads of this process, getrusage) spent while
  nothing changes for `seconds`;
- burst: `burst` new files written as fast as Python can, the batches they arrived in, and
  how long after the last write the last path was delivered.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time

from seekwise.core.watcher import ChangeBatch, Watcher


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def build_tree(root: str, files: int, dirs: int) -> None:
    per_dir = max(1, files // dirs)
    made = 0
    for d in range(dirs):
        folder = os.path.join(root, f"d{d // 25:03d}", f"sub{d:04d}")  # two levels deep
        os.makedirs(folder, exist_ok=True)
        for f in range(per_dir if d < dirs - 1 else files - made):
            with open(os.path.join(folder, f"note{f:05d}.txt"), "w") as fh:
                fh.write(f"note {d} {f}\n")
            made += 1


def measure_idle(files: int = 10_000, dirs: int = 500, seconds: float = 30.0, burst: int = 0,
                 poll_s: float = 5.0) -> dict:
    base = tempfile.mkdtemp(prefix="seekwise-watchbench-")
    root = os.path.join(base, "root")
    try:
        build_tree(root, files, dirs)
        batches: list[tuple[float, ChangeBatch]] = []
        arrived = threading.Event()
        expected: set[str] = set()

        def on_batch(batch: ChangeBatch) -> None:
            batches.append((time.monotonic(), batch))
            if expected and expected <= set().union(*(b.changed for _, b in batches)):
                arrived.set()

        watcher = Watcher([root], on_batch, poll_s=poll_s)
        t0 = time.monotonic()
        watcher.start()
        start_s = time.monotonic() - t0
        try:
            time.sleep(1.0)  # let start-up settle before the idle window
            cpu0, wall0 = _cpu_s(), time.monotonic()
            time.sleep(seconds)
            idle_cpu = _cpu_s() - cpu0
            idle_wall = time.monotonic() - wall0
            result: dict = {
                "files": files, "dirs": dirs,
                "folders_watched": sum(len(d) for _, d, _ in os.walk(root)) + 1,  # with parents
                "watch_start_s": round(start_s, 4),
                "idle_seconds": round(idle_wall, 2),
                "idle_cpu_s": round(idle_cpu, 4),
                "idle_cpu_percent": round(100 * idle_cpu / idle_wall, 4),
                "idle_batches": len(batches),
                "poll_s": poll_s,
                "status": watcher.status(),
            }
            if burst:
                batches.clear()
                folder = os.path.join(root, "burst")
                os.makedirs(folder)
                time.sleep(1.0)  # the new folder's own event out of the way
                batches.clear()
                expected.update(os.path.join(folder, f"f{i:05d}.txt") for i in range(burst))
                t1 = time.monotonic()
                for path in sorted(expected):
                    with open(path, "w") as fh:
                        fh.write("x\n")
                written = time.monotonic()
                complete = arrived.wait(60)
                got = set().union(*(b.changed for _, b in batches)) if batches else set()
                result["burst"] = {
                    "files": burst,
                    "write_s": round(written - t1, 3),
                    "batches": len(batches),
                    "batch_sizes": [len(b.changed) for _, b in batches],
                    "all_paths_present": complete,
                    "missing": len(expected - got),
                    "rescans": sorted(set().union(*(b.rescan for _, b in batches))) if batches else [],
                    "last_batch_after_last_write_s": round(batches[-1][0] - written, 3) if batches else None,
                }
        finally:
            watcher.stop()
        return result
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/watchbench.py", description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--dirs", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--burst", type=int, default=5_000, help="files in the burst (0: skip)")
    parser.add_argument("--poll", type=float, default=5.0, help="the watcher's root check interval")
    args = parser.parse_args(argv)
    result = measure_idle(args.files, args.dirs, args.seconds, args.burst, args.poll)
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
