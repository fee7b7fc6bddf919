"""A 1,000-example site (it builds, and its home, atlas and an example page open).

Once per module, ``python -m reportgen build MANIFEST --site`` (a fresh process, as a user runs it)
builds the site of bench/gen_manifest.py's 1,000 English/Turkish/German pairs (every fourth with a
coreference pair) on a tiny random BERT (tests/tiny.py: 2 layers x 4 heads), so that the build takes
seconds, with ``--no-cache``; ``mkdocs build --strict`` runs too. With the default ``settings.display_limit`` (200), the
first 200 examples get viewer pages and data, the other 800 only count in the scores.

Pages are opened from file:// in an offline Chromium (``open_page`` fails the test on any non-file
request, console error, page error or dialog): the home page, the model's head atlas, the paginated
example list (100 per page: 10 pages), an example page with viewer data (its head view draws) and what
the site shows of an example beyond the display limit.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from .test_viewers_harness import PIXELS_JS
from .viewer_helpers import state

REPO = Path(__file__).resolve().parents[2]
COUNT = 1000
PER_PAGE = 100  # reportgen.render.pages.EXAMPLES_PER_PAGE
LIMIT = 200  # settings.display_limit, default
NAME = "Tiny BERT"
SLUG = "tiny-bert"
SHOWN = "ex0196"  # the last coreference example with viewer pages (every fourth example has a pair)
BEYOND = "ex0200"  # the first example beyond the display limit, a coreference example too


def bench_module(name: str):
    """bench/NAME.py (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ex(index: int) -> str:
    return f"ex{index:04d}"


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    import tiny
    import yaml

    work = tmp_path_factory.mktemp("large-site")
    gen = bench_module("gen_manifest")
    # A WordPiece vocabulary that knows the generator's words: as on MiniLM (8 to 118 tokens, 48 on
    # average), the examples spread over about 8 to 100 tokens and none is truncated (tiny.py's default
    # vocabulary, trained on a few sentences only, splits them into twice as many pieces).
    corpus = tiny.CORPUS + [" ".join(words) for words in gen.WORDS.values()] + [c[0] for c in gen.CORE.values()]
    model = tiny.build_tiny("bert", work / "tiny-bert", tokenizer=tiny.wordpiece_tokenizer(400, corpus))
    manifest = gen.manifest(COUNT, seed=0, model=str(model))
    manifest["models"][0]["name"] = NAME
    manifest["title"] = f"Large site: {COUNT} examples"
    path = work / "manifest.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "reportgen", "build", str(path), "--site", "--quiet",
                             "--no-cache", "--out", str(work / "site_src"), "--config", str(work / "mkdocs.yml")],
                            cwd=work, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - started
    assert result.returncode == 0, f"build failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    assert "truncated" not in result.stderr
    site = work / "site"
    print(f"\n1,000-example build on the tiny BERT with mkdocs: {seconds:.1f} s")
    return SimpleNamespace(site=site, manifest=manifest, seconds=seconds,
                           index=json.loads((site / "data" / "index.json").read_text(encoding="utf-8")),
                           heads=json.loads((site / "data" / SLUG / "heads.json").read_text(encoding="utf-8")))


def uri(large, relative: str) -> str:
    return (large.site / relative).as_uri()


# ----- the build: every example scored, viewer data for the first 200 only ---------------------------

def test_every_example_counts_and_only_shown_ones_have_viewer_data(large):
    [model] = large.index["models"]
    assert model["slug"] == SLUG
    assert [e["slug"] for e in model["examples"]] == [ex(i) for i in range(COUNT)]
    tokens = [e["tokens"] for e in model["examples"]]
    assert min(tokens) <= 12 and max(tokens) >= 80  # mixed lengths
    assert large.heads["examples"] == COUNT
    pairs = sum(len(e.get("coref", [])) for e in large.manifest["examples"])
    assert pairs == COUNT // 4
    assert large.heads["coreference"]["pairs"] == pairs and large.heads["coreference"]["examples"] == pairs
    pages = sorted(p.stem for p in (large.site / "examples").glob("*.html"))
    assert pages == [ex(i) for i in range(LIMIT)]
    data = sorted(p.name for p in (large.site / "data" / SLUG).iterdir() if p.is_dir())
    assert data == [ex(i) for i in range(LIMIT)]
    lists = sorted(p.name for p in large.site.glob("examples*.html"))
    assert len(lists) == COUNT // PER_PAGE and "examples.html" in lists and "examples-10.html" in lists


# ----- home and atlas ---------------------------------------------------------------------------------

def test_home_opens(open_page, large):
    page, _, _ = open_page(uri(large, "index.html"), wait_ready=False)
    page.wait_for_selector("h1")
    assert page.inner_text("h1").strip() == f"Large site: {COUNT} examples"
    text = page.inner_text(".rg-page")
    assert f"on {COUNT} examples" in text
    assert page.inner_text(".rg-without-pages").startswith(f"{COUNT - LIMIT} of {COUNT} examples have no viewer page")
    tables = page.locator(".rg-page table.rg-table")
    assert tables.nth(0).locator("tbody tr").count() == 1  # one model ...
    assert tables.nth(0).locator("tbody tr td").nth(4).inner_text().strip() == str(COUNT)  # ... that ran all
    assert tables.nth(1).locator("tbody tr").count() == PER_PAGE  # the first 100 examples, then a link
    assert page.get_attribute(f"a:text-is('All {COUNT} examples')", "href") == "examples.html"
    assert page.get_attribute(f".rg-page a:text-is('{ex(0)}')", "href") == f"examples/{ex(0)}.html"


ATLAS_CELLS_JS = """() => Array.from(document.querySelectorAll('table.rg-heat')).map(t => ({
  map: t.dataset.map,
  cells: Array.from(t.querySelectorAll('td.rg-c')).map(td => {
    const r = td.getBoundingClientRect(), a = td.querySelector('a');
    return {w: r.width, h: r.height, nan: td.classList.contains('rg-nan'),
            bg: getComputedStyle(td).backgroundColor, href: a ? a.getAttribute('href') : null};
  })}))"""


def test_atlas_opens_and_states_all_examples(open_page, large):
    page, _, _ = open_page(uri(large, f"atlas/{SLUG}.html"), wait_ready=False)
    page.wait_for_selector("table.rg-heat")
    text = page.inner_text(".rg-atlas")
    assert f"scored on {COUNT} examples" in text
    assert f"{COUNT // 4} pairs from {COUNT // 4} examples" in text  # coreference, all pairs
    tables = page.evaluate(ATLAS_CELLS_JS)
    assert len(tables) == 14  # twelve score maps and the attention probe's two weight maps (250 pairs)
    shown = {ex(i) for i in range(LIMIT)}
    for table in tables:
        assert len(table["cells"]) == 2 * 4, table["map"]
        for cell in table["cells"]:
            assert cell["w"] > 10 and cell["h"] > 10, (table["map"], cell)
            assert cell["nan"] or cell["bg"] not in ("rgba(0, 0, 0, 0)", "transparent"), (table["map"], cell)
            # every link opens an example that has a viewer page
            if cell["href"]:
                assert re.match(r"\.\./examples/(ex\d{4})\.html#", cell["href"]).group(1) in shown, cell
    # the per-pair coreference detail lists every pair, the 800 examples beyond the limit without a link
    detail = {row[0]: row[1] for row in page.evaluate(
        "() => Array.from(document.querySelectorAll('table.rg-detail tbody tr')).map(tr => "
        "[tr.cells[0].textContent.trim(), tr.cells[0].querySelector('a') ? "
        "tr.cells[0].querySelector('a').getAttribute('href') : null])")}
    assert sorted(detail) == [ex(i) for i in range(0, COUNT, 4)]
    assert detail[BEYOND] is None and detail[ex(COUNT - 4)] is None
    assert detail[SHOWN].startswith(f"../examples/{SHOWN}.html#") and "&token=" in detail[SHOWN]  # pronoun pinned


# ----- the example list: 10 pages of 100 ----------------------------------------------------------------

def _list_rows(page) -> list[dict]:
    return page.evaluate("""() => Array.from(document.querySelectorAll('.rg-page table.rg-table tbody tr')).map(tr => ({
      number: +tr.cells[0].textContent, id: tr.cells[1].textContent.trim(),
      href: tr.cells[1].querySelector('a') ? tr.cells[1].querySelector('a').getAttribute('href') : null}))""")


def test_example_list_is_paginated(open_page, large):
    page, _, _ = open_page(uri(large, "examples.html"), wait_ready=False)
    page.wait_for_selector(".rg-page table.rg-table")
    assert f"Page 1 of {COUNT // PER_PAGE}." in page.inner_text(".rg-page")
    links = page.evaluate("() => Array.from(document.querySelectorAll('.rg-page > p:first-of-type a'))"
                          ".map(a => [a.textContent, a.getAttribute('href')])")
    assert links == [[str(k), f"examples-{k}.html"] for k in range(2, COUNT // PER_PAGE + 1)]
    rows = _list_rows(page)
    assert [r["id"] for r in rows] == [ex(i) for i in range(PER_PAGE)]
    assert all(r["href"] == f"examples/{r['id']}.html" for r in rows)

    page.click(f".rg-page > p:first-of-type a:text-is('{COUNT // PER_PAGE}')")  # the last page
    page.wait_for_url(re.compile(r"examples-10\.html$"))
    assert f"Page {COUNT // PER_PAGE} of {COUNT // PER_PAGE}." in page.inner_text(".rg-page")
    rows = _list_rows(page)
    assert [r["number"] for r in rows] == list(range(COUNT - PER_PAGE + 1, COUNT + 1))
    assert [r["id"] for r in rows] == [ex(i) for i in range(COUNT - PER_PAGE, COUNT)]
    assert all(r["href"] is None for r in rows)  # beyond the display limit: listed, no viewer page
    note = page.inner_text(".rg-without-pages")  # and the page says why
    assert note.startswith(f"{COUNT - LIMIT} of {COUNT} examples have no viewer page") and f"first {LIMIT}" in note

    page.click(".rg-page > p:first-of-type a:text-is('3')")  # examples 200-299: the limit's edge
    page.wait_for_url(re.compile(r"examples-3\.html$"))
    rows = _list_rows(page)
    assert rows[0]["id"] == BEYOND and rows[0]["href"] is None
    page.click(".rg-page > p:first-of-type a:text-is('2')")
    page.wait_for_url(re.compile(r"examples-2\.html$"))
    rows = _list_rows(page)
    assert rows[-1]["id"] == ex(LIMIT - 1) and rows[-1]["href"] == f"examples/{ex(LIMIT - 1)}.html"


SHOWN_ROWS_JS = """() => Array.from(document.querySelectorAll('#examples-table tbody tr:not([hidden])')).map(tr => ({
  number: +tr.cells[0].textContent, id: tr.cells[1].textContent.trim(), language: tr.cells[2].textContent,
  pairs: +tr.cells[5].textContent,
  href: tr.cells[1].querySelector('a') ? tr.cells[1].querySelector('a').getAttribute('href') : null}))"""


def test_example_list_filters_act_on_every_page(open_page, large):
    """The filters of page 3 find matches on all ten pages, 100 at a time; no filter restores page 3."""
    page, _, _ = open_page(uri(large, "examples-3.html"), wait_ready=False)
    page.wait_for_selector("#examples-table[data-rg-sortable]")
    page.select_option("select[data-filter='language']", "de")
    wanted = [(k + 1, e["id"]) for k, e in enumerate(large.manifest["examples"]) if e["language"] == "de"]
    assert len(wanted) > PER_PAGE
    seen, hrefs = [], {}
    for _ in range(len(wanted) // PER_PAGE + 1):
        rows = page.evaluate(SHOWN_ROWS_JS)
        assert 0 < len(rows) <= PER_PAGE and {r["language"] for r in rows} == {"de"}
        seen += [(r["number"], r["id"]) for r in rows]
        hrefs.update((r["id"], r["href"]) for r in rows)
        if page.is_enabled(".rg-filter-pager .rg-page-next"):
            page.click(".rg-filter-pager .rg-page-next")
    assert seen == wanted  # every German example of the whole list, in order, each once
    assert page.inner_text(".rg-filter-count").startswith(f"{len(wanted)} of {COUNT} examples match")
    assert all(href == (f"examples/{i}.html" if int(i[2:]) < LIMIT else None) for i, href in hrefs.items())
    page.select_option("select[data-filter='language']", "")
    page.select_option("select[data-filter='annotation']", "coref")
    coref = [e["id"] for e in large.manifest["examples"] if e.get("coref")]
    page.click("#examples-table thead th:nth-child(2) button.rg-sort")  # sorting sorts all the matches
    page.click("#examples-table thead th:nth-child(2) button.rg-sort")
    rows = page.evaluate(SHOWN_ROWS_JS)
    assert [r["id"] for r in rows] == sorted(coref, reverse=True)[:PER_PAGE] and all(r["pairs"] >= 1 for r in rows)
    page.select_option("select[data-filter='annotation']", "")
    assert [r["id"] for r in page.evaluate(SHOWN_ROWS_JS)] == [ex(i) for i in range(2 * PER_PAGE, 3 * PER_PAGE)]


# ----- example pages ------------------------------------------------------------------------------------

def test_example_page_with_viewer_data_draws_the_head_view(open_page, large):
    page, requests, _ = open_page(uri(large, f"examples/{SHOWN}.html"))
    s = state(page)
    assert (s["view"], s["layer"], s["model"], len(s["heads"])) == ("head", 0, SLUG, 4)
    assert s["units"] > 10 and s["edges"] > 0
    pixels = page.evaluate(PIXELS_JS, ".rgv-lines")
    assert pixels["count"] > 500, pixels
    layer_files = [u for u in requests if u.endswith(f"/data/{SLUG}/{SHOWN}/L.js")]
    assert len(layer_files) == 1  # a small example's layers share one file, loaded once
    assert not any(f"/data/{SLUG}/{SHOWN}/L0.js" in u for u in requests)
    assert "Coreference" in page.inner_text(".rg-example")


def test_example_beyond_the_limit_has_no_page_but_counts(open_page, large):
    """Beyond ``display_limit`` an example gets no page and no viewer data (README: "examples that get
    viewer pages (all count in scores)"); the site lists it unlinked, says why, and scores it (its
    coreference pair is in the atlas's per-pair detail, see above)."""
    assert not (large.site / "examples" / f"{BEYOND}.html").exists()
    assert not (large.site / "data" / SLUG / BEYOND).exists()
    assert BEYOND in [e["slug"] for e in large.index["models"][0]["examples"]]
    # nothing on the site links to a page that does not exist
    for html in [large.site / "index.html", large.site / f"models/{SLUG}.html", large.site / f"atlas/{SLUG}.html",
                 large.site / "compare.html", *large.site.glob("examples*.html")]:
        text = html.read_text(encoding="utf-8")
        assert f"examples/{BEYOND}.html" not in text, html.name
    page, _, _ = open_page(uri(large, f"models/{SLUG}.html"), wait_ready=False)
    page.wait_for_selector(".rg-page h1")
    assert f"scores pooled over {COUNT} examples" in page.inner_text(".rg-page")
    listed = page.locator(".rg-inline-list")  # the model page's folded list of every example
    assert BEYOND in listed.text_content() and listed.locator(f"a:has-text('{BEYOND}')").count() == 0


# ----- bench/open_site.py's pages and "drawn" conditions hold on this site -------------------------------

def test_bench_open_site_conditions(open_page, large):
    """What bench/open_site.py times (it launches its own Chromium; here its page list and conditions)."""
    bench = bench_module("open_site")
    pages = bench.pages(large.site)
    assert [label for label, _, _ in pages] == ["home", f"atlas ({SLUG})", "example list (page 1)",
                                                f"example ({ex(0)}, head view)"]
    for label, path, ready in pages:
        page, _, _ = open_page(path.as_uri(), wait_ready=False)
        page.wait_for_function(ready, timeout=30_000)
