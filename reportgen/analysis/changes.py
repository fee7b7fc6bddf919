"""Change report: which heads' scores moved since the previous published run (``build --compare``).

The diff itself (``compare``, ``compare_model``) is pure: two ``reportgen.heads/1`` or ``/2`` dicts in, plain
data out. ``load_previous`` finds the previous run's heads files in a built ``site/``, a ``site_src/``,
a ``data/`` folder, a folder of heads files (searched recursively) or a single heads file.

A change is an absolute difference ``|after - before| > threshold`` of one score of one head: the
pattern scores (``reportgen.analysis.patterns.PATTERNS``: ``prev``, ``next``, ..., ``entropy`` in nats) and
the coreference accuracy (``coref_accuracy``). Models are matched by their manifest ``id``.
"""
from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from reportgen.analysis.patterns import PATTERNS

SCHEMA = "reportgen.changes/1"
HEADS_SCHEMA = "reportgen.heads/1"
HEADS_SCHEMAS = (HEADS_SCHEMA, "reportgen.heads/2")  # a previous run may predate heads/2: both compare
INDEX_SCHEMA = "reportgen.index/1"
COREF = "coref_accuracy"
SCORES = tuple(PATTERNS) + (COREF,)


@dataclass
class Previous:
    """The previous run: ``models`` maps model id -> heads file; ``found`` is False when nothing was there."""

    source: str
    models: dict[str, dict] = field(default_factory=dict)
    found: bool = True


def score_grids(heads: dict) -> dict[str, list[list[float | None]]]:
    """Every comparable ``[layer][head]`` grid of a heads file, by score name."""
    grids = {name: grid for name, grid in heads.get("patterns", {}).items() if name in PATTERNS}
    coref = heads.get("coreference")
    if isinstance(coref, dict) and coref.get("accuracy") is not None:
        grids[COREF] = coref["accuracy"]
    return grids


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _date(heads: dict | None) -> str | None:
    provenance = (heads or {}).get("provenance") or {}
    return provenance.get("date")


def _shape(heads: dict) -> tuple[int, int]:
    model = heads.get("model", {})
    return int(model.get("layers", 0)), int(model.get("heads", 0))


def compare_model(before: dict | None, after: dict | None, threshold: float) -> dict:
    """Changes of one model between two heads files (either may be None: a new or a removed model).

    ``status``: "compared", "new" (no previous), "removed" (no current) or "reshaped" (layers x heads
    differ, so heads cannot be matched). ``changes`` lists ``{score, layer, head, before, after, delta}``
    with ``|delta| > threshold``, largest move first; ``compared`` counts the (score, head) values compared.
    """
    ref = after if after is not None else before
    model = ref.get("model", {})
    out = {
        "id": model.get("id"), "name": model.get("name") or model.get("id"), "slug": model.get("slug"),
        "revision": [None if before is None else before.get("model", {}).get("revision"),
                     None if after is None else after.get("model", {}).get("revision")],
        "examples": [None if before is None else before.get("examples"),
                     None if after is None else after.get("examples")],
        "date": [_date(before), _date(after)],
        "status": "compared", "compared": 0, "changes": [],
    }
    if before is None:
        out["status"] = "new"
        return out
    if after is None:
        out["status"] = "removed"
        return out
    if _shape(before) != _shape(after):
        out["status"] = "reshaped"
        return out
    old, new = score_grids(before), score_grids(after)
    changes = []
    compared = 0
    for name in SCORES:
        if name not in old or name not in new:
            continue
        for layer, (row_old, row_new) in enumerate(zip(old[name], new[name])):
            for head, (a, b) in enumerate(zip(row_old, row_new)):
                a, b = _number(a), _number(b)
                if a is None or b is None:
                    continue
                compared += 1
                delta = b - a
                if abs(delta) > threshold:
                    changes.append({"score": name, "layer": layer, "head": head, "before": a, "after": b,
                                    "delta": delta})
    changes.sort(key=lambda c: (-abs(c["delta"]), SCORES.index(c["score"]), c["layer"], c["head"]))
    out["compared"] = compared
    out["changes"] = changes
    return out


def _by_id(models) -> dict[str, dict]:
    if isinstance(models, dict):
        models = models.values()
    return {h.get("model", {}).get("id"): h for h in models}


def compare(previous: dict[str, dict] | list[dict], current: dict[str, dict] | list[dict],
            threshold: float = 0.05) -> dict:
    """The change report between two runs, each given as heads files (a list, or a dict of them).

    Models appear in the current run's order, then the removed ones in the previous run's order.
    """
    if not threshold >= 0:
        raise ValueError(f"threshold must be >= 0, got {threshold}")
    old, new = _by_id(previous), _by_id(current)
    models = [compare_model(old.get(mid), heads, threshold) for mid, heads in new.items()]
    models += [compare_model(heads, None, threshold) for mid, heads in old.items() if mid not in new]
    return {"schema": SCHEMA, "threshold": threshold, "models": models,
            "changed_heads": sum(len(m["changes"]) for m in models)}


def _read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _index_files(root: Path) -> list[Path] | None:
    """Heads files listed by a ``reportgen.index/1`` in ROOT/data/ or ROOT/, else None."""
    for index_path in (root / "data" / "index.json", root / "index.json"):
        index = _read_json(index_path) if index_path.is_file() else None
        if index is not None and index.get("schema") == INDEX_SCHEMA:
            return [index_path.parent / m["heads_file"] for m in index.get("models", []) if m.get("heads_file")]
    return None


def load_previous(path: str | Path) -> Previous:
    """Heads files of a previous run; a missing folder gives ``found=False`` and a warning (first runs)."""
    root = Path(path)
    previous = Previous(str(path))
    if not root.exists():
        print(f"warning: --compare {path}: no such file or folder; the changes page says there is no previous run",
              file=sys.stderr)
        previous.found = False
        return previous
    if root.is_file():
        files = [root]
    else:
        files = _index_files(root)
        if files is None:
            files = sorted(p for p in root.rglob("*.json") if p.is_file())
    for file in files:
        heads = _read_json(file) if file.is_file() else None
        if heads is not None and heads.get("schema") in HEADS_SCHEMAS and heads.get("model", {}).get("id"):
            previous.models.setdefault(heads["model"]["id"], heads)
    if not previous.models:
        print(f"warning: --compare {path}: no reportgen.heads/1 or /2 files found there", file=sys.stderr)
        previous.found = False
    return previous
