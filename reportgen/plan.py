"""Planning: what each model runs and keeps, decided from the manifest and the build options alone.

Nothing here runs a model or writes a file; only shard selection loads a tokenizer (to cut the batches a
full build would cut). The build (``pipeline``), the up-to-date check
(``incremental``), export (``export``) and the page writers (``render``) all ask these questions here, so
they cannot disagree:

- which examples a model runs (``examples_for``) and which get viewer pages (``shown_slugs``);
- which models take part in a model diff (``diff_members``);
- a record's cache key (``record_key``): everything that changes its bytes;
- which examples shard k of n computes (``in_shard``, ``shard_examples``);
- the dtype a model runs in (``model_dtype``) and the padded-token bound of its batches (``planned_max_tokens``).
"""
from __future__ import annotations

import zlib

from reportgen.extract.attention import plan_batches
from reportgen.extract.tokens import encode_all
from reportgen.models.load import load_tokenizer
from reportgen.models.memory import CPU_MAX_TOKENS, default_max_tokens
from reportgen.store.cache import MAGIC as ENTRY_MAGIC, cache_key
from reportgen.store.quantize import SCHEME
from reportgen.store.record import RECORD_VERSION


def examples_for(spec, examples) -> list:
    """The examples a model runs: all, or those in the model's ``languages`` (and, for a training run's
    checkpoints, among the run's ``examples``)."""
    chosen = getattr(spec, "examples", None)
    if chosen is not None:
        examples = [e for e in examples if e.id in chosen]
    if not spec.languages:
        return list(examples)
    return [e for e in examples if e.language in spec.languages]


def shown_slugs(manifest) -> set[str]:
    """Examples that get viewer pages: those with ``show`` (default true), the first ``display_limit``.

    Only these carry the heavy per-example data (quantised attention, rollout, q/k); every example
    counts in the scores.
    """
    shown = [e.slug for e in manifest.examples if getattr(e, "show", True)]
    return set(shown[: manifest.settings.display_limit])


def diff_members(manifest) -> set[str]:
    """Slugs of the models named by the manifest's ``diffs:``."""
    return {slug for d in getattr(manifest, "diffs", ()) for slug in (d.base, d.other)}


def model_dtype(spec, options) -> str:
    """The dtype a model runs in: its own ``dtype:`` from the manifest, else the build's ``--dtype``."""
    return getattr(spec, "dtype", None) or options.dtype


def record_key(revision: str, spec, example, settings, dtype: str, diff: bool = False) -> str:
    """Cache key of one record: everything that changes its content.

    ``diff``: the model is in a model diff (its records carry a float16 copy of the attention). The
    model's own ``dtype:`` (when the manifest sets one) replaces the build's ``dtype``; predictions are
    computed for examples with ``show`` (not for those beyond ``display_limit``: that setting only
    changes pages). Whether a record carries viewer data is not part of the key: a record without it
    is recomputed when its example gets viewer pages (see ``shown_slugs``).
    """
    return cache_key({
        "record": RECORD_VERSION, "entry": ENTRY_MAGIC.decode(), "quant": SCHEME, "model": spec.id, "revision": revision,
        "dtype": getattr(spec, "dtype", None) or dtype,
        "max_length": settings.max_length, "neuron": settings.neuron,
        "a": example.a, "b": example.b,
        "coref": [[p.pronoun.first, p.pronoun.last, p.antecedent_index,
                   [[c.first, c.last] for c in p.candidates]] for p in example.coref],
        "rollout": 1,
        "predictions": bool(getattr(settings, "predictions", True) and getattr(example, "show", True)),
        "diff_f16": bool(diff),
        "coref_back": 1,  # records carry each candidate word's attention to the pronoun (attention probe)
    })


def in_shard(model_id: str, example_id: str, shard: tuple[int, int] | None) -> bool:
    """Deterministic assignment of (model, example) work to shard k of n (crc32 of the pair)."""
    if shard is None:
        return True
    k, n = shard
    return zlib.crc32(f"{model_id}\0{example_id}".encode("utf-8")) % n == k - 1


def shard_examples(manifest, spec, examples: list, shard: tuple[int, int], max_tokens: int, base_dir) -> list:
    """The examples shard k of n computes: whole length batches, the very batches a full build runs.

    Batches are planned over all of the model's examples (this needs only the tokenizer) and each batch
    goes to shard ``crc32(model, first example) % n``. A record's bits then do not depend on the
    sharding: the same examples share its forward pass and its batched analysis.
    """

    tokenizer = load_tokenizer(spec.id, spec.revision, base_dir)
    lengths = [enc.n for enc in encode_all(tokenizer, spec.id, examples, manifest.settings.max_length)]
    chosen = set()
    for batch in plan_batches(lengths, max_tokens=max_tokens):
        if in_shard(spec.id, examples[batch[0]].id, shard):
            chosen.update(batch)
    return [e for i, e in enumerate(examples) if i in chosen]


def planned_max_tokens(options, loaded=None) -> int:
    """The batch bound of a model's run: ``--max-tokens``, else ``models.memory.default_max_tokens`` for the
    device. Shards always plan with the CPU default unless told: every shard, on whatever machine, must
    cut the same batches (a record's bits depend on its batch-mates)."""
    if options.max_tokens is not None:
        return options.max_tokens
    if options.shard is not None or options.merge_only or loaded is None:
        return CPU_MAX_TOKENS
    return default_max_tokens(options.device, loaded.layers, loaded.heads)
