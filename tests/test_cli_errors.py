"""Bad manifests at the command line.

For every case: `reportgen build BAD.yaml --out OUT/site_src --config OUT/mkdocs.yml --cache ...` and
`reportgen check BAD.yaml` exit with 2, print one line per problem naming file, line and key path, no
traceback, and leave the output folder exactly as it was (no mkdocs.yml, no staging folder, no cache).
Most cases run `cli.main` in-process; a few run the real `python -m reportgen` subprocess.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reportgen import cli

ROOT = Path(__file__).resolve().parent.parent
MODELS = "models:\n  - id: ./model\n"
EXAMPLES = "examples:\n  - language: en\n    a: The cat is sad.\n"


def coref(a: str, pairs: str, b: str | None = None) -> str:
    """A manifest with one example whose coref block is ``pairs`` (already indented by 6)."""
    text = MODELS + f"examples:\n  - language: en\n    a: {a}\n"
    if b is not None:
        text += f"    b: {b}\n"
    return text + "    coref:\n" + pairs


# (case id, manifest text (str, or bytes for raw files) with "#<" on the error line, key path or "", snippets)
CASES = [
    ("not-yaml-html", "<html>\n<body>\n<p>Hello: world</p>  #<\n</body>\n", "", ["YAML syntax error"]),
    ("not-yaml-python", "def main():\n\tprint('hi')  #<\n", "", ["YAML syntax error", "'\\t'"]),
    ("yaml-syntax", "models: [a, b\nexamples:  #<\n  - language: en\n", "", ["YAML syntax error", "expected ',' or ']'"]),
    ("empty-file", "", "", ["the file is empty", "models:"]),
    ("only-comments", "# nothing here yet\n", "", ["the file is empty"]),
    ("top-level-list", "- models  #<\n- examples\n", "", ["the top level is a list, not a mapping"]),
    ("top-level-text", "just some words  #<\n", "", ["the top level is text, not a mapping"]),
    ("unknown-key", "titel: x  #<\n" + MODELS + EXAMPLES, "titel", ["unknown key", "did you mean 'title'?"]),
    ("unknown-nested-key", MODELS + "examples:\n  - language: en\n    a: x\n    coreff: []  #<\n",
     "examples[0].coreff", ["unknown key", "did you mean 'coref'?"]),
    ("missing-models", "title: x  #<\n" + EXAMPLES, "(top level)", ["missing key 'models'"]),
    ("missing-examples", "title: x  #<\n" + MODELS, "(top level)", ["missing key 'examples'"]),
    ("number-for-text", MODELS + "examples:\n  - language: en\n    a: 1.5  #<\n", "examples[0].a",
     ["expected text, got a number", 'quote it: "1.5"']),
    ("number-for-title", "title: 2024  #<\n" + MODELS + EXAMPLES, "title", ["expected text, got a number"]),
    ("string-for-list", "models: bert-base-cased  #<\n" + EXAMPLES, "models",
     ["expected a list, got text", "[bert-base-cased]"]),
    ("string-for-candidates", coref("The cat ran. It hid.", "      - pronoun: It\n        antecedent: cat\n"
                                    "        candidates: cat  #<\n"),
     "examples[0].coref[0].candidates", ["expected a list, got text"]),
    ("empty-a", MODELS + "examples:\n  - language: en\n    a: ''  #<\n", "examples[0].a", ["empty text", "write the sentence"]),
    ("blank-a", MODELS + "examples:\n  - language: en\n    a: '   '  #<\n", "examples[0].a", ["empty text"]),
    ("duplicate-example-ids", MODELS + "examples:\n  - id: same\n    language: en\n    a: x\n"
     "  - id: same  #<\n    language: en\n    a: y\n", "examples[1].id", ["duplicate id 'same'", "also at line 4"]),
    ("coref-matches-no-word", coref("The cat is sad.", "      - pronoun: it  #<\n        antecedent: cat\n"),
     "examples[0].coref[0].pronoun", ["'it' matches no word"]),
    ("coref-matches-several", coref("The cat saw the cat.", "      - pronoun: It\n        antecedent: cat  #<\n",
                                    b="It ran."),
     "examples[0].coref[0].antecedent", ["matches 2 times", "'cat#1'", "'cat#2'"]),
    ("antecedent-is-pronoun", coref("It is it.", "      - pronoun: It\n        antecedent: It  #<\n"),
     "examples[0].coref[0].antecedent", ["overlaps the pronoun"]),
    ("candidates-omit-antecedent", coref("The cat ran. It hid.", "      - pronoun: It\n        antecedent: cat\n"
                                         "        candidates: [The, ran]  #<\n"),
     "examples[0].coref[0].candidates", ["does not contain the antecedent", "add 'cat'"]),
    ("occurrence-zero", coref("The cat ran. It hid.", "      - pronoun: It\n        antecedent: cat#0  #<\n"),
     "examples[0].coref[0].antecedent", ["#0 is not allowed"]),
    ("occurrence-negative", coref("The cat ran. It hid.", "      - pronoun: It#-1  #<\n        antecedent: cat\n"),
     "examples[0].coref[0].pronoun", ["#-1 is not allowed"]),
    ("languages-not-a-list", "models:\n  - id: ./model\n    languages: en  #<\n" + EXAMPLES,
     "models[0].languages", ["expected a list, got text", "[en]"]),
    ("languages-not-codes", "models:\n  - id: ./model\n    languages:\n      - en\n      - English  #<\n" + EXAMPLES,
     "models[0].languages[1]", ["'English' is not a language code", "pt-BR"]),
    ("language-number", "models:\n  - id: ./model\n    languages:\n      - 5  #<\n" + EXAMPLES,
     "models[0].languages[0]", ["expected text, got a number"]),
    ("max-length-zero", MODELS + EXAMPLES + "settings:\n  max_length: 0  #<\n", "settings.max_length",
     ["0 is out of range", "between 8 and 100000"]),
    ("max-length-negative", MODELS + EXAMPLES + "settings:\n  max_length: -5  #<\n", "settings.max_length", ["out of range"]),
    ("max-length-decimal", MODELS + EXAMPLES + "settings:\n  max_length: 12.5  #<\n", "settings.max_length",
     ["expected a whole number, got a decimal number"]),
    ("max-length-text", MODELS + EXAMPLES + "settings:\n  max_length: long  #<\n", "settings.max_length",
     ["expected a whole number, got text"]),
    ("model-path-missing", "models:\n  - id: ./no-such-model  #<\n" + EXAMPLES, "models[0].id", ["not found"]),
    ("model-package-missing", "models:\n  - id: package:no_such_package_zz/model  #<\n" + EXAMPLES, "models[0].id",
     ["no installed package"]),
    ("not-utf8", b"title: caf\xe9  #<\n" + (MODELS + EXAMPLES).encode(), "", ["not UTF-8 text", "byte 0xe9", "save the file as UTF-8"]),
    ("utf16", "title: x\n".encode("utf-16"), "", ["not UTF-8 text"]),
    ("lone-surrogate", MODELS + 'examples:\n  - language: en\n    a: "cat \\ud83d"  #<\n', "examples[0].a",
     ["lone surrogate \\ud83d", "\\U0001XXXX"]),
]


def marked_line(text: str | bytes) -> int:
    """1-based line holding the "#<" marker (1 when there is none)."""
    lines = text.splitlines() if isinstance(text, str) else text.decode("utf-8", "replace").splitlines()
    return next((i for i, line in enumerate(lines, 1) if "#<" in line), 1)


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every path under ``folder`` (dot files too) with its bytes and mtime."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        out[rel] = ("file", path.read_bytes(), path.stat().st_mtime_ns) if path.is_file() else ("dir",)
    return out


@pytest.fixture
def workspace(tmp_path):
    """tmp/manifest folder with an (empty) ./model folder, and tmp/out with a previous site_src."""
    (tmp_path / "model").mkdir()
    site = tmp_path / "out" / "site_src"
    (site / "data").mkdir(parents=True)
    (site / "index.md").write_text("previous build\n", encoding="utf-8")
    (site / "data" / "sentinel.json").write_text('{"keep": true}\n', encoding="utf-8")
    return tmp_path


def write_manifest(folder: Path, text: str | bytes, name: str = "bad.yaml") -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def build_args(manifest: Path | str, work: Path) -> list[str]:
    return ["build", str(manifest), "--out", str(work / "out" / "site_src"), "--config", str(work / "out" / "mkdocs.yml"),
            "--cache", str(work / "cache")]


def assert_error_output(stderr: str, file: str, line: int, keypath: str, snippets: list[str]) -> None:
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert lines, "no message"
    for text in lines:
        assert text.startswith("error: "), stderr
    prefix = f"error: {file}:{line}: {keypath}: " if keypath else f"error: {file}:{line}: "
    hits = [text for text in lines if text.startswith(prefix)]
    assert len(hits) == 1, (prefix, lines)
    for snippet in snippets:
        assert snippet in hits[0], (snippet, hits[0])


def assert_untouched(work: Path, before: dict) -> None:
    assert snapshot(work / "out") == before
    assert not (work / "out" / "mkdocs.yml").exists()
    assert not (work / "cache").exists()


@pytest.mark.parametrize("case,text,keypath,snippets", CASES, ids=[c[0] for c in CASES])
def test_build_rejects_bad_manifest(workspace, capsys, case, text, keypath, snippets):
    manifest = write_manifest(workspace, text)
    before = snapshot(workspace / "out")
    assert cli.main(build_args(manifest, workspace)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_error_output(captured.err, str(manifest), marked_line(text), keypath, snippets)
    assert_untouched(workspace, before)


@pytest.mark.parametrize("case,text,keypath,snippets", CASES, ids=[c[0] for c in CASES])
def test_check_rejects_bad_manifest(workspace, capsys, case, text, keypath, snippets):
    manifest = write_manifest(workspace, text)
    assert cli.main(["check", str(manifest)]) == 2
    captured = capsys.readouterr()
    assert_error_output(captured.err, str(manifest), marked_line(text), keypath, snippets)


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "reportgen", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


SUBPROCESS_CASES = ["yaml-syntax", "unknown-key", "coref-matches-several", "model-path-missing", "not-utf8", "empty-file"]


@pytest.mark.parametrize("case", SUBPROCESS_CASES)
def test_subprocess_build_exit_code_and_message(workspace, case):
    _, text, keypath, snippets = next(c for c in CASES if c[0] == case)
    write_manifest(workspace, text)
    before = snapshot(workspace / "out")
    # the manifest is named as given on the command line (relative here)
    result = run_cli(["build", "bad.yaml", "--out", "out/site_src", "--config", "out/mkdocs.yml", "--cache", "cache"],
                     workspace)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert_error_output(result.stderr, "bad.yaml", marked_line(text), keypath, snippets)
    assert_untouched(workspace, before)


def test_subprocess_check(workspace):
    write_manifest(workspace, "titel: x  #<\n" + MODELS + EXAMPLES)
    result = run_cli(["check", "bad.yaml"], workspace)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: bad.yaml:1: titel: unknown key; did you mean 'title'?"]
    write_manifest(workspace, MODELS + EXAMPLES, "good.yaml")
    result = run_cli(["check", "good.yaml"], workspace)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("good.yaml: ok (1 models, 1 examples")


def test_all_problems_reported_in_one_pass(workspace, capsys):
    text = textwrap.dedent("""\
        titel: Report
        models:
          - id: ./no-such-model
            languages: en
        examples:
          - id: one
            language: en
            a: ''
          - id: one
            language: english
            a: The cat saw the cat.
            coref:
              - pronoun: it
                antecedent: cat
        settings:
          max_length: 0
        """)
    manifest = write_manifest(workspace, text)
    before = snapshot(workspace / "out")
    assert cli.main(build_args(manifest, workspace)) == 2
    err = capsys.readouterr().err
    expected = [
        (1, "titel"), (3, "models[0].id"), (4, "models[0].languages"), (8, "examples[0].a"), (9, "examples[1].id"),
        (10, "examples[1].language"), (13, "examples[1].coref[0].pronoun"), (14, "examples[1].coref[0].antecedent"),
        (16, "settings.max_length"),
    ]
    lines = err.splitlines()
    assert [l.split(": ")[0:2] for l in lines] == [["error", f"{manifest}:{n}"] for n, _ in expected], lines
    for text_line, (number, keypath) in zip(lines, expected):
        assert text_line.startswith(f"error: {manifest}:{number}: {keypath}: "), text_line
    assert_untouched(workspace, before)


def test_missing_manifest_file(workspace, capsys):
    before = snapshot(workspace / "out")
    assert cli.main(build_args(workspace / "nope.yaml", workspace)) == 2
    err = capsys.readouterr().err
    assert err == f"error: {workspace / 'nope.yaml'}:1: file not found; check the path\n"
    assert_untouched(workspace, before)


def test_manifest_is_a_folder(workspace, capsys):
    assert cli.main(["check", str(workspace / "model")]) == 2
    assert "is a folder, not a file" in capsys.readouterr().err


def test_error_lines_stay_single_lines_with_hostile_text(workspace, capsys):
    """Control characters and newlines in bad values cannot split a message into several lines."""
    text = MODELS + 'examples:\n  - language: "e\\nn\\r\\u2028x"  #<\n    a: x\n'
    manifest = write_manifest(workspace, text)
    assert cli.main(["check", str(manifest)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.count("\n") == 1, err
    assert_error_output(err, str(manifest), marked_line(text), "examples[0].language", ["is not a language code"])


@pytest.mark.parametrize("value", ["0", "-5", "many"])
def test_max_tokens_must_be_a_positive_whole_number(workspace, capsys, value):
    before = snapshot(workspace / "out")
    with pytest.raises(SystemExit) as stopped:
        cli.main(["build", "--max-tokens", value, str(workspace / "m.yaml")])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --max-tokens: {value!r}: write a whole number of at least 1" in err
    assert "Traceback" not in err
    assert_untouched(workspace, before)


def _unusable_devices():
    import torch

    devices = ["gpu0", "cuda:x", "meta"]
    devices.append("cuda:99" if torch.cuda.is_available() else "cuda")  # no CUDA here, or no 100th GPU
    return devices


@pytest.mark.parametrize("device", _unusable_devices())
def test_a_device_torch_cannot_use_is_one_line_exit_2_and_nothing_written(workspace, capsys, device):
    """--device cuda on a CPU-only torch (or a name torch does not know) fails before anything loads or
    is written, not with a traceback from the first model."""
    before = snapshot(workspace / "out")
    code = cli.main(["build", "--device", device, "--out", str(workspace / "out" / "site_src"), str(workspace / "m.yaml")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"error: --device {device!r}") and err.count("\n") == 1, err
    assert "use --device cpu" in err or "write cpu, cuda" in err, err
    assert "Traceback" not in err
    assert_untouched(workspace, before)
