"""``reportgen export``: one example's viewers as a single standalone HTML file.

The record comes from the cache or from running the model exactly as a build would (batches planned
over all of the model's examples, ``pipeline.run_model(only=...)``); the file inlines the viewer's CSS
and scripts and the quantised data (``render.standalone``), so it opens from disk or as an e-mail
attachment with no network and no other file.
"""
from __future__ import annotations

import html
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from reportgen.analysis.labels import strongest_label
from reportgen.analysis.patterns import PatternSums, finalize
from reportgen.errors import UserError
from reportgen.manifest import load_manifest
from reportgen.pipeline import BuildOptions, run_model
from reportgen.plan import examples_for
from reportgen.render import beyond
from reportgen.render.payload import data_chunks, layer_object, meta_object, qk_object
from reportgen.render.standalone import fragment, page
from reportgen.store.cache import Cache
from reportgen.store.fileio import atomic_write
from reportgen.store.quantize import MAX_ERROR


def find_example(manifest, ref: str):
    """The example whose id or slug is ``ref``; UserError naming the manifest and the choices."""
    for example in manifest.examples:
        if ref in (example.id, example.slug):
            return example
    ids = ", ".join(repr(e.id) for e in manifest.examples[:8]) + (" ..." if len(manifest.examples) > 8 else "")
    raise UserError(f"{manifest.path}: no example {ref!r}; give an example id or slug: {ids}")


def find_model(manifest, ref: str | None):
    """The model named ``ref`` (id, name or slug); with one model, ``ref`` may be None."""
    if ref is None:
        if len(manifest.models) == 1:
            return manifest.models[0]
        raise UserError(f"{manifest.path}: {len(manifest.models)} models; pick one with --model NAME: "
                        + ", ".join(repr(m.name) for m in manifest.models))
    for spec in manifest.models:
        if ref in (spec.id, spec.name, spec.slug):
            return spec
    raise UserError(f"{manifest.path}: no model {ref!r}; --model takes a model's id, name or slug: "
                    + ", ".join(repr(m.name) for m in manifest.models))


def _viewable(manifest, example):
    """The manifest with ``example`` shown (viewer data kept), so its record carries the heavy arrays."""
    examples = tuple(replace(e, show=True) if e.slug == example.slug else e for e in manifest.examples)
    settings = replace(manifest.settings, display_limit=max(manifest.settings.display_limit, len(examples)))
    return replace(manifest, examples=examples, settings=settings)


def example_record(manifest, example_ref: str, model_ref: str | None, options):
    """(model spec, example, record, model run) of one example, from the cache or computed."""
    example = find_example(manifest, example_ref)
    spec = find_model(manifest, model_ref)
    if not examples_for(spec, [example]):
        raise UserError(f"{manifest.path}: model {spec.id!r} does not run example {example.id!r} (language "
                        f"{example.language!r} is not in its languages:); pick another model")
    viewable = _viewable(manifest, example)
    example = find_example(viewable, example.slug)
    kept = {}

    def sink(run, ex, record):
        kept[ex.slug] = record
        return record

    cache = Cache(options.cache_dir, enabled=options.use_cache)
    run = run_model(viewable, spec, options, cache, sink, only={example.slug})
    return spec, example, kept[example.slug], run


def record_html(spec, example, record, run) -> str:
    """The standalone page of one record: the sentences, provenance, the viewer with every layer inlined."""
    key = f"{spec.slug}/{example.slug}"
    layers, heads = record.attention_q.shape[:2]
    labels = strongest_label(finalize(PatternSums(record.sums_num, record.sums_count)))
    words = [{"text": w.text, "segment": w.segment} for w in example.words()]
    has_qk = "q" in record.extras
    qk_layers = list(range(layers)) if has_qk else []
    qk_error = float(record.extras["qk_error"][0]) if has_qk and "qk_error" in record.extras else None
    meta = meta_object(key, spec.slug, example.slug, record, words, labels, spec.name, qk_layers,
                       qk_error if qk_error is not None and np.isfinite(qk_error) else None,
                       layer_files=[], qk_files={str(k): "Q.js" for k in qk_layers})
    files = beyond.example_files(key, example, record)
    meta.update(beyond.meta_fields(False, *beyond.prediction_status(record.extras)))
    meta["rollout_file"] = beyond.ROLLOUT_FILE if beyond.ROLLOUT_FILE in files else None
    chunks = list(data_chunks(meta))
    for layer in range(layers):
        chunks += data_chunks(layer_object(key, layer, record.attention_q, record.causal))
    if has_qk:
        for layer in range(layers):
            chunks += data_chunks(qk_object(key, layer, record.extras["q"][layer], record.extras["k"][layer]))
    for name in sorted(files):
        chunks += files[name]
    data_js = b"".join(chunks).decode("utf-8")
    provenance = _provenance(record) or run.provenance
    esc = html.escape
    head = [f"<h1>{esc(example.id)}</h1>", "<table class=\"rg-scores\"><tbody>",
            f"<tr><th>Sentence A</th><td dir=\"auto\">{esc(example.a)}</td></tr>"]
    if example.b is not None:
        head.append(f"<tr><th>Sentence B</th><td dir=\"auto\">{esc(example.b)}</td></tr>")
    for pair in example.coref:
        head.append(f"<tr><th>Coreference</th><td>{esc(pair.pronoun_text)} → {esc(pair.antecedent_text)} "
                    f"(candidates: {esc(', '.join(pair.candidate_texts))})</td></tr>")
    head.append(f"<tr><th>Model</th><td>{esc(spec.name)} ({esc(spec.id)}), {layers} layers × {heads} heads, "
                f"{len(record.tokens)} tokens{' (truncated)' if record.truncated else ''}</td></tr>")
    shown = ", ".join(f"{k} {v}" for k, v in sorted(provenance.items()) if isinstance(v, (str, int, float)))
    head.append(f"<tr><th>Provenance</th><td>{esc(shown)}</td></tr></tbody></table>")
    head.append(f"<p>Attention is stored as 8-bit integers: every weight shown is within ±{MAX_ERROR:.5f} of the "
                "model's value. Head labels in the viewer are this example's own scores. Made by "
                "<code>reportgen export</code>; nothing here is fetched from the network.</p>")
    body = "\n".join(head) + "\n" + fragment(data_js, example.slug, "export", {"view": "head"})
    return page(body, f"{example.id} · {spec.name} · reportgen")


def _provenance(record) -> dict:
    blob = record.extras.get("provenance")
    if blob is None:
        return {}
    try:
        return json.loads(np.asarray(blob, dtype=np.uint8).tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}


def export(manifest, example_ref: str, model_ref: str | None, out: Path, options) -> dict:
    """Write ``out`` (one standalone HTML file); return {"path", "bytes", "model", "example", "tokens"}."""
    out = Path(out)
    if out.is_dir():
        raise UserError(f"-o {out}: is a folder; give a file name such as {out / 'example.html'}")
    spec, example, record, run = example_record(manifest, example_ref, model_ref, options)
    text = record_html(spec, example, record, run).encode("utf-8")
    atomic_write(out, [text])
    return {"path": out, "bytes": len(text), "model": spec.id, "example": example.id, "tokens": len(record.tokens)}


def export_example(manifest_path, example: str, model: str | None = None, output=None, *, cache_dir=None,
                   use_cache: bool = True, device: str = "cpu", dtype: str = "float32") -> dict:
    """The Python API of ``reportgen export``: load the manifest, write the example's standalone HTML file.

    ``output`` defaults to ``EXAMPLE-MODEL.html`` (slugs) in the current folder. Raises ``UserError``
    (bad manifest, example or model name) or ``RunError`` (the model failed); returns what ``export`` does.
    """
    manifest = load_manifest(manifest_path)
    if output is None:
        output = f"{find_example(manifest, example).slug}-{find_model(manifest, model).slug}.html"
    options = BuildOptions(cache_dir=Path(cache_dir) if cache_dir else None, use_cache=use_cache, device=device,
                           dtype=dtype, progress=False)
    return export(manifest, example, model, Path(output), options)
