"""Shared fixtures: the real bundled model, a fresh library per test, a copy of the small corpus."""

from __future__ import annotations

import logging
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from seekwise.core.embedding import Encoder, TokenCounter, resolve_model
from seekwise.core.library import Library

DATA = Path(__file__).parent / "data"


def pytest_configure(config):  # noqa: ARG001 - pytest's hook signature
    """Ctrl+C as under a terminal, whoever started the run. A background job of a shell without job
    control (`.ci/run &` in a script) starts with SIGINT ignored, every process it starts inherits
    that, and Python then installs no KeyboardInterrupt handler: a test's SIGINT to a `seekwise` it
    started would be lost. A handled signal is reset to the default at exec, an ignored one is not,
    so with Python's own handler here every child starts as it would from a terminal."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def manifest():
    return resolve_model()


@pytest.fixture(scope="session")
def encoder(manifest):
    return Encoder(manifest, threads=2)


@pytest.fixture(scope="session")
def token_counter(manifest):
    return TokenCounter(manifest)


@pytest.fixture
def corpus(tmp_path) -> Path:
    dest = tmp_path / "docs"
    shutil.copytree(DATA / "corpus", dest)
    return dest


@pytest.fixture
def library(tmp_path):
    lib = Library(tmp_path / "lib", threads=2)
    yield lib
    lib.close()


@pytest.fixture
def log_folder(tmp_path, monkeypatch) -> Path:
    """A private XDG_STATE_HOME: the log folder (and crash reports) is platformdirs' user log folder under it."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state" / "seekwise" / "log"


@contextmanager
def seekwise_logs_at_info(name: str) -> Iterator[None]:
    """Seekwise's loggers into the log file `name` at INFO for the block, as the app sets them."""
    from seekwise import logfile

    handler = logfile.file_handler(name, logging.INFO)
    ours = logging.getLogger("seekwise")
    saved = ours.level
    ours.setLevel(logging.INFO)
    ours.addHandler(handler)
    try:
        yield
    finally:
        ours.removeHandler(handler)
        ours.setLevel(saved)
        handler.close()
