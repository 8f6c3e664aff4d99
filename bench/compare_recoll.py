"""Seekwise against Recoll on one corpus, in one run, on this machine. A benchmark, not a test.

    .venv/bin/python bench/compare_recoll.py /work/bench/corpus [--keywords-only] [--work DIR]

Builds nothing into the corpus; indexes it with `recollindex` (Debian's recoll, default config, a
fresh RECOLL_CONFDIR; with poppler-utils installed, or Recoll lists PDFs by name only and finishes
in a third of the time) and `seekwise index` (a fresh --data-dir), each under /usr/bin/time -v while
the whole process tree's RSS is sampled, and prints one table: wall time until every file is
searchable by keyword (Recoll: the end of recollindex; Seekwise: the moment `index` prints that
its keyword phase ended, from the process start, and the indexer's own keywords_seconds),
until meaning is complete (Seekwise), CPU seconds, peak RSS (the largest process, as time -v
gives it, and the sum over the process tree), the no-change re-index, and command-line query
latency p50 over the queries of bench/queries-recoll.txt: cold (a fresh process per query,
nothing running: recollq, seekwise search) and warm (each query again: recollq with its index in
the page cache, seekwise search answered by a running `seekwise watch`). Ratios are Seekwise /
Recoll.

--keywords-only stops `seekwise index` once its keyword phase ends (SIGINT: the meaning phase
keeps what it did and resumes next time), for a quick end-to-end check on a small folder.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEEKWISE = str(Path(sys.executable).with_name("seekwise"))
QUERIES = HERE / "queries-recoll.txt"
KEYWORDS_DONE = re.compile(r"^keywords: ")                       # the line `index` keeps as phase 1 ends
KEYWORDS_SECONDS = re.compile(r"searchable by keyword after ([\d.]+) s")


@dataclass
class Run:
    wall: float = 0.0
    cpu: float = 0.0
    max_rss_mb: float = 0.0       # the largest single process (time -v)
    tree_rss_mb: float = 0.0      # the process tree's summed RSS, sampled
    code: int = 0
    stdout: str = ""
    stderr: str = ""
    marks: dict[str, float] = field(default_factory=dict)   # line pattern -> seconds from the start


def tree_rss_kb(root: int) -> int:
    """RSS of `root` and every descendant, from /proc (kB)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        pid, ppid = int(entry), int(fields.get("PPid", "0").strip() or 0)
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


def timed(cmd: list[str], env: dict | None = None, stop_at: re.Pattern | None = None,
          watch: dict[str, re.Pattern] | None = None) -> Run:
    """Run `cmd` under /usr/bin/time -v; note when lines matching `watch` appear (stdout or
    stderr); SIGINT it when a line matches `stop_at`."""
    run = Run()
    report = tempfile.NamedTemporaryFile(prefix="time-", suffix=".txt", delete=False)
    report.close()
    started = time.perf_counter()
    proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", report.name, *cmd], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], tree_rss_kb(proc.pid))

    def read(stream, sink: list[str]) -> None:  # noqa: ANN001
        for line in stream:
            sink.append(line)
            for line_part in line.replace("\r", "\n").splitlines():
                for name, pattern in (watch or {}).items():
                    if name not in run.marks and pattern.search(line_part):
                        run.marks[name] = time.perf_counter() - started
                if stop_at is not None and stop_at.search(line_part) and proc.poll() is None:
                    for child in _children(proc.pid):   # time -v's child: the command itself
                        os.kill(child, signal.SIGINT)

    out, err = [], []
    threads = [threading.Thread(target=sample, daemon=True),
               threading.Thread(target=read, args=(proc.stdout, out), daemon=True),
               threading.Thread(target=read, args=(proc.stderr, err), daemon=True)]
    for t in threads:
        t.start()
    proc.wait()
    run.wall = time.perf_counter() - started
    done.set()
    for t in threads:
        t.join()
    text = Path(report.name).read_text()
    os.unlink(report.name)
    run.code = int(re.search(r"Exit status: (\d+)", text).group(1)) if "Exit status" in text else proc.returncode
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", text).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", text).group(1))
    run.cpu = user + system
    run.max_rss_mb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
    run.tree_rss_mb = peak[0] / 1024
    run.stdout, run.stderr = "".join(out), "".join(err)
    return run


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def latencies(cmd_for, queries: list[str], env: dict | None = None) -> tuple[float, list[float]]:  # noqa: ANN001
    """p50 (s) of one fresh process per query, and every time."""
    times = []
    for q in queries:
        started = time.perf_counter()
        subprocess.run(cmd_for(q), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def wait_for_server(data_dir: str, env: dict, timeout: float = 600) -> bool:
    """Until the running `seekwise watch` answers a search (its socket is up, its first search done)."""
    probe = ("import sys\nfrom seekwise.core import query_server as q\n"
             "sys.exit(0 if q.ask(sys.argv[1], q.SearchRequest('warm up')) is not None else 1)")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if subprocess.run([sys.executable, "-c", probe, data_dir], env=env).returncode == 0:
            return True
        time.sleep(1)
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("--work", help="where the indexes go (default: a temp dir, removed after)")
    ap.add_argument("--queries", default=str(QUERIES))
    ap.add_argument("--keywords-only", action="store_true", help="stop seekwise index after its keyword phase")
    args = ap.parse_args()
    corpus = os.path.realpath(args.corpus)
    if not os.path.isdir(corpus):
        print(f"{corpus}: no such folder", file=sys.stderr)
        return 1
    if not shutil.which("recollindex"):
        print("recollindex is missing: apt-get update && apt-get install -y recoll", file=sys.stderr)
        return 1
    queries = [q.strip() for q in Path(args.queries).read_text().splitlines() if q.strip()]
    work = Path(args.work or tempfile.mkdtemp(prefix="compare-recoll-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return compare(corpus, work, queries, args.keywords_only)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


def compare(corpus: str, work: Path, queries: list[str], keywords_only: bool) -> int:
    confdir, data_dir = work / "recoll", work / "seekwise"
    confdir.mkdir()
    (confdir / "recoll.conf").write_text(f"topdirs = {corpus}\n")   # the rest: Recoll's defaults
    renv = dict(os.environ, RECOLL_CONFDIR=str(confdir))
    senv = dict(os.environ, SEEKWISE_DATA_DIR=str(data_dir))
    senv.pop("PYTHONDONTWRITEBYTECODE", None)        # an installed Seekwise runs from compiled bytecode
    import seekwise
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.dirname(seekwise.__file__)], env=senv,
                   stdout=subprocess.DEVNULL, check=False)

    print(f"corpus {corpus}: {sum(len(f) for _, _, f in os.walk(corpus)):,} files; queries: {len(queries)}",
          file=sys.stderr)
    if shutil.which("pdftotext") is None:   # Recoll would list PDFs by name only: an unfair, faster peer
        print("compare_recoll: Recoll reads PDF text with pdftotext: apt-get install poppler-utils first",
              file=sys.stderr)
        return 1
    print("recollindex …", file=sys.stderr)
    recoll = timed(["recollindex", "-c", str(confdir)], env=renv)
    recoll_again = timed(["recollindex", "-c", str(confdir)], env=renv)
    print("seekwise index …", file=sys.stderr)
    stop = KEYWORDS_DONE if keywords_only else None
    seek = timed([SEEKWISE, "index", "--data-dir", str(data_dir), corpus], env=senv, stop_at=stop,
                 watch={"keywords": KEYWORDS_DONE})
    if seek.code not in (0, 130):
        print(seek.stderr[-2000:], file=sys.stderr)
        return 1
    seek_again = timed([SEEKWISE, "index", "--data-dir", str(data_dir)], env=senv, stop_at=stop,
                       watch={"keywords": KEYWORDS_DONE})
    reported = KEYWORDS_SECONDS.search(seek.stdout)

    print("queries …", file=sys.stderr)
    r_cold, _ = latencies(lambda q: ["recollq", "-c", str(confdir), "-n", "10", q], queries, renv)
    r_warm, _ = latencies(lambda q: ["recollq", "-c", str(confdir), "-n", "10", q], queries, renv)
    s_cold, _ = latencies(lambda q: [SEEKWISE, "search", "--data-dir", str(data_dir), q], queries, senv)
    watcher = subprocess.Popen([SEEKWISE, "watch", "--data-dir", str(data_dir), "-q"], env=senv,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_for_server(str(data_dir), senv):
            print("seekwise watch never answered a search", file=sys.stderr)
            s_warm = float("nan")
        else:
            s_warm, _ = latencies(lambda q: [SEEKWISE, "search", "--data-dir", str(data_dir), q], queries, senv)
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(60)

    keywords_at = seek.marks.get("keywords")
    meaning = "skipped (--keywords-only)" if keywords_only else seek.wall
    rows = [
        ("keyword-searchable, wall s", recoll.wall, keywords_at),
        ("  Seekwise's own keywords_seconds", None, float(reported.group(1)) if reported else None),
        ("meaning complete, wall s", None, meaning),
        ("index CPU s (user+sys)", recoll.cpu, seek.cpu),
        ("peak RSS, largest process MB", recoll.max_rss_mb, seek.max_rss_mb),
        ("peak RSS, process tree MB", recoll.tree_rss_mb, seek.tree_rss_mb),
        ("no-change re-index, wall s", recoll_again.wall, seek_again.marks.get("keywords") if keywords_only
         else seek_again.wall),
        ("CLI query p50 cold, ms", r_cold * 1000, s_cold * 1000),
        ("CLI query p50 warm, ms", r_warm * 1000, s_warm * 1000),
    ]
    missing = (confdir / "missing").read_text().strip() if (confdir / "missing").exists() else ""
    if missing:
        print(f"Recoll lacked helpers for some files (it indexed their names only): {missing}", file=sys.stderr)
    print(f"\n{'':36} {'Recoll':>10} {'Seekwise':>12} {'ratio':>7}")
    for name, r, s in rows:
        ratio = f"{s / r:6.2f}x" if isinstance(r, float) and isinstance(s, float) and r > 0 else ""
        print(f"{name:36} {_cell(r):>10} {_cell(s):>12} {ratio:>7}")
    print("\nwarm: recollq run again (page cache warm); seekwise search answered by a running `seekwise watch`."
          + ("\nthe no-change re-index of Seekwise is timed to its keyword phase's end (--keywords-only)."
             if keywords_only else ""))
    return 0


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "nan" if value != value else f"{value:,.1f}"
    return str(value)


if __name__ == "__main__":
    raise SystemExit(main())
