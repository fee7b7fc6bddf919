"""Time how long a built site's main pages take to open and draw, in Debian's Chromium, from file://.

``open_site(site_dir)`` opens, each in a fresh offline browser context (nothing cached):

* ``home``: ``index.html`` until it is loaded and its heading and model table are laid out;
* ``atlas``: the first model's head atlas (``atlas/<model>.html``) until every heat-map cell has a size
  and a background colour;
* ``example list``: ``examples.html`` (page 1 of the paginated list) until its table is laid out;
* ``example``: the first example with a viewer page until the viewer is ready and the head view's canvas
  has non-blank pixels (layer 0 drawn).

and returns ``[(label, seconds from navigation to drawn), ...]``. It raises ``RuntimeError`` when a page
fails to draw within the timeout, makes any request that is not ``file:`` or reports a console error,
page error or dialog. Chromium (``chromium`` on PATH) through Python Playwright, with the arguments of the
browser tests (tests/browser/conftest.py).

It starts its own Playwright (sync API): call it from a thread with no Playwright session running.

Run: ``python bench/open_site.py SITE_DIR [--timeout 60]`` prints a markdown table.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

CHROMIUM = "chromium"  # looked up on PATH
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

HOME_JS = """() => { const h = document.querySelector('.rg-page h1'), t = document.querySelector('.rg-page table');
  return document.readyState === 'complete' && !!h && !!t && t.getBoundingClientRect().height > 0; }"""
ATLAS_JS = """() => { if (document.readyState !== 'complete') return false;
  const cells = document.querySelectorAll('table.rg-heat td.rg-c');
  return cells.length > 0 && Array.from(cells).every(td => {
    const r = td.getBoundingClientRect(), bg = getComputedStyle(td).backgroundColor;
    const coloured = td.classList.contains('rg-nan') || (bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent');
    return r.width > 0 && r.height > 0 && coloured; }); }"""
LIST_JS = """() => { const rows = document.querySelectorAll('.rg-page table.rg-table tbody tr');
  return document.readyState === 'complete' && rows.length > 0
    && rows[rows.length - 1].getBoundingClientRect().height > 0; }"""
# The head view's line canvas has a pixel that differs from its first one: something is drawn.
EXAMPLE_JS = """() => { const root = document.querySelector('.rg-viewer');
  if (!root || !root.hasAttribute('data-rg-ready')) return false;
  const canvas = root.querySelector('canvas.rgv-lines');
  if (!canvas || !canvas.width || !canvas.height) return false;
  const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 4; i < d.length; i += 4)
    if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2] || d[i + 3] !== d[3]) return true;
  return false; }"""


def pages(site_dir: Path) -> list[tuple[str, Path, str]]:
    """(label, file, JS condition that holds once the page's main content is drawn)."""
    site_dir = Path(site_dir)
    index_file = site_dir / "data" / "index.json"
    if not index_file.is_file():
        raise RuntimeError(f"{site_dir}: not a built reportgen site (no data/index.json)")
    index = json.loads(index_file.read_text(encoding="utf-8"))
    models = [m for m in index["models"] if m.get("heads_file")]
    if not models:
        raise RuntimeError(f"{site_dir}: no model with scores in data/index.json")
    slug = models[0]["slug"]
    example = next((e["slug"] for m in models for e in m["examples"]
                    if (site_dir / "examples" / f"{e['slug']}.html").exists()), None)
    if example is None:
        raise RuntimeError(f"{site_dir}: no example page (examples/*.html)")
    out = [("home", site_dir / "index.html", HOME_JS),
           (f"atlas ({slug})", site_dir / "atlas" / f"{slug}.html", ATLAS_JS),
           ("example list (page 1)", site_dir / "examples.html", LIST_JS),
           (f"example ({example}, head view)", site_dir / "examples" / f"{example}.html", EXAMPLE_JS)]
    for label, path, _ in out:
        if not path.exists():
            raise RuntimeError(f"{label}: {path} does not exist")
    return out


def open_site(site_dir: Path, timeout: float = 60.0) -> list[tuple[str, float]]:
    """Seconds from navigation until each main page of the built site at ``site_dir`` is drawn."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    chromium = shutil.which(CHROMIUM)
    if chromium is None:
        raise RuntimeError(f"needs Chromium on PATH ({CHROMIUM}; apt-get install -y chromium)")
    results: list[tuple[str, float]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for label, path, ready in pages(site_dir):
                context = browser.new_context(offline=True, viewport={"width": 1100, "height": 900})
                try:
                    page = context.new_page()
                    problems: list[str] = []
                    page.on("request", lambda r: problems.append(f"non-file request: {r.url}")
                            if not r.url.startswith("file:") else None)
                    page.on("console", lambda m: problems.append(f"console.error: {m.text}")
                            if m.type == "error" else None)
                    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
                    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
                    started = time.perf_counter()
                    try:
                        page.goto(path.resolve().as_uri(), timeout=timeout * 1000)
                        page.wait_for_function(ready, timeout=timeout * 1000)
                    except PlaywrightError as error:
                        raise RuntimeError(f"{label} ({path}) did not draw within {timeout:g} s: "
                                           f"{str(error).splitlines()[0]}") from None
                    seconds = time.perf_counter() - started
                    page.wait_for_load_state("networkidle", timeout=timeout * 1000)  # late requests count too
                    if problems:
                        raise RuntimeError(f"{label} ({path}):\n" + "\n".join(problems))
                    results.append((label, seconds))
                finally:
                    context.close()
        finally:
            browser.close()
    return results


def table(rows: list[tuple[str, float]]) -> str:
    lines = ["| page | seconds to drawn |", "|---|---:|"]
    lines += [f"| {label} | {seconds:.2f} |" for label, seconds in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="a built site/ folder (mkdocs output)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per page (default: 60)")
    args = parser.parse_args(argv)
    try:
        rows = open_site(args.site, timeout=args.timeout)
    except RuntimeError as error:
        print(f"open_site: {error}", file=sys.stderr)
        return 1
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
