"""Multiple-group LMS (``group=``; Klein & Moosbrugger, 2000; modsem's multigroup
LMS): the references are (a) separate single-group LMS fits, which an
unconstrained multiple-group fit must reproduce exactly (the log-likelihood is a
sum over independent groups); (b) recovery of known population values in
simulated data; (c) the ordinary multiple-group ML fit (lavaan's
parameterisation, tested against lavaan elsewhere), which LMS must reproduce
when the product coefficient is fixed at 0; (d) the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckm_research import fit
from ckm_research.cli import main
from ckm_research.errors import CkmError, ModelSpecificationError
from ckm_research.moderation.lms import DenseLMSEngine, LMSModel, fit_lms
from ckm_research.moderation.lms_engine import LMSEngine
from ckm_research.moderation.lms_multigroup import MultiGroupLMSEngine
from ckm_research.sem.syntax import parse_model

REF = Path(__file__).parent / "reference"
MODEL = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z\n"
LINEAR = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z\n"


@pytest.fixture(scope="module")
def oneint2():
    """oneInt (modsem's example data), cases alternately in groups 'a' and 'b'."""
    d = pd.read_csv(REF / "data" / "oneInt.csv").iloc[:600].copy()
    d["g"] = np.where(np.arange(len(d)) % 2 == 0, "a", "b")
    return d


def _by_group(res, g):
    est = res.estimates
    return est[est["group"] == g].reset_index(drop=True)


# --------------------------------------------- (a) equals separate group fits
@pytest.mark.parametrize("missing", [None, "ml"])
def test_unconstrained_equals_separate_fits(oneint2, missing):
    data = oneint2.copy()
    if missing == "ml":  # 8% of the cells missing completely at random: FIML engine
        cols = [c for c in data.columns if c != "g"]
        hole = np.random.default_rng(1).random((len(data), len(cols))) < 0.08
        data[cols] = data[cols].mask(hole)
    res = fit_lms(MODEL, data, group="g", missing=missing)
    assert res.ngroups == 2 and res.group_labels == ("a", "b")
    assert res.n_per_group == (300, 300)
    engine = res.notes["interaction"]["engine"]
    assert engine == ("LMSEngine" if missing == "ml" else "DenseLMSEngine")
    parts = [fit_lms(MODEL, data[data["g"] == lab], missing=missing) for lab in ("a", "b")]
    assert res.fit_measures["logl"] == pytest.approx(
        sum(p.fit_measures["logl"] for p in parts), abs=1e-4
    )
    assert res.fit_measures["h0.logl"] == pytest.approx(
        sum(p.fit_measures["h0.logl"] for p in parts), abs=1e-4
    )
    assert res.fit_measures["npar"] == sum(p.fit_measures["npar"] for p in parts)
    for g, part in enumerate(parts, start=1):
        mine, ref = _by_group(res, g), part.estimates
        assert list(mine["lhs"] + mine["op"] + mine["rhs"]) == list(
            ref["lhs"] + ref["op"] + ref["rhs"]
        )
        for col in ("est", "se", "std.all"):
            np.testing.assert_allclose(mine[col], ref[col], atol=1e-4, err_msg=col)


def _simulate_two_moderators(n, rng, omega):
    """X, Z, W correlated factors; M = .5 X + e; Y = .4 X + .3 Z + .2 W +
    omega_1 X Z + omega_2 M W + e; three indicators each."""
    phi = np.array([[1.0, 0.3, 0.2], [0.3, 1.0, 0.25], [0.2, 0.25, 1.0]])
    X, Z, W = rng.multivariate_normal(np.zeros(3), phi, size=n).T
    M = 0.5 * X + rng.normal(scale=0.8, size=n)
    Y = 0.4 * X + 0.3 * Z + 0.2 * W + omega[0] * X * Z + omega[1] * M * W
    Y = Y + rng.normal(scale=0.7, size=n)
    cols = {}
    for f, v in {"X": X, "Z": Z, "W": W, "M": M, "Y": Y}.items():
        for j, (lam, nu) in enumerate(zip(POP["lambda"], POP["nu"], strict=True), start=1):
            cols[f"{f.lower()}{j}"] = nu + lam * v + rng.normal(scale=0.55, size=n)
    return pd.DataFrame(cols)


def test_two_moderators_adaptive_equals_separate_fits():
    """Two moderators (adaptive quadrature, latent-space engine, nodes re-centred
    in every group): still the sum of the separate fits.  No labels: in a
    multiple-group model one label names one parameter in all groups (lavaan)."""
    model = (
        "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nW =~ w1 + w2 + w3\nM =~ m1 + m2 + m3\n"
        "Y =~ y1 + y2 + y3\nM ~ X\nY ~ X + Z + W + X:Z + M:W\n"
    )
    a = _simulate_two_moderators(300, np.random.default_rng(1), (0.25, 0.2))
    b = _simulate_two_moderators(300, np.random.default_rng(2), (0.1, 0.3))
    data = pd.concat([a.assign(g="a"), b.assign(g="b")], ignore_index=True)
    res = fit_lms(model, data, group="g")
    assert res.notes["interaction"]["quadrature"] == "adaptive"
    parts = [fit_lms(model, part) for part in (a, b)]
    assert res.fit_measures["logl"] == pytest.approx(
        sum(p.fit_measures["logl"] for p in parts), abs=1e-4
    )
    for g, part in enumerate(parts, start=1):
        mine = _by_group(res, g)
        np.testing.assert_allclose(mine["est"], part.estimates["est"], atol=1e-4)
        np.testing.assert_allclose(mine["se"], part.estimates["se"], atol=1e-4)


# ------------------------------------- (c) no product term: lavaan's ML fit
@pytest.mark.parametrize(
    "group_equal",
    [(), ("loadings",), ("loadings", "intercepts"),
     ("loadings", "intercepts", "regressions", "residuals")],
)  # fmt: skip
def test_zero_product_equals_multigroup_ml(oneint2, group_equal):
    """With the product coefficient fixed at 0 the LMS mixture is the normal
    model without it: the log-likelihood and the estimates are those of the
    ordinary multiple-group ML fit (lavaan's parameterisation: latent means fixed
    at 0, free in group 2 once the intercepts are equal).  Adaptive quadrature
    integrates the (then normal) posterior exactly; the fixed rule's h0 fit is
    that ML fit itself."""
    ml = fit(LINEAR, oneint2, group="g", group_equal=list(group_equal))
    res = fit_lms(
        LINEAR + "Y ~ 0*X:Z\n", oneint2, group="g", group_equal=group_equal,
        quadrature="adaptive",
    )  # fmt: skip
    assert res.fit_measures["logl"] == pytest.approx(ml.fit_measures["logl"], abs=1e-6)
    assert res.fit_measures["npar"] == ml.fit_measures["npar"]
    lin = res.estimates[res.estimates["rhs"] != "X:Z"].reset_index(drop=True)
    ref = ml.estimates
    key = ["lhs", "op", "rhs", "group"]
    pd.testing.assert_frame_equal(lin[key], ref[key], check_dtype=False)
    np.testing.assert_allclose(lin["est"], ref["est"], atol=1e-5)
    np.testing.assert_allclose(lin["std.all"], ref["std.all"], atol=1e-5)
    # the standard errors differ slightly: observed (LMS) vs expected (ML) information
    np.testing.assert_allclose(lin["se"], ref["se"], atol=5e-3)
    fixed = fit_lms(LINEAR + "Y ~ 0*X:Z\n", oneint2, group="g", group_equal=group_equal)
    assert fixed.fit_measures["h0.logl"] == pytest.approx(ml.fit_measures["logl"], abs=1e-6)
    if "intercepts" in group_equal:  # latent means free in group 2 only (lavaan)
        means = res.estimates.query("op == '~1' and lhs in ['X', 'Z', 'Y']")
        assert (means.loc[means["group"] == 1, "se"] == 0).all()
        assert (means.loc[means["group"] == 2, "se"] > 0).all()


def test_zero_product_labels_and_partial_equal_multigroup_ml(oneint2):
    """As above with an equality label across groups (``c(l2, l2)*x2``), a
    per-group fixed value (``c(NA, 0.5)*Z`` frees group 1, fixes group 2) and
    ``group_partial`` freeing one intercept again."""
    linear = LINEAR.replace("+ x2", "+ c(l2, l2)*x2").replace("X + Z", "X + c(NA, 0.5)*Z")
    opts = dict(group="g", group_equal=["loadings", "intercepts"], group_partial=["x3~1"])
    ml = fit(linear, oneint2, **opts)
    res = fit_lms(linear + "Y ~ 0*X:Z\n", oneint2, quadrature="adaptive", **opts)
    assert res.fit_measures["logl"] == pytest.approx(ml.fit_measures["logl"], abs=1e-6)
    assert res.fit_measures["npar"] == ml.fit_measures["npar"]
    lin = res.estimates[res.estimates["rhs"] != "X:Z"].reset_index(drop=True)
    np.testing.assert_allclose(lin["est"], ml.estimates["est"], atol=1e-5)
    x3 = lin.query("lhs == 'x3' and op == '~1'")["est"].to_numpy()
    assert x3[0] != x3[1]  # freed by group_partial
    assert lin.query("lhs == 'Y' and rhs == 'Z'")["est"].to_numpy()[1] == 0.5


# --------------------------------------------- gradient with shared parameters
@pytest.mark.parametrize("engine_cls", [DenseLMSEngine, LMSEngine])
def test_gradient_with_equality_constraints(oneint2, engine_cls):
    """The summed analytic gradient against central differences of the summed
    log-likelihood, with loadings and intercepts shared by the groups and the
    latent means (the moderator's too) free in group 2."""
    M = LMSModel(parse_model(MODEL), ngroups=2, group_equal=("loadings", "intercepts"))
    engines = []
    for g, lab in enumerate(("a", "b")):
        x = oneint2.loc[oneint2["g"] == lab, list(M.ov)].to_numpy()
        engines.append(engine_cls(M.for_group(g), x, nodes=16))
    E = MultiGroupLMSEngine(M, engines, ("a", "b"))
    theta, _, _ = E.start_values()
    rng = np.random.default_rng(7)
    theta = theta + 0.03 * rng.normal(size=len(theta))
    theta[M.n_base :] = [0.5, 0.8]
    _, g = E.loglik(theta, gradient=True)
    num = np.zeros_like(theta)
    for j in range(len(theta)):
        h = 1e-5 * max(1.0, abs(theta[j]))
        tp, tm = theta.copy(), theta.copy()
        tp[j] += h
        tm[j] -= h
        num[j] = (E.loglik(tp) - E.loglik(tm)) / (2 * h)
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-3)


# ------------------------------------------------------------- (b) recovery
POP = {
    "lambda": (1.0, 0.8, 0.9),  # equal across groups
    "nu": (1.0, 1.2, 0.9),  # equal across groups
    "kappa": {1: (0.0, 0.0), 2: (0.3, -0.2)},  # means of X, Z
    "alpha": {1: 0.0, 2: 0.2},  # intercept of Y
    "omega": {1: 0.15, 2: 0.45},  # X:Z, different per group
}


def _simulate_group(n, g, rng):
    phi = np.array([[1.0, 0.3], [0.3, 1.0]]) if g == 1 else np.array([[1.2, 0.2], [0.2, 0.8]])
    X, Z = rng.multivariate_normal(POP["kappa"][g], phi, size=n).T
    Y = POP["alpha"][g] + 0.4 * X + 0.3 * Z + POP["omega"][g] * X * Z
    Y = Y + rng.normal(scale=0.7, size=n)
    cols = {}
    for f, v in {"X": X, "Z": Z, "Y": Y}.items():
        for j, (lam, nu) in enumerate(zip(POP["lambda"], POP["nu"], strict=True), start=1):
            cols[f"{f.lower()}{j}"] = nu + lam * v + rng.normal(scale=0.55, size=n)
    out = pd.DataFrame(cols)
    out["g"] = f"G{g}"
    return out


def test_recovery_equal_loadings_intercepts():
    """Two groups of 2000 simulated from known values (loadings and intercepts
    equal, latent means and X:Z different).  Monte Carlo error of one replicate:
    the estimator's standard deviation, estimated by its SE (about 0.02-0.03 for
    X:Z); each estimate must lie within 4 SEs of its population value (a false
    alarm has probability about 6e-5 per parameter)."""
    rng = np.random.default_rng(20251)
    data = pd.concat([_simulate_group(2000, 1, rng), _simulate_group(2000, 2, rng)])
    res = fit(MODEL, data, interaction="lms", group="g", group_equal=["loadings", "intercepts"])
    est = res.estimates

    def row(lhs, op, rhs, g):
        r = est[(est["lhs"] == lhs) & (est["op"] == op) & (est["rhs"] == rhs)]
        return r[r["group"] == g].iloc[0]

    checks = []
    for g in (1, 2):
        checks.append((row("Y", "~", "X:Z", g), POP["omega"][g]))
        checks.append((row("Y", "~", "X", g), 0.4))
        checks.append((row("Y", "~", "Z", g), 0.3))
        for f in ("X", "Z", "Y"):
            for j in (2, 3):
                checks.append((row(f, "=~", f"{f.lower()}{j}", g), POP["lambda"][j - 1]))
    for f, k in (("X", 0), ("Z", 1)):
        checks.append((row(f, "~1", "", 2), POP["kappa"][2][k]))
    checks.append((row("Y", "~1", "", 2), POP["alpha"][2]))
    for r, true in checks:
        assert r["se"] > 0
        assert abs(r["est"] - true) < 4 * r["se"], (r["lhs"], r["op"], r["rhs"], r["group"])
    # the loadings and intercepts are one parameter for both groups
    lo = est[est["op"] == "=~"]
    assert (lo[lo["group"] == 1]["est"].to_numpy() == lo[lo["group"] == 2]["est"].to_numpy()).all()
    # and the different interaction effects are told apart (difference 0.3, SE about 0.04)
    w1, w2 = row("Y", "~", "X:Z", 1), row("Y", "~", "X:Z", 2)
    assert (w2["est"] - w1["est"]) / np.hypot(w1["se"], w2["se"]) > 4


# ------------------------------------------------- equality of product terms
def test_product_term_equalities(oneint2):
    free = fit_lms(MODEL, oneint2, group="g")
    eq = fit_lms(MODEL, oneint2, group="g", group_equal=["regressions"])
    lab = fit_lms(MODEL.replace("X:Z", "c(w, w)*X:Z"), oneint2, group="g")
    part = fit_lms(MODEL, oneint2, group="g", group_equal=["regressions"],
                   group_partial=["Y ~ X:Z"])  # fmt: skip
    xz = {k: r.estimates.query("rhs == 'X:Z'")["est"].to_numpy() for k, r in
          {"free": free, "eq": eq, "lab": lab, "part": part}.items()}  # fmt: skip
    assert xz["eq"][0] == xz["eq"][1] and xz["lab"][0] == xz["lab"][1]
    assert xz["part"][0] != xz["part"][1]
    assert lab.fit_measures["npar"] == free.fit_measures["npar"] - 1
    assert lab.fit_measures["lrt.df"] == 1
    # a constrained model cannot fit better than the unconstrained one
    assert lab.fit_measures["logl"] <= free.fit_measures["logl"] + 1e-6
    assert eq.fit_measures["logl"] <= part.fit_measures["logl"] + 1e-6
    assert list(lab.estimates.query("rhs == 'X:Z'")["label"]) == ["w", "w"]


def test_defined_difference_of_group_effects(oneint2):
    """``dw := w2 - w1`` from per-group labels: the estimate is the difference and
    its delta-method SE the closed form sqrt(v11 + v22 - 2 v12) of the covariance
    matrix of the estimates (lavaan's group 0 for ``:=`` rows)."""
    model = MODEL.replace("X:Z", "c(w1, w2)*X:Z") + "dw := w2 - w1\n"
    res = fit_lms(model, oneint2, group="g")
    est = res.estimates
    w = est[est["rhs"] == "X:Z"].set_index("label")
    dw = est[est["op"] == ":="].iloc[0]
    assert dw["group"] == 0
    assert dw["est"] == pytest.approx(w.loc["w2", "est"] - w.loc["w1", "est"], abs=1e-12)
    v = res.vcov[-2:, -2:]  # the two product coefficients are the last parameters
    assert dw["se"] == pytest.approx(np.sqrt(v[0, 0] + v[1, 1] - 2 * v[0, 1]), rel=1e-6)
    assert np.sqrt(v[0, 0]) == pytest.approx(w.loc["w1", "se"], rel=1e-10)


def test_listwise_deletion_per_group(oneint2):
    d = oneint2.iloc[:300].copy()
    d.iloc[[0, 2, 4], 0] = np.nan  # three cases of group 'a'
    res = fit_lms(MODEL, d, group="g")
    assert res.n_per_group == (147, 150) and res.n_total_per_group == (150, 150)
    assert any("3 of 150 cases in group a" in w for w in res.warnings)
    assert "Used" in res.summary() and "Group 2 [b]:" in res.summary()


def test_errors(oneint2):
    with pytest.raises(CkmError, match="'nope'"):
        fit(MODEL, oneint2, interaction="lms", group="nope")
    with pytest.raises(CkmError, match="two distinct"):
        fit_lms(MODEL, oneint2.assign(g="a"), group="g")
    with pytest.raises(CkmError, match="group="):
        fit_lms(MODEL, oneint2, group_equal=["loadings"])
    with pytest.raises(ModelSpecificationError, match="modifiers"):
        fit_lms(MODEL.replace("X:Z", "c(a, b, c)*X:Z"), oneint2, group="g")
    with pytest.raises(ModelSpecificationError, match="group_partial"):
        fit_lms(MODEL, oneint2, group="g", group_equal=["loadings"], group_partial=["Y~W:Z"])


# ------------------------------------------------------------------- (d) CLI
def test_cli_fit_lms_groups(oneint2, tmp_path, capsys):
    model = tmp_path / "int.lav"
    model.write_text(MODEL, encoding="utf-8")
    data = tmp_path / "oneint2.csv"
    oneint2.to_csv(data, index=False)
    out = tmp_path / "mg.json"
    argv = ["fit", str(model), str(data), "--interaction", "lms", "--group", "g",
            "--group-equal", "loadings,intercepts", "--json", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "Group 1 [a]:" in text and "Group 2 [b]:" in text
    # the standardized interaction block is for one group: it says so instead of failing
    assert "Standardized interaction effects: not available for a fit of 2 groups" in text
    assert "fit each group's rows separately" in text
    assert text.count("X:Z") >= 2 and "LMS" in text
    doc = json.loads(out.read_text())
    rows = [r for r in doc["estimates"] if r["rhs"] == "X:Z"]
    assert [r["group"] for r in rows] == [1, 2]
    assert all(r["se"] > 0 for r in rows)


def test_standardized_interactions_refuse_several_groups(oneint2):
    from ckm_research.moderation import interaction_effect_sizes, standardized_interactions

    res = fit(MODEL, oneint2, interaction="lms", group="g")
    for fun in (standardized_interactions, interaction_effect_sizes):
        with pytest.raises(CkmError, match="multi-group LMS fit"):
            fun(res)
