"""The change report of `build --compare`: pure diff logic and finding a previous run's heads files."""
from __future__ import annotations

import copy
import json

import pytest

from reportgen.analysis.changes import COREF, SCHEMA, compare, compare_model, load_previous, score_grids
from reportgen.analysis.patterns import PATTERNS


def heads(model_id="m", layers=2, n_heads=3, value=0.5, coref=True, revision="r1", date="2025-01-01"):
    grid = [[value] * n_heads for _ in range(layers)]
    out = {
        "schema": "reportgen.heads/1",
        "model": {"id": model_id, "name": model_id.upper(), "slug": model_id, "revision": revision,
                  "layers": layers, "heads": n_heads},
        "examples": 10,
        "patterns": {name: copy.deepcopy(grid) for name in PATTERNS},
        "provenance": {"date": date},
    }
    if coref:
        out["coreference"] = {"pairs": 5, "accuracy": copy.deepcopy(grid), "mass": copy.deepcopy(grid)}
    return out


def test_identical_runs_have_no_changes():
    report = compare([heads()], [heads()], 0.05)
    assert report["schema"] == SCHEMA
    (model,) = report["models"]
    assert model["status"] == "compared"
    assert model["changes"] == []
    assert model["compared"] == (len(PATTERNS) + 1) * 2 * 3
    assert report["changed_heads"] == 0


def test_moves_beyond_threshold_are_listed_largest_first():
    before, after = heads(), heads()
    after["patterns"]["prev"][1][2] = 0.9  # +0.4
    after["patterns"]["entropy"][0][0] = 0.45  # -0.05: not beyond the threshold (strict)
    after["patterns"]["cls"][0][1] = 0.44  # -0.06
    after["coreference"]["accuracy"][1][0] = 0.2  # -0.3
    report = compare([before], [after], 0.05)
    changes = report["models"][0]["changes"]
    assert [(c["score"], c["layer"], c["head"]) for c in changes] == [("prev", 1, 2), (COREF, 1, 0), ("cls", 0, 1)]
    assert changes[0]["before"] == 0.5 and changes[0]["after"] == 0.9
    assert changes[0]["delta"] == pytest.approx(0.4)
    assert changes[1]["delta"] == pytest.approx(-0.3)
    assert report["changed_heads"] == 3


def test_threshold_zero_lists_every_difference_and_negative_is_rejected():
    after = heads()
    after["patterns"]["self"][0][0] = 0.5000001
    assert len(compare([heads()], [after], 0.0)["models"][0]["changes"]) == 1
    with pytest.raises(ValueError):
        compare([heads()], [after], -1)


def test_missing_values_are_skipped_not_reported():
    before, after = heads(), heads()
    before["patterns"]["prev"][0][0] = None
    after["patterns"]["next"][0][0] = float("nan")
    model = compare([before], [after], 0.05)["models"][0]
    assert model["changes"] == []
    assert model["compared"] == (len(PATTERNS) + 1) * 6 - 2


def test_new_removed_and_reshaped_models():
    report = compare([heads("old"), heads("same", layers=2)], [heads("same", layers=3), heads("new")], 0.05)
    status = {m["id"]: m["status"] for m in report["models"]}
    assert status == {"same": "reshaped", "new": "new", "old": "removed"}
    assert [m["id"] for m in report["models"]] == ["same", "new", "old"]  # current order, then removed


def test_revision_examples_and_dates_are_reported():
    after = heads(revision="r2", date="2025-02-01")
    after["examples"] = 12
    model = compare_model(heads(), after, 0.05)
    assert model["revision"] == ["r1", "r2"]
    assert model["examples"] == [10, 12]
    assert model["date"] == ["2025-01-01", "2025-02-01"]


def test_coreference_is_optional():
    assert COREF not in score_grids(heads(coref=False))
    model = compare_model(heads(coref=False), heads(), 0.05)
    assert model["compared"] == len(PATTERNS) * 6


def test_load_previous_from_site_src_folder_of_heads_and_single_file(tmp_path):
    site = tmp_path / "site_src"
    (site / "data" / "m").mkdir(parents=True)
    (site / "data" / "m" / "heads.json").write_text(json.dumps(heads("m")))
    (site / "data" / "index.json").write_text(json.dumps(
        {"schema": "reportgen.index/1", "models": [{"id": "m", "heads_file": "m/heads.json"}]}))
    assert set(load_previous(site).models) == {"m"}
    assert set(load_previous(site / "data").models) == {"m"}  # the data/ folder itself

    loose = tmp_path / "loose"
    (loose / "a").mkdir(parents=True)
    (loose / "a" / "heads.json").write_text(json.dumps(heads("a")))
    (loose / "b.json").write_text(json.dumps(heads("b")))
    (loose / "other.json").write_text(json.dumps({"schema": "something/1"}))
    (loose / "broken.json").write_text("{not json")
    previous = load_previous(loose)
    assert previous.found and set(previous.models) == {"a", "b"}
    assert set(load_previous(loose / "b.json").models) == {"b"}


def test_load_previous_missing_or_empty_is_not_found(tmp_path, capsys):
    missing = load_previous(tmp_path / "nope")
    assert not missing.found and missing.models == {}
    empty = load_previous(tmp_path)
    assert not empty.found
    assert "warning" in capsys.readouterr().err
