"""A passage is embedded after its file's name and the headings it sits under, within the model's limit."""

from __future__ import annotations

from seekwise.core.chunking import Chunker
from seekwise.core.headings import CONTEXT_TOKENS, embedding_texts, heading_paths, label

MANUAL = ("# git-stash(1) Manual Page\n\nStash the changes in a dirty working directory away.\n\n"
          "## OPTIONS\n\nSome words on options. " * 1 + "\n\n### --keep-index\n\nAll changes already added "
          "to the index are left intact.\n\n```\n# not a heading: a shell comment\n```\n\n"
          "## EXAMPLES¶\n\nPulling into a dirty tree.\n")


def passages_of(text: str, chunker: Chunker) -> list[tuple[int, int, str]]:
    return [(c.start, c.end, c.text) for c in chunker.chunk(text, "markdown")]


def test_the_heading_path_is_the_sections_a_passage_starts_in():
    paras = [p.strip() for p in MANUAL.split("\n\n")]
    spans, at = [], 0
    for p in paras:
        start = MANUAL.index(p, at)
        spans.append((start, start + len(p), p))
        at = start + len(p)
    paths = dict(zip((t for _, _, t in spans), heading_paths(spans, structured=True)))
    assert paths["All changes already added to the index are left intact."] == (
        "git-stash(1) Manual Page", "OPTIONS", "--keep-index")
    # A lower-level heading closes the deeper ones; Sphinx's pilcrow is dropped; a fenced '#' is code.
    assert paths["Pulling into a dirty tree."] == ("git-stash(1) Manual Page", "EXAMPLES")
    assert all("shell comment" not in h for path in paths.values() for h in path)


def test_plain_text_has_no_headings_only_its_name():
    spans = [(0, 9, "# comment"), (10, 20, "some words")]
    assert heading_paths(spans, structured=False) == [(), ()]
    texts = embedding_texts("/home/a/notes/todo.txt", False, spans, lambda ts: [len(t.split()) for t in ts])
    assert texts == ["notes/todo\n# comment", "notes/todo\nsome words"]
    assert label("todo.txt") == "todo"


def test_a_long_context_keeps_the_innermost_headings_within_its_tokens(token_counter):
    heads = "".join(f"{'#' * (i + 1)} Section number {i} with a fairly long descriptive title\n\n" for i in range(6))
    text = heads + "The passage itself."
    spans = [(0, len(heads) - 2, heads.strip()), (len(heads), len(text), "The passage itself.")]
    context = embedding_texts("/d/guide.md", True, spans, token_counter)[1].split("\n")[0]
    assert context.startswith("d/guide > ") and context.endswith("Section number 5 with a fairly long descriptive title")
    assert token_counter([context])[0] <= CONTEXT_TOKENS - 2


def test_context_and_passage_fit_the_model_together(token_counter):
    chunker = Chunker(token_counter, token_counter.budget, target=64, overlap=0, tokenizer_tag=token_counter.tag,
                      context=True)
    plain = Chunker(token_counter, token_counter.budget, target=64, overlap=0, tokenizer_tag=token_counter.tag)
    assert chunker.budget == plain.budget - CONTEXT_TOKENS and chunker.version != plain.version
    text = MANUAL + ("word " * 2000)   # a run the chunker must cut at its (smaller) budget
    passages = passages_of(text, chunker)
    texts = chunker.embedding_texts("/x/git-stash.html", "html", passages)
    assert all(t.endswith(p[2]) for t, p in zip(texts, passages))
    assert max(token_counter(texts)) <= token_counter.budget
    assert plain.embedding_texts("/x/a.md", "markdown", passages) == [p[2] for p in passages]
