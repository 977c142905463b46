"""``SEMResults.inspect()`` against lavaan's ``lavInspect(fit, "vcov")`` and
``lavInspect(fit, "information")`` (fixtures with ``information`` stored)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ckm_research.errors import CkmError
from tests.reference_compare import fit_like_lavaan, load

CASES = [
    "engine_hs_cfa_ml",
    "engine_hs_cfa_mlr",
    "engine_poldem_eq_ml",  # shared labels: one parameter here, repeated in lavaan
    "engine_hs_covariates_ml",
    "parity_tools_hs_mg_loadings",  # two groups, equal loadings (.g2 names)
    "parity_fimlx_mimic_group_mlr",  # robust FIML, two groups
    "parity_estimators_hs_group_mlm",
]


def _lavaan(ref, key):
    m = ref["information"][key]
    return pd.DataFrame(m["values"], index=m["rownames"], columns=m["colnames"], dtype=float)


@pytest.fixture(scope="module", params=CASES)
def case(request):
    ref = load(request.param)
    return ref, fit_like_lavaan(ref)


def _expansion(ours: list[str], lavaan: list[str]) -> np.ndarray:
    """K with lavaan's parameters = K @ ours (a shared label is repeated in lavaan)."""
    K = np.zeros((len(lavaan), len(ours)))
    for i, name in enumerate(lavaan):
        K[i, ours.index(name)] = 1.0
    return K


def test_vcov_is_lavaans(case):
    ref, res = case
    lav = _lavaan(ref, "vcov")
    ours = res.inspect("vcov")
    assert set(ours.index) == set(lav.index), set(ours.index) ^ set(lav.index)
    K = _expansion(list(ours.index), list(lav.index))
    expanded = K @ ours.to_numpy() @ K.T
    robust = ref["args"].get("estimator") in ("MLR", "MLM")
    scale = np.sqrt(np.outer(np.diag(lav), np.diag(lav)))
    np.testing.assert_allclose(expanded / scale, lav.to_numpy() / scale,
                               atol=0.02 if robust else 0.01)  # fmt: skip
    se = np.sqrt(np.diag(ours.to_numpy()))
    est = res.estimates
    free = est[(est["se"] > 0) & (est["op"] != ":=")]
    assert sorted(np.round(se, 10)) == sorted(np.round(free["se"].drop_duplicates(), 10))


def test_information_is_lavaans_unit_expected_information(case):
    ref, res = case
    if ref["args"].get("missing") == "ml":
        with pytest.raises(CkmError, match="ML-type fits"):
            res.inspect("information")
        return
    lav = _lavaan(ref, "information.expected")
    ours = res.inspect("information")
    K = _expansion(list(ours.index), list(lav.index))
    # a shared parameter's information is the sum over its copies: K' J K
    want = K.T @ lav.to_numpy() @ K
    scale = np.sqrt(np.outer(np.diag(want), np.diag(want)))
    np.testing.assert_allclose(ours.to_numpy() / scale, want / scale, atol=1e-3)


def test_coef_nobs_npar(case):
    ref, res = case
    coef = res.inspect("coef")
    est = pd.DataFrame(ref["estimates"])
    assert res.inspect("npar") == ref["fit"]["npar"]
    assert sum(res.inspect("nobs")) == ref["nobs"] if isinstance(ref["nobs"], int) else True
    assert len(coef) == len(res.inspect("vcov"))
    assert np.isfinite(coef).all() and len(est) > len(coef) - 1


def test_unknown_what_names_the_choices(case):
    _, res = case
    with pytest.raises(CkmError, match="choose one of coef, vcov"):
        res.inspect("fmi")
