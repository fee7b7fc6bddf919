"""Model diffs: Jensen-Shannon distance on hand-made rows, per-head sums and score changes."""
from __future__ import annotations

import math

import numpy as np

from reportgen.analysis.model_diff import head_js_sums, js_distance, js_divergence, score_changes


def test_identical_rows_have_distance_zero():
    p = np.array([0.2, 0.3, 0.5])
    assert js_distance(p, p) == 0.0


def test_disjoint_rows_have_distance_one_in_base_two():
    assert math.isclose(float(js_distance(np.array([1.0, 0.0]), np.array([0.0, 1.0]))), 1.0)
    assert math.isclose(float(js_distance(np.array([0.5, 0.5, 0, 0]), np.array([0, 0, 0.25, 0.75]))), 1.0)


def test_hand_computed_value():
    # P = [1, 0], Q = [0.5, 0.5], M = [0.75, 0.25]
    # KL(P||M) = log2(1/0.75) = 0.4150375; KL(Q||M) = 0.5 log2(0.5/0.75) + 0.5 log2(0.5/0.25) = 0.2075187
    # JSD = 0.5 (0.4150375 + 0.2075187) = 0.3112781; distance = sqrt(JSD) = 0.5579230
    p, q = np.array([1.0, 0.0]), np.array([0.5, 0.5])
    assert math.isclose(float(js_divergence(p, q)), 0.3112781, abs_tol=1e-7)
    assert math.isclose(float(js_distance(p, q)), 0.5579230, abs_tol=1e-7)
    assert math.isclose(float(js_distance(q, p)), float(js_distance(p, q)))  # symmetric


def test_rows_are_renormalised_and_batched():
    # dequantised rows that do not sum to 1 are renormalised first: [2, 0] is [1, 0]
    rows_p = np.array([[2.0, 0.0], [0.2, 0.8]])
    rows_q = np.array([[0.5, 0.5], [0.2, 0.8]])
    d = js_distance(rows_p, rows_q)
    assert d.shape == (2,)
    assert math.isclose(float(d[0]), 0.5579230, abs_tol=1e-7) and d[1] == 0.0


def test_triangle_inequality_on_random_rows():
    rng = np.random.default_rng(1)
    for _ in range(200):
        a, b, c = rng.dirichlet(np.ones(5), size=3)
        assert js_distance(a, c) <= js_distance(a, b) + js_distance(b, c) + 1e-12


def test_head_sums_skip_special_rows():
    # L=1, H=2, n=3; token 0 is special. Head 0: rows equal; head 1: row 1 differs as [1,0,0] vs [.5,.5,0]
    base = np.zeros((1, 2, 3, 3))
    other = np.zeros((1, 2, 3, 3))
    base[..., :, 0] = 1.0
    other[..., :, 0] = 1.0
    other[0, 0, 0] = [0.0, 0.0, 1.0]  # a special row: ignored
    other[0, 1, 1] = [0.5, 0.5, 0.0]
    sums, count = head_js_sums(base, other, np.array([True, False, False]))
    assert count == 2
    assert sums.shape == (1, 2)
    assert sums[0, 0] == 0.0
    assert math.isclose(sums[0, 1], 0.5579230, abs_tol=1e-7)


def test_score_changes_are_other_minus_base():
    base = {"patterns": {"prev": [[0.1, 0.5]], "entropy": [[1.0, None]]},
            "coreference": {"accuracy": [[0.5, 0.5]], "mass": [[0.1, 0.2]]}}
    other = {"patterns": {"prev": [[0.3, 0.4]], "entropy": [[0.5, 2.0]]},
             "coreference": {"accuracy": [[0.75, 0.25]], "mass": [[0.1, 0.1]]}}
    out = score_changes(base, other)
    assert np.allclose(out["prev"], [[0.2, -0.1]])
    assert out["entropy"][0, 0] == -0.5 and math.isnan(out["entropy"][0, 1])
    assert np.allclose(out["coref_accuracy"], [[0.25, -0.25]])
    assert np.allclose(out["coref_mass"], [[0.0, -0.1]])


def test_shared_score_changes_use_only_the_examples_both_ran():
    from types import SimpleNamespace

    from reportgen.analysis.model_diff import shared_score_changes
    from reportgen.analysis.patterns import PATTERNS, PatternSums

    def stats(slug, prev, rows):
        num = np.zeros((len(PATTERNS), 1, 1))
        num[PATTERNS.index("prev")] = prev * rows
        count = np.full(len(PATTERNS), float(rows))
        return SimpleNamespace(example=SimpleNamespace(slug=slug, coref=()), sums=PatternSums(num, count), coref=[])

    # base ran a, b, c; other ran b, c only. On b and c both give the same scores: no change, whatever a says.
    base = [stats("a", 0.9, 10), stats("b", 0.2, 5), stats("c", 0.4, 5)]
    other = [stats("b", 0.2, 5), stats("c", 0.4, 5)]
    changes, shared = shared_score_changes(base, other)
    assert shared == 2 and changes["prev"][0, 0] == 0.0
    # pooled over each model's own examples (the old way) the change would have been 0.3 - 0.6 = -0.3
    assert score_changes({"patterns": {"prev": [[0.6]]}}, {"patterns": {"prev": [[0.3]]}})["prev"][0, 0] == -0.3
    assert shared_score_changes(base, [stats("z", 0.1, 3)]) == ({}, 0)


def test_head_sums_leave_out_the_forced_first_row_of_causal_models():
    base = np.tril(np.full((1, 1, 3, 3), 0.5))
    base[0, 0, 0] = [1.0, 0.0, 0.0]
    other = base.copy()
    other[0, 0, 2] = [0.0, 0.0, 1.0]
    special = np.zeros(3, dtype=bool)
    _, rows = head_js_sums(base, other, special, causal=True)
    assert rows == 2  # rows 1 and 2; row 0 can only attend to itself
    assert head_js_sums(base, other, special)[1] == 3
