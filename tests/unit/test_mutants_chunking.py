"""Units over the target with no sentence end: split at words, then at characters. Mutation testing
(bench/mutation.sh) showed no test reached those levels. Real tokenizer, small texts."""

from __future__ import annotations

import random
import re

import pytest

from seekwise.core.chunking import Chunker


def make(counter, target=64, overlap=16):
    return Chunker(counter, counter.budget, target=target, overlap=overlap, tokenizer_tag=counter.tag)


def covered(text, chunks):
    seen = [False] * len(text)
    for c in chunks:
        assert text[c.start:c.end] == c.text and c.text == c.text.strip()
        seen[c.start:c.end] = [True] * (c.end - c.start)
    return all(seen[i] for i, ch in enumerate(text) if not ch.isspace())


def test_a_long_line_without_sentence_ends_splits_between_words(token_counter):
    rng = random.Random(3)
    words = ["deposit", "landlord", "tenancy", "inventory", "adjudication", "keys", "bond", "scheme"]
    text = "Intro line\n\n" + " ".join(rng.choice(words) for _ in range(600)) + "\n\nlast words here"
    chunker = make(token_counter)
    chunks = chunker.chunk(text)
    assert covered(text, chunks)
    counts = token_counter([c.text for c in chunks])
    assert max(counts) <= chunker.target and len(chunks) >= 600 // 64
    for c in chunks:                                   # cut at whitespace only: whole words
        assert c.start == 0 or text[c.start - 1].isspace()
        assert c.end == len(text) or text[c.end].isspace()
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    assert chunks[-1].line == text.count("\n", 0, chunks[-1].start) + 1


def test_one_huge_word_is_cut_into_pieces_that_fit(token_counter):
    rng = random.Random(4)
    # no whitespace and no sentence end, but many tokens (the tokenizer splits at '-'; a run of over
    # 100 letters would be one unknown token)
    blob = "-".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(5)) for _ in range(500))
    text = "before\n\n" + blob + "\n\nafter"
    chunker = make(token_counter, target=64, overlap=0)
    chunks = chunker.chunk(text)
    assert covered(text, chunks)
    assert max(token_counter([c.text for c in chunks])) <= chunker.budget
    assert len(chunks) >= 6                            # the blob is really cut up, not one chunk
    assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:]))             # no overlap asked
    assert re.sub(r"\s", "", "".join(c.text for c in chunks)) == re.sub(r"\s", "", text)   # and no gap


def test_a_blob_under_a_tight_budget_is_split_again_by_the_real_count(token_counter):
    rng = random.Random(5)
    blob = "/".join("".join(rng.choice("qxzjkv") for _ in range(3)) for _ in range(400))
    chunker = Chunker(token_counter, 24, target=24, overlap=0, tokenizer_tag=token_counter.tag)
    chunks = chunker.chunk(blob)
    assert covered(blob, chunks)
    assert max(token_counter([c.text for c in chunks])) <= 24
    assert not any(re.search(r"\s", c.text) for c in chunks)


# -- structure, boundaries, pages, overlap: each pinned where a mutant of chunking.py survived ---------

def words(word, n):
    return " ".join([word] * n)              # the bundled tokenizer reads each of these words as one token


def texts(text, chunks):
    return [text[c.start:c.end] for c in chunks]


def test_word_counts_used_below_are_one_token_each(token_counter):
    assert token_counter(["bond", "keys", "rent", "deposit", "tenant", words("bond", 7)]) == [1, 1, 1, 1, 1, 7]


def test_defaults_and_the_smallest_budget(token_counter):
    assert Chunker(token_counter, 300).version == "c1-t128-o0-b300-"       # the defaults are in stored keys
    Chunker(token_counter, 8)
    with pytest.raises(ValueError):
        Chunker(token_counter, 7)


def test_a_counter_without_token_starts_counts_each_span(token_counter):
    def plain(spans):                          # a counter with no token_starts: spans are counted one by one
        return token_counter(spans)
    text = words("bond", 40) + "\n\n" + words("keys", 40)
    chunks = Chunker(plain, 254, target=64, overlap=0).chunk(text)
    assert texts(text, chunks) == [words("bond", 40), words("keys", 40)]


def test_headings_and_fences_only_in_structured_kinds(token_counter):
    para = words("bond", 20)
    text = para + "\n# Heading\n" + words("keys", 5)
    assert texts(text, make(token_counter).chunk(text, "markdown")) == [para, "# Heading\n" + words("keys", 5)]
    assert texts(text, make(token_counter).chunk(text, "text")) == [text]          # '# ' in plain text
    fenced = (para + "\n```\n" + words("rent", 5) + "\n\n# not a heading\n" + words("rent", 5) + "\n```"
              + "\n\n# After\n\n" + words("keys", 3))
    chunks = make(token_counter).chunk(fenced, "markdown")
    assert covered(fenced, chunks)
    assert texts(fenced, chunks) == [fenced[:fenced.index("\n\n# After")], "# After\n\n" + words("keys", 3)]
    first = "```\n" + words("rent", 5) + "\n\n" + words("rent", 5) + "\n```\n\nAfter words."   # a fence first
    assert texts(first, make(token_counter).chunk(first, "markdown")) == [first]
    # in plain text a fence line is text: the blank line inside is a paragraph break
    a, b = "```\n" + words("bond", 30), words("keys", 30) + "\n```"
    plain = a + "\n\n" + b
    assert texts(plain, make(token_counter, target=48).chunk(plain, "text")) == [a, b]


def test_paragraphs_are_units_and_indents_are_trimmed(token_counter):
    a, b = "Bond one. " * 9 + "Bond end.", "Keys one. " * 9 + "Keys end."
    text = a + "\n\n    " + b + "\n"
    assert texts(text, make(token_counter, target=48, overlap=0).chunk(text)) == [a, b]


def test_exact_target_fits_and_two_sentences_split_between_them(token_counter):
    s1, s2 = words("bond", 30) + ".", words("keys", 30) + "."
    para = s1 + " " + s2
    n = token_counter([para])[0]
    assert texts(para, make(token_counter, target=n).chunk(para)) == [para]          # n tokens: one chunk
    text = words("rent", 5) + "\n\n" + para                  # not split, so no sentence joins the 5 before
    assert texts(text, make(token_counter, target=n).chunk(text)) == [words("rent", 5), para]
    assert texts(para, make(token_counter, target=n - 1).chunk(para)) == [s1, s2]    # at the sentence end
    # a sentence over the target, between two short ones, is cut between words
    long = "Prose first. " * 200 + "\n\nShort one. " + words("deposit", 150) + ". Short two."   # far in
    chunks = make(token_counter, target=64, overlap=0).chunk(long)
    assert covered(long, chunks) and max(token_counter([c.text for c in chunks])) <= 64
    for c in chunks:
        assert (c.start == 0 or long[c.start - 1].isspace()) and (c.end == len(long) or long[c.end].isspace())


def test_packing_fills_exactly_to_the_target(token_counter):
    a, b, c = words("bond", 30), words("keys", 20), words("rent", 10)
    text = "\n\n".join([a, b, c])
    got = texts(text, Chunker(token_counter, 254, target=30, overlap=0).chunk(text))
    assert got == [a, text[text.index(b):]]                   # b + c is exactly 30: together


def test_a_heading_starts_a_chunk_from_a_quarter_of_the_target(token_counter):
    para, tail = words("bond", 10), "# Heading\n" + words("keys", 3)
    text = para + "\n" + tail
    assert texts(text, Chunker(token_counter, 254, 41, 0).chunk(text, "markdown")) == [para, tail]  # 10 == 41 // 4
    assert texts(text, Chunker(token_counter, 254, 44, 0).chunk(text, "markdown")) == [text]        # 10 < 44 // 4


def test_overlap_carries_a_short_last_unit_only_when_it_fits(token_counter):
    def run(sizes, target, overlap):
        paras = [words(w, n) for w, n in zip(["bond", "keys", "rent", "tenant"], sizes)]
        text = "\n\n".join(paras)
        return texts(text, Chunker(token_counter, 254, target, overlap).chunk(text)), paras, text
    got, (a, b, c), text = run([10, 8, 22], target=30, overlap=8)     # b == overlap, b + c == target
    assert got == [text[:text.index(c) - 2], b + "\n\n" + c]
    got, (a, b, c), text = run([10, 8, 23], target=30, overlap=8)     # b + c over the target: no carry
    assert got == [text[:text.index(c) - 2], c]
    got, (a, b), text = run([5, 28], target=30, overlap=8)            # a chunk of one unit is not repeated
    assert got == [a, b]


def test_fenced_code_with_blank_lines_gives_no_empty_or_padded_chunks(token_counter):
    code = "\n\n".join(f"value_{i} = compute(value_{i - 1}, {i})" for i in range(1, 60))
    text = "Intro.\n\n```python\n" + code + "\n```\n"
    chunks = make(token_counter, target=48, overlap=8).chunk(text, "markdown")
    assert covered(text, chunks)
    assert all(c.text and c.text == c.text.strip() for c in chunks)


def test_a_page_break_ends_a_chunk_and_each_chunk_knows_its_page(token_counter):
    p1 = words("bond", 20)
    p2 = "Keys back. " + " ".join([words("keys", 12) + "."] * 8)           # over the target: split
    p3 = words("rent", 20)
    text = p1 + "\n\n" + p2 + "\n\n" + p3
    pages = [0, text.index(p2), text.index(p3)]
    chunks = make(token_counter, target=64, overlap=0).chunk(text, page_starts=pages)
    assert covered(text, chunks)
    assert texts(text, chunks)[0] == p1 and chunks[1].start == pages[1] and chunks[-1].text == p3
    assert [c.page for c in chunks] == [1] + [2] * (len(chunks) - 2) + [3]
    assert all(c.page == 0 for c in make(token_counter).chunk(text))


def test_a_mixed_density_blob_is_cut_again_where_it_is_dense(token_counter):
    text = words("intro", 40) + "\n\n" + "x" * 3000 + "-a" * 400 + "\n\n" + words("bond", 5)
    chunker = make(token_counter, target=64, overlap=0)
    chunks = chunker.chunk(text)
    assert covered(text, chunks)
    assert max(token_counter([c.text for c in chunks])) <= chunker.budget


def test_blob_spans_over_budget_by_the_real_count_are_split_again(token_counter):
    for budget in (12, 16, 24):
        rng = random.Random(0)
        blob = "/".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 7)))
                        for _ in range(300))
        text = "Intro words here.\n\n" + "padding " * 300 + "\n\n" + blob
        chunker = Chunker(token_counter, budget, target=budget, overlap=0, tokenizer_tag=token_counter.tag)
        chunks = chunker.chunk(text)
        assert covered(text, chunks)
        assert max(token_counter([c.text for c in chunks])) <= budget
