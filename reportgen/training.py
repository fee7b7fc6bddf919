"""Gradient flow for a Hugging Face ``Trainer``: a callback that logs, per layer group, the gradient norm and
the update / parameter ratio, next to the Trainer's own ``loss``, ``grad_norm`` and ``learning_rate``.

    from reportgen.training import GradientFlowCallback
    trainer = Trainer(model=model, args=args, train_dataset=train, callbacks=[GradientFlowCallback()])
    trainer.train()

At every step the Trainer logs (``logging_steps``, and the first step with ``logging_first_step``) the
callback adds to that step's log entry, for each group ``g`` (``embeddings``, ``layer_0`` ... ``layer_<L-1>``,
``head``; see ``layer_group``):

- ``grad_norm/<g>``: the L2 norm of the gradient of the group's trainable parameters, measured just before
  the optimiser step, i.e. the gradient the step uses (after the Trainer's clipping at ``max_grad_norm``,
  which scales every group by the same factor; the Trainer's own ``grad_norm`` is the total norm before
  clipping);
- ``update_ratio/<g>``: ||theta_after - theta_before|| / ||theta_after|| over the group's parameters for that
  optimiser step (dimensionless; "somewhere around 1e-3" is the rough heuristic of the CS231n course notes,
  Neural Networks Part 3, "Ratio of weights:updates": far above it the learning rate is probably too high,
  far below too low).

The values go into the same ``logs`` dict the Trainer hands to every callback, and into the step's
``trainer_state.json`` ``log_history`` entry, so TensorBoard (as ``train/grad_norm/<g>``), W&B and
reportgen's run pages see them unchanged. Steps that are not logged cost nothing beyond one integer test;
a logged step costs one copy of the trainable parameters and a few fused norm kernels
(``bench/callback_overhead.py`` measures it).

Limits: with ``logging_strategy`` other than "steps" only ``logging_first_step`` is measured (a warning
says so); sharded parameters (FSDP, DeepSpeed ZeRO-3) would give the norm of the local shard only.
"""
from __future__ import annotations

import math
import re
import sys
import time
import warnings

import torch
from transformers import TrainerCallback

GRAD_PREFIX = "grad_norm/"
UPDATE_PREFIX = "update_ratio/"

# BERT, RoBERTa, XLM-R, ELECTRA: encoder.layer.N.; DistilBERT: transformer.layer.N.; GPT-2: transformer.h.N.
# (a bare GPT2Model: h.N.); decoder-only models such as Llama: model.layers.N.; T5-like: block.N.
_LAYER = re.compile(r"(?:^|\.)(?:layer|layers|h|block|blocks)\.(\d+)(?:\.|$)")
# BERT-family embeddings (word, position, token type, LayerNorm, ELECTRA's projection); GPT-2: wte, wpe
_EMBEDDINGS = re.compile(r"(?:^|\.)(?:embeddings?[^.]*|wte|wpe|embed_tokens|embed_positions)(?:\.|$)")


def layer_group(name: str) -> str:
    """The group of a parameter name: ``layer_<k>`` (transformer layer k, 0-based), ``embeddings`` or ``head``.

    ``head`` is everything else: BERT's pooler and classifier, GPT-2's final layer norm ``ln_f`` and its
    language-model head (tied to ``wte`` in GPT-2, where it is not a separate parameter).
    """
    found = _LAYER.search(name)
    if found:
        return f"layer_{int(found.group(1))}"
    return "embeddings" if _EMBEDDINGS.search(name) else "head"


def _group_key(group: str):
    order = {"embeddings": (0, 0), "head": (2, 0)}
    if group in order:
        return order[group]
    return (1, int(group.split("_", 1)[1])) if group.startswith("layer_") else (3, group)


def group_norms(tensors: dict[str, list[torch.Tensor]]) -> dict[str, float]:
    """L2 norm of each group's tensors taken together: sqrt(sum over tensors of sum of squares)."""
    names = [g for g, ts in tensors.items() if ts]
    if not names:
        return {}
    norms = [torch.linalg.vector_norm(torch.stack([n.float() for n in torch._foreach_norm(tensors[g])])) for g in names]
    return dict(zip(names, torch.stack(norms).tolist()))  # one device sync for all groups


class GradientFlowCallback(TrainerCallback):
    """Logs ``grad_norm/<group>`` and ``update_ratio/<group>`` at the Trainer's logging steps (see module doc).

    ``groups``: a function from parameter name to group name (default ``layer_group``).
    ``timing``: also keep ``seconds`` (the callback's own time, for the overhead bench).
    """

    def __init__(self, groups=layer_group, timing: bool = False):
        self.groups = groups
        self.timing = timing
        self.seconds = 0.0
        self.measured_steps = 0
        self._params: dict[str, list[torch.nn.Parameter]] = {}
        self._before: dict[str, list[torch.Tensor]] | None = None
        self._pending: dict[str, float] = {}
        self._pending_step = -1

    # ---- set-up
    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self._first_in_line()
        self._params = {}
        for name, param in model.named_parameters():
            if param.requires_grad:
                self._params.setdefault(self.groups(name), []).append(param)
        self._params = dict(sorted(self._params.items(), key=lambda item: _group_key(item[0])))
        if str(getattr(args.logging_strategy, "value", args.logging_strategy)) != "steps":
            warnings.warn("GradientFlowCallback measures at logging_steps: with logging_strategy "
                          f"{args.logging_strategy!s} only logging_first_step is measured", stacklevel=2)

    def _first_in_line(self) -> None:
        """Move this callback before the reporting callbacks (TensorBoard, W&B ...), so that they receive the
        values it adds to ``logs``. ``Trainer(callbacks=[...])`` appends user callbacks after them, and a
        callback is never handed the handler, so it is found as the caller's ``self`` (``CallbackHandler.
        call_event``). Moving ourselves from index k to 0 while that loop stands at k leaves the items after
        k where they are, so the loop goes on unchanged."""
        frame = sys._getframe(1)
        for _ in range(6):  # on_train_begin (or a subclass's override calling it) <- call_event
            frame = frame.f_back
            if frame is None:
                return
            callbacks = getattr(frame.f_locals.get("self"), "callbacks", None)
            if isinstance(callbacks, list) and any(c is self for c in callbacks):
                index = next(k for k, c in enumerate(callbacks) if c is self)
                callbacks.insert(0, callbacks.pop(index))
                return

    # ---- measuring
    @staticmethod
    def logs_step(args, state, step: int) -> bool:
        """Whether the Trainer logs global step ``step`` (1-based, the step the optimiser is about to make)."""
        if step == 1 and args.logging_first_step:
            return True
        strategy = str(getattr(args.logging_strategy, "value", args.logging_strategy))
        every = state.logging_steps or args.logging_steps
        return strategy == "steps" and every > 0 and step % every == 0

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        step = state.global_step + 1
        if not self.logs_step(args, state, step):
            return
        started = time.perf_counter()
        grads = {g: [p.grad.detach() for p in ps if p.grad is not None] for g, ps in self._params.items()}
        self._pending = {GRAD_PREFIX + g: v for g, v in group_norms(grads).items()}
        self._pending_step = step
        with torch.no_grad():
            self._before = {g: [p.detach().clone() for p in ps] for g, ps in self._params.items()}
        self.seconds += time.perf_counter() - started

    def on_optimizer_step(self, args, state, control, **kwargs):
        if self._before is None:
            return
        started = time.perf_counter()
        with torch.no_grad():
            after = {g: [p.detach() for p in ps] for g, ps in self._params.items()}
            for group, tensors in self._before.items():
                torch._foreach_sub_(tensors, after[group])  # the copy becomes before - after = -update
            updates = group_norms(self._before)
            sizes = group_norms(after)
        self._before = None
        for group, update in updates.items():
            size = sizes.get(group, 0.0)
            self._pending[UPDATE_PREFIX + group] = update / size if size > 0 else math.nan
        self.measured_steps += 1
        self.seconds += time.perf_counter() - started

    def on_log(self, args, state, control, logs=None, **kwargs):
        """Add the measured values to the training log of the measured step (not to evaluation logs)."""
        if not self._pending or logs is None or "loss" not in logs or self._pending_step != state.global_step:
            return
        values = {k: v for k, v in self._pending.items() if math.isfinite(v)}
        logs.update(values)
        last = state.log_history[-1] if state.log_history else None
        if isinstance(last, dict) and last.get("step") == state.global_step and "loss" in last:
            last.update(values)  # the Trainer copied logs into log_history before calling on_log
        self._pending = {}
