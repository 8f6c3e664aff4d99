"""Keywords first, meaning after: every file is searchable by keyword before the model runs once,
the meaning phase embeds the newest files first, and a search in between fuses what exists."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from seekwise.core.embedding import Encoder
from seekwise.core.errors import Interrupted
from seekwise.core.library import Library

TOPICS = [
    ("bread", "Knead the sourdough for ten minutes, let it rise overnight and bake it in a hot oven."),
    ("garden", "Water the tomato seedlings every morning and stake them once they flower."),
    ("bicycle", "Pump the tyres to the pressure on the sidewall and oil the chain after rain."),
    ("taxes", "Keep the receipts for the home office; the deduction needs the floor area."),
    ("violin", "Rosin the bow before practice and loosen the hair when you put it away."),
    ("aquarium", "Change a fifth of the tank water weekly and rinse the filter in old tank water."),
]


def _write(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    files = {}
    now = time.time()
    for age, (name, sentence) in enumerate(TOPICS):
        path = folder / f"{name}.txt"
        # Several passages per file, each with the file's own marker word, so a batch of four passages
        # is less than a file; the marker finds the file by keyword.
        path.write_text("\n\n".join(f"Note {i} about zq{name}marker. {sentence} {sentence} {sentence}"
                                    for i in range(6)), encoding="utf-8")
        stamp = now - 3600 * (age + 1)            # bread is the newest, aquarium the oldest
        os.utime(path, (stamp, stamp))
        files[name] = path
    return files


class _Recorder:
    """Counts what the real model is asked to embed (it still embeds it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[list[str]] = []
        real = Encoder.embed_documents

        def recorded(encoder, texts):  # noqa: ANN001, ANN202
            self.calls.append(list(texts))
            return real(encoder, texts)

        monkeypatch.setattr(Encoder, "embed_documents", recorded)


def _stop_in_meaning(after_batches: int):  # noqa: ANN202
    """A checkpoint that lets `after_batches` meaning batches through, then stops the run."""
    state = {"phase": "", "batches": 0}

    def progress(p) -> None:  # noqa: ANN001
        state["phase"] = p.phase

    def checkpoint() -> None:
        if state["phase"] == "meaning":
            if state["batches"] >= after_batches:
                raise Interrupted()
            state["batches"] += 1

    return progress, checkpoint


def _vectors(lib: Library) -> int:
    ids, digests = lib.store.chunk_digests()
    return len(ids) - len(lib.store.missing_vectors(lib.model_version, digests))


def _run(lib: Library, root: Path, after_batches: int) -> None:
    progress, checkpoint = _stop_in_meaning(after_batches)
    with lib.writing():
        indexer = lib.make_indexer()
        indexer.batch_misses = 4
        with pytest.raises(Interrupted):
            indexer.run([lib.add_root(root)], progress, checkpoint=checkpoint)


def test_every_file_is_searchable_by_keyword_before_the_model_runs(tmp_path, monkeypatch):
    files = _write(tmp_path / "docs")
    recorder = _Recorder(monkeypatch)
    with Library(tmp_path / "lib", threads=2) as lib:
        _run(lib, tmp_path / "docs", after_batches=0)
        assert recorder.calls == []
        assert _vectors(lib) == 0 and lib.store.get_meta("vectors_pending")
        for name, path in files.items():
            for mode in ("lexical", "hybrid"):
                hits = lib.search(f"zq{name}marker", k=1, mode=mode)
                assert [h.path for h in hits] == [str(path)], (name, mode)
        # The next run goes on with the meaning phase: every passage once, and nothing pending after.
        lib.index()
        embedded = [t for call in recorder.calls for t in call]
        assert len(embedded) == len(set(embedded)) == lib.store.counts()["chunks"]
        assert _vectors(lib) == lib.store.counts()["chunks"]
        assert not lib.store.get_meta("vectors_pending")


def test_the_meaning_phase_embeds_the_newest_file_first(tmp_path, monkeypatch):
    files = _write(tmp_path / "docs")
    recorder = _Recorder(monkeypatch)
    with Library(tmp_path / "lib", threads=2) as lib:
        _run(lib, tmp_path / "docs", after_batches=2)
        order = [t for call in recorder.calls for t in call]
        texts = {name: {c.text for c in lib.store.get_chunks(lib.store.get_file(str(path)).chunk_ids)}
                 for name, path in files.items()}
        newest = len(texts["bread"])
        assert 1 < newest < len(order) == 8
        assert set(order[:newest]) == texts["bread"] and set(order[newest:]) <= texts["garden"]


def test_a_search_while_meaning_is_partial_fuses_what_exists(tmp_path):
    files = _write(tmp_path / "docs")
    with Library(tmp_path / "lib", threads=2) as lib:
        _run(lib, tmp_path / "docs", after_batches=2)   # bread has vectors, garden some, the rest none
        dense = lib.search("how long should dough rise before baking", k=3, mode="dense")
        assert dense and dense[0].path == str(files["bread"])
        assert {h.path for h in dense} <= {str(files["bread"]), str(files["garden"])}
        # A file with no vector yet is still found by its words, in the default mode too.
        hits = lib.search("rosin bow practice", k=3)
        assert hits and hits[0].path == str(files["violin"])


def test_a_changed_file_is_searchable_by_keyword_in_the_same_commit_as_its_text(tmp_path):
    files = _write(tmp_path / "docs")
    with Library(tmp_path / "lib", threads=2) as lib:
        lib.index([tmp_path / "docs"])
        files["taxes"].write_text("The receipts moved to the blue zqfolderword binder.", encoding="utf-8")
        _run(lib, tmp_path / "docs", after_batches=0)
        assert [h.path for h in lib.search("zqfolderword", k=1, mode="lexical")] == [str(files["taxes"])]
        assert lib.search("zqtaxesmarker", k=1, mode="lexical") == []
