"""Score fusion, the identifier test that sets the keyword boost, the relevance scale, per-file caps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seekwise.core import search
from seekwise.core.search import (GOOD_MATCH, FusionSettings, Hit, Leg, Passage, boost_for, cap_per_file, file_score,
                                  fuse_scores, good_matches, keyword_evidence_for, looks_like_identifier, pool_size,
                                  relevance)


def test_score_fusion_adds_the_keyword_boost_in_proportion_to_bm25_and_coverage():
    lexical = Leg("lexical", 1.0, np.array([5, 6, 7]), np.array([10.0, 5.0, 2.0]), {5: 1.0, 6: 0.5})
    fused = fuse_scores({5: 0.2, 8: 0.6}, lexical, FusionSettings(), boost=0.4)
    assert fused == pytest.approx({5: 0.2 + 0.4, 6: 0.4 * 0.5 * 0.5, 7: 0.0, 8: 0.6})
    assert fuse_scores({1: 0.3}, Leg("lexical", 1.0, np.array([], dtype=np.int64), np.array([])), FusionSettings(),
                       0.4) == {1: 0.3}


@pytest.mark.parametrize("query", ["SO_REUSEADDR", "os.replace atomic", "git rebase --onto", "VACUUM FULL lock",
                                   "dpkg-divert", "uniqtoken112x", "asyncio.gather return_exceptions"])
def test_identifiers_get_the_identifier_boost(query):
    assert looks_like_identifier(query) and boost_for(query, FusionSettings()) == FusionSettings().identifier_boost


@pytest.mark.parametrize("query", ["who changed this line last", "bread recipe", "Python", "git bisect run"])
def test_plain_words_get_the_plain_boost(query):
    assert not looks_like_identifier(query) and boost_for(query, FusionSettings()) == FusionSettings().lexical_boost


def test_relevance_is_one_scale_rising_with_the_evidence_and_half_at_the_bar():
    assert relevance(0.3, 0.0, bar=0.3) == pytest.approx(0.5)
    assert relevance(0.1, 0.0, 0.3) < relevance(0.4, 0.0, 0.3) < relevance(0.9, 0.0, 0.3) <= 1.0
    assert relevance(0.3, 0.0, bar=0.2) > 0.5 > relevance(0.3, 0.0, bar=0.4)   # the library's own bar
    assert relevance(0.1, 0.2, bar=0.3) == pytest.approx(0.5)   # keyword evidence adds to the cosine
    assert relevance(None, 0.75) == 0.75      # keywords only: the keyword match itself
    weak, strong = (Hit("/a", 0.1, Passage(1, 0.1, 1, 0, 1, "a"), relevance=GOOD_MATCH - 0.01),
                    Hit("/b", 0.9, Passage(2, 0.9, 1, 0, 1, "b"), relevance=GOOD_MATCH))
    assert good_matches([strong, weak]) == [strong]


def test_a_file_scores_its_best_passage_plus_a_little_for_close_seconds():
    assert file_score([0.5]) == pytest.approx(0.5)
    one, close, far = file_score([0.5]), file_score([0.5, 0.48, 0.47]), file_score([0.5, 0.2, 0.1])
    assert one < far < close < 0.5 + search.FILE_TEMPERATURE * math.log(search.FILE_PASSAGES) + 1e-9
    assert far - one < 0.01                     # passages far below the best add almost nothing
    assert file_score([0.5, 0.48, 0.47, 0.46, 0.45]) == pytest.approx(close)   # only the top few count


def test_a_better_second_passage_can_lift_a_file_above_a_single_lucky_one():
    assert file_score([0.55, 0.54, 0.53]) > file_score([0.6])


def test_a_leg_keeps_at_most_per_file_chunks_of_a_file_in_order():
    ids, scores = np.array([1, 2, 3, 4, 5]), np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    kept, kept_scores = cap_per_file(ids, scores, {1: "/log", 2: "/log", 3: "/log", 4: "/md", 5: "/log"}, per_file=2)
    assert kept.tolist() == [1, 2, 4] and kept_scores.tolist() == [0.9, 0.8, 0.6]
    assert pool_size(1) == pool_size(20) and pool_size(100) == 500


@pytest.mark.parametrize("query", ["from my Python script, start another program and grab whatever it prints",
                                   "in C, turn a date written as text into year, month and day fields"])
def test_a_sentence_gets_the_sentence_boost(query):
    settings = FusionSettings()
    assert len(query.split()) >= settings.sentence_words and not looks_like_identifier(query)
    assert boost_for(query, settings) == settings.sentence_boost < settings.lexical_boost


@pytest.mark.parametrize("query", ["bread recipe", "from my Python script, start another program and grab its output"])
def test_keyword_evidence_in_relevance_stays_as_calibrated_whatever_the_ranking_boost(query):
    """The match bar was fitted with keywords weighing 0.3 in relevance: tuning the ranking's boost for
    a kind of query must not move which hits read as matches."""
    for settings in (FusionSettings(), FusionSettings(lexical_boost=0.9, sentence_boost=0.0)):
        assert keyword_evidence_for(query, settings) == settings.match_keyword_weight == 0.3
    assert keyword_evidence_for("SO_REUSEADDR", FusionSettings()) == FusionSettings().identifier_boost
