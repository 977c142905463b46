"""Moderated mediation: conditional indirect effects, their Johnson-Neyman region
and the index of moderated mediation (Hayes, 2015).

References: lavaan 0.6.14's delta-method ``:=`` rows of the same model fitted to
semTools::indProd double-mean-centred product indicators
(tests/reference/R/parity/modmed.R: cases parity_modmed_dblcent_ml and _fiml);
the bootstrap's own ``:=`` rows (a second code path for the bootstrap intervals);
a brute-force scan for the Johnson-Neyman region; recovery of known population
values over simulated samples, with the Monte Carlo error stated.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ckm_research import fit
from ckm_research.errors import CkmError
from ckm_research.moderation.mediation import (
    conditional_indirect,
    index_of_moderated_mediation,
    johnson_neyman_indirect,
    moderated_mediation,
    moderated_mediation_paths,
    moderated_mediation_syntax,
    plot_conditional_indirect,
)

REF = Path(__file__).parent / "reference"
ROOT = Path(__file__).resolve().parents[1]
MODEL = """X =~ x1 + x2 + x3
M =~ m1 + m2 + m3
W =~ w1 + w2 + w3
Y =~ y1 + y2 + y3
M ~ a*X
Y ~ cp*X + b*M + W + b3*M:W
"""
DEFS = """ind_lo := a*(b + b3*(-1))
ind_mid := a*b
ind_hi := a*(b + b3*1)
ind_half := a*(b + b3*0.5)
imm := a*b3
"""
# the := rows of the lavaan case and the moderator value each one is at
AT = {"ind_lo": -1.0, "ind_mid": 0.0, "ind_half": 0.5, "ind_hi": 1.0}


def _lavaan(case):
    ref = json.loads((REF / "json" / f"parity_{case}.json").read_text())
    return {r["lhs"]: r for r in ref["estimates"] if r["op"] == ":="}


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(REF / "data" / "parity_modmed.csv")


@pytest.fixture(scope="module")
def res(data):
    return fit(MODEL, data)


@pytest.mark.parametrize("case", ["modmed_dblcent_ml", "modmed_dblcent_fiml"])
def test_conditional_indirect_and_index_match_lavaan(case, res):
    lav = _lavaan(case)
    if case.endswith("fiml"):
        res = fit(MODEL, pd.read_csv(REF / "data" / "parity_modmed_missing.csv"), missing="ml")
    tab = conditional_indirect(res, "X", "M", "Y", "W", at=list(AT.values()))
    assert (tab["method"] == "delta").all()
    for name, w in AT.items():
        row = tab[tab["moderator_value"] == w].iloc[0]
        assert row["est"] == pytest.approx(lav[name]["est"], abs=1e-3)
        assert row["se"] == pytest.approx(lav[name]["se"], rel=0.01)
        assert row["pvalue"] == pytest.approx(lav[name]["pvalue"], abs=1e-3)
    imm = index_of_moderated_mediation(res, "X", "M", "Y", "W").iloc[0]
    assert (imm["stage"], imm["formula"]) == ("second", "a*b3")
    assert imm["est"] == pytest.approx(lav["imm"]["est"], abs=1e-3)
    assert imm["se"] == pytest.approx(lav["imm"]["se"], rel=0.01)
    assert imm["ci.lower"] == pytest.approx(lav["imm"]["ci.lower"], abs=1e-3)


def test_lavaan_style_definitions_with_product_labels(data):
    """``:=`` lines using the label of a product term (``b3*M:W``) give lavaan's rows."""
    lav = _lavaan("modmed_dblcent_ml")
    est = fit(MODEL + DEFS, data).estimates.set_index("lhs")
    for name in [*AT, "imm"]:
        assert est.loc[name, "op"] == ":="
        assert est.loc[name, "est"] == pytest.approx(lav[name]["est"], abs=1e-3)
        assert est.loc[name, "se"] == pytest.approx(lav[name]["se"], rel=0.01)


def test_default_moderator_values_are_mean_and_one_sd(res):
    tab = conditional_indirect(res, "X", "M", "Y", "W")
    est = res.estimates
    var_w = est.query("lhs == 'W' and op == '~~' and rhs == 'W'")["est"].iloc[0]
    assert list(tab["label"]) == ["-1 SD", "Mean", "+1 SD"]
    np.testing.assert_allclose(tab["moderator_value"], [-np.sqrt(var_w), 0, np.sqrt(var_w)],
                               atol=1e-8)  # fmt: skip
    # at W = 0 the indirect effect is a*b
    a = est.query("lhs == 'M' and rhs == 'X'")["est"].iloc[0]
    b = est.query("lhs == 'Y' and rhs == 'M'")["est"].iloc[0]
    assert tab["est"].iloc[1] == pytest.approx(a * b, abs=1e-12)


def test_johnson_neyman_region_against_a_scan(res):
    jn = johnson_neyman_indirect(res, "X", "M", "Y", "W")
    assert len(jn.bounds) == 2
    # at each bound the Wald statistic is exactly the critical value
    at = conditional_indirect(res, "X", "M", "Y", "W", at=list(jn.bounds))
    np.testing.assert_allclose(np.abs(at["z"]), stats.norm.ppf(0.975), rtol=1e-6)
    # a scan agrees with the regions everywhere on [-4, 4] (away from the bounds)
    ws = np.linspace(-4, 4, 801)
    scan = conditional_indirect(res, "X", "M", "Y", "W", at=ws)
    sig = (scan["ci.lower"] > 0) | (scan["ci.upper"] < 0)
    near = np.min(np.abs(ws[:, None] - np.array(jn.bounds)[None, :]), axis=1) < 1e-3
    assert (sig.to_numpy() == jn.is_significant(ws))[~near].all()
    assert "excludes 0" in jn.describe()


def test_bootstrap_intervals_equal_the_bootstraps_own_definitions(data):
    """conditional_indirect(se='bootstrap') from the replicates of a, b, b3 equals
    the bootstrap of the model with the same := lines (percentile and BCa)."""
    from ckm_research.inference.bootstrap import bootstrap

    sub = data.iloc[:150].reset_index(drop=True)
    res = fit(MODEL + DEFS, sub)
    boot = bootstrap(MODEL + DEFS, sub, n_boot=60, random_state=3, n_jobs=1, bca=True,
                     result=res, progress=False)  # fmt: skip
    b = boot.estimates.set_index("lhs")
    for ci in ("perc", "bca"):
        tab = conditional_indirect(res, "X", "M", "Y", "W", at=list(AT.values()),
                                   se="bootstrap", boot=boot, ci=ci)  # fmt: skip
        assert tab["method"].iloc[0].startswith("bootstrap")
        for name, w in AT.items():
            row = tab[tab["moderator_value"] == w].iloc[0]
            assert row["se"] == pytest.approx(b.loc[name, "se"], rel=1e-9)
            assert row["ci.lower"] == pytest.approx(b.loc[name, f"{ci}.lower"], rel=1e-9)
            assert row["ci.upper"] == pytest.approx(b.loc[name, f"{ci}.upper"], rel=1e-9)
        imm = index_of_moderated_mediation(res, "X", "M", "Y", "W", se="bootstrap", boot=boot,
                                           ci=ci).iloc[0]  # fmt: skip
        assert imm["se"] == pytest.approx(b.loc["imm", "se"], rel=1e-9)
        assert imm["ci.lower"] == pytest.approx(b.loc["imm", f"{ci}.lower"], rel=1e-9)
    # the bootstrap Johnson-Neyman region (grid) is where the percentile interval excludes 0
    jn = johnson_neyman_indirect(res, "X", "M", "Y", "W", se="bootstrap", boot=boot)
    ws = np.linspace(*jn.search_range, 61)[1:-1]
    tab = conditional_indirect(res, "X", "M", "Y", "W", at=ws, se="bootstrap", boot=boot)
    sig = ((tab["ci.lower"] > 0) | (tab["ci.upper"] < 0)).to_numpy()
    near = np.min(np.abs(ws[:, None] - np.array(jn.bounds + (1e9,))[None, :]), axis=1) < 0.05
    assert (sig == jn.is_significant(ws))[~near].all()


def test_bootstrap_run_here_refits_with_the_fits_options(res, data):
    tab = conditional_indirect(res, "X", "M", "Y", "W", se="bootstrap", data=data.iloc[:150],
                               n_boot=5, random_state=1, n_jobs=1)  # fmt: skip
    assert tab["method"].iloc[0] == "bootstrap percentile (5/5 resamples)"
    with pytest.raises(CkmError, match="needs the data"):
        conditional_indirect(res, "X", "M", "Y", "W", se="bootstrap")


def test_paths_found_and_bad_requests(res):
    paths = moderated_mediation_paths(res)
    assert [(p.x, p.m, p.y, p.moderator, p.stage) for p in paths] == [
        ("X", "M", "Y", "W", "second")
    ]
    out = moderated_mediation(res)
    assert len(out["conditional"]) == 3 and len(out["index"]) == 1
    with pytest.raises(CkmError, match="moderates neither stage"):
        conditional_indirect(res, "X", "M", "Y", "Y2")
    with pytest.raises(CkmError, match="no path M ~ W"):
        conditional_indirect(res, "W", "M", "Y", "X")
    with pytest.raises(CkmError, match="'se' parameter of conditional_indirect"):
        conditional_indirect(res, "X", "M", "Y", "W", se="sobel")
    with pytest.raises(CkmError, match="four different"):
        conditional_indirect(res, "X", "M", "Y", "M")
    with pytest.raises(CkmError, match="'at' parameter of conditional_indirect"):
        conditional_indirect(res, "X", "M", "Y", "W", at=["low", "high"])


def test_multiple_group_fits_are_refused(data):
    d = data.assign(g=np.arange(len(data)) % 2)
    res = fit(MODEL, d, group="g")
    with pytest.raises(CkmError, match="multiple-group"):
        conditional_indirect(res, "X", "M", "Y", "W")


def test_first_and_both_stage_moderation(data):
    """First stage: index a3*b; both stages: quadratic, no index, JN from a quartic."""
    model = MODEL.replace("M ~ a*X", "M ~ a*X + W + a3*X:W")
    res = fit(model + "imm1 := a*b3 + a3*b\nq := a3*b3\n", data)
    paths = {(p.x, p.m, p.y, p.moderator): p.stage for p in moderated_mediation_paths(res)}
    assert paths[("X", "M", "Y", "W")] == "both"
    with pytest.raises(CkmError, match="both stages"):
        index_of_moderated_mediation(res, "X", "M", "Y", "W")
    # omega(w) = (a + a3 w)(b + b3 w); check against := rows written out
    tab = conditional_indirect(res, "X", "M", "Y", "W", at=[0.7])
    est = res.estimates.set_index("label")
    a, a3, b, b3 = (est.loc[k, "est"] for k in ("a", "a3", "b", "b3"))
    assert tab["est"].iloc[0] == pytest.approx((a + 0.7 * a3) * (b + 0.7 * b3), abs=1e-12)
    jn = johnson_neyman_indirect(res, "X", "M", "Y", "W")
    if jn.bounds:
        at = conditional_indirect(res, "X", "M", "Y", "W", at=list(jn.bounds))
        np.testing.assert_allclose(np.abs(at["z"]), stats.norm.ppf(0.975), rtol=1e-6)


def test_plot(res):
    fig = plot_conditional_indirect(res, "X", "M", "Y", "W")
    ax = fig.axes[0]
    assert ax.get_title() == "Conditional indirect effect"
    assert any("JN bounds" in t.get_text() for t in ax.texts)


def _ckm(*args, cwd):
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "ckm_research.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip


def test_cli_moderated_mediation(tmp_path):
    (tmp_path / "m.lav").write_text(MODEL)
    csv = REF / "data" / "parity_modmed.csv"
    out = _ckm("fit", "m.lav", str(csv), "--moderated-mediation", "X:M:Y:W", "--json",
               "fit.json", cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "conditional indirect effects (delta)" in out.stdout
    assert "Index of moderated mediation" in out.stdout
    doc = json.loads((tmp_path / "fit.json").read_text())["moderated_mediation"]
    lav = _lavaan("modmed_dblcent_ml")
    assert doc["index"][0]["est"] == pytest.approx(lav["imm"]["est"], abs=1e-3)
    assert [r["label"] for r in doc["conditional"]] == ["-1 SD", "Mean", "+1 SD"]
    bad = _ckm("fit", "m.lav", str(csv), "--moderated-mediation", "X:M:Y", cwd=tmp_path)
    assert bad.returncode == 2 and "X:M:Y:W" in bad.stderr
    bad = _ckm("fit", "m.lav", str(csv), "--moderated-mediation", "X:M:Y:Q", cwd=tmp_path)
    assert bad.returncode == 2 and "moderates neither stage" in bad.stderr


def test_cli_moderated_mediation_reuses_the_bootstrap(tmp_path):
    (tmp_path / "m.lav").write_text(MODEL)
    sub = pd.read_csv(REF / "data" / "parity_modmed.csv").iloc[:150]
    sub.to_csv(tmp_path / "d.csv", index=False)
    out = _ckm("fit", "m.lav", "d.csv", "--moderated-mediation", "auto", "--bootstrap", "20",
               "--seed", "1", "--jobs", "1", cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "bootstrap percentile (20/20 resamples)" in out.stdout


# --------------------------------------------------------------- recovery
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
M ~ 0.5*X
Y ~ 0.1*X + 0.4*M + 0.2*W + 0.25*M:W
"""


def test_recovery_of_known_conditional_indirect_effects():
    """Population a = 0.5, b = 0.4, b3 = 0.25, var(W) = 1 (first loadings 1, so the
    latent metric is the population's): omega(-1, 0, 1) = 0.075, 0.2, 0.325 and the
    index 0.125.  Over K = 40 samples of N = 400 the mean estimate is within 3 Monte
    Carlo SEs (SD/sqrt(K), about 0.007) of the truth, and the delta-method 95%
    intervals at W = -1, 0, 1 and of the index cover it in 0.95 +/- 3*sqrt(.95*.05/40)
    (= 0.10) of the samples (about 20 s)."""
    from ckm_research.inference.population import PopulationModel

    pop = PopulationModel(POPULATION)
    rng = np.random.default_rng(20261202)
    truth = np.array([0.075, 0.2, 0.325, 0.125])
    K, est, cover = 40, [], []
    for _ in range(K):
        d = pop.simulate(400, rng)
        r = fit(MODEL, d)
        t = conditional_indirect(r, "X", "M", "Y", "W", at=[-1.0, 0.0, 1.0])
        i = index_of_moderated_mediation(r, "X", "M", "Y", "W")
        tab = pd.concat([t, i], ignore_index=True)
        est.append(tab["est"].to_numpy())
        cover.append(((tab["ci.lower"] <= truth) & (truth <= tab["ci.upper"])).to_numpy())
    est, cover = np.array(est), np.array(cover)
    mc_se = est.std(axis=0, ddof=1) / np.sqrt(K)
    assert np.all(np.abs(est.mean(axis=0) - truth) < 3 * mc_se + 1e-3)
    assert np.all(np.abs(cover.mean(axis=0) - 0.95) <= 3 * np.sqrt(0.95 * 0.05 / K))


def test_lms_fit_matches_its_own_definitions(data):
    """On an LMS fit (M endogenous in the product M:W) the conditional indirect effects
    and the index equal LMS's own delta-method := rows."""
    res = fit(MODEL + DEFS, data, interaction="lms")
    est = res.estimates.set_index("lhs")
    tab = conditional_indirect(res, "X", "M", "Y", "W", at=list(AT.values()))
    for name, w in AT.items():
        row = tab[tab["moderator_value"] == w].iloc[0]
        assert row["est"] == pytest.approx(est.loc[name, "est"], rel=1e-10)
        assert row["se"] == pytest.approx(est.loc[name, "se"], rel=1e-4)
    imm = index_of_moderated_mediation(res, "X", "M", "Y", "W").iloc[0]
    assert imm["se"] == pytest.approx(est.loc["imm", "se"], rel=1e-4)


def test_fiml_bootstrap_refits_every_resample_by_fiml():
    """With missing='ml' the bootstrap refits each resample by FIML on all cases (no
    listwise deletion), and the intervals equal those of the same := lines."""
    from ckm_research.inference.bootstrap import bootstrap

    dm = pd.read_csv(REF / "data" / "parity_modmed_missing.csv").iloc[:150]
    assert dm.isna().any(axis=1).sum() > 50  # most cases are incomplete
    res = fit(MODEL + DEFS, dm, missing="ml")
    assert res.n == len(dm)
    boot = bootstrap(MODEL + DEFS, dm, n_boot=6, random_state=5, n_jobs=1, missing="ml",
                     result=res, progress=False)  # fmt: skip
    assert boot.method.startswith("FIML refit")  # pattern-moment refits (inference/fiml_refit)
    b = boot.estimates.set_index("lhs")
    tab = conditional_indirect(res, "X", "M", "Y", "W", at=[-1.0, 1.0], se="bootstrap",
                               boot=boot)  # fmt: skip
    for name, (_, row) in zip(["ind_lo", "ind_hi"], tab.iterrows(), strict=True):
        assert row["se"] == pytest.approx(b.loc[name, "se"], rel=1e-9)
        assert row["ci.lower"] == pytest.approx(b.loc[name, "perc.lower"], rel=1e-9)
        assert row["ci.upper"] == pytest.approx(b.loc[name, "perc.upper"], rel=1e-9)


def test_johnson_neyman_description_is_limited_to_three_sd():
    from ckm_research.moderation.mediation import IndirectJohnsonNeyman

    def jn(*regions):
        return IndirectJohnsonNeyman(regions, (), 0.0, 2.0, 0.95, "delta", (-np.inf, np.inf))

    text = jn((-np.inf, -7896.0), (-1.0, np.inf)).describe()
    assert "7896" not in text and "[-1.000 (-0.50 SD), +3 SD]" in text
    assert "includes 0 at every" in jn((10.0, 20.0)).describe()
    assert "excludes 0 at every" in jn((-np.inf, np.inf)).describe()


def test_composite_scores_as_single_indicator_factors_match_lavaan_observed():
    """Observed composite scores: each as a single-indicator factor (its residual
    variance fixed at 0, lavaan's auto.fix.single), the product M:W by the
    double-mean-centred product of the scores, equal lavaan's regression on the
    observed scores with the product column mw (case parity_modmed_composite_ml)."""
    lav = _lavaan("modmed_composite_ml")
    comp = pd.read_csv(REF / "data" / "parity_modmed_composite.csv").drop(columns="mw")
    model = "X =~ x\nM =~ m\nW =~ w\nY =~ y\n" + "\n".join(MODEL.splitlines()[4:]) + "\n"
    res = fit(model, comp)
    tab = conditional_indirect(res, "X", "M", "Y", "W", at=list(AT.values()))
    for name, w in AT.items():
        row = tab[tab["moderator_value"] == w].iloc[0]
        assert row["est"] == pytest.approx(lav[name]["est"], abs=1e-3)
        assert row["se"] == pytest.approx(lav[name]["se"], rel=0.01)
    imm = index_of_moderated_mediation(res, "X", "M", "Y", "W").iloc[0]
    assert imm["est"] == pytest.approx(lav["imm"]["est"], abs=1e-3)
    assert imm["se"] == pytest.approx(lav["imm"]["se"], rel=0.01)


def test_moderated_mediation_syntax_writes_the_index_and_conditional_effects(data):
    text = moderated_mediation_syntax("M ~ X\nY ~ M + W + M:W", at_sd=False)
    assert text.splitlines() == [
        "M ~ a_M_X*X",
        "Y ~ b_Y_M*M + W + b3_Y_M_W*M:W",
        "imm_X_M_Y_W := a_M_X*b3_Y_M_W",
    ]
    text = moderated_mediation_syntax(MODEL)  # the researcher's labels are kept
    assert "imm_X_M_Y_W := a*b3" in text and "W ~~ v_W*W" in text
    res = fit(text, data)
    est = res.estimates.set_index("lhs")
    tab = conditional_indirect(res, "X", "M", "Y", "W")
    # the := rows at the estimated +-1 SD equal the conditional effects at those values;
    # their SEs are larger (the SD of W is estimated too)
    for name, k in (("cind_X_M_Y_W_lo", 0), ("cind_X_M_Y_W_hi", 2)):
        assert est.loc[name, "est"] == pytest.approx(tab["est"].iloc[k], abs=1e-10)
        assert est.loc[name, "se"] >= tab["se"].iloc[k]
    with pytest.raises(CkmError, match="no moderated indirect path"):
        moderated_mediation_syntax("Y ~ X + W + X:W")
