"""A Hugging Face Trainer run end to end: fine-tune a tiny BERT with GradientFlowCallback (the example
script's own training function, on a slice of its task), build a site whose manifest points at the output
folder with ``checkpoints: true``, and check the run page against values recomputed independently:

- gradient norms per layer group: from the gradients the optimiser used, captured by a test callback with
  plain loops (float64, its own grouping rule);
- update ratios: from the checkpoints themselves (a checkpoint is also saved one step before every saved
  step, so ||theta_N - theta_(N-1)|| / ||theta_N|| comes from two saved models);
- head scores of every checkpoint: the checkpoint loaded with transformers, attention recomputed and
  scored with plain loops (definitions of the README), nothing shared with reportgen.analysis.
"""
from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "runs"))

STEPS, LOG, SAVE = 24, 4, 8
EXAMPLES = [("cats", "The cats near the tree sleep."), ("dog", "The dog with the keys runs today."),
            ("teacher", "The teacher smiles.")]


def _group(name: str) -> str:
    """Independent grouping for a BertForSequenceClassification: bert.encoder.layer.K., embeddings, rest."""
    parts = name.split(".")
    if parts[:3] == ["bert", "encoder", "layer"]:
        return f"layer_{parts[3]}"
    return "embeddings" if parts[:2] == ["bert", "embeddings"] else "head"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    import torch
    from transformers import TrainerCallback

    import agreement_data
    import train_agreement

    class Capture(TrainerCallback):
        """Gradient norms per group in float64 with plain loops; a checkpoint one step before each saved one."""

        def __init__(self):
            self.grads = {}

        def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
            step = state.global_step + 1
            if step % LOG == 0:
                sums = {}
                for name, param in model.named_parameters():
                    if param.grad is not None:
                        g = param.grad.detach().double().flatten().tolist()
                        sums[_group(name)] = sums.get(_group(name), 0.0) + sum(v * v for v in g)
                self.grads[step] = {k: math.sqrt(v) for k, v in sums.items()}

        def on_step_end(self, args, state, control, **kwargs):
            if (state.global_step + 1) % SAVE == 0:
                control.should_save = True

    work = tmp_path_factory.mktemp("trainer-run")
    data = work / "data"
    data.mkdir()
    rows = agreement_data.sentences(200, seed=1)
    (data / "train.tsv").write_text("sentence\tlabel\n" + "".join(f"{s}\t{y}\n" for s, y in rows[:160]))
    (data / "dev.tsv").write_text("sentence\tlabel\n" + "".join(f"{s}\t{y}\n" for s, y in rows[160:]))
    capture = Capture()
    out = work / "out"
    train_agreement.train(out, steps=STEPS, save_steps=SAVE, eval_steps=SAVE, logging_steps=LOG, hidden=32,
                          layers=2, heads=4, data=data, report_to=("tensorboard",), callbacks=(capture,))
    examples = "\n".join(f"  - {{id: {i}, language: en, a: \"{a}\"}}" for i, a in EXAMPLES)
    (work / "manifest.yaml").write_text(
        "models:\n  - {id: ./out/checkpoint-24, name: final}\n"
        f"runs:\n  - {{id: agreement, path: out, name: Agreement, checkpoints: true}}\nexamples:\n{examples}\n")
    from reportgen.cli import main

    assert main(["build", str(work / "manifest.yaml"), "--no-cache", "--quiet", "--out", str(work / "site_src"),
                 "--config", str(work / "mkdocs.yml")]) == 0
    return work, capture, torch


def _data(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    return json.loads(text[text.index("push(") + 5: text.rindex(")")])


def test_trainer_log_has_gradient_flow_and_update_ratios_from_the_callback(run):
    work, capture, _ = run
    state = json.loads((work / "out" / "trainer_state.json").read_text())
    logged = [e for e in state["log_history"] if "loss" in e]
    assert [e["step"] for e in logged] == list(range(LOG, STEPS + 1, LOG))
    for entry in logged:
        groups = sorted(k.split("/", 1)[1] for k in entry if k.startswith("grad_norm/"))
        assert groups == ["embeddings", "head", "layer_0", "layer_1"]
        for group, value in capture.grads[entry["step"]].items():
            assert entry[f"grad_norm/{group}"] == pytest.approx(value, rel=1e-5)
    assert not any(k.startswith("grad_norm/") for e in state["log_history"] if "eval_loss" in e for k in e)
    # TensorBoard got them too: the callback puts itself before the reporting callbacks
    from reportgen.runs import read_tensorboard

    (folder,) = (work / "out" / "runs").iterdir()
    tb = read_tensorboard(folder)
    assert [s for s, _ in tb.series["train/grad_norm/layer_1"]] == [float(e["step"]) for e in logged]
    assert "train/update_ratio/head" in tb.series


def test_update_ratios_equal_the_change_between_saved_checkpoints(run):
    work, _, torch = run
    from safetensors.torch import load_file

    run_js = _data(work / "site_src" / "data" / "runs" / "run-agreement.js")
    charts = {c["key"]: c for c in run_js["charts"]}
    ratios = {s["name"]: dict((int(x), v) for x, v in s["points"]) for s in charts["update_ratio"]["series"]}
    assert sorted(ratios) == [f"update_ratio/{g}" for g in ("embeddings", "head", "layer_0", "layer_1")]
    for step in range(SAVE, STEPS + 1, SAVE):
        before = load_file(work / "out" / f"checkpoint-{step - 1}" / "model.safetensors")
        after = load_file(work / "out" / f"checkpoint-{step}" / "model.safetensors")
        delta, size = {}, {}
        for name, tensor in after.items():
            group = _group(name)
            delta[group] = delta.get(group, 0.0) + float(((tensor.double() - before[name].double()) ** 2).sum())
            size[group] = size.get(group, 0.0) + float((tensor.double() ** 2).sum())
        for group in delta:
            assert ratios[f"update_ratio/{group}"][step] == pytest.approx(math.sqrt(delta[group] / size[group]),
                                                                          rel=1e-3)
    grads = {s["name"] for s in charts["grad_norm"]["series"]}
    assert grads == {f"grad_norm/{g}" for g in ("embeddings", "head", "layer_0", "layer_1")}


def _scores(attention, special):
    """prev, next, cls, sep, entropy numerators and counts of one example, plain loops (README definitions)."""
    n = len(special)
    rows = [i for i in range(n) if not special[i]]
    out = {}
    for key in ("prev", "next", "cls", "sep", "entropy"):
        num, count = 0.0, 0
        for i in rows:
            a = attention[i]
            if key == "prev" and i >= 1:
                num, count = num + a[i - 1], count + 1
            elif key == "next" and i <= n - 2:
                num, count = num + a[i + 1], count + 1
            elif key == "cls":
                num, count = num + a[0], count + 1
            elif key == "sep":
                num, count = num + sum(a[j] for j in range(1, n) if special[j]), count + 1
            elif key == "entropy":
                num, count = num - sum(p * math.log(p) for p in a if p > 0), count + 1
        out[key] = (num, count)
    return out


def test_head_scores_of_every_checkpoint_equal_a_recomputation(run):
    work, _, torch = run
    from transformers import AutoModel, AutoTokenizer

    heads_js = _data(work / "site_src" / "data" / "runs" / "heads-agreement.js")
    steps = sorted(int(p.name.split("-")[1]) for p in (work / "out").glob("checkpoint-*"))
    assert heads_js["steps"] == steps and len(steps) >= 3
    scores = {s["key"]: s for s in heads_js["scores"]}
    for c, step in enumerate(steps):
        folder = work / "out" / f"checkpoint-{step}"
        model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
        tokenizer = AutoTokenizer.from_pretrained(folder)
        totals = {}
        for _, text in EXAMPLES:
            enc = tokenizer(text, return_tensors="pt")
            special = [bool(v) for v in tokenizer.get_special_tokens_mask(enc["input_ids"][0].tolist(),
                                                                            already_has_special_tokens=True)]
            with torch.no_grad():
                attentions = model(**enc, output_attentions=True).attentions
            for layer, att in enumerate(attentions):
                for head in range(att.shape[1]):
                    matrix = att[0, head].double().tolist()
                    for key, (num, count) in _scores(matrix, special).items():
                        t = totals.setdefault((key, layer, head), [0.0, 0])
                        t[0] += num
                        t[1] += count
        for (key, layer, head), (num, count) in totals.items():
            if key == "entropy" and key not in scores:
                continue  # the heads file has entropy_norm instead
            assert scores[key]["values"][layer][head][c] == pytest.approx(num / count, abs=1e-5), (step, key, layer, head)


def test_run_page_links_checkpoints_diff_viewer_and_marks_the_best_step(run):
    work, _, _ = run
    state = json.loads((work / "out" / "trainer_state.json").read_text())
    page = (work / "site_src" / "runs" / "agreement.md").read_text(encoding="utf-8")
    best = state["best_global_step"]
    assert f'data-best-step="{best}"' in page and "eval_mcc" in page
    for step in sorted(int(p.name.split("-")[1]) for p in (work / "out").glob("checkpoint-*")):
        assert f'<tr data-step="{step}"' in page
        assert f'../models/agreement-step-{step}.html' in page
    steps = [int(s) for s in re.findall(r'<tr data-step="(\d+)"', page)]
    first, last = min(steps), max(steps)
    assert f"../diff-agreement-step-{first}-agreement-step-{last}.html" in page
    assert (work / "site_src" / f"diff-agreement-step-{first}-agreement-step-{last}.md").is_file()
    assert f"../examples/cats.html#model=agreement-step-{last}&amp;view=head" in page
    assert '<table class="rg-rank rg-moved" data-score="prev">' in page
    run_js = _data(work / "site_src" / "data" / "runs" / "run-agreement.js")
    assert run_js["best"]["step"] == best and "eval_mcc" in run_js["best"]["metric"]
    smooth = {s["name"]: s["smooth"] for c in run_js["charts"] for s in c["series"]}
    assert smooth["loss"] and not smooth["eval_loss"] and not smooth["learning_rate"] and not smooth["eval_mcc"]
