"""The report's tables of issue 12 (validity with inference, current CMV practice, partial
invariance, robustness): each table holds the numbers of its domain function.

The first tests build the tables from the domain functions on HolzingerSwineford1939
(fast); the pipeline tests read the quick run's results.json and recompute the domain
functions on the same analysis data with the same options and seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ckm_research
from ckm_research.data.examples import load_dataset
from ckm_research.measurement import factor_scores
from ckm_research.measurement.discriminant import (
    discriminant_cfa,
    full_collinearity_vif,
    htmt_inference,
)
from ckm_research.measurement.reliability_inference import alpha_intervals, reliability_intervals
from ckm_research.moderation.robustness import composite_regression, gaussian_copula
from ckm_research.report import validity_tables as vt
from ckm_research.report.inputs import read_analysis_data
from tests.pipeline_fixtures import quick_run, results

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
HS_SEM = HS_MODEL + "\nspeed ~ visual + textual"


@pytest.fixture(scope="module")
def hs():
    return load_dataset("HolzingerSwineford1939")


@pytest.fixture(scope="module")
def hs_fit(hs):
    return ckm_research.fit(HS_MODEL, hs)


def _close(a, b):
    np.testing.assert_allclose(
        np.asarray(a, dtype=float),
        np.asarray(b, dtype=float),
        rtol=1e-12,
        atol=1e-12,
        equal_nan=True,
    )


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_reliability_ci_table_holds_omega_ave_and_feldt(hs, hs_fit, lang):
    rel = reliability_intervals(hs_fit, n_boot=0)
    alpha = alpha_intervals(hs, hs_fit, n_boot=0)
    tab = vt.reliability_ci_table(rel, alpha, lang=lang)
    f = tab.frame.set_index("factor")
    om = rel[rel["statistic"] == "omega"].set_index("factor")
    ave = rel[rel["statistic"] == "ave"].set_index("factor")
    _close(f.loc[om.index, "omega"], om["est"])
    _close(f.loc[om.index, "omega.lower"], om["ci.lower"])
    _close(f.loc[ave.index, "ave.upper"], ave["ci.upper"])
    a = alpha.set_index("factor")
    _close(f.loc[a.index, "alpha.lower"], a["feldt.lower"])
    _close(f.loc[a.index, "alpha.upper"], a["feldt.upper"])
    html = tab.to_html(1, lang=lang)
    assert "Feldt" in html
    if lang == "en":
        assert "Bootstrap intervals of ω and AVE were not computed" in tab.note


def test_htmt_cicfa_vif_tables_hold_the_domain_results(hs, hs_fit):
    h = htmt_inference(hs, hs_fit, n_boot=200, random_state=3)
    tab = vt.htmt_inference_table(h, threshold=0.85)
    _close(tab.frame["htmt"], h.table["htmt"])
    _close(tab.frame["ci.lower"], h.table["ci.lower"])
    _close(tab.frame["ci.upper"], h.table["ci.upper"])
    assert list(tab.frame["below 0.85"]) == ["yes" if v else "no" for v in h.table["below 0.85"]]
    assert "c = .85" in tab.note and "90%" in tab.note  # the one-sided test at .05
    d = discriminant_cfa(HS_MODEL, hs, chisq=False)
    ct = vt.cicfa_table(d)
    _close(ct.frame["cor"], d.pairs["cor"])
    _close(ct.frame["ci.upper"], d.pairs["ci.upper"])
    assert list(ct.frame["cicfa"]) == list(d.pairs["cicfa"])
    assert "χ²(sys)" in ct.note and "not run" in ct.note
    vif = full_collinearity_vif(factor_scores(hs_fit, hs))
    t = vt.vif_table(vif)
    _close(t.frame["vif"], vif["vif"])
    assert "Kock, 2015" in t.note
    assert set(vt.cicfa_table(d, lang="zh").frame["cicfa"]) <= {"无问题", "轻微", "中度", "严重"}


def test_robustness_tables_hold_the_domain_results(hs):
    latent = ckm_research.fit(HS_SEM, hs)
    comp = composite_regression(HS_SEM, hs, latent=latent)
    t = vt.composite_table(comp)
    _close(t.frame["est"], comp.table["est"])
    _close(t.frame["se"], comp.table["se"])
    _close(t.frame["est.latent"], comp.table["est.latent"])
    cop = gaussian_copula(HS_SEM, hs, n_boot=50, random_state=1)
    ct = vt.copula_table(cop)
    _close(ct.frame["est"], cop.table["est"])
    _close(ct.frame["se.boot"], cop.table["se.boot"])
    ck = vt.copula_checks_table(cop)
    _close(ck.frame["sw.pvalue"], cop.checks["sw.pvalue"])
    assert f"{int(cop.checks['usable'].sum())} of {len(cop.checks)}" in ck.note
    assert "Becker" in ct.note and "not an instrumental-variable" in ct.note


# ---------------------------------------------------------------------- the quick run
@pytest.fixture(scope="module")
def run():
    out = quick_run()
    res = results(out)
    import yaml

    from tests.pipeline_fixtures import QUICK

    params = yaml.safe_load(QUICK.read_text(encoding="utf-8"))
    data = read_analysis_data(out)
    return out, res, params, data


def _table(res, stage, name):
    return pd.DataFrame(res["stages"][stage]["tables"][name]["rows"])


def test_pipeline_measurement_tables_equal_the_domain_functions(run):
    out, res, params, data = run
    st = res["stages"]["measurement"]
    assert {"reliability_ci", "htmt_inference", "cicfa", "full_collinearity_vif", "cmv"} <= set(
        st["tables"]
    )
    from ckm_research.inference.workflows import study_stream

    seed = res["study"]["seed"]
    cfa_text = (out / "models" / "measurement.lav").read_text(encoding="utf-8")
    cfa = ckm_research.fit(cfa_text, data, estimator=params["estimator"], missing=params["missing"])
    boot_seed = int(study_stream(seed, "validity").generate_state(1)[0])
    h = htmt_inference(
        data,
        cfa,
        n_boot=params["validity_boot"],
        random_state=boot_seed,
        htmt2=st["numbers"]["htmt_method"] == "HTMT2",
    )
    tab = _table(res, "measurement", "htmt_inference")
    _close(tab["htmt"], h.table["htmt"])
    _close(tab["ci.upper"], h.table["ci.upper"])
    d = discriminant_cfa(
        cfa_text, data, chisq=False, estimator=params["estimator"], missing=params["missing"]
    )
    _close(_table(res, "measurement", "cicfa")["ci.upper"], d.pairs["ci.upper"])
    vif = full_collinearity_vif(factor_scores(cfa, data))
    _close(_table(res, "measurement", "full_collinearity_vif")["vif"], vif["vif"])
    alpha = alpha_intervals(data, cfa, n_boot=0)
    _close(_table(res, "measurement", "reliability_ci")["alpha.lower"], alpha["feldt.lower"])
    # the CMV table leads with the model-based checks and puts Harman's test last
    checks = list(_table(res, "measurement", "cmv")["check"])
    assert checks[0] == "CFA marker technique" and "cfa_marker" in st["tables"]
    assert checks.index("Harman's single-factor test (reported last)") > 0


def test_pipeline_robustness_tables_equal_the_domain_functions(run):
    out, res, params, data = run
    st = res["stages"]["structural"]
    assert {"composite_regression", "gaussian_copula", "copula_checks"} <= set(st["tables"])
    model = (out / "models" / "structural.lav").read_text(encoding="utf-8")
    comp = composite_regression(model, data)
    _close(_table(res, "structural", "composite_regression")["est"], comp.table["est"])
    _close(_table(res, "structural", "composite_regression")["se"], comp.table["se"])


def test_pipeline_invariance_table_has_a_status_per_level(run):
    out, res, params, data = run
    inv = _table(res, "moderation", "invariance_ctu")
    assert "status" in inv.columns
    assert set(inv["status"]) <= {"baseline", "supported", "not supported", "not tested"}


def test_invariance_table_keeps_the_reason_of_a_level_not_tested():
    from types import SimpleNamespace

    from ckm_research.measurement.invariance import _not_tested_row
    from ckm_research.report.analysis import invariance_table

    rows = [
        {
            "model": "configural",
            "chisq": 10.0,
            "df": 5,
            "pvalue": 0.07,
            "cfi": 0.99,
            "rmsea": 0.03,
            "srmr": 0.02,
            "status": "baseline",
            "decision": "baseline",
            "group.partial": "",
        },
        {
            "model": "scalar.partial1",
            "chisq": 30.0,
            "df": 12,
            "pvalue": 0.01,
            "cfi": 0.95,
            "rmsea": 0.05,
            "srmr": 0.04,
            "status": "not supported",
            "decision": "not supported",
            "group.partial": "x1~1",
        },
        _not_tested_row("strict", "scalar invariance does not hold"),
    ]
    table = pd.DataFrame(rows)
    for col in ("chisq.diff", "df.diff", "pvalue.diff", "delta.cfi", "delta.rmsea"):
        table[col] = np.nan
    inv = SimpleNamespace(
        table=table, group="g", estimator="ML", group_labels=("a", "b"), n_per_group=(50, 50)
    )
    frame = invariance_table(inv).frame
    assert list(frame["status"]) == ["baseline", "not supported", "not tested"]
    assert frame["decision"].iloc[2] == "not tested: scalar invariance does not hold"
    assert "freed: x1~1" in frame["model"].iloc[1]
    zh = invariance_table(inv, lang="zh").frame
    assert zh["status"].iloc[2] == "未检验" and zh["decision"].iloc[2].startswith("未检验：")
