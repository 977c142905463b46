"""Double-mean-centred product indicators against lavaan + semTools fixtures.

Fixtures: tests/reference/R/moderation.R (semTools::indProd(match = FALSE,
meanC = TRUE, residualC = FALSE, doubleMC = TRUE) then lavaan::sem).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckm_research import fit
from ckm_research.errors import CkmError, ModelSpecificationError
from ckm_research.moderation.product_indicators import (
    double_mean_centered_products,
    fit_dblcent,
    product_indicator_model,
)

REF = Path(__file__).parent / "reference"
ONEINT_MODEL = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z\n"


def _load(name):
    ref = json.loads((REF / "json" / f"moderation_{name}.json").read_text())
    data = pd.read_csv(REF / ref["data_csv"])
    return ref, data


@pytest.fixture(scope="module")
def oneint():
    return _load("oneint_dblcent")


@pytest.fixture(scope="module")
def oneint_fit(oneint):
    ref, data = oneint
    return fit(ONEINT_MODEL, data)


def _compare(ref, res, tol=1e-3):
    pe = pd.DataFrame(ref["parameter_estimates"])
    ours = res.estimates.copy()
    # lavaan names the regression on the product factor X.Z; we report it as X:Z
    factors = {t: t.replace(":", ".") for t in ours.loc[ours["rhs"].str.contains(":"), "rhs"]}
    ours["rhs"] = ours["rhs"].replace(factors)
    merged = pe.merge(ours, on=["lhs", "op", "rhs"], how="outer", suffixes=("_r", "_p"),
                      indicator=True)  # fmt: skip
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both"]
    for col in ("est", "se", "std.all"):
        diff = np.abs(merged[f"{col}_r"] - merged[f"{col}_p"]).to_numpy()
        worst = int(np.nanargmax(diff))
        assert np.nanmax(diff) < tol, (col, merged.iloc[worst][["lhs", "op", "rhs"]].tolist())
    for key in ("npar", "df", "chisq", "logl", "cfi", "tli", "rmsea", "srmr"):
        assert res.fit_measures[key] == pytest.approx(ref["fit_measures"][key], abs=tol), key


def test_products_match_semtools_indprod(oneint):
    ref, data = oneint
    prods = double_mean_centered_products(data, ["x1", "x2", "x3"], ["z1", "z2", "z3"])
    assert list(prods.columns) == ref["product_names"]
    for name in prods.columns:
        assert prods[name].mean() == pytest.approx(0.0, abs=1e-12)
        assert prods[name].std(ddof=1) == pytest.approx(ref["product_sds"][name], rel=1e-10)
    # the product of the centred indicators, centred again
    xc = data["x2"] - data["x2"].mean()
    zc = data["z3"] - data["z3"].mean()
    expected = xc * zc - (xc * zc).mean()
    np.testing.assert_allclose(prods["x2.z3"], expected, rtol=1e-12, atol=1e-14)


def test_products_propagate_missing_values():
    df = pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0], "b": [2.0, 0.0, 1.0, 1.0]})
    p = double_mean_centered_products(df, ["a"], ["b"])["a.b"]
    assert np.isnan(p.iloc[2])
    assert p.mean() == pytest.approx(0.0, abs=1e-12)


def test_specification_oneint(oneint):
    ref, data = oneint
    spec = product_indicator_model(ONEINT_MODEL, data)
    assert "X.Z =~ x1.z1 + x1.z2 + x1.z3 + x2.z1 + x2.z2 + x2.z3 + x3.z1 + x3.z2 + x3.z3" in (
        spec.syntax
    )
    assert "Y ~ X + Z + X.Z" in spec.syntax
    # each of 9 products shares an indicator with 4 others: 9 * 4 / 2 pairs
    assert len(spec.residual_covariances) == 18
    assert ("x1.z1", "x1.z2") in spec.residual_covariances
    assert ("x1.z1", "x2.z2") not in spec.residual_covariances
    none = product_indicator_model(ONEINT_MODEL, data, res_cov="none")
    assert none.residual_covariances == ()
    assert "~~" not in none.syntax


def test_oneint_matches_lavaan(oneint, oneint_fit):
    ref, _ = oneint
    _compare(ref, oneint_fit)


def test_oneint_reproduces_modsem_published_estimate(oneint_fit):
    # modsem 1.0.22 documentation, oneInt, method = "dblcent": X:Z = 0.702
    est = oneint_fit.estimates.set_index(["lhs", "op", "rhs"])
    assert round(est.loc[("Y", "~", "X:Z"), "est"], 3) == 0.702
    assert oneint_fit.fit_measures["chisq"] == pytest.approx(122.924, abs=5e-4)
    assert oneint_fit.notes["interaction"]["method"] == "dblcent"


def test_ckm_two_terms_match_lavaan():
    ref, data = _load("ckm_dblcent")
    res = fit(ref["model"], data, interaction="dblcent")
    spec = res.notes["interaction"]
    assert set(spec["terms"]) == {"CKM:CTU", "CKM:TTU"}
    # within CKM.CTU: 5*C(4,2) + 4*C(5,2) = 70; same for CKM.TTU; across: 5 * 4 * 4 = 80
    assert len(spec["residual_covariances"]) == 220
    _compare(ref, res)


def test_routing_and_errors(oneint):
    _, data = oneint
    with pytest.raises(CkmError, match="'interaction' parameter of fit"):
        fit(ONEINT_MODEL, data, interaction="pind")
    # no product term: interaction has nothing to act on, an ordinary fit
    plain = fit("X =~ x1 + x2 + x3", data, interaction="dblcent")
    assert "interaction" not in plain.notes
    with pytest.raises(ModelSpecificationError, match="no product term"):
        product_indicator_model("X =~ x1 + x2 + x3", data)
    clash = data.assign(**{"x1.z1": 1.0})
    with pytest.raises(ModelSpecificationError, match="already use"):
        fit_dblcent(ONEINT_MODEL, clash)
    with pytest.raises(ModelSpecificationError, match="res_cov"):
        product_indicator_model(ONEINT_MODEL, data, res_cov="all")
    # fit() options reach the product-indicator fit: FIML keeps incomplete cases
    holes = data.iloc[:400].copy()
    holes.loc[holes.index[:10], "y1"] = np.nan
    assert fit(ONEINT_MODEL, holes, missing="ml").n == 400
    assert fit(ONEINT_MODEL, holes).n == 390
    with pytest.raises(CkmError, match="missing='ml'"):  # LMS takes listwise or FIML only
        fit(ONEINT_MODEL, holes, interaction="lms", missing="ml.x")


def test_rewrite_leaves_comments_and_definitions():
    data = pd.DataFrame(np.random.default_rng(1).normal(size=(50, 6)),
                        columns=["x1", "x2", "z1", "z2", "y", "w"])  # fmt: skip
    model = (
        "X =~ x1 + x2  # X:Z in a comment stays\nZ =~ z1 + z2\n"
        "y ~ a*X + Z + b*X:Z\nratio := a/b\n"
    )
    spec = product_indicator_model(model, data)
    assert "# X:Z in a comment stays" in spec.syntax
    assert "y ~ a*X + Z + b*X.Z" in spec.syntax
    assert "ratio := a/b" in spec.syntax
