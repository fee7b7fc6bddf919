"""Pure numpy analysis of attention: pattern scores, head labels, coreference, statistics.

No I/O and no torch: arrays in, arrays out. Layer and head numbers are 0-based.
"""
from __future__ import annotations

from .coref import (
    Baselines,
    CorefResult,
    coref_baselines,
    coref_scores,
    first_mentioned,
    nearest_preceding,
    span_weights,
)
from .labels import (
    LABEL_PATTERN,
    LABELS,
    THRESHOLDS,
    HeadLabel,
    head_labels,
    rank_heads,
    strongest_label,
)
from .patterns import (
    PATTERNS,
    PatternSums,
    finalize,
    pattern_ci,
    pattern_index,
    pattern_sums,
    pool,
    stack_sums,
)
from .spans import SPAN_RULES, aggregate_span
from .verdicts import family_verdict
from .stats import (
    bootstrap_mean_ci,
    bootstrap_ratio_ci,
    normal_interval,
    rankdata,
    spearman,
    wilson_interval,
    z_value,
)

__all__ = [
    "SPAN_RULES",
    "aggregate_span",
    "family_verdict",
    "PATTERNS",
    "PatternSums",
    "pattern_sums",
    "finalize",
    "pattern_index",
    "pattern_ci",
    "pool",
    "stack_sums",
    "span_weights",
    "CorefResult",
    "coref_scores",
    "Baselines",
    "coref_baselines",
    "nearest_preceding",
    "first_mentioned",
    "LABELS",
    "LABEL_PATTERN",
    "THRESHOLDS",
    "HeadLabel",
    "head_labels",
    "strongest_label",
    "rank_heads",
    "bootstrap_ratio_ci",
    "bootstrap_mean_ci",
    "wilson_interval",
    "normal_interval",
    "spearman",
    "rankdata",
    "z_value",
]
