"""The per-(model, example) record: everything later steps need, so the model never runs twice.

Serialised as ``b"RGR2"``, a little-endian uint32 header length, a UTF-8 JSON header, then each array's
raw bytes at an 8-byte-aligned offset. The header holds the record's scalar fields (``meta``) and, per
array, its name, numpy dtype string, shape and offset; reading is ``numpy.frombuffer`` per array. (An
``.npz`` archive cost more than the analysis of a light record; the cache adds the checksum.)
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field

import numpy as np

RECORD_VERSION = 3
MAGIC = b"RGR2"


@dataclass
class Record:
    """Tokens, per-example score numerators and quantised attention of one example on one model."""

    model: str  # model slug
    example: str  # example slug
    tokens: list[str]
    special: np.ndarray  # bool[n]
    segment: np.ndarray  # int8[n]
    word: np.ndarray  # int32[n]
    punct: np.ndarray  # bool[n]
    full_length: int
    truncated: bool
    causal: bool
    sums_num: np.ndarray  # float64[P, L, H]
    sums_count: np.ndarray  # float64[P]
    coref: list[np.ndarray]  # per pair float64[L, H, C, Wmax]: attention to each candidate word (nan: none)
    attention_q: np.ndarray  # uint8[L, H, n, n]
    extras: dict[str, np.ndarray] = field(default_factory=dict)  # optional arrays (neuron view q/k, ...)

    @property
    def n(self) -> int:
        return len(self.tokens)

    def to_bytes(self) -> bytes:
        return b"".join(self.to_chunks())

    def to_chunks(self) -> list:
        """``to_bytes`` as a list of bytes-like chunks (views of the arrays, nothing copied)."""
        meta = {"version": RECORD_VERSION, "model": self.model, "example": self.example, "tokens": self.tokens,
                "full_length": self.full_length, "truncated": self.truncated, "causal": self.causal,
                "pairs": len(self.coref), "extras": sorted(self.extras)}
        arrays = {"meta": np.array(json.dumps(meta, ensure_ascii=False)), "special": self.special,
                  "segment": self.segment, "word": self.word, "punct": self.punct, "sums_num": self.sums_num,
                  "sums_count": self.sums_count, "attention_q": self.attention_q}
        for index, weights in enumerate(self.coref):
            arrays[f"coref_{index}"] = weights
        for name in sorted(self.extras):  # bytes do not depend on the order extras were added in
            arrays[f"x_{name}"] = self.extras[name]
        return pack_arrays(arrays)

    @classmethod
    def from_bytes(cls, payload: bytes) -> "Record":
        data = unpack_arrays(payload)
        meta = json.loads(str(data["meta"]))
        if meta.get("version") != RECORD_VERSION:
            raise ValueError(f"record version {meta.get('version')} != {RECORD_VERSION}")
        return cls(
            model=meta["model"], example=meta["example"], tokens=list(meta["tokens"]),
            special=data["special"], segment=data["segment"], word=data["word"], punct=data["punct"],
            full_length=int(meta["full_length"]), truncated=bool(meta["truncated"]), causal=bool(meta["causal"]),
            sums_num=data["sums_num"], sums_count=data["sums_count"],
            coref=[data[f"coref_{i}"] for i in range(int(meta["pairs"]))],
            attention_q=data["attention_q"],
            extras={name: data[f"x_{name}"] for name in meta.get("extras", [])},
        )


def pack_arrays(arrays: dict[str, np.ndarray]) -> list:
    """Named arrays -> chunks of bytes-like objects, which joined are the record's bytes (layout in the
    module docstring). The arrays' own memory is referenced, not copied. Object arrays are refused."""
    entries, chunks, offset = [], [], 0
    for name, value in arrays.items():
        value = np.asarray(value)
        if not value.flags.c_contiguous:
            value = value.copy(order="C")  # (np.ascontiguousarray would turn a 0-d array into 1-d)
        if value.dtype.hasobject:
            raise ValueError(f"array {name!r} has dtype object; records hold plain arrays only")
        size = value.nbytes
        entries.append([name, value.dtype.str, list(value.shape), offset, size])
        pad = -size % 8
        if size:
            chunks.append(value.reshape(-1).view(np.uint8).data if value.ndim else value.tobytes())
        if pad:
            chunks.append(b"\0" * pad)
        offset += size + pad
    header = json.dumps(entries, separators=(",", ":")).encode("utf-8")
    header += b" " * (-(len(header) + 8) % 8)  # the data starts 8-byte aligned
    return [MAGIC + struct.pack("<I", len(header)) + header] + chunks


def unpack_arrays(payload: bytes) -> dict[str, np.ndarray]:
    """Inverse of ``pack_arrays`` (fresh, writable arrays); ValueError on anything malformed."""
    if payload[:4] != MAGIC or len(payload) < 8:
        raise ValueError("not a reportgen record")
    (length,) = struct.unpack("<I", payload[4:8])
    start = 8 + length
    try:
        entries = json.loads(payload[8:start].decode("utf-8"))
        out = {}
        for name, dtype, shape, offset, size in entries:
            kind = np.dtype(dtype)
            if kind.hasobject or start + offset + size > len(payload):
                raise ValueError(f"array {name!r} is malformed")
            count = size // kind.itemsize if kind.itemsize else 0
            out[name] = np.frombuffer(payload, dtype=kind, count=count, offset=start + offset).reshape(shape).copy()
        return out
    except (TypeError, KeyError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"malformed record header ({exc})") from exc
