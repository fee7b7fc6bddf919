"""The build: manifest -> model runs -> stored records -> analysis -> pages.

This module only orchestrates; each step lives in its own package (extract, analysis, store, render).
Records stream: each one is written to the viewer data files as soon as it exists and only its small
statistics stay in memory, so memory does not grow with the number of examples.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from reportgen.analysis.changes import load_previous
from reportgen.analysis.collect import RecordCollector
from reportgen.analysis.stage import SiteAnalysis, analyse_site
from reportgen.errors import RunError, UserError, first_line
from reportgen.extract.attention import iter_batches, plan_batches
from reportgen.plan import (diff_members, examples_for, in_shard, model_dtype, planned_max_tokens, record_key,
                            shard_examples, shown_slugs)
from reportgen.extract.predictions import MAX_TOKENS, masked_lm_for, predict_words
from reportgen.extract.qk import QKCapture
from reportgen.extract.tokens import encode_all
from reportgen.incremental import BuildStamp
from reportgen.models.threads import set_threads
from reportgen.render.site import SiteWriter
from reportgen.store.cache import Cache, TeeCache
from reportgen.store.record import Record


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
    max_tokens: int | None = None  # padded tokens per forward pass; None: models.memory.default_max_tokens
    overlap: bool | None = None  # store a batch while the next one runs (pipeline.Overlap); None: on a GPU only
    threads: int | None = None  # torch threads; None: models.threads' budget for this machine
    progress: bool = True
    shard_out: Path | None = None  # shard runs: also copy this shard's records here (cache layout, a CI artifact)
    compare: Path | None = None  # previous site/, site_src/ or folder of heads.json: add a changes page
    compare_threshold: float = 0.05  # absolute score change that counts as a change
    skip_unchanged: bool = True  # skip the build when its inputs and output are as the last one left them


@dataclass
class ModelRun:
    """One model's part of the build."""

    spec: object
    examples: list  # manifest Example objects this model runs, manifest order
    planned: list = field(default_factory=list)  # examples batches are planned over (all of the model's)
    revision: str = ""
    provenance: dict = field(default_factory=dict)
    layers: int = 0
    heads: int = 0
    records: dict = field(default_factory=dict)  # example slug -> what the sink kept (render.site.PageRecord)
    error: str | None = None
    forward_examples: int = 0  # examples that went through a forward pass (batch-mates of missing ones too)
    computed: int = 0  # records computed (not from the cache)
    record_provenance: dict = field(default_factory=dict)  # example slug -> provenance of that record's run


@dataclass
class BuildReport:
    """What a build did (``build``'s result; the CLI prints it)."""

    models: int
    failed: int  # models that failed (with --keep-going; else the build raised)
    examples: int
    records: int  # records of the site (from the cache or computed)
    forward_examples: int  # examples that went through a forward pass
    computed: int  # records computed in this build
    cache_hits: int
    cache_corrupt: int  # damaged cache entries found (recomputed)
    seconds: float
    bytes: int  # bytes written to site_src/ (0 for a shard or a skipped build)
    runs: list[ModelRun] = field(default_factory=list)
    changes: dict | None = None  # ``--compare``: the change report (analysis.changes)
    analysis: SiteAnalysis | None = None  # every number of the pages (None for a shard or a skipped build)
    up_to_date: bool = False  # skipped: site_src/ already was what this build would write


def run_date() -> str:
    """UTC date of the run: SOURCE_DATE_EPOCH when set (reproducible builds), else today."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc) if epoch else _dt.datetime.now(_dt.timezone.utc)
    return moment.strftime("%Y-%m-%d")


class Progress:
    """A tqdm bar on stderr when wanted, else nothing."""

    def __init__(self, total: int, desc: str, enabled: bool):
        self.bar = None
        if enabled and total:
            self.bar = tqdm(total=total, desc=desc, unit="ex", file=sys.stderr, leave=False)

    def update(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_model(manifest, spec, options: BuildOptions, cache: Cache, sink, only: set[str] | None = None) -> ModelRun:
    """Produce every record of one model, from the cache or by running it; hand each to ``sink``.

    ``sink(run, example, record)`` writes the record's heavy data and returns the record to keep.
    ``only``: example slugs to produce (``reportgen export``); batches are still planned over all of the
    model's examples, so the records are those a whole build makes.
    Raises RunError when the model cannot be loaded or gives unusable attention.
    """
    from reportgen.models.load import peek_revision  # deferred: looked up at call time, so tests can substitute the model loader

    base_dir = Path(manifest.path).parent if manifest.path else None
    everything = examples_for(spec, manifest.examples)
    run = ModelRun(spec, everything, planned=everything)
    if only is not None:
        run.examples = [e for e in everything if e.slug in only]
    if options.shard is not None:
        if not any(in_shard(spec.id, e.id, options.shard) for e in everything):
            return ModelRun(spec, [])  # no batch can fall in this shard: do not even resolve the model
        run.examples = shard_examples(manifest, spec, everything, options.shard, planned_max_tokens(options), base_dir)
        if not run.examples:
            return run
    _, run.revision = peek_revision(spec.id, spec.revision, base_dir)
    diff = spec.slug in diff_members(manifest)
    shown = shown_slugs(manifest)
    keys = {e.slug: record_key(run.revision, spec, e, manifest.settings, options.dtype, diff) for e in run.examples}
    missing = []
    for example in run.examples:
        payload = cache.get(keys[example.slug])
        record = None
        if payload is not None:
            try:
                record = Record.from_bytes(payload)
            except (ValueError, KeyError, OSError):
                record = None
        if record is not None and example.slug in shown and record.attention_q.shape[-1] == 0:
            record = None  # computed without viewer data; this example now gets viewer pages
        if record is None:
            missing.append(example)
            continue
        if record.truncated:
            check_truncation(manifest, spec, example, record.full_length)
        _adopt_shape(run, record, example.slug)
        run.records[example.slug] = sink(run, example, record)
    if missing and options.merge_only:
        raise RunError(f"model {spec.id}: {len(missing)} records are not in the cache (first: example "
                       f"{missing[0].id}); run every shard first")
    if missing:
        _compute(manifest, spec, run, missing, keys, options, cache, sink, base_dir)
    _summarise_provenance(run)
    if not run.provenance:
        run.provenance = {"model": spec.id, "revision": run.revision, "attention": "eager",
                          "dtype": model_dtype(spec, options)}
    run.provenance.setdefault("date", run_date())
    return run


def _summarise_provenance(run: ModelRun) -> None:
    """The model's provenance: that of its newest record (first in manifest order on a tie).

    Records from the cache keep the date and versions of the run that made them; when the records of
    a model come from runs on different dates, ``date_first`` is the oldest of them.
    """
    dated = [run.record_provenance[e.slug] for e in run.examples
             if isinstance(run.record_provenance.get(e.slug), dict) and run.record_provenance[e.slug].get("date")]
    if not dated:
        return
    newest = max(dated, key=lambda p: p["date"])
    oldest = min(p["date"] for p in dated)
    run.provenance = dict(newest)
    if oldest != newest["date"]:
        run.provenance["date_first"] = oldest


def check_truncation(manifest, spec, example, full_length: int) -> None:
    """An example longer than settings.max_length: a warning naming it, or with ``truncation: error`` a UserError."""
    settings = manifest.settings
    if settings.truncation == "error":
        index = manifest.examples.index(example)
        raise UserError(f"{manifest.path}:{example.line}: examples[{index}]: example {example.id!r} has {full_length} "
                        f"tokens on model {spec.id}, more than settings.max_length {settings.max_length}; "
                        "shorten it, raise settings.max_length, or set settings.truncation: warn")
    print(f"warning: example {example.id!r} has {full_length} tokens on model {spec.id}; "
          f"truncated to {settings.max_length} (settings.max_length)", file=sys.stderr)


def _adopt_shape(run: ModelRun, record: Record, slug: str | None = None) -> None:
    run.layers, run.heads = int(record.attention_q.shape[0]), int(record.attention_q.shape[1])
    stored = record.extras.get("provenance")
    if stored is not None:
        provenance = json.loads(bytes(stored).decode("utf-8"))
        if slug is not None:
            run.record_provenance[slug] = provenance
        if not run.provenance:
            run.provenance = provenance


def _compute(manifest, spec, run: ModelRun, missing, keys, options, cache, sink, base_dir) -> None:
    """Run the model for the ``missing`` examples of ``run``.

    Batches are planned over all of the model's examples, cached or not (a shard too), and every batch holding a missing
    example runs whole: a record's bits then never depend on what happened to be cached (padding changes
    float rounding), so a build resumed after an interruption gives the same site as one uninterrupted run.
    """

    from reportgen.analysis.batched import analyse_batch  # deferred: analysis.batched loads torch, which only a model run needs
    from reportgen.models.load import load_model  # deferred: looked up at call time, so tests can substitute the model loader

    set_threads(options.threads)
    loaded = load_model(spec.id, spec.revision, base_dir, device=options.device, dtype=model_dtype(spec, options))
    run.layers, run.heads = loaded.layers, loaded.heads
    run.provenance = dict(loaded.provenance, date=run_date())
    settings = manifest.settings
    examples = run.planned or run.examples  # a shard plans over all examples: the batches of a full build
    todo = {e.slug for e in missing}
    encoded = encode_all(loaded.tokenizer, spec.id, examples, settings.max_length)
    for example, enc in zip(examples, encoded):
        if enc.truncated and example.slug in todo:
            check_truncation(manifest, spec, example, enc.full_length)  # before any forward pass or write
    names = [e.id for e in examples]
    max_tokens = planned_max_tokens(options, loaded)
    batches = [b for b in plan_batches([e.n for e in encoded], max_tokens=max_tokens)
               if any(examples[i].slug in todo for i in b)]
    provenance_blob = np.frombuffer(json.dumps(run.provenance, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    capture = QKCapture(loaded) if settings.neuron else None
    predictor = Predictor(manifest, spec, loaded, missing, base_dir, options)  # masked-token predictions
    diff = spec.slug in diff_members(manifest)
    progress = Progress(sum(len(b) for b in batches), f"{spec.name}", options.progress)
    slow = float(os.environ.get("REPORTGEN_TEST_SLOW") or 0)  # test hook: seconds to wait after each record

    def counted(count: int) -> None:
        run.forward_examples += count
        progress.update(count)

    shown = shown_slugs(manifest)
    overlap = Overlap(options.overlap if options.overlap is not None else _device_type(options.device) != "cpu")

    def store(records: list) -> None:
        """Cache pack, viewer data and statistics of one batch's records (on the worker thread when overlapping)."""
        cache.put_many([(keys[example.slug], record.to_chunks()) for example, record in records])  # one pack per batch
        for example, record in records:
            run.computed += 1
            run.record_provenance[example.slug] = run.provenance
            run.records[example.slug] = sink(run, example, record)
            if slow:
                time.sleep(slow)

    try:
        for batch in iter_batches(loaded, encoded, names, max_tokens=max_tokens, on_batch=counted,
                                  capture=capture, batches=batches):
            wanted = [examples[item.example_index] for item in batch.items]
            heavy = [e.slug in todo and e.slug in shown for e in wanted]
            results = analyse_batch(batch, [e.coref if e.slug in todo else [] for e in wanted], heavy, heavy,
                                    [diff and e.slug in todo for e in wanted])
            records = []
            for example, item, result in zip(wanted, batch.items, results):
                if example.slug not in todo:
                    continue  # cached already; it ran only because it shares a batch with a missing example
                extras = {"provenance": provenance_blob}
                extras.update(predictor.extras(example, item))
                records.append((example, record_from_result(spec_slug(spec), example, item, result, extras)))
            overlap.submit(store, records)
        overlap.wait()
    finally:
        overlap.shutdown()
        progress.close()
        predictor.close()
        if capture is not None:
            capture.remove()


class Overlap:
    """Runs each batch's storing (record bytes, cache pack, viewer data) on one worker thread while the
    main thread starts the next batch's forward pass; or, when not ``enabled``, at once in the caller.

    On a GPU the forward pass and the analysis are the device's work and the storing is the host's, so
    they can run at the same time; on the CPU both would compete for the same cores. At most one
    batch waits to be stored (memory stays that of two batches), batches are stored in order, and an
    error while storing is raised in the main thread at the next ``submit`` or ``wait``.
    """

    def __init__(self, enabled: bool):
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reportgen-store") if enabled else None
        self.pending = None

    def submit(self, function, *args) -> None:
        if self.pool is None:
            function(*args)
            return
        self.wait()
        self.pending = self.pool.submit(function, *args)

    def wait(self) -> None:
        """Until the batch being stored is stored; its error, if any, is raised here."""
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def shutdown(self) -> None:
        """Let the worker finish (nothing is written after the build returns or raises); errors are left to ``wait``."""
        if self.pool is not None:
            self.pool.shutdown(wait=True)


def _device_type(device: str) -> str:
    return device.split(":", 1)[0]


def record_from_result(model_slug: str, example, encoded, result, extras: dict) -> Record:
    """The record of one example analysed in its batch (``analysis.batched.analyse_batch``).

    An example without viewer pages (``result.attention_q`` None) keeps an empty [L, H, 0, 0]
    ``attention_q`` that states the shape.
    """
    layers, heads = result.num.shape[1:]
    extras = dict(extras)
    if result.attention_q is not None:
        attention_q = result.attention_q
        extras["rollout_q"] = result.rollout_q
    else:
        attention_q = np.zeros((layers, heads, 0, 0), dtype=np.uint8)
        extras = {k: v for k, v in extras.items() if k not in ("q", "k")}
    if result.qk is not None:
        extras["q"], extras["k"] = result.qk
        extras["qk_error"] = np.array([result.qk_error])
    if result.attention_f16 is not None:
        extras["attention_f16"] = result.attention_f16  # model diffs: Jensen-Shannon distance
    for index, weights in enumerate(result.coref_back or []):
        extras[f"coref_back_{index}"] = weights  # the attention probe's candidate -> pronoun direction
    return Record(
        model=model_slug, example=example.slug, tokens=list(encoded.tokens), special=encoded.special,
        segment=encoded.segment, word=encoded.word, punct=encoded.punct, full_length=encoded.full_length,
        truncated=encoded.truncated, causal=result.causal, sums_num=result.num, sums_count=result.count,
        coref=result.coref, attention_q=attention_q, extras=extras,
    )


class Predictor:
    """Masked-token predictions of one model run (reportgen.extract.predictions): loads the masked-LM head
    only when a record to compute needs it, and gives each record its ``pred_*`` extras."""

    def __init__(self, manifest, spec, loaded, missing, base_dir, options):
        self.settings = manifest.settings
        self.loaded = loaded
        self.device = options.device
        self.mlm = None
        if self.settings.predictions and any(e.show for e in missing):
            self.mlm = masked_lm_for(spec, base_dir, model_dtype(spec, options), options.device)

    def extras(self, example, encoded) -> dict:
        if not self.settings.predictions or not example.show:
            return {"pred_status": np.array("off")}
        if self.mlm is None or self.mlm.model is None:
            reason = self.mlm.reason if self.mlm is not None else ""
            return {"pred_status": np.array("no-head"), "pred_reason": np.array(reason)}
        if encoded.n > MAX_TOKENS:
            return {"pred_status": np.array("too-long")}
        try:
            out = predict_words(self.mlm.model, self.loaded.tokenizer, encoded, self.device)
        except (RuntimeError, ValueError, IndexError) as exc:
            raise RunError(f"model {self.loaded.ref}, example {example.id!r}: masked-token predictions failed "
                           f"({type(exc).__name__}: {first_line(exc)})") from exc
        out["pred_status"] = np.array("ok")
        return out

    def close(self) -> None:
        self.mlm = None


def spec_slug(spec) -> str:
    return spec.slug


def build(manifest, options: BuildOptions) -> BuildReport:
    """Run the whole build; return what it did. Raises UserError/RunError on failure."""

    started = time.time()
    if options.shard is not None and options.shard_out is not None:
        Path(options.shard_out).mkdir(parents=True, exist_ok=True)  # an artifact even when no batch falls here
        cache = TeeCache(options.cache_dir, options.use_cache, options.shard_out)
    else:
        cache = Cache(options.cache_dir, enabled=options.use_cache)
    render = options.shard is None
    previous = None
    if render and options.compare is not None:
        previous = load_previous(options.compare)  # before anything is written: it may be the folder we replace
    stamp = None
    if render and options.use_cache:
        stamp = BuildStamp.for_build(manifest, options, previous)
        if stamp is not None and options.skip_unchanged and stamp.is_current(cache):
            return _unchanged(stamp, started, options, previous)
        if stamp is not None:
            stamp.forget()
    writer = SiteWriter(manifest, options.out, options.config_path) if render else None
    collected = RecordCollector(manifest) if render else None
    sink = record_sink(writer, collected)
    runs: list[ModelRun] = []
    try:
        for spec in manifest.models:
            try:
                runs.append(run_model(manifest, spec, options, cache, sink))
            except RunError as exc:
                if not options.keep_going:
                    raise
                print(f"error: {exc}", file=sys.stderr)
                failed = ModelRun(spec, examples_for(spec, manifest.examples), error=str(exc))
                runs.append(failed)
        analysis = None
        if writer is not None:
            analysis = analyse_site(manifest, runs, collected, shown_slugs(manifest), writer.training_runs, previous,
                                    options.compare_threshold)
        written = writer.finish(runs, analysis) if writer is not None else 0
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        if collected is not None:
            collected.close()
    if stamp is not None and not any(r.error is not None for r in runs) and cache.corrupt == 0:
        stamp.write()
    return BuildReport(
        models=len(runs), failed=sum(r.error is not None for r in runs), examples=len(manifest.examples),
        records=sum(len(r.records) for r in runs), forward_examples=sum(r.forward_examples for r in runs),
        computed=sum(r.computed for r in runs), cache_hits=cache.hits, cache_corrupt=cache.corrupt,
        seconds=time.time() - started, bytes=written, runs=runs,
        changes=analysis.changes if analysis is not None else None, analysis=analysis)


def record_sink(writer: SiteWriter | None, collected: RecordCollector | None):
    """The build's ``sink`` for ``run_model``: the analysis keeps each record's statistics, then the site
    writes its viewer data; a shard (no ``writer``) keeps nothing heavy."""

    def sink(run, example, record):
        if writer is None:
            return _drop_heavy(record)
        return writer.sink(run, example, collected.add(run.spec.slug, example, record))

    return sink


def _unchanged(stamp, started: float, options: BuildOptions, previous) -> BuildReport:
    """Report of a build skipped because site_src/ already is what it would write (see reportgen.incremental)."""
    changes = Path(options.out) / "data" / "changes.json"
    found = json.loads(changes.read_text(encoding="utf-8")) if previous is not None and changes.is_file() else None
    return BuildReport(models=stamp.models, failed=0, examples=stamp.examples, records=stamp.records,
                       forward_examples=0, computed=0, cache_hits=0, cache_corrupt=0,
                       seconds=time.time() - started, bytes=0, changes=found, up_to_date=True)


def _drop_heavy(record: Record) -> Record:
    record.attention_q = np.zeros(record.attention_q.shape[:2] + (0, 0), dtype=np.uint8)
    record.extras = {k: v for k, v in record.extras.items() if k == "provenance"}
    return record
