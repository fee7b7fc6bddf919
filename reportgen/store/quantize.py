"""Quantise attention for the viewers.

Scheme "uint8-linear": q = round(255 * a) for a in [0, 1] (``analysis.batched.quantize_tensor``);
a' = q / 255 (:func:`dequantize`). The absolute error |a - a'| is at most 1/510 (half a step). Causal
models store only the lower triangle (j <= i) of each head, row by row.
"""
from __future__ import annotations

import numpy as np

SCHEME = "uint8-linear"
STEPS = 255
MAX_ERROR = 1.0 / (2 * STEPS)


def dequantize(q: np.ndarray) -> np.ndarray:
    """uint8 -> float32 in [0, 1]."""
    return q.astype(np.float32) / STEPS


def pack_lower(q: np.ndarray) -> np.ndarray:
    """[..., n, n] -> [..., n(n+1)/2]: the lower triangle (j <= i), row by row."""
    n = q.shape[-1]
    rows, cols = np.tril_indices(n)
    return q[..., rows, cols]


def unpack_lower(packed: np.ndarray, n: int) -> np.ndarray:
    """Inverse of ``pack_lower``; the upper triangle is zero."""
    out = np.zeros(packed.shape[:-1] + (n, n), dtype=packed.dtype)
    rows, cols = np.tril_indices(n)
    out[..., rows, cols] = packed
    return out
