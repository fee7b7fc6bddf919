"""Which example an atlas cell links to, and per-example coreference scores (hand-made cases)."""
from __future__ import annotations

import numpy as np

from reportgen.analysis.atlas import best_example, per_example_coref


def test_best_example_highest_eligible_score_then_tokens_then_order():
    scores = np.array([
        [[0.9, 0.5]],   # example 0: not eligible
        [[0.4, 0.5]],   # example 1
        [[0.6, 0.5]],   # example 2
        [[0.6, np.nan]],  # example 3
    ])  # [E=4, L=1, H=2]
    eligible = np.array([False, True, True, True])
    tokens = np.array([50, 10, 12, 20])
    best = best_example(scores, eligible, tokens)
    # head 0: 0.6 tie between 2 and 3 -> more tokens (3); head 1: 0.5 tie of 1 and 2 -> more tokens (2)
    assert best.tolist() == [[3, 2]]
    same = best_example(scores, eligible, np.array([1, 1, 1, 1]))
    assert same.tolist() == [[2, 1]]  # equal tokens: the earlier example
    none = best_example(scores, np.zeros(4, dtype=bool), tokens)
    assert none.tolist() == [[-1, -1]]
    sec = best_example(scores, eligible, tokens, secondary=np.array([[[0, 0]], [[0, 0]], [[5, 0]], [[1, 0]]]))
    assert sec[0, 0] == 2  # the secondary score breaks the tie before tokens


def test_per_example_coref_accuracy_mass_ties_and_cut_pairs():
    # L=1, H=2; example 0 has two pairs, example 1 one pair cut off by truncation, example 2 none
    p1 = np.array([[[0.5, 0.2], [0.3, 0.3]]])  # head 0 right (antecedent 0), head 1 tie -> wrong
    p2 = np.array([[[0.1, 0.4, 0.2], [0.0, 0.9, 0.1]]])  # antecedent 1: both heads right
    acc, mass = per_example_coref([[p1, p2], [np.zeros((0,))], []], [[0, 1], [0], []], 1, 2)
    np.testing.assert_allclose(acc[0], [[1.0, 0.5]])
    np.testing.assert_allclose(mass[0], [[(0.5 + 0.4) / 2, (0.3 + 0.9) / 2]])
    assert np.isnan(acc[1]).all() and np.isnan(acc[2]).all() and np.isnan(mass[1]).all()


def test_atlas_links_do_not_depend_on_the_order_records_arrive_in(tiny_models, tmp_path, monkeypatch):
    """Two examples with the same text tie on every head; the atlas must link the earlier one in the
    manifest whether the records were computed (one per batch, longest first: the later one arrives
    first) or read from the cache (manifest order), so a --force rebuild is byte-identical."""
    from reportgen.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(
        f"models:\n  - id: {tiny_models['bert']}\n"
        "examples:\n"
        "  - {id: first, language: en, a: The cat is very sad.}\n"
        "  - {id: long, language: en, a: The trophy does not fit into the suitcase because it is too large.}\n"
        "  - {id: twin, language: en, a: The cat is very sad.}\n"
        "settings: {neuron: false}\n", encoding="utf-8")
    args = ["build", "m.yaml", "--quiet", "--cache", "cache", "--out", "site_src", "--config", "mkdocs.yml",
            "--max-tokens", "1"]
    assert main(args) == 0
    atlas = sorted((tmp_path / "site_src" / "atlas").glob("*.md"))
    fresh = {p.name: p.read_text(encoding="utf-8") for p in atlas}
    assert fresh and any("click: example first at this head" in text for text in fresh.values())
    assert not any("click: example twin " in text for text in fresh.values())
    assert main(args + ["--force"]) == 0
    assert {p.name: p.read_text(encoding="utf-8") for p in atlas} == fresh
