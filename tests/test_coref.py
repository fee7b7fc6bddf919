"""Coreference weights, head scores and baselines on hand-made cases (span weights: the tests-only reference
``tests/reference.py``, which the build's per-word weights must match under the ``sum`` rule)."""
from __future__ import annotations

import numpy as np
import pytest

from reference import span_weights
from reportgen.analysis.coref import (
    Baselines,
    coref_baselines,
    coref_scores,
    first_mentioned,
    nearest_preceding,
)


def attention() -> np.ndarray:
    """L=1, H=2, n=6; the pronoun is pieces 4 and 5; only those rows matter."""
    att = np.full((1, 2, 6, 6), 1 / 6)
    att[0, 0, 4] = [0.1, 0.2, 0.3, 0.1, 0.2, 0.1]
    att[0, 0, 5] = [0.0, 0.1, 0.1, 0.4, 0.2, 0.2]
    # head 1: dyadic values, so the tie below is exact in binary floating point
    att[0, 1, 4] = [0.25, 0.125, 0.125, 0.25, 0.125, 0.125]
    att[0, 1, 5] = [0.125, 0.125, 0.125, 0.25, 0.25, 0.125]
    return att


def test_span_weights_multi_piece_pronoun_and_span():
    w = span_weights(attention(), np.array([4, 5]), [np.array([1, 2]), np.array([3])])
    assert w.shape == (1, 2, 2)
    # head 0: S0 = {1,2}: row 4 -> 0.5, row 5 -> 0.2, mean 0.35; S1 = {3}: mean(0.1, 0.4) = 0.25
    assert w[0, 0, 0] == pytest.approx(0.35)
    assert w[0, 0, 1] == pytest.approx(0.25)
    # head 1: S0: row 4 -> 0.25, row 5 -> 0.25; S1: 0.25 and 0.25 -> tie
    assert w[0, 1, 0] == 0.25
    assert w[0, 1, 1] == 0.25


def test_span_weights_overlap_duplicates_and_float32():
    att = attention().astype(np.float32)
    w = span_weights(att, [4], [[1, 2, 2], [2, 3], [0]])
    assert w.dtype == np.float64
    assert w[0, 0].tolist() == pytest.approx([0.5, 0.4, 0.1])  # repeated piece counts once


def test_span_weights_errors():
    att = attention()
    with pytest.raises(ValueError):
        span_weights(att, np.array([], dtype=int), [np.array([1])])
    with pytest.raises(ValueError):
        span_weights(att, [4], [np.array([], dtype=int)])
    with pytest.raises(ValueError):
        span_weights(att, [4], [[6]])
    with pytest.raises(ValueError):
        span_weights(att, [4], [])


def test_scores_accuracy_mass_and_ties():
    w1 = span_weights(attention(), [4, 5], [[1, 2], [3]])  # head 0: 0.35 vs 0.25; head 1: tie
    w2 = np.array([[[0.1, 0.5, 0.2], [0.3, 0.3, 0.1]]])  # C = 3
    w3 = np.array([[[0.6, 0.1], [0.2, 0.4]]])
    r = coref_scores([w1, w2, w3], [0, 1, 1])
    assert r.pairs == 3
    assert r.choice.tolist() == [[[0, -1]], [[1, -1]], [[0, 1]]]
    assert r.correct.tolist() == [[[True, False]], [[True, False]], [[False, True]]]
    # head 0 right on pairs 1, 2; head 1 on pair 3 only (ties are not right)
    np.testing.assert_allclose(r.accuracy, [[2 / 3, 1 / 3]])
    # mass: head 0 (0.35 + 0.5 + 0.1) / 3; head 1 (0.25 + 0.3 + 0.4) / 3
    np.testing.assert_allclose(r.mass, [[0.95 / 3, 0.95 / 3]])
    np.testing.assert_allclose(r.antecedent_weight[:, 0, 1], [0.25, 0.3, 0.4])


def test_tie_between_other_candidates_is_not_right_either():
    w = np.array([[[0.1, 0.4, 0.4]]])
    r = coref_scores([w], [0])
    assert r.choice.tolist() == [[[-1]]]
    assert r.accuracy.tolist() == [[0.0]]


def test_nan_padding_marks_absent_candidates():
    padded = np.array([[[[0.2, 0.3, np.nan]]], [[[0.5, 0.1, 0.2]]]])  # [pairs, L, H, C]
    r = coref_scores(list(padded), [1, 0])
    assert r.choice.tolist() == [[[1]], [[0]]]
    assert r.accuracy.tolist() == [[1.0]]
    with pytest.raises(ValueError):
        coref_scores([padded[0]], [2])  # the antecedent itself may not be absent


def test_scores_empty_and_errors():
    r = coref_scores([], [], shape=(2, 3))
    assert r.pairs == 0 and r.correct.shape == (0, 2, 3)
    assert np.isnan(r.accuracy).all() and r.accuracy.shape == (2, 3)
    with pytest.raises(ValueError):
        coref_scores([], [])
    with pytest.raises(ValueError):
        coref_scores([np.zeros((1, 1, 2))], [2])
    with pytest.raises(ValueError):
        coref_scores([np.zeros((1, 1, 2)), np.zeros((1, 2, 2))], [0, 0])


def test_nearest_and_first_helpers():
    # spans are (first_word, end_word_exclusive)
    cands = [(1, 3), (5, 6), (10, 11)]
    assert nearest_preceding(cands, (8, 9)) == 1  # (10, 11) follows the pronoun
    assert nearest_preceding(cands, (5, 6)) == 0  # ends at 3 <= 5; (5, 6) is the pronoun's place
    assert nearest_preceding(cands, (0, 1)) is None
    assert nearest_preceding([(2, 5), (0, 2)], (5, 6)) == 0  # ending right at the pronoun counts
    assert nearest_preceding([(2, 3), (2, 4)], (6, 7)) == 1  # same start: the longer (closer) one
    assert first_mentioned(cands) == 0
    assert first_mentioned([(4, 5), (2, 4), (2, 3)]) == 2


def test_baselines():
    candidates = [
        [(1, 3), (5, 6), (10, 11)],  # pronoun (8, 9), antecedent 0: nearest 1 wrong, first right
        [(0, 1), (4, 5)],  # pronoun (2, 3), antecedent 0: nearest right, first right
        [(3, 4), (6, 7)],  # pronoun (0, 1), antecedent 1: nothing precedes, first wrong
        [(2, 5), (0, 2)],  # pronoun (5, 6), antecedent 0: nearest right, first wrong
        [(0, 1), (3, 4)],  # pronoun (9, 10), antecedent 1: nearest right, first wrong
    ]
    pronouns = [(8, 9), (2, 3), (0, 1), (5, 6), (9, 10)]
    b = coref_baselines(candidates, pronouns, [0, 0, 1, 0, 1])
    assert b.pairs == 5
    assert b.nearest == pytest.approx(3 / 5)
    assert b.first == pytest.approx(2 / 5)
    assert b.random == pytest.approx((1 / 3 + 4 * (1 / 2)) / 5)  # 7/15
    assert b.no_preceding == 1


def test_baselines_empty_and_errors():
    b = coref_baselines([], [], [])
    assert isinstance(b, Baselines) and b.pairs == 0 and np.isnan(b.nearest)
    with pytest.raises(ValueError):
        coref_baselines([[(0, 1)]], [(2, 3)], [1])
    with pytest.raises(ValueError):
        coref_baselines([[]], [(2, 3)], [0])
    with pytest.raises(ValueError):
        coref_baselines([[(0, 1)]], [], [0])


def test_aggregate_span_rules_and_missing_words():
    from reportgen.analysis.spans import aggregate_span

    words = np.array([[0.2, 0.4, np.nan], [0.3, np.nan, np.nan], [np.nan, np.nan, np.nan]])
    np.testing.assert_allclose(aggregate_span(words, "mean")[:2], [0.3, 0.3])
    np.testing.assert_allclose(aggregate_span(words, "sum")[:2], [0.6, 0.3])
    np.testing.assert_allclose(aggregate_span(words, "max")[:2], [0.4, 0.3])
    assert all(np.isnan(aggregate_span(words, rule)[2]) for rule in ("mean", "sum", "max"))
    with pytest.raises(ValueError):
        aggregate_span(words, "median")


def test_word_weights_sum_rule_equals_span_weights_and_mean_is_length_neutral():
    from reportgen.analysis.coref import pronoun_word_weights
    from reportgen.analysis.spans import aggregate_span

    att = attention()
    # candidate 0: words {1} and {2} (two words); candidate 1: word {3}
    words = pronoun_word_weights(att[:, :, [4, 5], :], [[np.array([1]), np.array([2])], [np.array([3])]])
    assert words.shape == (1, 2, 2, 2) and np.isnan(words[0, 0, 1, 1])
    np.testing.assert_allclose(aggregate_span(words, "sum"), span_weights(att, [4, 5], [[1, 2], [3]]))
    # head 0: word 1 gets mean(0.2, 0.1) = 0.15, word 2 mean(0.3, 0.1) = 0.2; the longer candidate's sum 0.35
    # beats 0.25, its mean 0.175 does not
    np.testing.assert_allclose(aggregate_span(words, "mean")[0, 0], [0.175, 0.25])
    np.testing.assert_allclose(aggregate_span(words, "max")[0, 0], [0.2, 0.25])


def test_baseline_outcomes_average_to_the_baselines():
    from reportgen.analysis.coref import baseline_outcomes

    cands = [[(0, 1), (2, 3)], [(0, 1), (5, 6), (2, 4)], [(6, 7), (8, 9)]]
    pronouns = [(4, 5), (7, 8), (3, 4)]
    ants = [0, 2, 1]
    near, first, chance = baseline_outcomes(cands, pronouns, ants)
    base = coref_baselines(cands, pronouns, ants)
    assert near.tolist() == [False, False, False] and first.tolist() == [True, False, False]
    assert (near.mean(), first.mean(), chance.mean()) == pytest.approx((base.nearest, base.first, base.random))
