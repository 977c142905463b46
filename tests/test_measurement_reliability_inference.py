"""Reliability with intervals and the categorical omega (issue 12).

References: ``tests/reference/json/validity_{reliability,omega_cat}.json`` made by
``tests/reference/R/validity_inference.R``: lavaan 0.6.14 ``:=`` parameters for omega
and the AVE in a ``std.lv`` CFA (delta-method SEs, ML and MLR), ``psych::alpha.ci``
(Feldt et al., 1987) and ``semTools::compRelSEM`` of a WLSMV fit of ordinal items
(Green & Yang, 2009).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ckm_research
from ckm_research.errors import CkmError
from ckm_research.measurement import (
    alpha_intervals,
    average_variance_extracted,
    composite_reliability,
    omega_categorical,
    reliability_intervals,
)
from tests.reference_compare import load

ROOT = Path(__file__).resolve().parents[1]
HS = ROOT / "tests" / "reference" / "data" / "HolzingerSwineford1939.csv"
ORD = ROOT / "tests" / "reference" / "data" / "ordinal_hs.csv"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@pytest.fixture(scope="module")
def hs():
    return pd.read_csv(HS)


@pytest.fixture(scope="module")
def hs_ml(hs):
    return ckm_research.fit(HS_MODEL, hs)


@pytest.fixture(scope="module")
def ordinal_fit():
    return ckm_research.fit(HS_MODEL, pd.read_csv(ORD), ordered="all", estimator="WLSMV")


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_delta_method_intervals_match_lavaan_defined_parameters(hs, estimator):
    ref = load("validity_reliability")[estimator.lower()]
    res = ckm_research.fit(HS_MODEL, hs, estimator=estimator)  # marker scaling: invariant
    out = reliability_intervals(res, n_boot=0)
    got = {f"{r['statistic']}_{r['factor']}": r for r in out.to_dict(orient="records")}
    tol = 0.01 if estimator == "ML" else 0.02
    for i, name in enumerate(ref["name"]):
        row = got[name]
        assert row["est"] == pytest.approx(ref["est"][i], abs=1e-3)
        assert row["se"] == pytest.approx(ref["se"][i], rel=tol)
        assert row["ci.lower"] == pytest.approx(ref["ci.lower"][i], abs=1e-3)
        assert row["ci.upper"] == pytest.approx(ref["ci.upper"][i], abs=1e-3)
    assert out["boot.se"].isna().all()


def test_interval_point_estimates_are_semtools_omega_and_ave(hs_ml):
    ref = load("validity_reliability")
    out = reliability_intervals(hs_ml, n_boot=0).set_index(["factor", "statistic"])
    for f, v in ref["omega_fitted"].items():
        assert out.at[(f, "omega"), "est"] == pytest.approx(v, abs=1e-6)
    for f, v in ref["ave_fitted"].items():
        assert out.at[(f, "ave"), "est"] == pytest.approx(v, abs=1e-6)
    # obs_var=True: semTools' default omega; no delta method (S is random too)
    obs = reliability_intervals(hs_ml, n_boot=0, obs_var=True).set_index(["factor", "statistic"])
    omega = composite_reliability(hs_ml).set_index("factor")["omega"]
    ave = average_variance_extracted(hs_ml).set_index("factor")["ave"]
    for f in omega.index:
        assert obs.at[(f, "omega"), "est"] == pytest.approx(omega[f], abs=1e-10)
        assert obs.at[(f, "ave"), "est"] == pytest.approx(ave[f], abs=1e-10)
    assert obs["se"].isna().all()


def test_bootstrap_intervals_agree_with_the_delta_method(hs_ml):
    """Both estimate the same sampling SD; with 250 resamples the bootstrap SE has a
    Monte Carlo error of about 1/sqrt(2 * 250) = 4.5%, so 20% (4.4 MC SEs) is a wide
    margin that a wrong replicate statistic (e.g. the full-sample moments) would not meet."""
    out = reliability_intervals(hs_ml, n_boot=250, random_state=3)
    assert out.attrs["n_boot_ok"] == 250
    ratio = out["boot.se"] / out["se"]
    assert ((ratio > 0.8) & (ratio < 1.2)).all(), ratio
    assert ((out["boot.lower"] < out["est"]) & (out["est"] < out["boot.upper"])).all()
    small = reliability_intervals(hs_ml, n_boot=20, random_state=3)
    pd.testing.assert_frame_equal(small, reliability_intervals(hs_ml, n_boot=20, random_state=3))
    obs = reliability_intervals(hs_ml, n_boot=20, random_state=3, obs_var=True)
    assert obs["boot.se"].notna().all() and not np.allclose(obs["boot.se"], small["boot.se"])


def test_feldt_interval_matches_psych_alpha_ci(hs):
    ref = load("validity_reliability")["feldt"]
    out = alpha_intervals(hs, HS_MODEL, n_boot=200, random_state=1).set_index("factor")
    for f, r in ref.items():
        assert out.at[f, "alpha"] == pytest.approx(r["alpha"], abs=1e-10)
        assert out.at[f, "feldt.lower"] == pytest.approx(r["lower"], abs=1e-8)
        assert out.at[f, "feldt.upper"] == pytest.approx(r["upper"], abs=1e-8)
        assert out.at[f, "n"] == r["n"]
        # the bootstrap interval is close to Feldt's for these near-normal items
        assert out.at[f, "boot.lower"] == pytest.approx(r["lower"], abs=0.03)
        assert out.at[f, "boot.upper"] == pytest.approx(r["upper"], abs=0.03)


def test_categorical_omega_matches_semtools(ordinal_fit):
    ref = load("validity_omega_cat")
    for obs_var, key in ((True, "omega"), (False, "omega_fitted")):
        got = composite_reliability(ordinal_fit, obs_var=obs_var).set_index("factor")["omega"]
        for f, v in ref[key].items():
            assert got[f] == pytest.approx(v, abs=1e-4), (key, f)
    # not the latent-response omega (ord.scale = FALSE), which is larger
    assert got["visual"] < ref["omega_latent_scale"]["visual"] - 0.05


def test_omega_categorical_of_continuous_limit():
    """With many thresholds (fine categories) the categorical omega tends to the omega of
    the latent responses, (sum lambda)^2 / 1'Sigma 1 (Green & Yang, 2009)."""
    lam = np.array([0.5, 0.6, 0.7, 0.8])
    common = np.outer(lam, lam)
    total = common.copy()
    np.fill_diagonal(total, 1.0)
    fine = [np.linspace(-2.5, 2.5, 40)] * 4
    latent = lam.sum() ** 2 / total.sum()
    assert omega_categorical(common, total, fine) == pytest.approx(latent, abs=0.01)
    coarse = [np.array([0.0])] * 4  # dichotomised at the median: less reliable
    assert omega_categorical(common, total, coarse) < latent - 0.05


def test_ordinal_fits_refuse_ave_and_intervals(ordinal_fit):
    with pytest.raises(CkmError, match="of ordinal items"):
        average_variance_extracted(ordinal_fit)
    with pytest.raises(CkmError, match="categorical omega of ordinal items are not implemented"):
        reliability_intervals(ordinal_fit)


def test_reliability_intervals_bad_input(hs, hs_ml):
    with pytest.raises(CkmError, match="'n_boot' parameter of reliability_intervals"):
        reliability_intervals(hs_ml, n_boot=1)
    with pytest.raises(CkmError, match="'level' parameter of reliability_intervals"):
        reliability_intervals(hs_ml, level=1.5)
    with pytest.raises(CkmError, match="'result' parameter"):
        reliability_intervals("visual =~ x1 + x2 + x3")
    fiml = ckm_research.fit(HS_MODEL, hs, estimator="FIML")
    with pytest.raises(CkmError, match="use n_boot=0"):
        reliability_intervals(fiml, n_boot=10)
    with pytest.raises(CkmError, match="'n_boot' parameter of alpha_intervals"):
        alpha_intervals(hs, HS_MODEL, n_boot=-1)
    with pytest.raises(CkmError, match="x10"):
        alpha_intervals(hs, "visual =~ x1 + x10")
