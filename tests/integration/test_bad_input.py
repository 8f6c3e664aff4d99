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

from seekwise.core.extract import ocr
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
        photo = lib.store.get_file(str(bad / "photo.jpg"))   # a JPEG cut after its first marker
        if ocr.available():
            assert (photo.status, found["photo.jpg"][0]) == ("error", "error")
            assert found["photo.jpg"][1].startswith("could not read the text in its pictures: Tesseract could not")
        else:
            assert (photo.status, photo.reason) == ("empty", ocr.NOT_INSTALLED)
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


def _nobody_can_run_python() -> bool:
    """Whether user 'nobody' can read this interpreter (not when it lives under a 0700 /root)."""
    pid = os.fork()
    if pid == 0:  # the child: drop to nobody and try
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            with open(os.path.realpath(sys.executable), "rb"):
                os._exit(0)
        except OSError:
            os._exit(1)
    return os.waitpid(pid, 0)[1] == 0


@pytest.mark.skipif(os.geteuid() == 0 and not _nobody_can_run_python(),
                    reason="root reads any file, and the extraction workers (new processes of this Python) "
                    "cannot start as 'nobody' when the interpreter is under a private /root")
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


# -- the command line: a message and a documented exit code, never a traceback ------------------

def run(*args, env_extra=None, code=None):
    """`python -m seekwise ARGS` (or `python -c CODE`) with its own config and log folders."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), **(env_extra or {}))
    cmd = [sys.executable, "-c", code] if code else [sys.executable, "-m", "seekwise", *args]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in out.stderr, out.stderr
    return out


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """The small corpus indexed once, plus a library that holds no file, and private config/log dirs."""
    root = tmp_path_factory.mktemp("cli")
    docs = root / "docs"
    shutil.copytree(DATA / "corpus", docs)
    (root / "nothing").mkdir()
    env = {"SEEKWISE_CONFIG_DIR": str(root / "conf"), "XDG_STATE_HOME": str(root / "state"),
           "SEEKWISE_DATA_DIR": str(root / "lib")}
    out = run("index", str(docs), env_extra=env)
    assert out.returncode == 0, out.stderr
    empty = run("--data-dir", str(root / "empty-lib"), "index", str(root / "nothing"), env_extra=env)
    assert empty.returncode == 0, empty.stderr
    return root, env, out.stdout


BAD_NUMBERS = [
    (["search", "-k", "-5", "boiler"], "argument -k/--limit: '-5' is not a whole number from 1"),
    (["search", "-k", "ten", "boiler"], "argument -k/--limit: 'ten' is not a whole number"),
    (["search", "--ef", "0", "boiler"], "argument --ef: '0' is not a whole number from 1"),
    (["search", "--oversample", "-1", "--dense", "binary", "boiler"], "argument --oversample: '-1'"),
    (["index", "--threads", "0"], "argument --threads: '0' is not a whole number from 1"),
    (["index", "--threads", "100000"], "argument --threads: '100000' is not a whole number from 1 to 256"),
    (["index", "--max-file-mb", "-1"], "argument --max-file-mb: '-1' is not a whole number of 0 or more"),
    (["status", "--problems", "0"], "argument --problems: '0' is not a whole number from 1"),
    (["search", "--after", "yesterday", "boiler"],
     "argument --after: 'yesterday' is not a date: use YYYY-MM-DD or a span ago such as 7d, 3w, 6m, 1y"),
    (["search", "--before", "2026-13-45", "boiler"], "argument --before: '2026-13-45' is not a date: use YYYY-MM-DD"),
]


@pytest.mark.parametrize("args,message", BAD_NUMBERS, ids=[" ".join(a) for a, _ in BAD_NUMBERS])
def test_a_bad_option_value_is_a_usage_error(indexed, args, message):
    """`-k -5` reached hnswlib and printed a traceback holding the whole query vector."""
    _, env, _ = indexed
    out = run(*args, env_extra=env)
    assert out.returncode == 2 and message in out.stderr and "array(" not in out.stderr


QUERIES = [
    ([""], "the query is empty"),
    (["   "], "the query is empty"),
    ([], "the query is empty"),
    (["--", "-bond"], "'-bond' only excludes words: a query needs at least one word to look for"),
    (['-bond -lease'], "'-bond -lease' only excludes words: a query needs at least one word"),
    (['""'], "has no words to look for"),
]


@pytest.mark.parametrize("words,message", QUERIES, ids=[repr(w) for w, _ in QUERIES])
def test_a_query_with_nothing_to_look_for_says_so(indexed, words, message):
    _, env, _ = indexed
    out = run("search", *words, env_extra=env)
    assert out.returncode == 2 and message in out.stderr and "Is anything indexed" not in out.stdout


def test_search_exit_codes_say_found_nothing_found_and_nothing_indexed(indexed):
    root, env, _ = indexed
    found = run("search", "how do I get my deposit back", env_extra=env)
    assert found.returncode == 0 and "tenancy-agreement.txt" in found.stdout.splitlines()[0]
    excluding = run("search", "water", "-tenant", "--mode", "lexical", env_extra=env)  # -word need not be quoted
    assert excluding.returncode == 0 and "sourdough.md" in excluding.stdout
    assert "tenancy-agreement.txt" not in excluding.stdout
    none = run("search", "zyzzyva", "--mode", "lexical", env_extra=env)
    assert none.returncode == 1 and none.stdout.strip() == "No results for that query."
    as_json = run("search", "--json", "zyzzyva", "--mode", "lexical", env_extra=env)
    assert as_json.returncode == 1 and as_json.stdout == ""
    filtered = run("search", "boiler", "--type", "pdf", env_extra=env)
    assert filtered.returncode == 1 and filtered.stdout.strip() == "No results for those filters."
    empty = run("--data-dir", str(root / "empty-lib"), "search", "boiler", env_extra=env)
    assert empty.returncode == 1 and f"nothing is indexed in {root / 'empty-lib'} yet: seekwise index FOLDER" \
        in empty.stderr
    fresh = run("--data-dir", str(root / "no-lib"), "search", "boiler", env_extra=env)
    assert fresh.returncode == 1 and "seekwise index FOLDER" in fresh.stderr and "No results" not in fresh.stdout


def test_every_command_documents_its_exit_codes(indexed):
    _, env, _ = indexed
    for command in ("index", "watch", "search", "status", "bench", "eval", "bench-vectors"):
        out = run(command, "--help", env_extra=env)
        text = " ".join(out.stdout.split())
        assert out.returncode == 0 and "exit codes: 0 done" in text and "2 bad usage" in text, command
        assert "3 unexpected error (one line on stderr, the details in a log file it names)" in text, command
    index_help = " ".join(run("index", "--help", env_extra=env).stdout.split())
    assert "0 done, also when some files could not be read" in index_help


def test_counts_are_singular_or_plural(indexed, tmp_path):
    _, env, summary = indexed
    assert summary.startswith("6 files seen: 6 indexed")
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "note.txt").write_text("A single short note about the boiler service.")
    one = run("--data-dir", str(tmp_path / "lib"), "index", str(tmp_path / "one"), env_extra=env)
    assert one.stdout.startswith("1 file seen: 1 indexed") and "; 1 chunk (" in one.stdout
    out = run("search", "retry an operation with exponential backoff", env_extra=env).stdout
    assert "(+1 more passage)" in out and "(+1 more passages)" not in out
    status = run("--data-dir", str(tmp_path / "lib"), "status", env_extra=env).stdout
    assert "Chunks:   1 (1 cached vector)" in status


def test_an_unexpected_error_is_one_line_and_a_private_log(indexed, tmp_path):
    """A malformed data set made `seekwise eval` print a JSONDecodeError traceback."""
    root, env, _ = indexed
    beir = tmp_path / "beir"
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text('{"_id": "d1", "text": "fine"}\n{not json\n')
    (beir / "queries.jsonl").write_text('{"_id": "q1", "text": "fine"}\n')
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    out = run("eval", str(beir), env_extra=env)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 3 and len(lines) == 1, out.stderr
    assert lines[0].startswith("seekwise: unexpected error: JSONDecodeError: Expecting property name")
    log = Path(lines[0].rsplit(" — details in ", 1)[1])
    assert log.parent == root / "state" / "seekwise" / "log"
    assert (log.stat().st_mode & 0o777) == 0o600 and (log.parent.stat().st_mode & 0o777) == 0o700
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "json.decoder.JSONDecodeError" in text


def test_a_data_dir_that_is_a_file_is_one_line(indexed, tmp_path):
    _, env, _ = indexed
    (tmp_path / "afile").write_text("not a folder")
    for args in (["search", "boiler"], ["index", str(tmp_path)], ["status"]):
        out = run("--data-dir", str(tmp_path / "afile"), *args, env_extra=env)
        assert out.returncode in (1, 3) and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_crash_logs_are_bounded_in_number_and_size(tmp_path, monkeypatch):
    from seekwise import crashlog

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    paths = []
    for i in range(crashlog.KEEP + 3):
        try:
            raise ValueError("x" * (crashlog.MAX_BYTES * 2) if i == 0 else f"crash {i}")
        except ValueError as exc:
            paths.append(crashlog.write("seekwise", exc))
    kept = sorted((tmp_path / "state" / "seekwise" / "log").glob("crash-*.log"))
    assert len(kept) == crashlog.KEEP and paths[-1] in kept and paths[0] not in kept
    assert all(p.stat().st_size <= crashlog.MAX_BYTES + 100 for p in kept)


def test_the_desktop_app_start_up_failure_is_one_line_and_a_log(tmp_path):
    """seekwise-gui's main: a failure before the window shows is reported like the CLI's. The failure
    is made where the Qt application would be created (the real main runs up to there)."""
    pytest.importorskip("PySide6.QtWidgets")
    code = ("import sys\nfrom seekwise.gui import launch\n"
            "def boom(argv):\n    raise RuntimeError('start-up went wrong')\n"
            "launch.make_application = boom\nsys.exit(launch.main([]))\n")
    out = run(code=code, env_extra={"XDG_STATE_HOME": str(tmp_path / "state")})
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 3 and len(lines) == 1
    assert lines[0].startswith("seekwise-gui: unexpected error: RuntimeError: start-up went wrong — details in ")
    assert "RuntimeError" in Path(lines[0].rsplit(" — details in ", 1)[1]).read_text()
