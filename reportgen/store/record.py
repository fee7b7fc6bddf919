"""The per-(model, example) record: everything later steps need, so the model never runs twice.

Serialised as an ``.npz`` archive: arrays as they are, plus one JSON string ``meta``.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import numpy as np

RECORD_VERSION = 1


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
    coref: list[np.ndarray]  # per pair float64[L, H, C]
    attention_q: np.ndarray  # uint8[L, H, n, n]
    extras: dict[str, np.ndarray] = field(default_factory=dict)  # optional arrays (neuron view q/k, ...)

    @property
    def n(self) -> int:
        return len(self.tokens)

    def to_bytes(self) -> bytes:
        meta = {"version": RECORD_VERSION, "model": self.model, "example": self.example, "tokens": self.tokens,
                "full_length": self.full_length, "truncated": self.truncated, "causal": self.causal,
                "pairs": len(self.coref), "extras": sorted(self.extras)}
        arrays = {"meta": np.array(json.dumps(meta, ensure_ascii=False)), "special": self.special,
                  "segment": self.segment, "word": self.word, "punct": self.punct, "sums_num": self.sums_num,
                  "sums_count": self.sums_count, "attention_q": self.attention_q}
        for index, weights in enumerate(self.coref):
            arrays[f"coref_{index}"] = weights
        for name, value in self.extras.items():
            arrays[f"x_{name}"] = value
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, payload: bytes) -> "Record":
        with np.load(io.BytesIO(payload), allow_pickle=False) as data:
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
