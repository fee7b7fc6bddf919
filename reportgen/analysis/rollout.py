"""Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers").

For layer l, average the attention over heads and add the residual connection as an identity:

    Â_l = 0.5 * mean_h A_l[h] + 0.5 * I,   then every row of Â_l renormalised to sum to 1

and multiply the layers, first layer rightmost:

    R_0 = Â_0,   R_l = Â_l R_{l-1}   (so R_{L-1} = Â_{L-1} ... Â_1 Â_0)

R_l[i, j] is how much of token j's input embedding flows into token i's representation after layer l
(0-based layers). Products of row-stochastic matrices are row-stochastic, so every row of every R_l
sums to 1 and the rollout can be quantised like attention (uint8, error at most 1/510).

Pure numpy, float64 inside; computed from the full-precision attention of a record before it is
quantised (``reportgen.pipeline.make_record``, the reference; the build uses ``analysis.batched.batch_rollout``).
"""
from __future__ import annotations

import numpy as np

RESIDUAL = 0.5  # weight of the identity (the residual stream) in Â_l


def residual_attention(layer_attention: np.ndarray, residual: float = RESIDUAL) -> np.ndarray:
    """Â for one layer: ``layer_attention`` is [H, n, n] (or [n, n]); returns float64 [n, n], rows sum to 1."""
    a = np.asarray(layer_attention, dtype=np.float64)
    if a.ndim == 3:
        a = a.mean(axis=0)
    n = a.shape[-1]
    mixed = (1.0 - residual) * a + residual * np.eye(n)
    sums = mixed.sum(axis=-1, keepdims=True)
    return mixed / np.where(sums > 0, sums, 1.0)


def rollout(attention: np.ndarray, residual: float = RESIDUAL) -> np.ndarray:
    """Rollout up to each layer: ``attention`` [L, H, n, n] -> float64 [L, n, n] with out[l] = R_l."""
    attention = np.asarray(attention)
    layers, n = attention.shape[0], attention.shape[-1]
    out = np.empty((layers, n, n), dtype=np.float64)
    current = np.eye(n)
    for layer in range(layers):
        current = residual_attention(attention[layer], residual) @ current
        out[layer] = current
    return out
