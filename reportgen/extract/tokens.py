"""Tokenise examples and map word pieces to the words of design.md.

A piece belongs to the word (of its own sentence) whose character range overlaps the piece's
offsets; special tokens ([CLS], [SEP], <s>, </s>) belong to no word (-1).
"""
from __future__ import annotations

import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SUBWORD_MARKERS = ("##", "\u0120", "\u2581")  # BERT "##", GPT-2/RoBERTa "Ġ", SentencePiece "▁"


@dataclass
class Encoded:
    """One example, tokenised. Arrays have one entry per token (n tokens, no padding)."""

    example_index: int
    input_ids: list[int]
    token_type_ids: list[int] | None
    tokens: list[str]
    special: np.ndarray  # bool[n]
    segment: np.ndarray  # int8[n]: 0 sentence a, 1 sentence b, -1 special
    word: np.ndarray  # int32[n]: joint word index, -1 for special tokens
    punct: np.ndarray  # bool[n]: non-special tokens whose text is all punctuation
    full_length: int  # tokens before truncation
    truncated: bool

    @property
    def n(self) -> int:
        return len(self.input_ids)


def strip_markers(token: str) -> str:
    """Token text without subword markers (##, Ġ, ▁)."""
    for marker in SUBWORD_MARKERS:
        token = token.replace(marker, "")
    return token


@lru_cache(maxsize=1 << 16)
def is_punct_token(token: str) -> bool:
    """True when the token's text, without subword markers, is non-empty and all Unicode punctuation (P*)."""
    text = strip_markers(token)
    return bool(text) and all(unicodedata.category(ch).startswith("P") for ch in text)


class _WordIndex:
    """The words of one example, per segment, sorted by start (words never overlap): ``find`` by bisection."""

    def __init__(self, words):
        self.starts: dict[int, list[int]] = {}
        self.ends: dict[int, list[int]] = {}
        self.index: dict[int, list[int]] = {}
        for index, w in enumerate(words):
            self.starts.setdefault(w.segment, []).append(w.start)
            self.ends.setdefault(w.segment, []).append(w.end)
            self.index.setdefault(w.segment, []).append(index)

    def find(self, segment: int, start: int, end: int) -> int:
        """Index of the first word of ``segment`` overlapping [start, end) (empty ranges: the word
        containing start); when there is none, the first word starting at or after start; else -1."""
        starts = self.starts.get(segment)
        if not starts:
            return -1
        ends, index = self.ends[segment], self.index[segment]
        first = bisect_right(ends, start)  # the first word ending after start: the only candidate
        if first < len(starts) and (starts[first] < end if end > start else starts[first] <= start):
            return index[first]
        after = bisect_left(starts, start)
        return index[after] if after < len(starts) else -1


def encode_example(tokenizer, example, example_index: int, max_length: int) -> Encoded:
    """Tokenise ``example.a`` (and ``example.b``) with offsets; truncate to ``max_length`` tokens."""
    texts = (example.a,) if example.b is None else (example.a, example.b)
    enc = tokenizer(*texts, add_special_tokens=True, truncation=False,
                    return_offsets_mapping=True, return_special_tokens_mask=True)
    full_length = len(enc["input_ids"])
    truncated = full_length > max_length
    if truncated:
        enc = tokenizer(*texts, add_special_tokens=True, truncation="longest_first", max_length=max_length,
                        return_offsets_mapping=True, return_special_tokens_mask=True)
    ids = list(enc["input_ids"])
    n = len(ids)
    special = np.array(enc["special_tokens_mask"], dtype=bool)
    seq_ids = enc.sequence_ids()
    offsets = enc["offset_mapping"]
    tokens = tokenizer.convert_ids_to_tokens(ids)
    words = _WordIndex(example.words())
    segment = np.full(n, -1, dtype=np.int8)
    word = np.full(n, -1, dtype=np.int32)
    punct = np.zeros(n, dtype=bool)
    for t in range(n):
        if special[t] or seq_ids[t] is None:
            special[t] = True
            continue
        seg = int(seq_ids[t])
        segment[t] = seg
        start, end = offsets[t]
        word[t] = words.find(seg, start, end)
        punct[t] = is_punct_token(tokens[t])
    type_ids = list(enc["token_type_ids"]) if "token_type_ids" in enc else None
    return Encoded(example_index, ids, type_ids, tokens, special, segment, word, punct, full_length, truncated)
