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
    fresh = cli("search", "anything", data_dir=tmp_path / "fresh")
    assert "No results" in fresh.stdout


def test_version():
    out = subprocess.run([sys.executable, "-m", "seekwise", "--version"], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.stdout.startswith("seekwise 0.")
