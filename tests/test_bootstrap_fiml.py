"""FIML bootstrap refits from weighted missing-data pattern moments
(ckm_research.inference.fiml_refit, the ``_FIMLTask`` of the bootstrap).

What is checked:

* the weighted pattern likelihood equals the casewise FIML log-likelihood of
  the data with each case repeated as often as its weight
  (:func:`ckm_research.sem.missing.fiml_loglik`), and its analytic gradient a
  central-difference gradient;
* a resample's refit equals a full :func:`ckm_research.fit` of the same
  resampled data (estimates and ``:=`` values to 1e-6), with one and two groups
  and with 1, 2 and 3 missing variables per pattern; the jackknife's delete-one
  refits likewise;
* for a fixed seed the bootstrap gives the same replicates through the new
  refits and through the old full refits (``_RefitTask``), within the
  optimisers' tolerance;
* fits the refitter cannot reproduce (fixed-x covariates) keep the full refits.
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

from ckm_research import fit
from ckm_research.inference.bootstrap import bootstrap
from ckm_research.inference.fiml_refit import FIMLRefitter
from ckm_research.inference.population import PopulationModel
from ckm_research.numerics import numerical_jacobian
from ckm_research.sem import missing as mis

POP = """
f1 =~ 0.8*x1 + 0.7*x2 + 0.6*x3
f2 =~ 0.8*x4 + 0.7*x5 + 0.6*x6
f2 ~ 0.4*f1
f1 ~~ 1*f1
f2 ~~ 0.84*f2
x1 ~~ 0.36*x1
x2 ~~ 0.51*x2
x3 ~~ 0.64*x3
x4 ~~ 0.36*x4
x5 ~~ 0.51*x5
x6 ~~ 0.64*x6
"""
bootmod = importlib.import_module("ckm_research.inference.bootstrap")

MODEL = """
f1 =~ x1 + a*x2 + x3
f2 =~ x4 + x5 + x6
f2 ~ b*f1
ab := a*b
"""


def _incomplete(n: int, seed: int) -> pd.DataFrame:
    """Normal data with MAR missingness: patterns with 1, 2 and 3 missing items
    (x4-x6 missing more often where x1 is high), and one empty case."""
    data = PopulationModel(POP).simulate(n, random_state=seed)
    rng = np.random.default_rng(seed)
    high = data["x1"].to_numpy() > 0.5
    for col, p in (("x4", 0.4), ("x5", 0.35), ("x6", 0.3), ("x2", 0.1)):
        drop = rng.random(n) < np.where(high, p, p / 3)
        data.loc[drop, col] = np.nan
    data.iloc[3, :] = np.nan  # an empty case: fit() drops it
    return data


def _counts(seed: int, n_boot: int, n: int) -> list[np.ndarray]:
    """The documented streams: resample b draws rows with
    default_rng(SeedSequence(seed).spawn(B)[b]).integers(0, N, N)."""
    return [
        np.random.default_rng(c).integers(0, n, n)
        for c in np.random.SeedSequence(seed).spawn(n_boot)
    ]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return _incomplete(150, 7)


@pytest.fixture(scope="module")
def full_fit(data):
    return fit(MODEL, data, estimator="FIML")


def test_weighted_pattern_likelihood_equals_casewise_likelihood_of_repeated_cases(full_fit):
    eng = full_fit.engine
    x = eng.patterns[0].data
    assert {len(m) - m.sum() for m in eng.patterns[0].masks} >= {0, 1, 2, 3}
    refit = FIMLRefitter(eng.pt, [x], eng.theta)
    w = np.random.default_rng(1).integers(0, 4, len(x)).astype(float)
    theta = eng.theta + 0.01 * np.random.default_rng(2).standard_normal(len(eng.theta))
    sigma, mu = refit.model.implied(theta, 0)
    expanded = np.repeat(x, w.astype(int), axis=0)
    assert refit.loglik(theta, [w]) == pytest.approx(mis.fiml_loglik(expanded, mu, sigma), 1e-12)
    num = numerical_jacobian(lambda th: np.array([refit.loglik(th, [w])]), theta, 1e-6)[0]
    np.testing.assert_allclose(refit.gradient(theta, [w]), num, rtol=1e-5, atol=1e-5)


def test_resample_refits_equal_full_fits_of_the_resampled_data(data, full_fit):
    seed, B = 3, 3
    boot = bootstrap(MODEL, data, n_boot=B, random_state=seed, n_jobs=1, bca=False,
                     estimator="FIML", progress=False, result=full_fit)  # fmt: skip
    assert boot.method.startswith("FIML refit from the resample's weighted")
    assert boot.n_converged == B
    for b, idx in enumerate(_counts(seed, B, len(data))):
        ref = fit(MODEL, data.iloc[idx].reset_index(drop=True), estimator="FIML").estimates
        np.testing.assert_allclose(boot.replicates[b], ref["est"].to_numpy(), atol=1e-6)


def test_two_groups_resampled_within_groups():
    data = pd.concat([_incomplete(120, 11), _incomplete(100, 12)], ignore_index=True)
    data["grp"] = ["a"] * 120 + ["b"] * 100
    seed, B = 8, 2
    boot = bootstrap(MODEL, data, n_boot=B, random_state=seed, n_jobs=1, bca=False,
                     estimator="FIML", group="grp", progress=False)  # fmt: skip
    assert boot.method.startswith("FIML refit")
    strata = [np.arange(120), np.arange(120, 220)]
    for b, child in enumerate(np.random.SeedSequence(seed).spawn(B)):
        rng = np.random.default_rng(child)
        idx = np.concatenate([s[rng.integers(0, len(s), len(s))] for s in strata])
        sub = data.iloc[idx].reset_index(drop=True)
        ref = fit(MODEL, sub, estimator="FIML", group="grp").estimates
        np.testing.assert_allclose(boot.replicates[b], ref["est"].to_numpy(), atol=1e-6)


def test_same_seed_same_replicates_as_the_full_refits(data, full_fit, monkeypatch):
    seed, B = 12, 4
    new = bootstrap(MODEL, data, n_boot=B, random_state=seed, n_jobs=1, bca=False,
                    estimator="FIML", progress=False, result=full_fit)  # fmt: skip
    monkeypatch.setattr(bootmod, "_fiml_case_rows", lambda *a, **k: None)
    old = bootstrap(MODEL, data, n_boot=B, random_state=seed, n_jobs=1, bca=False,
                    estimator="FIML", progress=False, result=full_fit)  # fmt: skip
    assert old.method.startswith("full refit") and new.method.startswith("FIML refit")
    np.testing.assert_allclose(new.replicates, old.replicates, atol=1e-6)
    cols = ["se", "ci.lower", "ci.upper"]
    np.testing.assert_allclose(new.estimates[cols], old.estimates[cols], atol=1e-6)


def test_jackknife_refits_equal_delete_one_fits():
    data = _incomplete(40, 5)
    boot = bootstrap(MODEL, data, n_boot=20, random_state=1, n_jobs=1, ci="bca",
                     estimator="FIML", progress=False)  # fmt: skip
    assert boot.jackknife.shape[0] == len(data)
    for i in (0, 3, 17):  # row 3 is empty: deleting it changes nothing
        ref = fit(MODEL, data.drop(index=i).reset_index(drop=True), estimator="FIML").estimates
        np.testing.assert_allclose(boot.jackknife[i], ref["est"].to_numpy(), atol=1e-6)


def test_fixed_x_covariates_keep_the_full_refits(data):
    d = data.copy()
    d["z"] = np.random.default_rng(4).standard_normal(len(d))
    boot = bootstrap(MODEL + "f2 ~ z\n", d.dropna(how="all"), n_boot=2, random_state=1,
                     n_jobs=1, bca=False, estimator="FIML", progress=False)  # fmt: skip
    assert boot.method.startswith("full refit")


def test_mlr_fits_refit_the_same_estimates(data):
    # MLR: the same estimates as ML; the refits' metric is computed, not the sandwich
    seed, B = 6, 2
    boot = bootstrap(MODEL, data, n_boot=B, random_state=seed, n_jobs=1, bca=False,
                     estimator="MLR", missing="ml", progress=False)  # fmt: skip
    assert boot.method.startswith("FIML refit")
    for b, idx in enumerate(_counts(seed, B, len(data))):
        sub = data.iloc[idx].reset_index(drop=True)
        ref = fit(MODEL, sub, estimator="MLR", missing="ml").estimates
        np.testing.assert_allclose(boot.replicates[b], ref["est"].to_numpy(), atol=1e-6)


def test_product_indicators_with_missing_items_are_rebuilt_in_each_resample():
    # dblcent with FIML: each resample's products are centred at its own means
    # (over observed values), as fit() builds them from the resampled data
    items = [(f"{f}{j}", r) for f in "xzy" for j, r in ((1, 0.36), (2, 0.51), (3, 0.64))]
    pop = PopulationModel(
        "X =~ 0.8*x1 + 0.7*x2 + 0.6*x3\nZ =~ 0.8*z1 + 0.7*z2 + 0.6*z3\n"
        "Y =~ 0.8*y1 + 0.7*y2 + 0.6*y3\nY ~ 0.3*X + 0.2*Z + 0.3*X:Z\n"
        "X ~~ 1*X\nZ ~~ 1*Z\nX ~~ 0.2*Z\nY ~~ 0.6*Y\n"
        + "\n".join(f"{v} ~~ {r}*{v}" for v, r in items)
    )
    data = pop.simulate(200, random_state=4)
    rng = np.random.default_rng(4)
    for col in ("x2", "z3", "y1"):
        data.loc[rng.random(len(data)) < 0.15, col] = np.nan
    model = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ b1*X + Z + b3*X:Z\n"
    seed, B = 21, 2
    boot = bootstrap(model, data, n_boot=B, random_state=seed, n_jobs=1, bca=False,
                     estimator="FIML", progress=False)  # fmt: skip
    assert boot.method.startswith("FIML refit")
    for b, idx in enumerate(_counts(seed, B, len(data))):
        sub = data.iloc[idx].reset_index(drop=True)
        ref = fit(model, sub, estimator="FIML").estimates
        np.testing.assert_allclose(boot.replicates[b], ref["est"].to_numpy(), atol=1e-6)


def _dblcent_sample(n: int, seed: int):
    """X, Z, Y with a latent interaction, 15% missing answers in three items."""
    items = [(f"{f}{j}", r) for f in "xzy" for j, r in ((1, 0.36), (2, 0.51), (3, 0.64))]
    pop = PopulationModel(
        "X =~ 0.8*x1 + 0.7*x2 + 0.6*x3\nZ =~ 0.8*z1 + 0.7*z2 + 0.6*z3\n"
        "Y =~ 0.8*y1 + 0.7*y2 + 0.6*y3\nY ~ 0.3*X + 0.2*Z + 0.3*X:Z\n"
        "X ~~ 1*X\nZ ~~ 1*Z\nX ~~ 0.2*Z\nY ~~ 0.6*Y\n"
        + "\n".join(f"{v} ~~ {r}*{v}" for v, r in items)
    )
    data = pop.simulate(n, random_state=seed) + 4.0  # item means away from 0, as Likert items
    rng = np.random.default_rng(seed)
    for col in ("x2", "z3", "y1"):
        data.loc[rng.random(len(data)) < 0.15, col] = np.nan
    model = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ b1*X + Z + b3*X:Z\n"
    return data, model


def test_dblcent_fiml_bootstrap_says_it_took_the_pattern_refits_and_equals_full_refits(
    monkeypatch,
):
    # issue 11: a dblcent FIML bootstrap must take the pattern-moment refits (its
    # products recentred in each resample) and say which path it took; the full
    # refits (fit() of each resampled data set, products rebuilt from the resampled
    # raw items) give the same estimates for the same seed
    from ckm_research.errors import CkmWarning

    data, model = _dblcent_sample(120, 9)
    res = fit(model, data, estimator="FIML", interaction="dblcent")
    seed, B = 14, 3
    kw = dict(n_boot=B, random_state=seed, n_jobs=1, bca=False, estimator="FIML",
              interaction="dblcent", progress=False, result=res)  # fmt: skip
    fast = bootstrap(model, data, **kw)
    assert fast.path == "fiml_patterns" and fast.path_reason == ""
    assert fast.summary_dict()["path"] == "fiml_patterns"
    assert fast.n_converged == B
    monkeypatch.setattr(bootmod, "_fiml_case_rows", lambda *a, **k: "forced by the test")
    with pytest.warns(CkmWarning, match="refitted with ckm_research.fit.*forced by the test"):
        slow = bootstrap(model, data, **kw)
    assert slow.path == "full_refit" and slow.path_reason.endswith("forced by the test")
    assert slow.summary_dict()["path_reason"] == slow.path_reason
    assert "forced by the test" in slow.notes[0]
    assert any("forced by the test" in w for w in slow.apply_to(res).warnings)
    assert slow.n_converged == B
    np.testing.assert_allclose(fast.replicates, slow.replicates, atol=1e-5)


def test_full_refits_of_a_fiml_fit_say_why(data):
    # the fixed-x covariate case: the full refits are taken, with the reason
    d = data.copy()
    d["z"] = np.random.default_rng(4).standard_normal(len(d))
    with pytest.warns(Warning, match="fixed-x covariates"):
        boot = bootstrap(MODEL + "f2 ~ z\n", d.dropna(how="all"), n_boot=2, random_state=1,
                         n_jobs=1, bca=False, estimator="FIML", progress=False)  # fmt: skip
    assert boot.path == "full_refit" and "fixed-x covariates" in boot.path_reason
    assert "fixed-x covariates" in boot.to_dict()["bootstrap"]["path_reason"]


def test_complete_data_ml_bootstrap_says_it_refitted_from_moments(data):
    boot = bootstrap(MODEL, data.dropna(), n_boot=2, random_state=1, n_jobs=1, bca=False,
                     progress=False)  # fmt: skip
    assert boot.path == "moments" and boot.path_reason == ""
    assert not any("refitted with ckm_research.fit" in n for n in boot.notes)
