"""Cross-model and cross-language comparison on hand-made grids with known answers."""
from __future__ import annotations

import math

import numpy as np
import pytest

from reportgen.analysis.compare import (
    grid_spearman,
    head_values,
    language_correlations,
    pattern_correlations,
    per_example_ratio,
    pooled_by_language,
    same_shape_pairs,
    side_by_side,
    spread,
    top_heads,
    translation_sets,
)


def test_grid_spearman_identical_reversed_and_monotone():
    a = np.arange(12, dtype=float).reshape(3, 4)
    assert grid_spearman(a, a) == pytest.approx(1.0)
    assert grid_spearman(a, -a) == pytest.approx(-1.0)
    assert grid_spearman(a, a ** 3 + 5) == pytest.approx(1.0)  # ranks only


def test_grid_spearman_hand_computed_with_tie_and_nan():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[1.0, 3.0], [2.0, 4.0]])
    # ranks a: 1 2 3 4, b: 1 3 2 4 -> d^2 = 0+1+1+0 = 2 -> rho = 1 - 6*2/(4*15) = 0.8
    assert grid_spearman(a, b) == pytest.approx(0.8)
    # nan pairs are dropped: remaining (1,1), (3,2), (4,4) -> perfectly monotone
    b2 = b.copy()
    b2[0, 1] = np.nan
    assert grid_spearman(a, b2) == pytest.approx(1.0)
    # ties get average ranks: a = [1,1,2,3] ranks 1.5 1.5 3 4; b = [1,2,3,4]
    t = grid_spearman(np.array([[1.0, 1.0], [2.0, 3.0]]), np.array([[1.0, 2.0], [3.0, 4.0]]))
    rx = np.array([1.5, 1.5, 3, 4]) - 2.5
    ry = np.array([1, 2, 3, 4]) - 2.5
    assert t == pytest.approx(rx @ ry / math.sqrt((rx @ rx) * (ry @ ry)))


def test_grid_spearman_constant_or_shape_mismatch():
    assert math.isnan(grid_spearman(np.ones((2, 2)), np.arange(4.0).reshape(2, 2)))
    with pytest.raises(ValueError):
        grid_spearman(np.zeros((2, 3)), np.zeros((3, 2)))


def test_pattern_correlations_and_same_shape_pairs():
    a = {"prev": np.arange(6.0).reshape(2, 3), "next": np.arange(6.0).reshape(2, 3)}
    b = {"prev": np.arange(6.0).reshape(2, 3)[::-1, ::-1], "next": np.arange(6.0).reshape(2, 3), "x": np.zeros((2, 3))}
    rho = pattern_correlations(a, b)
    assert list(rho) == ["prev", "next"]
    assert rho["prev"] == pytest.approx(-1.0) and rho["next"] == pytest.approx(1.0)
    shapes = {"bert": (12, 12), "mini": (6, 12), "german": (12, 12), "turk": (12, 12)}
    assert same_shape_pairs(shapes) == [("bert", "german"), ("bert", "turk"), ("german", "turk")]


def test_top_heads_and_side_by_side():
    a = np.array([[0.1, 0.9], [0.5, np.nan]])
    b = np.array([[0.3, 0.2], [0.1, 0.8]])
    assert top_heads(a, 2) == [(0, 1, 0.9), (1, 0, 0.5)]
    rows = side_by_side(a, b, 3)
    assert rows[0] == ((0, 1, 0.9), (1, 1, 0.8))
    assert rows[2][0] == (0, 0, 0.1) and rows[2][1] == (0, 1, 0.2)


def test_translation_sets_keep_multilingual_groups_only():
    groups = ["cat", "cat", "cat", None, "dog", "dog", "solo"]
    langs = ["en", "tr", "de", "en", "en", "en", "en"]
    sets = translation_sets(groups, langs)
    assert sets == {"cat": {"en": [0], "tr": [1], "de": [2]}}
    sets = translation_sets(["g", "g", "g"], ["en", "de", "en"])
    assert sets == {"g": {"en": [0, 2], "de": [1]}}
    with pytest.raises(ValueError):
        translation_sets(["g"], [])


def test_pooled_by_language_is_token_weighted_over_translations():
    # E=4 examples, P=2 patterns, L=1, H=2. Examples 0,1 en/de of group "a"; 2 de of group "b" with 3 en;
    # Example 3 (en) and 2 (de) form group "b".
    num = np.zeros((4, 2, 1, 2))
    count = np.zeros((4, 2))
    num[0, 0, 0] = [1.0, 2.0]; count[0] = [2, 2]
    num[1, 0, 0] = [3.0, 0.0]; count[1] = [3, 0]
    num[2, 0, 0] = [0.0, 1.0]; count[2] = [1, 0]
    num[3, 0, 0] = [2.0, 2.0]; count[3] = [2, 4]
    sets = {"a": {"en": [0], "de": [1]}, "b": {"de": [2], "en": [3]}}
    pooled = pooled_by_language(num, count, sets)
    assert set(pooled) == {"en", "de"}
    # en: pattern 0 = (1+2)/(2+2), (2+2)/4; de: (3+0)/(3+1), (0+1)/4
    np.testing.assert_allclose(pooled["en"][0, 0], [0.75, 1.0])
    np.testing.assert_allclose(pooled["de"][0, 0], [0.75, 0.25])
    assert np.isnan(pooled["de"][1]).all()  # pattern 1 has no from-positions in German
    np.testing.assert_allclose(pooled["en"][1, 0], [0.0, 0.0])


def test_language_correlations_pairs_and_values():
    g = np.arange(6.0).reshape(1, 2, 3)
    scores = {"en": g, "tr": g * 2, "de": -g}
    out = language_correlations(scores, ["prev"])
    assert [(r["a"], r["b"]) for r in out] == [("en", "tr"), ("en", "de"), ("tr", "de")]
    assert out[0]["rho"]["prev"] == pytest.approx(1.0)
    assert out[1]["rho"]["prev"] == pytest.approx(-1.0)


def test_per_example_ratio_head_values_and_spread():
    num = np.array([[[[1.0, 2.0]]], [[[3.0, 0.0]]]])  # [E=2, P=1, L=1, H=2]
    count = np.array([[2.0], [0.0]])
    r = per_example_ratio(num, count)
    np.testing.assert_allclose(r[0, 0, 0], [0.5, 1.0])
    assert np.isnan(r[1]).all()
    values = np.array([[[0.1, 0.9]], [[0.4, 0.2]], [[0.3, np.nan]]])  # [E=3, L=1, H=2]
    hv = head_values(values, [2, 0], [(0, 1), (0, 0)])
    np.testing.assert_allclose(hv, [[np.nan, 0.3], [0.9, 0.1]])
    np.testing.assert_allclose(spread(values[:, 0, :]), [0.3, 0.7])
    assert np.isnan(spread(np.array([[1.0], [np.nan]]))[0])


def test_common_indices_and_pooled():
    from reportgen.analysis.compare import common_indices, pooled

    assert common_indices(["a", "b", "c", "d"], ["d", "x", "b"]) == ([1, 3], [2, 0])
    num = np.array([[[[1.0]], [[0.0]]], [[[3.0]], [[0.0]]]])  # [E=2, P=2, L=1, H=1]
    count = np.array([[1.0, 0.0], [3.0, 0.0]])
    out = pooled(num, count)
    assert out[0, 0, 0] == 1.0 and np.isnan(out[1, 0, 0])
