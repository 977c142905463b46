"""Model structures lavaan fits: higher-order factors and observed product terms,
against lavaan 0.6.14 fixtures (tests/reference/R/parity/structure.R), and the
clear refusals of what is out of scope (two-level models).

Before this topic, a higher-order factor was refused ("not identified ... fix a
loading": the first-order factors were taken for exogenous factors with free
covariances) and ``x9 ~ x1 + x2 + x1:x2`` failed with "df = -2" (the product of
two observed variables went to the latent-interaction route).
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from ckm_research import fit
from ckm_research.errors import (
    HeywoodCaseWarning,
    ModelSpecificationError,
    NonPositiveDefiniteWarning,
)
from ckm_research.sem.partable import build_partable, variable_roles
from ckm_research.sem.syntax import parse_model
from tests.reference_compare import compare_estimates, compare_fit, fit_like_lavaan, load

CASES = [
    "structure_higher_order_ml",
    "structure_higher_order_mlr",
    "structure_higher_order_stdlv",
    "structure_higher_order_sem",
    "structure_higher_order_fiml",
    "structure_higher_order_wlsmv",
    "structure_product_fiml",
    "structure_fiml_covariates",
    "structure_fiml_covariates_mlr",
    "structure_product_ml",
    "structure_product_mlr",
    "structure_product_sem",
    "structure_product_pd",
    "structure_saturated_path",
    "structure_composite_pd",
    "structure_composite_pd_mlr",
    "structure_composite_pd_stdlv",
    "structure_composite_hs",
]
REQUIRED = ["chisq", "df", "npar", "cfi", "tli", "rmsea", "srmr", "aic", "bic", "logl"]
REQUIRED_MLR = ["chisq.scaled", "cfi.scaled", "rmsea.scaled", "cfi.robust", "rmsea.robust"]


def _estimator(ref) -> str:
    return (ref.get("args") or {}).get("estimator", "ML")


def _robust(ref) -> bool:
    return _estimator(ref) in ("MLR", "WLSMV")


@pytest.fixture(scope="module", params=CASES)
def case(request):
    ref = load(f"parity_{request.param}")
    with warnings.catch_warnings():
        # the Heywood case of one fixture is checked in its own test below
        warnings.simplefilter("ignore", HeywoodCaseWarning)
        warnings.simplefilter("ignore", NonPositiveDefiniteWarning)
        res = fit_like_lavaan(ref)
    return ref, res


def test_parameter_table_matches_lavaan(case):
    """Same rows, same free/fixed pattern, same fixed values (the defaults lavaan
    adds for a higher-order factor or a product covariate)."""
    ref, res = case
    t = res.engine.pt.table
    ours = {(r.lhs, r.op, r.rhs): (r.free > 0, r.ustart) for r in t.itertuples()}
    lav = {(r["lhs"], r["op"], r["rhs"] or ""): r for r in ref["partable"] if r["op"] != ":="}
    assert set(ours) == set(lav)
    for k, r in lav.items():
        free, ustart = ours[k]
        assert free == (r["free"] > 0), k
        # (WLSMV: the residual variances of ordinal items are computed, lavaan shows 1)
        if r["free"] == 0 and r["exo"] == 0 and not np.isnan(ustart):
            assert ustart == pytest.approx(r["ustart"]), k


def test_estimates_and_standard_errors(case):
    ref, res = case
    assert res.n == ref["nobs"]
    compare_estimates(res.estimates, ref["estimates"], se_rtol=0.02 if _robust(ref) else 0.01)


def test_fit_measures(case):
    ref, res = case
    required = REQUIRED + (REQUIRED_MLR if _robust(ref) else [])
    if _estimator(ref) == "WLSMV":
        required = ["chisq", "df", "cfi", "tli", "rmsea", "srmr", "chisq.scaled", "cfi.scaled"]
    if ref["fit"]["df"] == 0:
        required = ["chisq", "df", "npar", "aic", "bic", "logl"]
    compare_fit(res.fit_measures, ref["fit"], required=required)


def test_standardized_solution(case):
    ref, res = case
    lav = pd.DataFrame(ref["estimates"])
    lav["rhs"] = lav["rhs"].fillna("")
    ss = res.standardized_solution.rename(columns={"se": "se_ours", "est.std": "std_ours"})
    m = lav.merge(ss, on=["lhs", "op", "rhs"])
    assert len(m) == len(lav)
    np.testing.assert_allclose(m["std_ours"], m["std.all"], atol=1e-3)
    ok = m["se.std"].fillna(0) > 1e-8
    np.testing.assert_allclose(
        m.loc[ok, "se_ours"], m.loc[ok, "se.std"], rtol=0.02 if _robust(ref) else 0.01
    )


def test_r_squared(case):
    """First-order factors of a higher-order factor are endogenous: they have an R^2."""
    ref, res = case
    ours = res.r_squared.set_index("variable")["r2"]
    assert set(ours.index) == set(ref["rsquare"])
    for name, value in ref["rsquare"].items():
        if value is None:  # lavaan: NA above 1 (a negative residual variance)
            assert np.isnan(ours[name]), name
        else:
            assert ours[name] == pytest.approx(value, abs=1e-3), name


def test_implied_covariance(case):
    ref, res = case
    cov = ref["implied"]["cov"]
    names = list(cov["rownames"])
    ours = next(iter(res.implied.values()))["cov"]
    np.testing.assert_allclose(
        ours.loc[names, names].to_numpy(), np.asarray(cov["values"], float), atol=1e-3
    )


# ---- the roles lavaan gives (lav_partable_vnames) ------------------------------------
HO = load("parity_structure_higher_order_ml")["model"]


def test_first_order_factors_are_endogenous():
    roles = variable_roles(parse_model(HO))
    assert roles.lv_x == ("g",)
    assert roles.lv_y == ()
    t = build_partable(HO).table
    covs = t[(t["op"] == "~~") & (t["lhs"] != t["rhs"])]
    assert covs.empty  # no free covariances among visual, textual, speed (auto.cov.lv.x)


def test_observed_product_is_an_exogenous_covariate():
    roles = variable_roles(parse_model("x9 ~ x1 + x2 + x1:x2"))
    assert roles.ov_x == ("x1", "x2", "x1:x2")
    assert roles.ov_interactions == ("x1:x2",)
    assert roles.interactions == ()


def test_higher_order_sem_reports_the_heywood_case_lavaan_reports():
    ref = load("parity_structure_higher_order_sem")
    assert ref["warnings"] == ["lavaan WARNING: some estimated lv variances are negative"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonPositiveDefiniteWarning)
        with pytest.warns(HeywoodCaseWarning, match="visual"):
            fit_like_lavaan(ref)


# ---- product terms: what is built, what is refused -----------------------------------
def _hs():
    ref = load("parity_structure_product_ml")
    from tests.reference_compare import load_data

    return load_data(ref)


def test_product_column_given_in_the_data_is_used_as_it_is():
    """lavaan uses a column already named "x1:x2" (lav_data_full); the fit is the same
    as with the product built from x1 and x2."""
    hs = _hs()
    ref = load("parity_structure_product_ml")
    given = hs.assign(**{"x1:x2": hs["x1"] * hs["x2"]})
    res = fit(ref["model"], given)
    compare_estimates(res.estimates, ref["estimates"], se_rtol=0.01)


def test_product_of_a_variable_not_in_the_model_is_refused_as_in_lavaan():
    # lavaan 0.6.14: "some (observed) variables specified in the model are not found in
    # the dataset: ageyr:grade" (grade is not in the model outside the product)
    model = "visual =~ x1 + x2 + x3\nspeed =~ x7 + x8 + x9\nspeed ~ visual + ageyr + ageyr:grade"
    with pytest.raises(ModelSpecificationError, match="needs 'grade' in the model"):
        fit(model, _hs())


def test_product_of_a_dependent_variable_is_refused():
    with pytest.raises(ModelSpecificationError, match="dependent variable"):
        fit("x9 ~ x1 + x2 + x1:x2\nx1 ~ x3", _hs())


def test_three_way_product_is_refused():
    with pytest.raises(Exception, match="more than two factors|not a valid variable name"):
        fit("x9 ~ x1 + x2 + x3 + x1:x2:x3", _hs())


def test_latent_products_still_go_to_the_moderation_route():
    roles = variable_roles(
        parse_model(
            "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nx9 ~ visual + ageyr + "
            "visual:ageyr + visual:textual"
        )
    )
    assert roles.interactions == ("visual:ageyr", "visual:textual")
    assert roles.ov_interactions == ()


LATENT_BY_OBSERVED = "visual =~ x1 + x2 + x3\nspeed =~ x7 + x8 + x9\nspeed ~ visual + ageyr + "


def test_latent_by_observed_product_is_refused_with_the_lms_route():
    """lavaan 0.6.14 stops ("Interaction terms involving latent variables (visual:ageyr)
    are not supported"); product indicators would all share ageyr (not identified)."""
    with pytest.raises(ModelSpecificationError, match="latent-by-observed") as err:
        fit(LATENT_BY_OBSERVED + "visual:ageyr", _hs())
    assert "AGEYR =~ ageyr" in str(err.value) and "interaction='lms'" in str(err.value)


def test_latent_by_observed_product_fits_by_lms_as_the_message_says():
    model = LATENT_BY_OBSERVED.replace("ageyr + ", "AGEYR + ") + "visual:AGEYR\nAGEYR =~ ageyr"
    res = fit(model, _hs(), interaction="lms")
    row = res.estimates.query("lhs == 'speed' and op == '~' and rhs == 'visual:AGEYR'")
    assert len(row) == 1 and row["se"].iloc[0] > 0


# ---- composites (<~) --------------------------------------------------------------------
def test_composite_roles_and_defaults():
    """lavaan's lv.formative: a latent variable whose variables are exogenous
    covariates, with its variance fixed at 0 and no weight fixed by default."""
    model = "ind60 <~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\ndem60 ~ ind60"
    roles = variable_roles(parse_model(model))
    assert roles.lv_formative == ("ind60",)
    assert roles.lv_x == ("ind60",)
    assert roles.ov_x == ("x1", "x2", "x3")
    with pytest.raises(ModelSpecificationError, match="composite 'ind60' has no fixed scale"):
        build_partable(model)


def test_composite_summary_has_a_composites_section():
    res = fit_like_lavaan(load("parity_structure_composite_pd"))
    text = res.summary()
    assert "Composites:" in text and "ind60 <~" in text


# ---- out of scope: two-level models ----------------------------------------------------
TWO_LEVEL = """
level: 1
    fw =~ y1 + y2 + y3
level: 2
    fb =~ y1 + y2 + y3
"""


def test_two_level_syntax_is_refused_clearly():
    with pytest.raises(ModelSpecificationError) as err:
        parse_model(TWO_LEVEL)
    msg = str(err.value)
    assert "two-level" in msg and "not supported" in msg
    assert "cluster" in msg and "Mplus" in msg


def test_two_level_syntax_is_refused_by_fit():
    with pytest.raises(ModelSpecificationError, match="two-level"):
        fit(TWO_LEVEL, pd.DataFrame({"y1": [1.0, 2], "y2": [2.0, 1], "y3": [1.0, 1]}))


def test_cluster_argument_is_refused_clearly():
    with pytest.raises(ModelSpecificationError, match="cluster-robust.*not supported"):
        fit("x9 ~ x1 + x2", _hs(), cluster="school")
