"""Masked-token predictions (exBERT style) for models with a masked-LM head.

For every word of an example, all its word pieces are replaced by the mask token (one mask per
piece) and the model's masked-LM head predicts the vocabulary at the first masked piece; we keep the
top 10 tokens with their probabilities (softmax over the whole vocabulary, float64) and the probability
of the word's own first piece. For a single-piece word that is simply the prediction for the word;
for a word of several pieces it is the prediction of its first piece when the whole word is hidden.
The masked variants of one example are run as batches of equal length (no padding). Only the masked
first piece of each variant goes through the head's output layer (a forward pre-hook on
``get_output_embeddings()`` picks that position), so the vocabulary projection runs once per variant
instead of once per token.

A model has a masked-LM head when ``AutoModelForMaskedLM`` loads it with no missing weight: a
checkpoint saved from a bare encoder (sentence-transformers models, ``BertModel``) lacks the head's
weights, which transformers would fill with random numbers; such models get no predictions. A config
whose ``architectures`` names no masked-LM or pre-training class is taken as headless without loading
the weights a second time.
"""
from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from reportgen.models.load import resolve_location

TOP = 10
MAX_TOKENS = 64  # longer examples get no predictions (one forward pass per word)
BATCH = 32

STATUS_TEXT = {
    "ok": "",
    "off": "Masked-token predictions are turned off (settings.predictions: false).",
    "no-head": "This model has no masked-LM head, so it cannot predict masked words.",
    "too-long": f"Masked-token predictions are computed for examples of at most {MAX_TOKENS} tokens.",
}


@dataclass
class MaskedLM:
    """A loaded masked-LM model, or why there is none (``model`` None, ``reason`` says why)."""

    model: Any = None
    reason: str = ""


def load_masked_lm(location, dtype: str = "float32", device: str = "cpu") -> MaskedLM:
    """The model with its masked-LM head, when the checkpoint has one (see the module docstring)."""
    import torch  # deferred: torch loads only when a model runs
    from transformers import AutoConfig, AutoModelForMaskedLM  # deferred: transformers loads only when a model runs

    kwargs: dict[str, Any] = {}
    if location.kind == "hub" and location.revision:
        kwargs["revision"] = location.revision
    try:
        config = AutoConfig.from_pretrained(location.target, **kwargs)
    except (OSError, ValueError) as exc:
        return MaskedLM(reason=f"no config ({type(exc).__name__})")
    if getattr(config, "is_decoder", False) or getattr(config, "model_type", "") in ("gpt2", "gpt_neo", "gptj", "llama"):
        return MaskedLM(reason="a decoder-only model has no masked-LM head")
    architectures = list(getattr(config, "architectures", None) or [])
    if architectures and not any("MaskedLM" in a or "ForPreTraining" in a for a in architectures):
        return MaskedLM(reason=f"the checkpoint is a {', '.join(architectures)} (no masked-LM head)")
    torch_dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[dtype]
    try:
        model, info = AutoModelForMaskedLM.from_pretrained(location.target, output_loading_info=True,
                                                           attn_implementation="eager", dtype=torch_dtype, **kwargs)
    except (OSError, ValueError, KeyError, ImportError) as exc:
        return MaskedLM(reason=f"no masked-LM class for this model ({type(exc).__name__})")
    missing = sorted(info.get("missing_keys") or [])
    if missing:
        shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
        return MaskedLM(reason=f"the checkpoint lacks the masked-LM head's weights ({shown})")
    model.eval()
    model.to(device)
    return MaskedLM(model=model)


def predict_words(mlm, tokenizer, encoded, device: str = "cpu", top: int = TOP, batch: int = BATCH) -> dict[str, np.ndarray]:
    """Top-``top`` predictions for every word of one encoded example; arrays for the record's extras.

    Returns ``pred_word`` int32[W] (joint word index), ``pred_pieces`` int32[W] (pieces masked),
    ``pred_tokens`` str[W, top], ``pred_probs`` float32[W, top] (best first) and ``pred_actual`` float32[W]
    (probability of the word's own first piece).
    """
    import torch  # deferred: torch loads only when a model runs

    mask_id = tokenizer.mask_token_id
    if mask_id is None:
        raise ValueError("the tokenizer has no mask token")
    ids = np.asarray(encoded.input_ids, dtype=np.int64)
    word = np.asarray(encoded.word)
    words = sorted({int(w) for w in word if w >= 0})
    n = len(ids)
    types = None if encoded.token_type_ids is None else torch.tensor([encoded.token_type_ids], dtype=torch.long)
    uses_types = types is not None and "token_type_ids" in _forward_arguments(mlm)
    firsts = [int(np.flatnonzero(word == w)[0]) for w in words]
    pieces = [int(np.count_nonzero(word == w)) for w in words]
    top_ids = np.zeros((len(words), top), dtype=np.int64)
    top_probs = np.zeros((len(words), top), dtype=np.float32)
    actual = np.zeros(len(words), dtype=np.float32)
    output_layer = _output_layer(mlm)
    for start in range(0, len(words), batch):
        chunk = range(start, min(start + batch, len(words)))
        rows = np.repeat(ids[None, :], len(chunk), axis=0)
        for r, k in enumerate(chunk):
            rows[r, word == words[k]] = mask_id
        inputs = {"input_ids": torch.from_numpy(rows).to(device),
                  "attention_mask": torch.ones((len(chunk), n), dtype=torch.long, device=device)}
        if uses_types:
            inputs["token_type_ids"] = types.expand(len(chunk), n).to(device)
        rows_at = torch.arange(len(chunk), device=device)
        positions = torch.tensor([firsts[k] for k in chunk], device=device)
        picked: list[bool] = []

        def pick(module, args):
            """Hand the output layer only the masked first piece of each row: [rows, 1, hidden]."""
            hidden = args[0] if args else None
            if picked or not torch.is_tensor(hidden) or hidden.dim() != 3 or tuple(hidden.shape[:2]) != (len(chunk), n):
                return None
            picked.append(True)
            return (hidden[rows_at, positions][:, None, :],) + tuple(args[1:])

        handle = output_layer.register_forward_pre_hook(pick) if output_layer is not None else None
        try:
            with torch.inference_mode():
                logits = mlm(**inputs).logits
        finally:
            if handle is not None:
                handle.remove()
        at = (logits[:, 0] if picked else logits[rows_at, positions]).double()
        probs = torch.softmax(at, dim=-1)
        values, indices = probs.topk(min(top, probs.shape[-1]), dim=-1)
        for r, k in enumerate(chunk):
            top_ids[k, : values.shape[-1]] = indices[r].cpu().numpy()
            top_probs[k, : values.shape[-1]] = values[r].cpu().numpy()
            actual[k] = float(probs[r, int(ids[firsts[k]])])
    tokens = [tokenizer.convert_ids_to_tokens([int(i) for i in row]) for row in top_ids]
    return {
        "pred_word": np.array(words, dtype=np.int32),
        "pred_pieces": np.array(pieces, dtype=np.int32),
        "pred_tokens": np.array(tokens, dtype=str).reshape(len(words), top),
        "pred_probs": top_probs,
        "pred_actual": actual,
    }


def status_array(status: str) -> np.ndarray:
    return np.array(status)


def _output_layer(model):
    """The masked-LM head's vocabulary projection (a module), or None when the model does not say."""
    import torch  # deferred: torch loads only when a model runs

    try:
        layer = model.get_output_embeddings()
    except (AttributeError, NotImplementedError):
        return None
    return layer if isinstance(layer, torch.nn.Module) else None


def _forward_arguments(model) -> set[str]:
    try:
        return set(inspect.signature(model.forward).parameters)
    except (TypeError, ValueError):
        return set()


def masked_lm_for(spec, base_dir, dtype: str, device: str) -> MaskedLM:
    """Resolve the model reference and load its masked-LM head (or say why there is none)."""

    location = resolve_location(spec.id, spec.revision, os.fspath(base_dir) if base_dir is not None else None)
    return load_masked_lm(location, dtype=dtype, device=device)
