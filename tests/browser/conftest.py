"""Browser fixtures: Debian's Chromium driven by Python Playwright, offline, pages opened from file://.

``open_page(url)`` returns ``(page, requests, errors)``: every request URL the page made and every
console error, page error and dialog. At teardown each opened page is checked again: any request
that is not ``file:`` or any error fails the test.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need Python Playwright")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for screenshots and downloads worth looking at (not committed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def problems(requests: list[str], errors: list[str]) -> list[str]:
    """Everything that makes a page fail: non-file requests and errors."""
    out = [f"non-file request: {url}" for url in requests if not url.startswith("file:")]
    return out + errors


@pytest.fixture
def open_page(browser):
    """open_page(url, viewport=..., wait_ready=True) -> (page, requests, errors), in a fresh offline context."""
    opened = []

    def _open(url: str, viewport: dict | None = None, wait_ready: bool = True, timeout: float = 30_000):
        context = browser.new_context(offline=True, accept_downloads=True,
                                      viewport=viewport or {"width": 1100, "height": 900})
        page = context.new_page()
        page.set_default_timeout(timeout)
        requests: list[str] = []
        errors: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.on("console", lambda message: errors.append(f"console.{message.type}: {message.text}")
                if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(f"page error: {error}"))

        def on_dialog(dialog):
            errors.append(f"dialog ({dialog.type}): {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        opened.append((context, requests, errors))
        page.goto(url)
        if wait_ready:
            page.wait_for_selector(".rg-viewer[data-rg-ready]", state="attached")
        return page, requests, errors

    yield _open
    found = []
    for context, requests, errors in opened:
        found += problems(requests, errors)
        context.close()
    assert not found, "browser problems:\n" + "\n".join(found)


@pytest.fixture(scope="session")
def harness(tmp_path_factory):
    from .harness import build_harness

    root = tmp_path_factory.mktemp("viewer-harness")
    return build_harness(root, seed=int(os.environ.get("RG_HARNESS_SEED", "1234")))
