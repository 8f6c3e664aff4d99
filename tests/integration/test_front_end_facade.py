"""What the GUI asks of the Library, on the small real corpus with the real model: marking in two
steps, file dates, a passage's context, warming up, model checks, counting readable files."""

from __future__ import annotations

import os
import shutil

import pytest

from seekwise.core import frontend
from seekwise.core.errors import ModelError
from seekwise.core.library import Library

QUERIES = ["deposit refund when moving home", "leavened loaves raised by natural fermentation",
           "mend a leaking bike", "cultivating vegetables under glass"]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """A library over a copy of tests/data/corpus, indexed once; tests here only read it."""
    root = tmp_path_factory.mktemp("facade")
    shutil.copytree(os.path.join(os.path.dirname(__file__), "..", "data", "corpus"), root / "docs")
    lib = Library(root / "lib", threads=2)
    lib.index([root / "docs"])
    yield lib, root / "docs"
    lib.close()


def test_marking_in_two_steps_ends_where_one_search_does(indexed):
    lib, _ = indexed
    sentence_marks = 0
    for query in QUERIES:
        whole = lib.search(query, k=6)
        quick = lib.search(query, k=6, closest_sentence=False)
        assert not [h for h in quick if h.best.mark_kind == "sentence"]
        assert lib.mark_closest(query, quick) == whole
        sentence_marks += sum(h.best.mark_kind == "sentence" for h in whole)
    assert sentence_marks          # the second step did mark something the first left out


def test_mark_closest_leaves_marked_hits_alone(indexed):
    lib, _ = indexed
    marked = [h for h in lib.search("security bond", k=3, closest_sentence=False) if h.best.marks]
    assert marked and marked[0].best.mark_kind == "words"
    assert lib.mark_closest("security bond", marked) == marked


def test_modified_gives_the_indexed_dates(indexed):
    lib, docs = indexed
    path = str(docs / "tenancy-agreement.txt")
    gone = str(docs / "never-indexed.txt")
    dates = lib.modified([path, gone])
    assert dates[path] == pytest.approx(os.stat(path).st_mtime, abs=1e-6) and dates[gone] is None


def test_passage_context_lays_the_file_around_the_passage(indexed):
    lib, docs = indexed
    hit = lib.search("when is the bond paid back to the renter", k=1)[0]
    assert hit.path == str(docs / "tenancy-agreement.txt") and hit.best.marks and hit.others
    context = lib.passage_context(hit.path, hit.best)
    start, end = context.passage_span
    assert context.text[start:end] == hit.best.text and context.in_library
    assert [context.text[s:e] for s, e in context.marks] == [hit.best.text[s:e] for s, e in hit.best.marks]
    assert all(other.text in context.text for other in hit.others)   # the whole (small) file is there
    assert context.mtime == pytest.approx(os.stat(hit.path).st_mtime, abs=1e-6)
    assert context.size == os.stat(hit.path).st_size


def test_passage_context_of_a_file_that_left_the_library(library, corpus):
    library.index([corpus])
    hit = library.search("security bond", k=1)[0]
    library.remove_root(corpus)
    context = library.passage_context(hit.path, hit.best)
    assert not context.in_library and context.mtime is None and context.size == 0
    assert context.text == hit.best.text and context.passage_span == (0, len(hit.best.text))


def test_warm_up_loads_the_model_and_the_indexes_a_search_reads(tmp_path, corpus):
    with Library(tmp_path / "lib", threads=2) as lib:
        lib.index([corpus])
    with Library(tmp_path / "lib", readonly=True, threads=2) as lib:   # as a front end opens it
        assert not lib.encoder.loaded and not lib.derived.ann.loaded
        lib.warm_up()
        assert lib.encoder.loaded and lib.derived.ann.loaded and lib.derived.lexical.loaded


def test_check_model_finds_the_bundled_model_and_refuses_a_missing_one(indexed, tmp_path):
    lib, _ = indexed
    assert lib.check_model(None).version_id == lib.model_version
    assert lib.check_model(str(lib.manifest.folder)).version_id == lib.model_version
    assert frontend.check_model(None, tmp_path / "elsewhere").version_id == lib.model_version
    for check in (lib.check_model, lambda spec: frontend.check_model(spec, tmp_path)):
        with pytest.raises(ModelError, match="not found"):
            check("no-such-model")
    assert not (tmp_path / "elsewhere").exists()      # checking creates no library


def test_count_files_counts_what_the_indexer_reads(corpus):
    (corpus / "photo.xyz").write_bytes(b"\x00\x01" * 10)
    (corpus / "node_modules").mkdir()
    (corpus / "node_modules" / "left-out.txt").write_text("ignored by the built-in rules\n")
    assert frontend.count_files([str(corpus)]) == frontend.FileCount(readable=6, other=1)
    assert frontend.count_files([str(corpus)], cancelled=lambda: True) == frontend.FileCount(0, 0)
