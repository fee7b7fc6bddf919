"""Label scores, head ranks and the claims check (manifest ``expect:``).

Works on the heads file dict (``summary.summarise_model``), so it needs no arrays from the run. For a
label, every head has a score, a 95% bootstrap interval over examples, and a competition rank:
``rank = 1 + number of heads with a strictly better score`` (1 = best; equal scores share a rank;
heads without a score get no rank). Coreference orders by accuracy, then antecedent mass (as the
coreference ranking of the heads file).

========== ================= =================================================================
label      score             passes when
========== ================= =================================================================
previous   prev              score > 0.5 (thresholds and their sources: ``labels.THRESHOLD_SOURCES``)
next       next              score > 0.5
broad      entropy_norm      score > 0.8
cls        cls               score > 0.6
sep        sep               score > 0.6
punct      punct             score > 0.6
self       self              (no threshold: only the rank and top-k are reported)
coreference accuracy         the head beats the strongest baseline (nearest preceding, first-mentioned,
                             random) on the same pairs after family-wise correction over all heads
                             (``verdicts``: Holm-adjusted p <= 0.05); no verdict under 20 pairs
========== ================= =================================================================
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from reportgen.analysis.labels import LABEL_PATTERN, THRESHOLDS
from reportgen.analysis.verdicts import ALPHA
from reportgen.manifest.schema import HEAD_LABELS

#: every label a claim may name (the manifest's ``expect:`` labels), with the score it is checked on
CLAIM_LABELS: tuple[str, ...] = HEAD_LABELS
LABEL_SCORE: dict[str, str] = {**LABEL_PATTERN, "self": "self", "coreference": "coreference"}
TOP_K = 5
BASELINES = ("nearest", "first", "random")


@dataclass
class LabelScores:
    """One label's per-head scores for one model.

    Attributes:
        label: the label ("previous", ..., "coreference").
        score: float64 ``[L, H]`` (nan: no score).
        low, high: float64 ``[L, H]``, 95% bootstrap interval over examples (nan when unknown).
        secondary: tie-break score ``[L, H]`` (coreference: antecedent mass), else None.
        threshold: the score must be strictly above it to pass (None: no threshold for this label).
        baseline: coreference only: the strongest baseline on the same pairs.
        baselines: coreference only: {"nearest", "first", "random"} accuracies on the same pairs.
        support: how much data is behind every score: {"examples", "tokens"} or {"examples", "pairs"}.
        unit: what the score measures, for display.
    """

    label: str
    score: np.ndarray
    low: np.ndarray
    high: np.ndarray
    secondary: np.ndarray | None
    threshold: float | None
    baseline: float | None
    baselines: dict | None
    support: dict
    unit: str
    p_adjusted: np.ndarray | None = None  # coreference: Holm-adjusted p-value per head (nan: none)
    judged: bool = True  # coreference: enough pairs for a verdict

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.score.shape)  # type: ignore[return-value]

    def passes(self, layer: int, head: int) -> bool | None:
        """Whether the head passes the label's bar (None: the label has no bar or the head no score)."""
        s = self.score[layer, head]
        if not np.isfinite(s):
            return None
        if self.label == "coreference":
            if not self.judged or self.p_adjusted is None or not np.isfinite(self.p_adjusted[layer, head]):
                return None
            return bool(self.p_adjusted[layer, head] <= ALPHA)
        if self.threshold is None:
            return None
        return bool(s > self.threshold)


def _array(grid: Any) -> np.ndarray:
    return np.array([[np.nan if v is None else float(v) for v in row] for row in grid], dtype=np.float64)


def label_scores(heads: dict, label: str) -> LabelScores | None:
    """The scores of ``label`` in a heads file; None when the file has none (e.g. no coreference pairs)."""
    if label not in LABEL_SCORE:
        raise ValueError(f"unknown label {label!r}; expected one of {', '.join(CLAIM_LABELS)}")
    if label == "coreference":
        coref = heads.get("coreference")
        if not coref:
            return None
        score = _array(coref["accuracy"])
        low = np.full(score.shape, np.nan)
        high = np.full(score.shape, np.nan)
        p_adjusted = np.full(score.shape, np.nan)
        for r in coref.get("ranking", []):
            ci = r.get("accuracy_ci") or [None, None]
            low[r["layer"], r["head"]] = np.nan if ci[0] is None else ci[0]
            high[r["layer"], r["head"]] = np.nan if ci[1] is None else ci[1]
            p = r.get("p_adjusted")
            p_adjusted[r["layer"], r["head"]] = np.nan if p is None else p
        baselines = {k: coref["baselines"].get(k) for k in BASELINES}
        finite = [float(v) for v in baselines.values() if v is not None and math.isfinite(float(v))]
        return LabelScores(label, score, low, high, _array(coref["mass"]), None, max(finite) if finite else None,
                           baselines, {"examples": int(coref.get("examples", 0)), "pairs": int(coref["pairs"])},
                           "antecedent accuracy", p_adjusted, bool(coref.get("judged", False)))
    pattern = LABEL_SCORE[label]
    score = _array(heads["patterns"][pattern])
    interval = heads.get("intervals", {}).get(pattern)
    low = _array(interval["low"]) if interval else np.full(score.shape, np.nan)
    high = _array(interval["high"]) if interval else np.full(score.shape, np.nan)
    tokens = heads.get("counts", {}).get(pattern, heads.get("tokens", 0))
    unit = {"entropy": "nats", "entropy_norm": "share of the largest possible entropy"}.get(pattern, "share of attention")
    return LabelScores(label, score, low, high, None, THRESHOLDS.get(label), None, None,
                       {"examples": int(heads.get("examples", 0)), "tokens": int(tokens)}, unit)


def competition_ranks(score: np.ndarray, secondary: np.ndarray | None = None) -> np.ndarray:
    """int ``[L, H]``: 1 + the number of heads with a strictly better (score, secondary); 0 for nan scores.

    Better means a larger score, or an equal score and a larger secondary value (nan secondary counts
    as the smallest). Equal pairs share a rank (1, 2, 2, 4, ...).
    """
    score = np.asarray(score, dtype=np.float64)
    flat = score.ravel()
    sec = np.zeros_like(flat) if secondary is None else np.nan_to_num(
        np.asarray(secondary, dtype=np.float64).ravel(), nan=-np.inf)
    ok = np.isfinite(flat)
    ranks = np.zeros(flat.size, dtype=np.int64)
    for k in np.flatnonzero(ok):
        better = ok & ((flat > flat[k]) | ((flat == flat[k]) & (sec > sec[k])))
        ranks[k] = 1 + int(better.sum())
    return ranks.reshape(score.shape)


def ranked(ls: LabelScores, top: int | None = None) -> list[dict]:
    """Heads in rank order (ties: layer, head order): [{rank, layer, head, score, low, high, passes, p}]
    (``p``: coreference's Holm-adjusted p-value, else None)."""
    ranks = competition_ranks(ls.score, ls.secondary)
    L, H = ls.shape
    order = sorted(((int(ranks[l, h]), l, h) for l in range(L) for h in range(H) if ranks[l, h] > 0))
    rows = [{"rank": r, "layer": l, "head": h, "score": float(ls.score[l, h]), "low": _num(ls.low[l, h]),
             "high": _num(ls.high[l, h]), "passes": ls.passes(l, h),
             "p": _num(ls.p_adjusted[l, h]) if ls.p_adjusted is not None else None} for r, l, h in order]
    return rows if top is None else rows[:top]


def _num(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


@dataclass
class ClaimResult:
    """One claim checked against the measured scores.

    ``status``: "checked"; "no-model" (the model failed or is not in the build); "no-head" (layer or
    head outside the model); "no-score" (the model has no such score, e.g. no coreference pairs).
    ``passes``: the label's bar (see the module docstring), None when the label has none (or, coreference,
    too few pairs to judge). ``p_adjusted``: coreference's Holm-adjusted p-value of the head.
    ``top_k``: the head's rank is at most ``k``.
    """

    model: str
    layer: int
    head: int
    label: str
    status: str
    k: int = TOP_K
    rank: int | None = None
    of: int | None = None
    score: float | None = None
    low: float | None = None
    high: float | None = None
    threshold: float | None = None
    baseline: float | None = None
    passes: bool | None = None
    p_adjusted: float | None = None
    top_k: bool | None = None
    best: dict | None = None  # the rank-1 head: {layer, head, score}
    line: int | None = None
    message: str = ""


def _get(obj: Any, name: str):
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def check_claim(claim: Any, heads: dict | None, k: int = TOP_K) -> ClaimResult:
    """Check one claim (``Expectation`` or a dict with model, layer, head, label) against a heads file."""
    model, layer, head, label = (_get(claim, n) for n in ("model", "layer", "head", "label"))
    line = claim.get("line") if isinstance(claim, dict) else getattr(claim, "line", None)
    out = ClaimResult(model, int(layer), int(head), label, "checked", k=k, line=line)
    if heads is None:
        out.status, out.message = "no-model", "the model has no scores in this build (it failed or did not run)"
        return out
    L, H = heads["model"]["layers"], heads["model"]["heads"]
    if not (0 <= layer < L and 0 <= head < H):
        out.status = "no-head"
        out.message = f"the model has {L} layers x {H} heads (0-based: layers 0-{L - 1}, heads 0-{H - 1})"
        return out
    ls = label_scores(heads, label)
    if ls is None:
        out.status, out.message = "no-score", "no coreference pairs were scored on this model"
        return out
    ranks = competition_ranks(ls.score, ls.secondary)
    if ranks[layer, head] == 0:
        out.status, out.message = "no-score", "this head has no score for the label"
        return out
    out.rank, out.of = int(ranks[layer, head]), int((ranks > 0).sum())
    out.score = float(ls.score[layer, head])
    out.low, out.high = _num(ls.low[layer, head]), _num(ls.high[layer, head])
    out.threshold, out.baseline = ls.threshold, ls.baseline
    out.passes = ls.passes(layer, head)
    if ls.p_adjusted is not None:
        out.p_adjusted = _num(ls.p_adjusted[layer, head])
    out.top_k = out.rank <= k
    first = ranked(ls, top=1)
    if first:
        out.best = {"layer": first[0]["layer"], "head": first[0]["head"], "score": first[0]["score"]}
    return out


def check_claims(claims, heads_files: dict[str, dict], k: int = TOP_K) -> list[ClaimResult]:
    """Check every claim; ``heads_files`` maps model slug -> heads file (claims name models by slug)."""
    return [check_claim(c, heads_files.get(_get(c, "model")), k=k) for c in claims]


def beating_heads(ls: LabelScores) -> list[dict]:
    """Coreference: the heads that beat the baselines after family-wise correction, best first."""
    return [r for r in ranked(ls) if r["passes"]]
