"""A model folder is described by manifest.json; new models are added by manifest alone."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seekwise.core.errors import ModelError
from seekwise.core.paths import save_json_quietly


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


RACY_NS = 2_000_000_000   # a file changed this recently may change again within one timestamp tick: not remembered


def _identity(path: Path) -> list[int]:
    """What changes whenever the file's bytes may have: a rewrite, a copy over it, a move, a restored
    mtime (the ctime, which no program can set back, still moves)."""
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _read_record(record: Path) -> dict[str, Any]:
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):   # none yet, or damaged: every file is hashed again
        return {}
    return data if isinstance(data, dict) else {}


def verify_files(manifest: ModelManifest, record: Path | None = None) -> None:
    """Check the weights and tokenizer are the ones the manifest names, with a message that says which is wrong.

    Hashing the 23 MB of weights took 70-90 ms of every start, so a file that hashed right is
    remembered in `record` (a library keeps it at its root: LibraryPaths.verified_models;
    None: hashed every time) with its size, mtime, ctime, inode and
    device and the hash it matched; while those stay the same it is not read again. Any change to the
    file changes one of them, and it is hashed again (a file changed in the last RACY_NS is never
    remembered: a second write within the filesystem's timestamp tick would leave them all as they were)."""
    known = _read_record(record) if record is not None else {}
    learned: dict[str, Any] = {}
    for label, path, expected in (
        ("model", manifest.model_path, manifest.sha256),
        ("tokenizer", manifest.tokenizer_path, manifest.tokenizer_sha256),
    ):
        if not path.is_file():
            raise ModelError(f"The {label} file {path} of model '{manifest.id}' is missing; "
                             "reinstall Seekwise or rebuild the model (packaging/build_model.py).")
        if not expected:
            continue
        key = os.path.realpath(path)
        seen = [*_identity(path), expected.lower()]
        if known.get(key) == seen:
            continue
        if sha256_file(path) != expected.lower():
            raise ModelError(f"The {label} file {path} of model '{manifest.id}' is corrupt "
                             "(its sha256 does not match the manifest); reinstall Seekwise or "
                             "rebuild the model (packaging/build_model.py).")
        if _identity(path) == seen[:-1] and time.time_ns() - max(seen[1], seen[2]) > RACY_NS:
            learned[key] = seen
    if learned and record is not None:
        kept = {k: v for k, v in _read_record(record).items() if os.path.exists(k)}
        save_json_quietly(record, {**kept, **learned})   # unwritable: the next start hashes again
