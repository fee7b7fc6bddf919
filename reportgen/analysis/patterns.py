"""Token-level attention pattern scores (definitions below; docs/architecture.md lists where each score lives).

For one example, ``A[l, h, i, j]`` is the attention from token ``i`` to token ``j``
(``n`` tokens, no padding). ``F`` is the set of positions that are not special tokens
that the row may choose from (the *from-set*): a *forced* row, one whose token can attend only to itself
(row 0 of a causal model, the only row of a one-token example), says nothing about the head and is left
out of every score. Every score is a mean over from-positions ``i``; we keep the
numerator (a sum over ``i``) and the count (number of ``i``) separately so that
examples pool token-weighted: sum numerators and counts over examples, then divide.

========  ==========================================================  =====================
pattern   numerator (sum over the from-positions ``i``)               from-positions
========  ==========================================================  =====================
prev      ``A[i, i-1]``                                               ``i in F, i >= 1``
next      ``A[i, i+1]``                                               ``i in F, i <= n-2``
self      ``A[i, i]``                                                 ``F``
cls       ``A[i, 0]`` (the first token: [CLS] / <s>)                  ``F``
sep       ``sum_j A[i, j]`` over special ``j >= 1``                    ``F``
punct     ``sum_j A[i, j]`` over non-special punctuation ``j``         ``F``
entropy   ``-sum_j A[i, j] ln A[i, j]`` in nats (``0 ln 0 = 0``)       ``F``
prev_argmax  ``1`` if ``argmax_j A[i, j] == i-1`` else ``0``           same as prev
next_argmax  ``1`` if ``argmax_j A[i, j] == i+1`` else ``0``           same as next
entropy_norm ``H(row i) / ln k_i``, ``k_i`` = positions row ``i`` may    ``F``
          attend to (``n``; causal: ``i + 1``); unitless, in [0, 1]
========  ==========================================================  =====================

``entropy_norm`` is length-aware breadth: 1 for a row spread evenly over every position it may attend
to, 0 for a row on one token, whatever the example's length (raw entropy is at most ``ln k``, so a fixed
entropy bar in nats cannot be reached by short rows).

Argmax ties resolve to the first index (``numpy.argmax``). Attention scores are
fractions of one row (unitless, each row sums to 1); entropy is in nats.
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
_PREV, _NEXT, _SELF, _CLS, _SEP, _PUNCT, _ENT, _PREV_AM, _NEXT_AM, _ENT_N = range(len(PATTERNS))


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


def pattern_sums(
    att: np.ndarray,
    special: np.ndarray,
    punct: np.ndarray,
    causal: bool = False,
) -> PatternSums:
    """Pattern numerators and counts of one example.

    Args:
        att: attention ``[L, H, n, n]`` (float32 or float64; rows sum to 1). Sums are
            accumulated in float64.
        special: bool ``[n]``, True for tokens the tokenizer marks special.
        punct: bool ``[n]``, True for non-special tokens whose text without subword
            markers is all Unicode punctuation (computed by the caller). Entries that are
            also special are ignored.
        causal: True for a causal (decoder) model. Such a model cannot attend to ``i+1``,
            so ``next`` and ``next_argmax`` are not defined: their numerators and counts
            are 0 (``finalize`` gives nan). Its row 0 is forced (it can only attend to itself) and
            is no from-position. All other patterns are computed as usual.

    Returns:
        :class:`PatternSums` with ``num [P, L, H]`` and ``count [P]``.

    Vectorised over layers' heads; loops only over layers to bound memory (one layer's
    from-rows in float64 at a time).
    """
    att = np.asarray(att)
    if att.ndim != 4 or att.shape[2] != att.shape[3]:
        raise ValueError(f"attention must have shape [L, H, n, n], got {att.shape}")
    L, H, n, _ = att.shape
    special = np.asarray(special, dtype=bool)
    punct = np.asarray(punct, dtype=bool)
    if special.shape != (n,) or punct.shape != (n,):
        raise ValueError(
            f"special and punct must have shape [{n}], got {special.shape} and {punct.shape}"
        )

    position = np.arange(n)
    choices = position + 1 if causal else np.full(n, n)  # k_i: positions row i may attend to
    F = np.flatnonzero(~special & (choices > 1))  # from-positions: not special, not forced
    f = F.size
    prev_local = np.flatnonzero(F >= 1)  # indices into F
    next_local = np.array([], dtype=np.intp) if causal else np.flatnonzero(F <= n - 2)
    prev_rows, next_rows = F[prev_local], F[next_local]

    count = np.zeros(len(PATTERNS))
    count[[_SELF, _CLS, _SEP, _PUNCT, _ENT, _ENT_N]] = f
    count[[_PREV, _PREV_AM]] = prev_local.size
    count[[_NEXT, _NEXT_AM]] = next_local.size
    num = np.zeros((len(PATTERNS), L, H))
    if f == 0:
        return PatternSums(num, count)

    sep_cols = special.copy()
    sep_cols[0] = False  # special positions j >= 1
    punct_cols = punct & ~special
    col_masks = np.stack([sep_cols, punct_cols], axis=1).astype(np.float64)  # [n, 2]
    local = np.arange(f)
    inv_log_k = 1.0 / np.log(choices[F].astype(np.float64))  # k >= 2 on every from-position

    for l in range(L):
        rows = np.asarray(att[l][:, F, :], dtype=np.float64)  # [H, f, n]
        num[_PREV, l] = rows[:, prev_local, prev_rows - 1].sum(axis=-1)
        num[_NEXT, l] = rows[:, next_local, next_rows + 1].sum(axis=-1)
        num[_SELF, l] = rows[:, local, F].sum(axis=-1)
        num[_CLS, l] = rows[:, :, 0].sum(axis=-1)
        masked = (rows @ col_masks).sum(axis=1)  # [H, 2]
        num[_SEP, l] = masked[:, 0]
        num[_PUNCT, l] = masked[:, 1]
        positive = rows > 0
        logs = np.log(np.where(positive, rows, 1.0))  # log(1) = 0 where A == 0
        row_entropy = -(rows * logs).sum(axis=2)  # [H, f] nats
        num[_ENT, l] = row_entropy.sum(axis=1)
        num[_ENT_N, l] = (row_entropy * inv_log_k).sum(axis=1)
        argmax = rows.argmax(axis=-1)  # [H, f], first index on ties
        num[_PREV_AM, l] = (argmax[:, prev_local] == prev_rows - 1).sum(axis=-1)
        num[_NEXT_AM, l] = (argmax[:, next_local] == next_rows + 1).sum(axis=-1)
    return PatternSums(num, count)


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
