"""Plain text files: decoded as they are."""

from __future__ import annotations

from seekwise.core.extract.base import Document
from seekwise.core.extract.decode import decode_text

VERSION = "text/1"
EXTENSIONS = frozenset({
    ".txt", ".text", ".log", ".csv", ".tsv", ".rst", ".org", ".tex", ".bib", ".ini", ".cfg", ".conf",
    ".toml", ".yaml", ".yml", ".json", ".xml", ".srt", ".vtt", ".adoc", ".asciidoc", ".nfo", ".me",
})
NAMES = frozenset({"readme", "license", "licence", "copying", "changelog", "changes", "news", "authors",
                   "install", "todo", "notice", "contributing", "history", "thanks"})


def extract(data: bytes) -> Document:
    return Document(decode_text(data), "text", VERSION)
