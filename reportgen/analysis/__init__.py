"""Analysis of attention: pattern scores, head labels, coreference, statistics.

No I/O (arrays in, arrays out), except ``collect``: a model diff's first model waits in a temporary
folder for the second. Layer and head numbers are 0-based. The per-example numbers are computed
in torch by ``analysis.batched`` (not imported here: it loads torch); everything exported here is numpy.
"""
from __future__ import annotations

from .coref import (
    Baselines,
    CorefResult,
    coref_baselines,
    coref_scores,
    first_mentioned,
    nearest_preceding,
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
    "finalize",
    "pattern_index",
    "pattern_ci",
    "pool",
    "stack_sums",
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
