"""Shared fixtures: the real bundled model, a fresh library per test, a copy of the small corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from seekwise.core.embedding import Encoder, TokenCounter, resolve_model
from seekwise.core.library import Library

DATA = Path(__file__).parent / "data"


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
