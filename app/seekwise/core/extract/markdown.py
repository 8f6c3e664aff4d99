"""Markdown: the text a reader sees, keeping headings and code fences (the chunker follows them)."""

from __future__ import annotations

import re

from seekwise.core.extract.base import Document
from seekwise.core.extract.decode import decode_text

VERSION = "markdown/1"
EXTENSIONS = frozenset({".md", ".markdown", ".mdown", ".mkd", ".mkdn", ".mdx"})

_FRONT_MATTER = re.compile(r"\A(---|\+\+\+)\n.*?\n\1[ \t]*(\n|\Z)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)")
_REF_DEF = re.compile(r"^[ ]{0,3}\[[^\]\n]+\]:[ \t]+\S+.*$", re.M)
_TITLE = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.M)


def _blank_keeping_lines(m: re.Match[str]) -> str:
    """Removed text leaves its newlines, so line numbers still point at the original lines."""
    return "\n" * m.group(0).count("\n")


def extract(data: bytes) -> Document:
    text = decode_text(data)
    text = _FRONT_MATTER.sub(_blank_keeping_lines, text)
    text = _COMMENT.sub(_blank_keeping_lines, text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_DEF.sub("", text)
    m = _TITLE.search(text)
    return Document(text, "markdown", VERSION, title=m.group(1).strip() if m else None)
