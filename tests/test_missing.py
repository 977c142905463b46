"""Tests of ckm_research.sem.missing (FIML core) against lavaan 0.6.14 and brute force.

The fixtures ``tests/reference/json/missing_*.json`` and their data
(``tests/reference/data/missing_*.csv``) are written by
``tests/reference/R/missing.R``; these tests do not need R.

Tolerances, per quantity (observed agreement in brackets):

* casewise/total log-likelihood, gradient, scores and h1 information matrices
  at given moments vs lavaan's internal functions: 1e-10 relative to the
  largest entry [1e-13];
* EM (h1) moments vs lavaan's ``sampstat.h1`` (its EM stops at an absolute
  change of 1e-5): 1e-4 absolute [3e-6]; vs lavaan's EM run to tol = 1e-13:
  1e-7 absolute [5e-10];
* h1 log-likelihood vs lavaan's ``unrestricted.logl``: 1e-6 relative
  [3e-12];
* against brute force (scipy's multivariate normal per row; central
  differences of the log-likelihood and of the analytic gradient;
  explicit duplication and Kronecker matrices): 1e-9 to 1e-6, as stated
  in each test.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ckm_research.errors import CkmError, CkmWarning, DataError
from ckm_research.sem.missing import (
    EMResult,
    MissingPatterns,
    em_saturated,
    fiml_casewise_loglik,
    fiml_casewise_scores,
    fiml_gradient,
    fiml_information_h1,
    fiml_loglik,
    fiml_loglik_gradient,
)
from ckm_research.sem.model import vech_indices

REF = Path(__file__).parent / "reference"
FIXTURES = ["hs", "sim20"]


# --------------------------------------------------------------------------- helpers
def _num(x) -> np.ndarray:
    """A JSON array from R as floats (jsonlite writes NA as the string "NA")."""
    return np.array(
        [[np.nan if v == "NA" else v for v in row] for row in x]
        if x and isinstance(x[0], list)
        else [np.nan if v == "NA" else v for v in x],
        dtype=float,
    )


def _close(a, b, rel: float) -> None:
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = max(1.0, float(np.max(np.abs(b))))
    np.testing.assert_allclose(a, b, rtol=0, atol=rel * scale)


def _duplication(p: int) -> np.ndarray:
    """D_p with lavaan's vech order: vec(A) = D vech(A) for symmetric A."""
    ri, ci = vech_indices(p)
    d = np.zeros((p * p, ri.size))
    for u, (i, j) in enumerate(zip(ri, ci, strict=True)):
        d[i + j * p, u] = 1.0
        d[j + i * p, u] = 1.0
    return d


def _unvech(x: np.ndarray, p: int) -> np.ndarray:
    ri, ci = vech_indices(p)
    s = np.zeros((p, p))
    s[ri, ci] = x
    s[ci, ri] = x
    return s


def _brute_loglik(y: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    out = []
    for row in y:
        o = ~np.isnan(row)
        if o.any():
            out.append(stats.multivariate_normal(mu[o], sigma[np.ix_(o, o)]).logpdf(row[o]))
    return np.array(out)


@pytest.fixture(scope="module")
def small():
    """p = 7, n = 90, 25% missing, with a complete case, an empty case, cases
    observing one or two variables (more than half missing: the direct
    branch) and a repeated pattern."""
    rng = np.random.default_rng(11)
    p, n = 7, 90
    a = rng.standard_normal((p, p))
    sigma = a @ a.T / p + np.eye(p)
    mu = rng.normal(3.0, 1.0, p)
    y = rng.multivariate_normal(mu, sigma, size=n)
    y[rng.random((n, p)) < 0.25] = np.nan
    y[0] = rng.multivariate_normal(mu, sigma)  # complete
    y[1] = np.nan  # empty
    y[2, :] = np.nan
    y[2, 4] = 2.0  # one observed value
    y[3, :] = np.nan
    y[3, [0, 6]] = [1.0, 5.0]
    y[4:10] = y[4]  # repeated pattern (and values)
    y[4:10, 1] = rng.normal(size=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CkmWarning)
        pats = MissingPatterns.from_data(y)
    # moments away from the ML estimates, so that the gradient is not zero
    return {"y": y, "pats": pats, "mu": mu + 0.3, "sigma": 1.2 * sigma + 0.1}


# ------------------------------------------------------------------- MissingPatterns
def test_patterns_basic(small):
    pats, y = small["pats"], small["y"]
    assert pats.n_rows == y.shape[0]
    assert pats.n_empty == 1 and list(pats.empty_rows) == [1]
    assert pats.n_cases == y.shape[0] - 1
    assert 1 not in pats.rows
    np.testing.assert_array_equal(pats.data, y[pats.rows])
    np.testing.assert_array_equal(pats.observed, ~np.isnan(y[pats.rows]))
    # patterns: distinct, each case's mask is its pattern's
    assert len({tuple(m) for m in pats.masks}) == pats.n_patterns
    np.testing.assert_array_equal(pats.masks[pats.case_pattern], pats.observed)
    assert pats.freq.sum() == pats.n_cases
    np.testing.assert_array_equal(np.bincount(pats.case_pattern), pats.freq)
    assert pats.n_observed == int((~np.isnan(y)).sum())
    assert not pats.data.flags.writeable and not pats.masks.flags.writeable


def test_pattern_statistics(small):
    pats = small["pats"]
    for k in range(pats.n_patterns):
        rows = pats.data[pats.case_pattern == k]
        idx, mean, cov = pats.pattern_moments(k)
        np.testing.assert_array_equal(idx, np.flatnonzero(pats.masks[k]))
        obs = rows[:, idx]
        np.testing.assert_allclose(mean, obs.mean(axis=0), rtol=1e-13)
        assert np.all(np.isnan(pats.means[k, ~pats.masks[k]]))
        c = obs - obs.mean(axis=0)
        np.testing.assert_allclose(pats.scatter[k], c.T @ c, atol=1e-12)
        np.testing.assert_allclose(cov, c.T @ c / len(obs), atol=1e-12)
    assert any(f > 1 for f in pats.freq)
    o = (~np.isnan(pats.data)).astype(float)
    np.testing.assert_allclose(pats.coverage, o.T @ o / pats.n_cases)


def test_patterns_from_dataframe_and_warning():
    df = pd.DataFrame({"a": [1.0, np.nan, 3.0, 2.0], "b": [np.nan, np.nan, 1.0, 0.5]})
    with pytest.warns(CkmWarning, match="1 case"):
        pats = MissingPatterns.from_data(df)
    assert pats.names == ("a", "b")
    assert pats.n_cases == 3 and list(pats.empty_rows) == [1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MissingPatterns.from_data(df, warn=False)


@pytest.mark.parametrize(
    "data, match",
    [
        (np.array([1.0, 2.0, 3.0]), "2-D"),
        (np.array([[1.0, np.inf], [2.0, 3.0]]), "infinite"),
        (np.full((3, 2), np.nan), "Every case is empty"),
        (np.array([[1.0, np.nan], [2.0, np.nan]]), "no observed value"),
        (pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}), "not numeric"),
        (np.array([["a", "b"]]), "non-numeric"),
        (np.zeros((0, 3)), "no cases"),
    ],
)
def test_patterns_bad_data(data, match):
    with pytest.raises(DataError, match=match):
        MissingPatterns.from_data(data)


def test_pattern_moments_bad_index(small):
    with pytest.raises(DataError, match="pattern_moments"):
        small["pats"].pattern_moments(small["pats"].n_patterns)


# --------------------------------------------------------------- likelihood, gradient
def test_loglik_brute_force(small):
    y, pats, mu, sigma = small["y"], small["pats"], small["mu"], small["sigma"]
    brute = _brute_loglik(y, mu, sigma)
    np.testing.assert_allclose(fiml_casewise_loglik(pats, mu, sigma), brute, rtol=1e-12)
    np.testing.assert_allclose(fiml_loglik(pats, mu, sigma), brute.sum(), rtol=1e-12)
    # the raw data are accepted too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CkmWarning)
        np.testing.assert_allclose(fiml_loglik(y, mu, sigma), brute.sum(), rtol=1e-12)


def test_loglik_complete_data():
    rng = np.random.default_rng(2)
    y = rng.standard_normal((40, 4))
    mu, sigma = np.full(4, 0.1), np.eye(4) + 0.2
    expected = stats.multivariate_normal(mu, sigma).logpdf(y).sum()
    np.testing.assert_allclose(fiml_loglik(y, mu, sigma), expected, rtol=1e-12)


def test_gradient_finite_differences(small):
    pats, mu, sigma = small["pats"], small["mu"], small["sigma"]
    p = pats.n_vars
    ll, g_mu, g_sigma = fiml_loglik_gradient(pats, mu, sigma)
    np.testing.assert_allclose(ll, fiml_loglik(pats, mu, sigma), rtol=1e-14)
    g2 = fiml_gradient(pats, mu, sigma)
    np.testing.assert_array_equal(g2[0], g_mu)
    np.testing.assert_array_equal(g2[1], g_sigma)
    np.testing.assert_allclose(g_sigma, g_sigma.T, atol=1e-12)
    h = 1e-5
    for j in range(p):
        e = np.zeros(p)
        e[j] = h
        fd = (fiml_loglik(pats, mu + e, sigma) - fiml_loglik(pats, mu - e, sigma)) / (2 * h)
        np.testing.assert_allclose(g_mu[j], fd, rtol=1e-6, atol=1e-6)
    # G treats the elements of Sigma as independent: a symmetric perturbation
    # of sigma_ij and sigma_ji changes the log-likelihood by G_ij + G_ji
    for i, j in [(0, 0), (3, 3), (2, 5), (6, 0), (4, 1)]:
        e = np.zeros((p, p))
        e[i, j] = e[j, i] = h
        fd = (fiml_loglik(pats, mu, sigma + e) - fiml_loglik(pats, mu, sigma - e)) / (2 * h)
        expected = g_sigma[i, j] + g_sigma[j, i] if i != j else g_sigma[i, i]
        np.testing.assert_allclose(expected, fd, rtol=1e-6, atol=1e-6)


def test_not_positive_definite(small):
    pats, mu = small["pats"], small["mu"]
    bad = np.eye(pats.n_vars)
    bad[0, 1] = bad[1, 0] = 1.5
    assert fiml_loglik(pats, mu, bad) == -np.inf
    assert fiml_loglik(pats, mu, np.full_like(bad, np.nan)) == -np.inf
    for fun in (fiml_gradient, fiml_casewise_scores, fiml_casewise_loglik):
        with pytest.raises(CkmError, match="not positive definite"):
            fun(pats, mu, bad)
    with pytest.raises(CkmError, match="not positive definite"):
        fiml_information_h1(pats, mu, bad)


def test_bad_moment_shapes(small):
    pats = small["pats"]
    p = pats.n_vars
    with pytest.raises(DataError, match="mu has"):
        fiml_loglik(pats, np.zeros(p + 1), np.eye(p))
    with pytest.raises(DataError, match="sigma has shape"):
        fiml_loglik(pats, np.zeros(p), np.eye(p - 1))
    asym = np.eye(p)
    asym[0, 1] = 0.5
    with pytest.raises(DataError, match="not symmetric"):
        fiml_loglik(pats, np.zeros(p), asym)
    with pytest.raises(CkmError, match="'information' parameter"):
        fiml_information_h1(pats, np.zeros(p), np.eye(p), information="hessian")


# ----------------------------------------------------------------- scores, information
def test_scores_sum_to_gradient(small):
    pats, mu, sigma = small["pats"], small["mu"], small["sigma"]
    p = pats.n_vars
    sc = fiml_casewise_scores(pats, mu, sigma)
    assert sc.shape == (pats.n_cases, p + p * (p + 1) // 2)
    g_mu, g_sigma = fiml_gradient(pats, mu, sigma)
    ri, ci = vech_indices(p)
    g_vech = _duplication(p).T @ g_sigma.reshape(-1, order="F")
    np.testing.assert_allclose(g_vech, np.where(ri == ci, 1.0, 2.0) * g_sigma[ri, ci], atol=1e-12)
    np.testing.assert_allclose(sc[:, :p].sum(axis=0), g_mu, atol=1e-10)
    np.testing.assert_allclose(sc[:, p:].sum(axis=0), g_vech, atol=1e-10)
    # means of missing variables have zero score
    assert np.all(sc[:, :p][~pats.observed] == 0.0)


def test_scores_finite_differences(small):
    """Each row is the derivative of that case's log-likelihood wrt (mu, vech Sigma)."""
    pats, mu, sigma = small["pats"], small["mu"], small["sigma"]
    p = pats.n_vars
    ri, ci = vech_indices(p)
    theta = np.concatenate([mu, sigma[ri, ci]])
    sc = fiml_casewise_scores(pats, mu, sigma)

    def casewise(th):
        return fiml_casewise_loglik(pats, th[:p], _unvech(th[p:], p))

    h = 1e-6
    fd = np.empty_like(sc)
    for k in range(theta.size):
        e = np.zeros(theta.size)
        e[k] = h
        fd[:, k] = (casewise(theta + e) - casewise(theta - e)) / (2 * h)
    np.testing.assert_allclose(sc, fd, atol=1e-6)


def _brute_information(pats, mu, sigma, kind):
    """lavaan's definitions, case by case, with explicit D_p and Kronecker products."""
    p = pats.n_vars
    d = _duplication(p)
    pstar = d.shape[1]
    i11 = np.zeros((p, p))
    i21 = np.zeros((pstar, p))
    i22 = np.zeros((pstar, pstar))
    for row in pats.data:
        o = ~np.isnan(row)
        s = np.zeros((p, p))
        s[np.ix_(o, o)] = np.linalg.inv(sigma[np.ix_(o, o)])
        i11 += s
        if kind == "expected":
            i22 += 0.5 * d.T @ np.kron(s, s) @ d
        else:
            r = np.zeros(p)
            r[o] = row[o] - mu[o]
            t = s @ r
            a = s @ (2 * np.outer(r, r) - sigma) @ s
            a[~o] = 0.0
            a[:, ~o] = 0.0
            i21 += d.T @ np.kron(t[:, None], s)
            i22 += 0.5 * d.T @ np.kron(s, a) @ d
    return np.block([[i11, i21.T], [i21, i22]]) / pats.n_cases


@pytest.mark.parametrize("kind", ["expected", "observed"])
def test_information_brute_force(small, kind):
    pats, mu, sigma = small["pats"], small["mu"], small["sigma"]
    info = fiml_information_h1(pats, mu, sigma, kind)
    np.testing.assert_allclose(info, info.T, atol=1e-13)
    _close(info, _brute_information(pats, mu, sigma, kind), 1e-11)


def test_observed_information_is_minus_hessian(small):
    pats, mu, sigma = small["pats"], small["mu"], small["sigma"]
    p = pats.n_vars
    ri, ci = vech_indices(p)
    mult = np.where(ri == ci, 1.0, 2.0)
    theta = np.concatenate([mu, sigma[ri, ci]])

    def grad(th):
        g_mu, g_sigma = fiml_gradient(pats, th[:p], _unvech(th[p:], p))
        return np.concatenate([g_mu, mult * g_sigma[ri, ci]])

    h = 1e-6
    hess = np.empty((theta.size, theta.size))
    for k in range(theta.size):
        e = np.zeros(theta.size)
        e[k] = h
        hess[:, k] = (grad(theta + e) - grad(theta - e)) / (2 * h)
    info = fiml_information_h1(pats, mu, sigma, "observed")
    _close(info, -0.5 * (hess + hess.T) / pats.n_cases, 1e-7)


def test_firstorder_information(small):
    pats, mu, sigma = small["pats"], small["mu"], small["sigma"]
    sc = fiml_casewise_scores(pats, mu, sigma)
    np.testing.assert_allclose(
        fiml_information_h1(pats, mu, sigma, "firstorder"), sc.T @ sc / pats.n_cases, atol=1e-13
    )


def test_complete_data_expected_information():
    """Without missing values the expected information is the textbook
    blockdiag(Sigma^-1, D'(Sigma^-1 x Sigma^-1)D / 2) (Bollen, 1989, p. 134)."""
    rng = np.random.default_rng(5)
    y = rng.standard_normal((30, 4))
    sigma = np.eye(4) + 0.3
    k = np.linalg.inv(sigma)
    d = _duplication(4)
    ref = np.block([[k, np.zeros((4, 10))], [np.zeros((10, 4)), 0.5 * d.T @ np.kron(k, k) @ d]])
    _close(fiml_information_h1(y, np.zeros(4), sigma, "expected"), ref, 1e-13)


# -------------------------------------------------------------------------- EM (h1)
def test_em_complete_data_is_sample_moments():
    rng = np.random.default_rng(3)
    y = rng.standard_normal((50, 3)) @ np.array([[1, 0.5, 0], [0, 1, 0.3], [0, 0, 1.0]])
    res = em_saturated(y)
    assert isinstance(res, EMResult) and res.converged
    mean = y.mean(axis=0)
    np.testing.assert_allclose(res.mu, mean, atol=1e-12)
    np.testing.assert_allclose(res.sigma, (y - mean).T @ (y - mean) / 50, atol=1e-12)
    mu, sigma, loglik, n_iter, converged = res  # unpacks as documented
    assert n_iter <= 3 and converged


@pytest.mark.parametrize("acceleration", ["squarem", "none"])
def test_em_is_a_stationary_point(small, acceleration):
    pats = small["pats"]
    res = em_saturated(pats, acceleration=acceleration, tol=1e-10)
    assert res.converged
    g_mu, g_sigma = fiml_gradient(pats, res.mu, res.sigma)
    assert np.max(np.abs(g_mu)) < 1e-6 and np.max(np.abs(g_sigma)) < 1e-6
    np.testing.assert_allclose(res.loglik, fiml_loglik(pats, res.mu, res.sigma), rtol=1e-14)
    # the maximum: no nearby point is better
    rng = np.random.default_rng(0)
    for _ in range(5):
        e = rng.normal(scale=1e-3, size=res.sigma.shape)
        assert fiml_loglik(pats, res.mu, res.sigma + (e + e.T) / 2) < res.loglik


def test_em_accelerated_and_plain_agree(small):
    pats = small["pats"]
    a = em_saturated(pats, tol=1e-11)
    b = em_saturated(pats, acceleration="none", tol=1e-11)
    np.testing.assert_allclose(a.mu, b.mu, atol=1e-8)
    np.testing.assert_allclose(a.sigma, b.sigma, atol=1e-8)
    assert a.n_iter <= b.n_iter
    c = em_saturated(pats, mu_start=np.zeros(pats.n_vars), sigma_start=np.eye(pats.n_vars))
    np.testing.assert_allclose(c.sigma, a.sigma, atol=1e-7)


def test_em_not_converged_warns(small):
    with pytest.warns(CkmWarning, match="did not converge"):
        res = em_saturated(small["pats"], max_iter=2, acceleration="none")
    assert not res.converged and res.n_iter == 2


def test_em_unbounded_likelihood_warns():
    """Three variables observed together by only two cases: the likelihood
    grows without bound as Sigma becomes singular; EM must say so."""
    rng = np.random.default_rng(0)
    y = np.full((59, 3), np.nan)
    for j in range(3):
        y[j * 20 : j * 20 + 19, j] = rng.normal(size=19)
    y[19] = rng.normal(size=3)
    y[39] = rng.normal(size=3)
    with pytest.warns(CkmWarning, match="nearly\\) singular"):
        em_saturated(y)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"tol": 0.0}, "'tol' parameter"),
        ({"max_iter": 0}, "'max_iter' parameter"),
        ({"acceleration": "newton"}, "'acceleration' parameter"),
    ],
)
def test_em_bad_options(small, kwargs, match):
    with pytest.raises(CkmError, match=match):
        em_saturated(small["pats"], **kwargs)


def test_em_constant_variable():
    y = np.column_stack([np.ones(20), np.arange(20.0)])
    y[3, 0] = np.nan
    with pytest.raises(DataError, match="no variance"):
        em_saturated(y)


# ----------------------------------------------------------------------- vs lavaan
def _load(name: str) -> dict:
    return json.loads((REF / "json" / f"missing_{name}.json").read_text())


@pytest.fixture(scope="module", params=FIXTURES)
def case(request):
    fx = _load(request.param)
    data = pd.read_csv(REF / fx["data_csv"])[fx["ov_names"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CkmWarning)
        pats = MissingPatterns.from_data(data)
    return fx, pats


def test_lavaan_patterns(case):
    fx, pats = case
    assert pats.n_rows == fx["n_rows"]
    assert pats.n_cases == fx["nobs"]
    assert list(pats.empty_rows + 1) == list(np.atleast_1d(fx["empty_rows"]))
    assert pats.n_patterns == fx["npatterns"]
    assert sorted(pats.freq) == sorted(fx["pattern_freq"])
    np.testing.assert_allclose(pats.coverage, _num(fx["coverage"]), atol=1e-14)


def test_lavaan_h1_em(case):
    fx, pats = case
    res = em_saturated(pats)
    assert res.converged
    h1, tight = fx["h1"], fx["h1_tight"]
    # lavaan's own EM stops at em.h1.tol = 1e-5 (absolute change per iteration)
    np.testing.assert_allclose(res.mu, h1["mean"], atol=1e-4)
    np.testing.assert_allclose(res.sigma, _num(h1["cov"]), atol=1e-4)
    np.testing.assert_allclose(res.loglik, h1["logl"], rtol=1e-6)
    assert res.loglik >= h1["logl"] - 1e-9 * abs(h1["logl"])
    # lavaan's EM run to tol = 1e-13
    np.testing.assert_allclose(res.mu, tight["mean"], atol=1e-7)
    np.testing.assert_allclose(res.sigma, _num(tight["cov"]), atol=1e-7)
    np.testing.assert_allclose(res.loglik, tight["logl"], rtol=1e-12)


def test_lavaan_fit_loglik_and_gradient(case):
    fx, pats = case
    f = fx["fit"]
    mu, sigma = np.array(f["implied_mean"]), _num(f["implied_cov"])
    np.testing.assert_allclose(fiml_loglik(pats, mu, sigma), f["logl"], rtol=1e-12)
    # lavaan's casewise values cover all data rows (NA for empty ones)
    ref = _num(f["casewise_logl"])
    assert np.all(np.isnan(ref[pats.empty_rows]))
    np.testing.assert_allclose(fiml_casewise_loglik(pats, mu, sigma), ref[pats.rows], rtol=1e-12)
    g_mu, g_sigma = fiml_gradient(pats, mu, sigma)
    _close(g_mu, f["dlogl_dmu"], 1e-10)
    _close(g_sigma, _num(f["dlogl_dsigma"]), 1e-10)


def test_lavaan_scores(case):
    fx, pats = case
    f = fx["fit"]
    mu, sigma = np.array(f["implied_mean"]), _num(f["implied_cov"])
    sc = fiml_casewise_scores(pats, mu, sigma)
    _close(sc.sum(axis=0), f["score_colsums"], 1e-10)
    # lavaan's rows are the data rows (an empty case keeps a row)
    full = np.full((pats.n_rows, sc.shape[1]), np.nan)
    full[pats.rows] = sc
    ref_rows = np.array(f["score_rows"]) - 1
    ref = _num(f["scores"])
    keep = ~np.isin(ref_rows, pats.empty_rows)
    _close(full[ref_rows[keep]], ref[keep], 1e-10)


def _compare_info(ours: np.ndarray, ref) -> None:
    if isinstance(ref, dict):  # summaries of a large matrix
        _close(np.diag(ours), ref["diag"], 1e-10)
        _close(ours[0], ref["row1"], 1e-10)
        _close(ours.sum(axis=1), ref["rowsums"], 1e-10)
    else:
        _close(ours, _num(ref), 1e-10)


@pytest.mark.parametrize("kind", ["observed", "expected", "firstorder"])
def test_lavaan_information_h1(case, kind):
    fx, pats = case
    f, h1 = fx["fit"], fx["h1"]
    # lavInspect(fit, "h1.information.*"): at the model-implied moments
    mu, sigma = np.array(f["implied_mean"]), _num(f["implied_cov"])
    _compare_info(fiml_information_h1(pats, mu, sigma, kind), fx["information_implied"][kind])
    # at lavaan's EM moments (h1.information = "unstructured")
    mu, sigma = np.array(h1["mean"]), _num(h1["cov"])
    _compare_info(fiml_information_h1(pats, mu, sigma, kind), fx["information_h1"][kind])


# ------------------------------------------------------------------------- speed
def test_speed_53_items():
    """p = 53, n = 500, 7% missing (nearly one pattern per case): loglik and
    gradient in well under 20 ms (about 1 ms measured), EM in well under a
    second (about 20 ms; lavaan's EM 0.5 s).  BLAS is held to one thread:
    multithreaded OpenBLAS on tiny products is 20-30x slower on a busy machine."""
    import threadpoolctl

    rng = np.random.default_rng(1)
    p, n = 53, 500
    lam = np.zeros((p, 5))
    lam[np.arange(p), np.arange(p) % 5] = rng.uniform(0.5, 0.9, p)
    sigma = lam @ (0.3 + 0.7 * np.eye(5)) @ lam.T
    sigma += np.diag(1.0 - np.diag(sigma))
    mu = rng.uniform(2, 4, p)
    y = rng.multivariate_normal(mu, sigma, size=n)
    y[rng.random((n, p)) < 0.07] = np.nan
    pats = MissingPatterns.from_data(y)
    assert pats.n_patterns > 450
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        fiml_loglik_gradient(pats, mu, sigma)
        times = []
        for _ in range(10):
            t0 = time.perf_counter()
            fiml_loglik_gradient(pats, mu, sigma)
            times.append(time.perf_counter() - t0)
        assert min(times) < 0.02
        t0 = time.perf_counter()
        res = em_saturated(pats)
        assert res.converged and time.perf_counter() - t0 < 2.0
