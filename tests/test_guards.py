"""Guards on the attention a model returns, end to end through `reportgen build`.

(tests/test_extract.py checks ``row_sum_error`` and ``run_batches`` directly.) Here a tiny BERT is
wrapped so that it returns broken attention: NaN or inf, rows that do not sum to 1, fewer tokens or
heads than expected, no attention at all. The build stops with one line naming model, example and
layer, exit 1, the previous site untouched, nothing cached; with --keep-going the site lists it.
"""
from __future__ import annotations

import dataclasses
import json
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from reportgen import cli
from reportgen.extract.attention import ROW_SUM_TOLERANCE, row_sum_error

MANIFEST = """\
models:
  - id: ./model
examples:
  - id: cat
    language: en
    a: The cat is very sad.
    b: Because it could not find food to eat.
  - id: store
    language: en
    a: I went to the store.
settings:
  neuron: false
"""


class Broken:
    """Wraps a model and damages the attention of one layer."""

    def __init__(self, inner, damage: str, layer: int):
        self.inner, self.damage, self.layer = inner, damage, layer

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, output_attentions=False):
        out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                         output_attentions=True)
        attentions = list(out.attentions)
        a = attentions[self.layer].clone()
        if self.damage == "nan":
            a[:, 0, 1, 1] = float("nan")
        elif self.damage == "inf":
            a[:, 1, 2, 0] = float("inf")
        elif self.damage == "rows":
            a = a * 0.9
        elif self.damage == "tokens":
            a = a[:, :, :-1, :-1]
        elif self.damage == "heads":
            a = a[:, :-1]
        attentions[self.layer] = a
        if self.damage == "none":
            attentions = None
        return types.SimpleNamespace(last_hidden_state=out.last_hidden_state, attentions=attentions)

    __call__ = forward


CASES = [
    ("nan", 1, ["NaN or inf"]),
    ("inf", 0, ["NaN or inf"]),
    ("rows", 1, ["rows sum to 1"]),
    ("tokens", 1, ["attention has shape", "token count or head count does not match"]),
    ("heads", 0, ["attention has shape", "token count or head count does not match"]),
]


@pytest.fixture
def project(tiny_models, tmp_path):
    import shutil

    shutil.copytree(tiny_models["bert"], tmp_path / "model")
    (tmp_path / "m.yaml").write_text(MANIFEST, encoding="utf-8")
    return tmp_path


def break_model(monkeypatch, damage: str, layer: int) -> None:
    from reportgen.models import load

    real = load.load_model

    def fake(*args, **kwargs):
        loaded = real(*args, **kwargs)
        return dataclasses.replace(loaded, model=Broken(loaded.model, damage, layer))

    monkeypatch.setattr(load, "load_model", fake)


def build(project: Path, *more: str) -> int:
    return cli.main(["build", str(project / "m.yaml"), "--out", str(project / "out" / "site_src"),
                     "--config", str(project / "out" / "mkdocs.yml"), "--cache", str(project / "cache"), "--quiet", *more])


def tree(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("damage,layer,snippets", CASES, ids=[c[0] for c in CASES])
def test_broken_attention_stops_the_build(project, monkeypatch, capsys, damage, layer, snippets):
    site = project / "out" / "site_src"
    site.mkdir(parents=True)
    (site / "index.md").write_text("previous\n", encoding="utf-8")
    before = tree(project / "out")
    break_model(monkeypatch, damage, layer)
    assert build(project) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [l for l in err.splitlines() if l.startswith("error: ")]
    assert len(lines) == 1, err
    line = lines[0]
    # both examples share the one batch: the first failing one is named
    assert line.startswith("error: model ./model, example ") and f"layer {layer}:" in line, line
    assert "store" in line or "cat" in line
    for snippet in snippets:
        assert snippet in line, (snippet, line)
    assert tree(project / "out") == before
    assert not list((project / "cache").glob("*/*.rg[cp]"))  # nothing broken was cached (no entry, no pack)


def test_no_attention_at_all(project, monkeypatch, capsys):
    break_model(monkeypatch, "none", 0)
    assert build(project) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == ("error: model ./model: returned attention for 0 of 2 layers; "
                                            "the model must support attn_implementation='eager'")


def test_keep_going_lists_the_guarded_model(project, monkeypatch, capsys, tiny_models):
    import shutil

    shutil.copytree(tiny_models["bert"], project / "model2")
    (project / "m.yaml").write_text(MANIFEST.replace("  - id: ./model\n", "  - id: ./model\n  - id: ./model2\n"),
                                    encoding="utf-8")
    from reportgen.models import load

    real = load.load_model

    def fake(ref, *args, **kwargs):
        loaded = real(ref, *args, **kwargs)
        return dataclasses.replace(loaded, model=Broken(loaded.model, "nan", 1)) if ref == "./model" else loaded

    monkeypatch.setattr(load, "load_model", fake)
    assert build(project, "--keep-going") == 1
    index = json.loads((project / "out" / "site_src" / "data" / "index.json").read_text(encoding="utf-8"))
    assert [m["id"] for m in index["models"]] == ["./model2"]
    assert index["failed"][0]["id"] == "./model" and "layer 1: attention has NaN" in index["failed"][0]["error"]
    home = (project / "out" / "site_src" / "index.md").read_text(encoding="utf-8")
    assert "failed: model ./model, example " in home


def test_row_sum_error_tolerance_and_non_finite():
    """The batch guard's measure: within tolerance passes, a bad row or a NaN/inf does not."""
    good = torch.full((1, 2, 4, 4), 0.25)
    assert row_sum_error(good, [4])[0] <= 1e-6
    slightly = good.clone()
    slightly[0, 0, 0, 0] += 5e-4
    assert 4e-4 < row_sum_error(slightly, [4])[0] <= ROW_SUM_TOLERANCE  # within the float32 tolerance
    off = good.clone()
    off[0, 1, 3] = 0.5
    assert row_sum_error(off, [4])[0] == pytest.approx(1.0)
    negative = good.clone()
    negative[0, 0, 0, 0] = -float("inf")
    assert not np.isfinite(row_sum_error(negative, [4])[0])
    assert np.isnan(row_sum_error(torch.full((1, 2, 4, 4), float("nan")), [4])[0])


def test_message_stays_one_line_with_a_newline_in_the_example_id(project, monkeypatch, capsys):
    text = MANIFEST.replace("  - id: store\n", '  - id: "two\\nlines\\u2028here"\n')
    (project / "m.yaml").write_text(text, encoding="utf-8")
    break_model(monkeypatch, "nan", 0)
    assert build(project) == 1
    err = capsys.readouterr().err
    lines = [l for l in err.splitlines() if l]
    assert lines == ["error: model ./model, example two\\nlines\\u2028here, layer 0: attention has NaN or inf values"], err
