"""Run a loaded model over encoded examples in length-sorted batches and pull out attention.

Padding is on the right and masked; each example's attention is cut back to its own n x n block
before anything else sees it, so padding never reaches stored arrays or scores.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from reportgen.errors import RunError
from reportgen.extract.tokens import Encoded

ROW_SUM_TOLERANCE = 1e-3
# Half-precision runs round each weight to 8 (bfloat16) or 11 (float16) significant bits.
DTYPE_TOLERANCE = {"float32": ROW_SUM_TOLERANCE, "float16": 5e-3, "bfloat16": 2e-2}


@dataclass
class Extracted:
    """Attention of one example: ``attention`` is float32 [L, H, n, n], rows sum to 1."""

    encoded: Encoded
    attention: np.ndarray
    qk: tuple[np.ndarray, np.ndarray] | None = None  # float16 [L, H, n, d] query and key vectors


def plan_batches(lengths: Sequence[int], max_tokens: int = 8192, max_batch: int = 32) -> list[list[int]]:
    """Group indices by similar length: sort by length, then cut when batch * longest would pass ``max_tokens``."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        longest = max([lengths[i] for i in current] + [lengths[index]])
        if current and (len(current) + 1 > max_batch or (len(current) + 1) * longest > max_tokens):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def check_attention(att: np.ndarray, model: str, example: str, layer: int,
                    tolerance: float = ROW_SUM_TOLERANCE) -> None:
    """Stop with a RunError naming model, example and layer unless rows are finite and sum to 1."""
    if not np.all(np.isfinite(att)):
        raise RunError(f"model {model}, example {example}, layer {layer}: attention has NaN or inf values")
    sums = att.sum(axis=-1, dtype=np.float64)
    worst = float(np.max(np.abs(sums - 1.0))) if sums.size else 0.0
    if worst > tolerance:
        raise RunError(f"model {model}, example {example}, layer {layer}: attention rows sum to 1 +/- {worst:.3g} "
                       f"(tolerance {tolerance}); is this really softmax attention?")


def _pad_id(tokenizer) -> int:
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id, 0):
        if candidate is not None:
            return int(candidate)
    return 0


def run_batches(loaded, encoded: Sequence[Encoded], example_names: Sequence[str],
                max_tokens: int = 8192, on_batch=None, capture=None,
                batches: Sequence[Sequence[int]] | None = None, want_qk=None) -> Iterator[Extracted]:
    """Yield one ``Extracted`` per encoded example, in batch order (shortest first).

    ``on_batch(count)`` is called after each forward pass (for progress bars and counting passes);
    ``capture`` (a ``QKCapture``) adds each example's query and key vectors. ``batches`` (lists of
    indices into ``encoded``) replaces the plan of ``plan_batches``. ``want_qk(encoded)`` limits the q/k
    copies to the examples that need them (default: all).
    """
    import torch

    model = loaded.model
    pad = _pad_id(loaded.tokenizer)
    uses_types = "token_type_ids" in _forward_arguments(model)
    tolerance = DTYPE_TOLERANCE.get(getattr(loaded, "dtype", "float32"), ROW_SUM_TOLERANCE)
    if batches is None:
        batches = plan_batches([e.n for e in encoded], max_tokens=max_tokens)
    def forward(items: list[Encoded]) -> np.ndarray:
        """One padded forward pass; attention as float32 numpy [B, L, H, W, W]."""
        width = max(item.n for item in items)
        ids = torch.full((len(items), width), pad, dtype=torch.long)
        mask = torch.zeros((len(items), width), dtype=torch.long)
        types = torch.zeros((len(items), width), dtype=torch.long)
        for row, item in enumerate(items):
            ids[row, : item.n] = torch.tensor(item.input_ids)
            mask[row, : item.n] = 1
            if item.token_type_ids is not None:
                types[row, : item.n] = torch.tensor(item.token_type_ids)
        inputs = {"input_ids": ids.to(loaded.device), "attention_mask": mask.to(loaded.device)}
        if uses_types and any(item.token_type_ids is not None for item in items):
            inputs["token_type_ids"] = types.to(loaded.device)
        if capture is not None:
            capture.clear()
        try:
            with torch.inference_mode():
                output = model(**inputs, output_attentions=True)
        except (RuntimeError, ValueError, TypeError, IndexError, KeyError, AttributeError, NotImplementedError) as exc:
            text = str(exc).strip()
            first = text.splitlines()[0] if text else ""
            hint = "" if isinstance(exc, RuntimeError) else "; supported: encoders such as BERT, decoder-only models such as GPT-2"
            raise RunError(f"model {loaded.ref}: the forward pass failed on example "
                           f"{example_names[items[0].example_index]!r} ({type(exc).__name__}: {first}){hint}") from exc
        attentions = getattr(output, "attentions", None)
        if attentions is None or len(attentions) != loaded.layers or any(a is None for a in attentions):
            got = 0 if attentions is None else sum(a is not None for a in attentions)
            raise RunError(f"model {loaded.ref}: returned attention for {got} of {loaded.layers} layers; "
                           "the model must support attn_implementation='eager'")
        expected = (len(items), loaded.heads, width, width)
        for layer, a in enumerate(attentions):
            if tuple(a.shape) != expected:
                raise RunError(f"model {loaded.ref}, example {example_names[items[0].example_index]}, layer {layer}: "
                               f"attention has shape {tuple(a.shape)}, expected {expected} "
                               "(batch x heads x tokens x tokens); the token count or head count does not match")
        return torch.stack([a.float() for a in attentions], dim=1).cpu().numpy()

    def checked(att: np.ndarray, name: str) -> None:
        for layer in range(att.shape[0]):
            check_attention(att[layer], loaded.ref, name, layer, tolerance)

    for batch in batches:
        items = [encoded[i] for i in batch]
        stacked = forward(items)
        if on_batch is not None:
            on_batch(len(items))
        results: list[tuple[Encoded, np.ndarray, object]] = []
        suspect: list[int] = []
        for row, item in enumerate(items):
            att = np.array(stacked[row, :, :, : item.n, : item.n])  # a copy: never a view of the batch
            try:
                checked(att, example_names[item.example_index])
            except RunError:
                if len(items) == 1:
                    raise
                suspect.append(row)
            qk = capture.example(row, item.n) if capture is not None and (want_qk is None or want_qk(item)) else None
            results.append((item, att, qk))
        for row in suspect:
            # A batched result failed the guard: run the example alone; the guard then decides.
            item = items[row]
            name = example_names[item.example_index]
            alone = forward([item])
            att = np.array(alone[0])
            checked(att, name)
            qk = capture.example(0, item.n) if capture is not None and (want_qk is None or want_qk(item)) else None
            warnings.warn(f"model {loaded.ref}, example {name}: batched attention failed the row-sum check; "
                          "recomputed alone, which passed", stacklevel=2)
            results[row] = (item, att, qk)
        del stacked
        for item, att, qk in results:
            yield Extracted(item, att, qk)


def _forward_arguments(model) -> set[str]:
    import inspect

    try:
        return set(inspect.signature(model.forward).parameters)
    except (TypeError, ValueError):
        return set()
