"""Per-example analysis computed on a padded batch, in torch: the one production path of every per-example number.

The build analyses each forward pass's batch here, and the notebook passes its one input through the same
code as a batch of one (:func:`analyse_one`), so both give the same numbers. Each number is defined in the
docstring of the function that computes it: the pattern scores in :func:`layer_pattern_sums` (from-positions
in :class:`BatchMasks`), causality in :func:`causal_rows`, attention rollout in :func:`batch_rollout`, the
neuron view's precision in :func:`qk_softmax_errors`; the coreference weights in
``analysis.coref.pronoun_word_weights`` and ``analysis.per_example.coref_back_weights``, which run on the
rows gathered here. The numbers come straight from the batch tensors the model returned, before anything is
copied out, so the work runs on every torch thread and no example's attention is copied unless its viewer
pages need it. ``tests/reference.py`` recomputes each of them with plain numpy on one example's own
attention, and ``tests/test_batched.py`` checks that both agree on real model output.

Layout of a batch (``B`` examples, ``W`` = the longest one's token count): example ``b`` holds its
``n_b`` tokens in positions ``0 .. n_b-1`` (right padding). Attention of one layer is ``[B, H, W, W]``;
the model masks padded keys, so a real row gives padded columns exactly 0, and padded rows are never
read. Masks are bool ``[B, W]``.

Pure functions: tensors in, tensors out, no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from types import SimpleNamespace

import numpy as np

import torch

from reportgen.analysis.patterns import PATTERNS
from reportgen.analysis.per_example import coref_back_weights, coref_weights, span_tokens
from reportgen.extract.attention import Batch
from reportgen.store.quantize import STEPS

_PREV, _NEXT, _SELF, _CLS, _SEP, _PUNCT, _ENT, _PREV_AM, _NEXT_AM, _ENT_N = range(len(PATTERNS))


@dataclass
class BatchMasks:
    """Where each pattern looks, per example of a batch (bool ``[B, W]`` each).

    real: position < n_b. from_: real, not special and not forced (the from-set F of
    :func:`layer_pattern_sums`: row 0 of a causal example and the row of a one-token example can only
    attend to themselves).
    entropy_weight: float ``[B, W]``, ``1 / ln k`` on from-positions (k: positions the row may attend to,
    n_b or, causal, i + 1), else 0 (``entropy_norm``).
    prev: from-positions with a previous token (i >= 1). next: from-positions with a next token
    (i <= n_b - 2), all false for causal examples. sep: special columns j >= 1. punct: non-special
    punctuation columns.

    The six patterns that read a few columns of each row are taken in one gather: row i of example b
    reads columns ``pick_index[b, i]`` = (i, 0, i-1, i+1, then the example's K separator and
    punctuation columns; out-of-range and unused slots read column 0 with weight 0). ``pick_weight``
    ``[B, 4+K, 6]`` turns them into the row's self, [CLS], prev, next, separator and punctuation mass,
    and ``row_weight`` ``[B, 1, W, 6]`` (0/1) keeps the rows each of those patterns averages over.
    """

    real: torch.Tensor
    from_: torch.Tensor
    prev: torch.Tensor
    next: torch.Tensor
    sep: torch.Tensor
    punct: torch.Tensor
    pick_index: torch.Tensor
    pick_weight: torch.Tensor
    row_weight: torch.Tensor
    entropy_weight: torch.Tensor

    @staticmethod
    def build(lengths: list[int], special: list, punct: list, causal: torch.Tensor) -> "BatchMasks":
        """Masks from per-example lengths, bool ``special``/``punct`` arrays (length n_b) and ``causal`` [B].

        The masks are made on the host from the tokenizer's arrays and live on ``causal``'s device;
        ``causal`` itself is applied there, so a GPU batch is never copied back to decide them.
        """
        count, width = len(lengths), max(lengths)
        real = torch.zeros((count, width), dtype=torch.bool)
        spec = torch.zeros((count, width), dtype=torch.bool)
        pun = torch.zeros((count, width), dtype=torch.bool)
        for row, n in enumerate(lengths):
            real[row, :n] = True
            spec[row, :n] = torch.as_tensor(np.asarray(special[row], dtype=bool))
            pun[row, :n] = torch.as_tensor(np.asarray(punct[row], dtype=bool))
        position = torch.arange(width)
        lengths_t = torch.as_tensor(lengths)
        from_ = real & ~spec
        prev = from_ & (position >= 1)
        next_ = from_ & (position[None, :] <= lengths_t[:, None] - 2)  # causal examples: cut on the device below
        sep = spec & real & (position >= 1)
        pun = pun & ~spec & real
        wanted = (sep | pun).numpy()
        k = int(wanted.sum(-1).max())
        index = np.zeros((count, width, 4 + k), dtype=np.int64)
        weight = np.zeros((count, 4 + k, 6), dtype=np.float32)
        index[:, :, 0] = np.arange(width)
        index[:, 1:, 2] = np.arange(width - 1)  # i - 1 (row 0 reads column 0, weight 0 below)
        index[:, :-1, 3] = np.arange(1, width)  # i + 1
        weight[:, [0, 1, 2, 3], [0, 1, 2, 3]] = 1.0
        sep_np, pun_np = sep.numpy(), pun.numpy()
        for row in range(count):
            cols = np.flatnonzero(wanted[row])
            index[row, :, 4: 4 + cols.size] = cols
            weight[row, 4: 4 + cols.size, 4] = sep_np[row, cols]
            weight[row, 4: 4 + cols.size, 5] = pun_np[row, cols]
        f = from_.float()
        rows = torch.stack([f, f, prev.float(), next_.float(), f, f], dim=-1)[:, None]  # [B, 1, W, 6]
        masks = BatchMasks(real, from_, prev, next_, sep, pun, torch.from_numpy(index), torch.from_numpy(weight), rows,
                           torch.zeros((count, width), dtype=torch.float32))
        if causal.device.type != "cpu":
            masks = masks.to(causal.device)
            position, lengths_t = position.to(causal.device), lengths_t.to(causal.device)
        # On causal's device: k, the positions each row may attend to; a row with k = 1 is forced.
        choices = torch.where(causal[:, None], position[None, :] + 1, lengths_t[:, None])
        free = choices > 1
        bidirectional = ~causal
        masks.from_ = masks.from_ & free
        masks.prev = masks.prev & free
        masks.next = masks.next & free & bidirectional[:, None]
        masks.row_weight *= free.to(masks.row_weight.dtype)[:, None, :, None]
        masks.row_weight[:, 0, :, 3] *= bidirectional.to(masks.row_weight.dtype)[:, None]
        masks.entropy_weight = torch.where(masks.from_, 1.0 / torch.log(choices.clamp_min(2).double()), 0.0).float()
        return masks

    def to(self, device) -> "BatchMasks":
        return BatchMasks(*(getattr(self, f.name).to(device) for f in fields(self)))

    def counts(self) -> torch.Tensor:
        """Number of from-positions behind each pattern: float64 ``[B, P]``."""
        f = self.from_.sum(-1).double()
        p = self.prev.sum(-1).double()
        nx = self.next.sum(-1).double()
        return torch.stack([p, nx, f, f, f, f, f, p, nx, f], dim=1)


def causal_rows(layers: list[torch.Tensor], real: torch.Tensor) -> torch.Tensor:
    """bool ``[B]``: example b is causal, i.e. no real token attends to a later position (``A[l, h, i, j]`` is
    exactly 0 for every ``j > i``), in any layer or head; an example of one token is not causal (nothing
    to tell).

    A bidirectional model gives the first token's row positive weight on later tokens, so the first rows
    settle nearly every example; only examples whose first rows look causal get the full upper-triangle check.
    """
    if layers[0].shape[-1] < 2:  # every example has one token: nothing to tell
        return torch.zeros(layers[0].shape[0], dtype=torch.bool, device=layers[0].device)
    first = torch.stack([a[:, :, 0, 1:].flatten(1).abs().amax(dim=1) for a in layers]).amax(dim=0) == 0
    if first.device.type == "cpu" and not bool(first.any()):
        return first  # (on a GPU this test would wait for the device; the full check runs there instead)
    upper = torch.zeros(first.shape, dtype=torch.float32, device=first.device)
    for a in layers:
        triangle = torch.triu(a, diagonal=1) * real[:, None, :, None]
        upper = torch.maximum(upper, triangle.flatten(1).abs().amax(dim=1).float())
    return first & (upper == 0)


def layer_pattern_sums(attention: torch.Tensor, masks: BatchMasks) -> torch.Tensor:
    """Pattern numerators of one layer: float64 ``[B, P, H]``, order of ``PATTERNS``; the counts are
    ``BatchMasks.counts``. This is where the pattern scores are defined.

    For one example, ``A[h, i, j]`` is the attention from token ``i`` to token ``j`` (``n`` tokens). ``F`` is
    the from-set: the positions that are not special tokens and not *forced*; a forced row is one whose
    token can attend only to itself (row 0 of a causal model, the only row of a one-token example) and
    says nothing about the head. Every score is a mean over from-positions ``i``; the numerator (a sum over
    ``i``) and the count (number of ``i``) are kept apart so that examples pool token-weighted: sum
    numerators and counts over examples, then divide (``patterns.finalize``).

    ============  ===========================================================  ======================
    pattern       numerator (sum over the from-positions ``i``)                from-positions
    ============  ===========================================================  ======================
    prev          ``A[i, i-1]``                                                ``i in F, i >= 1``
    next          ``A[i, i+1]``                                                ``i in F, i <= n-2``
    self          ``A[i, i]``                                                  ``F``
    cls           ``A[i, 0]`` (the first token: [CLS] / <s>)                   ``F``
    sep           ``sum_j A[i, j]`` over special ``j >= 1``                     ``F``
    punct         ``sum_j A[i, j]`` over non-special punctuation ``j``          ``F``
    entropy       ``-sum_j A[i, j] ln A[i, j]`` in nats (``0 ln 0 = 0``)        ``F``
    prev_argmax   ``1`` if ``argmax_j A[i, j] == i-1`` else ``0``              same as prev
    next_argmax   ``1`` if ``argmax_j A[i, j] == i+1`` else ``0``              same as next
    entropy_norm  ``H(row i) / ln k_i``, ``k_i`` = positions row ``i`` may       ``F``
                  attend to (``n``; causal: ``i + 1``); unitless, in [0, 1]
    ============  ===========================================================  ======================

    A causal model cannot attend to ``i+1``: ``next`` and ``next_argmax`` are not defined there (numerator
    and count 0, ``finalize`` gives nan). Punctuation tokens are non-special tokens whose text without
    subword markers is all Unicode punctuation (``extract.tokens``). ``entropy_norm`` is length-aware
    breadth: 1 for a row spread evenly over every position it may attend to, 0 for a row on one token,
    whatever the example's length (raw entropy is at most ``ln k``, so a fixed bar in nats cannot be
    reached by short rows). Argmax ties resolve to the first index. Attention scores are fractions of one
    row (unitless, each row sums to 1); entropy is in nats.

    ``attention`` is float32 ``[B, H, W, W]``. Per-row values (a sum over one row's columns) are float32,
    about 1e-7 relative; the sums over an example's rows are float64. The self, [CLS], prev, next,
    separator and punctuation values of every row come from one gather of a few columns (``BatchMasks``).
    """
    a = attention
    f64 = torch.float64
    count, heads, width, _ = a.shape
    fm = masks.from_.to(a.dtype)[:, None, :]  # [B, 1, W]
    prev_m = masks.prev[:, None, 1:]
    next_m = masks.next[:, None, :-1]
    out = torch.empty((count, len(PATTERNS), heads), dtype=f64, device=a.device)
    picked = a.gather(-1, masks.pick_index[:, None].expand(count, heads, width, masks.pick_index.shape[-1]))
    per_row = picked @ masks.pick_weight[:, None]  # [B, H, W, 6]: each row's value of the six patterns
    six = (per_row * masks.row_weight).sum(-2, dtype=f64)  # [B, H, 6]
    out[:, [_SELF, _CLS, _PREV, _NEXT, _SEP, _PUNCT]] = six.transpose(1, 2)
    logs = log_(a.clamp_min(torch.finfo(a.dtype).tiny))  # a ln a -> 0 as a -> 0; no 0 * -inf
    row_entropy = logs.mul_(a).sum(-1).neg_()  # [B, H, W] nats
    out[:, _ENT] = (row_entropy * fm).sum(-1, dtype=f64)
    out[:, _ENT_N] = (row_entropy * masks.entropy_weight[:, None, :]).sum(-1, dtype=f64)
    first_max = a.argmax(dim=-1)  # [B, H, W]
    out[:, _PREV_AM] = (argmax_is(first_max, -1) & prev_m).sum(-1, dtype=f64)
    out[:, _NEXT_AM] = (argmax_is(first_max, 1) & next_m).sum(-1, dtype=f64)
    return out


def log_(values: torch.Tensor) -> torch.Tensor:
    """Natural log in place. A contiguous float32 CPU tensor goes through numpy's vectorised log, which
    is about twice as fast here as torch's on both threads, within 4 ulp (torch: 1 ulp)."""
    if values.device.type == "cpu" and values.dtype == torch.float32 and values.is_contiguous():
        array = values.numpy()
        np.log(array, out=array)
        return values
    return values.log_()


def argmax_is(first_max: torch.Tensor, offset: int) -> torch.Tensor:
    """bool: ``argmax_j a[..., i, j] == i + offset`` (offset -1 or 1), the first index on ties as numpy.

    ``first_max`` is ``a.argmax(-1)`` (torch returns the first maximal index). Rows ``i`` with
    ``i + offset`` outside ``0..W-1`` are left out: the result is ``[B, H, W-1]``, for rows 1..W-1
    (offset -1) or 0..W-2 (offset 1).
    """
    position = torch.arange(first_max.shape[-1], device=first_max.device)
    if offset < 0:
        return first_max[..., 1:] == position[1:] + offset
    return first_max[..., :-1] == position[:-1] + offset


def batch_rollout(layers: list[torch.Tensor], residual: float = 0.5) -> torch.Tensor:
    """Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers") of a padded
    batch: float64 ``[B, L, W, W]``, ``out[b, l] = R_l`` of example b.

    For layer l, average the attention over heads and add the residual connection as an identity,

        Â_l = rownorm(0.5 * mean_h A_l[h] + 0.5 * I)   (every row renormalised to sum to 1),

    and multiply the layers, first layer rightmost: ``R_0 = Â_0``, ``R_l = Â_l R_(l-1)`` (so ``R_(L-1) =
    Â_(L-1) ... Â_1 Â_0``). ``R_l[i, j]`` is how much of token j's input embedding flows into token i's
    representation after layer l (0-based layers); unitless. Products of row-stochastic matrices are
    row-stochastic, so every row sums to 1 and the rollout is quantised like attention (uint8, error at
    most 1/510). ``residual`` is the identity's weight (0.5 above). Computed in float64 from the float32
    attention.

    ``layers`` are the [B, H, W, W] attentions. An example's own block ``[:n, :n]`` equals its
    unpadded rollout: a real row gives padded columns weight 0, so padded tokens never feed real ones.
    """
    count, _, width, _ = layers[0].shape
    eye = torch.eye(width, dtype=torch.float64, device=layers[0].device)
    current = eye.expand(count, width, width)
    out = []
    for attention in layers:
        mixed = (1.0 - residual) * attention.double().mean(dim=1) + residual * eye
        mixed = mixed / mixed.sum(dim=-1, keepdim=True)
        current = mixed @ current
        out.append(current)
    return torch.stack(out, dim=1)


def quantize_tensor(values: torch.Tensor) -> torch.Tensor:
    """Attention (or rollout) in [0, 1] to uint8: ``round(255 * a)``, half to even, computed in float64; the
    scheme of ``store.quantize`` (``dequantize`` reads it back within 1/510)."""
    return values.double().mul_(float(STEPS)).round_().to(torch.uint8)  # softmax weights lie in [0, 1]


def qk_softmax_errors(q: torch.Tensor, k: torch.Tensor, attention: torch.Tensor, real: torch.Tensor,
                      causal: torch.Tensor, heads: int) -> torch.Tensor:
    """The neuron view's precision for one layer: float64 ``[B]``, per example the largest over heads and
    real rows ``i`` and columns ``j`` of ``|softmax_j(q_i . k_j / sqrt(d)) - A[i, j]|``, where ``q_i``, ``k_j`` are
    the query and key vectors of head size ``d`` rounded to float16 (as the viewer stores them) and the
    softmax runs over the positions the row may attend to (causal: ``j <= i``). Unitless (a fraction of a
    row); the record's ``qk_error`` is the largest over layers. Computed in float32.

    ``q``, ``k``: one layer's projections ``[B, W, H*d]``; ``attention`` ``[B, H, W, W]``; ``real``: bool
    ``[B, W]``; ``causal``: bool ``[B]`` (:func:`causal_rows`).
    """
    count, width, hidden = q.shape
    d = hidden // heads
    qh = q.reshape(count, width, heads, d).transpose(1, 2).half().float()
    kh = k.reshape(count, width, heads, d).transpose(1, 2).half().float()
    scores = (qh @ kh.transpose(-1, -2)).mul_(1.0 / float(d) ** 0.5)
    if q.device.type == "cpu":
        padded, any_causal = not bool(real.all()), bool(causal.any())
    else:  # deciding would wait for the device: mask always (masking a full row or a bidirectional one changes nothing)
        padded, any_causal = True, True
    if padded or any_causal:
        blocked = ~real[:, None, None, :]
        if any_causal:
            lower = torch.ones((width, width), dtype=torch.bool, device=q.device).tril()
            blocked = blocked | (causal[:, None, None, None] & ~lower)
        scores.masked_fill_(blocked, float("-inf"))
    error = torch.softmax(scores, dim=-1).sub_(attention).abs_()
    if padded:
        error.masked_fill_(~real[:, None, :, None], 0.0)
    return error.flatten(1).amax(dim=1).double()


@dataclass
class ExampleResult:
    """What the build keeps of one example of a batch (numpy, the example's own n tokens).

    ``num`` float64 ``[P, L, H]`` and ``count`` float64 ``[P]``: pattern numerators and counts.
    ``coref``: per annotated pair the pronoun's attention to every word of every candidate, float64
    ``[L, H, C, Wmax]`` (shape (0,) when truncation cut it off); ``coref_back``: per pair the candidate
    words' attention to the pronoun, same shape (``per_example.coref_back_weights``, the attention probe).
    The rest only for examples with viewer pages (else None): ``attention_q`` uint8 ``[L, H, n, n]``,
    ``rollout_q`` uint8 ``[L, n, n]``, ``qk`` float16 ``[L, H, n, d]`` pair with ``qk_error`` (the
    neuron view's softmax error), and for model diffs ``attention_f16`` float16 ``[L, H, n, n]``.
    """

    num: np.ndarray
    count: np.ndarray
    coref: list
    causal: bool
    attention_q: np.ndarray | None = None
    rollout_q: np.ndarray | None = None
    qk: tuple | None = None
    qk_error: float | None = None
    attention_f16: np.ndarray | None = None
    coref_back: list | None = None


@dataclass
class BatchTensors:
    """What ``analyse_tensors`` computes for a batch, on the batch's device (``h``: rows of ``wanted``).

    ``num`` float64 ``[B, P, L, H]``, ``counts`` float64 ``[B, P]``, ``causal`` bool ``[B]``;
    ``coref_rows`` float32 ``[L, R, H, W]``: the attention rows of the ``R`` pronoun and candidate tokens listed in
    ``coref_index`` (example, token position), None without coreference pairs; ``attention_q`` uint8
    ``[L, h', H, W, W]`` and ``rollout_q`` uint8 ``[h', L, W, W]`` for the rows of ``viewer``; ``q``/``k``
    float16 ``[h'', L, H, W, d]`` and ``qk_error`` ``[h'']`` for the rows of ``asked``; ``attention_f16``
    float16 ``[L, f, H, W, W]`` for the rows of ``f16_rows``. Row lists are example indices of the batch.
    """

    num: torch.Tensor
    counts: torch.Tensor
    causal: torch.Tensor
    coref_index: list = field(default_factory=list)
    coref_rows: torch.Tensor | None = None
    viewer: list = field(default_factory=list)
    attention_q: torch.Tensor | None = None
    rollout_q: torch.Tensor | None = None
    asked: list = field(default_factory=list)
    q: torch.Tensor | None = None
    k: torch.Tensor | None = None
    qk_error: torch.Tensor | None = None
    f16_rows: list = field(default_factory=list)
    attention_f16: torch.Tensor | None = None


def coref_positions(word: np.ndarray, coref_pairs: list) -> np.ndarray:
    """Sorted token positions of every pair's pronoun and candidates (``per_example.span_tokens``), each
    once: the rows both coreference directions read."""
    found = [span_tokens(word, pair.pronoun.first, pair.pronoun.last) for pair in coref_pairs]
    found += [span_tokens(word, c.first, c.last) for pair in coref_pairs for c in pair.candidates]
    return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


def analyse_tensors(batch, coref_pairs: list, heavy: list[bool], want_qk: list[bool],
                    want_f16: list[bool]) -> BatchTensors:
    """The device half of ``analyse_batch``: every number of the batch, computed where its attention lives.

    Device-clean and free of host synchronisation: every tensor made here is made on the attention's
    device, and nothing waits for a value computed on it (no ``.item()``, ``bool()``, ``.cpu()``); what
    the host decides comes from the tokenizer's arrays. ``tests/test_device.py`` runs it on ``meta``
    tensors under a guard that fails any operation mixing two devices; a read-back fails there too.
    """
    items, layers = batch.items, batch.attentions
    lengths = [item.n for item in items]
    device = layers[0].device
    depth, width = len(layers), max(lengths)
    real = torch.arange(width)[None, :] < torch.as_tensor(lengths)[:, None]
    real = real.to(device) if device.type != "cpu" else real
    causal = causal_rows(layers, real)
    masks = BatchMasks.build(lengths, [i.special for i in items], [i.punct for i in items], causal)
    out = BatchTensors(torch.stack([layer_pattern_sums(a, masks) for a in layers], dim=2), masks.counts(), causal)
    # Coreference: the pronoun and candidate rows of every example with pairs, in one gather per layer.
    for b, item in enumerate(items):
        if coref_pairs[b]:
            out.coref_index.extend((b, int(position)) for position in coref_positions(item.word, coref_pairs[b]))
    if out.coref_index:
        index = torch.as_tensor(out.coref_index, dtype=torch.long).to(device)
        out.coref_rows = torch.stack([a[index[:, 0], :, index[:, 1], :] for a in layers])  # [L, R, H, W]
    # Viewer data: quantised attention, rollout and the neuron view's error run once over the batch rows
    # that need them, at the batch's width. Every row is computed on its own (padding never feeds a
    # real row), so its result depends on the batch's width but not on which batch-mates also needed
    # viewer data (cached ones do not); quantising is elementwise, the same bits as on the own block.
    wanted = [b for b in range(len(items)) if heavy[b] or (want_qk[b] and batch.q is not None)]
    if wanted:
        rows = torch.as_tensor(wanted).to(device)
        picked = torch.empty((depth, len(wanted)) + tuple(layers[0].shape[1:]), dtype=layers[0].dtype, device=device)
        for layer, a in enumerate(layers):
            torch.index_select(a, 0, rows, out=picked[layer])  # [L, h, H, W, W]
    viewer = [slot for slot, b in enumerate(wanted) if heavy[b]]
    if viewer:
        own = picked if len(viewer) == len(wanted) else picked[:, viewer]
        out.viewer = [wanted[slot] for slot in viewer]
        out.attention_q = torch.stack([quantize_tensor(own[layer]) for layer in range(depth)])  # (float64 one layer at a time)
        out.rollout_q = quantize_tensor(batch_rollout(list(own)))  # [h', L, W, W]
    asked = [slot for slot, b in enumerate(wanted) if want_qk[b]] if batch.q is not None else []
    if asked:
        out.asked = [wanted[slot] for slot in asked]
        take = torch.as_tensor(out.asked).to(device)
        q = torch.stack([t.index_select(0, take) for t in batch.q])  # [L, h, W, H*d]
        k = torch.stack([t.index_select(0, take) for t in batch.k])
        own = picked if len(asked) == len(wanted) else picked[:, asked]
        count, heads = len(asked), batch.heads
        real_take, causal_take = real.index_select(0, take), causal.index_select(0, take)
        out.qk_error = torch.stack([qk_softmax_errors(q[layer], k[layer], own[layer], real_take, causal_take, heads)
                                    for layer in range(depth)]).amax(dim=0)  # one layer at a time: stays in cache
        out.q, out.k = (t.to(torch.float16).view(depth, count, width, heads, -1).permute(1, 0, 3, 2, 4)
                        for t in (q, k))  # [h, L, H, W, d] each
    out.f16_rows = [b for b in range(len(items)) if want_f16[b]]
    if out.f16_rows:
        take = torch.as_tensor(out.f16_rows).to(device)
        out.attention_f16 = torch.stack([a.index_select(0, take).to(torch.float16) for a in layers])  # [L, f, H, W, W]
    return out


def to_host(tensor: torch.Tensor | None) -> np.ndarray | None:
    """One copy of a result tensor to a numpy array (none for a CPU tensor)."""
    return None if tensor is None else tensor.cpu().numpy()


def analyse_batch(batch, coref_pairs: list, heavy: list[bool], want_qk: list[bool],
                  want_f16: list[bool]) -> list[ExampleResult]:
    """Analyse every example of a checked ``extract.attention.Batch`` at once.

    ``coref_pairs[b]``: the manifest's coreference pairs of example b; ``heavy[b]``: it gets viewer pages
    (quantised attention and rollout); ``want_qk[b]``: it also gets the neuron view's q/k;
    ``want_f16[b]``: keep a float16 copy for model diffs. The numbers come from ``analyse_tensors``;
    each of its result tensors is copied to the host once per batch, then cut into examples.
    """
    items = batch.items
    lengths = [item.n for item in items]
    tensors = analyse_tensors(batch, coref_pairs, heavy, want_qk, want_f16)
    num, counts, causal = to_host(tensors.num), to_host(tensors.counts), to_host(tensors.causal)
    results = [ExampleResult(num[b], counts[b], [], bool(causal[b]), coref_back=[]) for b in range(len(items))]
    rows = to_host(tensors.coref_rows)  # [L, R, H, W]; None when no pronoun or candidate has tokens left
    where = {key: at for at, key in enumerate(tensors.coref_index)}
    for b, item in enumerate(items):
        if coref_pairs[b]:  # (a pair cut off by truncation never asks for rows)
            n = item.n

            def rows_of(positions, b=b, n=n):
                return rows[:, [where[(b, int(p))] for p in positions], :, :n].transpose(0, 2, 1, 3)  # [L, H, k, n]

            results[b].coref = coref_weights(rows_of, item.word, coref_pairs[b])
            results[b].coref_back = coref_back_weights(rows_of, item.word, coref_pairs[b])
    if tensors.viewer:
        quantised, rolled = to_host(tensors.attention_q), to_host(tensors.rollout_q)
        for at, b in enumerate(tensors.viewer):
            n = lengths[b]
            results[b].attention_q = quantised[:, at, :, :n, :n].copy()
            results[b].rollout_q = rolled[at, :, :n, :n].copy()
    if tensors.asked:
        q, k, errors = to_host(tensors.q), to_host(tensors.k), to_host(tensors.qk_error)
        for at, b in enumerate(tensors.asked):
            n = lengths[b]
            results[b].qk = (np.ascontiguousarray(q[at, :, :, :n]), np.ascontiguousarray(k[at, :, :, :n]))
            results[b].qk_error = float(errors[at])
    if tensors.f16_rows:
        halves = to_host(tensors.attention_f16)
        for at, b in enumerate(tensors.f16_rows):
            n = lengths[b]
            results[b].attention_f16 = np.ascontiguousarray(halves[:, at, :, :n, :n])
    return results


def analyse_one(attention, special: np.ndarray, punct: np.ndarray, word: np.ndarray, coref_pairs=(),
                q: list | None = None, k: list | None = None, viewer: bool = True) -> ExampleResult:
    """One example through ``analyse_batch`` as a batch of one (no padding): the build's numbers for one
    input (the notebook's path).

    ``attention``: a float array ``[L, H, n, n]``, or per layer a ``[1, H, n, n]`` tensor (what a model
    returns with ``output_attentions=True``; it stays on its device); it is analysed in float32, as the
    build's batches. ``special``, ``punct``, ``word``: the tokens' arrays (``extract.tokens.Encoded``);
    ``coref_pairs``: the example's coreference pairs; ``q``/``k``: per layer the ``[1, n, H*d]`` projections
    (``extract.qk.QKCapture``) for the neuron view's vectors and error; ``viewer``: also quantise the
    attention and the rollout.
    """
    if isinstance(attention, np.ndarray):
        layers = [torch.from_numpy(np.ascontiguousarray(layer[None], dtype=np.float32)) for layer in attention]
    else:
        layers = [torch.as_tensor(layer).float() for layer in attention]
    special = np.asarray(special, dtype=bool)
    item = SimpleNamespace(n=int(special.size), special=special, punct=np.asarray(punct, dtype=bool),
                           word=np.asarray(word))
    heads = int(layers[0].shape[1])
    batch = Batch([item], layers, q, k, heads)
    return analyse_batch(batch, [list(coref_pairs)], [viewer], [q is not None], [False])[0]
