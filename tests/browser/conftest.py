"""Browser fixtures: Debian's Chromium driven by Python Playwright, offline, pages opened from file://.

Chromium is the first of ``CHROMIUM_NAMES`` found on PATH. Without it (or without Playwright) the
browser tests skip on a developer's machine and fail when the environment variable ``CI`` is set, so
that CI never passes without having run them.

``open_page(url)`` returns ``(page, requests, errors)``: every request URL the page made and every
console error, page error and dialog. At teardown each opened page is checked again: any request
that is not ``file:`` or any error fails the test.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser")  # Debian's package, and the name some distributions use
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def find_chromium() -> str | None:
    """Path of the Chromium executable on PATH, or None."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def missing(reason: str) -> None:
    """A browser-test prerequisite is missing: fail under CI, skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so the browser tests must run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    chromium = find_chromium()
    if chromium is None:
        missing(f"browser tests need Chromium on PATH ({' or '.join(CHROMIUM_NAMES)}; apt-get install -y chromium)")
    try:
        from playwright import sync_api  # deferred: only browser tests need Playwright, and its absence is reported here
    except ImportError:
        missing("browser tests need Python Playwright (pip install -e '.[test]')")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
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
