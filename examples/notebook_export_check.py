"""Run examples/notebook.ipynb, export it to HTML with nbconvert and open that file offline in Chromium.

The check a notebook user meets when they share an exported notebook: the code cells run in order in
one namespace and their displays are stored as a kernel stores them (``display_data`` with
``text/html``); ``jupyter nbconvert --to html --template lab`` writes the page; Chromium (Playwright,
offline, every non-file request aborted and counted) opens it and waits until every viewer has drawn.
nbconvert's own template asks for require.js and MathJax from a CDN (listed, not ours); the viewers
need nothing. ``--screenshot PNG`` saves the head and model view cells (docs/notebook-views.png).

Needs nbconvert (``pip install nbconvert``, not a reportgen dependency), Playwright and /usr/bin/chromium.
Run: ``HF_HUB_OFFLINE=1 python examples/notebook_export_check.py [--screenshot docs/notebook-views.png]``.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import IPython.display

NOTEBOOK = Path(__file__).resolve().parent / "notebook.ipynb"


def execute(source: Path, target: Path) -> int:
    """Run the code cells, store stdout and displays as outputs; return the number of HTML displays."""
    notebook = json.loads(source.read_text(encoding="utf-8"))
    namespace: dict = {}
    displays = 0
    for count, cell in enumerate((c for c in notebook["cells"] if c["cell_type"] == "code"), start=1):
        shown: list = []
        IPython.display.display = lambda *objects, **kw: shown.extend(objects)
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            exec(compile("".join(cell["source"]), f"cell {count}", "exec"), namespace)
        cell["execution_count"] = count
        cell["outputs"] = ([{"output_type": "stream", "name": "stdout", "text": stdout.getvalue()}]
                           if stdout.getvalue() else [])
        for item in shown:
            cell["outputs"].append({"output_type": "display_data", "metadata": {},
                                    "data": {"text/html": item.data, "text/plain": repr(item)}})
            displays += 1
    target.write_text(json.dumps(notebook), encoding="utf-8")
    return displays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", help="PNG of the head and model view cells")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="rg-notebook-"))
    executed = work / "notebook.ipynb"
    displays = execute(NOTEBOOK, executed)
    subprocess.run([sys.executable, "-m", "nbconvert", "--to", "html", "--template", "lab", str(executed)],
                   check=True, capture_output=True)
    page_path = work / "notebook.html"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(offline=True, viewport={"width": 1100, "height": 900})
        blocked: list[str] = []
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                      else (blocked.append(route.request.url), route.abort()))
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_path.as_uri())
        page.wait_for_function(f"document.querySelectorAll('.rg-viewer').length === {displays} && Array.from("
                               "document.querySelectorAll('.rg-viewer')).every(r => +r.getAttribute('data-rg-drawn') > 0)",
                               timeout=30_000)
        views = page.eval_on_selector_all(".rg-viewer", "rs => rs.map(r => [r.getAttribute('data-rg-view'), "
                                                        "r.getAttribute('data-rg-error')])")
        print(f"{page_path} ({page_path.stat().st_size:,} bytes): {displays} viewers drawn offline: {views}")
        print(f"requests aborted (nbconvert's template, not the viewers): {blocked}; page errors: {errors}")
        if args.screenshot:
            page.evaluate("r => ReportGenViewer.set(r, {token: 9})", page.query_selector(".rg-viewer"))
            page.wait_for_timeout(300)
            top, bottom = page.evaluate("() => { const cells = document.querySelectorAll('.jp-Cell'); return ["
                                        "cells[2].getBoundingClientRect().top + scrollY, "
                                        "cells[5].getBoundingClientRect().bottom + scrollY]; }")
            page.screenshot(path=args.screenshot, full_page=True,
                            clip={"x": 0, "y": max(0, top - 10), "width": 1100, "height": bottom - top + 20})
        browser.close()


if __name__ == "__main__":
    main()
