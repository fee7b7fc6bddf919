"""The viewer bundle in a real browser, on the standalone harness (see harness.py).

Every page is opened from file:// in an offline context; the ``open_page`` fixture fails the test on
any request that is not ``file:``, any console error, page error or dialog.
"""
from __future__ import annotations

import math
import re
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from reportgen.render.assets import RUN_SCRIPTS, SITE_SCRIPTS, TABLE_SCRIPTS, VIEWER_SCRIPTS

from .harness import ARABIC, ASSETS, BERT, GPT, HEBREW, HOSTILE_IMG, HOSTILE_SCRIPT, LONG, PAIR

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MIN_WEIGHT = 0.5 / 255

PIXELS_JS = """(selector) => {
  const canvas = document.querySelector(selector);
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const r0 = data[0], g0 = data[1], b0 = data[2], a0 = data[3];
  let count = 0, digest = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] !== r0 || data[i + 1] !== g0 || data[i + 2] !== b0 || data[i + 3] !== a0) {
      count += 1;
      digest = (digest * 31 + data[i] + 3 * data[i + 1] + 7 * data[i + 2] + 11 * data[i + 3] + i) % 1000000007;
    }
  }
  return {count, digest, background: [r0, g0, b0, a0], width: canvas.width, height: canvas.height};
}"""

PANEL_JS = """() => Array.from(document.querySelectorAll('.rgv-panel td.rgv-num')).map(td => ({
  head: +td.dataset.head, from: +td.dataset.from, to: +td.dataset.to, value: +td.dataset.value,
  text: td.textContent}))"""


# ----- helpers --------------------------------------------------------------------------------------

from .viewer_helpers import drawn, set_state, state, wait_redraw  # noqa: E402,F401


def pixels(page, selector: str) -> dict:
    return page.evaluate(PIXELS_JS, selector)


def select(page, label: str, value: str) -> None:
    before = drawn(page)
    page.select_option(f".rg-viewer select[aria-label='{label}']", value)
    wait_redraw(page, before)


def float32_matrix(run, layer: int, head: int, keep=None, renorm=False) -> np.ndarray:
    """The unit matrix exactly as the viewer computes it (float32 storage, token level)."""
    q = run.record.attention_q[layer, head].astype(np.float64)
    if keep is not None:
        q = q[np.ix_(keep, keep)]
    matrix = (q / 255).astype(np.float32)
    if renorm:
        sums = matrix.astype(np.float64).sum(axis=1, keepdims=True)
        matrix = np.where(sums > 0, matrix.astype(np.float64) / np.where(sums > 0, sums, 1), 0).astype(np.float32)
    return matrix


def row_cuts(matrix: np.ndarray, top: float) -> np.ndarray:
    """The top-X% rule of the viewer: per row, the smallest weight of the strongest links holding X%."""
    cuts = np.full(matrix.shape[0], np.inf)
    for i, row in enumerate(matrix.astype(np.float64)):
        total = 0.0
        for w in row:
            if w > 0:
                total += w
        goal = total * top / 100 - 1e-9
        values = sorted((w for w in row if w > 0), reverse=True)
        acc, cut = 0.0, math.inf
        for w in values:
            acc += w
            cut = w
            if acc >= goal:
                break
        cuts[i] = cut
    return cuts


def expected_edges(run, layer, heads, pair="all", hide=False, renorm=False, top=100) -> int:
    """How many links the head view must draw (no token isolated, nothing over the drawing budget)."""
    special = run.record.special
    keep = np.flatnonzero(~special) if (hide or renorm) else np.arange(len(special))
    segment = run.record.segment[keep]
    want = {"aa": (0, 0), "bb": (1, 1), "ab": (0, 1), "ba": (1, 0)}.get(pair)
    total = 0
    for head in heads:
        matrix = float32_matrix(run, layer, head, keep, renorm)
        ok = matrix.astype(np.float64) >= MIN_WEIGHT
        if top < 100:
            ok &= matrix >= row_cuts(matrix, top)[:, None]
        if want:
            ok &= (segment[:, None] == want[0]) & (segment[None, :] == want[1])
        total += int(ok.sum())
    return total


# ----- the bundle itself ----------------------------------------------------------------------------

def test_bundle_is_a_plain_offline_script():
    """Classic scripts: each an IIFE in strict mode, nothing that loads from elsewhere or needs a server,
    and none starts a worker (search.js only wraps the constructor Material's own search worker goes through)."""
    scripts = sorted(ASSETS.rglob("*.js"))
    assert {p.relative_to(ASSETS).as_posix() for p in scripts} == (set(VIEWER_SCRIPTS) | set(RUN_SCRIPTS) | set(TABLE_SCRIPTS)
                                                                  | set(SITE_SCRIPTS))
    css = (ASSETS / "viewer.css").read_text(encoding="utf-8")
    for path in scripts:
        js = path.read_text(encoding="utf-8")
        code = re.sub(r"/\*.*?\*/|(?<![:'\\])//[^\n]*", "", js, flags=re.S).strip()  # comments out
        assert re.match(r"\(function \((root)?\) \{\n  'use strict';", code), path.name
        assert re.search(r"\}\)\((typeof window !== 'undefined' \? window : globalThis|window)?\);$", code), path.name
        for forbidden in (r"\bfetch\s*\(", r"XMLHttpRequest", r"\bimport\s*\(", r"^\s*import\s", r"^\s*export\s",
                          r"\bnew\s+(?:root\.|window\.|self\.)?Worker\b", r"\beval\s*\(", r"new Function", r"\.innerHTML\s*=\s*[^'\s]"):
            assert not re.search(forbidden, code, flags=re.M), (path.name, forbidden)
        assert not re.search(r"\b(?!file:)[a-z]+://|//[\w-]+\.[\w.-]+/", js, flags=re.I), path.name
    assert not re.search(r"\b(?!file:)[a-z]+://|//[\w-]+\.[\w.-]+/", css, flags=re.I)
    assert not re.search(r"@import|\burl\(", css)


# ----- head view ------------------------------------------------------------------------------------

def test_head_view_draws_offline(open_page, harness):
    page, requests, errors = open_page(harness.url(PAIR))
    run = harness.run(BERT, PAIR)
    s = state(page)
    assert (s["view"], s["key"], s["layer"], s["heads"]) == ("head", f"{BERT}/{PAIR}", 0, list(range(12)))
    assert s["units"] == len(run.record.tokens)
    assert s["skipped"] == 0
    assert s["edges"] == expected_edges(run, 0, range(12))
    assert pixels(page, ".rgv-lines")["count"] > 5000
    assert any(url.endswith(f"/data/{BERT}/{PAIR}/L0.js") for url in requests)
    assert all(url.startswith("file:") for url in requests)
    assert "0.00196" in page.inner_text(".rgv-precision")
    assert "uint8" in page.inner_text(".rgv-precision")
    assert not errors


def test_layer_change_redraws(open_page, harness):
    page, requests, errors = open_page(harness.url(PAIR))
    run = harness.run(BERT, PAIR)
    before = pixels(page, ".rgv-lines")
    select(page, "Layer", "2")
    after = pixels(page, ".rgv-lines")
    s = state(page)
    assert s["layer"] == 2
    assert s["edges"] == expected_edges(run, 2, range(12))
    assert after["count"] > 5000 and after["digest"] != before["digest"]
    assert any(url.endswith("/L2.js") for url in requests)
    assert "layer=2" in page.evaluate("location.hash")
    assert not errors


def test_head_blocks_toggle_and_solo(open_page, harness):
    page, _, errors = open_page(harness.url(PAIR))
    run = harness.run(BERT, PAIR)
    colours = page.eval_on_selector_all(".rgv-head-block", "els => els.map(e => getComputedStyle(e).backgroundColor)")
    assert len(colours) == 12 and len(set(colours)) == 12, "head colours must be distinct"
    before = pixels(page, ".rgv-lines")

    n = drawn(page)
    page.click(".rgv-head-block[data-head='0']")
    wait_redraw(page, n)
    s = state(page)
    assert s["heads"] == list(range(1, 12))
    assert s["edges"] == expected_edges(run, 0, range(1, 12))
    assert page.get_attribute(".rgv-head-block[data-head='0']", "aria-pressed") == "false"
    assert pixels(page, ".rgv-lines")["digest"] != before["digest"]

    n = drawn(page)
    page.click(".rgv-head-block[data-head='0']")
    wait_redraw(page, n)
    assert state(page)["heads"] == list(range(12))
    assert pixels(page, ".rgv-lines")["digest"] == before["digest"]

    n = drawn(page)
    page.dblclick(".rgv-head-block[data-head='3']")
    page.wait_for_function("() => ReportGenViewer.state().heads.length === 1")
    s = state(page)
    assert s["heads"] == [3] and s["head"] == 3 and drawn(page) > n
    assert s["edges"] == expected_edges(run, 0, [3])
    assert "head=3" in page.evaluate("location.hash")
    assert not errors


def test_hover_shows_stored_weights(open_page, harness):
    page, _, errors = open_page(harness.url(PAIR))
    run = harness.run(BERT, PAIR)
    n_tokens = len(run.record.tokens)
    stored, exact = run.stored[0], run.attention[0]

    page.hover(".rgv-col.rgv-from .rgv-tok[data-unit='2']")
    page.wait_for_selector(".rgv-panel td.rgv-num")
    cells = page.evaluate(PANEL_JS)
    assert len(cells) == 12 * n_tokens
    for cell in cells:
        assert cell["from"] == 2
        want = stored[cell["head"], 2, cell["to"]]
        assert abs(cell["value"] - want) < 1e-6
        assert abs(float(cell["text"]) - want) <= 0.0005 + 1e-9  # three decimals
        assert abs(float(cell["text"]) - exact[cell["head"], 2, cell["to"]]) <= harness.max_error + 0.0005 + 1e-9
    s = state(page)
    assert 0 < s["edges"] <= 12 * n_tokens
    assert s["edges"] == int((run.record.attention_q[0, :, 2, :] >= 1).sum())
    assert "0.00196" in page.inner_text(".rgv-panel")
    assert page.inner_text(".rgv-panel .rgv-panel-title .rgv-quote") == "cat"

    # hover a target token: the weights into it
    page.hover(".rgv-col.rgv-to .rgv-tok[data-unit='5']")
    page.wait_for_function("() => document.querySelector('.rgv-panel td.rgv-num') && "
                           "document.querySelector('.rgv-panel td.rgv-num').dataset.to === '5'")
    for cell in page.evaluate(PANEL_JS):
        assert cell["to"] == 5
        assert abs(cell["value"] - stored[cell["head"], cell["from"], 5]) < 1e-6

    # leaving the columns brings every link back
    page.mouse.move(2, 2)
    page.wait_for_function(f"() => ReportGenViewer.state().edges === {expected_edges(run, 0, range(12))}")
    assert not errors


def test_click_pins_token_in_hash(open_page, harness):
    page, _, errors = open_page(harness.url(PAIR))
    n = drawn(page)
    page.click(".rgv-col.rgv-from .rgv-tok[data-unit='4']")
    wait_redraw(page, n)
    page.mouse.move(2, 2)
    page.wait_for_function("() => ReportGenViewer.state().token === 4")
    s = state(page)
    assert s["edges"] <= 12 * s["units"]
    assert "token=4" in page.evaluate("location.hash")
    assert page.get_attribute(".rgv-col.rgv-from .rgv-tok[data-unit='4']", "class").count("rgv-pinned") == 1
    # the pinned token keeps its numbers in the panel
    assert len(page.evaluate(PANEL_JS)) == 12 * s["units"]
    n = drawn(page)
    page.click(".rgv-col.rgv-from .rgv-tok[data-unit='4']")
    wait_redraw(page, n)
    assert state(page)["token"] == -1
    assert "token=" not in page.evaluate("location.hash")
    assert not errors


def test_pair_filter_changes_drawn_set(open_page, harness):
    page, _, errors = open_page(harness.url(PAIR))
    run = harness.run(BERT, PAIR)
    everything = pixels(page, ".rgv-lines")
    seen = set()
    for pair in ("aa", "bb", "ab", "ba"):
        select(page, "Sentence pairs", pair)
        s = state(page)
        assert s["filter"] == pair
        assert s["edges"] == expected_edges(run, 0, range(12), pair=pair)
        assert 0 < s["edges"] < expected_edges(run, 0, range(12))
        picture = pixels(page, ".rgv-lines")
        assert picture["digest"] != everything["digest"] and picture["count"] < everything["count"]
        seen.add(picture["digest"])
    assert len(seen) == 4
    select(page, "Sentence pairs", "all")
    assert pixels(page, ".rgv-lines")["digest"] == everything["digest"]
    assert not errors


def test_hide_special_tokens(open_page, harness):
    page, _, errors = open_page(harness.url(PAIR))
    run = harness.run(BERT, PAIR)
    keep = np.flatnonzero(~run.record.special)
    select(page, "Special tokens", "hide")
    s = state(page)
    assert s["units"] == len(keep)
    texts = page.eval_on_selector_all(".rgv-col.rgv-from .rgv-tok", "els => els.map(e => e.textContent)")
    assert "[CLS]" not in texts and "[SEP]" not in texts and len(texts) == len(keep)
    assert s["edges"] == expected_edges(run, 0, range(12), hide=True)

    select(page, "Special tokens", "renorm")
    assert state(page)["edges"] == expected_edges(run, 0, range(12), renorm=True)
    page.hover(".rgv-col.rgv-from .rgv-tok[data-unit='1']")  # "cat", token 2
    page.wait_for_selector(".rgv-panel td.rgv-num")
    cells = page.evaluate(PANEL_JS)
    for head in range(12):
        values = [c["value"] for c in cells if c["head"] == head]
        assert len(values) == len(keep)
        assert abs(sum(values) - 1) < 1e-5
        want = float32_matrix(run, 0, head, keep, renorm=True)[1]
        assert np.allclose(values, want, atol=1e-6)
    assert "renormalised" in page.inner_text(".rgv-panel")
    assert not errors


def test_word_level_uses_clarks_rule(open_page, harness):
    page, _, errors = open_page(harness.url(PAIR))
    run = harness.run(BERT, PAIR)
    tokens = run.record.tokens
    play = tokens.index("play")
    assert tokens[play + 1] == "##ing"
    n = drawn(page)
    page.check(".rg-viewer .rgv-control input[type='checkbox']")
    wait_redraw(page, n)
    s = state(page)
    assert s["words"] is True and s["units"] == len(tokens) - 1
    unit = play  # no merge happens before "playing"
    label = page.inner_text(f".rgv-col.rgv-from .rgv-tok[data-unit='{unit}']")
    assert label == "playing"
    page.hover(f".rgv-col.rgv-from .rgv-tok[data-unit='{unit}']")
    page.wait_for_selector(".rgv-panel td.rgv-num")
    stored = run.stored[0]
    for cell in page.evaluate(PANEL_JS):
        rows = [play, play + 1]
        cols = [play, play + 1] if cell["to"] == play else [cell["to"]]
        want = stored[cell["head"]][np.ix_(rows, cols)].sum(axis=1).mean()  # mean over source, sum over target
        assert abs(cell["value"] - want) < 1e-6
    # attention *to* the word sums its pieces
    page.hover(f".rgv-col.rgv-to .rgv-tok[data-unit='{unit}']")
    page.wait_for_function("u => document.querySelector('.rgv-panel td.rgv-num').dataset.to === String(u)", arg=play)
    for cell in page.evaluate(PANEL_JS):
        if cell["from"] in (play,):
            continue
        want = stored[cell["head"], cell["from"], play] + stored[cell["head"], cell["from"], play + 1]
        assert abs(cell["value"] - want) < 1e-6
    assert not errors


def test_top_percent_threshold(open_page, harness):
    page, _, errors = open_page(harness.url(PAIR))
    run = harness.run(BERT, PAIR)
    full = state(page)["edges"]
    assert "X%" in page.get_attribute(".rg-viewer input[type='range']", "title")
    for top in (90, 50, 10):
        n = drawn(page)
        page.eval_on_selector(".rg-viewer input[type='range']",
                              "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }", top)
        wait_redraw(page, n)
        s = state(page)
        assert s["top"] == top
        assert s["edges"] == expected_edges(run, 0, range(12), top=top)
        assert s["edges"] < full
        full = s["edges"]
    assert page.inner_text(".rgv-top-value") == "10%"
    assert not errors


def test_causal_model_selector_and_lower_triangle(open_page, harness):
    page, _, errors = open_page(harness.url(PAIR))
    options = page.eval_on_selector_all(".rg-viewer select[aria-label='Model'] option", "els => els.map(e => e.value)")
    assert options == [f"{BERT}/{PAIR}", f"{GPT}/{PAIR}"]
    assert page.is_visible(".rg-viewer select[aria-label='Model']")
    select(page, "Model", f"{GPT}/{PAIR}")
    run = harness.run(GPT, PAIR)
    s = state(page)
    assert s["model"] == GPT and s["units"] == len(run.record.tokens) and s["heads"] == [0, 1, 2, 3]
    assert s["edges"] == expected_edges(run, 0, range(4))
    assert "model=gpt-fake" in page.evaluate("location.hash")
    page.hover(".rgv-col.rgv-from .rgv-tok[data-unit='0']")
    page.wait_for_selector(".rgv-panel td.rgv-num")
    assert state(page)["edges"] == 4  # the first token of a causal model only sees itself
    page.hover(".rgv-col.rgv-from .rgv-tok[data-unit='6']")
    page.wait_for_function("() => document.querySelector('.rgv-panel td.rgv-num').dataset.from === '6'")
    for cell in page.evaluate(PANEL_JS):
        want = run.stored[0, cell["head"], 6, cell["to"]]
        assert abs(cell["value"] - want) < 1e-6
        if cell["to"] > 6:
            assert cell["value"] == 0
    assert not errors


# ----- model view -----------------------------------------------------------------------------------

def test_model_view_thumbnails(open_page, harness):
    page, _, errors = open_page(harness.url(PAIR, "#view=model"))
    run = harness.run(BERT, PAIR)
    assert state(page)["view"] == "model"
    thumbs = page.eval_on_selector_all(".rgv-thumb", "els => els.map(e => ({layer: +e.dataset.layer, "
                                       "head: +e.dataset.head, name: e.querySelector('.rgv-thumb-name').textContent, "
                                       "label: e.querySelector('.rgv-thumb-label').textContent, title: e.title}))")
    assert len(thumbs) == 3 * 12
    for thumb in thumbs:
        layer, head = thumb["layer"], thumb["head"]
        assert thumb["name"] == f"L{layer} H{head}"
        assert f"<{layer + 1},{head + 1}>" in thumb["title"]
        label = run.labels[layer][head]
        assert thumb["label"].strip() == (label or "")
    assert pixels(page, ".rgv-thumb[data-layer='2'][data-head='7'] canvas")["count"] > 200
    n = drawn(page)
    page.click(".rgv-thumb[data-layer='1'][data-head='5']")
    wait_redraw(page, n)
    s = state(page)
    assert (s["view"], s["layer"], s["heads"]) == ("head", 1, [5])
    assert "view=head&layer=1&head=5" in page.evaluate("location.hash")
    assert s["edges"] == expected_edges(run, 1, [5])
    assert not errors


# ----- neuron view ----------------------------------------------------------------------------------

def test_neuron_view_softmax_matches_stored_attention(open_page, harness):
    page, requests, errors = open_page(harness.url(PAIR, "#view=neuron&layer=1&head=2&token=3"))
    run = harness.run(BERT, PAIR)
    s = state(page)
    assert (s["view"], s["layer"], s["head"], s["token"]) == ("neuron", 1, 2, 3)
    assert any(url.endswith("/Q1.js") for url in requests)
    result = page.evaluate("ReportGenViewer.neuron()")
    n = len(run.record.tokens)
    assert result["keys"] == list(range(n)) and result["d"] == 16
    q = run.q[1, 2, 3].astype(np.float64)
    k = run.k[1, 2].astype(np.float64)
    assert np.allclose(result["q"], q, atol=0)
    assert np.allclose(result["scores"], k @ q / math.sqrt(16), atol=1e-9)
    assert np.allclose(result["softmax"], run.attention[1, 2, 3], atol=1e-9)
    # q and k are exact float16 values here, so the only error left is the uint8 storage of attention
    assert np.max(np.abs(np.array(result["softmax"]) - run.stored[1, 2, 3])) <= harness.max_error + 1e-9
    assert result["maxDiff"] <= harness.max_error + 1e-9
    assert result["bound"] == pytest.approx(harness.max_error + run.qk_max_error)
    assert result["maxDiff"] <= result["bound"]
    assert "measured for float16 q and k" in page.inner_text(".rgv-neuron-pane .rgv-summary")
    assert "float16" in page.inner_text(".rgv-precision")
    assert pixels(page, ".rgv-neuron-canvas")["count"] > 2000

    # numbers on hover
    box = page.locator(".rgv-neuron-canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] - 20, box["y"] + box["height"] - 8)
    page.wait_for_function("() => document.querySelector('.rg-viewer .rgv-neuron-pane .rgv-readout')"
                           ".textContent.includes('softmax')")
    page.mouse.move(box["x"] + 130, box["y"] + box["height"] - 8)
    page.wait_for_function("() => document.querySelector('.rg-viewer .rgv-neuron-pane .rgv-readout')"
                           ".textContent.includes('k[')")

    select(page, "Query token", "7")
    result = page.evaluate("ReportGenViewer.neuron()")
    assert result["token"] == 7
    assert np.allclose(result["softmax"], run.attention[1, 2, 7], atol=1e-9)
    assert "token=7" in page.evaluate("location.hash")
    assert not errors


def test_neuron_view_causal_and_missing_layer(open_page, harness):
    page, _, errors = open_page(harness.url(PAIR, "#model=gpt-fake&view=neuron&layer=1&head=3&token=5"))
    run = harness.run(GPT, PAIR)
    result = page.evaluate("ReportGenViewer.neuron()")
    assert result["keys"] == list(range(6))
    assert np.allclose(result["softmax"], run.attention[1, 3, 5, :6], atol=1e-9)
    assert np.max(np.abs(np.array(result["softmax"]) - run.stored[1, 3, 5, :6])) <= harness.max_error + 1e-9

    page2, _, errors2 = open_page(harness.url(LONG, "#view=neuron&layer=2&head=0"))
    assert "not stored" in page2.inner_text(".rgv-neuron-pane .rgv-summary")
    assert page2.evaluate("ReportGenViewer.neuron()") is None
    select(page2, "Layer", "1")
    result = page2.evaluate("ReportGenViewer.neuron()")
    long_run = harness.run(BERT, LONG)
    assert result["layer"] == 1 and len(result["keys"]) == 512
    assert np.max(np.abs(np.array(result["softmax"]) - long_run.stored[1, 0, result["token"]])) <= \
        harness.max_error + 1e-9
    assert not errors and not errors2


# ----- matrix view ----------------------------------------------------------------------------------

def test_matrix_view_hover(open_page, harness):
    page, _, errors = open_page(harness.url(PAIR, "#view=matrix&layer=1&head=4"))
    run = harness.run(BERT, PAIR)
    picture = pixels(page, ".rgv-matrix-canvas")
    assert picture["count"] > 20000
    box = page.locator(".rgv-matrix-canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.7)
    page.wait_for_function("() => document.querySelector('.rgv-matrix-pane .rgv-readout').dataset.value !== undefined")
    readout = page.eval_on_selector(".rgv-matrix-pane .rgv-readout", "e => ({...e.dataset, text: e.textContent})")
    i, j = int(readout["from"]), int(readout["to"])
    assert abs(float(readout["value"]) - run.stored[1, 4, i, j]) < 1e-6
    assert "\u00b1" in readout["text"]
    select(page, "Head", "5")
    assert state(page)["heads"] == [5]
    assert pixels(page, ".rgv-matrix-canvas")["digest"] != picture["digest"]
    assert not errors


def test_matrix_view_512_tokens(open_page, harness):
    page, _, errors = open_page(harness.url(LONG, "#view=matrix&layer=0&head=0"))
    run = harness.run(BERT, LONG)
    s = state(page)
    assert s["units"] == 512 and s["view"] == "matrix"
    first = pixels(page, ".rgv-matrix-canvas")
    assert first["width"] >= 512 and first["height"] >= 512  # at least one pixel per cell
    assert first["count"] > 3000
    started = time.perf_counter()
    select(page, "Layer", "1")
    elapsed = time.perf_counter() - started
    second = pixels(page, ".rgv-matrix-canvas")
    assert second["digest"] != first["digest"]
    assert elapsed < 3.0, f"layer switch at 512 tokens took {elapsed:.2f} s"
    box = page.locator(".rgv-matrix-canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_function("() => document.querySelector('.rgv-matrix-pane .rgv-readout').dataset.value !== undefined")
    readout = page.eval_on_selector(".rgv-matrix-pane .rgv-readout", "e => ({...e.dataset})")
    assert abs(float(readout["value"]) - run.stored[1, 0, int(readout["from"]), int(readout["to"])]) < 1e-6
    assert not errors


def test_head_view_512_tokens_redraws(open_page, harness):
    page, _, errors = open_page(harness.url(LONG))
    s = state(page)
    assert s["units"] == 512 and len(s["heads"]) == 12 and s["edges"] > 500
    first = pixels(page, ".rgv-lines")
    started = time.perf_counter()
    select(page, "Layer", "2")
    page.evaluate("document.querySelector('.rgv-lines').getContext('2d').getImageData(0, 0, 1, 1)")  # rasterised
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0, f"head view layer switch at 512 tokens took {elapsed:.2f} s"
    s = state(page)
    assert s["layer"] == 2 and s["edges"] > 500
    if s["skipped"]:
        assert "not drawn" in page.inner_text(".rgv-panel")
    assert pixels(page, ".rgv-lines")["digest"] != first["digest"]
    assert not errors


# ----- links, export, safety ------------------------------------------------------------------------

def test_hash_round_trip(open_page, harness):
    page, _, errors = open_page(harness.url(PAIR, "#view=matrix&layer=1&head=2"))
    s = state(page)
    assert (s["view"], s["layer"], s["heads"], s["head"]) == ("matrix", 1, [2], 2)
    select(page, "Head", "4")
    hash_ = page.evaluate("location.hash")
    assert hash_ == "#model=bert-fake&example=pair&view=matrix&layer=1&head=4"

    n = drawn(page)
    page.evaluate("location.hash = '#view=head&layer=0'")
    wait_redraw(page, n)
    s = state(page)
    assert (s["view"], s["layer"], s["heads"]) == ("head", 0, list(range(12)))

    n = drawn(page)
    page.evaluate("location.hash = '#model=gpt-fake&example=pair&view=matrix&layer=1&head=3'")
    wait_redraw(page, n)
    s = state(page)
    assert (s["model"], s["view"], s["layer"], s["head"]) == (GPT, "matrix", 1, 3)

    # a link for another example leaves this viewer alone
    n = drawn(page)
    page.evaluate("location.hash = '#example=other&view=model'")
    page.wait_for_timeout(200)
    assert state(page)["view"] == "matrix" and drawn(page) == n
    assert not errors


@pytest.mark.parametrize("view", ["head", "model", "neuron", "matrix"])
def test_png_export(open_page, harness, artifacts, view):
    page, _, errors = open_page(harness.url(PAIR, f"#view={view}&layer=1&head=2" if view != "head" else ""))
    assert state(page)["view"] == view
    with page.expect_download() as info:
        page.click(".rg-viewer .rgv-button:text-is('PNG')")
    download = info.value
    assert download.suggested_filename.endswith(".png")
    assert download.suggested_filename.startswith(f"reportgen-{BERT}-{PAIR}-{view}")
    with open(download.path(), "rb") as handle:
        data = handle.read()
    assert data.startswith(PNG_MAGIC) and len(data) > 2000
    download.save_as(artifacts / f"export-{view}.png")
    assert not errors


def test_svg_export(open_page, harness, artifacts):
    page, _, errors = open_page(harness.url(PAIR))
    assert page.is_visible(".rg-viewer .rgv-button:text-is('SVG')")
    with page.expect_download() as info:
        page.click(".rg-viewer .rgv-button:text-is('SVG')")
    download = info.value
    assert download.suggested_filename.endswith(".svg")
    with open(download.path(), encoding="utf-8") as handle:
        text = handle.read()
    root = ET.fromstring(text)
    assert root.tag.endswith("svg")
    lines = [e for e in root.iter() if e.tag.endswith("line")]
    texts = [e.text for e in root.iter() if e.tag.endswith("text")]
    assert len(lines) == state(page)["edges"]
    for token in (HOSTILE_SCRIPT, HOSTILE_IMG, ARABIC, HEBREW):
        assert texts.count(token) == 2  # left and right column
    download.save_as(artifacts / "export-head.svg")
    assert not errors


def test_hostile_tokens_are_text(open_page, harness):
    page, _, errors = open_page(harness.url(PAIR))
    run = harness.run(BERT, PAIR)
    page.wait_for_timeout(300)
    assert not errors  # no alert dialog, no error
    for side in ("from", "to"):
        texts = page.eval_on_selector_all(f".rgv-col.rgv-{side} .rgv-tok", "els => els.map(e => e.textContent)")
        assert texts == run.record.tokens
    assert page.eval_on_selector_all(".rg-viewer img, .rg-viewer script, .rg-viewer iframe", "els => els.length") == 0
    arabic = page.locator(".rgv-col.rgv-from .rgv-tok", has_text=ARABIC)
    assert arabic.get_attribute("dir") == "auto"
    options = page.eval_on_selector_all(".rg-viewer select[aria-label='Query token'] option",
                                        "els => els.map(e => e.textContent)")
    assert f"4: {HOSTILE_SCRIPT}" in options and f"6: {HOSTILE_IMG}" in options
    # the matrix and neuron views draw them as text too
    set_state(page, view="matrix")
    set_state(page, view="neuron", token=4)
    assert HOSTILE_SCRIPT in page.inner_text(".rgv-neuron-pane .rgv-summary")
    assert page.eval_on_selector_all("img, iframe", "els => els.length") == 0
    assert not errors


def test_example_without_data(open_page, harness):
    page, _, errors = open_page(harness.url("empty"))
    assert "No attention data" in page.inner_text(".rg-viewer")
    assert page.evaluate("ReportGenViewer.ready.then(() => 'ready')") == "ready"
    assert not errors


def test_no_global_leaks(open_page, harness):
    page, _, errors = open_page(harness.url(PAIR))
    leaked = page.evaluate("Object.getOwnPropertyNames(window).filter(n => !window.__rgBaseline.includes(n))")
    assert set(leaked) - {"__rgBaseline"} == {"RG_DATA", "ReportGenViewer"}
    assert page.evaluate("ReportGenViewer.ready.then(() => 'ready')") == "ready"
    # items pushed after the viewer started are handled at once, not queued
    page.evaluate("RG_DATA.push({kind: 'nothing'})")
    assert page.evaluate("RG_DATA.length") == 0
    assert not errors


def test_screenshots_light_and_dark(open_page, harness, artifacts):
    page, _, errors = open_page(harness.url(PAIR), viewport={"width": 1100, "height": 1000})
    views = {"head": {}, "model": {}, "neuron": {"layer": 1, "head": 2, "token": 3},
             "matrix": {"layer": 1, "head": 1}}
    for scheme in ("default", "slate"):
        n = drawn(page)
        page.evaluate("s => document.body.setAttribute('data-md-color-scheme', s)", scheme)
        if scheme == "slate":
            wait_redraw(page, n)  # the palette switch alone redraws
        for view, extra in views.items():
            set_state(page, view=view, **extra)
            if view == "head":
                page.hover(".rgv-col.rgv-from .rgv-tok[data-unit='2']")
                page.wait_for_selector(".rgv-panel td.rgv-num")
            if view == "matrix":
                background = pixels(page, ".rgv-matrix-canvas")["background"]
                luminance = 0.2126 * background[0] + 0.7152 * background[1] + 0.0722 * background[2]
                assert (luminance < 80) if scheme == "slate" else (luminance > 200)
            name = "light" if scheme == "default" else "dark"
            page.locator(".rg-viewer").screenshot(path=str(artifacts / f"viewer-{view}-{name}.png"))
            page.mouse.move(1, 1)
    page2, _, errors2 = open_page(harness.url(LONG), viewport={"width": 1100, "height": 1000})
    page2.screenshot(path=str(artifacts / "viewer-head-512-light.png"))
    set_state(page2, view="matrix", layer=1, head=3)
    page2.locator(".rg-viewer").screenshot(path=str(artifacts / "viewer-matrix-512-light.png"))
    assert not errors and not errors2
