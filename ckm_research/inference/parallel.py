"""One small execution layer for many independent replications.

Bootstrap resamples, jackknife deletions and Monte Carlo replications are all
"run ``task(i, rng_i)`` for ``i = 0 .. n - 1``".  :func:`run_replications` does
that serially, on local worker processes (forked on Linux, so they start in
milliseconds with the parent's imports; joblib's ``loky`` backend elsewhere) or
on a dask.distributed cluster, and yields the results **in index order** whatever
the order in which workers finish, so that anything accumulated from them is
bit-for-bit the same however the work was spread.

Reproducibility rests on three rules (the scikit-learn convention):

* every replication ``i`` draws from its own stream
  ``numpy.random.SeedSequence(seed).spawn(n)[i]`` (see :func:`spawn_seeds`), so
  its random numbers do not depend on which worker runs it or on what ran
  before (L'Ecuyer et al., 2017, "Random numbers for parallel computers");
* a replication starts from the same state (for example the full-sample
  estimates) wherever it runs;
* linear algebra runs on one BLAS thread in every mode (threaded BLAS may sum in
  another order), which is also fastest for the small matrices of a SEM.

Forked workers inherit the task, loky workers receive it with each chunk of
replications, a dask cluster once (``scatter``); a task may prepare expensive
state once per worker in :meth:`ReplicationTask.setup`.  Results stream back
chunk by chunk: nothing but the per-replication results is kept.

Why a fork pool and not joblib everywhere (issue 10 asked to move to joblib if
the benchmarks held within 10 %): joblib's ``loky`` backend (used here on macOS
and Windows, and on Linux with ``CKM_PARALLEL_BACKEND=loky``) starts fresh
interpreters, which import numpy, pandas and scipy again and unpickle the task,
and that start-up is paid by every ``ckm fit --bootstrap`` and every power
analysis.  Measured on the 2-core development machine, interleaved runs, 2 jobs
(load average 10-15 from other jobs, so only the ratios mean something):

====================================================  ============  ============
benchmark                                             fork (here)   joblib loky
====================================================  ============  ============
``bench_bootstrap.py``, 200 resamples of the CKM SEM  18.5, 23.6 s  40.6, 51.2 s
same, second call (loky reuses its workers)           21.1, 23.6 s  23.8, 25.4 s
``bench_power.py --reps 300`` (2 N x 300)             22.3, 20.1 s  42.1, 37.5 s
====================================================  ============  ============

loky is about twice as slow from cold, far outside 10 %.  joblib's
``multiprocessing`` backend forks too, but returns results only as a list at the
end (no ``generator`` return), so the progress bar and the streaming of results
would be lost.  The dask path uses ``distributed`` directly (``scatter`` the task
once, results as they complete); joblib's dask backend was not measured.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing as mp
import os
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ckm_research.errors import CkmError
from ckm_research.numerics import single_thread_blas

__all__ = [
    "ReplicationTask",
    "run_replications",
    "spawn_seeds",
    "resolve_n_jobs",
    "seed_sequence",
]


class ReplicationTask:
    """Base class of the work done per replication.

    Subclasses hold everything a replication needs (they are pickled to the
    workers) and implement :meth:`run`; :meth:`setup` builds state that is
    expensive to make and the same for every replication (compiled model
    matrices, ...), once per worker process.
    """

    def __init__(self) -> None:
        self.token = uuid.uuid4().hex

    def setup(self) -> Any:
        """State shared by the replications of one worker (default: ``None``)."""
        return None

    def run(self, state: Any, index: int, rng: np.random.Generator | None) -> Any:
        """The result of replication ``index`` (``rng`` is ``None`` for
        deterministic tasks such as the jackknife)."""
        raise NotImplementedError


# state prepared by ReplicationTask.setup, per worker process and thread (a dask
# worker may run several chunks at once in threads, and the state is mutable)
_WORKER_STATE: dict[tuple[str, int], Any] = {}
_MAX_CACHED_STATES = 8
_STATE_LOCK = threading.Lock()


def _state_for(task: ReplicationTask) -> Any:
    key = (task.token, threading.get_ident())
    with _STATE_LOCK:
        if key in _WORKER_STATE:
            return _WORKER_STATE[key]
    state = task.setup()
    with _STATE_LOCK:
        while len(_WORKER_STATE) >= _MAX_CACHED_STATES:
            _WORKER_STATE.pop(next(iter(_WORKER_STATE)))
        _WORKER_STATE[key] = state
    return state


def _run_chunk(
    task: ReplicationTask,
    start: int,
    seeds: Sequence[np.random.SeedSequence] | None,
    count: int,
    in_worker: bool = True,
) -> tuple[int, list]:
    """Run replications ``start .. start + count - 1``."""
    # one BLAS thread: for this call in the caller's process, for good in a worker (the
    # threads of a dask worker would undo each other's temporary limits)
    with single_thread_blas(persistent=in_worker):
        state = _state_for(task)
        out = []
        for k in range(count):
            rng = None if seeds is None else np.random.default_rng(seeds[k])
            out.append(task.run(state, start + k, rng))
    return start, out


def seed_sequence(random_state) -> np.random.SeedSequence:
    """The root :class:`numpy.random.SeedSequence` of a ``random_state``.

    ``None`` draws fresh entropy (recorded in ``.entropy`` so the run can be
    repeated); an int or a ``SeedSequence`` is used as given.
    """
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise CkmError(
                "The 'random_state' parameter must be None or an int in the range [0, inf). "
                f"Got {random_state!r} instead."
            )
        return np.random.SeedSequence(int(random_state))
    raise CkmError(
        "The 'random_state' parameter must be None, an int in the range [0, inf) or a "
        f"numpy.random.SeedSequence. Got {random_state!r} instead."
    )


def spawn_seeds(random_state, n: int) -> tuple[np.random.SeedSequence, list]:
    """Independent streams for ``n`` replications: ``SeedSequence(seed).spawn(n)``.

    Returns the root sequence (its ``entropy`` reproduces the run) and the
    ``n`` children.
    """
    root = seed_sequence(random_state)
    # spawn() advances the root's counter; spawn from a fresh copy so the same
    # root gives the same children however often it is used
    fresh = np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key)
    return root, fresh.spawn(n)


def _available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def resolve_n_jobs(n_jobs, caller: str = "run_replications") -> int:
    """Number of local worker processes: ``None`` or ``-1`` mean all cores."""
    if n_jobs is None:
        return _available_cpus()
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or (
        n_jobs < -1
    ):
        raise CkmError(
            f"The 'n_jobs' parameter of {caller} must be None, -1 or an int in the range "
            f"[1, inf). Got {n_jobs!r} instead."
        )
    return _available_cpus() if n_jobs == -1 else int(n_jobs)


def _progress_bar(total: int, desc: str, unit: str, progress):
    from tqdm.auto import tqdm

    show = sys.stderr.isatty() if progress is None else bool(progress)
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=not show,
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
        # replications done/total, elapsed<remaining, rate
        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]",
    )


def _chunks(n: int, workers: int, chunk_size: int | None) -> list[tuple[int, int]]:
    if chunk_size is None:
        # enough chunks to balance the load and move the progress bar, few enough
        # that shipping the task to the workers costs little
        chunk_size = max(1, min(64, math.ceil(n / (8 * max(1, workers)))))
    return [(s, min(chunk_size, n - s)) for s in range(0, n, chunk_size)]


def run_replications(
    task: ReplicationTask,
    n: int,
    *,
    seeds: Sequence[np.random.SeedSequence] | None = None,
    n_jobs: int | None = None,
    scheduler=None,
    progress: bool | None = None,
    desc: str = "",
    unit: str = "rep",
    chunk_size: int | None = None,
) -> Iterator[tuple[int, Any]]:
    """Run ``task`` for replications ``0 .. n - 1``; yield ``(i, result)`` in order.

    Parameters
    ----------
    task : ReplicationTask
    n : int
        Number of replications.
    seeds : sequence of numpy.random.SeedSequence, optional
        One per replication (from :func:`spawn_seeds`); replication ``i`` gets
        ``numpy.random.default_rng(seeds[i])``. ``None`` for deterministic tasks.
    n_jobs : int, optional
        Local worker processes; ``None`` or ``-1``: all cores; ``1``: run in
        this process.
    scheduler : str, distributed.Client or cluster, optional
        The address of a dask.distributed scheduler (``"tcp://host:8786"``), a
        connected ``Client`` or a cluster object (``LocalCluster``); then
        ``n_jobs`` is ignored and the cluster's workers do the work (they need
        ckm-research installed).
    progress : bool, optional
        Show a progress bar (replications done, rate, time left) on stderr;
        ``None``: only when stderr is a terminal.
    desc, unit : str
        Label and unit of the progress bar.
    chunk_size : int, optional
        Replications per unit of work sent to a worker.

    Yields
    ------
    (int, object)
        The replication index and what ``task.run`` returned, in index order.

    Examples
    --------
    >>> class MeanOfTen(ReplicationTask):
    ...     def run(self, state, index, rng):
    ...         return float(rng.normal(size=10).mean())
    >>> root, seeds = spawn_seeds(2024, 4)
    >>> [(i, round(m, 3)) for i, m in run_replications(MeanOfTen(), 4, seeds=seeds, n_jobs=1)]
    [(0, -0.046), (1, 0.256), (2, -0.15), (3, -0.067)]

    In R: ``parallel::mclapply`` with ``RNGkind("L'Ecuyer-CMRG")`` streams.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise CkmError(f"The number of replications must be an int >= 0. Got {n!r} instead.")
    if seeds is not None and len(seeds) != n:
        raise CkmError(f"run_replications needs one seed per replication ({n}); got {len(seeds)}")
    if n == 0:
        return
    if scheduler is not None:
        yield from _run_dask(task, n, seeds, scheduler, progress, desc, unit, chunk_size)
        return
    workers = resolve_n_jobs(n_jobs)
    chunks = _chunks(n, workers, chunk_size)
    if workers == 1 or len(chunks) == 1:
        with _progress_bar(n, desc, unit, progress) as bar:
            for start, count in chunks:
                _, out = _run_chunk(task, start, _slice(seeds, start, count), count, False)
                bar.update(count)
                yield from enumerate(out, start)
        return
    if _local_backend() == "fork":
        yield from _run_forked(task, chunks, seeds, min(workers, len(chunks)),
                               lambda: _progress_bar(n, desc, unit, progress))  # fmt: skip
        return
    from joblib import Parallel, delayed

    parallel = Parallel(
        n_jobs=min(workers, len(chunks)),
        backend="loky",
        return_as="generator_unordered",
        batch_size=1,
        pre_dispatch="2*n_jobs",
    )
    jobs = (
        delayed(_run_chunk)(task, start, _slice(seeds, start, count), count)
        for start, count in chunks
    )
    with _progress_bar(n, desc, unit, progress) as bar:
        yield from _in_order(parallel(jobs), bar)


def _local_backend() -> str:
    """``fork`` on Linux (workers start in milliseconds with the parent's imports
    and the task already in memory), joblib's ``loky`` elsewhere; the environment
    variable ``CKM_PARALLEL_BACKEND=loky|fork`` overrides."""
    choice = os.environ.get("CKM_PARALLEL_BACKEND", "").strip().lower()
    if choice in ("loky", "fork"):
        return choice
    if sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods():
        return "fork"
    return "loky"


# tasks handed to forked workers through the parent's memory, by token
_FORKED: dict[str, ReplicationTask] = {}


def _run_forked_chunk(args) -> tuple[int, list]:
    token, start, seeds, count = args
    return _run_chunk(_FORKED[token], start, seeds, count, True)


def _run_forked(task, chunks, seeds, workers, make_bar) -> Iterator[tuple[int, Any]]:
    _FORKED[task.token] = task
    try:
        # the pool forks all its workers here, before its own threads and the
        # progress bar's start
        with mp.get_context("fork").Pool(processes=workers) as pool, make_bar() as bar:
            jobs = ((task.token, start, _slice(seeds, start, count), count)
                    for start, count in chunks)  # fmt: skip
            yield from _in_order(pool.imap_unordered(_run_forked_chunk, jobs), bar)
    finally:
        _FORKED.pop(task.token, None)


def _slice(seeds, start, count):
    return None if seeds is None else list(seeds[start : start + count])


def _in_order(chunk_results, bar) -> Iterator[tuple[int, Any]]:
    """Yield chunk results by replication index, buffering early arrivals."""
    pending: dict[int, list] = {}
    nxt = 0
    for start, out in chunk_results:
        bar.update(len(out))
        pending[start] = out
        while nxt in pending:
            block = pending.pop(nxt)
            yield from enumerate(block, nxt)
            nxt += len(block)
    if pending:  # pragma: no cover - would mean a lost chunk
        raise RuntimeError("run_replications: some replications did not come back")


def _run_dask(task, n, seeds, scheduler, progress, desc, unit, chunk_size):
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - a dependency
        raise CkmError(
            "running on a dask cluster needs dask.distributed: pip install 'dask[distributed]'"
        ) from None
    if not isinstance(scheduler, str) and not hasattr(scheduler, "submit"):
        scheduler = getattr(scheduler, "scheduler_address", scheduler)  # a LocalCluster
    own = isinstance(scheduler, str)
    if own:
        try:
            client = Client(scheduler, timeout="20s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise CkmError(
                f"cannot connect to the dask scheduler at {scheduler}: {exc}. Check the "
                "address (tcp://HOST:PORT) and that the scheduler is running."
            ) from None
    else:
        client = scheduler
    try:
        workers = max(1, sum(client.nthreads().values()))
        chunks = _chunks(n, workers, chunk_size)
        [task_future] = client.scatter([task], broadcast=True, hash=False)
        futures = [
            client.submit(
                _run_chunk, task_future, start, _slice(seeds, start, count), count, pure=False
            )
            for start, count in chunks
        ]
        completed = as_completed(futures, loop=client.loop)
        del futures  # as_completed holds them until they are done, then lets go

        def results():
            for fut in completed:
                out = fut.result()
                fut.release()
                yield out

        with _progress_bar(n, desc, unit, progress) as bar:
            yield from _in_order(results(), bar)
    finally:
        if own:
            client.close()
        elif "completed" in locals():  # stopped early: leave the cluster idle
            with contextlib.suppress(Exception):
                client.cancel(list(completed.futures))
