"""Heads across the checkpoints of a training run: how each head's scores move from step to step.

Input: the heads files (``summary.summarise_model``) of a run's checkpoints, in step order. Output: per
score, every head's value at every checkpoint (with the heads file's 95% bootstrap interval over examples
where it has one) and the heads that moved most. Pure: no I/O.

"Moved" is descriptive: the range of a head's score over the checkpoints (largest minus smallest value),
in the score's own unit. It is not a test of change; the intervals at each checkpoint say how much the
score varies over the examples it was measured on.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# (key, where in the heads file, title, unit). entropy_norm is used when the heads file has it (entropy
# divided by ln k, k the positions a row may attend to: comparable across lengths), else entropy in nats.
SCORES = (
    ("prev", "patterns", "Previous token", "mean attention to token i-1"),
    ("next", "patterns", "Next token", "mean attention to token i+1"),
    ("cls", "patterns", "[CLS]", "mean attention to the first token"),
    ("sep", "patterns", "[SEP]", "mean attention to the special tokens after the first"),
    ("entropy_norm", "patterns", "Normalised entropy", "row entropy / ln(positions), 0 = one token, 1 = uniform"),
    ("entropy", "patterns", "Entropy", "mean row entropy in nats"),
    ("accuracy", "coreference", "Coreference accuracy", "share of pairs where the antecedent gets the most attention"),
)
TOP = 8  # heads listed as moving most, per score


@dataclass
class ScoreTrack:
    """One score over the checkpoints: ``values[c, l, h]``, interval bounds alike (NaN where unknown)."""

    key: str
    title: str
    what: str
    values: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def moved(self, top: int = TOP) -> list[dict]:
        """The ``top`` heads with the largest range over checkpoints (ties: lower layer, then head, first)."""
        finite = np.isfinite(self.values)
        spread = np.where(finite.any(axis=0),
                          np.nanmax(np.where(finite, self.values, -np.inf), axis=0)
                          - np.nanmin(np.where(finite, self.values, np.inf), axis=0), np.nan)
        heads = spread.shape[1]
        order = sorted((i for i in range(spread.size) if np.isfinite(spread.flat[i])),
                       key=lambda i: (-spread.flat[i], i))[:top]
        out = []
        for i in order:
            layer, head = divmod(i, heads)
            track = self.values[:, layer, head]
            out.append({"layer": layer, "head": head, "range": float(spread[layer, head]),
                        "first": float(track[0]), "last": float(track[-1]), "change": float(track[-1] - track[0]),
                        "first_ci": _pair(self.low[0, layer, head], self.high[0, layer, head]),
                        "last_ci": _pair(self.low[-1, layer, head], self.high[-1, layer, head])})
        return out


def _pair(low: float, high: float) -> list[float] | None:
    return [float(low), float(high)] if np.isfinite(low) and np.isfinite(high) else None


def _grid(grid, shape) -> np.ndarray:
    if grid is None:
        return np.full(shape, np.nan)
    return np.array([[np.nan if v is None else float(v) for v in row] for row in grid], dtype=np.float64)


def score_tracks(heads_files: list[dict]) -> list[ScoreTrack]:
    """Every score of ``SCORES`` that all checkpoints' heads files have, as a ``ScoreTrack``.

    ``heads_files``: one heads file per checkpoint, in step order, all of the same layer x head shape.
    ``entropy`` is left out when ``entropy_norm`` is there; coreference accuracy needs annotated pairs.
    """
    if not heads_files:
        return []
    shape = (heads_files[0]["model"]["layers"], heads_files[0]["model"]["heads"])
    have_norm = all("entropy_norm" in h.get("patterns", {}) for h in heads_files)
    tracks = []
    for key, where, title, what in SCORES:
        if key == "entropy" and have_norm:
            continue
        sections = [h.get(where) or {} for h in heads_files]
        if where == "patterns":
            grids = [s.get(key) for s in sections]
            bounds = [h.get("intervals", {}).get(key) or {} for h in heads_files]
        else:  # coreference accuracy and its interval (coreference.ranking holds accuracy_ci per head)
            grids = [s.get(key) for s in sections]
            bounds = [_coref_bounds(s, shape) for s in sections]
        if any(g is None for g in grids):
            continue
        values = np.stack([_grid(g, shape) for g in grids])
        low = np.stack([_grid(b.get("low"), shape) for b in bounds])
        high = np.stack([_grid(b.get("high"), shape) for b in bounds])
        tracks.append(ScoreTrack(key, title, what, values, low, high))
    return tracks


def _coref_bounds(section: dict, shape) -> dict:
    low, high = np.full(shape, np.nan), np.full(shape, np.nan)
    for row in section.get("ranking", []):
        interval = row.get("accuracy_ci")
        if interval:
            low[row["layer"], row["head"]], high[row["layer"], row["head"]] = interval
    return {"low": low.tolist(), "high": high.tolist()}
