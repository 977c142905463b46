"""One BLAS thread while fitting (the one home of the limit).

The engines multiply many small matrices; multithreaded OpenBLAS/MKL runs
them slower (10-20 times for LMS on a busy machine), and worker processes
would oversubscribe the cores.  :func:`single_thread_blas` limits BLAS through
:mod:`threadpoolctl` (a dependency of scikit-learn's stack; without it the
context does nothing).
"""

from __future__ import annotations

import contextlib
import threading

__all__ = ["single_thread_blas"]

_LOCK = threading.Lock()
_PERSISTENT = False


def single_thread_blas(persistent: bool = False):
    """Context manager holding BLAS to one thread.

    Parameters
    ----------
    persistent : bool
        Set the limit for good in this process and return a no-op context (for
        a worker process or a dask worker's threads, whose overlapping
        temporary limits would undo each other); set once per process.

    Examples
    --------
    >>> import numpy as np
    >>> with single_thread_blas():
    ...     float(np.ones((2, 2)) @ np.ones(2) @ np.ones(2))
    4.0
    """
    global _PERSISTENT
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return contextlib.nullcontext()
    if not persistent:
        return threadpool_limits(limits=1, user_api="blas")
    if not _PERSISTENT:
        with _LOCK:
            if not _PERSISTENT:
                threadpool_limits(limits=1, user_api="blas")
                _PERSISTENT = True
    return contextlib.nullcontext()
