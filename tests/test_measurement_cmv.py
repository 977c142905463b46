"""Common-method checks: the models against lavaan fits of the same models
(fixtures from tests/reference/R/measurement.R, tolerance 1e-3), and detection on
simulated data with and without a method factor."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckm_research.errors import CkmError
from ckm_research.measurement import (
    cfa_marker,
    harman_single_factor,
    lindell_whitney,
    ulmc,
)

REF = Path(__file__).parent / "reference"
TOL = 1e-3
TRAITS = "A =~ a1 + a2 + a3 + a4\nB =~ b1 + b2 + b3 + b4\nC =~ c1 + c2 + c3 + c4"


def load(name):
    ref = json.loads((REF / "json" / f"measurement_{name}.json").read_text())
    return ref, pd.read_csv(REF / ref["data_csv"])


def simulate(seed, n=500, method=(0.2, 0.3, 0.4, 0.5), marker_method=0.4):
    """Three traits (r = .3), four items each (loadings .8 .7 .6 .5), a method factor
    with the given loadings on each trait's items, and three marker items (marker
    trait .7, method ``marker_method``); standardized items."""
    rng = np.random.default_rng(seed)
    phi = np.full((3, 3), 0.3)
    np.fill_diagonal(phi, 1.0)
    eta = rng.standard_normal((n, 3)) @ np.linalg.cholesky(phi).T
    meth = rng.standard_normal(n)
    mk = rng.standard_normal(n)
    lam = (0.8, 0.7, 0.6, 0.5)
    cols = {}
    for f, name in enumerate("abc"):
        for j in range(4):
            err = np.sqrt(1 - lam[j] ** 2 - method[j] ** 2)
            cols[f"{name}{j + 1}"] = (lam[j] * eta[:, f] + method[j] * meth
                                      + rng.normal(0, err, n))
    for j in range(3):
        err = np.sqrt(1 - 0.49 - marker_method**2)
        cols[f"m{j + 1}"] = 0.7 * mk + marker_method * meth + rng.normal(0, err, n)
    return pd.DataFrame(cols)


NO_METHOD = dict(method=(0.0, 0.0, 0.0, 0.0), marker_method=0.0)


# ---------------------------------------------------------------- lavaan fixtures


@pytest.fixture(scope="module", params=["ML", "MLR"])
def ulmc_case(request):
    ref, data = load("cmv")
    return request.param, ref["ulmc"][request.param], ulmc(data, ref["model"],
                                                            estimator=request.param)


def test_ulmc_models_fit_as_lavaan(ulmc_case):
    est, r, res = ulmc_case
    fits = res.fits.set_index("model")
    for name, key in (("traits", "trait_fit"),
                      ("traits + method (equal loadings)", "method_equal_fit"),
                      ("traits + method (free loadings)", "method_fit")):
        keys = ("npar", "chisq", "df", "cfi", "rmsea", "srmr")
        for k in keys + (("chisq.scaled",) if est == "MLR" else ()):
            assert fits.loc[name, k] == pytest.approx(r[key][k], abs=TOL), (name, k)


def test_ulmc_difference_tests_match_lavtestlrt(ulmc_case):
    est, r, res = ulmc_case
    t = res.tests.set_index("comparison")
    assert t.loc["free vs traits", "chisq.diff"] == pytest.approx(r["lrt"]["chisq_diff"][1],
                                                                  abs=TOL)
    assert t.loc["free vs traits", "df.diff"] == r["lrt"]["df_diff"][1]
    assert t.loc["equal vs traits", "chisq.diff"] == pytest.approx(
        r["lrt_equal"]["chisq_diff"][1], abs=TOL)
    assert t.loc["equal vs traits", "pvalue"] == pytest.approx(r["lrt_equal"]["pvalue"][1],
                                                               abs=TOL)
    assert (t["method"] == ("satorra.bentler.2001" if est == "MLR" else "standard")).all()


def test_ulmc_standardized_loadings_match_lavaan(ulmc_case):
    _, r, res = ulmc_case
    lo = res.loadings.set_index("item")
    for item, v in r["method_loadings_std"].items():
        assert lo.loc[item, "method"] == pytest.approx(v, abs=TOL)
    for item, v in r["method_equal_loadings_std"].items():
        assert lo.loc[item, "method.equal"] == pytest.approx(v, abs=TOL)
    for item, v in r["trait_loadings_std"].items():
        assert lo.loc[item, "trait.with.method"] == pytest.approx(v, abs=TOL)
    cor = res.correlations.set_index(["x", "y"])
    assert cor.loc[("A", "B"), "r.traits"] == pytest.approx(r["trait_cor_lv"]["A"]["B"],
                                                            abs=TOL)
    assert cor.loc[("A", "B"), "r.with.method"] == pytest.approx(
        r["method_cor_lv"]["A"]["B"], abs=TOL)
    assert res.detected


def test_williams_marker_models_match_lavaan():
    ref, data = load("cmv")
    w = ref["williams"]
    res = cfa_marker(data, ref["model"], ref["marker"])
    fits = res.fits.set_index("model")
    r_key = "method_r_u_fit" if res.retained == "Method-U" else "method_r_c_fit"
    for name, key in (("CFA", "cfa_fit"), ("Baseline", "baseline_fit"),
                      ("Method-C", "method_c_fit"), ("Method-U", "method_u_fit"),
                      ("Method-R", r_key)):
        for k in ("npar", "chisq", "df", "cfi"):
            assert fits.loc[name, k] == pytest.approx(w[key][k], abs=TOL), (name, k)
    t = res.tests.set_index("comparison")
    for name, key in (("Baseline vs Method-C", "baseline_vs_c"),
                      ("Method-C vs Method-U", "c_vs_u"),
                      (f"{res.retained} vs Method-R",
                       "u_vs_r" if res.retained == "Method-U" else "c_vs_r")):
        assert t.loc[name, "chisq.diff"] == pytest.approx(w[key]["chisq_diff"][1], abs=TOL)
        assert t.loc[name, "pvalue"] == pytest.approx(w[key]["pvalue"][1], abs=TOL)
    # C vs U: p = .041 in lavaan, so Method-U is retained at alpha = .05
    assert res.retained == "Method-U"
    assert res.detected and not res.biased
    json.dumps(res.to_dict())
    assert "Williams" in res.summary()


@pytest.mark.parametrize("rule", ["smallest", "second_smallest"])
def test_lindell_whitney_matches_r(rule):
    ref, data = load("cmv")
    lw_ref = ref["lindell_whitney"][rule]
    res = lindell_whitney(data, ref["model"], ref["marker"], r_m=rule)
    assert res.r_m == pytest.approx(lw_ref["r_m"], abs=1e-10)
    t = res.table.set_index(["x", "y"])
    for p in lw_ref["pairs"]:
        row = t.loc[(p["x"], p["y"])]
        assert row["r"] == pytest.approx(p["r"], abs=1e-10)
        assert row["r.adjusted"] == pytest.approx(p["r_adjusted"], abs=1e-10)
        assert row["t"] == pytest.approx(p["t"], abs=1e-8)
        assert row["pvalue"] == pytest.approx(p["pvalue"], abs=1e-10)


def test_lindell_whitney_given_and_negative_marker_correlations():
    ref, data = load("cmv")
    res = lindell_whitney(data, ref["model"], ref["marker"], r_m=0.0)
    np.testing.assert_allclose(res.table["r.adjusted"], res.table["r"])
    d = data.copy()
    d[["m1", "m2", "m3"]] = -d[["m1", "m2", "m3"]]
    res = lindell_whitney(d, ref["model"], ref["marker"])
    assert res.r_m == 0.0 and res.notes
    with pytest.raises(CkmError, match="must not be indicators"):
        lindell_whitney(data, ref["model"], ["m1", "a1"])
    with pytest.raises(CkmError, match="'r_m'"):
        lindell_whitney(data, ref["model"], ref["marker"], r_m="largest")


def test_harman_matches_r_on_hs():
    ref, data = load("hs")
    h = harman_single_factor(data, ref["model"])
    hr = ref["harman"]
    np.testing.assert_allclose(h.eigenvalues, hr["eigenvalues"], atol=1e-10)
    assert h.first_component_share == pytest.approx(hr["pc1_share"], abs=1e-10)
    fits = h.fits.set_index("model")
    for k in ("npar", "chisq", "df", "cfi", "rmsea", "srmr"):
        assert fits.loc["one factor", k] == pytest.approx(hr["one_factor_fit"][k], abs=TOL)
    assert h.comparison["chisq.diff"] == pytest.approx(hr["lrt"]["chisq_diff"][1], abs=TOL)
    assert h.comparison["df.diff"] == hr["lrt"]["df_diff"][1]
    assert not h.dominant
    assert "principal component" in h.summary()


# ------------------------------------------------------------------ simulations


def test_ulmc_detects_a_method_factor_and_estimates_its_size():
    data = simulate(101)
    res = ulmc(data, TRAITS)
    assert res.detected and res.pvalue < 1e-6
    # population: mean squared method loading (.04 + .09 + .16 + .25) / 4 = .135
    assert res.method_variance == pytest.approx(0.135, abs=0.04)
    lo = res.loadings.groupby(res.loadings["item"].str[1])["method"].mean()
    assert lo["4"] > lo["1"]  # recovers the rising method loadings
    t = res.tests.set_index("comparison")
    assert t.loc["free vs traits", "pvalue"] < 1e-6


def test_ulmc_does_not_detect_an_absent_method_factor():
    detected = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in range(200, 220):
            res = ulmc(simulate(seed, **NO_METHOD), TRAITS)
            detected.append(res.detected)
            assert np.isfinite(res.pvalue)  # the equal-loadings model always estimates
    # nominal 5%: P(more than 3 of 20 | 5%) = 1.6%
    assert sum(detected) <= 3
    assert not ulmc(simulate(200, **NO_METHOD), TRAITS).detected


def test_marker_techniques_without_method_variance():
    data = simulate(7, **NO_METHOD)
    res = cfa_marker(data, TRAITS, ["m1", "m2", "m3"])
    assert not res.detected
    lw = lindell_whitney(data, TRAITS, ["m1", "m2", "m3"])
    assert abs(lw.r_m) < 0.1 and lw.table["significant"].all()


def test_marker_technique_detects_method_variance():
    res = cfa_marker(simulate(8), TRAITS, ["m1", "m2", "m3"])
    assert res.detected
    assert res.loadings["method"].mean() > 0.1


def test_harman_flags_a_dominant_general_factor():
    rng = np.random.default_rng(3)
    g = rng.standard_normal(400)
    data = pd.DataFrame({f"{n}{j}": 0.8 * g + 0.6 * rng.standard_normal(400)
                         for n in "abc" for j in range(1, 5)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # three factors correlating about 1: expected
        h = harman_single_factor(data, TRAITS)
    assert h.dominant and h.first_component_share > 0.6
    # and one factor fits as well as three (difference not significant)
    assert h.comparison["pvalue"] > 0.01


def test_cmv_argument_errors():
    ref, data = load("cmv")
    with pytest.raises(CkmError, match="'alpha'"):
        ulmc(data, ref["model"], alpha=5)
    with pytest.raises(CkmError, match="WLSMV"):
        ulmc(data, ref["model"], estimator="WLSMV")
    with pytest.raises(CkmError, match="at least two marker"):
        cfa_marker(data, ref["model"], ["m1"])
    with pytest.raises(CkmError, match="not in the data"):
        cfa_marker(data, ref["model"], ["m1", "zz"])
