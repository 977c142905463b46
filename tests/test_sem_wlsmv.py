"""WLSMV fits against lavaan 0.6.14 (fixtures from tests/reference/R/ordinal.R)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckm_research import fit

REF = Path(__file__).parent / "reference"
CASES = ["ordinal_hs", "ordinal_sim16"]
FIT_KEYS = [
    "npar",
    "fmin",
    "chisq",
    "df",
    "pvalue",
    "chisq.scaled",
    "df.scaled",
    "pvalue.scaled",
    "chisq.scaling.factor",
    "chisq.shift.parameters",
    "baseline.chisq",
    "baseline.df",
    "baseline.chisq.scaled",
    "baseline.chisq.scaling.factor",
    "cfi",
    "tli",
    "cfi.scaled",
    "tli.scaled",
    "rmsea",
    "rmsea.scaled",
    "srmr",
]


def _load(name):
    ref = json.loads((REF / "json" / f"{name}.json").read_text())
    data = pd.read_csv(REF / ref["data_csv"])
    return ref, data


@pytest.fixture(scope="module", params=CASES)
def case(request):
    ref, data = _load(request.param)
    res = fit(ref["model"], data, estimator="WLSMV", ordered="all")
    return ref, res


def test_estimates_match_lavaan(case):
    ref, res = case
    pe = pd.DataFrame(ref["parameter_estimates"])
    m = pe.merge(res.estimates, on=["lhs", "op", "rhs"], suffixes=("_lav", ""))
    assert len(m) == len(pe)
    np.testing.assert_allclose(m["est"], m["est_lav"], atol=1e-3)
    np.testing.assert_allclose(m["std.all"], m["std.all_lav"], atol=1e-3)
    free = m["se_lav"] > 0
    np.testing.assert_allclose(m.loc[free, "se"], m.loc[free, "se_lav"], rtol=0.02)


def test_fit_measures_match_lavaan(case):
    ref, res = case
    fm = ref["fit_measures"]
    for key in FIT_KEYS:
        assert res.fit_measures[key] == pytest.approx(fm[key], rel=1e-3, abs=1e-3), key


def test_wlsmv_without_ordered_items_is_continuous_dwls_with_a_note():
    """As lavaan: WLSMV on items not declared ordered is DWLS on their covariances
    (tested against lavaan in tests/test_parity_estimators.py); the note says so."""
    ref, data = _load("ordinal_hs")
    res = fit(ref["model"], data, estimator="WLSMV")
    assert any("ordered='all'" in w for w in res.warnings)
    assert "cfi.robust" in res.fit_measures
