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


# ------------------------------------------- numerics.bfgs (the LMS/QML optimiser)
def test_bfgs_rosenbrock_minimum():
    """BFGS reaches the closed-form minimum (1, 1) of the Rosenbrock function."""
    from ckm_research.numerics import bfgs

    def fg(x):
        a, b = x
        f = (1 - a) ** 2 + 100 * (b - a * a) ** 2
        return f, np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])

    res = bfgs(fg, np.array([-1.2, 1.0]), np.eye(2), max_iter=500, gtol=1e-9)
    assert res.status == "converged"
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-6)
    assert np.max(np.abs(res.state)) < 1e-6
    # the returned inverse Hessian approximates the inverse of the exact Hessian there
    H = np.array([[802.0, -400.0], [-400.0, 200.0]])
    np.testing.assert_allclose(res.hess_inv @ H, np.eye(2), atol=0.2)


def test_bfgs_backs_off_from_inadmissible_points():
    """f(x) = x - log x is defined for x > 0 only (``(inf, None)`` elsewhere, as the
    LMS objective outside positive-definite models); from x = 3 with a far too large
    initial inverse Hessian the first trial steps leave the domain and are halved
    back; the minimum is x = 1.  A start outside the domain is reported, not raised."""
    from ckm_research.numerics import bfgs

    calls = {"inf": 0}

    def fg(x):
        if x[0] <= 0:
            calls["inf"] += 1
            return np.inf, None
        return x[0] - np.log(x[0]), np.array([1.0 - 1.0 / x[0]])

    res = bfgs(fg, np.array([3.0]), np.array([[100.0]]), max_iter=200, gtol=1e-10)
    assert res.status == "converged"
    assert calls["inf"] > 0
    assert res.x[0] == pytest.approx(1.0, abs=1e-8)
    assert bfgs(fg, np.array([-1.0]), np.eye(1)).status == "not_admissible"
