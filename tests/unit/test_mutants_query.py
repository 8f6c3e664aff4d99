"""Query parsing cases that mutation testing (bench/mutation.sh) showed no test pinned down."""

from __future__ import annotations

from seekwise.core.lexical import LexicalIndex
from seekwise.core.query import _quote, parse_query

TEXTS = {
    1: "The security deposit and the bond are held apart.",
    2: "A security deposit is held in a scheme.",
    3: "The bond papers were signed.",
    4: "Tomato seeds and the bond papers are in the shed.",
}


def make(tmp_path):
    lex = LexicalIndex(tmp_path / "lexical.sqlite")
    lex.apply(TEXTS.items(), [], generation=1)
    return lex


def test_every_phrase_is_required_not_the_word_and(tmp_path):
    lex = make(tmp_path)
    q = parse_query('"security deposit" "bond papers"')
    assert lex.matching(q.required_match(), [1, 2, 3, 4]) == set()      # no text holds both
    q = parse_query('"security deposit" "held"')
    assert lex.matching(q.required_match(), [1, 2, 3, 4]) == {1, 2}


def test_any_excluded_word_bars_a_hit(tmp_path):
    lex = make(tmp_path)
    q = parse_query("papers -tomato -security")
    assert lex.matching(q.excluded_match(), [1, 2, 3, 4]) == {1, 2, 4}
    assert lex.search(q.ranking_match(), 10)[0].tolist() == [3]


def test_an_empty_phrase_does_not_end_the_query():
    q = parse_query('"" deposit "  " -bond "security deposit"')
    assert q.words == ["deposit"]
    assert q.excluded == ["bond"]
    assert q.phrases == ["security deposit"]


def test_a_short_dash_word_is_a_flag_to_find_not_an_exclusion():
    """`-3`, `-x`, `-rf` are what people look up (an option, a number); `-abc` and longer exclude."""
    q = parse_query("chapter -3 -x -rf -abc")
    assert q.words == ["chapter", "3", "x", "rf"] and q.excluded == ["abc"]
    assert parse_query("a - b").words == ["a", "b"] and parse_query("a - b").excluded == []


def test_quotes_inside_a_term_are_doubled_for_fts5():
    assert _quote('say "hi"') == '"say ""hi"""'
    assert _quote("plain") == '"plain"'
