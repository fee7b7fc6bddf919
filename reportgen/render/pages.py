"""Where pages are rendered: turn the analysed build into Markdown pages (HTML inside) via Jinja.

Pages are Markdown files whose body is one raw HTML block, so Python-Markdown leaves manifest and
token text alone; every such value is HTML-escaped (``render.text.html_text``, the Jinja environment's
``finalize``). Titles go through YAML front matter, escaped too, because MkDocs themes print titles
without escaping.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from reportgen.analysis.labels import THRESHOLDS
from reportgen.analysis.patterns import PATTERNS
from reportgen.analysis.pieces import MANY_PIECES
from reportgen.analysis.stage import SiteAnalysis
from reportgen.render import probe_view as probe_mod
from reportgen.render.assets import TABLE_SCRIPTS, VIEWER_SCRIPTS, script_srcs
from reportgen.render.coref_marks import pronoun_token
from reportgen.render.payload import js_json
from reportgen.render.pieces import pieces_view
from reportgen.render.templates import environment
from reportgen.render.text import fmt, html_text
from reportgen.store.quantize import MAX_ERROR

PATTERN_TITLES = {
    "prev": "Previous token (mean attention to i-1)",
    "next": "Next token (mean attention to i+1)",
    "self": "Self (mean attention to i)",
    "cls": "First token ([CLS] / <s>)",
    "sep": "Special tokens after the first ([SEP], </s>)",
    "punct": "Punctuation",
    "entropy": "Entropy (nats)",
    "prev_argmax": "Previous token is the argmax (share)",
    "next_argmax": "Next token is the argmax (share)",
    "entropy_norm": "Normalised entropy (entropy / ln k)",
}
EXAMPLES_PER_PAGE = 100
# Every example of the list, for its filters (tables.js filters the whole list, not one page of it)
EXAMPLE_LIST_FILE = "data/examples-list.js"


@dataclass
class SiteContext:
    manifest: object
    runs: list
    heads_files: dict
    records: dict
    shown: set
    changes: dict | None = None  # `build --compare`: the change report; adds changes.md to the nav
    verdicts: dict | None = None  # model slug -> coreference verdict {"text", "ok"} (render.head_pages)
    analysis: SiteAnalysis | None = None  # every number the pages show (analysis.stage)


def front_matter(title: str, wide: bool = False) -> str:
    """YAML front matter with an HTML-escaped title (themes print titles raw).

    ``wide`` hides Material's navigation and table-of-contents sidebars to give viewers the width.
    """
    meta: dict = {"title": str(html_text(title))}
    if wide:
        meta["hide"] = ["navigation", "toc"]
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True, width=1000) + "---\n\n"


def cell_style(value: float | None, high: float) -> str:
    """Inline background for a heatmap table cell: blue with alpha proportional to value / high."""
    if value is None or not math.isfinite(value) or high <= 0:
        return ""
    alpha = max(0.0, min(1.0, value / high))
    return f"background: rgba(33, 102, 172, {alpha * 0.85:.3f}); color: {'#fff' if alpha > 0.55 else 'inherit'}"


def pattern_tables(heads: dict) -> list[dict]:
    tables = []
    for name in PATTERNS:
        grid = heads["patterns"][name]
        finite = [v for row in grid for v in row if v is not None]
        high = max(finite) if name == "entropy" and finite else 1.0
        rows = [[{"text": fmt(v), "style": cell_style(v, high), "layer": l, "head": h} for h, v in enumerate(row)]
                for l, row in enumerate(grid)]
        tables.append({"name": name, "title": PATTERN_TITLES[name], "rows": rows, "count": heads["counts"][name]})
    return tables


def _model_view(run, context: SiteContext) -> dict:
    heads = context.heads_files.get(run.spec.slug)
    examples = [e for e in run.examples if (run.spec.slug, e.slug) in context.records]
    return {"run": run, "spec": run.spec, "heads": heads, "examples": examples,
            "tables": pattern_tables(heads) if heads else [], "thresholds": THRESHOLDS,
            "provenance": run.provenance, "probe": _probe(heads, run.spec.slug, context),
            "pieces": pieces_view(context.analysis.models.get(run.spec.slug)) if heads else [],
            "verdict": (context.verdicts or {}).get(run.spec.slug)}


def _probe(heads: dict | None, slug: str, context: SiteContext) -> dict | None:
    """The attention probe's section; its heat-map cells open the first shown example with a pair, its
    first pronoun pinned."""
    if not heads or "probe" not in heads:
        return None
    example = probe_mod.first_coref_example(heads, context.shown)
    grid = [[example] * heads["model"]["heads"] for _ in range(heads["model"]["layers"])]
    record = context.records.get((slug, example))
    spec = next((e for e in context.manifest.examples if e.slug == example), None)
    pronouns = {example: [pronoun_token(record.word, pair) for pair in spec.coref]} if record and spec else None
    return probe_mod.probe_view(heads, grid, slug, pronouns=pronouns)


def js_attr(value) -> str:
    """JSON for an HTML attribute (the template escapes it)."""
    return js_json(value)


def masked_lm_models(context: SiteContext) -> list[dict]:
    """Models of the site whose records carry masked-token predictions ({"slug", "name"}), so that a
    model without a masked-LM head can point to them."""
    found = set()
    for (model, _), record in context.records.items():
        if record.predictions[0] == "ok":
            found.add(model)
    return [{"slug": run.spec.slug, "name": run.spec.name} for run in context.runs if run.spec.slug in found]


def run_provenances(context: SiteContext) -> list[tuple[str, dict]]:
    """(model name, provenance) of every model that ran, for pages that draw on all of them."""
    return [(run.spec.name, run.provenance) for run in context.runs if run.error is None and run.provenance]


def list_page_name(page: int) -> str:
    """Example list pages: examples.md, examples-2.md, ... (0-based ``page``)."""
    return "examples.md" if page == 0 else f"examples-{page + 1}.md"


def example_list_rows(examples, by_example: dict, shown) -> list[dict]:
    """One row per example of the list pages, in manifest order: what its filters match and its cells show."""
    rows = []
    for k, e in enumerate(examples):
        views = by_example.get(e.slug) or []
        rows.append({"n": k + 1, "id": e.id, "href": f"examples/{e.slug}.html" if e.slug in shown and views else None,
                     "language": e.language, "a": e.a, "b": e.b, "pairs": len(e.coref),
                     "annotation": "coref" if e.coref else "none",
                     "models": " ".join(v["spec"].slug for v in views), "names": ", ".join(v["spec"].name for v in views)})
    return rows


def render_all(context: SiteContext) -> Iterator[tuple[str, str]]:
    """Yield (path relative to site_src, text) for every page."""
    env = environment()
    manifest = context.manifest
    models = [_model_view(run, context) for run in context.runs]
    by_example: dict[str, list] = {}
    for view in models:
        for example in view["examples"]:
            by_example.setdefault(example.slug, []).append(view)
    # examples listed without a link: beyond settings.display_limit, `show: false`, or run by no model
    without_page = sum(1 for e in manifest.examples if not (e.slug in context.shown and by_example.get(e.slug)))
    limits = {"without_page": without_page, "display_limit": manifest.settings.display_limit}
    yield "index.md", front_matter(manifest.title) + env.get_template("home.html.j2").render(
        title=manifest.title, models=models, examples=manifest.examples[:EXAMPLES_PER_PAGE],
        total_examples=len(manifest.examples), by_example=by_example, shown=context.shown,
        notes=getattr(manifest, "notes", ()), **limits)
    for view in models:
        if view["heads"] is None:
            continue
        yield f"models/{view['spec'].slug}.md", front_matter(view["spec"].name) + env.get_template("model.html.j2").render(
            model=view, fmt=fmt, shown=context.shown, pieces_threshold=f"{MANY_PIECES:g}",
            table_scripts=script_srcs(TABLE_SCRIPTS, "../"))
    pages = max(1, math.ceil(len(manifest.examples) / EXAMPLES_PER_PAGE))
    yield EXAMPLE_LIST_FILE, "window.RG_EXAMPLE_LIST = " + js_json(
        {"per_page": EXAMPLES_PER_PAGE, "rows": example_list_rows(manifest.examples, by_example, context.shown)}) + ";\n"
    for page in range(pages):
        chunk = manifest.examples[page * EXAMPLES_PER_PAGE:(page + 1) * EXAMPLES_PER_PAGE]
        name = list_page_name(page)
        yield name, front_matter(f"Examples ({page + 1}/{pages})") + env.get_template(
            "examples.html.j2").render(examples=chunk, page=page + 1, pages=pages, by_example=by_example,
                                       provenances=run_provenances(context),
                                       shown=context.shown, first=page * EXAMPLES_PER_PAGE,
                                       languages=sorted({e.language for e in manifest.examples}),
                                       model_names=[(v["spec"].slug, v["spec"].name) for v in models],
                                       table_scripts=[EXAMPLE_LIST_FILE] + script_srcs(TABLE_SCRIPTS, ""),
                                       total_examples=len(manifest.examples), **limits,
                                       page_names=[list_page_name(k).replace(".md", ".html") for k in range(pages)])
    paged = [e for e in manifest.examples if e.slug in context.shown]
    mlm = js_attr(masked_lm_models(context))
    position = {e.slug: k for k, e in enumerate(manifest.examples)}
    for k, example in enumerate(paged):
        views = by_example.get(example.slug, [])
        records = {v["spec"].slug: context.records[(v["spec"].slug, example.slug)] for v in views}
        nav = {"prev": paged[k - 1] if k > 0 else None, "next": paged[k + 1] if k + 1 < len(paged) else None,
               "list": "../" + list_page_name(position[example.slug] // EXAMPLES_PER_PAGE).replace(".md", ".html"),
               "place": k + 1, "of": len(paged)}
        yield f"examples/{example.slug}.md", front_matter(example.id, wide=True) + env.get_template("example.html.j2").render(
            example=example, models=views, records=records, max_error=MAX_ERROR, nav=nav, mlm=mlm,
            scripts=script_srcs(VIEWER_SCRIPTS, "../"))
