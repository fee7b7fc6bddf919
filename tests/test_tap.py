"""The forward pass that stops after the last attention (extract.tap) gives the whole pass's weights, bit for bit."""
import pytest
import torch
import transformers

from reportgen.extract.tap import AttentionTap
from reportgen.models.load import load_model
from tiny import FAMILIES, LAYERS


def inputs_for(loaded, texts):
    if loaded.tokenizer.pad_token is None:  # GPT-2
        loaded.tokenizer.pad_token = loaded.tokenizer.eos_token
    enc = loaded.tokenizer(texts, padding=True, return_tensors="pt")
    return {k: v for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}


def modules_run(model, call) -> list:
    """The modules that started during ``call()``, in order."""
    seen = []
    handles = [m.register_forward_pre_hook(lambda m, a: seen.append(m)) for m in model.modules()]
    try:
        with torch.inference_mode():
            call()
    finally:
        for h in handles:
            h.remove()
    return seen


@pytest.mark.parametrize("family", FAMILIES)
def test_tap_stops_after_last_attention_with_same_weights(tiny_models, family):
    loaded = load_model(str(tiny_models[family]))
    model = loaded.model
    first = inputs_for(loaded, ["Die Katze ist sehr traurig.", "The cat did not eat the food because it was not fresh."])
    second = inputs_for(loaded, ["Kedi çok üzgün.", "I went to the store.", "Weil sie zu viel gegessen hat."])
    with torch.inference_mode():
        model(**first, output_attentions=True)  # transformers adds its own recording hooks on first use
    hooks_before = sum(len(m._forward_hooks) for m in model.modules())
    tap = AttentionTap(model, LAYERS)
    with torch.inference_mode():
        learned = tap(first)
        whole = model(**first, output_attentions=True).attentions
    assert tap.cuts, "every stock family hands out its weights from one module per layer"
    assert len(learned) == LAYERS and all(torch.equal(a, b) for a, b in zip(learned, whole))

    with torch.inference_mode():
        whole = model(**second, output_attentions=True).attentions
    cut = []
    ran_cut = modules_run(model, lambda: cut.extend(tap(second)))
    ran_whole = modules_run(model, lambda: model(**second, output_attentions=True))
    assert len(cut) == LAYERS and all(torch.equal(a, b) for a, b in zip(cut, whole))
    # the pass really stopped: the modules after the last attention (its output projection, the last
    # feed-forward block) never started
    assert len(ran_cut) < len(ran_whole) and ran_whole[: len(ran_cut)] == ran_cut
    last = tap.sources[-1][0]
    assert last in ran_cut and all(m is last or any(m is c for c in last.modules())
                                   for m in ran_cut[ran_cut.index(last):])

    tap.close()
    assert sum(len(m._forward_hooks) for m in model.modules()) == hooks_before
    with torch.inference_mode():
        after = model(**second, output_attentions=True).attentions  # a closed tap leaves the model as it was
    assert all(torch.equal(a, b) for a, b in zip(after, whole))


def test_tap_hooks_do_nothing_outside_a_call(tiny_models):
    loaded = load_model(str(tiny_models["bert"]))
    tap = AttentionTap(loaded.model, LAYERS)
    batch = inputs_for(loaded, ["The cat is very sad."])
    with torch.inference_mode():
        tap(batch)
        out = loaded.model(**batch, output_attentions=True)  # hooks installed, no call of the tap running
    assert tap.cuts and out.last_hidden_state is not None
    tap.close()


def test_shared_attention_module_runs_whole():
    """ALBERT runs one shared layer several times: stopping at its first return would lose layers."""
    config = transformers.AlbertConfig(vocab_size=40, embedding_size=16, hidden_size=32, num_hidden_layers=3,
                                       num_attention_heads=4, intermediate_size=37, attn_implementation="eager")
    torch.manual_seed(0)
    model = transformers.AlbertModel(config).eval()
    batch = {"input_ids": torch.randint(5, 40, (2, 9)), "attention_mask": torch.ones((2, 9), dtype=torch.long)}
    tap = AttentionTap(model, 3)
    with torch.inference_mode():
        tap(batch)
        again = tap(batch)
        whole = model(**batch, output_attentions=True).attentions
    assert not tap.cuts
    assert len(again) == 3 and all(torch.equal(a, b) for a, b in zip(again, whole))


class Copying(torch.nn.Module):
    """A wrapper that returns copies of the weights: no module returned those tensors."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, **kwargs):
        out = self.inner(**kwargs)
        out["attentions"] = tuple(a.clone() for a in out.attentions)
        return out


def test_copied_weights_run_whole(tiny_models):
    loaded = load_model(str(tiny_models["bert"]))
    model = Copying(loaded.model)
    batch = inputs_for(loaded, ["The cat is very sad.", "Kedi çok üzgün."])
    tap = AttentionTap(model, LAYERS)
    with torch.inference_mode():
        tap(batch)
        again = tap(batch)
        whole = loaded.model(**batch, output_attentions=True).attentions
    assert not tap.cuts
    assert all(torch.equal(a, b) for a, b in zip(again, whole))


def test_a_failed_first_pass_teaches_nothing(tiny_models):
    """The first pass raises (bad input): the tap learns on the next one and still cuts."""
    loaded = load_model(str(tiny_models["bert"]))
    batch = inputs_for(loaded, ["The cat is very sad."])
    hooks = lambda: sum(len(m._forward_hooks) for m in loaded.model.modules())  # noqa: E731
    tap = AttentionTap(loaded.model, LAYERS)
    with torch.inference_mode():
        loaded.model(**batch, output_attentions=True)  # transformers' own recording hooks
        before = hooks()
        with pytest.raises((IndexError, RuntimeError)):
            tap({"input_ids": torch.tensor([[10 ** 6]]), "attention_mask": torch.ones((1, 1), dtype=torch.long)})
        assert not tap.cuts and not tap.learned and hooks() == before  # the learning hooks are gone
        tap(batch)
        cut = tap(batch)
        whole = loaded.model(**batch, output_attentions=True).attentions
    assert tap.cuts and all(torch.equal(a, b) for a, b in zip(cut, whole))
    tap.close()
