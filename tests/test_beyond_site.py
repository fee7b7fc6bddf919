"""Beyond attention maps end to end on tiny models: prediction and rollout data files, the model-diff page, run pages."""
from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest

import beyond_site
from reference import quantize, rollout


@pytest.fixture(scope="session")
def site(tmp_path_factory, tiny_models):
    return beyond_site.build(tmp_path_factory.getbasetemp() / "beyond-site")


def data_object(path):
    text = path.read_text(encoding="utf-8")
    match = re.fullmatch(r"\(window\.RG_DATA=window\.RG_DATA\|\|\[\]\)\.push\((.*)\);\n", text, re.S)
    assert match, text[:200]
    return json.loads(match.group(1))


def _attention(folder, a, b=None):
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
    enc = tokenizer(a, b, return_tensors="pt") if b else tokenizer(a, return_tensors="pt")
    with torch.no_grad():
        out = model(**enc, output_attentions=True)
    return torch.stack(out.attentions, 1)[0].double().numpy()


def test_rollout_file_matches_an_independent_run(site):
    meta = data_object(site / "site_src" / "data" / "tiny-mlm" / "cat-food" / "meta.js")
    assert meta["rollout_file"] == "R.js" and "R_l" in meta["rollout_formula"]
    obj = data_object(site / "site_src" / "data" / "tiny-mlm" / "cat-food" / "R.js")
    n, layers = meta["n"], meta["layers"]
    assert (obj["kind"], obj["layers"], obj["n"]) == ("rollout", layers, n)
    stored = np.frombuffer(base64.b64decode(obj["data"]), dtype=np.uint8).reshape(layers, n, n)
    att = _attention(site / "mlm", "The cat did not eat the food.", "Because it was not fresh.")
    expected = quantize(rollout(att))
    assert np.abs(stored.astype(int) - expected.astype(int)).max() <= 1  # float rounding may flip one step
    assert np.allclose(stored.sum(-1) / 255, 1.0, atol=n / 510 + 1e-9)  # rows sum to 1 within quantisation


def test_predictions_file_and_no_head_message(site):
    meta = data_object(site / "site_src" / "data" / "tiny-mlm" / "cat-food" / "meta.js")
    assert meta["predictions"] == {"status": "ok", "file": "P.js", "text": ""}
    obj = data_object(site / "site_src" / "data" / "tiny-mlm" / "cat-food" / "P.js")
    words = [w["text"] for w in obj["words"]]
    assert words == [w["text"] for w in meta["words"]]  # every word of both sentences
    for w in obj["words"]:
        probs = [p for _, p in w["top"]]
        assert len(w["top"]) == 10 and probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6
        assert w["pieces"] >= 1 and 0 <= w["actual"] <= 1
    bert = data_object(site / "site_src" / "data" / "tiny-bert" / "cat-food" / "meta.js")
    assert bert["predictions"]["status"] == "no-head" and bert["predictions"]["file"] is None
    assert "has no masked-LM head" in bert["predictions"]["text"]
    assert not (site / "site_src" / "data" / "tiny-bert" / "cat-food" / "P.js").exists()


def test_model_diff_page(site):
    page = (site / "site_src" / "diff-tiny-mlm-tiny-mlm-tuned.md").read_text(encoding="utf-8")
    assert "Model diff: Tiny MLM → Tiny MLM tuned" in page
    assert "2 examples both models ran with the same tokens" in page
    cells = re.findall(r'data-map="js".*?</table>', page, re.S)[0]
    values = {(int(l), int(h)): float(t) for l, h, t in
              re.findall(r'title="layer (\d+), head (\d+) \(exBERT [^)]*\): mean Jensen-Shannon distance ([0-9.]+)"', cells)}
    assert len(values) == 2 * 4
    # only layer 1 was perturbed: layer 0 attention is identical, layer 1 differs
    assert max(values[(0, h)] for h in range(4)) < 1e-3
    assert min(values[(1, h)] for h in range(4)) > 0.01
    for key in ("prev", "next", "entropy"):
        assert f'data-map="{key}"' in page
    html = (site / "site" / "diff-tiny-mlm-tiny-mlm-tuned.html").read_text(encoding="utf-8")
    assert "Jensen-Shannon" in html
    config = (site / "mkdocs.yml").read_text(encoding="utf-8")
    assert "diff-tiny-mlm-tiny-mlm-tuned.md" in config and "runs/tiny-run.md" in config


def test_run_pages(site):
    obj = data_object(site / "site_src" / "data" / "runs" / "run-tiny-run.js")
    charts = {c["key"]: c for c in obj["charts"]}
    assert set(charts) >= {"loss", "metrics", "grad_norm", "update_ratio"}
    assert [s["name"] for s in charts["grad_norm"]["series"]] == [
        "grad_norm/embeddings", "grad_norm/head", "grad_norm/layer_0", "grad_norm/layer_1"]
    state = json.loads((site / "tiny-run" / "trainer_state.json").read_text())
    best = {"step": state["best_global_step"]}  # the Trainer's metric_for_best_model (mcc)
    assert obj["best"]["step"] == best["step"] and "eval_mcc" in obj["best"]["metric"]
    page = (site / "site_src" / "runs" / "tiny-run.md").read_text(encoding="utf-8")
    assert f'data-best-step="{best["step"]}"' in page and "../data/runs/run-tiny-run.js" in page
    csv = data_object(site / "site_src" / "data" / "runs" / "run-csv-run.js")
    assert csv["best"]["step"] == 4 and csv["best"]["value"] == 1.2
    assert (site / "site" / "runs" / "csv-run.html").is_file()
    config = (site / "mkdocs.yml").read_text(encoding="utf-8")
    assert "CSV &lt;b&gt;run&lt;/b&gt;: runs/csv-run.md" in config  # nav titles are escaped


def test_predictions_setting_changes_the_record_key():
    from types import SimpleNamespace

    from reportgen.plan import record_key

    spec = SimpleNamespace(id="m")
    example = SimpleNamespace(a="x", b=None, coref=(), show=True)
    on = SimpleNamespace(max_length=128, neuron=True, predictions=True)
    off = SimpleNamespace(max_length=128, neuron=True, predictions=False)
    assert record_key("r", spec, example, on, "float32") != record_key("r", spec, example, off, "float32")
    hidden = SimpleNamespace(a="x", b=None, coref=(), show=False)
    assert record_key("r", spec, hidden, on, "float32") == record_key("r", spec, hidden, off, "float32")
    assert record_key("r", spec, example, on, "float32", diff=True) != record_key("r", spec, example, on, "float32")
    half = SimpleNamespace(id="m", dtype="bfloat16")
    assert record_key("r", half, example, on, "float32") == record_key("r", spec, example, on, "bfloat16")


def test_diff_page_does_not_depend_on_which_records_were_cached(site, tmp_path):
    """Records arrive in another order when some come from the cache: the page must stay byte-identical."""
    import shutil

    from reportgen.cli import main
    from reportgen.store.cache import Cache
    from reportgen.store.record import Record

    cache = tmp_path / "cache"
    shutil.copytree(site / "cache", cache)
    store = Cache(cache)
    dropped, before = 0, len(store.keys())
    for key in store.keys():
        record = Record.from_bytes(store.get(key))
        if record.model == "tiny-mlm" and record.example == "katze":
            store.discard(key)  # the shorter example ran first; recomputed, it arrives after the cached cat-food
            dropped += 1
    assert dropped == 1 and len(Cache(cache).keys()) == before - 1  # its batch-mates stay
    assert main(["build", str(site / "manifest.yaml"), "--cache", str(cache), "--quiet", "--force",
                 "--out", str(tmp_path / "site_src"), "--config", str(tmp_path / "mkdocs.yml")]) == 0
    name = "diff-tiny-mlm-tiny-mlm-tuned.md"
    assert (tmp_path / "site_src" / name).read_bytes() == (site / "site_src" / name).read_bytes()
    for path in ("data/tiny-mlm/katze/R.js", "data/tiny-mlm/katze/P.js"):
        assert (tmp_path / "site_src" / path).read_bytes() == (site / "site_src" / path).read_bytes()
