"""Reliability and validity against psych / semTools / lavaan
(fixtures from tests/reference/R/measurement.R; tolerance 1e-3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckm_research import fit
from ckm_research.errors import CkmError
from ckm_research.measurement import (
    THRESHOLDS,
    average_variance_extracted,
    composite_reliability,
    cronbach_alpha,
    fornell_larcker,
    htmt,
    standardized_loadings,
    validity_flags,
    validity_report,
)

REF = Path(__file__).parent / "reference"
TOL = 1e-3

def load(name):
    ref = json.loads((REF / "json" / f"measurement_{name}.json").read_text())
    data = pd.read_csv(REF / ref["data_csv"])
    return ref, data


@pytest.fixture(scope="module", params=["hs", "ecsi", "corprep"])
def case(request):
    # corprep: 10 missing answers, robust FIML (lavaan missing = "ml", estimator = "MLR")
    name = request.param
    ref, data = load(name)
    res = fit(ref["model"], data, estimator=ref.get("estimator", "ML"),
              missing=ref.get("missing"))
    return name, ref, data, res


def by_factor(frame, col):
    return frame.set_index("factor")[col]


def assert_named(values: pd.Series, expected: dict, tol=TOL):
    assert set(values.index) == set(expected)
    for k, v in expected.items():
        assert values[k] == pytest.approx(v, abs=tol), k


def assert_matrix(frame: pd.DataFrame, expected: dict, tol=TOL):
    assert set(frame.index) == set(expected)
    for a, row in expected.items():
        for b, v in row.items():
            assert frame.loc[a, b] == pytest.approx(v, abs=tol), (a, b)


def test_engine_fit_matches_lavaan(case):
    _, ref, _, res = case
    keys = ("chisq", "df", "cfi", "rmsea", "srmr")
    for k in keys + (("chisq.scaled",) if ref.get("estimator", "ML") == "MLR" else ()):
        assert res.fit_measures[k] == pytest.approx(ref["fit"][k], abs=TOL), k


def test_alpha_matches_psych_and_semtools(case):
    name, ref, data, _ = case
    a = cronbach_alpha(data, ref["model"])
    assert_named(by_factor(a, "alpha"), ref["alpha_psych"])
    assert_named(by_factor(a, "alpha.std"), ref["alpha_psych_std"])
    if name != "corprep":
        # with missing answers semTools uses the EM covariances, psych pairwise ones
        assert_named(by_factor(a, "alpha"), ref["alpha_semtools"])
    items = {f.strip(): [v.strip() for v in rhs.split("+")]
             for f, rhs in (line.split("=~") for line in ref["model"].splitlines())}
    for row in a.to_dict(orient="records"):
        assert row["n"] == data[items[row["factor"]]].notna().all(axis=1).sum()


def test_alpha_from_a_fitted_result_uses_its_factors(case):
    _, ref, data, res = case
    a = cronbach_alpha(data, res)
    assert_named(by_factor(a, "alpha"), ref["alpha_psych"])


def test_omega_matches_comprelsem_default_observed_variance(case):
    _, ref, _, res = case
    assert_named(by_factor(composite_reliability(res), "omega"), ref["omega"])
    assert_named(by_factor(composite_reliability(res, obs_var=False), "omega"),
                 ref["omega_fitted"])


def test_ave_matches_semtools(case):
    _, ref, _, res = case
    assert_named(by_factor(average_variance_extracted(res), "ave"), ref["ave"])
    assert_named(by_factor(average_variance_extracted(res, obs_var=False), "ave"),
                 ref["ave_fitted"])


def test_observed_and_implied_denominators_differ_when_the_model_misfits():
    # ECSI misfits (chi-square 168 on 94 df): the two omegas must not coincide,
    # so the obs_var switch is really exercised
    ref, _ = load("ecsi")
    diffs = [abs(ref["omega"][f] - ref["omega_fitted"][f]) for f in ref["omega"]]
    assert max(diffs) > 5e-3


def test_htmt2_and_original_htmt_match_semtools(case):
    _, ref, data, _ = case
    assert_matrix(htmt(data, ref["model"]), ref["htmt2"])
    assert_matrix(htmt(data, ref["model"], htmt2=False), ref["htmt"])


def test_fornell_larcker_has_sqrt_ave_on_the_diagonal_and_lavaan_correlations(case):
    _, ref, _, res = case
    fl = fornell_larcker(res)
    cor = {a: {b: v for b, v in row.items() if a != b} for a, row in ref["cor_lv"].items()}
    assert_matrix(fl, cor)
    for f, v in ref["ave"].items():
        assert fl.loc[f, f] == pytest.approx(np.sqrt(v), abs=TOL)


def test_standardized_loadings_match_standardized_solution(case):
    _, ref, _, res = case
    sl = standardized_loadings(res)
    st = pd.DataFrame(ref["std_loadings"])
    m = st.merge(sl, left_on=["lhs", "rhs"], right_on=["factor", "item"])
    assert len(m) == len(st) == len(sl)
    np.testing.assert_allclose(m["loading"], m["est.std"], atol=TOL)
    np.testing.assert_allclose(m["se_y"], m["se_x"], atol=TOL)
    # one factor per item: R-squared is the squared loading
    np.testing.assert_allclose(m["r2"], m["loading"] ** 2, atol=1e-8)


@pytest.mark.parametrize("name", ["hs", "ecsi"])
def test_structural_model_uses_implied_factor_variances(name):
    ref, data = load(name)
    res = fit(ref["sem_model"], data, estimator=ref.get("estimator", "ML"))
    assert_named(by_factor(composite_reliability(res), "omega"), ref["sem_omega"])
    assert_named(by_factor(average_variance_extracted(res), "ave"), ref["sem_ave"])
    assert_matrix(fornell_larcker(res), {a: {b: v for b, v in row.items() if a != b}
                                         for a, row in ref["sem_cor_lv"].items()})


def test_multigroup_omega_and_ave_per_group():
    ref = json.loads((REF / "json" / "measurement_invariance_hs.json").read_text())
    data = pd.read_csv(REF / ref["data_csv"])
    res = fit(ref["model"], data, group="school")
    om = composite_reliability(res)
    av = average_variance_extracted(res)
    assert list(om.columns) == ["group", "factor", "n_items", "omega"]
    for g, vals in ref["multigroup_omega"].items():
        assert_named(om[om["group"] == g].set_index("factor")["omega"], vals)
    for g, vals in ref["multigroup_ave"].items():
        assert_named(av[av["group"] == g].set_index("factor")["ave"], vals)
    with pytest.raises(CkmError, match="group"):
        fornell_larcker(res)
    fl = fornell_larcker(res, group="Pasteur")
    assert fl.loc["visual", "visual"] == pytest.approx(
        np.sqrt(ref["multigroup_ave"]["Pasteur"]["visual"]), abs=TOL)


def test_ave_is_nan_for_factors_with_cross_loading_items():
    ref, data = load("hs")
    res = fit(ref["model"] + "\nvisual =~ x9", data)
    av = by_factor(average_variance_extracted(res), "ave")
    assert np.isnan(av["visual"]) and np.isnan(av["speed"])
    assert np.isfinite(av["textual"])
    # omega keeps both (the item counts for each factor it loads on)
    om = composite_reliability(res)
    assert by_factor(om, "n_items")["visual"] == 4


def test_single_indicator_factors_are_dropped_and_alpha_is_nan():
    ref, data = load("hs")
    model = ref["model"] + "\nsingle =~ x1"
    a = by_factor(cronbach_alpha(data, model), "alpha")
    assert np.isnan(a["single"])
    res = fit("visual =~ x1 + x2 + x3\nsingle =~ x4", data)
    assert list(composite_reliability(res)["factor"]) == ["visual"]


def test_alpha_uses_pairwise_complete_covariances():
    ref, data = load("hs")
    d = data.copy()
    d.loc[[3, 10, 50], "x2"] = np.nan
    a = cronbach_alpha(d, "visual =~ x1 + x2 + x3")
    cov = d[["x1", "x2", "x3"]].cov()  # pairwise, as psych::alpha
    k = 3
    expected = k / (k - 1) * (1 - np.trace(cov) / cov.to_numpy().sum())
    assert a["alpha"].iloc[0] == pytest.approx(expected, abs=1e-12)
    assert a["n"].iloc[0] == len(d) - 3


def test_flags_cite_their_thresholds():
    ref, data = load("hs")
    res = fit(ref["model"], data)
    rep = validity_report(res, data)
    flags = rep.flags
    # visual: omega .612 < .70 and AVE .371 < .50 (semTools values)
    assert {"omega", "ave", "alpha"} <= set(flags[flags["subject"] == "visual"]["check"])
    assert not (flags["subject"] == "textual").any()
    assert (flags["source"].str.len() > 10).all()
    # HTMT flags: ECSI has HTMT2 of IMAG-CUSA above .90
    ref_e, data_e = load("ecsi")
    h = htmt(data_e, ref_e["model"])
    f = validity_flags(htmt=h)
    worst = f.sort_values("value").iloc[-1]
    assert worst["value"] == pytest.approx(max(
        v for a, row in ref_e["htmt2"].items() for b, v in row.items() if a != b), abs=TOL)
    assert worst["severity"] == "warning" and worst["threshold"] == THRESHOLDS[
        "htmt_similar"]["max"]


def test_fornell_larcker_flag_when_a_correlation_exceeds_sqrt_ave():
    fl = pd.DataFrame([[0.70, 0.75], [0.75, 0.80]], index=["A", "B"], columns=["A", "B"])
    f = validity_flags(fornell_larcker=fl)
    assert list(f["subject"]) == ["A"]


def test_report_summary_and_json():
    ref, data = load("hs")
    rep = validity_report(fit(ref["model"], data), data)
    text = rep.summary()
    assert "HTMT2" in text and "Fornell-Larcker" in text and "visual" in text
    doc = rep.to_dict()
    json.dumps(doc)  # serialisable
    assert doc["omega"]["textual"] == pytest.approx(ref["omega"]["textual"], abs=TOL)
    assert doc["htmt"]["visual"]["speed"] == pytest.approx(ref["htmt2"]["visual"]["speed"],
                                                           abs=TOL)
    assert doc["fornell_larcker"]["speed"]["speed"] == pytest.approx(
        np.sqrt(ref["ave"]["speed"]), abs=TOL)
    assert {"alpha", "omega", "ave", "htmt", "fornell_larcker", "loadings"} <= set(doc)


def test_errors_are_ckm_errors():
    ref, data = load("hs")
    with pytest.raises(CkmError, match="SEMResults"):
        composite_reliability("visual =~ x1 + x2")
    with pytest.raises(CkmError, match="not in the data"):
        htmt(data, "f =~ x1 + nope")
    with pytest.raises(CkmError, match="no factors"):
        cronbach_alpha(data, "x1 ~ x2")
