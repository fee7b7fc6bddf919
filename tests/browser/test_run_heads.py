"""The run page's heads-across-checkpoints charts in Chromium, on the committed example run (four checkpoints
of a tiny BERT fine-tuned with the Trainer) over two short examples: every score drawn, the best step
marked, the hover readout giving the plotted values, the viewer links opening a checkpoint's viewer."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

MANIFEST = """\
models:
  - {id: ./agreement-run/checkpoint-600, name: final}
runs:
  - {id: agreement, path: agreement-run, name: Agreement, checkpoints: true}
examples:
  - {id: cats, language: en, a: The cats near the tree sleep.}
  - {id: dog, language: en, a: The dog runs., b: It is fast., coref: [{pronoun: It, antecedent: dog}]}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from reportgen.cli import main

    work = tmp_path_factory.mktemp("run-heads")
    shutil.copytree(ROOT / "examples" / "runs" / "agreement-run", work / "agreement-run")
    (work / "manifest.yaml").write_text(MANIFEST, encoding="utf-8")
    assert main(["build", str(work / "manifest.yaml"), "--no-cache", "--quiet", "--site", "--out",
                 str(work / "site_src"), "--config", str(work / "mkdocs.yml")]) == 0
    return work


def test_checkpoint_charts_draw_every_score_with_the_best_step_and_link_the_viewer(open_page, site, artifacts):
    page, _, _ = open_page((site / "site" / "runs" / "agreement.html").as_uri(), wait_ready=False)
    page.wait_for_selector(".rg-run-heads[data-rg-ready]", state="attached")
    assert page.get_attribute(".rg-run-heads", "data-rg-error") is None
    text = (site / "site_src" / "data" / "runs" / "heads-agreement.js").read_text()
    data = json.loads(text[text.index("push(") + 5: text.rindex(")")])
    keys = page.eval_on_selector_all(".rg-run-heads canvas", "cs => cs.map(c => c.dataset.score)")
    assert keys == [s["key"] for s in data["scores"]] and "accuracy" in keys and "prev" in keys
    for key in keys:
        drawn = page.evaluate("""k => { const c = document.querySelector(`.rg-run-heads canvas[data-score="${k}"]`);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""", key)
        assert drawn > 1000, key
    # hover the last checkpoint: the readout gives the plotted values of the heads that moved most
    canvas = page.locator('.rg-run-heads canvas[data-score="prev"]')
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] - 16, box["y"] + box["height"] / 2)
    readout = page.inner_text('.rg-run-heads section[data-score="prev"] .rgr-readout')
    prev = next(s for s in data["scores"] if s["key"] == "prev")
    layer, head = prev["moved"][0]
    assert f"step {data['steps'][-1]}:" in readout
    assert f"{layer}-{head} {prev['values'][layer][head][-1]:.3f}" in readout
    page.screenshot(path=str(artifacts / "run-heads.png"), full_page=True)
    # the viewer link of the first checkpoint opens that checkpoint's example viewer
    href = page.get_attribute(f'.rg-run-heads a[data-step="{data["steps"][0]}"]', "href")
    assert f"model={data['models'][0]}" in href
    viewer, _, _ = open_page(page.url.rsplit("/", 2)[0] + "/" + href.replace("../", "", 1).split("#")[0]
                             + "#" + href.split("#")[1])
    assert viewer.title()
