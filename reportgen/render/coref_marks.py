"""Where the annotated coreference pairs of an example sit among a model's tokens, for the viewer.

Pure functions: the manifest gives each pair as word spans (joint word numbering of ``a`` then
``b``), a record maps every token to its joint word (``record.word``, -1 for special tokens). The
viewer marks the pronoun, the antecedent and the other candidates with these token lists, and links
from the atlas pin the pronoun's first token (``token=`` in the URL hash).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ROUND = 4  # decimals of the word-level weights written for the viewer's coreference panel


def span_tokens(word: Sequence[int], first: int, last: int) -> list[int]:
    """Token positions whose joint word index lies in ``[first, last)`` (empty when truncated away)."""
    return [i for i, w in enumerate(word) if first <= int(w) < last]


def pronoun_token(word: Sequence[int], pair) -> int | None:
    """The pronoun's first token (the one a link pins), or None when truncation cut it off."""
    tokens = span_tokens(word, pair.pronoun.first, pair.pronoun.last)
    return tokens[0] if tokens else None


def pair_marks(word: Sequence[int], pairs: Sequence, weights: Sequence[np.ndarray] | None = None) -> list[dict]:
    """The ``coref`` field of a viewer ``meta`` object: per annotated pair, its tokens by role.

    Each entry: ``pronoun`` / ``antecedent`` (token lists), ``candidates`` (token list per candidate,
    the antecedent at ``antecedent_index``), the texts, and ``weights``: the stored word-level weight W
    from the pronoun to each candidate per layer and head (``[L][H][C]``, the span rule of the build,
    rounded to ``ROUND`` decimals; None when truncation cut the pair off).
    """
    out = []
    for k, pair in enumerate(pairs):
        w = weights[k] if weights is not None and k < len(weights) else None
        grid = None
        if w is not None and np.asarray(w).size:
            grid = [[[None if not np.isfinite(v) else round(float(v), ROUND) for v in head] for head in layer]
                    for layer in np.asarray(w, dtype=np.float64)]
        out.append({
            "pronoun": span_tokens(word, pair.pronoun.first, pair.pronoun.last),
            "antecedent": span_tokens(word, pair.antecedent.first, pair.antecedent.last),
            "candidates": [span_tokens(word, c.first, c.last) for c in pair.candidates],
            "antecedent_index": int(pair.antecedent_index),
            "pronoun_text": pair.pronoun_text, "antecedent_text": pair.antecedent_text,
            "candidate_texts": list(pair.candidate_texts),
            "weights": grid,
        })
    return out
