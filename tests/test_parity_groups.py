"""Multiple groups and df = 0 against lavaan 0.6.14 (lavaan parity issue, topic "groups").

Fixtures: tests/reference/R/parity/groups.R (``Rscript tests/reference/make_reference.R
parity:groups_...``), written to tests/reference/json/parity_groups_*.json.
"""

from __future__ import annotations

import pytest

from tests.reference_compare import compare_estimates, compare_fit, fit_like_lavaan, load

#: the measures a multi-group robust FIML fit must reproduce; the *.scaled
#: baseline ones follow from the independence model's scaling factor
MLR_FIML_REQUIRED = [
    "chisq",
    "df",
    "chisq.scaled",
    "chisq.scaling.factor",
    "baseline.chisq",
    "baseline.chisq.scaled",
    "baseline.chisq.scaling.factor",
    "cfi.scaled",
    "tli.scaled",
    "nnfi.scaled",
    "rfi.scaled",
    "nfi.scaled",
    "ifi.scaled",
    "rni.scaled",
    "cfi.robust",
    "tli.robust",
    "rmsea.robust",
    "rmsea.scaled",
    "srmr",
]


@pytest.fixture(scope="module")
def fits():
    cache: dict = {}

    def get(case: str):
        if case not in cache:
            ref = load(f"parity_groups_{case}")
            cache[case] = (ref, fit_like_lavaan(ref))
        return cache[case]

    return get


# ---- 1. robust FIML with several groups ---------------------------------------------
@pytest.mark.parametrize("case", ["hs_missing_mlr", "hs_missing_ml"])
def test_fiml_groups_estimates(fits, case):
    ref, res = fits(case)
    compare_estimates(res.estimates, ref["estimates"], se_rtol=0.02 if "mlr" in case else 0.01)


def test_fiml_groups_mlr_baseline_scaled_per_group(fits):
    """The independence model has its own parameters in each group: its scaling
    factor (and with it baseline.chisq.scaled, cfi.scaled, tli.scaled) comes from a
    block-diagonal information, not one pooled over the groups."""
    ref, res = fits("hs_missing_mlr")
    compare_fit(res.fit_measures, ref["fit"], required=MLR_FIML_REQUIRED)


def test_fiml_groups_ml_fit(fits):
    ref, res = fits("hs_missing_ml")
    compare_fit(
        res.fit_measures,
        ref["fit"],
        required=["chisq", "baseline.chisq", "cfi", "tli", "rmsea", "cfi.robust", "srmr"],
    )


# ---- 2. residual-based measures with several groups -------------------------------------
RESIDUAL_MEASURES = [
    "rmr",
    "rmr_nomean",
    "srmr",
    "srmr_bentler",
    "srmr_bentler_nomean",
    "crmr",
    "crmr_nomean",
    "srmr_mplus",
    "srmr_mplus_nomean",
]


@pytest.mark.parametrize(
    "case",
    [
        "hs_ml",
        "hs_mlr",
        "hs_missing_ml",
        # the variances are not reproduced (equal residuals, structural part): lavaan's
        # crmr scales the implied means by the sample standard deviations
        "sem_load_int",
        "sem_regr_resid",
        "sem_all",
    ],
)
def test_residual_measures_groups(fits, case):
    ref, res = fits(case)
    compare_fit(
        res.fit_measures,
        {k: ref["fit"][k] for k in RESIDUAL_MEASURES},
        atol=1e-5,
        required=RESIDUAL_MEASURES,
    )


@pytest.mark.parametrize("case", ["hs_ml", "hs_mlr"])
def test_complete_data_groups(fits, case):
    ref, res = fits(case)
    compare_estimates(res.estimates, ref["estimates"], se_rtol=0.02 if "mlr" in case else 0.01)
    req = ["chisq", "cfi", "tli", "rmsea", "baseline.chisq", "aic", "bic", "gfi"]
    if case.endswith("mlr"):
        req += ["chisq.scaled", "baseline.chisq.scaled", "cfi.scaled", "cfi.robust"]
    compare_fit(res.fit_measures, ref["fit"], required=req)


# ---- 3. a saturated model (df = 0) -----------------------------------------------------
#: lavaan's Hoelter N at df = 0 is 1 when its chi-square is rounding noise above machine
#: epsilon, NA when it is exactly 0; ours is NaN (documented in fit_measures.other_indices)
DF0_NOISE = {"cn_05", "cn_01"}


@pytest.mark.parametrize("case", ["df0_ml", "df0_mlr", "df0_fiml", "df0_fiml_mlr", "df0_ml_2g"])
def test_saturated_model(fits, case):
    ref, res = fits(case)
    assert ref["fit"]["df"] == 0
    compare_estimates(res.estimates, ref["estimates"], se_rtol=0.02)
    lav = {k: v for k, v in ref["fit"].items() if k not in DF0_NOISE}
    required = ["rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "cfi", "tli"]
    if "mlr" in case:
        required += ["chisq.scaled", "baseline.chisq.scaled", "cfi.scaled", "tli.scaled"]
    if "mlr" in case or "fiml" in case:
        required += ["rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust"]
    if "fiml" in case:
        required += ["cfi.robust", "tli.robust", "rni.robust"]
    compare_fit(res.fit_measures, lav, required=required)
    # what lavaan leaves NA (p-values, the scaling factor, the scaled RMSEA ...) is NaN
    na = [k for k, v in lav.items() if v is None and k in res.fit_measures]
    assert "rmsea.pvalue" in na and "rmsea.notclose.pvalue" in na
    not_nan = [k for k in na if res.fit_measures[k] == res.fit_measures[k]]
    assert not not_nan, f"lavaan gives NA for {not_nan}"
    missing = [k for k, v in lav.items() if v is not None and k not in res.fit_measures]
    assert set(missing) <= {"gfi", "agfi", "pgfi"}, missing  # GFI under FIML: not computed
    assert all(res.fit_measures[k] != res.fit_measures[k] for k in DF0_NOISE)
