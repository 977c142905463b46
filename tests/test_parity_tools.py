"""The tools used after fitting (ckm_research.sem.diagnostics) against lavaan
0.6.14: modindices(), fixtures tests/reference/json/parity_tools_*.json made
by tests/reference/R/parity/tools.R."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ckm_research import factor_scores, fit, lrt, modindices, residuals, score_test, wald_test
from ckm_research.errors import CkmError
from tests.reference_compare import fit_like_lavaan, load, load_data

MI_CASES = [
    "tools_hs_ml",
    "tools_hs_mlr",
    "tools_pd_eq_ml",
    "tools_hs_mg_loadings",
    "tools_hs_fiml",
    "tools_hs_fiml_eq",
]


@pytest.fixture(scope="module")
def fits():
    cache = {}

    def get(case):
        if case not in cache:
            ref = load(f"parity_{case}")
            cache[case] = (ref, fit_like_lavaan(ref))
        return cache[case]

    return get


def _lav_table(rows) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    out["rhs"] = out["rhs"].fillna("")
    return out


def _same_rows(ours: pd.DataFrame, lav: pd.DataFrame, keys) -> None:
    assert len(ours) == len(lav), (len(ours), len(lav))
    assert ours[keys].values.tolist() == lav[keys].values.tolist()


@pytest.mark.parametrize(
    "case",
    [
        *MI_CASES,
        "tools_hs_covariates_ml",
        "tools_hs_ovreg_ml",
        "tools_hs_orth_ml",
        "tools_ordinal_wlsmv",
    ],
)
def test_modindices_match_lavaan(fits, case):
    ref, res = fits(case)
    lav = _lav_table(ref["modindices"])
    if case == "tools_hs_covariates_ml":
        # lavaan lists some fixed-x (co)variances of the covariates with mi = 0
        # (rounding noise); we leave all of them out
        x = {"ageyr", "sex"}
        exo = (lav["op"] == "~~") & lav["lhs"].isin(x) & lav["rhs"].isin(x)
        assert (lav.loc[exo, "mi"] < 1e-10).all()
        lav = lav[~exo].reset_index(drop=True)
    ours = modindices(res)
    keys = ["lhs", "op", "rhs"] + (["group"] if res.ngroups > 1 else [])
    assert list(ours.columns) == keys + ["mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"]
    # the same candidate parameters, in lavaan's order (NA indices dropped)
    _same_rows(ours, lav, keys)
    np.testing.assert_allclose(ours["mi"], lav["mi"], atol=1e-3, rtol=1e-4, err_msg="mi")
    for col in ("epc", "sepc.lv", "sepc.all", "sepc.nox"):
        np.testing.assert_allclose(ours[col], lav[col], atol=1e-4, err_msg=col)


def test_modindices_sorted_minimum(fits):
    ref, res = fits("tools_hs_ml")
    lav = _lav_table(ref["modindices_sorted"])
    ours = modindices(res, sort=True, minimum_value=10)
    _same_rows(ours, lav, ["lhs", "op", "rhs"])
    np.testing.assert_allclose(ours["mi"], lav["mi"], atol=1e-3)
    top = modindices(res, sort=True, maximum_number=2)
    assert (
        top[["lhs", "op", "rhs"]].values.tolist() == lav[["lhs", "op", "rhs"]].values[:2].tolist()
    )


def test_modindices_power(fits):
    ref, res = fits("tools_hs_ml")
    lav = _lav_table(ref["modindices_power"])
    ours = modindices(res, power=True)
    assert list(ours.columns) == list(lav.columns)
    _same_rows(ours, lav, ["lhs", "op", "rhs"])
    for col in ("mi", "ncp"):
        np.testing.assert_allclose(ours[col], lav[col], atol=1e-3, rtol=1e-4, err_msg=col)
    for col in ("epc", "sepc.all", "power"):
        np.testing.assert_allclose(ours[col], lav[col], atol=1e-4, err_msg=col)
    assert ours["decision"].tolist() == lav["decision"].tolist()


def test_modindices_bad_arguments(fits):
    _, res = fits("tools_hs_ml")
    with pytest.raises(CkmError, match="'maximum_number' parameter of modindices"):
        modindices(res, maximum_number=-1)


# ------------------------------------------------------------------ score tests
@pytest.mark.parametrize(
    "case",
    ["tools_pd_eq_ml", "tools_pd_explicit_eq_ml", "tools_hs_mg_loadings", "tools_hs_fiml_eq"],
)
def test_score_test_matches_lavaan(fits, case):
    ref, res = fits(case)
    lav = ref["lavTestScore"]
    ours = score_test(res, cumulative=True, epc="epc" in lav)
    for key in ("test", "uni", "cumulative"):
        lav_t, got = pd.DataFrame(lav[key]), ours[key]
        assert list(got.columns) == list(lav_t.columns), key
        if key != "test":
            # lavaan's constraint names (.pK. of its parameter table), in its order
            _same_rows(got, lav_t, ["lhs", "op", "rhs"])
        np.testing.assert_allclose(got["X2"], lav_t["X2"], atol=1e-4, rtol=1e-4, err_msg=key)
        np.testing.assert_array_equal(got["df"], lav_t["df"])
        np.testing.assert_allclose(got["p.value"], lav_t["p.value"], atol=1e-4, err_msg=key)


def test_score_test_epc_matches_lavaan(fits):
    ref, res = fits("tools_pd_eq_ml")
    lav_t = _lav_table(ref["lavTestScore"]["epc"])
    got = score_test(res, epc=True)["epc"]
    assert list(got.columns) == list(lav_t.columns)
    _same_rows(got, lav_t, ["lhs", "op", "rhs", "label", "plabel"])
    for col in ("est", "epc", "epv"):
        np.testing.assert_allclose(got[col], lav_t[col].astype(float), atol=1e-3, err_msg=col)
    # the sign of a zero EPC (a variance at its optimum) is noise: compare magnitudes there
    zero = lav_t["epc"].astype(float).abs() < 1e-5
    for col in ("sepc.lv", "sepc.all", "sepc.nox"):
        lav_col = lav_t[col].astype(float)
        np.testing.assert_allclose(got.loc[~zero, col], lav_col[~zero], atol=1e-3, err_msg=col)
        np.testing.assert_allclose(
            got.loc[zero, col].abs(), lav_col[zero].abs(), atol=1e-3, err_msg=col
        )


def test_score_test_release_and_errors(fits):
    ref, res = fits("tools_hs_mg_loadings")
    uni = pd.DataFrame(ref["lavTestScore"]["uni"])
    # releasing one constraint alone is its univariate test
    one = score_test(res, release=[3], univariate=False)["test"]
    np.testing.assert_allclose(one["X2"], uni["X2"][2], atol=1e-4)
    assert set(score_test(res, univariate=False)) == {"test"}
    with pytest.raises(CkmError, match="'release' parameter of score_test"):
        score_test(res, release=[7])
    with pytest.raises(CkmError, match="already a parameter"):
        score_test(res, add="x1 ~~ x1")
    with pytest.raises(CkmError, match="'zz' is not a variable"):
        score_test(res, add="zz ~~ x1")
    with pytest.raises(CkmError, match="cannot be used together"):
        score_test(res, add="x1 ~~ x2", release=[1])
    _, plain = fits("tools_hs_ml")
    with pytest.raises(CkmError, match="no equality constraints"):
        score_test(plain)


# --------------------------------------------------------------- factor scores
@pytest.mark.parametrize(
    "case",
    [
        "tools_hs_ml",
        "tools_hs_mlr",
        "tools_pd_eq_ml",
        "tools_hs_fiml",
        "tools_hs_covariates_ml",
        "tools_hs_ovreg_ml",
    ],
)
@pytest.mark.parametrize("method", ["regression", "Bartlett"])
def test_factor_scores_match_lavaan(fits, case, method):
    ref, res = fits(case)
    lav = pd.DataFrame(ref["lavPredict"][method]).astype(float)
    ours = factor_scores(res, method=method)
    assert list(ours.columns) == list(lav.columns)
    # with missing cells, a factor none of whose indicators is observed has no
    # Bartlett score (NaN in both)
    np.testing.assert_allclose(ours.to_numpy(), lav.to_numpy(), atol=1e-4)
    if case == "tools_hs_fiml" and method == "Bartlett":
        assert ours.isna().to_numpy().sum() == 3


def test_factor_scores_multigroup(fits):
    ref, res = fits("tools_hs_mg_loadings")
    ours = factor_scores(res)
    for label, rows in ref["lavPredict"].items():
        lav = pd.DataFrame(rows).astype(float)
        got = ours[ours["group"] == label].drop(columns="group")
        np.testing.assert_allclose(got.to_numpy(), lav.to_numpy(), atol=1e-4)
    with pytest.raises(CkmError, match="'method' parameter of factor_scores"):
        factor_scores(res, method="ML")
    # with normal indicators EBM is the regression method
    np.testing.assert_allclose(
        factor_scores(res, method="EBM").drop(columns="group").to_numpy(),
        ours.drop(columns="group").to_numpy(),
    )


# ------------------------------------------------------------------- residuals
def _matrix(m) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in m["values"]], float)


def _vector(v) -> np.ndarray:
    return np.array([np.nan if x is None else x for x in v.values()], float)


def _compare_residuals(ours: dict, lav: dict, z_atol: float) -> None:
    keys = [k for k in lav if k != "type"]
    assert set(keys) <= set(ours), (keys, list(ours))
    assert ours["type"] == lav["type"]
    for key in keys:
        if key == "summary":
            want = pd.DataFrame(lav[key]).T.astype(float)
            got = ours[key]
            assert list(got.columns) == list(want.columns)
            assert list(got.index) == list(want.index)
            z = want.index.str.endswith(".z")  # test statistics: ratios, as cov.z
            np.testing.assert_allclose(
                got[~z].to_numpy(), want[~z].to_numpy(), atol=1e-4, rtol=1e-4, err_msg=key
            )
            np.testing.assert_allclose(
                got[z].to_numpy(), want[z].to_numpy(), atol=z_atol, rtol=1e-4, err_msg=key
            )
            continue
        atol = z_atol if key.endswith(".z") or lav["type"] == "standardized" else 1e-4
        if isinstance(lav[key], dict) and "values" in lav[key]:
            np.testing.assert_allclose(ours[key].to_numpy(), _matrix(lav[key]), atol=atol)
        else:
            np.testing.assert_allclose(ours[key].to_numpy(), _vector(lav[key]), atol=atol)


@pytest.mark.parametrize(
    "case",
    [
        "tools_hs_ml",
        "tools_hs_mlr",
        "tools_pd_eq_ml",
        "tools_hs_mg_loadings",
        "tools_hs_fiml",
        "tools_hs_fiml_eq",
        "tools_hs_covariates_ml",
    ],
)
def test_residuals_match_lavresiduals(fits, case):
    ref, res = fits(case)
    # z statistics are ratios of two estimated quantities: 1e-3 absolute
    for key, kind in (("lavResiduals", "cor.bentler"), ("resid_standardized", "standardized")):
        lav = ref[key]
        ours = residuals(res, type=kind)
        if res.ngroups == 1:
            _compare_residuals(ours, lav, 1e-3)
        else:
            assert list(ours) == list(lav)
            for label in lav:
                _compare_residuals(ours[label], lav[label], 1e-3)


def test_residuals_options_and_refusals(fits):
    ref, res = fits("tools_hs_fiml")
    ours = residuals(res, zstat=False, summary=False)
    assert list(ours) == ["type", "cov", "mean"]
    lav = ref["lavResiduals"]
    np.testing.assert_allclose(ours["cov"].to_numpy(), _matrix(lav["cov"]), atol=1e-4)
    _, ml = fits("tools_hs_ml")
    with pytest.raises(CkmError, match="'type' parameter of residuals"):
        residuals(ml, type="cor")
    raw = residuals(ml, type="raw")
    S = ml.engine.groups[0].moments.cov
    np.testing.assert_allclose(raw["cov"].to_numpy(), S - ml.implied["implied"]["cov"].to_numpy())
    assert list(raw["summary"].index[:2]) == ["rmr", "rmr.se"]


# ------------------------------------------------------- Wald and LR tests
@pytest.mark.parametrize("case", ["tools_hs_ml", "tools_hs_mlr", "tools_ordinal_wlsmv"])
def test_wald_test_matches_lavaan(fits, case):
    ref, res = fits(case)
    lav = ref["lavTestWald"]
    got = wald_test(res, ref["wald_constraints"])
    assert list(got.columns) == ["stat", "df", "p.value", "se"]
    np.testing.assert_allclose(got["stat"].iloc[0], lav["stat"], rtol=1e-3)
    assert got["df"].iloc[0] == lav["df"]
    np.testing.assert_allclose(got["p.value"].iloc[0], lav["p.value"], atol=1e-4)
    assert got["se"].iloc[0] == lav["se"]
    # the same constraints as a list
    same = wald_test(res, ref["wald_constraints"].split(";"))
    np.testing.assert_allclose(same["stat"], got["stat"])


def test_wald_test_errors(fits):
    _, res = fits("tools_hs_ml")
    with pytest.raises(CkmError, match="'zz' is not a parameter label"):
        wald_test(res, "l2 == zz")
    with pytest.raises(CkmError, match="equality constraints only"):
        wald_test(res, "l2 > 0")
    with pytest.raises(CkmError, match="at least one constraint"):
        wald_test(res, " ; ")


@pytest.mark.parametrize("case", ["tools_hs_ml", "tools_hs_mlr"])
def test_lrt_matches_lavaan(fits, case):
    ref, res = fits(case)
    res0 = fit_like_lavaan({**ref, "model": ref["nested_model"]})
    lav = pd.DataFrame(ref["lavTestLRT"]["rows"]).T
    got = lrt(res, res0, model_names=["free", "nested"])
    # sorted by df: the free model first, as lavaan
    assert list(got.index) == ["free", "nested"]
    assert list(got.columns) == list(lav.columns)
    np.testing.assert_allclose(
        got.to_numpy(dtype=float), lav.to_numpy(dtype=float), rtol=1e-5, atol=1e-4
    )
    # Satorra & Bentler (2010); lavaan falls back on the standard test for ML fits
    lav10 = pd.DataFrame(ref["lavTestLRT_sb2010"]["rows"]).T
    if res.estimator == "ML":
        with pytest.warns(UserWarning, match="standard chi-square difference"):
            got10 = lrt(res0, res, method="satorra.bentler.2010")
    else:
        got10 = lrt(res0, res, method="satorra.bentler.2010")
    assert list(got10.columns) == list(lav10.columns)
    np.testing.assert_allclose(
        got10.to_numpy(dtype=float), lav10.to_numpy(dtype=float), rtol=1e-5, atol=1e-4
    )
    with pytest.raises(CkmError, match="satorra.2000.*not supported"):
        lrt(res0, res, method="satorra.2000")
    with pytest.raises(CkmError, match="at least two"):
        lrt(res)


# --------------------------------------------------------------------- CLI
def test_cli_fit_modindices(tmp_path, capsys):
    from ckm_research.cli import main

    ref = load("parity_tools_hs_ml")
    model = tmp_path / "hs.lav"
    model.write_text(ref["model"] + "\n", encoding="utf-8")
    data = tmp_path / "hs.csv"
    load_data(ref).to_csv(data, index=False)
    assert main(["fit", str(model), str(data), "--modindices", "3"]) == 0
    out = capsys.readouterr().out
    assert "Modification Indices (the 3 largest):" in out
    lav = _lav_table(ref["modindices_sorted"])
    block = out.split("Modification Indices")[1].splitlines()
    rows = [line.split() for line in block[3:6]]
    assert [r[:3] for r in rows] == lav[["lhs", "op", "rhs"]].values[:3].tolist()
    np.testing.assert_allclose([float(r[3]) for r in rows], lav["mi"][:3], atol=1e-3)


@pytest.mark.parametrize("case", ["tools_hs_ml", "tools_hs_mg_loadings", "tools_ordinal_wlsmv"])
def test_score_test_add_matches_lavaan(fits, case):
    ref, res = fits(case)
    lav = ref["lavTestScore_add"]
    with_epc = "epc" in lav
    ours = score_test(res, add=ref["score_add"], cumulative=True, epc=with_epc)
    for key in ("test", "uni", "cumulative"):
        lav_t, got = pd.DataFrame(lav[key]), ours[key]
        assert list(got.columns) == list(lav_t.columns), key
        if key != "test":
            _same_rows(got, lav_t, ["lhs", "op", "rhs"])
        np.testing.assert_allclose(got["X2"], lav_t["X2"], atol=1e-3, rtol=1e-4, err_msg=key)
        np.testing.assert_array_equal(got["df"], lav_t["df"])
    if with_epc:
        np.testing.assert_allclose(ours["uni"]["epc"], pd.DataFrame(lav["uni"])["epc"], atol=1e-4)
        lav_t = _lav_table(lav["epc"])
        got = ours["epc"]
        assert list(got.columns) == list(lav_t.columns)
        _same_rows(got, lav_t, ["lhs", "op", "rhs", "free", "plabel"])
        np.testing.assert_allclose(got["epc"], lav_t["epc"].astype(float), atol=1e-3)
        added = lav_t["plabel"] == ""
        for col in ("sepc.lv", "sepc.all"):
            np.testing.assert_allclose(
                got.loc[added, col], lav_t.loc[added, col].astype(float), atol=1e-3
            )


def test_tools_refuse_lms_fits_and_wlsmv_options():
    hs = load_data(load("parity_tools_hs_ml"))
    model = (
        "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
        "speed ~ visual + textual + visual:textual"
    )
    lms = fit(model, hs, interaction="lms")
    for tool in (modindices, score_test, factor_scores, residuals):
        with pytest.raises(CkmError, match="not supported for LMS fits"):
            tool(lms)
    with pytest.raises(CkmError, match="not supported for LMS fits"):
        wald_test(lms, "a == 0")
    ordinal = load("ordinal_hs")
    wres = fit(ordinal["model"], load_data(ordinal), estimator="WLSMV", ordered="all")
    with pytest.raises(CkmError, match="type='standardized'.*WLSMV fit is not supported"):
        residuals(wres, type="standardized")
    with pytest.raises(CkmError, match="method='regression'.*not supported for WLSMV"):
        factor_scores(wres, method="regression")


def test_factor_scores_newdata(fits):
    ref, res = fits("tools_hs_ml")
    lav = pd.DataFrame(ref["lavPredict"]["Bartlett"]).astype(float)
    data = load_data(ref).iloc[10:20].copy()
    got = factor_scores(res, method="Bartlett", newdata=data)
    assert list(got.index) == list(data.index)
    np.testing.assert_allclose(got.to_numpy(), lav.iloc[10:20].to_numpy(), atol=1e-4)
    data.iloc[0, data.columns.get_loc("x5")] = np.nan
    assert factor_scores(res, newdata=data).iloc[0].isna().all()
    with pytest.raises(CkmError, match="not in the data: x9"):
        factor_scores(res, newdata=data.drop(columns="x9"))
    with pytest.raises(CkmError, match="type='yhat'.*not supported"):
        factor_scores(res, type="yhat")


def test_modindices_cov_std_false_and_refusals(fits):
    ref, res = fits("tools_hs_orth_ml")
    lav = _lav_table(ref["modindices_covstd_false"])
    ours = modindices(res, cov_std=False)
    _same_rows(ours, lav, ["lhs", "op", "rhs"])
    for col in ("epc", "sepc.lv", "sepc.all", "sepc.nox"):
        np.testing.assert_allclose(ours[col], lav[col], atol=1e-4, err_msg=col)
    with pytest.raises(CkmError, match="information='observed'.*not supported"):
        modindices(res, information="observed")
    with pytest.raises(CkmError, match="free_remove=False"):
        modindices(res, free_remove=False)


def test_residuals_wlsmv_match_lavresiduals(fits):
    ref, res = fits("tools_ordinal_wlsmv")
    lav = ref["lavResiduals"]
    ours = residuals(res)
    # lavaan's mean.z of a categorical fit is recycled to the length of th.z;
    # its first p entries are the means'
    lav = {**lav, "mean.z": dict(list(lav["mean.z"].items())[: len(ours["mean.z"])])}
    _compare_residuals(ours, lav, 1e-3)
    assert list(ours["th"].index[:2]) == ["x1|t1", "x1|t2"]


def test_factor_scores_wlsmv_ebm(fits):
    ref, res = fits("tools_ordinal_wlsmv")
    lav = pd.DataFrame(ref["lavPredict"]["EBM"]).astype(float)
    ours = factor_scores(res)  # EBM is the default for ordinal items, as in lavaan
    assert list(ours.columns) == list(lav.columns)
    # posterior modes found by two optimisers: 1e-3
    np.testing.assert_allclose(ours.to_numpy(), lav.to_numpy(), atol=1e-3)
    data = load_data(ref).iloc[:5]
    np.testing.assert_allclose(
        factor_scores(res, method="EBM", newdata=data).to_numpy(), lav.iloc[:5], atol=1e-3
    )
    with pytest.raises(CkmError, match="method='Bartlett'.*not supported for WLSMV"):
        factor_scores(res, method="Bartlett")
