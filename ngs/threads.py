"""The one thread limit of the model code: ``NGS_MODEL_THREADS`` (default 1), read on every call.

It caps torch's intra-op pool and the OpenMP/BLAS pools (threadpoolctl) of scikit-learn's gradient boosting
and numpy while a model trains or scores, inside dbt's process (ngs.dbt_glue wraps every Python model in it)
and in the command-line tools. Why 1: dbt runs two models at a time on a 2-core machine, and the pools
spin-wait for every core: a 26 s ghosting training took 314 s uncapped, the network's scoring batches ran
2-4x slower with 2 threads than with 1, an uncapped gradient-boosting fit on a few hundred passes ~100x
slower. The results do not depend on it (tests/test_glue.py scores one model with 1 and 2 threads).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

ENV = "NGS_MODEL_THREADS"


def model_threads() -> int:
    """``$NGS_MODEL_THREADS`` (a positive integer), default 1."""
    raw = os.environ.get(ENV, "1")
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{ENV}={raw!r}: give a positive number of threads")
    return n


@contextmanager
def limited_threads(n: int | None = None) -> Iterator[int]:
    """Cap torch's and the OpenMP/BLAS pools at ``n`` (default :func:`model_threads`) inside the block, and
    restore them after it. Yields the limit."""
    import torch
    from threadpoolctl import threadpool_limits

    n = model_threads() if n is None else n
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield n
    finally:
        torch.set_num_threads(before)


__all__ = ["ENV", "limited_threads", "model_threads"]
