"""What a user types becomes safe FTS5 expressions and the text the model embeds."""

from __future__ import annotations

import sqlite3

import pytest

from seekwise.core.query import parse_query


def test_words_phrases_and_exclusions_are_told_apart():
    q = parse_query('how to restore "security bond" -tenancy -"ending notice"')
    assert q.words == ["how", "to", "restore"]
    assert q.phrases == ["security bond"]
    assert q.excluded == ["tenancy", "ending notice"]
    assert q.text == "how to restore security bond"  # exclusions never reach the model
    assert q.highlight_words() == ["restore"]


def test_ranking_match_skips_stopwords_unless_nothing_else_is_left():
    assert parse_query("how do I get my deposit back").ranking_match() == '("get" OR "deposit" OR "back")'
    assert parse_query("how to").ranking_match() == '("how" OR "to")'


def test_an_unclosed_quote_is_a_phrase_to_the_end():
    q = parse_query('find "exact words here')
    assert q.phrases == ["exact words here"] and q.words == ["find"]


def test_a_query_of_only_exclusions_or_punctuation_is_empty():
    assert parse_query("-spam -eggs").empty
    assert parse_query('"" ... ???').empty


@pytest.mark.parametrize("raw", ['NEAR(a b)', 'a AND OR NOT', 'col:value', 'x* "y" ^z', "it's o'clock", '"a""b"',
                                 "{a b}", "-", "C++ & C#", "naïve café", "SELECT * FROM chunks; --"])
def test_fts5_never_sees_user_syntax(raw):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(text)")
    db.execute("INSERT INTO t VALUES ('a b near and or not col value x y z it s o clock naïve café select from')")
    q = parse_query(raw)
    for expr in (q.ranking_match(), q.required_match(), q.excluded_match()):
        if expr:
            db.execute("SELECT rowid FROM t WHERE t MATCH ?", (expr,)).fetchall()  # raises on a syntax error


def test_fusion_counts_a_keyword_hit_by_the_share_of_query_words_it_holds():
    from seekwise.core.search import FusionSettings, fuse

    settings = FusionSettings(k=60, min_coverage=0.5)
    dense = (1.0, [1, 2, 3], None)
    lexical = (1.0, [3, 2], {3: 0.25, 2: 1.0})  # chunk 3 holds one word in four: not keyword evidence
    scores = fuse([dense, lexical], settings)
    assert scores[3] == 1 / 63                   # dense only
    assert scores[2] == 1 / 62 + 1 / 61          # chunk 2 is the lexical leg's first *counted* hit
    assert max(scores, key=scores.get) == 2


def test_options_and_short_flags_are_searched_for_not_excluded():
    """`git rebase --onto` and `shopt -s globstar` ask for the option; only `-word` excludes."""
    assert parse_query("git rebase --onto").excluded == []
    assert "onto" in parse_query("git rebase --onto").words
    assert parse_query("shopt -s globstar").words == ["shopt", "s", "globstar"]
    assert parse_query("rm -rf").excluded == [] and parse_query("offset -1").excluded == []
    assert parse_query("boiler -kettle").excluded == ["kettle"]


def test_a_dotted_or_hyphenated_name_ranks_as_one_term_of_adjacent_parts():
    q = parse_query("os.replace atomic")
    assert q.ranking_terms() == ['"atomic"', '"os replace"'] and q.words == ["os", "replace", "atomic"]
    assert parse_query("git-stash pop").ranking_match() == '("pop" OR "git stash")'
    assert parse_query("the e-mail").ranking_terms() == ['"e mail"']   # the stopword left out, not the name
