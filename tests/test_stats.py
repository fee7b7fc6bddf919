"""Bootstrap intervals, binomial intervals, Spearman, and head labels / rankings."""
from __future__ import annotations

import math

import numpy as np
import pytest

from reportgen.analysis.labels import (
    LABELS,
    THRESHOLDS,
    THRESHOLD_SOURCES,
    HeadLabel,
    head_labels,
    rank_heads,
    strongest_label,
)
from reportgen.analysis.patterns import PATTERNS
from reportgen.analysis.stats import (
    bootstrap_mean_ci,
    bootstrap_ratio_ci,
    normal_interval,
    rankdata,
    spearman,
    wilson_interval,
    z_value,
)

# ---------------------------------------------------------------- bootstrap


def test_bootstrap_deterministic_under_seed():
    rng = np.random.default_rng(5)
    num = rng.random((40, 3, 4))
    count = rng.integers(1, 10, size=40).astype(float)
    a = bootstrap_ratio_ci(num, count, n_boot=300, seed=7)
    b = bootstrap_ratio_ci(num, count, n_boot=300, seed=7)
    c = bootstrap_ratio_ci(num, count, n_boot=300, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    assert a[0].shape == (3, 4)


def test_bootstrap_contains_point_estimate():
    rng = np.random.default_rng(1)
    count = rng.integers(5, 30, size=60).astype(float)
    num = count[:, None] * rng.random((60, 5))
    lo, hi = bootstrap_ratio_ci(num, count, n_boot=500, seed=0)
    point = num.sum(0) / count.sum()
    assert np.all(lo <= point) and np.all(point <= hi)
    assert np.all(hi - lo > 0)


def test_bootstrap_two_examples_by_hand():
    # resamples are {1,1}, {1,2}, {2,2} with probabilities 1/4, 1/2, 1/4; with 1000 resamples
    # the 2.5th / 97.5th percentiles fall deep inside the {1,1} and {2,2} blocks.
    lo, hi = bootstrap_ratio_ci(np.array([1.0, 3.0]), np.array([1.0, 1.0]), n_boot=1000)
    assert (float(lo), float(hi)) == (1.0, 3.0)
    # token weighting: ratios 1/1 = 1 and 6/3 = 2 (pooled 7/4 in between)
    lo, hi = bootstrap_ratio_ci(np.array([1.0, 6.0]), np.array([1.0, 3.0]), n_boot=1000)
    assert (float(lo), float(hi)) == (1.0, 2.0)


def test_bootstrap_identical_examples_zero_width():
    num = np.tile(np.array([[0.5, 2.0], [1.5, 0.0]]), (25, 1, 1))  # [25, 2, 2]
    count = np.full(25, 4.0)
    lo, hi = bootstrap_ratio_ci(num, count, n_boot=200, seed=3)
    np.testing.assert_allclose(lo, [[0.125, 0.5], [0.375, 0.0]])
    np.testing.assert_allclose(hi, lo)


def test_bootstrap_count_prefix_broadcast_matches_full_count():
    rng = np.random.default_rng(2)
    num = rng.random((30, 3, 2, 2))
    count = rng.integers(1, 5, size=(30, 3)).astype(float)
    full = np.broadcast_to(count[:, :, None, None], num.shape)
    a = bootstrap_ratio_ci(num, count, n_boot=100, seed=4)
    b = bootstrap_ratio_ci(num, full, n_boot=100, seed=4)
    np.testing.assert_allclose(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1])
    # the result for one column does not depend on the other columns
    c = bootstrap_ratio_ci(num[:, 1, 0, 1], count[:, 1], n_boot=100, seed=4)
    assert float(c[0]) == pytest.approx(a[0][1, 0, 1])
    with pytest.raises(ValueError):
        bootstrap_ratio_ci(num, count[:, :2], n_boot=10)


def test_bootstrap_chunking_and_zero_counts():
    # many examples -> several chunks; still deterministic and sensible
    e = 5000
    num = np.ones(e)
    count = np.ones(e)
    lo, hi = bootstrap_ratio_ci(num, count, n_boot=300, seed=0)
    assert float(lo) == float(hi) == 1.0
    # resamples drawing only the empty example are undefined and skipped
    lo, hi = bootstrap_ratio_ci(np.array([1.0, 0.0]), np.array([1.0, 0.0]), n_boot=200)
    assert float(lo) == float(hi) == 1.0
    lo, hi = bootstrap_ratio_ci(np.zeros(3), np.zeros(3), n_boot=20)
    assert np.isnan(lo) and np.isnan(hi)


def test_bootstrap_mean_items_and_groups():
    lo, hi = bootstrap_mean_ci(np.ones((10, 2, 2)), n_boot=100)
    np.testing.assert_array_equal(lo, np.ones((2, 2)))
    np.testing.assert_array_equal(hi, np.ones((2, 2)))
    # two clusters of identical items: cluster means 1 and 0
    values = np.array([1.0, 1.0, 0.0, 0.0])
    lo, hi = bootstrap_mean_ci(values, groups=np.array(["a", "a", "b", "b"]), n_boot=1000)
    assert (float(lo), float(hi)) == (0.0, 1.0)
    # nan values are left out
    lo, hi = bootstrap_mean_ci(np.array([1.0, np.nan, 1.0]), n_boot=100)
    assert float(lo) == float(hi) == 1.0
    # 0/1 correctness: interval around the accuracy
    correct = np.array([1] * 65 + [0] * 35, dtype=float)
    lo, hi = bootstrap_mean_ci(correct, n_boot=2000, seed=1)
    assert 0.53 < float(lo) < 0.60 and 0.70 < float(hi) < 0.77
    with pytest.raises(ValueError):
        bootstrap_mean_ci(values, groups=np.array([0, 1]))


# ---------------------------------------------------------------- binomial intervals


def test_z_value():
    assert z_value(0.95) == pytest.approx(1.959963984540054)
    with pytest.raises(ValueError):
        z_value(1.0)


def test_wilson_interval():
    # k = 0: lower 0, upper z^2 / (n + z^2) = 3.841458820694124 / 13.841458820694124
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0
    assert hi == pytest.approx(0.2775327998628892)
    lo2, hi2 = wilson_interval(10, 10)
    assert lo2 == pytest.approx(1 - 0.2775327998628892) and hi2 == 1.0
    lo, hi = wilson_interval(65, 100)
    assert lo == pytest.approx(0.5525, abs=5e-4) and hi == pytest.approx(0.7364, abs=5e-4)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_normal_interval_matches_the_rule_of_thumb():
    lo, hi = normal_interval(65, 100)  # about +/- 9 points
    assert (hi - lo) / 2 == pytest.approx(0.0935, abs=5e-4)
    lo, hi = normal_interval(0, 5)
    assert (lo, hi) == (0.0, 0.0)


# ---------------------------------------------------------------- Spearman


def test_rankdata_average_ties():
    assert rankdata(np.array([5, 6, 7, 8, 7])).tolist() == [1, 2, 3.5, 5, 3.5]
    assert rankdata(np.array([2, 2, 2])).tolist() == [2, 2, 2]


def test_spearman_by_hand():
    # x ranks 1..5, y ranks (1, 2, 3.5, 5, 3.5); centred: (-2,-1,0,1,2) and (-2,-1,.5,2,.5)
    # sum dx*dy = 8, sum dx^2 = 10, sum dy^2 = 9.5 -> 8 / sqrt(95)
    assert spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(8 / math.sqrt(95))
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    # nan pairs dropped: (1,1), (2,3), (3,2) -> 1 - 6*2 / (3*8) = 0.5
    assert spearman([1, 2, np.nan, 3, 4], [1, 3, 5, 2, np.nan]) == pytest.approx(0.5)
    assert math.isnan(spearman([1, 2], [1, 2]))
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))
    assert math.isnan(spearman([1, 2, np.nan], [1, 2, 3]))
    with pytest.raises(ValueError):
        spearman([1, 2, 3], [1, 2])


# ---------------------------------------------------------------- labels and ranking


def patterns_for_labels() -> dict[str, np.ndarray]:
    """L=1, H=4 scores placed on and around the thresholds."""
    p = {name: np.zeros((1, 4)) for name in PATTERNS}
    # head 0: on the boundary (not labelled) except next 0.51
    p["prev"][0, 0] = 0.5
    p["next"][0, 0] = 0.51
    p["entropy"][0, 0] = 3.8
    p["cls"][0, 0] = 0.6
    # head 1: previous 0.7 (ratio 1.4), broad 0.81 (1.0125), sep 0.61 (1.0167); raw entropy is no label's score
    p["prev"][0, 1] = 0.7
    p["entropy_norm"][0, 1] = 0.81
    p["entropy"][0, 2] = 9.0
    p["sep"][0, 1] = 0.61
    # head 2: punct 0.9 (1.5), cls 0.65 (1.083)
    p["punct"][0, 2] = 0.9
    p["cls"][0, 2] = 0.65
    # head 3: nothing; nan never labelled
    for name in PATTERNS:
        p[name][0, 3] = np.nan
    return p


def test_thresholds():
    assert THRESHOLDS == {
        "previous": 0.5,
        "next": 0.5,
        "broad": 0.8,
        "cls": 0.6,
        "sep": 0.6,
        "punct": 0.6,
    }
    assert set(LABELS) == set(THRESHOLDS) == set(THRESHOLD_SOURCES)
    assert all(text.startswith("our choice") for text in THRESHOLD_SOURCES.values())
    assert not any("3.8" in text for text in THRESHOLD_SOURCES.values())


def test_head_labels_boundaries_and_order():
    labels = head_labels(patterns_for_labels())
    assert labels == [
        HeadLabel(0, 0, "next", 0.51),
        HeadLabel(0, 1, "broad", 0.81),
        HeadLabel(0, 1, "previous", 0.7),
        HeadLabel(0, 1, "sep", 0.61),
        HeadLabel(0, 2, "cls", 0.65),
        HeadLabel(0, 2, "punct", 0.9),
    ]
    assert all(isinstance(x.layer, int) and isinstance(x.score, float) for x in labels)


def test_strongest_label():
    assert strongest_label(patterns_for_labels()) == [["next", "previous", "punct", None]]


def test_rank_heads():
    score = np.array([[0.3, np.nan], [0.5, 0.3]])
    assert rank_heads(score) == [(1, 0, 0.5), (0, 0, 0.3), (1, 1, 0.3), (0, 1, pytest.approx(np.nan, nan_ok=True))]
    ranked = rank_heads(score, descending=False)
    assert [(l, h) for l, h, _ in ranked] == [(0, 0), (1, 1), (1, 0), (0, 1)]
    assert rank_heads(score, top=2) == [(1, 0, 0.5), (0, 0, 0.3)]
    assert rank_heads(score, top=0) == []
