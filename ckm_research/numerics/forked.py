"""Columns of a numerical Hessian shared between forked processes.

A Hessian by differences of an analytic gradient needs one (forward) or two
(central) gradients per parameter, independent of each other: the LMS engines
and the FIML engine of a large model (the CKM moderation model: 878 free
parameters) spend most of their time there.  The columns are split between
forked processes, which share the engine's arrays copy-on-write (the
gradient closures cannot be pickled, so fork only); every column is computed
exactly as in one process, so the numbers do not depend on the number of
processes.
"""

from __future__ import annotations

__all__ = ["default_jobs", "forked_sum"]

_TASK = None


def _run_task(i):
    fun, chunks = _TASK
    return fun(*chunks[i])


def forked_sum(fun, chunks):
    """Sum of ``fun(*chunk)`` over ``chunks``, one forked process per chunk.

    Falls back to one process where fork is not available.

    Examples
    --------
    >>> import numpy as np
    >>> forked_sum(lambda a: np.array([a, a * a]), [(1.0,), (2.0,)])
    array([3., 5.])
    """
    import multiprocessing as mp

    global _TASK
    if "fork" not in mp.get_all_start_methods() or len(chunks) < 2:
        return sum(fun(*c) for c in chunks)
    _TASK = (fun, chunks)
    try:
        with mp.get_context("fork").Pool(len(chunks)) as pool:
            parts = pool.map(_run_task, range(len(chunks)))
    finally:
        _TASK = None
    return sum(parts)


def default_jobs(n_free: int, threshold: int = 60) -> int:
    """Processes for a Hessian of ``n_free`` parameters by default: 2 above
    ``threshold`` parameters where forking is possible and useful (POSIX, at
    least 2 cores, not inside a daemonic worker such as a bootstrap's), else 1.

    Examples
    --------
    >>> default_jobs(10)
    1
    """
    import multiprocessing as mp
    import os

    if n_free <= threshold or "fork" not in mp.get_all_start_methods():
        return 1
    if mp.current_process().daemon:  # a daemonic worker may not have children
        return 1
    return 2 if (os.cpu_count() or 1) >= 2 else 1
