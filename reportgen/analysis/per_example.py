"""Coreference weights of one example, from the attention rows of its pronoun and candidate tokens.

``analysis.batched.analyse_batch`` gathers those rows from the batch tensors and calls these per example;
the results are small (``[L, H, C, Wmax]`` per pair) and are what the cache stores.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from reportgen.analysis.coref import pronoun_word_weights


def span_tokens(word: np.ndarray, first: int, last: int) -> np.ndarray:
    """Token positions whose word index lies in [first, last)."""
    return np.flatnonzero((word >= first) & (word < last))


def pair_pieces(word: np.ndarray, pair) -> tuple[np.ndarray, list[list[np.ndarray]]] | None:
    """The token positions of a pair's pronoun and of each word of each candidate; None when the pronoun or a
    candidate lost every piece (truncation)."""
    pronoun = span_tokens(word, pair.pronoun.first, pair.pronoun.last)
    words = [[np.flatnonzero(word == w) for w in range(c.first, c.last)] for c in pair.candidates]
    if pronoun.size == 0 or any(sum(t.size for t in ws) == 0 for ws in words):
        return None
    return pronoun, words


def coref_weights(pronoun_rows: Callable[[np.ndarray], np.ndarray], word: np.ndarray,
                  coref_pairs) -> list[np.ndarray]:
    """Per pair, the pronoun's attention to every word of every candidate, ``[L, H, C, Wmax]``
    (``coref.pronoun_word_weights``; nan pads shorter candidates and marks words without pieces);
    ``pronoun_rows(positions)`` gives the attention rows ``[L, H, k, n]`` of those token positions.
    A pair whose pronoun or any candidate lost every piece (truncation) gets shape (0,) and is left out of the
    coreference scores and baselines. The span rule (``spans.aggregate_span``) is applied later, so records
    do not depend on it."""
    weights: list[np.ndarray] = []
    for pair in coref_pairs:
        found = pair_pieces(word, pair)
        if found is None:
            weights.append(np.zeros((0,), dtype=np.float64))
            continue
        pronoun, words = found
        weights.append(np.asarray(pronoun_word_weights(pronoun_rows(pronoun), words), dtype=np.float64))
    return weights


def coref_back_weights(rows_of: Callable[[np.ndarray], np.ndarray], word: np.ndarray,
                       coref_pairs) -> list[np.ndarray]:
    """Per pair, each candidate word's attention back to the pronoun: float64 ``[L, H, C, Wmax]``.

    Entry ``[l, h, c, w]`` is the mean over the pieces i of word ``w`` of candidate ``c`` of the sum over the
    pronoun's pieces j of ``A[l, h, i, j]`` (the share of the word's attention row that lands on the
    pronoun, unitless in [0, 1]); nan pads shorter candidates and marks a word with no piece. The span rule
    (``analysis.probe.aggregate_words``) makes one value per candidate later, so records do not depend on
    it. ``rows_of(positions)`` gives the attention rows ``[L, H, k, n]`` of those token positions. A pair
    whose pronoun or any candidate lost every piece (truncation) gets shape (0,), as in ``coref_weights``.
    """
    out: list[np.ndarray] = []
    for pair in coref_pairs:
        found = pair_pieces(word, pair)
        if found is None:
            out.append(np.zeros((0,), dtype=np.float64))
            continue
        pronoun, words = found
        positions = np.unique(np.concatenate([t for ws in words for t in ws]))
        to_pronoun = np.asarray(rows_of(positions), dtype=np.float64)[..., pronoun].sum(axis=-1)  # [L, H, k]
        where = {int(p): i for i, p in enumerate(positions)}
        width = max(len(ws) for ws in words)
        weights = np.full(to_pronoun.shape[:2] + (len(words), width), np.nan)
        for c, ws in enumerate(words):
            for w, tokens in enumerate(ws):
                if tokens.size:
                    weights[:, :, c, w] = to_pronoun[:, :, [where[int(t)] for t in tokens]].mean(axis=2)
        out.append(weights)
    return out
