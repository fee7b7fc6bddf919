"""Tokenising, batched attention extraction, q/k capture and the pipeline's model step, on tiny models."""
import dataclasses
import types

import numpy as np
import pytest

import reference as ref
from reportgen.errors import RunError
from reportgen.extract.attention import row_sum_error, run_batches
from reportgen.extract.qk import QKCapture
from reportgen.extract.tokens import encode_example, encode_examples
from reportgen.manifest import parse_manifest
from reportgen.models.load import load_model
from reportgen.pipeline import BuildOptions, run_model
from reportgen.store.cache import Cache
from tiny import FAMILIES, HEADS, LAYERS

SPLIT_WORD = "Fußballspieler"  # several pieces in every tiny tokenizer

EXAMPLES = """\
examples:
  - id: pair
    language: de
    a: Müller heißt der Fußballspieler aus München.
    b: "İstanbul'da güzel bir gün; çok ışık!"
  - id: short
    language: tr
    a: Kedi çok üzgün.
  - id: long
    language: en
    a: The trophy does not fit into the suitcase because it is too large, said the teacher in Straße.
    b: Öğretmen öğrencilere ödevlerini ışıkta okumalarını söyledi.
  - id: cat
    language: en
    a: The cat did not eat the food because it was not fresh.
    coref:
      - pronoun: it
        antecedent: food
        candidates: [cat, food]
"""

SPECIALS = {"bert": ("[CLS]", "[SEP]"), "distilbert": ("[CLS]", "[SEP]"), "electra": ("[CLS]", "[SEP]"),
            "roberta": ("<s>", "</s>"), "xlm-roberta": ("<s>", "</s>"), "gpt2": None}


def manifest_for(folder, examples=EXAMPLES):
    return parse_manifest(f"models:\n  - id: {folder}\n{examples}")


@pytest.fixture(scope="module")
def tiny(tiny_models):
    """family -> (LoadedModel, Manifest), loaded once per module."""
    cache = {}

    def get(family):
        if family not in cache:
            cache[family] = (load_model(str(tiny_models[family])), manifest_for(tiny_models[family]))
        return cache[family]

    return get


def encode_all(loaded, manifest, max_length=128):
    return [encode_example(loaded.tokenizer, e, i, max_length) for i, e in enumerate(manifest.examples)]


def run_all(loaded, manifest, encoded, **kw):
    names = [e.id for e in manifest.examples]
    return {item.encoded.example_index: item for item in run_batches(loaded, encoded, names, **kw)}


def softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


# ------------------------------------------------------------------ tokens


@pytest.mark.parametrize("family", FAMILIES)
def test_encode_pair(tiny, family):
    loaded, manifest = tiny(family)
    example = manifest.examples[0]
    enc = encode_example(loaded.tokenizer, example, 0, 128)
    n = enc.n
    assert enc.input_ids == loaded.tokenizer(example.a, example.b)["input_ids"]
    assert len(enc.tokens) == n and enc.tokens == loaded.tokenizer.convert_ids_to_tokens(enc.input_ids)
    for array, dtype in ((enc.special, np.bool_), (enc.segment, np.int8), (enc.word, np.int32), (enc.punct, np.bool_)):
        assert array.shape == (n,) and array.dtype == dtype
    assert not enc.truncated and enc.full_length == n

    # special tokens: [CLS] A [SEP] B [SEP], <s> A </s></s> B </s>, none for GPT-2
    specials = SPECIALS[family]
    special_tokens = [t for t, s in zip(enc.tokens, enc.special) if s]
    if specials is None:
        assert not enc.special.any()
    else:
        first, sep = specials
        assert enc.tokens[0] == first and enc.tokens[-1] == sep and enc.special[0] and enc.special[-1]
        assert sorted(special_tokens) == sorted([first] + [sep] * (2 if family in ("bert", "distilbert", "electra") else 3))
        assert not any(t in specials for t, s in zip(enc.tokens, enc.special) if not s)

    # segments: -1 exactly on specials; all of A (0) before all of B (1)
    assert np.array_equal(enc.segment == -1, enc.special)
    body = enc.segment[~enc.special]
    assert set(body.tolist()) == {0, 1}
    assert np.all(np.diff(body) >= 0)
    if family in ("bert", "electra"):
        types = np.array(enc.token_type_ids)
        assert np.array_equal(types[enc.segment == 0], np.zeros((enc.segment == 0).sum()))
        assert np.all(types[enc.segment == 1] == 1)

    # words: -1 exactly on specials; every word gets pieces, in order, within its own sentence
    words = example.words()
    count_a = sum(w.segment == 0 for w in words)
    assert np.array_equal(enc.word == -1, enc.special)
    body_words = enc.word[~enc.special]
    assert np.all(np.diff(body_words) >= 0)
    assert set(body_words.tolist()) == set(range(len(words)))
    assert np.all(enc.word[enc.segment == 0] < count_a) and np.all(enc.word[enc.segment == 1] >= count_a)

    # a word split into several pieces maps all of them (and only them) to its index
    index = [w.text for w in words].index(SPLIT_WORD)
    pieces = [t for t, w in zip(enc.tokens, enc.word) if w == index]
    assert len(pieces) >= 3
    positions = np.flatnonzero(enc.word == index)
    assert np.array_equal(positions, np.arange(positions[0], positions[0] + len(positions)))
    assert loaded.tokenizer.convert_tokens_to_string(pieces).strip() == SPLIT_WORD
    for other in ("İstanbul", "ışık", "München"):
        j = [w.text for w in words].index(other)
        text = loaded.tokenizer.convert_tokens_to_string([t for t, w in zip(enc.tokens, enc.word) if w == j])
        assert text.strip() == other

    # punctuation: the final "." of A and "!" of B, never a special token
    assert not np.any(enc.punct & enc.special)
    dot = [w.text for w in words].index(".")
    assert all(enc.punct[enc.word == dot])
    assert not any(enc.punct[enc.word == index])


@pytest.mark.parametrize("family", FAMILIES)
def test_truncation(tiny, family):
    loaded, manifest = tiny(family)
    example = manifest.examples[2]
    enc = encode_example(loaded.tokenizer, example, 0, 12)
    assert enc.truncated and enc.n == 12 and enc.full_length > enc.n
    assert len(enc.tokens) == enc.special.size == enc.word.size == 12
    assert set(enc.segment[~enc.special].tolist()) == {0, 1}  # longest_first keeps both sentences
    if SPECIALS[family] is not None:
        assert enc.special[0] and enc.special[-1]
    item = next(run_batches(loaded, [enc], [example.id]))
    assert item.attention.shape == (LAYERS, HEADS, 12, 12)
    untouched = encode_example(loaded.tokenizer, example, 0, 128)
    assert not untouched.truncated and untouched.full_length == enc.full_length == untouched.n


# ------------------------------------------------------------------ attention


@pytest.mark.parametrize("family", FAMILIES)
def test_attention_shape_rows_and_causality(tiny, family):
    loaded, manifest = tiny(family)
    encoded = encode_all(loaded, manifest)
    out = run_all(loaded, manifest, encoded)
    assert sorted(out) == list(range(len(encoded)))
    for index, item in out.items():
        n = encoded[index].n
        att = item.attention
        assert att.shape == (LAYERS, HEADS, n, n) and att.dtype == np.float32
        assert np.all(att >= 0)
        np.testing.assert_allclose(att.sum(axis=-1), 1.0, atol=1e-5)
        assert ref.is_causal(att) == (family == "gpt2")
    lower = np.tril(np.ones((4, 4)))
    assert ref.is_causal(lower / lower.sum(-1, keepdims=True)) and not ref.is_causal(np.full((4, 4), 0.25))


@pytest.mark.parametrize("family", FAMILIES)
def test_batching_matches_one_at_a_time(tiny, family):
    loaded, manifest = tiny(family)
    encoded = encode_all(loaded, manifest)
    lengths = sorted(e.n for e in encoded)
    assert lengths[-1] > 3 * lengths[0]  # the short ones are padded a lot in the joint batch
    batches = []
    together = run_all(loaded, manifest, encoded, max_tokens=10**6, on_batch=batches.append)
    assert batches == [len(encoded)]
    singles = []
    alone = run_all(loaded, manifest, encoded, max_tokens=1, on_batch=singles.append)
    assert singles == [1] * len(encoded)
    for index, example in enumerate(manifest.examples):
        a, b = together[index].attention, alone[index].attention
        n = encoded[index].n
        # padding never leaks: exactly the example's own n x n block, rows still summing to 1
        assert a.shape == b.shape == (LAYERS, HEADS, n, n)
        np.testing.assert_allclose(a.sum(axis=-1), 1.0, atol=1e-5)
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)
        causal = ref.is_causal(a)
        ra = ref.analyse_example(a, encoded[index], example.coref, causal)
        rb = ref.analyse_example(b, encoded[index], example.coref, causal)
        np.testing.assert_allclose(ra.num, rb.num, atol=1e-5, rtol=0)
        np.testing.assert_array_equal(ra.count, rb.count)
        if example.coref:
            np.testing.assert_allclose(ra.coref, rb.coref, atol=1e-5, rtol=0)


@pytest.mark.parametrize("family", FAMILIES)
def test_qk_capture_reproduces_attention(tiny, family):
    loaded, manifest = tiny(family)
    encoded = encode_all(loaded, manifest)
    capture = QKCapture(loaded)
    assert capture.available
    try:
        out = run_all(loaded, manifest, encoded, capture=capture)
    finally:
        capture.remove()
    for index, item in out.items():
        n = encoded[index].n
        q, k = item.qk
        d = 32 // HEADS
        assert q.shape == k.shape == (LAYERS, HEADS, n, d) and q.dtype == k.dtype == np.float16
        scores = q.astype(np.float64) @ np.swapaxes(k.astype(np.float64), -1, -2) / np.sqrt(d)
        swapped = np.swapaxes(scores, -1, -2)
        if family == "gpt2":
            upper = np.triu(np.ones((n, n), dtype=bool), k=1)
            scores, swapped = np.where(upper, -np.inf, scores), np.where(upper, -np.inf, swapped)
        np.testing.assert_allclose(softmax(scores), item.attention, atol=5e-3, rtol=0)
        # the check can tell q from k: the transposed scores give different attention
        assert np.abs(softmax(swapped) - item.attention).max() > 5e-2
    # once removed, the hooks capture nothing
    assert next(run_batches(loaded, encoded[:1], [manifest.examples[0].id], capture=capture)).qk is None


def test_row_sum_error_counts_weight_on_padding():
    """Two examples of 4 and 3 tokens padded to 4: a row of the short one giving the padded column weight
    sums to 1 over the whole width but not over its own tokens, and fails; the other example is untouched."""
    import torch

    a = torch.zeros((2, HEADS, 4, 4))
    a[0] = 0.25
    a[1, :, :3, :3] = 1 / 3
    a[1, :, 3, :3] = 1 / 3  # a padded row: never checked
    errors = row_sum_error(a, [4, 3])
    assert errors[0] <= 1e-6 and errors[1] <= 1e-6
    a[1, 0, 2] = 0.25  # 3 own columns at 0.25 + 0.25 on padding
    errors = row_sum_error(a, [4, 3])
    assert errors[0] <= 1e-6 and errors[1] == pytest.approx(0.25)
    a[1, 1, 3, :] = float("nan")  # padded rows are not part of the example
    assert row_sum_error(a, [4, 3])[1] == pytest.approx(0.25)


class _DropAttention:
    """A model that returns no (or too few) attention tensors, like SDPA does."""

    def __init__(self, inner, keep):
        self.inner, self.keep = inner, keep

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, output_attentions=False):
        out = self.inner(input_ids=input_ids, attention_mask=attention_mask, output_attentions=output_attentions)
        attentions = None if self.keep is None else tuple(out.attentions[: self.keep])
        return types.SimpleNamespace(last_hidden_state=out.last_hidden_state, attentions=attentions)

    __call__ = forward


@pytest.mark.parametrize("keep", [None, 1])
def test_missing_attentions_is_a_run_error(tiny, keep):
    loaded, manifest = tiny("bert")
    encoded = encode_all(loaded, manifest)[:2]
    broken = dataclasses.replace(loaded, model=_DropAttention(loaded.model, keep))
    with pytest.raises(RunError) as exc:
        list(run_batches(broken, encoded, [e.id for e in manifest.examples]))
    assert loaded.ref in str(exc.value) and "eager" in str(exc.value)


def test_bad_attention_from_model_names_example(tiny):
    loaded, manifest = tiny("bert")
    encoded = encode_all(loaded, manifest)[:1]

    class Doubled(_DropAttention):
        def forward(self, input_ids, attention_mask=None, token_type_ids=None, output_attentions=False):
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, output_attentions=True)
            return types.SimpleNamespace(attentions=tuple(a * 2 for a in out.attentions))

        __call__ = forward

    broken = dataclasses.replace(loaded, model=Doubled(loaded.model, None))
    with pytest.raises(RunError) as exc:
        list(run_batches(broken, encoded, [e.id for e in manifest.examples]))
    assert loaded.ref in str(exc.value) and "example pair" in str(exc.value) and "layer 0" in str(exc.value)


# ------------------------------------------------------------------ pipeline


def test_run_model_caches_records(tiny_models, tmp_path):
    three = EXAMPLES.split("  - id: cat")[0]
    manifest = manifest_for(tiny_models["bert"], three)
    assert len(manifest.examples) == 3
    spec = manifest.models[0]
    options = BuildOptions(progress=False)
    cache = Cache(tmp_path / "cache")

    def collect(into):
        def sink(run, example, record):
            into[example.slug] = record
            return record
        return sink

    first: dict = {}
    run = run_model(manifest, spec, options, cache, collect(first))
    assert run.error is None and run.forward_examples == 3
    assert len(first) == 3 and sorted(run.records) == sorted(e.slug for e in manifest.examples)
    assert (run.layers, run.heads) == (LAYERS, HEADS)
    assert run.revision.startswith("sha256:")
    for example in manifest.examples:
        record = first[example.slug]
        assert record.sums_num.shape[1:] == (LAYERS, HEADS)
        assert record.attention_q.shape[:2] == (LAYERS, HEADS) and not record.causal

    second: dict = {}
    again = run_model(manifest, spec, options, Cache(tmp_path / "cache"), collect(second))
    assert again.forward_examples == 0 and len(second) == 3
    assert (again.layers, again.heads) == (LAYERS, HEADS)
    for slug, record in first.items():
        np.testing.assert_array_equal(second[slug].sums_num, record.sums_num)
        np.testing.assert_array_equal(second[slug].attention_q, record.attention_q)
        assert second[slug].tokens == record.tokens


def _first_overlapping_word(words, segment, start, end):
    """The word-finding rule of ``extract.tokens`` as a plain scan: the first word of ``segment`` overlapping
    [start, end) (empty ranges: containing start), else the first word starting at or after start, else -1."""
    best = -1
    for index, (seg, w_start, w_end) in enumerate(words):
        if seg != segment:
            continue
        if end > start and w_start < end and start < w_end:
            return index
        if end <= start and w_start <= start < w_end:
            return index
        if best == -1 and w_start >= start:
            best = index
    return best


def test_word_index_agrees_with_plain_scan():
    from reportgen.extract.tokens import find_words
    from reportgen.manifest.words import example_words

    rng = np.random.default_rng(0)
    alphabet = list("ab ,.-'xyz  ")
    for _ in range(300):
        a = "".join(rng.choice(alphabet, size=int(rng.integers(0, 30))))
        b = "".join(rng.choice(alphabet, size=int(rng.integers(0, 30)))) if rng.random() < 0.6 else None
        words = example_words(a, b)
        plain = [(w.segment, w.start, w.end) for w in words]
        queries = np.array([(segment, start, end) for segment in (-1, 0, 1) for start in range(0, 32)
                            for end in range(start - 1, start + 5)])
        found = find_words(words, queries[:, 0], queries[:, 1])
        assert found.dtype == np.int32
        for (segment, start, end), got in zip(queries.tolist(), found.tolist()):
            want = _first_overlapping_word(plain, segment, start, end) if segment >= 0 else -1
            assert got == want, (a, b, segment, start, end)


def test_plan_batches_bounds_tokens_cells_and_runs_longest_first():
    from reportgen.extract.attention import CELLS_PER_TOKEN, plan_batches

    rng = np.random.default_rng(3)
    lengths = [int(x) for x in rng.integers(4, 300, size=500)]
    max_tokens = 1024
    batches = plan_batches(lengths, max_tokens=max_tokens, max_batch=32)
    assert sorted(i for b in batches for i in b) == list(range(500))  # every example exactly once
    longest = [max(lengths[i] for i in b) for b in batches]
    assert longest == sorted(longest, reverse=True)  # longest batch first
    for batch, width in zip(batches, longest):
        assert len(batch) <= 32
        if len(batch) > 1:  # a single example always runs, however long
            assert len(batch) * width <= max_tokens
            assert len(batch) * width * width <= CELLS_PER_TOKEN * max_tokens
    # long examples get small batches, short ones full batches
    assert len(batches[0]) <= CELLS_PER_TOKEN * max_tokens // longest[0] ** 2 + 1
    assert len(batches[-1]) == 32 or len(batches) == 1


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("max_length", [128, 12])
def test_encode_examples_in_one_call_equals_one_at_a_time(tiny, family, max_length):
    """The backend's batch encoding gives every example exactly what encoding it alone gives (truncated too)."""
    loaded, manifest = tiny(family)
    together = encode_examples(loaded.tokenizer, manifest.examples, max_length)
    assert together is not None  # every tiny family has a fast tokenizer
    alone = [encode_example(loaded.tokenizer, e, i, max_length) for i, e in enumerate(manifest.examples)]
    assert max_length == 128 or any(e.truncated for e in alone)
    for a, b in zip(together, alone):
        assert dataclasses.asdict(a).keys() == dataclasses.asdict(b).keys()
        for field in dataclasses.fields(a):
            x, y = getattr(a, field.name), getattr(b, field.name)
            if isinstance(x, np.ndarray):
                assert x.dtype == y.dtype
                np.testing.assert_array_equal(x, y)
            else:
                assert x == y, field.name


def test_a_failing_batch_encoding_is_redone_one_at_a_time_and_names_the_example():
    from reportgen.extract.tokens import encode_all as encode_every

    def encode(text, pair=None, add_special_tokens=True):
        raise ValueError(f"cannot encode {text!r}") if "broken" in text else AssertionError("not reached")

    def encode_batch(inputs, add_special_tokens=True):
        raise ValueError("one input is broken")

    backend = types.SimpleNamespace(truncation=None, padding=None, encode=encode, encode_batch=encode_batch)
    tokenizer = types.SimpleNamespace(_tokenizer=backend, model_input_names=["input_ids"], unk_token_id=None)
    manifest = parse_manifest("models:\n  - id: m\nexamples:\n  - {id: fine, language: en, a: broken text}\n")
    spec = types.SimpleNamespace(id="m")
    with pytest.raises(RunError, match=r"model m, example 'fine': tokenisation failed \(ValueError: cannot encode"):
        encode_every(tokenizer, spec.id, manifest.examples, 128)


def test_a_backend_that_cannot_switch_truncation_off_is_not_used():
    from reportgen.extract.tokens import _backend

    calls = []
    real = types.SimpleNamespace(truncation={"max_length": 8}, padding=None, encode_batch=None,
                                 no_truncation=lambda: calls.append("off"))
    assert _backend(types.SimpleNamespace(_tokenizer=real)) is real and calls == ["off"]
    other = types.SimpleNamespace(truncation={"max_length": 8}, padding=None, encode_batch=None)  # no no_truncation
    assert _backend(types.SimpleNamespace(_tokenizer=other)) is None
    assert _backend(types.SimpleNamespace()) is None  # a slow tokenizer has no backend


def test_threads_option_sets_torch_threads_for_the_model_run(tiny_models, tmp_path):
    import torch

    manifest = manifest_for(tiny_models["bert"], EXAMPLES.split("  - id: cat")[0])
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        run = run_model(manifest, manifest.models[0], BuildOptions(progress=False, threads=1), Cache(None, enabled=False),
                        lambda run, example, record: record)
        assert run.forward_examples == 3 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
