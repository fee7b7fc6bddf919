"""Where heads are scored for a whole model: pool per-example records into the heads file.

Input: per-example numerators and coreference weights (records); output: the plain dict written as
``heads.json`` (schema ``reportgen.heads/1``, see docs/architecture.md). No I/O here.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reportgen.analysis.coref import coref_baselines, coref_scores
from reportgen.analysis.coref_subsets import subsets
from reportgen.analysis.labels import head_labels, rank_heads, strongest_label
from reportgen.analysis.patterns import PATTERNS, PatternSums, finalize, pattern_ci
from reportgen.analysis.stats import bootstrap_mean_ci

HEADS_SCHEMA = "reportgen.heads/1"
N_BOOT = 1000
SEED = 0
TOP_DETAIL = 5


@dataclass
class ExampleStats:
    """What the summary needs of one example on one model."""

    example: object  # manifest Example
    sums: PatternSums
    coref: list[np.ndarray]  # per annotated pair [L, H, C]; empty array when cut off


def _grid(array: np.ndarray) -> list[list[float | None]]:
    return [[None if not np.isfinite(v) else float(v) for v in row] for row in np.asarray(array, dtype=np.float64)]


def _pairs(stats: Sequence[ExampleStats]):
    """Flatten usable coreference pairs: (example index, pair, weights)."""
    for index, item in enumerate(stats):
        for pair, weights in zip(item.example.coref, item.coref):
            if weights.size:
                yield index, item.example, pair, weights


def coreference_summary(stats: Sequence[ExampleStats], layers: int, heads: int) -> dict | None:
    """Accuracy, mass, ranking with 95% bootstrap intervals over examples, baselines, per-pair detail."""
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
    order = rank_heads(result.accuracy + 1e-9 * np.nan_to_num(result.mass))
    ranking = [{"layer": l, "head": h, "accuracy": float(result.accuracy[l, h]), "mass": float(result.mass[l, h]),
                "accuracy_ci": [float(acc_lo[l, h]), float(acc_hi[l, h])],
                "mass_ci": [float(mass_lo[l, h]), float(mass_hi[l, h])]} for l, h, _ in order]
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
    subset_args = (result, groups, spans, pronouns, antecedents)
    languages = subsets([ex.language for _, ex, _, _ in flat], *subset_args, n_boot=N_BOOT, seed=SEED)
    sources = [example_source(ex) for _, ex, _, _ in flat]
    by_source = subsets(sources, *subset_args, n_boot=N_BOOT, seed=SEED) if len(set(sources)) > 1 else {}
    return {
        "pairs": result.pairs, "examples": int(len(set(groups.tolist()))),
        "accuracy": _grid(result.accuracy), "mass": _grid(result.mass),
        "ranking": ranking,
        "baselines": {"nearest": base.nearest, "first": base.first, "random": base.random,
                      "no_preceding": base.no_preceding},
        "by_language": languages, "by_source": by_source, "pairs_detail": detail,
    }


def example_source(example) -> str:
    """The manifest file an example came from: its ``include:`` file, or "manifest" for the manifest itself."""
    return getattr(example, "source", None) or "manifest"


def summarise_model(model: dict, stats: Sequence[ExampleStats], layers: int, heads: int) -> dict:
    """The heads file of one model (``reportgen.heads/1``), plus intervals and strongest labels.

    ``model``: {"id", "revision", "name", "slug", ...} copied into the file as is.
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
        "strongest": strongest_label(patterns),
    }
    coref = coreference_summary(stats, layers, heads)
    if coref is not None:
        out["coreference"] = coref
    return out


def heads_csv(heads_file: dict) -> str:
    """One row per head: layer, head, every pattern score, coreference accuracy and mass, labels."""
    layers, heads = heads_file["model"]["layers"], heads_file["model"]["heads"]
    coref = heads_file.get("coreference")
    columns = ["layer", "head", *PATTERNS, "coref_accuracy", "coref_mass", "labels"]
    by_head: dict[tuple[int, int], list[str]] = {}
    for item in heads_file["labels"]:
        by_head.setdefault((item["layer"], item["head"]), []).append(item["label"])
    lines = [",".join(columns)]
    for l in range(layers):
        for h in range(heads):
            values = [heads_file["patterns"][name][l][h] for name in PATTERNS]
            values += [coref["accuracy"][l][h], coref["mass"][l][h]] if coref else [None, None]
            cells = [str(l), str(h)] + ["" if v is None else repr(float(v)) for v in values]
            cells.append(" ".join(by_head.get((l, h), [])))
            lines.append(",".join(cells))
    return "\n".join(lines) + "\n"
