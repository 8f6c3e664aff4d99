"""The extraction pool: a worker per core reads, extracts and chunks the indexer's files. A hanging
parser, a memory bomb and a crash each cost one file, with a reason, while the other files index;
replies come in the order given, within a bounded look-ahead; the library it builds is the one a
single worker builds."""

from __future__ import annotations

import dataclasses
import os
import signal
import time

import hostile_readers
import makedocs as mk
import pytest
from seekwise.core import extract, prepare
from seekwise.core.chunking import Chunker
from seekwise.core.extract import isolate, reading
from seekwise.core.library import Library
from seekwise.core.store import text_digest

LIMIT = 32 << 20


@pytest.fixture
def hostile(monkeypatch):
    """Register the misbehaving families for the duration of a test (the indexer picks families here;
    the worker is handed the family object)."""
    from seekwise.core.extract import registry

    table = dict(registry._BY_EXTENSION)
    for fam in (hostile_readers.HANG, hostile_readers.CRASH, hostile_readers.HOG, hostile_readers.SLOW):
        for ext in fam.extensions:
            table[ext] = fam
    monkeypatch.setattr(registry, "_BY_EXTENSION", table)


@pytest.fixture(scope="module")
def chunker(token_counter):
    return Chunker(token_counter, token_counter.budget, tokenizer_tag=token_counter.tag)


def plan(path) -> isolate.Job:
    family = extract.family_for(str(path))
    return isolate.Job((str(path), family, extract.size_limit(family, LIMIT), None), os.path.getsize(path))


def rtf_files(folder, n: int, start: int = 0) -> list:
    paths = []
    for i in range(start, start + n):
        paths.append(folder / f"f{i:03d}.rtf")
        paths[-1].write_bytes(mk.rtf([f"file number {i} about the tide tables of harbour {i}"]))
    return paths


def test_hostile_files_cost_one_file_each_while_the_others_index(hostile, chunker, tmp_path):
    good = rtf_files(tmp_path, 12)
    bad = {"a.hang": ("error", "extraction took longer than 4 s", False),
           "b.hog": ("memory", "needs more than the 600 MB of memory extraction may use"),
           "c.crash": ("error", "extractor crashed (SIGSEGV)", False)}
    for name in bad:
        (tmp_path / name).write_bytes(b"x")
    order = good[:3] + [tmp_path / "a.hang"] + good[3:6] + [tmp_path / "b.hog"] + good[6:9] + \
        [tmp_path / "c.crash"] + good[9:]
    pool = isolate.Pool(workers=2, time_limit=4, memory_mb=600)
    try:
        t0 = time.perf_counter()
        got = list(pool.map(prepare.prepare_file, order, plan, (prepare.portable(chunker), "v")))
        took = time.perf_counter() - t0
    finally:
        pool.close()
    assert [item for item, _ in got] == order                   # in the order given, whoever finished first
    for path, reply in got:
        if path.name in bad:
            assert reply == bad[path.name], path.name
            continue
        doc, digest, size, spans, digests = isolate.unwrap(reply)
        i = int(path.stem[1:])
        assert doc.text == f"file number {i} about the tide tables of harbour {i}"
        assert spans == [(0, len(doc.text), 1, 0)] and digests == text_digest("v", doc.text)
        assert size == path.stat().st_size and len(digest) == 64
    # Each hostile file cost at most its worker, nothing more (a lost worker is replaced when a file
    # needs it: one lost near the end may never be).
    assert 2 + 2 <= pool.spawns <= 2 + 3
    assert took < 30


def test_a_touched_file_is_hashed_not_parsed(hostile, chunker, tmp_path):
    """The held version's hash comes with the job: same bytes, no parse (this parser never returns)."""
    path = tmp_path / "same.hang"
    path.write_bytes(b"unchanged")
    digest, size = reading.hash_file(str(path), LIMIT)
    job = lambda p: isolate.Job((str(p), hostile_readers.HANG, LIMIT, digest), size)
    pool = isolate.Pool(workers=1, time_limit=1)
    try:
        assert list(pool.map(prepare.prepare_file, [path], job, (chunker, "v"))) == [(path, ("touched", digest, size))]
    finally:
        pool.close()


def test_a_worker_killed_between_runs_is_replaced(chunker, tmp_path):
    files = rtf_files(tmp_path, 6)
    pool = isolate.Pool(workers=2, keep=2)
    try:
        first = [isolate.unwrap(r)[0].text for _, r in pool.map(prepare.prepare_file, files, plan, (chunker, "v"))]
        assert len(pool.pids()) == 2 and pool.spawns == 2
        for pid in pool.pids():
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10   # dead before the next run (not dying as it is handed a file)
        while pool.pids() and time.monotonic() < deadline:
            time.sleep(0.01)
        again = [isolate.unwrap(r)[0].text for _, r in pool.map(prepare.prepare_file, files, plan, (chunker, "v"))]
        assert again == first and pool.spawns == 4
    finally:
        pool.close()


def test_leaving_early_stops_the_busy_workers_and_reads_a_bounded_way_ahead(hostile, chunker, tmp_path,
                                                                              monkeypatch):
    monkeypatch.setattr(isolate, "LOOKAHEAD_FILES", 4)
    files = rtf_files(tmp_path, 20)
    (tmp_path / "stuck.hang").write_bytes(b"x")
    planned = []

    def counting(path):
        planned.append(path)
        return plan(path)
    pool = isolate.Pool(workers=2, time_limit=600, keep=2)
    try:
        t0 = time.perf_counter()
        for path, reply in pool.map(prepare.prepare_file, files[:1] + [tmp_path / "stuck.hang"] + files[1:],
                                    counting, (chunker, "v")):
            assert isolate.unwrap(reply)[0].text.startswith("file number 0")
            break  # the hang is with a worker now, or soon: no one will take it
        assert len(planned) <= 4 + 1
        assert len(pool.pids()) <= 1   # the stuck one is killed (an idle one may stay)
        assert time.perf_counter() - t0 < 10
        texts = [isolate.unwrap(r)[0].text for _, r in pool.map(prepare.prepare_file, files[:3], plan, (chunker, "v"))]
        assert texts == [f"file number {i} about the tide tables of harbour {i}" for i in range(3)]
    finally:
        pool.close()


def _library_state(data_dir) -> tuple[list, list]:
    with Library(data_dir, readonly=True) as lib:
        files = sorted((dataclasses.replace(rec, indexed_at=0.0) for rec in lib.store.iter_files()),
                       key=lambda rec: rec.path)
        ids, _ = lib.store.chunk_digests()
        chunks = [(c.id, c.path, c.start, c.end, c.line, c.page, c.text, c.digest)
                  for c in lib.store.get_chunks(sorted(ids.tolist()))]
    return files, chunks


def test_a_pool_of_workers_builds_the_library_one_worker_builds(hostile, corpus, tmp_path):
    """Same records, chunk ids, spans, texts and digests, failures and their reasons, whatever the
    number of workers and whoever finished first."""
    for i in range(8):
        (corpus / f"report-{i}.pdf").write_bytes(mk.pdf([f"Quarterly report {i}: costs rose.", f"Page two of {i}."]))
        (corpus / f"minutes-{i}.docx").write_bytes(mk.docx(mk.w_p(f"Minutes of board meeting {i}.")))
    rtf_files(corpus, 30)
    (corpus / "bad.crash").write_bytes(b"x")
    (corpus / "bad.hang").write_bytes(b"x")
    (corpus / "slow.slow").write_bytes(b"a slow file, read all the same")
    states = []
    try:
        for workers in (1, 2):
            isolate.configure(time_limit=3, workers=workers)
            with Library(tmp_path / f"lib{workers}", threads=2) as lib:
                report = lib.index([corpus])
            assert report.files_failed == 2 and report.files_indexed == sum(p.is_file() for p in corpus.rglob("*")) - 2
            states.append(_library_state(tmp_path / f"lib{workers}"))
    finally:
        isolate.configure()
    assert states[0] == states[1]
    reasons = {os.path.basename(rec.path): rec.reason for rec in states[0][0] if rec.status == "error"}
    assert reasons == {"bad.crash": "extractor crashed (SIGSEGV)", "bad.hang": "extraction took longer than 3 s"}
