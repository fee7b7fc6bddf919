"""The head atlas of the demo (real all-MiniLM-L6-v2) in Chromium, from file://, offline.

Cells are drawn (a visible box with a colour from the scale, light and dark scheme), and a cell link
opens the example page with the viewer on the head view at that layer and head.
"""
from __future__ import annotations

import pytest

import demo_site as demo_site_build

MODEL = "all-minilm-l6-v2"
MAPS = ["prev", "next", "self", "cls", "sep", "punct", "entropy", "prev_argmax", "next_argmax", "entropy_norm",
        "coref_accuracy", "coref_mass"]

CELLS_JS = """() => Array.from(document.querySelectorAll('table.rg-heat')).map(t => ({
  map: t.dataset.map,
  cells: Array.from(t.querySelectorAll('td.rg-c')).map(td => {
    const r = td.getBoundingClientRect();
    return {layer: +td.dataset.layer, head: +td.dataset.head, w: r.width, h: r.height,
            bg: getComputedStyle(td).backgroundColor, nan: td.classList.contains('rg-nan'),
            href: td.querySelector('a') ? td.querySelector('a').getAttribute('href') : null};
  })}))"""


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    return demo_site_build.build(tmp_path_factory.getbasetemp()) / "site"  # shared with test_beyond.py


def _distinct(colours):
    return len(set(colours))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_atlas_cells_are_drawn(open_page, demo_site, scheme):
    page, _, _ = open_page((demo_site / "atlas" / f"{MODEL}.html").as_uri(), wait_ready=False)
    page.emulate_media(color_scheme=scheme)
    if scheme == "dark":  # Material follows the toggle, not only the media query: pick the slate scheme
        page.evaluate("document.body.setAttribute('data-md-color-scheme', 'slate')")
    tables = page.evaluate(CELLS_JS)
    assert [t["map"] for t in tables] == MAPS
    for t in tables:
        assert len(t["cells"]) == 72, t["map"]
        for c in t["cells"]:
            assert c["w"] > 10 and c["h"] > 10, (t["map"], c)
            assert c["nan"] or c["bg"] not in ("rgba(0, 0, 0, 0)", "transparent"), (t["map"], c)
            assert c["href"] and f"layer={c['layer']}&head={c['head']}" in c["href"]
        if t["map"] in ("prev", "next", "entropy"):
            assert _distinct([c["bg"] for c in t["cells"]]) > 5, t["map"]  # a scale, not one flat colour
    legend = page.eval_on_selector(".rg-legend-bar", "e => getComputedStyle(e).backgroundImage")
    assert "linear-gradient" in legend


def test_atlas_cell_opens_the_viewer_at_that_head(open_page, demo_site):
    page, _, _ = open_page((demo_site / "atlas" / f"{MODEL}.html").as_uri(), wait_ready=False)
    tables = {t["map"]: t["cells"] for t in page.evaluate(CELLS_JS)}
    cell = next(c for c in tables["next"] if (c["layer"], c["head"]) == (1, 8))
    selector = f"table[data-map='next'] td[data-layer='1'][data-head='8'] a"
    page.click(selector)
    page.wait_for_selector(".rg-viewer[data-rg-ready]", state="attached")
    example = cell["href"].split("/")[-1].split(".html")[0]
    assert page.url.split("#")[0].endswith(f"/examples/{example}.html")
    page.wait_for_function("() => { const s = ReportGenViewer.state(document.querySelector('.rg-viewer'));"
                           " return s && s.layer === 1 && s.heads.length === 1; }")
    state = page.evaluate("ReportGenViewer.state(document.querySelector('.rg-viewer'))")
    assert (state["view"], state["layer"], state["heads"], state["model"]) == ("head", 1, [8], MODEL)
    assert "layer=1" in page.evaluate("location.hash") and "head=8" in page.evaluate("location.hash")
