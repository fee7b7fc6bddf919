"""Offline and GitHub Pages parity: the same built site/ from file:// and over HTTP at a sub-path.

GitHub project pages live at https://USER.github.io/REPO/, so the site is served from a parent
folder with ``python -m http.server`` on 127.0.0.1 (a free port) and opened at /repo/. In both modes
the test fails on any request that leaves file: / that server, on any console or page error, when a
viewer never becomes ready (``data-rg-ready``) and when the Material search box finds nothing.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reportgen.cli import main

MANIFEST = """\
title: Parity check
models:
  - id: {bert}
    name: Tiny BERT
  - id: {gpt2}
    name: Tiny GPT-2
examples:
  - id: cat-sad
    language: en
    a: The cat is very sad.
    b: Because it could not find food to eat.
    coref:
      - {{pronoun: it, antecedent: cat, candidates: [cat, food]}}
  - id: strawberries
    language: en
    a: I went to the store.
    b: At the store, I bought fresh strawberries.
  - id: katze
    language: de
    a: Die Katze ist sehr traurig.
"""


@pytest.fixture(scope="module")
def served(tiny_models, tmp_path_factory):
    """(root folder holding repo/, base URL http://127.0.0.1:PORT/repo/) of a freshly built site."""
    work = tmp_path_factory.mktemp("parity")
    manifest = work / "manifest.yaml"
    manifest.write_text(MANIFEST.format(bert=tiny_models["bert"], gpt2=tiny_models["gpt2"]), encoding="utf-8")
    assert main(["build", str(manifest), "--cache", str(work / "cache"), "--quiet", "--site",
                 "--out", str(work / "site_src"), "--config", str(work / "mkdocs.yml")]) == 0
    root = work / "pages"
    shutil.copytree(work / "site", root / "repo")
    server = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
                               "--directory", str(root)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        match = re.search(r"port (\d+)", line)
        assert match, f"http.server said: {line!r}"
        yield root, f"http://127.0.0.1:{match.group(1)}/repo/"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def visit(browser, served):
    """visit(url) -> page: a fresh context that lets only file: and our server through."""
    _, base = served
    allowed = ("file:", base.split("/repo/")[0] + "/")
    contexts = []
    found: list[str] = []

    def _visit(url: str):
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(allowed)
                      else (found.append(f"request left the site: {route.request.url}"), route.abort()))
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("console", lambda m: found.append(f"console.{m.type}: {m.text} ({page.url})")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: found.append(f"page error: {e} ({page.url})"))
        page.on("requestfailed", lambda r: found.append(f"failed: {r.url}") if r.url.startswith(allowed) else None)
        contexts.append(context)
        page.goto(url)
        return page

    yield _visit
    for context in contexts:
        context.close()
    assert not found, "\n".join(found)


def urls(served, mode: str) -> tuple[str, str]:
    root, base = served
    if mode == "http":
        return base + "index.html", base + "examples/cat-sad.html"
    site = root / "repo"
    return (site / "index.html").as_uri(), (site / "examples" / "cat-sad.html").as_uri()


from .material import search  # noqa: E402


@pytest.mark.parametrize("mode", ["http", "file"])
def test_home_page_lists_provenance_and_search_finds_examples(visit, served, mode):
    home, _ = urls(served, mode)
    page = visit(home)
    text = page.inner_text("article")
    assert "Tiny BERT" in text and "Tiny GPT-2" in text
    assert text.count("attention eager") == 2 and "torch " in text and "transformers " in text
    results = search(page, "strawberries")
    assert any("strawberries" in r.lower() for r in results), results


@pytest.mark.parametrize("mode", ["http", "file"])
def test_example_page_viewers_get_ready(visit, served, mode):
    _, example = urls(served, mode)
    page = visit(example)
    page.wait_for_selector(".rg-viewer[data-rg-ready]", state="attached")
    assert page.get_attribute(".rg-viewer", "data-rg-error") is None
    assert "Provenance" in page.inner_text("article")
    # a link to the model page resolves inside the sub-path too
    page.click("article a[href$='models/tiny-bert.html']")
    page.wait_for_load_state()
    assert page.url.endswith("/models/tiny-bert.html")
    assert ("/repo/" in page.url) if mode == "http" else page.url.startswith("file:")
    assert "Provenance" in page.inner_text("article")


def test_http_server_serves_the_site_at_a_sub_path(served):
    import urllib.request

    _, base = served
    with urllib.request.urlopen(base + "index.html", timeout=10) as response:
        assert response.status == 200
        assert b"md-search__input" in response.read()
