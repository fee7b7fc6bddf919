"""Training runs: read logged metrics into named series, group them into charts, find the best step.

Three sources (manifest ``runs: [{id, path, name?}]``):
- a Hugging Face ``trainer_state.json``: every numeric key of every ``log_history`` entry is a series
  over ``step``;
- a folder of TensorBoard event files, read with the ``tensorboard`` package's ``EventAccumulator``
  (``pip install 'reportgen[runs]'``); scalars of sub-folders are prefixed with the sub-folder's name;
- a CSV file with a ``step`` column (or ``global_step``) and one column per metric; empty cells are
  missing values.

Series are grouped by name: ``grad_norm/<layer>`` (gradient norm per layer: "gradient flow") and
``update_ratio/<layer>`` (norm of a step's parameter update / norm of the parameters, per layer);
names containing ``loss`` (training and evaluation loss); evaluation metrics (``eval_*``, ``eval/*``,
``test_*``, ``validation*``); the learning rate; everything else (total gradient norm, ...). The best step
is the step of the lowest evaluation loss, else of the highest evaluation metric whose name says higher
is better (accuracy, f1, ...), else the trainer's own ``best_metric`` / ``best_model_checkpoint``.
"""
from __future__ import annotations

import csv
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from reportgen.errors import UserError

RUN_SCHEMA = "reportgen.run/1"
MAX_POINTS = 2000  # per series; longer series keep evenly spaced points (always the first and last)
SKIP = {"step", "epoch", "global_step"}
SUMMARY = {"train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss"}
SPEED = re.compile(r"(runtime|samples_per_second|steps_per_second)$")
GRAD = re.compile(r"^(?:train/)?grad(?:ient)?_?norms?[/.](.+)$")
UPDATE = re.compile(r"^(?:train/)?update[_-]?(?:param(?:eter)?[_-]?)?ratios?[/.](.+)$")
EVAL = re.compile(r"^(eval|evaluation|validation|valid|val|test)[/_.]")
HIGHER_IS_BETTER = ("accuracy", "acc", "f1", "precision", "recall", "matthews", "mcc", "bleu", "rouge",
                    "exact_match", "auc", "pearson", "spearman", "map", "ndcg", "em")


@dataclass
class RunData:
    """One run's series: name -> sorted [(step, value)]; ``summary``: one-off values (runtime, ...)."""

    series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    summary: dict[str, float] = field(default_factory=dict)
    trainer_best: dict | None = None  # trainer_state.json's best_metric / best_model_checkpoint


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def read_trainer_state(path: str | os.PathLike) -> RunData:
    """A Hugging Face ``trainer_state.json``."""
    try:
        state = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the training log ({exc})") from None
    except ValueError as exc:
        raise UserError(f"{path}: not valid JSON ({exc}); point runs[].path to a trainer_state.json") from None
    history = state.get("log_history") if isinstance(state, dict) else None
    if not isinstance(history, list):
        raise UserError(f"{path}: no 'log_history' list; is this a Hugging Face trainer_state.json?")
    data = RunData()
    for index, entry in enumerate(history):
        if not isinstance(entry, dict):
            continue
        step = _number(entry.get("step"))
        if step is None:
            raise UserError(f"{path}: log_history[{index}] has no numeric 'step'")
        for name, value in entry.items():
            number = _number(value)
            if name in SKIP or number is None:
                continue
            if name in SUMMARY:
                data.summary[name] = number
                continue
            data.series.setdefault(name, []).append((step, number))
    metric, checkpoint = state.get("best_metric"), state.get("best_model_checkpoint")
    if _number(metric) is not None and isinstance(checkpoint, str):
        found = re.search(r"checkpoint-(\d+)", checkpoint)
        if found:
            data.trainer_best = {"step": float(found.group(1)), "value": float(metric),
                                 "metric": state.get("metric_for_best_model") or "best_metric"}
    return _sorted(data)


def read_csv(path: str | os.PathLike) -> RunData:
    """A CSV of logged metrics: a ``step`` (or ``global_step``) column and one column per metric."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the training log ({exc})") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise UserError(f"{path}:1: empty CSV; write a header line 'step,loss,...' and one line per logged step")
    header = [h.strip() for h in rows[0]]
    lowered = [h.lower() for h in header]
    column = next((lowered.index(n) for n in ("step", "global_step") if n in lowered), None)
    if column is None:
        raise UserError(f"{path}:1: no 'step' column in the header ({', '.join(header)}); add one")
    data = RunData()
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            step = float(row[column])
        except (ValueError, IndexError):
            raise UserError(f"{path}:{line}: step {row[column] if column < len(row) else ''!r} is not a number") from None
        for k, cell in enumerate(row):
            if k == column or k >= len(header) or not cell.strip() or lowered[k] in SKIP:
                continue
            try:
                value = float(cell)
            except ValueError:
                raise UserError(f"{path}:{line}: column {header[k]!r}: {cell!r} is not a number") from None
            if math.isfinite(value):
                data.series.setdefault(header[k], []).append((step, value))
    return _sorted(data)


def read_tensorboard(path: str | os.PathLike) -> RunData:
    """Scalars of every TensorBoard event file under ``path`` (sub-folders prefix their tags)."""
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # deferred: tensorboard is the optional extra reportgen[runs]
    except ImportError:
        raise UserError(f"{path}: reading TensorBoard event files needs the tensorboard package; "
                        "install reportgen[runs] (pip install 'reportgen[runs]')") from None
    root = Path(path)
    folders = sorted({p.parent for p in root.rglob("*tfevents*") if p.is_file()})
    if not folders:
        raise UserError(f"{path}: no TensorBoard event file (events.out.tfevents.*) in this folder")
    data = RunData()
    for folder in folders:
        accumulator = EventAccumulator(str(folder), size_guidance={"scalars": 0})
        try:
            accumulator.Reload()
        except Exception as exc:  # damaged event files raise assorted errors from tensorboard's readers
            raise UserError(f"{folder}: cannot read the TensorBoard event files ({type(exc).__name__}: {exc})") from None
        prefix = "" if folder == root else folder.relative_to(root).as_posix() + "/"
        for tag in accumulator.Tags().get("scalars", []):
            points = [(float(e.step), float(e.value)) for e in accumulator.Scalars(tag) if math.isfinite(e.value)]
            if points:
                data.series.setdefault(prefix + tag, []).extend(points)
    return _sorted(data)


def read_run(path: str, kind: str) -> RunData:
    readers = {"trainer_state": read_trainer_state, "csv": read_csv, "tensorboard": read_tensorboard}
    return readers[kind](path)


def _sorted(data: RunData) -> RunData:
    for name, points in data.series.items():
        last: dict[float, float] = {}
        for step, value in points:
            last[step] = value  # a step logged twice keeps its last value
        data.series[name] = sorted(last.items())
    return data


def group(name: str) -> str:
    """Which chart a series goes to: grad_norm, update_ratio, loss, metrics, learning_rate or other."""
    lower = name.lower()
    if GRAD.match(lower):
        return "grad_norm"
    if UPDATE.match(lower):
        return "update_ratio"
    if "loss" in lower:
        return "loss"
    if EVAL.match(lower) and not SPEED.search(lower):
        return "metrics"
    if "learning_rate" in lower or lower in ("lr", "train/lr"):
        return "learning_rate"
    return "other"


def is_eval(name: str) -> bool:
    return bool(EVAL.match(name.lower()))


def higher_is_better(name: str) -> bool:
    words = re.split(r"[^a-z0-9]+", name.lower())
    return any(w in HIGHER_IS_BETTER for w in words)


def best_step(data: RunData) -> dict | None:
    """{step, value, metric, rule} of the best evaluation, or None when nothing tells."""
    losses = [n for n in data.series if is_eval(n) and group(n) == "loss"]
    if losses:
        name = sorted(losses, key=lambda n: (n.lower() not in ("eval_loss", "eval/loss"), n))[0]
        step, value = min(data.series[name], key=lambda p: (p[1], p[0]))
        return {"step": step, "value": value, "metric": name, "rule": "lowest evaluation loss"}
    better = [n for n in data.series if is_eval(n) and group(n) == "metrics" and higher_is_better(n)]
    if better:
        name = sorted(better)[0]
        step, value = max(data.series[name], key=lambda p: (p[1], -p[0]))
        return {"step": step, "value": value, "metric": name, "rule": f"highest {name}"}
    if data.trainer_best:
        return dict(data.trainer_best, rule="the trainer's best_metric / best_model_checkpoint")
    return None


def thin(points: list[tuple[float, float]], limit: int = MAX_POINTS) -> list[tuple[float, float]]:
    """At most ``limit`` points, evenly spaced in index, keeping the first and the last."""
    if len(points) <= limit:
        return points
    last = len(points) - 1
    keep = sorted({round(k * last / (limit - 1)) for k in range(limit)})
    return [points[k] for k in keep]


def ema(values: list[float], weight: float) -> list[float]:
    """TensorBoard's smoothing: debiased exponential moving average (weight 0 = none, towards 1 = smoother).

    s_k = w s_{k-1} + (1 - w) y_k with s_{-1} = 0, divided by 1 - w^(k+1) (the weight of the terms so far).
    The viewer's chart renderer does the same in JavaScript.
    """
    out, last, debias = [], 0.0, 0.0
    for value in values:
        last = last * weight + (1 - weight) * value
        debias = debias * weight + (1 - weight)
        out.append(last / debias if debias > 0 else value)
    return out


CHARTS = (
    ("loss", "Loss", "training and evaluation loss", False),
    ("metrics", "Evaluation metrics", "metrics logged at evaluation", False),
    ("grad_norm", "Gradient flow: gradient norm per layer",
     "L2 norm of the gradient of each layer's parameters, per logged step (log scale); vanishing or exploding "
     "layers stand out", True),
    ("update_ratio", "Update / parameter ratio per layer",
     "norm of the step's parameter update divided by the norm of the parameters, per layer (log scale); "
     "around 1e-3 is the usual rule of thumb", True),
    ("learning_rate", "Learning rate", "the optimiser's learning rate (schedule)", False),
    ("other", "Other logged values", "total gradient norm and everything else logged", False),
)


def run_object(run, data: RunData) -> dict:
    """The ``run`` data object of the viewer bundle (``run-<slug>.js``)."""
    charts = []
    for key, title, what, log in CHARTS:
        names = sorted((n for n in data.series if group(n) == key), key=_natural)
        if not names:
            continue
        series = [{"name": n, "points": [[s, v] for s, v in thin(data.series[n])],
                   "total": len(data.series[n])} for n in names]
        positive = all(v > 0 for s in series for _, v in s["points"])
        charts.append({"key": key, "title": title, "what": what, "log": bool(log and positive), "series": series})
    return {"kind": "run", "schema": RUN_SCHEMA, "key": run.slug, "id": run.id, "name": run.name,
            "source": run.kind, "charts": charts, "best": best_step(data), "summary": data.summary,
            "max_points": MAX_POINTS}


def _natural(name: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def load_runs(manifest) -> list[tuple[object, dict]]:
    """(run spec, data object) for every run of the manifest; a UserError names a file that cannot be read."""
    return [(run, run_object(run, read_run(run.path, run.kind))) for run in getattr(manifest, "runs", ())]
