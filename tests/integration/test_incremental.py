"""What changed costs model time; nothing else does. Proven by counting the model's work."""

from __future__ import annotations

import os
import shutil

from seekwise.core.library import Library


def reopen(tmp_path):
    return Library(tmp_path / "lib", threads=2)


def test_second_run_does_not_even_load_the_model(tmp_path, corpus):
    with reopen(tmp_path) as lib:
        model = lib.encoder.get()   # held here: the run lets go of it before it builds the vector indexes
        first = lib.index([corpus])
        assert first.files_indexed == 6 and first.chunks_embedded == model.texts_embedded > 0
        assert not lib.encoder.loaded
    with reopen(tmp_path) as lib:
        again = lib.index()
        assert again.files_unchanged == 6 and again.files_indexed == 0
        assert not lib.encoder.loaded


def test_modified_file_reembeds_only_its_new_chunks(tmp_path, corpus):
    with reopen(tmp_path) as lib:
        lib.index([corpus])
    path = corpus / "notes" / "tomatoes.txt"
    path.write_text(path.read_text() + "\nHarvest when the fruit is fully coloured and slightly soft.\n")
    with reopen(tmp_path) as lib:
        model = lib.encoder.get()
        report = lib.index()
        assert report.files_indexed == 1 and report.files_unchanged == 5
        assert 1 <= model.texts_embedded <= 2
        hit = lib.search("when to pick ripe produce")[0]
        assert hit.path == str(path) and "Harvest" in hit.text


def test_touch_without_change_costs_nothing(tmp_path, corpus):
    with reopen(tmp_path) as lib:
        lib.index([corpus])
    os.utime(corpus / "notes" / "sourdough.md", ns=(1, 1_000_000_000))
    with reopen(tmp_path) as lib:
        report = lib.index()
        assert report.files_touched == 1 and report.files_indexed == 0 and not lib.encoder.loaded
    with reopen(tmp_path) as lib:
        assert lib.index().files_unchanged == 6


def test_copy_and_move_reembed_nothing(tmp_path, corpus):
    with reopen(tmp_path) as lib:
        lib.index([corpus])
    shutil.copy(corpus / "tenancy-agreement.txt", corpus / "notes" / "lease-copy.txt")
    (corpus / "archive").mkdir()
    shutil.move(corpus / "code" / "retry.py", corpus / "archive" / "retry.py")
    with reopen(tmp_path) as lib:
        report = lib.index()
        assert report.files_indexed == 2 and report.files_removed == 1
        assert report.chunks_embedded == 0 and not lib.encoder.loaded
        hits = lib.search("repeat a failing download with increasing pauses", k=10)
        paths = [h.path for h in hits]
        assert paths[0] == str(corpus / "archive" / "retry.py")
        assert str(corpus / "code" / "retry.py") not in paths
        deposit = [h.path for h in lib.search("deposit refund when moving home", k=2)]
        assert set(deposit) == {str(corpus / "tenancy-agreement.txt"), str(corpus / "notes" / "lease-copy.txt")}


def test_deleted_file_leaves_the_indexes(tmp_path, corpus):
    with reopen(tmp_path) as lib:
        lib.index([corpus])
        (corpus / "notes" / "bicycle.html").unlink()
        report = lib.index()
        assert report.files_removed == 1
        assert all(not h.path.endswith("bicycle.html") for h in lib.search("mend a leaking bike", k=10))
        assert all(not h.path.endswith("bicycle.html")
                   for h in lib.search("mend a leaking bike", k=10, exact=True))
        assert lib.status().files == 5


def test_new_file_in_a_known_root_is_picked_up(tmp_path, corpus):
    with reopen(tmp_path) as lib:
        lib.index([corpus])
        (corpus / "notes" / "knots.txt").write_text("A bowline makes a fixed loop that will not slip.")
        report = lib.index()
        assert report.files_indexed == 1 and report.chunks_embedded == 1


def test_switching_models_embeds_what_the_new_model_lacks_and_back_costs_nothing(tmp_path, corpus, manifest):
    """A second model version shares the store: its vectors are filled in, and both caches persist."""
    import json
    import shutil as sh

    other = tmp_path / "models" / "prefixed"
    sh.copytree(manifest.folder, other)
    data = json.loads((other / "manifest.json").read_text())
    data.update(id="prefixed", query_prefix="query: ")  # same chunks, new version: fills vectors
    (other / "manifest.json").write_text(json.dumps(data))
    with Library(tmp_path / "lib", threads=2) as lib:
        chunks = lib.index([corpus]).chunks_embedded
    with Library(tmp_path / "lib", model=str(other), threads=2) as lib:
        report = lib.index()
        assert report.chunks_embedded == chunks  # every chunk, once, for the new model
        assert lib.search("cultivating vegetables under glass")[0].path.endswith("tomatoes.txt")
    with Library(tmp_path / "lib", threads=2) as lib:
        assert lib.index().chunks_embedded == 0 and not lib.encoder.loaded  # the old vectors are still there


def test_forgetting_a_folder_drops_its_files(tmp_path, corpus):
    with reopen(tmp_path) as lib:
        lib.index([corpus])
        lib.remove_root(corpus)
        assert lib.roots() == [] and lib.status().files == 0
        assert lib.search("mend a leaking bike") == []
