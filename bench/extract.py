"""Extraction throughput and memory against the bare forward pass, on the real MiniLM.

Prints one table:
  (a) bare forward: a plain batched ``model(**batch, output_attentions=True)`` loop over the same
      inputs and the same length-sorted batches reportgen uses (examples/s);
  (b) reportgen: extraction + analysis + storing (cache entries, viewer data) via ``run_model``; its
      forward passes stop once the last layer's attention exists (``extract.tap``), so they take less
      than (a)'s whole passes, and the table below (b) also shows the time spent outside them;
  (c) their ratio (target >= 0.85);
  (d) peak RSS of a full build at 100 and at 1,000 examples (target: 1,000 <= 1.3 x 100);
  (e) total build time at 1,000 examples including rendering and ``mkdocs build``;
  (f) seconds until that site's home, atlas, example list and one example page (head view) are drawn
      in offline Chromium from file:// (bench/open_site.py; fails on any non-file request).

Run: ``HF_HUB_OFFLINE=1 python bench/extract.py [--examples 1000] [--repeat 5] [--workdir DIR]``.

(a) and (b) alternate for ``--repeat`` rounds and the best round of each counts; every timed section
starts after ``os.sync()``, so no round pays for the write-back of files an earlier one wrote.
Working files (manifests, caches, sites) go into a temporary folder inside ``--workdir``, by default the
current directory: where users build. (On some machines the system temporary folder is much slower
to create files in than the rest of the disk.)
"""
from __future__ import annotations

import argparse
import contextlib
import os
from statistics import median
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import yaml  # noqa: E402

from gen_manifest import manifest as make_manifest  # noqa: E402


def write_manifest(folder: Path, count: int) -> Path:
    path = folder / f"m{count}.yaml"
    path.write_text(yaml.safe_dump(make_manifest(count), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def bare_forward(manifest, max_tokens: int) -> tuple[float, int]:
    """Seconds for the plain forward loop over reportgen's own batches (tokenising not timed)."""
    import torch

    from reportgen.extract.attention import plan_batches
    from reportgen.extract.tokens import encode_example
    from reportgen.models.load import load_model

    loaded = load_model(manifest.models[0].id)
    encoded = [encode_example(loaded.tokenizer, e, i, manifest.settings.max_length) for i, e in enumerate(manifest.examples)]
    batches = plan_batches([e.n for e in encoded], max_tokens=max_tokens)
    tensors = padded_batches(encoded, batches)
    started = time.perf_counter()
    with torch.inference_mode():
        for batch in tensors:
            loaded.model(**batch, output_attentions=True)
    return time.perf_counter() - started, len(encoded)


def padded_batches(encoded: list, batches: list[list[int]]) -> list[dict]:
    """The model inputs of each batch, as a plain loop pads them: zero-padded ids, mask and token types."""
    import torch

    tensors = []
    for batch in batches:
        items = [encoded[i] for i in batch]
        width = max(x.n for x in items)
        ids = torch.zeros((len(items), width), dtype=torch.long)
        mask = torch.zeros((len(items), width), dtype=torch.long)
        types = torch.zeros((len(items), width), dtype=torch.long)
        for row, x in enumerate(items):
            ids[row, : x.n] = torch.tensor(x.input_ids)
            mask[row, : x.n] = 1
            types[row, : x.n] = torch.tensor(x.token_type_ids)
        tensors.append({"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
    return tensors


# Where reportgen's time goes: (label, module, attribute) of the steps timed inside run_model.
STEPS = (
    ("tokenising", "reportgen.pipeline", "encode_all"),
    ("guard (row sums)", "reportgen.extract.attention", "row_sum_errors"),
    ("batched analysis", "reportgen.analysis.batched", "analyse_batch"),
    ("record to bytes", "reportgen.store.record", "Record.to_chunks"),
    ("cache writes", "reportgen.store.cache", "Cache.put_many"),
    ("statistics kept", "reportgen.analysis.collect", "RecordCollector.add"),
    ("viewer data files", "reportgen.render.site", "SiteWriter.sink"),
)


@contextlib.contextmanager
def timed_steps(spent: dict):
    """Add the seconds spent in each of STEPS to ``spent`` while the block runs."""
    import importlib

    saved = []
    for label, module_name, attribute in STEPS:
        owner = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, name)

        def wrapper(*args, _original=original, _label=label, **kwargs):
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_label] = spent.get(_label, 0.0) + time.perf_counter() - started

        saved.append((owner, name, original))
        setattr(owner, name, wrapper)
    try:
        yield spent
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


@contextlib.contextmanager
def timed_model_loads(spent: dict, timing: dict, synchronize=lambda: None):
    """While the block runs, every model ``load_model`` returns has its forward pass timed into
    ``spent["forward pass"]``, and ``timing["start"]`` is set once the model is loaded. ``synchronize``
    runs before each reading of the clock (the GPU bench waits for the device there)."""
    from reportgen.models import load as load_module

    original = load_module.load_model

    def timed_load(*args, **kwargs):
        loaded = original(*args, **kwargs)
        forward = loaded.model.forward

        def timed_forward(*f_args, **f_kwargs):
            started = time.perf_counter()
            try:
                return forward(*f_args, **f_kwargs)
            finally:
                synchronize()
                spent["forward pass"] = spent.get("forward pass", 0.0) + time.perf_counter() - started

        loaded.model.forward = timed_forward
        synchronize()
        timing["start"] = time.perf_counter()
        return loaded

    load_module.load_model = timed_load
    try:
        yield
    finally:
        load_module.load_model = original


def reportgen_run(manifest, max_tokens: int, folder: Path, spent: dict | None = None) -> float:
    """Seconds for run_model (load excluded): extraction, guards, analysis, quantising, cache and data files.

    ``spent`` (a dict) also gets the seconds of the forward pass and of each of STEPS.
    """
    from reportgen.analysis.collect import RecordCollector
    from reportgen.pipeline import BuildOptions, record_sink, run_model
    from reportgen.render.site import SiteWriter
    from reportgen.store.cache import Cache

    spent = {} if spent is None else spent

    options = BuildOptions(out=folder / "site_src", config_path=folder / "mkdocs.yml", cache_dir=folder / "cache",
                           max_tokens=max_tokens, progress=False)
    writer = SiteWriter(manifest, options.out, options.config_path)
    collected = RecordCollector(manifest)
    timing = {}
    try:
        with timed_model_loads(spent, timing), timed_steps(spent):
            run_model(manifest, manifest.models[0], options, Cache(options.cache_dir),
                      record_sink(writer, collected))
        timing["end"] = time.perf_counter()
    finally:
        writer.abort()  # removing the bench's staged files is not part of the build
        collected.close()
    return timing["end"] - timing["start"]


def build_rss(manifest_path: Path, folder: Path) -> tuple[float, float]:
    """Peak RSS (MB) and seconds of a full ``reportgen build --site`` in a fresh process."""
    out = folder / manifest_path.stem
    out.mkdir(exist_ok=True)
    started = time.perf_counter()
    # VmHWM, the peak of this process's own memory: ru_maxrss would carry over the peak of the (large)
    # bench process it was forked from, since Linux keeps it across execve.
    code = ("import sys; from reportgen.cli import main; rc=main(sys.argv[1:]); "
            "print('RSS', [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]); sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code, "build", str(manifest_path), "--quiet", "--site",
                             "--cache", str(out / "cache"), "--out", str(out / "site_src"),
                             "--config", str(out / "mkdocs.yml")],
                            cwd=out, capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    seconds = time.perf_counter() - started
    rss_kb = max(int(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("RSS"))
    return rss_kb / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--max-tokens", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=5, help="alternating rounds of (a) and (b); best of each")
    parser.add_argument("--workdir", type=Path, default=Path.cwd(), help="folder for the temporary working folder")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from reportgen.manifest import load_manifest

    with tempfile.TemporaryDirectory(dir=args.workdir, prefix=".reportgen-bench-") as tmp:
        folder = Path(tmp)
        big = write_manifest(folder, args.examples)
        small = write_manifest(folder, max(1, args.examples // 10))
        manifest = load_manifest(big)
        # Alternate the two measurements and keep the best of each, so a busy moment hurts neither.
        bare_runs, ours_runs, steps = [], [], []
        for round_ in range(args.repeat):
            os.sync()
            seconds, count = bare_forward(manifest, args.max_tokens)
            bare_runs.append(seconds)
            os.sync()
            steps.append({})
            ours_runs.append(reportgen_run(manifest, args.max_tokens, folder / f"run{round_}", steps[-1]))
            print(f"round {round_ + 1}: (a) {bare_runs[-1]:.2f} s, (b) {ours_runs[-1]:.2f} s", file=sys.stderr, flush=True)
        bare_s, ours_s = min(bare_runs), min(ours_runs)
        rss_small, _ = build_rss(small, folder)
        rss_big, build_s = build_rss(big, folder)
        from open_site import open_site

        opened = open_site(folder / big.stem / "site")
        lengths = [x["tokens"] for x in __import__("json").loads(
            (folder / big.stem / "site_src" / "data" / "index.json").read_text())["models"][0]["examples"]]
    bare_rate, ours_rate = count / bare_s, count / ours_s
    print(f"MiniLM (6x12), {count} examples, {min(lengths)}-{max(lengths)} tokens (mean {sum(lengths) / len(lengths):.0f}), "
          f"{os.cpu_count()} CPUs, torch threads {__import__('torch').get_num_threads()}")
    print()
    print("| measure | value | target |")
    print("| --- | --- | --- |")
    print(f"| rounds (a): {', '.join(f'{x:.1f}' for x in bare_runs)} s; (b): {', '.join(f'{x:.1f}' for x in ours_runs)} s | | |")
    print(f"| (a) bare forward | {bare_rate:.1f} examples/s ({bare_s:.1f} s) | |")
    print(f"| (b) reportgen extraction + analysis + store | {ours_rate:.1f} examples/s ({ours_s:.1f} s) | |")
    print(f"| (c) ratio (b)/(a) | {ours_rate / bare_rate:.2f} (medians: {median(bare_runs) / median(ours_runs):.2f}) | >= 0.85 |")
    print(f"| (d) peak RSS, build of {max(1, count // 10)} / {count} examples | {rss_small:.0f} MB / {rss_big:.0f} MB "
          f"(x{rss_big / rss_small:.2f}) | <= 1.3x |")
    print(f"| (e) total build, {count} examples, incl. render + mkdocs build | {build_s:.1f} s | |")
    print(f"| (f) drawn in Chromium from file:// | {'; '.join(f'{label} {sec:.2f} s' for label, sec in opened)} | opens |")
    best = steps[ours_runs.index(ours_s)]
    print()
    print(f"Where (b)'s fastest round went ({ours_s:.2f} s; bare forward, best round: {bare_s:.2f} s):")
    print()
    print("| step | seconds |")
    print("| --- | ---: |")
    for label in ["forward pass"] + [label for label, _, _ in STEPS]:
        print(f"| {label} | {best.get(label, 0.0):.2f} |")
    print(f"| everything else | {ours_s - sum(best.values()):.2f} |")
    outside = ours_s - best.get("forward pass", 0.0)
    print()
    print(f"Outside its forward passes reportgen spent {outside:.2f} s, {100 * outside / bare_s:.0f}% of the bare "
          f"forward; its passes, which stop after the last attention, took {best.get('forward pass', 0.0):.2f} s "
          f"against {bare_s:.2f} s.")


if __name__ == "__main__":
    main()
