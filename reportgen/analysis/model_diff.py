"""Model diffs: two models of the same layer x head shape compared head by head.

- Pattern scores: the change ``other - base`` of every pooled score, both models pooled over exactly
  the examples both ran (``shared_score_changes``; coreference accuracy and mass over those examples'
  pairs), so the change shows the models' difference and not that of their example sets.
- Attention rows: the Jensen-Shannon distance between the two models' attention rows on the same
  example, JSD(P, Q) = 1/2 KL(P || M) + 1/2 KL(Q || M) with M = (P + Q) / 2 and logarithms in base 2, so
  the divergence lies in [0, 1]; the distance is its square root (a metric, also in [0, 1]: 0 for equal
  rows, 1 for rows with disjoint support). Per head, the mean over the from-positions that are not
  special tokens (the from-set of the pattern scores), pooled token-weighted over every example both
  models ran with the same tokens.

Pure numpy; the pipeline feeds it the float16 copy of each example's attention that the records of
models in a diff carry (see ``reportgen.render.beyond``).
"""
from __future__ import annotations

import numpy as np

from reportgen.analysis.coref import coref_scores
from reportgen.analysis.patterns import PATTERNS


def js_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Base-2 Jensen-Shannon divergence along the last axis (rows renormalised to sum to 1; 0 log 0 = 0)."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    p = np.clip(p, 0.0, None)
    q = np.clip(q, 0.0, None)
    p = p / np.where((s := p.sum(axis=-1, keepdims=True)) > 0, s, 1.0)
    q = q / np.where((s := q.sum(axis=-1, keepdims=True)) > 0, s, 1.0)
    m = 0.5 * (p + q)

    def kl(a: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(a > 0, a * np.log2(np.where(a > 0, a, 1.0) / np.where(m > 0, m, 1.0)), 0.0)
        return terms.sum(axis=-1)

    return np.clip(0.5 * kl(p) + 0.5 * kl(q), 0.0, 1.0)


def js_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Base-2 Jensen-Shannon distance (square root of the divergence), in [0, 1], along the last axis."""
    return np.sqrt(js_divergence(p, q))


def head_js_sums(base: np.ndarray, other: np.ndarray, special: np.ndarray,
                 causal: bool = False) -> tuple[np.ndarray, int]:
    """Per head, the sum of the JS distances of the rows of from-positions, and their count.

    ``base`` and ``other`` are [L, H, n, n] attention of the same example on the two models. From-positions
    as for the pattern scores: not special and not forced (row 0 of a causal model, a one-token example).
    """
    n = np.asarray(special).shape[0]
    choices = np.arange(1, n + 1) if causal else np.full(n, n)
    rows = ~np.asarray(special, dtype=bool) & (choices > 1)
    distance = js_distance(np.asarray(base)[:, :, rows, :], np.asarray(other)[:, :, rows, :])  # [L, H, F]
    return distance.sum(axis=-1), int(rows.sum())


def score_changes(base_heads: dict, other_heads: dict) -> dict[str, np.ndarray]:
    """``other - base`` for every pattern score (and coreference accuracy/mass when both have them)."""
    def grid(values) -> np.ndarray:
        return np.array([[np.nan if v is None else float(v) for v in row] for row in values], dtype=np.float64)

    out = {name: grid(other_heads["patterns"][name]) - grid(values)
           for name, values in base_heads["patterns"].items() if name in other_heads["patterns"]}
    a, b = base_heads.get("coreference"), other_heads.get("coreference")
    if a and b:
        out["coref_accuracy"] = grid(b["accuracy"]) - grid(a["accuracy"])
        out["coref_mass"] = grid(b["mass"]) - grid(a["mass"])
    return out


def shared_score_changes(base_stats, other_stats) -> tuple[dict[str, np.ndarray], int]:
    """``({score: other - base [L, H]}, shared examples)`` over the examples both models ran.

    ``base_stats``/``other_stats``: per-example statistics (``summary.ExampleStats``: ``example.slug``,
    ``sums``, ``coref`` under the span rule). Patterns pool token-weighted over the shared examples;
    coreference accuracy and mass over their usable pairs. Empty when no example is shared.
    """
    other_by = {s.example.slug: s for s in other_stats}
    shared = [(s, other_by[s.example.slug]) for s in base_stats if s.example.slug in other_by]
    if not shared:
        return {}, 0
    grids = []
    for side in (0, 1):
        chosen = [pair[side] for pair in shared]
        num = sum(s.sums.num for s in chosen)
        count = sum(s.sums.count for s in chosen)
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = {name: (num[p] / count[p] if count[p] > 0 else np.full(num.shape[1:], np.nan))
                      for p, name in enumerate(PATTERNS)}
        usable = [(w, pair.antecedent_index) for s in chosen for pair, w in zip(s.example.coref, s.coref) if w.size]
        scores["_coref"] = coref_scores([w for w, _ in usable], [a for _, a in usable]) if usable else None
        grids.append(scores)
    out = {name: grids[1][name] - grids[0][name] for name in PATTERNS}
    a, b = grids[0]["_coref"], grids[1]["_coref"]
    if a is not None and b is not None and a.pairs == b.pairs:
        out["coref_accuracy"] = b.accuracy - a.accuracy
        out["coref_mass"] = b.mass - a.mass
    return out, len(shared)
