"""Head labels from pattern scores (Clark et al. 2019 thresholds) and head rankings.

A head gets a label when its score is strictly above the threshold:

=========  =========  =========
label      pattern    threshold
=========  =========  =========
previous   prev       0.5
next       next       0.5
broad      entropy    3.8 nats
cls        cls        0.6
sep        sep        0.6
punct      punct      0.6
=========  =========  =========

A head may carry several labels. nan scores never earn a label.
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
    "broad": "entropy",
    "cls": "cls",
    "sep": "sep",
    "punct": "punct",
}
#: label -> threshold the score must strictly exceed (entropy in nats, the others fractions)
THRESHOLDS: dict[str, float] = {
    "previous": 0.5,
    "next": 0.5,
    "broad": 3.8,
    "cls": 0.6,
    "sep": 0.6,
    "punct": 0.6,
}


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
