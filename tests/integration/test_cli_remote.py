"""`seekwise search` from the command line, fast both ways, with the results of a normal search.

Through a running Seekwise (core.query_server, as the app and `seekwise watch` start it): the very
bytes an in-process search prints, for every option. With nothing running: the sign codes rescored
from the store instead of the HNSW graph, and the same top files as an in-process HNSW search.
On the large library: ~3,000 real chunks of the Python standard library."""

from __future__ import annotations

import json
import signal
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seekwise.cli import hit_json, search_once
from seekwise.core import query_server
from seekwise.core.library import Library
from seekwise.core.private_socket import Unavailable
from seekwise.core.query_server import QueryServer, SearchRequest
from seekwise.core.search import SearchFilters

unix_only = pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="Unix sockets")

QUERIES = [
    "parse command line options", "compress a file with gzip", "read a CSV file row by row",
    "send an email over SMTP", "format a date as a string", "run a shell command and capture its output",
    "match text with a regular expression", "walk a directory tree", "a thread pool for concurrent tasks",
    "decode JSON from a string",
]


@pytest.fixture(autouse=True)
def private_tmp(tmp_path, monkeypatch):
    """Sockets in a folder of this test's (a short path), not the user's runtime dir."""
    base = Path(f"/tmp/sw-{os.getpid()}-{id(tmp_path) % 10_000}")
    base.mkdir(mode=0o700)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr("tempfile.tempdir", str(base))
    monkeypatch.setenv("TMPDIR", str(base))          # the command lines started here look there too
    yield base
    for p in sorted(base.rglob("*"), reverse=True):
        p.rmdir() if p.is_dir() and not p.is_symlink() else p.unlink()
    base.rmdir()


def cli(data_dir, *args, cwd=None):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), SEEKWISE_DATA_DIR=str(data_dir))
    return subprocess.run([sys.executable, "-m", "seekwise", "search", *args], env=env, capture_output=True,
                          text=True, timeout=300, cwd=cwd)


def printed(hits) -> str:
    """What `seekwise search --json` prints for these hits."""
    return "".join(json.dumps(hit_json(rank, hit), ensure_ascii=False) + "\n" for rank, hit in enumerate(hits, 1))


@pytest.fixture
def server(large_library):
    srv = QueryServer(large_library.lib)
    assert srv.start(), srv.problem
    yield srv
    srv.stop()
    assert not os.path.exists(srv.path)   # a stopped server leaves no socket behind


# -- through a running instance ------------------------------------------------------------------

@unix_only
def test_a_running_instance_answers_with_the_bytes_of_a_search_there(large_library, server, tmp_path):
    lib, data = large_library.lib, large_library.lib.paths.root
    folder = sorted({rel.split("/")[0] for rel in large_library.rel})[0]
    cases = [
        (QUERIES[0], [], {}),
        (QUERIES[1], ["-k", "3", "--mode", "dense"], {"k": 3, "mode": "dense"}),
        (QUERIES[2], ["--mode", "lexical", "-k", "5"], {"k": 5, "mode": "lexical"}),
        (QUERIES[3] + " -smtplib", [], {}),
        (QUERIES[4], ["--dense", "binary", "--oversample", "8"], {"dense": "binary", "oversample": 8}),
        (QUERIES[5], ["--exact"], {"dense": "exact"}),
        (QUERIES[6], ["--in", folder, "--type", "py"],   # a relative folder: the client's working folder counts
         {"filters": SearchFilters(folders=(large_library.corpus.path(folder),), types=("py",))}),
    ]
    for query, options, kw in cases:
        before = server.answered
        out = cli(data, query, "--json", *options, cwd=large_library.root)
        assert out.returncode == 0, out.stderr
        assert server.answered == before + 1, f"{query!r} was not answered by the running instance"
        filters = kw.pop("filters", None)
        expected = lib.search(query, k=kw.pop("k", 10), filters=filters, **kw)
        assert out.stdout == printed(expected), query
    text = cli(data, QUERIES[0]).stdout               # the text listing comes through the same way
    assert text.startswith(" 1. ") and large_library.root in text


@unix_only
def test_cold_and_warm_print_the_same(large_library):
    """One command line, with nothing running (the model preloaded in a thread while the library
    opens) and then through a running instance that opened the library as it is on disk (a watch
    just started): the same bytes, text and --json, for every dense backend named and in keyword
    mode; by default (cold reads the sign codes, warm the HNSW graph) the same files in order."""
    data = large_library.lib.paths.root
    same_bytes = [(QUERIES[0], ["--json", "--dense", "hnsw"]), (QUERIES[1], ["--dense", "binary", "-k", "5"]),
                  (QUERIES[2], ["--json", "--exact"]), (QUERIES[3], ["--json", "--mode", "lexical"]),
                  (QUERIES[4], ["--mode", "dense", "--dense", "hnsw"])]
    same_files = [(q, ["--json"]) for q in QUERIES[5:]]
    cases = same_bytes + same_files
    cold = [cli(data, q, *options) for q, options in cases]
    with Library(data, readonly=True) as running:
        srv = QueryServer(running)
        assert srv.start(), srv.problem
        try:
            warm = [cli(data, q, *options) for q, options in cases]
            assert srv.answered == len(cases)
        finally:
            srv.stop()
    for (query, options), alone, answered in zip(cases, cold, warm):
        assert alone.returncode == answered.returncode == 0 and alone.stdout, (query, alone.stderr)
        if (query, options) in same_bytes:
            assert alone.stdout == answered.stdout, (query, options)
        else:
            assert [json.loads(line)["path"] for line in alone.stdout.splitlines()] == \
                [json.loads(line)["path"] for line in answered.stdout.splitlines()], query


@unix_only
def test_what_the_instance_cannot_answer_alike_is_searched_here(large_library, server):
    """Another HNSW breadth or another model: the instance declines, the command line searches
    alone, with the same exit code and output as with nothing running."""
    data = large_library.lib.paths.root
    before = server.answered
    out = cli(data, QUERIES[7], "--json", "--ef", "200", "--dense", "exact")
    assert out.returncode == 0 and server.answered == before
    server.stop()
    alone = cli(data, QUERIES[7], "--json", "--ef", "200", "--dense", "exact")
    assert alone.stdout == out.stdout and alone.returncode == 0
    other_model = SearchRequest(QUERIES[7], model=str(Path(__file__).parent / "no-such-model"))
    srv = QueryServer(large_library.lib)
    assert srv.start()
    try:
        assert query_server.ask(data, other_model) is None and srv.answered == 0
        nothing = query_server.ask(data, SearchRequest("zzyzxqwv", mode="lexical"))
        assert nothing is not None and nothing.hits == [] and nothing.files > 0 and nothing.chunks > 0
    finally:
        srv.stop()


@unix_only
def test_a_dead_instances_socket_is_neither_waited_for_nor_in_the_way(large_library, private_tmp):
    data = large_library.lib.paths.root
    path = query_server.socket_path(data)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)                     # bound, never listening, then gone: what a crash leaves
    dead.close()
    started = time.perf_counter()
    assert query_server.ask(data, SearchRequest(QUERIES[8])) is None
    assert time.perf_counter() - started < 0.5
    out = cli(data, QUERIES[8], "--json", "-k", "3")
    assert out.returncode == 0 and len(out.stdout.splitlines()) == 3
    first, second = QueryServer(large_library.lib), QueryServer(large_library.lib)
    assert first.start(), first.problem          # the leftover is replaced
    try:
        assert not second.start() and "another Seekwise answers" in second.problem
        assert query_server.ask(data, SearchRequest(QUERIES[8], k=3)) is not None
    finally:
        second.stop()
        first.stop()


@unix_only
def test_a_socket_path_that_is_no_socket_of_ours_is_left_alone(large_library):
    data = large_library.lib.paths.root
    path = Path(query_server.socket_path(data))
    path.write_text("not a socket")
    srv = QueryServer(large_library.lib)
    assert not srv.start() and "not a socket" in srv.problem
    assert query_server.ask(data, SearchRequest(QUERIES[0])) is None
    assert path.read_text() == "not a socket"
    path.unlink()


@unix_only
def test_an_open_socket_folder_is_not_used(large_library, private_tmp):
    folder = private_tmp / f"seekwise-{os.getuid()}"
    folder.mkdir()
    os.chmod(folder, 0o777)
    with pytest.raises(Unavailable, match="open to other users"):
        query_server.socket_path(large_library.lib.paths.root)
    srv = QueryServer(large_library.lib)
    assert not srv.start() and "open to other users" in srv.problem
    assert query_server.ask(large_library.lib.paths.root, SearchRequest(QUERIES[0])) is None


@unix_only
@pytest.mark.skipif(not hasattr(os, "fork") or os.geteuid() != 0 or not hasattr(socket, "SO_PEERCRED"),
                    reason="needs root to act as another user, and SO_PEERCRED")
def test_the_server_tells_another_user_nothing(large_library, server, private_tmp):
    os.chmod(private_tmp, 0o711)
    os.chmod(os.path.dirname(server.path), 0o711)
    os.chmod(server.path, 0o777)        # reachable by anyone: only SO_PEERCRED guards it now
    request = json.dumps({"v": query_server.PROTOCOL, "request": {"query": QUERIES[0]}}).encode() + b"\n"
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child: nobody, asking
        try:
            os.close(r)
            os.setgid(65534)
            os.setuid(65534)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(10)
                sock.connect(server.path)
                sock.sendall(request)
                os.write(w, sock.recv(1 << 16) or b"<closed>")
        except OSError as exc:
            os.write(w, f"<{exc}>".encode())
        finally:
            os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    with os.fdopen(r, "rb") as fh:
        answer = fh.read()
    assert b"hits" not in answer and server.answered == 0


# -- with nothing running ----------------------------------------------------------------------

def test_a_cold_search_finds_the_files_of_an_hnsw_search_without_loading_the_graph(large_library):
    data = large_library.lib.paths.root
    for query in QUERIES:
        out = cli(data, query, "--json")
        assert out.returncode == 0, out.stderr
        cold = [json.loads(line)["path"] for line in out.stdout.splitlines()]
        hnsw = [h.path for h in large_library.lib.search(query, k=10)]
        assert cold == hnsw, query
    with Library(data, readonly=True) as lib:
        hits = search_once(lib, SearchRequest(QUERIES[0]))
        assert hits and lib.derived.binary.loaded and not lib.derived.ann.loaded


def test_the_client_side_loads_no_numpy_and_no_model():
    """What keeps a search through a running instance at a Python start: the parser, the settings
    and the client import neither numpy nor the library."""
    code = ("import sys\nimport seekwise.cli as c\nc.build_parser()\nimport seekwise.core.query_server\n"
            "print(sorted(m for m in ('numpy', 'lmdb', 'onnxruntime', 'hnswlib', 'seekwise.core.library') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_eval_still_has_its_options():
    out = subprocess.run([sys.executable, "-m", "seekwise", "eval", "--help"], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.returncode == 0 and "--corpus" in out.stdout and "--data-dir" in out.stdout


@unix_only
def test_seekwise_watch_answers_the_command_line_and_cleans_up(tmp_path, corpus):
    data = tmp_path / "lib"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), SEEKWISE_DATA_DIR=str(data))
    watch = subprocess.Popen([sys.executable, "-m", "seekwise", "watch", str(corpus), "-q"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while True:    # it answers at once; the hits come as its first run indexes, meaning last
            reply = query_server.ask(data, SearchRequest("deposit back", dense="exact"))
            if reply is not None and reply.hits and reply.meaning_share() == 1.0:
                break
            assert watch.poll() is None and time.monotonic() < deadline
            time.sleep(0.5)
        out = cli(data, "how do I get my deposit back", "--json", "--exact", "-v")
        assert out.returncode == 0 and "answered by the Seekwise running on this library" in out.stderr
    finally:
        watch.send_signal(signal.SIGTERM)
        _, err = watch.communicate(timeout=60)
        assert watch.returncode == 0, err
    assert not os.path.exists(query_server.socket_path(data))
    alone = cli(data, "how do I get my deposit back", "--json", "--exact", "-v")
    assert "answered by" not in alone.stderr and alone.stdout == out.stdout
    assert json.loads(alone.stdout.splitlines()[0])["path"] == str(corpus / "tenancy-agreement.txt")
