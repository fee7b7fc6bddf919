"""BertViz-style inputs (a tuple of attention tensors and a token list) to reportgen's per-token arrays.

Pure functions, no I/O. BertViz's ``head_view(attention, tokens, sentence_b_start)`` gets no
tokenizer, so which tokens are special and which pieces form a word is read from the token text:

* special: the whole token is bracketed, ``[CLS]``, ``[SEP]``, ``[PAD]``, ``<s>``, ``</s>``, ``<pad>``,
  ``<|endoftext|>``;
* words: WordPiece continues a word with ``##``; byte-level BPE (``Ġ``) and SentencePiece (``▁``)
  mark the start of a word instead, so when any token carries such a marker, a token without one
  continues the word before it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from reportgen.extract.tokens import is_punct_token, strip_markers

_SPECIAL = re.compile(r"^(\[[A-Za-z_]+\]|<[^<>\s]{1,20}>|<\|[^|]{1,30}\|>)$")
_START_MARKERS = ("\u0120", "\u2581")  # byte-level BPE "Ġ", SentencePiece "▁": a word starts here


@dataclass
class TokenInfo:
    """Per token (n): special, segment (0 A, 1 B, -1 special), joint word index (-1 special), punctuation;
    ``words``: [{"text", "segment"}] in joint order."""

    special: np.ndarray
    segment: np.ndarray
    word: np.ndarray
    punct: np.ndarray
    words: list[dict]


def attention_array(attention, include_layers: list[int] | None = None) -> np.ndarray:
    """float64 [L, H, n, n] from BertViz's ``attention``: a tuple (or list) with one tensor per layer of
    shape [1, H, n, n] (what transformers returns with ``output_attentions=True``) or [H, n, n], or one
    array [L, 1, H, n, n] / [L, H, n, n]. ``include_layers`` keeps those layers, in that order.

    Raises ValueError (one line, with the fix) for any other shape.
    """
    if attention is None:
        raise ValueError("attention is required: pass model(..., output_attentions=True).attentions")
    layers = list(attention) if isinstance(attention, (tuple, list)) else list(np.asarray(attention))
    if not layers:
        raise ValueError("attention is empty: the model returned no layers (load it with attn_implementation='eager')")
    arrays = []
    for index, layer in enumerate(layers):
        if layer is None:
            raise ValueError(f"attention of layer {index} is None: load the model with attn_implementation='eager'")
        array = _to_numpy(layer)
        if array.ndim == 4:
            if array.shape[0] != 1:
                raise ValueError(f"attention of layer {index} has batch size {array.shape[0]}: pass one input "
                                 "(batch size 1), as BertViz requires")
            array = array[0]
        if array.ndim != 3 or array.shape[1] != array.shape[2]:
            raise ValueError(f"attention of layer {index} has shape {tuple(array.shape)}; expected "
                             "(1, heads, tokens, tokens): set output_attentions=True")
        arrays.append(array)
    if len({a.shape for a in arrays}) != 1:
        raise ValueError("the layers' attention tensors differ in shape; pass one input's attention")
    stacked = np.stack(arrays)
    if include_layers is not None:
        bad = [k for k in include_layers if not 0 <= int(k) < len(arrays)]
        if bad or not include_layers:
            raise ValueError(f"include_layers {list(include_layers)} must name layers 0..{len(arrays) - 1}")
        stacked = stacked[[int(k) for k in include_layers]]
    if not np.all(np.isfinite(stacked)):
        raise ValueError("attention holds NaN or infinite values")
    return stacked


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor (bfloat16 has no numpy type: go through float32)
        return value.detach().float().cpu().numpy().astype(np.float64)
    return np.asarray(value, dtype=np.float64)


def is_special_token(token: str) -> bool:
    """True for a token that is entirely a bracketed marker: [CLS], [SEP], <s>, </s>, <|endoftext|>."""
    return bool(_SPECIAL.match(token))


def prettify(tokens: list[str]) -> list[str]:
    """BertViz's ``prettify_tokens``: ``Ġ`` and ``▁`` become spaces, ``</w>`` is dropped."""
    return [t.replace("\u0120", " ").replace("\u2581", " ").replace("</w>", "") for t in tokens]


def token_info(tokens: list[str], sentence_b_start: int | None = None) -> TokenInfo:
    """Special flags, segments, word map, punctuation flags and words of a token list (rules above).

    ``sentence_b_start``: index of the first token of sentence B (None: one sentence).
    """
    n = len(tokens)
    if sentence_b_start is not None and not 0 < int(sentence_b_start) <= n:
        raise ValueError(f"sentence_b_start {sentence_b_start} must lie in 1..{n} (the number of tokens)")
    special = np.array([is_special_token(t) for t in tokens], dtype=bool)
    segment = np.zeros(n, dtype=np.int8)
    if sentence_b_start is not None:
        segment[int(sentence_b_start):] = 1
    segment[special] = -1
    marked = any(t.startswith(_START_MARKERS) for t in tokens)
    word = np.full(n, -1, dtype=np.int32)
    words: list[dict] = []
    previous = -1  # index of the last non-special token, or -1
    for i, token in enumerate(tokens):
        if special[i]:
            previous = -1
            continue
        if marked:
            continues = not token.startswith(_START_MARKERS)
        else:
            continues = token.startswith("##")
        if continues and previous >= 0 and segment[previous] == segment[i]:
            word[i] = word[previous]
            words[-1]["text"] += strip_markers(token)
        else:
            word[i] = len(words)
            words.append({"text": strip_markers(token).strip(), "segment": int(segment[i])})
        previous = i
    punct = np.array([is_punct_token(t) for t in tokens], dtype=bool) & ~special
    return TokenInfo(special, segment, word, punct, words)
