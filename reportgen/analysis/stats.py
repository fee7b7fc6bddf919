"""Uncertainty and association statistics (pure numpy, no scipy).

- :func:`bootstrap_ratio_ci`: percentile bootstrap of a pooled ratio ``sum(num) / sum(count)``,
  resampling examples (clusters) with replacement. This is the interval for token-weighted
  pattern scores, where the examples (not the tokens) are the independent units.
- :func:`bootstrap_mean_ci`: the same for the mean of per-item values (e.g. 0/1 correctness
  per coreference pair), optionally resampling groups of items (e.g. examples).
- :func:`wilson_interval` / :func:`normal_interval`: binomial proportion intervals.
- :func:`spearman`: Spearman rank correlation with average ranks for ties.
"""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

# Bootstrap multiplicities are drawn in chunks of this many cells (resamples x examples).
# The chunk size depends only on the number of examples, so results for a given seed do
# not depend on the shape of the statistic (one head at a time or all heads at once).
_CHUNK_CELLS = 1 << 20


def z_value(level: float = 0.95) -> float:
    """Two-sided standard normal quantile: ``z`` with ``P(|Z| <= z) = level``."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}")
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def _multiplicities(rng: np.random.Generator, b: int, e: int) -> np.ndarray:
    """``[b, e]`` float64: how often each of ``e`` examples is drawn in each of ``b`` resamples."""
    draws = rng.integers(0, e, size=(b, e))
    flat = (draws + (np.arange(b) * e)[:, None]).ravel()
    return np.bincount(flat, minlength=b * e).reshape(b, e).astype(np.float64)


def bootstrap_ratio_ci(
    num: np.ndarray,
    count: np.ndarray,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of the pooled ratio ``sum_e num[e] / sum_e count[e]``.

    Args:
        num: ``[E, ...]`` per-example numerators.
        count: per-example counts whose shape is a prefix of ``num.shape``: ``[E]``,
            ``[E, P]`` for ``num [E, P, L, H]``, or the full ``[E, ...]``. Trailing axes are
            broadcast.
        n_boot: number of resamples ``B``.
        seed: seed of ``numpy.random.Generator(PCG64(seed))``; the result is deterministic
            for a fixed seed, ``E`` and ``n_boot``.
        level: coverage of the two-sided interval (0.95 -> 2.5th and 97.5th percentiles).

    Each resample draws ``E`` examples with replacement (as a multiplicity matrix
    ``[B, E]``) and computes ``(M @ num) / (M @ count)``. Resamples whose pooled count is 0
    are undefined and skipped; where every resample is undefined the bounds are nan.
    Percentiles use numpy's default linear interpolation.

    Returns:
        ``(low, high)``, each of shape ``num.shape[1:]`` (float64).
    """
    num = np.asarray(num, dtype=np.float64)
    count = np.asarray(count, dtype=np.float64)
    if num.ndim < 1 or num.shape[0] == 0:
        raise ValueError("num must have shape [E, ...] with E >= 1")
    if count.shape != num.shape[: count.ndim] or count.ndim == 0:
        raise ValueError(
            f"count shape {count.shape} must be a prefix of num shape {num.shape}"
        )
    if n_boot < 1:
        raise ValueError("n_boot must be >= 1")
    alpha = 1.0 - level
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}")

    e = num.shape[0]
    out_shape = num.shape[1:]
    num2 = num.reshape(e, -1)  # [E, K]
    cnt2 = count.reshape(e, -1)  # [E, Kc], Kc divides K via trailing broadcast
    rep = num2.shape[1] // max(cnt2.shape[1], 1)  # trailing cells per count entry

    rng = np.random.Generator(np.random.PCG64(seed))
    chunk = max(1, _CHUNK_CELLS // e)
    ratios = np.empty((n_boot, num2.shape[1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        for start in range(0, n_boot, chunk):
            b = min(chunk, n_boot - start)
            m = _multiplicities(rng, b, e)
            n_sum = m @ num2  # [b, K]
            c_sum = m @ cnt2  # [b, Kc]
            if rep != 1:
                c_sum = np.repeat(c_sum, rep, axis=1)
            ratios[start : start + b] = np.where(c_sum > 0, n_sum / c_sum, np.nan)
    lo, hi = _nan_quantiles(ratios, alpha)
    return lo.reshape(out_shape), hi.reshape(out_shape)


def _nan_quantiles(samples: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower/upper ``alpha/2`` quantiles over axis 0, ignoring nan (all-nan -> nan)."""
    qs = [alpha / 2.0, 1.0 - alpha / 2.0]
    if not np.isnan(samples).any():
        lo, hi = np.quantile(samples, qs, axis=0)
        return lo, hi
    out = np.full((2, samples.shape[1]), np.nan)
    ok = ~np.isnan(samples).all(axis=0)
    if ok.any():
        with np.errstate(invalid="ignore"):
            out[:, ok] = np.nanquantile(samples[:, ok], qs, axis=0)
    return out[0], out[1]


def bootstrap_mean_ci(
    values: np.ndarray,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    groups: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of the mean of per-item values over axis 0.

    Args:
        values: ``[N, ...]`` per-item values, e.g. ``correct[pairs, L, H]`` as 0/1 (gives an
            accuracy interval) or per-pair antecedent weights (a mass interval). nan marks a
            missing value and is left out of both the sum and the count.
        groups: optional ``[N]`` cluster labels (e.g. the example each pair comes from).
            When given, whole groups are resampled and the statistic is the pooled mean of
            all items in the resampled groups; otherwise items are resampled.
        n_boot, seed, level: as in :func:`bootstrap_ratio_ci`.

    Returns:
        ``(low, high)``, each of shape ``values.shape[1:]``.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim < 1 or values.shape[0] == 0:
        raise ValueError("values must have shape [N, ...] with N >= 1")
    present = ~np.isnan(values)
    num = np.where(present, values, 0.0)
    count = present.astype(np.float64)
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (values.shape[0],):
            raise ValueError(f"groups must have shape [{values.shape[0]}], got {groups.shape}")
        _, inverse = np.unique(groups, return_inverse=True)
        inverse = inverse.reshape(-1)
        g = int(inverse.max()) + 1
        gnum = np.zeros((g,) + values.shape[1:])
        gcnt = np.zeros((g,) + values.shape[1:])
        np.add.at(gnum, inverse, num)
        np.add.at(gcnt, inverse, count)
        num, count = gnum, gcnt
    return bootstrap_ratio_ci(num, count, n_boot=n_boot, seed=seed, level=level)


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``k / n``; ``(nan, nan)`` if ``n == 0``."""
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return (math.nan, math.nan)
    z = z_value(level)
    p = k / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / (1.0 + z2n)
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return (lo, hi)


def normal_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Normal-approximation (Wald) interval ``p +/- z sqrt(p(1-p)/n)``, clipped to [0, 1].

    This is the "+/- 9 points at 65% with 100 pairs" rule of thumb (1.96 sqrt(0.65 * 0.35 / 100) = 0.093); prefer
    :func:`wilson_interval` for reporting (it behaves near 0 and 1).
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    half = z_value(level) * math.sqrt(p * (1.0 - p) / n)
    return (max(0.0, p - half), min(1.0, p + half))


def rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of a 1-D array, ties get the average of the ranks they span."""
    x = np.asarray(x)
    sorter = np.argsort(x, kind="mergesort")
    xs = x[sorter]
    first = np.concatenate(([True], xs[1:] != xs[:-1]))
    dense = np.cumsum(first)  # 1-based group id in sorted order
    bounds = np.concatenate((np.flatnonzero(first), [x.size]))  # group starts + end
    avg = 0.5 * (bounds[:-1] + bounds[1:] + 1)  # mean of 1-based ranks start+1..end
    ranks = np.empty(x.size)
    ranks[sorter] = avg[dense - 1]
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation of paired values (average ranks for ties).

    Pairs where either value is nan are dropped. Returns nan when fewer than 3 pairs remain
    or when either ranking has zero variance.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same size, got {x.size} and {y.size}")
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if x.size < 3:
        return math.nan
    rx = rankdata(x) - (x.size + 1) / 2.0
    ry = rankdata(y) - (y.size + 1) / 2.0
    sxx, syy = float(rx @ rx), float(ry @ ry)
    if sxx == 0.0 or syy == 0.0:
        return math.nan
    return float(rx @ ry) / math.sqrt(sxx * syy)
