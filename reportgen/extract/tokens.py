"""Tokenise examples and map word pieces to the words of design.md.

A piece belongs to the word (of its own sentence) whose character range overlaps the piece's
offsets; special tokens ([CLS], [SEP], <s>, </s>) belong to no word (-1).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

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


def is_punct_token(token: str) -> bool:
    """True when the token's text, without subword markers, is non-empty and all Unicode punctuation (P*)."""
    text = strip_markers(token)
    return bool(text) and all(unicodedata.category(ch).startswith("P") for ch in text)


def _word_ranges(words) -> list[tuple[int, int, int]]:
    return [(w.segment, w.start, w.end) for w in words]


def encode_example(tokenizer, example, example_index: int, max_length: int) -> Encoded:
    """Tokenise ``example.a`` (and ``example.b``) with offsets; truncate to ``max_length`` tokens."""
    texts = (example.a,) if example.b is None else (example.a, example.b)
    full = tokenizer(*texts, add_special_tokens=True, truncation=False)
    full_length = len(full["input_ids"])
    truncated = full_length > max_length
    enc = tokenizer(*texts, add_special_tokens=True, truncation="longest_first" if truncated else False,
                    max_length=max_length if truncated else None,
                    return_offsets_mapping=True, return_special_tokens_mask=True)
    ids = list(enc["input_ids"])
    n = len(ids)
    special = np.array(enc["special_tokens_mask"], dtype=bool)
    seq_ids = enc.sequence_ids()
    offsets = enc["offset_mapping"]
    tokens = tokenizer.convert_ids_to_tokens(ids)
    words = _word_ranges(example.words())
    segment = np.full(n, -1, dtype=np.int8)
    word = np.full(n, -1, dtype=np.int32)
    for t in range(n):
        if special[t] or seq_ids[t] is None:
            special[t] = True
            continue
        seg = int(seq_ids[t])
        segment[t] = seg
        start, end = offsets[t]
        word[t] = _find_word(words, seg, start, end)
    punct = np.array([(not special[t]) and is_punct_token(tokens[t]) for t in range(n)], dtype=bool)
    type_ids = list(enc["token_type_ids"]) if "token_type_ids" in enc else None
    return Encoded(example_index, ids, type_ids, tokens, special, segment, word, punct, full_length, truncated)


def _find_word(words: list[tuple[int, int, int]], segment: int, start: int, end: int) -> int:
    """Index of the first word of ``segment`` overlapping [start, end); for empty ranges, the word containing start."""
    best = -1
    for index, (seg, w_start, w_end) in enumerate(words):
        if seg != segment:
            continue
        if end > start and w_start < end and start < w_end:
            return index
        if end <= start and w_start <= start < w_end:
            return index
        if best == -1 and w_start >= start:
            best = index
    return best
