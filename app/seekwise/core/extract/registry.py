"""Which extractor reads which file: by extension, then by well-known name."""

from __future__ import annotations

import os
from collections.abc import Callable

from seekwise.core.extract import code, html, markdown, plain
from seekwise.core.extract.base import Document, Unsupported

Extractor = Callable[[bytes], Document]


def _code_for(language: str) -> Extractor:
    return lambda data: code.extract(data, language)


BY_EXTENSION: dict[str, tuple[str, Extractor]] = {}
for _ext in plain.EXTENSIONS:
    BY_EXTENSION[_ext] = (plain.VERSION, plain.extract)
for _ext in markdown.EXTENSIONS:
    BY_EXTENSION[_ext] = (markdown.VERSION, markdown.extract)
for _ext in html.EXTENSIONS:
    BY_EXTENSION[_ext] = (html.VERSION, html.extract)
for _ext, _lang in code.LANGUAGES.items():
    BY_EXTENSION[_ext] = (code.VERSION, _code_for(_lang))

BY_NAME: dict[str, tuple[str, Extractor]] = {n: (plain.VERSION, plain.extract) for n in plain.NAMES}
BY_NAME.update({n: (code.VERSION, _code_for(lang)) for n, lang in code.NAMES.items()})

SUPPORTED_EXTENSIONS = frozenset(BY_EXTENSION)


def _lookup(path: str | os.PathLike) -> tuple[str, Extractor] | None:
    name = os.path.basename(os.fspath(path)).lower()
    found = BY_NAME.get(name)
    if found:
        return found
    stem, ext = os.path.splitext(name)
    return BY_EXTENSION.get(ext) or BY_NAME.get(stem)


def is_supported(path: str | os.PathLike) -> bool:
    """Cheap, by name only: would extract() try this file?"""
    return _lookup(path) is not None


def extractor_id(path: str | os.PathLike) -> str:
    """The id/version of the extractor for this file ('' if none): part of what decides a re-read."""
    found = _lookup(path)
    return found[0] if found else ""


def extract(path: str | os.PathLike, data: bytes) -> Document:
    """Bytes the caller read to text; raises ExtractionError (or Unsupported), never anything else."""
    found = _lookup(path)
    if found is None:
        ext = os.path.splitext(os.fspath(path))[1]
        raise Unsupported(f"not a supported file type ({ext or 'no extension'})")
    return found[1](data)
