"""Simple slopes and Johnson-Neyman bounds of a double-mean-centred latent interaction
against semTools.

Fixtures: tests/reference/R/slopes.R (``Rscript tests/reference/make_reference.R slopes``):
lavaan's dblcent fit (semTools::indProd, all pairs, shared-indicator residual
covariances), simple slopes by ``semTools::probe2WayMC`` at the moderator's -1 SD, mean
and +1 SD and at fixed values, and Johnson-Neyman bounds computed in R from the same
``vcov(fit)`` by the textbook formula (semTools 0.5-6 has no Johnson-Neyman function;
the R script checks that probe2WayMC's p-value at each bound is .05).

Tolerances: estimates 1e-3 absolute, SEs 1% relative, z 1e-2 absolute (a ratio of the
two), JN bounds 1e-2 absolute (a root of a quadratic in the estimates and their vcov).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckm_research import fit
from ckm_research.moderation.simple_slopes import johnson_neyman, simple_slopes

REF = Path(__file__).parent / "reference"
CASES = ("oneint_dblcent", "weak_dblcent")


def _load(name: str) -> dict:
    return json.loads((REF / "json" / f"slopes_{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=CASES)
def case(request):
    ref = _load(request.param)
    lo, hi = ref["rows"]
    data = pd.read_csv(REF / ref["data_csv"]).iloc[lo - 1 : hi]
    assert len(data) == ref["nobs"]
    return ref, fit(ref["model"], data, interaction="dblcent")


def _compare(tab: pd.DataFrame, probe: dict) -> None:
    np.testing.assert_allclose(tab["moderator_value"], probe["moderator_value"], atol=1e-3)
    np.testing.assert_allclose(tab["slope"], probe["est"], atol=1e-3)
    np.testing.assert_allclose(tab["se"], probe["se"], rtol=0.01)
    np.testing.assert_allclose(tab["z"], probe["z"], atol=1e-2)
    np.testing.assert_allclose(tab["pvalue"], probe["pvalue"], atol=1e-3)


def test_fit_matches_lavaans_dblcent_coefficients(case):
    ref, res = case
    est = res.estimates.set_index(["lhs", "op", "rhs"])["est"]
    for rhs, key in (("X", "gamma_x"), ("Z", "gamma_z"), ("X:Z", "gamma_xz")):
        assert est[("Y", "~", rhs)] == pytest.approx(ref["coef"][key], abs=1e-3), rhs
    assert est[("Z", "~~", "Z")] == pytest.approx(ref["sd_z"] ** 2, abs=1e-3)


def test_simple_slopes_at_mean_and_sd_match_probe2waymc(case):
    ref, res = case
    tab = simple_slopes(res, "Y", "X", "Z")
    assert list(tab["label"]) == ["-1 SD", "Mean", "+1 SD"]
    _compare(tab, ref["simple_slopes_sd"])


def test_simple_slopes_at_given_values_match_probe2waymc(case):
    ref, res = case
    probe = ref["simple_slopes_fixed"]
    tab = simple_slopes(res, "Y", "X", "Z", at=probe["moderator_value"])
    assert len(tab) == len(probe["est"]) == 4
    _compare(tab, probe)


def test_johnson_neyman_bounds_match_the_r_reference(case):
    ref, res = case
    lav = ref["johnson_neyman"]
    jn = johnson_neyman(res, "Y", "X", "Z", level=lav["level"])
    assert len(lav["bounds"]) == 2  # both cases were made to have two bounds
    np.testing.assert_allclose(jn.bounds, lav["bounds"], atol=1e-2)
    assert jn.significant_inside is lav["significant_inside"]
    assert jn.always_significant is lav["always_significant"]
    assert jn.never_significant is lav["never_significant"]
    # our slopes at R's bounds are just significant, as probe2WayMC's are there
    at_bounds = simple_slopes(res, "Y", "X", "Z", at=lav["probe_at_bounds"]["moderator_value"])
    _compare(at_bounds, lav["probe_at_bounds"])
