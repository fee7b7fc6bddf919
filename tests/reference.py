"""Tests-only numpy reference implementations of the per-example numbers the build computes.

The build computes every per-example number once, on padded torch batches (``reportgen.analysis.batched``),
and the notebook goes through the same code on a batch of one. This module recomputes the same numbers
from one example's own attention ``A[l, h, i, j]`` (``[L, H, n, n]``, no padding) with plain numpy, written
from the definitions in the production docstrings, so that the tests can compare the two:

========================  ==========================================  ========================================
number                    here                                        production (definition in its docstring)
========================  ==========================================  ========================================
causal or not             :func:`is_causal`                           ``analysis.batched.causal_rows``
pattern numerators        :func:`pattern_sums`                        ``analysis.batched.layer_pattern_sums``
coreference word weights  :func:`word_weights`, :func:`span_weights`  ``analysis.coref.pronoun_word_weights``
candidate -> pronoun      :func:`back_weights`                        ``analysis.per_example.coref_back_weights``
attention rollout         :func:`rollout`                             ``analysis.batched.batch_rollout``
neuron-view precision     :func:`qk_softmax_error`                    ``analysis.batched.qk_softmax_errors``
uint8 quantisation        :func:`quantize`                            ``analysis.batched.quantize_tensor``
one whole example         :func:`analyse_example`                     ``analysis.batched.analyse_batch``
========================  ==========================================  ========================================

It imports nothing from ``reportgen.analysis`` (it is the independent check) and no torch: numpy only,
float64 inside.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np

# The order of the pattern axis; tests/test_patterns.py checks it against analysis.patterns.PATTERNS.
PATTERNS: tuple[str, ...] = ("prev", "next", "self", "cls", "sep", "punct", "entropy", "prev_argmax",
                             "next_argmax", "entropy_norm")
_PREV, _NEXT, _SELF, _CLS, _SEP, _PUNCT, _ENT, _PREV_AM, _NEXT_AM, _ENT_N = range(len(PATTERNS))
RESIDUAL = 0.5  # weight of the identity (the residual stream) in the rollout's Â_l
STEPS = 255  # uint8 quantisation: q = round(255 * a)


def is_causal(attention: np.ndarray) -> bool:
    """True when no token attends to a later one (upper triangle all exactly zero); False for one token."""
    n = attention.shape[-1]
    if n < 2:
        return False
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    return bool(np.all(attention[..., upper] == 0.0))


class Sums(NamedTuple):
    """Pattern numerators float64 ``[P, L, H]`` and counts float64 ``[P]`` of one example."""

    num: np.ndarray
    count: np.ndarray


def pattern_sums(att: np.ndarray, special: np.ndarray, punct: np.ndarray, causal: bool = False) -> Sums:
    """Pattern numerators and counts of one example (definitions: ``analysis.batched.layer_pattern_sums``).

    ``att`` ``[L, H, n, n]`` (float32 or float64, accumulated in float64); ``special``/``punct`` bool ``[n]``
    (punct entries that are also special are ignored). From-positions ``F``: not special and not forced (a
    row that may attend to one position only: row 0 of a causal model, the row of a one-token example).
    Causal: ``next`` and ``next_argmax`` have numerator and count 0. Argmax ties go to the first index.
    Vectorised over heads; one layer's from-rows in float64 at a time.
    """
    att = np.asarray(att)
    if att.ndim != 4 or att.shape[2] != att.shape[3]:
        raise ValueError(f"attention must have shape [L, H, n, n], got {att.shape}")
    L, H, n, _ = att.shape
    special = np.asarray(special, dtype=bool)
    punct = np.asarray(punct, dtype=bool)
    if special.shape != (n,) or punct.shape != (n,):
        raise ValueError(f"special and punct must have shape [{n}], got {special.shape} and {punct.shape}")

    position = np.arange(n)
    choices = position + 1 if causal else np.full(n, n)  # k_i: positions row i may attend to
    F = np.flatnonzero(~special & (choices > 1))
    f = F.size
    prev_local = np.flatnonzero(F >= 1)
    next_local = np.array([], dtype=np.intp) if causal else np.flatnonzero(F <= n - 2)
    prev_rows, next_rows = F[prev_local], F[next_local]

    count = np.zeros(len(PATTERNS))
    count[[_SELF, _CLS, _SEP, _PUNCT, _ENT, _ENT_N]] = f
    count[[_PREV, _PREV_AM]] = prev_local.size
    count[[_NEXT, _NEXT_AM]] = next_local.size
    num = np.zeros((len(PATTERNS), L, H))
    if f == 0:
        return Sums(num, count)

    sep_cols = special.copy()
    sep_cols[0] = False  # special positions j >= 1
    punct_cols = punct & ~special
    col_masks = np.stack([sep_cols, punct_cols], axis=1).astype(np.float64)  # [n, 2]
    local = np.arange(f)
    inv_log_k = 1.0 / np.log(choices[F].astype(np.float64))

    for l in range(L):
        rows = np.asarray(att[l][:, F, :], dtype=np.float64)  # [H, f, n]
        num[_PREV, l] = rows[:, prev_local, prev_rows - 1].sum(axis=-1)
        num[_NEXT, l] = rows[:, next_local, next_rows + 1].sum(axis=-1)
        num[_SELF, l] = rows[:, local, F].sum(axis=-1)
        num[_CLS, l] = rows[:, :, 0].sum(axis=-1)
        masked = (rows @ col_masks).sum(axis=1)  # [H, 2]
        num[_SEP, l] = masked[:, 0]
        num[_PUNCT, l] = masked[:, 1]
        logs = np.log(np.where(rows > 0, rows, 1.0))  # 0 ln 0 = 0
        row_entropy = -(rows * logs).sum(axis=2)  # [H, f] nats
        num[_ENT, l] = row_entropy.sum(axis=1)
        num[_ENT_N, l] = (row_entropy * inv_log_k).sum(axis=1)
        argmax = rows.argmax(axis=-1)  # first index on ties
        num[_PREV_AM, l] = (argmax[:, prev_local] == prev_rows - 1).sum(axis=-1)
        num[_NEXT_AM, l] = (argmax[:, next_local] == next_rows + 1).sum(axis=-1)
    return Sums(num, count)


def span_weights(att: np.ndarray, pronoun_tokens, span_tokens: Sequence) -> np.ndarray:
    """The pronoun's attention to each of ``C`` candidate spans, float64 ``[L, H, C]``: the mean over the
    pronoun's pieces ``i`` of the sum over the span's pieces ``j`` of ``A[i, j]`` (repeated positions count
    once; spans may overlap). This is ``analysis.coref.pronoun_word_weights`` under the ``sum`` span rule
    (``analysis.spans``) when every candidate's words are disjoint.

    Raises ValueError for an empty pronoun or span, no spans, or a position outside ``0..n-1``.
    """
    att = np.asarray(att)
    if att.ndim != 4 or att.shape[2] != att.shape[3]:
        raise ValueError(f"attention must have shape [L, H, n, n], got {att.shape}")
    n = att.shape[2]
    p = np.asarray(pronoun_tokens, dtype=np.intp).reshape(-1)
    if p.size == 0:
        raise ValueError("the pronoun has no tokens")
    if len(span_tokens) == 0:
        raise ValueError("no candidate spans")
    _check_positions(p, n, "pronoun")
    member = np.zeros((n, len(span_tokens)))
    for c, s in enumerate(span_tokens):
        s = np.asarray(s, dtype=np.intp).reshape(-1)
        if s.size == 0:
            raise ValueError(f"candidate span {c} has no tokens")
        _check_positions(s, n, f"candidate span {c}")
        member[s, c] = 1.0
    return (np.asarray(att[:, :, p, :], dtype=np.float64) @ member).mean(axis=2)  # [L, H, C]


def _check_positions(pos: np.ndarray, n: int, what: str) -> None:
    if pos.min() < 0 or pos.max() >= n:
        raise ValueError(f"{what}: token positions must lie in 0..{n - 1}, got {pos.tolist()}")


def _pieces(word: np.ndarray, pair) -> tuple[np.ndarray, list[list[np.ndarray]]] | None:
    """The pronoun's token positions and, per candidate, per word, its token positions; None when truncation
    left the pronoun or a whole candidate without a piece."""
    pronoun = np.flatnonzero((word >= pair.pronoun.first) & (word < pair.pronoun.last))
    words = [[np.flatnonzero(word == w) for w in range(c.first, c.last)] for c in pair.candidates]
    if pronoun.size == 0 or any(sum(t.size for t in ws) == 0 for ws in words):
        return None
    return pronoun, words


def _pair_weights(att: np.ndarray, word: np.ndarray, pairs, value) -> list[np.ndarray]:
    """Per coreference pair, float64 ``[L, H, C, Wmax]`` with ``value(att, pronoun, tokens)`` at ``[:, :, c, w]``
    for the pieces ``tokens`` of word ``w`` of candidate ``c``; nan for a word without pieces and past a shorter
    candidate's last word; shape (0,) for a pair truncation cut off."""
    att = np.asarray(att, dtype=np.float64)
    out = []
    for pair in pairs:
        found = _pieces(word, pair)
        if found is None:
            out.append(np.zeros((0,)))
            continue
        pronoun, words = found
        weights = np.full(att.shape[:2] + (len(words), max(len(ws) for ws in words)), np.nan)
        for c, ws in enumerate(words):
            for w, tokens in enumerate(ws):
                if tokens.size:
                    weights[:, :, c, w] = value(att, pronoun, tokens)
        out.append(weights)
    return out


def word_weights(att: np.ndarray, word: np.ndarray, pairs) -> list[np.ndarray]:
    """Per coreference pair, float64 ``[L, H, C, Wmax]``: entry ``[l, h, c, w]`` is the mean over the pronoun's
    pieces ``i`` of the sum over the pieces ``j`` of word ``w`` of candidate ``c`` of ``A[l, h, i, j]``; nan for a
    word without pieces and past a shorter candidate's last word; shape (0,) for a pair truncation cut off."""
    return _pair_weights(att, word, pairs,
                         lambda a, pronoun, tokens: a[:, :, pronoun][..., tokens].sum(axis=-1).mean(axis=-1))


def back_weights(att: np.ndarray, word: np.ndarray, pairs) -> list[np.ndarray]:
    """Per coreference pair, float64 ``[L, H, C, Wmax]``: entry ``[l, h, c, w]`` is the mean over the pieces
    ``i`` of word ``w`` of candidate ``c`` of the sum over the pronoun's pieces ``j`` of ``A[l, h, i, j]``; nan
    and shape (0,) as in :func:`word_weights`."""
    return _pair_weights(att, word, pairs,
                         lambda a, pronoun, tokens: a[:, :, tokens][..., pronoun].sum(axis=-1).mean(axis=-1))


def residual_attention(layer_attention: np.ndarray, residual: float = RESIDUAL) -> np.ndarray:
    """Â for one layer: ``layer_attention`` [H, n, n] (or [n, n]) averaged over heads, mixed with the identity,
    ``(1 - residual) * A + residual * I``, and every row renormalised to sum to 1; float64 [n, n]."""
    a = np.asarray(layer_attention, dtype=np.float64)
    if a.ndim == 3:
        a = a.mean(axis=0)
    n = a.shape[-1]
    mixed = (1.0 - residual) * a + residual * np.eye(n)
    sums = mixed.sum(axis=-1, keepdims=True)
    return mixed / np.where(sums > 0, sums, 1.0)


def rollout(attention: np.ndarray, residual: float = RESIDUAL) -> np.ndarray:
    """Attention rollout up to each layer: ``attention`` [L, H, n, n] -> float64 [L, n, n], ``out[l] = R_l`` with
    ``R_0 = Â_0`` and ``R_l = Â_l R_(l-1)`` (:func:`residual_attention`)."""
    attention = np.asarray(attention)
    layers, n = attention.shape[0], attention.shape[-1]
    out = np.empty((layers, n, n), dtype=np.float64)
    current = np.eye(n)
    for layer in range(layers):
        current = residual_attention(attention[layer], residual) @ current
        out[layer] = current
    return out


def qk_softmax_error(q: np.ndarray, k: np.ndarray, attention: np.ndarray, causal: bool) -> float:
    """Largest ``|softmax_j(q_i . k_j / sqrt(d)) - A[i, j]|`` over layers, heads, rows and columns, with ``q``, ``k``
    the stored float16 vectors ``[L, H, n, d]`` (softmax in float64; causal: over ``j <= i`` only)."""
    qf = np.asarray(q, dtype=np.float64)
    kf = np.asarray(k, dtype=np.float64)
    scores = qf @ np.swapaxes(kf, -1, -2) / np.sqrt(q.shape[-1])
    if causal:
        n = scores.shape[-1]
        scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(scores)
    probs = e / e.sum(axis=-1, keepdims=True)
    return float(np.max(np.abs(probs - np.asarray(attention, dtype=np.float64))))


def quantize(att: np.ndarray) -> np.ndarray:
    """uint8 ``round(255 * a)`` (half to even), clipped to 0..255, computed in float64; same shape."""
    return np.clip(np.rint(np.asarray(att, dtype=np.float64) * STEPS), 0, STEPS).astype(np.uint8)


@dataclass
class Reference:
    """What the build keeps of one example, recomputed from its own attention (``analysis.batched.ExampleResult``)."""

    num: np.ndarray
    count: np.ndarray
    coref: list
    coref_back: list
    causal: bool
    attention_q: np.ndarray
    rollout_q: np.ndarray
    qk_error: float | None = None


def analyse_example(attention: np.ndarray, encoded, pairs, causal: bool | None = None,
                    qk: tuple[np.ndarray, np.ndarray] | None = None) -> Reference:
    """Every per-example number of one example from its own full-precision attention ``[L, H, n, n]``.

    ``encoded``: anything with ``special``, ``punct`` and ``word`` arrays (``extract.tokens.Encoded``); ``pairs``:
    the example's coreference pairs; ``causal``: None decides it with :func:`is_causal`; ``qk``: the stored
    float16 query and key vectors, for the neuron view's error.
    """
    if causal is None:
        causal = is_causal(attention)
    sums = pattern_sums(attention, encoded.special, encoded.punct, causal=causal)
    return Reference(sums.num, sums.count, word_weights(attention, encoded.word, pairs),
                     back_weights(attention, encoded.word, pairs), causal, quantize(attention),
                     quantize(rollout(attention)),
                     None if qk is None else qk_softmax_error(qk[0], qk[1], attention, causal))
