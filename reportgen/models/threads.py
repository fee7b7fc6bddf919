"""How many CPU threads torch runs model passes and analysis on.

torch starts with one thread per physical core it sees (or ``OMP_NUM_THREADS``). In a container that
count is often the host's while the container may use only a share of it (a CPU quota: cgroup
``cpu.max``, or ``cpu.cfs_quota_us`` in cgroup v1): 32 threads on a 2-CPU quota spend their time
waiting for each other. The budget below is the smallest of torch's own count, the CPUs this process
may run on (its affinity) and the quota, rounded up; ``--threads N`` sets it outright, and a thread count
set in the environment (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``) is left as the user set it.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def thread_budget(torch_default: int, affinity: int | None, quota: float | None) -> int:
    """The thread count to run with: ``min(torch_default, affinity, ceil(quota))``, at least 1.

    ``affinity``: CPUs the process may run on (None: unknown). ``quota``: CPUs' worth of time per
    period the cgroup allows (None: no limit).
    """
    budget = max(1, int(torch_default))
    if affinity:
        budget = min(budget, int(affinity))
    if quota is not None and quota > 0:
        budget = min(budget, max(1, math.ceil(quota)))
    return budget


def parse_quota(cpu_max: str | None = None, cfs_quota: str | None = None, cfs_period: str | None = None) -> float | None:
    """CPUs of a cgroup quota: from cgroup v2 ``cpu.max`` ("QUOTA PERIOD" or "max PERIOD") or cgroup v1
    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (quota -1: none). None when there is no limit or the text is not understood."""
    try:
        if cpu_max is not None:
            quota, period = cpu_max.split()[:2]
            return None if quota == "max" else int(quota) / int(period)
        if cfs_quota is not None and cfs_period is not None:
            quota_us, period_us = int(cfs_quota), int(cfs_period)
            return None if quota_us <= 0 or period_us <= 0 else quota_us / period_us
    except (ValueError, ZeroDivisionError):
        return None
    return None


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def cgroup_quota() -> float | None:
    """This process's CPU quota in CPUs (Linux cgroup v2, else v1); None elsewhere or without one."""
    quota = parse_quota(cpu_max=_read("/sys/fs/cgroup/cpu.max"))
    if quota is None:
        quota = parse_quota(cfs_quota=_read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
                            cfs_period=_read("/sys/fs/cgroup/cpu/cpu.cfs_period_us"))
    return quota


def set_threads(requested: int | None = None) -> int:
    """Set torch's intra-op thread count for this run and return it: ``requested`` when given, else the
    budget (never more than torch's own choice); an environment setting is kept."""
    import torch  # deferred: torch loads only when a model runs

    if requested is not None:
        torch.set_num_threads(requested)
    elif not any(os.environ.get(name) for name in ENV_VARS):
        affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        budget = thread_budget(torch.get_num_threads(), affinity, cgroup_quota())
        if budget != torch.get_num_threads():
            torch.set_num_threads(budget)
    return torch.get_num_threads()
