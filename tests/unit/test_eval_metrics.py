"""The eval metrics against hand-worked values, and the BEIR reader."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from seekwise.core.errors import SeekwiseError
from seekwise.evaluation import load_beir, mrr_at, ndcg_at, recall_at, score_run

MINI = Path(__file__).parents[1] / "data" / "beir-mini"


def test_ndcg_uses_linear_grades_and_the_ideal_order():
    rels = {"a": 2, "b": 1, "z": 0}
    assert ndcg_at(["a", "b"], rels, 10) == pytest.approx(1.0)
    dcg = 1 / math.log2(2) + 2 / math.log2(3)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at(["b", "a"], rels, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at(["x", "y"], rels, 10) == 0.0
    assert ndcg_at(["x", "a"], rels, 1) == 0.0


def test_recall_and_mrr():
    rels = {"a": 1, "b": 2, "c": 1, "n": 0}
    assert recall_at(["a", "x", "b"], rels, 10) == pytest.approx(2 / 3)
    assert recall_at(["a", "x", "b"], rels, 1) == pytest.approx(1 / 3)
    assert mrr_at(["n", "x", "b"], rels, 10) == pytest.approx(1 / 3)
    assert mrr_at(["x"], rels, 10) == 0.0


def test_score_run_averages_over_judged_queries_including_empty_runs():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    out = score_run({"q1": ["a"]}, qrels)
    assert out["mrr@10"] == 0.5 and out["recall@100"] == 0.5


def test_load_beir_keeps_only_judged_queries_and_explains_a_missing_split():
    data = load_beir(MINI, "test")
    assert len(data.corpus) == 12 and set(data.queries) == {f"q{i}" for i in range(1, 7)}
    assert data.qrels["q1"] == {"d1": 2, "d2": 1}
    with pytest.raises(SeekwiseError, match="splits here: test"):
        load_beir(MINI, "dev")
