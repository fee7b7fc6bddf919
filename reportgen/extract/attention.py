"""Run a loaded model over encoded examples in length-sorted batches and pull out attention.

Padding is on the right and masked; each example's attention is cut back to its own n x n block
before anything else sees it, so padding never reaches stored arrays or scores. Each pass stops once
the last layer's attention exists (``extract.tap``): the layers' output after it is never used.
"""
from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from reportgen.errors import RunError
from reportgen.extract.tap import AttentionTap
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


CELLS_PER_TOKEN = 16  # attention cells (batch x longest^2) a batch may hold per token of max_tokens


def plan_batches(lengths: Sequence[int], max_tokens: int = 8192, max_batch: int | None = None) -> list[list[int]]:
    """Group indices by similar length: sort by length, then cut before a batch would hold more than
    ``max_batch`` examples (default ``max(32, max_tokens // 128)``: 32 up to the CPU's 4096, more for the
    larger bounds a GPU takes), ``max_tokens`` padded tokens (batch x longest) or ``16 * max_tokens``
    attention cells per head (batch x longest^2).

    Attention memory grows with the square of the length, so the cell bound gives long examples smaller
    batches: the largest batch, and with it peak memory, has one bound whatever the manifest holds.
    Batches are returned longest first: the first forward pass takes the largest blocks of memory and
    every later, smaller batch fits into blocks already freed, so the process does not keep growing
    batch after batch as it would if lengths increased.
    """
    max_cells = CELLS_PER_TOKEN * max_tokens
    if max_batch is None:
        max_batch = max(32, max_tokens // 128)
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        longest = max([lengths[i] for i in current] + [lengths[index]])
        size = len(current) + 1
        if current and (size > max_batch or size * longest > max_tokens or size * longest * longest > max_cells):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches[::-1]


def _pad_id(tokenizer) -> int:
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id, 0):
        if candidate is not None:
            return int(candidate)
    return 0


class Batch:
    """One forward pass over a padded batch (right padding, ``W`` = longest example).

    ``attentions``: per layer ``[B, H, W, W]`` float32 tensors, rows checked (every real row sums to 1
    over the example's own columns, so padding got no weight). ``q``/``k``: per layer ``[B, W, H*d]``
    projections when a ``QKCapture`` was given, else None.
    """

    def __init__(self, items: list[Encoded], attentions: list, q: list | None, k: list | None, heads: int):
        self.items = items
        self.attentions = attentions
        self.q = q
        self.k = k
        self.heads = heads

    def attention(self, row: int) -> np.ndarray:
        """Example ``row``'s own attention, float32 ``[L, H, n, n]`` (a copy, never a view of the batch)."""
        n = self.items[row].n
        return np.stack([a[row, :, :n, :n].cpu().numpy() for a in self.attentions])

    def qk(self, row: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Example ``row``'s query and key vectors, float16 ``[L, H, n, d]`` each (None without capture)."""
        if self.q is None or self.k is None:
            return None
        import torch  # deferred: torch loads only when a model runs

        n = self.items[row].n

        def split(tensors) -> np.ndarray:
            out = []
            for t in tensors:
                width = t.shape[-1]
                out.append(t[row, :n].to(torch.float16).reshape(n, self.heads, width // self.heads).transpose(0, 1))
            return torch.stack(out).cpu().numpy()

        return split(self.q), split(self.k)


def row_sum_error(attention, lengths) -> np.ndarray:
    """Per example of a batch, the largest |row total - 1| over its real rows, totals taken over its own
    columns only (so weight on padding counts as an error): float64 ``[B]``, nan when any value is not finite.

    ``attention`` is one layer ``[B, H, W, W]`` (torch); ``lengths`` the examples' token counts.
    """
    return row_sum_errors([attention], lengths)[0]


def row_sum_errors(layers, lengths) -> np.ndarray:
    """``row_sum_error`` of every layer at once: float64 ``[L, B]``.

    A row's total over the example's columns is its full total minus what it gives the padded columns;
    only columns from the shortest example's length on can be padding, so only those are read twice.
    The per-layer totals are small (``[B, H, W]``), so everything after them runs once for all layers.
    """
    import torch  # deferred: torch loads only when a model runs

    count, _, width, _ = layers[0].shape
    if not width:
        return np.zeros((len(layers), count))
    device = layers[0].device
    lengths_t = torch.as_tensor(list(lengths), device=device)
    first = min(lengths) if count else width
    padded = torch.arange(first, width, device=device)[None, :] >= lengths_t[:, None]  # [B, W - first]
    totals = torch.stack([a.sum(dim=-1) if first == width else
                          a.sum(dim=-1) - (a[..., first:] * padded[:, None, None, :]).sum(dim=-1)
                          for a in layers])  # [L, B, H, W]
    real_rows = torch.arange(width, device=device)[None, :] < lengths_t[:, None]  # [B, W]
    errors = (totals.double() - 1.0).abs().masked_fill(~real_rows[None, :, None, :], 0.0)
    return errors.flatten(2).amax(dim=2).cpu().numpy()


def iter_batches(loaded, encoded: Sequence[Encoded], example_names: Sequence[str],
                 max_tokens: int = 8192, on_batch=None, capture=None,
                 batches: Sequence[Sequence[int]] | None = None) -> Iterator[Batch]:
    """Yield one checked ``Batch`` per forward pass, longest examples first (``plan_batches``).

    Every real row of every layer must be finite and sum to 1 over the example's own tokens (dtype
    tolerance); an example whose batched rows fail is run alone and its result, which must pass the
    same check, replaces its row. ``on_batch(count)`` is called after each forward pass; ``capture`` (a
    ``QKCapture``) adds query and key vectors; ``batches`` (lists of indices into ``encoded``) replaces
    the plan of ``plan_batches``.
    """
    import torch  # deferred: torch loads only when a model runs

    model = loaded.model
    pad = _pad_id(loaded.tokenizer)
    uses_types = "token_type_ids" in _forward_arguments(model)
    tolerance = DTYPE_TOLERANCE.get(getattr(loaded, "dtype", "float32"), ROW_SUM_TOLERANCE)
    if batches is None:
        batches = plan_batches([e.n for e in encoded], max_tokens=max_tokens)

    def forward(items: list[Encoded]) -> tuple[list, list | None, list | None]:
        """One padded forward pass: per layer attention [B, H, W, W] float32, and q/k when captured."""
        width = max(item.n for item in items)
        ids = np.full((len(items), width), pad, dtype=np.int64)
        types = np.zeros((len(items), width), dtype=np.int64)
        for row, item in enumerate(items):
            ids[row, : item.n] = item.input_ids
            if item.token_type_ids is not None:
                types[row, : item.n] = item.token_type_ids
        mask = np.arange(width)[None, :] < np.array([item.n for item in items])[:, None]
        inputs = {"input_ids": torch.from_numpy(ids).to(loaded.device),
                  "attention_mask": torch.from_numpy(mask.astype(np.int64)).to(loaded.device)}
        if uses_types and any(item.token_type_ids is not None for item in items):
            inputs["token_type_ids"] = torch.from_numpy(types).to(loaded.device)
        if capture is not None:
            capture.clear()
        try:
            with torch.inference_mode():
                attentions = tap(inputs)
        except (RuntimeError, ValueError, TypeError, IndexError, KeyError, AttributeError, NotImplementedError) as exc:
            text = str(exc).strip()
            first = text.splitlines()[0] if text else ""
            hint = "" if isinstance(exc, RuntimeError) else "; supported: encoders such as BERT, decoder-only models such as GPT-2"
            raise RunError(f"model {loaded.ref}: the forward pass failed on example "
                           f"{example_names[items[0].example_index]!r} ({type(exc).__name__}: {first}){hint}") from exc
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
        layers = [a.float() for a in attentions]
        if capture is None or not capture.available or any(t is None for t in capture.q + capture.k):
            return layers, None, None
        return layers, list(capture.q), list(capture.k)

    def failures(layers: list, items: list[Encoded]) -> list[tuple[int, int, float]]:
        """(row, first failing layer, its error) of each example whose rows fail the check."""
        lengths = [item.n for item in items]
        worst = row_sum_errors(layers, lengths)  # [L, B]
        bad = ~(worst <= tolerance)  # nan counts as bad
        return [(row, int(np.argmax(bad[:, row])), float(worst[int(np.argmax(bad[:, row])), row]))
                for row in range(len(items)) if bad[:, row].any()]

    def fail(layers: list, item: Encoded, layer: int, error: float) -> RunError:
        name = example_names[item.example_index]
        if not np.isfinite(error):
            return RunError(f"model {loaded.ref}, example {name}, layer {layer}: attention has NaN or inf values")
        return RunError(f"model {loaded.ref}, example {name}, layer {layer}: attention rows sum to 1 +/- "
                        f"{error:.3g} (tolerance {tolerance}); is this really softmax attention?")

    tap = AttentionTap(model, loaded.layers)  # stops each pass after the last attention
    try:
        for batch in batches:
            items = [encoded[i] for i in batch]
            layers, qs, ks = forward(items)
            if on_batch is not None:
                on_batch(len(items))
            bad = failures(layers, items)
            if len(items) == 1 and bad:
                raise fail(layers, items[0], bad[0][1], bad[0][2])
            for row, _, _ in bad:
                # A batched result failed the guard: run the example alone; the same guard then decides.
                item = items[row]
                alone, aq, ak = forward([item])
                again = failures(alone, [item])
                if again:
                    raise fail(alone, item, again[0][1], again[0][2])
                n = item.n
                with torch.inference_mode():
                    for layer in range(len(layers)):
                        layers[layer][row] = 0.0
                        layers[layer][row, :, :n, :n] = alone[layer][0]
                        if qs is not None and aq is not None:
                            qs[layer][row, :n] = aq[layer][0]
                            ks[layer][row, :n] = ak[layer][0]
                warnings.warn(f"model {loaded.ref}, example {example_names[item.example_index]}: batched attention "
                              "failed the row-sum check; recomputed alone, which passed", stacklevel=2)
            yield Batch(items, layers, qs, ks, loaded.heads)
    finally:
        tap.close()


def run_batches(loaded, encoded: Sequence[Encoded], example_names: Sequence[str],
                max_tokens: int = 8192, on_batch=None, capture=None,
                batches: Sequence[Sequence[int]] | None = None, want_qk=None) -> Iterator[Extracted]:
    """Yield one ``Extracted`` (full float32 attention) per encoded example, in batch order (longest batch first).

    The per-example view of ``iter_batches`` (same arguments); ``want_qk(encoded)`` limits the q/k copies
    to the examples that need them (default: all). The build itself analyses whole batches instead
    (``reportgen.analysis.batched``) and copies out only what the site shows.
    """
    for batch in iter_batches(loaded, encoded, example_names, max_tokens=max_tokens, on_batch=on_batch,
                              capture=capture, batches=batches):
        for row, item in enumerate(batch.items):
            qk = batch.qk(row) if want_qk is None or want_qk(item) else None
            yield Extracted(item, batch.attention(row), qk)


def _forward_arguments(model) -> set[str]:
    try:
        return set(inspect.signature(model.forward).parameters)
    except (TypeError, ValueError):
        return set()
