"""The example training run: fine-tune a tiny BERT for a few steps with a logging callback (gradient
norms and update/parameter ratios per layer), write it as trainer_state.json, CSV and TensorBoard, and read
all three back with reportgen.runs. Also checks the committed example run (examples/runs/tiny-run/).
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from reportgen.runs import best_step, read_csv, read_tensorboard, read_trainer_state, run_object

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "runs" / "make_tiny_run.py"
GROUPS = ["embeddings", "head", "layer_0", "layer_1", "layer_2", "layer_3"]


def _script():
    spec = importlib.util.spec_from_file_location("make_tiny_run", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    module = _script()
    state = module.train(steps=12, log_every=2, eval_every=4)
    out = tmp_path_factory.mktemp("tiny-run")
    paths = {"json": module.write(state, out / "json", "json"), "csv": module.write(state, out / "csv", "csv")}
    try:
        import tensorboard  # noqa: F401

        paths["tensorboard"] = module.write(state, out / "tb", "tensorboard")
    except ImportError:
        pass
    return state, paths


def test_callback_logs_loss_eval_gradient_flow_and_update_ratios(run):
    state, _ = run
    history = state["log_history"]
    train = [e for e in history if "loss" in e]
    evals = [e for e in history if "eval_loss" in e]
    assert [e["step"] for e in train] == [2, 4, 6, 8, 10, 12]
    assert [e["step"] for e in evals] == [4, 8, 12]
    for entry in train:
        for group in GROUPS:
            assert entry[f"grad_norm/{group}"] > 0
            assert 0 < entry[f"update_ratio/{group}"] < 1
        total = sum(entry[f"grad_norm/{g}"] ** 2 for g in GROUPS) ** 0.5
        assert abs(total - entry["grad_norm"]) <= 1e-4 * entry["grad_norm"]  # groups cover every parameter
        assert entry["learning_rate"] > 0
    assert 0 <= evals[-1]["eval_accuracy"] <= 1
    assert state["best_metric"] == min(e["eval_loss"] for e in evals)
    assert state["global_step"] == 12


def test_every_format_reads_back_the_same_series(run):
    state, paths = run
    data = read_trainer_state(paths["json"])
    assert sorted(data.series["grad_norm/layer_0"]) == [(float(e["step"]), e["grad_norm/layer_0"])
                                                         for e in state["log_history"] if "loss" in e]
    from_csv = read_csv(paths["csv"])
    assert from_csv.series == data.series
    best = best_step(data)
    assert best["metric"] == "eval_loss" and best["value"] == state["best_metric"]
    assert best_step(from_csv)["step"] == best["step"]
    if "tensorboard" in paths:
        tb = read_tensorboard(paths["tensorboard"])
        assert set(tb.series) == {n.replace("eval_", "eval/", 1) if n.startswith("eval_") else n for n in data.series}
        for name, points in data.series.items():
            tag = name.replace("eval_", "eval/", 1) if name.startswith("eval_") else name
            assert [s for s, _ in tb.series[tag]] == [s for s, _ in points]
            assert [v for _, v in tb.series[tag]] == pytest.approx([v for _, v in points], rel=1e-6)  # float32
        assert best_step(tb)["step"] == best["step"] and best_step(tb)["metric"] == "eval/loss"


def test_committed_example_run_is_readable_and_small():
    path = ROOT / "examples" / "runs" / "tiny-run" / "trainer_state.json"
    assert path.stat().st_size < 32_000
    state = json.loads(path.read_text())
    data = read_trainer_state(path)

    class Run:
        slug, id, name, kind = "tiny-run", "tiny-run", "Tiny run", "trainer_state"

    obj = run_object(Run, data)
    charts = {c["key"]: c for c in obj["charts"]}
    assert set(charts) == {"loss", "metrics", "grad_norm", "update_ratio", "learning_rate", "other"}
    assert [s["name"].split("/")[1] for s in charts["grad_norm"]["series"]] == GROUPS
    assert obj["best"]["step"] == state["best_global_step"]
