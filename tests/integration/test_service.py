"""The background service on a real library: catch-up, edits first, pause, one writer, other readers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from seekwise.core.library import Library
from seekwise.core.service import CpuBudget, IndexService

TOPICS = ["rent and deposits", "bread and ovens", "bicycles and tyres", "taxes and invoices"]


def make_notes(folder, n, start=0):
    folder.mkdir(exist_ok=True)
    for i in range(start, start + n):
        body = "\n\n".join(f"Note {i}.{p} about {TOPICS[i % len(TOPICS)]}, paragraph {p}, detail {i * 31 + p}."
                           for p in range(8))
        (folder / f"note-{i:04d}.txt").write_text(body)


def found(lib: Library, query: str, mode: str = "hybrid") -> list[str]:
    return [os.path.basename(h.path) for h in lib.search(query, k=5, mode=mode, mark=False)]


def _without_vectors(lib: Library) -> int:
    ids, digests = lib.store.chunk_digests()
    return len(lib.store.missing_vectors(lib.model_version, digests))


def edit_goes_first(lib: Library, service: IndexService, folder, behind: str) -> None:
    """Once 20 of the 400 notes are done, save a new file: keyword search finds it before the rest
    is done, and meaning search finds it before the rest has vectors (the newest file goes first)."""
    deadline = time.monotonic() + 60
    while service.state().files_done < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    edit = folder / "urgent.txt"
    edit.write_text("Quarterly harpsichord tuning schedule for the recital hall.")
    t0 = time.monotonic()
    service.changed([str(edit)])
    while "urgent.txt" not in found(lib, "harpsichord", mode="lexical"):
        assert time.monotonic() - t0 < 20, f"the edit waited behind {behind}"
        time.sleep(0.05)
    latency = time.monotonic() - t0
    indexed, pending = lib.store.counts()["files"], _without_vectors(lib)
    assert indexed < 401 or pending > 0, f"{behind} finished first ({indexed} files, edit after {latency:.1f} s)"
    while "urgent.txt" not in found(lib, "tuning a keyboard instrument before a concert", mode="dense"):
        assert time.monotonic() - t0 < 60, f"the edit's meaning waited behind {behind}"
        time.sleep(0.05)
    assert _without_vectors(lib) > 0, f"the meaning of {behind} came first"


@pytest.fixture
def lib(tmp_path):
    library = Library(tmp_path / "lib", threads=2)
    yield library
    library.close()


def test_a_file_saved_while_the_catch_up_runs_is_not_missed(lib, tmp_path):
    """The catch-up scan has passed the folder and is still indexing what it found when a new file
    is saved there: the watcher must already be looking, or the file waits for the next rescan."""
    folder = tmp_path / "notes"
    make_notes(folder, 120)
    lib.add_root(folder)
    with IndexService(lib, watch=True, budget=CpuBudget(threads=1), debounce_s=0.2) as service:
        deadline = time.monotonic() + 60
        while service.state().files_done < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        # Still at it: reading the notes, or (the keywords phase is quick) embedding them.
        assert service.state().state == "indexing", "the catch-up finished before the save: more notes"
        (folder / "saved-meanwhile.txt").write_text("Ophicleide repair notes for the brass band.")
        assert service.wait_idle(300)
        t0 = time.monotonic()
        while "saved-meanwhile.txt" not in found(lib, "ophicleide", mode="lexical"):
            assert time.monotonic() - t0 < 15, "a file saved during the catch-up was missed"
            time.sleep(0.1)


def test_catch_up_then_edits_and_deletions_are_searchable(lib, corpus):
    lib.add_root(corpus)
    states = []
    with IndexService(lib, watch=False) as service:
        service.subscribe(states.append)
        assert service.wait_idle(120)
        assert "tenancy-agreement.txt" in found(lib, "deposit refund when moving home")
        note = corpus / "glacier.txt"
        note.write_text("Zanskar glacier trek notes: crampons, ice axe and the frozen river walk.")
        service.changed([str(note)])
        assert service.wait_idle(30)
        assert found(lib, "zanskar crampons", mode="lexical")[0] == "glacier.txt"
        assert found(lib, "walking on a frozen river in the mountains", mode="dense")[0] == "glacier.txt"
        note.unlink()
        service.changed([str(note)])
        assert service.wait_idle(30)
        assert "glacier.txt" not in found(lib, "zanskar crampons", mode="lexical")
    seen = {s.state for s in states}
    assert {"scanning", "idle", "stopped"} <= seen
    assert any(s.files_done > 0 and s.files_todo >= s.files_done for s in states)


def test_an_edit_jumps_the_backlog(lib, tmp_path):
    folder = tmp_path / "notes"
    make_notes(folder, 400)
    lib.add_root(folder)
    with IndexService(lib, watch=False, budget=CpuBudget(threads=1)) as service:
        edit_goes_first(lib, service, folder, behind="the backlog")
        assert service.wait_idle(300)
    assert lib.store.counts()["files"] == 401


def test_an_edit_jumps_a_long_batch_of_changes(lib, tmp_path):
    """A checkout of hundreds of files arrives as one batch of changes; a save after it goes first."""
    folder = tmp_path / "repo"
    folder.mkdir()
    lib.add_root(folder)
    with IndexService(lib, watch=False, budget=CpuBudget(threads=1)) as service:
        assert service.wait_idle(30)
        make_notes(folder, 400)
        service.changed(str(p) for p in sorted(folder.iterdir()))
        edit_goes_first(lib, service, folder, behind="the older changes")
        assert service.wait_idle(300)
    assert lib.store.counts()["files"] == 401
    digests = [c.digest for rec in lib.store.iter_files() for c in lib.store.get_chunks(rec.chunk_ids)]
    assert digests and not lib.store.missing_vectors(lib.model_version, digests)  # preempted vectors caught up


def test_pause_holds_work_and_resume_does_it(lib, corpus):
    lib.add_root(corpus)
    with IndexService(lib, watch=False) as service:
        assert service.wait_idle(120)
        service.pause()
        note = corpus / "kayak.txt"
        note.write_text("Sea kayak rolling practice in the harbour on Thursdays.")
        service.changed([str(note)])
        time.sleep(1.0)
        assert service.state().state == "paused"
        assert "kayak.txt" not in found(lib, "kayak rolling", mode="lexical")
        service.resume()
        assert service.wait_idle(30)
        assert found(lib, "kayak rolling", mode="lexical")[0] == "kayak.txt"


def test_a_second_writer_waits_and_takes_over(tmp_path, corpus):
    data = tmp_path / "lib"
    first_lib = Library(data, threads=2)
    first_lib.add_root(corpus)
    second_lib = Library(data, threads=2)
    try:
        first = IndexService(first_lib, watch=False).start()
        assert first.wait_idle(120)
        second = IndexService(second_lib, watch=False).start()
        deadline = time.monotonic() + 10
        while second.state().state != "waiting" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert second.state().state == "waiting"
        assert "Another Seekwise process" in second.state().message
        first.stop()
        assert second.wait_idle(60)  # took the lock within its retry period and caught up
        second.stop()
    finally:
        first_lib.close()
        second_lib.close()


def test_another_process_sees_commits_within_seconds(lib, corpus, tmp_path):
    lib.add_root(corpus)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    with IndexService(lib, watch=False) as service:
        assert service.wait_idle(120)
        note = corpus / "oboe.txt"
        note.write_text("Oboe reed making: gouging cane and tying the staple.")
        t0 = time.monotonic()
        service.changed([str(note)])
        assert service.wait_idle(30)
        out = subprocess.run([sys.executable, "-m", "seekwise", "--data-dir", str(tmp_path / "lib"),
                              "search", "--json", "making reeds for a woodwind instrument"],
                             env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        hits = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
        assert os.path.basename(hits[0]["path"]) == "oboe.txt"
        assert time.monotonic() - t0 < 30


def test_removing_a_root_forgets_its_files(lib, corpus):
    lib.add_root(corpus)
    with IndexService(lib, watch=False) as service:
        assert service.wait_idle(120)
        assert lib.store.counts()["files"] > 0
        service.remove_root(str(corpus))
        assert service.wait_idle(30)
        assert lib.store.counts()["files"] == 0


def test_the_writer_works_before_its_worker_starts_and_after_it_stops(lib, tmp_path):
    """The front ends' one writer: folders, rebuild and clear go through the service whether its
    worker runs or not; before `start` and after `stop` it does them in place, never beside it."""
    first, second = tmp_path / "first", tmp_path / "second"
    make_notes(first, 3)
    make_notes(second, 2, start=3)
    service = IndexService(lib, watch=False)
    assert not service.running
    service.add_root(first)
    service.add_root(second)
    assert lib.roots() == sorted([os.path.realpath(first), os.path.realpath(second)])
    service.rebuild()                             # not running: the files are read here and now
    assert lib.store.counts()["files"] == 5 and not service.running
    service.remove_root(str(second))              # in place: its records are gone on return
    assert lib.roots() == [os.path.realpath(first)] and lib.store.counts()["files"] == 3
    with service:
        assert service.running and service.wait_idle(120)
        service.clear()                           # running: the worker does it, holding the lock
        assert lib.roots() == [] and lib.store.counts()["files"] == 0
        service.add_root(first)
        assert service.wait_idle(120) and lib.store.counts()["files"] == 3
    assert not service.running
    service.clear()
    assert lib.store.counts()["files"] == 0


def test_seekwise_watch_keeps_another_process_up_to_date(tmp_path, corpus):
    """The CLI end to end: `watch` in one process, `search` in others, a save found within seconds."""
    import signal

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), SEEKWISE_DATA_DIR=str(tmp_path / "lib"))

    def search(query: str) -> list[str]:
        out = subprocess.run([sys.executable, "-m", "seekwise", "search", "--json", "--mode", "lexical", query],
                             env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode in (0, 1) and "Traceback" not in out.stderr, out.stderr  # 1: nothing (yet)
        return [os.path.basename(json.loads(line)["path"]) for line in out.stdout.splitlines() if line.strip()]

    watch = subprocess.Popen([sys.executable, "-m", "seekwise", "watch", str(corpus)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while "tenancy-agreement.txt" not in search("security bond"):
            assert watch.poll() is None, watch.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.5)
        (corpus / "notes" / "pottery.md").write_text("# Pottery\n\nCentring clay on the wheel before throwing a bowl.")
        t0 = time.monotonic()
        while "pottery.md" not in search("centring clay"):
            assert time.monotonic() - t0 < 20, "a saved file was not searchable from another process"
            time.sleep(0.2)
        second = subprocess.run([sys.executable, "-m", "seekwise", "index"], env=env,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 1 and "Another Seekwise process" in second.stderr
    finally:
        watch.send_signal(signal.SIGTERM)
        _, err = watch.communicate(timeout=60)
    assert watch.returncode == 0, err
    after = subprocess.run([sys.executable, "-m", "seekwise", "index"], env=env, capture_output=True, text=True,
                           timeout=120)
    assert after.returncode == 0, after.stderr  # the lock went with the watcher


def test_wait_idle_never_answers_between_queue_and_work(lib, tmp_path):
    """The queue empties as the worker takes the work; until that work is done the service is busy."""
    folder = tmp_path / "notes"
    make_notes(folder, 2)
    lib.add_root(folder)
    with IndexService(lib, watch=False) as service:
        assert service.wait_idle(60)
        for i in range(5):
            note = folder / f"fresh-{i}.txt"
            note.write_text(f"Fresh note {i}: the ophicleide{i} rehearsal moved to Thursday.")
            service.changed([str(note)])
            assert service.wait_idle(30)
            assert found(lib, f"ophicleide{i}", mode="lexical") == [note.name]
