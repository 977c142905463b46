"""Sampling weights (lavaan's ``sampling.weights``) against lavaan fixtures
(tests/reference/R/parity/weights.R): weighted moments, ML fitted as MLR as lavaan
does, robust SEs with weighted casewise scores, scaled and robust fit measures,
one group and two, complete data and FIML (``missing='ml'``); ``ckm fit
--sampling-weights``; bad weights refused by row."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ckm_research import fit
from ckm_research.cli import main
from ckm_research.errors import CkmError, DataError
from tests.reference_compare import REF, compare_estimates, compare_fit, fit_like_lavaan, load

COMPLETE = [
    "parity_weights_cfa_ml",
    "parity_weights_cfa_mlr",
    "parity_weights_sem_mlr",
    "parity_weights_cfa_mlr_2g",
    "parity_weights_sem_ml_2g",
    "parity_weights_cfa_eq_ml",
    "parity_weights_cfa_listwise_mlr",
]
FIML = [
    "parity_weights_cfa_fiml_mlr",
    "parity_weights_sem_fiml_mlr",
    "parity_weights_cfa_fiml_ml_2g",
]
REQUIRED = [
    "npar", "fmin", "chisq", "df", "pvalue", "chisq.scaled", "pvalue.scaled",
    "chisq.scaling.factor", "baseline.chisq", "baseline.chisq.scaled",
    "baseline.chisq.scaling.factor", "cfi", "tli", "cfi.scaled", "tli.scaled", "cfi.robust",
    "tli.robust", "logl", "unrestricted.logl", "aic", "bic", "bic2", "rmsea", "rmsea.ci.upper",
    "rmsea.scaled", "rmsea.robust", "rmsea.ci.upper.robust", "srmr", "rmr", "gfi",
]  # fmt: skip
#: the GFI family is not computed under FIML (tests/reference_compare.py)
REQUIRED_FIML = [k for k in REQUIRED if k not in ("gfi", "fmin")] + [
    "rmsea.notclose.pvalue.robust", "rmsea.pvalue.robust", "rni.robust",
]  # fmt: skip
MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6"


@pytest.fixture(scope="module")
def fits():
    return {name: fit_like_lavaan(load(name)) for name in COMPLETE + FIML}


@pytest.fixture(scope="module")
def hsw():
    return pd.read_csv(REF / "data" / "parity_weights_hs.csv")


def _by_group(ours: pd.DataFrame) -> pd.DataFrame:
    if "group" in ours:  # our table numbers groups 1, 2 as lavaan's does
        ours = ours.copy()
        ours["group"] = ours["group"].astype(int)
    return ours


@pytest.mark.parametrize("name", COMPLETE + FIML)
def test_estimates_ses_and_std_all_are_lavaans(fits, name):
    ref = load(name)
    res = fits[name]
    assert ref["options"]["se"] == "robust.huber.white"
    assert res.estimator == "MLR"
    compare_estimates(_by_group(res.estimates), ref["estimates"], se_rtol=0.02)


@pytest.mark.parametrize("name", COMPLETE + FIML)
def test_standardized_ses_are_lavaans(fits, name):
    ref = load(name)
    res = fits[name]
    ss = res.standardized_solution.rename(columns={"se": "se.ours"})
    lav = pd.DataFrame(ref["estimates"])
    keys = ["lhs", "op", "rhs"] + (["group"] if res.ngroups > 1 else [])
    m = lav.merge(ss, on=keys, how="inner")
    assert len(m) == len(lav)
    ok = m["se.std"].fillna(0) > 0
    assert ok.sum() > 10
    np.testing.assert_allclose(m.loc[ok, "se.ours"], m.loc[ok, "se.std"], rtol=0.02)


@pytest.mark.parametrize("name", COMPLETE + FIML)
def test_fit_measures_are_lavaans(fits, name):
    required = REQUIRED_FIML if name in FIML else REQUIRED
    compare_fit(fits[name].fit_measures, load(name)["fit"], required=required)


@pytest.mark.parametrize(
    "name",
    ["parity_weights_cfa_mlr", "parity_weights_cfa_mlr_2g", "parity_weights_cfa_fiml_ml_2g"],
)
def test_weighted_sample_moments_and_case_counts(fits, name):
    ref = load(name)
    res = fits[name]
    samp = ref["sampstat"] if "cov" not in ref["sampstat"] else {"": ref["sampstat"]}
    ours = [res.engine.sample_moments(g) for g in range(len(samp))]
    assert res.ngroups == 1 or all("mean" in lav for lav in samp.values())
    for (cov, mean), lav in zip(ours, samp.values(), strict=True):
        # FIML: the EM estimates, which lavaan stops at an absolute change of 1e-5
        tol = 1e-4 if name in FIML else 1e-10
        np.testing.assert_allclose(cov, np.array(lav["cov"]["values"]), atol=tol)
        if "mean" in lav:  # lavaan stores the means with a mean structure only
            np.testing.assert_allclose(mean, np.array(list(lav["mean"].values())), atol=tol)
    nobs = ref["nobs"] if isinstance(ref["nobs"], list) else [ref["nobs"]]
    assert res.n == ref["ntotal"]
    if res.ngroups > 1:
        assert list(res.n_per_group) == nobs  # cases, as lavInspect(fit, "nobs")


@pytest.mark.parametrize("name", ["parity_weights_cfa_ml", "parity_weights_cfa_fiml_ml_2g"])
def test_ml_is_fitted_as_mlr_with_a_note(fits, name):
    assert load(name)["args"]["estimator"] == "ML"
    res = fits[name]
    assert any("estimator 'ML' was fitted as 'MLR'" in w for w in res.warnings)
    assert "Sampling weights variable" in res.summary()


def test_constant_weights_give_the_unweighted_fit(hsw):
    plain = fit(MODEL, hsw, estimator="MLR")
    ones = fit(MODEL, hsw.assign(w=3.5), estimator="MLR", sampling_weights="w")
    np.testing.assert_allclose(ones.estimates["se"], plain.estimates["se"], rtol=1e-6)
    for key in ("chisq", "chisq.scaled", "logl", "bic", "cfi.robust"):
        assert ones.fit_measures[key] == pytest.approx(plain.fit_measures[key], rel=1e-7)


def test_cli_sampling_weights(tmp_path, capsys):
    ref = load("parity_weights_sem_ml_2g")
    model = tmp_path / "model.lav"
    model.write_text(ref["model"], encoding="utf-8")
    out = tmp_path / "fit.json"
    args = ["--group", "school", "--group-equal", "loadings", "--sampling-weights", "w"]
    code = main(["fit", str(model), str(REF / ref["data_csv"]), *args, "--json", str(out)])
    assert code == 0, capsys.readouterr().err
    assert "Sampling weights variable" in capsys.readouterr().out
    doc = json.loads(out.read_text(encoding="utf-8"))
    compare_fit(doc["fit"], ref["fit"], required=["chisq", "chisq.scaled", "cfi.robust", "bic"])
    ours = pd.DataFrame(doc["estimates"])
    labels = {lab: i + 1 for i, lab in enumerate(dict.fromkeys(ours["group"]))}
    ours["group"] = ours["group"].map(labels)
    compare_estimates(ours, ref["estimates"], se_rtol=0.02)


@pytest.mark.parametrize(
    "value,rows,what",
    [(-1.0, [3, 7], "negative values in rows 3, 7"), (np.nan, [5], "missing values in rows 5")],
)
def test_bad_weights_are_refused_naming_column_and_rows(hsw, value, rows, what):
    data = hsw.copy()
    data.loc[[r - 1 for r in rows], "w"] = value
    with pytest.raises(DataError, match=f"sampling weights column 'w' has {what}"):
        fit(MODEL, data, sampling_weights="w")


def test_all_zero_and_absent_weights_are_refused(hsw):
    with pytest.raises(DataError, match="'w' is zero in every row"):
        fit(MODEL, hsw.assign(w=0.0), sampling_weights="w")
    data = hsw.assign(w=np.where(hsw["school"] == "Pasteur", 0.0, 1.0))
    with pytest.raises(DataError, match="every case of group Pasteur are zero"):
        fit(MODEL, data, sampling_weights="w", group="school")
    with pytest.raises(CkmError, match="column 'wt' is not in the data"):
        fit(MODEL, hsw, sampling_weights="wt")
    with pytest.raises(DataError, match="non-numeric values in rows 2"):
        fit(MODEL, hsw.assign(w=["1"] + ["a"] + ["1"] * (len(hsw) - 2)), sampling_weights="w")


@pytest.mark.parametrize(
    "options,what",
    [
        ({"estimator": "MLM"}, "estimator='MLM'"),
        ({"estimator": "ULS"}, "estimator='ULS'"),
        ({"estimator": "MLR", "missing": "ml.x"}, "missing='ml.x'"),
        ({"estimator": "WLSMV", "ordered": "all"}, "ordered items"),
    ],
)
def test_unsupported_combinations_are_refused(hsw, options, what):
    with pytest.raises(CkmError, match=f"sampling_weights is not supported with {what}"):
        fit(MODEL, hsw, sampling_weights="w", **options)


def test_bootstrap_with_weights_is_refused(hsw):
    from ckm_research.inference.bootstrap import bootstrap

    with pytest.raises(CkmError, match="bootstrap is not supported with sampling_weights"):
        bootstrap(MODEL, hsw, n_boot=2, sampling_weights="w")


# ----------------------------------------------------- tools after a weighted fit
TOOLS = ["parity_weights_cfa_ml", "parity_weights_cfa_fiml_mlr"]


@pytest.mark.parametrize("name", TOOLS)
def test_modindices_of_a_weighted_fit_are_lavaans(fits, name):
    from ckm_research import modindices

    lav = pd.DataFrame(load(name)["modindices"])
    ours = modindices(fits[name])
    m = lav.merge(ours, on=["lhs", "op", "rhs"], suffixes=("_lav", ""))
    assert len(m) == len(lav) == len(ours)
    for col in ("mi", "epc", "sepc.all"):
        np.testing.assert_allclose(m[col], m[col + "_lav"], atol=1e-3, rtol=1e-4, err_msg=col)


@pytest.mark.parametrize("name", TOOLS)
@pytest.mark.parametrize("method", ["regression", "Bartlett"])
def test_factor_scores_of_a_weighted_fit_are_lavaans(fits, name, method):
    from ckm_research import factor_scores

    lav = pd.DataFrame(load(name)["lavPredict"][method]).astype(float)
    ours = factor_scores(fits[name], method=method)
    np.testing.assert_allclose(ours.to_numpy(), lav.to_numpy(), atol=1e-4)


@pytest.mark.parametrize("name", TOOLS)
def test_lrt_of_weighted_fits_is_lavaans(fits, name):
    from ckm_research import lrt

    ref = load(name)
    res0 = fit_like_lavaan({**ref, "model": ref["nested_model"]})
    lav = pd.DataFrame(ref["lavTestLRT"]["rows"]).T
    got = lrt(fits[name], res0)
    assert list(got.columns) == list(lav.columns)
    np.testing.assert_allclose(
        got.to_numpy(dtype=float), lav.to_numpy(dtype=float), rtol=1e-5, atol=1e-4
    )


def _matrix(m) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in m["values"]], float)


@pytest.mark.parametrize(
    "name",
    [
        "parity_weights_cfa_ml",
        "parity_weights_sem_mlr",
        "parity_weights_cfa_mlr_2g",
        "parity_weights_cfa_fiml_mlr",
        "parity_weights_sem_fiml_mlr",
        "parity_weights_cfa_fiml_ml_2g",
    ],
)
def test_residuals_of_a_weighted_fit_are_lavaans(fits, name):
    from ckm_research import residuals

    ref = load(name)
    res = fits[name]
    # lavResiduals() gives cov, cov.z and a summary; resid(type = "standardized") only cov
    for key, kind, mats in (("lavResiduals", "cor.bentler", ("cov", "cov.z")),
                            ("resid_standardized", "standardized", ("cov",))):  # fmt: skip
        ours, lav = residuals(res, type=kind), ref[key]
        pairs = [(ours[g], lav[g]) for g in lav] if res.ngroups > 1 else [(ours, lav)]
        for o, v in pairs:
            for k in mats:  # z statistics: ratios of two estimates, 1e-3
                np.testing.assert_allclose(o[k].to_numpy(), _matrix(v[k]), atol=1e-3)
            if key == "lavResiduals":
                want = pd.DataFrame(v["summary"]).T.astype(float)
                np.testing.assert_allclose(
                    o["summary"].to_numpy(), want.to_numpy(), atol=1e-3, rtol=1e-4
                )


def test_score_test_of_a_weighted_fit_is_lavaans(fits):
    from ckm_research import score_test

    lav = load("parity_weights_cfa_eq_ml")["lavTestScore"]
    # lavaan and we fall back on the ordinary score test for MLR (with a warning)
    with pytest.warns(UserWarning, match="ordinary score test"):
        ours = score_test(fits["parity_weights_cfa_eq_ml"])
    for part in ("test", "uni"):
        want = pd.DataFrame(lav[part])
        np.testing.assert_allclose(ours[part]["X2"], want["X2"], rtol=1e-4)
        np.testing.assert_allclose(ours[part]["p.value"], want["p.value"], atol=1e-4)
