"""Frozen data classes describing a validated manifest.

Everything here is plain data; `reportgen.manifest.load` builds it and checks every rule. `Word` and
`Span` live in `reportgen.manifest.words` (which splits text into them) and are re-exported here.
Word indices are "joint": the words of sentence `a` are numbered first, then those of `b`.
"""
from __future__ import annotations

from dataclasses import dataclass

from .words import Span, Word, example_words

#: The head labels an ``expect:`` entry may name: the labels with a threshold (``analysis.labels``), the
#: self pattern and coreference. The one list of them; ``analysis.claims`` checks claims on it.
HEAD_LABELS: tuple[str, ...] = ("previous", "next", "self", "cls", "sep", "punct", "broad", "coreference")
#: how a multi-word coreference mention's word weights combine (``settings.coref_span``; see analysis/spans.py)
SPAN_RULES: tuple[str, ...] = ("mean", "sum", "max")

__all__ = ["HEAD_LABELS", "SPAN_RULES", "CorefPair", "Example", "Expectation", "Manifest", "ModelDiff", "ModelSpec", "Settings", "Span",
           "TrainingRun", "Word"]


@dataclass(frozen=True)
class CorefPair:
    """A resolved coreference annotation.

    `candidates` holds the antecedent at position `antecedent_index`. `candidates_given` is False when
    the default list was used (the antecedent plus every other non-punctuation single word that overlaps
    neither pronoun nor antecedent, in joint word order). The `*_text` fields are the spans' text as it
    appears in the sentence (not the reference with its `#k` suffix).
    """

    pronoun: Span
    antecedent: Span
    candidates: tuple[Span, ...]
    antecedent_index: int
    candidates_given: bool
    pronoun_text: str
    antecedent_text: str
    candidate_texts: tuple[str, ...]


@dataclass(frozen=True)
class ModelSpec:
    """A model entry.

    `kind` is "hub", "local" or "package". `local_path` is the absolute folder for local and package
    models (None for hub models, or for a package that could not be found with `check_paths=False`).
    `slug` is unique within the manifest and safe for file names.
    """

    id: str
    revision: str | None
    name: str
    languages: tuple[str, ...] | None
    slug: str
    line: int
    kind: str = "hub"
    local_path: str | None = None
    dtype: str | None = None  # optional per-model dtype (float32, float16, bfloat16); None: the build's --dtype


@dataclass(frozen=True)
class Example:
    """An example: sentence `a`, optional sentence `b`, optional coreference pairs.

    `id` is unique within the manifest and may be any text; `slug` (unique, file-name safe) is what
    file names use. `show` says whether the example gets viewer pages; `group` links translations.
    `source` is the manifest file an `include:` brought the example from (None: the manifest itself);
    `line` is a line of that file.
    """

    id: str
    slug: str
    language: str
    a: str
    b: str | None
    coref: tuple[CorefPair, ...]
    group: str | None
    show: bool
    line: int
    source: str | None = None

    def words(self) -> list[Word]:
        """Words of `a` (segment 0) followed by words of `b` (segment 1), in joint numbering."""
        return example_words(self.a, self.b)


@dataclass(frozen=True)
class Expectation:
    """An expected head label. `model` is the slug of the model the entry named (by id, name or slug)."""

    model: str
    layer: int
    head: int
    label: str
    line: int


@dataclass(frozen=True)
class Settings:
    """Run settings. `truncation` is "warn" or "error"; `display_limit` caps examples with viewer data."""

    max_length: int = 128
    truncation: str = "warn"
    display_limit: int = 200
    neuron: bool = True
    predictions: bool = True  # masked-token predictions for shown examples of models with a masked-LM head
    coref_span: str = "mean"  # how a multi-word mention's word weights combine: mean, sum or max


@dataclass(frozen=True)
class ModelDiff:
    """A model diff: `base` and `other` are the slugs of the two models the entry named."""

    base: str
    other: str
    line: int


@dataclass(frozen=True)
class TrainingRun:
    """A training run: `path` (absolute) is a trainer_state.json, a TensorBoard event folder or a CSV."""

    id: str
    slug: str
    path: str
    name: str
    kind: str  # "trainer_state", "tensorboard" or "csv"
    line: int


@dataclass(frozen=True)
class Manifest:
    """A whole validated manifest; `path` is the file it came from (as given)."""

    path: str
    title: str
    models: tuple[ModelSpec, ...]
    examples: tuple[Example, ...]
    settings: Settings
    expect: tuple[Expectation, ...]
    diffs: tuple[ModelDiff, ...] = ()
    runs: tuple[TrainingRun, ...] = ()
