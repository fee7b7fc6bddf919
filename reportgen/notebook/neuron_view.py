"""BertViz's ``neuron_view.show`` on any stock transformers model (no forked model classes).

``from reportgen.notebook import neuron_view; neuron_view.show(model, model_type, tokenizer, a, b)``:
the query and key vectors come from forward hooks on the model's own projections
(``reportgen.extract.qk``), stored as float16; the view recomputes softmax(q·k/√d) from them and
states how far that is from the model's attention.
"""
from __future__ import annotations


def show(model, model_type=None, tokenizer=None, sentence_a=None, sentence_b=None, display_mode="dark", layer=None,
         head=None, html_action="view"):
    """BertViz's signature. ``model_type`` ("bert", "gpt2", "roberta", ...) is accepted and not needed:
    the projections are found on the model itself. ``layer``/``head``: shown first."""
    from reportgen.notebook import show as _show

    if tokenizer is None or sentence_a is None:
        raise ValueError("neuron_view.show needs model, model_type, tokenizer and sentence_a")
    return _show(model, tokenizer, sentence_a, sentence_b, view="neuron", layer=layer,
                 heads=None if head is None else [head], display_mode=display_mode, html_action=html_action)
