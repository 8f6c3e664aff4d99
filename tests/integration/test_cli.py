"""The command line as a user and a script see it: `seekwise` and `python -m seekwise`."""

from __future__ import annotations

import json
import os
import subprocess
import sys


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
    assert f"  {corpus / 'notes' / 'bicycle.html'}:" in text.splitlines()[0]
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
