"""Manifest validation: every error names file, line and key path on one line."""
import textwrap

import pytest

from reportgen.errors import UserError
from reportgen.manifest import (
    ManifestError,
    Settings,
    Span,
    load_manifest,
    parse_manifest,
    slugify,
)

MODELS = "models:\n  - id: bert-base-cased\n"
EXAMPLES = "examples:\n  - language: en\n    a: The cat is sad.\n"


def write(tmp_path, text, name="m.yaml"):
    f = tmp_path / name
    f.write_text(textwrap.dedent(text), encoding="utf-8")
    return f


def errors_of(f, **kw) -> list[str]:
    with pytest.raises(ManifestError) as exc:
        load_manifest(f, **kw)
    assert isinstance(exc.value, UserError) and exc.value.exit_code == 2
    for line in exc.value.lines:
        assert "\n" not in line and "\r" not in line
    return exc.value.lines


def marked_line(text: str) -> int:
    """1-based line of the `#<` marker in a manifest text."""
    return next(i for i, l in enumerate(textwrap.dedent(text).splitlines(), 1) if "#<" in l)


def the_error(lines, f, line, keypath, *snippets) -> str:
    prefix = f"{f}:{line}: {keypath}: " if keypath else f"{f}:{line}: "
    hits = [l for l in lines if l.startswith(prefix)]
    assert len(hits) == 1, (prefix, lines)
    for s in snippets:
        assert s in hits[0], (s, hits[0])
    return hits[0]


CASES = [
    # (manifest text with #< on the line of the error, key path, snippets)
    ("titel: x  #<\n" + MODELS + EXAMPLES, "titel", ["unknown key", "did you mean 'title'?"]),
    ("title: 3  #<\n" + MODELS + EXAMPLES, "title", ["expected text, got a number; quote it"]),
    ("title: ''  #<\n" + MODELS + EXAMPLES, "title", ["empty text"]),
    ("title: x  #<\n" + EXAMPLES, "(top level)", ["missing key 'models'"]),
    ("title: x  #<\n" + MODELS, "(top level)", ["missing key 'examples'"]),
    ("models: bert-base-cased  #<\n" + EXAMPLES, "models", ["expected a list, got text", "write [bert-base-cased] or a '- bert-base-cased' item"]),
    ("models: []  #<\n" + EXAMPLES, "models", ["empty list"]),
    ("models:\n  - bert  #<\n" + EXAMPLES, "models[0]", ["expected a mapping, got text"]),
    ("models:\n  - name: x  #<\n" + EXAMPLES, "models[0]", ["missing key 'id'"]),
    ("models:\n  - id: 12  #<\n" + EXAMPLES, "models[0].id", ["expected text, got a number; quote it"]),
    ("models:\n  - id: bert base  #<\n" + EXAMPLES, "models[0].id", ["not a hub id"]),
    ("models:\n  - id: a/b/c  #<\n" + EXAMPLES, "models[0].id", ["not a hub id"]),
    ("models:\n  - id: ./no-such-folder  #<\n" + EXAMPLES, "models[0].id", ["not found"]),
    ("models:\n  - id: package:no_such_pkg_zz/x  #<\n" + EXAMPLES, "models[0].id", ["no installed package"]),
    ("models:\n  - id: package:reportgen/no_such_folder  #<\n" + EXAMPLES, "models[0].id", ["not found in package"]),
    ("models:\n  - id: package:reportgen  #<\n" + EXAMPLES, "models[0].id", ["package:module/folder"]),
    ("models:\n  - id: /\n    revision: main  #<\n" + EXAMPLES, "models[0].revision", ["only for hub models"]),
    ("models:\n  - id: x\n    revison: main  #<\n" + EXAMPLES, "models[0].revison", ["did you mean 'revision'?"]),
    ("models:\n  - id: x\n    name: ''  #<\n" + EXAMPLES, "models[0].name", ["empty text"]),
    ("models:\n  - id: x\n    languages: en  #<\n" + EXAMPLES, "models[0].languages", ["expected a list, got text", "[en]"]),
    ("models:\n  - id: x\n    languages:\n      - en\n      - english  #<\n" + EXAMPLES,
     "models[0].languages[1]", ["'english' is not a language code"]),
    ("models:\n  - id: x\n    revision: v1\n  - id: x  #<\n    revision: v1\n" + EXAMPLES, "models[1].id", ["duplicate model", "also at line 2"]),
    (MODELS + "examples: {a: b}  #<\n", "examples", ["expected a list, got a mapping"]),
    (MODELS + "examples:\n  - a: x  #<\n", "examples[0]", ["missing key 'language'"]),
    (MODELS + "examples:\n  - language: en  #<\n", "examples[0]", ["missing key 'a'"]),
    (MODELS + "examples:\n  - language: en\n    a: x\n    langauge: en  #<\n", "examples[0].langauge", ["did you mean 'language'?"]),
    (MODELS + "examples:\n  - language: en\n    a: x\n    language: de  #<\n", "examples[0].language", ["duplicate key (first at line"]),
    (MODELS + "examples:\n  - language: english  #<\n    a: x\n", "examples[0].language", ["not a language code", "pt-BR"]),
    (MODELS + "examples:\n  - language: EN  #<\n    a: x\n", "examples[0].language", ["not a language code"]),
    (MODELS + "examples:\n  - language: no  #<\n    a: x\n", "examples[0].language", ["got true/false", "quote it"]),
    (MODELS + "examples:\n  - language: en\n    a: ''  #<\n", "examples[0].a", ["empty text"]),
    (MODELS + "examples:\n  - language: en\n    a: 1.0  #<\n", "examples[0].a", ["expected text, got a number; quote it"]),
    (MODELS + "examples:\n  - language: en\n    a: yes  #<\n", "examples[0].a", ["got true/false", "quote it"]),
    (MODELS + "examples:\n  - language: en\n    a: [x]  #<\n", "examples[0].a", ["expected text, got a list"]),
    (MODELS + "examples:\n  - language: en\n    a: x\n    b:  #<\n", "examples[0].b", ["expected text, got nothing"]),
    (MODELS + "examples:\n  - language: en\n    a: x\n    b: '  '  #<\n", "examples[0].b", ["empty text"]),
    (MODELS + "examples:\n  - id: 7  #<\n    language: en\n    a: x\n", "examples[0].id", ["quote it"]),
    (MODELS + "examples:\n  - language: en\n    a: x\n    group: 5  #<\n", "examples[0].group", ["expected text"]),
    (MODELS + "examples:\n  - language: en\n    a: x\n    show: maybe  #<\n", "examples[0].show", ["expected true or false"]),
    (MODELS + "examples:\n  - language: en\n    a: x\n    coref: it  #<\n", "examples[0].coref", ["expected a list"]),
    (MODELS + "examples:\n  - language: en\n    a: It is it.\n    coref:\n      - pronoun: It  #<\n",
     "examples[0].coref[0]", ["missing key 'antecedent'"]),
    (MODELS + "examples:\n  - language: en\n    a: It is it.\n    coref:\n      - pronoun: It\n        antecedent: is\n        pronon: x  #<\n",
     "examples[0].coref[0].pronon", ["did you mean 'pronoun'?"]),
    (MODELS + "examples:\n  - language: en\n    a: The cat is sad.\n    coref:\n      - pronoun: it  #<\n        antecedent: cat\n",
     "examples[0].coref[0].pronoun", ["'it' matches no word"]),
    (MODELS + "examples:\n  - language: en\n    a: The cat saw the cat.\n    b: It ran.\n    coref:\n      - pronoun: It\n        antecedent: cat  #<\n",
     "examples[0].coref[0].antecedent", ["matches 2 times", "'cat#1'", "'cat#2'"]),
    (MODELS + "examples:\n  - language: en\n    a: The cat saw the cat.\n    b: It ran.\n    coref:\n      - pronoun: It\n        antecedent: cat#3  #<\n",
     "examples[0].coref[0].antecedent", ["occurrence 3", "occurs 2 times"]),
    (MODELS + "examples:\n  - language: en\n    a: The cat ran. It hid.\n    coref:\n      - pronoun: It\n        antecedent: cat#0  #<\n",
     "examples[0].coref[0].antecedent", ["#0 is not allowed"]),
    (MODELS + "examples:\n  - language: en\n    a: The cat ran. It hid.\n    coref:\n      - pronoun: It\n        antecedent: cat#-1  #<\n",
     "examples[0].coref[0].antecedent", ["#-1 is not allowed"]),
    (MODELS + "examples:\n  - language: en\n    a: The cat ran. It hid.\n    coref:\n      - pronoun: It#x  #<\n        antecedent: cat\n",
     "examples[0].coref[0].pronoun", ["'#x' is not an occurrence number"]),
    (MODELS + "examples:\n  - language: en\n    a: The cat ran. It hid.\n    coref:\n      - pronoun: It\n        antecedent: It hid  #<\n",
     "examples[0].coref[0].antecedent", ["overlaps the pronoun"]),
    (MODELS + "examples:\n  - language: en\n    a: The cat ran. It hid.\n    coref:\n      - pronoun: It\n        antecedent: cat\n        candidates: cat  #<\n",
     "examples[0].coref[0].candidates", ["expected a list, got text", "write [cat]"]),
    (MODELS + "examples:\n  - language: en\n    a: The cat ran. It hid.\n    coref:\n      - pronoun: It\n        antecedent: cat\n        candidates: [The, ran]  #<\n",
     "examples[0].coref[0].candidates", ["does not contain the antecedent", "add 'cat'"]),
    (MODELS + "examples:\n  - language: en\n    a: The cat ran. It hid.\n    coref:\n      - pronoun: It\n        antecedent: cat\n        candidates:\n          - cat\n          - ran\n          - ran#1  #<\n",
     "examples[0].coref[0].candidates[2]", ["same words as candidates[1]"]),
    (MODELS + "examples:\n  - language: en\n    a: The cat ran. It hid.\n    coref:\n      - pronoun: It\n        antecedent: cat\n        candidates:\n          - cat\n          - It  #<\n",
     "examples[0].coref[0].candidates[1]", ["overlaps the pronoun"]),
    (MODELS + EXAMPLES + "settings: 5  #<\n", "settings", ["expected a mapping"]),
    (MODELS + EXAMPLES + "settings:\n  max_lenght: 5  #<\n", "settings.max_lenght", ["did you mean 'max_length'?"]),
    (MODELS + EXAMPLES + "settings:\n  max_length: true  #<\n", "settings.max_length", ["expected a whole number, got true/false"]),
    (MODELS + EXAMPLES + "settings:\n  max_length: '128'  #<\n", "settings.max_length", ["expected a whole number, got text"]),
    (MODELS + EXAMPLES + "settings:\n  max_length: 4  #<\n", "settings.max_length", ["out of range", "between 8 and 100000"]),
    (MODELS + EXAMPLES + "settings:\n  truncation: maybe  #<\n", "settings.truncation", ["warn or error"]),
    (MODELS + EXAMPLES + "settings:\n  display_limit: -1  #<\n", "settings.display_limit", ["out of range"]),
    (MODELS + EXAMPLES + "settings:\n  neuron: 1  #<\n", "settings.neuron", ["expected true or false, got a number"]),
    (MODELS + EXAMPLES + "expect: x  #<\n", "expect", ["expected a list"]),
    (MODELS + EXAMPLES + "expect:\n  - model: nobody  #<\n    layer: 0\n    head: 0\n    label: self\n", "expect[0].model", ["not a model of this manifest", "bert-base-cased"]),
    (MODELS + EXAMPLES + "expect:\n  - model: bert-base-cased\n    layer: -1  #<\n    head: 0\n    label: self\n", "expect[0].layer", ["out of range"]),
    (MODELS + EXAMPLES + "expect:\n  - model: bert-base-cased\n    layer: 0\n    head: 1.5  #<\n    label: self\n", "expect[0].head", ["got a decimal number"]),
    (MODELS + EXAMPLES + "expect:\n  - model: bert-base-cased\n    layer: 0\n    head: 0\n    label: coref  #<\n", "expect[0].label", ["did you mean 'coreference'?"]),
    (MODELS + EXAMPLES + "expect:\n  - model: bert-base-cased  #<\n    layer: 0\n    label: self\n", "expect[0]", ["missing key 'head'"]),
]


@pytest.mark.parametrize("text,keypath,snippets", CASES, ids=[f"{i}-{c[1]}" for i, c in enumerate(CASES)])
def test_error_names_file_line_and_key(tmp_path, text, keypath, snippets):
    f = write(tmp_path, text)
    lines = errors_of(f)
    the_error(lines, f, marked_line(text), keypath, *snippets)


def test_duplicate_example_ids_name_both_lines(tmp_path):
    text = MODELS + "examples:\n  - id: same\n    language: en\n    a: x\n  - id: same  #<\n    language: en\n    a: y\n"
    f = write(tmp_path, text)
    the_error(errors_of(f), f, 7, "examples[1].id", "duplicate id 'same'", "also at line 4")


def test_duplicate_models_name_both_lines(tmp_path):
    text = "models:\n  - id: x\n  - id: y\n  - id: x\n" + EXAMPLES
    f = write(tmp_path, text)
    the_error(errors_of(f), f, 4, "models[2].id", "duplicate model 'x'", "also at line 2")


def test_same_model_at_two_revisions_is_fine():
    m = parse_manifest("models:\n  - id: x\n    revision: a\n  - id: x\n    revision: b\n" + EXAMPLES)
    assert [s.slug for s in m.models] == ["x", "x-2"]


def test_local_path_that_is_a_file(tmp_path):
    (tmp_path / "weights.bin").write_text("x")
    text = "models:\n  - id: ./weights.bin  #<\n" + EXAMPLES
    f = write(tmp_path, text)
    the_error(errors_of(f), f, 2, "models[0].id", "is a file, not a folder")


def test_many_errors_reported_together(tmp_path):
    text = textwrap.dedent("""\
        titel: x
        models:
          - id: bert base
          - id: ok-model
            languages: english
        examples:
          - language: en
            a: The cat is sad.
            coref:
              - pronoun: it
                antecedent: cat
          - language: EN
            a: 5
        settings:
          max_length: 2
        expect:
          - model: nobody
            layer: 0
            head: 0
            label: self
        """)
    f = write(tmp_path, text)
    lines = errors_of(f)
    the_error(lines, f, 1, "titel", "did you mean 'title'?")
    the_error(lines, f, 3, "models[0].id")
    the_error(lines, f, 5, "models[1].languages", "expected a list")
    the_error(lines, f, 10, "examples[0].coref[0].pronoun", "matches no word")
    the_error(lines, f, 12, "examples[1].language")
    the_error(lines, f, 13, "examples[1].a", "quote it")
    the_error(lines, f, 15, "settings.max_length")
    the_error(lines, f, 17, "expect[0].model")
    assert len(lines) == 8
    assert [int(l.split(":")[1]) for l in lines] == sorted(int(l.split(":")[1]) for l in lines)


# ---- whole-file problems


def test_not_utf8(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_bytes("title: x\nmodels: caf\xe9\n".encode("latin-1"))
    (line,) = errors_of(f)
    assert line == f"{f}:2: not UTF-8 text (byte 0xe9 at offset 20); save the file as UTF-8"


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path, text):
    f = write(tmp_path, text)
    (line,) = errors_of(f)
    assert line.startswith(f"{f}:1: ") and "empty" in line


def test_yaml_syntax_error(tmp_path):
    f = write(tmp_path, "title: x\nmodels:\n  - id: a\n   bad: [\n")
    (line,) = errors_of(f)
    assert line.startswith(f"{f}:") and "YAML syntax error" in line
    f = write(tmp_path, "title: x\nmodels: a: b\n")
    (line,) = errors_of(f)
    assert line.startswith(f"{f}:2: YAML syntax error")


def test_raw_control_character_is_a_yaml_error(tmp_path):
    f = write(tmp_path, "title: x\nmodels: \x01\n")
    (line,) = errors_of(f)
    assert line.startswith(f"{f}:2: YAML syntax error") and "U+0001" in line


def test_top_level_not_a_mapping(tmp_path):
    f = write(tmp_path, "- models\n- examples\n")
    (line,) = errors_of(f)
    assert line.startswith(f"{f}:1: ") and "not a mapping" in line


def test_missing_file(tmp_path):
    f = tmp_path / "nope.yaml"
    (line,) = errors_of(f)
    assert line.startswith(f"{f}:1: ") and "not found" in line


def test_messages_with_hostile_text_stay_on_one_line():
    text = MODELS + textwrap.dedent("""\
        examples:
          - language: en
            a: "x y"
            "bad\\nkey\\u2028": 1
            coref:
              - pronoun: "\\x07z'"
                antecedent: x
        """)
    with pytest.raises(ManifestError) as exc:
        parse_manifest(text, "m\r.yaml")
    assert len(exc.value.lines) == 2
    for line in exc.value.lines:
        assert "\n" not in line and "\r" not in line and "\u2028" not in line and "\x07" not in line
    assert exc.value.lines[0].startswith("m\\r.yaml:6: examples[0].bad\\nkey\\u2028: unknown key")
    assert exc.value.lines[1].startswith("m\\r.yaml:8: examples[0].coref[0].pronoun: '\\x07z\\'' matches no word")


# ---- valid manifests

FULL = """\
title: "Heads <b>{{ x }}</b> ‮ 😀"
models:
  - id: bert-base-cased
    revision: main
    name: BERT base cased
    languages: [en]
  - id: dbmdz/bert-base-turkish-cased
    languages: [tr]
  - id: package:reportgen/manifest
    name: Tiny
examples:
  - id: cat-sad
    language: en
    a: The cat is very sad.
    b: Because it could not find food to eat.
    coref:
      - pronoun: it
        antecedent: cat
        candidates: [cat, food]
      - pronoun: it
        antecedent: The cat
  - language: tr
    a: "Kedi çok üzgün. İyi ılık\\0"
    group: sad-cat
    show: false
  - id: "</script><img onerror=alert(1)>"
    language: pt-BR
    a: "  spaced  text  "
settings:
  max_length: 64
  truncation: error
  display_limit: 0
  neuron: false
expect:
  - {model: BERT base cased, layer: 4, head: 3, label: coreference}
  - {model: tiny, layer: 0, head: 1, label: previous}
"""


def test_full_manifest():
    m = parse_manifest(FULL, "full.yaml")
    assert m.title == "Heads <b>{{ x }}</b> \u202e 😀"
    assert [s.slug for s in m.models] == ["bert-base-cased", "dbmdz-bert-base-turkish-cased", "tiny"]
    bert, turk, tiny = m.models
    assert (bert.id, bert.revision, bert.name, bert.languages, bert.line, bert.kind) == (
        "bert-base-cased", "main", "BERT base cased", ("en",), 3, "hub")
    assert turk.name == turk.id and turk.revision is None
    assert tiny.kind == "package" and tiny.local_path and tiny.local_path.endswith("manifest")
    assert tiny.languages is None

    cat, kedi, hostile = m.examples
    assert (cat.id, cat.slug, cat.language, cat.show, cat.group, cat.line) == ("cat-sad", "cat-sad", "en", True, None, 12)
    given, default = cat.coref
    assert given.candidates_given and given.candidate_texts == ("cat", "food") and given.antecedent_index == 0
    assert given.pronoun == Span(7, 8) and given.antecedent == Span(1, 2)
    assert not default.candidates_given and default.antecedent_text == "The cat"
    assert default.candidates[default.antecedent_index] == default.antecedent
    assert "." not in default.candidate_texts and "it" not in default.candidate_texts
    assert kedi.a == "Kedi çok üzgün. İyi ılık\x00" and kedi.show is False and kedi.group == "sad-cat"
    assert kedi.id == kedi.slug == "kedi-cok-uzgun-iyi-ilik"
    assert hostile.id == "</script><img onerror=alert(1)>" and hostile.slug == "script-img-onerror-alert-1"
    assert hostile.a == "  spaced  text  " and hostile.language == "pt-BR"
    assert m.settings == Settings(64, "error", 0, False)
    assert [(e.model, e.layer, e.head, e.label) for e in m.expect] == [
        ("bert-base-cased", 4, 3, "coreference"), ("tiny", 0, 1, "previous")]
    assert [w.text for w in cat.words()][:3] == ["The", "cat", "is"]


def test_defaults():
    m = parse_manifest(MODELS + EXAMPLES)
    assert m.title == "Attention report" and m.settings == Settings() and m.expect == ()
    (ex,) = m.examples
    assert ex.id == "the-cat-is-sad" and ex.b is None and ex.coref == () and ex.show is True
    assert m.path == "<string>"


def test_empty_settings_and_expect_count_as_absent():
    m = parse_manifest(MODELS + EXAMPLES + "settings:\n  # max_length: 64\nexpect:\n")
    assert m.settings == Settings() and m.expect == ()


def test_derived_ids_are_unique_and_avoid_explicit_ids():
    text = MODELS + textwrap.dedent("""\
        examples:
          - {language: en, a: "One two three four five six seven."}
          - {language: en, a: "One two three four five six eight."}
          - {id: hi-there, language: en, a: "Something."}
          - {language: en, a: "Hi, there!"}
        """)
    m = parse_manifest(text)
    assert [e.id for e in m.examples] == [
        "one-two-three-four-five-six", "one-two-three-four-five-six-2", "hi-there", "hi-there-2"]


def test_example_slugs_unique_for_distinct_ids():
    text = MODELS + "examples:\n  - {id: 'A b', language: en, a: x}\n  - {id: 'a-b', language: en, a: y}\n"
    m = parse_manifest(text)
    assert [e.slug for e in m.examples] == ["a-b", "a-b-2"]


def test_local_folder_relative_to_manifest(tmp_path, monkeypatch):
    (tmp_path / "sub" / "model").mkdir(parents=True)
    f = write(tmp_path / "sub", "models:\n  - id: ./model\n  - id: model\n    name: again\n" + EXAMPLES)
    monkeypatch.chdir("/")
    m = load_manifest(f)
    assert [s.kind for s in m.models] == ["local", "local"]
    assert m.models[0].local_path == str(tmp_path / "sub" / "model") == m.models[1].local_path


def test_check_paths_false_skips_folder_checks():
    m = parse_manifest("models:\n  - id: ./not/there\n  - id: package:no_such_pkg_zz/x\n" + EXAMPLES, check_paths=False)
    assert [s.kind for s in m.models] == ["local", "package"]


def test_expect_ambiguous_model_name():
    text = "models:\n  - {id: a, name: same}\n  - {id: b, name: same}\n" + EXAMPLES + \
        "expect:\n  - {model: same, layer: 0, head: 0, label: self}\n"
    with pytest.raises(ManifestError) as exc:
        parse_manifest(text, "m.yaml")
    the_error(exc.value.lines, "m.yaml", 8, "expect[0].model", "names 2 models", "same, same-2")


def test_slugify():
    assert slugify("BERT base cased") == "bert-base-cased"
    assert slugify("dbmdz/bert-base-turkish-cased") == "dbmdz-bert-base-turkish-cased"
    assert slugify("Çok güzel İstanbul ılık") == "cok-guzel-istanbul-ilik"
    assert slugify("Straße") == "strasse"
    assert slugify("--a  --  b--") == "a-b"
    assert slugify("") == "x" and slugify("猫") == "x" and slugify("😀") == "x"
    assert len(slugify("word " * 40)) <= 60 and not slugify("word " * 40).endswith("-")
