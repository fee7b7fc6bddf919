"""Coreference antecedent selection by attention heads (Clark et al. 2019 style).

The pronoun's attention to each word of each candidate is :func:`pronoun_word_weights` (the definition);
the span rule (``analysis.spans.aggregate_span``) makes one value ``W`` per candidate of it. A head is
*right* on a pair when the antecedent has strictly the largest ``W`` among the candidates
(:func:`coref_scores`); then accuracy = right / pairs and mass = mean ``W[antecedent]`` over pairs.
Baselines that choose without attention: :func:`coref_baselines`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


def pronoun_word_weights(rows: np.ndarray, word_tokens: Sequence[Sequence[np.ndarray]]) -> np.ndarray:
    """The pronoun's attention to every word of every candidate: float64 ``[L, H, C, Wmax]``.

    Entry ``[l, h, c, w]`` is the mean over the pronoun's ``k`` pieces ``i`` of the sum over the pieces ``j``
    of word ``w`` of candidate ``c`` of ``A[l, h, i, j]``: the share of the average pronoun piece's attention
    row that lands on the word (unitless, in [0, 1]). nan where the word has no piece (cut off by
    truncation) or candidate ``c`` has fewer than ``Wmax`` words. ``spans.aggregate_span`` turns it into one
    value per candidate (with the ``sum`` rule: the share of the row on the whole candidate).

    ``rows``: the pronoun's attention rows ``[L, H, k, n]`` (computed in float64). ``word_tokens[c][w]``:
    token positions of word ``w`` of candidate ``c`` (may be empty).
    """
    n = rows.shape[-1]
    width = max((len(words) for words in word_tokens), default=0)
    columns = [(c, w, np.asarray(t, dtype=np.intp).reshape(-1)) for c, words in enumerate(word_tokens)
               for w, t in enumerate(words)]
    member = np.zeros((n, len(columns)))
    for k, (c, w, t) in enumerate(columns):
        if t.size:
            _check_positions(t, n, f"candidate {c}, word {w}")
            member[t, k] = 1.0
    flat = (np.asarray(rows, dtype=np.float64) @ member).mean(axis=2)  # [L, H, columns]
    out = np.full(rows.shape[:2] + (len(word_tokens), width), np.nan)
    for k, (c, w, t) in enumerate(columns):
        if t.size:
            out[:, :, c, w] = flat[:, :, k]
    return out


def _check_positions(pos: np.ndarray, n: int, what: str) -> None:
    if pos.min() < 0 or pos.max() >= n:
        raise ValueError(f"{what}: token positions must lie in 0..{n - 1}, got {pos.tolist()}")


@dataclass
class CorefResult:
    """Per-head antecedent selection over a set of pronoun -> antecedent pairs.

    Attributes:
        pairs: number of pairs.
        accuracy: float64 ``[L, H]``, share of pairs where the head is right (nan if no pairs).
        mass: float64 ``[L, H]``, mean ``W[antecedent]`` over pairs (nan if no pairs).
        correct: bool ``[pairs, L, H]``, the head is right on the pair.
        choice: int ``[pairs, L, H]``, index of the candidate with strictly the largest W,
            -1 when two or more candidates tie for the maximum.
        antecedent_weight: float64 ``[pairs, L, H]``, ``W[antecedent]`` per pair (for mass
            intervals).
    """

    pairs: int
    accuracy: np.ndarray
    mass: np.ndarray
    correct: np.ndarray
    choice: np.ndarray
    antecedent_weight: np.ndarray


def coref_scores(
    weights: Sequence[np.ndarray],
    antecedent_index: Sequence[int],
    shape: tuple[int, int] | None = None,
) -> CorefResult:
    """Score every head on every pair.

    Args:
        weights: one ``[L, H, C_k]`` array per pair (``pronoun_word_weights`` under a span rule); the number of
            candidates may differ between pairs. nan entries mark absent candidates (so a
            nan-padded ``[pairs, L, H, C]`` array also works) and never win.
        antecedent_index: per pair, the index of the antecedent among its candidates.
        shape: ``(L, H)``; only needed when there are no pairs (results are then empty/nan).

    Returns:
        :class:`CorefResult`. A head is right when the antecedent's W is strictly larger
        than every other candidate's W (exact float comparison).
    """
    if len(weights) != len(antecedent_index):
        raise ValueError(
            f"{len(weights)} weight arrays but {len(antecedent_index)} antecedent indices"
        )
    if len(weights) == 0:
        if shape is None:
            raise ValueError("no pairs: pass shape=(layers, heads)")
        L, H = shape
        return CorefResult(
            pairs=0,
            accuracy=np.full((L, H), np.nan),
            mass=np.full((L, H), np.nan),
            correct=np.zeros((0, L, H), dtype=bool),
            choice=np.zeros((0, L, H), dtype=np.int64),
            antecedent_weight=np.zeros((0, L, H)),
        )
    choices, ant_w = [], []
    for k, (w, a) in enumerate(zip(weights, antecedent_index)):
        w = np.asarray(w, dtype=np.float64)
        if w.ndim != 3:
            raise ValueError(f"pair {k}: weights must have shape [L, H, C], got {w.shape}")
        if not 0 <= a < w.shape[2]:
            raise ValueError(f"pair {k}: antecedent index {a} outside 0..{w.shape[2] - 1}")
        wa = w[:, :, a]
        if np.isnan(wa).any():
            raise ValueError(f"pair {k}: the antecedent's weight is nan")
        filled = np.where(np.isnan(w), -np.inf, w)
        top = filled.max(axis=2, keepdims=True)
        at_top = filled == top
        unique = at_top.sum(axis=2) == 1
        choices.append(np.where(unique, filled.argmax(axis=2), -1))
        ant_w.append(wa)
    shapes = {c.shape for c in choices}
    if len(shapes) != 1:
        raise ValueError(f"pairs disagree on [L, H]: {sorted(shapes)}")
    choice = np.stack(choices).astype(np.int64)
    antecedent_weight = np.stack(ant_w)
    correct = choice == np.asarray(antecedent_index, dtype=np.int64)[:, None, None]
    return CorefResult(
        pairs=len(weights),
        accuracy=correct.mean(axis=0),
        mass=antecedent_weight.mean(axis=0),
        correct=correct,
        choice=choice,
        antecedent_weight=antecedent_weight,
    )


@dataclass
class Baselines:
    """Accuracies (shares of pairs, in [0, 1]) of head-free antecedent choices.

    Attributes:
        nearest: the nearest preceding candidate is the antecedent.
        first: the first-mentioned candidate is the antecedent.
        random: expected accuracy of a uniform random choice, mean of 1 / candidates.
        pairs: number of pairs.
        no_preceding: pairs where no candidate precedes the pronoun (nearest counts wrong).
    """

    nearest: float
    first: float
    random: float
    pairs: int
    no_preceding: int = 0


Span = tuple[int, int]


def nearest_preceding(candidates: Sequence[Span], pronoun: Span) -> int | None:
    """Index of the nearest candidate that ends before the pronoun starts, else None.

    Spans are ``(first_word, end_word)`` with ``end_word`` exclusive (as the manifest's
    ``Span``). A candidate precedes when ``end_word <= pronoun first_word``; among those
    the largest ``first_word`` wins, then the largest ``end_word``, then the lowest index.
    """
    best: int | None = None
    for c, (start, end) in enumerate(candidates):
        if end <= pronoun[0]:
            if best is None or (start, end) > tuple(candidates[best]):
                best = c
    return best


def first_mentioned(candidates: Sequence[Span]) -> int:
    """Index of the candidate with the smallest ``(first_word, end_word)`` (lowest index on ties)."""
    return min(range(len(candidates)), key=lambda c: (candidates[c][0], candidates[c][1], c))


def baseline_outcomes(
    candidates: Sequence[Sequence[Span]],
    pronouns: Sequence[Span],
    antecedent_index: Sequence[int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pair, whether each baseline is right: ``(nearest bool[N], first bool[N], chance float[N])``.

    ``chance`` is random choice's probability to be right, ``1 / candidates``. The means of the three are
    the accuracies of :func:`coref_baselines` (a pair without a preceding candidate: nearest is wrong).
    """
    near = np.array([nearest_preceding(c, p) == a for c, p, a in zip(candidates, pronouns, antecedent_index)],
                    dtype=bool)
    first = np.array([first_mentioned(c) == a for c, a in zip(candidates, antecedent_index)], dtype=bool)
    chance = np.array([1.0 / len(c) for c in candidates], dtype=np.float64)
    return near.reshape(-1), first.reshape(-1), chance.reshape(-1)


def coref_baselines(
    candidates: Sequence[Sequence[Span]],
    pronouns: Sequence[Span],
    antecedent_index: Sequence[int],
) -> Baselines:
    """Baseline accuracies on the same pairs the heads are scored on.

    Args:
        candidates: per pair, the candidate spans ``(first_word, end_word_exclusive)`` in
            the example's joint word numbering (the antecedent is one of them).
        pronouns: per pair, the pronoun's span in the same numbering.
        antecedent_index: per pair, the antecedent's index among the candidates.

    Nearest preceding: see :func:`nearest_preceding`; a pair without a preceding
    candidate (cataphora) counts as wrong. First-mentioned: see :func:`first_mentioned`.
    Random: mean over pairs of ``1 / number of candidates``. All nan when there are no pairs.
    """
    if not len(candidates) == len(pronouns) == len(antecedent_index):
        raise ValueError("candidates, pronouns and antecedent_index must have the same length")
    pairs = len(candidates)
    if pairs == 0:
        return Baselines(nearest=np.nan, first=np.nan, random=np.nan, pairs=0)
    near = first = 0
    rand = 0.0
    missing = 0
    for k, (cands, pron, a) in enumerate(zip(candidates, pronouns, antecedent_index)):
        if len(cands) == 0:
            raise ValueError(f"pair {k} has no candidates")
        if not 0 <= a < len(cands):
            raise ValueError(f"pair {k}: antecedent index {a} outside 0..{len(cands) - 1}")
        nb = nearest_preceding(cands, pron)
        if nb is None:
            missing += 1
        near += nb == a
        first += first_mentioned(cands) == a
        rand += 1.0 / len(cands)
    return Baselines(
        nearest=near / pairs,
        first=first / pairs,
        random=rand / pairs,
        pairs=pairs,
        no_preceding=missing,
    )
