"""Find a model folder: a path the user gave, a folder in the library, or the one we bundle."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from seekwise.core.embedding.manifest import MANIFEST_NAME, ModelManifest, load_manifest
from seekwise.core.errors import ModelError

DEFAULT_MODEL_ID = "all-minilm-l6-v2-int8"
MODEL_ENV = "SEEKWISE_MODEL"


def bundled_models_dir() -> Path:
    """The models shipped inside the package (also found from a source checkout)."""
    try:
        folder = Path(str(resources.files("seekwise.resources") / "models"))
        if folder.is_dir():
            return folder
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[4] / "resources" / "models"


def available_models(user_models_dir: Path | None = None) -> list[ModelManifest]:
    """Every model folder we can see, the user's first."""
    found: list[ModelManifest] = []
    for base in (user_models_dir, bundled_models_dir()):
        if base and base.is_dir():
            for sub in sorted(base.iterdir()):
                if (sub / MANIFEST_NAME).is_file():
                    try:
                        found.append(load_manifest(sub))
                    except ModelError:
                        continue
    return found


def resolve_model(spec: str | os.PathLike | None = None, user_models_dir: Path | None = None) -> ModelManifest:
    """Turn a model id or folder path (or nothing: the default) into a checked manifest."""
    spec = spec or os.environ.get(MODEL_ENV) or DEFAULT_MODEL_ID
    as_path = Path(spec).expanduser()
    if as_path.is_dir():
        return load_manifest(as_path)
    if os.sep in str(spec) or (os.altsep and os.altsep in str(spec)):
        raise ModelError(f"Model folder {as_path} does not exist")
    for base in (user_models_dir, bundled_models_dir()):
        if base and (base / str(spec) / MANIFEST_NAME).is_file():
            return load_manifest(base / str(spec))
    known = ", ".join(m.id for m in available_models(user_models_dir)) or "none"
    raise ModelError(f"Model '{spec}' not found (available: {known}). "
                     "The bundled model may be missing from this installation.")
