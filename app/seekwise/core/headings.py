"""What the model reads for a passage: its file's name and the headings it sits under, then its text.

A passage deep in a manual ("Options", "Examples", a paragraph of a long PDF) says little about what
it is about; its file and section do ("library/os > os — Miscellaneous operating system interfaces >
Files and Directories"). The heading path is read from the file's passages alone, in order, so the
meaning phase rebuilds it from the store without the document. Prepare and embed must agree on every
character: the text the model reads is what the vector key hashes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import PurePath

# Tokens kept free in every passage for its context (the chunker packs to the model's budget less
# this); a longer context loses its outer headings, then its end.
CONTEXT_TOKENS = 32
HEADING_CHARS = 80       # one heading's share of the context, at most

# How extractors of structured kinds write a line, a heading and a code fence (the chunker splits on them).
LINE = re.compile(r"[^\n]*\n|[^\n]+")
HEADING = re.compile(r"(#{1,6})\s+(\S.*)")
FENCE = re.compile(r"\s{0,3}(```|~~~)")
_TRAILER = re.compile(r"[\s#¶]+$")   # "## Files¶" (Sphinx's anchor), "## Title ##"
SPACE = re.compile(r"\s+")

Passage = tuple[int, int, str]   # start, end, text: a span of the document and its text


def label(path: str) -> str:
    """The file as a person names it: its folder and its name without the extension."""
    p = PurePath(path)
    return f"{p.parent.name}/{p.stem}" if p.parent.name else p.stem


def heading_paths(passages: Sequence[Passage], structured: bool) -> list[tuple[str, ...]]:
    """For each passage, the headings in force where it starts (outermost first). Only extractors of
    `structured` kinds write '#' headings; in plain text a '# ' line is a comment, not a section."""
    stack: list[tuple[int, str]] = []
    out: list[tuple[str, ...]] = []
    seen = 0            # document chars already read: what a passage repeats of the one before is skipped
    in_fence = False
    for start, end, text in passages:
        out.append(tuple(h for _, h in stack))
        if not structured:
            continue
        for m in LINE.finditer(text, max(0, seen - start)):
            line = m.group()
            if FENCE.match(line):
                in_fence = not in_fence
                continue
            heading = None if in_fence else HEADING.match(line)
            if heading:
                words = SPACE.sub(" ", _TRAILER.sub("", heading.group(2)))[:HEADING_CHARS].strip()
                level = len(heading.group(1))
                stack = [(lv, h) for lv, h in stack if lv < level]
                if words:
                    stack.append((level, words))
        seen = max(seen, end)
    return out


def embedding_texts(path: str, structured: bool, passages: Sequence[Passage],
                    count_tokens: Callable[[Sequence[str]], list[int]]) -> list[str]:
    """The text the model embeds for each passage: its context line, then the passage."""
    name = label(path)
    contexts: dict[tuple[str, ...], str] = {}
    out = []
    for (_, _, text), heads in zip(passages, heading_paths(passages, structured)):
        context = contexts.get(heads)
        if context is None:
            context = contexts[heads] = _fitted(name, heads, count_tokens)
        out.append(f"{context}\n{text}")
    return out


def _fitted(name: str, heads: tuple[str, ...], count_tokens: Callable[[Sequence[str]], list[int]]) -> str:
    """The context within CONTEXT_TOKENS (less a token or two the joins may add): the name and the
    innermost headings, which say the most about the passage."""
    parts = [name, *(h for i, h in enumerate(heads) if h != (heads[i - 1] if i else name))]
    limit = CONTEXT_TOKENS - 2
    context = " > ".join(parts)
    while context and count_tokens([context])[0] > limit:   # each candidate counted once
        if len(parts) > 2:
            del parts[1]
            context = " > ".join(parts)
        else:
            context = context[: len(context) * 3 // 4].rstrip()
    return context
