"""Viewer options across views on the demo (real all-MiniLM-L6-v2 and splade-tiny), in Chromium:
the model view honours the pinned token and the filters and says so, export captions name every
active filter, the rollout opens at the last layer on a fitted scale, the neuron view has a legend in
the theme's colours, the keyboard reaches tabs, tokens, matrix cells and neuron rows, and a model
without a masked-LM head points to the one that has it."""
from __future__ import annotations

import pytest

import demo_site as demo_site_build

MODEL = "all-minilm-l6-v2"
EXAMPLE = "wsc-016"  # "The man couldn't lift his son because he was so heavy." (16 MiniLM tokens, "he" = 10)
DESKTOP = {"width": 1400, "height": 900}
INK_JS = """() => Array.from(document.querySelectorAll('.rgv-thumb-canvas')).map(c => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, bg = [d[0], d[1], d[2]];
  let ink = 0;
  for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1]) + Math.abs(d[i + 2] - bg[2]) > 30) ink++;
  return ink; })"""


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    return demo_site_build.build(tmp_path_factory.getbasetemp()) / "site"  # shared with the other demo tests


def _open(open_page, demo_site, hash_=""):
    return open_page((demo_site / "examples" / f"{EXAMPLE}.html").as_uri() + hash_, viewport=DESKTOP)[0]


def _drawn(page, before):
    page.wait_for_function("d => +document.querySelector('.rg-viewer').getAttribute('data-rg-drawn') > d", arg=before)


def _set(page, changes):
    before = int(page.get_attribute(".rg-viewer", "data-rg-drawn"))
    page.evaluate("c => ReportGenViewer.set(null, c)", changes)
    _drawn(page, before)


def test_model_view_honours_the_pinned_token_and_filters(open_page, demo_site):
    page = _open(open_page, demo_site, f"#model={MODEL}&view=model&layer=0")
    page.wait_for_selector(".rgv-thumb-canvas")
    full = page.evaluate(INK_JS)
    assert len(full) == 72 and page.is_hidden(".rgv-model-filters")
    for control in ("Sentence pairs", "Special tokens", "Top percent of attention"):
        assert page.get_by_label(control).is_visible(), control  # the shared filters are offered here
    _set(page, {"token": 10, "dir": "from"})
    pinned = page.evaluate(INK_JS)
    assert sum(pinned) < 0.5 * sum(full) and all(p <= f + 4 for p, f in zip(pinned, full))
    assert "links from \u201che\u201d (token 10)" in page.inner_text(".rgv-model-filters")
    _set(page, {"token": -1, "special": "hide", "top": 30})
    filtered = page.evaluate(INK_JS)
    assert sum(filtered) < sum(full)
    text = page.inner_text(".rgv-model-filters")
    assert "special tokens hidden" in text and "top 30% of each row" in text


def test_export_captions_name_every_active_filter(open_page, demo_site):
    page = _open(open_page, demo_site, f"#model={MODEL}&view=head&layer=3&head=1&token=10")
    _set(page, {"filter": "ab", "top": 50})
    svg = page.evaluate("ReportGenViewer.svg()")
    for part in ("heads 1", "links from \u201che\u201d (token 10)", "A \u2192 B only", "top 50% of each row"):
        assert part in svg, part


def test_rollout_opens_at_the_last_layer_on_a_fitted_scale(open_page, demo_site):
    page = _open(open_page, demo_site, f"#model={MODEL}&view=head&layer=0")
    before = int(page.get_attribute(".rg-viewer", "data-rg-drawn"))
    page.click(".rgv-tab[data-view='rollout']")
    _drawn(page, before)
    state = page.evaluate("ReportGenViewer.state()")
    assert (state["view"], state["layer"]) == ("rollout", 5)
    top = float(page.get_attribute(".rgv-rollout-pane .rgv-legend", "data-max"))
    assert abs(top - max(state["rolloutMatrix"])) < 1e-6 and top < 1


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_neuron_legend_uses_the_drawn_colours(open_page, demo_site, scheme):
    page = _open(open_page, demo_site, f"#model={MODEL}&view=neuron&layer=2&head=0&token=10")
    if scheme == "dark":
        before = int(page.get_attribute(".rg-viewer", "data-rg-drawn"))
        page.emulate_media(color_scheme="dark")
        page.evaluate("document.body.setAttribute('data-md-color-scheme', 'slate')")
        _drawn(page, before)
    legend = page.eval_on_selector(".rgv-neuron-legend", """e => ({text: e.textContent,
      neg: getComputedStyle(e.querySelector('.rgv-legend-neg')).color,
      pos: getComputedStyle(e.querySelector('.rgv-legend-pos')).color,
      ramp: e.querySelector('.rgv-legend-ramp').style.background})""")
    assert "negative" in legend["text"] and "positive" in legend["text"] and "q \u00d7 k" in legend["text"]
    assert legend["neg"] != legend["pos"]
    assert legend["neg"] in legend["ramp"] and legend["pos"] in legend["ramp"]


def test_keyboard_reaches_tabs_tokens_cells_and_rows(open_page, demo_site):
    page = _open(open_page, demo_site, f"#model={MODEL}&view=head&layer=3&head=1")
    page.focus(".rgv-tab[data-view='head']")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("ReportGenViewer.state().view === 'model'")
    assert page.evaluate("document.activeElement.dataset.view") == "model"
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("ReportGenViewer.state().view === 'head'")
    page.focus(".rgv-col.rgv-from .rgv-tok[tabindex='0']")
    for _ in range(10):
        page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.token") == "10"
    page.keyboard.press("Enter")
    page.wait_for_function("ReportGenViewer.state().token === 10")
    _set(page, {"view": "matrix"})
    page.focus(".rgv-matrix-canvas")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    readout = page.eval_on_selector(".rgv-matrix-pane .rgv-readout", "e => [e.dataset.from, e.dataset.to]")
    assert readout == ["1", "1"]
    _set(page, {"view": "neuron"})
    page.focus(".rgv-neuron-canvas")
    page.keyboard.press("ArrowDown")
    assert page.get_attribute(".rgv-neuron-canvas", "data-row") == "1"
    assert "softmax" in page.inner_text(".rgv-neuron-pane .rgv-readout")


def test_predictions_without_a_head_point_to_the_model_with_one(open_page, demo_site):
    page = _open(open_page, demo_site, f"#model={MODEL}&view=predictions")
    assert "no masked-LM head" in page.inner_text(".rgv-predictions-pane")
    button = page.locator(".rgv-pred-elsewhere button[data-model='splade-tiny']")
    before = int(page.get_attribute(".rg-viewer", "data-rg-drawn"))
    button.click()
    _drawn(page, before)
    page.wait_for_selector(".rgv-pred-word")
    assert page.evaluate("ReportGenViewer.state().model") == "splade-tiny"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_coreference_map_diverges_around_the_strongest_baseline(open_page, demo_site, scheme, artifacts):
    page = open_page((demo_site / "atlas" / f"{MODEL}.html").as_uri(), viewport=DESKTOP, wait_ready=False)[0]
    if scheme == "dark":
        page.emulate_media(color_scheme="dark")
        page.evaluate("document.body.setAttribute('data-md-color-scheme', 'slate')")
    centre = float(page.get_attribute(".rg-legend-div", "data-centre"))
    cells = page.eval_on_selector_all("[data-score='coref_accuracy'] td.rg-c:not(.rg-nan)", """e => e.map(td => ({
      v: +td.dataset.value, bg: getComputedStyle(td).backgroundColor}))""")
    below = {c["bg"] for c in cells if c["v"] < centre - 0.02}
    above = {c["bg"] for c in cells if c["v"] > centre + 0.02}
    assert below and above and not below & above  # no colour on both sides of the baseline
    assert len({c["bg"] for c in cells}) > 10  # a scale, not one flat colour
    page.locator("#map-coref_accuracy").screenshot(path=str(artifacts / f"coref-map-{scheme}.png"))
