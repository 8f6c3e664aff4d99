"""Every bad file gets a clear reason recorded against it, and indexing goes on."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from seekwise.core.library import Library

DATA = Path(__file__).parents[1] / "data"


def problems(lib):
    return {Path(p).name: (status, reason) for p, status, reason in lib.store.problems_list(100)}


def test_bad_files_are_recorded_and_the_rest_is_indexed(tmp_path, corpus):
    bad = corpus / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    (bad / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me br\xfbl\xe9e recipe for dessert".encode("latin-1"))
    (bad / "huge.txt").write_bytes(b"big line of text\n" * (2 << 20 >> 4))
    (bad / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 100)
    os.symlink(bad / "loop", bad / "loop")
    os.symlink(bad, bad / "back-to-parent")
    with Library(tmp_path / "lib", threads=2, max_file_mb=1) as lib:
        report = lib.index([corpus])
        found = problems(lib)
        assert found["binary.txt"] == ("skipped", "binary file")
        assert found["huge.txt"][0] == "skipped" and "1 MB" in found["huge.txt"][1]
        assert found["loop"] == ("error", "symbolic link loop")
        assert "empty.txt" not in found and lib.store.get_file(str(bad / "empty.txt")).status == "empty"
        assert lib.store.get_file(str(bad / "photo.jpg")).status == "unsupported"
        assert report.files_indexed >= 7  # the six documents, the latin-1 file, the empty one
        assert lib.search("a sweet French custard with burnt sugar")[0].path == str(bad / "latin1.txt")
        assert "binary file" in {r for _, r in report.problems}


def test_missing_folder_is_a_clear_message_and_loses_nothing(tmp_path, corpus):
    with Library(tmp_path / "lib", threads=2) as lib:
        lib.index([corpus])
        moved = tmp_path / "elsewhere"
        corpus.rename(moved)
        report = lib.index()
        assert report.missing_roots == [str(corpus)] and report.files_removed == 0
        assert lib.status().files == 6  # an unplugged drive must not wipe its index
        corpus.mkdir()


@pytest.fixture
def open_tmp(tmp_path):
    """A temp dir that an unprivileged user can traverse (pytest's own is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix="seekwise-perm-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_unreadable_file_is_recorded_as_permission_denied(open_tmp):
    """Root reads everything, so as root the child drops to 'nobody' once Python has loaded its modules."""
    tmp_path = open_tmp
    corpus = tmp_path / "docs"
    shutil.copytree(DATA / "corpus", corpus)
    secret = corpus / "secret.txt"
    secret.write_text("private words")
    secret.chmod(0)
    data_dir = tmp_path / "lib"
    data_dir.mkdir()
    drop = ""
    if os.geteuid() == 0:
        for p in [tmp_path, *tmp_path.rglob("*")]:
            if p != secret and not p.is_symlink():
                os.chown(p, 65534, 65534)
        tmp_path.chmod(0o755)
        drop = "os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
    code = ("import json, os\n"
            "import hnswlib, lmdb, numpy, onnxruntime, tokenizers\n"
            "from seekwise.core import library, indexer, extract\n"
            "from seekwise.core.embedding import encoder, resolve_model\n"
            "resolve_model(); import importlib.resources, json.decoder, encodings.idna\n"
            + drop +
            f"lib = library.Library({str(data_dir)!r}, threads=1)\n"
            f"r = lib.index([{str(corpus)!r}])\n"
            "print(json.dumps([r.files_indexed, r.problems]))\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    indexed, probs = json.loads(out.stdout)
    assert indexed == 6 and [str(secret), "permission denied"] in probs


def test_a_broken_file_is_not_read_again_until_it_changes(tmp_path, corpus):
    """A corrupt PDF costs its extraction once, not on every scan (a hanging one would cost its time
    limit each time); an edit to it, or a file that could not be opened, is tried again."""
    broken = corpus / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntruncated here")
    with Library(tmp_path / "lib", threads=2) as lib:
        first = lib.index([corpus])
        assert first.files_failed == 1 and problems(lib)["broken.pdf"][0] == "error"
        again = lib.index()
        assert again.files_failed == 0 and again.files_indexed == 0 and again.files_unchanged == first.files_seen
        broken.write_bytes(broken.read_bytes() + b"\n% one more line")
        edited = lib.index()
        assert edited.files_failed == 1 and edited.files_unchanged == first.files_seen - 1
