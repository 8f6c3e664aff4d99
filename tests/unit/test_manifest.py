"""Models come by manifest alone; a missing or corrupt model says what is wrong."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from seekwise.core.embedding import Encoder, load_manifest, resolve_model
from seekwise.core.embedding.manifest import verify_files
from seekwise.core.errors import ModelError


def copy_model(manifest, dest, **changes):
    shutil.copytree(manifest.folder, dest)
    data = json.loads((dest / "manifest.json").read_text())
    data.update(changes)
    (dest / "manifest.json").write_text(json.dumps(data))
    return dest


def test_bundled_model_resolves_and_verifies(manifest):
    assert manifest.id == "all-minilm-l6-v2-int8" and manifest.dims == 384
    verify_files(manifest)


def test_user_model_folder_by_path_and_by_id(manifest, tmp_path):
    folder = copy_model(manifest, tmp_path / "models" / "my-model", id="my-model",
                        query_prefix="query: ", document_prefix="passage: ")
    by_path = resolve_model(str(folder))
    by_id = resolve_model("my-model", user_models_dir=tmp_path / "models")
    assert by_path.id == by_id.id == "my-model"
    assert by_path.version_id != manifest.version_id  # prefixes change vectors, so the version


def test_corrupt_weights_are_named(manifest, tmp_path):
    folder = copy_model(manifest, tmp_path / "m")
    with open(folder / manifest.file, "r+b") as fh:
        fh.seek(1000)
        fh.write(b"\0" * 16)
    with pytest.raises(ModelError, match="corrupt"):
        Encoder(load_manifest(folder))


def test_missing_weights_are_named(manifest, tmp_path):
    folder = copy_model(manifest, tmp_path / "m")
    (folder / manifest.file).unlink()
    with pytest.raises(ModelError, match="missing"):
        Encoder(load_manifest(folder))


def test_unknown_model_and_bad_manifest(manifest, tmp_path):
    with pytest.raises(ModelError, match="not found"):
        resolve_model("no-such-model")
    folder = copy_model(manifest, tmp_path / "m", pooling="max")
    with pytest.raises(ModelError, match="pooling"):
        load_manifest(folder)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(ModelError, match="Cannot read"):
        load_manifest(folder)


# -- the verification remembered -------------------------------------------------------------------

@pytest.fixture
def hashes(monkeypatch, tmp_path):
    """The files verify_files hashes, in order (the real sha256_file runs)."""
    from seekwise.core.embedding import manifest as manifest_module

    seen = []
    real = manifest_module.sha256_file

    def counting(path, *args):
        seen.append(path.name)
        return real(path, *args)
    monkeypatch.setattr(manifest_module, "sha256_file", counting)
    return seen


def test_verified_files_are_not_hashed_again_until_they_change(manifest, tmp_path, hashes, monkeypatch):
    monkeypatch.setattr("seekwise.core.embedding.manifest.RACY_NS", 0)   # the copy was made just now
    copy = load_manifest(copy_model(manifest, tmp_path / "m"))
    record = tmp_path / "lib" / "ann" / "verified-models.json"
    verify_files(copy)
    verify_files(copy)
    assert hashes == [copy.file, copy.tokenizer] * 2      # no record: hashed every time
    del hashes[:]
    verify_files(copy, record)
    assert hashes == [copy.file, copy.tokenizer]
    verify_files(copy, record)
    Encoder(copy, threads=1, record=record)
    assert hashes == [copy.file, copy.tokenizer]          # remembered: a start reads neither again
    weights = copy.model_path
    before = weights.stat()
    with open(weights, "r+b") as fh:                      # the same size, the old mtime put back:
        fh.seek(1000)                                     # only the ctime tells
        fh.write(b"\0" * 16)
    os.utime(weights, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(ModelError, match="corrupt"):
        verify_files(copy, record)
    with pytest.raises(ModelError, match="corrupt"):      # and a corrupt file is never remembered
        Encoder(copy, threads=1, record=record)
    assert hashes[2:] == [copy.file, copy.file]


def test_a_file_changed_just_now_is_hashed_at_every_start(manifest, tmp_path, hashes):
    """Another write within the filesystem's timestamp tick would leave size, mtime and ctime as
    they were: a file that young is checked, not remembered."""
    copy = load_manifest(copy_model(manifest, tmp_path / "m"))
    record = tmp_path / "verified-models.json"
    verify_files(copy, record)
    verify_files(copy, record)
    assert hashes == [copy.file, copy.tokenizer] * 2


def test_an_unwritable_or_damaged_record_only_costs_the_hashing(manifest, tmp_path, monkeypatch, hashes):
    monkeypatch.setattr("seekwise.core.embedding.manifest.RACY_NS", 0)
    copy = load_manifest(copy_model(manifest, tmp_path / "m"))
    (tmp_path / "file").write_text("not a folder")
    verify_files(copy, tmp_path / "file" / "verified-models.json")
    verify_files(copy, tmp_path / "file" / "verified-models.json")
    assert len(hashes) == 4
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "verified-models.json").write_text("{torn")
    verify_files(copy, tmp_path / "cache" / "verified-models.json")
    verify_files(copy, tmp_path / "cache" / "verified-models.json")
    assert len(hashes) == 6
    record = json.loads((tmp_path / "cache" / "verified-models.json").read_text())
    assert sorted(record) == sorted(os.path.realpath(p) for p in (copy.model_path, copy.tokenizer_path))
