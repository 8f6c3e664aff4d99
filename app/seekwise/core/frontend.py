"""What a front end asks of Seekwise with no library open (a first run, a library that did not open):
is a model usable, how many files of some folders would be read. With core.library (the facade) and
a few plain modules, this is all of the core the GUI imports (tests/unit/test_import_direction.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from seekwise.core.embedding import ModelManifest, resolve_model
from seekwise.core.ignore import IgnoreRules
from seekwise.core.paths import LibraryPaths

__all__ = ["FileCount", "IgnoreRules", "ModelManifest", "check_model", "count_files"]


def check_model(spec: str | None = None, data_dir: str | os.PathLike | None = None) -> ModelManifest:
    """The manifest of a model id or folder (None: the bundled one), looked for as a library in
    `data_dir` would (its own models folder first); raises ModelError saying why it is unusable."""
    return resolve_model(spec, LibraryPaths.resolve(data_dir).models)


@dataclass(frozen=True)
class FileCount:
    readable: int       # files of a type Seekwise reads
    other: int          # files it would skip (formats it does not read)


def count_files(folders: Iterable[str], cancelled: Callable[[], bool] = lambda: False) -> FileCount:
    """Walk the folders with the indexer's own scanner and ignore rules, to say before indexing how
    much there is to read; slow on a big folder, so off a GUI thread, and it stops when `cancelled`."""
    from seekwise.core.extract.registry import is_supported   # the readers load only when counting
    from seekwise.core.scanner import scan

    result = scan(folders, cancelled=cancelled)
    readable = sum(1 for f in result.files if is_supported(f.path))
    return FileCount(readable, len(result.files) - readable)
