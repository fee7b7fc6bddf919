"""The coreference workflow and site navigation on the demo (real all-MiniLM-L6-v2), in Chromium.

From the atlas's best coreference cell to an example page with the pronoun pinned and the annotation
marked; per-head pages; previous/next links; no sideways scrolling at 390 px; the 404 page from
file:// and under a sub-path. Screenshots (desktop, phone, dark) go to tests/artifacts/, first-draw
times of example pages to tests/artifacts/first-draw.json.
"""
from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

import demo_site as demo_site_build

MODEL = "all-minilm-l6-v2"
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}

BEST_COREF_JS = """() => {
  let best = null;
  document.querySelectorAll('[data-score="coref_accuracy"] a[data-value]').forEach(a => {
    if (!best || +a.dataset.value > +best.dataset.value) best = a;
  });
  return best && {href: best.getAttribute('href'), value: +best.dataset.value,
                  layer: +best.closest('td').dataset.layer, head: +best.closest('td').dataset.head};
}"""

MARKS_JS = """() => ({
  roles: Array.from(document.querySelectorAll('.rgv-col.rgv-from .rgv-tok[data-coref-role]'))
    .map(e => [e.dataset.corefRole, e.textContent]),
  pinned: Array.from(document.querySelectorAll('.rgv-tok.rgv-pinned')).map(e => e.dataset.token),
  legend: Array.from(document.querySelectorAll('.rgv-coref-legend [data-coref-role]')).map(e => e.dataset.corefRole),
  panelHeads: document.querySelectorAll('.rgv-coref-table thead th[data-head]').length,
  viewerTop: document.querySelector('.rg-viewer').getBoundingClientRect().top,
  tabsTop: document.querySelector('.rgv-tabs').getBoundingClientRect().top,
})"""

SIDEWAYS_JS = """() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"""


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    return demo_site_build.build(tmp_path_factory.getbasetemp()) / "site"  # shared with the other demo tests


def _dark(page):
    page.emulate_media(color_scheme="dark")
    page.evaluate("document.body.setAttribute('data-md-color-scheme', 'slate')")


def test_best_coreference_cell_lands_on_the_pronoun(open_page, demo_site, artifacts):
    atlas = (demo_site / "atlas" / f"{MODEL}.html").as_uri()
    page, _, _ = open_page(atlas, viewport=DESKTOP, wait_ready=False)
    best = page.evaluate(BEST_COREF_JS)
    cells = page.eval_on_selector_all('[data-score="coref_accuracy"] a[data-value]', "e => e.length")
    assert cells == 72  # one value link per head of MiniLM's 6 x 12
    assert best and "token=" in best["href"], best
    page.evaluate("document.getElementById('map-coref_accuracy').scrollIntoView()")
    page.screenshot(path=str(artifacts / "coref-atlas-desktop.png"))
    page.click(f"[data-score='coref_accuracy'] td[data-layer='{best['layer']}'][data-head='{best['head']}'] a[data-value]")
    page.wait_for_selector(".rg-viewer[data-rg-ready]", state="attached")
    page.wait_for_selector(".rgv-tok[data-coref-role='pronoun']")
    hash_ = page.evaluate("location.hash")
    token = int(re.search(r"token=(\d+)", hash_).group(1))
    state = page.evaluate("ReportGenViewer.state()")
    assert (state["layer"], state["heads"], state["token"]) == (best["layer"], [best["head"]], token)
    marks = page.evaluate(MARKS_JS)
    roles = [r for r, _ in marks["roles"]]
    assert "pronoun" in roles and "antecedent" in roles, marks
    assert marks["pinned"] == [str(token)]
    pronoun_tokens = page.eval_on_selector_all(".rgv-col.rgv-from .rgv-tok[data-coref-role='pronoun']",
                                               "e => e.map(x => +x.dataset.token)")
    assert token in pronoun_tokens
    assert marks["legend"] == ["pronoun", "antecedent", "candidate"]
    assert marks["panelHeads"] == 12  # one column per head of the layer
    assert 0 <= marks["tabsTop"] < 150, marks  # landed on the viewer: its tabs at the top of the window
    # the panel's column of the linked head: right when the antecedent's W is strictly the largest
    column = page.eval_on_selector_all(f".rgv-coref-table tbody tr[data-candidate] td[data-head='{best['head']}']",
                                       "e => e.map(td => +td.dataset.value)")
    ant = page.evaluate("(() => { const v = document.querySelector('.rg-viewer');"
                        " return +v.querySelector('.rgv-coref-table th[data-coref-role=antecedent]').parentElement.dataset.candidate; })()")
    right = column[ant] == max(column) and column.count(max(column)) == 1
    shown = page.eval_on_selector(f".rgv-coref-verdict td[data-head='{best['head']}']", "e => e.textContent")
    assert shown == ("\u2713" if right else "\u2717")
    page.screenshot(path=str(artifacts / "coref-example-desktop.png"))
    page.emulate_media(color_scheme="dark")  # Material follows the media query on a fresh load
    page.reload()
    page.wait_for_selector(".rg-viewer[data-rg-ready]", state="attached")
    _dark(page)
    page.wait_for_timeout(300)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(255, 255, 255)"
    page.screenshot(path=str(artifacts / "coref-example-dark.png"))


def test_every_atlas_head_link_has_a_page(open_page, demo_site, artifacts):
    page, _, _ = open_page((demo_site / "atlas" / f"{MODEL}.html").as_uri(), viewport=DESKTOP, wait_ready=False)
    links = page.eval_on_selector_all("[data-score] a.rg-head-link", "e => e.map(a => a.href)")
    maps = page.eval_on_selector_all("[data-score]", "e => e.length")
    assert maps >= 11 and len(links) == maps * 72
    targets = {unquote(link.split("file://", 1)[1]) for link in links}
    assert len(targets) == 72
    missing = [t for t in targets if not Path(t).is_file()]
    assert not missing, missing[:5]
    page.goto((demo_site / "heads" / MODEL / "3-1.html").as_uri())
    rows = page.eval_on_selector_all("table.rg-head-scores tr[data-score]", "e => e.map(r => r.dataset.score)")
    assert "coref_accuracy" in rows and "prev" in rows and "entropy" in rows
    verdict = page.eval_on_selector(".rg-verdict", "e => e.dataset.verdict")
    assert verdict in ("beats", "none")
    example_links = page.eval_on_selector_all("tr[data-score='coref_accuracy'] a", "e => e.map(a => a.getAttribute('href'))")
    assert example_links and all("layer=3&head=1" in h and "token=" in h for h in example_links)
    page.screenshot(path=str(artifacts / "coref-head-desktop.png"))
    page.emulate_media(color_scheme="dark")
    page.reload()
    _dark(page)
    page.screenshot(path=str(artifacts / "coref-head-dark.png"))


def test_example_pages_link_previous_and_next(open_page, demo_site):
    index = sorted((demo_site / "examples").glob("*.html"))
    page, _, _ = open_page(index[0].as_uri(), viewport=DESKTOP)
    seen = []
    for _ in range(3):
        prev = page.eval_on_selector_all("a[rel='prev']", "e => e.map(a => a.href)")
        nxt = page.eval_on_selector("a[rel='next']", "a => a.href")
        back = page.eval_on_selector("a.rg-back", "a => a.href")
        assert Path(unquote(back.split("file://", 1)[1])).is_file()
        here = page.url.split("#")[0]
        if seen:
            assert prev == [seen[-1]]
        seen.append(here)
        page.goto(nxt)
        page.wait_for_selector(".rg-viewer[data-rg-ready]", state="attached")
    assert page.eval_on_selector("a[rel='prev']", "a => a.href") == seen[-1]


@pytest.mark.parametrize("path", ["index.html", f"atlas/{MODEL}.html", "examples/wsc-016.html",
                                  f"heads/{MODEL}/3-1.html", f"models/{MODEL}.html", "compare.html", "examples.html"])
def test_no_sideways_scroll_on_a_phone(open_page, demo_site, artifacts, path):
    page, _, _ = open_page((demo_site / path).as_uri(), viewport=PHONE, wait_ready=path.startswith("examples/"))
    width, client = page.evaluate(SIDEWAYS_JS)
    assert width <= client, f"{path}: {width} px wide in a {client} px window"
    if path.startswith(("atlas", "examples/", "heads")):
        name = path.split("/")[0]
        if name == "atlas":
            overflowing = page.evaluate("Array.from(document.querySelectorAll('.rg-heat-wrap'))"
                                        ".filter(e => e.scrollWidth > e.clientWidth).length")
            assert overflowing == 0  # the heat maps scale to the phone, no scrolling inside them either
            page.evaluate("document.getElementById('map-coref_accuracy').scrollIntoView()")
        page.screenshot(path=str(artifacts / f"coref-{name}-phone.png"))


def test_404_page_from_file_and_under_a_sub_path(browser, open_page, demo_site, tmp_path):
    page, requests, _ = open_page((demo_site / "404.html").as_uri(), wait_ready=False)
    css = [u for u in requests if u.endswith(".css")]
    assert css and all(Path(unquote(u.split("file://", 1)[1])).is_file() for u in css)
    assert page.evaluate("getComputedStyle(document.querySelector('.md-header')).position") in ("sticky", "fixed")
    root = tmp_path / "pages"
    root.mkdir()
    (root / "repo").symlink_to(demo_site, target_is_directory=True)
    server = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
                               "--directory", str(root)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = re.search(r"port (\d+)", server.stdout.readline()).group(1)
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        failed = []
        page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(f"http://127.0.0.1:{port}/repo/404.html")
        page.wait_for_load_state("load")
        assert not failed, failed
        assert page.evaluate("getComputedStyle(document.querySelector('.md-header')).position") in ("sticky", "fixed")
        context.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_first_draw_times_of_example_pages(open_page, demo_site, artifacts):
    """First draw (navigation start to the viewer's data-rg-ready) of 12 example pages, median and worst."""
    pages = sorted((demo_site / "examples").glob("*.html"))[:12]
    page, _, _ = open_page(pages[0].as_uri(), viewport=DESKTOP)
    times = {}
    for path in pages:
        page.goto(path.as_uri())
        page.wait_for_selector(".rg-viewer[data-rg-ready]", state="attached")
        times[path.stem] = page.evaluate("performance.getEntriesByName('rg-first-draw')[0].startTime")
    values = sorted(times.values())
    summary = {"pages": len(values), "median_ms": round(statistics.median(values), 1), "worst_ms": round(values[-1], 1),
               "per_page_ms": {k: round(v, 1) for k, v in times.items()}}
    (artifacts / "first-draw.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    assert summary["worst_ms"] < 5000, summary


@pytest.mark.parametrize("path", [f"atlas/{MODEL}.html", f"heads/{MODEL}/3-1.html", f"models/{MODEL}.html",
                                  "examples.html", "examples/wsc-016.html", "compare.html"])
def test_tables_fit_at_1400_px(open_page, demo_site, path):
    page, _, _ = open_page((demo_site / path).as_uri(), viewport=DESKTOP, wait_ready=path.startswith("examples/"))
    clipped = page.evaluate("""() => Array.from(document.querySelectorAll('.rg-scroll, .rg-heat-wrap, .rg-rank-box, table'))
      .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
      .map(e => e.className + ' ' + e.scrollWidth + '>' + e.clientWidth)""")
    assert clipped == []
    assert page.evaluate(SIDEWAYS_JS)[0] <= DESKTOP["width"]
    if path == "compare.html":  # the per-translation tables: every head column inside the content column
        widths = page.evaluate("""() => Array.from(document.querySelectorAll('table.rg-groups')).map(t =>
          [t.getBoundingClientRect().right, t.closest('.rg-page, article, .md-content').getBoundingClientRect().right])""")
        assert widths and all(right <= content + 1 for right, content in widths), widths
    if path.startswith("examples/"):  # provenance is folded: the head view starts on the first screen
        top = page.evaluate("document.querySelector('.rgv-head-graph').getBoundingClientRect().top")
        assert top < DESKTOP["height"] - 100, top


PIXEL_ROLES_JS = """() => {
  // the colours found in the tick columns of the first thumbnail (lines: left of the left ends; heat map: left edge)
  const canvas = document.querySelector('.rgv-thumb[data-layer="0"][data-head="0"] canvas');
  const size = parseFloat(canvas.style.width), ratio = canvas.width / size, ctx = canvas.getContext('2d');
  const want = {pronoun: [216, 27, 96], antecedent: [46, 157, 74], candidate: [224, 160, 0]}, found = {};
  [size * 0.18 - 4.5, 1].forEach(x => {
    const data = ctx.getImageData(Math.round(x * ratio), 0, 1, canvas.height).data;
    for (let y = 0; y < canvas.height; y++) {
      for (const [role, rgb] of Object.entries(want)) {
        if (data[4 * y] === rgb[0] && data[4 * y + 1] === rgb[1] && data[4 * y + 2] === rgb[2]) found[role] = true;
      }
    }
  });
  return Object.keys(found).sort();
}"""


def test_model_and_neuron_views_mark_the_coreference_tokens(open_page, demo_site, artifacts):
    page, _, _ = open_page((demo_site / "atlas" / f"{MODEL}.html").as_uri(), viewport=DESKTOP, wait_ready=False)
    best = page.evaluate(BEST_COREF_JS)
    page.click(f"[data-score='coref_accuracy'] td[data-layer='{best['layer']}'][data-head='{best['head']}'] a[data-value]")
    page.wait_for_selector(".rg-viewer[data-rg-ready]", state="attached")
    token = page.evaluate("ReportGenViewer.state().token")
    marked = page.eval_on_selector_all(".rgv-col.rgv-from .rgv-tok[data-coref-role]",
                                       "e => e.map(x => [+x.dataset.token, x.dataset.corefRole])")
    assert token >= 0 and [token, "pronoun"] in marked
    drawn = page.evaluate("+document.querySelector('.rg-viewer').dataset.rgDrawn")
    page.evaluate("ReportGenViewer.set(null, {view: 'model'})")
    page.wait_for_function(f"+document.querySelector('.rg-viewer').dataset.rgDrawn > {drawn}")
    marks = dict(m.split(":") for m in page.eval_on_selector(".rgv-model-grid", "g => g.dataset.corefMarks").split())
    assert marks.get(str(token)) == "pronoun" and "antecedent" in marks.values(), marks
    assert page.is_visible(".rgv-model-coref") and page.is_visible(".rgv-coref-legend")
    assert {"pronoun", "antecedent"} <= set(page.evaluate(PIXEL_ROLES_JS))
    page.screenshot(path=str(artifacts / "coref-model-view-desktop.png"))
    drawn = page.evaluate("+document.querySelector('.rg-viewer').dataset.rgDrawn")
    page.evaluate("ReportGenViewer.set(null, {view: 'neuron'})")
    page.wait_for_function(f"+document.querySelector('.rg-viewer').dataset.rgDrawn > {drawn}")
    rows = page.eval_on_selector_all(".rgv-neuron-mark[data-coref-role]",
                                     "e => e.map(x => [x.dataset.row, +x.dataset.token, x.dataset.corefRole])")
    assert ["query", token, "pronoun"] in rows, rows
    assert ["key", token, "pronoun"] in rows and any(r[0] == "key" and r[2] == "antecedent" for r in rows), rows
    assert all(marks[str(t)] == role for _, t, role in rows)  # the same roles as the model view's
    assert page.is_visible(".rgv-coref-legend") and page.is_visible(".rgv-neuron-mark[data-coref-role='antecedent']")
    page.screenshot(path=str(artifacts / "coref-neuron-view-desktop.png"))
