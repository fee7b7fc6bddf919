"""Where heads are scored for a whole model: pool per-example records into the heads file.

Input: per-example numerators and coreference weights (records); output: the plain dict written as
``heads.json`` (schema ``reportgen.heads/2``, see docs/architecture.md and the README). No I/O here.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reportgen.analysis.coref import baseline_outcomes, coref_baselines, coref_scores
from reportgen.analysis.coref_subsets import subsets
from reportgen.analysis.labels import (LABEL_PATTERN, LABELS, THRESHOLD_SOURCES, THRESHOLDS, head_labels, rank_heads,
                                       reachable, strongest_label)
from reportgen.analysis.patterns import PATTERNS, PatternSums, finalize, pattern_ci
from reportgen.analysis.probe_summary import probe_summary
from reportgen.analysis.spans import DEFAULT_SPAN_RULE, SPAN_RULE_TEXT
from reportgen.analysis.stats import bootstrap_mean_ci
from reportgen.analysis.verdicts import ALPHA, MIN_PAIRS, family_verdict

HEADS_SCHEMA = "reportgen.heads/2"
N_BOOT = 1000
SEED = 0
TOP_DETAIL = 5


@dataclass
class ExampleStats:
    """What the summary needs of one example on one model."""

    example: object  # manifest Example
    sums: PatternSums
    coref: list[np.ndarray]  # per annotated pair [L, H, C] under the span rule; empty array when cut off
    reach: dict | None = None  # patterns.reachable_rows of the example (None: every from-position reaches)
    coref_back: list | None = None  # per pair candidate words -> pronoun [L, H, C, W] (attention probe)


def _grid(array: np.ndarray) -> list[list[float | None]]:
    return [[None if not np.isfinite(v) else float(v) for v in row] for row in np.asarray(array, dtype=np.float64)]


def _pairs(stats: Sequence[ExampleStats]):
    """Flatten usable coreference pairs: (example index, pair, weights)."""
    for index, item in enumerate(stats):
        for pair, weights in zip(item.example.coref, item.coref):
            if weights.size:
                yield index, item.example, pair, weights


def correction_text(pairs_min: int = MIN_PAIRS, alpha: float = ALPHA) -> str:
    """The one sentence pages print under every verdict."""
    return (f"Corrected for comparing every head of the model against the strongest baseline: a head beats the "
            f"baselines when its Holm-adjusted p-value (exact tests on the same pairs) is at most {alpha:g}, so the "
            f"chance of naming any head that does not is at most {alpha:g}; sets of fewer than {pairs_min} pairs "
            f"get no verdict.")


def coreference_summary(stats: Sequence[ExampleStats], layers: int, heads: int,
                        span_rule: str = DEFAULT_SPAN_RULE) -> dict | None:
    """Accuracy, mass, ranking with 95% bootstrap intervals over examples, baselines, the family-wise
    corrected verdict (``verdicts.family_verdict``) overall and per subset, per-pair detail."""
    flat = list(_pairs(stats))
    if not flat:
        return None
    groups = np.array([index for index, *_ in flat])
    result = coref_scores([w for *_, w in flat], [p.antecedent_index for _, _, p, _ in flat], shape=(layers, heads))
    acc_lo, acc_hi = bootstrap_mean_ci(result.correct.astype(np.float64), n_boot=N_BOOT, seed=SEED, groups=groups)
    mass_lo, mass_hi = bootstrap_mean_ci(result.antecedent_weight, n_boot=N_BOOT, seed=SEED, groups=groups)
    spans = [[(c.first, c.last) for c in p.candidates] for _, _, p, _ in flat]
    pronouns = [(p.pronoun.first, p.pronoun.last) for _, _, p, _ in flat]
    base = coref_baselines(spans, pronouns, [p.antecedent_index for _, _, p, _ in flat])
    outcomes = baseline_outcomes(spans, pronouns, [p.antecedent_index for _, _, p, _ in flat])
    verdict = family_verdict(result.correct, *outcomes)
    order = rank_heads(result.accuracy + 1e-9 * np.nan_to_num(result.mass))
    ranking = [{"layer": l, "head": h, "accuracy": float(result.accuracy[l, h]), "mass": float(result.mass[l, h]),
                "accuracy_ci": [float(acc_lo[l, h]), float(acc_hi[l, h])],
                "mass_ci": [float(mass_lo[l, h]), float(mass_hi[l, h])],
                "p_adjusted": _p(verdict.adjusted[l, h]), "beats": bool(verdict.adjusted[l, h] <= verdict.alpha)}
               for l, h, _ in order]
    detail = []
    for k, (index, example, pair, _) in enumerate(flat):
        detail.append({
            "example": example.slug, "language": example.language, "source": example_source(example),
            "pronoun": pair.pronoun_text,
            "antecedent": pair.antecedent_text, "candidates": list(pair.candidate_texts),
            "antecedent_index": int(pair.antecedent_index),
            "choices": [{"layer": r["layer"], "head": r["head"], "choice": int(result.choice[k, r["layer"], r["head"]])}
                        for r in ranking[:TOP_DETAIL]],
        })
    antecedents = [p.antecedent_index for _, _, p, _ in flat]
    subset_args = (result, groups, spans, pronouns, antecedents, outcomes)
    languages = subsets([ex.language for _, ex, _, _ in flat], *subset_args, n_boot=N_BOOT, seed=SEED)
    sources = [example_source(ex) for _, ex, _, _ in flat]
    by_source = subsets(sources, *subset_args, n_boot=N_BOOT, seed=SEED) if len(set(sources)) > 1 else {}
    return {
        "pairs": result.pairs, "examples": int(len(set(groups.tolist()))),
        "accuracy": _grid(result.accuracy), "mass": _grid(result.mass),
        "ranking": ranking,
        "baselines": {"nearest": base.nearest, "first": base.first, "random": base.random,
                      "no_preceding": base.no_preceding},
        "span_rule": span_rule, "span_rule_text": SPAN_RULE_TEXT[span_rule],
        "correction": dict(verdict.as_dict(), text=correction_text()),
        "judged": verdict.judged,
        "beats_baselines": verdict.as_dict()["beats_baselines"],
        "by_language": languages, "by_source": by_source, "pairs_detail": detail,
    }


def _p(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def thresholds_summary(total: PatternSums, stats: Sequence[ExampleStats]) -> dict:
    """Per label: pattern, threshold, its source, the largest score the label's pattern could reach on
    these examples and whether the threshold is reachable at all (else the page says it cannot fire)."""
    out = {}
    for label in LABELS:
        pattern = LABEL_PATTERN[label]
        k = PATTERNS.index(pattern)
        count = float(total.count[k])
        if pattern in ("sep", "punct"):
            reach = sum((s.reach or {}).get(pattern, s.sums.count[k]) for s in stats)
        else:
            reach = count  # every from-position can reach the target (or, entropy_norm, up to 1)
        upper = reach / count if count > 0 else float("nan")
        out[label] = {"pattern": pattern, "threshold": THRESHOLDS[label], "source": THRESHOLD_SOURCES[label],
                      "upper": _p(upper), "reachable": reachable(label, upper)}
    return out


def example_source(example) -> str:
    """The manifest file an example came from: its ``include:`` file, or "manifest" for the manifest itself."""
    return getattr(example, "source", None) or "manifest"


def summarise_model(model: dict, stats: Sequence[ExampleStats], layers: int, heads: int,
                    span_rule: str = DEFAULT_SPAN_RULE, *, settings=None) -> dict:
    """The heads file of one model (``reportgen.heads/2``), plus intervals and strongest labels.

    ``model``: {"id", "revision", "name", "slug", ...} copied into the file as is. ``settings``: the
    manifest's (``probe``, ``probe_folds``, the span rule when there is one); None = defaults.
    """
    total = PatternSums.zeros(layers, heads)
    for item in stats:
        total = total + item.sums
    patterns = finalize(total)
    intervals = pattern_ci([s.sums for s in stats], n_boot=N_BOOT, seed=SEED) if stats else {}
    labels = [{"layer": x.layer, "head": x.head, "label": x.label, "score": float(x.score)}
              for x in head_labels(patterns)]
    out = {
        "schema": HEADS_SCHEMA,
        "model": dict(model, layers=layers, heads=heads),
        "indexing": "0-based",
        "examples": len(stats),
        "tokens": int(total.count[PATTERNS.index("self")]),
        "counts": {name: int(total.count[k]) for k, name in enumerate(PATTERNS)},
        "patterns": {name: _grid(patterns[name]) for name in PATTERNS},
        "intervals": {name: {"low": _grid(lo), "high": _grid(hi)} for name, (lo, hi) in intervals.items()},
        "labels": labels,
        "thresholds": thresholds_summary(total, stats),
        "strongest": strongest_label(patterns),
    }
    coref = coreference_summary(stats, layers, heads, span_rule)
    if coref is not None:
        out["coreference"] = coref
        probe = probe_summary(stats, layers, heads, enabled=getattr(settings, "probe", "auto"),
                              folds=getattr(settings, "probe_folds", 5),
                              span_rule=span_rule)
        if probe.export is not None:
            out["probe"] = probe.export
            for entry, fold in zip(coref["pairs_detail"], probe.folds):
                entry["fold"] = fold
        else:
            coref["probe_off"] = probe.reason
    return out
