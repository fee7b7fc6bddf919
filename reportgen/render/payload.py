"""Viewer data files: classic scripts that push plain objects onto ``window.RG_DATA``.

Opened from ``file://`` a page cannot ``fetch``; a ``<script src>`` can load anything. Every file is
``(window.RG_DATA=window.RG_DATA||[]).push(OBJECT);`` with OBJECT written as JSON in which ``<``,
``>``, ``&`` and the line separators are escaped, so no token text can close the script.
"""
from __future__ import annotations

import json

import numpy as np
from pybase64 import b64encode  # SIMD base64, byte-identical to the standard library's, about 3x faster

from reportgen.store.quantize import MAX_ERROR, SCHEME, pack_lower


def js_json(value) -> str:
    """JSON safe to embed in a script: escapes ``<``, ``>``, ``&``, U+2028 and U+2029."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


class Base64:
    """Raw bytes that ``data_script`` writes as a base64 string (a top-level value of the object).

    Base64 text needs no JSON or HTML escaping, so large arrays skip the JSON encoder entirely.
    """

    __slots__ = ("raw",)

    def __init__(self, array: np.ndarray):
        array = np.ascontiguousarray(array)
        self.raw = array.reshape(-1).view(np.uint8).data if array.ndim else array.tobytes()  # no copy


_PUSH = "(window.RG_DATA=window.RG_DATA||[]).push("


def data_chunks(obj: dict) -> list[bytes]:
    """The data file of ``obj`` as UTF-8 chunks: a script pushing it onto ``window.RG_DATA``.

    ``Base64`` values become base64 strings; their text is never copied into one large string.
    """
    blobs = {key: value for key, value in obj.items() if isinstance(value, Base64)}
    if not blobs:
        return [(_PUSH + js_json(obj) + ");\n").encode("utf-8")]
    head = js_json({key: value for key, value in obj.items() if key not in blobs})[:-1]  # without the closing }
    chunks = [(_PUSH + head).encode("utf-8")]
    separator = "" if head == "{" else ","
    for key in sorted(blobs):
        chunks += [(separator + js_json(key) + ':"').encode("utf-8"), b64encode(blobs[key].raw), b'"']
        separator = ","
    chunks.append(b"});\n")
    return chunks


def data_script(obj: dict) -> str:
    """``data_chunks`` as one string."""
    return b"".join(data_chunks(obj)).decode("utf-8")


# An example whose data of one kind is at most this many bytes keeps all its layers in one file: a few
# files per example instead of two per layer, and one request for the model view. Larger examples get
# one file per layer, so a view loads only the layer it shows. Attention (PACK_BYTES) is what every
# example page loads first; query/key vectors (PACK_QK_BYTES) only the neuron view, so they pack up to
# twice the size: MiniLM keeps attention in one file up to 85 tokens, query/key vectors up to 113.
# (Creating a file costs about as much as writing 100 KB on some disks.)
PACK_BYTES = 512 * 1024
PACK_QK_BYTES = 1024 * 1024


def layer_file_name(layer: int) -> str:
    return f"L{layer}.js"


def qk_file_name(layer: int) -> str:
    return f"Q{layer}.js"


def layer_file_names(attention_q: np.ndarray, causal: bool) -> list[str]:
    """The data file of each layer's attention (uint8 [L, H, n, n]): ``L.js`` for all when small."""
    layers, heads, n = attention_q.shape[:3]
    size = layers * heads * (n * (n + 1) // 2 if causal else n * n)
    return ["L.js"] * layers if size <= PACK_BYTES else [layer_file_name(layer) for layer in range(layers)]


def qk_file_names(q: np.ndarray) -> dict[str, str]:
    """The data file of each layer's query and key vectors (float16 [L, H, n, d] each): ``Q.js`` when small."""
    layers = q.shape[0]
    size = 2 * q.size * 2
    return {str(layer): "Q.js" if size <= PACK_QK_BYTES else qk_file_name(layer) for layer in range(layers)}


def meta_object(key: str, model: str, example: str, record, words: list[dict], labels: list[list[str | None]],
                model_name: str, qk_layers: list[int], qk_max_error: float | None = None,
                layer_files: list[str] | None = None, qk_files: dict[str, str] | None = None) -> dict:
    """The ``meta`` object of one (model, example): tokens and maps, no attention.

    ``layer_files``/``qk_files``: the data files written (default: one per layer).
    """
    layers, heads, n, _ = record.attention_q.shape
    return {
        "kind": "meta", "key": key, "model": model, "model_name": model_name, "example": example,
        "layers": int(layers), "heads": int(heads), "n": int(n), "causal": bool(record.causal),
        "tokens": list(record.tokens), "special": [bool(x) for x in record.special],
        "segment": [int(x) for x in record.segment], "word": [int(x) for x in record.word],
        "words": words, "labels": labels,
        "quant": {"scheme": SCHEME, "max_error": MAX_ERROR, "packing": "lower" if record.causal else "full",
                  "qk_dtype": "float16", "qk_max_error": qk_max_error},
        "layer_files": layer_files if layer_files is not None else [layer_file_name(layer) for layer in range(int(layers))],
        "qk_files": ({str(layer): qk_files[str(layer)] for layer in qk_layers} if qk_files is not None
                     else {str(layer): qk_file_name(layer) for layer in qk_layers}),
    }


def layer_object(key: str, layer: int, attention_q: np.ndarray, causal: bool) -> dict:
    """One layer's quantised attention: base64 of uint8 [H, n, n] (causal: packed lower triangles)."""
    block = attention_q[layer]
    if causal:
        block = pack_lower(block)
    return {"kind": "layer", "key": key, "layer": int(layer), "data": Base64(block)}


def qk_object(key: str, layer: int, q: np.ndarray, k: np.ndarray) -> dict:
    """Query and key vectors of one layer, float16 little-endian [H, n, d] each (neuron view)."""
    heads, n, d = q.shape
    return {"kind": "qk", "key": key, "layer": int(layer), "heads": int(heads), "n": int(n), "d": int(d),
            "dtype": "float16", "q": Base64(q.astype("<f2", copy=False)), "k": Base64(k.astype("<f2", copy=False))}
