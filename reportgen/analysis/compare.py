"""Cross-model and cross-language comparison of heads (pure numpy, arrays in and out).

- Models with the same layer x head shape: Spearman rank correlation of their per-head scores for each
  pattern (over the L*H heads, heads without a score left out), and their top heads side by side.
- Translations (examples sharing a manifest ``group:``): pattern scores pooled per language over the
  translated examples only (token-weighted, like the whole-model scores), so every language is scored on
  the same content; Spearman between languages; and the same head's per-example values across the
  languages of a group.
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from reportgen.analysis.labels import rank_heads
from reportgen.analysis.stats import spearman


def grid_spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman correlation of two ``[L, H]`` score grids over heads (nan: fewer than 3 common scores or
    no variation)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"grids must have the same shape, got {a.shape} and {b.shape}")
    return spearman(a.ravel(), b.ravel())


def pattern_correlations(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> dict[str, float]:
    """``{pattern: Spearman}`` for every pattern present in both (order of ``a``)."""
    return {name: grid_spearman(a[name], b[name]) for name in a if name in b}


def same_shape_pairs(shapes: Mapping[str, tuple[int, int]]) -> list[tuple[str, str]]:
    """Every unordered pair of models (in the given order) whose ``(layers, heads)`` are equal."""
    names = list(shapes)
    return [(x, y) for x, y in itertools.combinations(names, 2) if tuple(shapes[x]) == tuple(shapes[y])]


def top_heads(score: np.ndarray, n: int = 10) -> list[tuple[int, int, float]]:
    """The ``n`` highest-scoring heads ``(layer, head, score)``; nan scores last, ties in head order."""
    return rank_heads(np.asarray(score, dtype=np.float64), top=n)


def side_by_side(a: np.ndarray, b: np.ndarray, n: int = 10) -> list[tuple[tuple[int, int, float] | None, ...]]:
    """Rows ``(a's k-th head, b's k-th head)`` for k = 1..n (None when one list is shorter)."""
    ta, tb = top_heads(a, n), top_heads(b, n)
    return [(ta[k] if k < len(ta) else None, tb[k] if k < len(tb) else None) for k in range(max(len(ta), len(tb)))]


def common_indices(a: Sequence[str], b: Sequence[str]) -> tuple[list[int], list[int]]:
    """Positions in ``a`` and in ``b`` of the ids both contain, in ``a``'s order (to compare two models
    on exactly the examples both ran)."""
    where = {key: k for k, key in enumerate(b)}
    pairs = [(i, where[key]) for i, key in enumerate(a) if key in where]
    return [i for i, _ in pairs], [j for _, j in pairs]


def pooled(num: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Token-weighted scores ``[P, L, H]`` of a set of examples: ``sum num / sum count`` (nan for count 0)."""
    n = np.asarray(num, dtype=np.float64).sum(axis=0)
    c = np.asarray(count, dtype=np.float64).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c[:, None, None] > 0, n / c[:, None, None], np.nan)


def translation_sets(groups: Sequence[str | None], languages: Sequence[str]) -> dict[str, dict[str, list[int]]]:
    """``{group: {language: [example indices]}}`` for groups that span two or more languages.

    Examples without a group, and groups with a single language, are left out. Groups and languages
    keep the order of first appearance.
    """
    if len(groups) != len(languages):
        raise ValueError("groups and languages must have the same length")
    out: dict[str, dict[str, list[int]]] = {}
    for index, (group, language) in enumerate(zip(groups, languages)):
        if group is not None:
            out.setdefault(group, {}).setdefault(language, []).append(index)
    return {g: langs for g, langs in out.items() if len(langs) >= 2}


def pooled_by_language(num: np.ndarray, count: np.ndarray, sets: Mapping[str, Mapping[str, Sequence[int]]]
                       ) -> dict[str, np.ndarray]:
    """Token-weighted scores per language over the translated examples: ``{language: [P, L, H]}``.

    Args:
        num: ``[E, P, L, H]`` per-example numerators; count: ``[E, P]`` per-example counts.
        sets: ``translation_sets`` output.

    A pattern with a zero pooled count is nan.
    """
    num = np.asarray(num, dtype=np.float64)
    count = np.asarray(count, dtype=np.float64)
    members: dict[str, list[int]] = {}
    for langs in sets.values():
        for language, indices in langs.items():
            members.setdefault(language, []).extend(indices)
    out = {}
    for language, indices in members.items():
        n = num[indices].sum(axis=0)
        c = count[indices].sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[language] = np.where(c[:, None, None] > 0, n / c[:, None, None], np.nan)
    return out


def language_correlations(scores: Mapping[str, np.ndarray], names: Sequence[str]) -> list[dict]:
    """Spearman between every pair of languages, per pattern.

    Args:
        scores: ``{language: [P, L, H]}`` (e.g. ``pooled_by_language``).
        names: the P pattern names.

    Returns:
        ``[{"a": lang, "b": lang, "rho": {pattern: Spearman}}]`` for each unordered pair of languages.
    """
    langs = list(scores)
    return [{"a": x, "b": y, "rho": {name: grid_spearman(scores[x][p], scores[y][p]) for p, name in enumerate(names)}}
            for x, y in itertools.combinations(langs, 2)]


def per_example_ratio(num: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Per-example scores ``[E, P, L, H] = num / count`` (nan where an example has no from-positions)."""
    num = np.asarray(num, dtype=np.float64)
    count = np.asarray(count, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count[:, :, None, None] > 0, num / count[:, :, None, None], np.nan)


def head_values(values: np.ndarray, rows: Sequence[int], heads: Sequence[tuple[int, int]]) -> np.ndarray:
    """``[len(rows), len(heads)]``: ``values[row, layer, head]`` for chosen examples and heads.

    ``values``: ``[E, L, H]`` per-example scores of one pattern (or per-example coreference accuracy).
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.full((len(rows), len(heads)), np.nan)
    for i, r in enumerate(rows):
        for j, (l, h) in enumerate(heads):
            out[i, j] = values[r, l, h]
    return out


def spread(values: np.ndarray) -> np.ndarray:
    """Per column, the largest minus the smallest finite value (nan with fewer than 2): how much a head's
    value changes across the languages of a group."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape[1], np.nan)
    for j in range(values.shape[1]):
        col = values[:, j][np.isfinite(values[:, j])]
        if col.size >= 2:
            out[j] = float(col.max() - col.min())
    return out
