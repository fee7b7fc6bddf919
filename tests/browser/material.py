"""Driving Material for MkDocs' own widgets in browser tests."""
from __future__ import annotations


def search(page, query: str) -> list[str]:
    """Type ``query`` into the Material search box and return the result items' texts."""
    box = page.locator("input.md-search__input")
    if not box.is_visible():  # narrow screens: the search button opens the box
        page.click("label.md-header__button[for='__search']")
    box.click()
    box.press_sequentially(query, delay=30)  # real key strokes: Material searches on each one
    for _ in range(3):  # a query typed before the search index was ready is not run again by itself
        try:
            page.wait_for_selector(".md-search-result__item", timeout=7_000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError; type once more
            box.press("Space")
            box.press("Backspace")
    return page.locator(".md-search-result__item").all_inner_texts()
