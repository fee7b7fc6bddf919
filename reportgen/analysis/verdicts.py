"""Family-wise corrected verdicts: which heads beat the coreference baselines.

A head *beats the baselines* on a set of pairs when its antecedent accuracy exceeds that of every
baseline on the same pairs (nearest preceding candidate, first-mentioned candidate, random choice), with
the family-wise error rate (the chance of naming at least one head that does not in truth beat them)
at most ``ALPHA`` over all ``L x H`` heads of the model.

Method (exact tests, intersection-union, then Holm):

1. Per head and baseline, an exact one-sided p-value for "the head is right more often than the
   baseline":

   - nearest preceding and first-mentioned (a 0/1 outcome per pair): the exact McNemar test. Of the
     pairs where exactly one of the two is right, ``b`` favour the head and ``c`` the baseline; the
     p-value is ``P(Binomial(b + c, 1/2) >= b)``. Under the null (on every pair the head is no more
     likely than the baseline to be the one that is right) this is exact or conservative.
   - random choice (pair k is right with probability ``1 / C_k``, C_k candidates): the head's number of
     right pairs ``K`` against ``Binomial(N, p)`` with ``p`` the mean of ``1 / C_k``: ``P(Bin(N, p) >= K)``.
     With equal ``C_k`` this is the exact binomial test; otherwise Hoeffding (1956, Theorem 4) bounds the
     tail of the sum of independent Bernoulli(``1/C_k``) by that binomial's for ``K >= N p + 1``; below
     that we report p = 1 (conservative).

2. The head's p-value is the largest of its three (an intersection-union test: "beats the strongest
   baseline" means beating each of them, so no correction across baselines is needed).

3. Holm's step-down adjustment over all heads of the model (Holm 1979): valid whatever the dependence
   between heads. A head beats the baselines when its adjusted p-value is at most ``ALPHA``.

Assumptions: the pairs are independent draws (several pairs of one example are treated as
independent); the baselines are fixed rules that do not look at the heads. The test is conditional on
the pairs scored, and the bootstrap intervals shown beside it stay descriptive.

A family with fewer than ``MIN_PAIRS`` pairs gets no verdict ("too few pairs to judge"): with 7 pairs no
head can reach p <= 0.05 / 72 anyway, and a verdict there would be noise. ``MIN_PAIRS`` is our choice.

Pure numpy, deterministic (no resampling).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

ALPHA = 0.05
MIN_PAIRS = 20
METHOD = ("exact one-sided tests against each baseline on the same pairs (McNemar against nearest preceding "
          "and first-mentioned, binomial against random choice), the largest of the three per head, then Holm's "
          "step-down correction over all heads of the model")


@lru_cache(maxsize=4096)
def _tail(m: int, p: float) -> np.ndarray:
    """``[m + 2]`` float64: ``P(Binomial(m, p) >= k)`` for k = 0..m+1 (computed in log space)."""
    j = np.arange(m + 1)
    lgam = np.array([math.lgamma(i + 1.0) for i in range(m + 1)])
    log_p = j * math.log(p) if p > 0 else np.where(j > 0, -np.inf, 0.0)
    log_q = (m - j) * math.log1p(-p) if p < 1 else np.where(m - j > 0, -np.inf, 0.0)
    pmf = np.exp(lgam[m] - lgam - lgam[::-1] + log_p + log_q)
    tail = np.append(np.cumsum(pmf[::-1])[::-1], 0.0)
    return np.minimum(tail / tail[0], 1.0)  # tail[0] is 1 up to rounding


def binomial_sf(k: np.ndarray, m: np.ndarray, p: float) -> np.ndarray:
    """Exact upper tail ``P(Binomial(m, p) >= k)`` elementwise (``k``, ``m`` integer arrays, ``0 <= p <= 1``)."""
    k = np.asarray(k, dtype=np.int64)
    m = np.broadcast_to(np.asarray(m, dtype=np.int64), k.shape)
    out = np.empty(k.shape)
    for size in np.unique(m):
        where = m == size
        tail = _tail(int(size), float(p))
        out[where] = tail[np.clip(k[where], 0, int(size) + 1)]
    return out


def holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values over all finite entries of ``p`` (nan stays nan; same shape)."""
    p = np.asarray(p, dtype=np.float64)
    flat = p.ravel()
    ok = np.flatnonzero(np.isfinite(flat))
    out = np.full(flat.shape, np.nan)
    m = ok.size
    if m == 0:
        return out.reshape(p.shape)
    order = ok[np.argsort(flat[ok], kind="stable")]
    scaled = (m - np.arange(m)) * flat[order]
    out[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return out.reshape(p.shape)


def head_p_values(correct: np.ndarray, nearest: np.ndarray, first: np.ndarray, chance: np.ndarray) -> np.ndarray:
    """Unadjusted p-value per head that it beats all three baselines (step 1 and 2 of the module docstring).

    Args:
        correct: bool ``[N, L, H]``, the head is right on the pair.
        nearest, first: bool ``[N]``, the baseline is right on the pair.
        chance: float ``[N]``, ``1 / candidates`` of each pair (random choice's chance to be right).

    Returns:
        float64 ``[L, H]``; nan when ``N == 0``.
    """
    correct = np.asarray(correct, dtype=bool)
    n = correct.shape[0]
    if n == 0:
        return np.full(correct.shape[1:], np.nan)
    p_values = []
    for base in (np.asarray(nearest, dtype=bool), np.asarray(first, dtype=bool)):
        b = base[:, None, None]
        wins = (correct & ~b).sum(axis=0)
        losses = (~correct & b).sum(axis=0)
        p_values.append(binomial_sf(wins, wins + losses, 0.5))
    chance = np.asarray(chance, dtype=np.float64)
    p_bar = float(chance.mean())
    right = correct.sum(axis=0)
    p_random = binomial_sf(right, np.full(right.shape, n), p_bar)
    if not np.allclose(chance, chance[0]):
        p_random = np.where(right >= n * p_bar + 1, p_random, 1.0)  # Hoeffding's bound holds from N p + 1 on
    p_values.append(p_random)
    return np.max(np.stack(p_values), axis=0)


@dataclass
class Verdict:
    """The corrected verdict on one family of pairs (a model's pairs, or one language's, one file's).

    ``judged`` False: fewer than ``MIN_PAIRS`` pairs, no verdict (``adjusted`` and ``raw`` are nan).
    ``beats``: ``[(layer, head, adjusted p)]`` of the heads with adjusted p <= ``alpha``, smallest p first
    (ties: layer, head order).
    """

    pairs: int
    judged: bool
    raw: np.ndarray
    adjusted: np.ndarray
    alpha: float = ALPHA
    beats: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"pairs": self.pairs, "judged": self.judged, "alpha": self.alpha, "min_pairs": MIN_PAIRS,
                "method": METHOD,
                "beats_baselines": [[int(l), int(h), float(p)] for l, h, p in self.beats]}


def family_verdict(correct: np.ndarray, nearest: np.ndarray, first: np.ndarray, chance: np.ndarray,
                   alpha: float = ALPHA, min_pairs: int = MIN_PAIRS) -> Verdict:
    """Which heads beat the baselines on these pairs, family-wise error rate <= ``alpha`` over all heads.

    Arguments as :func:`head_p_values`. See the module docstring for the method and its assumptions.
    """
    correct = np.asarray(correct, dtype=bool)
    n = int(correct.shape[0])
    shape = correct.shape[1:]
    if n < min_pairs:
        nan = np.full(shape, np.nan)
        return Verdict(n, False, nan, nan.copy(), alpha)
    raw = head_p_values(correct, nearest, first, chance)
    adjusted = holm(raw)
    hits = [(int(l), int(h), float(adjusted[l, h])) for l, h in np.argwhere(adjusted <= alpha)]
    hits.sort(key=lambda x: (x[2], x[0], x[1]))
    return Verdict(n, True, raw, adjusted, alpha, hits)
