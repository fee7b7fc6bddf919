"""The manifest schema is declared once (reportgen.manifest.fields) and the validator follows it."""
from __future__ import annotations

import dataclasses

import pytest

from reportgen.manifest import ManifestError, Settings, parse_manifest
from reportgen.manifest import fields as F

BASE = "models:\n  - id: bert-base-cased\nexamples:\n  - language: en\n    a: The cat sat.\n"


def problems(text: str) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text, "m.yaml", check_paths=False)
    return caught.value.lines


def test_settings_fields_are_the_settings_dataclass():
    assert list(F.SETTINGS) == [f.name for f in dataclasses.fields(Settings)]


@pytest.mark.parametrize("section, fields, text", [
    ("settings", F.SETTINGS, BASE + "settings:\n  zzz: 1\n"),
    ("models[0]", F.MODEL, "models:\n  - id: bert-base-cased\n    zzz: 1\nexamples:\n  - language: en\n    a: A.\n"),
    ("runs[0]", F.RUN, BASE + "runs:\n  - id: r\n    path: x.csv\n    zzz: 1\n"),
])
def test_unknown_keys_list_the_declared_fields_in_order(section, fields, text):
    assert f"{section}.zzz: unknown key; known keys here: {', '.join(fields)}" in "\n".join(problems(text))


def test_missing_keys_print_the_declared_fixes():
    lines = problems(BASE + "expect:\n  - {}\n")
    for key in ("model", "layer", "head", "label"):
        assert any(f"expect[0]: missing key '{key}'; {F.EXPECT[key].required}" in line for line in lines), key


def test_choice_fields_name_the_choices_and_suggest_the_closest():
    lines = problems(BASE + "settings:\n  truncation: cut\nexpect:\n  - {model: bert-base-cased, layer: 0, head: 0, label: prevous}\n")
    assert "m.yaml:7: settings.truncation: 'cut' is not a choice; write warn or error" in lines
    assert any(line.startswith("m.yaml:9: expect[0].label: 'prevous' is not a head label; did you mean 'previous'? labels: ")
               for line in lines)
