"""How a mention of several words gets one attention value: the span rule (``settings.coref_span``).

The attention a pronoun gives one *word* ``w``, ``W[w]``, is defined in ``coref.pronoun_word_weights`` (a
fraction of one attention row, unitless). A candidate mention ``S`` of several words then gets, by rule:

- ``mean`` (default): the mean of ``W[w]`` over the words of ``S``: length-neutral, a two-word mention
  is not favoured over a one-word one for having more words to collect attention on;
- ``sum``: the sum of ``W[w]`` over the words (the share of the row that lands anywhere on ``S``; favours
  longer mentions);
- ``max``: the largest ``W[w]`` over the words (the mention's most attended word, e.g. its head noun).

One word is the same under all three rules.
"""
from __future__ import annotations

import numpy as np

from reportgen.manifest.schema import SPAN_RULES
DEFAULT_SPAN_RULE = "mean"
SPAN_RULE_TEXT = {
    "mean": "the mean over the mention's words of each word's attention",
    "sum": "the sum over the mention's words of each word's attention",
    "max": "the largest of the mention's words' attention",
}


def aggregate_span(word_values: np.ndarray, rule: str = DEFAULT_SPAN_RULE) -> np.ndarray:
    """One value per span from per-word values along the last axis (``[..., words] -> [...]``).

    ``word_values``: float, nan marks a missing word (padding of a shorter span, or a word whose pieces
    were cut off by truncation); missing words are left out. A span with no word left gets nan.
    ``rule``: one of :data:`SPAN_RULES` (see the module docstring). Computed in float64.
    """
    if rule not in SPAN_RULES:
        raise ValueError(f"unknown span rule {rule!r}; expected one of {', '.join(SPAN_RULES)}")
    values = np.asarray(word_values, dtype=np.float64)
    present = ~np.isnan(values)
    count = present.sum(axis=-1)
    if rule == "max":
        out = np.where(present, values, -np.inf).max(axis=-1, initial=-np.inf)
    else:
        out = np.where(present, values, 0.0).sum(axis=-1)
        if rule == "mean":
            out = out / np.maximum(count, 1)
    return np.where(count > 0, out, np.nan)
