"""The split Hessian of the LMS-FIML engine (issue 11: faster standard errors).

``LMSEngine.hessian`` differences only the measurement entries of the gradient
for the columns of measurement parameters and takes their structural entries
from the structural columns by symmetry; these tests check it against the
plain Hessian (every column differenced in full, as the previous
implementation did) and the parallel columns against the serial ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckm_research.errors import CkmError
from ckm_research.moderation.lms import LMSModel, fit_lms
from ckm_research.moderation.lms_engine import LMSEngine
from ckm_research.sem.syntax import parse_model

DATA = Path(__file__).parent / "reference" / "data" / "oneInt.csv"
MODEL = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z\n"


@pytest.fixture(scope="module")
def engine():
    lms = LMSModel(parse_model(MODEL))
    d = pd.read_csv(DATA).iloc[:400]
    d = d.mask(np.random.default_rng(3).random(d.shape) < 0.10)
    x = d[list(lms.ov)].to_numpy(float)
    x = x[~np.isnan(x).all(axis=1)]
    e = LMSEngine(lms, x, nodes=3, quadrature="adaptive")
    e.estimate()
    return e


def _full_hessian(e, method):
    """Every column by differences of the whole gradient (the previous rule)."""
    th = e.theta
    q = len(th)
    H = np.zeros((q, q))
    g0 = e.loglik(th, gradient=True)[1]
    for j in range(q):
        h = (1e-5 if method == "central" else 1e-6) * max(1.0, abs(th[j]))
        tp = th.copy()
        tp[j] += h
        gp = e.loglik(tp, gradient=True)[1]
        if method == "central":
            tm = th.copy()
            tm[j] -= h
            H[:, j] = (gp - e.loglik(tm, gradient=True)[1]) / (2 * h)
        else:
            H[:, j] = (gp - g0) / h
    return 0.5 * (H + H.T)


def test_measurement_mask_and_partial_gradient(engine):
    mask = engine.measurement_mask
    # oneInt: 9 loadings (6 free), 9 residual variances, 9 intercepts are measurement
    assert mask.sum() == 24
    assert not mask[engine.model.n_base :].any()
    _, g = engine.loglik(engine.theta + 1e-3, gradient=True)
    _, gm = engine.loglik(engine.theta + 1e-3, gradient=True, measurement_only=True)
    np.testing.assert_allclose(gm[mask], g[mask], rtol=1e-12, atol=1e-9)
    assert np.all(gm[~mask] == 0)


@pytest.mark.parametrize("method", ["central", "forward"])
def test_split_hessian_matches_full(engine, method):
    ref = _full_hessian(engine, method)
    H = engine.hessian(method=method)
    se_ref = np.sqrt(np.diag(np.linalg.inv(-ref)))
    se = np.sqrt(np.diag(np.linalg.inv(-H)))
    np.testing.assert_allclose(se, se_ref, rtol=1e-4)
    np.testing.assert_allclose(H, ref, rtol=1e-3, atol=1e-3 * np.abs(ref).max())


def test_parallel_columns_same_numbers(engine):
    np.testing.assert_allclose(
        engine.hessian(method="forward", n_jobs=2),
        engine.hessian(method="forward", n_jobs=1),
        rtol=0,
        atol=0,
    )


def test_n_jobs_is_validated():
    with pytest.raises(CkmError, match="'n_jobs' parameter of fit_lms"):
        fit_lms(MODEL, pd.read_csv(DATA).iloc[:50], n_jobs=0)


@pytest.mark.parametrize("missing", [None, "ml"])
def test_engine_interface(missing):
    """The LMS engines answer the BaseEngine calls fit_lms builds its result from."""
    d = pd.read_csv(DATA).iloc[:300]
    if missing:
        d = d.mask(np.random.default_rng(5).random(d.shape) < 0.05)
    res = fit_lms(MODEL, d, missing=missing)
    eng = res.engine
    assert eng.label == res.estimator == "ML"
    assert eng.ntotal == res.n
    assert eng.fit_measures() == res.fit_measures
    tab = eng.estimates_table(res.vcov, 0.95).drop(columns=["free"])
    pd.testing.assert_frame_equal(tab, res.estimates)
    np.testing.assert_array_equal(eng.theta, res.theta)


def test_dense_engine_parallel_columns():
    """The complete-data engine's Hessian: central differences (numerics'
    numerical_jacobian) and forward differences shared by two processes."""
    res = fit_lms(MODEL, pd.read_csv(DATA).iloc[:300])
    eng = res.engine
    assert type(eng).__name__ == "DenseLMSEngine"
    np.testing.assert_array_equal(
        eng.hessian(method="forward", n_jobs=2), eng.hessian(method="forward", n_jobs=1)
    )
    Hc = eng.hessian(method="central")
    Hf = eng.hessian(method="forward")
    np.testing.assert_allclose(Hf, Hc, rtol=1e-3, atol=1e-4 * np.abs(Hc).max())
