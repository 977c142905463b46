"""Invariance sequence, difference tests, Wald path comparisons, factor scores and
group splits against lavaan 0.6.14 (fixtures from tests/reference/R/measurement.R;
tolerance 1e-3).  These are also the first systematic checks of the engine's
multiple-group fits (estimates and SEs of every level)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckm_research import fit
from ckm_research.errors import CkmError
from ckm_research.measurement import (
    LEVELS,
    chisq_difference,
    compare_paths,
    factor_scores,
    measurement_invariance,
    split_groups,
)

REF = Path(__file__).parent / "reference"
TOL = 1e-3
FIT_KEYS = ("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic",
            "chisq.scaled", "pvalue.scaled", "chisq.scaling.factor", "cfi.robust",
            "tli.robust", "rmsea.robust")
#: lavaan reports these only for a robust estimator
ROBUST_KEYS = ("chisq.scaled", "pvalue.scaled", "chisq.scaling.factor", "cfi.robust",
               "tli.robust", "rmsea.robust")


def fit_keys(estimator: str) -> list[str]:
    """The fit measures the fixture must hold for ``estimator`` (a missing one fails)."""
    return [k for k in FIT_KEYS if estimator == "MLR" or k not in ROBUST_KEYS]


def load(name):
    ref = json.loads((REF / "json" / f"measurement_{name}.json").read_text())
    return ref, pd.read_csv(REF / ref["data_csv"])


def nums(values):
    return np.array([np.nan if v in ("NA", None) else v for v in values], dtype=float)


@pytest.fixture(scope="module", params=["ML", "MLR"])
def hs_sequence(request):
    ref, data = load("invariance_hs")
    inv = measurement_invariance(ref["model"], data, "school", estimator=request.param,
                                 hierarchical=False)
    return request.param, ref, inv


def test_group_order_is_lavaans(hs_sequence):
    est, ref, inv = hs_sequence
    assert list(inv.group_labels) == ref["invariance"][est]["group_labels"]


def test_each_level_fits_as_lavaan(hs_sequence):
    est, ref, inv = hs_sequence
    for level, expected in ref["invariance"][est]["fit"].items():
        fm = inv.fits[level].fit_measures
        for k in fit_keys(est):
            assert fm[k] == pytest.approx(expected[k], abs=TOL), (level, k)


def test_each_level_estimates_and_ses_match_lavaan(hs_sequence):
    est, ref, inv = hs_sequence
    for level, pe in ref["invariance"][est]["estimates"].items():
        pe = pd.DataFrame(pe)
        m = pe.merge(inv.fits[level].estimates, on=["lhs", "op", "rhs", "group"],
                     suffixes=("_lav", ""))
        assert len(m) == len(pe), level
        np.testing.assert_allclose(m["est"], m["est_lav"], atol=TOL, err_msg=level)
        np.testing.assert_allclose(m["se"], m["se_lav"], atol=TOL, err_msg=level)


def test_difference_tests_match_lavtestlrt_default(hs_sequence):
    est, ref, inv = hs_sequence
    lrt = ref["invariance"][est]["lrt"]
    t = inv.table
    np.testing.assert_allclose(t["chisq.diff"].to_numpy()[1:], nums(lrt["chisq_diff"])[1:],
                               atol=TOL)
    np.testing.assert_allclose(t["df.diff"].to_numpy()[1:], nums(lrt["df_diff"])[1:])
    np.testing.assert_allclose(t["pvalue.diff"].to_numpy()[1:], nums(lrt["pvalue"])[1:],
                               atol=TOL)


def test_mlr_default_is_satorra_bentler_2001():
    ref, _ = load("invariance_hs")
    r = ref["invariance"]["MLR"]
    # lavaan 0.6.14's default for MLR is the 2001 scaled difference
    assert "satorra.bentler.2001" in r["lrt"]["method"]
    np.testing.assert_allclose(nums(r["lrt"]["chisq_diff"])[1:],
                               nums(r["lrt_sb2001"]["chisq_diff"])[1:])


def test_rmsea_of_the_difference_for_ml():
    ref, data = load("invariance_hs")
    inv = measurement_invariance(ref["model"], data, "school", levels=["configural", "metric"])
    test = chisq_difference(inv.fits["configural"], inv.fits["metric"])
    assert test["rmsea.diff"] == pytest.approx(nums(ref["invariance"]["ML"]["lrt"]
                                                    ["rmsea_diff"])[1], abs=TOL)
    # order of the arguments does not matter (lavaan sorts by df)
    again = chisq_difference(inv.fits["metric"], inv.fits["configural"])
    assert again["chisq.diff"] == test["chisq.diff"]


def test_delta_fit_uses_robust_indices_for_mlr(hs_sequence):
    est, ref, inv = hs_sequence
    fits = ref["invariance"][est]["fit"]
    cfi = "cfi.robust" if est == "MLR" else "cfi"
    rmsea = "rmsea.robust" if est == "MLR" else "rmsea"
    assert inv.indices["cfi"] == cfi
    t = inv.table.set_index("model")
    for prev, cur in (("configural", "metric"), ("metric", "scalar"), ("scalar", "strict")):
        assert t.loc[cur, "delta.cfi"] == pytest.approx(fits[cur][cfi] - fits[prev][cfi],
                                                        abs=TOL)
        assert t.loc[cur, "delta.rmsea"] == pytest.approx(
            fits[cur][rmsea] - fits[prev][rmsea], abs=TOL)
        assert t.loc[cur, "delta.srmr"] == pytest.approx(
            fits[cur]["srmr"] - fits[prev]["srmr"], abs=TOL)
    # HS: scalar invariance fails (delta CFI about -.04), metric holds
    assert t.loc["metric", "decision"].startswith("supported")
    assert t.loc["scalar", "decision"].startswith("not supported")


def test_summary_and_json(hs_sequence):
    _, _, inv = hs_sequence
    text = inv.summary()
    assert "configural" in text and "Cheung & Rensvold" in text
    doc = inv.to_dict()
    json.dumps(doc)
    assert [r["model"] for r in doc["table"]] == list(LEVELS)
    assert doc["groups"] == ["Pasteur", "Grant-White"]


@pytest.mark.parametrize("est", ["ML", "MLR"])
def test_wald_path_comparisons_match_lavtestwald(est):
    ref, data = load("invariance_hs")
    res = fit(ref["wald_model_free"], data, group="school", estimator=est)
    w = ref["wald"][est]
    cp = compare_paths(res).set_index(["lhs", "rhs"])
    for key, (lhs, rhs) in {"textual_visual": ("textual", "visual"),
                            "speed_visual": ("speed", "visual"),
                            "speed_textual": ("speed", "textual"),
                            "all": ("(all)", "")}.items():
        assert cp.loc[(lhs, rhs), "wald"] == pytest.approx(w["tests"][key]["stat"], abs=TOL)
        assert cp.loc[(lhs, rhs), "df"] == w["tests"][key]["df"]
        assert cp.loc[(lhs, rhs), "pvalue"] == pytest.approx(w["tests"][key]["pvalue"], abs=TOL)
    pe = pd.DataFrame(w["estimates"])
    a = pe[(pe["lhs"] == "textual") & (pe["op"] == "~")].sort_values("group")["est"].to_numpy()
    assert cp.loc[("textual", "visual"), ["est.Pasteur", "est.Grant-White"]].to_numpy(
        dtype=float) == pytest.approx(a, abs=TOL)


def test_compare_paths_selects_and_skips_equal_parameters():
    ref, data = load("invariance_hs")
    res = fit(ref["wald_model_free"], data, group="school", group_equal=["regressions"])
    with pytest.raises(CkmError, match="nothing to compare"):
        compare_paths(res)
    res = fit(ref["wald_model_free"], data, group="school", group_equal=["loadings"])
    one = compare_paths(res, paths=["speed ~ visual"])
    assert list(one["lhs"]) == ["speed"]  # one path: no joint row
    with pytest.raises(CkmError, match="nothing to compare"):
        compare_paths(res, ops=("=~",))  # loadings are constrained equal
    conf = fit(ref["wald_model_free"], data, group="school")
    loads = compare_paths(conf, ops=("=~",))
    assert len(loads) == 6 + 1  # six free loadings and the joint test (first ones fixed)
    with pytest.raises(CkmError, match="cannot compare"):
        compare_paths(res, paths=["speed~nothing"])
    with pytest.raises(CkmError, match="multiple-group"):
        compare_paths(fit(ref["model"], data))


def test_factor_scores_match_lavpredict():
    ref, data = load("hs")
    res = fit(ref["model"], data)
    fs = factor_scores(res, data)
    np.testing.assert_allclose(fs["speed"], ref["scores"]["speed"], atol=TOL)
    np.testing.assert_allclose(fs["visual"], ref["scores"]["visual"], atol=TOL)


def test_split_by_regression_score_and_by_mean_score():
    ref, data = load("hs")
    res = fit(ref["model"], data)
    g = split_groups(data, result=res, factor="speed", score="regression")
    assert g.attrs["cut"] == pytest.approx(ref["scores"]["median_speed"], abs=TOL)
    assert (g == "high").sum() == ref["scores"]["n_high_median"]
    assert g.name == "speed_group"
    g = split_groups(data, result=res, factor="speed", cut=5.0, labels=("calm", "turbulent"))
    assert (g == "turbulent").sum() == ref["scores"]["n_high_mean_score_at_5"]
    np.testing.assert_allclose(g.attrs["score"], ref["scores"]["mean_score_speed"])


def test_split_errors_and_missing_scores():
    ref, data = load("hs")
    d = data.copy()
    d.loc[0, "x7"] = np.nan
    g = split_groups(d, items=["x7", "x8", "x9"], cut="mean")
    assert pd.isna(g.iloc[0]) and g.notna().sum() == len(d) - 1
    with pytest.raises(CkmError, match="empty"):
        split_groups(d, items=["x7", "x8", "x9"], cut=100.0)
    with pytest.raises(CkmError, match="'cut'"):
        split_groups(d, items=["x7"], cut="mode")
    with pytest.raises(CkmError, match="items="):
        split_groups(d)


def test_ecsi_split_then_mlr_invariance_matches_lavaan():
    ref, data = load("ecsi")
    sp = ref["split"]
    g = split_groups(data, items=sp["items"], cut="median")
    assert g.attrs["cut"] == sp["cut_value"]
    assert (g == "high").sum() == sp["n_high"] and (g == "low").sum() == sp["n_low"]
    d = data.assign(cuex_group=g)
    inv_ref = ref["invariance"]
    model = inv_ref["model"]  # CUSL has two indicators
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inv = measurement_invariance(model, d, "cuex_group", estimator="MLR")
    assert list(inv.group_labels) == inv_ref["group_labels"]
    for level, expected in inv_ref["fit"].items():
        for k in fit_keys("MLR"):
            assert inv.fits[level].fit_measures[k] == pytest.approx(expected[k], abs=TOL), k
    np.testing.assert_allclose(inv.table["chisq.diff"].to_numpy()[1:],
                               nums(inv_ref["lrt"]["chisq_diff"])[1:], atol=TOL)
    np.testing.assert_allclose(inv.table["pvalue.diff"].to_numpy()[1:],
                               nums(inv_ref["lrt"]["pvalue"])[1:], atol=TOL)


def test_robust_fiml_invariance_matches_lavaan():
    # corporate reputation data: 10 missing answers, lavaan missing = "ml", MLR
    ref, data = load("corprep")
    inv_ref = ref["invariance"]
    inv = measurement_invariance(ref["model"], data, "servicetype", estimator="MLR",
                                 missing="ml")
    assert [str(g) for g in inv.group_labels] == inv_ref["group_labels"]
    assert inv.fits["configural"].n == ref["nobs"]
    for level, expected in inv_ref["fit"].items():
        for k in fit_keys("MLR"):
            assert inv.fits[level].fit_measures[k] == pytest.approx(expected[k], abs=TOL), k
    np.testing.assert_allclose(inv.table["chisq.diff"].to_numpy()[1:],
                               nums(inv_ref["lrt"]["chisq_diff"])[1:], atol=TOL)
    np.testing.assert_allclose(inv.table["pvalue.diff"].to_numpy()[1:],
                               nums(inv_ref["lrt"]["pvalue"])[1:], atol=TOL)


def test_chisq_difference_refuses_what_lavaan_would_not_test():
    ref, data = load("invariance_hs")
    ml = fit(ref["model"], data, group="school")
    mlr = fit(ref["model"], data, group="school", estimator="MLR", group_equal=["loadings"])
    with pytest.raises(CkmError, match="same estimator"):
        chisq_difference(ml, mlr)
    with pytest.raises(CkmError, match="same degrees of freedom"):
        chisq_difference(ml, ml)
    ml2 = fit(ref["model"], data, group="school", group_equal=["loadings"])
    with pytest.raises(CkmError, match="'method'"):
        chisq_difference(ml, ml2, method="satorra.2000")


def test_invariance_argument_errors():
    ref, data = load("invariance_hs")
    with pytest.raises(CkmError, match="least to most"):
        measurement_invariance(ref["model"], data, "school", levels=["scalar", "metric"])
    with pytest.raises(CkmError, match="'levels'"):
        measurement_invariance(ref["model"], data, "school", levels=["partial"])
    with pytest.raises(CkmError, match="WLSMV"):
        measurement_invariance(ref["model"], data, "school", estimator="WLSMV")
    with pytest.raises(CkmError, match="nope"):
        measurement_invariance(ref["model"], data, "nope")


def test_metric_model_with_std_lv_frees_later_group_variances():
    ref, data = load("invariance_hs")
    res = fit(ref["model"], data, group="school", group_equal=["loadings"], std_lv=True)
    expected = ref["metric_std_lv"]["fit"]
    assert res.fit_measures["npar"] == expected["npar"]
    assert res.fit_measures["chisq"] == pytest.approx(expected["chisq"], abs=TOL)
    pe = pd.DataFrame(ref["metric_std_lv"]["estimates"])
    m = pe.merge(res.estimates, on=["lhs", "op", "rhs", "group"], suffixes=("_lav", ""))
    assert len(m) == len(pe)
    np.testing.assert_allclose(m["est"], m["est_lav"], atol=TOL)
    np.testing.assert_allclose(m["se"], m["se_lav"], atol=TOL)


def test_sequence_does_not_depend_on_identification():
    ref, data = load("invariance_hs")
    a = measurement_invariance(ref["model"], data, "school")
    b = measurement_invariance(ref["model"], data, "school", std_lv=True)
    cols = ["npar", "chisq", "df", "cfi", "rmsea", "chisq.diff", "pvalue.diff"]
    np.testing.assert_allclose(a.table[cols].to_numpy(dtype=float),
                               b.table[cols].to_numpy(dtype=float), atol=1e-6)
