"""Attention-only probe: which combination of heads picks a pronoun's antecedent, on held-out pairs.

This is the attention-only probe of Clark et al. (2019, "What does BERT look at?", section 6) applied to
pronoun -> antecedent selection. For a pair ``p`` with candidates ``c = 0 .. C_p - 1`` the probe scores

    s[p, c] = sum over heads (l, h) of  w[l, h] * x_fwd[p, c, l, h]  +  u[l, h] * x_back[p, c, l, h]

where ``x_fwd`` is the word-level attention pronoun -> candidate and ``x_back`` candidate -> pronoun, both
under the coreference span rule (unitless shares of one attention row, in [0, 1]). Each feature is
standardised on the training pairs' candidates (mean 0, standard deviation 1; a constant feature is set
to 0), so a weight is in log-odds per standard deviation of that head's attention and weights of
different heads compare. The model is a conditional logit: ``P(c | p) = softmax_c s[p, c]`` over the
pair's own candidates, fitted by minimising

    mean over training pairs of -log P(antecedent | p)  +  lam / 2 * (|w|^2 + |u|^2)

(no intercept: it would cancel in the softmax). The objective is convex; it is minimised by Newton's
method in float64 (exact Hessian, one linear solve per step, backtracking line search), so a fit is
deterministic.
Numpy rather than torch: the analysis package is pure numpy, and with at most a few hundred features the
exact Newton step converges in a handful of iterations.

Evaluation (``run_probe``):
- Folds never split related pairs: ``pair_groups`` joins pairs that share any key (the manifest's
  ``group:``, else the (pronoun, candidate list) signature, so both twins of a Winograd schema share a
  key; the example itself, since its pairs share one attention matrix; ``near_duplicate_keys`` for
  near-identical texts, twins whose special word is a candidate). Whole groups go to folds
  (``grouped_folds``). Clark et al. trained their probe for dependency parsing; the task here is ours.
- The regularisation strength ``lam`` is chosen on each outer training set alone, by an inner grouped
  cross-validation maximising the held-out mean log-likelihood (ties: the stronger regularisation).
- A pair is right when the antecedent gets strictly the highest score (a tie is not right), the rule of
  single-head accuracy (``coref.coref_scores``). Accuracy = right held-out pairs / pairs.
- The best single head is chosen on each outer training set (highest training accuracy over both
  directions' 2 x L x H attention values; ties: the first in (direction, layer, head) order) and scored on
  the held-out fold: a fair comparison with the probe, which also never sees its test pairs.
- Control probe: the same pipeline with each pair's antecedent replaced by a candidate drawn uniformly at
  random (in the spirit of the control tasks of Hewitt and Liang 2019), on ``CONTROL_DRAWS`` independent
  draws averaged per pair. A held-out label is then independent of everything the probe saw, so its
  expected accuracy is exactly chance (mean of 1 / candidates): a control away from chance means a leak.
- Intervals: 95% percentile bootstrap that resamples whole groups (the fold units), because pairs of a
  group are not independent (a probe that ignores the word that flips a Winograd schema gets exactly one
  of the twins right). All accuracies share the same resamples.

Pure functions: arrays in, arrays out, no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from .stats import bootstrap_mean_ci

# Regularisation strengths tried by the inner cross-validation (our choice: 1000 .. 1e-3 in decades covers
# "weights near 0" to "almost unregularised" for standardised features and a mean loss; as lam grows the
# choices tend to those of the mean-difference direction, the gradient at w = 0).
LAMBDAS = (1000.0, 100.0, 10.0, 1.0, 0.1, 0.01, 0.001)
INNER_FOLDS = 3  # inner folds for choosing lam (our choice: cost; each inner set keeps 2/3 of the training pairs)
# The control probe runs on this many independent random relabelings, averaged per pair (our choice: one
# draw alone scatters by about +/- 1 / (2 sqrt(pairs)) around chance; three cut that by sqrt(3) for 3x its cost).
CONTROL_DRAWS = 3
MIN_LANGUAGE_PAIRS = 20  # a language gets its own accuracy row from this many pairs (our choice)
MIN_VERDICT_PAIRS = 20  # fewer pairs get no verdict (our choice, as the single-head coreference verdicts)
DIRECTIONS = ("pronoun->candidate", "candidate->pronoun")


def probe_features(forward: Sequence[np.ndarray], backward: Sequence[np.ndarray]) -> np.ndarray:
    """Stack per-pair attention into the probe's features: float64 ``[P, C, 2, L, H]``.

    Args:
        forward: per pair, ``[L, H, C_p]`` word-level attention pronoun -> each candidate.
        backward: per pair, ``[L, H, C_p]`` attention each candidate -> pronoun (same span rule).

    ``C`` is the largest ``C_p``; the slots of absent candidates are nan. Direction 0 is forward.
    """
    if len(forward) != len(backward):
        raise ValueError(f"{len(forward)} forward but {len(backward)} backward arrays")
    if not forward:
        raise ValueError("no pairs")
    fw = [np.asarray(f, dtype=np.float64) for f in forward]
    bw = [np.asarray(b, dtype=np.float64) for b in backward]
    shape = fw[0].shape[:2]
    for k, (f, b) in enumerate(zip(fw, bw)):
        if f.ndim != 3 or f.shape != b.shape or f.shape[:2] != shape:
            raise ValueError(f"pair {k}: forward {f.shape} and backward {b.shape} must both be [L, H, C] "
                             f"with [L, H] = {list(shape)}")
    width = max(f.shape[2] for f in fw)
    out = np.full((len(fw), width, 2) + shape, np.nan)
    for k, (f, b) in enumerate(zip(fw, bw)):
        out[k, : f.shape[2], 0] = np.moveaxis(f, 2, 0)
        out[k, : b.shape[2], 1] = np.moveaxis(b, 2, 0)
    return out


def pair_groups(keys: Sequence[Sequence[Hashable]]) -> np.ndarray:
    """Groups of related pairs: int ``[P]``, pairs that share any key (transitively) get the same id.

    ``keys[p]`` lists pair p's keys, e.g. ``("group", "wsc-12")`` or ``("signature", "it", ("the
    trophy", "the suitcase"))`` and ``("example", "ex-3")``. Ids are numbered 0, 1, ... in order of each
    group's first pair.
    """
    parent = list(range(len(keys)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict = {}
    for p, ks in enumerate(keys):
        for key in ks:
            if key in owner:
                a, b = root(owner[key]), root(p)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                owner[key] = p
    ids: dict[int, int] = {}
    return np.asarray([ids.setdefault(root(p), len(ids)) for p in range(len(keys))], dtype=np.int64)


def near_duplicate_keys(texts: Sequence[Sequence[str]], max_diff: int = 3, edge: int = 4) -> list[list[tuple]]:
    """Keys that link near-identical texts (word lists), for ``pair_groups``: one list of keys per text.

    Two texts are near-identical when they differ in one stretch of at most ``max_diff`` words on each
    side (the common prefix plus the common suffix cover all but that stretch): the twins of a Winograd
    schema ("... because it is too large" / "... too small"), including twins whose special word is a
    candidate ("a minnow swimming below that duck" / "a shark ..."), which share no signature. Only texts
    that share their first or their last ``edge`` words are compared (a twin whose difference lies in
    neither end, or a short one, still shares one of them), so the work stays near linear. Each linked
    text gets the key ``("near", i)`` of the first text of its cluster.
    """
    buckets: dict[tuple, list[int]] = {}
    for i, words in enumerate(texts):
        buckets.setdefault(("head", tuple(words[:edge])), []).append(i)
        buckets.setdefault(("tail", tuple(words[-edge:])), []).append(i)
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def near(a: Sequence[str], b: Sequence[str]) -> bool:
        shorter = min(len(a), len(b))
        prefix = 0
        while prefix < shorter and a[prefix] == b[prefix]:
            prefix += 1
        suffix = 0
        while suffix < shorter - prefix and a[-1 - suffix] == b[-1 - suffix]:
            suffix += 1
        return len(a) - prefix - suffix <= max_diff and len(b) - prefix - suffix <= max_diff

    for members in buckets.values():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                i, j = members[x], members[y]
                if root(i) != root(j) and near(texts[i], texts[j]):
                    a, b = root(i), root(j)
                    parent[max(a, b)] = min(a, b)
    return [[("near", root(i))] for i in range(len(texts))]


def grouped_folds(groups: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Assign whole groups to ``k`` folds: int ``[P]`` fold of each pair (0 .. k'-1).

    Groups are put in a seeded random order, then (stable) largest first, and each goes to the fold with
    the fewest pairs so far (lowest fold on ties), so fold sizes differ by at most the largest group.
    ``k' = min(k, number of groups)``; deterministic for fixed groups, ``k`` and ``seed``.
    """
    groups = np.asarray(groups, dtype=np.int64)
    if k < 2:
        raise ValueError(f"need at least 2 folds, got {k}")
    labels, sizes = np.unique(groups, return_counts=True)
    k = min(k, labels.size)
    order = np.random.Generator(np.random.PCG64(seed)).permutation(labels.size)
    order = order[np.argsort(-sizes[order], kind="stable")]
    load = np.zeros(k, dtype=np.int64)
    fold_of = np.empty(labels.size, dtype=np.int64)
    for g in order:
        f = int(np.argmin(load))
        fold_of[g] = f
        load[f] += sizes[g]
    return fold_of[np.searchsorted(labels, groups)]


def _standardise(x: np.ndarray, mask: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``x[..., D]`` standardised with the mean and standard deviation of the valid candidates of
    ``rows``; constant features become 0 and absent candidates 0."""
    train = x[rows][mask[rows]]  # [N, D]
    mu = train.mean(axis=0)
    sd = train.std(axis=0)
    scale = np.divide(1.0, sd, out=np.zeros_like(sd), where=sd > 0)
    return np.where(mask[..., None], (x - mu) * scale, 0.0)


def _scores(x: np.ndarray, mask: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.where(mask, x @ w, -np.inf)


def fit_conditional_logit(x: np.ndarray, mask: np.ndarray, y: np.ndarray, lam: float,
                          max_iter: int = 100, tol: float = 1e-15) -> np.ndarray:
    """L2-regularised conditional logit: weights float64 ``[D]`` (``fit_path`` with one strength)."""
    return fit_path(x, mask, y, [lam], max_iter, tol)[0]


def fit_path(x: np.ndarray, mask: np.ndarray, y: np.ndarray, lambdas: Sequence[float],
             max_iter: int = 100, tol: float = 1e-15) -> list[np.ndarray]:
    """L2-regularised conditional logit by Newton's method, one weight vector ``[D]`` per strength.

    Minimises ``mean_p [logsumexp_c s[p, c] - s[p, y_p]] + lam / 2 |w|^2`` with ``s = x @ w`` over the valid
    candidates (``mask``; valid candidates come first in each pair). ``x`` float64 ``[P, C, D]``, ``y`` int
    ``[P]``, every ``lam > 0``. Stops when half the squared Newton decrement falls under ``tol`` (the
    objective is then within about ``tol`` of its minimum). Strengths are fitted in the order given, each
    starting from the previous solution.

    The loss only sees differences ``x[p, c] - x[p, 0]``, and the penalty makes the optimum lie in their
    span (any other component of ``w`` adds penalty and no fit), so Newton runs in an orthonormal basis of
    that span (thin SVD): ``r = min(rows, D)`` unknowns instead of ``D``, the same optimum.
    """
    if min(lambdas) <= 0:
        raise ValueError("every lam must be > 0")
    count, _, dim = x.shape
    diff = np.where(mask[..., None], x - x[:, :1], 0.0)
    rows = diff[:, 1:][mask[:, 1:]]  # [N, D]
    if rows.shape[0] == 0:
        return [np.zeros(dim) for _ in lambdas]
    _, sv, vt = np.linalg.svd(rows, full_matrices=False)
    basis = vt[sv > sv[0] * 1e-10].T if sv[0] > 0 else np.zeros((dim, 0))  # [D, r]
    xr = diff @ basis  # [P, C, r], 0 for absent candidates and for candidate 0
    r = basis.shape[1]
    index = np.arange(count)
    xa = xr[index, y]

    def objective(v: np.ndarray) -> float:
        s = _scores(xr, mask, v)
        top = s.max(axis=1)
        lse = top + np.log(np.exp(s - top[:, None]).sum(axis=1))
        return float((lse - s[index, y]).mean() + 0.5 * lam * (v @ v))

    beta = np.zeros(r)
    out = []
    for lam in lambdas:
        value = objective(beta)
        for _ in range(max_iter):
            s = _scores(xr, mask, beta)
            e = np.exp(s - s.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)  # [P, C], 0 on absent candidates
            xbar = np.einsum("pc,pcd->pd", p, xr)
            grad = (xbar - xa).mean(axis=0) + lam * beta
            z = ((xr - xbar[:, None, :]) * np.sqrt(p)[..., None]).reshape(-1, r)
            hess = (z.T @ z) / count
            hess[np.diag_indices(r)] += lam
            step = np.linalg.solve(hess, grad)
            decrement = float(grad @ step)
            if decrement / 2.0 < tol:
                break
            t = 1.0
            while True:
                trial = beta - t * step
                new = objective(trial)
                if new <= value - 0.25 * t * decrement or t < 1e-10:
                    break
                t *= 0.5
            if new > value:  # no further progress in float64
                break
            beta, value = trial, new
        out.append(basis @ beta)
    return out


def _log_likelihood(x: np.ndarray, mask: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    s = _scores(x, mask, w)
    top = s.max(axis=1)
    lse = top + np.log(np.exp(s - top[:, None]).sum(axis=1))
    return float((s[np.arange(len(y)), y] - lse).sum())


def strict_choice(scores: np.ndarray) -> np.ndarray:
    """Index of the strictly largest score along axis 1 (nan / -inf never win), -1 on a tie for the top.

    ``scores`` ``[P, C, ...]`` -> int ``[P, ...]``.
    """
    filled = np.where(np.isnan(scores), -np.inf, scores)
    top = filled.max(axis=1, keepdims=True)
    unique = (filled == top).sum(axis=1) == 1
    return np.where(unique, filled.argmax(axis=1), -1)


def choose_lambda(x: np.ndarray, mask: np.ndarray, y: np.ndarray, groups: np.ndarray,
                  lambdas: Sequence[float] = LAMBDAS, folds: int = INNER_FOLDS, seed: int = 0) -> float:
    """The ``lam`` of ``lambdas`` with the highest grouped-CV held-out log-likelihood on these pairs only.

    ``x`` are raw features ``[P, C, D]`` (standardised inside each inner training set). Ties go to the
    larger ``lam``. With fewer than 2 groups the largest ``lam`` is returned.
    """
    lambdas = sorted(lambdas, reverse=True)
    if np.unique(groups).size < 2:
        return lambdas[0]
    fold = grouped_folds(groups, folds, seed)
    total = np.zeros(len(lambdas))
    for f in range(int(fold.max()) + 1):
        train, test = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        z = _standardise(x, mask, train)
        path = fit_path(z[train], mask[train], y[train], lambdas)  # strongest first, warm starts
        for i, w in enumerate(path):
            total[i] += _log_likelihood(z[test], mask[test], y[test], w)
    best = int(np.flatnonzero(total == total.max())[0])
    return float(lambdas[best])


@dataclass
class FoldPipeline:
    """Held-out predictions of one labelling (real or control) over all outer folds.

    ``correct`` bool ``[P]``: the probe was right on the pair when it was held out; ``weights``
    float64 ``[folds, 2, L, H]`` per fold (standardised units); ``lambdas`` the strength each fold chose.
    """

    correct: np.ndarray
    weights: np.ndarray
    lambdas: list[float]


def cross_validate(features: np.ndarray, y: np.ndarray, groups: np.ndarray, fold: np.ndarray,
                   lambdas: Sequence[float] = LAMBDAS, inner_folds: int = INNER_FOLDS,
                   seed: int = 0) -> FoldPipeline:
    """Train on all folds but one, test on that one, for every fold (see ``run_probe``)."""
    count, width = features.shape[:2]
    shape = features.shape[2:]
    mask = ~np.isnan(features).reshape(count, width, -1).any(axis=2)
    raw = np.where(mask[..., None], features.reshape(count, width, -1), 0.0)
    correct = np.zeros(count, dtype=bool)
    weights, chosen = [], []
    for f in range(int(fold.max()) + 1):
        train, test = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        lam = choose_lambda(raw[train], mask[train], y[train], groups[train], lambdas, inner_folds, seed)
        z = _standardise(raw, mask, train)
        w = fit_conditional_logit(z[train], mask[train], y[train], lam)
        choice = strict_choice(_scores(z[test], mask[test], w))
        correct[test] = choice == y[test]
        weights.append(w.reshape(shape))
        chosen.append(lam)
    return FoldPipeline(correct, np.stack(weights), chosen)


@dataclass
class Accuracy:
    """A share of pairs right, in [0, 1], with its 95% interval ``(low, high)``."""

    accuracy: float
    ci: tuple[float, float]


@dataclass
class SingleHead:
    """The best single head chosen on each outer training set and scored on its held-out fold.

    ``direction`` 0 (pronoun -> candidate) or 1, ``layer``, ``head``: the choice most folds made (ties:
    the earliest fold's); ``per_fold``: each fold's ``(direction, layer, head)``; ``correct`` bool ``[P]``.
    """

    direction: int
    layer: int
    head: int
    score: Accuracy
    per_fold: list[tuple[int, int, int]]
    correct: np.ndarray


@dataclass
class ProbeResult:
    """Everything ``run_probe`` measured; accuracies are shares of pairs in [0, 1]."""

    pairs: int
    folds: int
    fold: np.ndarray
    groups: int
    chance: float
    probe: Accuracy
    correct: np.ndarray
    control: Accuracy
    single: SingleHead
    baselines: dict[str, Accuracy]
    weights: np.ndarray
    weights_back: np.ndarray
    lambdas: list[float]
    by_language: dict[str, dict] = field(default_factory=dict)


def best_single_head(features: np.ndarray, y: np.ndarray, fold: np.ndarray) -> tuple[np.ndarray, list]:
    """Per outer fold, the attention value (direction, layer, head) with the highest training accuracy,
    scored on the held-out pairs: (bool ``[P]`` right when held out, list of per-fold choices)."""
    count, width = features.shape[:2]
    shape = features.shape[2:]
    choice = strict_choice(features.reshape(count, width, -1))  # [P, D]
    right = choice == y[:, None]
    correct = np.zeros(count, dtype=bool)
    picks = []
    for f in range(int(fold.max()) + 1):
        train, test = fold != f, fold == f
        d = int(np.argmax(right[train].sum(axis=0)))  # first of the best on ties
        correct[test] = right[test, d]
        picks.append(tuple(int(i) for i in np.unravel_index(d, shape)))
    return correct, picks


def _ci(values: np.ndarray, groups: np.ndarray, n_boot: int, seed: int) -> Accuracy:
    values = np.asarray(values, dtype=np.float64)
    low, high = bootstrap_mean_ci(values, n_boot=n_boot, seed=seed, groups=groups)
    return Accuracy(float(values.mean()), (float(low), float(high)))


def run_probe(features: np.ndarray, antecedent: Sequence[int], groups: np.ndarray, *, folds: int = 5,
              baselines: dict[str, np.ndarray] | None = None, languages: Sequence[str] | None = None,
              lambdas: Sequence[float] = LAMBDAS, inner_folds: int = INNER_FOLDS, n_boot: int = 2000,
              seed: int = 0, control_draws: int = CONTROL_DRAWS) -> ProbeResult:
    """Cross-validated attention probe, best single head, control probe and baselines on the same pairs.

    Args:
        features: ``probe_features`` output ``[P, C, 2, L, H]`` (nan = absent candidate).
        antecedent: per pair, the antecedent's candidate index.
        groups: ``pair_groups`` ids ``[P]``; folds and bootstrap resamples keep each group whole.
        folds: outer folds ``k`` (fewer when there are fewer groups; at least 2 groups needed).
        baselines: name -> per-pair value ``[P]``: 1/0 for a rule's right/wrong (nearest, first) or the
            expected accuracy of a random choice (``1 / C_p``).
        languages: per pair language code; languages with at least ``MIN_LANGUAGE_PAIRS`` pairs get
            their own accuracies.
        n_boot, seed: bootstrap resamples and the seed of folds, control labels and bootstrap.
        control_draws: independent random relabelings the control probe is run on; its per-pair result
            is the share of draws it got right.

    Returns:
        :class:`ProbeResult`. ``chance`` is the mean of ``1 / C_p``. Weights are averaged over folds.
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 5 or features.shape[2] != 2:
        raise ValueError(f"features must be [P, C, 2, L, H], got {features.shape}")
    count = features.shape[0]
    y = np.asarray(antecedent, dtype=np.int64)
    groups = np.asarray(groups, dtype=np.int64)
    if y.shape != (count,) or groups.shape != (count,):
        raise ValueError("antecedent and groups need one entry per pair")
    present = ~np.isnan(features).any(axis=(2, 3, 4))  # [P, C]
    sizes = present.sum(axis=1)
    if (sizes == 0).any() or (y < 0).any() or (y >= sizes).any() or not present[np.arange(count), y].all():
        raise ValueError("each antecedent must index one of its pair's present candidates")
    if (present[:, 1:] & ~present[:, :-1]).any():
        raise ValueError("present candidates must come first in each pair (probe_features order)")
    if np.unique(groups).size < 2:
        raise ValueError("the probe needs at least 2 groups of pairs")
    fold = grouped_folds(groups, folds, seed)
    draws = np.random.Generator(np.random.PCG64(seed + 1)).integers(0, sizes, size=(control_draws, count))
    # Matrices of at most a few hundred rows: BLAS threads only add start-up and, on a shared machine,
    # contention (measured 20x slower with 2 threads on 2 busy cores); one thread is also one fixed
    # summation order, so results are bit for bit the same whatever the machine's thread settings.
    with threadpool_limits(limits=1, user_api="blas"):
        real = cross_validate(features, y, groups, fold, lambdas, inner_folds, seed)
        control_correct = np.mean([cross_validate(features, labels, groups, fold, lambdas, inner_folds, seed).correct
                                   for labels in draws], axis=0)  # per pair: share of draws right
    single_correct, picks = best_single_head(features, y, fold)
    common = max(picks, key=lambda c: (picks.count(c), -picks.index(c)))
    chance_values = 1.0 / sizes
    base = {name: np.asarray(v, dtype=np.float64) for name, v in (baselines or {}).items()}
    for name, v in base.items():
        if v.shape != (count,):
            raise ValueError(f"baseline {name!r} needs one value per pair")

    def scored(rows: np.ndarray) -> dict:
        g = groups[rows]
        return {
            "pairs": int(rows.size),
            "probe": _ci(real.correct[rows], g, n_boot, seed),
            "single": _ci(single_correct[rows], g, n_boot, seed),
            "control": _ci(control_correct[rows], g, n_boot, seed),
            "chance": float(chance_values[rows].mean()),
            "baselines": {name: _ci(v[rows], g, n_boot, seed) for name, v in base.items()},
        }

    everything = scored(np.arange(count))
    by_language: dict[str, dict] = {}
    if languages is not None:
        langs = np.asarray(list(languages), dtype=object)
        for code in sorted(set(langs.tolist())):
            rows = np.flatnonzero(langs == code)
            if rows.size >= MIN_LANGUAGE_PAIRS:
                by_language[code] = scored(rows)
    mean_w = real.weights.mean(axis=0)
    return ProbeResult(
        pairs=count,
        folds=int(fold.max()) + 1,
        fold=fold,
        groups=int(np.unique(groups).size),
        chance=everything["chance"],
        probe=everything["probe"],
        correct=real.correct,
        control=everything["control"],
        single=SingleHead(common[0], common[1], common[2], everything["single"], picks, single_correct),
        baselines=everything["baselines"],
        weights=mean_w[0],
        weights_back=mean_w[1],
        lambdas=real.lambdas,
        by_language=by_language,
    )


def _pct(a: Accuracy) -> str:
    return f"{100 * a.accuracy:.1f}% (95% CI {100 * a.ci[0]:.1f}-{100 * a.ci[1]:.1f})"


def verdict(result: ProbeResult) -> str:
    """One sentence: does the probe beat the best single head and the baselines beyond their intervals?

    "Beyond" means the probe's interval lies wholly above the other's (no overlap of the two 95%
    intervals, a conservative criterion). The control probe is named when it leaves chance.
    """
    probe = result.probe
    if result.pairs < MIN_VERDICT_PAIRS:
        return (f"No verdict: {result.pairs} pairs, fewer than {MIN_VERDICT_PAIRS}; the probe's held-out accuracy is "
                f"{_pct(probe)}.")
    low = probe.ci[0]
    strongest = max(result.baselines.items(), key=lambda kv: kv[1].accuracy, default=None)
    over_single = low > result.single.score.ci[1]
    over_base = strongest is None or low > strongest[1].ci[1]
    what = f"The probe's held-out accuracy, {_pct(probe)},"
    single = f"the best single head ({_pct(result.single.score)})"
    base = "" if strongest is None else f"the strongest baseline ({strongest[0]}, {_pct(strongest[1])})"
    if over_single and over_base:
        text = f"{what} beats both {single} and {base} beyond their intervals." if base else \
            f"{what} beats {single} beyond its interval."
    elif over_base:
        text = f"{what} beats {base} beyond its interval but not {single}."
    elif over_single:
        text = f"{what} beats {single} beyond its interval but not {base}, so it claims no skill over it."
    else:
        text = (f"{what} claims no skill: its interval does not clear "
                + (f"{single} or {base}." if base else f"{single}."))
    c_low, c_high = result.control.ci
    if not c_low <= result.chance <= c_high:
        text += (f" Warning: the control probe on shuffled antecedents scores {_pct(result.control)}, "
                 f"not chance ({100 * result.chance:.1f}%).")
    return text
