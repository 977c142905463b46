"""General model constraints against lavaan 0.6.14 (tests/reference/R/parity/constraints.R).

Before this work every constraint other than ``a == b`` between two labels was
refused with a ModelSpecificationError, so each fixture test below failed on
the old code.
"""

import numpy as np
import pandas as pd
import pytest

from ckm_research.errors import ModelSpecificationError
from tests.reference_compare import REF, compare_estimates, compare_fit, fit_like_lavaan, load

REQUIRED = [
    "npar",
    "chisq",
    "df",
    "pvalue",
    "cfi",
    "tli",
    "rmsea",
    "srmr",
    "logl",
    "aic",
    "bic",
    "gfi",
]
REQUIRED_MLR = [
    "chisq.scaled",
    "df.scaled",
    "chisq.scaling.factor",
    "cfi.scaled",
    "rmsea.scaled",
    "cfi.robust",
    "tli.robust",
    "rmsea.robust",
]

LINEAR = [
    "constraints_hs_linear_ml",
    "constraints_hs_linear_mlr",
    "constraints_pd_linear_ml",
]


def _check(name, skip_fit=(), required=REQUIRED):
    ref = load(f"parity_{name}")
    res = fit_like_lavaan(ref)
    ref["fit"] = {k: v for k, v in ref["fit"].items() if k not in skip_fit}
    robust = (ref.get("args") or {}).get("estimator") == "MLR"
    compare_estimates(res.estimates, ref["estimates"], se_rtol=0.02 if robust else 0.01)
    compare_fit(res.fit_measures, ref["fit"], required=required + (REQUIRED_MLR if robust else []))
    # standardized solution: delta-method SEs from the constrained vcov
    lav = pd.DataFrame(ref["estimates"]).fillna({"rhs": ""})
    m = lav.merge(res.standardized_solution, on=["lhs", "op", "rhs"], suffixes=("_lav", ""))
    assert len(m) == len(lav)
    ok = m["se.std"].fillna(0) > 1e-8
    np.testing.assert_allclose(
        m.loc[ok, "se"], m.loc[ok, "se.std"], rtol=0.02 if robust else 0.01, err_msg="se.std"
    )
    return ref, res


@pytest.mark.parametrize("name", LINEAR)
def test_linear_equalities_match_lavaan(name):
    ref, res = _check(name)
    # df grows by the number of (independent) equality constraints, npar shrinks by it
    n_eq = len(ref["con_ceq_idx"])
    assert res.fit_measures["npar"] == ref["npar"] - n_eq
    assert res.fit_measures["df"] == ref["fit"]["df"]


def test_constant_constraint_fixes_the_parameter():
    """``c == 1.25`` holds exactly and c gets SE 0, as in lavaan."""
    ref, res = _check("constraints_pd_linear_ml")
    est = res.estimates.set_index(["lhs", "op", "rhs"])
    assert est.loc[("dem60", "=~", "y4"), "est"] == pytest.approx(1.25, abs=1e-9)
    assert est.loc[("dem60", "=~", "y4"), "se"] == 0.0
    a = est.loc[("dem60", "=~", "y2"), "est"]
    b = est.loc[("dem60", "=~", "y3"), "est"]
    assert a == pytest.approx(1.2 * b, abs=1e-9)


def test_constraints_refused_with_wlsmv():
    from ckm_research import fit

    model = load("parity_constraints_hs_linear_ml")["model"]
    ordinal = pd.read_csv(REF / "data" / "ordinal_hs.csv")
    with pytest.raises(
        ModelSpecificationError, match="'a \\+ b == 2' .*not supported with WLSMV.*'FIML'"
    ):
        fit(model, ordinal, estimator="WLSMV", ordered="all")


def test_constraint_errors_name_the_problem():
    from ckm_research import fit

    hs = pd.read_csv(REF / "data" / "HolzingerSwineford1939.csv")
    base = "visual =~ x1 + a*x2 + b*x3\ntextual =~ x4 + x5 + x6\n"
    with pytest.raises(ModelSpecificationError, match="uses 'q'.*neither a parameter label"):
        fit(base + "a + q == 2", hs)
    with pytest.raises(ModelSpecificationError, match="contradict each other"):
        fit(base + "a + b == 2\na + b == 3", hs)


def test_fit_of_equality_constraint_is_lavaans_solution():
    """The constrained solution meets its constraint to optimiser precision."""
    _, res = _check("constraints_hs_linear_ml")
    est = res.estimates.set_index(["lhs", "op", "rhs"])["est"]
    assert est[("textual", "=~", "x5")] + est[("textual", "=~", "x6")] == pytest.approx(2.0)
    assert np.isfinite(res.fit_measures["chisq"])


NONLINEAR = ["constraints_pd_nonlinear_ml", "constraints_hs_nonlinear_mlr"]


@pytest.mark.parametrize("name", NONLINEAR)
def test_nonlinear_equalities_match_lavaan(name):
    ref, res = _check(name)
    assert res.fit_measures["df"] == ref["fit"]["df"]


def test_constraint_on_defined_parameter():
    """``ab := a*b; ab == 1.2``: the indirect effect is held at 1.2 with SE 0
    (lavaan reports 0; ours is 0 up to the numerical Jacobian)."""
    _, res = _check("constraints_pd_nonlinear_ml")
    ab = res.estimates.query("op == ':='").iloc[0]
    assert ab["est"] == pytest.approx(1.2, abs=1e-8)
    assert ab["se"] < 1e-4


def test_inactive_inequalities_leave_the_ml_solution():
    """``a < b`` and ``v > 0.1`` hold at the unconstrained optimum: lavaan's
    estimates, SEs and df are the unconstrained ones."""
    from ckm_research import fit

    ref, res = _check("constraints_hs_ineq_inactive_ml")
    free = fit(ref["model"].rsplit("\nx1 ~~", 1)[0], pd.read_csv(REF / ref["data_csv"]))
    np.testing.assert_allclose(res.estimates["est"], free.estimates["est"], atol=1e-5)
    np.testing.assert_allclose(res.estimates["se"], free.estimates["se"], rtol=1e-4)
    assert ref["con_inactive_idx"] == [1, 2]
    assert [c["active"] for c in res.notes["constraints"]] == [False, False]


@pytest.mark.parametrize(
    "name", ["constraints_hs_ineq_active_ml", "constraints_hs_ineq_active_mlr"]
)
def test_active_inequalities_match_lavaan(name):
    """``a > b`` and ``v > 0.7`` both bind: the solution sits on the boundary,
    the active constraints enter the SEs as equalities (v gets SE 0), and the
    df are not changed, as in lavaan 0.6.14."""
    ref, res = _check(name)
    assert ref["con_inactive_idx"] == []
    est = res.estimates.set_index(["lhs", "op", "rhs"])
    assert est.loc[("x1", "~~", "x1"), "est"] == pytest.approx(0.7, abs=1e-8)
    assert est.loc[("x1", "~~", "x1"), "se"] == 0.0
    a, b = est.loc[("visual", "=~", "x2"), "est"], est.loc[("visual", "=~", "x3"), "est"]
    assert a == pytest.approx(b, abs=1e-8)
    assert res.fit_measures["df"] == ref["fit"]["df"]
    assert res.fit_measures["npar"] == ref["npar"]
    assert [c["active"] for c in res.notes["constraints"]] == [True, True]


def test_lms_refuses_general_constraints_by_name():
    from ckm_research.moderation.lms import LMSModel
    from ckm_research.sem.syntax import parse_model

    model = "X =~ x1 + a*x2 + b*x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z\n"
    with pytest.raises(ModelSpecificationError, match="'a \\+ b == 2'.*interaction='dblcent'"):
        LMSModel(parse_model(model + "a + b == 2"))


#: the GFI under FIML is not computed (see tests/reference_compare.py)
REQUIRED_FIML = [k for k in REQUIRED if k != "gfi"] + ["cfi.robust", "rmsea.robust"]
FIML = ["constraints_fiml_linear_ml", "constraints_fiml_nonlinear_mlr"]


@pytest.mark.parametrize("name", FIML)
def test_fiml_constraints_match_lavaan(name):
    """FIML with a linear (ML) and a nonlinear (MLR) equality: estimates,
    observed-information and sandwich SEs, the scaled and the FIML-corrected
    robust fit measures of the constrained model."""
    ref, res = _check(name, required=REQUIRED_FIML)
    assert res.fit_measures["df"] == ref["fit"]["df"]


def test_fiml_active_inequalities_match_lavaan():
    """Every fit measure, crmr included (its mean residuals are scaled by the
    sample SDs as lavaan's, which fixed a 0.005 difference under FIML)."""
    ref, res = _check("constraints_fiml_ineq_active_ml", (), REQUIRED_FIML + ["crmr"])
    est = res.estimates.set_index(["lhs", "op", "rhs"])
    assert est.loc[("x1", "~~", "x1"), "est"] == pytest.approx(0.7, abs=1e-8)
    assert est.loc[("x1", "~~", "x1"), "se"] == 0.0


def test_moment_refits_refuse_general_constraints():
    """The power analysis's fast refits would drop the constraint: refused by name."""
    from ckm_research.inference.refit import MomentFitter
    from ckm_research.sem.partable import build_partable

    model = load("parity_constraints_hs_linear_ml")["model"]
    pt = build_partable(model, general_constraints=True)
    with pytest.raises(ModelSpecificationError, match="'a \\+ b == 2'.*power analysis"):
        MomentFitter(pt)


def test_bound_on_a_heywood_variance_matches_lavaan():
    """Without the bound y3's residual variance is negative; with ``v > 0.01``
    the bound is active, v = 0.01 with SE 0 (lavaan prints NA, the square root
    of a round-off negative variance), the other estimates and SEs as lavaan's,
    df unchanged."""
    ref, res = _check("constraints_heywood_bound_ml")
    est = res.estimates.set_index(["lhs", "op", "rhs"])
    assert est.loc[("y3", "~~", "y3"), "est"] == pytest.approx(0.01, abs=1e-10)
    assert est.loc[("y3", "~~", "y3"), "se"] == 0.0
    assert not [w for w in res.warnings if "Heywood" in w]
    assert res.fit_measures["df"] == ref["fit"]["df"] == 2
