"""Cold and warm start of the installed app: medians over N runs of each, printed and as JSON.

    python3 packaging/linux/measure_startup.py [--runs 5] [--bin /usr/bin] [--json out.json]

Over a library of tests/data/corpus built first in a temp HOME:
- cli-version: `seekwise --version` (process start, bundle loaded, nothing else);
- first-search: `seekwise search QUERY` (start, open the library, load the model, embed, rank, print);
- first-window-x11: `seekwise-gui` on a private Xvfb until its window is mapped (xdotool polls 5 ms);
- gui-results-screenshot: `seekwise-gui --query QUERY --screenshot` offscreen until it exits: window,
  library, model, results and preview rendered and saved (includes the app's 300 ms settle delay).
"Cold" evicts the bundle and the library from the page cache first (vmtouch -e), so their files
are read from disk; system libraries stay cached. "Warm" runs right after a run of the same.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUERY = "how do I get my deposit back"


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    return time.perf_counter() - t0


def first_window(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        while time.perf_counter() - t0 < 120:
            found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Seekwise$"],
                                   env=env, capture_output=True).stdout.strip()
            if found:
                return time.perf_counter() - t0
            if proc.poll() is not None:
                raise RuntimeError(f"seekwise-gui exited with {proc.returncode} before showing a window "
                                   f"on {env.get('DISPLAY')}:\n"
                                   + proc.stderr.read()[-2000:])
            time.sleep(0.005)
        raise RuntimeError("no window within 120 s")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bin", default="/usr/bin", help="folder with seekwise and seekwise-gui")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    cli, gui = str(Path(args.bin) / "seekwise"), str(Path(args.bin) / "seekwise-gui")
    bundle = str(Path(cli).resolve().parent)
    work = Path(tempfile.mkdtemp(prefix="seekwise-startup-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "SEEKWISE_", "QT_"))}
    env.update(HOME=str(work / "home"), LANG="C.UTF-8")
    lib = str(work / "library")
    subprocess.run([cli, "index", "--data-dir", lib, "--quiet", str(ROOT / "tests" / "data" / "corpus")],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    xvfb = subprocess.Popen(["Xvfb", ":97", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):  # until the display answers
        if subprocess.run(["xdotool", "getdisplaygeometry"], env={**env, "DISPLAY": ":97"},
                          capture_output=True).returncode == 0:
            break
        time.sleep(0.05)
    offscreen = {**env, "QT_QPA_PLATFORM": "offscreen"}
    x11 = {**env, "DISPLAY": ":97"}
    cases = {
        "cli-version": lambda: timed([cli, "--version"], env),
        "first-search": lambda: timed([cli, "search", "--data-dir", lib, "-k", "3", QUERY], env),
        "first-window-x11": lambda: first_window([gui, "--data-dir", lib, "--no-index"], x11),
        "gui-results-screenshot": lambda: timed(
            [gui, "--data-dir", lib, "--query", QUERY, "--screenshot", str(work / "shot.png")], offscreen),
    }
    results: dict[str, dict[str, float]] = {}
    try:
        for name, run in cases.items():
            for temperature in ("cold", "warm"):
                times = []
                if temperature == "warm":
                    run()  # prime the cache with this very command
                for _ in range(args.runs):
                    if temperature == "cold":
                        subprocess.run(["vmtouch", "-q", "-e", bundle, lib], check=True)
                    times.append(run())
                results.setdefault(name, {})[temperature] = statistics.median(times)
                print(f"{name:24s} {temperature}: median {statistics.median(times) * 1000:7.0f} ms  "
                      f"(runs: {', '.join(f'{t * 1000:.0f}' for t in times)})", flush=True)
    finally:
        xvfb.terminate()
        xvfb.wait()
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
