"""Ordinal items with several groups against lavaan 0.6.14.

Fixtures: tests/reference/R/parity/ordinal.R (parity_ordinal_mg_<case>.json): the
ordinal HS 3-factor CFA by school with WLSMV (configural, thresholds,
thresholds + loadings, thresholds + loadings + intercepts), ULSMV, WLSM and
DWLS.  lavaan's conventions for ordered data in the delta parameterization
(``lav_partable_flat``): with ``group.equal`` holding "thresholds" the scaling
factors ``~*~`` and the latent means of groups 2.. are free.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ckm_research.errors import CkmError
from tests.reference_compare import (
    NOT_COMPUTED,
    compare_estimates,
    compare_fit,
    fit_like_lavaan,
    load,
    load_data,
)

CASES = [
    "mg_configural",
    "mg_thresholds",
    "mg_thresholds_loadings",
    "mg_thresholds_loadings_intercepts",
    "mg_intercepts",
    "mg_loadings",
    "mg_std_lv_thresholds_loadings",
    "mg_partial_threshold",
    "mg_ulsmv_thresholds",
    "mg_wlsm_configural",
    "mg_wls_thresholds",
    "mg_uls_configural",
    "mg_wlsmvs_thresholds",
    "mg_dwls_thresholds_loadings",
    "mixed_cfa",
    "mixed_groups",
    "theta_cfa",
    "theta_configural",
    "theta_thresholds",
    "theta_thresholds_loadings",
    "theta_mixed",
]


@pytest.fixture(scope="module")
def fits():
    return {}


def _fit(case, fits):
    if case not in fits:
        ref = load(f"parity_ordinal_{case}")
        fits[case] = (ref, fit_like_lavaan(ref))
    return fits[case]


@pytest.mark.parametrize("case", CASES)
def test_multigroup_ordinal_estimates_match_lavaan(case, fits):
    ref, res = _fit(case, fits)
    assert res.estimator == ref["args"]["estimator"]
    assert list(res.n_per_group) == list(np.atleast_1d(ref["nobs"]))
    compare_estimates(res.estimates, ref["estimates"], se_rtol=0.02)


@pytest.mark.parametrize("case", CASES)
def test_multigroup_ordinal_fit_measures_match_lavaan(case, fits):
    ref, res = _fit(case, fits)
    required = [
        k
        for k, v in ref["fit"].items()
        if v is not None and np.isfinite(v) and k not in NOT_COMPUTED
    ]
    compare_fit(res.fit_measures, ref["fit"], required=required)


@pytest.mark.parametrize(
    "case",
    ["mg_thresholds", "mg_thresholds_loadings_intercepts", "mg_configural", "mg_intercepts",
     "mixed_groups", "theta_thresholds", "theta_configural", "mg_loadings",
     "mg_std_lv_thresholds_loadings", "mg_partial_threshold"],
)  # fmt: skip
def test_free_parameters_are_lavaans(case, fits):
    """Which rows are free, fixed or equal across groups: lavaan's parameter table."""
    ref, res = _fit(case, fits)
    pt = pd.DataFrame(ref["partable"])
    pt = pt[pt["op"].isin(["=~", "~~", "~1", "|", "~*~"])]
    ours = res.engine.pt.table
    key = ["lhs", "op", "rhs", "group"]
    m = pt.merge(ours, on=key, suffixes=("_lav", ""), how="left")
    assert m["free"].notna().all()
    np.testing.assert_array_equal(m["free"] > 0, m["free_lav"] > 0)
    # equal across groups exactly where lavaan's are (lavaan: a shared label and an
    # equality constraint; ours: one free parameter in both groups)
    lab = m[(m["free_lav"] > 0) & (m["label_lav"].fillna("") != "")]
    equal_lav = {tuple(r) for r in lab[lab.duplicated("label_lav", keep=False)][key[:3]].to_numpy()}
    fr = m[m["free"] > 0]
    equal_ours = {tuple(r) for r in fr[fr.duplicated("free", keep=False)][key[:3]].to_numpy()}
    assert equal_ours == equal_lav
    if "configural" not in case:
        assert equal_ours


def test_group_sample_statistics_match_lavaan(fits):
    """Thresholds and polychoric correlations per group (lavaan's wls.obs)."""
    ref, res = _fit("mg_configural", fits)
    eng = res.engine
    for g, label in enumerate(res.group_labels):
        lav = ref["wls_obs"][str(label)]
        assert list(eng.moms[g].labels) == list(lav)
        np.testing.assert_allclose(eng.moms[g].wls_obs, list(lav.values()), atol=1e-6)


def test_equal_thresholds_free_scaling_factors_and_means(fits):
    """Wu & Estabrook (2016) threshold invariance as lavaan fits it: in group 2 the
    scaling factors (~*~) and latent means are estimated, and the residual variances
    of the items are 1/delta^2 minus the common-factor variance."""
    _, res = _fit("mg_thresholds", fits)
    e = res.estimates
    g2 = e[e["group"] == 2]
    assert (g2.loc[g2["op"] == "~*~", "se"] > 0).all()
    assert (
        g2.loc[(g2["op"] == "~1") & g2["lhs"].isin(["visual", "textual", "speed"]), "se"] > 0
    ).all()
    g1 = e[e["group"] == 1]
    assert (g1.loc[g1["op"] == "~*~", "est"] == 1.0).all()


def test_empty_category_in_a_group_is_refused():
    ref = load("parity_ordinal_mg_configural")
    d = load_data(ref)
    first = d["school"].iloc[0]
    d.loc[(d["school"] == first) & (d["x1"] == 3), "x1"] = 2
    with pytest.raises(CkmError, match="x1.*empty in some groups"):
        _fit_data(ref, d)


def _fit_data(ref, d):
    from ckm_research import fit

    return fit(ref["model"], d, estimator="WLSMV", ordered="all", group="school")


@pytest.mark.parametrize("case", ["mg_configural", "mg_thresholds_loadings"])
def test_multigroup_modindices_match_lavaan(case, fits):
    """modindices() of multiple-group WLSMV fits: the score and information summed
    over groups (weights (N_g - 1)/N and N_g/N, lavaan's objective and expected
    information), the same candidates in lavaan's order."""
    from ckm_research import modindices

    ref, res = _fit(case, fits)
    lav = pd.DataFrame(ref["modindices"])
    lav["rhs"] = lav["rhs"].fillna("")
    ours = modindices(res)
    keys = ["lhs", "op", "rhs", "group"]
    # the same candidates (lavaan lists the fixed rows group by group, we parameter by
    # parameter when they are in several groups)
    assert sorted(map(tuple, ours[keys].values.tolist())) == sorted(
        map(tuple, lav[keys].values.tolist())
    )
    m = lav.merge(ours, on=keys, suffixes=("_lav", ""))
    np.testing.assert_allclose(m["mi"], m["mi_lav"], atol=1e-3, rtol=1e-4, err_msg="mi")
    for col in ("epc", "sepc.lv", "sepc.all", "sepc.nox"):
        np.testing.assert_allclose(m[col], m[col + "_lav"], atol=1e-4, err_msg=col)


@pytest.mark.parametrize("case", ["mg_thresholds", "mg_configural"])
def test_multigroup_residuals_match_lavaan(case, fits):
    """lavResiduals per group: residual thresholds and correlations, their z
    statistics and the SRMR summary (lavaan's lav_residuals_acov: the group's Q with
    the information of all groups, and Gamma_g divided by the total N)."""
    from ckm_research.sem.diagnostics import residuals

    ref, res = _fit(case, fits)
    out = residuals(res)
    assert set(out) == set(res.group_labels)
    for label, lav in ref["lavResiduals"].items():
        ours = out[label]
        np.testing.assert_allclose(ours["th"], list(lav["th"].values()), atol=1e-4)
        np.testing.assert_allclose(ours["th.z"], list(lav["th.z"].values()), atol=2e-3)
        np.testing.assert_allclose(ours["cov"], lav["cov"]["values"], atol=1e-4)
        np.testing.assert_allclose(ours["cov.z"], lav["cov.z"]["values"], atol=2e-3)
        for stat, cols in lav["summary"].items():
            for col, value in cols.items():
                if value is not None and np.isfinite(value):
                    assert ours["summary"].loc[stat, col] == pytest.approx(value, abs=1e-4)


def test_mixed_sample_statistics_match_lavaan():
    """Thresholds, negated means, variances, polychoric/polyserial/Pearson covariances
    and their NACOV (lavaan's wls.obs and gamma, muthen1984) for x1..x3 ordered and
    x4..x9 continuous."""
    from ckm_research.sem.mixed import mixed_moments

    ref = load("parity_ordinal_mixed_cfa")
    d = load_data(ref)
    names = [f"x{i}" for i in range(1, 10)]
    m = mixed_moments(d[names].to_numpy(float), names, [v in ("x1", "x2", "x3") for v in names])
    assert list(m.labels) == list(ref["wls_obs"])
    np.testing.assert_allclose(m.wls_obs, list(ref["wls_obs"].values()), atol=1e-6)
    gamma = np.array(ref["gamma"]["values"])
    np.testing.assert_allclose(m.gamma, gamma, rtol=1e-5, atol=1e-6)


def test_mixed_items_equal_intercepts_with_thresholds(fits):
    """lavaan: with ordered items group.equal "thresholds" also makes the intercepts of
    the continuous items equal (and "intercepts" the thresholds)."""
    _, res = _fit("mixed_groups", fits)
    e = res.estimates
    x4 = e[(e["lhs"] == "x4") & (e["op"] == "~1")]
    assert x4["est"].nunique() == 1 and (x4["se"] > 0).all()


def test_mixed_diagnostics_are_refused(fits):
    from ckm_research.sem.diagnostics import modindices, residuals

    _, res = _fit("mixed_cfa", fits)
    with pytest.raises(CkmError, match="continuous and ordinal items"):
        residuals(res)
    with pytest.raises(CkmError, match="continuous and ordinal items"):
        modindices(res)


def test_ordinal_with_observed_covariate_is_refused():
    """lavaan fits ordinal items with observed covariates by conditional.x = TRUE,
    which is not implemented: a clear error, not a different model."""
    from ckm_research import fit

    ref = load("parity_ordinal_mixed_cfa")
    d = load_data(ref)
    with pytest.raises(CkmError, match="conditional.x"):
        fit("visual =~ x1 + x2 + x3\nvisual ~ x4", d, estimator="WLSMV", ordered=["x1", "x2", "x3"])


def test_theta_parameterization_fixes_residual_variances(fits):
    """parameterization='theta': unit residual variances of the items in group 1, free
    in group 2 with equal thresholds; the scaling factors are implied (lavaan reports
    1/sqrt of the latent responses' variances)."""
    _, res = _fit("theta_thresholds", fits)
    e = res.estimates
    rv = e[(e["op"] == "~~") & (e["lhs"] == e["rhs"]) & e["lhs"].str.startswith("x")]
    assert (rv.loc[rv["group"] == 1, "est"] == 1.0).all()
    assert (rv.loc[rv["group"] == 2, "se"] > 0).all()
    assert (e.loc[e["op"] == "~*~", "se"] == 0).all()


def test_theta_and_delta_are_the_same_model(fits):
    """The two parameterizations fit the same model: same chi-square and df."""
    _, theta = _fit("theta_thresholds", fits)
    _, delta = _fit("mg_thresholds", fits)
    for k in ("chisq", "df", "chisq.scaled"):
        assert theta.fit_measures[k] == pytest.approx(delta.fit_measures[k], rel=1e-6)


def test_parameterization_is_checked_and_modindices_refused(fits):
    from ckm_research import fit
    from ckm_research.sem.diagnostics import modindices

    ref, res = _fit("theta_cfa", fits)
    with pytest.raises(CkmError, match="The 'parameterization' parameter of fit"):
        fit(ref["model"], load_data(ref), estimator="WLSMV", ordered="all", parameterization="x")
    with pytest.raises(CkmError, match="parameterization='theta'"):
        modindices(res)


@pytest.mark.parametrize("case", ["mg_thresholds", "mixed_cfa", "theta_thresholds"])
def test_standardized_solution_ses_match_lavaan(case, fits):
    """standardizedSolution() SEs (delta method) of the std.all estimates."""
    ref, res = _fit(case, fits)
    ss = res.engine.standardized_solution()
    lav = pd.DataFrame(ref["estimates"])
    if "group" not in lav:
        lav["group"] = 1
    m = lav.merge(ss, on=["lhs", "op", "rhs", "group"], suffixes=("_lav", ""))
    assert len(m) == len(lav)
    ok = m["se.std"].fillna(0) > 1e-8
    np.testing.assert_allclose(m.loc[ok, "se"], m.loc[ok, "se.std"], rtol=0.02)


@pytest.mark.parametrize(
    "case,against",
    [
        ("mg_thresholds", "mg_configural"),
        ("mg_thresholds_loadings", "mg_thresholds"),
        ("mg_ulsmv_thresholds", None),
    ],
)
def test_satorra2000_difference_matches_lavtestlrt(case, against, fits):
    """lavTestLRT of nested WLSMV (ULSMV) fits: Satorra's (2000) scaled-and-shifted
    difference (lavaan's method = "satorra.2000"), the test of ordinal measurement
    invariance (Wu & Estabrook, 2016)."""
    from ckm_research import fit
    from ckm_research.sem.diagnostics import lrt

    ref, res = _fit(case, fits)
    if against is not None:
        _, res0 = _fit(against, fits)
    else:  # the ULSMV configural model
        res0 = fit(ref["model"], load_data(ref), estimator="ULSMV", ordered="all", group="school")
    table = lrt(res0, res, model_names=["fit0", "fit"])
    assert table.attrs["method"] == "satorra.2000"
    assert "satorra.2000" in ref["lrt_method"]
    lav = ref["lrt"]
    for col in ("Df", "Chisq", "Chisq diff", "Df diff", "Pr(>Chisq)"):
        want = lav["fit"][col]
        assert table.loc["fit", col] == pytest.approx(want, rel=1e-4, abs=1e-6), col
    assert table.loc["fit0", "Chisq"] == pytest.approx(lav["fit0"]["Chisq"], rel=1e-5)


def test_difference_test_of_wlsmv_and_ml_fits_is_refused(fits):
    from ckm_research import fit
    from ckm_research.measurement.invariance import chisq_difference

    ref, res = _fit("mg_configural", fits)
    ml = fit(ref["model"], load_data(ref), group="school")
    with pytest.raises(CkmError, match="Satorra \\(2000\\)"):
        chisq_difference(res, ml)
    with pytest.raises(CkmError, match="satorra.2000"):
        chisq_difference(res, _fit("mg_thresholds", fits)[1], method="standard")


def test_cli_fits_ordinal_groups_in_the_theta_parameterization(tmp_path, capsys):
    """ckm fit --ordered all --group school --group-equal thresholds --parameterization
    theta gives lavaan's fit."""
    import json

    from ckm_research.cli import main
    from tests.reference_compare import REF

    ref = load("parity_ordinal_theta_thresholds")
    model = tmp_path / "model.lav"
    model.write_text(ref["model"], encoding="utf-8")
    out = tmp_path / "fit.json"
    args = ["--estimator", "WLSMV", "--ordered", "all", "--group", "school", "--group-equal",
            "thresholds", "--parameterization", "theta", "--json", str(out)]  # fmt: skip
    code = main(["fit", str(model), str(REF / ref["data_csv"]), *args])
    assert code == 0, capsys.readouterr().err
    doc = json.loads(out.read_text(encoding="utf-8"))
    compare_fit(doc["fit"], ref["fit"], required=["chisq", "df", "chisq.scaled", "cfi"])
    ours = pd.DataFrame(doc["estimates"])
    labels = {lab: i + 1 for i, lab in enumerate(dict.fromkeys(ours["group"]))}
    ours["group"] = ours["group"].map(labels)
    compare_estimates(ours, ref["estimates"], se_rtol=0.02)


def test_multigroup_score_test_matches_lavaan(fits):
    """lavTestScore of the equality constraints of equal thresholds and loadings."""
    from ckm_research import score_test

    ref, res = _fit("mg_thresholds_loadings", fits)
    ours = score_test(res)
    for key, lav in (("test", ref["score_test"]), ("uni", ref["score_uni"])):
        lav_t, got = pd.DataFrame(lav), ours[key]
        if key == "uni":
            assert got[["lhs", "op", "rhs"]].values.tolist() == (
                lav_t[["lhs", "op", "rhs"]].values.tolist()
            )
        np.testing.assert_allclose(got["X2"], lav_t["X2"], atol=1e-3, rtol=1e-4, err_msg=key)
        np.testing.assert_array_equal(got["df"], lav_t["df"])
