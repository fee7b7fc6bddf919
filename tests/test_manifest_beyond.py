"""Manifest keys for model diffs and training runs: diffs, runs, per-model dtype, settings.predictions (line-accurate errors)."""
from __future__ import annotations

import textwrap

import pytest

from reportgen.manifest import ManifestError, load_manifest

EXAMPLES = "examples:\n  - language: en\n    a: The cat is sad.\n"
TWO = "models:\n  - id: bert-base-cased\n    name: base\n  - id: bert-base-cased\n    name: half\n    dtype: bfloat16\n"


def write(tmp_path, text, name="m.yaml"):
    f = tmp_path / name
    f.write_text(textwrap.dedent(text), encoding="utf-8")
    return f


def errors(f):
    with pytest.raises(ManifestError) as exc:
        load_manifest(f)
    return exc.value.lines


def line_of(text: str) -> int:
    return next(i for i, l in enumerate(textwrap.dedent(text).splitlines(), 1) if "#<" in l)


def test_valid_diffs_runs_dtype_and_predictions(tmp_path):
    (tmp_path / "run.csv").write_text("step,loss\n1,1.0\n")
    (tmp_path / "state.json").write_text('{"log_history": []}')
    (tmp_path / "tb").mkdir()
    (tmp_path / "tb" / "events.out.tfevents.1.x").write_bytes(b"")
    f = write(tmp_path, TWO + EXAMPLES + textwrap.dedent("""
        diffs:
          - {base: base, other: half}
        runs:
          - {id: a, path: run.csv}
          - {id: b, path: state.json, name: My run}
          - {id: c, path: tb}
        settings:
          predictions: false
        """))
    m = load_manifest(f)
    assert [s.dtype for s in m.models] == [None, "bfloat16"]
    assert [(d.base, d.other) for d in m.diffs] == [("base", "half")]
    assert [(r.id, r.kind, r.name) for r in m.runs] == [("a", "csv", "a"), ("b", "trainer_state", "My run"),
                                                       ("c", "tensorboard", "c")]
    assert m.runs[0].path == str(tmp_path / "run.csv")
    assert m.settings.predictions is False
    assert load_manifest(write(tmp_path, TWO + EXAMPLES, "n.yaml")).settings.predictions is True


@pytest.mark.parametrize("tail, keypath, snippet", [
    ("diffs:\n  - {base: base, other: nope}  #<\n", "diffs[0].other", "'nope' is not a model of this manifest"),
    ("diffs:\n  - {base: base, other: base}  #<\n", "diffs[0].other", "the same model as base"),
    ("diffs:\n  - {base: base}  #<\n", "diffs[0]", "missing key 'other'"),
    ("diffs:\n  - {base: base, other: half, extra: 1}  #<\n", "diffs[0].extra", "unknown key"),
    ("diffs:\n  - {base: base, other: half}\n  - {base: base, other: half}  #<\n", "diffs[1]", "duplicate diff"),
    ("runs:\n  - {id: r, path: missing.csv}  #<\n", "runs[0].path", "not found"),
    ("runs:\n  - {id: r, path: m.yaml}  #<\n", "runs[0].path", "is not a .json file, .csv file or folder"),
    ("runs:\n  - {path: x.csv}  #<\n", "runs[0]", "missing key 'id'"),
    ("settings:\n  predictions: yes please  #<\n", "settings.predictions", "expected true or false"),
])
def test_line_accurate_errors(tmp_path, tail, keypath, snippet):
    text = TWO + EXAMPLES + tail
    f = write(tmp_path, text)
    lines = errors(f)
    prefix = f"{f}:{line_of(text)}: {keypath}: "
    hits = [l for l in lines if l.startswith(prefix)]
    assert len(hits) == 1 and snippet in hits[0], (prefix, lines)


def test_dtype_errors_and_duplicates(tmp_path):
    text = "models:\n  - id: bert-base-cased\n    dtype: float8  #<\n" + EXAMPLES
    f = write(tmp_path, text)
    (hit,) = [l for l in errors(f) if "models[0].dtype" in l]
    assert hit.startswith(f"{f}:{line_of(text)}: models[0].dtype: 'float8' is not a dtype")
    text = "models:\n  - id: bert-base-cased\n  - id: bert-base-cased  #<\n" + EXAMPLES
    f = write(tmp_path, text, "d.yaml")
    (hit,) = errors(f)
    assert hit.startswith(f"{f}:{line_of(text)}: models[1].id: duplicate model") and "dtype" in hit


def test_tensorboard_folder_without_event_files(tmp_path):
    (tmp_path / "empty").mkdir()
    text = TWO + EXAMPLES + "runs:\n  - {id: r, path: empty}  #<\n"
    f = write(tmp_path, text)
    (hit,) = errors(f)
    assert hit.startswith(f"{f}:{line_of(text)}: runs[0].path:") and "no TensorBoard event file" in hit


def test_duplicate_run_ids(tmp_path):
    (tmp_path / "a.csv").write_text("step,loss\n1,1\n")
    text = TWO + EXAMPLES + "runs:\n  - {id: r, path: a.csv}\n  - {id: r, path: a.csv}  #<\n"
    f = write(tmp_path, text)
    (hit,) = errors(f)
    assert hit.startswith(f"{f}:{line_of(text)}: runs[1].id: duplicate run id 'r'")


def test_coref_span_setting_and_diffs_without_shared_examples(tmp_path):
    ok = write(tmp_path, TWO + EXAMPLES + "settings: {coref_span: max}\n")
    assert load_manifest(ok).settings.coref_span == "max"
    assert load_manifest(write(tmp_path, TWO + EXAMPLES, "d.yaml")).settings.coref_span == "mean"
    text = TWO + EXAMPLES + "settings:\n  coref_span: median  #<\n"
    lines = errors(write(tmp_path, text, "bad.yaml"))
    assert len(lines) == 1 and f":{line_of(text)}: settings.coref_span" in lines[0]
    assert "write mean, sum or max" in lines[0]
    split = ("models:\n  - id: bert-base-cased\n    name: base\n    languages: [en]\n  - id: bert-base-cased\n"
             "    name: half\n    dtype: bfloat16\n    languages: [de]\n" + EXAMPLES
             + "  - language: de\n    a: Die Katze.\ndiffs:\n  - {base: base, other: half}  #<\n")
    lines = errors(write(tmp_path, split, "split.yaml"))
    assert len(lines) == 1 and f":{line_of(split)}: diffs[0]:" in lines[0] and "no example in common" in lines[0]
