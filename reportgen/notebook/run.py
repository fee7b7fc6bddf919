"""``reportgen.notebook.show``: run a user's model object on one input and score it.

Orchestration only: tokenising (``extract.tokens``), query/key hooks (``extract.qk``), scores
(``analysis``). The model runs once, with eager attention, on batch size 1 (no padding), and its output
goes through the build's own analysis (``analysis.batched.analyse_one``), so the scores are the build's.
"""
from __future__ import annotations

import html
import inspect
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from reportgen.analysis.batched import ExampleResult, analyse_one
from reportgen.analysis.labels import LABELS, THRESHOLDS
from reportgen.analysis.patterns import PatternSums, reachable_rows
from reportgen.analysis.spans import DEFAULT_SPAN_RULE, aggregate_span
from reportgen.analysis.summary import ExampleStats, summarise_model
from reportgen.extract.qk import QKCapture
from reportgen.extract.tokens import Encoded, encode_example
from reportgen.manifest.schema import CorefPair, Example
from reportgen.manifest.words import RefError, default_candidates, example_words, resolve_reference, span_text

TOP = 5  # heads listed per label and for coreference


@dataclass
class Ran:
    """One input through one model: full-precision attention and what the viewer and scores need."""

    model_name: str
    example: Example
    encoded: Encoded
    attention: np.ndarray  # float64 [L, H, n, n]
    qk: tuple[np.ndarray, np.ndarray] | None  # float16 [L, H, n, d] each
    qk_error: float | None
    labels: list[list[str | None]]
    heads: dict  # analysis.summary.summarise_model of this one input
    pronoun_token: int | None  # first token of the first annotated pronoun (the neuron view's query)
    analysed: ExampleResult | None = None  # analysis.batched.analyse_one of this input (viewer data included)


def coref_pairs(coref, a: str, b: str | None) -> tuple[CorefPair, ...]:
    """Manifest-style annotations (dict, (pronoun, antecedent) pair, or a list of them) resolved on a/b."""
    if coref is None:
        return ()
    items = [coref] if isinstance(coref, dict) or (isinstance(coref, tuple) and len(coref) == 2
                                                    and all(isinstance(x, str) for x in coref)) else list(coref)
    words = example_words(a, b)
    pairs = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            pronoun, antecedent, candidates = item.get("pronoun"), item.get("antecedent"), item.get("candidates")
        else:
            pronoun, antecedent, candidates = (list(item) + [None])[:3]
        if not isinstance(pronoun, str) or not isinstance(antecedent, str):
            raise ValueError(f"coref[{index}]: give {{'pronoun': WORD, 'antecedent': WORD OR PHRASE}}")
        try:
            pron = resolve_reference(pronoun, words)
            ante = resolve_reference(antecedent, words)
            cands = [resolve_reference(c, words) for c in candidates] if candidates else None
        except RefError as exc:
            raise ValueError(f"coref[{index}]: {exc.problem}; {exc.fix}") from None
        if ante.overlaps(pron):
            raise ValueError(f"coref[{index}]: the antecedent overlaps the pronoun; pick other words")
        if cands is not None and ante not in cands:
            raise ValueError(f"coref[{index}]: the candidates do not contain the antecedent; add {antecedent!r} to them")
        given = cands is not None
        cands = cands if given else default_candidates(words, pron, ante)

        def text(span):
            return span_text(words, span, a, b)

        pairs.append(CorefPair(pron, ante, tuple(cands), cands.index(ante), given, text(pron), text(ante),
                               tuple(text(s) for s in cands)))
    return tuple(pairs)


def _shape(config) -> tuple[int, int]:
    layers = int(getattr(config, "num_hidden_layers", 0) or getattr(config, "n_layer", 0) or getattr(config, "n_layers", 0))
    heads = int(getattr(config, "num_attention_heads", 0) or getattr(config, "n_head", 0) or getattr(config, "n_heads", 0))
    return layers, heads


def forward(model, encoded: Encoded, layers: int, heads: int):
    """Attention tuple of one forward pass with eager attention, and per layer the captured query and key
    projections ``[1, n, H*d]`` (two lists; both None when they cannot be captured)."""
    device = next(model.parameters()).device
    inputs = {"input_ids": torch.tensor([encoded.input_ids], device=device),
              "attention_mask": torch.ones((1, encoded.n), dtype=torch.long, device=device)}
    if encoded.token_type_ids is not None and "token_type_ids" in inspect.signature(model.forward).parameters:
        inputs["token_type_ids"] = torch.tensor([encoded.token_type_ids], device=device)
    before = getattr(model.config, "_attn_implementation", "eager")
    if before != "eager":
        _set_attention(model, "eager")  # softmax weights exist only in eager attention
    capture = QKCapture(_Loaded(model, layers, heads))
    try:
        with torch.inference_mode():
            output = model(**inputs, output_attentions=True)
    finally:
        capture.remove()
        if before != "eager":
            _set_attention(model, before)
    attentions = getattr(output, "attentions", None)
    if attentions is None or len(attentions) != layers or any(a is None for a in attentions):
        raise ValueError("the model returned no attention weights; load it with attn_implementation='eager'")
    if not capture.available or any(t is None for t in capture.q + capture.k):
        return attentions, None, None
    return attentions, list(capture.q), list(capture.k)


def _set_attention(model, implementation: str) -> None:
    """Switch the attention implementation (transformers' method where it exists, else the config field)."""
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation(implementation)
    else:
        model.config._attn_implementation = implementation


@dataclass
class _Loaded:
    """What QKCapture reads of a loaded model."""

    model: object
    layers: int
    heads: int


def run_text(model, tokenizer, text_a: str, text_b: str | None = None, coref=None,
             max_length: int | None = 512) -> Ran:
    if not isinstance(text_a, str) or not text_a.strip():
        raise ValueError("text_a must be a non-empty string")
    if text_b is not None and (not isinstance(text_b, str) or not text_b.strip()):
        raise ValueError("text_b must be a non-empty string or None")
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("show() needs a fast tokenizer (word offsets): load it with AutoTokenizer")
    layers, heads = _shape(model.config)
    pairs = coref_pairs(coref, text_a, text_b)
    example = Example("notebook", "notebook", "und", text_a, text_b, pairs, None, True, 0)
    encoded = encode_example(tokenizer, example, 0, max_length or 10**9)
    attentions, q, k = forward(model, encoded, layers, heads)
    att = np.stack([a[0].float().cpu().numpy() for a in attentions]).astype(np.float64)
    analysed = analyse_one(attentions, encoded.special, encoded.punct, encoded.word, pairs, q=q, k=k)
    name = str(getattr(model.config, "_name_or_path", "") or getattr(model.config, "model_type", "model"))
    if os.path.isdir(name):  # a local folder: its last two parts say enough
        name = "/".join(Path(name).resolve().parts[-2:])
    info = {"id": name, "name": name, "slug": "notebook", "revision": ""}
    coref = [aggregate_span(w, DEFAULT_SPAN_RULE) if w.size else w for w in analysed.coref]
    reach = reachable_rows(encoded.special, encoded.punct, analysed.causal)
    sums = PatternSums(analysed.num, analysed.count)
    summary = summarise_model(info, [ExampleStats(example, sums, coref, reach)], layers, heads)
    pronoun = None
    if pairs:
        rows = np.flatnonzero((encoded.word >= pairs[0].pronoun.first) & (encoded.word < pairs[0].pronoun.last))
        pronoun = int(rows[0]) if rows.size else None
    return Ran(name, example, encoded, att, analysed.qk, analysed.qk_error, summary["strongest"], summary, pronoun,
               analysed)


def scores_html(ran: Ran) -> str:
    """reportgen's scores for this one input, as HTML under the viewer (escaped text only)."""
    heads = ran.heads
    esc = html.escape
    out = ['<div class="rg-nb-scores" style="font-size:13px;margin:.5em 0 1.5em">',
           f"<p><b>reportgen scores on this input</b> ({esc(ran.model_name)}, {ran.encoded.n} tokens, "
           "layers and heads numbered from 0). One input is an illustration, not evidence: for rankings with "
           "95% intervals and baselines over many examples, build a site from a manifest.</p>"]
    rows = []
    for label in LABELS:
        found = sorted((x for x in heads["labels"] if x["label"] == label), key=lambda x: -x["score"])
        if found:
            shown = ", ".join(f'{x["layer"]}-{x["head"]} ({x["score"]:.2f})' for x in found[:TOP])
            more = f" and {len(found) - TOP} more" if len(found) > TOP else ""
            rows.append(f"<tr><td>{esc(label)}</td><td>&gt; {THRESHOLDS[label]:g}</td><td>{len(found)}</td>"
                        f"<td>{esc(shown + more)}</td></tr>")
    if rows:
        out.append('<table class="rg-scores"><thead><tr><th>label</th><th>score above</th><th>heads</th>'
                   "<th>strongest (layer-head, score)</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")
    else:
        out.append("<p>No head passes a label threshold on this input.</p>")
    out.append("<p>Labels: previous/next token &gt; 0.5, [CLS]/[SEP]/punctuation &gt; 0.6 (fractions of a row's "
               "attention, mean over non-special tokens), broad: entropy &gt; 3.8 nats; these cut-offs are "
               "reportgen's own, in the spirit of Clark et al. (2019), who describe such heads but publish no "
               "per-head bar.</p>")
    coref = heads.get("coreference")
    if coref:
        for k, detail in enumerate(coref["pairs_detail"]):
            candidates = len(detail["candidates"])
            right = sum(1 for r in coref["ranking"] if r["accuracy"] == 1.0) if coref["pairs"] == 1 else None
            ranking = sorted(coref["ranking"], key=lambda r: -r["mass"])[:TOP]
            out.append(f"<p><b>Coreference</b> {esc(detail['pronoun'])} → {esc(detail['antecedent'])} "
                       f"(candidates: {esc(', '.join(detail['candidates']))}).")
            if right is not None:
                total = len(ran.labels) * len(ran.labels[0]) if ran.labels else 0
                out.append(f" {right} of {total} heads give the antecedent the most attention among the "
                           f"{candidates} candidates (a random choice would be right 1 time in {candidates}).")
            out.append(" Heads with the most attention from the pronoun to the antecedent: " + esc(", ".join(
                f'{r["layer"]}-{r["head"]} ({r["mass"]:.2f}, right on {r["accuracy"]:.0%} of pairs)'
                for r in ranking)) + ".</p>")
            if coref["pairs"] != 1:
                out.append("<p>Several pairs: accuracy is the share of pairs a head gets right.</p>")
                break
    out.append("</div>")
    return "".join(out)
