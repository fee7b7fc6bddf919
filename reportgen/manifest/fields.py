"""The manifest's schema, declared once: every key of every mapping, its type and its messages.

Each mapping of a manifest (the top level, a model, an example, a coreference pair, `settings`, an
`expect:` entry, a diff, a run) is an ordered ``{key: Field}``. The order is the order keys are listed
in messages ("known keys here: ..."); a field's ``required`` text is the fix printed when the key is
missing. A field reads its value node and reports a wrong value itself, through the checker of
``reportgen.manifest.load`` (in the spirit of MkDocs' ``config_options``). Rules that tie several keys or
entries together (a revision only for hub models, duplicate ids, references into the sentences, model
names in `expect:` and `diffs:`) stay in ``load``'s section functions.

The frozen dataclasses of ``reportgen.manifest.schema`` are what a valid manifest becomes; their defaults
(``Settings``) are the defaults of the optional keys.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from .schema import HEAD_LABELS, SPAN_RULES
from .words import show

DTYPES = ("float32", "float16", "bfloat16")


@dataclass(frozen=True)
class Field:
    """One key of a mapping. ``required``: the fix printed when the key is missing (None: optional)."""

    required: str | None = None

    def read(self, ck, node, path: str) -> Any:
        """The value of ``node`` (None: absent, or wrong and reported)."""
        raise NotImplementedError(f"{type(self).__name__} is read by its section function")


@dataclass(frozen=True)
class Section(Field):
    """A key whose value a section function of ``load`` reads (a list of models, examples, ...)."""


@dataclass(frozen=True)
class Text(Field):
    """Text (a YAML number, boolean, date or null is the wrong type). ``empty_fix``: blank text is an
    error with this fix (None: blank text is accepted)."""

    empty_fix: str | None = None

    def read(self, ck, node, path: str) -> str | None:
        return ck.text(node, path, empty_fix=self.empty_fix)


@dataclass(frozen=True)
class Integer(Field):
    """A whole number in ``[low, high]`` (``high`` None: no upper bound); ``example`` shows one in the fix."""

    low: int = 0
    high: int | None = None
    example: str = "0"

    def read(self, ck, node, path: str) -> int | None:
        return ck.integer(node, path, self.low, self.high, self.example)


@dataclass(frozen=True)
class Boolean(Field):
    """true or false."""

    def read(self, ck, node, path: str) -> bool | None:
        return ck.boolean(node, path)


@dataclass(frozen=True)
class Choice(Field):
    """Text that must be one of ``choices``: "'x' is not {what}; {fix}". With ``suggest``, the closest
    choice is offered first ("did you mean 'y'?")."""

    choices: tuple[str, ...] = ()
    what: str = "a choice"
    fix: str = ""
    suggest: bool = False

    def read(self, ck, node, path: str) -> str | None:
        value = ck.text(node, path)
        if value is None or value in self.choices:
            return value
        fix = self.fix
        if self.suggest:
            close = difflib.get_close_matches(value, self.choices, n=1)
            fix = (f"did you mean '{close[0]}'? " if close else "") + fix
        ck.err(node.line, path, f"{show(value)} is not {self.what}", fix)
        return None


@dataclass(frozen=True)
class ProbeSwitch(Field):
    """true, false or auto (the attention probe: auto runs it from 40 annotated pairs)."""

    def read(self, ck, node, path: str) -> bool | str | None:
        if node.kind == "bool" or node.kind == "text" and node.value == "auto":
            return node.value
        got = f"{show(node.value)} is not a choice" if node.kind == "text" else None
        if got is None:
            ck.type_error(node, path, "true, false or auto", "write true, false or auto (on from 40 annotated pairs)")
        else:
            ck.err(node.line, path, got, "write true, false or auto (on from 40 annotated pairs)")
        return None


@dataclass(frozen=True)
class Language(Field):
    """A language code (en, tr, de, pt-BR)."""

    def read(self, ck, node, path: str) -> str | None:
        return ck.language(node, path)


@dataclass(frozen=True)
class Languages(Field):
    """A non-empty list of language codes; the valid ones, in order."""

    def read(self, ck, node, path: str) -> tuple[str, ...] | None:
        items = ck.items(node, path, "language code")
        if node is None:
            return None
        codes = [ck.language(c, f"{path}[{j}]") for j, c in enumerate(items or [])]
        return tuple(c for c in codes if c is not None)


def read(ck, mapping: dict, fields: dict[str, Field], key: str, path: str) -> Any:
    """Read ``key`` of a checked mapping (``ck.mapping``) with its declared field; None when absent."""
    return fields[key].read(ck, mapping.get(key), f"{path}.{key}" if path else key)


MODEL_REF_FIX = "write a model id, name or slug"
REFERENCE_FIX = "write a word or phrase from a or b"

#: list items that are not mappings: a coreference candidate, an included manifest file
CANDIDATE = Text(empty_fix=REFERENCE_FIX)
INCLUDE_ITEM = Text(empty_fix="write the path of a manifest file, relative to this one")

TOP: dict[str, Field] = {
    "title": Text(empty_fix="write a title, or remove the key"),
    "models": Section(required="add 'models:' with at least one '- id: ...' item"),
    "examples": Section(required="add 'examples:' with at least one '- language: ..., a: ...' item"),
    "settings": Section(),
    "expect": Section(),
    "include": Section(),
    "diffs": Section(),
    "runs": Section(),
}

MODEL: dict[str, Field] = {
    "id": Text(required="add 'id: <hub id, folder or package:module/folder>'",
               empty_fix="write a hub id, folder or package:module/folder"),
    "revision": Text(empty_fix="write a branch, tag or commit, or remove the key"),
    "name": Text(empty_fix="write a display name, or remove the key"),
    "languages": Languages(),
    "dtype": Choice(choices=DTYPES, what="a dtype", fix="write float32, float16 or bfloat16"),
    "optional": Boolean(),  # true: skipped, with a note, where the model's package is not installed
}

EXAMPLE: dict[str, Field] = {
    "id": Text(empty_fix="write an id, or remove the key to derive one from the text"),
    "language": Language(required="add 'language: <code>' (e.g. en)"),
    "a": Text(required="add 'a: <sentence>'", empty_fix="write the sentence"),
    "b": Text(empty_fix="write the second sentence, or remove the key"),
    "coref": Section(),
    "group": Text(empty_fix="write a group name, or remove the key"),
    "show": Boolean(),
}

COREF: dict[str, Field] = {
    "pronoun": Text(required="add 'pronoun: <word>'", empty_fix=REFERENCE_FIX),
    "antecedent": Text(required="add 'antecedent: <word or phrase>'", empty_fix=REFERENCE_FIX),
    "candidates": Section(),
}

SETTINGS: dict[str, Field] = {
    "max_length": Integer(low=8, high=100000, example="128"),
    "truncation": Choice(choices=("warn", "error"), what="a choice", fix="write warn or error"),
    "display_limit": Integer(low=0, high=None, example="200"),
    "neuron": Boolean(),
    "predictions": Boolean(),
    "coref_span": Choice(choices=SPAN_RULES, what="a choice",
                         fix="write " + ", ".join(SPAN_RULES[:-1]) + " or " + SPAN_RULES[-1]),
    "probe": ProbeSwitch(),
    "probe_folds": Integer(low=2, high=50, example="5"),
}

EXPECT: dict[str, Field] = {
    "model": Text(required="add 'model: <model id, name or slug>'", empty_fix=MODEL_REF_FIX),
    "layer": Integer(required="add 'layer: <0-based layer>'", low=0, high=None, example="0"),
    "head": Integer(required="add 'head: <0-based head>'", low=0, high=None, example="0"),
    "label": Choice(required="add 'label: <" + "|".join(HEAD_LABELS) + ">'", choices=HEAD_LABELS,
                    what="a head label", fix="labels: " + ", ".join(HEAD_LABELS), suggest=True),
}

DIFF: dict[str, Field] = {
    "base": Text(required="add 'base: <model id, name or slug>'", empty_fix=MODEL_REF_FIX),
    "other": Text(required="add 'other: <model id, name or slug>'", empty_fix=MODEL_REF_FIX),
}

RUN: dict[str, Field] = {
    "id": Text(required="add 'id: <short name>'", empty_fix="write a short name for the run"),
    "path": Text(required="add 'path: <Trainer output folder, trainer_state.json, TensorBoard folder or .csv>'",
                 empty_fix="write the path of a trainer_state.json, TensorBoard folder or .csv"),
    "name": Text(empty_fix="write a display name, or remove the key"),
    "checkpoints": Boolean(),  # true: every checkpoint-N folder of a Trainer output folder runs as a model
    "languages": Languages(),  # the checkpoints run on examples of these languages only
    "examples": Section(),  # the checkpoints run on these example ids only (read by load._runs)
}
