"""QML (Klein & Muthén, 2007): modsem's published oneInt results, the exact
normality of the quasi-likelihood without products, recovery of population
values in simulated data, the options QML refuses and ``ckm fit --interaction qml``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ckm_research import fit
from ckm_research.cli import main
from ckm_research.errors import CkmError, ModelSpecificationError
from ckm_research.moderation.lms import LMSModel
from ckm_research.moderation.qml import QMLEngine, fit_qml
from ckm_research.sem.syntax import parse_model

REF = Path(__file__).parent / "reference"
ONEINT_MODEL = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z\n"


@pytest.fixture(scope="module")
def oneint():
    return pd.read_csv(REF / "data" / "oneInt.csv")


@pytest.fixture(scope="module")
def oneint_qml(oneint):
    return fit(ONEINT_MODEL, oneint, interaction="qml")


def _row(res, lhs, op, rhs):
    return res.estimates.set_index(["lhs", "op", "rhs"]).loc[(lhs, op, rhs)]


# ------------------------------------------------------------- published values
def test_oneint_against_modsem_published(oneint_qml):
    """Reference: modsem's published ML (LMS) solution for ``oneInt`` (N = 2000,
    normal latent variables): X:Z = 0.718 (SE 0.028), X = 0.673, Z = 0.569
    (modsem 1.0.22 documentation, the numbers tests/test_moderation_lms.py
    checks), log-likelihood -17493.60 with 31 parameters (modsem 1.0.12,
    vignette "The LMS and QML approaches", modsem.org/articles/lms_qml.html),
    and -17832 for the model without the product (lavaan 0.6.14: -17831.87).

    modsem's printed QML output for this model could not be retrieved here (the
    vignette sources stored with the package have no output), so the QML
    estimates are compared with the ML solution they approximate: on normal data
    QML's only approximation is the normality of the outcome's conditional
    density, which moves the estimates by a small fraction of their SEs.  We
    require agreement to 0.002 (7% of an SE), the same printed SE for X:Z and
    the log-likelihood to 0.5."""
    res = oneint_qml
    for rhs, ref in (("X:Z", 0.718), ("X", 0.673), ("Z", 0.569)):
        assert abs(_row(res, "Y", "~", rhs)["est"] - ref) < 2e-3, rhs
    assert round(_row(res, "Y", "~", "X:Z")["se"], 3) == 0.028
    fm = res.fit_measures
    assert fm["npar"] == 31
    assert fm["logl"] == pytest.approx(-17493.60, abs=0.5)
    assert fm["h0.logl"] == pytest.approx(-17831.87, abs=0.01)
    assert fm["lrt.df"] == 1 and fm["lrt.stat"] > 600
    assert fm["aic"] == pytest.approx(-2 * fm["logl"] + 2 * 31)


def test_oneint_output_shape(oneint_qml):
    est = oneint_qml.estimates
    rows = est[(est["op"] == "~") & (est["lhs"] == "Y")]
    assert list(rows["rhs"]) == ["X", "Z", "X:Z"]
    assert _row(oneint_qml, "X", "=~", "x1")["se"] == 0
    assert _row(oneint_qml, "Y", "~1", "")["est"] == 0
    xz = _row(oneint_qml, "Y", "~", "X:Z")
    assert xz["ci.lower"] < xz["est"] < xz["ci.upper"]
    assert 0 < xz["std.all"] < 1
    assert oneint_qml.to_dict()["interaction"]["method"] == "qml"
    assert oneint_qml.estimator == "QML"
    assert "QML" in oneint_qml.summary()


# ------------------------------------------------- exact normality without products
def _linear_ml_loglik(model: LMSModel, X: np.ndarray, theta: np.ndarray) -> float:
    """Normal log-likelihood of the linear RAM model (no products) at ``theta``."""
    Sigma, mu = model.ram.implied(theta[: model.n_base])
    return float(stats.multivariate_normal(mu, Sigma).logpdf(X).sum())


@pytest.mark.parametrize(
    "syntax",
    [
        ONEINT_MODEL.replace("X:Z", "0*X:Z"),
        # two outcomes, one regressed on the other, a cross-loading of an outcome
        # indicator and a residual covariance: the closed form still holds
        "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nW =~ x1b + y3b\n"
        "W ~ 0*X:Z + Y + Z\nY ~ X + Z + 0*X:X\ny2 ~~ y3\nW =~ y2\n",
    ],
)
def test_no_product_quasi_likelihood_is_the_normal_likelihood(oneint, syntax):
    """With every product coefficient 0, f(y_s | x, u) is exactly normal, so the
    QML log-likelihood equals the multivariate normal log-likelihood of the
    linear model at any parameter value (Klein & Muthén, 2007; the map
    (x, y) -> (x, u, y_s) has Jacobian 1)."""
    data = oneint.copy()
    rng = np.random.default_rng(11)
    data["x1b"] = data["x2"] + rng.normal(size=len(data))
    data["y3b"] = data["y1"] + rng.normal(size=len(data))
    M = LMSModel(parse_model(syntax))
    X = data[list(M.ov)].to_numpy(float)[:400]
    eng = QMLEngine(M, X)
    theta0, _, _, _ = eng.start_values()
    for _ in range(3):
        theta = theta0 * (1 + 0.05 * rng.standard_normal(len(theta0)))
        theta[M.n_base :] = 0.0
        assert eng.loglik(theta) == pytest.approx(_linear_ml_loglik(M, X, theta), abs=1e-7)
    # and not with a product term of its own
    theta = theta0.copy()
    theta[M.n_base :] = 0.3
    if M.n_free > M.n_base:
        assert abs(eng.loglik(theta) - _linear_ml_loglik(M, X, theta)) > 1.0


def test_zero_interaction_fit_equals_linear_ml(oneint):
    """The QML fit with the product fixed at 0 is the ML fit of the linear SEM."""
    res = fit_qml(ONEINT_MODEL.replace("X:Z", "0*X:Z"), oneint.iloc[:600])
    lin = fit(ONEINT_MODEL.replace(" + X:Z", ""), oneint.iloc[:600], meanstructure=True)
    assert res.fit_measures["logl"] == pytest.approx(lin.fit_measures["logl"], abs=1e-6)
    assert res.fit_measures["h0.logl"] == pytest.approx(lin.fit_measures["logl"], abs=1e-6)
    assert _row(res, "Y", "~", "X")["est"] == pytest.approx(
        _row(lin, "Y", "~", "X")["est"], abs=1e-5
    )
    assert _row(res, "Y", "~", "X")["se"] == pytest.approx(_row(lin, "Y", "~", "X")["se"], rel=1e-3)


def test_simple_slopes_on_a_qml_fit(oneint_qml):
    """The slope of X at the moderator's mean (0) is the X path; at +-1 SD it is
    X +- sd(Z) * X:Z (closed form; the moderated-regression identity)."""
    from ckm_research.moderation import simple_slopes

    sl = simple_slopes(oneint_qml, "Y", "X", "Z").set_index("label")
    gx = _row(oneint_qml, "Y", "~", "X")["est"]
    gxz = _row(oneint_qml, "Y", "~", "X:Z")["est"]
    sd_z = np.sqrt(_row(oneint_qml, "Z", "~~", "Z")["est"])
    assert sl.loc["Mean", "slope"] == pytest.approx(gx, abs=1e-8)
    assert sl.loc["+1 SD", "slope"] == pytest.approx(gx + sd_z * gxz, abs=1e-6)
    assert sl.loc["-1 SD", "slope"] == pytest.approx(gx - sd_z * gxz, abs=1e-6)
    assert sl.loc["Mean", "se"] == pytest.approx(_row(oneint_qml, "Y", "~", "X")["se"], rel=1e-6)


# ---------------------------------------------------------- analytic gradient
GRADIENT_MODELS = [
    ONEINT_MODEL,
    # two outcomes, B != 0, quadratic terms, a cross-loading, a residual covariance
    "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nW =~ x1b + y3b\n"
    "W ~ X:Z + Y + Z + Z:Z\nY ~ X + Z + X:X + X:Z\ny2 ~~ y3\nW =~ y2\n",
    # single-indicator factors (no u part)
    "X =~ x1\nZ =~ z1 + z2 + z3\nY =~ y1\nY ~ X + Z + X:Z\n",
]


@pytest.mark.parametrize("syntax", GRADIENT_MODELS)
def test_analytic_gradient_matches_central_differences(oneint, syntax):
    from ckm_research.numerics import numerical_jacobian

    rng = np.random.default_rng(3)
    data = oneint.copy()
    data["x1b"] = data["x2"] + rng.normal(size=len(data))
    data["y3b"] = data["y1"] + rng.normal(size=len(data))
    M = LMSModel(parse_model(syntax))
    eng = QMLEngine(M, data[list(M.ov)].to_numpy(float)[:500])
    theta, _, _, _ = eng.start_values()
    theta = theta * (1 + 0.05 * rng.standard_normal(len(theta)))
    theta[M.n_base :] = 0.2
    ga = eng.analytic_gradient(theta)
    gn = numerical_jacobian(eng.loglik, theta, 1e-6)[0]
    np.testing.assert_allclose(ga, gn, rtol=1e-5, atol=1e-4)


# ----------------------------------------------------------- population recovery
def _simulate(n: int, seed: int) -> tuple[pd.DataFrame, dict]:
    """Two correlated exogenous factors, an interaction and a quadratic effect on
    Y1, and Y1 -> Y2 with a second interaction on Y2; three indicators each."""
    pop = {
        ("Y1", "X"): 0.4, ("Y1", "Z"): 0.3, ("Y1", "X:Z"): 0.25, ("Y1", "X:X"): -0.15,
        ("Y2", "Y1"): 0.5, ("Y2", "Z"): 0.2, ("Y2", "X:Z"): 0.2,
    }  # fmt: skip
    rng = np.random.default_rng(seed)
    phi = np.array([[1.0, 0.3], [0.3, 1.0]])
    xi = rng.multivariate_normal([0, 0], phi, size=n)
    X, Z = xi[:, 0], xi[:, 1]
    y1 = 0.4 * X + 0.3 * Z + 0.25 * X * Z - 0.15 * X * X + rng.normal(0, np.sqrt(0.5), n)
    y2 = 0.5 * y1 + 0.2 * Z + 0.2 * X * Z + rng.normal(0, np.sqrt(0.5), n)
    cols = {}
    for name, f in (("x", X), ("z", Z), ("a", y1), ("b", y2)):
        for j, lam in enumerate((1.0, 0.8, 0.9), start=1):
            cols[f"{name}{j}"] = 0.5 * j + lam * f + rng.normal(0, np.sqrt(0.3), n)
    return pd.DataFrame(cols), pop


def test_recovers_population_values():
    """N = 2000, seed 2026.  Each estimate must lie within 4 of its own standard
    errors of the population value: the Monte Carlo error of one replication is
    the estimator's SE (0.015-0.03 here), so a correct estimator fails this with
    probability below 1e-4 per parameter; a wrong likelihood (e.g. without the
    trace or quadratic-variance terms) is off by several SEs."""
    data, pop = _simulate(2000, 2026)
    model = (
        "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY1 =~ a1 + a2 + a3\nY2 =~ b1 + b2 + b3\n"
        "Y1 ~ X + Z + X:Z + X:X\nY2 ~ Y1 + Z + X:Z\n"
    )
    res = fit(model, data, interaction="qml")
    for (lhs, rhs), value in pop.items():
        r = _row(res, lhs, "~", rhs)
        assert abs(r["est"] - value) < 4 * r["se"], (lhs, rhs, r["est"], r["se"])
        assert 0.005 < r["se"] < 0.06
    assert _row(res, "X", "~~", "Z")["est"] == pytest.approx(0.3, abs=4 * 0.03)
    assert _row(res, "Y1", "~~", "Y1")["est"] == pytest.approx(0.5, abs=0.1)
    assert _row(res, "X", "=~", "x2")["est"] == pytest.approx(0.8, abs=0.05)


# ------------------------------------------------------------------ refusals
def test_missing_ml_refused_naming_lms(oneint):
    with pytest.raises(CkmError, match="interaction='lms' with missing='ml'"):
        fit(ONEINT_MODEL, oneint.iloc[:300], interaction="qml", missing="ml")
    with pytest.raises(CkmError, match="interaction='lms'"):
        fit(ONEINT_MODEL, oneint.iloc[:300], interaction="qml", estimator="FIML")


def test_endogenous_product_member_refused(oneint):
    model = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nZ ~ X\nY ~ X + Z + X:Z\n"
    with pytest.raises(ModelSpecificationError, match="'Z' in 'X:Z'.*interaction='lms'"):
        fit(model, oneint.iloc[:300], interaction="qml")


def test_observed_predictor_and_cross_covariance_refused(oneint):
    with pytest.raises(ModelSpecificationError, match="QML here needs every predictor"):
        fit("X =~ x1 + x2 + x3\nY =~ y1 + y2 + y3\nY ~ X + z1 + X:z1\n", oneint, interaction="qml")
    with pytest.raises(ModelSpecificationError, match="uncorrelated"):
        fit(ONEINT_MODEL + "x1 ~~ y1\n", oneint.iloc[:300], interaction="qml")


def test_listwise_deletion_noted(oneint):
    data = oneint.iloc[:400].copy()
    data.loc[:9, "x1"] = np.nan
    res = fit(ONEINT_MODEL, data, interaction="qml")
    assert res.n == 390
    assert any("deleted listwise" in w for w in res.warnings)


# ------------------------------------------------------------------------- CLI
def test_cli_fit_interaction_qml(oneint, tmp_path, capsys):
    model = tmp_path / "int.lav"
    model.write_text(ONEINT_MODEL, encoding="utf-8")
    data = tmp_path / "oneint.csv"
    oneint.iloc[:500].to_csv(data, index=False)
    out = tmp_path / "qml.json"
    assert main(["fit", str(model), str(data), "--interaction", "qml", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert doc["interaction"]["method"] == "qml"
    rows = [r for r in doc["estimates"] if r["op"] == "~" and r["rhs"] == "X:Z"]
    assert len(rows) == 1 and 0.55 < rows[0]["est"] < 0.85 and rows[0]["se"] > 0
    assert "X:Z" in text
