"""A file's whole-text meaning (core.file_meaning) on small real files with the real model: it is the
mean of the file's passage vectors, it follows edits, removals and a meaning phase still under way,
and a file's score in dense and hybrid search gains file_weight x the query's cosine to it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from seekwise.core.errors import Interrupted
from seekwise.core.file_meaning import PATHS_FILE, FileMeanings
from seekwise.core.library import Library
from seekwise.core.search import FusionSettings
from seekwise.core.store import Store

BREAD = ["Knead the sourdough for ten minutes until the dough is smooth and springy.",
         "Let the loaf rise overnight in the fridge; a slow cold prove deepens the flavour.",
         "Bake the bread in a very hot oven with steam for the first twenty minutes.",
         "Feed the starter with flour and water the day before you mix the dough.",
         "Score the top of the loaf with a razor so it opens evenly in the oven.",
         "A baking stone or a cast iron pot gives the crust its colour and crunch."]
GARDEN = ["Water the tomato seedlings every morning and stake them once they flower.",
          "Pinch out the side shoots so the plant puts its strength into the fruit.",
          "Mulch the beds with straw to keep the soil damp through the summer."]
MIXED = ["The quarterly budget review moved the marketing spend into the next year.",
         "Replace the bicycle chain when it stretches past half a percent.",
         "How long should bread dough rise before baking? Until it has doubled in size.",
         "The team agreed to move the stand-up meeting to half past nine on Mondays.",
         "Back up the photo library to the external disk every Sunday evening.",
         "The tax return is due at the end of January; keep receipts for six years."]


def _write(path: Path, passages: list[str]) -> Path:
    # One passage per paragraph, each long enough to be a chunk of its own.
    path.write_text("\n\n".join(" ".join([p] * 8) for p in passages), encoding="utf-8")
    return path


def _mean_from_store(lib: Library, path: Path) -> np.ndarray:
    chunks = lib.store.get_chunks(lib.store.get_file(str(path)).chunk_ids)
    vectors = lib.store.get_vectors(lib.model_version, [c.digest for c in chunks], lib.manifest.dims)
    vectors = vectors[~np.isnan(vectors).any(axis=1)]
    mean = vectors.sum(axis=0)
    return mean / np.linalg.norm(mean)


@pytest.fixture
def docs(tmp_path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    _write(folder / "bread.txt", BREAD)
    _write(folder / "garden.txt", GARDEN)
    _write(folder / "mixed.txt", MIXED)
    return folder


def test_a_files_meaning_is_the_normalised_mean_of_its_passage_vectors(tmp_path, docs):
    with Library(tmp_path / "lib", threads=2) as lib:
        lib.index([docs])
        assert len(lib.store.get_file(str(docs / "bread.txt")).chunk_ids) > 1
        query = lib.encoder.get().embed_query("baking a loaf of bread")
        meanings = FileMeanings(lib.store, tmp_path / "unsaved", lib.model_version, lib.manifest.dims)
        files = [str(docs / n) for n in ("bread.txt", "garden.txt", "mixed.txt")] + [str(docs / "gone.txt")]
        got = meanings.cosines(query, files)
        assert set(got) == set(files[:3])
        for name in ("bread.txt", "garden.txt", "mixed.txt"):
            assert got[str(docs / name)] == pytest.approx(float(_mean_from_store(lib, docs / name) @ query), abs=1e-5)
        assert got[str(docs / "bread.txt")] > got[str(docs / "mixed.txt")] > got[str(docs / "garden.txt")]


def test_a_changed_file_gets_a_new_meaning_and_a_removed_one_none(tmp_path, docs):
    with Library(tmp_path / "lib", threads=2) as lib:
        lib.index([docs])
        meanings = FileMeanings(lib.store, tmp_path / "unsaved", lib.model_version, lib.manifest.dims)
        query = lib.encoder.get().embed_query("growing tomatoes in the garden")
        garden, bread = str(docs / "garden.txt"), str(docs / "bread.txt")
        before = meanings.cosines(query, [garden, bread])
        _write(docs / "garden.txt", BREAD[:3])          # the garden notes now hold bread
        (docs / "mixed.txt").unlink()
        lib.index()
        after = meanings.cosines(query, [garden, bread, str(docs / "mixed.txt")])
        assert set(after) == {garden, bread}
        assert after[bread] == pytest.approx(before[bread], abs=1e-6)
        assert after[garden] < before[garden] - 0.2
        assert after[garden] == pytest.approx(float(_mean_from_store(lib, docs / "garden.txt") @ query), abs=1e-5)


def test_a_file_still_being_embedded_gets_its_full_meaning_once_its_vectors_arrive(tmp_path, docs):
    state = {"phase": "", "batches": 0}

    def progress(p) -> None:  # noqa: ANN001
        state["phase"] = p.phase

    def checkpoint() -> None:   # lets one meaning batch of two passages through, then stops the run
        if state["phase"] == "meaning":
            if state["batches"] >= 1:
                raise Interrupted()
            state["batches"] += 1

    with Library(tmp_path / "lib", threads=2) as lib:
        with lib.writing():
            indexer = lib.make_indexer()
            indexer.batch_misses = 2
            with pytest.raises(Interrupted):
                indexer.run([lib.add_root(docs)], progress, checkpoint=checkpoint)
        meanings = FileMeanings(lib.store, tmp_path / "unsaved", lib.model_version, lib.manifest.dims)
        query = lib.encoder.get().embed_query("baking a loaf of bread")
        paths = [str(docs / n) for n in ("bread.txt", "garden.txt", "mixed.txt")]
        partial = meanings.cosines(query, paths)
        assert len(partial) == 1                      # one file has its first two passages, no other any
        (path, cosine), = partial.items()
        lib.index()
        full = meanings.cosines(query, paths)
        assert set(full) == set(paths)
        assert full[path] != pytest.approx(cosine, abs=1e-4)
        assert full[path] == pytest.approx(float(_mean_from_store(lib, Path(path)) @ query), abs=1e-5)


def test_each_file_gains_file_weight_times_its_meaning_in_dense_and_hybrid_search(tmp_path, docs):
    query = "until the dough has doubled in size"
    weight = FusionSettings().file_weight
    assert weight > 0
    scores = {}
    for fw in (0.0, weight):
        with Library(tmp_path / "lib", threads=2, fusion=FusionSettings(file_weight=fw)) as lib:
            lib.index([docs])
            for mode in ("dense", "hybrid", "lexical"):
                hits = lib.search(query, k=3, mode=mode, mark=False)
                assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
                scores[fw, mode] = {h.path: h.score for h in hits}
            meanings = FileMeanings(lib.store, tmp_path / "unsaved", lib.model_version, lib.manifest.dims)
            cosines = meanings.cosines(lib.encoder.get().embed_query(query), [str(p) for p in docs.iterdir()])
    for mode in ("dense", "hybrid"):
        assert set(scores[0.0, mode]) == set(scores[weight, mode]) == set(cosines)
        for path, score in scores[weight, mode].items():
            assert score == pytest.approx(scores[0.0, mode][path] + weight * cosines[path], abs=1e-5), (mode, path)
    assert scores[0.0, "lexical"] == scores[weight, "lexical"]   # keywords alone have no query vector


def test_saved_meanings_answer_without_the_store_and_a_changed_file_is_not_trusted(tmp_path, docs, monkeypatch):
    reads = []
    real = Store.get_vectors

    def counted(store, model_version, digests, dims):  # noqa: ANN001, ANN202
        digests = list(digests)
        reads.append(len(digests))
        return real(store, model_version, digests, dims)

    with Library(tmp_path / "lib", threads=2) as lib:
        lib.index([docs])
        folder = lib.paths.ann_dir(lib.model_version)
        assert (folder / PATHS_FILE).exists()        # written at the end of the meaning phase
        old = tmp_path / "before-the-edit"
        shutil.copytree(folder, old)
        query = lib.encoder.get().embed_query("growing tomatoes in the garden")
        paths = [str(docs / n) for n in ("bread.txt", "garden.txt", "mixed.txt")]
        fresh = FileMeanings(lib.store, tmp_path / "unsaved", lib.model_version, lib.manifest.dims).cosines(query, paths)
        monkeypatch.setattr(Store, "get_vectors", counted)
        saved = FileMeanings(lib.store, folder, lib.model_version, lib.manifest.dims).cosines(query, paths)
        assert reads == [] and saved == pytest.approx(fresh, abs=1e-6)
        monkeypatch.setattr(Store, "get_vectors", real)
        _write(docs / "garden.txt", BREAD[:3])
        lib.index()
        monkeypatch.setattr(Store, "get_vectors", counted)
        stale = FileMeanings(lib.store, old, lib.model_version, lib.manifest.dims).cosines(query, paths)
        assert reads == [len(lib.store.get_file(paths[1]).chunk_ids)]   # only the changed file is read
        assert stale[paths[0]] == pytest.approx(fresh[paths[0]], abs=1e-6)
        assert stale[paths[1]] == pytest.approx(float(_mean_from_store(lib, docs / "garden.txt") @ query), abs=1e-5)
        assert stale[paths[1]] < fresh[paths[1]] - 0.2
