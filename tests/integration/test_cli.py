"""The command line as a user and a script see it: `seekwise` and `python -m seekwise`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from seekwise.core.library import Library
from tests.integration.test_coverage import write_notes


def cli(*args, data_dir, check=True):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), SEEKWISE_DATA_DIR=str(data_dir))
    out = subprocess.run([sys.executable, "-m", "seekwise", *args], env=env, capture_output=True,
                         text=True, timeout=300)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def test_index_search_json_status(tmp_path, corpus):
    data = tmp_path / "lib"
    out = cli("index", str(corpus), data_dir=data)
    assert "6 indexed" in out.stdout
    hits = [json.loads(line) for line in cli("search", "--json", "how do I get my deposit back",
                                             data_dir=data).stdout.splitlines()]
    assert hits[0]["path"] == str(corpus / "tenancy-agreement.txt")
    assert {"path", "score", "line", "text"} <= hits[0].keys()
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    text = cli("search", "mend a leaking bike", data_dir=data).stdout
    first_hit = next(line for line in text.splitlines() if line.startswith(" 1. "))   # maybe below "No good match"
    assert f"  {corpus / 'notes' / 'bicycle.html'}:" in first_hit and "%" in first_hit
    status = cli("status", data_dir=data).stdout
    assert str(corpus) in status and "6 ok" in status and "all-minilm-l6-v2-int8" in status
    again = cli("index", data_dir=data).stdout
    assert "0 indexed, 6 unchanged" in again


def test_data_dir_flag_and_clear_errors(tmp_path, corpus):
    data = tmp_path / "flagged"
    cli("--data-dir", str(data), "index", str(corpus), data_dir=tmp_path / "unused")
    assert (data / "store.lmdb").exists() and not (tmp_path / "unused").exists()
    out = cli("index", str(tmp_path / "nope"), data_dir=data, check=False)
    assert out.returncode == 1 and "no such folder" in out.stderr
    out = cli("search", "x", "--model", "no-such-model", data_dir=data, check=False)
    assert out.returncode == 1 and "not found" in out.stderr and "Traceback" not in out.stderr
    fresh = cli("search", "anything", data_dir=tmp_path / "fresh", check=False)
    assert fresh.returncode == 1 and "seekwise index FOLDER" in fresh.stderr and "Traceback" not in fresh.stderr


def test_version():
    out = subprocess.run([sys.executable, "-m", "seekwise", "--version"], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.stdout.startswith("seekwise 0.")


def _search_paths(*args, data_dir, root):
    out = cli("search", "--json", *args, data_dir=data_dir, check=False)
    assert out.returncode in (0, 1) and "Traceback" not in out.stderr, out.stderr
    return [os.path.relpath(json.loads(line)["path"], root) for line in out.stdout.splitlines()]


def test_search_filter_flags_in_path_before_after_and_exclusion(tmp_path, corpus):
    from datetime import datetime
    old = datetime(2020, 3, 1, 12, 0).timestamp()
    mid = datetime(2023, 6, 15, 12, 0).timestamp()
    os.utime(corpus / "notes" / "tomatoes.txt", (old, old))
    os.utime(corpus / "notes" / "tax-return.txt", (mid, mid))
    data = tmp_path / "lib"
    cli("index", str(corpus), data_dir=data)
    root = os.path.realpath(corpus)
    every = {"tenancy-agreement.txt", "code/retry.py", "notes/bicycle.html", "notes/sourdough.md",
             "notes/tax-return.txt", "notes/tomatoes.txt"}
    q = "instructions"
    assert set(_search_paths(q, data_dir=data, root=root)) == every
    in_notes = _search_paths("--in", str(corpus / "notes"), q, data_dir=data, root=root)
    assert set(in_notes) == {p for p in every if p.startswith("notes/")}
    both = _search_paths("--in", str(corpus / "code"), "--in", str(corpus / "notes" / ""), q, data_dir=data, root=root)
    assert set(both) == every - {"tenancy-agreement.txt"}
    assert _search_paths("--path", "TAX-RET", q, data_dir=data, root=root) == ["notes/tax-return.txt"]
    assert _search_paths("--path", "notes/b", q, data_dir=data, root=root) == ["notes/bicycle.html"]
    assert _search_paths("--before", "2021-01-01", q, data_dir=data, root=root) == ["notes/tomatoes.txt"]
    assert _search_paths("--after", "2023-06-15", "--before", "2023-06-16", q, data_dir=data, root=root) == \
        ["notes/tax-return.txt"]
    later = _search_paths("--after", "2023-06-15T12:30", q, data_dir=data, root=root)   # ISO with a time
    assert set(later) == every - {"notes/tomatoes.txt", "notes/tax-return.txt"}
    assert set(_search_paths("--after", "2021-01-01", "--type", "txt", q, data_dir=data, root=root)) == \
        {"tenancy-agreement.txt", "notes/tax-return.txt"}
    assert _search_paths("--before", "2019-12-31", q, data_dir=data, root=root) == []
    text = cli("search", "--before", "2019-12-31", q, data_dir=data, check=False)
    assert "No results" in text.stdout + text.stderr
    # -word drops the file that holds it anywhere, though "deposit back" matches its other passages
    assert _search_paths("deposit back", data_dir=data, root=root)[0] == "tenancy-agreement.txt"
    assert "tenancy-agreement.txt" not in _search_paths("deposit back -bond", data_dir=data, root=root)


def test_ctrl_c_in_the_meaning_phase_keeps_keywords_and_the_next_index_resumes(tmp_path):
    """Interrupted while embedding: every file is searchable by keyword, status and search say how
    much meaning covers, and the next `index` embeds only what is left."""
    import signal
    docs, data = tmp_path / "docs", tmp_path / "lib"
    # A meaning phase of several batches (720 passages, BATCH_MISSES 256 a batch): the interrupt lands
    # while an early batch runs and stops the run before the next; with one batch it could finish.
    write_notes(docs, [f"note-{n:03d}.txt" for n in range(120)])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), SEEKWISE_DATA_DIR=str(data))
    proc = subprocess.Popen([sys.executable, "-m", "seekwise", "index", "--threads", "1", str(docs)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stderr.readline()          # not a terminal: one line as each phase ends
    assert first.startswith("keywords: 120 files in "), first
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "keyword search already covers every file" in err and "goes on with the meaning phase" in err
    assert "Traceback" not in err

    st = json.loads(cli("status", "--json", data_dir=data).stdout)
    assert st["keyword_files"] == 120 and st["chunks"] >= 100
    assert st["chunks_without_vectors"] > 0
    assert st["chunks_with_vectors"] + st["chunks_without_vectors"] == st["chunks"]
    assert st["meaning_share"] == st["chunks_with_vectors"] / st["chunks"]
    text = cli("status", data_dir=data).stdout
    assert "Keywords: 120 files searchable" in text and "to embed" in text
    found = cli("search", "--mode", "lexical", "--json", "quarry", data_dir=data)
    assert found.stdout.strip() and "meaning covers" not in found.stderr    # keywords reach every file
    hybrid = cli("search", "--json", "quarry", data_dir=data, check=False)
    assert "meaning covers" in hybrid.stderr and "keywords find every file" in hybrid.stderr
    assert all(json.loads(line)["path"] for line in hybrid.stdout.splitlines())   # stdout stays JSON lines

    again = cli("index", data_dir=data)
    assert "0 indexed, 120 unchanged" in again.stdout
    assert f"{st['chunks_without_vectors']:,} embedded" in again.stdout     # only what was left
    assert "by meaning (100 % of passages)" in again.stdout
    assert again.stderr.splitlines()[-1].startswith("meaning: 100 % of passages")
    done = json.loads(cli("status", "--json", data_dir=data).stdout)
    assert done["chunks_without_vectors"] == 0 and done["meaning_share"] == 1.0 and done["meaning_eta_s"] is None
    assert "meaning covers" not in cli("search", "quarry", data_dir=data, check=False).stderr


def test_a_one_off_search_ends_at_once_with_its_output_whole(tmp_path, corpus):
    """`seekwise search` skips the interpreter's teardown (cli.exit_at_once): every line still
    arrives, the exit code is the search's, and a reader that leaves early gets no traceback."""
    data = tmp_path / "lib"
    cli("index", str(corpus), data_dir=data)
    out = cli("search", "--json", "-k", "20", "--mode", "lexical", "the", data_dir=data)
    lines = out.stdout.splitlines()
    with Library(data, readonly=True) as lib:
        expected = [hit.path for hit in lib.search("the", k=20, mode="lexical", mark=False)]
    assert [json.loads(line)["path"] for line in lines] == expected and len(expected) > 1
    nothing = cli("search", "--mode", "lexical", "zyzzyvaqua", data_dir=data, check=False)
    assert nothing.returncode == 1 and "No results" in nothing.stdout
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), SEEKWISE_DATA_DIR=str(data))
    proc = subprocess.Popen([sys.executable, "-m", "seekwise", "search", "--json", "-k", "20", "meaning"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()            # the reader is gone after one line (`| head -1`)
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and "Traceback" not in err
