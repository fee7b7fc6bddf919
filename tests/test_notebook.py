"""reportgen.notebook without a browser: BertViz-compatible calls, the returned object, the inlined data.

The data in the HTML is decoded here with the standard library (json, base64) and compared with the
attention that went in, within the stated bound 1/510; nothing of reportgen's decoding is reused.
"""
from __future__ import annotations

import base64
import json
import re
import sys

import numpy as np
import pytest

from reportgen.notebook import NotebookHTML, head_view, model_view, views_html
from reportgen.notebook.convert import attention_array, prettify, token_info

PUSH = "(window.RG_DATA=window.RG_DATA||[]).push("
BERT_TOKENS = ["[CLS]", "the", "cat", "is", "sad", ".", "[SEP]", "because", "it", "could", "##n", "eat", "[SEP]"]
B_START = 7


def softmax_attention(layers: int, heads: int, n: int, seed: int = 0, causal: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(layers, heads, n, n)) * 3
    if causal:
        scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def as_transformers(att: np.ndarray):
    """The tuple transformers returns: one [1, H, n, n] tensor per layer."""
    torch = pytest.importorskip("torch")
    return tuple(torch.from_numpy(att[k][None].astype(np.float32)) for k in range(att.shape[0]))


def pushed(html: str) -> list[dict]:
    """Every object the fragment's inline data script pushes (one statement per object)."""
    objects = []
    for script in re.findall(r"<script>(.*?)</script>", html, flags=re.S):
        for line in script.split("\n"):
            if line.startswith(PUSH):
                objects.append(json.loads(line[len(PUSH):-2]))
    return objects


def test_token_info_wordpiece_pair():
    info = token_info(BERT_TOKENS, B_START)
    assert info.special.tolist() == [t in ("[CLS]", "[SEP]") for t in BERT_TOKENS]
    assert info.segment.tolist() == [-1, 0, 0, 0, 0, 0, -1, 1, 1, 1, 1, 1, -1]
    assert info.word.tolist() == [-1, 0, 1, 2, 3, 4, -1, 5, 6, 7, 7, 8, -1]
    assert [w["text"] for w in info.words] == ["the", "cat", "is", "sad", ".", "because", "it", "couldn", "eat"]
    assert info.punct.tolist() == [t == "." for t in BERT_TOKENS]


def test_token_info_byte_level_and_sentencepiece():
    gpt = ["The", "\u0120cat", "\u0120sle", "pt", ".", "<|endoftext|>"]
    info = token_info(gpt)
    assert info.word.tolist() == [0, 1, 2, 2, 2, -1]  # no marker: continues the word ("." too, as BPE splits it)
    assert info.words[2]["text"] == "slept."
    sp = ["<s>", "\u2581Die", "\u2581Katze", "n", "</s>"]
    info = token_info(sp)
    assert info.special.tolist() == [True, False, False, False, True]
    assert info.word.tolist() == [-1, 0, 1, 1, -1]
    assert prettify(gpt)[1] == " cat" and prettify(sp)[1] == " Die"


def test_attention_array_shapes_and_errors():
    att = softmax_attention(3, 2, 5)
    assert np.allclose(attention_array(as_transformers(att)), att, atol=1e-7)
    assert attention_array(as_transformers(att), [2, 0]).shape == (2, 2, 5, 5)
    with pytest.raises(ValueError, match="batch size 2"):
        attention_array([np.stack([att[0], att[0]])])
    with pytest.raises(ValueError, match="output_attentions"):
        attention_array([att[0, 0]])
    with pytest.raises(ValueError, match="include_layers"):
        attention_array(as_transformers(att), [3])
    with pytest.raises(ValueError, match="eager"):
        attention_array((None, None))


def test_head_view_returns_html_with_the_attention_within_the_bound():
    n = len(BERT_TOKENS)
    att = softmax_attention(2, 3, n, seed=1)
    result = head_view(as_transformers(att), BERT_TOKENS, B_START, layer=1, heads=[0, 2], html_action="return")
    assert isinstance(result, NotebookHTML) and result._repr_html_() == result.data
    objects = pushed(result.data)
    meta = next(o for o in objects if o["kind"] == "meta")
    assert (meta["layers"], meta["heads"], meta["n"]) == (2, 3, n)
    assert meta["tokens"] == BERT_TOKENS and meta["segment"][B_START] == 1
    assert meta["layer_files"] == []  # nothing to load: every layer is inline
    for obj in objects:
        if obj["kind"] == "layer":
            stored = np.frombuffer(base64.b64decode(obj["data"]), dtype=np.uint8).reshape(3, n, n) / 255.0
            assert np.max(np.abs(stored - att[obj["layer"]])) <= 1 / 510 + 1e-7
    assert sorted(o["layer"] for o in objects if o["kind"] == "layer") == [0, 1]
    start = re.findall(r"<script>(\(function \(\) \{\n  var id = .*?)</script>", result.data, flags=re.S)[-1]
    assert '"layer":1' in start and '"heads":[true,false,true]' in start and '"view":"head"' in start


def test_no_request_in_the_html_and_views_do_not_clash():
    att = softmax_attention(2, 2, 6, seed=2)
    tokens = ["[CLS]", "a", "b", "c", "d", "[SEP]"]
    one = head_view(as_transformers(att), tokens, html_action="return").data
    two = model_view(as_transformers(att), tokens, html_action="return").data
    for text in (one, two):
        assert not re.search(r"(?i:<script[^>]*\ssrc=|<link\b|<img\b|<iframe\b|@import)|url\(|fetch\(|XMLHttpRequest", text)
        assert "cdn" not in text.lower() and "require.js" not in text
    ids = [re.findall(r'class="rg-viewer" id="([^"]+)" data-example="([^"]+)"', t)[0] for t in (one, two)]
    assert ids[0][0] != ids[1][0] and ids[0][1] != ids[1][1]
    keys = [{o["key"] for o in pushed(t)} for t in (one, two)]
    assert len(keys[0]) == len(keys[1]) == 1 and keys[0] != keys[1]
    both = views_html(NotebookHTML(one), NotebookHTML(two))
    assert both.data == one + two and "<!DOCTYPE html>" in both.page()


def test_token_text_cannot_close_the_script():
    tokens = ["[CLS]", "</script><img src=x onerror=alert(1)>", "<!--", "{{x}}", "[SEP]"]
    att = softmax_attention(1, 1, 5)
    text = head_view(as_transformers(att), tokens, html_action="return", prettify_tokens=False).data
    assert "</script><img" not in text and "<!--" not in text
    meta = next(o for o in pushed(text) if o["kind"] == "meta")
    assert meta["tokens"] == tokens


def test_bad_arguments_are_one_line_errors():
    att = as_transformers(softmax_attention(1, 2, 4))
    tokens = ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="html_action"):
        head_view(att, tokens, html_action="show")
    with pytest.raises(ValueError, match="4 positions"):
        head_view(att, tokens[:3], html_action="return")
    with pytest.raises(ValueError, match="heads"):
        head_view(att, tokens, heads=[5], html_action="return")
    with pytest.raises(ValueError, match="not supported"):
        head_view(att, tokens, decoder_attention=att, html_action="return")
    with pytest.raises(ValueError, match="display_mode"):
        model_view(att, tokens, display_mode="sepia", html_action="return")


def test_model_view_include_heads_and_dark_mode():
    att = softmax_attention(3, 4, 5, seed=3)
    tokens = ["[CLS]", "x", "y", "z", "[SEP]"]
    text = model_view(as_transformers(att), tokens, include_layers=[1, 2], include_heads=[3, 0],
                      html_action="return").data
    assert 'data-md-color-scheme="slate"' in text  # BertViz's default display_mode is dark
    assert "0 = model layer 1" in text and "0 = model head 3" in text
    layers = {o["layer"]: o for o in pushed(text) if o["kind"] == "layer"}
    stored = np.frombuffer(base64.b64decode(layers[0]["data"]), dtype=np.uint8).reshape(2, 5, 5) / 255.0
    assert np.max(np.abs(stored[0] - att[1, 3])) <= 1 / 510 + 1e-7
    assert np.max(np.abs(stored[1] - att[1, 0])) <= 1 / 510 + 1e-7


def test_return_works_without_ipython(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)
    monkeypatch.setitem(sys.modules, "IPython.display", None)
    att = as_transformers(softmax_attention(1, 1, 3))
    result = head_view(att, ["a", "b", "c"], html_action="return")
    assert result.data and result._repr_html_() == result.data
    with pytest.raises(RuntimeError, match="IPython"):
        head_view(att, ["a", "b", "c"])


def test_size_at_128_tokens_is_under_a_twentieth_of_bertviz():
    """MiniLM's shape (6 x 12) at 128 tokens; BertViz 1.4.1's head_view page for it is 53.5 MB (quoted in
    bench/notebook_size.py, which measures it when bertviz is installed)."""
    att = softmax_attention(6, 12, 128, seed=4)
    tokens = ["[CLS]"] + [f"w{i}" for i in range(126)] + ["[SEP]"]
    size = len(head_view(as_transformers(att), tokens, html_action="return").data.encode("utf-8"))
    assert size <= 53.5e6 / 20


def test_share_code_puts_the_viewer_in_the_first_output_only():
    from reportgen.notebook import share_code
    from reportgen.render.standalone import viewer_assets

    att = as_transformers(softmax_attention(1, 2, 4))
    tokens = ["a", "b", "c", "d"]
    code = viewer_assets()[1][:200]
    share_code()
    try:
        first, second, third = (head_view(att, tokens, html_action="return").data for _ in range(3))
    finally:
        share_code(False)
    fourth = head_view(att, tokens, html_action="return").data
    assert code.replace("</", "<\\/") in first and code.replace("</", "<\\/") in fourth
    assert code.replace("</", "<\\/") not in second and code.replace("</", "<\\/") not in third
    assert len(second) < len(first) - 100_000 and "share_code(False)" in second


@pytest.mark.parametrize("family", ["bert", "gpt2"])  # WordPiece encoder, byte-level causal decoder
def test_show_runs_stock_models_of_every_family(tiny_models, family):
    """show() on a stock model loaded with SDPA: eager for the call (then restored), q/k captured by hooks,
    the inlined attention equal to an independent eager run within 1/510."""
    torch = pytest.importorskip("torch")
    from transformers import AutoModel, AutoTokenizer

    from reportgen.notebook import show

    folder = str(tiny_models[family])
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder, attn_implementation="sdpa").eval()
    text_a, text_b = "the cat sat on the mat", "it was happy"
    result = show(model, tokenizer, text_a, text_b, coref=("it", "cat"), html_action="return")
    assert model.config._attn_implementation == "sdpa"  # put back after the call
    found = pushed(result.data)
    meta = found[0]
    n, heads = meta["n"], meta["heads"]
    assert meta["tokens"] == tokenizer.convert_ids_to_tokens(tokenizer(text_a, text_b)["input_ids"])
    assert sum(o["kind"] == "qk" for o in found) == meta["layers"]
    eager = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
    with torch.inference_mode():
        reference = eager(**tokenizer(text_a, text_b, return_tensors="pt"), output_attentions=True).attentions
    for obj in (o for o in found if o["kind"] == "layer"):
        raw = np.frombuffer(base64.b64decode(obj["data"]), dtype=np.uint8) / 255.0
        want = reference[obj["layer"]][0].numpy()
        if meta["causal"]:  # lower triangles, row by row
            rows, cols = np.tril_indices(n)
            want = want[:, rows, cols]
        assert np.max(np.abs(raw.reshape(want.shape) - want)) <= 1 / 510 + 1e-6
    assert meta["causal"] == (family == "gpt2")
    assert "Coreference" in result.data


def test_layer_is_the_models_layer_number_with_include_layers():
    att = softmax_attention(4, 2, 5, seed=5)
    tokens = ["[CLS]", "a", "b", "c", "[SEP]"]
    text = head_view(as_transformers(att), tokens, layer=3, include_layers=[1, 3], html_action="return").data
    start = re.findall(r"<script>(\(function \(\) \{\n  var id = .*?)</script>", text, flags=re.S)[-1]
    assert '"layer":1' in start  # the second layer shown
    layers = {o["layer"]: o for o in pushed(text) if o["kind"] == "layer"}
    stored = np.frombuffer(base64.b64decode(layers[1]["data"]), dtype=np.uint8).reshape(2, 5, 5) / 255.0
    assert np.max(np.abs(stored - att[3])) <= 1 / 510 + 1e-7
    with pytest.raises(ValueError, match="not in include_layers"):
        head_view(as_transformers(att), tokens, layer=2, include_layers=[1, 3], html_action="return")


def test_coref_annotations_resolve_like_the_manifest():
    from reportgen.notebook.run import coref_pairs

    a, b = "The cat is very sad.", "Because it could not find the food."
    (pair,) = coref_pairs({"pronoun": "it", "antecedent": "cat", "candidates": ["cat", "the food"]}, a, b)
    assert (pair.pronoun_text, pair.antecedent_text, pair.candidate_texts) == ("it", "cat", ("cat", "the food"))
    (default,) = coref_pairs(("it", "The cat"), a, b)  # a pair; default candidates: every other word
    assert default.antecedent_text == "The cat" and "food" in default.candidate_texts and "it" not in default.candidate_texts
    with pytest.raises(ValueError, match="did you mean 'cat'"):
        coref_pairs(("it", "Cat"), a, b)
    with pytest.raises(ValueError, match="matches 2 times"):
        coref_pairs(("it", "the"), a, "the cat saw it and the dog")
    with pytest.raises(ValueError, match="do not contain the antecedent"):
        coref_pairs({"pronoun": "it", "antecedent": "cat", "candidates": ["food"]}, a, b)
