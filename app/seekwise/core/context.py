"""The text around a passage, laid back together from its file's indexed chunks: a front end shows a
match in context (a PDF's page, a document's paragraphs) without reading the file again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from seekwise.core.search import Passage
from seekwise.core.store import ChunkRecord

CONTEXT_CHARS = 6000     # of text either side of the passage (a whole page, for a PDF)


@dataclass
class PassageContext:
    """`text` holds the passage at `passage_span`, its marks moved to `marks`; when the passage's chunk
    is no longer indexed, `text` is the passage alone. `mtime` and `size` are the file's, as indexed."""

    text: str = ""
    passage_span: tuple[int, int] = (0, 0)
    marks: list[tuple[int, int]] = field(default_factory=list)
    mtime: float | None = None
    size: int = 0
    in_library: bool = True      # False: the file left the library (changed or removed) since the search


def lay_out(chunks: Sequence[ChunkRecord], passage: Passage, chars: int = CONTEXT_CHARS) -> PassageContext:
    """The chunks near `passage` (on its page, when it has one) on their character offsets: overlaps
    shown once, gaps as a space or a paragraph break, chunks whose text is not their span's apart."""
    if passage.page:
        chunks = [ch for ch in chunks if ch.page == passage.page or ch.id == passage.chunk_id]
    chunks = sorted((ch for ch in chunks if ch.end >= passage.start - chars and ch.start <= passage.end + chars),
                    key=lambda ch: (ch.start, ch.id))
    out = PassageContext()
    if not any(ch.id == passage.chunk_id for ch in chunks):
        out.text, out.passage_span, out.marks = passage.text, (0, len(passage.text)), list(passage.marks)
        return out
    parts: list[str] = []
    length = 0
    cursor = None            # the file offset the text so far reaches
    for ch in chunks:
        exact = len(ch.text) == ch.end - ch.start
        if cursor is None or not exact:
            piece = ch.text if cursor is None else "\n\n" + ch.text
            offset = 0 if cursor is None else 2
        elif ch.start >= cursor:
            gap = ch.start - cursor
            piece = ("\n\n" if gap > 1 else " " if gap else "") + ch.text
            offset = len(piece) - len(ch.text)
        else:                # overlaps what we have: add only the new tail
            piece = ch.text[cursor - ch.start:]
            offset = -(cursor - ch.start)
        if ch.id == passage.chunk_id:
            begin = length + offset
            out.passage_span = (begin, begin + len(ch.text))
            out.marks = [(begin + s, begin + e) for s, e in passage.marks]
        parts.append(piece)
        length += len(piece)
        cursor = ch.end if cursor is None else max(cursor, ch.end)
    out.text = "".join(parts)
    return out
