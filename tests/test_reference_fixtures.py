"""The lavaan reference fixtures of the engine are present and consistent.

These tests check the fixtures, not the engine: that a regeneration with
``tests/reference/make_reference.R`` / ``make_data.py`` wrote every file, with
lavaan's numbers at full precision, from the committed data.  They need no R.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

REF = Path(__file__).parent / "reference"
DATA = REF / "data"
JSON = REF / "json"

ENGINE_CASES = {
    # case: (estimator, data file)
    "hs_cfa_ml": ("ML", "HolzingerSwineford1939.csv"),
    "hs_cfa_mlr": ("MLR", "HolzingerSwineford1939.csv"),
    "hs_cfa_stdlv_ml": ("ML", "HolzingerSwineford1939.csv"),
    "hs_cfa_stdlv_mlr": ("MLR", "HolzingerSwineford1939.csv"),
    "hs_covariates_ml": ("ML", "HolzingerSwineford1939.csv"),
    "hs_covariates_fixedx_false_ml": ("ML", "HolzingerSwineford1939.csv"),
    "hs_covariates_mlr": ("MLR", "HolzingerSwineford1939.csv"),
    "poldem_ml": ("ML", "PoliticalDemocracy.csv"),
    "poldem_mlr": ("MLR", "PoliticalDemocracy.csv"),
    "poldem_eq_ml": ("ML", "PoliticalDemocracy.csv"),
    "ckm_ml": ("ML", "ckm_sim_n500.csv"),
    "ckm_mlr": ("MLR", "ckm_sim_n500.csv"),
    "ckm_fiml": ("ML", "ckm_sim_n500_missing.csv"),
    "ckm_wlsmv": ("WLSMV", "ckm_sim_ordinal_n900.csv"),
    "ecsi_ml": ("ML", "ecsi_mobi.csv"),
    "ecsi_mlr": ("MLR", "ecsi_mobi.csv"),
}
REQUIRED_KEYS = {
    "case", "lavaan_version", "model", "data_csv", "call", "args", "options", "nobs",
    "converged", "timing_seconds", "estimates", "partable", "fit", "implied", "sampstat",
    "resid_standardized", "lavResiduals",
}  # fmt: skip
ESTIMATE_COLUMNS = {
    "lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci.lower", "ci.upper",
    "std.lv", "std.all", "se.std",
}  # fmt: skip
OPTION_KEYS = {"information", "observed.information", "h1.information", "se", "test"}
REQUIRED_DATA = {
    "HolzingerSwineford1939.csv", "PoliticalDemocracy.csv", "ecsi_mobi.csv",
    "ckm_sim_n500.csv", "ckm_sim_n500_missing.csv", "ckm_sim_ordinal_n900.csv",
}  # fmt: skip


def _load(case: str) -> dict:
    path = JSON / f"engine_{case}.json"
    if not path.exists():
        pytest.fail(f"{path.name} is missing: Rscript tests/reference/make_reference.R engine")
    return json.loads(path.read_text())


def _matrix(m: dict) -> pd.DataFrame:
    return pd.DataFrame(m["values"], index=m["rownames"], columns=m["colnames"], dtype=float)


# ---- data ---------------------------------------------------------------------
def test_manifest_matches_the_data_files():
    manifest = json.loads((DATA / "MANIFEST.json").read_text())["files"]
    assert REQUIRED_DATA <= set(manifest), REQUIRED_DATA - set(manifest)
    for name, entry in manifest.items():
        raw = (DATA / name).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == entry["sha256"], f"{name} changed"
        assert len(raw) == entry["bytes"]
        assert len(raw) < 1_000_000, f"{name} is over 1 MB"


def test_simulated_data_regenerate_identically():
    spec = importlib.util.spec_from_file_location("make_data", REF / "make_data.py")
    make_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_data)
    for name, text in make_data.build().items():
        assert (DATA / name).read_text() == text, f"make_data.py no longer reproduces {name}"


def test_simulated_data_have_the_documented_shape():
    pop = json.loads((DATA / "ckm_population.json").read_text())
    items = sorted({r["rhs"] for r in pop["parameters"] if r["op"] == "=~"})
    assert len(items) == 53
    for name, info in pop["files"].items():
        d = pd.read_csv(DATA / name)
        assert sorted(d.columns) == items
        assert len(d) == info["n"]
        values = pd.Series(d.to_numpy().ravel()).dropna()
        assert set(values.astype(int).unique()) == set(range(1, info["categories"] + 1))
        if "missing_cells" in info:
            assert d.isna().to_numpy().sum() == info["missing_cells"]
            assert info["missing_cells"] == round(info["missing_share"] * d.size)
        else:
            assert not d.isna().to_numpy().any()
    full = pd.read_csv(DATA / "ckm_sim_n500.csv")
    gappy = pd.read_csv(DATA / "ckm_sim_n500_missing.csv")
    seen = gappy.notna()
    assert (gappy[seen] == full[seen]).to_numpy()[seen.to_numpy()].all()


def test_population_values_are_in_the_documented_ranges_and_standardized():
    pop = json.loads((DATA / "ckm_population.json").read_text())
    t = pd.DataFrame(pop["parameters"])
    lam = t[t.op == "=~"].value
    assert lam.between(0.65, 0.85).all() and len(lam) == 53
    assert t[t.op == "~"].value.between(0.15, 0.45).all()
    exo = t[(t.op == "~~") & (t.lhs != t.rhs) & (t.value != 0)].value
    assert len(exo) == 36 and exo.between(0.2, 0.4).all()
    # every latent variance implied by the table is 1 (to the rounding of psi)
    names = pop["latent_correlations"]["names"]
    idx = {n: i for i, n in enumerate(names)}
    k = len(names)
    beta, psi = np.zeros((k, k)), np.zeros((k, k))
    for r in t.itertuples():
        if r.op == "~":
            beta[idx[r.lhs], idx[r.rhs]] = r.value
        elif r.op == "~~" and r.lhs in idx:
            psi[idx[r.lhs], idx[r.rhs]] = psi[idx[r.rhs], idx[r.lhs]] = r.value
    inv = np.linalg.inv(np.eye(k) - beta)
    phi = inv @ psi @ inv.T
    np.testing.assert_allclose(np.diag(phi), 1.0, atol=1e-6)
    np.testing.assert_allclose(phi, pop["latent_correlations"]["matrix"], atol=1e-9)
    # the fixed-value lavaan model says the same
    lav = (DATA / "ckm_population.lav").read_text()
    for r in t.itertuples():
        if r.op == "=~":
            assert re.search(rf"{r.lhs} =~ .*\b{re.escape(repr(float(r.value)))}\*{r.rhs}\b", lav)
        elif r.op == "~~":
            assert f"{r.lhs} ~~ {float(r.value)!r}*{r.rhs}\n" in lav


# ---- engine fixtures ---------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(ENGINE_CASES))
def test_engine_fixture_is_complete(case):
    ref = _load(case)
    assert REQUIRED_KEYS <= set(ref), REQUIRED_KEYS - set(ref)
    estimator, csv = ENGINE_CASES[case]
    assert ref["case"] == case
    assert ref["data_csv"] == f"data/{csv}"
    assert ref["args"]["estimator"] == estimator
    # lavaan stores MLR as ML with robust se/test, and WLSMV as DWLS
    assert ref["options"]["estimator"] == {"MLR": "ML", "WLSMV": "DWLS"}.get(estimator, estimator)
    assert OPTION_KEYS <= set(ref["options"])
    assert ref["converged"] is True
    assert math.isfinite(ref["timing_seconds"]) and ref["timing_seconds"] > 0
    est = pd.DataFrame(ref["estimates"])
    assert ESTIMATE_COLUMNS <= set(est.columns), ESTIMATE_COLUMNS - set(est.columns)
    num = est[["est", "se", "std.all"]].astype(float)
    assert np.isfinite(num).all().all(), est[~np.isfinite(num).all(axis=1)]
    free = est["se"] > 0
    assert free.sum() > 0
    for col in ["z", "pvalue", "ci.lower", "ci.upper", "se.std"]:
        assert np.isfinite(est.loc[free, col].astype(float)).all(), col
    assert (est.loc[free, "ci.lower"] < est.loc[free, "est"]).all()
    assert (est.loc[free, "est"] < est.loc[free, "ci.upper"]).all()
    fit = ref["fit"]
    for key in ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "npar"]:
        assert fit.get(key) is not None and math.isfinite(fit[key]), key
    if estimator in ("MLR", "WLSMV"):
        for key in ["chisq.scaled", "df.scaled", "cfi.robust", "rmsea.robust"]:
            assert fit.get(key) is not None and math.isfinite(fit[key]), key
    if estimator != "WLSMV":
        for key in ["logl", "aic", "bic", "ntotal"]:
            assert fit.get(key) is not None and math.isfinite(fit[key]), key


@pytest.mark.parametrize("case", sorted(ENGINE_CASES))
def test_engine_fixture_is_internally_consistent(case):
    ref = _load(case)
    fit = ref["fit"]
    data = pd.read_csv(REF / ref["data_csv"])
    assert ref["norig"] == len(data)
    assert ref["nobs"] == fit.get("ntotal", ref["nobs"]) == len(ref["case_idx"])
    n_eq = sum(r["op"] == "==" for r in ref["partable"])
    # lavInspect(fit, "npar") counts free parameters, fitMeasures' npar subtracts equalities
    assert ref["npar"] - n_eq == fit["npar"]
    # parameterEstimates and parTable agree
    pt = {(r["lhs"], r["op"], r["rhs"]): r for r in ref["partable"]}
    for r in ref["estimates"]:
        if r["op"] != ":=":
            assert r["est"] == pt[(r["lhs"], r["op"], r["rhs"])]["est"]
    # chi-square p-value, and the df from the counts (no fixed.x covariates)
    assert fit["pvalue"] == pytest.approx(stats.chi2.sf(fit["chisq"], fit["df"]), abs=1e-10)
    implied = _matrix(ref["implied"]["cov"])
    np.testing.assert_allclose(implied, implied.T, atol=1e-12)
    p = implied.shape[0]
    exo = any(r["exo"] == 1 for r in ref["partable"])
    if not exo and ref["args"]["estimator"] != "WLSMV":
        moments = p * (p + 1) // 2 + (p if "mean" in ref["implied"] else 0)
        assert fit["df"] == moments - fit["npar"]
    # the sample statistics are those of the committed CSV
    if ref["args"].get("missing") != "ml" and ref["args"]["estimator"] != "WLSMV":
        rows = data.iloc[np.asarray(ref["case_idx"]) - 1][list(implied.index)]
        sample = rows.cov(ddof=0)
        np.testing.assert_allclose(_matrix(ref["sampstat"]["cov"]), sample, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", sorted(ENGINE_CASES))
def test_engine_fixture_keeps_full_precision(case):
    """jsonlite prints 15 significant digits at most; the fixtures must have 17."""
    text = (JSON / f"engine_{case}.json").read_text()
    numbers = re.findall(r"\d+\.\d+", text[:200_000])
    digits = [len(m.replace(".", "").lstrip("0")) for m in numbers]
    assert max(digits) >= 16
