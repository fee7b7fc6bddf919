"""Fine-tune a tiny BERT for a few steps and log it like a real run: the demo's example training run.

    python examples/runs/make_tiny_run.py [OUT_FOLDER] [--format json|csv|tensorboard] [--steps N]

Writes ``OUT_FOLDER/trainer_state.json`` (Hugging Face ``Trainer`` layout: ``log_history`` entries with
``step``), ``metrics.csv`` or TensorBoard event files. A plain torch loop (no ``accelerate`` needed)
trains a randomly initialised 4-layer BERT (hidden size 32) to tell toy sentences with and without a
negation apart, and a logging callback records every ``--log-every`` steps:

- ``loss``, ``learning_rate``, ``grad_norm`` (total L2 norm of the gradient, as the Trainer logs it);
- ``grad_norm/<group>``: L2 norm of the gradient of each parameter group (``embeddings``, ``layer_0`` ...
  ``layer_3``, ``head``): the "gradient flow" plot;
- ``update_ratio/<group>``: L2 norm of the step's parameter update divided by the L2 norm of the
  group's parameters (about 1e-3 is the usual rule of thumb);
- at every ``--eval-every`` steps, ``eval_loss`` and ``eval_accuracy`` on held-out sentences.

Deterministic (fixed seeds, CPU); ``examples/runs/tiny-run/`` is its output with the defaults.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import re
from pathlib import Path

SUBJECTS = ["the cat", "the dog", "my friend", "the teacher", "the bird", "anna", "the child", "our neighbour"]
VERBS = ["eats", "likes", "sees", "finds", "wants", "reads", "buys", "paints"]
OBJECTS = ["the food", "a book", "the ball", "fresh bread", "the garden", "a letter", "the window", "red apples"]


def sentences(seed: int) -> list[tuple[str, int]]:
    """Toy sentences: label 1 when the verb is negated ("does not eat"), else 0."""
    import random

    rng = random.Random(seed)
    out = []
    for s in SUBJECTS:
        for v in VERBS:
            for o in OBJECTS:
                if rng.random() < 0.5:
                    out.append((f"{s} does not {v[:-1]} {o}", 1))
                else:
                    out.append((f"{s} {v} {o}", 0))
    rng.shuffle(out)
    return out


def parameter_group(name: str) -> str:
    """embeddings, layer_<k> or head (pooler and classifier)."""
    found = re.search(r"encoder\.layer\.(\d+)\.", name)
    if found:
        return f"layer_{found.group(1)}"
    return "embeddings" if "embeddings" in name else "head"


class MetricsLogger:
    """A training callback: gradient norms before the optimiser step, update ratios after it."""

    def __init__(self, model):
        self.model = model
        self.groups: dict[str, list] = {}
        for name, param in model.named_parameters():
            self.groups.setdefault(parameter_group(name), []).append(param)
        self.before = None

    def on_before_step(self) -> dict[str, float]:
        """Gradient norms per group and in total; remembers the parameters to measure the update."""
        logs, total = {}, 0.0
        for group, params in self.groups.items():
            squared = sum(float(p.grad.detach().pow(2).sum()) for p in params if p.grad is not None)
            logs[f"grad_norm/{group}"] = math.sqrt(squared)
            total += squared
        logs["grad_norm"] = math.sqrt(total)
        self.before = {g: [p.detach().clone() for p in ps] for g, ps in self.groups.items()}
        return logs

    def on_after_step(self) -> dict[str, float]:
        """||update|| / ||parameters|| per group."""
        logs = {}
        for group, params in self.groups.items():
            update = sum(float((p.detach() - b).pow(2).sum()) for p, b in zip(params, self.before[group]))
            norm = sum(float(p.detach().pow(2).sum()) for p in params)
            logs[f"update_ratio/{group}"] = math.sqrt(update) / math.sqrt(norm) if norm > 0 else 0.0
        self.before = None
        return logs


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def train(steps: int = 80, log_every: int = 4, eval_every: int = 8, seed: int = 0, lr: float = 2e-3) -> dict:
    """Run the toy fine-tuning; return a trainer_state.json-like dict."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    data = sentences(seed)
    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3}
    for text, _ in data:
        for word in text.split():
            vocab.setdefault(word, len(vocab))
    width = 2 + max(len(t.split()) for t, _ in data)

    def encode(batch):
        ids = torch.zeros((len(batch), width), dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, (text, _) in enumerate(batch):
            tokens = [2] + [vocab.get(w, 1) for w in text.split()] + [3]
            ids[row, : len(tokens)] = torch.tensor(tokens)
            mask[row, : len(tokens)] = 1
        return ids, mask, torch.tensor([label for _, label in batch])

    split = len(data) * 4 // 5
    train_set, eval_set = data[:split], data[split:]
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=4, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=width, num_labels=2,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = BertForSequenceClassification(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 10) * max(0.0, 1 - s / steps))
    logger = MetricsLogger(model)
    history: list[dict] = []
    batch_size = 16
    generator = torch.Generator().manual_seed(seed)
    running, counted = 0.0, 0
    for step in range(1, steps + 1):
        model.train()
        index = torch.randint(0, len(train_set), (batch_size,), generator=generator).tolist()
        ids, mask, labels = encode([train_set[i] for i in index])
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        grads = logger.on_before_step()
        optimizer.step()
        ratios = logger.on_after_step()
        learning_rate = schedule.get_last_lr()[0]
        schedule.step()
        running += float(loss.detach())
        counted += 1
        if step % log_every == 0:
            entry = {"loss": running / counted, "learning_rate": learning_rate, **grads, **ratios}
            history.append({"epoch": _round(step * batch_size / len(train_set)), "step": step,
                            **{k: _round(v) for k, v in entry.items()}})
            running, counted = 0.0, 0
        if step % eval_every == 0:
            model.eval()
            with torch.no_grad():
                ids, mask, labels = encode(eval_set)
                out = model(input_ids=ids, attention_mask=mask, labels=labels)
                accuracy = float((out.logits.argmax(-1) == labels).float().mean())
            history.append({"epoch": _round(step * batch_size / len(train_set)), "step": step,
                            "eval_loss": _round(float(out.loss)), "eval_accuracy": _round(accuracy)})
    evals = [e for e in history if "eval_loss" in e]
    best = min(evals, key=lambda e: (e["eval_loss"], e["step"])) if evals else None
    return {
        "best_global_step": best["step"] if best else None,
        "best_metric": best["eval_loss"] if best else None,
        "best_model_checkpoint": f"tiny-run/checkpoint-{best['step']}" if best else None,
        "epoch": history[-1]["epoch"] if history else 0, "eval_steps": eval_every, "global_step": steps,
        "is_local_process_zero": True, "is_world_process_zero": True, "log_history": history,
        "logging_steps": log_every, "max_steps": steps, "num_train_epochs": 1,
        "train_batch_size": batch_size, "trial_name": None, "trial_params": None,
    }


def write(state: dict, out: Path, fmt: str) -> Path:
    """Write the run as trainer_state.json, metrics.csv or TensorBoard event files; return the path."""
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path = out / "trainer_state.json"
        path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path
    rows: dict[int, dict] = {}
    for entry in state["log_history"]:
        rows.setdefault(entry["step"], {}).update({k: v for k, v in entry.items() if k not in ("step", "epoch")})
    names = sorted({k for row in rows.values() for k in row})
    if fmt == "csv":
        path = out / "metrics.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["step"] + names)
            for step in sorted(rows):
                writer.writerow([step] + [rows[step].get(n, "") for n in names])
        return path
    if fmt == "tensorboard":
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(out))
        for step in sorted(rows):
            for name, value in rows[step].items():
                tag = name.replace("eval_", "eval/", 1) if name.startswith("eval_") else name
                writer.add_scalar(tag, value, step)
        writer.close()
        return out
    raise ValueError(fmt)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(Path(__file__).resolve().parent / "tiny-run"))
    parser.add_argument("--format", choices=["json", "csv", "tensorboard"], default="json")
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--log-every", type=int, default=4)
    parser.add_argument("--eval-every", type=int, default=8)
    args = parser.parse_args(argv)
    state = train(args.steps, args.log_every, args.eval_every)
    print(write(state, Path(args.out), args.format))


if __name__ == "__main__":
    main()
