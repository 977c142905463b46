"""FIML (missing = "ml") with ML and MLR against lavaan 0.6.14 (tests/reference/R/fiml.R)."""

import numpy as np
import pandas as pd
import pytest

from ckm_research import fit
from tests.reference_compare import compare_estimates, compare_fit, load, load_data

REQUIRED = [
    "chisq",
    "df",
    "pvalue",
    "cfi",
    "tli",
    "rmsea",
    "rmsea.ci.lower",
    "rmsea.ci.upper",
    "rmsea.pvalue",
    "srmr",
    "aic",
    "bic",
    "logl",
    "unrestricted.logl",
    "cfi.robust",
    "tli.robust",
    "rmsea.robust",
]
REQUIRED_MLR = [
    "chisq.scaled",
    "df.scaled",
    "pvalue.scaled",
    "chisq.scaling.factor",
    "cfi.scaled",
    "tli.scaled",
    "rmsea.scaled",
]


@pytest.fixture(scope="module", params=["ml", "mlr"])
def case(request):
    ref = load(f"fiml_hs_{request.param}")
    est = "FIML" if request.param == "ml" else "MLR"
    return ref, fit(ref["model"], load_data(ref), estimator=est, missing="ml")


def test_estimates_and_standard_errors(case):
    ref, res = case
    rtol = 0.01 if ref["estimator"] == "ML" else 0.02
    compare_estimates(res.estimates, ref["estimates"], se_rtol=rtol)


def test_fit_measures(case):
    ref, res = case
    req = REQUIRED + (REQUIRED_MLR if ref["estimator"] == "MLR" else [])
    compare_fit(res.fit_measures, ref["fit"], required=req)


def test_standardized_standard_errors(case):
    ref, res = case
    ss = res.standardized_solution
    lav = pd.DataFrame(ref["estimates"])
    lav["rhs"] = lav["rhs"].fillna("")
    m = lav.merge(ss.rename(columns={"se": "se_ours"}), on=["lhs", "op", "rhs"])
    ok = m["se.std"].fillna(0) > 0
    assert ok.sum() > 10
    rtol = 0.01 if ref["estimator"] == "ML" else 0.02
    np.testing.assert_allclose(m.loc[ok, "se_ours"], m.loc[ok, "se.std"], rtol=rtol)


def test_h1_moments_match_lavaan(case):
    ref, res = case
    eng = res.engine
    h1 = eng.h1[0]
    np.testing.assert_allclose(h1.sigma, np.asarray(ref["h1"]["cov"]), atol=1e-5)
    np.testing.assert_allclose(h1.mu, np.asarray(ref["h1"]["mean"]), atol=1e-5)
