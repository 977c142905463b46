"""fit()'s options as one validated object (issue 10): ``ckm_research.sem.options.FitOptions``.

Checked here: one phrasing for every bad parameter value, the estimator alias
'FIML' resolved to lavaan's estimator = "ML", missing = "ml" (same estimates as
writing those), the options round-tripping to ``results.options``, growth()
setting its options through the object, and the public ``.model``,
``.options`` and ``.model_text`` of the results.
"""

from __future__ import annotations

import dataclasses
import inspect
import re

import numpy as np
import pandas as pd
import pytest

from ckm_research import fit
from ckm_research.errors import CkmError
from ckm_research.sem.options import FIT_PARAMETERS, FitOptions
from tests.reference_compare import load, load_data

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6"

#: scikit-learn's phrasing, the only one fit() uses for a bad parameter value
PHRASE = r"^The '{name}' parameter of fit must be .+\. Got .+ instead\.$"


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return load_data(load("parity_means_hs_orthogonal_ml"))


@pytest.fixture(scope="module")
def hs_missing() -> pd.DataFrame:
    from pathlib import Path

    return pd.read_csv(Path(__file__).parent / "reference" / "data" / "fiml_hs_missing.csv")


BAD_VALUES = [
    ("estimator", 5),
    ("estimator", "MAXLIK"),
    ("level", 2),
    ("level", 1.5),
    ("parameterization", "gamma"),
    ("meanstructure", "default"),
    ("orthogonal", "yes"),
    ("std_ov", 1),
    ("int_ov_free", None),
    ("int_lv_free", 0),
    ("std_lv", "yes"),
    ("fixed_x", "no"),
    ("interaction", "product"),
    ("missing", "full"),
    ("control", 500),
    ("control", {"iter.max": 2, "rel.tol": 1e-8}),
    ("control['iter.max']", 0),
    ("group", 3),
    ("sampling_weights", 1.0),
    ("ordered", 5),
    ("ordered", [1, 2]),
    ("group_equal", 5),
    ("group_partial", 5),
]


@pytest.mark.parametrize(("name", "value"), BAD_VALUES)
def test_every_option_has_one_phrasing(hs, name, value):
    kw = {"control": {"iter.max": value}} if name == "control['iter.max']" else {name: value}
    # from the options object and through fit() alike, before the data are looked at
    with pytest.raises(CkmError) as exc:
        FitOptions.from_kwargs(**kw)
    assert re.match(PHRASE.format(name=re.escape(name)), str(exc.value)), str(exc.value)
    with pytest.raises(CkmError, match=re.escape(str(exc.value))):
        fit(HS, hs, **kw)


def test_refusals_keep_their_messages():
    with pytest.raises(CkmError, match=r"lavaan's se option \(se=\.\.\.\)"):
        FitOptions.from_kwargs(se="bootstrap")
    with pytest.raises(CkmError, match="fit\\(\\) has no option 'std.lv'; its options are: model,"):
        FitOptions.from_kwargs(**{"std.lv": True})
    with pytest.raises(CkmError, match="cluster='school': clustered data"):
        FitOptions.from_kwargs(cluster="school")
    with pytest.raises(CkmError, match="estimator='MLF' is a lavaan estimator"):
        FitOptions.from_kwargs(estimator="MLF")
    with pytest.raises(CkmError, match="lavaan's missing='pairwise' is not supported"):
        FitOptions.from_kwargs(missing="pairwise")
    with pytest.raises(CkmError, match="estimator='FIML' is ML with missing='ml'"):
        FitOptions.from_kwargs(estimator="FIML", missing="listwise")


def test_fit_parameters_are_fits_signature():
    """The list an unknown option's message shows is fit()'s own."""
    assert FIT_PARAMETERS == tuple(
        p for p in inspect.signature(fit).parameters if p != "lavaan_options"
    )


def test_defaults_are_lavaans():
    """lavaan's lav_options_set: missing listwise, fixed.x TRUE except for the
    least-squares estimators of continuous items, meanstructure 'default'."""
    opts = FitOptions.from_kwargs()
    assert (opts.estimator, opts.missing, opts.fixed_x, opts.meanstructure) == (
        "ML",
        "listwise",
        True,
        False,
    )
    assert FitOptions.from_kwargs(estimator="uls").fixed_x is False
    assert FitOptions.from_kwargs(estimator="ULS", ordered="all").fixed_x is True
    assert FitOptions.from_kwargs(meanstructure=None).meanstructure is False
    assert FitOptions.from_kwargs(control={"iter.max": 7}).iter_max == 7
    assert FitOptions.from_kwargs(ordered="x1, x2").ordered == ("x1", "x2")
    assert FitOptions.from_kwargs(ordered=True).ordered == "all"
    assert FitOptions.from_kwargs(group_equal="loadings").group_equal == ("loadings",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.level = 0.9  # type: ignore[misc]


def test_fiml_alias_is_ml_with_missing_ml(hs_missing):
    alias = FitOptions.from_kwargs(estimator="FIML")
    assert (alias.estimator, alias.missing, alias.estimator_alias) == ("ML", "ml", "FIML")
    assert alias.replace(estimator_alias=None) == FitOptions.from_kwargs(missing="ml")
    a = fit(HS, hs_missing, estimator="FIML")
    b = fit(HS, hs_missing, estimator="ML", missing="ml")
    np.testing.assert_allclose(a.estimates["est"], b.estimates["est"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.estimates["se"], b.estimates["se"], rtol=0, atol=1e-12)
    assert a.fit_measures["chisq"] == pytest.approx(b.fit_measures["chisq"], abs=1e-10)
    assert a.n == b.n == len(hs_missing)
    # the alias is what the result reports, as before
    assert (a.estimator, b.estimator) == ("FIML", "ML")
    assert a.engine.opts.missing == b.engine.opts.missing == "ml"


def test_options_round_trip_to_results(hs):
    kw = {"estimator": "MLR", "std_lv": True, "level": 0.9, "control": {"iter.max": 300}}
    res = fit(HS, hs, **kw)
    assert res.options == FitOptions.from_kwargs(**kw)
    assert FitOptions.from_kwargs(**res.options.to_kwargs()) == res.options
    again = fit(HS, hs, **res.options.to_kwargs())
    np.testing.assert_allclose(again.estimates["est"], res.estimates["est"], atol=1e-12)
    # the engine carries the options with the model-dependent values resolved
    assert res.engine.opts.replace(ordered=(), meanstructure=False) == res.options
    assert res.model_text == HS


def test_fiml_round_trip_keeps_the_alias(hs_missing):
    res = fit(HS, hs_missing, estimator="FIML")
    assert res.options.to_kwargs()["estimator"] == "FIML"
    assert FitOptions.from_kwargs(**res.options.to_kwargs()) == res.options


def test_growth_sets_its_options_through_the_object():
    from tests.reference_compare import fit_like_lavaan

    ref = load("parity_means_growth_ml")
    res = fit_like_lavaan(ref)
    assert (res.options.meanstructure, res.options.int_ov_free, res.options.int_lv_free) == (
        True,
        False,
        True,
    )
    assert res.engine.opts.int_ov_free is False and res.engine.opts.int_lv_free is True
    t = res.model.partable
    ints = t[(t["op"] == "~1") & t["lhs"].isin(res.model.observed)]
    assert len(ints) and (ints["free"] == 0).all()  # int.ov.free = FALSE
    lvs = t[(t["op"] == "~1") & t["lhs"].isin(res.model.latent)]
    assert len(lvs) and (lvs["free"] > 0).all()  # int.lv.free = TRUE


def test_results_model_is_the_fitted_model(hs):
    res = fit(HS, hs)
    model = res.model
    assert model.observed == ("x1", "x2", "x3", "x4", "x5", "x6")
    assert model.latent == ("visual", "textual")
    t = model.partable
    est = res.estimates.set_index(["lhs", "op", "rhs"])["est"]
    for row in t.itertuples():
        assert row.est == pytest.approx(est[(row.lhs, row.op, row.rhs)], abs=1e-12)
    m = model.matrices()
    assert m["A"].loc["x2", "visual"] == pytest.approx(est[("visual", "=~", "x2")], abs=1e-12)
    assert m["S"].loc["visual", "textual"] == pytest.approx(
        est[("visual", "~~", "textual")], abs=1e-12
    )
    # the implied covariance matrix from the matrices is the engine's
    k = len(model.observed)
    E = np.linalg.inv(np.eye(len(m["A"])) - m["A"].to_numpy())
    implied = (E @ m["S"].to_numpy() @ E.T)[:k, :k]
    np.testing.assert_allclose(implied, res.implied["implied"]["cov"].to_numpy(), atol=1e-10)
    with pytest.raises(CkmError, match=PHRASE.format(name="group")[1:12]):
        model.matrices(group=2)


def test_interaction_results_carry_the_callers_options(hs):
    model = HS + "\nspeed =~ x7 + x8 + x9\nspeed ~ visual + textual + visual:textual"
    data = load_data(load("parity_means_hs_orthogonal_ml"))
    res = fit(model, data, std_lv=False, level=0.9)
    assert res.options == FitOptions.from_kwargs(level=0.9)
    assert res.model_text == model
    assert res.notes["interaction"]["method"] == "dblcent"
