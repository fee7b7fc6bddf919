"""The attention probe of one model, from its per-example records to the heads file's ``probe`` entry.

Input: the per-example statistics the summary pools (``summary.ExampleStats``: pronoun -> candidate weights
and the candidate words' attention back to the pronoun); output: the plain dict exported as
``heads.json`` ``probe`` and each pair's fold. The science lives in ``probe``; this module only picks the
pairs, their groups, baselines and languages, and formats. No I/O.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reportgen.analysis import probe as pr
from reportgen.analysis.coref import first_mentioned, nearest_preceding
from reportgen.analysis.spans import DEFAULT_SPAN_RULE, aggregate_span

PROBE_MIN_PAIRS = 40  # "auto" turns the probe on from this many usable pairs (our choice: 5 folds of >= 8 pairs)
N_BOOT = 2000
SEED = 0


@dataclass
class ProbeOutcome:
    """``export``: the heads file's ``probe`` dict, or None with ``reason`` when the probe did not run;
    ``folds``: per usable pair (the order of ``pairs_detail``) its outer fold."""

    export: dict | None
    folds: list[int]
    reason: str


def _forward(weights: np.ndarray, rule: str) -> np.ndarray:
    """Pronoun -> candidate ``[L, H, C]``: records hold either that (already one value per candidate, the
    pieces summed) or per-word values ``[L, H, C, W]`` that the span rule combines."""
    return weights if weights.ndim == 3 else aggregate_span(weights, rule)


def _signature(pair) -> tuple:
    return ("signature", pair.pronoun_text.lower(), tuple(t.lower() for t in pair.candidate_texts))


def _acc(a: pr.Accuracy) -> dict:
    return {"accuracy": a.accuracy, "accuracy_ci": [a.ci[0], a.ci[1]]}


def _grid(array: np.ndarray) -> list[list[float]]:
    return [[float(v) for v in row] for row in array]


def probe_summary(stats: Sequence, layers: int, heads: int, *, enabled: bool | str = "auto", folds: int = 5,
                  span_rule: str = DEFAULT_SPAN_RULE) -> ProbeOutcome:
    """Run the attention probe on every usable coreference pair of one model.

    ``stats``: ``summary.ExampleStats`` in manifest order; a pair is usable when its weights survived
    truncation (the ``pairs_detail`` pairs). ``enabled``: True, False or "auto" (on from
    ``PROBE_MIN_PAIRS`` pairs). ``span_rule``: how a multi-word candidate's word values combine.
    """
    flat = []
    for item in stats:
        back = getattr(item, "coref_back", None)
        for index, (pair, weights) in enumerate(zip(item.example.coref, item.coref)):
            if weights.size:
                b = None if back is None or index >= len(back) else back[index]
                flat.append((item.example, pair, weights, b))
    if enabled is False:
        return ProbeOutcome(None, [], "off (settings.probe: false)")
    if enabled == "auto" and len(flat) < PROBE_MIN_PAIRS:
        return ProbeOutcome(None, [], f"off: {len(flat)} usable pairs, fewer than {PROBE_MIN_PAIRS} "
                                      "(settings.probe: true runs it anyway)")
    if any(b is None or b.size == 0 for *_, b in flat):
        return ProbeOutcome(None, [], "off: records without the candidate -> pronoun attention (rebuild with --force)")
    keys = []
    for example, pair, _, _ in flat:
        group = getattr(example, "group", None)
        keys.append([("example", example.slug), ("group", group) if group else _signature(pair)])
    texts = [[w.text for w in example.words()] for example, *_ in flat]
    for own, near in zip(keys, pr.near_duplicate_keys(texts)):
        own.extend(near)
    groups = pr.pair_groups(keys)
    if np.unique(groups).size < 2:
        return ProbeOutcome(None, [], "off: all pairs form one group of related examples, nothing to hold out")
    features = pr.probe_features([_forward(w, span_rule) for _, _, w, _ in flat],
                                 [aggregate_span(b, span_rule) for *_, b in flat])
    antecedent = [p.antecedent_index for _, p, _, _ in flat]
    spans = [[(c.first, c.last) for c in p.candidates] for _, p, _, _ in flat]
    pronouns = [(p.pronoun.first, p.pronoun.last) for _, p, _, _ in flat]
    baselines = {
        "nearest": np.array([nearest_preceding(s, q) == a for s, q, a in zip(spans, pronouns, antecedent)], dtype=float),
        "first": np.array([first_mentioned(s) == a for s, a in zip(spans, antecedent)], dtype=float),
        "random": np.array([1.0 / len(s) for s in spans]),
    }
    result = pr.run_probe(features, antecedent, groups, folds=folds, baselines=baselines,
                          languages=[ex.language for ex, *_ in flat], n_boot=N_BOOT, seed=SEED)
    single = result.single
    strongest = max(result.baselines, key=lambda k: result.baselines[k].accuracy)
    export = {
        "task": "pronoun -> antecedent selection among each pair's own candidates",
        "model": "attention-only probe (Clark et al. 2019, section 6): conditional logit (softmax over the pair's "
                 "candidates) with L2, Newton's method in float64",
        "features": f"word-level attention pronoun -> candidate and candidate -> pronoun in every head "
                    f"(2 x {layers} x {heads}), standardised on the training folds",
        "folds": result.folds, "groups": result.groups, "pairs": result.pairs,
        "grouping": "pairs sharing an example, a group: label, (without group:) the same pronoun and candidate "
                    "list, or a near-identical text (Winograd twins) stay in one fold",
        "span_rule": span_rule,
        "regularisation": {"chosen_per_fold": result.lambdas, "grid": list(pr.LAMBDAS),
                           "inner_folds": pr.INNER_FOLDS,
                           "criterion": "held-out log-likelihood of an inner grouped CV on the training folds"},
        "interval": f"95% percentile bootstrap over groups ({N_BOOT} resamples, seed {SEED})",
        "chance": result.chance,
        "accuracy": result.probe.accuracy, "accuracy_ci": list(result.probe.ci),
        "control_accuracy": result.control.accuracy, "control_ci": list(result.control.ci),
        "control": "the same pipeline trained and scored on antecedents drawn at random from each pair's candidates",
        "best_single_head": {"layer": single.layer, "head": single.head, "direction": pr.DIRECTIONS[single.direction],
                             **_acc(single.score),
                             "per_fold": [{"direction": pr.DIRECTIONS[d], "layer": l, "head": h}
                                          for d, l, h in single.per_fold],
                             "chosen": "highest training-fold accuracy among both directions' heads, scored on the "
                                       "held-out fold"},
        "baselines": {name: _acc(a) for name, a in result.baselines.items()},
        "strongest_baseline": strongest,
        "weights": _grid(result.weights), "weights_back": _grid(result.weights_back),
        "weights_unit": "log-odds per standard deviation of the head's attention, mean over folds",
        "by_language": {code: {"pairs": row["pairs"], **_acc(row["probe"]),
                               "best_single_head": _acc(row["single"]),
                               "control_accuracy": row["control"].accuracy, "control_ci": list(row["control"].ci),
                               "chance": row["chance"],
                               "baselines": {name: _acc(a) for name, a in row["baselines"].items()}}
                        for code, row in result.by_language.items()},
        "beats_single_head": bool(result.probe.ci[0] > single.score.ci[1]),
        "beats_baselines": bool(result.probe.ci[0] > result.baselines[strongest].ci[1]),
        "verdict": pr.verdict(result),
    }
    return ProbeOutcome(export, [int(f) for f in result.fold], "")
