"""The running programs' log file: where it is, how big it gets, who may read it, what reaches it,
and that indexing and searching leave no passage text or query word in it at INFO."""

from __future__ import annotations

import logging
import os
import re
import stat
import sys
from pathlib import Path

import pytest

from seekwise import crashlog, logfile
from seekwise.core.library import Library
from tests.conftest import seekwise_logs_at_info

DATA = Path(__file__).parents[1] / "data"
PLANTED = "Quokkavelvet"                 # in a file's text and in the query: nowhere else
QUERY = f"{PLANTED} lighthouse keeper's logbook"


@pytest.fixture
def restored_logging():
    """configure() replaces the root logger's handlers: put pytest's and the levels back after."""
    root, ours = logging.getLogger(), logging.getLogger("seekwise")
    saved = (root.handlers[:], root.level, ours.level)
    yield
    for handler in root.handlers:
        if handler not in saved[0]:
            handler.close()
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    ours.setLevel(saved[2])


def test_the_log_is_in_the_crash_reports_private_folder(log_folder):
    assert logfile.path_for("seekwise-gui") == log_folder / "seekwise-gui.log" == crashlog.log_dir() / "seekwise-gui.log"
    handler = logfile.file_handler("seekwise-gui")
    try:
        assert Path(handler.baseFilename) == log_folder / "seekwise-gui.log" and handler.level == logging.INFO
        assert (handler.maxBytes, handler.backupCount) == (1 << 20, 2) == (logfile.MAX_BYTES, logfile.FILES - 1)
    finally:
        handler.close()
    if os.name == "posix":
        assert stat.S_IMODE(log_folder.stat().st_mode) == 0o700
        assert stat.S_IMODE((log_folder / "seekwise-gui.log").stat().st_mode) == 0o600


def test_it_rotates_to_at_most_three_private_files_of_a_megabyte(log_folder):
    handler = logfile.file_handler("seekwise-watch")
    log = logging.getLogger("seekwise.test.rotation")
    log.addHandler(handler)
    log.propagate = False
    try:
        for i in range(3600):                       # 3.6 MB of records
            log.warning("record %05d %s", i, "x" * 1000)
    finally:
        log.removeHandler(handler)
        log.propagate = True
        handler.close()
    files = sorted(p.name for p in log_folder.iterdir())
    assert files == ["seekwise-watch.log", "seekwise-watch.log.1", "seekwise-watch.log.2"]
    assert all((log_folder / name).stat().st_size <= logfile.MAX_BYTES for name in files)
    assert "record 03599" in (log_folder / "seekwise-watch.log").read_text()   # the newest in the live file
    assert "record 00000" not in "".join((log_folder / name).read_text() for name in files)
    if os.name == "posix":
        assert {stat.S_IMODE((log_folder / name).stat().st_mode) for name in files} == {0o600}


def test_a_log_left_readable_by_others_is_made_private(log_folder):
    log_folder.mkdir(parents=True, mode=0o700)
    old = log_folder / "seekwise-gui.log"
    old.write_text("an older run\n")
    old.chmod(0o644)
    logfile.file_handler("seekwise-gui").close()
    if os.name == "posix":
        assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert old.read_text() == "an older run\n"          # appended to, never truncated


def test_configure_sends_info_to_the_file_and_only_warnings_to_stderr(log_folder, restored_logging, capsys):
    path = logfile.configure("seekwise-watch")
    assert path == log_folder / "seekwise-watch.log"
    logging.getLogger("seekwise.core.watcher").info("watching %s", "/docs/notes")
    logging.getLogger("seekwise.core.store").warning("store full")
    logging.getLogger("pdfminer.pdfinterp").info("a parser's chatter")
    logging.getLogger("pdfminer.pdfinterp").debug("a parser's page text")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert re.search(r"INFO seekwise.logfile: seekwise-watch \S+ started \(pid \d+", text)
    assert "INFO seekwise.core.watcher: watching /docs/notes" in text and "WARNING seekwise.core.store: store full" in text
    assert "chatter" not in text and "page text" not in text
    err = capsys.readouterr().err
    assert err.splitlines() == ["WARNING seekwise.core.store: store full"]


def test_verbose_is_debug_for_seekwise_in_the_file_but_not_other_libraries(log_folder, restored_logging, capsys):
    path = logfile.configure("seekwise-watch", verbose=True)
    logging.getLogger("seekwise.core.query_server").debug("no query server: gone")
    logging.getLogger("pdfminer.pdfinterp").debug("a parser's page text")
    logging.getLogger("pdfminer.pdfinterp").warning("a parser's warning")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert "DEBUG seekwise.core.query_server: no query server: gone" in text
    assert "page text" not in text and "a parser's warning" in text
    assert "a parser's page text" in capsys.readouterr().err       # --verbose on stderr: everything, as before


def test_a_log_folder_that_cannot_be_made_leaves_stderr_only(tmp_path, monkeypatch, restored_logging, capsys):
    (tmp_path / "state").write_text("a file where the folder would go")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert logfile.configure("seekwise-gui") is None
    assert [type(h) for h in logging.getLogger().handlers] == [logging.StreamHandler]
    err = capsys.readouterr().err
    assert "no log file" in err and "seekwise-gui.log" in err and len(err.splitlines()) == 1


def test_configure_without_stderr_still_logs_to_the_file(log_folder, restored_logging, monkeypatch):
    """pythonw on Windows: sys.stderr is None, and the file is the only log there is."""
    monkeypatch.setattr(sys, "stderr", None)
    path = logfile.configure("seekwise-gui")
    assert [type(h) for h in logging.getLogger().handlers] == [logfile.PrivateRotatingFileHandler]
    assert path is not None and "started" in path.read_text()


def _passage_lines() -> list[str]:
    """Every line of the corpus's plain-text files long enough to be a passage's words, not a name."""
    return [line.strip() for p in (DATA / "corpus").rglob("*") if p.suffix in (".txt", ".md", ".py")
            for line in p.read_text(errors="replace").splitlines() if len(line.strip()) >= 24]


def test_indexing_and_searching_log_no_passage_text_or_query_words_at_info(log_folder, corpus, tmp_path):
    (corpus / "notes" / "lighthouse.txt").write_text(
        f"The {PLANTED} lighthouse keeper wrote the weather in his logbook every night at nine.\n")
    with seekwise_logs_at_info("seekwise-gui"):
        with Library(tmp_path / "lib", threads=2) as lib:
            lib.index([corpus])
            for mode in ("hybrid", "lexical", "dense"):
                hits = lib.search(QUERY, mode=mode)
                assert hits and hits[0].path.endswith("lighthouse.txt"), mode
    text = (log_folder / "seekwise-gui.log").read_text()
    assert "INFO seekwise." in text, text          # it did log: the indexes catching up, with counts
    assert PLANTED.lower() not in text.lower() and "logbook" not in text.lower()
    leaked = [line for line in _passage_lines() if line in text]
    assert not leaked, leaked[:3]
