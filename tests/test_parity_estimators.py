"""lavaan's estimator shortcuts beside ML, MLR, FIML and WLSMV, against lavaan 0.6.14.

Fixtures: tests/reference/R/parity/estimators.R (parity_estimators_<case>.json),
each fitted by lavaan with its default ``se`` and ``test`` for the estimator.
Every fit measure lavaan reports (the ``.scaled`` and ``.robust`` versions
included) must be reported by us and agree.
"""

from __future__ import annotations

import numpy as np
import pytest

from ckm_research import fit
from ckm_research.errors import CkmError
from ckm_research.sem.estimators import estimator_spec
from tests.reference_compare import (
    NOT_COMPUTED,
    compare_estimates,
    compare_fit,
    fit_like_lavaan,
    load,
    load_data,
)

#: lavaan fit measures that we do not compute for a family (none so far)
NOT_REPORTED: dict[str, set[str]] = {}


def _check(case: str, se_rtol: float, not_reported: set[str] = frozenset()):
    ref = load(f"parity_estimators_{case}")
    res = fit_like_lavaan(ref)
    assert res.estimator == ref["args"]["estimator"]
    compare_estimates(res.estimates, ref["estimates"], se_rtol=se_rtol)
    required = [
        k
        for k, v in ref["fit"].items()
        if v is not None and np.isfinite(v) and k not in NOT_COMPUTED and k not in not_reported
    ]
    compare_fit(res.fit_measures, ref["fit"], required=required)
    return ref, res


@pytest.mark.parametrize(
    "case",
    [
        "hs_mlm",
        "hs_mlmv",
        "hs_mlmvs",
        "pd_mlm",
        "hs_cov_mlm",
        "hs_means_mlmv",
        "hs_group_mlm",
        "hs_group_mlmv",
    ],
)
def test_ml_family_matches_lavaan(case):
    ref, res = _check(case, se_rtol=0.02)
    # lavaan's default test for the estimator is the one we report
    assert [t for t in ref["test"] if t != "standard"] == [estimator_spec(res.estimator).test]


def test_mlm_differs_from_ml_where_it_should():
    """MLM keeps the ML estimates and chi-square, only SEs and the scaled test change."""
    ref = load("parity_estimators_hs_mlm")
    ml = fit_like_lavaan(ref, estimator="ML")
    mlm = fit_like_lavaan(ref)
    np.testing.assert_allclose(mlm.estimates["est"], ml.estimates["est"])
    assert mlm.fit_measures["chisq"] == pytest.approx(ml.fit_measures["chisq"])
    assert not np.allclose(mlm.estimates["se"], ml.estimates["se"])


@pytest.mark.parametrize("estimator", ["MLM", "MLMV", "MLMVS"])
def test_ml_family_refuses_missing_ml(estimator):
    ref = load("parity_estimators_hs_mlm")
    with pytest.raises(CkmError, match=f"missing='ml' is not allowed for estimator '{estimator}'"):
        fit_like_lavaan(ref, estimator=estimator, missing="ml")


@pytest.mark.parametrize("name", ["MLF", "PML", "MML", "IV", "bayes"])
def test_other_lavaan_estimators_are_named_as_unsupported(name):
    ref = load("parity_estimators_hs_mlm")
    with pytest.raises(CkmError, match="a lavaan estimator that ckm-research does not support"):
        fit(ref["model"], None, estimator=name)


@pytest.mark.parametrize(
    ("case", "se_rtol"),
    [
        ("ord_wlsm", 0.02),
        ("ord_ulsmv", 0.02),
        ("ord_dwls", 0.01),
        ("ord_uls", 0.01),
        ("ord_wls", 0.01),
        ("ord_ulsm", 0.02),
        ("ord_wlsmvs", 0.02),
        ("ord_ulsmvs", 0.02),
    ],
)
def test_ordinal_family_matches_lavaan(case, se_rtol):
    ref, res = _check(case, se_rtol=se_rtol)
    tests = [t for t in ref["test"] if t != "standard"]
    spec = estimator_spec(res.estimator)
    assert tests == ([] if spec.test == "standard" else [spec.test])
    # the naive estimators report no scaled or robust measure, as lavaan
    if spec.test == "standard":
        assert not [k for k in res.fit_measures if k.endswith((".scaled", ".robust"))]


def test_ordered_items_with_a_continuous_estimator_are_refused():
    ref = load("parity_estimators_ord_wlsm")
    with pytest.raises(CkmError, match="ordered items need one of the estimators WLSMV, WLSM"):
        fit_like_lavaan(ref, estimator="MLM")


@pytest.mark.parametrize(
    ("case", "not_reported"),
    [
        ("hs_gls", set()),
        ("hs_uls", set()),
        ("hs_wls", set()),
        ("hs_dwls", set()),
        ("pd_gls", set()),
        # lavaan's default fixed.x = FALSE for these estimators (the covariate's variance
        # is a parameter)
        ("hs_cov_uls", set()),
        ("hs_cov_wls", set()),
        # a weakly determined solution the former Gauss-Newton line search never reached
        ("hs_flat_wls", set()),
        # the CRMR's mean residuals are scaled by the sample SDs on both sides (lavaan's
        # cor.bollen); they differed when the implied variances differ from the sample
        # ones, as under GLS
        ("hs_means_gls", set()),
        ("hs_group_gls", set()),
        ("hs_group_uls", set()),
        # robust.sem SEs and Satorra-Bentler type tests on continuous items
        ("hs_wlsmv", set()),
        ("hs_wlsm", set()),
        ("hs_wlsmvs", set()),
        ("hs_ulsmv", set()),
        ("hs_ulsm", set()),
        ("hs_ulsmvs", set()),
    ],
)
def test_least_squares_on_continuous_items_match_lavaan(case, not_reported):
    ref = load(f"parity_estimators_{case}")
    res = fit_like_lavaan(ref)
    spec = estimator_spec(res.estimator)
    assert [t for t in ref["test"] if t != "standard"] == (
        [] if spec.test == "standard" else [spec.test]
    )
    se_rtol = 0.02 if spec.se == "robust.sem" else 0.01
    compare_estimates(res.estimates, ref["estimates"], se_rtol=se_rtol)
    keys = {k: v for k, v in ref["fit"].items() if k not in not_reported}
    required = [k for k, v in keys.items() if v is not None and k not in NOT_COMPUTED]
    compare_fit(res.fit_measures, keys, required=required)
    # no likelihood: lavaan reports no logl, AIC or BIC for these estimators
    assert "aic" not in res.fit_measures and "aic" not in ref["fit"]


@pytest.mark.parametrize("estimator", ["GLS", "ULS", "WLS", "DWLS"])
def test_least_squares_refuse_missing_ml(estimator):
    ref = load("parity_estimators_hs_gls")
    with pytest.raises(CkmError, match=f"missing='ml' is not allowed for estimator '{estimator}'"):
        fit_like_lavaan(ref, estimator=estimator, missing="ml")


def test_mlm_chisq_difference_is_lavaans_satorra_bentler_2001():
    """lavTestLRT of two MLM fits uses the scaled difference of Satorra & Bentler
    (2001); before MLM was known to chisq_difference it took the unscaled one."""
    from ckm_research.measurement.invariance import chisq_difference

    ref = load("parity_estimators_hs_mlm")
    free = fit_like_lavaan(ref)
    restricted = fit(ref["lrt_restricted_model"], load_data(ref), estimator="MLM")
    compare_fit(restricted.fit_measures, ref["lrt_restricted_fit"], required=["chisq.scaled"])
    out = chisq_difference(restricted, free)
    lav = ref["lrt"]["restricted"]
    assert out["method"] == "satorra.bentler.2001"
    assert out["df.diff"] == lav["Df diff"]
    assert out["chisq.diff"] == pytest.approx(lav["Chisq diff"], abs=1e-3)
    assert out["pvalue"] == pytest.approx(lav["Pr(>Chisq)"], abs=1e-6)


@pytest.mark.parametrize("estimator", ["MLMV", "GLS", "ULS"])
def test_chisq_difference_refuses_estimators_without_lavaans_method(estimator):
    from ckm_research.measurement.invariance import chisq_difference

    ref = load("parity_estimators_hs_mlm")
    free = fit_like_lavaan(ref, estimator=estimator)
    restricted = fit(ref["lrt_restricted_model"], load_data(ref), estimator=estimator)
    with pytest.raises(CkmError, match=f"chi-square difference test of {estimator} fits"):
        chisq_difference(restricted, free)


@pytest.mark.parametrize("case", ["ord_wlsm", "ord_dwls"])
def test_reliability_of_ordinal_fits_is_refused_for_every_ordinal_estimator(case):
    """Only WLSMV was recognised as ordinal before: a WLSM or DWLS fit of ordered
    items would have got an AVE computed as for continuous items. (The composite
    reliability of ordinal items is the categorical omega now, issue 12:
    tests/test_measurement_reliability_inference.py.)"""
    from ckm_research.measurement.reliability import average_variance_extracted

    res = fit_like_lavaan(load(f"parity_estimators_{case}"))
    with pytest.raises(CkmError, match=f"of ordinal items \\({res.estimator}\\)"):
        average_variance_extracted(res)


ALL_CASES = [
    "hs_mlm", "hs_mlmv", "hs_mlmvs", "pd_mlm", "hs_cov_mlm", "hs_means_mlmv", "hs_group_mlm",
    "ord_wlsm", "ord_ulsmv", "ord_dwls", "ord_uls", "ord_wls",
    "hs_gls", "hs_uls", "hs_wls", "hs_dwls", "pd_gls", "hs_cov_uls", "hs_cov_wls",
    "hs_group_gls", "hs_wlsmv", "hs_ulsm", "ord_wlsmvs",
]  # fmt: skip


@pytest.mark.parametrize("case", ALL_CASES)
def test_standardized_ses_and_r2_match_lavaan(case):
    """standardizedSolution's delta-method SEs (se.std) and lavInspect(fit, "rsquare")."""
    import pandas as pd

    ref = load(f"parity_estimators_{case}")
    res = fit_like_lavaan(ref)
    ss = res.standardized_solution
    lav = pd.DataFrame(ref["estimates"])
    keys = ["lhs", "op", "rhs"] + (["group"] if res.ngroups > 1 else [])
    m = lav.merge(ss, on=keys, suffixes=("_lav", ""))
    assert len(m) == len(lav)
    ok = m["se.std"].fillna(0) > 1e-8
    np.testing.assert_allclose(m.loc[ok, "se"], m.loc[ok, "se.std"], rtol=0.02)
    if res.ngroups == 1:
        r2 = res.r_squared.set_index("variable")["r2"]
        for name, value in ref["rsquare"].items():
            assert r2[name] == pytest.approx(value, abs=1e-3), name


@pytest.mark.parametrize("estimator", ["GLS", "ULS", "WLSMV"])
def test_least_squares_name_the_unidentified_parameters(estimator):
    """G has two indicators with correlated residuals: not identified; the
    least-squares information is singular at the solution, as ML's."""
    from ckm_research.errors import IdentificationError

    ref = load("parity_estimators_hs_gls")
    model = "F =~ x1 + a*x2 + a*x3 + x4\nG =~ x5 + x6\nF ~~ 0*G\nx5 ~~ x6"
    with pytest.raises(IdentificationError, match="Parameters involved: .*G"):
        fit(model, load_data(ref), estimator=estimator)
