"""Write ``site_src/`` (pages, data files, viewer assets) and ``mkdocs.yml``.

Everything goes to a staging folder next to the output first; ``finish`` swaps it into place, so a
failed or interrupted build never leaves a half-written ``site_src/``.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reportgen.analysis.stage import SiteAnalysis
from reportgen.plan import shown_slugs
from reportgen.render import atlas, beyond, head_pages, pages
from reportgen.render.heads_csv import heads_csv
from reportgen.render.changes_page import write_changes
from reportgen.render.coref_marks import pair_marks
from reportgen.render.fs import StagedDir, deferred_signals, write_staged, write_text
from reportgen.render.mkdocs_config import HOOKS_FILE, mkdocs_config
from reportgen.render.payload import (data_chunks, data_script, layer_file_names, layer_object, meta_object,
                                      qk_file_names, qk_object)
from reportgen.render.templates import assets_dir
from reportgen.runs import load_runs

INDEX_SCHEMA = "reportgen.index/1"


class SiteWriter:
    """Streams viewer data while records arrive; renders pages from the build's analysis once every model is done."""

    def __init__(self, manifest, out: Path, config_path: Path):
        self.manifest = manifest
        self.out = Path(out)
        self.config_path = Path(config_path)

        self.training_runs = load_runs(manifest)  # before anything is written: a broken log is bad input
        self.stage = StagedDir(self.out)
        self.root = self.stage.path
        self.shown = shown_slugs(manifest)
        self.records: dict[tuple[str, str], object] = {}

    def data_dir(self, model_slug: str, example_slug: str) -> Path:
        return self.root / "data" / model_slug / example_slug

    def sink(self, run, example, record):
        """Write the record's viewer files (shown examples only); keep what the pages need of it (its tokens
        and which viewer files exist), dropping its heavy arrays."""

        model = run.spec.slug
        names = {}
        if example.slug in self.shown:
            key = f"{model}/{example.slug}"
            files: dict[str, list[bytes]] = {}
            names["layer"] = layer_file_names(record.attention_q, record.causal)
            for layer, name in enumerate(names["layer"]):
                files.setdefault(name, []).extend(data_chunks(layer_object(key, layer, record.attention_q, record.causal)))
            if "q" in record.extras:
                names["qk"] = qk_file_names(record.extras["q"])
                for layer in range(record.extras["q"].shape[0]):
                    files.setdefault(names["qk"][str(layer)], []).extend(data_chunks(
                        qk_object(key, layer, record.extras["q"][layer], record.extras["k"][layer])))
            files.update(beyond.example_files(key, example, record))  # R.js (rollout), P.js (predictions)
            write_staged(self.data_dir(model, example.slug), files)
        qk_error = record.extras.get("qk_error")
        kept = PageRecord(
            tokens=list(record.tokens), special=record.special, segment=record.segment, word=record.word,
            causal=record.causal, full_length=record.full_length, truncated=record.truncated, data_files=names,
            has_qk="q" in record.extras, qk_error=_finite(qk_error[0]) if qk_error is not None else None,
            has_rollout=record.extras.get("rollout_q") is not None,
            predictions=beyond.prediction_status(record.extras))
        self.records[(model, example.slug)] = kept
        return kept

    def finish(self, runs, analysis: SiteAnalysis) -> int:
        """Render pages and mkdocs.yml from ``analysis``, swap the staging folder into place; return bytes written."""
        manifest = self.manifest
        for run in runs:
            model = analysis.models.get(run.spec.slug)
            if run.error is not None or not run.records or model is None:
                continue
            slug = run.spec.slug
            heads = model.heads
            write_text(self.root / "data" / slug / "heads.json", json.dumps(heads, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
            write_text(self.root / "data" / slug / "heads.csv", heads_csv(heads))
            for example in run.examples:
                record = self.records.get((slug, example.slug))
                if record is None or example.slug not in self.shown:
                    continue
                qk_layers = list(range(run.layers)) if record.has_qk else []
                words = [{"text": w.text, "segment": w.segment} for w in example.words()]
                names = record.data_files
                meta = meta_object(f"{slug}/{example.slug}", slug, example.slug, _Shape(record, run.layers, run.heads),
                                   words, heads["strongest"], run.spec.name, qk_layers,
                                   record.qk_error if qk_layers else None,
                                   layer_files=names.get("layer"), qk_files=names.get("qk"))
                meta.update(beyond.meta_fields(record.has_rollout, *record.predictions))
                if example.coref:  # the viewer shows W under the build's span rule
                    meta["coref"] = pair_marks(record.word, example.coref, model.example_stats(example.slug).coref)
                write_text(self.data_dir(slug, example.slug) / "meta.js", data_script(meta))
        write_text(self.root / "data" / "index.json", json.dumps(self._index(runs), indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        context = pages.SiteContext(manifest, runs, analysis.heads, self.records, self.shown, analysis=analysis)
        context.verdicts = head_pages.model_verdicts(analysis.heads)
        if analysis.changes is not None:
            context.changes = write_changes(self.root, analysis.changes)
        for relative, text in pages.render_all(context):
            write_text(self.root / relative, text)

        for relative, text in atlas.render(context):
            write_text(self.root / relative, text)
        for relative, text in head_pages.render(context):
            write_text(self.root / relative, text)
        for relative, text in beyond.render(context, self.training_runs, self.root):
            write_text(self.root / relative, text)
        self._copy_assets()
        config_text = mkdocs_config(manifest, context, docs_dir=os.path.relpath(self.out.resolve(), self.config_path.resolve().parent))
        written = _tree_bytes(self.root)
        with deferred_signals():  # Ctrl-C or SIGTERM cannot fall between the swap and mkdocs.yml
            self.stage.commit()
            write_text(self.config_path, config_text)
        return written

    def abort(self) -> None:
        self.stage.discard()

    def _index(self, runs) -> dict:
        models = []
        for run in runs:
            if run.error is not None:
                continue
            heads_file = f"{run.spec.slug}/heads.json" if run.records else None
            models.append({
                "slug": run.spec.slug, "id": run.spec.id, "name": run.spec.name, "revision": run.revision,
                "layers": run.layers, "heads": run.heads, "heads_file": heads_file,
                "examples": [{"slug": e.slug, "language": e.language, "tokens": self.records[(run.spec.slug, e.slug)].n}
                             for e in run.examples if (run.spec.slug, e.slug) in self.records],
            })
        failed = [{"id": r.spec.id, "error": r.error} for r in runs if r.error is not None]
        return {"schema": INDEX_SCHEMA, "title": self.manifest.title, "models": models, "failed": failed}

    def _copy_assets(self) -> None:
        target = self.root / "assets"
        shutil.copytree(assets_dir(), target, dirs_exist_ok=True)
        hooks = Path(__file__).with_name("mkdocs_hooks.py").read_text(encoding="utf-8")
        write_text(self.root / HOOKS_FILE, hooks)


@dataclass
class PageRecord:
    """What the pages need of one record once its viewer data files are written and its heavy arrays
    (attention, rollout, q/k, predictions) are gone."""

    tokens: list[str]
    special: np.ndarray
    segment: np.ndarray
    word: np.ndarray
    causal: bool
    full_length: int
    truncated: bool
    data_files: dict = field(default_factory=dict)  # {"layer": [file per layer], "qk": {layer: file}} written
    has_qk: bool = False
    qk_error: float | None = None  # largest |softmax(q.k) - attention| of the stored float16 q, k
    has_rollout: bool = False
    predictions: tuple[str, str] = ("unknown", "")  # (status, reason) of the masked-token predictions

    @property
    def n(self) -> int:
        return len(self.tokens)


class _Shape:
    """A record whose attention was dropped, presented with the shape ``meta_object`` reads."""

    def __init__(self, record, layers: int, heads: int):
        self.attention_q = np.zeros((layers, heads, record.n, 0), dtype=np.uint8)
        self.causal = record.causal
        self.tokens = record.tokens
        self.special = record.special
        self.segment = record.segment
        self.word = record.word

    def __getattr__(self, name):
        raise AttributeError(name)


def _finite(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
