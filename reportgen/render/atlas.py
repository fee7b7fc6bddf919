"""Head atlas pages (``atlas/<model>.md``) and the cross-model / cross-language page (``compare.md``).

View models are plain dicts built here from the build's analysis (``analysis.stage.SiteAnalysis``); the
templates ``atlas.html.j2`` and ``compare.html.j2`` only lay them out. Nothing here computes a score.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from urllib.parse import quote

import numpy as np

from reportgen.analysis.claims import TOP_K
from reportgen.analysis.patterns import PATTERNS
from reportgen.analysis.stage import LABEL_ORDER, ModelAnalysis
from reportgen.analysis.verdicts import MIN_PAIRS
from reportgen.render import probe_view as probe_mod
from reportgen.render.assets import TABLE_SCRIPTS, script_srcs
from reportgen.render.coref_marks import pronoun_token
from reportgen.render.hrefs import exbert, head_href, viewer_href
from reportgen.render.pages import front_matter, run_provenances
from reportgen.render.pieces import pieces_table
from reportgen.render.templates import environment
from reportgen.render.text import fmt, fmt_rho

ATLAS_DIR = "atlas"
COMPARE_PAGE = "compare.md"
TOP = 10
TOP_LANG = 5
TOP_DETAIL = 5

#: every heat map of the atlas: key -> (title, what the number is)
MAPS: dict[str, tuple[str, str]] = {
    "prev": ("Previous token", "mean attention to the token before (i-1)"),
    "next": ("Next token", "mean attention to the token after (i+1)"),
    "self": ("Self", "mean attention to the token itself"),
    "cls": ("First token ([CLS] / <s>)", "mean attention to the first token"),
    "sep": ("Separators ([SEP], </s>)", "mean attention to special tokens after the first"),
    "punct": ("Punctuation", "mean attention to punctuation tokens"),
    "entropy": ("Entropy", "mean entropy of the attention row, in nats (high: broad attention)"),
    "prev_argmax": ("Previous token is the argmax", "share of tokens whose strongest attention goes to i-1"),
    "next_argmax": ("Next token is the argmax", "share of tokens whose strongest attention goes to i+1"),
    "entropy_norm": ("Normalised entropy", "mean of the row's entropy / ln k, k the positions the row may attend to "
                     "(1: spread evenly, 0: one token; the broad label's score)"),
    "coref_accuracy": ("Coreference accuracy", "share of pronoun pairs where the antecedent gets the most attention"),
    "coref_mass": ("Coreference mass", "mean attention from the pronoun to its antecedent"),
}
LABEL_TITLES = {
    "previous": "Previous-token heads", "next": "Next-token heads", "broad": "Broad heads (normalised entropy)",
    "cls": "[CLS] heads", "sep": "[SEP] heads", "punct": "Punctuation heads", "self": "Self heads",
    "coreference": "Coreference heads",
}
LABEL_MAP = {"previous": "prev", "next": "next", "broad": "entropy_norm", "cls": "cls", "sep": "sep", "punct": "punct",
             "self": "self", "coreference": "coref_accuracy"}


def atlas_page(slug: str) -> str:
    return f"{ATLAS_DIR}/{slug}.md"


def head_name(layer: int, head: int) -> str:
    """0-based "layer-head" and exBERT's 1-based form."""
    return f"{layer}-{head}"


def pronoun_tokens(context, stats, slug: str) -> dict[str, list[int | None]]:
    """Per example of the model, the pronoun token of each usable pair (those ``pairs_detail`` lists, in
    its order): coreference links pin it."""
    out: dict[str, list[int | None]] = {}
    for item in stats:
        record = context.records.get((slug, item.example.slug))
        if record is None:
            continue
        out[item.example.slug] = [pronoun_token(record.word, pair)
                                  for pair, w in zip(item.example.coref, item.coref) if w.size]
    return out


def _pronoun(pronouns: dict | None, example: str | None, k: int = 0) -> int | None:
    found = (pronouns or {}).get(example) or []
    return found[k] if k < len(found) else None


def _scale(key: str, score: np.ndarray) -> tuple[float, float]:
    """Colour scale: shares 0..1; entropy and coreference mass 0..their largest value."""
    finite = score[np.isfinite(score)]
    if key in ("entropy", "coref_mass"):
        high = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        return 0.0, high
    return 0.0, 1.0


def heatmap(key: str, heads: dict, grids, links: dict, model: str, prefix: str = "../",
            pronouns: dict | None = None) -> dict:
    """The view of one heat map: rows of cells with value, colour position, hover text and link."""
    score, low, high = grids[key]
    lo, hi = _scale(key, score)
    title, what = MAPS[key]
    centre = _bar(heads["coreference"]["baselines"]) if key == "coref_accuracy" and heads.get("coreference") else None
    finite = score[np.isfinite(score)]
    if centre is not None and finite.size:
        # diverging scale centred on the strongest baseline: below it one hue, above it the other
        span = max(float(np.max(np.abs(finite - centre))), 0.01)
        lo, hi = centre - span, centre + span
    link_grid = links.get(key)
    digits = 2
    rows = []
    for l in range(score.shape[0]):
        row = []
        for h in range(score.shape[1]):
            v = score[l, h]
            finite = bool(np.isfinite(v))
            pos = min(1.0, max(0.0, (v - lo) / (hi - lo))) if finite and hi > lo else 0.0
            shade = {}
            if centre is not None and finite:
                shade = {"above": f"{max(0.0, 2 * pos - 1):.3f}", "below": f"{max(0.0, 1 - 2 * pos):.3f}"}
            example = link_grid[l][h] if link_grid else None
            hover = f"layer {l}, head {h} (exBERT {exbert(l, h)}): {fmt(v)}"
            if low is not None and finite and np.isfinite(low[l, h]):
                hover += f", 95% interval {fmt(low[l, h])}–{fmt(high[l, h])}"
            if example:
                hover += f"; click: example {example} at this head"
            token = _pronoun(pronouns, example) if key.startswith("coref") else None
            row.append({"layer": l, "head": h, "text": fmt(v, digits) if finite else "–", "v": f"{pos:.3f}",
                        "hi": (abs(2 * pos - 1) > 0.6) if shade else pos > 0.6, "nan": not finite, "title": hover,
                        **shade,
                        "value": repr(float(v)) if finite else "",
                        "href": viewer_href(prefix, example, model, l, h, token),
                        "head_href": head_href(prefix, model, l, h)})
        rows.append(row)
    if key.startswith("coref"):
        c = heads["coreference"]
        support = f"{c['pairs']} pronoun pairs in {c['examples']} examples"
    else:
        support = f"{heads['counts'].get(key, heads['tokens'])} from-positions in {heads['examples']} examples"
    diverging = None
    if centre is not None:
        names = {"nearest": "nearest preceding", "first": "first-mentioned", "random": "random"}
        strongest = max((k for k in names if heads["coreference"]["baselines"].get(k) is not None),
                        key=lambda k: float(heads["coreference"]["baselines"][k]))
        diverging = {"centre": fmt(centre), "baseline": names[strongest]}
    return {"key": key, "title": title, "what": what, "rows": rows, "low": fmt(lo, 2), "high": fmt(hi, 2),
            "diverging": diverging,
            "support": support, "heads": score.shape[1], "unit": "nats" if key == "entropy" else ""}


def ranking_tables(model_analysis: ModelAnalysis, model: str, prefix: str = "../",
                   pronouns: dict | None = None) -> list[dict]:
    """Per label, the top heads with score, interval, bar and the data behind them."""
    heads, links = model_analysis.heads, model_analysis.links
    tables = []
    for label in LABEL_ORDER:
        if label not in model_analysis.labels:
            continue
        ls, ranking = model_analysis.labels[label]
        link_grid = links.get(LABEL_MAP[label])
        rows = []
        for r in ranking[:TOP]:
            example = link_grid[r["layer"]][r["head"]] if link_grid else None
            rows.append(dict(r, name=head_name(r["layer"], r["head"]), exbert=exbert(r["layer"], r["head"]),
                             score_text=fmt(r["score"]), ci_text=_ci(r["low"], r["high"]), p_text=fmt_p(r["p"]),
                             href=viewer_href(prefix, example, model, r["layer"], r["head"],
                                              _pronoun(pronouns, example) if label == "coreference" else None),
                             head_href=head_href(prefix, model, r["layer"], r["head"])))
        cannot = None
        if label == "coreference":
            bar = (f"beats the strongest baseline ({fmt(ls.baseline)}) with Holm-adjusted p <= 0.05 over all heads"
                   if ls.judged else "none: too few pairs to judge")
            support = f"{ls.support['pairs']} pairs in {ls.support['examples']} examples"
        else:
            bar = f"score > {ls.threshold:g}" if ls.threshold is not None else None
            support = f"{ls.support['tokens']} from-positions in {ls.support['examples']} examples"
            info = (heads.get("thresholds") or {}).get(label)
            if info and not info.get("reachable", True):
                upper = info.get("upper")
                why = " (a causal model cannot attend to the next token)" if label == "next" else ""
                cannot = (f"This label cannot fire on these examples: its score can be at most {fmt(upper)} (the share "
                          f"of from-positions that can attend to anything it measures), not above {ls.threshold:g}."
                          if upper is not None else f"This label cannot fire: no from-position has this score{why}.")
        tables.append({"label": label, "title": LABEL_TITLES[label], "unit": ls.unit, "bar": bar,
                       "support": support, "rows": rows, "cannot": cannot})
    return tables


def fmt_p(value) -> str:
    """An adjusted p-value: 3 significant digits, "< 0.0001" below that, "–" when there is none."""
    if value is None or not math.isfinite(float(value)):
        return "–"
    value = float(value)
    return "< 0.0001" if value < 1e-4 else f"{value:.3g}"


def _ci(low, high) -> str:
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    return f"{low:.3f}–{high:.3f}"


def verdict(ranking: list[dict], baselines: dict, block: dict) -> dict:
    """The family-wise corrected verdict of one set of pairs (``block``: the heads file's coreference dict or
    one of its subsets, with ``judged`` and ``beats_baselines``). Returns {"beats": [...], "text", "ok"}."""
    values = {k: baselines.get(k) for k in ("nearest", "first", "random")}
    finite = {k: float(v) for k, v in values.items() if v is not None and math.isfinite(float(v))}
    if not ranking or not finite:
        return {"beats": [], "text": "No ranking.", "ok": False}
    bar = max(finite.values())
    named = (f"first-mentioned ({fmt(values['first'])}), random ({fmt(values['random'])}) and nearest preceding "
             f"({fmt(values['nearest'])})")
    best = ranking[0]
    if not block.get("judged", False):
        text = (f"Too few pairs to judge ({block.get('pairs', 0)}; a verdict needs at least {MIN_PAIRS}): the best head, "
                f"{head_name(best['layer'], best['head'])}, reaches {fmt(best['accuracy'])} (95% interval "
                f"{_ci(*best['accuracy_ci'])}) against {fmt(bar)}, the strongest of {named}.")
        return {"beats": [], "text": text, "ok": False}
    accuracy = {(r["layer"], r["head"]): r for r in ranking}
    beats = [{"layer": l, "head": h, "p": p, **({k: accuracy[(l, h)][k] for k in ("accuracy", "accuracy_ci")}
                                                 if (l, h) in accuracy else {})}
             for l, h, p in block.get("beats_baselines", [])]
    if beats:
        heads = ", ".join(f"{head_name(r['layer'], r['head'])} ({fmt(r.get('accuracy'))}, adjusted p {fmt_p(r['p'])})"
                          for r in beats[:5])
        more = f" and {len(beats) - 5} more" if len(beats) > 5 else ""
        text = (f"{len(beats)} head{'s' if len(beats) != 1 else ''} beat{'s' if len(beats) == 1 else ''} the "
                f"strongest baseline ({fmt(bar)}, the strongest of {named}) after correction for all heads: "
                f"{heads}{more}.")
    else:
        text = (f"No head beats the baselines after correction for all heads: the best head, "
                f"{head_name(best['layer'], best['head'])} (exBERT {exbert(best['layer'], best['head'])}), reaches "
                f"{fmt(best['accuracy'])} (95% interval {_ci(*best['accuracy_ci'])}, adjusted p "
                f"{fmt_p(best.get('p_adjusted'))}) against {fmt(bar)}, the strongest of {named}.")
    return {"beats": beats, "text": text, "ok": bool(beats)}


def _ranking_rows(ranking: list[dict], links: dict, model: str, prefix: str,
                  pronouns: dict | None = None) -> list[dict]:
    grid = links.get("coref_accuracy")
    rows = []
    for k, r in enumerate(ranking):
        example = grid[r["layer"]][r["head"]] if grid else None
        p = r.get("p_adjusted")
        rows.append(dict(r, position=k + 1, name=head_name(r["layer"], r["head"]), exbert=exbert(r["layer"], r["head"]),
                         acc_text=fmt(r["accuracy"]), ci_text=_ci(*r["accuracy_ci"]), p_text=fmt_p(p),
                         mass_text=fmt(r.get("mass")), mass_ci_text=_ci(*(r.get("mass_ci") or [None, None])),
                         beats=(bool(r.get("beats")) if p is not None else None),
                         href=viewer_href(prefix, example, model, r["layer"], r["head"], _pronoun(pronouns, example)),
                         head_href=head_href(prefix, model, r["layer"], r["head"])))
    return rows


def _bar(baselines: dict) -> float | None:
    """The strongest of the nearest-preceding, first-mentioned and random baselines (None: none finite)."""
    finite = [float(v) for k, v in baselines.items() if k in ("nearest", "first", "random")
              and v is not None and math.isfinite(float(v))]
    return max(finite) if finite else None


def coreference_view(heads: dict, links: dict, model: str, shown: set, prefix: str = "../",
                     pronouns: dict | None = None) -> dict | None:
    c = heads.get("coreference")
    if not c:
        return None
    overall = {"kind": None, "name": "all", "pairs": c["pairs"], "examples": c["examples"], "baselines": c["baselines"],
               "verdict": verdict(c["ranking"], c["baselines"], c),
               "rows": _ranking_rows(c["ranking"][:TOP], links, model, prefix, pronouns)}
    subsets = []
    for kind, key in (("Language", "by_language"), ("Source", "by_source")):
        for name, sub in (c.get(key) or {}).items():
            if "baselines" not in sub:  # heads file from before per-subset baselines
                continue
            subsets.append({"kind": kind, "name": name, "pairs": sub["pairs"], "examples": sub["examples"],
                            "baselines": sub["baselines"], "verdict": verdict(sub["top"], sub["baselines"], sub),
                            "rows": _ranking_rows(sub["top"][:TOP_LANG], links, model, prefix, pronouns)})
    top = c["ranking"][:TOP_DETAIL]
    detail = []
    seen: dict[str, int] = {}
    best = top[0] if top else None
    for pair in c.get("pairs_detail", []):
        k = seen[pair["example"]] = seen.get(pair["example"], -1) + 1  # this pair's place among its example's
        choices = {(x["layer"], x["head"]): x["choice"] for x in pair["choices"]}
        cells = []
        for r in top:
            choice = choices.get((r["layer"], r["head"]))
            if choice is None:
                cells.append({"text": "?", "state": "none"})
            elif choice < 0:
                cells.append({"text": "tie", "state": "wrong"})
            else:
                right = choice == _antecedent_index(pair)
                cells.append({"text": pair["candidates"][choice], "state": "right" if right else "wrong"})
        href = None
        if pair["example"] in shown and best is not None:
            href = viewer_href(prefix, pair["example"], model, best["layer"], best["head"],
                               _pronoun(pronouns, pair["example"], k))
        detail.append({"example": pair["example"], "href": href, "language": pair["language"],
                       "source": pair.get("source", ""), "pronoun": pair["pronoun"], "antecedent": pair["antecedent"],
                       "candidates": pair["candidates"], "cells": cells})
    return {"overall": overall, "subsets": subsets, "detail": detail,
            "span_rule": c.get("span_rule", "sum"), "span_rule_text": c.get("span_rule_text", ""),
            "correction": (c.get("correction") or {}).get("text", ""),
            "detail_heads": [{"name": head_name(r["layer"], r["head"]), "exbert": exbert(r["layer"], r["head"])}
                             for r in top],
            "right": [sum(row["cells"][j]["state"] == "right" for row in detail) for j in range(len(top))]}


def _antecedent_index(pair: dict) -> int:
    """The antecedent's candidate index (older heads files lack it: the first candidate with its text)."""
    if "antecedent_index" in pair:
        return int(pair["antecedent_index"])
    return pair["candidates"].index(pair["antecedent"])


def claims_view(results) -> list[dict]:
    rows = []
    for r in results:
        if r.status == "checked":
            if r.label == "coreference":
                bar = (f"beats {fmt(r.baseline)}, adjusted p {fmt_p(r.p_adjusted)}" if r.p_adjusted is not None
                       else "too few pairs to judge")
            else:
                bar = f"> {r.threshold:g}" if r.threshold is not None else "no threshold"
            rows.append({"r": r, "name": head_name(r.layer, r.head), "exbert": exbert(r.layer, r.head),
                         "rank": f"{r.rank} of {r.of}", "score": fmt(r.score), "ci": _ci(r.low, r.high), "bar": bar,
                         "passes": r.passes, "top_k": r.top_k,
                         "best": f"{head_name(r.best['layer'], r.best['head'])} ({fmt(r.best['score'])})" if r.best else "–",
                         "message": ""})
        else:
            rows.append({"r": r, "name": head_name(r.layer, r.head), "exbert": exbert(r.layer, r.head), "rank": "–",
                         "score": "–", "ci": "–", "bar": "–", "passes": None, "top_k": None, "best": "–",
                         "message": r.message})
    return rows


def atlas_view(context, run, model: ModelAnalysis, results) -> dict:
    slug = run.spec.slug
    heads, links, grids = model.heads, model.links, model.grids
    pronouns = pronoun_tokens(context, model.stats, slug)
    maps = [heatmap(key, heads, grids, links, slug, pronouns=pronouns) for key in MAPS if key in grids]
    return {"spec": run.spec, "run": run, "heads": heads, "maps": maps,
            "rankings": ranking_tables(model, slug, pronouns=pronouns),
            "coref": coreference_view(heads, links, slug, context.shown, pronouns=pronouns),
            "claims": claims_view([r for r in results if r.model == slug]),
            "probe": probe_mod.probe_view(heads, links.get("coref_accuracy"), slug, pronouns=pronouns,
                                          head_link=lambda l, h: head_href("../", slug, l, h)),
            "provenance": run.provenance, "k": TOP_K}


# ---------------------------------------------------------------- compare page


def models_view(context) -> dict:
    """Models of the same shape: Spearman per score and top heads side by side, on the examples both ran."""
    runs = [r for r in context.runs if r.spec.slug in context.heads_files]
    shapes = {r.spec.slug: (r.layers, r.heads) for r in runs}
    names = {r.spec.slug: r.spec.name for r in runs}
    pairs = []
    for pair in context.analysis.pairs:
        a, b = pair.a, pair.b
        side = []
        for key, entries in pair.side.items():
            rows = []
            for k, (x, y) in enumerate(entries):
                rows.append({"rank": k + 1, "a": _head_cell(x), "b": _head_cell(y)})
            side.append({"key": key, "title": MAPS[key][0], "rows": rows})
        pairs.append({"a": names[a], "b": names[b], "a_slug": a, "b_slug": b, "common": pair.common,
                      "rho": [{"key": k, "title": MAPS[k][0], "value": fmt_rho(v)} for k, v in pair.rho.items()],
                      "side": side})
    return {"models": [{"name": names[s], "slug": s, "layers": shapes[s][0], "heads": shapes[s][1]} for s in shapes],
            "pairs": pairs}


def _head_cell(entry) -> dict | None:
    if entry is None:
        return None
    l, h, v = entry
    return {"name": head_name(l, h), "exbert": exbert(l, h), "value": fmt(v)}


def languages_view(context) -> list[dict]:
    """Per model: translation groups, per-language pooled scores and correlations, per-head values."""

    out = []
    names = {run.spec.slug: run.spec.name for run in context.runs}
    for lang in context.analysis.languages:
        slug, examples, sets = lang.slug, lang.examples, lang.sets
        heads = context.heads_files[slug]
        view = {"name": names[slug], "slug": slug, "groups": [], "correlations": [], "tables": [],
                "coref_languages": _coref_languages(heads)}
        if not sets:
            out.append(view)
            continue
        view["languages"] = lang.languages
        view["correlations"] = [{"a": r["a"], "b": r["b"], "rho": [fmt_rho(r["rho"][name]) for name in PATTERNS]}
                                for r in lang.correlations]
        view["patterns"] = [MAPS[name][0] for name in PATTERNS]
        for group, langs in sets.items():
            view["groups"].append({"name": group, "languages": [
                {"language": language, "examples": [examples[i].id for i in idx]} for language, idx in langs.items()]})
        grids = context.analysis.models[slug].grids
        for table in lang.tables:
            key, top = table.key, table.top
            rows = []
            for group, members, values, spread in table.groups:
                for i, row in zip(members, values):
                    rows.append({"group": group, "language": examples[i].language, "example": examples[i].id,
                                 "href": f"examples/{quote(examples[i].slug)}.html" if examples[i].slug in context.shown else None,
                                 "cells": [{"text": fmt(v, 2), "v": f"{_unit(v):.3f}", "hi": _unit(v) > 0.6,
                                            "nan": not math.isfinite(v),
                                            "href": viewer_href("", examples[i].slug if examples[i].slug in context.shown else None,
                                                                slug, l, h)}
                                           for v, (l, h) in zip(row, top)]})
                rows.append({"group": group, "language": "spread", "example": "largest − smallest", "href": None,
                             "spread": True, "cells": [{"text": fmt(v, 2), "v": "0", "hi": False, "nan": True, "href": None}
                                                       for v in spread]})
            view["tables"].append({"key": key, "title": MAPS[key][0], "what": MAPS[key][1],
                                   "heads": [{"name": head_name(l, h), "exbert": exbert(l, h),
                                              "overall": fmt(grids[key][0][l, h], 2)} for l, h in top],
                                   "rows": rows})
        out.append(view)
    return out


def _unit(v: float) -> float:
    return min(1.0, max(0.0, float(v))) if math.isfinite(v) else 0.0


def _coref_languages(heads: dict) -> dict | None:
    """Top coreference heads per language side by side (from the heads file's per-language rankings)."""
    c = heads.get("coreference")
    if not c or not c.get("by_language"):
        return None
    langs = list(c["by_language"])
    rows = []
    for k in range(TOP_LANG):
        cells = []
        for lang in langs:
            top = c["by_language"][lang]["top"]
            if k < len(top):
                r = top[k]
                ci = r.get("accuracy_ci")
                cells.append({"name": head_name(r["layer"], r["head"]), "value": fmt(r["accuracy"]),
                              "ci": _ci(*ci) if ci else "–"})
            else:
                cells.append(None)
        rows.append({"rank": k + 1, "cells": cells})
    return {"languages": [{"name": lang, "pairs": c["by_language"][lang]["pairs"],
                           "baselines": c["by_language"][lang].get("baselines")} for lang in langs], "rows": rows}


def render(context) -> Iterator[tuple[str, str]]:
    """Yield (path relative to site_src, text) for every atlas page and the compare page."""

    env = environment()
    results = context.analysis.claims
    for run in context.runs:
        model = context.analysis.models.get(run.spec.slug)
        if model is None:
            continue
        view = atlas_view(context, run, model, results)
        yield atlas_page(run.spec.slug), front_matter(f"Head atlas: {run.spec.name}", wide=True) + env.get_template(
            "atlas.html.j2").render(atlas=view, fmt=fmt,
                                    table_scripts=script_srcs(TABLE_SCRIPTS, "../"))
    yield COMPARE_PAGE, front_matter("Compare models and languages", wide=True) + env.get_template("compare.html.j2").render(
        models=models_view(context), languages=languages_view(context),
        claims=claims_view(results), k=TOP_K, fmt=fmt, provenances=run_provenances(context),
        pieces=pieces_table(context))
