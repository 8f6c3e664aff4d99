"""A passage's context laid back together from chunk records: overlaps once, gaps kept, pages kept apart."""

from __future__ import annotations

from seekwise.core.context import lay_out
from seekwise.core.search import Passage
from seekwise.core.store import ChunkRecord

FILE = "The bond is paid back. Within ten days of the end of the lease, less any repairs."


def chunk(cid: int, start: int, end: int, page: int = 0, text: str | None = None) -> ChunkRecord:
    return ChunkRecord(cid, "/docs/lease.txt", start, end, 1, FILE[start:end] if text is None else text,
                       b"d" * 32, page)


def passage_of(ch: ChunkRecord, marks: tuple[tuple[int, int], ...] = ()) -> Passage:
    return Passage(ch.id, 0.5, ch.line, ch.start, ch.end, ch.text, marks, "words" if marks else "", ch.page)


def test_overlapping_chunks_show_the_file_once_with_the_marks_moved():
    first, second = chunk(1, 0, 40), chunk(2, 23, len(FILE))
    context = lay_out([second, first], passage_of(second, ((0, 6),)))
    assert context.text == FILE
    assert context.passage_span == (23, len(FILE)) and context.text[23:29] == "Within"
    assert context.marks == [(23, 29)]


def test_a_gap_is_a_space_or_a_paragraph_break():
    one_apart = lay_out([chunk(1, 0, 22), chunk(2, 23, 38)], passage_of(chunk(2, 23, 38)))
    assert one_apart.text == FILE[:22] + " " + FILE[23:38] and one_apart.passage_span == (23, 38)
    far_apart = lay_out([chunk(1, 0, 10), chunk(2, 23, 38)], passage_of(chunk(2, 23, 38)))
    assert far_apart.text == FILE[:10] + "\n\n" + FILE[23:38] and far_apart.passage_span == (12, 27)


def test_a_chunk_whose_text_is_not_its_span_stands_apart():
    odd = chunk(2, 23, 40, text="Within ten days")
    context = lay_out([chunk(1, 0, 22), odd], passage_of(odd))
    assert context.text == FILE[:22] + "\n\nWithin ten days" and context.passage_span == (24, 39)


def test_other_pages_and_far_chunks_are_left_out():
    page_two = chunk(2, 23, 38, page=2)
    context = lay_out([chunk(1, 0, 22, page=1), page_two, chunk(3, 39, len(FILE), page=2)], passage_of(page_two))
    assert context.text == FILE[23:]
    near = lay_out([chunk(1, 0, 10), chunk(2, 23, 38)], passage_of(chunk(2, 23, 38)), chars=5)
    assert near.text == FILE[23:38]


def test_a_passage_no_longer_indexed_is_shown_alone():
    gone = passage_of(chunk(9, 23, 38), ((0, 6),))
    context = lay_out([chunk(1, 0, 22)], gone)
    assert context.text == gone.text and context.passage_span == (0, 15) and context.marks == [(0, 6)]
