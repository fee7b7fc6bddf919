"""One page per head (``heads/<model>/<layer>-<head>.md``): what does this head do?

Every score of the head with its 95% interval, its rank among the model's heads and the labels it
carries; its coreference accuracy and whether it beats the baselines; the probe weight when the heads
file has one; and per score the examples where the head's own score is highest, each linked into the
viewer at that head. Numbers come from the model's analysis (``analysis.stage.ModelAnalysis``); nothing
is computed here.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from reportgen.analysis.stage import ModelAnalysis
from reportgen.render.atlas import MAPS, _ci, _pronoun, pronoun_tokens, verdict, viewer_href
from reportgen.render.hrefs import exbert, head_page
from reportgen.render.assets import TABLE_SCRIPTS, script_srcs
from reportgen.render.pages import front_matter
from reportgen.render.templates import environment
from reportgen.render.text import fmt

PREFIX = "../../"  # from heads/<model>/ back to the site root


def _beats(coref: dict, layer: int, head: int) -> tuple[bool | None, str]:
    """Does this head beat the baselines? The heads file's family-wise corrected verdict: its Holm-adjusted
    p-value over all heads (``analysis.verdicts``). A set with too few pairs, or a head without a p-value,
    has no verdict; no uncorrected rule stands in for it."""
    entry = next((r for r in coref.get("ranking", []) if r["layer"] == layer and r["head"] == head), {})
    if entry.get("p_adjusted") is None:
        return None, "has no verdict: too few pairs to judge" if coref.get("judged") is False else "has no verdict"
    correction = (coref.get("correction") or {}).get("text", "") if isinstance(coref.get("correction"), dict) else ""
    correction = correction.rstrip(". ")  # the page adds the full stop
    how = f"adjusted p = {float(entry['p_adjusted']):.3g}, corrected over all {len(coref['ranking'])} heads"
    verdict_text = "beats" if entry.get("beats") else "does not beat"
    return bool(entry.get("beats")), f"{verdict_text} the strongest baseline ({how})" + (f". {correction}" if correction else "")


def head_view(run, model: ModelAnalysis, layer: int, head: int, pronouns) -> dict:
    """The view model of one head's page (``model``: the model's analysis, its score grids, ranks,
    per-example scores and best examples per score; ``pronouns``: links' tokens)."""
    slug = run.spec.slug
    heads, stats, grids, ranks, scores, tops = model.heads, model.stats, model.grids, model.ranks, model.per_example, model.tops
    slugs = [s.example.slug for s in stats]
    ids = {s.example.slug: s.example.id for s in stats}
    labels = [x for x in heads.get("labels", []) if x["layer"] == layer and x["head"] == head]
    rows = []
    for key, (score, low, high) in grids.items():
        v = float(score[layer, head])
        examples = []
        if key in tops:
            for e in tops[key][layer, head]:
                if e < 0:
                    continue
                ex = slugs[e]
                token = _pronoun(pronouns, ex) if key.startswith("coref") else None
                examples.append({"id": ids[ex], "value": fmt(scores[key][e, layer, head]),
                                 "href": viewer_href(PREFIX, ex, slug, layer, head, token)})
        rows.append({"key": key, "title": MAPS[key][0], "what": MAPS[key][1], "value": fmt(v),
                     "ci": _ci(float(low[layer, head]), float(high[layer, head])) if low is not None else "–",
                     "rank": int(ranks[key][layer, head]), "of": int(np.isfinite(score).sum()),
                     "examples": examples, "unit": "nats" if key == "entropy" else ""})
    coref = heads.get("coreference")
    coref_view = None
    if coref:
        entry = next((r for r in coref["ranking"] if r["layer"] == layer and r["head"] == head), None)
        if entry is not None:
            position = coref["ranking"].index(entry) + 1
            ok, text = _beats(coref, layer, head)
            coref_view = {"accuracy": fmt(entry["accuracy"]), "ci": _ci(*entry["accuracy_ci"]),
                          "mass": fmt(entry.get("mass")), "position": position, "of": len(coref["ranking"]),
                          "pairs": coref["pairs"], "ok": ok, "text": text, "baselines": coref["baselines"]}
    probe = None
    weights = (heads.get("probe") or {}).get("weights")
    if weights is not None:
        try:
            probe = fmt(float(weights[layer][head]))
        except (IndexError, TypeError, ValueError):
            probe = None
    return {"slug": slug, "name": run.spec.name, "layer": layer, "head": head, "exbert": exbert(layer, head),
            "labels": labels, "rows": rows, "coref": coref_view, "probe": probe,
            "layers": heads["model"]["layers"], "heads": heads["model"]["heads"]}


def model_verdicts(heads_files: dict) -> dict[str, dict]:
    """model slug -> the atlas's coreference verdict over all pairs ({"text", "ok"}), for model pages."""
    out = {}
    for slug, heads in heads_files.items():
        c = heads.get("coreference")
        if c:
            found = verdict(c["ranking"], c["baselines"], c)
            out[slug] = {"text": found["text"], "ok": found["ok"]}
    return out


def render(context) -> Iterator[tuple[str, str]]:
    """Yield (path relative to site_src, text) for every head of every model with a heads file."""
    env = environment()
    template = env.get_template("head.html.j2")
    for run in context.runs:
        model = context.analysis.models.get(run.spec.slug)
        if model is None:
            continue
        L, H = model.heads["model"]["layers"], model.heads["model"]["heads"]
        pronouns = pronoun_tokens(context, model.stats, run.spec.slug)
        for layer in range(L):
            for head in range(H):
                view = head_view(run, model, layer, head, pronouns)
                title = f"Head {layer}-{head} of {run.spec.name}"
                yield head_page(run.spec.slug, layer, head), front_matter(title) + template.render(
                    h=view, prefix=PREFIX, table_scripts=script_srcs(TABLE_SCRIPTS, PREFIX))
