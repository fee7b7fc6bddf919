"""`include:` (examples from other manifest files), `group:` and `expect:` in the manifest."""
from __future__ import annotations

import textwrap

import pytest

from reportgen.manifest import ManifestError, load_manifest

MODELS = "models:\n  - id: bert-base-cased\n"


def write(folder, name, body):
    """A manifest with MODELS (lines 1-2) followed by ``body`` (dedented) from line 3."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(MODELS + textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return path


def errors(path) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    return info.value.lines


def test_include_appends_examples_with_their_source(tmp_path):
    write(tmp_path, "sub/more.yaml", """
    examples:
      - id: two
        language: de
        group: g
        a: Die Katze schläft.
      - id: three
        language: en
        a: It rains.
        show: false
    """)
    main = write(tmp_path, "main.yaml", """
    examples:
      - id: one
        language: en
        group: g
        a: The cat sleeps.
    include: [sub/more.yaml]
    """)
    m = load_manifest(main)
    assert [e.id for e in m.examples] == ["one", "two", "three"]
    assert [e.source for e in m.examples] == [None, "sub/more.yaml", "sub/more.yaml"]
    assert [e.group for e in m.examples] == ["g", "g", None]
    assert [e.show for e in m.examples] == [True, True, False]
    assert m.examples[1].line == 4  # a line of the included file
    assert [s.id for s in m.models] == ["bert-base-cased"]  # the included file's models are not used


def test_include_alone_is_enough_and_nested_sources_keep_their_own_path(tmp_path):
    write(tmp_path, "a/deep.yaml", "examples:\n  - {id: d, language: en, a: Deep.}\n")
    write(tmp_path, "a/mid.yaml", "examples:\n  - {id: m, language: en, a: Mid.}\ninclude: [deep.yaml]\n")
    main = write(tmp_path, "main.yaml", "include:\n  - a/mid.yaml\n")
    m = load_manifest(main)
    assert [(e.id, e.source) for e in m.examples] == [("m", "a/mid.yaml"), ("d", "deep.yaml")]


def test_include_problems_are_line_accurate(tmp_path):
    write(tmp_path, "bad.yaml", """
    examples:
      - id: x
        language: en
        a: The dog.
        coref:
          - {pronoun: it, antecedent: dog}
    """)
    write(tmp_path, "dup.yaml", "examples:\n  - {id: one, language: en, a: Again.}\n")
    main = write(tmp_path, "main.yaml", """
    examples:
      - id: one
        language: en
        a: The cat sleeps.
    include:
      - bad.yaml
      - missing.yaml
      - dup.yaml
      - 3
    """)
    lines = errors(main)
    assert len(lines) == 4, lines
    assert lines[0].startswith(f"{tmp_path / 'bad.yaml'}:8: examples[0].coref[0].pronoun: 'it' matches no word")
    assert lines[1].startswith(f"{main}:9: include[1]: file ") and "missing.yaml' not found" in lines[1]
    assert lines[2].startswith(f"{main}:10: include[2]: example id 'one' of ") and "is already used (line 4)" in lines[2]
    assert lines[3].startswith(f"{main}:11: include[3]: expected text, got a number")


def test_include_cycle_and_empty(tmp_path):
    write(tmp_path, "a.yaml", "examples:\n  - {id: a, language: en, a: A.}\ninclude: [b.yaml]\n")
    write(tmp_path, "b.yaml", "examples:\n  - {id: b, language: en, a: B.}\ninclude: [a.yaml]\n")
    lines = errors(tmp_path / "a.yaml")
    assert len(lines) == 1 and "b.yaml:5: include[0]: 'a.yaml' includes this file again" in lines[0]
    main = write(tmp_path, "m.yaml", "include: []\n")
    assert any("include: empty list" in line for line in errors(main))
    # include: with nothing under it counts as absent: examples are then required
    main = write(tmp_path, "n.yaml", "include:\n")
    assert any("missing key 'examples'" in line for line in errors(main))


def test_demo_manifest_includes_wsc273_and_states_claims():
    from pathlib import Path

    demo = load_manifest(Path(__file__).resolve().parent.parent / "examples" / "demo.yaml")
    sources = {e.source for e in demo.examples}
    assert sources == {None, "wsc273.yaml", "coref-triples.yaml"}
    assert sum(e.source == "wsc273.yaml" for e in demo.examples) == 257
    assert {(x.layer, x.head, x.label) for x in demo.expect} >= {(0, 2, "previous"), (3, 1, "coreference")}
    groups = {}
    for e in demo.examples:
        if e.group:
            groups.setdefault(e.group, set()).add(e.language)
    assert groups["cat-sad"] == {"en", "tr", "de"} and groups["dog-ball"] == {"en", "tr", "de"}
    triples = [e for e in demo.examples if e.source == "coref-triples.yaml"]
    pairs = {lang: sum(len(e.coref) for e in triples if e.language == lang) for lang in ("en", "tr", "de")}
    assert pairs["tr"] >= 40 and pairs["de"] >= 40
    assert all(groups[e.group] == {"en", "tr", "de"} for e in triples)
    assert {"cat-sad", "kedi-uzgun", "katze-traurig"} <= {e.id for e in demo.examples}
