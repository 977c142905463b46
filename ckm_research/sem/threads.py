"""One BLAS thread while fitting, at the cost of a context manager.

A SEM multiplies many small matrices, where BLAS threads only add overhead
(and threaded BLAS may sum in another order from run to run), so
:func:`~ckm_research.sem.api.fit` and the replication workers run on one BLAS
thread. ``threadpoolctl.threadpool_limits`` finds the BLAS libraries by walking
every shared library the process has loaded, about 2-5 ms a call, which every
fit paid (10 % of fitting the Holzinger-Swineford CFA). :func:`one_blas_thread`
keeps the ``threadpoolctl.ThreadpoolController`` that walk produces and walks
again only when modules have been imported since (a new extension module may
bring its own BLAS, e.g. scipy's beside numpy's); setting and restoring the
limit then costs microseconds.
"""

from __future__ import annotations

import sys
import threading

__all__ = ["one_blas_thread"]

_LOCK = threading.Lock()
_CACHE: dict[str, object] = {}


def _controller():
    from threadpoolctl import ThreadpoolController

    n_modules = len(sys.modules)
    with _LOCK:
        if _CACHE.get("n_modules") != n_modules:
            _CACHE["controller"] = ThreadpoolController()
            _CACHE["n_modules"] = n_modules
        return _CACHE["controller"]


def one_blas_thread():
    """A context manager limiting the BLAS libraries to one thread, restoring them on exit.

    The same as ``threadpoolctl.threadpool_limits(limits=1, user_api="blas")``.
    """
    return _controller().limit(limits=1, user_api="blas")
