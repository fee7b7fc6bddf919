"""How large a batch a device takes: the default ``max_tokens`` of a build.

On the CPU the default stays 4096 padded tokens per forward pass: there the forward pass dominates and
larger batches gain nothing. A GPU runs small batches far below its speed (a MiniLM batch of 32 short
examples is a few microseconds of work behind a few hundred kernel launches), so there the bound is
chosen from the device's free memory at the start of a model's run. With a few GB free the cap
applies (MiniLM: 2.6 GB, BERT-base: 4.4 GB of free memory reach it), so runs on the same kind of GPU
cut the same batches and a resumed build matches an uninterrupted one; on a nearly full GPU the bound
can change between runs, and with it the last bits of the scores (padding changes float rounding).
"""
from __future__ import annotations

CPU_MAX_TOKENS = 4096
GPU_MAX_TOKENS_CAP = 1 << 18  # our choice: beyond ~262k padded tokens a batch gained nothing we could measure
MEMORY_SHARE = 0.5  # our choice: half the free memory for one batch, the rest for the allocator's slack and other users


def batch_bytes_per_token(layers: int, heads: int) -> int:
    """Upper estimate of device bytes one token of ``max_tokens`` costs at the peak of a batch.

    ``plan_batches`` lets a batch hold up to 16 attention cells per head per token of ``max_tokens``;
    each cell is kept for every layer as float32 (4 bytes), a half-precision model's own copy adds 2,
    and the analysis of one layer at a time holds about four float32 temporaries (log, gather, argmax,
    float64 row sums): ``16 * heads * (6 * layers + 16)`` bytes.
    """
    return 16 * heads * (6 * layers + 16)


def default_max_tokens(device: str, layers: int, heads: int, free_bytes: int | None = None) -> int:
    """``max_tokens`` for a build that did not set one.

    CPU: ``CPU_MAX_TOKENS``. GPU: ``MEMORY_SHARE`` of the free memory (``free_bytes``, else asked from
    torch) over ``batch_bytes_per_token``, rounded down to a power of two (so small changes in free
    memory give the same batches), at least ``CPU_MAX_TOKENS``, at most ``GPU_MAX_TOKENS_CAP``.
    """
    import torch  # deferred: only devices other than the CPU need torch here

    kind = torch.device(device).type
    if kind == "cpu":
        return CPU_MAX_TOKENS
    if free_bytes is None:
        if kind != "cuda":
            return CPU_MAX_TOKENS
        free_bytes, _ = torch.cuda.mem_get_info(torch.device(device))
    fits = int(free_bytes * MEMORY_SHARE) // batch_bytes_per_token(max(layers, 1), max(heads, 1))
    if fits < CPU_MAX_TOKENS:
        return CPU_MAX_TOKENS
    return min(GPU_MAX_TOKENS_CAP, 1 << (fits.bit_length() - 1))
