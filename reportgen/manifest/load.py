"""Manifest validation.

`parse_manifest` checks every rule in one pass and raises `ManifestError` carrying one line per problem:
`FILE:LINE: KEY.PATH: problem; fix` (key paths use 0-based indices, e.g. `examples[3].coref[0].pronoun`).
Problems are sorted by line; whole-file problems (unreadable, not UTF-8, empty, YAML syntax) come alone.
"""
from __future__ import annotations

import dataclasses
import difflib
import importlib.util
import os
import re
import unicodedata
from pathlib import Path

from ..errors import UserError, one_line
from . import fields as F
from .fields import Field, read
from .schema import CorefPair, Example, Expectation, Manifest, ModelDiff, ModelSpec, Settings, Span, TrainingRun, Word
from .words import (
    RefError,
    default_candidates,
    example_words,
    is_punct_text,
    resolve_reference,
    show,
    span_text,
    split_words,
)
from .yamlpos import YamlProblem, YNode, load_nodes

DEFAULT_TITLE = "Attention report"

LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
HUB_RE = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$", re.ASCII)
MODULE_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
LOCAL_PREFIXES = ("/", "./", "../", "~")


class ManifestError(UserError):
    """The manifest is invalid; `.lines` holds one single-line message per problem."""

    def __init__(self, lines: list[str] | str):
        super().__init__([one_line(line) for line in ([lines] if isinstance(lines, str) else lines)])


# ---------------------------------------------------------------- slugs

_FOLD = {"ı": "i", "ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "þ": "th", "ð": "d"}


def slugify(text: str) -> str:
    """Lowercase ASCII `[a-z0-9-]`: accents folded (NFKD), other characters become dashes, dashes
    collapsed and trimmed, at most 60 characters; "x" when nothing is left."""
    s = "".join(_FOLD.get(c, c) for c in text.lower())
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    s = re.sub(r"[^a-z0-9]+", "-", s.encode("ascii", "ignore").decode()).strip("-")
    s = s[:60].rstrip("-")
    return s or "x"


def unique_slugs(bases: list[str]) -> list[str]:
    """Make slugs unique in order: the first keeps its base, later repeats get -2, -3, ..."""
    used: set[str] = set()
    out = []
    for base in bases:
        slug, k = base, 2
        while slug in used:
            suffix = f"-{k}"
            slug = (base[: 60 - len(suffix)].rstrip("-") or "x") + suffix
            k += 1
        used.add(slug)
        out.append(slug)
    return out


# ---------------------------------------------------------------- checker

_KIND_NAMES = {
    "text": "text",
    "int": "a number",
    "float": "a number",
    "bool": "true/false",
    "null": "nothing",
    "date": "a date",
    "list": "a list",
    "map": "a mapping",
}


def _describe(node: YNode) -> str:
    return _KIND_NAMES.get(node.kind, f"a value tagged {node.tag}")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Checker:
    """Collects problems while walking the YAML nodes."""

    def __init__(self, file: str, base_dir: str, check_paths: bool):
        self.file = file
        self.base_dir = base_dir
        self.check_paths = check_paths
        self.problems: list[tuple[int, str]] = []

    def err(self, line: int, path: str, problem: str, fix: str) -> None:
        where = f"{self.file}:{line}: {path}: " if path else f"{self.file}:{line}: "
        self.problems.append((line, one_line(f"{where}{problem}; {fix}")))

    # -- shapes
    def mapping(self, node: YNode, path: str, fields: dict[str, Field],
                required: dict[str, str] | None = None) -> dict[str, YNode] | None:
        """Check a mapping against its declared fields (``reportgen.manifest.fields``): unknown, duplicate and
        missing keys. ``required`` replaces the fields' own missing-key fixes. Returns key -> value node."""
        known = tuple(fields)
        if required is None:
            required = {key: field.required for key, field in fields.items() if field.required}
        if node.kind != "map":
            self.type_error(node, path, "a mapping", "write 'key: value' lines indented under it")
            return None
        seen: dict[str, YNode] = {}
        first_line: dict[str, int] = {}
        for entry in node.value:
            kpath = _join(path, entry.key)
            if not entry.key_is_text:
                self.err(entry.key_line, path or "(top level)", "a key must be plain text", "write 'key: value'")
            elif entry.key in seen:
                self.err(entry.key_line, kpath, f"duplicate key (first at line {first_line[entry.key]})", "keep only one")
            elif entry.key not in known:
                close = difflib.get_close_matches(entry.key, known, n=1)
                fix = f"did you mean '{close[0]}'?" if close else "known keys here: " + ", ".join(known)
                self.err(entry.key_line, kpath, "unknown key", fix)
            else:
                seen[entry.key] = entry.node
                first_line[entry.key] = entry.key_line
        for key, fix in required.items():
            if key not in seen:
                self.err(node.line, path or "(top level)", f"missing key '{key}'", fix)
        return seen

    def type_error(self, node: YNode, path: str, expected: str, fix: str) -> None:
        self.err(node.line, path, f"expected {expected}, got {_describe(node)}", fix)

    def text(self, node: YNode | None, path: str, *, empty_fix: str | None = None) -> str | None:
        """A text value (YAML numbers, booleans, dates and nulls are wrong types). Text with no
        non-space character is an error when `empty_fix` is given."""
        if node is None:
            return None
        if node.kind != "text":
            if node.kind in ("int", "float", "bool", "date", "other"):
                fix = f'quote it: "{node.raw}"' if len(node.raw) <= 40 else "quote it"
            elif node.kind == "null":
                fix = "write the text after the colon, or remove the key"
            else:
                fix = "write a single text value"
            self.type_error(node, path, "text", fix)
            return None
        if empty_fix is not None and not node.value.strip():
            self.err(node.line, path, "empty text", empty_fix)
            return None
        bad = _SURROGATE.search(node.value)
        if bad:  # from a "\ud800" escape: not a character, cannot be written as UTF-8
            self.err(node.line, path, f"the text holds a lone surrogate {ascii(bad.group())[1:-1]}, which is not a character",
                     "write the character itself, or its \\U0001XXXX escape, instead of \\uD8xx-\\uDFxx escapes")
            return None
        return node.value

    def items(self, node: YNode | None, path: str, what: str) -> list[YNode] | None:
        """A non-empty list."""
        if node is None:
            return None
        if node.kind != "list":
            if node.kind == "text" and 0 < len(node.raw) <= 30 and "\n" not in node.raw:
                fix = f"write [{node.raw}] or a '- {node.raw}' item"
            else:
                fix = "write [x] or a '- x' item"
            self.type_error(node, path, "a list", fix)
            return None
        if not node.value:
            self.err(node.line, path, "empty list", f"add at least one {what}, or remove the key")
            return None
        return node.value

    def integer(self, node: YNode | None, path: str, lo: int, hi: int | None, example: str) -> int | None:
        if node is None:
            return None
        if node.kind != "int":
            got = "a decimal number" if node.kind == "float" else _describe(node)
            self.err(node.line, path, f"expected a whole number, got {got}", f"write a number like {example}")
            return None
        if node.value < lo or (hi is not None and node.value > hi):
            rng = f"between {lo} and {hi}" if hi is not None else f"{lo} or more"
            self.err(node.line, path, f"{node.value} is out of range", f"write a number {rng}")
            return None
        return node.value

    def boolean(self, node: YNode | None, path: str) -> bool | None:
        if node is None:
            return None
        if node.kind != "bool":
            self.type_error(node, path, "true or false", "write true or false")
            return None
        return node.value

    def language(self, node: YNode, path: str) -> str | None:
        code = self.text(node, path)
        if code is not None and not LANGUAGE_RE.match(code):
            self.err(node.line, path, f"{show(code)} is not a language code", "write a code like en, tr, de or pt-BR")
            return None
        return code


# ---------------------------------------------------------------- sections


def _model_source(ck: _Checker, mid: str, node: YNode, path: str) -> tuple[str, str | None]:
    """Classify a model id as ("hub" | "local" | "package", absolute folder or None); report problems."""
    if mid.startswith("package:"):
        module, _, sub = mid[len("package:"):].partition("/")
        sub = sub.strip("/")
        if not MODULE_RE.match(module) or not sub:
            ck.err(node.line, path, f"{show(mid)} is not a package folder reference", "write 'package:module/folder'")
            return "package", None
        parts = module.split(".")
        try:
            spec = importlib.util.find_spec(parts[0])  # top-level name: found without importing it
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            if ck.check_paths:
                problem = f"no installed package named {show(parts[0])}" if spec is None else f"{show(parts[0])} is a module, not a package"
                ck.err(node.line, path, problem, "install the package or correct the name")
            return "package", None
        for loc in spec.submodule_search_locations:
            folder = os.path.join(loc, *parts[1:], *sub.split("/"))
            if os.path.isdir(folder):
                return "package", os.path.abspath(folder)
        if ck.check_paths:
            ck.err(node.line, path, f"folder {show('/'.join(parts[1:] + [sub]))} not found in package {show(parts[0])}",
                   "check the folder name inside the installed package")
        return "package", None
    local = mid in (".", "..") or mid.startswith(LOCAL_PREFIXES)
    where = ck.base_dir
    if not local:
        try:
            if os.path.exists(os.path.join(ck.base_dir, mid)):
                local = True
            elif os.path.exists(mid):
                local, where = True, os.getcwd()
        except (ValueError, OSError):
            pass
    if local:
        folder = os.path.abspath(os.path.join(where, os.path.expanduser(mid)))
        if ck.check_paths and not os.path.isdir(folder):
            problem = f"{show(folder)} is a file, not a folder" if os.path.exists(folder) else f"folder {show(folder)} not found"
            ck.err(node.line, path, problem, "point to a model folder (relative paths start at the manifest's folder)")
        return "local", folder
    if not HUB_RE.match(mid):
        ck.err(node.line, path, f"{show(mid)} is not a hub id, local folder or package folder",
               "write a hub id like 'bert-base-cased' or 'org/name', a path like './models/x', or 'package:module/folder'")
    return "hub", None


def _models(ck: _Checker, node: YNode) -> list[ModelSpec]:
    rows = []
    seen: dict[tuple[str, str | None], int] = {}
    for i, item in enumerate(ck.items(node, "models", "model") or []):
        p = f"models[{i}]"
        m = ck.mapping(item, p, F.MODEL)
        if m is None:
            continue
        mid = read(ck, m, F.MODEL, "id", p)
        if mid is None:
            continue
        kind, folder = _model_source(ck, mid, m["id"], f"{p}.id")
        revision = read(ck, m, F.MODEL, "revision", p)
        if revision is not None and kind != "hub":
            ck.err(m["revision"].line, f"{p}.revision", f"revision is only for hub models, not {kind} folders", "remove it")
        name = read(ck, m, F.MODEL, "name", p)
        languages = read(ck, m, F.MODEL, "languages", p)
        dtype = read(ck, m, F.MODEL, "dtype", p)
        key = (mid, revision, dtype)
        if key in seen:
            rev = f" at revision {show(revision)}" if revision else ""
            ck.err(m["id"].line, f"{p}.id", f"duplicate model {show(mid)}{rev} (also at line {seen[key]})",
                   "remove one of them (the same model twice needs different dtype: values)")
        else:
            seen[key] = m["id"].line
        rows.append((mid, revision, name if name is not None else mid, languages, item.line, kind, folder, dtype))
    slugs = unique_slugs([slugify(r[2]) for r in rows])
    return [ModelSpec(r[0], r[1], r[2], r[3], s, r[4], r[5], r[6], r[7]) for r, s in zip(rows, slugs)]


def _reference(ck: _Checker, node: YNode | None, path: str, words: list[Word] | None, field: Field = F.CANDIDATE) -> Span | None:
    ref = field.read(ck, node, path)
    if ref is None or words is None:
        return None
    try:
        return resolve_reference(ref, words)
    except RefError as exc:
        ck.err(node.line, path, exc.problem, exc.fix)
        return None


def _coref(ck: _Checker, node: YNode, path: str, a: str | None, b: str | None) -> list[CorefPair]:
    words = example_words(a, b) if a is not None else None
    pairs = []
    for j, item in enumerate(ck.items(node, path, "pronoun/antecedent pair") or []):
        p = f"{path}[{j}]"
        m = ck.mapping(item, p, F.COREF)
        if m is None:
            continue
        pron = _reference(ck, m.get("pronoun"), f"{p}.pronoun", words, F.COREF["pronoun"])
        ante = _reference(ck, m.get("antecedent"), f"{p}.antecedent", words, F.COREF["antecedent"])
        ok = pron is not None and ante is not None
        if ok and ante.overlaps(pron):
            ck.err(m["antecedent"].line, f"{p}.antecedent", "the antecedent overlaps the pronoun",
                   "pick other words, or use #k for another occurrence")
            ok = False
        cands: list[Span] | None = None
        if "candidates" in m:
            cands = []
            for k, cnode in enumerate(ck.items(m["candidates"], f"{p}.candidates", "candidate") or []):
                cp = f"{p}.candidates[{k}]"
                span = _reference(ck, cnode, cp, words)
                if span is None:
                    ok = False
                elif span in cands:
                    ck.err(cnode.line, cp, f"same words as candidates[{cands.index(span)}]", "list each candidate once")
                    ok = False
                elif pron is not None and span.overlaps(pron):
                    ck.err(cnode.line, cp, "the candidate overlaps the pronoun", "remove it")
                    ok = False
                else:
                    cands.append(span)
            if not cands:
                ok = False
            elif ok and ante not in cands:
                ck.err(m["candidates"].line, f"{p}.candidates", "the list does not contain the antecedent",
                       f"add {show(m['antecedent'].value)} to the list")
                ok = False
        if not ok or words is None:
            continue
        given = cands is not None
        cands = cands if given else default_candidates(words, pron, ante)
        text = lambda s: span_text(words, s, a, b)  # noqa: E731
        pairs.append(CorefPair(pron, ante, tuple(cands), cands.index(ante), given, text(pron), text(ante),
                               tuple(text(s) for s in cands)))
    return pairs


def _examples(ck: _Checker, node: YNode) -> list[Example]:
    rows = []
    explicit: dict[str, int] = {}
    for i, item in enumerate(ck.items(node, "examples", "example") or []):
        p = f"examples[{i}]"
        m = ck.mapping(item, p, F.EXAMPLE)
        if m is None:
            continue
        ex_id = read(ck, m, F.EXAMPLE, "id", p)
        if ex_id is not None:
            if ex_id in explicit:
                ck.err(m["id"].line, f"{p}.id", f"duplicate id {show(ex_id)} (also at line {explicit[ex_id]})", "give each example its own id")
            else:
                explicit[ex_id] = m["id"].line
        language = read(ck, m, F.EXAMPLE, "language", p) if "language" in m else None
        a = read(ck, m, F.EXAMPLE, "a", p)
        b = read(ck, m, F.EXAMPLE, "b", p)
        b_bad = "b" in m and b is None
        for key, text in (("a", a), ("b", b)):
            if text is not None and not split_words(text):
                ck.err(m[key].line, f"{p}.{key}", "the text has no words", "write a sentence")
        group = read(ck, m, F.EXAMPLE, "group", p)
        shown = read(ck, m, F.EXAMPLE, "show", p)
        coref = _coref(ck, m["coref"], f"{p}.coref", None if b_bad else a, b) if "coref" in m else []
        rows.append([ex_id, language or "", a or "", b, tuple(coref), group, True if shown is None else shown, item.line])
    derived = iter(unique_slugs(list(explicit) + [_derived_id(r[2]) for r in rows if r[0] is None])[len(explicit):])
    for r in rows:
        if r[0] is None:
            r[0] = next(derived)
    slugs = unique_slugs([slugify(r[0]) for r in rows])
    return [Example(r[0], s, *r[1:]) for r, s in zip(rows, slugs)]


def _derived_id(a: str) -> str:
    """Default example id: slug of the first 6 non-punctuation words of `a`."""
    return slugify(" ".join([w.text for w in split_words(a) if not is_punct_text(w.text)][:6]))


def _settings(ck: _Checker, node: YNode) -> Settings:
    m = ck.mapping(node, "settings", F.SETTINGS)
    if not m:
        return Settings()
    out = {key: read(ck, m, F.SETTINGS, key, "settings") for key in F.SETTINGS if key in m}
    return Settings(**{k: v for k, v in out.items() if v is not None})


def _expect(ck: _Checker, node: YNode, models: list[ModelSpec]) -> list[Expectation]:
    out = []
    for i, item in enumerate(ck.items(node, "expect", "expected head") or []):
        p = f"expect[{i}]"
        m = ck.mapping(item, p, F.EXPECT)
        if m is None:
            continue
        slug = _model_ref(ck, m, F.EXPECT, "model", p, models)
        layer = read(ck, m, F.EXPECT, "layer", p)
        head = read(ck, m, F.EXPECT, "head", p)
        label = read(ck, m, F.EXPECT, "label", p)
        if None not in (slug, layer, head, label):
            out.append(Expectation(slug, layer, head, label, item.line))
    return out


def _include(ck: _Checker, node: YNode, own: list[Example], stack: tuple[str, ...]) -> list[Example]:
    """Examples of other manifest files (paths relative to this file). Each included file must be a valid
    manifest on its own (its problems are reported with its own file and lines); only its examples are
    used. Included examples keep their ids, which must not clash with any other example's; their `source`
    is the path as written in `include:`."""
    out: list[Example] = []
    ids = {e.id: (e.line, None) for e in own}
    slugs = {e.slug: e.id for e in own}
    for i, item in enumerate(ck.items(node, "include", "manifest file") or []):
        p = f"include[{i}]"
        rel = F.INCLUDE_ITEM.read(ck, item, p)
        if rel is None:
            continue
        shown = os.path.join(os.path.dirname(ck.file), os.path.expanduser(rel))
        real = os.path.realpath(shown)
        if real in stack:
            ck.err(item.line, p, f"{show(rel)} includes this file again (an include cycle)", "remove this entry")
            continue
        if not os.path.isfile(shown):
            problem = f"{show(rel)} is a folder" if os.path.isdir(shown) else f"file {show(rel)} not found"
            ck.err(item.line, p, problem, "write the path of a manifest file relative to this manifest's folder")
            continue
        try:
            sub = load_manifest(shown, check_paths=ck.check_paths, _stack=stack + (real,))
        except ManifestError as exc:
            ck.problems.extend((item.line, line) for line in exc.lines)
            continue
        for ex in sub.examples:
            if ex.id in ids:
                line, where = ids[ex.id]
                other = f"line {line}" if where is None else f"{show(where)} line {line}"
                ck.err(item.line, p, f"example id {show(ex.id)} of {show(shown)} line {ex.line} is already used ({other})",
                       "give the examples different ids")
                continue
            if ex.slug in slugs:
                ck.err(item.line, p, f"example {show(ex.id)} of {show(shown)} line {ex.line} gets the file name "
                       f"{show(ex.slug)} of example {show(slugs[ex.slug])}", "give the examples more different ids")
                continue
            ex = ex if ex.source is not None else dataclasses.replace(ex, source=rel)
            ids[ex.id] = (ex.line, ex.source)
            slugs[ex.slug] = ex.id
            out.append(ex)
    return out


def _model_ref(ck: _Checker, m: dict[str, YNode], fields: dict[str, Field], key: str, path: str,
               models: list[ModelSpec]) -> str | None:
    """The slug of the model that ``key`` of mapping ``m`` names (by id, name or slug); problems reported."""
    model = read(ck, m, fields, key, path)
    if model is None:
        return None
    node, path = m[key], f"{path}.{key}"
    hits = list(dict.fromkeys(s.slug for s in models if model in (s.id, s.name, s.slug)))
    if len(hits) == 1:
        return hits[0]
    if hits:
        ck.err(node.line, path, f"{show(model)} names {len(hits)} models", "write a model slug: " + ", ".join(hits))
    elif models:
        ck.err(node.line, path, f"{show(model)} is not a model of this manifest",
               "write a model id, name or slug: " + ", ".join(s.slug for s in models[:10]))
    return None


def _diffs(ck: _Checker, node: YNode, models: list[ModelSpec]) -> list[ModelDiff]:
    """`diffs: [{base: MODEL, other: MODEL}]`: two different models of this manifest per entry."""
    out: list[ModelDiff] = []
    seen: dict[tuple[str, str], int] = {}
    for i, item in enumerate(ck.items(node, "diffs", "model diff") or []):
        p = f"diffs[{i}]"
        m = ck.mapping(item, p, F.DIFF)
        if m is None:
            continue
        base = _model_ref(ck, m, F.DIFF, "base", p, models)
        other = _model_ref(ck, m, F.DIFF, "other", p, models)
        if base is None or other is None:
            continue
        if base == other:
            ck.err(m["other"].line, f"{p}.other", f"the same model as base ({show(base)})", "name two different models")
            continue
        if (base, other) in seen:
            ck.err(item.line, p, f"duplicate diff {show(base)} -> {show(other)} (also at line {seen[(base, other)]})",
                   "remove one of them")
            continue
        seen[(base, other)] = item.line
        out.append(ModelDiff(base, other, item.line))
    return out


def _diffs_share_examples(ck: _Checker, diffs: list[ModelDiff], models: list[ModelSpec], examples: list) -> None:
    """A diff compares two models on the examples both run: with none in common it can show nothing."""
    specs = {s.slug: s for s in models}

    def runs(slug: str) -> set[str]:
        languages = specs[slug].languages
        return {e.slug for e in examples if not languages or e.language in languages}

    for i, d in enumerate(diffs):
        if d.base in specs and d.other in specs and not runs(d.base) & runs(d.other):
            ck.err(d.line, f"diffs[{i}]", f"{show(d.base)} and {show(d.other)} run no example in common (see their "
                   "'languages')", "give both models a language in common, or remove this diff")


def _run_kind(path: str) -> str | None:
    """"trainer_state" (a .json file), "csv" (a .csv file), "tensorboard" (a folder), else None."""
    if os.path.isdir(path):
        return "tensorboard"
    lower = path.lower()
    if lower.endswith(".json"):
        return "trainer_state"
    if lower.endswith(".csv"):
        return "csv"
    return None


def _runs(ck: _Checker, node: YNode) -> list[TrainingRun]:
    """`runs: [{id, path, name?}]`: training logs (trainer_state.json, TensorBoard folder or CSV)."""
    rows = []
    ids: dict[str, int] = {}
    for i, item in enumerate(ck.items(node, "runs", "training run") or []):
        p = f"runs[{i}]"
        m = ck.mapping(item, p, F.RUN)
        if m is None:
            continue
        run_id = read(ck, m, F.RUN, "id", p)
        rel = read(ck, m, F.RUN, "path", p)
        name = read(ck, m, F.RUN, "name", p)
        if run_id is not None:
            if run_id in ids:
                ck.err(m["id"].line, f"{p}.id", f"duplicate run id {show(run_id)} (also at line {ids[run_id]})",
                       "give each run its own id")
                run_id = None
            else:
                ids[run_id] = m["id"].line
        if rel is None:
            continue
        path = os.path.abspath(os.path.join(ck.base_dir, os.path.expanduser(rel)))
        kind = _run_kind(path)
        fix = "point to a trainer_state.json, a folder of TensorBoard event files or a .csv (relative to the manifest's folder)"
        if ck.check_paths and not os.path.exists(path):
            ck.err(m["path"].line, f"{p}.path", f"{show(path)} not found", fix)
            continue
        if kind is None:
            ck.err(m["path"].line, f"{p}.path", f"{show(rel)} is not a .json file, .csv file or folder", fix)
            continue
        if ck.check_paths and kind == "tensorboard" and not any(
                "tfevents" in f for _, _, files in os.walk(path) for f in files):
            ck.err(m["path"].line, f"{p}.path", f"folder {show(rel)} holds no TensorBoard event file (events.out.tfevents.*)", fix)
            continue
        if run_id is not None:
            rows.append((run_id, path, name if name is not None else run_id, kind, item.line))
    slugs = unique_slugs([slugify(r[0]) for r in rows])
    return [TrainingRun(r[0], s, r[1], r[2], r[3], r[4]) for r, s in zip(rows, slugs)]


# ---------------------------------------------------------------- entry points


def parse_manifest(text: str, path: str = "<string>", *, check_paths: bool = True,
                   _stack: tuple[str, ...] = ()) -> Manifest:
    """Validate manifest text. `path` names the file in messages; relative model folders and included
    files are read from its folder. With `check_paths=False`, local and package model folders are not
    required to exist. `_stack`: real paths of the files including this one (cycle detection)."""
    file = str(path)
    ck = _Checker(file, os.path.abspath(os.path.dirname(file) or "."), check_paths)
    try:
        root = load_nodes(text)
    except YamlProblem as exc:
        raise ManifestError([one_line(f"{file}:{exc.line}: YAML syntax error: {exc.problem}; "
                                       "fix the YAML near this line (quote text containing ': ', '#' or leading special characters)")]) from None
    if root is None:
        raise ManifestError([f"{file}:1: the file is empty; write a manifest with 'models:' and 'examples:' (see examples/demo.yaml)"])
    if root.kind != "map":
        raise ManifestError([f"{file}:{root.line}: the top level is {_describe(root)}, not a mapping; "
                             "start the file with 'models:' and 'examples:' keys"])
    required = {key: field.required for key, field in F.TOP.items() if field.required}
    if any(entry.key == "include" and entry.node.kind != "null" for entry in root.value):
        del required["examples"]  # examples may all come from included files
    m = ck.mapping(root, "", F.TOP, required)
    assert m is not None
    title = read(ck, m, F.TOP, "title", "") if "title" in m else DEFAULT_TITLE
    models = _models(ck, m["models"]) if "models" in m else []
    examples = _examples(ck, m["examples"]) if "examples" in m else []
    # `settings:`, `expect:` or `include:` with nothing under it (e.g. all commented out) counts as absent
    present = {k for k in ("settings", "expect", "include", "diffs", "runs") if k in m and m[k].kind != "null"}
    settings = _settings(ck, m["settings"]) if "settings" in present else Settings()
    expect = _expect(ck, m["expect"], models) if "expect" in present else []
    diffs = _diffs(ck, m["diffs"], models) if "diffs" in present else []
    runs = _runs(ck, m["runs"]) if "runs" in present else []
    if "include" in present:
        real = os.path.realpath(file) if os.path.isfile(file) else file
        examples = examples + _include(ck, m["include"], examples, _stack + (real,))
    if diffs and examples:
        _diffs_share_examples(ck, diffs, models, examples)
    if "examples" not in m and not examples and not ck.problems:
        ck.err(root.line, "(top level)", "no examples: the included files have none", "add 'examples:' or include a file with examples")
    if ck.problems:
        ck.problems.sort(key=lambda t: t[0])
        raise ManifestError([msg for _, msg in ck.problems])
    return Manifest(file, title or DEFAULT_TITLE, tuple(models), tuple(examples), settings, tuple(expect),
                    tuple(diffs), tuple(runs))


def load_manifest(path: str | os.PathLike, *, check_paths: bool = True, _stack: tuple[str, ...] = ()) -> Manifest:
    """Read and validate a manifest file (UTF-8 YAML). Raises ManifestError listing every problem."""
    file = os.fspath(path)
    file = file.decode() if isinstance(file, bytes) else file
    try:
        data = Path(file).read_bytes()
    except FileNotFoundError:
        raise ManifestError([f"{file}:1: file not found; check the path"]) from None
    except IsADirectoryError:
        raise ManifestError([f"{file}:1: is a folder, not a file; give the path of a manifest .yaml file"]) from None
    except OSError as exc:
        raise ManifestError([f"{file}:1: cannot read the file ({exc.strerror}); check its permissions"]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ManifestError([f"{file}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                             "save the file as UTF-8"]) from None
    return parse_manifest(text, file, check_paths=check_paths, _stack=_stack)
