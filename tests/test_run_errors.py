"""Run errors: models that cannot be loaded or run, --keep-going, over-long input.

A failing model gives one line naming the model and exit 1; without --keep-going the previous
``site_src/`` and ``mkdocs.yml`` stay as they were; with it the other models are built and the site
lists the failure. Over-long examples are truncated with a warning, or with ``truncation: error``
rejected (exit 2) before anything is written.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reportgen import cli

ROOT = Path(__file__).resolve().parent.parent
GOOD_EXAMPLES = """\
examples:
  - id: cat
    language: en
    a: The cat is very sad.
    b: Because it could not find food to eat.
    coref:
      - pronoun: it
        antecedent: cat
  - id: store
    language: en
    a: I went to the store.
"""


@pytest.fixture(scope="module")
def zoo(tmp_path_factory, tiny_models):
    """A folder of model folders: ``good`` (tiny BERT) and several broken ones."""
    import transformers as tf

    root = tmp_path_factory.mktemp("zoo")
    good = root / "good"
    shutil.copytree(tiny_models["bert"], good)
    tokenizer_files = [p for p in good.iterdir() if p.name.startswith("tokenizer")]
    (root / "empty").mkdir()
    weightless = root / "weightless"  # config and tokenizer, no weights
    weightless.mkdir()
    for p in tokenizer_files + [good / "config.json"]:
        shutil.copy(p, weightless / p.name)
    unknown = root / "unknown-arch"
    unknown.mkdir()
    (unknown / "config.json").write_text('{"model_type": "no-such-architecture"}', encoding="utf-8")
    for p in tokenizer_files:
        shutil.copy(p, unknown / p.name)
    # an encoder-decoder: loads, but its forward pass needs decoder inputs
    t5 = tf.T5Config(vocab_size=200, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4)
    tf.AutoModel.from_config(t5).save_pretrained(root / "t5")
    for p in tokenizer_files:
        shutil.copy(p, root / "t5" / p.name)
    # a state-space model: no attention at all
    mamba = tf.MambaConfig(vocab_size=200, hidden_size=32, num_hidden_layers=2, state_size=4)
    tf.AutoModel.from_config(mamba).save_pretrained(root / "mamba")
    for p in tokenizer_files:
        shutil.copy(p, root / "mamba" / p.name)
    return root


BROKEN = [
    # (model id in the manifest, snippets of the one-line message)
    ("./empty", ["model ./empty:", "model_type"]),
    ("./weightless", ["model ./weightless: cannot load", "model.safetensors"]),
    ("./unknown-arch", ["model ./unknown-arch:", "no-such-architecture"]),
    ("./t5", ["model ./t5: the forward pass failed on example '", "ValueError", "supported: encoders"]),
    ("./mamba", ["model ./mamba: returned attention for 0 of", "eager"]),
    ("no-such-org-zz/no-such-model-zz", ["model no-such-org-zz/no-such-model-zz: cannot load"]),
]


def snapshot(folder: Path) -> dict:
    """Paths and bytes under ``folder``; the up-to-date stamp (reportgen.incremental, bookkeeping) is left out."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*")) if not p.name.endswith(".reportgen-stamp")} if folder.exists() else {}


def write_manifest(zoo: Path, name: str, model_ids: list[str], examples: str = GOOD_EXAMPLES, extra: str = "") -> Path:
    models = "".join(f"  - id: {m}\n" for m in model_ids)
    path = zoo / name
    path.write_text(f"title: Run errors\nmodels:\n{models}{examples}{extra}", encoding="utf-8")
    return path


def build(manifest: Path, work: Path, *more: str) -> int:
    return cli.main(["build", str(manifest), "--out", str(work / "site_src"), "--config", str(work / "mkdocs.yml"),
                     "--cache", str(work.parent / "cache"), "--quiet", *more])


@pytest.fixture
def previous(zoo, tmp_path, capsys):
    """tmp/out holds a previous good build (site_src + mkdocs.yml)."""
    out = tmp_path / "out"
    assert build(write_manifest(zoo, "good.yaml", ["./good"]), out) == 0
    capsys.readouterr()
    return out


def error_lines(err: str) -> list[str]:
    assert "Traceback" not in err, err
    return [line for line in err.splitlines() if line.startswith("error: ")]


@pytest.mark.parametrize("model_id,snippets", BROKEN, ids=[b[0].strip("./") for b in BROKEN])
def test_broken_model_exit_1_previous_output_intact(zoo, previous, capsys, model_id, snippets):
    before = snapshot(previous)
    manifest = write_manifest(zoo, "broken.yaml", [model_id, "./good"])
    assert build(manifest, previous) == 1
    captured = capsys.readouterr()
    lines = error_lines(captured.err)
    assert len(lines) == 1, captured.err
    for snippet in snippets:
        assert snippet in lines[0], (snippet, lines[0])
    assert snapshot(previous) == before  # site_src and mkdocs.yml untouched
    assert not (previous / ".site_src.staging").exists() and not (previous / ".site_src.old").exists()


@pytest.mark.parametrize("model_id,snippets", BROKEN, ids=[b[0].strip("./") for b in BROKEN])
def test_keep_going_builds_the_rest_and_lists_the_failure(zoo, tmp_path, capsys, model_id, snippets):
    out = tmp_path / "out"
    manifest = write_manifest(zoo, "broken.yaml", [model_id, "./good"])
    assert build(manifest, out, "--keep-going") == 1
    captured = capsys.readouterr()
    lines = error_lines(captured.err)
    assert len(lines) == 1 and all(s in lines[0] for s in snippets), captured.err
    assert "(1 failed)" in captured.out
    index = json.loads((out / "site_src" / "data" / "index.json").read_text(encoding="utf-8"))
    assert [m["id"] for m in index["models"]] == ["./good"]
    (failed,) = index["failed"]
    assert failed["id"] == model_id and all(s in failed["error"] for s in snippets)
    home = (out / "site_src" / "index.md").read_text(encoding="utf-8")
    assert "failed: model " in home and "ok</td>" in home
    assert (out / "site_src" / "models" / "good.md").is_file()
    assert sorted(p.name for p in (out / "site_src" / "models").iterdir()) == ["good.md"]
    config = (out / "mkdocs.yml").read_text(encoding="utf-8")
    assert "models/good.md" in config and model_id not in config


def test_keep_going_site_builds_strict_and_shows_failure(zoo, tmp_path, capsys):
    """Two failed models: mkdocs build --strict still passes, the home page shows both failures."""
    out = tmp_path / "out"
    manifest = write_manifest(zoo, "two-broken.yaml", ["./weightless", "./good", "./mamba"])
    assert build(manifest, out, "--keep-going", "--site") == 1
    captured = capsys.readouterr()
    assert len(error_lines(captured.err)) == 2, captured.err
    assert "site written to" in captured.out
    home = (out / "site" / "index.html").read_text(encoding="utf-8")
    assert home.count('class="rg-error">failed: model ') == 2
    assert "model ./weightless: cannot load" in home and "model ./mamba: returned attention" in home
    assert (out / "site" / "models" / "good.html").is_file()
    assert (out / "site" / "examples" / "cat.html").is_file()


def test_subprocess_broken_model_no_traceback(zoo, tmp_path):
    manifest = write_manifest(zoo, "sub.yaml", ["./t5", "./good"])
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-m", "reportgen", "build", str(manifest), "--out", str(tmp_path / "site_src"),
                             "--config", str(tmp_path / "mkdocs.yml"), "--cache", str(tmp_path / "cache")],
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert [l for l in result.stderr.splitlines() if l.startswith("error: ")] == [
        l for l in result.stderr.splitlines() if "model ./t5: the forward pass failed" in l]
    assert not (tmp_path / "site_src").exists() and not (tmp_path / "mkdocs.yml").exists()
    assert not (tmp_path / ".site_src.staging").exists()


LONG = "The cat did not eat the food because it was not fresh, and the trophy does not fit into the suitcase."
LONG_EXAMPLES = GOOD_EXAMPLES + f"  - id: long one\n    language: en\n    a: {LONG}\n"


def test_long_input_truncated_with_warning(zoo, tmp_path, capsys):
    out = tmp_path / "out"
    manifest = write_manifest(zoo, "long.yaml", ["./good"], LONG_EXAMPLES, "settings:\n  max_length: 12\n")
    assert build(manifest, out) == 0
    err = capsys.readouterr().err
    warnings = [l for l in err.splitlines() if l.startswith("warning: example")]
    assert len(warnings) == 2 and "'cat'" in warnings[0] and "'long one'" in warnings[1], err  # 'store' fits
    long_warning = next(w for w in warnings if "'long one'" in w)
    full = int(long_warning.split(" has ")[1].split(" tokens")[0])
    assert full > 12 and "on model ./good; truncated to 12 (settings.max_length)" in long_warning
    index = json.loads((out / "site_src" / "data" / "index.json").read_text(encoding="utf-8"))
    tokens = {e["slug"]: e["tokens"] for e in index["models"][0]["examples"]}
    assert tokens["long-one"] == 12
    page = (out / "site_src" / "examples" / "long-one.md").read_text(encoding="utf-8")
    assert f"truncated from {full}" in page
    # from the cache (into another folder, so the build is not skipped as up to date): the same warnings
    assert build(manifest, tmp_path / "again") == 0
    assert [l for l in capsys.readouterr().err.splitlines() if l.startswith("warning: example")] == warnings


@pytest.mark.parametrize("cached", [False, True], ids=["computed", "from-cache"])
def test_long_input_rejected_with_truncation_error(zoo, previous, capsys, cached):
    extra = "settings:\n  max_length: 12\n  truncation: error\n"
    manifest = write_manifest(zoo, "strict.yaml", ["./good"], LONG_EXAMPLES, extra)
    if cached:  # the same records exist in the cache from a build that only warned
        warn = write_manifest(zoo, "warn.yaml", ["./good"], LONG_EXAMPLES, "settings:\n  max_length: 12\n")
        assert build(warn, previous.parent / "elsewhere") == 0
        capsys.readouterr()
    before = snapshot(previous)
    assert build(manifest, previous) == 2
    err = capsys.readouterr().err
    lines = error_lines(err)
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith(f"error: {manifest}:") and "examples[0]: example 'cat' has " in line
    assert "tokens on model ./good, more than settings.max_length 12" in line
    assert snapshot(previous) == before
    assert not (previous / ".site_src.staging").exists()
