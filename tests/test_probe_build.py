"""The attention probe wired into the heads file and the pages (synthetic records, no model run)."""
from __future__ import annotations

import numpy as np
import pytest

from reportgen.analysis.patterns import PatternSums
from reportgen.analysis.probe_summary import PROBE_MIN_PAIRS
from reportgen.analysis.spans import aggregate_span as aggregate_words
from reportgen.analysis.summary import ExampleStats, summarise_model
from reportgen.manifest.load import ManifestError, parse_manifest
from reportgen.render.probe_view import probe_view

L, H = 2, 3
NAMES = ["Anna", "Bert", "Carl", "Dora", "Emil", "Fred", "Gina", "Hugo", "Ines", "Jon", "Kai", "Lena"]


def _manifest(schemas: int, settings: str = "") -> str:
    """Winograd-style twins: the same pronoun and candidates, one word flips the antecedent."""
    lines = ["models:", "  - id: x", "examples:"]
    for k in range(schemas):
        first, second = NAMES[k % len(NAMES)], NAMES[(k + 5) % len(NAMES)] + str(k)
        for twin, (word, ante) in enumerate((("tall", first), ("short", second))):
            lines += [f"  - id: s{k}-{twin}", "    language: en",
                      f"    a: \"{first} thanked {second} because she was {word} number {k}.\"",
                      "    coref:",
                      f"      - {{pronoun: she, antecedent: {ante}, candidates: [{first}, {second}]}}"]
    return "\n".join(lines) + "\n" + settings


def _stats(manifest, seed: int = 0) -> list[ExampleStats]:
    """Pronoun -> candidate weights where head (1, 2) points at the antecedent, plus noise; per-word back
    weights [L, H, C, 1]."""
    rng = np.random.default_rng(seed)
    out = []
    for example in manifest.examples:
        pair = example.coref[0]
        fwd = rng.uniform(0.0, 0.2, size=(L, H, 2))
        fwd[1, 2, pair.antecedent_index] += 0.3
        back = rng.uniform(0.0, 0.2, size=(L, H, 2, 1))
        out.append(ExampleStats(example, PatternSums.zeros(L, H), [fwd], coref_back=[back]))
    return out


def test_heads_file_gains_probe_and_folds():
    manifest = parse_manifest(_manifest(25, "settings:\n  probe_folds: 4\n"), check_paths=False)
    heads = summarise_model({"id": "x"}, _stats(manifest), L, H, settings=manifest.settings)
    p = heads["probe"]
    for key in ("task", "features", "folds", "grouping", "span_rule", "accuracy", "accuracy_ci", "control_accuracy",
                "control_ci", "best_single_head", "baselines", "weights", "weights_back", "by_language"):
        assert key in p
    assert p["folds"] == 4 and p["pairs"] == 50 and p["groups"] == 25
    assert p["best_single_head"]["layer"] == 1 and p["best_single_head"]["head"] == 2
    assert p["accuracy"] > 0.9
    # the control's held-out labels are fair coins whatever the probe learnt: 150 coin flips (3 draws x 50
    # pairs) lie within 3 standard deviations (0.12) of one half
    assert abs(p["control_accuracy"] - 0.5) < 0.12
    assert np.asarray(p["weights"]).shape == (L, H) and np.asarray(p["weights_back"]).shape == (L, H)
    assert set(p["baselines"]) == {"nearest", "first", "random"} and "en" in p["by_language"]
    detail = heads["coreference"]["pairs_detail"]
    folds = {d["example"]: d["fold"] for d in detail}
    assert all(folds[f"s{k}-0"] == folds[f"s{k}-1"] for k in range(25))  # twins never split
    assert sorted(set(folds.values())) == [0, 1, 2, 3]
    view = probe_view(heads, [["s0-0"] * H for _ in range(L)], "x")
    cells = [c for m in view["maps"] for row in m["rows"] for c in row]
    assert len(cells) == 2 * L * H and all(c["href"].startswith("../examples/s0-0.html#model=x") for c in cells)
    assert view["rows"][0]["acc"].endswith("%")


def test_probe_setting_auto_off_and_forced():
    small = parse_manifest(_manifest(PROBE_MIN_PAIRS // 2 - 1), check_paths=False)
    heads = summarise_model({"id": "x"}, _stats(small), L, H, settings=small.settings)
    assert "probe" not in heads and "fewer than 40" in heads["coreference"]["probe_off"]
    assert all("fold" not in d for d in heads["coreference"]["pairs_detail"])
    forced = parse_manifest(_manifest(6, "settings:\n  probe: true\n  probe_folds: 3\n"), check_paths=False)
    few = summarise_model({"id": "x"}, _stats(forced), L, H, settings=forced.settings)["probe"]
    assert few["pairs"] == 12 and few["folds"] == 3 and few["verdict"].startswith("No verdict: 12 pairs")
    off = parse_manifest(_manifest(25, "settings:\n  probe: false\n"), check_paths=False)
    assert "probe" not in summarise_model({"id": "x"}, _stats(off), L, H, settings=off.settings)


@pytest.mark.parametrize("value, message", [("maybe", "'maybe' is not a choice"), ("3", "expected true, false or auto")])
def test_bad_probe_setting_is_one_line_error(value, message):
    with pytest.raises(ManifestError) as exc:
        parse_manifest(_manifest(1, f"settings:\n  probe: {value}\n  probe_folds: 1\n"), check_paths=False)
    text = str(exc.value)
    assert message in text and "settings.probe_folds: 1 is out of range" in text


def test_span_rules_on_words():
    values = np.array([[0.1, 0.3, np.nan], [0.2, np.nan, np.nan]])
    assert np.allclose(aggregate_words(values, "sum"), [0.4, 0.2])
    assert np.allclose(aggregate_words(values, "mean"), [0.2, 0.2])
    assert np.allclose(aggregate_words(values, "max"), [0.3, 0.2])
