"""Per-example analysis: the score numerators and coreference weights of one example.

Runs right after extraction so the full-precision attention can be dropped at once; the results
are small ([P, L, H] numerators, [L, H, C] weights per pair) and are what the cache stores.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from reportgen.analysis.coref import pronoun_word_weights
from reportgen.analysis.patterns import PatternSums, pattern_sums


@dataclass
class ExampleAnalysis:
    sums: PatternSums
    coref: list[np.ndarray]  # per annotated pair: float64 [L, H, C, Wmax] word weights; shape (0,) when cut off


def span_tokens(word: np.ndarray, first: int, last: int) -> np.ndarray:
    """Token positions whose word index lies in [first, last)."""
    return np.flatnonzero((word >= first) & (word < last))


def analyse_example(att: np.ndarray, special: np.ndarray, punct: np.ndarray, word: np.ndarray,
                    coref_pairs, causal: bool = False) -> ExampleAnalysis:
    """Pattern numerators and, per coreference pair, the weights W from the pronoun to each candidate.

    A pair whose pronoun or any candidate (the antecedent included) lost all its tokens to truncation
    gets an empty array and is left out of the coreference scores and baselines.
    """
    sums = pattern_sums(att, special, punct, causal=causal)
    return ExampleAnalysis(sums, coref_weights(lambda rows: att[:, :, rows, :], word, coref_pairs))


def coref_weights(pronoun_rows: Callable[[np.ndarray], np.ndarray], word: np.ndarray,
                  coref_pairs) -> list[np.ndarray]:
    """Per pair, the pronoun's attention to every word of every candidate, ``[L, H, C, Wmax]``
    (``coref.pronoun_word_weights``; nan pads shorter candidates and marks words without pieces);
    ``pronoun_rows(positions)`` gives the attention rows ``[L, H, k, n]`` of those token positions.
    A pair whose pronoun or any candidate lost every piece (truncation) gets shape (0,). The span rule
    (``spans.aggregate_span``) is applied later, so records do not depend on it."""
    weights: list[np.ndarray] = []
    for pair in coref_pairs:
        pronoun = span_tokens(word, pair.pronoun.first, pair.pronoun.last)
        words = [[np.flatnonzero(word == w) for w in range(c.first, c.last)] for c in pair.candidates]
        if pronoun.size == 0 or any(sum(t.size for t in ws) == 0 for ws in words):
            weights.append(np.zeros((0,), dtype=np.float64))
            continue
        weights.append(np.asarray(pronoun_word_weights(pronoun_rows(pronoun), words), dtype=np.float64))
    return weights
