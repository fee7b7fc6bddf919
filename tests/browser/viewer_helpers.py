"""Helpers for pages with one reportgen viewer: read its state, change it, wait for the redraw."""
from __future__ import annotations


def state(page) -> dict:
    return page.evaluate("ReportGenViewer.state(document.querySelector('.rg-viewer'))")


def drawn(page) -> int:
    return int(page.get_attribute(".rg-viewer", "data-rg-drawn"))


def wait_redraw(page, before: int) -> None:
    page.wait_for_function("d => +document.querySelector('.rg-viewer').getAttribute('data-rg-drawn') > d", arg=before)


def set_state(page, **changes) -> None:
    before = drawn(page)
    page.evaluate("c => ReportGenViewer.set(document.querySelector('.rg-viewer'), c)", changes)
    wait_redraw(page, before)
