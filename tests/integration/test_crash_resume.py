"""SIGKILL at many points of a real run; what was committed survives byte for byte, nothing committed is
embedded again, and the next run finishes the rest.

Each case runs crashpoints.py (see there) in a child: the real indexer (`index`, or the background
service the GUI and `seekwise watch` run), killed on the N-th call of one real function. At the kill the
child writes what the store holds; the parent checks the store reads the same after the kill (a kill
loses nothing committed and leaves nothing half-committed), resumes in a second child that reports
every text the model embedded, and checks the store afterwards.

Commits, with 32 chunks a batch (the service's own batch) and ~117 chunks in 56 files: 1 batch 1's
files, 2 its vectors, 3 batch 2's files, 4 its vectors, ... The eight FAST cases cover each kind of
point (~35 s on a quiet 2-core machine); the rest are marked slow (~35 s more).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import crashpoints
import numpy as np
import pytest

from seekwise.core.library import Library

HERE = Path(__file__).parent
N_FILES = 56
N_LATE = 12   # written while a watching service runs (watch cases)

# mode, point, n, what the store must say at the kill about vectors (True: some pending, False: none, None: any)
FAST = [
    ("index", "extract", 20, None),          # reading a file mid batch 2
    ("index", "commit-inside", 3, True),     # inside batch 3's files transaction (the keywords phase:
                                             # batches 1-2 committed, nothing embedded yet)
    ("index", "embed", 2, True),             # the meaning phase, its batch 1 committed, batch 2 not
    ("index", "ann-save", 2, False),         # the final ANN save, half swapped
    ("index", "isolated", 10, None),         # a PDF or DOCX with the extraction worker (14 of the 56 are)
    ("service", "commit-after", 3, True),    # batch 3's files committed, before the derived indexes
    ("watch", "on-batch", 1, False),         # a watcher batch arrived
    ("watch", "embed", 1, True),             # a watcher batch's files committed, its vectors not
]
# The service and watch paths commit through the same Indexer as `index`: their extraction and
# commit-inside points, and watch's commit-after (the state watch-embed-1 leaves), add no new state.
SLOW = [
    ("index", "commit-inside", 4, True),     # inside a later transaction, files or vectors
    ("index", "commit-after", 5, True),      # a later commit, before the derived indexes hear of it
    # the store has batch 3's files, the keyword index not (a new keyword index takes batch 1's
    # files by a full reconcile, not by apply)
    ("index", "lexical", 2, True),
    ("service", "embed", 3, True),
    ("service", "ann-save", 2, False),       # the service's save when it stops
    ("watch", "commit-inside", 1, False),    # inside the watcher batch's files transaction
    ("watch", "lexical", 1, True),
]
CASES = [pytest.param(*c, id=f"{c[0]}-{c[1]}-{c[2]}") for c in FAST] + \
        [pytest.param(*c, id=f"{c[0]}-{c[1]}-{c[2]}", marks=pytest.mark.slow) for c in SLOW]


def child(mode: str, point: str, n: int, data_dir: Path, corpus: Path, out: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.Popen([sys.executable, str(HERE / "crashpoints.py"), mode, point, str(n), str(data_dir),
                             str(corpus), str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def read_store(data_dir: Path) -> dict:
    with Library(data_dir, readonly=True) as lib:
        return crashpoints.snapshot(lib.store, lib.model_version)


def assert_whole(snap: dict) -> None:
    """Every file's chunks are there and are its own; no chunk without a file; vectors missing only
    when the store says some are pending."""
    owned = set()
    for path, rec in snap["files"].items():
        for cid in rec["chunk_ids"]:
            assert snap["chunks"][str(cid)]["path"] == path
            owned.add(str(cid))
        assert rec["status"] != "ok" or rec["chunk_ids"], path
    assert owned == set(snap["chunks"]), "chunks that no file owns"
    unvectored = {c["digest"] for c in snap["chunks"].values()} - set(snap["vectors"])
    if unvectored:
        assert snap["vectors_pending"] is True, f"{len(unvectored)} chunks lack vectors and nothing says so"


def gone_soon(pid: int, timeout: float = 10.0) -> bool:
    """The process has exited (a zombie nobody reaps counts: it holds nothing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return True
        if "\nState:\tZ" in status:
            return True
        time.sleep(0.1)
    return False


def top_path(lib: Library, query: str, mode: str) -> str:
    hits = lib.search(query, k=3, mode=mode, mark=False)
    return hits[0].path if hits else ""


@pytest.mark.parametrize("mode,point,n,pending", CASES)
def test_kill_then_resume_keeps_committed_work(tmp_path, mode, point, n, pending):
    corpus, data_dir = tmp_path / "docs", tmp_path / "lib"
    files = crashpoints.make_corpus(corpus, N_FILES, office_every=4 if point == "isolated" else 0)
    dump = tmp_path / "at-kill.json"

    proc = child(mode, point, n, data_dir, corpus, dump)
    if mode == "watch":
        line = proc.stdout.readline()
        assert line.strip() == crashpoints.READY, proc.communicate(timeout=60)[1]
        files += crashpoints.make_corpus(corpus, N_LATE, start=N_FILES)  # the watcher sees these
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == -signal.SIGKILL, f"not killed at {point} #{n} (rc {proc.returncode}): {err}"

    # What the child saw committed at the kill is what the store holds after it, whole.
    at_kill = json.loads(dump.read_text())
    assert (at_kill.pop("point"), at_kill.pop("n")) == (point, n)
    workers = at_kill.pop("extract_workers")
    if point == "isolated":
        assert workers and all(gone_soon(w) for w in workers), "an extraction worker outlived the indexer it served"
    after_kill = read_store(data_dir)
    assert after_kill == at_kill
    assert_whole(after_kill)
    committed = set(after_kill["files"])
    total = {os.path.realpath(p) for p in files}
    unvectored = {c["digest"] for c in after_kill["chunks"].values()} - set(after_kill["vectors"])
    finished = {p for p, rec in after_kill["files"].items()
                if not any(after_kill["chunks"][str(c)]["digest"] in unvectored for c in rec["chunk_ids"])}
    assert committed, "the kill came before anything was committed: nothing to keep"
    if point == "ann-save":   # every file and vector committed; the ANN files are what the kill tore
        assert finished == total
    else:
        assert finished < total, "the kill came after everything was committed: nothing to resume"
    if pending is not None:
        assert bool(unvectored) is pending and bool(after_kill["vectors_pending"]) is pending, \
            f"the kill at {point} #{n} did not land where this case means it to"

    # The resume: the same front end again, no kill; it says what the model embedded.
    report = tmp_path / "resume.json"
    resumed = child("index" if mode == "index" else "service", "none", 0, data_dir, corpus, report)
    _, err = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, err
    embedded = json.loads(report.read_text())["embedded"]
    final = read_store(data_dir)
    assert_whole(final)

    # Everything committed before the kill is still there, byte for byte: records (chunk ids and
    # indexed_at included: a wipe and rebuild would change them), chunks, vectors.
    for path, rec in after_kill["files"].items():
        assert final["files"].get(path) == rec, f"{path} changed on resume"
    for cid, ch in after_kill["chunks"].items():
        assert final["chunks"].get(cid) == ch, f"chunk {cid} changed on resume"
    for digest, vec in after_kill["vectors"].items():
        assert final["vectors"].get(digest) == vec, f"vector {digest} changed on resume"

    # The model embedded exactly the chunks that had no vector at the kill, each once.
    final_digests = {c["digest"] for c in final["chunks"].values()}
    assert len(embedded) == len(set(embedded)), "a text was embedded twice"
    assert set(embedded) == final_digests - set(after_kill["vectors"])

    # The rest is finished: every file indexed with all its vectors, the derived indexes in step.
    assert set(final["files"]) == total
    assert all(rec["status"] == "ok" for rec in final["files"].values())
    assert final_digests <= set(final["vectors"])
    assert not final["vectors_pending"]
    with Library(data_dir, threads=1) as lib:
        ids = {int(cid) for cid in final["chunks"]}
        assert lib.derived.current_ann().live == ids
        assert len(lib.derived.current_lexical()) == len(ids)
        # A file the killed run had not finished is found by keyword, by meaning and by both.
        late = sorted(total - finished) or sorted(total)
        path = late[-1]
        i = int(Path(path).stem.split("-")[1])
        cid = final["files"][path]["chunk_ids"][0]
        first = final["chunks"][str(cid)]["text"]
        assert top_path(lib, crashpoints.keyword(i), "lexical") == path
        assert path in [h.path for h in lib.search(crashpoints.keyword(i), k=3, mark=False)]  # hybrid
        # By meaning: the HNSW index holds its chunk's vector (its nearest neighbour is itself), and a
        # search by the chunk's text finds the file among the first 20: the 9 or so notes sharing its
        # prose all score 0.99 and more, and one with two such passages ranks above one with a single.
        vec = lib.store.get_vectors(lib.model_version, [bytes.fromhex(final["chunks"][str(cid)]["digest"])],
                                    lib.manifest.dims)[0]
        ids, scores = lib.nearest_chunks(vec, 1)
        assert ids.tolist() == [cid] and scores[0] > 0.999
        assert path in [h.path for h in lib.search(first, k=20, mode="dense", mark=False)]
        vecs = lib.store.get_vectors(lib.model_version, [bytes.fromhex(d) for d in final_digests],
                                     lib.manifest.dims)
        assert not np.isnan(vecs).any()


ORPHAN = """
import os, signal, sys
from multiprocessing.connection import Connection

import hostile_readers
from seekwise.core.extract import isolate


def main():
    iso = isolate.Isolator(time_limit=600)
    real_poll = Connection.poll

    def poll(self, *args):
        if args and args[0] != isolate.START_SECONDS:  # the file is with the worker, stuck in its parser
            print(iso.pid, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        return real_poll(self, *args)
    Connection.poll = poll
    iso.extract_file(sys.argv[1], hostile_readers.HANG, 1 << 20)


if __name__ == "__main__":
    main()
"""


def test_the_extraction_worker_dies_with_its_indexer(tmp_path):
    """Only the indexer enforces the worker's time limit: killed while a parser loops, it must not leave
    the worker spinning on a core for ever."""
    script, stuck = tmp_path / "orphan.py", tmp_path / "stuck.hang"
    script.write_text(ORPHAN)
    stuck.write_text("a file its parser never finishes")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, str(script), str(stuck)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()  # not communicate(): a surviving worker holds the pipe open
    proc.stdout.close()
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL and line.strip().isdigit(), line
    worker = int(line)
    try:
        assert gone_soon(worker, timeout=10), "the extraction worker outlived its indexer"
    finally:
        try:
            os.kill(worker, signal.SIGKILL)
        except ProcessLookupError:
            pass
