"""Label scores, competition ranks and the claims check on a hand-made heads file."""
from __future__ import annotations

import pytest

from reportgen.analysis.claims import (
    beating_heads,
    check_claim,
    check_claims,
    competition_ranks,
    label_scores,
    ranked,
)
from reportgen.manifest.schema import Expectation

import numpy as np


def heads_file(coref: bool = True) -> dict:
    """2 layers x 3 heads. prev: head (1,2) best; entropy for 'broad'; coreference with intervals."""
    def grid(rows):
        return [list(r) for r in rows]

    patterns = {name: grid([[0.0] * 3, [0.0] * 3]) for name in
                ("prev", "next", "self", "cls", "sep", "punct", "entropy", "prev_argmax", "next_argmax", "entropy_norm")}
    patterns["prev"] = grid([[0.1, 0.6, 0.3], [0.2, 0.3, 0.9]])  # 0.3 twice: shared rank
    patterns["entropy"] = grid([[0.1, 9.0, None], [2.0, 3.9, 0.5]])  # raw nats: not the broad label's score
    patterns["entropy_norm"] = grid([[0.9, 0.3, None], [0.5, 0.85, 0.1]])
    patterns["self"] = grid([[0.5, 0.4, 0.3], [0.2, 0.1, 0.0]])
    low = grid([[0.05, 0.5, 0.2], [0.1, 0.25, 0.8]])
    high = grid([[0.15, 0.7, 0.4], [0.3, 0.35, 0.95]])
    out = {
        "model": {"id": "m", "slug": "m", "layers": 2, "heads": 3},
        "examples": 7, "tokens": 100, "counts": {name: 100 for name in patterns} | {"prev": 93},
        "patterns": patterns,
        "intervals": {"prev": {"low": low, "high": high}},
    }
    if coref:
        acc = [[0.5, 0.8, 0.8], [0.2, None, 0.6]]
        mass = [[0.1, 0.2, 0.3], [0.1, 0.1, 0.2]]
        ci = {(0, 0): [0.3, 0.7], (0, 1): [0.7, 0.9], (0, 2): [0.55, 0.95], (1, 0): [0.1, 0.3], (1, 2): [0.4, 0.8]}
        # (0, 2)'s interval clears the baseline 0.6 but its corrected p does not: the verdict follows p
        p = {(0, 0): 1.0, (0, 1): 0.01, (0, 2): 0.2, (1, 0): 1.0, (1, 2): 1.0}
        out["coreference"] = {
            "pairs": 40, "examples": 20, "accuracy": acc, "mass": mass, "judged": True,
            "ranking": [{"layer": l, "head": h, "accuracy": acc[l][h], "mass": mass[l][h], "accuracy_ci": c,
                         "p_adjusted": p[(l, h)]} for (l, h), c in ci.items()],
            "baselines": {"nearest": 0.3, "first": 0.6, "random": 0.5},
        }
    return out


def test_competition_ranks_ties_nan_and_secondary():
    score = np.array([[0.1, 0.6, 0.3], [0.2, 0.3, 0.9]])
    assert competition_ranks(score).tolist() == [[6, 2, 3], [5, 3, 1]]
    score2 = np.array([[1.0, np.nan], [1.0, 0.5]])
    assert competition_ranks(score2).tolist() == [[1, 0], [1, 3]]
    sec = np.array([[0.1, 0.0], [0.2, 0.0]])
    assert competition_ranks(score2, sec).tolist() == [[2, 0], [1, 3]]


def test_label_scores_patterns_and_support():
    ls = label_scores(heads_file(), "previous")
    assert ls.threshold == 0.5 and ls.support == {"examples": 7, "tokens": 93}
    assert ls.low[1, 2] == 0.8 and ls.high[0, 1] == 0.7
    rows = ranked(ls, top=3)
    assert [(r["rank"], r["layer"], r["head"]) for r in rows] == [(1, 1, 2), (2, 0, 1), (3, 0, 2)]
    assert [r["passes"] for r in rows] == [True, True, False]
    broad = label_scores(heads_file(), "broad")
    assert broad.threshold == 0.8 and np.isnan(broad.low).all()
    assert [(r["layer"], r["head"]) for r in ranked(broad, top=2)] == [(0, 0), (1, 1)]
    assert label_scores(heads_file(coref=False), "coreference") is None
    with pytest.raises(ValueError):
        label_scores(heads_file(), "banana")


def test_coreference_scores_rank_by_accuracy_then_mass_and_beat_baselines():
    ls = label_scores(heads_file(), "coreference")
    assert ls.baseline == 0.6 and ls.support == {"examples": 20, "pairs": 40}
    rows = ranked(ls)
    # (0,1) and (0,2) tie at 0.8; (0,2) has more mass -> rank 1
    assert [(r["rank"], r["layer"], r["head"]) for r in rows][:3] == [(1, 0, 2), (2, 0, 1), (3, 1, 2)]
    # beats the baselines only when the family-wise adjusted p-value is at most 0.05
    assert [(r["layer"], r["head"]) for r in beating_heads(ls)] == [(0, 1)]
    assert ls.passes(0, 2) is False and ls.passes(1, 1) is None
    assert [r["p"] for r in rows][:2] == [0.2, 0.01]


def test_coreference_without_enough_pairs_has_no_verdict():
    heads = heads_file()
    heads["coreference"]["judged"] = False
    ls = label_scores(heads, "coreference")
    assert ls.passes(0, 1) is None and beating_heads(ls) == []


def test_check_claims_statuses():
    heads = heads_file()
    claims = [
        Expectation("m", 1, 2, "previous", 3),
        {"model": "m", "layer": 0, "head": 2, "label": "previous"},
        {"model": "m", "layer": 1, "head": 1, "label": "broad"},
        {"model": "m", "layer": 0, "head": 1, "label": "coreference"},
        {"model": "m", "layer": 0, "head": 0, "label": "self"},
        {"model": "m", "layer": 8, "head": 8, "label": "coreference"},
        {"model": "other", "layer": 0, "head": 0, "label": "next"},
    ]
    out = check_claims(claims, {"m": heads}, k=2)
    first = out[0]
    assert (first.status, first.rank, first.of, first.score, first.low, first.high) == ("checked", 1, 6, 0.9, 0.8, 0.95)
    assert first.passes is True and first.top_k is True and first.line == 3
    assert (out[1].rank, out[1].passes, out[1].top_k) == (3, False, False)
    assert out[1].best == {"layer": 1, "head": 2, "score": 0.9}
    assert (out[2].rank, out[2].passes, out[2].top_k) == (2, True, True)  # 0.85 > 0.8; 0.9 is rank 1
    assert (out[3].rank, out[3].score, out[3].low, out[3].passes, out[3].baseline) == (2, 0.8, 0.7, True, 0.6)
    assert out[3].p_adjusted == 0.01
    assert (out[4].rank, out[4].passes, out[4].top_k) == (1, None, True)  # self: no threshold
    assert out[5].status == "no-head" and "2 layers x 3 heads" in out[5].message
    assert out[6].status == "no-model"
    assert check_claim({"model": "m", "layer": 0, "head": 0, "label": "coreference"}, heads_file(False)).status == "no-score"
    assert check_claim({"model": "m", "layer": 1, "head": 1, "label": "coreference"}, heads).status == "no-score"
