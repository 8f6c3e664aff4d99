"""Chunks always fit the model, map back to the file exactly, and follow the text's structure."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from seekwise.core import chunking
from seekwise.core.chunking import Chunker

PROSE = ("The bond is returned within ten days of the keys being handed back. "
         "Deductions must be itemised in writing. Disputes go to the adjudication service. ") * 40


def make(counter, target=64, overlap=16):
    return Chunker(counter, counter.budget, target=target, overlap=overlap, tokenizer_tag=counter.tag)


def check_invariants(chunker, counter, text, chunks):
    for ch in chunks:
        assert text[ch.start:ch.end] == ch.text
        assert ch.line == text.count("\n", 0, ch.start) + 1
        assert ch.text == ch.text.strip() and ch.text
    counts = counter([c.text for c in chunks])
    assert max(counts, default=0) <= chunker.budget


def test_long_prose_splits_at_sentences_with_overlap(token_counter):
    chunker = make(token_counter)
    chunks = chunker.chunk(PROSE)
    check_invariants(chunker, token_counter, PROSE, chunks)
    assert len(chunks) > 5
    assert all(c.text.endswith(".") for c in chunks)  # cut at sentence ends, not mid-sentence
    overlapping = sum(1 for a, b in zip(chunks, chunks[1:]) if b.start < a.end)
    assert overlapping >= len(chunks) // 2


def test_headings_start_new_chunks_and_lines_are_right(token_counter):
    text = "# Title\n\nIntro paragraph here.\n\n" + "\n\n".join(
        f"## Section {i}\n\n" + "Some words about this section. " * 12 for i in range(4))
    chunker = make(token_counter, target=96)
    chunks = chunker.chunk(text, "markdown")
    check_invariants(chunker, token_counter, text, chunks)
    starts = [c.text.splitlines()[0] for c in chunks]
    for i in range(1, 4):
        assert f"## Section {i}" in starts
    sec2 = next(c for c in chunks if c.text.startswith("## Section 2"))
    assert text.splitlines()[sec2.line - 1] == "## Section 2"


def test_small_fenced_code_block_stays_whole(token_counter):
    code = "```python\ndef f(x):\n\n    return x + 1\n```"
    text = "Before the code.\n\n" + code + "\n\nAfter the code."
    chunks = make(token_counter, target=200).chunk(text, "markdown")
    assert any(code in c.text for c in chunks)


def test_unbreakable_run_is_cut_to_fit(token_counter):
    text = "x" * 20000 + " tail"
    chunker = make(token_counter, target=128)
    chunks = chunker.chunk(text)
    check_invariants(chunker, token_counter, text, chunks)
    assert "".join(c.text for c in chunks).replace(" ", "").startswith("x" * 1000)


def test_code_splits_on_lines_not_inside_them(token_counter):
    text = "\n".join(f"value_{i} = compute(value_{i - 1}, {i})" for i in range(1, 400))
    chunker = make(token_counter, target=100)
    chunks = chunker.chunk(text, "code")
    check_invariants(chunker, token_counter, text, chunks)
    lines = set(text.splitlines())
    assert all(set(c.text.splitlines()) <= lines for c in chunks)


def test_empty_and_blank_give_nothing(token_counter):
    assert make(token_counter).chunk("") == []
    assert make(token_counter).chunk(" \n\n\t \n") == []


def test_version_names_the_settings(token_counter):
    a, b = make(token_counter, target=64), make(token_counter, target=65)
    assert a.version != b.version and token_counter.tag in a.version


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=3000))
def test_any_text_chunks_within_budget_and_covers_every_word(token_counter, text):
    chunker = make(token_counter, target=48, overlap=8)
    chunks = chunker.chunk(text)
    check_invariants(chunker, token_counter, text, chunks)
    covered = bytearray(len(text))
    for c in chunks:
        covered[c.start:c.end] = b"\x01" * (c.end - c.start)
    assert all(covered[i] or text[i].isspace() for i in range(len(text)))


def test_a_book_tokenized_in_slices_chunks_as_in_one_piece(token_counter, monkeypatch):
    """Token offsets are found a slice of text at a time (bounded memory on a big PDF); the chunks are
    the ones a single pass gives."""
    text = "\n\n".join(f"## Part {i}\n\n" + PROSE[: 300 + 37 * i] for i in range(30))
    whole = make(token_counter).chunk(text, "markdown")
    monkeypatch.setattr(chunking, "STARTS_CHARS", 500)   # ~60 slices instead of one
    sliced = make(token_counter).chunk(text, "markdown")
    assert [(c.start, c.end, c.line) for c in sliced] == [(c.start, c.end, c.line) for c in whole]
    assert len(whole) > 30
