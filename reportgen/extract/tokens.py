"""Tokenise examples and map word pieces to the manifest's words (``reportgen.manifest.words``).

A piece belongs to the word (of its own sentence) whose character range overlaps the piece's
offsets; special tokens ([CLS], [SEP], <s>, </s>) belong to no word (-1).
"""
from __future__ import annotations

import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from reportgen.errors import RunError, first_line

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


def find_words(words, segment, start) -> np.ndarray:
    """Per query token (its ``segment`` and character ``start``), the index of the first word of that
    segment overlapping the token's range, else the first word starting after it, else -1 (int32).

    Both rules name the same word: the first word of the segment that ends after ``start``. Words of a
    segment never overlap and come sorted, so that word either contains ``start`` (then it is the first
    word overlapping any range that begins there; for an empty range, the word containing start) or it
    is the first word starting after ``start``, which a range starting between two words overlaps if it
    overlaps any. A token's end offset is therefore not needed.
    """
    ends: dict[int, list[int]] = {0: [], 1: []}
    index: dict[int, list[int]] = {0: [], 1: []}
    for i, w in enumerate(words):
        ends[w.segment].append(w.end)
        index[w.segment].append(i)
    out = []
    for seg, first in zip(segment.tolist(), start.tolist()):
        seg_ends = ends.get(seg, ())
        k = bisect_right(seg_ends, first)
        out.append(index[seg][k] if k < len(seg_ends) else -1)
    return np.array(out, dtype=np.int32)


def _backend(tokenizer):
    """A fast tokenizer's own backend, set to neither truncate nor pad; None for any other tokenizer.

    A ``tokenizer.json`` may ship with truncation and padding on (MiniLM's: both at 128 tokens). A call
    of the tokenizer with truncation and padding off switches them off on the backend before encoding
    (``set_truncation_and_padding``); this does the same, once, so encoding through the backend gives
    what that call gives.
    """
    backend = getattr(tokenizer, "_tokenizer", None)  # a ``tokenizers.Tokenizer``
    if backend is None or not hasattr(backend, "encode_batch"):
        return None
    try:
        if getattr(backend, "truncation", None) is not None:
            backend.no_truncation()
        if getattr(backend, "padding", None) is not None:
            backend.no_padding()
    except AttributeError:  # something else under that name: use the tokenizer's own call
        return None
    return backend


def _from_backend(tokenizer, enc):
    """``_tokenise``'s tuple from a backend encoding."""
    types = enc.type_ids if "token_type_ids" in tokenizer.model_input_names else None
    tokens = enc.tokens
    unknown = tokenizer.unk_token_id
    if unknown is not None and unknown in enc.ids:  # the backend shows the text of an unknown piece
        tokens = [tokenizer.unk_token if i == unknown else t for i, t in zip(enc.ids, tokens)]
    return enc.ids, types, tokens, enc.offsets, enc.special_tokens_mask, enc.sequence_ids


def _tokenise(tokenizer, texts: tuple, max_length: int | None):
    """ids, type ids (None when the model has none), tokens, offsets, special mask and sequence ids.

    A fast tokenizer's own backend (``_backend``: the same encoding as a call of the tokenizer, without
    the wrapper's cost); to truncate, and for any other tokenizer, the tokenizer call.
    """
    backend = _backend(tokenizer) if max_length is None else None
    if backend is not None:
        return _from_backend(tokenizer, backend.encode(*texts, add_special_tokens=True))
    kwargs = {"truncation": "longest_first", "max_length": max_length} if max_length is not None else {"truncation": False}
    enc = tokenizer(*texts, add_special_tokens=True, return_offsets_mapping=True, return_special_tokens_mask=True,
                    **kwargs)
    ids = list(enc["input_ids"])
    types = list(enc["token_type_ids"]) if "token_type_ids" in enc else None
    return (ids, types, tokenizer.convert_ids_to_tokens(ids), enc["offset_mapping"], enc["special_tokens_mask"],
            enc.sequence_ids())


def encode_example(tokenizer, example, example_index: int, max_length: int, whole=None) -> Encoded:
    """Tokenise ``example.a`` (and ``example.b``) with offsets; truncate to ``max_length`` tokens.

    ``whole``: the example's untruncated ``_tokenise`` result when already at hand (``encode_examples``).
    """
    texts = (example.a,) if example.b is None else (example.a, example.b)
    ids, types, tokens, offsets, special_mask, seq_ids = whole if whole is not None else _tokenise(tokenizer, texts, None)
    full_length = len(ids)
    truncated = full_length > max_length
    if truncated:
        ids, types, tokens, offsets, special_mask, seq_ids = _tokenise(tokenizer, texts, max_length)
    n = len(ids)
    segment = np.array([-1 if s is None else s for s in seq_ids], dtype=np.int8).reshape(n)
    special = np.array(special_mask, dtype=bool).reshape(n) | (segment < 0)
    segment[special] = -1
    bounds = np.array(offsets, dtype=np.int64).reshape(n, 2)
    word = find_words(example.words(), segment, bounds[:, 0])
    punct = np.array([is_punct_token(t) for t in tokens], dtype=bool).reshape(n) & ~special
    return Encoded(example_index, list(ids), list(types) if types is not None else None, list(tokens), special,
                   segment, word, punct, full_length, truncated)


def encode_examples(tokenizer, examples, max_length: int) -> list[Encoded] | None:
    """``encode_example`` of every example (indices 0, 1, ...), the backend encoding all texts in one call
    on its own threads. None when there is no such backend (a slow tokenizer): then encode one example
    at a time. Errors propagate unnamed; the caller can retry one at a time.
    """
    backend = _backend(tokenizer)
    if backend is None:
        return None
    inputs = [example.a if example.b is None else (example.a, example.b) for example in examples]
    encodings = backend.encode_batch(inputs, add_special_tokens=True)
    return [encode_example(tokenizer, example, index, max_length, whole=_from_backend(tokenizer, enc))
            for index, (example, enc) in enumerate(zip(examples, encodings))]


def encode_all(tokenizer, model_id: str, examples, max_length: int) -> list[Encoded]:
    """Every example tokenised: in one backend call when the tokenizer allows it, else (and to name the
    example that fails) one at a time. Raises RunError naming the model and the example."""

    try:
        encoded = encode_examples(tokenizer, examples, max_length)
    except Exception:  # noqa: BLE001 - any failure is redone one example at a time, which names the culprit
        encoded = None
    if encoded is None:
        encoded = []
        for index, example in enumerate(examples):
            try:
                encoded.append(encode_example(tokenizer, example, index, max_length))
            except (ValueError, TypeError, KeyError, IndexError, RuntimeError) as exc:
                raise RunError(f"model {model_id}, example {example.id!r}: tokenisation failed "
                               f"({type(exc).__name__}: {first_line(exc)})") from exc
    return encoded
