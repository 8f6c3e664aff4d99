"""Plain text, and files without an extension that turn out to be text (README, LICENSE, scripts)."""

from __future__ import annotations

from seekwise.core.extract.base import Document, Family
from seekwise.core.extract.decode import decode
from seekwise.core.extract.sniff import shebang

VERSION = "text/1"
EXTENSIONS = frozenset({
    ".txt", ".text", ".log", ".out", ".tex", ".bib", ".ini", ".cfg", ".conf", ".properties", ".env",
    ".toml", ".yaml", ".yml", ".xml", ".srt", ".vtt", ".adoc", ".asciidoc", ".nfo", ".diff", ".patch",
})  # CSV/TSV and JSON have their own families (structured.py), reStructuredText and Org theirs (markup.py)
NAMES = frozenset({"readme", "license", "licence", "copying", "changelog", "changes", "news", "authors",
                   "install", "todo", "notice", "contributing", "history", "thanks", "credits"})


def read(data: bytes, name: str) -> Document:
    """Decoded as it is; an extension-less file that starts with '#!' is a script, so code."""
    text = decode(data)
    if "." not in name.lstrip("."):
        script, language = shebang(text)
        if script:
            return Document(text, "code", VERSION, language=language)
    return Document(text, "text", VERSION)


FAMILY = Family(VERSION, read, EXTENSIONS, NAMES)
