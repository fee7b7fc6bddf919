"""Reading training logs (trainer_state.json, CSV, TensorBoard), grouping series, best step, smoothing."""
from __future__ import annotations

import json
import math

import pytest

from reportgen.errors import UserError
from reportgen.runs import (
    RunData,
    best_step,
    ema,
    group,
    read_csv,
    read_tensorboard,
    read_trainer_state,
    run_object,
    thin,
)


def test_trainer_state_series_summary_and_best(tmp_path):
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps({
        "best_metric": 0.5, "best_model_checkpoint": "out/checkpoint-20", "metric_for_best_model": "eval_loss",
        "log_history": [
            {"step": 10, "epoch": 0.5, "loss": 1.0, "grad_norm": 2.0, "learning_rate": 1e-4, "grad_norm/layer_0": 0.1},
            {"step": 10, "epoch": 0.5, "eval_loss": 0.9, "eval_accuracy": 0.6, "eval_runtime": 1.2},
            {"step": 20, "epoch": 1.0, "loss": 0.6, "grad_norm": 1.0, "learning_rate": 5e-5, "grad_norm/layer_0": 0.05},
            {"step": 20, "epoch": 1.0, "eval_loss": 0.5, "eval_accuracy": 0.8, "eval_runtime": 1.1},
            {"step": 30, "epoch": 1.5, "eval_loss": 0.7, "eval_accuracy": 0.9},
            {"step": 30, "train_runtime": 12.0, "train_loss": 0.8, "total_flos": 1e9},
        ]}))
    data = read_trainer_state(path)
    assert data.series["loss"] == [(10.0, 1.0), (20.0, 0.6)]
    assert data.series["eval_loss"] == [(10.0, 0.9), (20.0, 0.5), (30.0, 0.7)]
    assert "epoch" not in data.series and "train_loss" not in data.series
    assert data.summary == {"train_runtime": 12.0, "train_loss": 0.8, "total_flos": 1e9}
    assert best_step(data) == {"step": 20.0, "value": 0.5, "metric": "eval_loss",
                               "rule": "the Trainer's metric_for_best_model (best_metric, best_model_checkpoint)"}
    assert data.trainer_best["step"] == 20.0
    data.trainer_best = None  # without the Trainer's choice: the lowest evaluation loss
    assert best_step(data) == {"step": 20.0, "value": 0.5, "metric": "eval_loss", "rule": "lowest evaluation loss"}
    groups = {name: group(name) for name in data.series}
    assert groups == {"loss": "loss", "grad_norm": "other", "learning_rate": "learning_rate", "grad_norm/layer_0": "grad_norm",
                      "eval_loss": "loss", "eval_accuracy": "metrics", "eval_runtime": "other"}


def test_the_trainers_best_checkpoint_wins_and_names_its_metric(tmp_path):
    """metric_for_best_model (here accuracy, higher is better) beats the lowest evaluation loss; trainer_state.json
    does not name the metric, so it is the evaluation series with best_metric at the best step."""
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps({
        "best_metric": 0.9, "best_model_checkpoint": "out/checkpoint-30", "best_global_step": 30,
        "log_history": [{"step": 10, "eval_loss": 0.5, "eval_accuracy": 0.6},
                        {"step": 30, "eval_loss": 0.7, "eval_accuracy": 0.9}]}))
    best = best_step(read_trainer_state(path))
    assert (best["step"], best["value"], best["metric"]) == (30.0, 0.9, "eval_accuracy")
    state = json.loads(path.read_text())
    del state["best_model_checkpoint"]  # save_strategy "no": best_global_step still says where
    path.write_text(json.dumps(state))
    assert best_step(read_trainer_state(path))["step"] == 30.0


def test_best_step_without_eval_loss_uses_a_higher_is_better_metric():
    data = RunData(series={"eval_accuracy": [(1.0, 0.5), (2.0, 0.9), (3.0, 0.9)], "eval_perplexity_x": [(1.0, 3.0)]})
    assert best_step(data)["step"] == 2.0  # the first of equal maxima
    assert best_step(RunData(series={"loss": [(1.0, 1.0)]})) is None


def test_groups_of_names():
    assert group("grad_norm/encoder.layer.3") == "grad_norm"
    assert group("train/grad_norm/layer_1") == "grad_norm"
    assert group("update_ratio/layer_1") == "update_ratio"
    assert group("eval/loss") == "loss"
    assert group("eval/f1") == "metrics"
    assert group("eval_samples_per_second") == "other"
    assert group("learning_rate") == "learning_rate"
    assert group("total_grad") == "other"


def test_csv_with_gaps_and_line_accurate_errors(tmp_path):
    good = tmp_path / "m.csv"
    good.write_text("step,loss,eval_loss\n1,2.0,\n2,1.5,1.7\n\n3,1.0,\n")
    data = read_csv(good)
    assert data.series == {"loss": [(1.0, 2.0), (2.0, 1.5), (3.0, 1.0)], "eval_loss": [(2.0, 1.7)]}
    bad = tmp_path / "bad.csv"
    bad.write_text("step,loss\n1,2.0\n2,oops\n")
    with pytest.raises(UserError, match=r"bad.csv:3: column 'loss': 'oops' is not a number"):
        read_csv(bad)
    nostep = tmp_path / "nostep.csv"
    nostep.write_text("epoch,loss\n1,2\n")
    with pytest.raises(UserError, match=r"nostep.csv:1: no 'step' column"):
        read_csv(nostep)


def test_trainer_state_errors(tmp_path):
    path = tmp_path / "t.json"
    path.write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        read_trainer_state(path)
    path.write_text(json.dumps({"something": 1}))
    with pytest.raises(UserError, match="no 'log_history' list"):
        read_trainer_state(path)


def test_tensorboard_event_files(tmp_path):
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path / "tb"))
    for step in range(5):
        writer.add_scalar("train/loss", 1.0 / (step + 1), step)
        writer.add_scalar("grad_norm/layer_0", 0.5 * step, step)
    writer.close()
    evals = SummaryWriter(str(tmp_path / "tb" / "eval"))
    evals.add_scalar("loss", 0.3, 4)
    evals.close()
    data = read_tensorboard(tmp_path / "tb")
    assert [s for s, _ in data.series["train/loss"]] == [0, 1, 2, 3, 4]
    assert math.isclose(data.series["train/loss"][2][1], 1 / 3, rel_tol=1e-6)
    assert data.series["eval/loss"] == [(4.0, pytest.approx(0.3))]
    assert group("eval/loss") == "loss" and best_step(data)["step"] == 4.0


def test_missing_tensorboard_says_what_to_install(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name.startswith("tensorboard"):
            raise ImportError("no tensorboard")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(UserError, match=r"install reportgen\[runs\]"):
        read_tensorboard(tmp_path)


def test_ema_matches_tensorboards_debiased_formula():
    # w = 0.5 on [1, 3]: s0 = 0.5 * 1 = 0.5, d0 = 0.5 -> 1; s1 = 0.25 + 1.5 = 1.75, d1 = 0.75 -> 7/3
    assert ema([1.0, 3.0], 0.5) == [1.0, pytest.approx(7 / 3)]
    assert ema([4.0, 2.0, 9.0], 0.0) == [4.0, 2.0, 9.0]
    assert ema([2.0] * 10, 0.9) == pytest.approx([2.0] * 10)


def test_thin_keeps_first_and_last():
    points = [(float(k), float(k)) for k in range(10001)]
    kept = thin(points, 100)
    assert len(kept) == 100 and kept[0] == points[0] and kept[-1] == points[-1]
    assert thin(points[:50], 100) == points[:50]


def test_run_object_charts():
    class Run:
        slug, id, name, kind = "r", "r", "R", "csv"

    data = RunData(series={"loss": [(1.0, 1.0)], "grad_norm/layer_10": [(1.0, 0.1)], "grad_norm/layer_2": [(1.0, 0.2)],
                           "update_ratio/layer_0": [(1.0, 0.0)]})
    obj = run_object(Run, data)
    charts = {c["key"]: c for c in obj["charts"]}
    assert list(charts) == ["loss", "grad_norm", "update_ratio"]
    assert [s["name"] for s in charts["grad_norm"]["series"]] == ["grad_norm/layer_2", "grad_norm/layer_10"]
    assert charts["grad_norm"]["log"] is True
    assert charts["update_ratio"]["log"] is False  # a zero cannot go on a log scale


def _trainer_folder(root, steps=(5, 10)):
    """A Trainer output folder: checkpoint-N/config.json + trainer_state.json in each, none at the top."""
    for step in steps:
        folder = root / "out" / f"checkpoint-{step}"
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
        (folder / "trainer_state.json").write_text(json.dumps({"log_history": [{"step": step, "loss": 1.0}]}))
    return root / "out"


def test_manifest_run_on_a_trainer_folder_adds_every_checkpoint_as_a_model_and_a_diff(tmp_path):
    from reportgen.manifest import parse_manifest
    from reportgen.plan import examples_for

    _trainer_folder(tmp_path, (10, 5, 20))
    text = ("models:\n  - {id: ./out/checkpoint-5, name: mine}\n"
            "runs:\n  - {id: ft, path: out, checkpoints: true, examples: [b, c]}\n"
            "examples:\n  - {id: a, language: en, a: One.}\n  - {id: b, language: en, a: Two.}\n"
            "  - {id: c, language: de, a: Drei.}\n")
    manifest = parse_manifest(text, str(tmp_path / "m.yaml"))
    (run,) = manifest.runs
    assert run.kind == "trainer_state" and run.path.endswith("checkpoint-20/trainer_state.json")  # the last log
    assert [s for s, _ in run.checkpoints] == [5, 10, 20]
    specs = {m.slug: m for m in manifest.models}
    assert [m.slug for m in manifest.models] == ["mine", "ft-step-5", "ft-step-10", "ft-step-20"]
    assert specs["ft-step-5"].id == "./out/checkpoint-5" and specs["ft-step-5"].kind == "local"
    assert [e.id for e in examples_for(specs["ft-step-10"], manifest.examples)] == ["b", "c"]
    assert [e.id for e in examples_for(specs["mine"], manifest.examples)] == ["a", "b", "c"]
    assert [(d.base, d.other) for d in manifest.diffs] == [("ft-step-5", "ft-step-20")]


def test_manifest_run_checkpoint_mistakes_are_one_line_errors(tmp_path):
    from reportgen.manifest import ManifestError, parse_manifest

    _trainer_folder(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "trainer_state.json").write_text(json.dumps({"log_history": []}))
    text = ("models:\n  - {id: ./out/checkpoint-5}\nruns:\n"
            "  - {id: ft, path: out, checkpoints: true, examples: [b, cat]}\n"
            "  - {id: bare, path: empty, checkpoints: true}\n"
            "examples:\n  - {id: cats, language: en, a: One.}\n")
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, str(tmp_path / "m.yaml"))
    lines = info.value.lines
    assert any(l.startswith(f"{tmp_path / 'm.yaml'}:4: runs[0].examples[0]: no example with id 'b'") for l in lines)
    assert any("runs[0].examples[1]: no example with id 'cat'" in l and "did you mean 'cats'" in l for l in lines)
    assert any(":5: runs[1].checkpoints: no checkpoint-N folder with a config.json in 'empty'" in l for l in lines)
