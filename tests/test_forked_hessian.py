"""The columns of a numerical Hessian in forked processes give the same numbers
(ckm_research.numerics.forked; used by the FIML engine of large models and by LMS)."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest

from ckm_research.numerics import numerical_hessian
from ckm_research.numerics.forked import default_jobs, forked_sum

needs_fork = pytest.mark.skipif(
    "fork" not in mp.get_all_start_methods(), reason="no fork on this platform"
)


@needs_fork
def test_forked_hessian_equals_one_process():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(7, 7))
    A = A @ A.T

    def grad(t):  # gradient of 0.5 t'At + sum(t^4)/4
        return A @ t + t**3

    theta = rng.normal(size=7)
    H1 = numerical_hessian(grad, theta, 1e-5)
    H2 = numerical_hessian(grad, theta, 1e-5, n_jobs=2)
    np.testing.assert_array_equal(H1, H2)
    np.testing.assert_allclose(H1, A + np.diag(3 * theta**2), atol=1e-6)


@needs_fork
def test_forked_sum_adds_the_chunks():
    out = forked_sum(lambda a, b: np.array([a * b]), [(2.0, 3.0), (4.0, 5.0)])
    np.testing.assert_array_equal(out, [26.0])


def test_default_jobs_small_models_stay_in_process():
    assert default_jobs(10) == 1
    assert default_jobs(149, threshold=150) == 1


@needs_fork
def test_fiml_observed_information_same_with_two_processes(monkeypatch):
    """The FIML engine's observed information (the SEs' basis) with the columns in
    two forked processes equals the one-process matrix to the last digit."""
    from ckm_research import fit
    from ckm_research.data.examples import load_dataset
    from ckm_research.sem import fiml

    hs = load_dataset("HolzingerSwineford1939")
    cols = [f"x{i}" for i in range(1, 10)]
    data = hs[cols].copy()
    data.iloc[::7, 0] = np.nan
    data.iloc[::5, 4] = np.nan
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    res = fit(model, data, estimator="FIML")
    engine = res.engine
    one = engine.observed_information()
    monkeypatch.setattr(fiml, "default_jobs", lambda n, threshold=150: 2)
    two = engine.observed_information()
    np.testing.assert_array_equal(one, two)
