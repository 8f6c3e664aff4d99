"""Units over the target with no sentence end: split at words, then at characters. Mutation testing
(bench/mutation.sh) showed no test reached those levels. Real tokenizer, small texts."""

from __future__ import annotations

import random
import re

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
