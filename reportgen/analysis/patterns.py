"""Token-level attention pattern scores: their names, per-example numerators and counts, pooling and intervals.

The scores are defined, with their units, where they are computed: ``analysis.batched.layer_pattern_sums``
(one table of numerators and from-positions; ``docs/architecture.md`` lists where each score lives).
Every score is a mean over an example's from-positions; its numerator (a sum over those positions) and
count are kept apart so that examples pool token-weighted: sum numerators and counts over examples, then
divide (:func:`finalize`). Attention scores are fractions of one row (unitless); entropy is in nats;
``entropy_norm`` is unitless, in [0, 1].
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from reportgen.analysis.stats import bootstrap_ratio_ci

PATTERNS: tuple[str, ...] = (
    "prev",
    "next",
    "self",
    "cls",
    "sep",
    "punct",
    "entropy",
    "prev_argmax",
    "next_argmax",
    "entropy_norm",
)
_INDEX = {name: k for k, name in enumerate(PATTERNS)}


def pattern_index(name: str) -> int:
    """Position of pattern ``name`` along the first axis of :attr:`PatternSums.num`."""
    try:
        return _INDEX[name]
    except KeyError:
        raise KeyError(f"unknown pattern {name!r}; expected one of {', '.join(PATTERNS)}") from None


@dataclass
class PatternSums:
    """Pooled numerators and counts of the pattern scores of one or more examples.

    Attributes:
        num: float64 ``[P, L, H]``; ``num[p, l, h]`` is the sum over the from-positions of
            pattern ``PATTERNS[p]`` of the per-position value (attention fraction, a 0/1
            argmax indicator, or entropy in nats).
        count: float64 ``[P]``; the number of from-positions behind each pattern (the same
            for every layer and head).
    """

    num: np.ndarray
    count: np.ndarray

    def __post_init__(self) -> None:
        self.num = np.asarray(self.num, dtype=np.float64)
        self.count = np.asarray(self.count, dtype=np.float64)
        if self.num.ndim != 3 or self.num.shape[0] != len(PATTERNS):
            raise ValueError(f"num must have shape [{len(PATTERNS)}, L, H], got {self.num.shape}")
        if self.count.shape != (len(PATTERNS),):
            raise ValueError(f"count must have shape [{len(PATTERNS)}], got {self.count.shape}")

    @property
    def layers(self) -> int:
        return int(self.num.shape[1])

    @property
    def heads(self) -> int:
        return int(self.num.shape[2])

    @staticmethod
    def zeros(layers: int, heads: int) -> "PatternSums":
        """Empty sums (the neutral element of ``+``) for a model with ``layers`` x ``heads``."""
        return PatternSums(np.zeros((len(PATTERNS), layers, heads)), np.zeros(len(PATTERNS)))

    def __add__(self, other: "PatternSums") -> "PatternSums":
        if not isinstance(other, PatternSums):
            return NotImplemented
        if self.num.shape != other.num.shape:
            raise ValueError(f"cannot pool sums of shapes {self.num.shape} and {other.num.shape}")
        return PatternSums(self.num + other.num, self.count + other.count)

    def __radd__(self, other: object) -> "PatternSums":
        # lets the builtin sum() start from 0: sum(list_of_sums)
        if isinstance(other, (int, float)) and other == 0:
            return PatternSums(self.num.copy(), self.count.copy())
        return NotImplemented


def reachable_rows(special: np.ndarray, punct: np.ndarray, causal: bool = False) -> dict[str, int]:
    """How many from-positions of one example can put any attention on the columns of ``sep`` and
    ``punct`` (a causal row ``i`` sees only ``j <= i``): ``{"sep": int, "punct": int}``.

    Divided by the pattern's count (pooled over examples) this is the largest score the pattern could
    reach on these examples: a label whose threshold lies above it cannot fire.
    """
    special = np.asarray(special, dtype=bool)
    punct = np.asarray(punct, dtype=bool) & ~special
    n = special.size
    position = np.arange(n)
    choices = position + 1 if causal else np.full(n, n)
    rows = np.flatnonzero(~special & (choices > 1))
    out = {}
    for name, columns in (("sep", np.flatnonzero(special & (position >= 1))), ("punct", np.flatnonzero(punct))):
        if columns.size == 0 or rows.size == 0:
            out[name] = 0
        elif causal:
            out[name] = int((rows >= columns.min()).sum())
        else:
            out[name] = int(rows.size)
    return out


def finalize(s: PatternSums) -> dict[str, np.ndarray]:
    """Pattern scores: ``{pattern: [L, H] = num / count}``, nan where the count is 0."""
    out: dict[str, np.ndarray] = {}
    for k, name in enumerate(PATTERNS):
        c = s.count[k]
        out[name] = s.num[k] / c if c > 0 else np.full(s.num.shape[1:], np.nan)
    return out


def stack_sums(per_example: Sequence[PatternSums]) -> tuple[np.ndarray, np.ndarray]:
    """Stack per-example sums for the bootstrap: ``num [E, P, L, H]``, ``count [E, P]``."""
    if len(per_example) == 0:
        raise ValueError("no examples to stack")
    return (
        np.stack([s.num for s in per_example]),
        np.stack([s.count for s in per_example]),
    )


def pool(per_example: Iterable[PatternSums], layers: int, heads: int) -> PatternSums:
    """Token-weighted pooling: the sum of all per-example sums (zeros if there are none)."""
    total = PatternSums.zeros(layers, heads)
    for s in per_example:
        total = total + s
    return total


def pattern_ci(
    per_example: Sequence[PatternSums],
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Bootstrap percentile intervals of every pattern score, resampling examples.

    Returns ``{pattern: (low [L, H], high [L, H])}``; see
    :func:`reportgen.analysis.stats.bootstrap_ratio_ci`.
    """

    num, count = stack_sums(per_example)
    lo, hi = bootstrap_ratio_ci(num, count, n_boot=n_boot, seed=seed, level=level)
    return {name: (lo[k], hi[k]) for k, name in enumerate(PATTERNS)}
