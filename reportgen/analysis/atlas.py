"""Which example each head-atlas cell links to (pure numpy).

Every cell of the atlas (one head, one score) links to an example page opened at that head. The example
is the one that shows the head's score best: among the examples with viewer pages, the one where the
head's own per-example score is highest (for entropy: broadest; for coreference accuracy: the example
whose pairs the head gets right most often, ties broken by antecedent mass). Remaining ties go to the
example with more tokens, then to the earlier one in the manifest.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reportgen.analysis.compare import per_example_ratio
from reportgen.analysis.patterns import PATTERNS

COREF_MAPS = ("coref_accuracy", "coref_mass")


def best_example(scores: np.ndarray, eligible: np.ndarray, tokens: np.ndarray,
                 secondary: np.ndarray | None = None) -> np.ndarray:
    """int ``[L, H]``: per head, the index of the eligible example with the highest score (-1: none).

    Args:
        scores: ``[E, L, H]`` per-example scores (nan: the example has no such score).
        eligible: bool ``[E]`` (e.g. the example has a viewer page).
        tokens: ``[E]`` token counts (first tie-break: more tokens).
        secondary: optional ``[E, L, H]`` tie-break before tokens (larger wins).
    """
    scores = np.asarray(scores, dtype=np.float64)
    E = scores.shape[0]
    eligible = np.asarray(eligible, dtype=bool)
    tokens = np.asarray(tokens, dtype=np.float64)
    if eligible.shape != (E,) or tokens.shape != (E,):
        raise ValueError("eligible and tokens must have shape [E]")
    ok = eligible[:, None, None] & np.isfinite(scores)
    primary = np.where(ok, scores, -np.inf)
    sec = np.zeros_like(scores) if secondary is None else np.nan_to_num(np.asarray(secondary, dtype=np.float64), nan=-np.inf)
    out = np.full(scores.shape[1:], -1, dtype=np.int64)
    for l in range(scores.shape[1]):
        for h in range(scores.shape[2]):
            candidates = np.flatnonzero(ok[:, l, h])
            if candidates.size:
                # lexsort: last key is primary; -index prefers the earlier example
                key = np.lexsort((-candidates, tokens[candidates], sec[candidates, l, h], primary[candidates, l, h]))
                out[l, h] = int(candidates[key[-1]])
    return out


def per_example_coref(coref: Sequence[Sequence[np.ndarray]], antecedents: Sequence[Sequence[int]],
                      layers: int, heads: int) -> tuple[np.ndarray, np.ndarray]:
    """Per example, the share of its pairs each head gets right and its mean antecedent weight.

    Args:
        coref: per example, per pair, ``W [L, H, C]`` (an empty array for a pair cut off by truncation).
        antecedents: per example, per pair, the antecedent's candidate index.

    Returns:
        ``(accuracy [E, L, H], mass [E, L, H])``, nan for examples without usable pairs. A head is right
        when the antecedent's W is strictly the largest (ties are wrong), as in ``coref.coref_scores``.
    """
    E = len(coref)
    acc = np.full((E, layers, heads), np.nan)
    mass = np.full((E, layers, heads), np.nan)
    for e, (pairs, ants) in enumerate(zip(coref, antecedents)):
        rights, weights = [], []
        for w, a in zip(pairs, ants):
            w = np.asarray(w, dtype=np.float64)
            if w.size == 0:
                continue
            filled = np.where(np.isnan(w), -np.inf, w)
            top = filled.max(axis=2)
            unique = (filled == top[:, :, None]).sum(axis=2) == 1
            rights.append(unique & (filled[:, :, a] == top))
            weights.append(w[:, :, a])
        if rights:
            acc[e] = np.mean(rights, axis=0)
            mass[e] = np.mean(weights, axis=0)
    return acc, mass


def link_examples(stats, shown: set[str], tokens: dict[str, int], layers: int, heads: int) -> dict[str, list[list]]:
    """``{map: [L][H] example slug or None}`` for every pattern and the two coreference maps.

    ``stats``: ``summary.ExampleStats`` of one model (manifest order); ``shown``: slugs with viewer pages;
    ``tokens``: slug -> token count.
    """
    if not stats:
        return {}
    slugs = [s.example.slug for s in stats]
    eligible = np.array([slug in shown for slug in slugs])
    ntok = np.array([tokens.get(slug, 0) for slug in slugs], dtype=np.float64)
    ratio = per_example_ratio(np.stack([s.sums.num for s in stats]), np.stack([s.sums.count for s in stats]))
    out: dict[str, list[list]] = {}

    def slug_grid(best: np.ndarray) -> list[list]:
        return [[slugs[k] if k >= 0 else None for k in row] for row in best.tolist()]

    for p, name in enumerate(PATTERNS):
        out[name] = slug_grid(best_example(ratio[:, p], eligible, ntok))
    acc, mass = per_example_coref([s.coref for s in stats],
                                  [[pair.antecedent_index for pair in s.example.coref] for s in stats], layers, heads)
    if np.isfinite(acc).any():
        out["coref_accuracy"] = slug_grid(best_example(acc, eligible, ntok, secondary=mass))
        out["coref_mass"] = slug_grid(best_example(mass, eligible, ntok))
    return out


def top_examples(scores: np.ndarray, eligible: np.ndarray, k: int) -> np.ndarray:
    """int ``[L, H, k]``: per head, the indices of the ``k`` eligible examples with the highest score,
    best first (-1 fills the places left when fewer examples have a finite score). Ties go to the earlier
    example.

    Args:
        scores: ``[E, L, H]`` per-example scores (nan: no such score in that example).
        eligible: bool ``[E]`` (e.g. the example has a viewer page).
    """
    scores = np.asarray(scores, dtype=np.float64)
    E, L, H = scores.shape
    ok = np.asarray(eligible, dtype=bool)[:, None, None] & np.isfinite(scores)
    out = np.full((L, H, k), -1, dtype=np.int64)
    for l in range(L):
        for h in range(H):
            candidates = np.flatnonzero(ok[:, l, h])
            order = candidates[np.lexsort((candidates, -scores[candidates, l, h]))][:k]
            out[l, h, :order.size] = order
    return out


def rank_grid(score: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """int ``[L, H]``: 1 + the number of heads with a strictly better finite score (0 for a nan score)."""
    score = np.asarray(score, dtype=np.float64)
    finite = score[np.isfinite(score)]
    out = np.zeros(score.shape, dtype=np.int64)
    for index in np.ndindex(score.shape):
        v = score[index]
        if np.isfinite(v):
            out[index] = 1 + int(np.sum(finite > v) if higher_is_better else np.sum(finite < v))
    return out
