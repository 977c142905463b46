"""Power for latent interactions and the index of moderated mediation.

* population values from a fitted study (:func:`population_from_fit`): the true
  values of the power analysis equal the fit's estimates (product-indicator and LMS
  fits), product terms and ``:=`` effects included;
* the Monte Carlo power of an interaction agrees with the large-sample Wald power
  (``power_analytic``) within the Monte Carlo error;
* the index of moderated mediation is reported as a ``:=`` row, by the API and by
  ``ckm power`` (also with ``--from-fit``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckm_research import fit
from ckm_research.errors import ModelSpecificationError
from ckm_research.inference.population import PopulationModel, population_from_fit
from ckm_research.inference.power import power_analysis

REF = Path(__file__).parent / "reference"
ROOT = Path(__file__).resolve().parents[1]
MODEL = """X =~ x1 + x2 + x3
M =~ m1 + m2 + m3
W =~ w1 + w2 + w3
Y =~ y1 + y2 + y3
M ~ a*X
Y ~ cp*X + b*M + W + b3*M:W
imm := a*b3
"""
POPULATION = """X =~ 1*x1 + 0.8*x2 + 0.7*x3
M =~ 1*m1 + 0.8*m2 + 0.7*m3
W =~ 1*w1 + 0.8*w2 + 0.7*w3
Y =~ 1*y1 + 0.8*y2 + 0.7*y3
x1 ~~ 0.36*x1
x2 ~~ 0.36*x2
x3 ~~ 0.36*x3
m1 ~~ 0.36*m1
m2 ~~ 0.36*m2
m3 ~~ 0.36*m3
w1 ~~ 0.36*w1
w2 ~~ 0.36*w2
w3 ~~ 0.36*w3
y1 ~~ 0.36*y1
y2 ~~ 0.36*y2
y3 ~~ 0.36*y3
X ~~ 1*X
W ~~ 1*W
X ~~ 0.3*W
M ~~ 0.75*M
Y ~~ 0.49*Y
M ~ a*0.5*X
Y ~ cp*0.1*X + b*0.4*M + 0.2*W + b3*0.25*M:W
imm := a*b3
"""
KEYS = [("M", "~", "X"), ("Y", "~", "M"), ("Y", "~", "M:W"), ("imm", ":=", "a*b3")]


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(REF / "data" / "parity_modmed.csv")


@pytest.mark.parametrize("method", ["dblcent", "lms"])
def test_population_from_fit_gives_the_estimates_as_true_values(data, method):
    res = fit(MODEL, data, interaction=method)
    pop = population_from_fit(res)
    assert "b3*" in pop and "M:W" in pop and "imm := a*b3" in pop
    assert "M.W" not in pop and "m1.w1" not in pop  # the product factor is left out
    pr = power_analysis(pop, 150, 3, analysis=MODEL, random_state=1, n_jobs=1)
    true = {(r.lhs, r.op, r.rhs): r.true for r in pr.table.itertuples()}
    est = {(r.lhs, r.op, r.rhs): r.est for r in res.estimates.itertuples()}
    for key in KEYS:
        assert true[key] == pytest.approx(est[key], abs=1e-6), key


def test_population_from_fit_refuses_groups():
    hs = pd.read_csv(REF / "data" / "HolzingerSwineford1939.csv")
    res = fit("visual =~ x1 + x2 + x3", hs, group="school")
    with pytest.raises(ModelSpecificationError, match="multiple-group"):
        population_from_fit(res)


def test_interaction_power_agrees_with_the_large_sample_wald_power():
    """N = 150, R = 300 replications: the Monte Carlo power of Y ~ M:W (true 0.25)
    is within 3 Monte Carlo SEs (sqrt(p(1-p)/R), about 0.027) plus 0.02 of the
    analytic Wald power; a zero path rejects at about alpha, as the analytic
    power says (exactly alpha)."""
    pop = POPULATION.replace("cp*0.1*X", "cp*0*X")
    pr = power_analysis(pop, 150, 300, random_state=11, n_jobs=1)
    tab = pr.table.set_index(["lhs", "op", "rhs"])
    row = tab.loc[("Y", "~", "M:W")]
    mc_se = np.sqrt(row["power"] * (1 - row["power"]) / row["converged"])
    assert 0.5 < row["power_analytic"] < 0.95  # a sample size where power is informative
    assert abs(row["power"] - row["power_analytic"]) < 3 * mc_se + 0.02
    zero = tab.loc[("Y", "~", "X")]
    assert zero["power_analytic"] == pytest.approx(0.05, abs=1e-12)
    assert abs(zero["power"] - 0.05) < 3 * np.sqrt(0.05 * 0.95 / zero["converged"])
    # the index of moderated mediation is a := row with its power, true value a*b3
    imm = tab.loc[("imm", ":=", "a*b3")]
    assert imm["true"] == pytest.approx(0.125, abs=1e-8)
    assert 0 < imm["power"] <= 1 and np.isfinite(imm["power_analytic"])
    assert abs(imm["mean_est"] - 0.125) < 3 * imm["sd_est"] / np.sqrt(imm["converged"])


def test_population_moments_of_the_moderated_mediation_model():
    """Var(Y) from the population model equals the value computed by hand:
    Y = .1X + .4M + .2W + .25 (MW - E MW) + e, M = .5X + d, Cov(X, W) = .3."""
    pop = PopulationModel(POPULATION)
    cov = pop.covariance(latent=True)
    c_xm, v_m = 0.5, 0.25 + 0.75
    c_mw = 0.5 * 0.3
    lin = 0.01 + 0.16 * v_m + 0.04 + 2 * (0.1 * 0.4 * c_xm + 0.1 * 0.2 * 0.3 + 0.4 * 0.2 * c_mw)
    v_prod = v_m * 1.0 + c_mw**2  # Isserlis: Var(MW) = Var M Var W + Cov(M, W)^2
    assert cov.loc["Y", "Y"] == pytest.approx(lin + 0.0625 * v_prod + 0.49, abs=1e-12)


def _ckm(*args, cwd):
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "ckm_research.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip


def test_ckm_power_shows_interaction_and_index(tmp_path):
    (tmp_path / "pop.lav").write_text(POPULATION)
    out = _ckm("power", "pop.lav", "--n", "150", "--reps", "20", "--seed", "1", "--jobs", "1",
               "--json", "p.json", cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Y ~ M:W" in out.stdout and "\n  imm " in out.stdout
    doc = json.loads((tmp_path / "p.json").read_text())
    rows = {(r["lhs"], r["op"]): r for r in doc["power"]}
    assert rows[("imm", ":=")]["true"] == pytest.approx(0.125)
    assert "power_analytic" in rows[("imm", ":=")]
    (tmp_path / "m.lav").write_text(MODEL)
    out = _ckm("power", "m.lav", "--from-fit", str(REF / "data" / "parity_modmed.csv"), "--n",
               "150", "--reps", "5", "--seed", "1", "--jobs", "1", "--json", "q.json",
               cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Population values" in out.stderr
    doc = json.loads((tmp_path / "q.json").read_text())
    true = {(r["lhs"], r["op"], r["rhs"]): r["true"] for r in doc["power"]}
    lav = json.loads((REF / "json" / "parity_modmed_dblcent_ml.json").read_text())
    imm = next(r for r in lav["estimates"] if r["lhs"] == "imm")
    assert true[("imm", ":=", "a*b3")] == pytest.approx(imm["est"], abs=1e-3)
    # the moderated path's own := rows were added (index and conditional effects at +-1 SD)
    assert true[("imm_X_M_Y_W", ":=", "a*b3")] == pytest.approx(imm["est"], abs=1e-3)
    assert {"cind_X_M_Y_W_lo", "cind_X_M_Y_W_hi"} <= {k[0] for k in true}


def test_lms_analysis_reports_the_index_without_analytic_power():
    """Power with LMS as the analysis method: the index is a := row of every
    replication; the analytic Wald power (from the product-indicator information)
    is not given for LMS."""
    pr = power_analysis(POPULATION, 150, 2, interaction="lms", random_state=2, n_jobs=1)
    tab = pr.table.set_index(["lhs", "op", "rhs"])
    assert pr.settings["interaction"] == "lms"
    assert tab.loc[("imm", ":=", "a*b3"), "true"] == pytest.approx(0.125, abs=1e-8)
    assert tab.loc[("imm", ":=", "a*b3"), "converged"] == 2
    assert np.isnan(tab["power_analytic"]).all()


def test_a_single_indicator_factor_keeps_its_fixed_error_in_the_analysis_model():
    # found on the corporate-reputation survey (CUSA =~ cusa): the population of a
    # fitted model writes the item's residual variance as 0*cusa; freeing it made the
    # analysis model unidentified and the interaction power stage fail
    from ckm_research.inference.population import freed_syntax

    pop = (
        "X =~ 1*x1 + 0.8*x2 + 0.8*x3\nZ =~ 1*z1 + 0.8*z2 + 0.8*z3\nS =~ 1*s1\n"
        "Y =~ 1*y1 + 0.8*y2 + 0.8*y3\nY ~ 0.3*X + 0.2*Z + 0.2*X:Z + 0.3*S\n"
        + "".join(f"{v} ~~ 0.4*{v}\n" for v in
                  ["x1", "x2", "x3", "z1", "z2", "z3", "y1", "y2", "y3"])
        + "s1 ~~ 0*s1\nX ~~ 1*X\nZ ~~ 1*Z\nS ~~ 1*S\nY ~~ 0.5*Y\nX ~~ 0.3*Z\n"
    )
    assert "s1 ~~ 0.0*s1" in freed_syntax(pop).splitlines()
    assert "x1 ~~ x1" in freed_syntax(pop).splitlines()  # other residuals are freed
    res = power_analysis(pop, [300], 20, estimator="ML", interaction="dblcent",
                         random_state=3, n_jobs=1, progress=False)
    assert int(res.convergence["converged"].iloc[0]) >= 18
