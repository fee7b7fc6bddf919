"""Head labels from pattern scores, with each threshold's true source, and head rankings.

A head gets a label when its score is strictly above the threshold:

=========  ============  =========
label      pattern       threshold
=========  ============  =========
previous   prev          0.5
next       next          0.5
broad      entropy_norm  0.8
cls        cls           0.6
sep        sep           0.6
punct      punct         0.6
=========  ============  =========

Every threshold is our choice; :data:`THRESHOLD_SOURCES` says why, and what Clark et al. (2019, "What does
BERT look at?", section 3) do report (heads that attend heavily to the previous or next token, and [SEP]
receiving over half of the attention in layers 6 to 10 of BERT-base); the paper sets no per-head
cut-off for any of these. A head may carry several labels. nan scores never earn a label.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

LABELS: tuple[str, ...] = ("previous", "next", "broad", "cls", "sep", "punct")
#: label -> pattern score it is based on
LABEL_PATTERN: dict[str, str] = {
    "previous": "prev",
    "next": "next",
    "broad": "entropy_norm",
    "cls": "cls",
    "sep": "sep",
    "punct": "punct",
}
#: label -> threshold the score must strictly exceed (all unitless fractions)
THRESHOLDS: dict[str, float] = {
    "previous": 0.5,
    "next": 0.5,
    "broad": 0.8,
    "cls": 0.6,
    "sep": 0.6,
    "punct": 0.6,
}


CLARK = "Clark et al. (2019), What does BERT look at?, section 3"
#: label -> where its threshold comes from (all ours; what the literature does and does not say)
THRESHOLD_SOURCES: dict[str, str] = {
    "previous": ("our choice: more than half of the row on the previous token, so it gets more than all other "
                 f"tokens together. {CLARK} ('Relative position') describes heads that attend heavily to the "
                 "previous or next token but sets no cut-off."),
    "next": ("our choice: more than half of the row on the next token, as for previous-token heads. "
             f"{CLARK} ('Relative position') describes such heads but sets no cut-off."),
    "broad": ("our choice, on the length-normalised entropy H(row) / ln k (k: positions the row may attend to): "
              "0.8 means no token stands out (a row with half its weight on one token and the rest spread evenly "
              f"over 19 others scores 0.72). {CLARK} ('Attending broadly') describes broad heads by their entropy "
              "but sets no cut-off; a fixed bar in nats cannot be reached by short rows (at most ln k)."),
    "cls": "our choice: more than 0.6 of the row on the first token, a clear majority (the bar of [SEP] heads).",
    "sep": ("our choice: more than 0.6 of the row on separator tokens, a clear majority. "
            f"{CLARK} ('Attending to separator tokens') reports [SEP] receiving over half of the attention in "
            "layers 6 to 10 of BERT-base, an average per layer, not a per-head bar."),
    "punct": "our choice: more than 0.6 of the row on punctuation, a clear majority (the bar of [SEP] heads).",
}


def reachable(label: str, upper: float) -> bool:
    """Whether ``label`` can fire at all when its score can be at most ``upper`` on these examples."""
    return bool(math.isfinite(upper) and upper > THRESHOLDS[label])


@dataclass
class HeadLabel:
    """One label of one head; ``layer`` and ``head`` are 0-based, ``score`` the pattern score."""

    layer: int
    head: int
    label: str
    score: float


def head_labels(patterns: Mapping[str, np.ndarray]) -> list[HeadLabel]:
    """Every (head, label) whose score exceeds its threshold, sorted by (layer, head, label).

    Args:
        patterns: ``{pattern: [L, H]}`` as returned by ``patterns.finalize``.
    """
    out: list[HeadLabel] = []
    for label in LABELS:
        score = np.asarray(patterns[LABEL_PATTERN[label]], dtype=np.float64)
        with np.errstate(invalid="ignore"):
            hits = np.argwhere(score > THRESHOLDS[label])
        out.extend(HeadLabel(int(l), int(h), label, float(score[l, h])) for l, h in hits)
    out.sort(key=lambda x: (x.layer, x.head, x.label))
    return out


def strongest_label(patterns: Mapping[str, np.ndarray]) -> list[list[str | None]]:
    """``[L][H]``: the label whose score exceeds its threshold by the largest relative margin
    (``score / threshold``), or None when no label applies. Ties go to the earlier label in
    :data:`LABELS`."""
    scores = {
        label: np.asarray(patterns[LABEL_PATTERN[label]], dtype=np.float64) for label in LABELS
    }
    L, H = scores[LABELS[0]].shape
    result: list[list[str | None]] = []
    for l in range(L):
        row: list[str | None] = []
        for h in range(H):
            best, best_ratio = None, -math.inf
            for label in LABELS:
                s = float(scores[label][l, h])
                if s > THRESHOLDS[label]:  # False for nan
                    ratio = s / THRESHOLDS[label]
                    if ratio > best_ratio:
                        best, best_ratio = label, ratio
            row.append(best)
        result.append(row)
    return result


def rank_heads(
    score: np.ndarray,
    top: int | None = None,
    descending: bool = True,
) -> list[tuple[int, int, float]]:
    """Heads ordered by ``score [L, H]``: ``[(layer, head, score), ...]``.

    Equal scores keep (layer, head) order; nan scores come last (in (layer, head) order)
    whatever the direction. ``top`` keeps only the first ``top`` entries.
    """
    score = np.asarray(score, dtype=np.float64)
    if score.ndim != 2:
        raise ValueError(f"score must have shape [L, H], got {score.shape}")
    L, H = score.shape
    flat = score.ravel()
    is_nan = np.isnan(flat)
    key = np.where(is_nan, 0.0, -flat if descending else flat)
    order = np.lexsort((np.arange(flat.size), key, is_nan))  # last key is primary
    if top is not None:
        order = order[: max(top, 0)]
    return [(int(k // H), int(k % H), float(flat[k])) for k in order]
