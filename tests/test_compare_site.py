"""Head atlas, compare page and claims on two tiny models of the same shape (fast, no mkdocs)."""
from __future__ import annotations

import json
import re
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest

import tiny
from reportgen.manifest import load_manifest
from reportgen.pipeline import BuildOptions, build

MANIFEST = """
title: Two tiny models
models:
  - {id: ./bert-a, name: Tiny A}
  - {id: ./bert-b, name: Tiny B}
examples:
  - {id: cat-en, language: en, group: cat, a: The cat is very sad., b: Because it could not find food to eat.,
     coref: [{pronoun: it, antecedent: cat, candidates: [cat, food]}]}
  - {id: cat-de, language: de, group: cat, a: Die Katze ist sehr traurig., b: Weil sie zu viel gegessen hat.,
     coref: [{pronoun: sie, antecedent: Katze}]}
  - {id: cat-tr, language: tr, group: cat, a: Kedi çok üzgün., b: Çünkü o her zamanki gibi çok fazla yemek yedi.,
     coref: [{pronoun: o, antecedent: Kedi}]}
  - {id: trophy, language: en, a: The trophy does not fit into the suitcase because it is too large.,
     coref: [{pronoun: it, antecedent: trophy, candidates: [trophy, suitcase]}], show: false}
expect:
  - {model: Tiny A, layer: 1, head: 3, label: previous}
  - {model: Tiny B, layer: 0, head: 0, label: coreference}
  - {model: Tiny B, layer: 5, head: 0, label: next}
"""


class Cells(HTMLParser):
    """Collect heat-map cells: {map: [(layer, head, href)]}."""

    def __init__(self):
        super().__init__()
        self.map = None
        self.cells: dict[str, list] = {}
        self.cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "data-map" in a:
            self.map = a["data-map"]
            self.cells[self.map] = []
        elif tag == "td" and self.map and "data-layer" in a:
            self.cell = [int(a["data-layer"]), int(a["data-head"]), None]
            self.cells[self.map].append(self.cell)
        elif tag == "a" and self.cell is not None and "rg-head-link" not in a.get("class", ""):
            self.cell[2] = a.get("href")

    def handle_endtag(self, tag):
        if tag == "td":
            self.cell = None
        elif tag == "table":
            self.map = None


@pytest.fixture(scope="module")
def tiny_site(tmp_path_factory):
    work = tmp_path_factory.mktemp("tinysite")
    tiny.build_tiny("bert", work / "bert-a", seed=0)
    tiny.build_tiny("bert", work / "bert-b", seed=1)
    path = work / "m.yaml"
    path.write_text(textwrap.dedent(MANIFEST), encoding="utf-8")
    manifest = load_manifest(path)
    report = build(manifest, BuildOptions(out=work / "site_src", config_path=work / "mkdocs.yml",
                                          cache_dir=work / "cache", progress=False))
    assert report.failed == 0
    return work


def test_atlas_pages_have_every_cell_linked_to_a_shown_example(tiny_site):
    for slug in ("tiny-a", "tiny-b"):
        page = (tiny_site / "site_src" / "atlas" / f"{slug}.md").read_text(encoding="utf-8")
        parser = Cells()
        parser.feed(page)
        assert set(parser.cells) == {"prev", "next", "self", "cls", "sep", "punct", "entropy", "prev_argmax",
                                     "next_argmax", "entropy_norm", "coref_accuracy", "coref_mass"}
        for key, cells in parser.cells.items():
            assert sorted((l, h) for l, h, _ in cells) == [(l, h) for l in range(2) for h in range(4)], key
            for l, h, href in cells:
                token = r"&token=\d+" if key.startswith("coref") else ""  # coreference links pin the pronoun
                m = re.fullmatch(r"\.\./examples/([\w-]+)\.html#model=([\w-]+)&view=head&layer=(\d+)&head=(\d+)" + token,
                                 href)
                assert m, href
                assert m.group(1) in {"cat-en", "cat-de", "cat-tr"}  # never the example without a page
                assert (m.group(2), int(m.group(3)), int(m.group(4))) == (slug, l, h)
        assert f'href="../data/{slug}/heads.json"' in page and f'href="../data/{slug}/heads.csv"' in page


def test_compare_page_correlates_same_shape_models_and_languages(tiny_site):
    page = (tiny_site / "site_src" / "compare.md").read_text(encoding="utf-8")
    assert "Tiny A vs Tiny B" in page and "Spearman ρ" in page
    assert "Scored on the 4 examples both models ran." in page
    assert re.search(r'<td class="rg-num">[+-]\d\.\d\d</td>', page)
    assert "Translation groups: <strong>cat</strong>" in page
    assert "<th>en – de</th>" in page and "<th>en – tr</th>" in page and "<th>de – tr</th>" in page
    assert "Coreference accuracy: the top heads on each translation" in page
    assert "Coreference: top heads per language" in page


def test_claims_shown_with_rank_score_and_status(tiny_site):
    page = (tiny_site / "site_src" / "compare.md").read_text(encoding="utf-8")
    assert page.count("<tr class=\"rg-claim") == 3
    assert "not checked: the model has 2 layers x 4 heads" in page
    heads = json.loads((tiny_site / "site_src" / "data" / "tiny-a" / "heads.json").read_text())
    prev = heads["patterns"]["prev"]
    rank = 1 + sum(v > prev[1][3] for row in prev for v in row)
    assert f"<td>{rank} of 8</td>" in (tiny_site / "site_src" / "atlas" / "tiny-a.md").read_text(encoding="utf-8")


def test_heads_file_has_per_language_rankings_with_baselines(tiny_site):
    heads = json.loads((tiny_site / "site_src" / "data" / "tiny-b" / "heads.json").read_text())
    c = heads["coreference"]
    assert c["pairs"] == 4 and set(c["by_language"]) == {"en", "de", "tr"}
    en = c["by_language"]["en"]
    assert en["pairs"] == 2 and en["examples"] == 2 and en["baselines"]["random"] == 0.5
    assert len(en["top"]) == 8 and all(len(r["accuracy_ci"]) == 2 for r in en["top"])
    assert c["by_source"] == {}  # no include: no per-file rankings
    assert all("antecedent_index" in p for p in c["pairs_detail"])


def test_nav_and_css(tiny_site):
    config = (tiny_site / "mkdocs.yml").read_text(encoding="utf-8")
    assert "Head atlas:" in config and "atlas/tiny-a.md" in config and "compare.md" in config
    assert "assets/reportgen/atlas.css" in config
    assert (tiny_site / "site_src" / "assets" / "reportgen" / "atlas.css").is_file()


def test_a_diff_of_models_of_different_shapes_says_so_instead_of_failing(tmp_path):
    """Same tokenizer, so every example's tokens match: the distance and the score changes must both stop at
    the shape check, and the diff page names the two shapes."""
    from transformers import AutoModel, AutoTokenizer

    tiny.build_tiny("bert", tmp_path / "deep", seed=0)
    shallow = AutoModel.from_pretrained(tmp_path / "deep", num_hidden_layers=1)
    shallow.save_pretrained(tmp_path / "shallow")
    AutoTokenizer.from_pretrained(tmp_path / "deep").save_pretrained(tmp_path / "shallow")
    path = tmp_path / "m.yaml"
    path.write_text(textwrap.dedent("""\
        models:
          - {id: ./deep, name: Deep}
          - {id: ./shallow, name: Shallow}
        diffs:
          - {base: Deep, other: Shallow}
        examples:
          - {id: one, language: en, a: The cat sat on the mat., b: It was warm.}
          - {id: two, language: en, a: The dog ran home.}
        """), encoding="utf-8")
    report = build(load_manifest(path), BuildOptions(out=tmp_path / "site_src", config_path=tmp_path / "mkdocs.yml",
                                                     cache_dir=tmp_path / "cache", progress=False))
    assert report.failed == 0
    found = report.analysis.diffs[("deep", "shallow")]
    assert found.changes == {} and found.js is None and found.compared == 0
    page = (tmp_path / "site_src" / "diff-deep-shallow.md").read_text(encoding="utf-8")
    assert "different shapes" in page and "2 × 4" in page and "1 × 4" in page
