"""A standalone HTML harness for the viewer bundle (no MkDocs needed).

``build_harness(root)`` lays out, under ``root``, the same relative structure as a built site::

    assets/reportgen/*.js (render.assets.VIEWER_SCRIPTS), viewer.css   (copied from templates/)
    data/<model>/<example>/meta.js, L<k>.js, Q<k>.js (written with reportgen.render.payload)
    examples/<example>.html                         (the embed snippet the renderer writes)

The attention is not random noise: query and key vectors are drawn first (float16-representable,
with a few planted patterns such as previous-token and [CLS] heads), and the attention is
softmax(q k^T / sqrt(d)) computed from exactly those vectors in float64, then quantised with
``tests/reference.py``'s ``quantize`` (the scheme of ``reportgen.store.quantize``). So the neuron view's softmax must reproduce the stored
attention within the storage error.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from reportgen.render.assets import VIEWER_SCRIPTS, script_srcs
from reportgen.render.payload import data_script, layer_object, meta_object, qk_object
from reference import quantize
from reportgen.store.quantize import MAX_ERROR

REPO = Path(__file__).resolve().parents[2]
ASSETS = REPO / "templates" / "assets" / "reportgen"

HOSTILE_SCRIPT = "</script><script>alert(1)</script>"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"
ARABIC = "\u0645\u0631\u062d\u0628\u0627"  # "marhaban"
HEBREW = "\u05e9\u05dc\u05d5\u05dd"  # "shalom"
EMOJI = "\U0001f642"
HOSTILE_TOKENS = [HOSTILE_SCRIPT, HOSTILE_IMG, ARABIC, HEBREW, EMOJI, "{{ x }}"]

PAIR = "pair"
LONG = "long"
BERT = "bert-fake"
GPT = "gpt-fake"

PATTERN_LABELS = ["previous token", "[CLS]", "next token", "broad"]


@dataclass
class FakeRun:
    """One (model, example) of the harness with everything the tests compare against."""

    model: str
    example: str
    record: SimpleNamespace
    attention: np.ndarray  # float64 [L, H, n, n], exact softmax of the stored q/k
    q: np.ndarray  # float16 [L, H, n, d]
    k: np.ndarray  # float16 [L, H, n, d]
    qk_layers: list[int]
    labels: list[list[str | None]]
    words: list[dict]

    @property
    def key(self) -> str:
        return f"{self.model}/{self.example}"

    @property
    def qk_max_error(self) -> float:
        """What the pipeline states for the neuron view: max |softmax(q.k/sqrt d) - attention| (0 here)."""
        return float(np.max(np.abs(_attention(self.q, self.k, self.record.causal) - self.attention)))

    @property
    def stored(self) -> np.ndarray:
        """Dequantised attention as the viewer sees it (float64 [L, H, n, n])."""
        return self.record.attention_q.astype(np.float64) / 255.0


@dataclass
class Harness:
    root: Path
    runs: dict[str, FakeRun] = field(default_factory=dict)  # key -> run
    pages: dict[str, Path] = field(default_factory=dict)  # example -> html path
    max_error: float = MAX_ERROR

    def url(self, example: str, hash_: str = "") -> str:
        return self.pages[example].as_uri() + hash_

    def run(self, model: str, example: str) -> FakeRun:
        return self.runs[f"{model}/{example}"]


def _qk(rng: np.random.Generator, layers: int, heads: int, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Random query/key vectors with planted patterns, rounded to float16."""
    q = rng.normal(0.0, 1.0, size=(layers, heads, n, d))
    k = rng.normal(0.0, 1.0, size=(layers, heads, n, d))
    for layer in range(layers):
        for head in range(heads):
            kind = (layer * heads + head + layer) % 4
            if kind == 0:  # previous token: q_i . k_{i-1} is large
                k[layer, head, :-1] += 1.6 * q[layer, head, 1:]
            elif kind == 1:  # first token ([CLS]) for everybody
                q[layer, head, :, 0] = 2.5
                k[layer, head, :, 0] = 0.0
                k[layer, head, 0, 0] = 2.5
            elif kind == 2:  # next token
                k[layer, head, 1:] += 1.6 * q[layer, head, :-1]
            else:  # broad
                q[layer, head] *= 0.35
    return q.astype(np.float16), k.astype(np.float16)


def _attention(q: np.ndarray, k: np.ndarray, causal: bool) -> np.ndarray:
    q64, k64 = q.astype(np.float64), k.astype(np.float64)
    d = q.shape[-1]
    scores = np.einsum("lhid,lhjd->lhij", q64, k64) / np.sqrt(d)
    if causal:
        n = q.shape[2]
        scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    return weights / weights.sum(axis=-1, keepdims=True)


def _labels(layers: int, heads: int) -> list[list[str | None]]:
    out: list[list[str | None]] = []
    for layer in range(layers):
        row: list[str | None] = []
        for head in range(heads):
            kind = (layer * heads + head + layer) % 4
            row.append(PATTERN_LABELS[kind] if (head + layer) % 3 else None)
        out.append(row)
    return out


def _make_run(rng, model, example, tokens, special, segment, word, words, layers, heads, d, causal,
              qk_layers) -> FakeRun:
    n = len(tokens)
    q, k = _qk(rng, layers, heads, n, d)
    attention = _attention(q, k, causal)
    record = SimpleNamespace(
        tokens=list(tokens), special=np.array(special, dtype=bool), segment=np.array(segment, dtype=np.int8),
        word=np.array(word, dtype=np.int32), causal=causal, attention_q=quantize(attention),
    )
    return FakeRun(model=model, example=example, record=record, attention=attention, q=q, k=k,
                   qk_layers=list(qk_layers), labels=_labels(layers, heads), words=words)


def _pair_bert(rng) -> FakeRun:
    a = [("The",), ("cat",), ("said",), (HOSTILE_SCRIPT,), ("to",), (HOSTILE_IMG,), (ARABIC,), (EMOJI,),
         ("play", "##ing"), (".",)]
    b = [("It",), ("was",), (HEBREW,), ("happy",), ("{{ x }}",), (".",)]
    tokens, special, segment, word, words = ["[CLS]"], [True], [-1], [-1], []
    for seg, sentence in ((0, a), (1, b)):
        for pieces in sentence:
            for piece in pieces:
                tokens.append(piece)
                special.append(False)
                segment.append(seg)
                word.append(len(words))
            words.append({"text": "".join(p.replace("##", "") for p in pieces), "segment": seg})
        tokens.append("[SEP]")
        special.append(True)
        segment.append(-1)
        word.append(-1)
    return _make_run(rng, BERT, PAIR, tokens, special, segment, word, words, layers=3, heads=12, d=16,
                     causal=False, qk_layers=[0, 1, 2])


def _pair_gpt(rng) -> FakeRun:
    pieces = [("The", 0), ("\u0120cat", 0), ("\u0120said", 0), (HOSTILE_SCRIPT, 0), ("\u0120to", 0),
              (HOSTILE_IMG, 0), ("\u0120" + ARABIC, 0), (EMOJI, 0), ("\u0120play", 0), ("ing", 0), (".", 0),
              ("\u0120It", 1), ("\u0120was", 1), ("\u0120happy", 1), (".", 1)]
    tokens = [p for p, _ in pieces]
    segment = [s for _, s in pieces]
    word, words = [], []
    for index, (piece, seg) in enumerate(pieces):
        if piece == "ing":
            word.append(len(words) - 1)
            words[-1]["text"] += "ing"
            continue
        word.append(len(words))
        words.append({"text": piece.replace("\u0120", ""), "segment": seg})
    return _make_run(rng, GPT, PAIR, tokens, [False] * len(tokens), segment, word, words, layers=2, heads=4,
                     d=8, causal=True, qk_layers=[0, 1])


def _long_bert(rng, n: int = 512) -> FakeRun:
    half = (n - 3) // 2
    tokens, special, segment, word, words = ["[CLS]"], [True], [-1], [-1], []
    for seg, count in ((0, half), (1, n - 3 - half)):
        for index in range(count):
            text = f"{'ab'[seg]}{index}"
            tokens.append(text)
            special.append(False)
            segment.append(seg)
            word.append(len(words))
            words.append({"text": text, "segment": seg})
        tokens.append("[SEP]")
        special.append(True)
        segment.append(-1)
        word.append(-1)
    assert len(tokens) == n
    return _make_run(rng, BERT, LONG, tokens, special, segment, word, words, layers=3, heads=12, d=32,
                     causal=False, qk_layers=[0, 1])


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>reportgen viewer harness: {example}</title>
<link rel="stylesheet" href="../assets/reportgen/viewer.css">
<style>
body {{ margin: 0; font-family: system-ui, sans-serif; background: #fff; color: #222; }}
body[data-md-color-scheme="slate"] {{ background: #1e2129; color: #e2e4e9; }}
main {{ max-width: 920px; margin: 0 auto; padding: 16px 24px; }}
</style>
</head>
<body>
<script>window.__rgBaseline = Object.getOwnPropertyNames(window);</script>
<main>
<h1>Example {example}</h1>
<div class="rg-viewer" data-example="{example}" data-base="../data/"></div>
{scripts}
</main>
{viewer_scripts}
</body>
</html>
"""


def _write_run(root: Path, run: FakeRun) -> None:
    folder = root / "data" / run.model / run.example
    folder.mkdir(parents=True, exist_ok=True)
    names = {BERT: "Fake BERT (12 heads)", GPT: "Fake GPT (causal)"}
    meta = meta_object(run.key, run.model, run.example, run.record, run.words, run.labels, names[run.model],
                       run.qk_layers, qk_max_error=run.qk_max_error)
    (folder / "meta.js").write_text(data_script(meta), encoding="utf-8")
    layers = run.record.attention_q.shape[0]
    for layer in range(layers):
        obj = layer_object(run.key, layer, run.record.attention_q, run.record.causal)
        (folder / meta["layer_files"][layer]).write_text(data_script(obj), encoding="utf-8")
    for layer in run.qk_layers:
        obj = qk_object(run.key, layer, run.q[layer], run.k[layer])
        (folder / meta["qk_files"][str(layer)]).write_text(data_script(obj), encoding="utf-8")


def build_harness(root: Path, seed: int = 1234) -> Harness:
    """Write the harness under ``root`` and return what the tests need to check it."""
    root = Path(root)
    assets = root / "assets" / "reportgen"
    assets.mkdir(parents=True, exist_ok=True)
    for name in VIEWER_SCRIPTS + ("viewer.css",):
        (assets / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ASSETS / name, assets / name)
    rng = np.random.default_rng(seed)
    harness = Harness(root=root)
    for run in (_pair_bert(rng), _pair_gpt(rng), _long_bert(rng)):
        harness.runs[run.key] = run
        _write_run(root, run)
    examples: dict[str, list[FakeRun]] = {}
    for run in harness.runs.values():
        examples.setdefault(run.example, []).append(run)
    (root / "examples").mkdir(exist_ok=True)
    examples["empty"] = []  # a page whose example has no data at all
    for example, runs in examples.items():
        scripts = "\n".join(f'<script src="../data/{run.model}/{example}/meta.js"></script>' for run in runs)
        page = root / "examples" / f"{example}.html"
        viewer_scripts = "\n".join(f'<script src="{src}"></script>' for src in script_srcs(VIEWER_SCRIPTS, "../"))
        page.write_text(PAGE.format(example=example, scripts=scripts, viewer_scripts=viewer_scripts), encoding="utf-8")
        harness.pages[example] = page
    return harness


if __name__ == "__main__":  # python -m tests.browser.harness OUT: write a harness to look at by hand
    import sys

    out = build_harness(Path(sys.argv[1] if len(sys.argv) > 1 else "harness"))
    for name, path in out.pages.items():
        print(name, path.as_uri())
