"""What the analysis keeps of each record while records stream in (the build holds no record whole).

``RecordCollector.add`` sees every record of the build once, before its heavy arrays are dropped, and keeps
- per model, the example's statistics (``summary.ExampleStats``: score numerators and counts, coreference
  weights under the build's span rule, reachable rows, the probe's reverse weights), its token count
  and its pieces per word (``pieces.example_pieces`` with the most split word's pieces);
- per model diff, the per-head Jensen-Shannon sums (``DiffCollector``).

This is the one stateful part of ``reportgen.analysis``: the model-diff sums need two models' attention
for the same example, and the first of the two waits in a temporary folder until the second arrives
(then both are compared and the file is deleted, so memory stays flat). Everything else in the package is
pure functions over these collected numbers (``analysis.stage``).
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reportgen.analysis.model_diff import head_js_sums
from reportgen.analysis.patterns import PatternSums, reachable_rows
from reportgen.analysis.pieces import WordPieces, example_pieces
from reportgen.analysis.spans import aggregate_span
from reportgen.analysis.summary import ExampleStats
from reportgen.plan import examples_for
from reportgen.store.quantize import dequantize


@dataclass
class PiecesSample:
    """One record's pieces per word, and its most split word (text and pieces) for the model page."""

    language: str
    counts: WordPieces
    word: str
    pieces: list[str]


@dataclass
class ModelRecords:
    """What is kept of one model's records: statistics in arrival order, tokens and pieces per example slug."""

    stats: list[ExampleStats] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=dict)
    pieces: dict[str, PiecesSample] = field(default_factory=dict)


class RecordCollector:
    """Keeps each record's statistics (see the module docstring) as the build streams them.

    Not locked: the build calls ``add`` from one thread at a time (cached records on the main thread
    first, then computed ones on the main thread or on ``pipeline.Overlap``'s single worker, which the
    main thread waits for before it reads anything here)."""

    def __init__(self, manifest):
        self.rule = manifest.settings.coref_span  # one value per candidate mention (analysis.spans)
        self.models: dict[str, ModelRecords] = {}
        self.diffs = DiffCollector(manifest)

    def add(self, model: str, example, record):
        """Keep what the analysis needs of ``record`` (model slug ``model``); returns the record untouched."""
        kept = self.models.setdefault(model, ModelRecords())
        kept.stats.append(ExampleStats(
            example, PatternSums(record.sums_num, record.sums_count),
            [aggregate_span(w, self.rule) if w.size else w for w in record.coref],
            reachable_rows(record.special, record.punct, record.causal),
            [record.extras.get(f"coref_back_{i}") for i in range(len(record.coref))]))
        kept.tokens[example.slug] = record.n
        kept.pieces[example.slug] = pieces_sample(example, record)
        self.diffs.add(model, example.slug, record)
        return record

    def close(self) -> None:
        self.diffs.close()


def pieces_sample(example, record) -> PiecesSample:
    """The record's pieces per word (``pieces.example_pieces``) and the text and pieces of its most split word."""
    counts = example_pieces(record.word, record.special)
    text, pieces = "", []
    if counts.longest >= 0:
        words = example.words()
        text = words[counts.longest].text if counts.longest < len(words) else "?"
        pieces = [t for t, w in zip(record.tokens, record.word.tolist()) if w == counts.longest]
    return PiecesSample(example.language, counts, text, pieces)


class DiffCollector:
    """Accumulates per-head Jensen-Shannon sums for every ``diffs:`` pair while records stream in."""

    def __init__(self, manifest):
        specs = {s.slug: s for s in manifest.models}
        self.pairs = [(d.base, d.other) for d in getattr(manifest, "diffs", ())]
        self.common: dict[tuple[str, str], set[str]] = {}
        for base, other in self.pairs:
            a = {e.slug for e in examples_for(specs[base], manifest.examples)}
            b = {e.slug for e in examples_for(specs[other], manifest.examples)}
            self.common[(base, other)] = a & b
        self.order = {e.slug: i for i, e in enumerate(manifest.examples)}
        # per pair: example -> (per-head sums, rows); summed in manifest order at the end, so the page does not
        # depend on the order records arrive in (cached ones first): a resumed build stays byte-identical
        self.acc = {pair: {"per_example": {}, "mismatch": [], "precision": set()} for pair in self.pairs}
        self.tmp: Path | None = None
        self.waiting: dict[tuple[str, str], tuple[Path, list[str], np.ndarray, str]] = {}
        self.seen: set[tuple[str, str]] = set()

    def add(self, model: str, example: str, record) -> None:
        pairs = [p for p in self.pairs if model in p and example in self.common[p]]
        if not pairs:
            return
        attention, precision = _diff_attention(record)
        store = False
        for pair in pairs:
            partner = pair[1] if model == pair[0] else pair[0]
            if (partner, example) not in self.seen:
                store = True
                continue
            path, tokens, special, partner_precision = self.waiting[(partner, example)]
            acc = self.acc[pair]
            if tokens != list(record.tokens):
                acc["mismatch"].append(example)
                continue
            other_attention = np.load(path)
            if other_attention.shape != attention.shape:
                continue  # models of different layer x head shapes: no head-by-head distance (the page says so)

            base_att, other_att = (other_attention, attention) if model == pair[1] else (attention, other_attention)
            acc["per_example"][example] = head_js_sums(base_att.astype(np.float64), other_att.astype(np.float64),
                                                       special, bool(record.causal))
            acc["precision"] |= {precision, partner_precision}
        self.seen.add((model, example))
        if store:
            if self.tmp is None:
                self.tmp = Path(tempfile.mkdtemp(prefix="reportgen-diff-"))
            path = self.tmp / f"{len(self.waiting)}.npy"
            np.save(path, attention)
            self.waiting[(model, example)] = (path, list(record.tokens), np.asarray(record.special, dtype=bool),
                                              precision)

    def totals(self, pair: tuple[str, str]) -> tuple[np.ndarray | None, int, int]:
        """(per-head sum of JS distances, rows, examples) of one pair, summed in manifest order."""
        items = sorted(self.acc[pair]["per_example"].items(), key=lambda kv: self.order[kv[0]])
        if not items:
            return None, 0, 0
        total = np.zeros_like(items[0][1][0])
        for _, (sums, _count) in items:
            total = total + sums
        return total, sum(count for _, (_, count) in items), len(items)

    def close(self) -> None:
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        self.waiting.clear()


def _diff_attention(record) -> tuple[np.ndarray, str]:
    f16 = record.extras.get("attention_f16")
    if f16 is not None:
        return np.asarray(f16, dtype=np.float16), "float16"

    return dequantize(record.attention_q).astype(np.float16), "uint8"
