"""Beyond attention maps: rollout and prediction data files, model-diff pages, training-run pages.

- Per shown (model, example): ``R.js`` (attention rollout, uint8 [L, n, n]) and ``P.js`` (masked-token
  predictions), loaded on demand by the viewer's Rollout and Predictions views; ``meta.js`` says
  which exist (``rollout_file``, ``predictions``).
- ``diff-<base>-<other>.md``: per-head change of every pattern score and the mean Jensen-Shannon
  distance between the two models' attention rows (``analysis.stage.DiffAnalysis``; the distance is summed
  while records stream in, see ``analysis.collect``).
- ``runs/<id>.md`` + ``data/runs/run-<id>.js``: training curves drawn by the viewer bundle.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from reportgen.analysis.stage import CheckpointAnalysis
from reportgen.extract.predictions import STATUS_TEXT
from reportgen.render.assets import RUN_SCRIPTS, script_srcs
from reportgen.render.atlas import MAPS
from reportgen.render.fs import write_text
from reportgen.render.hrefs import viewer_href
from reportgen.render.mkdocs_config import nav_title
from reportgen.render.pages import front_matter
from reportgen.render.payload import Base64, data_chunks, data_script
from reportgen.render.templates import environment
from reportgen.render.text import fmt as _fmt

ROLLOUT_FILE = "R.js"
PREDICTIONS_FILE = "P.js"
RUNS_DIR = "runs"
BEYOND_CSS = "assets/reportgen/beyond.css"
ROLLOUT_FORMULA = ("Â_l = rownorm(0.5 · mean_h A_l + 0.5 · I);  R_0 = Â_0,  R_l = Â_l · R_(l-1)  "
                   "(Abnar & Zuidema 2020)")


def diff_page(base: str, other: str) -> str:
    return f"diff-{base}-{other}.md"


def run_page(slug: str) -> str:
    return f"{RUNS_DIR}/{slug}.md"


def run_data_file(slug: str) -> str:
    return f"data/{RUNS_DIR}/run-{slug}.js"


def run_heads_file(slug: str) -> str:
    return f"data/{RUNS_DIR}/heads-{slug}.js"


# ---------------------------------------------------------------- per-example files


def _text(value) -> str:
    return str(np.asarray(value).item()) if value is not None else ""


def example_files(key: str, example, record) -> dict[str, list[bytes]]:
    """``R.js`` and ``P.js`` of one shown (model, example), from the record's extras: {file name: chunks}."""
    files = {}
    rollout_q = record.extras.get("rollout_q")
    if rollout_q is not None:
        layers, n, _ = rollout_q.shape
        files[ROLLOUT_FILE] = data_chunks({
            "kind": "rollout", "key": key, "layers": int(layers), "n": int(n), "residual": 0.5,
            "data": Base64(np.ascontiguousarray(rollout_q, dtype=np.uint8))})
    if _text(record.extras.get("pred_status")) == "ok":
        words = example.words()
        items = []
        for k, w in enumerate(record.extras["pred_word"]):
            tokens, probs = record.extras["pred_tokens"][k], record.extras["pred_probs"][k]
            items.append({
                "word": int(w), "text": words[int(w)].text if 0 <= int(w) < len(words) else "",
                "pieces": int(record.extras["pred_pieces"][k]),
                "actual": round(float(record.extras["pred_actual"][k]), 6),
                "top": [[str(t), round(float(p), 6)] for t, p in zip(tokens, probs)],
            })
        files[PREDICTIONS_FILE] = data_chunks({"kind": "predictions", "key": key, "words": items})
    return files


def prediction_status(extras: dict) -> tuple[str, str]:
    """(status, reason) of a record's masked-token predictions, from its extras ("unknown" when unset)."""
    return _text(extras.get("pred_status")) or "unknown", _text(extras.get("pred_reason"))


def meta_fields(has_rollout: bool, status: str, reason: str) -> dict:
    """Extra fields of ``meta.js``: which rollout and prediction files exist, and why not."""

    text = STATUS_TEXT.get(status, "No masked-token predictions are stored for this example.")
    if status == "no-head" and reason:
        text += f" ({reason})"
    return {"rollout_file": ROLLOUT_FILE if has_rollout else None, "rollout_formula": ROLLOUT_FORMULA,
            "predictions": {"status": status, "text": text, "file": PREDICTIONS_FILE if status == "ok" else None}}


# ---------------------------------------------------------------- model diffs


def _heat(key: str, grid: np.ndarray, signed: bool, what: str, digits: int = 3) -> dict:
    finite = grid[np.isfinite(grid)]
    high = float(np.max(np.abs(finite))) if finite.size else 0.0
    high = high if high > 0 else 1.0
    rows = []
    for l in range(grid.shape[0]):
        row = []
        for h in range(grid.shape[1]):
            v = float(grid[l, h])
            ok = math.isfinite(v)
            pos = min(1.0, abs(v) / high) if ok else 0.0
            row.append({"layer": l, "head": h, "text": _fmt(v, digits, signed) if ok else "–", "v": f"{pos:.3f}",
                        "hi": pos > 0.6, "nan": not ok, "neg": ok and v < 0,
                        "title": f"layer {l}, head {h} (exBERT <{l + 1},{h + 1}>): {what} {_fmt(v, 4, signed)}",
                        "href": None})
        rows.append(row)
    return {"key": key, "rows": rows, "heads": grid.shape[1], "high": high}


DIFF_SCHEMA = "reportgen.diff/1"


def diff_slug(base: str, other: str) -> str:
    return f"{base}-{other}"


def diff_views(context) -> list[dict]:
    """One view per ``diffs:`` entry (for ``diff.html.j2``).

    Score changes compare the two models on the examples both ran; a model's own pooled scores over
    other examples would mix the effect of the examples in.
    """

    runs = {r.spec.slug: r for r in context.runs}
    views = []
    for (base, other), found in context.analysis.diffs.items():
        rb, ro = runs.get(base), runs.get(other)
        view = {"base": rb.spec if rb else None, "other": ro.spec if ro else None, "page": diff_page(base, other),
                "base_slug": base, "other_slug": other, "problem": None, "maps": [], "js": None,
                "layer_js": [], "top": [], "same_weights": False}
        views.append(view)
        hb, ho = context.heads_files.get(base), context.heads_files.get(other)
        if hb is None or ho is None:
            failed = base if hb is None else other
            view["problem"] = f"model {failed} did not run (see the home page), so there is nothing to compare."
            continue
        shape_b = (hb["model"]["layers"], hb["model"]["heads"])
        shape_o = (ho["model"]["layers"], ho["model"]["heads"])
        if shape_b != shape_o:
            view["problem"] = (f"the models have different shapes ({shape_b[0]} × {shape_b[1]} and {shape_o[0]} × "
                               f"{shape_o[1]} layers × heads): a head-by-head diff needs the same shape.")
            continue
        view["layers"], view["heads"] = shape_b
        view["same_weights"] = (rb.spec.id == ro.spec.id and rb.revision == ro.revision)
        view["dtypes"] = (rb.provenance.get("dtype", "float32"), ro.provenance.get("dtype", "float32"))
        view["examples_base"], view["examples_other"] = hb["examples"], ho["examples"]
        view["common"] = found.common
        view["compared"] = found.compared
        view["mismatch"] = found.mismatch
        view["precision"] = found.precision
        view["positions"] = found.positions
        js = found.js
        if js is not None:
            view["js"] = _heat("js", js, False, "mean Jensen-Shannon distance",
                               digits=3 if float(np.nanmax(js)) >= 0.1 else 4)
            view["js_mean"] = _fmt(found.js_mean, 4)
            view["js_max"] = _fmt(found.js_max, 4)
            view["layer_js"] = [{"layer": l, "mean": _fmt(mean, 4), "max": _fmt(high, 4)}
                                for l, (mean, high) in enumerate(found.layer_js)]
            view["top"] = [{"layer": l, "head": h, "value": _fmt(v, 4)} for l, h, v in found.top]
        changes, shared = found.changes, found.shared
        view["shared"] = shared
        view["export"] = {"schema": DIFF_SCHEMA, "base": base, "other": other, "examples": shared,
                          "scores": {key: _json_grid(delta) for key, delta in changes.items()},
                          "js": _json_grid(js) if js is not None else None}
        for key, delta in changes.items():
            title, what = MAPS.get(key, (key, key))
            largest = found.largest[key]
            heat = _heat(key, delta, True, "change", digits=4 if largest is not None and largest < 0.01 else 3)
            heat.update(title=title, what=what, largest=_fmt(largest, 4),
                        unit="nats" if key == "entropy" else "")
            view["maps"].append(heat)
    return views


def _json_grid(grid: np.ndarray) -> list[list[float | None]]:
    return [[float(v) if math.isfinite(float(v)) else None for v in row] for row in np.asarray(grid, dtype=np.float64)]


# ---------------------------------------------------------------- pages


def render(context, runs_data: list, root: Path) -> Iterator[tuple[str, str]]:
    """Yield (path relative to site_src, text) for diff and run pages; writes the run data files and
    ``data/diffs/<base>-<other>.json`` (``reportgen.diff/1``)."""

    env = environment()
    nav_diffs, nav_runs = [], []
    for view in diff_views(context):
        if view.get("export") is not None:
            write_text(root / "data" / "diffs" / f"{diff_slug(view['base_slug'], view['other_slug'])}.json",
                       json.dumps(view["export"], indent=1, sort_keys=True) + "\n")
        base = view["base"].name if view["base"] else view["base_slug"]
        other = view["other"].name if view["other"] else view["other_slug"]
        title = f"Model diff: {base} → {other}"
        nav_diffs.append({nav_title(f"{base} → {other}"): view["page"]})
        yield view["page"], front_matter(title) + env.get_template("diff.html.j2").render(
            diff=view, title=title, base=base, other=other)
    for run, obj in runs_data:
        write_text(root / run_data_file(run.slug), data_script(obj))
        nav_runs.append({nav_title(run.name): run_page(run.slug)})
        best = obj["best"]
        found = context.analysis.checkpoints.get(run.slug)
        heads_view = checkpoint_view(context, run, best, found) if found is not None else None
        if heads_view is not None and heads_view["data"] is not None:
            write_text(root / run_heads_file(run.slug), checkpoint_script(heads_view["data"]))
        yield run_page(run.slug), front_matter(f"Training run: {run.name}") + env.get_template("run.html.j2").render(
            run=run, obj=obj, best=best, data_file=f"../{run_data_file(run.slug)}", scripts=script_srcs(RUN_SCRIPTS, "../"),
            summary=[(k, _fmt(v, 4)) for k, v in sorted(obj["summary"].items())],
            fmt=_fmt, relpath=_display_path(run.path, context.manifest.path),
            heads_view=heads_view, heads_file=f"../{run_heads_file(run.slug)}")
    context.extra_nav = ([{"Model diffs": nav_diffs}] if nav_diffs else []) + \
        ([{"Training runs": nav_runs}] if nav_runs else [])


def checkpoint_view(context, run, best: dict | None, found: CheckpointAnalysis) -> dict:
    """The run page's "heads across checkpoints" part: checkpoint list with links, the heads that moved
    most per score, and the data object of ``run-heads.js`` (``data`` None when no checkpoint ran)."""
    rows = []
    for step, slug in run.checkpoints:
        heads = context.heads_files.get(slug)
        example = next((e.slug for e in context.manifest.examples
                        if e.slug in context.shown and (slug, e.slug) in context.records), None)
        rows.append({"step": step, "slug": slug, "ran": heads is not None, "example": example,
                     "model_page": f"../models/{slug}.html", "atlas": f"../atlas/{slug}.html",
                     "viewer": viewer_href("../", example, slug, 0, 0)})
    view = {"rows": rows, "data": None, "moved": [], "diff": None, "problem": found.problem,
            "best_step": best["step"] if best else None}
    ran = found.ran
    if found.problem is not None:
        return view
    if len(ran) >= 2:
        view["diff"] = "../" + diff_page(ran[0][1], ran[-1][1]).replace(".md", ".html")
    examples = {slug: next((r["example"] for r in rows if r["slug"] == slug), None) for _, slug in ran}
    first, last = ran[0][1], ran[-1][1]
    for track, moved in zip(found.tracks, found.moved):
        heads = [dict(item, first_href=viewer_href("../", examples[first], first, item["layer"], item["head"]),
                      last_href=viewer_href("../", examples[last], last, item["layer"], item["head"])) for item in moved]
        view["moved"].append({"key": track.key, "title": track.title, "what": track.what, "heads": heads})
    shape = context.heads_files[first]["model"]
    layers, heads = shape["layers"], shape["heads"]
    view["layers"], view["heads"] = layers, heads
    view["examples"] = sorted({context.heads_files[slug]["examples"] for _, slug in ran})
    view["data"] = {
        "kind": "run-heads", "schema": "reportgen.run-heads/1", "key": run.slug, "layers": layers, "heads": heads,
        "steps": [step for step, _ in ran], "models": [slug for _, slug in ran],
        "viewer": [viewer_href("../", examples[slug], slug, 0, 0) for _, slug in ran],
        "best": best,
        "scores": [{"key": t.key, "title": t.title, "what": t.what,
                    "values": _nested(t.values), "low": _nested(t.low), "high": _nested(t.high),
                    "moved": [[layer, head] for layer, head in charted]} for t, charted in zip(found.tracks, found.charted)],
    }
    return view


def _nested(array: np.ndarray) -> list:
    """[c, l, h] -> [l][h][c] lists (one track per head), NaN as null."""
    return [[[None if not np.isfinite(v) else float(v) for v in array[:, l, h]] for h in range(array.shape[2])]
            for l in range(array.shape[1])]


def checkpoint_script(obj: dict) -> str:
    """``heads-<run>.js``: a classic script pushing the object onto ``window.RG_RUN_HEADS`` (run-heads.js)."""
    text = json.dumps(obj, ensure_ascii=True, sort_keys=True, allow_nan=False).replace("</", "<\\/")
    return f"(window.RG_RUN_HEADS = window.RG_RUN_HEADS || []).push({text});\n"


def _display_path(path: str, manifest_path: str | None) -> str:
    """The run's path relative to the manifest's folder when inside it (no absolute paths on pages)."""

    if manifest_path:
        folder = os.path.dirname(os.path.abspath(manifest_path))
        rel = os.path.relpath(path, folder)
        if not rel.startswith(".."):
            return rel.replace(os.sep, "/")
    return os.path.basename(path)
