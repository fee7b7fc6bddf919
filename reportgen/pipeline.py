"""The build: manifest -> model runs -> stored records -> analysis -> pages.

This module only orchestrates; each step lives in its own package (extract, analysis, store, render).
Records stream: each one is written to the viewer data files as soon as it exists and only its small
statistics stay in memory, so memory does not grow with the number of examples.
"""
from __future__ import annotations

import datetime as _dt
import os
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reportgen.analysis.per_example import analyse_example
from reportgen.errors import RunError, UserError
from reportgen.store.cache import Cache, cache_key
from reportgen.store.quantize import SCHEME, quantize
from reportgen.store.record import RECORD_VERSION, Record


@dataclass
class BuildOptions:
    """Command-line choices of one build."""

    out: Path = Path("site_src")
    config_path: Path = Path("mkdocs.yml")
    cache_dir: Path | None = None
    use_cache: bool = True
    keep_going: bool = False
    shard: tuple[int, int] | None = None  # (k, n), 1-based k
    merge_only: bool = False  # render from the cache only; a missing record is an error
    device: str = "cpu"
    dtype: str = "float32"
    max_tokens: int = 4096
    progress: bool = True


@dataclass
class ModelRun:
    """One model's part of the build."""

    spec: object
    examples: list  # manifest Example objects this model runs, manifest order
    revision: str = ""
    provenance: dict = field(default_factory=dict)
    layers: int = 0
    heads: int = 0
    records: dict = field(default_factory=dict)  # example slug -> Record (attention dropped after writing)
    error: str | None = None
    forward_examples: int = 0


def run_date() -> str:
    """UTC date of the run: SOURCE_DATE_EPOCH when set (reproducible builds), else today."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc) if epoch else _dt.datetime.now(_dt.timezone.utc)
    return moment.strftime("%Y-%m-%d")


def examples_for(spec, examples) -> list:
    """The examples a model runs: all, or those in the model's ``languages``."""
    if not spec.languages:
        return list(examples)
    return [e for e in examples if e.language in spec.languages]


def in_shard(model_id: str, example_id: str, shard: tuple[int, int] | None) -> bool:
    """Deterministic assignment of (model, example) work to shard k of n (crc32 of the pair)."""
    if shard is None:
        return True
    k, n = shard
    return zlib.crc32(f"{model_id}\0{example_id}".encode("utf-8")) % n == k - 1


def record_key(revision: str, spec, example, settings, dtype: str) -> str:
    """Cache key of one record: everything that changes its content."""
    return cache_key({
        "record": RECORD_VERSION, "quant": SCHEME, "model": spec.id, "revision": revision, "dtype": dtype,
        "max_length": settings.max_length, "neuron": settings.neuron,
        "a": example.a, "b": example.b,
        "coref": [[p.pronoun.first, p.pronoun.last, p.antecedent_index,
                   [[c.first, c.last] for c in p.candidates]] for p in example.coref],
    })


def qk_softmax_error(q: np.ndarray, k: np.ndarray, attention: np.ndarray, causal: bool) -> float:
    """Largest |softmax(q . k / sqrt(d)) - attention| when q, k are the stored float16 vectors.

    This is the precision of the neuron view, stated on the page next to the attention's own bound.
    """
    q64, k64 = q.astype(np.float64), k.astype(np.float64)
    scores = q64 @ k64.swapaxes(-1, -2) / np.sqrt(q.shape[-1])
    if causal:
        n = scores.shape[-1]
        scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=-1, keepdims=True)
    return float(np.max(np.abs(probs - attention)))


def make_record(model_slug: str, example, encoded, attention: np.ndarray, causal: bool,
                extras: dict | None = None) -> Record:
    """Analyse one example's full-precision attention and keep what later steps need."""
    extras = dict(extras or {})
    if "q" in extras:
        extras["qk_error"] = np.array([qk_softmax_error(extras["q"], extras["k"], attention, causal)])
    analysis = analyse_example(attention, encoded.special, encoded.punct, encoded.word, example.coref, causal=causal)
    return Record(
        model=model_slug, example=example.slug, tokens=list(encoded.tokens), special=encoded.special,
        segment=encoded.segment, word=encoded.word, punct=encoded.punct, full_length=encoded.full_length,
        truncated=encoded.truncated, causal=causal, sums_num=analysis.sums.num, sums_count=analysis.sums.count,
        coref=analysis.coref, attention_q=quantize(attention), extras=extras,
    )


def is_causal(attention: np.ndarray) -> bool:
    """True when no token attends to a later one (upper triangle all zero)."""
    n = attention.shape[-1]
    if n < 2:
        return False
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    return bool(np.all(attention[..., upper] == 0.0))


class Progress:
    """A tqdm bar on stderr when wanted, else nothing."""

    def __init__(self, total: int, desc: str, enabled: bool):
        self.bar = None
        if enabled and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="ex", file=sys.stderr, leave=False)

    def update(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_model(manifest, spec, options: BuildOptions, cache: Cache, sink) -> ModelRun:
    """Produce every record of one model, from the cache or by running it; hand each to ``sink``.

    ``sink(run, example, record)`` writes the record's heavy data and returns the record to keep.
    Raises RunError when the model cannot be loaded or gives unusable attention.
    """
    from reportgen.models.load import load_model, peek_revision

    base_dir = Path(manifest.path).parent if manifest.path else None
    run = ModelRun(spec, [e for e in examples_for(spec, manifest.examples) if in_shard(spec.id, e.id, options.shard)])
    _, run.revision = peek_revision(spec.id, spec.revision, base_dir)
    keys = {e.slug: record_key(run.revision, spec, e, manifest.settings, options.dtype) for e in run.examples}
    missing = []
    for example in run.examples:
        payload = cache.get(keys[example.slug])
        record = None
        if payload is not None:
            try:
                record = Record.from_bytes(payload)
            except (ValueError, KeyError, OSError):
                record = None
        if record is None:
            missing.append(example)
            continue
        _adopt_shape(run, record)
        run.records[example.slug] = sink(run, example, record)
    if missing and options.merge_only:
        raise RunError(f"model {spec.id}: {len(missing)} records are not in the cache (first: example "
                       f"{missing[0].id}); run every shard first")
    if missing:
        _compute(manifest, spec, run, missing, keys, options, cache, sink, base_dir)
    if not run.provenance:
        run.provenance = {"model": spec.id, "revision": run.revision, "attention": "eager", "dtype": options.dtype}
    run.provenance.setdefault("date", run_date())
    return run


def _adopt_shape(run: ModelRun, record: Record) -> None:
    run.layers, run.heads = int(record.attention_q.shape[0]), int(record.attention_q.shape[1])
    stored = record.extras.get("provenance")
    if stored is not None and not run.provenance:
        import json

        run.provenance = json.loads(bytes(stored).decode("utf-8"))


def _compute(manifest, spec, run: ModelRun, examples, keys, options, cache, sink, base_dir) -> None:
    import json

    from reportgen.extract.attention import run_batches
    from reportgen.extract.qk import QKCapture
    from reportgen.extract.tokens import encode_example
    from reportgen.models.load import load_model

    loaded = load_model(spec.id, spec.revision, base_dir, device=options.device, dtype=options.dtype)
    run.layers, run.heads = loaded.layers, loaded.heads
    run.provenance = dict(loaded.provenance, date=run_date())
    settings = manifest.settings
    encoded = []
    for index, example in enumerate(examples):
        enc = encode_example(loaded.tokenizer, example, index, settings.max_length)
        if enc.truncated:
            if settings.truncation == "error":
                raise UserError(f"{manifest.path}: example {example.id!r} has {enc.full_length} tokens on model "
                                f"{spec.id}, more than settings.max_length {settings.max_length}; shorten it or raise max_length")
            print(f"warning: example {example.id!r} has {enc.full_length} tokens on model {spec.id}; "
                  f"truncated to {settings.max_length} (settings.max_length)", file=sys.stderr)
        encoded.append(enc)
    names = [e.id for e in examples]
    provenance_blob = np.frombuffer(json.dumps(run.provenance, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    capture = QKCapture(loaded) if settings.neuron else None
    progress = Progress(len(examples), f"{spec.name}", options.progress)

    def counted(count: int) -> None:
        run.forward_examples += count
        progress.update(count)

    try:
        for item in run_batches(loaded, encoded, names, max_tokens=options.max_tokens, on_batch=counted,
                                capture=capture):
            example = examples[item.encoded.example_index]
            causal = is_causal(item.attention)
            extras = {"provenance": provenance_blob}
            if item.qk is not None:
                extras["q"], extras["k"] = item.qk
            record = make_record(spec_slug(spec), example, item.encoded, item.attention, causal, extras)
            cache.put(keys[example.slug], record.to_bytes())
            run.records[example.slug] = sink(run, example, record)
    finally:
        progress.close()
        if capture is not None:
            capture.remove()


def spec_slug(spec) -> str:
    return spec.slug


def build(manifest, options: BuildOptions) -> dict:
    """Run the whole build; return a summary dict. Raises UserError/RunError on failure."""
    from reportgen.render.site import SiteWriter

    started = time.time()
    cache = Cache(options.cache_dir, enabled=options.use_cache)
    render = options.shard is None
    writer = SiteWriter(manifest, options.out, options.config_path) if render else None
    runs: list[ModelRun] = []
    try:
        for spec in manifest.models:
            sink = writer.sink if writer is not None else (lambda run, example, record: _drop_heavy(record))
            try:
                runs.append(run_model(manifest, spec, options, cache, sink))
            except RunError as exc:
                if not options.keep_going:
                    raise
                print(f"error: {exc}", file=sys.stderr)
                failed = ModelRun(spec, examples_for(spec, manifest.examples), error=str(exc))
                runs.append(failed)
        written = writer.finish(runs) if writer is not None else 0
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return {
        "models": len(runs), "failed": sum(r.error is not None for r in runs),
        "examples": len(manifest.examples), "records": sum(len(r.records) for r in runs),
        "forward_examples": sum(r.forward_examples for r in runs),
        "cache_hits": cache.hits, "cache_corrupt": cache.corrupt,
        "seconds": time.time() - started, "bytes": written, "runs": runs,
    }


def _drop_heavy(record: Record) -> Record:
    record.attention_q = np.zeros(record.attention_q.shape[:2] + (0, 0), dtype=np.uint8)
    record.extras = {k: v for k, v in record.extras.items() if k == "provenance"}
    return record
