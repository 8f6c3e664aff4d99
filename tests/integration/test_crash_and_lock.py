"""SIGKILL at any point leaves a consistent store that the next run finishes; one writer at a time."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import crashpoints
import numpy as np
import pytest

from seekwise.core.library import Library
from seekwise.core.lock import WriterLock
from seekwise.core.store import Store

N_FILES = 200
TOPICS = ["rent and deposits", "bread and ovens", "bicycles and tyres", "taxes and invoices",
          "tomatoes and greenhouses", "networks and retries", "knots and ropes", "birds and songs"]


def make_folder(root, n):
    root.mkdir()
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        body = "\n\n".join(f"Note {i}.{p} about {topic}: paragraph {p} of file {i}, with its own details "
                           f"number {i * 31 + p} so every chunk differs." for p in range(12))
        (root / f"note-{i:04d}.txt").write_text(body)
    return root


def run_cli(*args, data_dir, **kw):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), SEEKWISE_DATA_DIR=str(data_dir))
    return subprocess.Popen([sys.executable, "-m", "seekwise", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def assert_consistent(data_dir, expected_files):
    with Library(data_dir, threads=2) as lib:
        st = lib.store
        files = list(st.iter_files())
        assert len(files) == expected_files and all(f.status == "ok" for f in files)
        ids, digests = st.chunk_digests()
        owned = sorted(cid for f in files for cid in f.chunk_ids)
        assert owned == sorted(ids.tolist())  # no orphan chunks, no dangling ids
        vecs = st.get_vectors(lib.model_version, digests, lib.manifest.dims)
        assert not np.isnan(vecs).any()  # every chunk has its vector
        assert lib.derived.current_ann().live == set(ids.tolist())
        lexical = lib.derived.current_lexical()
        assert len(lexical) == len(ids)  # the keyword index caught up with every committed chunk
        hit = lib.search("note about knots and ropes")[0]
        assert "knots and ropes" in hit.text


# One kill at a commit of a real 200-file CLI run; test_crash_resume.py kills at each precise point.
@pytest.mark.parametrize("kill_after_commits", [1])
def test_kill_mid_index_then_resume(tmp_path, kill_after_commits):
    folder = make_folder(tmp_path / "docs", N_FILES)
    data_dir = tmp_path / "lib"
    proc = run_cli("index", "--quiet", str(folder), data_dir=data_dir)
    deadline = time.monotonic() + 120
    generation = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if (data_dir / "store.lmdb").exists():
            try:
                st = Store(data_dir / "store.lmdb", readonly=True)
                generation = st.generation()
                st.close()
            except Exception:  # the writer may still be creating it
                pass
        if generation >= kill_after_commits:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "indexing finished before it could be killed; make the folder bigger"
    proc.send_signal(signal.SIGKILL)
    proc.communicate()   # reaps it and closes its pipes
    with Library(data_dir, readonly=True) as lib:
        partial = lib.status().files
        before = crashpoints.snapshot(lib.store, lib.model_version)
    # The keywords phase may have committed every file already (one commit holds up to 500): then
    # the kill fell in the meaning phase, with passages still waiting for their vectors.
    assert 0 < partial <= N_FILES and before["vectors_pending"]
    resumed = run_cli("index", "--quiet", data_dir=data_dir)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    # Every file committed before the kill is unchanged (not read again), the rest are indexed, and
    # the model embedded only the chunks that had no vector yet: a resume that wiped and rebuilt the
    # library would also print "unchanged" (as "0 unchanged").
    summary = re.search(r"([\d,]+) files seen: ([\d,]+) indexed, ([\d,]+) unchanged, .*?; ([\d,]+) chunks "
                        r"\(([\d,]+) embedded", out)
    assert summary, out
    seen, indexed, unchanged, _, embedded = (int(g.replace(",", "")) for g in summary.groups())
    assert (seen, indexed, unchanged) == (N_FILES, N_FILES - partial, partial), out
    assert_consistent(data_dir, N_FILES)
    with Library(data_dir, readonly=True) as lib:
        after = crashpoints.snapshot(lib.store, lib.model_version)
    for key in ("files", "chunks", "vectors"):  # what was committed is still there, byte for byte
        assert {k: after[key].get(k) for k in before[key]} == before[key], key
    digests = {c["digest"] for c in after["chunks"].values()}
    assert embedded == len(digests - set(before["vectors"])), out


def test_second_writer_is_refused_with_a_clear_message(tmp_path, corpus):
    data_dir = tmp_path / "lib"
    data_dir.mkdir()
    with WriterLock(data_dir / "writer.lock"):
        proc = run_cli("index", str(corpus), data_dir=data_dir)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "Another Seekwise process" in err and str(os.getpid()) in err

