"""Models come by manifest alone; a missing or corrupt model says what is wrong."""

from __future__ import annotations

import json
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
