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


def _check(name):
    ref = load(f"parity_{name}")
    res = fit_like_lavaan(ref)
    robust = (ref.get("args") or {}).get("estimator") == "MLR"
    compare_estimates(res.estimates, ref["estimates"], se_rtol=0.02 if robust else 0.01)
    compare_fit(res.fit_measures, ref["fit"], required=REQUIRED + (REQUIRED_MLR if robust else []))
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


def test_constraints_refused_with_fiml_and_wlsmv():
    from ckm_research import fit

    hs = pd.read_csv(REF / "data" / "HolzingerSwineford1939.csv")
    model = load("parity_constraints_hs_linear_ml")["model"]
    with pytest.raises(ModelSpecificationError, match="not supported with FIML.*'ML' and 'MLR'"):
        fit(model, hs, estimator="FIML")
    ordinal = pd.read_csv(REF / "data" / "ordinal_hs.csv")
    with pytest.raises(ModelSpecificationError, match="not supported with WLSMV"):
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
