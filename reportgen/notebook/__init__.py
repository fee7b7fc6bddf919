"""reportgen's viewers in a Jupyter notebook, with BertViz's calls.

``head_view``, ``model_view`` and ``neuron_view.show`` take BertViz's arguments, so changing the
import line is all a BertViz user must do::

    from reportgen.notebook import head_view, model_view   # was: from bertviz import head_view, model_view
    from reportgen.notebook import neuron_view              # was: from bertviz import neuron_view

``show(model, tokenizer, text_a, text_b)`` runs a stock transformers model itself (eager attention,
query/key vectors captured with hooks) and adds reportgen's head scores for that input.

Each call gives one self-contained HTML fragment (``reportgen.render.standalone``): the viewer's
CSS and script and the attention quantised to uint8 (every weight within 1/510 of the model's),
nothing fetched, so it works offline, in a notebook exported to HTML and in Colab's sandboxed
outputs alike.
"""
from __future__ import annotations

import html
import uuid
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from reportgen.analysis.labels import strongest_label
from reportgen.analysis.patterns import PatternSums, finalize
from reportgen.notebook.convert import TokenInfo, attention_array, prettify, token_info
from reportgen.render.beyond import ROLLOUT_FILE, ROLLOUT_FORMULA
from reportgen.render.payload import Base64, layer_object, meta_object, qk_object
from reportgen.render.standalone import data_text, fragment, page
from reportgen.store.quantize import MAX_ERROR

__all__ = ["head_view", "model_view", "neuron_view", "show", "share_code", "NotebookHTML", "views_html"]

HTML_ACTIONS = ("view", "return")
VIEWS = ("head", "model", "neuron", "matrix", "rollout")


class NotebookHTML:
    """What ``html_action="return"`` gives: ``.data`` is the HTML fragment; notebooks display it through
    ``_repr_html_`` (no IPython needed to make or keep one). ``save(path)`` writes a standalone page."""

    def __init__(self, data: str, title: str = "reportgen attention viewer"):
        self.data = data
        self.title = title

    def _repr_html_(self) -> str:
        return self.data

    def __str__(self) -> str:
        return self.data

    def __repr__(self) -> str:
        return f"<NotebookHTML: {len(self.data.encode('utf-8')):,} bytes of self-contained HTML>"

    def page(self) -> str:
        """A whole HTML document around the fragment (opens from disk)."""
        return page(self.data, self.title)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.page(), encoding="utf-8")
        return path


def views_html(*views: NotebookHTML, title: str = "reportgen attention viewers") -> NotebookHTML:
    """Several returned views as one fragment (each keeps its own container and data)."""
    return NotebookHTML("".join(v.data for v in views), title)


# ------------------------------------------------------------------------------------------------ core

_CODE = {"shared": False, "sent": False}  # share_code(): whether the viewer code went out already


def share_code(on: bool = True) -> None:
    """Put the viewer's code and CSS (about 128 kB) only in the next view's output, not in every one.

    Later outputs carry only their data and wait for the code of that earlier output, which must run
    first in the same page: fine in Jupyter, JupyterLab, VS Code and an exported notebook, not in
    Colab (each output is its own page). ``share_code(False)`` goes back to self-contained outputs.
    """
    _CODE.update(shared=bool(on), sent=False)


def _include_code() -> bool:
    if not _CODE["shared"]:
        return True
    first = not _CODE["sent"]
    _CODE["sent"] = True
    return first



def _check_action(html_action: str) -> None:
    if html_action not in HTML_ACTIONS:
        raise ValueError(f"html_action must be 'view' or 'return', not {html_action!r}")


def _deliver(result: NotebookHTML, html_action: str):
    if html_action == "return":
        return result
    try:
        from IPython.display import HTML, display  # deferred: only displaying needs IPython
    except ImportError:
        raise RuntimeError("html_action='view' displays in a notebook and needs IPython; "
                           "use html_action='return' and its .data outside one") from None
    display(HTML(result.data))
    return None


def _analyse(att: np.ndarray, info: TokenInfo):
    """The build's analysis of this one input (``analysis.batched.analyse_one``, a batch of one): pattern
    numerators and counts, causality, the attention and its rollout quantised to uint8."""
    from reportgen.analysis.batched import analyse_one  # deferred: loads torch (importing the notebook does not)

    return analyse_one(att, info.special, info.punct, info.word)


def _strongest_labels(analysed) -> list[list[str | None]]:
    """Strongest label per head on this one input, from its pattern scores (``analysis.labels``)."""
    return strongest_label(finalize(PatternSums(analysed.num, analysed.count)))


def build_view(att: np.ndarray, tokens: list[str], info: TokenInfo, *, view: str = "head", layer: int | None = None,
               heads: list[int] | None = None, dark: bool = False, model_name: str = "attention",
               qk: tuple[np.ndarray, np.ndarray] | None = None, qk_max_error: float | None = None,
               with_rollout: bool = True, token: int | None = None, caption: str = "",
               labels: list[list[str | None]] | None = None, uid: str | None = None,
               analysed=None) -> NotebookHTML:
    """The fragment of one input: ``att`` float [L, H, n, n] (full precision), ``tokens`` as shown.

    ``qk``: query and key vectors, float16 [L, H, n, d] each (the neuron view); ``layer``/``heads``/
    ``token``: the initial state; ``uid``: container id suffix (default: random, unique per call);
    ``analysed``: :func:`_analyse` of this input when already done (else done here).
    """
    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}, not {view!r}")
    layers, n_heads, n, _ = att.shape
    if len(tokens) != n:
        raise ValueError(f"{len(tokens)} tokens but the attention covers {n} positions: pass the input's tokens")
    uid = uid or uuid.uuid4().hex[:12]
    example = f"nb-{uid}"
    key = f"notebook/{example}"
    if analysed is None:
        analysed = _analyse(att, info)
    causal = analysed.causal
    if labels is None:
        labels = _strongest_labels(analysed)
    record = SimpleNamespace(attention_q=analysed.attention_q, causal=causal, tokens=list(tokens), special=info.special,
                             segment=info.segment, word=info.word)
    qk_layers = list(range(layers)) if qk is not None else []
    meta = meta_object(key, "notebook", example, record, info.words, labels, model_name, qk_layers, qk_max_error,
                       layer_files=[], qk_files={str(k): "Q.js" for k in qk_layers})
    meta.update({"rollout_file": ROLLOUT_FILE if with_rollout else None, "rollout_formula": ROLLOUT_FORMULA,
                 "predictions": {"status": "off", "file": None,
                                 "text": "Masked-token predictions are not part of notebook views."}})
    objects = [meta] + [layer_object(key, k, record.attention_q, causal) for k in range(layers)]
    if qk is not None:
        objects += [qk_object(key, k, qk[0][k], qk[1][k]) for k in range(layers)]
    if with_rollout:
        objects.append({"kind": "rollout", "key": key, "layers": int(layers), "n": int(n), "residual": 0.5,
                        "data": Base64(analysed.rollout_q)})
    state: dict = {"view": view}
    if layer is not None:
        if not 0 <= int(layer) < layers:
            raise ValueError(f"layer {layer} is not one of the {layers} layers shown (0..{layers - 1})")
        state["layer"] = int(layer)
    if heads is not None:
        chosen = {int(h) for h in heads}
        if not chosen or not chosen <= set(range(n_heads)):
            raise ValueError(f"heads {list(heads)} must be head numbers 0..{n_heads - 1}")
        state["heads"] = [h in chosen for h in range(n_heads)]
    if token is not None:
        state["token"] = int(token)
    note = (f"reportgen {view} view · {layers} layers × {n_heads} heads · {n} tokens · attention stored as uint8, "
            f"every weight within ±{MAX_ERROR:.5f} of the model's")
    caption = html.escape(note) + (" · " + caption if caption else "")
    return NotebookHTML(fragment(data_text(objects), example, uid, state, dark=dark, caption=caption,
                                 include_code=_include_code()), title=f"reportgen {view} view")


def _bertviz_input(attention, tokens, sentence_b_start, prettify_tokens, include_layers, encoder_decoder) -> tuple:
    if any(value is not None for value in encoder_decoder):
        raise ValueError("encoder-decoder attention (encoder_attention, decoder_attention, cross_attention) is not "
                         "supported yet: pass a self-attention model's attention and tokens")
    if tokens is None:
        raise ValueError("'tokens' is required")
    att = attention_array(attention, include_layers)
    tokens = [str(t) for t in tokens]
    info = token_info(tokens, sentence_b_start)
    shown = prettify(tokens) if prettify_tokens else tokens
    caption = ""
    if include_layers is not None:
        caption = html.escape("Layers shown as " + ", ".join(f"{k} = model layer {layer}"
                                                             for k, layer in enumerate(include_layers)))
    return att, shown, info, caption


def head_view(attention=None, tokens=None, sentence_b_start=None, prettify_tokens=True, layer=None, heads=None,
              encoder_attention=None, decoder_attention=None, cross_attention=None, encoder_tokens=None,
              decoder_tokens=None, include_layers=None, html_action="view"):
    """BertViz's ``head_view``: lines from every token to the tokens it attends to, one colour per head.

    ``attention``: the tuple ``model(..., output_attentions=True).attentions`` (batch size 1);
    ``tokens``: the input's tokens; ``sentence_b_start``: index of sentence B's first token;
    ``layer``/``heads``: what is shown first; ``include_layers``: the layers to include.
    ``html_action="return"`` returns a ``NotebookHTML`` (``.data``: the HTML) instead of displaying it.
    """
    _check_action(html_action)
    att, shown, info, caption = _bertviz_input(attention, tokens, sentence_b_start, prettify_tokens, include_layers,
                                               (encoder_attention, decoder_attention, cross_attention,
                                                encoder_tokens, decoder_tokens))
    if layer is not None and include_layers is not None:  # BertViz: the model's layer number, one of include_layers
        if layer not in list(include_layers):
            raise ValueError(f"Layer {layer} is not in include_layers: {list(include_layers)}")
        layer = list(include_layers).index(layer)
    result = build_view(att, shown, info, view="head", layer=layer, heads=heads, caption=caption,
                        with_rollout=include_layers is None)
    return _deliver(result, html_action)


def model_view(attention=None, tokens=None, sentence_b_start=None, prettify_tokens=True, display_mode="dark",
               encoder_attention=None, decoder_attention=None, cross_attention=None, encoder_tokens=None,
               decoder_tokens=None, include_layers=None, include_heads=None, html_action="view"):
    """BertViz's ``model_view``: a thumbnail of every head of every layer; click one to open it.

    ``display_mode``: "dark" (BertViz's default) or "light"; ``include_layers``/``include_heads``: the
    layers and heads to include (renumbered from 0 in the view; the caption says which is which).
    """
    _check_action(html_action)
    if display_mode not in ("dark", "light"):
        raise ValueError(f"display_mode must be 'dark' or 'light', not {display_mode!r}")
    att, shown, info, caption = _bertviz_input(attention, tokens, sentence_b_start, prettify_tokens, include_layers,
                                               (encoder_attention, decoder_attention, cross_attention,
                                                encoder_tokens, decoder_tokens))
    if include_heads is not None:
        bad = [h for h in include_heads if not 0 <= int(h) < att.shape[1]]
        if bad or not include_heads:
            raise ValueError(f"include_heads {list(include_heads)} must name heads 0..{att.shape[1] - 1}")
        att = att[:, [int(h) for h in include_heads]]
        caption += ("; " if caption else "") + html.escape(
            "Heads shown as " + ", ".join(f"{k} = model head {h}" for k, h in enumerate(include_heads)))
    result = build_view(att, shown, info, view="model", dark=display_mode == "dark", caption=caption,
                        with_rollout=include_layers is None and include_heads is None)
    return _deliver(result, html_action)


def show(model, tokenizer, text_a: str, text_b: str | None = None, view: str = "head", coref=None,
         layer: int | None = None, heads: list[int] | None = None, display_mode: str = "light",
         max_length: int | None = 512, html_action: str = "view"):
    """Run ``model`` on ``text_a`` (and ``text_b``) and show the viewers with reportgen's scores.

    Any stock transformers model with a fast tokenizer: it runs once with eager attention (switched
    on for the call when the model was loaded with another implementation) and hooks that keep the
    query and key vectors for the neuron view. ``view``: head, model, neuron, matrix or rollout.
    ``coref``: pronoun -> antecedent annotations as in a manifest, ``{"pronoun": "it", "antecedent":
    "cat", "candidates": [...]}`` or a ``(pronoun, antecedent)`` pair, or a list of them; the page then
    ranks the heads by the pronoun's attention to the antecedent among the candidates.
    Under the viewer: every head's strongest label with its score (reportgen's thresholds) and, with
    ``coref``, the heads that pick the antecedent.
    """
    from reportgen.notebook.run import run_text, scores_html  # deferred: loads torch

    _check_action(html_action)
    if display_mode not in ("dark", "light"):
        raise ValueError(f"display_mode must be 'dark' or 'light', not {display_mode!r}")
    ran = run_text(model, tokenizer, text_a, text_b, coref=coref, max_length=max_length)
    info = TokenInfo(ran.encoded.special, ran.encoded.segment, ran.encoded.word, ran.encoded.punct,
                     [{"text": w.text, "segment": w.segment} for w in ran.example.words()])
    result = build_view(ran.attention, list(ran.encoded.tokens), info, view=view, layer=layer, heads=heads,
                        dark=display_mode == "dark", model_name=ran.model_name, qk=ran.qk,
                        qk_max_error=ran.qk_error, labels=ran.labels, token=ran.pronoun_token,
                        analysed=ran.analysed)
    result = NotebookHTML(result.data + scores_html(ran), result.title)
    return _deliver(result, html_action)


from reportgen.notebook import neuron_view  # noqa: E402  (the submodule, as ``bertviz.neuron_view``)
