"""A model folder is described by manifest.json; new models are added by manifest alone."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seekwise.core.errors import ModelError

MANIFEST_NAME = "manifest.json"
POOLINGS = ("mean", "cls", "last", "none")


@dataclass(frozen=True)
class ModelManifest:
    """What it takes to turn text into the same vector every time."""

    folder: Path
    id: str
    name: str
    file: str
    sha256: str
    tokenizer: str
    dims: int
    max_tokens: int
    pooling: str = "mean"
    normalize: bool = True
    query_prefix: str = ""
    document_prefix: str = ""
    output: str | None = None
    tokenizer_sha256: str | None = None
    matryoshka_dims: tuple[int, ...] | None = None
    license: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def model_path(self) -> Path:
        return self.folder / self.file

    @property
    def tokenizer_path(self) -> Path:
        return self.folder / self.tokenizer

    @property
    def version_id(self) -> str:
        """Names everything that changes a vector; a change means old vectors are simply not found."""
        parts = [self.id, self.sha256, self.pooling, str(self.normalize), str(self.max_tokens),
                 str(self.dims), self.query_prefix, self.document_prefix]
        digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]
        return f"{self.id}-{digest}"


def _require(data: dict[str, Any], key: str, kind: type, where: Path) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise ModelError(f"{where}: field '{key}' is missing or not a {kind.__name__}")
    return value


def load_manifest(folder: str | Path) -> ModelManifest:
    """Read and check a model folder's manifest (cheap: does not hash the weights)."""
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise ModelError(f"No {MANIFEST_NAME} in model folder {folder}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot read model manifest {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{path}: expected a JSON object")
    pooling = data.get("pooling", "mean")
    if pooling not in POOLINGS:
        raise ModelError(f"{path}: pooling '{pooling}' is not one of {', '.join(POOLINGS)}")
    mdims = data.get("matryoshka_dims")
    dims = _require(data, "dims", int, path)
    if mdims is not None and dims not in mdims:
        raise ModelError(f"{path}: dims {dims} is not one of the Matryoshka dims {mdims}")
    known = {f for f in ModelManifest.__dataclass_fields__ if f not in ("folder", "extra")}
    return ModelManifest(
        folder=folder,
        id=_require(data, "id", str, path),
        name=data.get("name") or data["id"],
        file=_require(data, "file", str, path),
        sha256=_require(data, "sha256", str, path).lower(),
        tokenizer=data.get("tokenizer", "tokenizer.json"),
        dims=dims,
        max_tokens=_require(data, "max_tokens", int, path),
        pooling=pooling,
        normalize=bool(data.get("normalize", True)),
        query_prefix=data.get("query_prefix") or "",
        document_prefix=data.get("document_prefix") or "",
        output=data.get("output"),
        tokenizer_sha256=data.get("tokenizer_sha256"),
        matryoshka_dims=tuple(mdims) if mdims else None,
        license=data.get("license"),
        extra={k: v for k, v in data.items() if k not in known},
    )


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify_files(manifest: ModelManifest) -> None:
    """Check the weights and tokenizer are the ones the manifest names, with a message that says which is wrong."""
    for label, path, expected in (
        ("model", manifest.model_path, manifest.sha256),
        ("tokenizer", manifest.tokenizer_path, manifest.tokenizer_sha256),
    ):
        if not path.is_file():
            raise ModelError(f"The {label} file {path} of model '{manifest.id}' is missing; "
                             "reinstall Seekwise or rebuild the model (packaging/build_model.py).")
        if expected and sha256_file(path) != expected.lower():
            raise ModelError(f"The {label} file {path} of model '{manifest.id}' is corrupt "
                             "(its sha256 does not match the manifest); reinstall Seekwise or "
                             "rebuild the model (packaging/build_model.py).")
