"""Save-to-searchable latency: edit a watched file, time until a search finds it.

    python bench/latencybench.py [--edits 50] [--backlog 2000] [--json OUT]

A temporary library watches a temporary folder through the real service and watcher. Each edit
writes a file holding a fresh nonsense word; we time until a keyword search finds it and until its
vectors are in the store (a meaning search can find it). With --backlog, that many files are
still being indexed in the background while the edits happen.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

PARAGRAPH = ("Notes on {topic}: what was decided, who does what next, and the open questions "
             "about budget, timing and the people involved. ")
TOPICS = ["rent", "ovens", "bicycles", "invoices", "greenhouses", "retries", "ropes", "birds"]


def _fill(folder: Path, n: int) -> None:
    for i in range(n):
        sub = folder / f"backlog-{i // 200:03d}"
        sub.mkdir(exist_ok=True)
        (sub / f"note-{i:05d}.txt").write_text("\n\n".join(PARAGRAPH.format(topic=TOPICS[(i + p) % 8]) + str(i * 7 + p)
                                                             for p in range(6)))


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))] * 1000, 1)


def measure(edits: int, backlog: int, pause_s: float = 0.3) -> dict:
    from seekwise.core.library import Library
    from seekwise.core.service import IndexService

    with tempfile.TemporaryDirectory(prefix="seekwise-latency-") as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        (folder / "start.txt").write_text("A first note so the library is not empty.")
        lib = Library(Path(tmp) / "lib")
        lib.add_root(folder)
        with IndexService(lib) as service:
            if not service.wait_idle(120):
                raise SystemExit("the first index did not finish")
            lib.search("warm up", mode="hybrid")
            if backlog:
                _fill(folder, backlog)
                service.rescan()
                time.sleep(1.0)
            keyword, vector = [], []
            busy = 0
            for i in range(edits):
                word = f"qzx{i:03d}vrk"
                path = folder / f"edit-{i % 10}.txt"
                t0 = time.monotonic()
                path.write_text(f"Edit {i}: the word {word} appears in this note about {TOPICS[i % 8]}.")
                while not any(h.path == str(path) for h in lib.search(word, k=3, mode="lexical", mark=False)):
                    if time.monotonic() - t0 > 60:
                        raise SystemExit(f"edit {i} never became searchable")
                    time.sleep(0.005)
                keyword.append(time.monotonic() - t0)
                digests = [c.digest for c in lib.store.get_chunks(lib.store.get_file(str(path)).chunk_ids)]
                while lib.store.missing_vectors(lib.model_version, digests):
                    time.sleep(0.005)
                vector.append(time.monotonic() - t0)
                busy += service.state().backlog > 0
                time.sleep(pause_s)
            backlog_left = lib.store.counts()["files"] < backlog + 11
        lib.close()
    return {"edits": edits, "backlog_files": backlog, "edits_during_backlog": busy,
            "backlog_unfinished_at_end": backlog_left,
            "keyword_ms_p50": _pct(keyword, 0.5), "keyword_ms_p95": _pct(keyword, 0.95),
            "vector_ms_p50": _pct(vector, 0.5), "vector_ms_p95": _pct(vector, 0.95),
            "keyword_ms_mean": round(statistics.mean(keyword) * 1000, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/latencybench.py", description=__doc__.splitlines()[0])
    p.add_argument("--edits", type=int, default=50)
    p.add_argument("--backlog", type=int, default=0, help="files still being indexed while editing")
    p.add_argument("--json", dest="json_out")
    args = p.parse_args(argv)
    out = measure(args.edits, args.backlog)
    print(json.dumps(out, indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
