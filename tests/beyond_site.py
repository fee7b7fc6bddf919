"""One small site with every page kind of "Beyond attention maps" (README), built once per test session (shared by
tests/test_beyond_site.py and tests/browser/test_beyond.py).

Models: a tiny random BertForMaskedLM (predictions), its "fine-tuned" variant (the last layer's query and
key weights perturbed: a model diff whose layer 0 is unchanged), and a tiny BERT without a head. Runs:
the committed example run (trainer_state.json) and a CSV.
"""
from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MANIFEST = """\
title: Beyond attention maps
models:
  - id: ./mlm
    name: Tiny MLM
  - id: ./mlm-tuned
    name: Tiny MLM tuned
  - id: ./bert
    name: Tiny BERT
    languages: [en]
diffs:
  - {base: Tiny MLM, other: Tiny MLM tuned}
runs:
  - {id: tiny-run, path: tiny-run/trainer_state.json, name: Tiny run}
  - {id: csv-run, path: metrics.csv, name: "CSV <b>run</b>"}
examples:
  - id: cat-food
    language: en
    a: The cat did not eat the food.
    b: Because it was not fresh.
  - id: katze
    language: de
    a: Die Katze ist sehr traurig.
"""

# a hostile column name: must show as text in the legend and the readout
CSV = ("step,loss,eval_loss,eval_accuracy,<img src=x onerror=alert(1)>\n1,2.0,,,1\n2,1.6,1.7,0.4,2\n3,1.3,,,3\n"
       "4,1.1,1.2,0.7,4\n5,0.9,,,5\n6,0.8,1.3,0.6,6\n")


def tuned_copy(source: Path, target: Path, layer: int = 1, seed: int = 0) -> Path:
    """A copy of a BertForMaskedLM folder with layer ``layer``'s query and key weights perturbed."""
    import torch
    from transformers import AutoTokenizer, BertForMaskedLM

    model = BertForMaskedLM.from_pretrained(source)
    generator = torch.Generator().manual_seed(seed)
    attention = model.bert.encoder.layer[layer].attention.self
    with torch.no_grad():
        for linear in (attention.query, attention.key):
            linear.weight.add_(0.3 * torch.randn(linear.weight.shape, generator=generator))
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(target)
    AutoTokenizer.from_pretrained(source).save_pretrained(target)
    return target


def build(work: Path) -> Path:
    """Build the site into ``work`` (once; later calls reuse it); return ``work``."""
    import tiny

    from reportgen.cli import main

    if (work / "site" / "index.html").is_file():
        return work
    work.mkdir(parents=True, exist_ok=True)
    tiny.build_tiny_mlm(work / "mlm")
    tuned_copy(work / "mlm", work / "mlm-tuned")
    tiny.build_tiny("bert", work / "bert")
    shutil.copytree(ROOT / "examples" / "runs" / "tiny-run", work / "tiny-run", dirs_exist_ok=True)
    (work / "metrics.csv").write_text(CSV, encoding="utf-8")
    (work / "manifest.yaml").write_text(MANIFEST, encoding="utf-8")
    assert main(["build", str(work / "manifest.yaml"), "--cache", str(work / "cache"), "--quiet", "--site",
                 "--out", str(work / "site_src"), "--config", str(work / "mkdocs.yml")]) == 0
    return work
