"""Sortable and filterable tables, model pages and the keyboard on the demo site, in Chromium.

Sorting is checked against Python's own sort of the cells' text; filtering against the rows' data."""
from __future__ import annotations

import pytest

import demo_site as demo_site_build

MODEL = "all-minilm-l6-v2"
DESKTOP = {"width": 1400, "height": 900}
ROW_JS = "r => [r.cells[1].textContent.trim(), r.cells[2].textContent, +r.cells[5].textContent, r.cells[6].textContent]"
ALL_ROWS_JS = f"() => Array.from(document.querySelectorAll('#examples-table tbody tr')).map({ROW_JS})"
SHOWN_JS = f"() => Array.from(document.querySelectorAll('#examples-table tbody tr:not([hidden])')).map({ROW_JS})"
COLUMN_JS = "(col) => Array.from(document.querySelectorAll('#examples-table tbody tr')).map(r => r.cells[col].textContent.trim())"


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    return demo_site_build.build(tmp_path_factory.getbasetemp()) / "site"  # shared with the other demo tests


def test_example_list_sorts_and_filters(open_page, demo_site):
    page, _, _ = open_page((demo_site / "examples.html").as_uri(), viewport=DESKTOP, wait_ready=False)
    page.wait_for_selector("#examples-table[data-rg-sortable]")
    ids = page.evaluate(COLUMN_JS, 1)
    page.click("#examples-table thead th:nth-child(2) button.rg-sort")
    assert page.evaluate(COLUMN_JS, 1) == sorted(ids, key=str.lower)
    page.click("#examples-table thead th:nth-child(2) button.rg-sort")
    assert page.evaluate(COLUMN_JS, 1) == sorted(ids, key=str.lower, reverse=True)
    pairs = page.evaluate(COLUMN_JS, 5)
    page.click("#examples-table thead th:nth-child(6) button.rg-sort")
    assert page.evaluate(COLUMN_JS, 5) == sorted(pairs, key=int)
    # the filters search every page of the list: the expected rows come from all list pages, unfiltered
    every = []
    for name in ["examples.html"] + sorted(p.name for p in demo_site.glob("examples-*.html")):
        other, _, _ = open_page((demo_site / name).as_uri(), viewport=DESKTOP, wait_ready=False)
        every += other.evaluate(ALL_ROWS_JS)
    assert len({r[0] for r in every}) == len(every) > len(ids)
    assert {"en", "de", "tr"} <= {r[1] for r in every}
    page.select_option("select[data-filter='language']", "de")
    shown = page.evaluate(SHOWN_JS)
    german = [r[0] for r in every if r[1] == "de"]
    assert shown and {r[1] for r in shown} == {"de"} and [r[0] for r in shown] == german[:100]
    assert page.inner_text(".rg-filter-count").startswith(f"{len(german)} of {len(every)} examples match")
    page.select_option("select[data-filter='language']", "")
    page.select_option("select[data-filter='annotation']", "coref")
    counts = [r[2] for r in page.evaluate(SHOWN_JS)]
    assert counts and min(counts) >= 1 and len(counts) == min(100, sum(1 for r in every if r[2] >= 1))
    page.select_option("select[data-filter='annotation']", "")
    page.select_option("select[data-filter='models']", "splade-tiny")
    models = [r[3] for r in page.evaluate(SHOWN_JS)]
    assert models and all("splade-tiny" in m for m in models)
    assert len(models) == min(100, sum(1 for r in every if "splade-tiny" in r[3])) < len(every)


def test_model_page_states_the_verdict_and_links_heads(open_page, demo_site):
    page, _, _ = open_page((demo_site / "models" / f"{MODEL}.html").as_uri(), viewport=DESKTOP, wait_ready=False)
    verdict = page.eval_on_selector(".rg-verdict", "e => [e.dataset.verdict, e.textContent]")
    assert verdict[0] in ("beats", "none") and "Verdict" in verdict[1]
    links = page.eval_on_selector_all("#coref-table a", "e => e.map(a => a.getAttribute('href'))")
    assert len(links) == 10 and all(h.startswith(f"../heads/{MODEL}/") for h in links)
    padding = page.eval_on_selector("#coref-table td", "e => parseFloat(getComputedStyle(e).paddingLeft)")
    assert padding >= 6
    # the list of every example (310 here) is folded away: a closed box one line high
    folded = page.eval_on_selector(".rg-examples-box", "e => [e.open, e.getBoundingClientRect().height]")
    assert folded[0] is False and folded[1] < 80, folded
    accuracy = page.evaluate("Array.from(document.querySelectorAll('#coref-table tbody tr')).map(r => +r.cells[4].textContent)")
    page.focus("#coref-table thead th:nth-child(5) button.rg-sort")
    page.keyboard.press("Enter")
    assert page.evaluate("Array.from(document.querySelectorAll('#coref-table tbody tr')).map(r => +r.cells[4].textContent)") == sorted(accuracy)


# lunr splits "3-1" into 3 and 1*, which match nearly all of the demo's 324 head pages (checkpoints
# included); search.js puts the pages whose title holds "3-1" first
@pytest.mark.parametrize("query, title", [("wsc-016", "wsc-016"), ("3-1", "Head 3-1 of all-MiniLM-L6-v2")])
def test_search_snippets_read_as_text_and_hyphens_work(open_page, demo_site, query, title):
    from .material import search

    page, _, _ = open_page((demo_site / "index.html").as_uri(), viewport=DESKTOP, wait_ready=False)
    warnings = []
    page.on("console", lambda m: warnings.append(m.text) if m.type in ("warning", "error") else None)
    results = search(page, query)
    titles = [r.split("\n")[0].strip() for r in results]
    assert title in titles, titles
    assert query in titles[0].split(), titles  # the first result's title holds the query as a word
    if query.startswith("wsc"):
        assert "Language en Sentence A The man" in results[0]  # cells no longer run together
    assert not warnings, warnings
