"""Tests of ckm_research.sem.ordinal against lavaan 0.6.14 and against theory.

The fixtures ``tests/reference/json/ordinal_*.json`` and the data they were
computed from (``tests/reference/data/ordinal_*.csv``) are written by
``tests/reference/R/ordinal.R``; these tests do not need R.

Tolerances, per quantity (observed agreement in brackets):

* thresholds: 1e-10 absolute [5e-15];
* polychoric correlations: 1e-6 absolute [4e-8; lavaan stops nlminb at
  rel.tol 1e-10, we iterate Newton to convergence];
* NACOV (gamma) and the DWLS weights: 1e-5 relative, entries compared with
  an absolute floor of 1e-6 x max|gamma| [4e-6];
* inference formulas fed with lavaan's own Delta, weights, Gamma and WLS.est
  (so independent of our estimator and our sample statistics): 1e-9
  relative [1e-15];
* baseline (independence) model tests from our own sample statistics:
  1e-6 relative [1e-8].
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special, stats

from ckm_research.errors import CkmError, CkmWarning, DataError, IdentificationError
from ckm_research.sem.ordinal import (
    OrdinalMoments,
    bivariate_normal_cdf,
    dwls_weight,
    mean_var_adjusted_test,
    ordinal_moments,
    robust_vcov_wls,
    satorra_bentler_test,
    scaled_shifted_test,
    wls_discrepancy,
    wls_discrepancy_gradient,
    wls_test_statistic,
    wls_vector,
)

REF = Path(__file__).parent / "reference"
FIXTURES = ["hs", "sim16", "binary"]


def _load(name: str) -> dict:
    return json.loads((REF / "json" / f"ordinal_{name}.json").read_text())


@pytest.fixture(scope="module", params=FIXTURES)
def case(request):
    fx = _load(request.param)
    data = pd.read_csv(REF / fx["data_csv"])
    mom = ordinal_moments(data)
    return fx, data, mom


# --------------------------------------------------------------------------
# Bivariate normal distribution function
# --------------------------------------------------------------------------
def _bvn_quad(h: float, k: float, r: float) -> float:
    """P(X <= h, Y <= k) = int_{-inf}^h phi(x) Phi((k - r x)/sqrt(1 - r^2)) dx."""
    s = np.sqrt(1.0 - r * r)
    val, _ = integrate.quad(
        lambda x: stats.norm.pdf(x) * special.ndtr((k - r * x) / s),
        -np.inf,
        h,
        epsabs=1e-15,
        epsrel=1e-13,
        limit=200,
    )
    return val


def test_bvn_closed_forms():
    r = np.array([-1.0, -0.9999, -0.95, -0.93, -0.92, -0.5, 0.0, 0.3, 0.92, 0.93, 0.99, 1.0])
    np.testing.assert_allclose(
        bivariate_normal_cdf(0.0, 0.0, r), 0.25 + np.arcsin(r) / (2 * np.pi), atol=1e-15
    )
    h = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(
        bivariate_normal_cdf(h, 0.7, 0.0), special.ndtr(h) * special.ndtr(0.7), atol=1e-15
    )
    np.testing.assert_allclose(
        bivariate_normal_cdf(h, 0.7, 1.0), special.ndtr(np.minimum(h, 0.7)), atol=1e-15
    )
    np.testing.assert_allclose(
        bivariate_normal_cdf(h, 0.7, -1.0),
        np.maximum(0.0, special.ndtr(h) + special.ndtr(0.7) - 1.0),
        atol=1e-15,
    )


def test_bvn_against_quadrature():
    rng = np.random.default_rng(5)
    h = rng.normal(0, 1.5, 60)
    k = rng.normal(0, 1.5, 60)
    r = np.concatenate(
        [
            rng.uniform(-0.92, 0.92, 20),
            rng.uniform(0.925, 0.9995, 20),
            -rng.uniform(0.925, 0.9995, 20),
        ]
    )
    ref = np.array([_bvn_quad(a, b, c) for a, b, c in zip(h, k, r, strict=True)])
    np.testing.assert_allclose(bivariate_normal_cdf(h, k, r), ref, atol=1e-13)


def test_bvn_infinite_limits_and_broadcasting():
    out = bivariate_normal_cdf(
        [np.inf, -np.inf, 1.0, np.inf, 0.2], [0.5, 1.0, np.inf, np.inf, -np.inf], 0.3
    )
    np.testing.assert_allclose(
        out, [special.ndtr(0.5), 0.0, special.ndtr(1.0), 1.0, 0.0], atol=1e-15
    )
    assert bivariate_normal_cdf(np.zeros((2, 1)), np.zeros(3), 0.5).shape == (2, 3)
    with pytest.raises(CkmError):
        bivariate_normal_cdf(0.0, 0.0, 1.5)


# --------------------------------------------------------------------------
# Sample statistics against lavaan
# --------------------------------------------------------------------------
def test_sample_size_labels_and_levels(case):
    fx, _, mom = case
    assert isinstance(mom, OrdinalMoments)
    assert mom.n == fx["nobs"]
    assert list(mom.names) == fx["ov_names"]
    assert list(mom.labels) == fx["wls_labels"]
    for name, lev in zip(mom.names, mom.levels, strict=True):
        assert lev.tolist() == fx["levels"][name]
    assert mom.n_thresholds == len(fx["thresholds"])


def test_thresholds(case):
    fx, _, mom = case
    np.testing.assert_allclose(np.concatenate(mom.thresholds), fx["thresholds"], rtol=0, atol=1e-10)


def test_polychoric_correlations(case):
    fx, _, mom = case
    np.testing.assert_allclose(mom.corr, np.array(fx["polychoric"]), rtol=0, atol=1e-6)
    np.testing.assert_allclose(mom.wls_obs, fx["wls_obs"], rtol=0, atol=1e-6)


def test_nacov(case):
    fx, _, mom = case
    ref = np.array(fx["gamma"])
    np.testing.assert_allclose(mom.gamma, ref, rtol=1e-5, atol=1e-6 * np.abs(ref).max())
    np.testing.assert_allclose(dwls_weight(mom.gamma), fx["wls_v_diag"], rtol=1e-5)


def test_wls_vector_matches_wls_obs_order(case):
    fx, _, mom = case
    np.testing.assert_array_equal(wls_vector(mom.thresholds, mom.corr), mom.wls_obs)
    assert mom.pairs.shape == (len(mom.wls_obs) - mom.n_thresholds, 2)
    j, i = mom.pairs.T
    np.testing.assert_array_equal(mom.wls_obs[mom.n_thresholds :], mom.corr[i, j])


def test_listwise_deletion_and_category_gaps():
    fx = _load("hs")
    data = pd.read_csv(REF / fx["data_csv"])
    assert data.isna().any(axis=1).sum() == len(data) - fx["nobs"] == 3
    assert fx["levels"]["x9"] == [1, 2, 4, 5, 7]
    # the same statistics from a plain array with numeric codes
    mom = ordinal_moments(data.to_numpy(), names=list(data.columns))
    np.testing.assert_allclose(mom.corr, np.array(fx["polychoric"]), atol=1e-6)


def test_zero_cells_in_2x2_tables_follow_lavaan():
    fx = _load("binary")
    assert fx["zero_cell_pairs"], (
        "the binary fixture should contain 2 x 2 tables with an empty cell"
    )
    data = pd.read_csv(REF / fx["data_csv"])
    ref = np.array(fx["polychoric"])
    np.testing.assert_allclose(ordinal_moments(data).corr, ref, atol=1e-6)
    # without lavaan's 0.5 correction the tetrachorics of those pairs differ
    raw = ordinal_moments(data, zero_add=(0.0, 0.0)).corr
    assert np.abs(raw - ref).max() > 0.05


def test_categorical_input_and_empty_categories():
    fx = _load("hs")
    data = pd.read_csv(REF / fx["data_csv"]).dropna()
    cat = data.copy()
    cat["x9"] = pd.Categorical(
        cat["x9"].map({1: "a", 2: "b", 4: "c", 5: "d", 7: "e"}), ordered=True
    )
    mom = ordinal_moments(cat)
    assert mom.levels[8].tolist() == ["a", "b", "c", "d", "e"]
    np.testing.assert_allclose(mom.corr, np.array(fx["polychoric"]), atol=1e-6)
    cat["x9"] = cat["x9"].cat.add_categories(["f"])
    with pytest.raises(DataError, match="empty"):
        ordinal_moments(cat)


def test_category_only_in_deleted_rows_is_an_error():
    y = np.array([[1, 1], [2, 2], [1, 2], [2, 1], [3, np.nan], [1, 1]])
    with pytest.raises(DataError, match="empty"):
        ordinal_moments(y)


@pytest.mark.parametrize(
    "data, match",
    [
        (np.array([[1.5, 1], [2, 2], [1, 2]]), "non-integer"),
        (np.array([[1, 1], [1, 2], [1, 2]]), "single category"),
        (np.array([[1], [2], [1]]), "two ordinal items"),
        (np.array([[1, 1], [np.nan, 2], [2, np.nan]]), "complete case"),
        (pd.DataFrame({"a": ["x", "y"], "b": [1, 2]}), "non-numeric"),
    ],
)
def test_bad_data(data, match):
    with pytest.raises(DataError, match=match):
        ordinal_moments(data)


def test_names_must_match_columns():
    with pytest.raises(DataError, match="names"):
        ordinal_moments(np.array([[1, 1], [2, 2], [1, 2]]), names=["a"])


@pytest.mark.filterwarnings("ignore:The polychoric correlation between")
def test_two_empty_cells_in_2x2_table_warns():
    """lavaan sets the tetrachoric to +/-1; the pair's gamma entries are NaN."""
    y = np.array([[1, 1]] * 20 + [[2, 2]] * 15)
    y = np.column_stack([y, np.tile([1, 2, 1, 2, 2], 7)])
    with pytest.warns(CkmWarning, match="Two empty cells"):
        mom = ordinal_moments(y)
    assert mom.corr[0, 1] == 1.0
    assert np.all(np.isnan(mom.gamma[:, mom.labels.index("x1~~x2")]))


# --------------------------------------------------------------------------
# Inference formulas, fed with lavaan's own Delta, weights and Gamma
# --------------------------------------------------------------------------
def _lavaan_inputs(fx):
    return (
        np.array(fx["delta"]),
        np.array(fx["wls_v_diag"]),
        np.array(fx["gamma"]),
        int(fx["nobs"]),
        np.array(fx["wls_obs"]),
        np.array(fx["wls_est"]),
    )


@pytest.mark.parametrize("name", FIXTURES)
def test_chisq_and_fmin(name):
    fx = _load(name)
    _, w, _, n, s, e = _lavaan_inputs(fx)
    fm = fx["fit_measures"]
    assert wls_test_statistic(s, e, w, n) == pytest.approx(fm["chisq"], rel=1e-10)
    # lavaan's fmin is (1/2) (N - 1)/N F
    assert 0.5 * (n - 1) / n * wls_discrepancy(s, e, w) == pytest.approx(fm["fmin"], rel=1e-10)


@pytest.mark.parametrize("name", FIXTURES)
def test_robust_sem_standard_errors(name):
    fx = _load(name)
    d, w, g, n, _, _ = _lavaan_inputs(fx)
    v = robust_vcov_wls(d, w, g, n)
    ref = np.array(fx["vcov"])
    np.testing.assert_allclose(v, ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())
    pe = pd.DataFrame(fx["parameter_estimates"])
    free = pe[pe["free"] > 0].sort_values("free")
    assert len(free) == d.shape[1]
    se = np.sqrt(np.diag(v))[free["free"].to_numpy() - 1]
    np.testing.assert_allclose(se, free["se"].to_numpy(), rtol=1e-9)


@pytest.mark.parametrize("name", FIXTURES)
def test_scaled_shifted_test(name):
    fx = _load(name)
    d, w, g, _, _, _ = _lavaan_inputs(fx)
    fm = fx["fit_measures"]
    res = scaled_shifted_test(fm["chisq"], int(fm["df"]), d, w, g)
    assert res.test == "scaled.shifted"
    assert res.stat == pytest.approx(fm["chisq.scaled"], rel=1e-9)
    assert res.df == fm["df.scaled"]
    assert res.pvalue == pytest.approx(fm["pvalue.scaled"], rel=1e-7, abs=1e-14)
    assert res.scaling_factor == pytest.approx(fm["chisq.scaling.factor"], rel=1e-9)
    assert res.shift_parameter == pytest.approx(fm["chisq.shift.parameters"], rel=1e-9)
    ss = fx["test"]["scaled.shifted"]
    assert res.trace_ugamma == pytest.approx(ss["trace.UGamma"], rel=1e-9)
    assert res.trace_ugamma2 == pytest.approx(ss["trace.UGamma2"], rel=1e-9)


@pytest.mark.parametrize("name", FIXTURES)
def test_satorra_bentler_and_mean_var_adjusted(name):
    fx = _load(name)
    d, w, g, _, _, _ = _lavaan_inputs(fx)
    fm = fx["fit_measures"]
    chisq, df = fm["chisq"], int(fm["df"])
    sb, ref = satorra_bentler_test(chisq, df, d, w, g), fx["test_other"]["satorra.bentler"]
    assert sb.stat == pytest.approx(ref["stat"], rel=1e-9)
    assert sb.scaling_factor == pytest.approx(ref["scaling.factor"], rel=1e-9)
    assert sb.pvalue == pytest.approx(ref["pvalue"], rel=1e-7, abs=1e-14)
    mv, ref = mean_var_adjusted_test(chisq, df, d, w, g), fx["test_other"]["mean.var.adjusted"]
    assert mv.stat == pytest.approx(ref["stat"], rel=1e-9)
    assert mv.df == pytest.approx(ref["df"], rel=1e-9)
    assert mv.scaling_factor == pytest.approx(ref["scaling.factor"], rel=1e-9)
    assert mv.pvalue == pytest.approx(ref["pvalue"], rel=1e-7, abs=1e-14)


def test_baseline_model_end_to_end(case):
    """Independence model: thresholds free, correlations zero, Delta = [I; 0].

    Uses only our sample statistics, so it checks ordinal_moments and the
    test formulas together against lavaan's baseline test.
    """
    fx, _, mom = case
    nt = mom.n_thresholds
    npair = len(mom.wls_obs) - nt
    delta = np.vstack([np.eye(nt), np.zeros((npair, nt))])
    est = np.concatenate([mom.wls_obs[:nt], np.zeros(npair)])
    w = dwls_weight(mom.gamma)
    chisq = wls_test_statistic(mom.wls_obs, est, w, mom.n)
    res = scaled_shifted_test(chisq, npair, delta, w, mom.gamma)
    fm, base = fx["fit_measures"], fx["baseline_test"]["scaled.shifted"]
    assert chisq == pytest.approx(fm["baseline.chisq"], rel=1e-6)
    assert res.stat == pytest.approx(fm["baseline.chisq.scaled"], rel=1e-6)
    assert res.scaling_factor == pytest.approx(fm["baseline.chisq.scaling.factor"], rel=1e-6)
    assert res.shift_parameter == pytest.approx(base["shift.parameter"], rel=1e-6)


def test_model_test_from_our_statistics(case):
    """lavaan's Delta and WLS.est with our wls_obs, weights and gamma."""
    fx, _, mom = case
    fm = fx["fit_measures"]
    d, e = np.array(fx["delta"]), np.array(fx["wls_est"])
    w = dwls_weight(mom.gamma)
    chisq = wls_test_statistic(mom.wls_obs, e, w, mom.n)
    assert chisq == pytest.approx(fm["chisq"], rel=1e-5)
    res = scaled_shifted_test(chisq, int(fm["df"]), d, w, mom.gamma)
    assert res.stat == pytest.approx(fm["chisq.scaled"], rel=1e-5)


# --------------------------------------------------------------------------
# Formula identities
# --------------------------------------------------------------------------
def _toy_inputs(seed=0, m=12, q=4):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(m, m))
    gamma = a @ a.T / m + np.eye(m)
    delta = rng.normal(size=(m, q))
    return rng, gamma, delta


@pytest.mark.parametrize("full", [False, True])
def test_discrepancy_gradient_matches_finite_differences(full):
    rng, gamma, _ = _toy_inputs()
    m = gamma.shape[0]
    w = np.linalg.inv(gamma) if full else 1.0 / np.diag(gamma)
    s, e = rng.normal(size=m), rng.normal(size=m)
    g = wls_discrepancy_gradient(s, e, w)
    h = 1e-6
    num = np.array(
        [
            (
                wls_discrepancy(s, e + h * np.eye(m)[k], w)
                - wls_discrepancy(s, e - h * np.eye(m)[k], w)
            )
            / (2 * h)
            for k in range(m)
        ]
    )
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)


def test_optimal_weight_identities():
    """With W = Gamma^{-1}: sandwich = inverse information, U Gamma idempotent."""
    _, gamma, delta = _toy_inputs(1)
    m, q = delta.shape
    w = np.linalg.inv(gamma)
    n = 500
    v = robust_vcov_wls(delta, w, gamma, n)
    np.testing.assert_allclose(v, np.linalg.inv(delta.T @ w @ delta) / (n - 1), rtol=1e-10)
    df = m - q
    ss = scaled_shifted_test(30.0, df, delta, w, gamma)
    assert ss.trace_ugamma == pytest.approx(df)
    assert ss.trace_ugamma2 == pytest.approx(df)
    assert ss.scaling_factor == pytest.approx(1.0)
    assert ss.shift_parameter == pytest.approx(0.0, abs=1e-10)
    assert ss.stat == pytest.approx(30.0)
    sb = satorra_bentler_test(30.0, df, delta, w, gamma)
    assert sb.stat == pytest.approx(30.0)
    mv = mean_var_adjusted_test(30.0, df, delta, w, gamma)
    assert mv.df == pytest.approx(df)


def test_zero_df_gives_nan_scaling():
    _, gamma, delta = _toy_inputs(2)
    res = scaled_shifted_test(0.0, 0, delta, 1.0 / np.diag(gamma), gamma)
    assert np.isnan(res.scaling_factor) and np.isnan(res.pvalue)


def test_singular_information_is_an_identification_error():
    _, gamma, delta = _toy_inputs(3)
    delta[:, 1] = delta[:, 0]
    with pytest.raises(IdentificationError):
        robust_vcov_wls(delta, 1.0 / np.diag(gamma), gamma, 100)


def test_argument_checks():
    _, gamma, delta = _toy_inputs(4)
    w = 1.0 / np.diag(gamma)
    with pytest.raises(CkmError, match="'weight'"):
        robust_vcov_wls(delta, w[:-1], gamma, 100)
    with pytest.raises(CkmError, match="'n'"):
        robust_vcov_wls(delta, w, gamma, 1)
    with pytest.raises(CkmError, match="'df'"):
        scaled_shifted_test(1.0, -1, delta, w, gamma)
    with pytest.raises(CkmError, match="'gamma'"):
        scaled_shifted_test(1.0, 3, delta, w, gamma[:-1, :-1])
    with pytest.raises(DataError):
        dwls_weight(np.diag([1.0, 0.0]))


# --------------------------------------------------------------------------
# Recovery of known parameters
# --------------------------------------------------------------------------
_R = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, -0.4], [0.3, -0.4, 1.0]])
_CUTS = [np.array([-1.0, 0.0, 0.8]), np.array([-0.5, 0.7]), np.array([-1.5, -0.6, 0.2, 1.1])]
_TRUTH = np.concatenate(_CUTS + [np.array([0.5, 0.3, -0.4])])


def _discretised(rng, n):
    z = rng.multivariate_normal(np.zeros(3), _R, size=n)
    return np.column_stack([np.digitize(z[:, j], _CUTS[j]) + 1 for j in range(3)])


def test_recovery_large_sample():
    """Discretised bivariate normals, n = 20000: estimates within 3 SE of the truth."""
    mom = ordinal_moments(_discretised(np.random.default_rng(11), 20_000))
    se = np.sqrt(np.diag(mom.gamma) / mom.n)
    z = (mom.wls_obs - _TRUTH) / se
    assert np.all(np.abs(z) < 3.0), z
    np.testing.assert_allclose(mom.corr, _R, atol=3 * se[-3:].max())


def test_gamma_matches_monte_carlo_variance():
    """The NACOV standard errors agree with the spread of estimates over replications."""
    rng = np.random.default_rng(12)
    est, se = [], []
    for _ in range(300):
        mom = ordinal_moments(_discretised(rng, 400))
        est.append(mom.wls_obs)
        se.append(np.sqrt(np.diag(mom.gamma) / mom.n))
    ratio = np.std(est, axis=0, ddof=1) / np.mean(se, axis=0)
    assert np.all((ratio > 0.85) & (ratio < 1.2)), ratio


# --------------------------------------------------------------------------
# Speed: 53 five-category items, N = 900 (lavaan: about 5 s for these
# sample statistics, 68 s for the whole WLSMV fit of the CKM model)
# --------------------------------------------------------------------------
def test_speed_53_items():
    rng = np.random.default_rng(2024)
    n, p, nf = 900, 53, 13
    f_of = np.minimum(np.arange(p) // 4, nf - 1)
    eta = rng.multivariate_normal(np.zeros(nf), 0.3 + 0.7 * np.eye(nf), size=n)
    lam = rng.uniform(0.55, 0.85, p)
    ystar = lam * eta[:, f_of] + np.sqrt(1 - lam**2) * rng.normal(size=(n, p))
    cuts = np.array([-1.8, -0.8, 0.3, 1.4])
    y = np.column_stack([np.digitize(ystar[:, j], cuts + rng.normal(0, 0.3)) + 1 for j in range(p)])
    t0 = time.perf_counter()
    mom = ordinal_moments(y)
    elapsed = time.perf_counter() - t0
    assert mom.gamma.shape == (53 * 4 + 53 * 52 // 2,) * 2
    assert np.all(np.isfinite(mom.gamma))
    assert elapsed < 5.0, f"ordinal_moments took {elapsed:.2f} s"
