"""The attention probe (reportgen.analysis.probe) on synthetic attention with known answers.

Numbers are recomputed here with plain loops that share nothing with the module under test.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from reportgen.analysis import probe as pr

L, H = 4, 4


def _planted(count: int = 300, seed: int = 1):
    """Two candidates per pair; the antecedent is the candidate with the larger weighted mix of three
    heads (two forward, one backward), so each head alone only partly agrees with the answer."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 0.3, size=(count, 2, 2, L, H))
    mix = 1.0 * x[:, :, 0, 1, 2] + 0.8 * x[:, :, 0, 3, 0] + 0.9 * x[:, :, 1, 0, 3]
    y = np.argmax(mix, axis=1)
    groups = np.arange(count) // 2
    return x, y, groups


def _noise(count: int = 300, seed: int = 2):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 0.3, size=(count, 2, 2, L, H))
    y = rng.integers(0, 2, count)
    return x, y, np.arange(count) // 2


def test_planted_mix_of_three_heads_beats_the_best_single_head():
    x, y, groups = _planted()
    result = pr.run_probe(x, y, groups, baselines={"random": np.full(len(y), 0.5)}, n_boot=500)
    assert result.probe.accuracy > 0.9
    assert result.single.score.accuracy < 0.8
    assert result.probe.ci[0] > result.single.score.ci[1]
    assert result.control.ci[0] <= 0.5 <= result.control.ci[1]
    # the three planted heads carry the largest averaged weights, all positive
    both = np.stack([result.weights, result.weights_back])
    top = sorted(np.argsort(-np.abs(both).ravel())[:3].tolist())
    assert top == sorted(np.ravel_multi_index(([0, 0, 1], [1, 3, 0], [2, 0, 3]), both.shape).tolist())
    assert (both[[0, 0, 1], [1, 3, 0], [2, 0, 3]] > 0).all()
    assert "beats both" in pr.verdict(result)


def test_best_single_head_is_chosen_on_training_folds_only():
    x, y, groups = _planted(count=120, seed=5)
    result = pr.run_probe(x, y, groups, n_boot=200)
    right = 0
    for f in range(result.folds):
        best, best_hits = None, -1
        for d in range(2):
            for layer in range(L):
                for head in range(H):
                    hits = sum(1 for p in range(len(y)) if result.fold[p] != f
                               and x[p, y[p], d, layer, head] > x[p, 1 - y[p], d, layer, head])
                    if hits > best_hits:
                        best, best_hits = (d, layer, head), hits
        assert result.single.per_fold[f] == best
        d, layer, head = best
        right += sum(1 for p in range(len(y)) if result.fold[p] == f
                     and x[p, y[p], d, layer, head] > x[p, 1 - y[p], d, layer, head])
    assert math.isclose(result.single.score.accuracy, right / len(y))


def test_pure_noise_sits_at_chance():
    x, y, groups = _noise()
    result = pr.run_probe(x, y, groups, baselines={"random": np.full(len(y), 0.5)}, n_boot=500)
    assert result.probe.ci[0] <= 0.5 <= result.probe.ci[1]
    assert result.control.ci[0] <= 0.5 <= result.control.ci[1]
    assert result.chance == 0.5
    assert "claims no skill" in pr.verdict(result)


def test_twins_and_groups_never_split():
    # Winograd-style twins: same pronoun and candidates, the antecedent flips; plus a translated pair
    # linked by group: and two pairs of one example.
    keys = []
    for schema in range(40):
        for twin in range(2):
            keys.append([("signature", "it", (f"the thing {schema}", f"the box {schema}")),
                         ("example", f"wsc-{schema}-{twin}")])
    keys.append([("group", "cat"), ("example", "en-cat")])
    keys.append([("group", "cat"), ("example", "de-cat")])
    keys.append([("signature", "he", ("Tom", "Bob")), ("example", "two")])
    keys.append([("signature", "she", ("Ann", "Eve")), ("example", "two")])
    groups = pr.pair_groups(keys)
    assert groups.max() + 1 == 42
    for schema in range(40):
        assert groups[2 * schema] == groups[2 * schema + 1]
    assert groups[80] == groups[81] and groups[82] == groups[83] and groups[80] != groups[82]
    for k in (2, 5, 7):
        fold = pr.grouped_folds(groups, k, seed=3)
        for g in np.unique(groups):
            assert np.unique(fold[groups == g]).size == 1
        sizes = np.bincount(fold)
        assert sizes.size == k and sizes.max() - sizes.min() <= 2
    # a full run keeps twins together too
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(84, 2, 2, L, H))
    result = pr.run_probe(x, rng.integers(0, 2, 84), groups, n_boot=100)
    for schema in range(40):
        assert result.fold[2 * schema] == result.fold[2 * schema + 1]


def test_results_reproduce_bit_for_bit():
    x, y, groups = _planted(count=200, seed=7)
    extra = np.random.default_rng(3).uniform(0.0, 0.3, size=(200, 1, 2, L, H))
    x = np.concatenate([x, extra], axis=1)  # a third candidate ...
    x[::3, 2] = np.nan  # ... absent in every third pair
    a = pr.run_probe(x, y, groups, languages=["en"] * 150 + ["de"] * 50, n_boot=300)
    b = pr.run_probe(x.copy(), y.copy(), groups.copy(), languages=["en"] * 150 + ["de"] * 50, n_boot=300)
    assert a.weights.tobytes() == b.weights.tobytes()
    assert a.weights_back.tobytes() == b.weights_back.tobytes()
    assert a.fold.tobytes() == b.fold.tobytes() and a.correct.tobytes() == b.correct.tobytes()
    assert (a.probe, a.control, a.single.score, a.lambdas) == (b.probe, b.control, b.single.score, b.lambdas)
    assert a.by_language.keys() == {"de", "en"}
    assert a.by_language["de"]["pairs"] == 50


def test_conditional_logit_optimum_has_zero_gradient():
    rng = np.random.default_rng(4)
    count, width, dim, lam = 60, 3, 5, 0.1
    x = rng.normal(size=(count, width, dim))
    mask = np.ones((count, width), dtype=bool)
    mask[::4, 2] = False
    x[~mask] = 0.0
    y = rng.integers(0, 2, count)
    w = pr.fit_conditional_logit(x, mask, y, lam)
    grad = [lam * w[d] for d in range(dim)]
    for p in range(count):
        cands = [c for c in range(width) if mask[p, c]]
        scores = [sum(x[p, c, d] * w[d] for d in range(dim)) for c in cands]
        top = max(scores)
        z = sum(math.exp(s - top) for s in scores)
        for c, s in zip(cands, scores):
            prob = math.exp(s - top) / z
            for d in range(dim):
                grad[d] += (prob - (c == y[p])) * x[p, c, d] / count
    assert max(abs(g) for g in grad) < 1e-8


def test_features_pad_absent_candidates_with_nan():
    fw = [np.full((L, H, 2), 0.1), np.full((L, H, 3), 0.2)]
    bw = [np.full((L, H, 2), 0.3), np.full((L, H, 3), 0.4)]
    f = pr.probe_features(fw, bw)
    assert f.shape == (2, 3, 2, L, H)
    assert np.isnan(f[0, 2]).all() and (f[0, :2, 0] == 0.1).all() and (f[1, :, 1] == 0.4).all()
    with pytest.raises(ValueError):
        pr.probe_features(fw, bw[:1])


def test_near_identical_texts_are_linked():
    texts = [s.split() for s in [
        "Look ! There is a minnow swimming right below that duck ! It had better get away",
        "Look ! There is a shark swimming right below that duck ! It had better get away",
        "The trophy does not fit into the suitcase because it is too large .",
        "The trophy does not fit into the suitcase because it is too small .",
        "The trophy does not fit into the suitcase because it is much too small and heavy .",
        "The cat sat on the mat because it was tired .",
    ]]
    keys = pr.near_duplicate_keys(texts)
    assert keys[0] == keys[1] and keys[2] == keys[3] and keys[0] != keys[2]
    assert keys[4] != keys[3] and keys[5] not in (keys[0], keys[2])  # 4 words differ; unrelated
