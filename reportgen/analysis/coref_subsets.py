"""Coreference rankings on subsets of the pairs (one language, one included manifest file).

Pure numpy: the same protocol as the whole-model ranking (``summary.coreference_summary``), restricted
to a boolean mask over the pairs, with its own 95% bootstrap intervals (resampling examples) and its
own baselines on exactly those pairs.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reportgen.analysis.coref import CorefResult, coref_baselines
from reportgen.analysis.labels import rank_heads
from reportgen.analysis.stats import bootstrap_mean_ci
from reportgen.analysis.verdicts import family_verdict

TOP = 10


def subset_ranking(
    result: CorefResult,
    mask: np.ndarray,
    groups: np.ndarray,
    candidates: Sequence[Sequence[tuple[int, int]]],
    pronouns: Sequence[tuple[int, int]],
    antecedent_index: Sequence[int],
    outcomes: tuple[np.ndarray, np.ndarray, np.ndarray],
    top: int = TOP,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict:
    """Ranking of the heads on the pairs where ``mask`` is True.

    Args:
        result: ``coref_scores`` over all pairs.
        mask: bool ``[pairs]``, the subset (at least one True).
        groups: ``[pairs]`` example index of each pair (the bootstrap resamples examples).
        candidates, pronouns, antecedent_index: per pair, as for ``coref_baselines``.
        outcomes: per pair, ``coref.baseline_outcomes`` (nearest, first, chance) over all pairs.
        top: how many heads to list.

    The subset is its own family for the corrected verdict (``verdicts.family_verdict``): "judged" is
    False under ``verdicts.MIN_PAIRS`` pairs.

    Returns:
        ``{"pairs", "examples", "baselines": {nearest, first, random, no_preceding},
        "top": [{layer, head, accuracy, accuracy_ci, mass, mass_ci}] best first}``; heads are ordered
        by accuracy, then mass (as the whole-model ranking).
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (result.pairs,) or not mask.any():
        raise ValueError("mask must be bool [pairs] with at least one True")
    idx = np.flatnonzero(mask)
    correct = result.correct[idx].astype(np.float64)
    weight = result.antecedent_weight[idx]
    sub_groups = np.asarray(groups)[idx]
    accuracy, mass = correct.mean(axis=0), weight.mean(axis=0)
    acc_lo, acc_hi = bootstrap_mean_ci(correct, n_boot=n_boot, seed=seed, groups=sub_groups)
    mass_lo, mass_hi = bootstrap_mean_ci(weight, n_boot=n_boot, seed=seed, groups=sub_groups)
    base = coref_baselines([candidates[k] for k in idx], [pronouns[k] for k in idx],
                           [antecedent_index[k] for k in idx])
    order = rank_heads(accuracy + 1e-9 * np.nan_to_num(mass), top=top)
    verdict = family_verdict(result.correct[idx], *(np.asarray(o)[idx] for o in outcomes))
    return {
        "pairs": int(idx.size),
        "examples": int(np.unique(sub_groups).size),
        "baselines": {"nearest": base.nearest, "first": base.first, "random": base.random,
                      "no_preceding": base.no_preceding},
        "judged": verdict.judged,
        "beats_baselines": verdict.as_dict()["beats_baselines"],
        "top": [{"layer": l, "head": h, "accuracy": float(accuracy[l, h]),
                 "accuracy_ci": [float(acc_lo[l, h]), float(acc_hi[l, h])],
                 "mass": float(mass[l, h]), "mass_ci": [float(mass_lo[l, h]), float(mass_hi[l, h])],
                 "p_adjusted": float(verdict.adjusted[l, h]) if np.isfinite(verdict.adjusted[l, h]) else None,
                 "beats": bool(verdict.adjusted[l, h] <= verdict.alpha)}
                for l, h, _ in order],
    }


def subsets(keys: Sequence[str], result: CorefResult, groups, candidates, pronouns, antecedent_index, outcomes,
            top: int = TOP, n_boot: int = 1000, seed: int = 0) -> dict[str, dict]:
    """``{key: subset_ranking}`` for every distinct key (e.g. each pair's language), keys sorted."""
    keys = np.asarray(list(keys), dtype=object)
    return {key: subset_ranking(result, keys == key, groups, candidates, pronouns, antecedent_index, outcomes,
                                top=top, n_boot=n_boot, seed=seed)
            for key in sorted(set(keys.tolist()))}
