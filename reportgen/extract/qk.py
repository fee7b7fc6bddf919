"""Capture query and key vectors with forward hooks on the stock transformers model (neuron view).

The projections are found by name: ``query``/``key`` (BERT, RoBERTa, XLM-R, ELECTRA), ``q_lin``/``k_lin``
(DistilBERT), ``q_proj``/``k_proj`` (many newer models) or the fused ``c_attn`` of GPT-2 (q, k, v
side by side). Each model's attention score is q . k / sqrt(d) with d the head size, so the viewer can
recompute softmax(q . k / sqrt(d)) and check it against the stored attention.
"""
from __future__ import annotations

import re

import numpy as np

PAIRS = (("query", "key"), ("q_lin", "k_lin"), ("q_proj", "k_proj"))


def _layer_number(name: str) -> int:
    numbers = re.findall(r"\.(\d+)\.", "." + name + ".")
    return int(numbers[-1]) if numbers else -1


def find_projections(model, layers: int) -> list[tuple[object, object | None]] | None:
    """Per layer (query module, key module), or (fused qkv module, None); None when not found."""
    modules = dict(model.named_modules())
    for q_name, k_name in PAIRS:
        found = sorted((_layer_number(n), m, modules.get(n[: -len(q_name)] + k_name))
                       for n, m in modules.items() if n.endswith("." + q_name))
        found = [(number, q, k) for number, q, k in found if k is not None]
        if len(found) == layers:
            return [(q, k) for _, q, k in found]
    fused = sorted((_layer_number(n), m) for n, m in modules.items() if n.endswith(".c_attn"))
    if len(fused) == layers:
        return [(m, None) for _, m in fused]
    return None


class QKCapture:
    """Hooks that keep the last forward pass's q and k, per layer, as tensors [B, W, H*d]."""

    def __init__(self, loaded):
        self.heads = loaded.heads
        self.projections = find_projections(loaded.model, loaded.layers)
        self.q: list = [None] * loaded.layers
        self.k: list = [None] * loaded.layers
        self.handles = []
        if self.projections is None:
            return
        for layer, (q_module, k_module) in enumerate(self.projections):
            if k_module is None:
                self.handles.append(q_module.register_forward_hook(self._fused(layer)))
            else:
                self.handles.append(q_module.register_forward_hook(self._store(self.q, layer)))
                self.handles.append(k_module.register_forward_hook(self._store(self.k, layer)))

    @property
    def available(self) -> bool:
        return self.projections is not None

    @staticmethod
    def _store(target: list, layer: int):
        def hook(module, inputs, output):
            target[layer] = output.detach()
        return hook

    def _fused(self, layer: int):
        def hook(module, inputs, output):
            hidden = output.shape[-1] // 3
            self.q[layer] = output[..., :hidden].detach()
            self.k[layer] = output[..., hidden: 2 * hidden].detach()
        return hook

    def example(self, row: int, n: int) -> tuple[np.ndarray, np.ndarray] | None:
        """q and k of batch row ``row``: float16 [L, H, n, d] each."""
        if not self.available or any(t is None for t in self.q + self.k):
            return None
        qs = np.stack([self._split(t[row, :n]) for t in self.q])
        ks = np.stack([self._split(t[row, :n]) for t in self.k])
        return qs.astype(np.float16), ks.astype(np.float16)

    def _split(self, tensor) -> np.ndarray:
        n, width = tensor.shape
        d = width // self.heads
        return tensor.float().cpu().numpy().reshape(n, self.heads, d).transpose(1, 0, 2)

    def clear(self) -> None:
        """Forget the last pass (in place: the hooks hold these very lists)."""
        self.q[:] = [None] * len(self.q)
        self.k[:] = [None] * len(self.k)

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles = []
