"""Device handling of the batched analysis.

On any machine: ``analyse_tensors`` runs on ``meta`` tensors (shapes, no data) under ``DeviceGuard``, which
fails any operation whose tensors lie on two devices (a CPU tensor mixed with the batch's: the error
CUDA gives, which meta alone would let pass for some operations), and reading a value back to the host
(``.item()``, ``bool()``, ``.cpu()``) fails too, since meta tensors hold no data. With a GPU: the same
analysis and a whole build on CUDA against the CPU.
"""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

import reference as ref
from reportgen.analysis.batched import analyse_batch, analyse_tensors, batch_rollout
from reportgen.extract.attention import Batch
from reportgen.extract.tokens import Encoded

LAYERS, HEADS, D = 3, 2, 4


class DeviceGuard(TorchDispatchMode):
    """Raise when an operation gets tensors on two devices (a CPU scalar, which CUDA accepts, aside)."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        flat, _ = tree_flatten((args, kwargs))
        devices = {t.device for t in flat if isinstance(t, torch.Tensor) and not (t.device.type == "cpu" and t.dim() == 0)}
        if len(devices) > 1:
            raise RuntimeError(f"{func}: tensors on two devices, {sorted(map(str, devices))}")
        return func(*args, **kwargs)


def span(first: int, last: int):
    return SimpleNamespace(first=first, last=last)


def pair(pronoun: int, *candidates: int):
    return SimpleNamespace(pronoun=span(pronoun, pronoun + 1), candidates=[span(c, c + 1) for c in candidates],
                           antecedent_index=0)


def encoded(index: int, n: int) -> Encoded:
    """[CLS] w0 .. w(n-3) [SEP]: one token per word, the second-to-last word punctuation."""
    special = np.zeros(n, dtype=bool)
    special[[0, n - 1]] = True
    word = np.r_[-1, np.arange(n - 2), -1].astype(np.int32)
    punct = np.zeros(n, dtype=bool)
    punct[n - 2] = True
    return Encoded(index, list(range(n)), None, [f"t{i}" for i in range(n)], special,
                   np.where(special, -1, 0).astype(np.int8), word, punct, n, False)


def softmax_rows(lengths: list[int], width: int, generator, causal: list[bool]) -> torch.Tensor:
    """Random attention [B, H, W, W]: each example's real rows a softmax over its own columns."""
    scores = torch.randn((len(lengths), HEADS, width, width), generator=generator)
    keys = torch.arange(width)[None, None, None, :] < torch.as_tensor(lengths)[:, None, None, None]
    blocked = ~keys
    lower = torch.ones((width, width), dtype=torch.bool).tril()
    blocked = blocked | (torch.as_tensor(causal)[:, None, None, None] & ~lower)
    return torch.softmax(scores.masked_fill(blocked, float("-inf")), dim=-1)


def hand_made_batch(causal: list[bool] | None = None) -> tuple[Batch, list]:
    """Three padded examples (7, 5, 4 tokens) with q/k, the first and last with coreference pairs."""
    lengths = [7, 5, 4]
    causal = causal or [False] * len(lengths)
    width = max(lengths)
    generator = torch.Generator().manual_seed(0)
    layers = [softmax_rows(lengths, width, generator, causal) for _ in range(LAYERS)]
    q = [torch.randn((len(lengths), width, HEADS * D), generator=generator) for _ in range(LAYERS)]
    k = [torch.randn((len(lengths), width, HEADS * D), generator=generator) for _ in range(LAYERS)]
    items = [encoded(i, n) for i, n in enumerate(lengths)]
    pairs = [[pair(3, 0, 1), pair(2, 0, 4)], [], [pair(1, 0)]]
    return Batch(items, layers, q, k, HEADS), pairs


def on(batch: Batch, convert) -> Batch:
    return Batch(batch.items, [convert(a) for a in batch.attentions], [convert(t) for t in batch.q],
                 [convert(t) for t in batch.k], batch.heads)


ALL = [True, True, True]


@pytest.mark.parametrize("causal", [[False] * 3, [True, False, True]])
def test_analysis_makes_no_cpu_tensor_and_reads_nothing_back_on_a_gpu(causal):
    batch, pairs = hand_made_batch(causal)
    meta = on(batch, lambda t: t.to("meta"))
    with DeviceGuard():
        out = analyse_tensors(meta, pairs, [True, False, True], ALL, [False, True, True])
        rolled = batch_rollout(meta.attentions)
    tensors = [value for value in vars(out).values() if isinstance(value, torch.Tensor)] + [rolled]
    assert len(tensors) == 11
    assert {t.device.type for t in tensors} == {"meta"}
    assert out.viewer == [0, 2] and out.asked == [0, 1, 2] and out.f16_rows == [1, 2]
    # token = word + 1: example 0's pronouns 3, 2 and candidates 0, 1, 4; example 2's pronoun 1, candidate 0
    assert out.coref_index == [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (2, 1), (2, 2)]


def test_the_guard_catches_a_cpu_tensor_and_a_read_back():
    """The check above can fail: the rollout's identity matrix made on the CPU (the bug that crashed
    ``--device cuda``), a CPU index into the batch, and a read-back are each caught."""
    batch, _ = hand_made_batch()
    layer = batch.attentions[0].to("meta")
    with DeviceGuard():
        with pytest.raises(RuntimeError, match="two devices"):
            layer.double().mean(dim=1) @ torch.eye(layer.shape[-1], dtype=torch.float64)
        with pytest.raises(RuntimeError, match="two devices"):
            layer[torch.tensor([0, 2])]
        with pytest.raises((RuntimeError, NotImplementedError)):
            bool(layer.any())
        with pytest.raises((RuntimeError, NotImplementedError)):
            layer.sum().cpu()


def test_host_results_match_the_per_example_reference_layout():
    """analyse_batch cuts the batch tensors into examples: coreference rows and q/k land on the right example."""
    batch, pairs = hand_made_batch([False, False, True])
    results = analyse_batch(batch, pairs, ALL, ALL, ALL)
    for b, (item, result) in enumerate(zip(batch.items, results)):
        n = item.n
        own = np.stack([a[b, :, :n, :n].numpy() for a in batch.attentions])
        for p, weights, back in zip(pairs[b], result.coref, result.coref_back):
            expected = ref.span_weights(own, np.array([p.pronoun.first + 1]), [np.array([c.first + 1]) for c in p.candidates])
            np.testing.assert_allclose(weights[..., 0], expected, rtol=1e-6)  # one word per candidate
            to_pronoun = np.stack([own[:, :, c.first + 1, p.pronoun.first + 1] for c in p.candidates], axis=-1)
            np.testing.assert_allclose(back[..., 0], to_pronoun, rtol=1e-6)
        q = np.stack([t[b, :n].reshape(n, HEADS, D).transpose(0, 1).half().numpy() for t in batch.q])
        np.testing.assert_array_equal(result.qk[0], q)
        np.testing.assert_array_equal(result.attention_f16, own.astype(np.float16))
        assert result.causal == (b == 2)


def cuda(test):
    """A test that needs a CUDA GPU: skipped without one, CI included (CI never has one)."""
    return pytest.mark.needs_gpu(pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")(test))


@cuda
def test_cuda_analysis_agrees_with_cpu():
    batch, pairs = hand_made_batch([False, True, False])
    cpu = analyse_batch(batch, pairs, ALL, ALL, ALL)
    gpu = analyse_batch(on(batch, lambda t: t.to("cuda")), pairs, ALL, ALL, ALL)
    for a, b in zip(cpu, gpu):
        np.testing.assert_allclose(b.num, a.num, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(b.count, a.count)
        assert a.causal == b.causal
        for x, y in zip(a.coref, b.coref):
            np.testing.assert_allclose(y, x, rtol=1e-5, atol=1e-7)
        assert np.abs(a.attention_q.astype(int) - b.attention_q.astype(int)).max() <= 1  # rounding at .5
        assert np.abs(a.rollout_q.astype(int) - b.rollout_q.astype(int)).max() <= 1
        assert abs(a.qk_error - b.qk_error) < 1e-3


def scores(site_src: Path) -> dict:
    """Every number of data/index.json and of each model's data/<model>/heads.json, by its path."""
    flat = {}

    def walk(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}/{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}/{index}")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[path] = float(value)

    files = [site_src / "data" / "index.json", *sorted((site_src / "data").glob("*/heads.json"))]
    assert len(files) >= 2
    for path in files:
        walk(json.loads(path.read_text(encoding="utf-8")), path.relative_to(site_src).as_posix())
    return flat


@cuda
@pytest.mark.parametrize("family", ["bert", "gpt2"])
def test_cuda_build_agrees_with_cpu(tiny_models, tmp_path, family):
    from reportgen.manifest import parse_manifest
    from reportgen.pipeline import BuildOptions, build
    from test_extract import EXAMPLES

    manifest = parse_manifest(f"models:\n  - id: {tiny_models[family]}\n{EXAMPLES}")
    for device in ("cpu", "cuda"):
        build(manifest, BuildOptions(out=tmp_path / device / "site_src", config_path=tmp_path / device / "mkdocs.yml",
                                     use_cache=False, device=device, progress=False))
    cpu, gpu = scores(tmp_path / "cpu" / "site_src"), scores(tmp_path / "cuda" / "site_src")
    assert cpu.keys() == gpu.keys() and len(cpu) > 50
    worst = max(abs(cpu[key] - gpu[key]) for key in cpu)
    print(f"{family}: {len(cpu)} numbers of heads.json, largest |cuda - cpu| {worst:.2e}")
    assert worst <= 1e-5


def test_default_batch_bound_from_free_memory():
    from reportgen.extract.attention import plan_batches
    from reportgen.models.memory import batch_bytes_per_token, default_max_tokens

    assert default_max_tokens("cpu", 6, 12) == 4096
    per_token = batch_bytes_per_token(6, 12)
    assert per_token == 16 * 12 * (6 * 6 + 16)
    # 1 GB free: half of it over the per-token bytes, rounded down to a power of two
    fits = 10**9 // 2 // per_token
    assert default_max_tokens("cuda", 6, 12, free_bytes=10**9) == 1 << (fits.bit_length() - 1) == 32768
    assert default_max_tokens("cuda:1", 6, 12, free_bytes=10**6) == 4096  # never below the CPU's bound
    assert default_max_tokens("cuda", 6, 12, free_bytes=140 * 2**30) == 1 << 18  # the cap
    # larger bounds also allow more examples per batch (32 up to 4096 tokens)
    assert max(map(len, plan_batches([8] * 5000, max_tokens=4096))) == 32
    assert max(map(len, plan_batches([8] * 5000, max_tokens=1 << 15))) == 256


def test_storing_on_a_worker_thread_gives_the_same_records(tiny_models, tmp_path):
    """Overlap (a GPU build's default) stores each batch on a worker thread: the same records, in the same
    order, and the same cache packs as storing inline; an error while storing still ends the run with it."""
    from reportgen.manifest import parse_manifest
    from reportgen.pipeline import BuildOptions, run_model
    from reportgen.store.cache import Cache
    from test_extract import EXAMPLES

    manifest = parse_manifest(f"models:\n  - id: {tiny_models['bert']}\n{EXAMPLES}")

    def run(name: str, overlap: bool, sink=None) -> tuple[list, dict]:
        seen = []

        def collect(run, example, record):
            seen.append((example.slug, record.to_bytes()))
            return record

        cache = Cache(tmp_path / name)
        run_model(manifest, manifest.models[0], BuildOptions(max_tokens=64, overlap=overlap, progress=False, threads=1),
                  cache, sink or collect)
        return seen, {p.name: p.read_bytes() for p in cache.packs()}

    inline, worker = run("inline", False), run("worker", True)
    assert len(inline[1]) >= 2 and len(inline[0]) == len(manifest.examples)  # several batches, one pack each
    assert inline == worker

    def broken(run, example, record):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        run("broken", True, broken)
