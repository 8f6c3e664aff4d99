"""What `pip install .` carries: every package under app/, and the bundled model."""

from __future__ import annotations

import tomllib
from pathlib import Path

from seekwise.core.embedding.resolve import DEFAULT_MODEL_ID, bundled_models_dir

ROOT = Path(__file__).parents[2]


def test_every_package_under_app_is_listed():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT / "app").parts) for p in (ROOT / "app").rglob("__init__.py")}
    assert found | {"seekwise.resources"} == listed


def test_bundled_model_is_found_where_seekwise_is_installed():
    folder = bundled_models_dir() / DEFAULT_MODEL_ID
    assert (folder / "manifest.json").is_file() and (folder / "model.onnx").stat().st_size > 10 << 20
