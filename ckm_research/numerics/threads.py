"""One BLAS thread while fitting (the one home of the limit).

The engines multiply many small matrices; multithreaded OpenBLAS/MKL runs
them slower (10-20 times for LMS on a busy machine), and worker processes
would oversubscribe the cores.  :func:`single_thread_blas` limits BLAS through
:mod:`threadpoolctl` (a dependency of scikit-learn's stack; without it the
context does nothing).

``threadpoolctl.threadpool_limits`` finds the BLAS libraries by walking every
shared library the process has loaded, about 2-5 ms a call, which every fit
paid (10 % of fitting the Holzinger-Swineford CFA). The temporary limit keeps
the ``threadpoolctl.ThreadpoolController`` that walk produces and walks again
only when modules have been imported since (a new extension module may bring
its own BLAS, e.g. scipy's beside numpy's); setting and restoring the limit
then costs microseconds.
"""

from __future__ import annotations

import contextlib
import sys
import threading

__all__ = ["single_thread_blas"]

_LOCK = threading.Lock()
_PERSISTENT = False
_CACHE: dict[str, object] = {}


def _controller():
    """The cached ``ThreadpoolController`` (walked again when modules were imported)."""
    from threadpoolctl import ThreadpoolController

    n_modules = len(sys.modules)
    with _LOCK:
        if _CACHE.get("n_modules") != n_modules:
            _CACHE["controller"] = ThreadpoolController()
            _CACHE["n_modules"] = n_modules
        return _CACHE["controller"]


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
        return _controller().limit(limits=1, user_api="blas")
    if not _PERSISTENT:
        with _LOCK:
            if not _PERSISTENT:
                threadpool_limits(limits=1, user_api="blas")
                _PERSISTENT = True
    return contextlib.nullcontext()
