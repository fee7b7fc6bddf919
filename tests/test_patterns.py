"""Pattern scores on small hand-made attention matrices with answers worked out by hand.

Each hand-made case runs through both the build's code (``analysis.batched.layer_pattern_sums`` on a batch of
one) and the tests-only numpy reference (``tests/reference.py``); a plain triple loop checks both on random
attention.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import reference as ref
from reportgen.analysis.batched import BatchMasks, layer_pattern_sums
from reportgen.analysis.patterns import (
    PATTERNS,
    PatternSums,
    finalize,
    pattern_ci,
    pattern_index,
    pool,
    stack_sums,
)


def reference_sums(att, special, punct, causal: bool = False) -> PatternSums:
    return PatternSums(*ref.pattern_sums(att, special, punct, causal=causal))


def production_sums(att, special, punct, causal: bool = False) -> PatternSums:
    """The build's numerators and counts of one example: a batch of one, float32 attention."""
    layers = torch.from_numpy(np.ascontiguousarray(att, dtype=np.float32))  # [L, H, n, n]
    masks = BatchMasks.build([layers.shape[-1]], [np.asarray(special)], [np.asarray(punct)], torch.tensor([causal]))
    num = torch.stack([layer_pattern_sums(layer[None], masks) for layer in layers], dim=2)[0]  # [P, L, H]
    return PatternSums(num.numpy(), masks.counts()[0].numpy())


reference_sums.tol = 1e-12  # float64 throughout
production_sums.tol = 1e-6  # float32 attention and per-row values


@pytest.fixture(params=[reference_sums, production_sums], ids=["reference", "production"])
def pattern_sums(request):
    return request.param


def test_reference_orders_the_patterns_as_the_build():
    assert ref.PATTERNS == PATTERNS


# entropies (nats) of a few rows, worked out by hand: -sum p ln p
H_1234 = 1.2798542258336676  # (0.1, 0.2, 0.3, 0.4)
H_55 = 0.6931471805599453  # (0.5, 0.5) = ln 2
H_28 = 0.5004024235381879  # (0.2, 0.8)
LN5 = 1.6094379124341003  # uniform over 5
H_64 = 0.6730116670092565  # (0.6, 0.4)
H_334 = 1.0888999753452238  # (0.3, 0.3, 0.4)
H_12313 = 1.5047882836811908  # (0.1, 0.2, 0.3, 0.1, 0.3)


def single_sentence() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """[CLS] x , y [SEP]; L=1, H=2. Head 0 hand-made, head 1 uniform."""
    head0 = np.array(
        [
            [1.0, 0.0, 0.0, 0.0, 0.0],  # [CLS] (not a from-position)
            [0.1, 0.2, 0.3, 0.4, 0.0],  # x
            [0.0, 0.5, 0.0, 0.5, 0.0],  # ,   argmax tie between 1 and 3 -> 1 (= i-1)
            [0.2, 0.0, 0.0, 0.0, 0.8],  # y
            [0.0, 0.0, 0.0, 0.0, 1.0],  # [SEP] (not a from-position)
        ]
    )
    head1 = np.full((5, 5), 0.2)
    att = np.stack([head0, head1])[None]  # [1, 2, 5, 5]
    special = np.array([True, False, False, False, True])
    punct = np.array([False, False, True, False, False])
    return att, special, punct


def test_single_sentence_every_pattern(pattern_sums):
    att, special, punct = single_sentence()
    s = pattern_sums(att, special, punct)
    # F = {1, 2, 3}; prev subset {1, 2, 3}; next subset {1, 2, 3}
    assert s.count.tolist() == [3] * 10
    assert s.num.shape == (10, 1, 2)
    p = finalize(s)
    expected_head0 = {
        "prev": (0.1 + 0.5 + 0.0) / 3,
        "next": (0.3 + 0.5 + 0.8) / 3,
        "self": (0.2 + 0.0 + 0.0) / 3,
        "cls": (0.1 + 0.0 + 0.2) / 3,
        "sep": (0.0 + 0.0 + 0.8) / 3,
        "punct": (0.3 + 0.0 + 0.0) / 3,
        "entropy": (H_1234 + H_55 + H_28) / 3,
        "prev_argmax": 1 / 3,  # only row 2 (tie resolved to the first index, 1)
        "next_argmax": 1 / 3,  # only row 3 (argmax 4)
        "entropy_norm": (H_1234 + H_55 + H_28) / 3 / LN5,  # every row may attend to all n = 5
    }
    expected_head1 = {
        "prev": 0.2,
        "next": 0.2,
        "self": 0.2,
        "cls": 0.2,
        "sep": 0.2,
        "punct": 0.2,
        "entropy": LN5,
        "prev_argmax": 1 / 3,  # all tied -> argmax 0, which is i-1 only for i = 1
        "next_argmax": 0.0,
        "entropy_norm": 1.0,  # uniform over every position it may attend to
    }
    for name in PATTERNS:
        assert p[name].shape == (1, 2)
        assert p[name][0, 0] == pytest.approx(expected_head0[name], abs=pattern_sums.tol), name
        assert p[name][0, 1] == pytest.approx(expected_head1[name], abs=pattern_sums.tol), name


def sentence_pair() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """[CLS] a [SEP] b [SEP]; L=2, H=1."""
    layer0 = np.array(
        [
            [1.0, 0.0, 0.0, 0.0, 0.0],
            [0.1, 0.2, 0.3, 0.1, 0.3],  # tie 2 / 4 -> argmax 2 = i+1
            [0.0, 0.0, 1.0, 0.0, 0.0],
            [0.0, 0.1, 0.2, 0.3, 0.4],
            [0.0, 0.0, 0.0, 0.0, 1.0],
        ]
    )
    layer1 = np.array(
        [
            [0.2, 0.2, 0.2, 0.2, 0.2],
            [0.0, 0.0, 1.0, 0.0, 0.0],
            [0.2, 0.2, 0.2, 0.2, 0.2],
            [0.0, 0.0, 0.0, 0.0, 1.0],
            [0.2, 0.2, 0.2, 0.2, 0.2],
        ]
    )
    att = np.stack([layer0, layer1])[:, None]  # [2, 1, 5, 5]
    special = np.array([True, False, True, False, True])
    punct = np.zeros(5, dtype=bool)
    return att, special, punct


def test_sep_sums_over_several_special_positions_and_entropy_with_zeros(pattern_sums):
    att, special, punct = sentence_pair()
    s = pattern_sums(att, special, punct)
    assert s.count.tolist() == [2] * 10  # F = {1, 3}
    p = finalize(s)
    # layer 0
    assert p["sep"][0, 0] == pytest.approx((0.3 + 0.3 + 0.2 + 0.4) / 2)  # j in {2, 4}
    assert p["cls"][0, 0] == pytest.approx((0.1 + 0.0) / 2)
    assert p["prev"][0, 0] == pytest.approx((0.1 + 0.2) / 2)
    assert p["next"][0, 0] == pytest.approx((0.3 + 0.4) / 2)
    assert p["self"][0, 0] == pytest.approx((0.2 + 0.3) / 2)
    assert p["punct"][0, 0] == 0.0
    assert p["entropy"][0, 0] == pytest.approx((H_12313 + H_1234) / 2)
    assert p["prev_argmax"][0, 0] == 0.0
    assert p["next_argmax"][0, 0] == 1.0
    # layer 1: one-hot rows -> entropy exactly 0 (0 ln 0 = 0, 1 ln 1 = 0)
    assert p["sep"][1, 0] == pytest.approx(1.0)
    assert p["next"][1, 0] == pytest.approx(1.0)
    assert p["entropy"][1, 0] == 0.0
    assert p["entropy_norm"][1, 0] == 0.0
    assert p["entropy_norm"][0, 0] == pytest.approx((H_12313 + H_1234) / 2 / LN5)
    assert p["prev"][1, 0] == 0.0
    assert p["cls"][1, 0] == 0.0
    assert p["next_argmax"][1, 0] == 1.0
    assert p["prev_argmax"][1, 0] == 0.0


def no_special() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three ordinary tokens, no special ones (a causal-looking matrix); L=1, H=1."""
    a = np.array(
        [
            [1.0, 0.0, 0.0],
            [0.6, 0.4, 0.0],
            [0.3, 0.3, 0.4],
        ]
    )
    return a[None, None], np.zeros(3, dtype=bool), np.zeros(3, dtype=bool)


def test_from_subsets_at_the_edges(pattern_sums):
    att, special, punct = no_special()
    s = pattern_sums(att, special, punct)
    # prev uses i in {1, 2}, next uses i in {0, 1}, the rest i in {0, 1, 2}
    assert s.count.tolist() == [2, 2, 3, 3, 3, 3, 3, 2, 2, 3]
    num = {name: s.num[pattern_index(name), 0, 0] for name in PATTERNS}
    assert num["prev"] == pytest.approx(0.6 + 0.3)
    assert num["next"] == pytest.approx(0.0 + 0.0)
    assert num["self"] == pytest.approx(1.0 + 0.4 + 0.4)
    assert num["cls"] == pytest.approx(1.0 + 0.6 + 0.3)  # A[i, 0] includes i = 0
    assert num["sep"] == 0.0
    assert num["entropy"] == pytest.approx(0.0 + H_64 + H_334)
    assert num["prev_argmax"] == 1.0  # row 1 -> 0 yes; row 2 -> 2 no
    assert num["next_argmax"] == 0.0
    assert num["entropy_norm"] == pytest.approx((0.0 + H_64 + H_334) / math.log(3))  # bidirectional: k = n = 3
    p = finalize(s)
    assert p["prev"][0, 0] == pytest.approx(0.45)
    assert p["cls"][0, 0] == pytest.approx(1.9 / 3)
    assert p["prev_argmax"][0, 0] == pytest.approx(0.5)


def test_causal_leaves_next_undefined_and_the_forced_first_row_out(pattern_sums):
    att, special, punct = no_special()
    s = pattern_sums(att, special, punct, causal=True)
    # row 0 can only attend to itself: no from-position; F = {1, 2}
    assert s.count.tolist() == [2, 0, 2, 2, 2, 2, 2, 2, 0, 2]
    p = finalize(s)
    assert np.isnan(p["next"]).all() and np.isnan(p["next_argmax"]).all()
    assert p["prev"][0, 0] == pytest.approx(0.45)
    assert p["self"][0, 0] == pytest.approx((0.4 + 0.4) / 2)  # not (1.0 + 0.4 + 0.4) / 3
    assert p["cls"][0, 0] == pytest.approx((0.6 + 0.3) / 2)
    assert p["entropy"][0, 0] == pytest.approx((H_64 + H_334) / 2)
    # causal row i may attend to k = i + 1 positions
    assert p["entropy_norm"][0, 0] == pytest.approx((H_64 / math.log(2) + H_334 / math.log(3)) / 2)


def test_one_token_example_has_no_from_position(pattern_sums):
    for causal in (False, True):
        s = pattern_sums(np.ones((2, 3, 1, 1)), np.array([False]), np.array([False]), causal=causal)
        assert s.count.tolist() == [0] * 10


def test_punct_ignores_special_columns(pattern_sums):
    att, special, _ = single_sentence()
    punct = np.array([True, False, True, False, True])  # specials flagged too: ignored
    p = finalize(pattern_sums(att, special, punct))
    assert p["punct"][0, 0] == pytest.approx(0.1)
    assert p["punct"][0, 1] == pytest.approx(0.2)


def test_float32_input_accumulates_in_float64(pattern_sums):
    att, special, punct = single_sentence()
    s32 = pattern_sums(att.astype(np.float32), special, punct)
    s64 = ref.pattern_sums(att.astype(np.float32).astype(np.float64), special, punct)
    assert s32.num.dtype == np.float64 and s32.count.dtype == np.float64
    np.testing.assert_allclose(s32.num, s64.num, rtol=1e-6, atol=1e-7)


def test_pooling_is_token_weighted(pattern_sums):
    a_att, a_sp, a_pu = no_special()  # 3 from-positions, prev over 2
    b_att, b_sp, b_pu = single_sentence()
    b_att = b_att[:, :1]  # keep head 0 -> [1, 1, 5, 5]
    a = pattern_sums(a_att, a_sp, a_pu)
    b = pattern_sums(b_att, b_sp, b_pu)
    total = a + b
    assert total.count.tolist() == [5, 5, 6, 6, 6, 6, 6, 5, 5, 6]
    p = finalize(total)
    # prev: (0.6 + 0.3 + 0.1 + 0.5 + 0.0) / (2 + 3) = 0.3, not the mean of means 0.325
    assert p["prev"][0, 0] == pytest.approx(0.3)
    # self: (1.0 + 0.4 + 0.4 + 0.2) / 6
    assert p["self"][0, 0] == pytest.approx(2.0 / 6)
    # next_argmax: (0 + 1) / (2 + 3)
    assert p["next_argmax"][0, 0] == pytest.approx(0.2)
    assert sum([a, b]).count.tolist() == total.count.tolist()
    pooled = pool([a, b], 1, 1)
    np.testing.assert_array_equal(pooled.num, total.num)
    assert finalize(pool([], 1, 1))["prev"].shape == (1, 1)


def test_add_rejects_other_shapes():
    with pytest.raises(ValueError):
        PatternSums.zeros(1, 2) + PatternSums.zeros(2, 2)


def test_finalize_nan_on_zero_count(pattern_sums):
    z = finalize(PatternSums.zeros(2, 3))
    assert set(z) == set(PATTERNS)
    for name in PATTERNS:
        assert z[name].shape == (2, 3)
        assert np.isnan(z[name]).all()
    # only special tokens: no from-positions at all
    att = np.full((1, 1, 2, 2), 0.5)
    s = pattern_sums(att, np.array([True, True]), np.array([False, False]))
    assert s.count.tolist() == [0] * 10
    assert all(np.isnan(v).all() for v in finalize(s).values())


def test_pattern_index():
    assert [pattern_index(p) for p in PATTERNS] == list(range(10))
    assert pattern_index("entropy") == 6
    with pytest.raises(KeyError):
        pattern_index("nope")


def test_reference_shape_errors():
    with pytest.raises(ValueError):
        ref.pattern_sums(np.zeros((1, 1, 3, 4)), np.zeros(3, bool), np.zeros(3, bool))
    with pytest.raises(ValueError):
        ref.pattern_sums(np.zeros((1, 1, 3, 3)), np.zeros(2, bool), np.zeros(3, bool))


def naive_sums(att: np.ndarray, special: np.ndarray, punct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Straight triple loop over layers, heads and from-positions, definition by definition (bidirectional:
    every row may attend to all n positions; a one-token example has no from-position)."""
    L, H, n, _ = att.shape
    num = np.zeros((10, L, H))
    count = np.zeros(10)
    for i in range(n):
        if special[i] or n == 1:
            continue
        count[2:7] += 1
        count[9] += 1
        if i >= 1:
            count[0] += 1
            count[7] += 1
        if i <= n - 2:
            count[1] += 1
            count[8] += 1
    for l in range(L):
        for h in range(H):
            for i in range(n):
                if special[i] or n == 1:
                    continue
                row = [float(att[l, h, i, j]) for j in range(n)]
                row_entropy = 0.0
                best = 0
                for j in range(n):
                    if row[j] > row[best]:
                        best = j
                if i >= 1:
                    num[0, l, h] += row[i - 1]
                    num[7, l, h] += best == i - 1
                if i <= n - 2:
                    num[1, l, h] += row[i + 1]
                    num[8, l, h] += best == i + 1
                num[2, l, h] += row[i]
                num[3, l, h] += row[0]
                for j in range(n):
                    if special[j] and j >= 1:
                        num[4, l, h] += row[j]
                    if punct[j] and not special[j]:
                        num[5, l, h] += row[j]
                    if row[j] > 0:
                        row_entropy -= row[j] * math.log(row[j])
                num[6, l, h] += row_entropy
                num[9, l, h] += row_entropy / math.log(n)
    return num, count


@pytest.mark.parametrize("seed", range(8))
def test_matches_naive_loop_on_random_attention(pattern_sums, seed):
    rng = np.random.default_rng(seed)
    L, H = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    n = int(rng.integers(1, 12))
    att = rng.dirichlet(np.full(n, 0.3), size=(L, H, n))  # row-stochastic, some near-zeros
    att[rng.random(att.shape) < 0.1] = 0.0  # exact zeros for 0 ln 0
    att /= np.maximum(att.sum(-1, keepdims=True), 1e-300)
    if seed % 2:
        att = att.astype(np.float32)
    special = rng.random(n) < 0.3
    if seed % 3 == 0 and n > 1:
        special[0] = special[-1] = True
    punct = rng.random(n) < 0.3
    s = pattern_sums(att, special, punct)
    num, count = naive_sums(att, special, punct)
    np.testing.assert_array_equal(s.count, count)
    tol = 1e-9 if pattern_sums is reference_sums else 1e-6
    np.testing.assert_allclose(s.num, num, rtol=tol, atol=tol)


def test_stack_and_ci():
    att, special, punct = single_sentence()
    one = reference_sums(att, special, punct)
    num, count = stack_sums([one, one, one])
    assert num.shape == (3, 10, 1, 2) and count.shape == (3, 10)
    ci = pattern_ci([one, one, one], n_boot=50, seed=1)
    point = finalize(one)
    for name in PATTERNS:
        lo, hi = ci[name]
        np.testing.assert_allclose(lo, point[name])  # identical examples: zero width
        np.testing.assert_allclose(hi, point[name])
