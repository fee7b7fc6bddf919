"""The analysis stage: every number the site shows, computed once from the collected records.

``analyse_site`` turns what ``collect.RecordCollector`` kept of the build's records into one typed
``SiteAnalysis``: the heads files, per-model atlas links, rankings and per-head example lists, the claims of
``expect:``, comparisons across models and across translations, model diffs, heads across training-run
checkpoints, changes since a previous run and pieces per word. ``reportgen.render`` only lays these out:
it calls no function of this package (``tests/test_architecture.py`` checks).

Everything here is a pure function of its arguments; nothing reads or writes a file.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reportgen.analysis import claims as claims_mod
from reportgen.analysis import compare
from reportgen.analysis.atlas import link_examples, per_example_coref, rank_grid, top_examples
from reportgen.analysis.changes import compare as compare_runs
from reportgen.analysis.checkpoints import ScoreTrack, score_tracks
from reportgen.analysis.claims import ClaimResult, LabelScores
from reportgen.analysis.collect import PiecesSample, RecordCollector
from reportgen.analysis.coref import coref_scores
from reportgen.analysis.model_diff import shared_score_changes
from reportgen.analysis.patterns import PATTERNS
from reportgen.analysis.pieces import by_language
from reportgen.analysis.summary import ExampleStats, summarise_model

#: every per-head score map of the site, in page order (the atlas's heat maps; comparisons use this order)
SCORE_KEYS: tuple[str, ...] = PATTERNS + ("coref_accuracy", "coref_mass")
#: labels with a ranking table, in page order
LABEL_ORDER = ("previous", "next", "broad", "cls", "sep", "punct", "self", "coreference")
TOP_EXAMPLES = 3  # our choice: examples a head page lists per score (the best three with viewer pages)
TOP_SIDE = 5  # our choice: heads listed side by side per score when comparing two models
GROUP_HEADS = 5  # our choice: top heads whose per-translation values the compare page tabulates
LANGUAGE_KEYS = ("prev", "next", "coref_accuracy")  # scores tabulated per translation group
CHART_HEADS = 5  # heads drawn in colour on a run page's checkpoint charts (the others grey)

Grid = tuple[np.ndarray, np.ndarray | None, np.ndarray | None]  # (score, low, high), each [L, H]


@dataclass
class ModelAnalysis:
    """One model's numbers (``stats`` in manifest order)."""

    slug: str
    heads: dict  # the heads file (``reportgen.heads/2``)
    stats: list[ExampleStats]
    tokens: dict[str, int]  # example slug -> tokens
    grids: dict[str, Grid]  # score key -> [L, H] score and 95% interval bounds, from the heads file
    links: dict[str, list[list[str | None]]]  # score key -> [L][H] the example a cell opens (atlas.link_examples)
    labels: dict[str, tuple[LabelScores, list[dict]]]  # label -> its scores and every head ranked (claims.ranked)
    per_example: dict[str, np.ndarray]  # score key -> [E, L, H] per-example scores
    ranks: dict[str, np.ndarray]  # score key -> [L, H] rank among heads (1 best, 0 no score)
    tops: dict[str, np.ndarray]  # score key -> [L, H, TOP_EXAMPLES] best examples with viewer pages (-1: none)
    pieces: list[dict]  # per language: LanguagePieces and the most split word ({"totals", "word", "pieces"})
    _by_slug: dict | None = field(default=None, repr=False)

    def example_stats(self, slug: str) -> ExampleStats | None:
        """The statistics of one example (by slug), None when the model did not run it."""
        if self._by_slug is None:
            self._by_slug = {s.example.slug: s for s in self.stats}
        return self._by_slug.get(slug)


@dataclass
class PairComparison:
    """Two models of the same shape: Spearman correlation per score, top heads side by side."""

    a: str
    b: str
    common: int | None  # examples both ran (None: compared on the heads files' pooled scores)
    rho: dict[str, float]
    side: dict[str, list[tuple]]  # score key -> [(a's (layer, head, value) or None, b's ...)] best first


@dataclass
class LanguageTable:
    """One score's per-translation values at the model's top heads."""

    key: str
    top: list[tuple[int, int]]
    groups: list[tuple[str, list[int], np.ndarray, np.ndarray]]  # (group, example indices, [members, heads], spread)


@dataclass
class LanguageComparison:
    """One model across the languages of its translation groups (``compare.translation_sets``)."""

    slug: str
    examples: list  # manifest Examples, in ``stats`` order
    sets: dict[str, dict[str, list[int]]]
    languages: list[str] = field(default_factory=list)
    correlations: list[dict] = field(default_factory=list)  # {"a", "b", "rho": {pattern: value}}
    tables: list[LanguageTable] = field(default_factory=list)


@dataclass
class DiffAnalysis:
    """One ``diffs:`` entry: Jensen-Shannon distance per head and score changes over shared examples."""

    base: str
    other: str
    common: int  # examples both models run
    compared: int  # of those, examples whose distance was computed
    mismatch: list[str]  # examples whose tokens differ between the models (no distance)
    precision: list[str]  # attention precision the distance was computed from
    positions: int  # attention rows compared
    js: np.ndarray | None  # [L, H] mean JS distance over ``positions`` rows
    changes: dict[str, np.ndarray]  # score key -> other - base [L, H] over the shared examples
    shared: int
    js_mean: float | None = None  # mean of ``js`` over heads
    js_max: float | None = None
    layer_js: list[tuple[float, float]] = field(default_factory=list)  # per layer: (mean, max) over its heads
    top: list[tuple[int, int, float]] = field(default_factory=list)  # the 10 heads of largest ``js``, largest first
    largest: dict[str, float | None] = field(default_factory=dict)  # score key -> largest |change| (None: no finite)


@dataclass
class CheckpointAnalysis:
    """A training run's checkpoints that ran: score tracks and the heads that moved most."""

    ran: list[tuple[int, str]]  # (step, model slug) of checkpoints with a heads file, step order
    problem: str | None
    tracks: list[ScoreTrack] = field(default_factory=list)
    moved: list[list[dict]] = field(default_factory=list)  # per track: ScoreTrack.moved()
    charted: list[list[tuple[int, int]]] = field(default_factory=list)  # per track: heads drawn in colour


@dataclass
class SiteAnalysis:
    """Everything the pages show, by model slug where per model."""

    heads: dict[str, dict]
    models: dict[str, ModelAnalysis]
    claims: list[ClaimResult]
    pairs: list[PairComparison]
    languages: list[LanguageComparison]
    diffs: dict[tuple[str, str], DiffAnalysis]
    checkpoints: dict[str, CheckpointAnalysis]  # training-run slug ->
    changes: dict | None  # ``analysis.changes.compare`` report, with ``previous_found``


def analyse_site(manifest, runs, collected: RecordCollector, shown: set[str], training_runs=(),
                 previous=None, threshold: float = 0.05) -> SiteAnalysis:
    """The whole build's analysis.

    ``runs``: the build's model runs (``spec``, ``revision``, ``layers``, ``heads``, ``provenance``,
    ``records``, ``error``); ``collected``: their records' statistics; ``shown``: examples with viewer pages;
    ``training_runs``: (run, chart data) of the manifest's training runs; ``previous``: the heads files of a
    previous run (``analysis.changes.Previous``) to compare with at ``threshold``.
    """
    order = {e.slug: i for i, e in enumerate(manifest.examples)}
    stats = {model: sorted(kept.stats, key=lambda s: order[s.example.slug])
             for model, kept in collected.models.items()}
    heads_files: dict[str, dict] = {}
    models: dict[str, ModelAnalysis] = {}
    for run in runs:
        if run.error is not None or not run.records:
            continue
        slug = run.spec.slug
        info = {"id": run.spec.id, "name": run.spec.name, "slug": slug, "revision": run.revision,
                "requested_revision": run.spec.revision}
        heads = summarise_model(info, stats.get(slug, []), run.layers, run.heads, manifest.settings.coref_span,
                                settings=manifest.settings)
        heads["provenance"] = run.provenance
        heads_files[slug] = heads
        kept = collected.models.get(slug)
        models[slug] = model_analysis(slug, heads, stats.get(slug, []), dict(kept.tokens) if kept else {}, shown,
                                      pieces_by_language(run.examples, kept.pieces if kept else {}))
    return SiteAnalysis(
        heads=heads_files, models=models,
        claims=claims_mod.check_claims(manifest.expect, heads_files),
        pairs=model_pairs(runs, heads_files, stats),
        languages=[lang for run in runs if (lang := language_comparison(run.spec.slug, heads_files.get(run.spec.slug),
                                                                        models.get(run.spec.slug))) is not None],
        diffs={pair: diff_analysis(pair, collected, stats, heads_files) for pair in collected.diffs.pairs},
        checkpoints={run.slug: checkpoint_analysis(run, heads_files)
                     for run, _ in training_runs if getattr(run, "checkpoints", ())},
        changes=_changes(previous, heads_files, threshold))


def score_grids(heads: dict) -> dict[str, Grid]:
    """Score key -> (score, low, high) ``[L, H]`` arrays for every map the heads file supports (NaN: none)."""
    out = {}
    for name in PATTERNS:
        interval = heads.get("intervals", {}).get(name)
        out[name] = (_array(heads["patterns"][name]),
                     _array(interval["low"]) if interval else None, _array(interval["high"]) if interval else None)
    coref = heads.get("coreference")
    if coref:
        shape = _array(coref["accuracy"]).shape
        for key, name in (("coref_accuracy", "accuracy"), ("coref_mass", "mass")):
            low, high = np.full(shape, np.nan), np.full(shape, np.nan)
            for r in coref["ranking"]:
                ci = r.get(f"{name}_ci")
                if ci:
                    low[r["layer"], r["head"]] = np.nan if ci[0] is None else ci[0]
                    high[r["layer"], r["head"]] = np.nan if ci[1] is None else ci[1]
            out[key] = (_array(coref[name]), low, high)
    return out


def _array(grid) -> np.ndarray:
    return np.array([[np.nan if v is None else float(v) for v in row] for row in grid], dtype=np.float64)


def per_example_scores(stats, layers: int, heads: int) -> dict[str, np.ndarray]:
    """Score key -> ``[E, L, H]`` per-example scores: each pattern's numerator over its count in that
    example, and (when annotated) the example's coreference accuracy and mass over its pairs."""
    if not stats:
        return {}
    ratio = compare.per_example_ratio(np.stack([s.sums.num for s in stats]), np.stack([s.sums.count for s in stats]))
    out = {name: ratio[:, p] for p, name in enumerate(PATTERNS)}
    acc, mass = per_example_coref([s.coref for s in stats], [[p.antecedent_index for p in s.example.coref]
                                                              for s in stats], layers, heads)
    if np.isfinite(acc).any():
        out["coref_accuracy"], out["coref_mass"] = acc, mass
    return out


def model_analysis(slug: str, heads: dict, stats: list[ExampleStats], tokens: dict[str, int], shown: set[str],
                   pieces: list[dict]) -> ModelAnalysis:
    layers, n_heads = heads["model"]["layers"], heads["model"]["heads"]
    grids = score_grids(heads)
    labels = {}
    for label in LABEL_ORDER:
        ls = claims_mod.label_scores(heads, label)
        if ls is not None:
            labels[label] = (ls, claims_mod.ranked(ls))
    scores = per_example_scores(stats, layers, n_heads)
    eligible = np.array([s.example.slug in shown for s in stats], dtype=bool)
    return ModelAnalysis(
        slug=slug, heads=heads, stats=stats, tokens=tokens, grids=grids,
        links=link_examples(stats, shown, tokens, layers, n_heads), labels=labels, per_example=scores,
        ranks={key: rank_grid(score) for key, (score, _, _) in grids.items()},
        tops={key: top_examples(value, eligible, TOP_EXAMPLES) for key, value in scores.items()},
        pieces=pieces)


def pieces_by_language(examples, pieces: dict[str, PiecesSample]) -> list[dict]:
    """Per language of one model, in order of first appearance: totals over ``examples`` that have a sample
    (``pieces``: example slug -> its ``collect.PiecesSample``) and the word cut into the most pieces."""
    rows = []
    sample: dict[str, tuple[int, str, list[str]]] = {}
    for example in examples:
        item = pieces.get(example.slug)
        if item is None:
            continue
        rows.append((item.language, item.counts))
        best = sample.get(item.language)
        if item.counts.longest >= 0 and (best is None or item.counts.longest_pieces > best[0]):
            sample[item.language] = (item.counts.longest_pieces, item.word, item.pieces)
    out = []
    for lang in by_language(rows):
        _, word, pieces_ = sample.get(lang.language, (0, "", []))
        out.append({"totals": lang, "word": word, "pieces": pieces_})
    return out


def _common_scores(stats_a, stats_b) -> tuple[dict, dict, int]:
    """Scores of two models over the examples both ran (token-weighted; coreference over their pairs)."""
    ia, ib = compare.common_indices([s.example.slug for s in stats_a], [s.example.slug for s in stats_b])
    out = []
    for stats, idx in ((stats_a, ia), (stats_b, ib)):
        chosen = [stats[i] for i in idx]
        scores = compare.pooled(np.stack([s.sums.num for s in chosen]), np.stack([s.sums.count for s in chosen]))
        grids = {name: scores[p] for p, name in enumerate(PATTERNS)}
        weights = [w for s in chosen for w in s.coref if w.size]
        ants = [pair.antecedent_index for s in chosen for pair, w in zip(s.example.coref, s.coref) if w.size]
        if weights:
            result = coref_scores(weights, ants)
            grids["coref_accuracy"], grids["coref_mass"] = result.accuracy, result.mass
        out.append(grids)
    return out[0], out[1], len(ia)


def model_pairs(runs, heads_files: dict[str, dict], stats: dict[str, list]) -> list[PairComparison]:
    """Every pair of models of the same shape, compared on the examples both ran (from the per-example
    statistics when there are any, else the heads files' pooled scores); pairs sharing no example are left out."""
    shapes = {r.spec.slug: (r.layers, r.heads) for r in runs if r.spec.slug in heads_files}
    out = []
    for a, b in compare.same_shape_pairs(shapes):
        common = None
        if stats.get(a) and stats.get(b):
            sa, sb, common = _common_scores(stats[a], stats[b])
            if common == 0:
                continue
        else:
            sa = {key: grid[0] for key, grid in score_grids(heads_files[a]).items()}
            sb = {key: grid[0] for key, grid in score_grids(heads_files[b]).items()}
        rho = compare.pattern_correlations({k: sa[k] for k in SCORE_KEYS if k in sa}, sb)
        side = {key: compare.side_by_side(sa[key], sb[key], TOP_SIDE) for key in rho}
        out.append(PairComparison(a, b, common, rho, side))
    return out


def language_comparison(slug: str, heads: dict | None, model: ModelAnalysis | None) -> LanguageComparison | None:
    """Per translation group and language: pooled scores, their correlations across languages, and the
    per-example values at the model's top heads (None: the model has no heads file or no examples)."""
    stats = model.stats if model is not None else []
    if heads is None or not stats:
        return None
    examples = [s.example for s in stats]
    sets = compare.translation_sets([e.group for e in examples], [e.language for e in examples])
    view = LanguageComparison(slug, examples, sets)
    if not sets:
        return view
    num = np.stack([s.sums.num for s in stats])
    count = np.stack([s.sums.count for s in stats])
    pooled = compare.pooled_by_language(num, count, sets)
    view.languages = list(pooled)
    view.correlations = compare.language_correlations(pooled, list(PATTERNS))
    ratio = compare.per_example_ratio(num, count)
    acc, _mass = per_example_coref([s.coref for s in stats], [[p.antecedent_index for p in s.example.coref] for s in stats],
                                   heads["model"]["layers"], heads["model"]["heads"])
    per_example = {name: ratio[:, p] for p, name in enumerate(PATTERNS)}
    if "coref_accuracy" in model.grids:
        per_example["coref_accuracy"] = acc
    for key in LANGUAGE_KEYS:
        if key not in per_example:
            continue
        top = [(l, h) for l, h, _ in compare.top_heads(model.grids[key][0], GROUP_HEADS)]
        groups = []
        for group, langs in sets.items():
            members = [i for idx in langs.values() for i in idx]
            values = compare.head_values(per_example[key], members, top)
            groups.append((group, members, values, compare.spread(values)))
        view.tables.append(LanguageTable(key, top, groups))
    return view


def diff_analysis(pair: tuple[str, str], collected: RecordCollector, stats: dict[str, list],
                  heads_files: dict[str, dict]) -> DiffAnalysis:
    """One ``diffs:`` entry. Score changes need both models' heads files and the same layer x head shape;
    otherwise they are left empty (the diff page says why)."""
    base, other = pair
    sums = collected.diffs
    acc = sums.acc[pair]
    total, rows, examples = sums.totals(pair)
    changes, shared = {}, 0
    if base in heads_files and other in heads_files and _shape(heads_files[base]) == _shape(heads_files[other]):
        changes, shared = shared_score_changes(stats.get(base) or [], stats.get(other) or [])
    js = total / rows if total is not None and rows else None
    found = DiffAnalysis(base, other, len(sums.common[pair]), examples,
                         sorted(acc["mismatch"], key=lambda e: sums.order[e]), sorted(acc["precision"]), rows,
                         js, changes, shared)
    if js is not None:
        found.js_mean, found.js_max = float(js.mean()), float(js.max())
        found.layer_js = [(float(js[l].mean()), float(js[l].max())) for l in range(js.shape[0])]
        order = np.argsort(-js, axis=None, kind="stable")[:10]
        found.top = [(int(i // js.shape[1]), int(i % js.shape[1]), float(js.flat[i])) for i in order]
    for key, delta in changes.items():
        finite = delta[np.isfinite(delta)]
        found.largest[key] = float(np.max(np.abs(finite))) if finite.size else None
    return found


def _shape(heads: dict) -> tuple[int, int]:
    return heads["model"]["layers"], heads["model"]["heads"]


def checkpoint_analysis(run, heads_files: dict[str, dict]) -> CheckpointAnalysis:
    ran = [(step, slug) for step, slug in run.checkpoints if slug in heads_files]
    if not ran:
        return CheckpointAnalysis(ran, "no checkpoint ran (see the home page)")
    shapes = {(heads_files[s]["model"]["layers"], heads_files[s]["model"]["heads"]) for _, s in ran}
    if len(shapes) > 1:
        return CheckpointAnalysis(ran, "the checkpoints have different layer × head shapes")
    tracks = score_tracks([heads_files[slug] for _, slug in ran])
    return CheckpointAnalysis(ran, None, tracks, [t.moved() for t in tracks],
                              [[(m["layer"], m["head"]) for m in t.moved(CHART_HEADS)] for t in tracks])


def _changes(previous, heads_files: dict[str, dict], threshold: float) -> dict | None:
    if previous is None:
        return None
    report = compare_runs(previous.models, list(heads_files.values()), threshold)
    report["previous_found"] = bool(previous.found)
    return report
