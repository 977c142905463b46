"""Discriminant validity with inference (issue 12): HTMT/HTMT2 with bootstrap intervals
and the test of H0: HTMT >= c, CICFA(sys) and chi2(sys) of Ronkko & Cho (2022), and
full collinearity VIFs (Kock, 2015).

References: ``tests/reference/json/validity_{htmt,cicfa,vif}.json`` made by
``tests/reference/R/validity_inference.R`` (semTools 0.5.6 ``htmt``, lavaan 0.6.14
``cfa(std.lv = TRUE)`` and ``lavTestLRT``, ``lavPredict`` + ``lm``); the coverage of the
bootstrap intervals is checked in simulation from a population with known HTMT2.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ckm_research
from ckm_research.errors import CkmError
from ckm_research.measurement import (
    discriminant_cfa,
    factor_scores,
    full_collinearity_vif,
    htmt_inference,
)
from tests.reference_compare import load

ROOT = Path(__file__).resolve().parents[1]
HS = ROOT / "tests" / "reference" / "data" / "HolzingerSwineford1939.csv"
CKM = ROOT / "data" / "example" / "ckm_example.csv"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@pytest.fixture(scope="module")
def hs():
    return pd.read_csv(HS)


@pytest.fixture(scope="module")
def ckm():
    return pd.read_csv(CKM)


def _pairs_from_matrix(matrix: dict) -> dict:
    return {(a, b): v for a, row in matrix.items() for b, v in row.items() if a != b}


# ---------------------------------------------------------------------------
# HTMT inference


@pytest.mark.parametrize("data_name", ["hs", "ckm"])
@pytest.mark.parametrize("htmt2", [True, False])
def test_htmt_point_estimates_match_semtools(data_name, htmt2, request):
    ref = load("validity_htmt")[data_name]
    data = request.getfixturevalue(data_name)
    res = htmt_inference(data, ref["model"], htmt2=htmt2, n_boot=20, random_state=1)
    expected = _pairs_from_matrix(ref["htmt2" if htmt2 else "htmt"])
    got = {(r["lhs"], r["rhs"]): r["htmt"] for r in res.table.to_dict(orient="records")}
    assert len(got) == len(expected) // 2
    for key, value in got.items():
        assert value == pytest.approx(expected[key], abs=1e-6), key
    assert res.method == ("HTMT2" if htmt2 else "HTMT")


def test_htmt_interval_is_the_one_sided_percentile_test(hs):
    res = htmt_inference(
        hs, HS_MODEL, n_boot=999, alpha=0.05, random_state=7, thresholds=(0.4, 0.5, 0.85)
    )
    from ckm_research.inference.bootstrap import norm_inter

    for p, row in enumerate(res.table.to_dict(orient="records")):
        t = res.replicates[:, p]
        lo, hi = norm_inter(t, [0.05, 0.95])  # the 90% interval: one-sided tests at .05
        assert row["ci.lower"] == pytest.approx(lo) and row["ci.upper"] == pytest.approx(hi)
        assert row["boot.se"] == pytest.approx(np.std(t))
        for c in (0.4, 0.5, 0.85):
            assert row[f"below {c:g}"] == (hi < c)
    # the HS pairs are about .28-.39: at .4 some are below and some not, at .85 all are
    assert res.table["below 0.85"].all()
    assert not res.table["below 0.4"].all()
    again = htmt_inference(
        hs, HS_MODEL, n_boot=999, alpha=0.05, random_state=7, thresholds=(0.4, 0.5, 0.85)
    )
    pd.testing.assert_frame_equal(res.table, again.table)
    assert "HTMT2" in res.summary() and res.to_dict()["level"] == pytest.approx(0.9)


def _population(phi: float) -> np.ndarray:
    lam = np.array([0.6, 0.7, 0.8])  # congeneric: HTMT2 = phi exactly (Roemer et al., 2021)
    load_ = np.zeros((6, 2))
    load_[:3, 0] = lam
    load_[3:, 1] = lam
    sigma = load_ @ np.array([[1, phi], [phi, 1]]) @ load_.T
    np.fill_diagonal(sigma, 1.0)
    return np.linalg.cholesky(sigma)


def _simulate_htmt(phi, reps, n, n_boot, seed):
    chol = _population(phi)
    rng = np.random.default_rng(seed)
    cols = ["a1", "a2", "a3", "b1", "b2", "b3"]
    model = "A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3"
    cover = reject = 0
    for _ in range(reps):
        x = pd.DataFrame(rng.standard_normal((n, 6)) @ chol.T, columns=cols)
        row = htmt_inference(
            x,
            model,
            n_boot=n_boot,
            alpha=0.05,
            thresholds=(phi,),
            random_state=int(rng.integers(2**31)),
        ).table.iloc[0]
        cover += row["ci.lower"] <= phi <= row["ci.upper"]
        reject += bool(row[f"below {phi:g}"])
    return cover / reps, reject / reps


def test_htmt2_interval_coverage_and_test_size_in_simulation():
    """Population HTMT2 = .85 (the threshold): the 90% percentile interval should cover
    it 90% of the time and H0: HTMT2 >= .85 be rejected 5% of the time.

    300 samples of N = 200 with 400 resamples each: the Monte Carlo SE of a coverage of
    .90 is sqrt(.9 * .1 / 300) = .017, of a rejection rate of .05 it is .013; the test
    allows 3.5 Monte Carlo SEs (plus the percentile interval's small-sample bias stays
    inside). A two-sided test at .05 (seminr's) would reject about .025; a 95% interval
    would cover about .95, outside the band only with more replications (see the slow test).
    """
    coverage, rejection = _simulate_htmt(0.85, reps=300, n=200, n_boot=400, seed=12)
    assert abs(coverage - 0.90) < 3.5 * np.sqrt(0.9 * 0.1 / 300)
    assert abs(rejection - 0.05) < 3.5 * np.sqrt(0.05 * 0.95 / 300)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("CKM_SLOW_TESTS"), reason="slow: set CKM_SLOW_TESTS=1")
def test_htmt2_interval_coverage_in_a_larger_simulation():
    """1500 samples: Monte Carlo SE .0077 (coverage) and .0056 (size); 3.5 SEs allowed.

    At this size a 95% interval (coverage .95) or a two-sided 5% test (size .025)
    falls outside the bands."""
    coverage, rejection = _simulate_htmt(0.85, reps=1500, n=200, n_boot=500, seed=3)
    assert abs(coverage - 0.90) < 3.5 * np.sqrt(0.9 * 0.1 / 1500)
    assert abs(rejection - 0.05) < 3.5 * np.sqrt(0.05 * 0.95 / 1500)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_boot": 0}, "'n_boot' parameter of htmt_inference"),
        ({"n_boot": True}, "'n_boot' parameter of htmt_inference"),
        ({"alpha": 0.5}, "'alpha' parameter of htmt_inference"),
        ({"thresholds": (0.85, 1.2)}, "'thresholds' parameter of htmt_inference"),
        ({"thresholds": "high"}, "'thresholds' parameter of htmt_inference"),
    ],
)
def test_htmt_inference_bad_options(hs, kwargs, match):
    with pytest.raises(CkmError, match=match):
        htmt_inference(hs, HS_MODEL, **kwargs)


def test_htmt_inference_bad_input(hs):
    with pytest.raises(CkmError, match="x10"):
        htmt_inference(hs, HS_MODEL + " + x10")
    with pytest.raises(CkmError, match="at least two factors"):
        htmt_inference(hs, "visual =~ x1 + x2 + x3")


# ---------------------------------------------------------------------------
# CICFA(sys) and chi2(sys)


def _check_pairs(ours: pd.DataFrame, ref: dict):
    got = ours.set_index(["lhs", "rhs"])
    for i, (a, b) in enumerate(zip(ref["lhs"], ref["rhs"], strict=True)):
        row = got.loc[(a, b)]
        assert row["cor"] == pytest.approx(ref["est"][i], abs=1e-3)
        assert row["se"] == pytest.approx(ref["se"][i], rel=0.01)
        assert row["ci.lower"] == pytest.approx(ref["ci.lower"][i], abs=1e-3)
        assert row["ci.upper"] == pytest.approx(ref["ci.upper"][i], abs=1e-3)


def _check_tests(ours: pd.DataFrame, ref: list[dict], rel=1e-3):
    got = ours.set_index(["lhs", "rhs", "cutoff"])
    for r in ref:
        row = got.loc[(r["lhs"], r["rhs"], r["cutoff"])]
        assert row["chisq.diff"] == pytest.approx(r["chisq_diff"], rel=rel)
        assert row["df.diff"] == r["df_diff"]
        assert row["pvalue"] == pytest.approx(r["pvalue"], rel=0.02, abs=1e-12)


def test_cicfa_and_chi2_sys_match_lavaan_hs(hs):
    ref = load("validity_cicfa")["hs"]
    dv = discriminant_cfa(HS_MODEL, hs)
    _check_pairs(dv.pairs, ref["pairs"])
    assert dv.n == ref["nobs"]
    # the .80 test of every pair; each is rejected, so .90 and 1 are not run
    _check_tests(dv.tests, [t for t in ref["tests"] if t["cutoff"] == 0.8])
    assert dv.tests["below"].all() and (dv.tests["cutoff"] == 0.8).all()
    assert (dv.pairs["cicfa"] == "no problem").all() and (dv.pairs["chi2"] == "no problem").all()
    # the other cutoffs, one at a time
    for cut in (0.9, 1.0):
        one = discriminant_cfa(HS_MODEL, hs, cutoffs=(cut,))
        _check_tests(one.tests, [t for t in ref["tests"] if t["cutoff"] == cut])
    assert "Ronkko & Cho" in dv.summary()


def test_chi2_sys_mlr_uses_the_satorra_bentler_difference(hs):
    ref = load("validity_cicfa")["hs"]
    dv = discriminant_cfa(
        HS_MODEL, hs, estimator="MLR", cutoffs=(0.8, 0.9, 1.0), pairs=[("visual", "textual")]
    )
    _check_pairs(dv.pairs, ref["pairs_mlr"])
    _check_tests(dv.tests, [t for t in ref["tests_mlr"] if t["cutoff"] == 0.8], rel=2e-3)
    assert dv.tests["method"].iloc[0] == "satorra.bentler.2001"
    assert dv.pairs["chi2"].isna().sum() == 2  # the pairs not asked for


def test_cicfa_and_chi2_match_lavaan_ckm(ckm):
    ref = load("validity_cicfa")["ckm"]
    pairs = {(t["lhs"], t["rhs"]) for t in ref["tests"]}
    dv = discriminant_cfa(ref["model"], ckm, pairs=pairs)
    assert dv.n == ref["nobs"]
    _check_pairs(dv.pairs, ref["pairs"])
    _check_tests(dv.tests, [t for t in ref["tests"] if t["cutoff"] == 0.8])
    assert dv.pairs["chi2"].notna().sum() == len(pairs)


def test_ronkko_cho_classes_follow_the_upper_limit(hs):
    """Classes from the upper limit: below .80 none, [.80, .90) marginal, [.90, 1)
    moderate, >= 1 severe; with a level near 1 the intervals widen into the classes."""
    res = ckm_research.fit(HS_MODEL, hs, std_lv=True)
    for level in (0.95, 0.999999999):
        dv = discriminant_cfa(HS_MODEL, hs, chisq=False, level=level, result=res)
        for row in dv.pairs.to_dict(orient="records"):
            ul = max(abs(row["ci.lower"]), abs(row["ci.upper"]))
            expected = (
                "no problem"
                if ul < 0.8
                else "marginal"
                if ul < 0.9
                else "moderate"
                if ul < 1
                else "severe"
            )
            assert row["cicfa"] == expected
    assert dv.tests.empty and "chi2" not in dv.pairs


def test_discriminant_cfa_bad_input(hs):
    with pytest.raises(CkmError, match="'cutoffs' parameter of discriminant_cfa"):
        discriminant_cfa(HS_MODEL, hs, cutoffs=(0.8, 1.5))
    with pytest.raises(CkmError, match="'level' parameter of discriminant_cfa"):
        discriminant_cfa(HS_MODEL, hs, level=95)
    with pytest.raises(CkmError, match="std_lv=True"):
        discriminant_cfa(HS_MODEL, hs, result=ckm_research.fit(HS_MODEL, hs))
    with pytest.raises(CkmError, match="no free factor covariances"):
        discriminant_cfa(HS_MODEL + "\ntextual ~ visual\nspeed ~ textual", hs, chisq=False)


# ---------------------------------------------------------------------------
# full collinearity VIFs


def test_full_collinearity_vif_matches_r(hs, ckm):
    ref = load("validity_vif")
    res = ckm_research.fit(HS_MODEL, hs)
    vif = full_collinearity_vif(factor_scores(res, hs)).set_index("construct")
    for f, v in ref["hs"]["vif"].items():
        assert vif.at[f, "vif"] == pytest.approx(v, rel=1e-4)
        assert vif.at[f, "r2"] == pytest.approx(1 - 1 / v, rel=1e-4)
    means = pd.DataFrame(
        {
            f: hs[[f"x{i}" for i in range(j, j + 3)]].mean(axis=1)
            for f, j in (("visual", 1), ("textual", 4), ("speed", 7))
        }
    )
    vif = full_collinearity_vif(means).set_index("construct")
    for f, v in ref["hs"]["vif_item_means"].items():
        assert vif.at[f, "vif"] == pytest.approx(v, rel=1e-6)
    model = load("validity_htmt")["ckm"]["model"]
    res = ckm_research.fit(model, ckm)
    scores = factor_scores(res, ckm)
    vif = full_collinearity_vif(scores).set_index("construct")
    assert scores.dropna().shape[0] == ref["ckm"]["nobs"]
    for f, v in ref["ckm"]["vif"].items():
        assert vif.at[f, "vif"] == pytest.approx(v, rel=1e-3)
    assert (vif["above"] == (vif["vif"] > 3.3)).all()


def test_full_collinearity_vif_bad_input(hs):
    with pytest.raises(CkmError, match="'scores' parameter of full_collinearity_vif"):
        full_collinearity_vif(hs["x1"])
    with pytest.raises(CkmError, match="at least two"):
        full_collinearity_vif(hs[["x1"]])
    with pytest.raises(CkmError, match="score of k is constant"):
        full_collinearity_vif(hs[["x1", "x2"]].assign(k=1.0))


# ---------------------------------------------------------------------------
# ckm validity --inference


def test_cli_validity_inference(tmp_path, capsys):
    import json

    from ckm_research.cli import main

    model = tmp_path / "hs.lav"
    model.write_text(HS_MODEL + "\n", encoding="utf-8")
    out = tmp_path / "v.json"
    args = ["validity", str(model), str(HS), "--no-cmv", "--inference", "--chi2-sys"]
    assert main([*args, "--n-boot", "100", "--seed", "5", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "CICFA(sys) and chi2(sys)" in text and "Full collinearity VIFs" in text
    doc = json.loads(out.read_text())["inference"]
    ref = load("validity_cicfa")["hs"]
    cors = {(p["lhs"], p["rhs"]): p["cor"] for p in doc["discriminant_cfa"]["pairs"]}
    for a, b, est in zip(
        ref["pairs"]["lhs"], ref["pairs"]["rhs"], ref["pairs"]["est"], strict=True
    ):
        assert cors[(a, b)] == pytest.approx(est, abs=1e-3)
    assert len(doc["discriminant_cfa"]["tests"]) == 3
    h = {(p["lhs"], p["rhs"]): p["htmt"] for p in doc["htmt_inference"]["pairs"]}
    assert h[("visual", "textual")] == pytest.approx(
        load("validity_htmt")["hs"]["htmt2"]["visual"]["textual"], abs=1e-6
    )
    vif = {r["construct"]: r["vif"] for r in doc["full_collinearity_vif"]}
    assert vif["visual"] == pytest.approx(load("validity_vif")["hs"]["vif"]["visual"], rel=1e-4)
    assert doc["htmt_inference"]["n_boot"] == 100
    # the same seed gives the same bootstrap
    assert main([*args, "--n-boot", "100", "--seed", "5", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["inference"] == doc


def test_validity_inference_of_a_fiml_fit_uses_the_delta_method(hs):
    from ckm_research.measurement import validity_inference

    res = ckm_research.fit(HS_MODEL, hs, estimator="FIML")
    inf = validity_inference(res, hs, n_boot=50, random_state=2)
    assert inf.reliability["boot.se"].isna().all() and inf.reliability["se"].notna().all()
    assert any("delta method only" in n for n in inf.notes)
    assert inf.cfa.estimator == "FIML" and inf.alpha["boot.se"].notna().all()


def test_chi2_sys_of_ml_fits_refits_from_moments(hs, monkeypatch):
    """ML fits of complete data refit the constrained CFAs from the sample moments (no
    call to fit()); the numbers are lavaan's, at every cutoff including 1."""
    ref = load("validity_cicfa")["hs"]
    res = ckm_research.fit(HS_MODEL, hs, std_lv=True)

    def no_fit(*args, **kwargs):
        raise AssertionError("fit() called: the moment refit was not used")

    monkeypatch.setattr(ckm_research, "fit", no_fit)
    for cut in (0.8, 0.9, 1.0):
        dv = discriminant_cfa(HS_MODEL, hs, cutoffs=(cut,), result=res)
        _check_tests(dv.tests, [t for t in ref["tests"] if t["cutoff"] == cut])
        assert (dv.tests["method"] == "standard").all()


def test_cli_validity_bad_n_boot(tmp_path, capsys):
    from ckm_research.cli import main

    model = tmp_path / "hs.lav"
    model.write_text(HS_MODEL + "\n", encoding="utf-8")
    assert main(["validity", str(model), str(HS), "--inference", "--n-boot", "1"]) == 2
    assert "'1' is not a whole number of resamples >= 2" in capsys.readouterr().err
