"""The attention probe's section on the model page and the atlas: formats the heads file's ``probe`` entry.

Nothing is computed here beyond colour positions: numbers come from ``analysis.probe_summary``.
"""
from __future__ import annotations

import math

from reportgen.render.hrefs import exbert, head_href, viewer_href
from reportgen.render.text import fmt


def _pct(value) -> str:
    return "–" if value is None or not math.isfinite(float(value)) else f"{100 * float(value):.1f}%"


def _ci(ci) -> str:
    return f"{_pct(ci[0])} – {_pct(ci[1])}"


def _weight_map(key: str, title: str, grid: list[list[float]], link_grid, model: str, prefix: str,
                pronouns: dict | None = None, head_link=None) -> dict:
    """A heat map of signed weights in the atlas ``heat`` macro's format. Cells show the weight relative to
    the map's largest |weight| (-1 .. +1; strongly regularised weights are tiny in absolute terms), the
    hover text the weight itself; negative weights take the second colour. Each cell opens an example at
    that head, its first pair's pronoun pinned (``pronouns``: example slug -> pronoun tokens); its corner
    opens the head's page when ``head_link(layer, head)`` gives its href."""
    largest = max((abs(v) for row in grid for v in row), default=0.0) or 1.0
    rows = []
    for layer, row in enumerate(grid):
        cells = []
        for head, value in enumerate(row):
            example = link_grid[layer][head] if link_grid else None
            relative = value / largest
            hover = (f"layer {layer}, head {head} (exBERT {exbert(layer, head)}): weight {value:+.3g} "
                     f"({relative:+.2f} of the largest)")
            if example:
                hover += f"; click: example {example} at this head"
            pos = min(1.0, abs(relative))
            cells.append({"layer": layer, "head": head, "text": f"{relative:+.2f}", "v": f"{pos:.3f}",
                          "hi": pos > 0.6, "nan": False, "neg": value < 0, "title": hover,
                          "href": viewer_href(prefix, example, model, layer, head,
                                              ((pronouns or {}).get(example) or [None])[0]),
                          "head_href": head_link(layer, head) if head_link else head_href(prefix, model, layer, head)})
        rows.append(cells)
    return {"key": key, "title": title, "rows": rows, "heads": len(grid[0]) if grid else 0,
            "low": "-1", "high": "+1", "largest": f"{largest:.3g}"}


def probe_view(heads: dict, link_grid, model: str, prefix: str = "../", pronouns: dict | None = None,
               head_link=None) -> dict | None:
    """What the ``_probe.html.j2`` section shows, or None when the heads file has no probe.

    ``link_grid[layer][head]``: the example (slug) each heat-map cell opens in the viewer, or None;
    ``head_link(layer, head)``: the href of the head's page (the atlas's heat-map corners), or None.
    """
    p = heads.get("probe")
    if not p:
        return None
    single = p["best_single_head"]
    rows = [
        {"what": "Attention probe (all heads, both directions)", "acc": _pct(p["accuracy"]), "ci": _ci(p["accuracy_ci"]),
         "kind": "probe"},
        {"what": f"Best single head {single['layer']}-{single['head']} (exBERT {exbert(single['layer'], single['head'])}, "
                 f"{single['direction']}), chosen on the training folds",
         "acc": _pct(single["accuracy"]), "ci": _ci(single["accuracy_ci"]), "kind": "single"},
    ]
    names = {"nearest": "Baseline: nearest preceding candidate", "first": "Baseline: first-mentioned candidate",
             "random": "Baseline: random choice (1 / candidates)"}
    for name, b in p["baselines"].items():
        rows.append({"what": names.get(name, f"Baseline: {name}"), "acc": _pct(b["accuracy"]), "ci": _ci(b["accuracy_ci"]),
                     "kind": "baseline"})
    rows.append({"what": "Control probe (antecedents drawn at random)", "acc": _pct(p["control_accuracy"]),
                 "ci": _ci(p["control_ci"]), "kind": "control"})
    languages = [{"code": code, "pairs": row["pairs"], "acc": _pct(row["accuracy"]), "ci": _ci(row["accuracy_ci"]),
                  "single": f"{_pct(row['best_single_head']['accuracy'])} ({_ci(row['best_single_head']['accuracy_ci'])})",
                  "control": f"{_pct(row['control_accuracy'])} ({_ci(row['control_ci'])})",
                  "baselines": ", ".join(f"{name} {_pct(b['accuracy'])}" for name, b in row["baselines"].items())}
                 for code, row in sorted(p["by_language"].items())]
    per_fold = [f"{c['layer']}-{c['head']} ({c['direction']})" for c in single["per_fold"]]
    return {
        "p": p, "rows": rows, "languages": languages, "per_fold": ", ".join(per_fold),
        "lambdas": ", ".join(fmt(v, 3) for v in p["regularisation"]["chosen_per_fold"]),
        "ok": bool(p["beats_single_head"] and p["beats_baselines"]),
        "maps": [_weight_map("probe-forward", "Weights on pronoun → candidate attention", p["weights"], link_grid,
                             model, prefix, pronouns, head_link),
                 _weight_map("probe-back", "Weights on candidate → pronoun attention", p["weights_back"], link_grid,
                             model, prefix, pronouns, head_link)],
    }


def first_coref_example(heads: dict, shown: set) -> str | None:
    """The first example with viewer pages among the coreference pairs (the model page's heat-map link)."""
    for pair in (heads.get("coreference") or {}).get("pairs_detail", []):
        if pair["example"] in shown:
            return pair["example"]
    return None
