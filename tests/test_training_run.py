"""GradientFlowCallback on BERT-family and GPT-2 parameter names and in a GPT-2 Trainer run, and the committed
example run (examples/runs/agreement-run/, made by examples/runs/train_agreement.py with the Trainer).
The end-to-end Trainer -> site test is tests/test_trainer_run.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from reportgen.runs import checkpoint_folders, read_trainer_state, run_object, trainer_log
from reportgen.training import GradientFlowCallback, layer_group

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "examples" / "runs" / "agreement-run"


def _model(family: str):
    """A tiny random model of ``family`` with 3 layers (only the one asked for is built)."""
    import transformers as tf

    small = dict(vocab_size=50, max_position_embeddings=16)
    layers = dict(num_hidden_layers=3, num_attention_heads=2, intermediate_size=8)
    if family == "bert":
        return tf.BertForSequenceClassification(tf.BertConfig(hidden_size=8, **layers, **small))
    if family == "roberta":
        return tf.RobertaForMaskedLM(tf.RobertaConfig(hidden_size=8, **layers, vocab_size=50, max_position_embeddings=20))
    if family == "electra":
        return tf.ElectraForSequenceClassification(tf.ElectraConfig(embedding_size=4, hidden_size=8, **layers, **small))
    if family == "distilbert":
        return tf.DistilBertForSequenceClassification(tf.DistilBertConfig(dim=8, n_layers=3, n_heads=2, hidden_dim=8, **small))
    return tf.GPT2LMHeadModel(tf.GPT2Config(n_embd=8, n_layer=3, n_head=2, vocab_size=50, n_positions=16))


@pytest.mark.parametrize("family", ["bert", "roberta", "electra", "distilbert", "gpt2"])
def test_layer_groups_cover_embeddings_every_layer_and_the_head(family):
    model = _model(family)
    groups: dict[str, list[str]] = {}
    for name, _ in model.named_parameters():
        groups.setdefault(layer_group(name), []).append(name)
    assert sorted(groups) == ["embeddings", "head", "layer_0", "layer_1", "layer_2"], family
    for k in range(3):  # a layer's group holds exactly that layer's parameters
        assert all(f".{k}." in n for n in groups[f"layer_{k}"])
        others = [n for g, names in groups.items() if g != f"layer_{k}" for n in names]
        assert not any(f"layer.{k}." in n or f"h.{k}." in n for n in others)
    assert all("embed" in n or n.split(".")[-2] in ("wte", "wpe") for n in groups["embeddings"])


def test_gpt2_trainer_run_measures_only_logged_steps_and_groups_add_up_to_the_total():
    """logging_steps 3 and logging_first_step over 7 steps: measured at 1, 3, 6 only. Without clipping the
    Trainer's own grad_norm (total L2 norm) is the root of the sum of the squared group norms."""
    import tempfile

    import torch
    from transformers import Trainer, TrainingArguments

    model = _model("gpt2")
    ids = torch.randint(0, 50, (28, 12), generator=torch.Generator().manual_seed(0))
    data = [{"input_ids": row, "labels": row} for row in ids]
    flow = GradientFlowCallback()
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, max_steps=7, per_device_train_batch_size=4, logging_steps=3,
                                 logging_first_step=True, max_grad_norm=0.0, save_strategy="no", report_to=[],
                                 use_cpu=True, disable_tqdm=True, learning_rate=1e-3)
        trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[flow])
        trainer.train()
    assert flow.measured_steps == 3
    logged = [e for e in trainer.state.log_history if "loss" in e]
    assert [e["step"] for e in logged] == [1, 3, 6]
    for entry in logged:
        groups = ["embeddings", "layer_0", "layer_1", "layer_2", "head"]
        assert all(0 < entry[f"update_ratio/{g}"] < 1 for g in groups)
        total = sum(entry[f"grad_norm/{g}"] ** 2 for g in groups) ** 0.5
        assert total == pytest.approx(entry["grad_norm"], rel=1e-4)


def test_committed_example_run_has_checkpoints_gradient_flow_and_the_trainers_best_step():
    log = trainer_log(RUN)
    assert log == RUN / "trainer_state.json" and log.stat().st_size < 200_000
    state = json.loads(log.read_text())
    steps = [step for step, _ in checkpoint_folders(RUN)]
    assert len(steps) >= 3 and steps[-1] == state["global_step"]
    assert sum(p.stat().st_size for p in RUN.rglob("*") if p.is_file()) < 3_000_000

    class Run:
        slug, id, name, kind = "agreement", "agreement", "Agreement", "trainer_state"

    obj = run_object(Run, read_trainer_state(log))
    charts = {c["key"]: c for c in obj["charts"]}
    assert {"loss", "metrics", "grad_norm", "update_ratio", "learning_rate"} <= set(charts)
    assert [s["name"] for s in charts["grad_norm"]["series"]] == [
        "grad_norm/embeddings", "grad_norm/head", "grad_norm/layer_0", "grad_norm/layer_1"]
    assert obj["best"]["step"] == state["best_global_step"] and "eval_mcc" in obj["best"]["metric"]
    assert obj["best"]["value"] == max(e["eval_mcc"] for e in state["log_history"] if "eval_mcc" in e)
