"""Standardized latent interaction effects and their effect sizes
(:mod:`ckm_research.moderation.effect_sizes`).

References: a Monte Carlo population (sample SDs of two million draws), the closed
form Var(Y) = b1^2 vx + b2^2 vz + 2 b1 b2 cxz + b3^2 (vx vz + cxz^2) + psi of a
centred normal X, Z (Bohrnstedt & Goldberger, 1969) and its analytic gradient for the
delta-method SE, lavaan 0.6.14's ``:=`` delta method on the same formula for a
product-indicator model (tests/reference/R/parity/std_interaction.R), and modsem's
published R-squared change for oneInt.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckm_research import fit
from ckm_research.errors import CkmError
from ckm_research.moderation import interaction_effect_sizes, standardized_interactions
from ckm_research.moderation.effect_sizes import product_variance, standardized_interaction

REF = Path(__file__).parent / "reference"
ONEINT_MODEL = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z\n"
# population of the Monte Carlo and closed-form checks
POP = {"vx": 1.2, "vz": 0.8, "cxz": 0.3, "b1": 0.5, "b2": 0.4, "b3": 0.6, "psi": 0.7}


@pytest.fixture(scope="module")
def oneint():
    return pd.read_csv(REF / "data" / "oneInt.csv")


@pytest.fixture(scope="module")
def oneint_lms(oneint):
    return fit(ONEINT_MODEL, oneint, interaction="lms")


@pytest.fixture(scope="module")
def oneint_qml(oneint):
    return fit(ONEINT_MODEL, oneint, interaction="qml")


def _var_y(p):
    return (
        p["b1"] ** 2 * p["vx"] + p["b2"] ** 2 * p["vz"] + 2 * p["b1"] * p["b2"] * p["cxz"]
        + p["b3"] ** 2 * (p["vx"] * p["vz"] + p["cxz"] ** 2) + p["psi"]
    )  # fmt: skip


def _simulate_items(n, seed, pop=None):
    """Three indicators per factor of the POP population (loadings 1, .8, .9)."""
    rng = np.random.default_rng(seed)
    p = POP if pop is None else pop
    cov = np.array([[p["vx"], p["cxz"]], [p["cxz"], p["vz"]]])
    xz = rng.multivariate_normal([0, 0], cov, size=n)
    x, z = xz[:, 0], xz[:, 1]
    y = p["b1"] * x + p["b2"] * z + p["b3"] * x * z + rng.normal(0, np.sqrt(p["psi"]), n)
    cols = {}
    for name, f in (("x", x), ("z", z), ("y", y)):
        for j, lam in enumerate((1.0, 0.8, 0.9), start=1):
            cols[f"{name}{j}"] = lam * f + rng.normal(0, 0.5, n)
    return pd.DataFrame(cols)


def _at_population(method):
    """A fit by ``method`` whose structural parameters are then set at the POP values."""
    res = fit(ONEINT_MODEL, _simulate_items(600, 11), interaction=method)
    eng = res.engine
    t = eng.model.partable.table
    free = eng.row_free()
    theta = np.array(res.theta, dtype=float)
    where = {("Y", "~", "X"): "b1", ("Y", "~", "Z"): "b2", ("X", "~~", "X"): "vx",
             ("Z", "~~", "Z"): "vz", ("X", "~~", "Z"): "cxz", ("Y", "~~", "Y"): "psi"}  # fmt: skip
    for r, key in enumerate(zip(t["lhs"], t["op"], t["rhs"], strict=True)):
        if key in where:
            theta[free[r] - 1] = POP[where[key]]
    theta[free[len(t)] - 1] = POP["b3"]  # the product term's coefficient
    return dataclasses.replace(res, theta=theta)


@pytest.fixture(scope="module")
def population_result():
    return _at_population("lms")


@pytest.fixture(scope="module")
def population_result_qml():
    return _at_population("qml")


# ------------------------------------------------------------ (a) Monte Carlo
def test_formula_matches_a_monte_carlo_population(population_result):
    """Two million draws of the population: the standardized coefficients from the
    sample SDs of X, Z and Y agree with the function at the population values within
    4 Monte Carlo SEs (from 20 batches of 100,000; the SE is about 4e-4)."""
    p = POP
    rng = np.random.default_rng(20261202)
    cov = np.array([[p["vx"], p["cxz"]], [p["cxz"], p["vz"]]])
    batches = []
    for _ in range(20):
        xz = rng.multivariate_normal([0, 0], cov, size=100_000)
        x, z = xz[:, 0], xz[:, 1]
        y = p["b1"] * x + p["b2"] * z + p["b3"] * x * z + rng.normal(0, np.sqrt(p["psi"]), len(x))
        sx, sz, sy = x.std(), z.std(), y.std()
        batches.append([p["b1"] * sx / sy, p["b2"] * sz / sy, p["b3"] * sx * sz / sy])
    batches = np.array(batches)
    mc, mcse = batches.mean(axis=0), batches.std(axis=0, ddof=1) / np.sqrt(len(batches))
    assert mcse.max() < 1e-3
    got = standardized_interactions(population_result).set_index("rhs")["est.std"]
    for k, rhs in enumerate(("X", "Z", "X:Z")):
        assert abs(got[rhs] - mc[k]) < 4 * mcse[k], (rhs, got[rhs], mc[k], mcse[k])
    # the product's variance of centred normals, in the same draws' population
    assert float(product_variance(p["vx"], p["vz"], p["cxz"])) == pytest.approx(
        p["vx"] * p["vz"] + p["cxz"] ** 2
    )


@pytest.mark.parametrize("method", ["lms", "qml"])
def test_std_all_uses_the_product_variance(population_result, population_result_qml, method):
    """The LMS and QML ``std.all`` (and ``est.std``) of X:Z is b3 SD(X) SD(Z)/SD(Y) with
    the closed-form Var(Y), which holds b3^2 (vx vz + cxz^2): the quadrature is exact for
    these moments (QML's rule has 3 nodes per moderator, exact to degree 5; the moments
    are of degree 4 in the nodes)."""
    res = population_result if method == "lms" else population_result_qml
    assert res.notes["interaction"]["method"] == method
    closed = standardized_interaction(POP["b3"], POP["vx"], POP["vz"], _var_y(POP))
    got = standardized_interactions(res).set_index("rhs")
    assert got.loc["X:Z", "est.std"] == pytest.approx(float(closed), rel=1e-9)
    assert got.loc["X", "est.std"] == pytest.approx(
        POP["b1"] * np.sqrt(POP["vx"] / _var_y(POP)), rel=1e-9
    )
    # the term's unique R-squared share at these parameters (X:Z uncorrelated with X, Z)
    es = interaction_effect_sizes(res).iloc[0]
    share = POP["b3"] ** 2 * (POP["vx"] * POP["vz"] + POP["cxz"] ** 2) / _var_y(POP)
    assert es["delta.r2.term"] == pytest.approx(share, rel=1e-8)
    assert es["f2.term"] == pytest.approx(share / (POP["psi"] / _var_y(POP)), rel=1e-8)
    assert es["r2"] == pytest.approx(1 - POP["psi"] / _var_y(POP), rel=1e-10)
    std_all = res.engine.std_all(res.theta)
    assert std_all[len(res.engine.model.partable.table)] == pytest.approx(float(closed), rel=1e-9)


# ---------------------------------------------------- (b) delta-method SEs
@pytest.mark.parametrize("method", ["lms", "qml"])
def test_delta_se_matches_the_analytic_gradient(oneint_lms, oneint_qml, method):
    """oneInt by LMS and by QML: the SE of the standardized X:Z coefficient equals the
    delta method with the analytic gradient of b3 sqrt(vx vz / Var(Y)) in (b1, b2, b3,
    vx, vz, cxz, psi), Var(Y) in closed form from the fitted parameters and the fit's
    own vcov (the code differentiates the quadrature moments numerically; rel 1e-4 is
    the central-difference error)."""
    res = oneint_lms if method == "lms" else oneint_qml
    assert res.notes["interaction"]["method"] == method
    eng = res.engine
    t = eng.model.partable.table
    free = eng.row_free()
    vals = eng.row_values(res.theta)
    keys = {("Y", "~", "X"): "b1", ("Y", "~", "Z"): "b2", ("X", "~~", "X"): "vx",
            ("Z", "~~", "Z"): "vz", ("X", "~~", "Z"): "cxz", ("Y", "~~", "Y"): "psi"}  # fmt: skip
    idx, p = {}, {}
    for r, key in enumerate(zip(t["lhs"], t["op"], t["rhs"], strict=True)):
        if key in keys:
            idx[keys[key]], p[keys[key]] = free[r] - 1, vals[r]
    idx["b3"], p["b3"] = free[len(t)] - 1, vals[len(t)]
    V = _var_y(p)
    s = p["b3"] * np.sqrt(p["vx"] * p["vz"] / V)
    dV = {
        "b1": 2 * p["b1"] * p["vx"] + 2 * p["b2"] * p["cxz"],
        "b2": 2 * p["b2"] * p["vz"] + 2 * p["b1"] * p["cxz"],
        "b3": 2 * p["b3"] * (p["vx"] * p["vz"] + p["cxz"] ** 2),
        "vx": p["b1"] ** 2 + p["b3"] ** 2 * p["vz"],
        "vz": p["b2"] ** 2 + p["b3"] ** 2 * p["vx"],
        "cxz": 2 * p["b1"] * p["b2"] + 2 * p["b3"] ** 2 * p["cxz"],
        "psi": 1.0,
    }
    dN = {"b3": np.sqrt(p["vx"] * p["vz"]), "vx": p["b3"] * np.sqrt(p["vz"] / p["vx"]) / 2,
          "vz": p["b3"] * np.sqrt(p["vx"] / p["vz"]) / 2}  # fmt: skip
    names = list(dV)
    grad = np.array([dN.get(k, 0.0) / np.sqrt(V) - 0.5 * s / V * dV[k] for k in names])
    cols = [idx[k] for k in names]
    se = float(np.sqrt(grad @ np.asarray(res.vcov)[np.ix_(cols, cols)] @ grad))
    got = standardized_interactions(res).set_index("rhs").loc["X:Z"]
    assert got["est.std"] == pytest.approx(s, rel=1e-8)
    assert got["se"] == pytest.approx(se, rel=1e-4)
    assert got["ci.lower"] < got["est.std"] < got["ci.upper"]


def test_qml_and_lms_standardized_effects_agree_on_oneint(oneint_lms, oneint_qml):
    """QML and LMS estimate the same parameters; on oneInt (N = 2000, normal factors)
    the unstandardized X:Z agree to 3e-4 (0.01 SE; modsem's published LMS value 0.718,
    SE 0.028, tests/test_moderation_qml.py).  The standardized paths are smooth
    functions of those estimates, so they must agree to a small fraction of their
    sampling error: we require 0.1 SE of the standardized coefficient (about 0.0015)
    and the delta-method SEs to 5% (the observed information of the quasi- and of the
    full likelihood differ by that order)."""
    q = standardized_interactions(oneint_qml).set_index("rhs")
    m = standardized_interactions(oneint_lms).set_index("rhs")
    assert list(q.index) == ["X", "Z", "X:Z"]
    for rhs in q.index:
        assert abs(q.loc[rhs, "est.std"] - m.loc[rhs, "est.std"]) < 0.1 * m.loc[rhs, "se"], rhs
        assert q.loc[rhs, "se"] == pytest.approx(m.loc[rhs, "se"], rel=0.05), rhs
    # the fit's own std.all column (the same formula) agrees with est.std
    xz = oneint_qml.estimates.query("op == '~' and rhs == 'X:Z'").iloc[0]
    assert xz["std.all"] == pytest.approx(q.loc["X:Z", "est.std"], rel=1e-8)


def _parity(name):
    path = REF / "json" / f"parity_{name}.json"
    if not path.exists():
        pytest.skip(f"{path.name} absent: Rscript tests/reference/make_reference.R parity:{name}")
    return json.loads(path.read_text())


def test_dblcent_matches_lavaan_defined_parameters(oneint):
    """lavaan 0.6.14 on the first 500 rows of oneInt with dblcent product indicators:
    ``std_x := b1*sqrt(vx)/sqrt(Var(Y))`` ... ``std_xz := b3*sqrt(vx*vz)/sqrt(Var(Y))``,
    Var(Y) written out from the labelled parameters; est and delta-method SE."""
    ref = _parity("std_interaction_dblcent_ml")
    est = pd.DataFrame(ref["estimates"])
    defined = est[est["op"] == ":="].set_index("lhs")
    res = fit(ONEINT_MODEL, oneint.iloc[:500])  # dblcent, the default
    got = standardized_interactions(res).set_index("rhs")
    for rhs, name in (("X", "std_x"), ("Z", "std_z"), ("X:Z", "std_xz")):
        assert got.loc[rhs, "est.std"] == pytest.approx(defined.loc[name, "est"], abs=1e-5)
        assert got.loc[rhs, "se"] == pytest.approx(defined.loc[name, "se"], abs=1e-5)
    # lavaan's own std.all of the product factor divides by SD(X.Z) instead
    xz = est[(est["op"] == "~") & (est["rhs"] == "X.Z")].iloc[0]
    row = res.estimates.query("op == '~' and rhs == 'X:Z'").iloc[0]
    assert row["std.all"] == pytest.approx(xz["std.all"], abs=1e-5)
    assert abs(xz["std.all"] - defined.loc["std_xz", "est"]) > 1e-3


# ------------------------------------------------------------- (d) effect sizes
def test_effect_sizes_recover_the_closed_form():
    """N = 20,000 from the POP population: the R-squared change of the product term
    estimates b3^2 (vx vz + cxz^2) / Var(Y) and f2 = b3^2 (vx vz + cxz^2) / psi
    (X:Z uncorrelated with X and Z, so the refitted main-effect model explains the
    rest); sampling SDs at this N are about 0.005 and 0.012."""
    res = fit(ONEINT_MODEL, _simulate_items(20_000, 5), interaction="lms")
    es = interaction_effect_sizes(res).iloc[0]
    vxz = POP["b3"] ** 2 * product_variance(POP["vx"], POP["vz"], POP["cxz"])
    assert es["r2"] == pytest.approx(1 - POP["psi"] / _var_y(POP), abs=0.02)
    assert es["delta.r2"] == pytest.approx(vxz / _var_y(POP), abs=0.02)
    assert es["f2"] == pytest.approx(vxz / POP["psi"], abs=0.05)
    assert es["f2"] == pytest.approx(es["delta.r2"] / (1 - es["r2"]), rel=1e-12)
    assert es["lrt.df"] == 1 and es["lrt.stat"] > 100 and es["lrt.pvalue"] < 1e-10


def test_effect_sizes_on_oneint_agree_with_modsem(oneint_lms):
    """modsem 1.0.11's documentation (modsem.org, "modsem" article, oneInt): R-squared
    of Y 0.602 with the interaction, 0.397 without, change 0.204 (product indicators;
    LMS estimates the same quantities, so within 0.01). The LRT D is the fit's own
    lrt.stat (modsem's LMS vignette: H0 log-likelihood -17832)."""
    es = interaction_effect_sizes(oneint_lms).iloc[0]
    assert es["r2"] == pytest.approx(0.602, abs=0.01)
    assert es["r2.h0"] == pytest.approx(0.397, abs=0.01)
    assert es["delta.r2"] == pytest.approx(0.204, abs=0.01)
    fm = oneint_lms.fit_measures
    assert es["lrt.stat"] == pytest.approx(2 * (fm["logl"] - fm["h0.logl"]))
    assert (es["lhs"], es["rhs"], es["terms"]) == ("Y", "X:Z", "X:Z")


def test_qml_effect_sizes_on_oneint_agree_with_modsem(oneint_qml, oneint_lms):
    """QML on oneInt: the same modsem 1.0.11 R-squared references as the LMS test
    above (0.602, 0.397, change 0.204; within 0.01, the spread between estimators of
    the same quantities).  ``r2.h0`` is the ML refit of the model without products,
    the same for both methods.  D is labelled a quasi-likelihood ratio:
    2 (quasi-logl - h0.logl), h0.logl the normal log-likelihood of the model without
    products (modsem's LMS vignette: -17832; lavaan 0.6.14: -17831.87)."""
    es = interaction_effect_sizes(oneint_qml).iloc[0]
    assert es["r2"] == pytest.approx(0.602, abs=0.01)
    assert es["r2.h0"] == pytest.approx(0.397, abs=0.01)
    assert es["delta.r2"] == pytest.approx(0.204, abs=0.01)
    assert es["f2"] == pytest.approx(es["delta.r2"] / (1 - es["r2"]), rel=1e-12)
    fm = oneint_qml.fit_measures
    assert fm["h0.logl"] == pytest.approx(-17831.87, abs=0.01)
    assert es["lrt.stat"] == pytest.approx(2 * (fm["logl"] - fm["h0.logl"]))
    assert es["lrt.kind"] == "quasi-likelihood ratio"
    assert interaction_effect_sizes(oneint_lms).iloc[0]["lrt.kind"] == "likelihood ratio"
    assert (es["lhs"], es["rhs"], es["terms"], es["lrt.df"]) == ("Y", "X:Z", "X:Z", 1)


@pytest.mark.slow
def test_qml_quasi_lrt_holds_its_size_under_the_null():
    """The chi-square p-value of QML's quasi-likelihood ratio under the null (no
    interaction, normal factors): 400 samples of N = 300; the rejection rate at 0.05
    must lie within 3 Monte Carlo SEs (sqrt(.05 .95 / 400) = 0.011) of 0.05."""
    rng = np.random.SeedSequence(7).spawn(400)
    null = dict(POP, b3=0.0)
    pvals = []
    for seed in rng:
        data = _simulate_items(300, seed, pop=null)
        pvals.append(interaction_effect_sizes(fit(ONEINT_MODEL, data, interaction="qml"))
                     ["lrt.pvalue"].iloc[0])  # fmt: skip
    rate = float(np.mean(np.array(pvals) < 0.05))
    assert abs(rate - 0.05) < 3 * np.sqrt(0.05 * 0.95 / 400), rate


# ------------------------------------------------------------------- errors
def test_bad_inputs_are_named(oneint):
    plain = fit("X =~ x1 + x2 + x3\nY =~ y1 + y2 + y3\nY ~ X\n", oneint.iloc[:300])
    with pytest.raises(CkmError, match="interaction"):
        standardized_interactions(plain)
    observed = fit("y1 ~ x1 + z1 + x1:z1", oneint.iloc[:300])
    with pytest.raises(CkmError, match="observed variables"):
        standardized_interactions(observed)
    dbl = fit(ONEINT_MODEL, oneint.iloc[:300])
    with pytest.raises(CkmError, match="LMS"):
        interaction_effect_sizes(dbl)
    with pytest.raises(CkmError, match="'level'"):
        standardized_interactions(dbl, level=1.5)


# ---------------------------------------------------------------------- CLI
@pytest.mark.parametrize("flag", ["lms", "qml", "dblcent"])
def test_ckm_fit_prints_the_blocks(oneint, tmp_path, capsys, flag):
    from ckm_research.cli import main

    model = tmp_path / "int.lav"
    model.write_text(ONEINT_MODEL, encoding="utf-8")
    data = tmp_path / "oneint.csv"
    oneint.iloc[:500].to_csv(data, index=False)
    out = tmp_path / "fit.json"
    assert main(["fit", str(model), str(data), "--interaction", flag, "--json", str(out)]) == 0
    text = capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert [r["rhs"] for r in doc["standardized_interactions"]] == ["X", "Z", "X:Z"]
    assert ("interaction_effect_sizes" in doc) == (flag != "dblcent")
    assert "Standardized interaction effects" in text and "not available" not in text
    assert ("Interaction effect sizes" in text) == (flag != "dblcent")
    assert ("quasi-likelihood ratio" in text) == (flag == "qml")
    res = fit(ONEINT_MODEL, oneint.iloc[:500], interaction=flag)
    beta = standardized_interactions(res).set_index("rhs").loc["X:Z", "est.std"]
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("Y ~ X:Z"))
    assert f"{beta:.3f}" in line.split()


@pytest.mark.parametrize("flag", ["lms", "dblcent"])
def test_ckm_fit_says_why_a_multigroup_fit_has_no_standardized_block(
    oneint, tmp_path, capsys, flag
):
    """Two groups: the block is replaced by a reason a researcher can act on (single-group
    fits only; fit each group's rows separately), not an internal function name."""
    from ckm_research.cli import main

    model = tmp_path / "int.lav"
    model.write_text(ONEINT_MODEL, encoding="utf-8")
    data = oneint.iloc[:400].assign(g=np.where(np.arange(400) % 2 == 0, "a", "b"))
    path = tmp_path / "mg.csv"
    data.to_csv(path, index=False)
    assert main(["fit", str(model), str(path), "--group", "g", "--interaction", flag]) == 0
    text = capsys.readouterr().out
    line = next(ln for ln in text.splitlines() if ln.startswith("Standardized interaction"))
    assert "not available for a fit of 2 groups" in line
    assert "fit each group's rows separately" in line
    assert "standardized_interactions" not in text and "'result'" not in text


# ------------------------------------------------------------------- report
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_tables(oneint_lms, lang):
    from ckm_research.report import analysis

    terms = [("Y", "X", "Z")]
    std = analysis.standardized_interaction_table(oneint_lms, terms, lang=lang)
    ref = standardized_interactions(oneint_lms)
    assert list(std.frame["term"]) == ["X", "Z", "X × Z"]
    np.testing.assert_allclose(std.frame["est.std"], ref["est.std"])
    assert "SD(X) · SD(Z) / SD(Y)" in std.note
    es = analysis.interaction_effect_size_table(oneint_lms, terms, lang=lang)
    ref_es = interaction_effect_sizes(oneint_lms)
    np.testing.assert_allclose(es.frame[["r2", "delta.r2", "f2"]], ref_es[["r2", "delta.r2", "f2"]])
    html = es.to_html(1, lang=lang)
    assert "ΔR²" in html and "f²" in html
    if lang == "zh":
        assert "效应量" in es.title and "标准化" in std.title


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_effect_size_note_names_the_quasi_likelihood_ratio(oneint_qml, oneint_lms, lang):
    from ckm_research.report import analysis
    from ckm_research.report.i18n import text

    terms = [("Y", "X", "Z")]
    quasi = text("qmlfx.effsize.note.qml", lang)
    assert quasi in analysis.interaction_effect_size_table(oneint_qml, terms, lang=lang).note
    assert quasi not in analysis.interaction_effect_size_table(oneint_lms, terms, lang=lang).note
    std = analysis.standardized_interaction_table(oneint_qml, terms, lang=lang)
    ref = standardized_interactions(oneint_qml)
    np.testing.assert_allclose(std.frame["est.std"], ref["est.std"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_moderation_section_shows_them(oneint_lms, tmp_path, lang):
    from ckm_research.report import analysis
    from ckm_research.report.render import Report
    from ckm_research.report.store import StageOutput

    terms = [("Y", "X", "Z")]
    res = oneint_lms
    out = StageOutput(tmp_path, "moderation", display=False, check=False)
    out.numbers(method="lms", estimator="ML", missing="listwise", n=res.n, converged=True,
                n_data=res.n)  # fmt: skip
    out.table(analysis.interaction_table(res, terms, lang=lang))
    out.table(analysis.standardized_interaction_table(res, terms, lang=lang))
    out.table(analysis.interaction_effect_size_table(res, terms, lang=lang))
    stages = {"moderation": json.loads(out.save().read_text(encoding="utf-8"))}
    study = {"parameters": {"language": lang, "interaction_method": "lms"}}
    (tmp_path / "results.json").write_text(
        json.dumps({"stages": stages, "study": study}), encoding="utf-8"
    )
    rep = Report(tmp_path)
    section = rep.results_moderation()
    std = analysis.standardized_interaction_table(res, terms, lang=lang)
    es = analysis.interaction_effect_size_table(res, terms, lang=lang)
    assert std.title in section and es.title in section
    beta = standardized_interactions(res).set_index("rhs").loc["X:Z", "est.std"]
    assert f"{beta:.3f}" in section
    refs = rep.references()
    assert "Wen, Z., Marsh" in refs and "Cohen, J. (1988)" in refs


def test_unique_shares_of_two_correlated_products():
    """Two product terms with different moderators (adaptive quadrature), factors
    correlated 0.3: at the population values each term's own R-squared share equals the
    closed form from the covariance matrix of (X, Z, W, V, XZ, WV) of centred normal
    factors (Isserlis: Cov(XZ, WV) = s_XW s_ZV + s_XV s_ZW, Var(XZ) = s_X s_Z + s_XZ^2,
    products uncorrelated with the factors)."""
    rng = np.random.default_rng(3)
    n = 800
    phi = 0.3 + 0.7 * np.eye(4)
    F = rng.multivariate_normal(np.zeros(4), phi, size=n)
    beta = np.array([0.4, 0.3, 0.2, 0.2, 0.3, 0.25])
    X, Z, W, V = F.T
    Y = F @ beta[:4] + beta[4] * X * Z + beta[5] * W * V + rng.normal(0, 0.7, n)
    cols = {}
    for name, f in zip("xzwvy", (X, Z, W, V, Y), strict=True):
        for j, lam in enumerate((1.0, 0.8, 0.9), 1):
            cols[f"{name}{j}"] = lam * f + rng.normal(0, 0.5, n)
    model = "\n".join(f"{u} =~ {v}1 + {v}2 + {v}3" for u, v in zip("XZWVY", "xzwvy", strict=True))
    model += "\nY ~ X + Z + W + V + X:Z + W:V\n"
    res = fit(model, pd.DataFrame(cols), interaction="lms")
    assert res.notes["interaction"]["quadrature"] == "adaptive"
    eng = res.engine
    t = eng.model.partable.table
    free = eng.row_free()
    theta = np.array(res.theta, dtype=float)
    idx = {f: i for i, f in enumerate("XZWV")}
    for r, (a, op, b) in enumerate(zip(t["lhs"], t["op"], t["rhs"], strict=True)):
        if free[r] <= 0:
            continue
        if op == "~" and a == "Y":
            theta[free[r] - 1] = beta[idx[b]]
        elif op == "~~" and a in idx and b in idx:
            theta[free[r] - 1] = phi[idx[a], idx[b]]
        elif op == "~~" and a == b == "Y":
            theta[free[r] - 1] = 0.49
    for i, term in enumerate(eng.model.terms):
        theta[free[len(t) + i] - 1] = beta[4] if term.term == "X:Z" else beta[5]
    es = interaction_effect_sizes(dataclasses.replace(res, theta=theta)).set_index("rhs")
    # closed form
    C = np.zeros((6, 6))
    C[:4, :4] = phi
    s = phi
    C[4, 4] = s[0, 0] * s[1, 1] + s[0, 1] ** 2
    C[5, 5] = s[2, 2] * s[3, 3] + s[2, 3] ** 2
    C[4, 5] = C[5, 4] = s[0, 2] * s[1, 3] + s[0, 3] * s[1, 2]
    var_y = beta @ C @ beta + 0.49
    cy = C @ beta

    def r2(keep):
        return cy[keep] @ np.linalg.solve(C[np.ix_(keep, keep)], cy[keep]) / var_y

    full = r2([0, 1, 2, 3, 4, 5])
    assert full == pytest.approx(1 - 0.49 / var_y)
    for term, drop in (("X:Z", 4), ("W:V", 5)):
        share = full - r2([k for k in range(6) if k != drop])
        assert es.loc[term, "delta.r2.term"] == pytest.approx(share, rel=1e-6)
        assert es.loc[term, "f2.term"] == pytest.approx(share / (1 - full), rel=1e-6)
    assert es.loc["X:Z", "terms"] == "X:Z, W:V" and es.loc["X:Z", "lrt.df"] == 2
