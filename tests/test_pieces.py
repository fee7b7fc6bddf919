"""Pieces per word (reportgen.analysis.pieces) and its page views, on hand-made records."""
from types import SimpleNamespace

import numpy as np

from reportgen.analysis.pieces import MANY_PIECES, by_language, example_pieces
from reportgen.manifest import parse_manifest
from reportgen.analysis.collect import pieces_sample
from reportgen.analysis.stage import pieces_by_language
from reportgen.render.pieces import pieces_table
from reportgen.render.templates import environment


def test_example_pieces_counts_by_hand():
    # [CLS] ked ##i co ##k u ##z ##gun . [SEP]: words 0 (Kedi), 1 (çok), 2 (üzgün), 3 (.)
    word = np.array([-1, 0, 0, 1, 1, 2, 2, 2, 3, -1])
    special = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1], dtype=bool)
    counts = example_pieces(word, special)
    assert (counts.pieces, counts.words, counts.longest, counts.longest_pieces) == (8, 4, 2, 3)
    assert example_pieces(np.array([-1, -1]), np.array([True, True])).words == 0


def test_by_language_sums_and_marks_many_pieces():
    rows = [("tr", example_pieces(np.array([0, 0, 0, 1, 1, 1, 2]), np.zeros(7, bool))),  # 7 pieces, 3 words
            ("en", example_pieces(np.array([0, 1, 2]), np.zeros(3, bool))),
            ("tr", example_pieces(np.array([0, 0, 1]), np.zeros(3, bool)))]  # 3 pieces, 2 words
    out = {r.language: r for r in by_language(rows)}
    assert list(out) == ["tr", "en"]
    assert (out["tr"].examples, out["tr"].pieces, out["tr"].words) == (2, 10, 5)
    assert out["tr"].per_word == 2.0 and not out["tr"].many  # exactly the mark is not above it
    assert out["en"].per_word == 1.0 and MANY_PIECES == 2.0


def test_compare_page_warns_about_a_language_cut_into_many_pieces():
    manifest = parse_manifest("models:\n  - id: bert-base-cased\nexamples:\n"
                              "  - {id: t, language: tr, a: Kedi çok üzgün.}\n  - {id: e, language: en, a: The cat.}\n",
                              check_paths=False)
    tr, en = manifest.examples
    records = {
        ("m", "t"): SimpleNamespace(word=np.array([-1, 0, 0, 1, 1, 2, 2, 2, 3, -1]), special=np.array([1] + [0] * 8 + [1], bool),
                                    tokens=["[CLS]", "ked", "##i", "co", "##k", "u", "##z", "##gun", ".", "[SEP]"]),
        ("m", "e"): SimpleNamespace(word=np.array([-1, 0, 1, 2, -1]), special=np.array([1, 0, 0, 0, 1], bool),
                                    tokens=["[CLS]", "the", "cat", ".", "[SEP]"]),
    }
    run = SimpleNamespace(spec=SimpleNamespace(name="MiniLM", slug="m"), examples=[tr, en], error=None, records={"t": 1})

    def table_of(records):  # the analysis keeps each record's sample; the page formats the per-language totals
        samples = {example: pieces_sample(tr if example == "t" else en, r) for (_, example), r in records.items()}
        model = SimpleNamespace(pieces=pieces_by_language([tr, en], samples))
        return pieces_table(SimpleNamespace(runs=[run], analysis=SimpleNamespace(models={"m": model})))

    table = table_of(records)
    assert table["languages"] == ["tr", "en"]
    assert table["models"][0]["by_language"]["tr"]["per_word"] == "2.00"  # 8 pieces / 4 words: not above 2
    assert table["warnings"] == []
    records[("m", "t")].word = np.array([-1, 0, 0, 1, 1, 1, 1, 1, 2, -1])  # now 3 words: 8 / 3
    records[("m", "t")].special = np.array([1] + [0] * 8 + [1], bool)
    table = table_of(records)
    (warning,) = table["warnings"]
    assert (warning["model"], warning["language"], warning["per_word"]) == ("MiniLM", "tr", "2.67")
    assert warning["word"] == "çok" and warning["word_pieces"] == ["co", "##k", "u", "##z", "##gun"]
    html = environment().get_template("compare.html.j2").render(
        models={"models": [], "pairs": []}, languages=[], claims=[], k=5, fmt=str, provenances=[], pieces=table)
    assert "Warning: MiniLM cuts tr words into\n2.67 pieces per word" in html
    assert "<code>co</code> <code>##k</code> <code>u</code>" in html
