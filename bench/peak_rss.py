"""Where a command's memory goes: samples /proc/PID/smaps_rollup of it and its children. A benchmark.

    python bench/peak_rss.py [--every 0.25] [--csv OUT.csv] [--stop-at REGEX] -- seekwise index --data-dir /tmp/lib FOLDER

Prints the main process's peak RSS split into anonymous memory (heap, hnswlib, ORT, numpy) and
file-backed pages (the LMDB map, the model file, shared libraries), how much of it is the LMDB
store's mapping (sampled from /proc/PID/smaps once a second), each child's peak (the extraction
workers) and the process tree's (the sum, sampled). --stop-at sends SIGINT once a line of the
command's output matches (e.g. '^keywords: ' ends `seekwise index` after its keyword phase).
RSS counts a mapped file page once touched, though the kernel can drop it at will; anonymous
memory is what the process really holds.
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

FIELDS = ("Rss", "Anonymous", "Pss_File", "Private_Dirty", "Swap")


def rollup(pid: int) -> dict[str, int] | None:
    """Fields of smaps_rollup in MB, None once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    out = {}
    for line in text.splitlines()[1:]:
        name, _, rest = line.partition(":")
        if name in FIELDS:
            out[name] = int(rest.split()[0]) // 1024
    return out


def mapped_rss(pid: int, needle: str) -> int:
    """RSS in MB of the mappings whose path contains `needle`."""
    total = 0
    current = False
    try:
        with open(f"/proc/{pid}/smaps") as fh:
            for line in fh:
                if line[0] in "0123456789abcdef" and "-" in line.split(" ", 1)[0]:
                    current = needle in line
                elif current and line.startswith("Rss:"):
                    total += int(line.split()[1])
    except OSError:
        return 0
    return total // 1024


def children(pid: int) -> list[int]:
    """Descendants of `pid`: the children of each of its threads (the extraction pool's thread
    spawns the workers, so they are not the main thread's children)."""
    kids = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return []
    for task in tasks:
        try:
            kids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids + [g for k in kids for g in children(k)]


def relay(proc: subprocess.Popen, stop_at: re.Pattern) -> None:
    """Pass the command's output on; SIGINT it at the first line (or redrawn \\r part) that matches."""
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.decode(errors="replace")
        sys.stderr.write(line)
        if any(stop_at.search(part) for part in line.replace("\r", "\n").splitlines()) and proc.poll() is None:
            proc.send_signal(signal.SIGINT)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=float, default=0.25)
    ap.add_argument("--csv", type=Path)
    ap.add_argument("--store", default="store.lmdb", help="path part of the LMDB file's mapping")
    ap.add_argument("--stop-at", type=re.compile, help="SIGINT the command when its output matches")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stderr=subprocess.STDOUT if args.stop_at else None,
                            stdout=subprocess.PIPE if args.stop_at else None)
    if args.stop_at:
        threading.Thread(target=relay, args=(proc, args.stop_at), daemon=True).start()
    tree_peak = (0, 0.0)
    peak: dict[str, int] = {}
    at_peak: dict[str, int] = {}
    kid_peak: dict[int, int] = {}
    rows = []
    last_maps = 0.0
    lmdb = lmdb_peak = 0
    while proc.poll() is None:
        now = rollup(proc.pid)
        if now:
            if time.monotonic() - last_maps >= 1.0:
                lmdb = mapped_rss(proc.pid, args.store)
                lmdb_peak = max(lmdb_peak, lmdb)
                last_maps = time.monotonic()
            now["lmdb_rss"] = lmdb
            for k, v in now.items():
                peak[k] = max(peak.get(k, 0), v)
            if now["Rss"] >= at_peak.get("Rss", 0):
                at_peak = dict(now, t=round(time.monotonic() - t0, 1))
            kids = {k: (rollup(k) or {}).get("Rss", 0) for k in children(proc.pid)}
            for k, v in kids.items():
                kid_peak[k] = max(kid_peak.get(k, 0), v)
            tree = now.get("Rss", 0) + sum(kids.values())
            if tree > tree_peak[0]:
                tree_peak = (tree, round(time.monotonic() - t0, 1))
            rows.append((round(time.monotonic() - t0, 2), now.get("Rss", 0), now.get("Anonymous", 0),
                         now.get("Pss_File", 0), lmdb, sum(kids.values())))
        time.sleep(args.every)
    wall = time.monotonic() - t0
    if args.csv:
        args.csv.write_text("t,rss_mb,anon_mb,file_mb,lmdb_rss_mb,children_rss_mb\n"
                            + "".join(",".join(map(str, r)) + "\n" for r in rows))
    print(f"exit {proc.returncode}, {wall:.1f} s", file=sys.stderr)
    print(f"peak of each field (MB): {peak}", file=sys.stderr)
    print(f"at the RSS peak (MB, t in s): {at_peak}", file=sys.stderr)
    print(f"children's peak RSS (MB): {sorted(kid_peak.values(), reverse=True)}", file=sys.stderr)
    print(f"process tree's peak RSS (MB, sampled): {tree_peak[0]} at t={tree_peak[1]} s", file=sys.stderr)
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
