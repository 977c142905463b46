"""The ML optimiser's structured BFGS correction of the expected information (issue 10).

References are closed-form: the secant condition of the BFGS update (Nocedal &
Wright, 2006, eq. 6.19), the minimiser of a quadratic, and a zero gradient at the
ML minimum of the Holzinger-Swineford CFA (whose lavaan 0.6.14 estimates the
fixture tests compare with).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ckm_research
from ckm_research.numerics import minimize, structured_bfgs
from ckm_research.sem.ml import fit_ml, ml_discrepancy

HS_CSV = Path(__file__).parent / "reference" / "data" / "HolzingerSwineford1939.csv"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def _spd(rng, n, scale=1.0):
    m = rng.normal(size=(n, n))
    return scale * (m @ m.T / n + np.eye(n))


def test_structured_bfgs_secant_condition_and_known_part():
    rng = np.random.default_rng(1)
    A, E = _spd(rng, 5), _spd(rng, 5, 0.5)
    s = rng.normal(size=5)
    y = (A + E) @ s
    B, C = structured_bfgs(A, None, s, y)
    assert np.allclose(B @ s, y, rtol=1e-12, atol=1e-12)
    assert np.allclose(B - C, A, atol=1e-14)
    np.linalg.cholesky(B)  # positive definite
    # a second update starts from the new known part plus the carried correction
    A2 = _spd(rng, 5)
    s2 = rng.normal(size=5)
    y2 = (A2 + E) @ s2
    B2, C2 = structured_bfgs(A2, C, s2, y2)
    assert np.allclose(B2 @ s2, y2, rtol=1e-12, atol=1e-12)
    assert np.allclose(B2 - C2, A2, atol=1e-13)


def test_structured_bfgs_refuses_negative_curvature():
    A = np.eye(3)
    s = np.array([1.0, 0.0, 0.0])
    assert structured_bfgs(A, None, s, -s) == (None, None)


def _quadratic_iterations(correct: bool):
    """Minimise 0.5 x'(A+E)x - b'x with the 'known part' A as Hessian, with or without
    the structured BFGS correction; returns (x, iterations, closed-form minimiser)."""
    rng = np.random.default_rng(7)
    n = 8
    A, E = _spd(rng, n), _spd(rng, n, 0.8)
    b = rng.normal(size=n)
    H = A + E
    state = {"C": None, "g": None}

    def fun(x):
        return 0.5 * x @ H @ x - b @ x, H @ x - b

    def direction(x, f, g, it, s):
        B = A
        if correct and s is not None:
            Bq, state["C"] = structured_bfgs(A, state["C"], s, g - state["g"])
            B = A if Bq is None else Bq
        state["g"] = g
        d = -np.linalg.solve(B, g)
        return d, float(g @ d)

    res = minimize(fun, np.zeros(n), direction, ftol=1e-14, xtol=1e-10, max_iter=500)
    return res.x, res.nit, np.linalg.solve(H, b)


def test_correction_turns_linear_convergence_superlinear_on_a_quadratic():
    x_plain, it_plain, xstar = _quadratic_iterations(False)
    x_bfgs, it_bfgs, _ = _quadratic_iterations(True)
    assert np.max(np.abs(x_bfgs - xstar)) < 1e-8
    assert np.max(np.abs(x_plain - xstar)) < 1e-6
    # BFGS with exact line searches ends a quadratic in at most n steps (Nocedal & Wright
    # thm 6.4); with unit steps it is still far quicker than the linear scoring iteration
    assert it_bfgs < it_plain


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_hs_ml_minimum_is_stationary_in_few_iterations(estimator):
    hs = pd.read_csv(HS_CSV)
    res = ckm_research.fit(HS_MODEL, hs, estimator=estimator)
    eng = res.engine
    moments = [gd.moments for gd in eng.groups]
    grad = ml_discrepancy(eng.model, eng.theta, moments)[1]
    assert np.max(np.abs(grad)) < 1e-6
    # plain Fisher scoring needed 30 iterations (linear convergence: chi-square 85 on
    # 24 df); the correction makes it superlinear
    assert eng.iterations <= 15
    theta, fmin, it = fit_ml(eng.model, moments)
    assert it == eng.iterations and fmin == pytest.approx(eng.fmin, abs=1e-14)
