"""The study's inference: bootstrap intervals of its effects and power at its estimates.

What the pipeline's notebooks (``04_structural``, ``06_power``) run, as public
functions a researcher can call the same way: :func:`bootstrap_defined`
(percentile bootstrap intervals of the ``:=`` effects of a fit) and
:func:`run_power` (Monte Carlo power with the fitted model as the population).
Each draws from its own random stream of the study seed (:func:`study_stream`),
so the bootstrap and the power simulation never share draws.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ckm_research.errors import CkmError

__all__ = ["SEED_STREAMS", "study_stream", "bootstrap_defined", "run_power"]

#: One random stream per use of the study seed: ``SeedSequence(seed, spawn_key=(k,))``
#: (numpy's ``spawn_key``, as ``SeedSequence(seed).spawn``'s k-th child), so the bootstrap
#: and the power simulation never share draws while each stays reproducible from the seed.
#: Within a use, replication ``i`` draws from child ``(k, i)`` (see
#: :func:`ckm_research.inference.parallel.spawn_seeds`).
SEED_STREAMS = {
    "bootstrap": 1,
    "power": 2,
    "moderation": 3,
    "power_interactions": 4,
    "validity": 5,  # HTMT and reliability bootstraps of the measurement stage
    "robustness": 6,  # the Gaussian copula bootstrap of the structural stage
}


def study_stream(seed: int, purpose: str) -> np.random.SeedSequence:
    """The random stream of one use (``purpose``, a key of :data:`SEED_STREAMS`) of the
    study seed: ``numpy.random.SeedSequence(seed, spawn_key=(SEED_STREAMS[purpose],))``."""
    if purpose not in SEED_STREAMS:
        raise CkmError(f"no random stream '{purpose}': one of {', '.join(SEED_STREAMS)}")
    return np.random.SeedSequence(int(seed), spawn_key=(SEED_STREAMS[purpose],))


def bootstrap_defined(
    model_text: str,
    data: pd.DataFrame,
    res,
    *,
    n_boot: int,
    seed: int,
    n_jobs: int,
    level: float,
    estimator: str,
    missing: str,
    boot_missing: str = "listwise",
    bootstrap_fn: Callable | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Percentile bootstrap intervals of the ``:=`` effects of a fit
    (:func:`ckm_research.inference.bootstrap`).

    The resamples draw from the study seed's ``"bootstrap"`` stream
    (:func:`study_stream`), never shared with the power simulation.

    With ``boot_missing="listwise"`` and a FIML fit, the resamples are drawn
    from the complete cases and refitted by ML from their moments (fast); the
    returned frame then also holds the complete-case estimate (``est``).
    With ``"ml"`` each resample is refitted by FIML (slow for large models).

    ``bootstrap_fn`` replaces :func:`ckm_research.inference.bootstrap` (the tests pass
    one that records its arguments).

    Returns
    -------
    (pandas.DataFrame, dict)
        ``name est se ci.lower ci.upper`` per defined effect, and what was done.
    """
    from ckm_research.structural.fitting import fit_options

    if bootstrap_fn is None:
        from ckm_research.inference.bootstrap import bootstrap as bootstrap_fn
    same = boot_missing == "ml" or missing == "listwise"
    if same:
        opts = fit_options(estimator, missing)
    else:
        opts = fit_options("ML" if estimator == "FIML" else estimator, "listwise")
    b = bootstrap_fn(
        model_text,
        data,
        n_boot=int(n_boot),
        random_state=study_stream(seed, "bootstrap"),
        n_jobs=int(n_jobs),
        level=float(level),
        ci="perc",
        bca=False,
        progress=False,
        result=res if same else None,
        **opts,
    )
    est = b.estimates[b.estimates["op"] == ":="]
    frame = pd.DataFrame(
        {
            "name": est["lhs"].to_numpy(),
            "est": est["est"].to_numpy(dtype=float),
            "se": est["se"].to_numpy(dtype=float),
            "ci.lower": est["perc.lower"].to_numpy(dtype=float),
            "ci.upper": est["perc.upper"].to_numpy(dtype=float),
        }
    )
    counts = b.counts()
    from ckm_research.sem.partable import variable_roles
    from ckm_research.sem.syntax import parse_model

    ov = [v for v in variable_roles(parse_model(model_text)).ov if v in data.columns]
    info = {
        "n_boot": int(n_boot),
        "converged": counts.get("converged"),
        "failed": int(counts["requested"] - counts.get("converged", 0)),
        "complete_cases": not same and bool(data[ov].isna().any().any()),
        "n": int(data[ov].notna().all(axis=1).sum()) if not same else int(res.n),
        "method": b.method,
        # which refit the resamples took, and why a full refit (BootstrapResult.path)
        "path": getattr(b, "path", ""),
        "path_reason": getattr(b, "path_reason", ""),
        "ci": "percentile",
        "seed": int(seed),
    }
    return frame, info


def run_power(
    sem_text: str,
    res,
    *,
    sample_sizes: list[int],
    reps: int,
    alpha: float,
    seed: int,
    n_jobs: int,
    power_fn: Callable | None = None,
):
    """Monte Carlo power at the estimated values (population = the fitted model).

    The population model fixes every parameter of ``res`` at its estimate
    (:func:`~ckm_research.sem.modelsyntax.population_syntax`); each sample is
    analysed with ``sem_text`` by ML
    (:func:`ckm_research.inference.power_analysis`).  The samples draw from the
    study seed's ``"power"`` stream (:func:`study_stream`), never shared with the
    bootstrap. ``power_fn`` replaces :func:`ckm_research.inference.power_analysis`
    (for tests).

    Returns
    -------
    (PowerResult, str)
        The power analysis and the population model's syntax.
    """
    from ckm_research.sem.modelsyntax import population_syntax
    from ckm_research.structural.admissibility import power_blocker

    if power_fn is None:
        from ckm_research.inference.power import power_analysis as power_fn

    if why := power_blocker(res):
        raise CkmError(why)
    population = population_syntax(res.estimates, header="Population: the fitted model's estimates")
    result = power_fn(
        population,
        list(sample_sizes),
        int(reps),
        analysis=sem_text,
        estimator="ML",
        alpha=float(alpha),
        random_state=study_stream(seed, "power"),
        n_jobs=int(n_jobs),
        progress=False,
    )
    return result, population
