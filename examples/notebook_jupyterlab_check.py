"""Run examples/notebook.ipynb in a live JupyterLab and check that every view draws, offline.

Starts ``jupyter lab`` on a copy of the notebook (a temporary folder, no token, localhost only), opens it
in Chromium (Playwright) with every request that leaves the server aborted and listed, runs the cells
with Shift+Enter as a user would, and waits until every reportgen viewer has drawn. Prints the views,
the requests that tried to leave (none expected) and the page errors; ``--screenshot PNG`` saves the head
view cell with "it" pinned (docs/notebook-views.png).

Needs JupyterLab and ipykernel (``pip install jupyterlab ipykernel``, not reportgen dependencies; with
``pip install --target DIR`` put DIR on PYTHONPATH and DIR/share/jupyter on JUPYTER_PATH and pass
``--app-dir DIR/share/jupyter/lab``), Playwright and /usr/bin/chromium.
Run: ``HF_HUB_OFFLINE=1 python examples/notebook_jupyterlab_check.py [--screenshot docs/notebook-views.png]``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parent / "notebook.ipynb"
PORT = 8899


def wait_for_server(url: str, seconds: float = 180) -> None:
    end = time.time() + seconds
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"JupyterLab did not answer at {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", help="PNG of the head view cell")
    parser.add_argument("--app-dir", help="JupyterLab's application folder (share/jupyter/lab) when not under sys.prefix")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="rg-lab-"))
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={PORT}", "--ip=127.0.0.1",
               "--IdentityProvider.token=", "--ServerApp.password=", "--allow-root", f"--ServerApp.root_dir={work}"]
    if args.app_dir:
        command.append(f"--LabApp.app_dir={args.app_dir}")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    server = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{PORT}"
    try:
        wait_for_server(f"{base}/lab")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(viewport={"width": 1300, "height": 1000})
            outside: list[str] = []

            def route(request_route):
                url = request_route.request.url
                if url.startswith((base, base.replace("http", "ws", 1), "data:", "blob:")):
                    request_route.continue_()
                else:
                    outside.append(url)
                    request_route.abort()

            context.route("**/*", route)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{base}/lab/tree/{NOTEBOOK.name}", timeout=120_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            idle = "() => /Idle/.test(document.querySelector('.jp-StatusBar-Widget, #jp-main-statusbar')?.textContent || '')"
            page.wait_for_function(idle, timeout=180_000)  # the kernel started
            page.locator(".jp-Notebook .jp-Cell").nth(0).click()
            cells = page.locator(".jp-Notebook .jp-Cell").count()
            for _ in range(cells):  # run each cell and wait for the kernel, as a reader would
                page.keyboard.press("Shift+Enter")
                time.sleep(1)
                page.wait_for_function(idle, timeout=300_000)
            try:
                page.wait_for_function("() => { const roots = document.querySelectorAll('.rg-viewer'); return roots.length "
                                       "=== 4 && Array.from(roots).every(r => +r.getAttribute('data-rg-drawn') > 0); }",
                                       timeout=300_000)
            except Exception:
                page.screenshot(path=str(work.parent / "rg-lab-timeout.png"))
                print(f"timed out; the page as it was: {work.parent / 'rg-lab-timeout.png'}", file=sys.stderr)
                raise
            views = page.eval_on_selector_all(".rg-viewer", "rs => rs.map(r => [r.getAttribute('data-rg-view'), "
                                                            "r.getAttribute('data-rg-error')])")
            print(f"JupyterLab: {len(views)} viewers drawn: {views}; page URL {page.url}")
            print(f"requests leaving the server (aborted): {outside}; page errors: {errors}")
            if args.screenshot:
                first = page.query_selector(".rg-viewer")
                page.evaluate("r => ReportGenViewer.set(r, {token: 9, layer: 2})", first)
                page.keyboard.press("Control+b")  # hide the file browser
                page.evaluate("r => r.closest('.jp-Cell').scrollIntoView({block: 'start'})", first)
                time.sleep(1.5)
                page.evaluate("() => document.querySelectorAll('.jp-toast-container, .Toastify').forEach(t => t.remove())")
                page.screenshot(path=args.screenshot)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
