"""Monte Carlo power (ckm_research.inference.power) against lavaan and theory.

The lavaan fixtures (tests/reference/json/power_*.json, written by
tests/reference/R/power.R) hold a lavaan ``simulateData`` + ``sem`` loop for a
three-factor SEM with a zero path and an indirect effect, and a latent
interaction analysed by dblcent product indicators (data generated with the
latent product X*Z), with semTools' RMSEA power.  Our Monte Carlo results must
agree with them within Monte Carlo error (both sides' binomial or sampling
error, 4 standard errors); the population covariance matrix, the true values and
the analytic power must agree to numerical precision.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from ckm_research.errors import CkmError, ModelSpecificationError
from ckm_research.inference.population import PopulationModel, freed_syntax
from ckm_research.inference.power import power_analysis, rmsea_power

from .reference_compare import REF


def _load(name: str) -> dict:
    return json.loads((REF / "json" / f"power_{name}.json").read_text())


def _key(lhs, op, rhs):
    if op == "~~" and lhs > rhs:
        lhs, rhs = rhs, lhs
    return (lhs, op, rhs)


def _lavaan_table(ref) -> pd.DataFrame:
    df = pd.DataFrame(ref["power"])
    df["key"] = [_key(*k) for k in zip(df["lhs"], df["op"], df["rhs"], strict=True)]
    return df


def _ours_table(res) -> pd.DataFrame:
    df = res.table.copy()
    df["key"] = [_key(*k) for k in zip(df["lhs"], df["op"], df["rhs"], strict=True)]
    return df


def _compare_mc(ours: pd.DataFrame, lav: pd.DataFrame, r_ours: int, z: float = 4.0):
    """Power, coverage, mean estimate and SD of the estimates within Monte Carlo error."""
    m = lav.merge(ours, on=["n", "key"], suffixes=("_lav", ""), how="left", indicator=True)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", "key"].tolist()
    r_lav = m["converged_lav"].to_numpy(dtype=float)
    r_us = m["converged"].to_numpy(dtype=float)
    assert (r_us >= 0.98 * r_ours).all()
    for stat in ("power", "coverage"):
        p = (m[stat] * r_us + m[f"{stat}_lav"] * r_lav) / (r_us + r_lav)
        se = np.sqrt(np.clip(p * (1 - p), 1e-4, None) * (1 / r_us + 1 / r_lav))
        bad = np.abs(m[stat] - m[f"{stat}_lav"]) > z * se + 1e-9
        assert not bad.any(), m.loc[bad, ["n", "key", stat, f"{stat}_lav"]].to_string()
    sd = (m["sd_est"] + m["sd_est_lav"]) / 2
    se_mean = sd * np.sqrt(1 / r_us + 1 / r_lav)
    bad = np.abs(m["mean_est"] - m["mean_est_lav"]) > z * se_mean
    assert not bad.any(), m.loc[bad, ["n", "key", "mean_est", "mean_est_lav"]].to_string()
    # mean SE: the same estimator on both sides; relative Monte Carlo error below
    # that of an SD, about 1/sqrt(2R) on each side
    rel = z * np.sqrt(1 / (2 * r_us) + 1 / (2 * r_lav))
    ratio = m["mean_se"] / m["mean_se_lav"]
    assert (np.abs(np.log(ratio)) < rel).all(), m.loc[:, ["key", "mean_se", "mean_se_lav"]]
    # the SD of the estimates is not robust (one improper solution at N = 100 can
    # double it), so it is compared over the parameters: typical ratio 1
    log_ratio = np.log(m["sd_est"] / m["sd_est_lav"])
    assert abs(np.median(log_ratio)) < 0.04, log_ratio.describe()
    assert np.quantile(np.abs(log_ratio), 0.9) < np.max(rel), log_ratio.describe()
    return m


# ---------------------------------------------------------------------------
# population model


def test_population_covariance_and_true_values_match_lavaan():
    ref = _load("cfa3")
    pop = PopulationModel(ref["population"])
    cov = pop.covariance().loc[ref["ov"], ref["ov"]].to_numpy()
    np.testing.assert_allclose(cov, np.array(ref["sigma_population"]), atol=1e-12)
    res = power_analysis(ref["population"], [50], reps=2, analysis=ref["analysis"],
                         random_state=1, n_jobs=1, progress=False)  # fmt: skip
    ours = {_key(*k): v for k, v in zip(
        zip(res.table["lhs"], res.table["op"], res.table["rhs"], strict=True),
        res.table["true"], strict=True)}  # fmt: skip
    lav = {_key(*k.split("\t")): v for k, v in
           ((t["key"], t["est"]) for t in ref["true"])}  # fmt: skip
    assert set(ours) == set(lav)
    for k, v in lav.items():
        assert ours[k] == pytest.approx(v, abs=2e-7), k
    assert res.settings["df"] == ref["df"]


def test_population_model_needs_every_variance():
    with pytest.raises(ModelSpecificationError, match=r"no value for: .*x3 ~~ x3"):
        PopulationModel("F =~ 0.7*x1 + 0.7*x2 + 0.6*x3\nF ~~ 1*F\nx1 ~~ .5*x1\nx2 ~~ .5*x2")
    with pytest.raises(ModelSpecificationError, match="thresholds"):
        PopulationModel("F =~ 0.7*x1 + 0.7*x2\nF ~~ 1*F\nx1 | 0.5*t1")
    # a product of a variable that itself depends on a product is refused
    with pytest.raises(ModelSpecificationError, match="depends on a product"):
        PopulationModel(
            "X =~ 1*x1\nZ =~ 1*z1\nY =~ 1*y1\nW =~ 1*w1\nY ~ 0.2*X:Z\nW ~ 0.2*Y:Z\n"
            "X ~~ 1*X\nZ ~~ 1*Z\nY ~~ 1*Y\nW ~~ 1*W\n"
            "x1 ~~ .5*x1\nz1 ~~ .5*z1\ny1 ~~ .5*y1\nw1 ~~ .5*w1"
        )


def test_freed_syntax_keeps_labels_and_definitions():
    text = freed_syntax("F =~ 0.7*x1 + 0.7*x2\nF ~~ 1*F\ny ~ b*0.3*F + 0*x3\ny ~ 1\nd := 2*b")
    assert text.splitlines() == ["F =~ x1 + x2", "F ~~ F", "y ~ b*F + x3", "y ~ 1", "d := 2*b"]


def test_latent_product_moments_exact():
    ref = _load("interaction")
    pop = PopulationModel(ref["population"])
    prods = {"x1.z1": ("x1", "z1"), "x2.z3": ("x2", "z3"), "x1.z2": ("x1", "z2")}
    names = ["x1", "z2", "y1", "y3", "x1.z1", "x2.z3", "x1.z2"]
    cov, mean = pop.moments(names, prods)
    # closed forms: Cov(y1, x1.z1) = l_y1 * w * l_x1 * l_z1 * Var(XZ) with
    # Var(XZ) = phi_x phi_z + phi_xz^2 (Isserlis), the product's own variance ...
    var_xz = 1 * 1 + 0.3**2
    assert cov[2, 4] == pytest.approx(0.8 * 0.2 * 0.8 * 0.8 * var_xz, rel=1e-12)
    var_x1, var_z1 = 1.0, 1.0  # standardised items
    cov_x1z1 = 0.8 * 0.3 * 0.8
    assert cov[4, 4] == pytest.approx(var_x1 * var_z1 + cov_x1z1**2, rel=1e-12)
    assert cov[0, 4] == 0.0 and mean[4] == 0.0
    # ... and a large simulated sample agrees
    x = pop.simulate(200_000, random_state=3)
    for p, (a, b) in prods.items():
        xa, xb = x[a] - x[a].mean(), x[b] - x[b].mean()
        x[p] = xa * xb - (xa * xb).mean()
    emp = np.cov(x[names].to_numpy().T, bias=True)
    np.testing.assert_allclose(emp, cov, atol=0.03)


# ---------------------------------------------------------------------------
# Monte Carlo power against lavaan


@pytest.fixture(scope="module")
def cfa3_ours():
    ref = _load("cfa3")
    res = power_analysis(ref["population"], ref["n"], reps=1000, analysis=ref["analysis"],
                         random_state=2024, n_jobs=2, progress=False)  # fmt: skip
    return ref, res


def test_power_agrees_with_lavaan_simulation(cfa3_ours):
    ref, res = cfa3_ours
    m = _compare_mc(_ours_table(res), _lavaan_table(ref), 1000)
    # the comparison covers the zero path, the indirect effect and every loading
    assert {("f3", "~", "f1"), ("ind", ":=", "a*b"), ("f1", "=~", "x2")} <= set(m["key"])
    # the model's chi-square test: rejection rates within binomial error
    for ours, lav in zip(res.model_test["mc_reject_exact_fit"], ref["model_test"], strict=True):
        p = (ours + lav["chisq_reject"]) / 2
        assert abs(ours - lav["chisq_reject"]) < 4 * math.sqrt(p * (1 - p) * (1 / 1000 + 1 / 500))


def test_analytic_rmsea_power_matches_semtools(cfa3_ours):
    ref, res = cfa3_ours
    for row, lav in zip(res.model_test.itertuples(index=False), ref["rmsea_power"], strict=True):
        assert row.n == lav["n"]
        assert row.power_close_fit == pytest.approx(lav["close_fit"], rel=1e-9)
        assert row.power_not_close_fit == pytest.approx(lav["not_close_fit"], rel=1e-9)
        # a correctly specified model: population RMSEA 0, exact-fit power = alpha
        assert row.power_exact_fit == pytest.approx(0.05)
    assert res.settings["rmsea_population"] == pytest.approx(0.0, abs=1e-6)
    assert rmsea_power(200, 40) == pytest.approx(0.6884720630, rel=1e-8)
    # exact fit of a misspecified model: power grows with N
    p = rmsea_power(np.array([100, 400]), 20, 0.0, 0.06)
    assert 0.05 < p[0] < p[1] < 1


def test_latent_interaction_power_agrees_with_lavaan_dblcent():
    ref = _load("interaction")
    res = power_analysis(ref["population"], ref["n"], reps=800, random_state=11, n_jobs=2,
                         progress=False)  # fmt: skip
    assert res.settings["interaction"] == "dblcent"
    assert res.settings["df"] == ref["df"]
    ours, lav = _ours_table(res), _lavaan_table(ref)
    # true values: exact here, a 200000-case fit in R
    truth = {_key(*t["key"].split("\t")): t["est"] for t in ref["true"]}
    got = dict(zip(ours["key"], ours["true"], strict=False))
    assert set(truth) == set(got)
    for k, v in truth.items():
        assert got[k] == pytest.approx(v, abs=0.02), k
    # in marker-variable scale the interaction is w * l_y1 / (l_x1 * l_z1) = 0.2 * .8/.64
    assert got[("Y", "~", "X:Z")] == pytest.approx(0.25, abs=1e-8)
    lav["true"] = [got[k] for k in lav["key"]]  # coverage judged against the same truth
    m = _compare_mc(ours, lav, 800)
    assert m.loc[m["key"] == ("Y", "~", "X:Z"), "power"].iloc[0] > 0.5
    lav_rej = ref["model_test"][0]["chisq_reject"]
    ours_rej = res.model_test["mc_reject_exact_fit"].iloc[0]
    p = (lav_rej + ours_rej) / 2
    assert abs(lav_rej - ours_rej) < 4 * math.sqrt(p * (1 - p) * (1 / 800 + 1 / 400))


def test_zero_path_shows_the_nominal_type_one_error():
    ref = _load("cfa3")
    reps, alpha = 2000, 0.05
    res = power_analysis(ref["population"], [400], reps=reps, analysis=ref["analysis"],
                         random_state=7, n_jobs=2, alpha=alpha, progress=False)  # fmt: skip
    zero = res.table.query("lhs == 'f3' and op == '~' and rhs == 'f1'").iloc[0]
    assert zero["true"] == 0.0
    tol = 3 * math.sqrt(alpha * (1 - alpha) / reps)  # binomial, 3 standard errors
    assert abs(zero["power"] - alpha) < tol
    assert abs(zero["coverage"] - (1 - alpha)) < tol
    assert abs(zero["bias"]) < 3 * zero["sd_est"] / math.sqrt(reps)
    # and the paths that are not zero are found more often
    nonzero = res.table.query("op == '~' and not (lhs == 'f3' and rhs == 'f1')")
    assert (nonzero["power"] > 0.5).all()


# ---------------------------------------------------------------------------
# estimators, reproducibility, output


def test_mlr_and_fiml_paths():
    ref = _load("cfa3")
    kw = dict(analysis=ref["analysis"], random_state=3, n_jobs=1, progress=False)
    ml = power_analysis(ref["population"], [200], reps=150, **kw)
    mlr = power_analysis(ref["population"], [200], reps=150, estimator="MLR", **kw)
    # same samples, same estimates; sandwich SEs close to ML SEs with normal data
    np.testing.assert_allclose(mlr.table["mean_est"], ml.table["mean_est"], rtol=1e-6)
    ratio = mlr.table["mean_se"] / ml.table["mean_se"]
    assert np.all(np.abs(ratio - 1) < 0.1), ratio
    fiml = power_analysis(ref["population"], [120], reps=3, estimator="FIML", **kw)
    assert fiml.convergence["converged"].iloc[0] == 3
    with pytest.raises(CkmError, match="'estimator' parameter of power_analysis"):
        power_analysis(ref["population"], [100], reps=3, estimator="WLSMV")


@pytest.fixture(scope="module")
def dask_cluster():
    import distributed

    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None,
        protocol="tcp", host="127.0.0.1",
    )  # fmt: skip
    yield cluster
    cluster.close()


def test_same_seed_same_numbers_with_1_or_2_workers_and_on_dask(dask_cluster):
    ref = _load("interaction")
    kw = dict(reps=24, random_state=99, progress=False)
    one = power_analysis(ref["population"], [120, 160], n_jobs=1, **kw)
    two = power_analysis(ref["population"], [120, 160], n_jobs=2, **kw)
    dsk = power_analysis(ref["population"], [120, 160], scheduler=dask_cluster.scheduler_address,
                         **kw)  # fmt: skip
    dsk_cluster = power_analysis(ref["population"], [120, 160], scheduler=dask_cluster, **kw)
    for other in (two, dsk, dsk_cluster):
        pd.testing.assert_frame_equal(one.table, other.table)
        pd.testing.assert_frame_equal(one.model_test, other.model_test)
    other_seed = power_analysis(ref["population"], [120, 160], n_jobs=1,
                                **dict(kw, random_state=100))  # fmt: skip
    assert not one.table["mean_est"].equals(other_seed.table["mean_est"])


def test_json_plot_and_cli(tmp_path):
    from ckm_research.cli import main

    ref = _load("cfa3")
    pop = tmp_path / "pop.lav"
    pop.write_text(ref["population"], encoding="utf-8")
    ana = tmp_path / "ana.lav"
    ana.write_text(ref["analysis"], encoding="utf-8")
    out, png = tmp_path / "power.json", tmp_path / "power.png"
    code = main(["power", str(pop), "--analysis", str(ana), "--n", "80", "120", "--reps", "20",
                 "--seed", "5", "--jobs", "1", "--json", str(out), "--plot", str(png)])  # fmt: skip
    assert code == 0
    doc = json.loads(out.read_text())
    assert {"n", "lhs", "op", "rhs", "true", "power", "mean_est", "bias", "coverage"} <= set(
        doc["power"][0]
    )
    assert len(doc["power"]) == 2 * 22  # 21 free parameters and one := effect, per N
    assert [c["requested"] for c in doc["convergence"]["by_n"]] == [20, 20]
    assert doc["analytic"]["df"] == 24 and len(doc["analytic"]["by_n"]) == 2
    assert doc["settings"]["seed"] == 5
    assert png.stat().st_size > 10_000
    api = power_analysis(ref["population"], [80, 120], reps=20, analysis=ref["analysis"],
                         random_state=5, n_jobs=1, progress=False)  # fmt: skip
    np.testing.assert_allclose(pd.DataFrame(doc["power"])["power"], api.table["power"])
    assert main(["power", str(pop), "--n", "50", "--reps", "2", "--estimator", "WLSMV"]) == 2
    assert main(["power", str(tmp_path / "missing.lav"), "--n", "50"]) == 2
