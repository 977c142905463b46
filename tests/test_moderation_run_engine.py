"""LMS, multiple-group LMS and QML are fitted through the one entry of every fit,
:func:`ckm_research.sem.checks.run_engine` (issue 10): the engines satisfy the
:class:`~ckm_research.sem.checks.FitEngine` contract, the identification count,
lavaan's scale warnings and the badly-scaled-data diagnosis use the wording of the
SEM engines, a failed fit is restarted from the default starting values, and the
options of ``fit_lms``/``fit_qml`` are refused with the phrasing of ``FitOptions``.

References: the counting rule (Bollen, 1989, p. 93; lavaan's ``ndat`` = p(p+3)/2
with a mean structure); the SEM engine's own messages on the same data.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ckm_research.sem.api as sem_api
import ckm_research.sem.checks as checks
from ckm_research import fit
from ckm_research.errors import CkmError, ConvergenceError, DataError, IdentificationError
from ckm_research.moderation.interaction_engine import InteractionEngine, InteractionOptions
from ckm_research.moderation.lms import DenseLMSEngine, fit_lms
from ckm_research.moderation.qml import fit_qml
from ckm_research.sem.checks import FitEngine
from ckm_research.sem.engine import BaseEngine

REF = Path(__file__).parent / "reference"
MODEL = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z\n"
LINEAR = MODEL.replace(" + X:Z", "")
CONTRACT = (
    "notes",
    "opts",
    "ngroups",
    "check_df",
    "run",
    "observed_data",
    "observed_variances",
    "user_starts",
    "from_default_starts",
    "failure_hint",
)


@pytest.fixture(scope="module")
def oneint():
    return pd.read_csv(REF / "data" / "oneInt.csv")


def _subclasses(cls):
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _subclasses(sub)
    return out


def test_every_engine_class_has_the_contract():
    for mod in ("ml", "fiml", "ls", "wlsmv", "constraints", "weights"):
        importlib.import_module(f"ckm_research.sem.{mod}")
    for mod in ("lms", "lms_engine", "lms_multigroup", "qml"):
        importlib.import_module(f"ckm_research.moderation.{mod}")
    sem = _subclasses(BaseEngine)
    lms = _subclasses(InteractionEngine)
    names = {c.__name__ for c in sem | lms}
    assert {"MLEngine", "FIMLEngine", "LSEngine", "WLSMVEngine"} <= names
    assert {"DenseLMSEngine", "LMSEngine", "MultiGroupLMSEngine", "QMLEngine"} <= names
    methods = [m for m in CONTRACT if m not in ("notes", "opts")]
    for cls in sem | lms:
        missing = [m for m in methods if not hasattr(cls, m)]
        assert not missing, (cls.__name__, missing)
    protocol_attrs = getattr(FitEngine, "__protocol_attrs__", None)
    if protocol_attrs is not None:  # Python >= 3.12: the test's list is the protocol's
        assert set(protocol_attrs) == set(CONTRACT)


def test_run_engine_fits_lms_qml_and_multigroup(oneint, monkeypatch):
    seen = []
    real = checks.run_engine

    def spy(engine, frame=None, parsed=None):
        assert isinstance(engine, FitEngine)
        seen.append(type(engine).__name__)
        return real(engine, frame, parsed)

    monkeypatch.setattr(checks, "run_engine", spy)
    monkeypatch.setattr(sem_api, "run_engine", spy)  # the SEM entry imported it by name
    incomplete = oneint.copy()
    incomplete.loc[incomplete.index[1::50], "x1"] = np.nan
    part = oneint.iloc[:300].assign(g=np.where(np.arange(300) % 2, "a", "b"))
    fits = [
        fit_lms(MODEL, oneint),
        fit_lms(MODEL, incomplete, missing="ml"),
        fit_qml(MODEL, oneint),
        fit_lms(MODEL, part, group="g"),
        fit(LINEAR, oneint),
    ]
    assert seen == ["DenseLMSEngine", "LMSEngine", "QMLEngine", "MultiGroupLMSEngine", "MLEngine"]
    for res in fits:
        assert isinstance(res.engine, FitEngine)


def test_too_many_parameters_refused_as_for_sem(oneint):
    # single-indicator factors with free residual variances: p = 3 indicators give
    # 3 * 6 / 2 = 9 means and covariances; the linear model with a mean structure has 12
    # free parameters (3 residual variances, 3 intercepts, 3 (co)variances of X and Z,
    # Y's residual variance, 2 paths), LMS one more (X:Z)
    lms_model = "X =~ x1\nZ =~ z1\nY =~ y1\nx1 ~~ x1\nz1 ~~ z1\ny1 ~~ y1\nY ~ X + Z + X:Z\n"
    pattern = (
        r"the model is not identified: it has {} free parameters but only 9 sample "
        r"statistics \(df = {}\)\. Fix or remove parameters\."
    )
    with pytest.raises(IdentificationError, match=pattern.format(12, -3)):
        fit(lms_model.replace(" + X:Z", ""), oneint, meanstructure=True)
    with pytest.raises(IdentificationError, match=pattern.format(13, -4)):
        fit_lms(lms_model, oneint)
    with pytest.raises(IdentificationError, match=pattern.format(13, -4)):
        fit_qml(lms_model, oneint)
    with pytest.raises(IdentificationError, match=pattern.format(13, -4)):
        fit(lms_model, oneint, interaction="lms")


def test_scale_warnings_as_for_sem(oneint):
    scaled = oneint.assign(x1=oneint["x1"] * 1e4)
    sem = fit(LINEAR, scaled).warnings
    assert any("'x1' has variance" in w and "divide it by 1e+04" in w for w in sem)
    for res in (fit_lms(MODEL, scaled), fit_qml(MODEL, scaled)):
        scale = [w for w in res.warnings if "observed variances" in w]
        assert scale == [w for w in sem if "observed variances" in w]
    assert not [w for w in fit_lms(MODEL, oneint).warnings if "observed variances" in w]


def test_failed_lms_on_badly_scaled_data_is_diagnosed(oneint, monkeypatch):
    def fails(self, max_iter=500, gtol=1e-7):
        raise ConvergenceError("LMS: the line search failed")

    monkeypatch.setattr(DenseLMSEngine, "estimate", fails)
    scaled = oneint.assign(x1=oneint["x1"] * 1e4)
    with pytest.raises(DataError) as err:
        fit_lms(MODEL, scaled)
    msg = str(err.value)
    assert "the observed variables are badly scaled: the variance of 'x1'" in msg
    assert "Rescale 'x1' (e.g. divide it by 1e+04)" in msg
    assert "(The optimiser reported: LMS: the line search failed)" in msg
    # well-scaled data: the optimiser's own error, not a data problem
    with pytest.raises(ConvergenceError, match="line search failed"):
        fit_lms(MODEL, oneint)


def test_restart_from_default_starts(oneint, monkeypatch):
    real = DenseLMSEngine.estimate

    def fails_from_user_starts(self, max_iter=500, gtol=1e-7):
        if np.isfinite(self.model.partable.table["start"].to_numpy(dtype=float)).any():
            raise ConvergenceError("LMS: no solution from these starting values")
        return real(self, max_iter=max_iter, gtol=gtol)

    monkeypatch.setattr(DenseLMSEngine, "estimate", fails_from_user_starts)
    plain = fit_lms(MODEL, oneint)
    started = fit_lms(MODEL.replace("x2", "start(0.3)*x2"), oneint)
    note = [w for w in started.warnings if "default starting values" in w]
    assert len(note) == 1 and "start(0.3) on X =~ x2" in note[0]
    np.testing.assert_allclose(started.estimates["est"], plain.estimates["est"], atol=1e-10)
    np.testing.assert_allclose(started.estimates["se"], plain.estimates["se"], atol=1e-10)


def test_from_default_starts_drops_only_the_start_values(oneint):
    res = fit_lms(MODEL.replace("x2", "start(0.3)*x2"), oneint)
    engine = res.engine
    assert engine.user_starts() == ["start(0.3) on X =~ x2"]
    again = engine.from_default_starts(["n"])
    assert type(again) is type(engine) and again is not engine
    assert again.user_starts() == [] and again.notes == ["n"]
    assert engine.user_starts() == ["start(0.3) on X =~ x2"]  # the fitted engine is unchanged
    assert again.opts == engine.opts
    np.testing.assert_array_equal(again.X, engine.X)


@pytest.mark.parametrize(
    ("fn", "kwargs", "message"),
    [
        (fit_lms, {"nodes": 1}, "The 'nodes' parameter of fit_lms must be an int in the range "
         "[2, inf). Got 1 instead."),
        (fit_lms, {"n_jobs": 0}, "The 'n_jobs' parameter of fit_lms must be an int in the "
         "range [1, inf). Got 0 instead."),
        (fit_lms, {"prune": -1.0}, "The 'prune' parameter of fit_lms must be a float in the "
         "range [0, 1). Got -1.0 instead."),
        (fit_lms, {"level": 2}, "The 'level' parameter of fit_lms must be a float in the "
         "range (0, 1). Got 2 instead."),
        (fit_qml, {"level": 95.0}, "The 'level' parameter of fit_qml must be a float in the "
         "range (0, 1). Got 95.0 instead."),
        (fit_lms, {"quadrature": "gauss"}, "The 'quadrature' parameter of fit_lms must be one "
         "of 'fixed', 'adaptive'. Got 'gauss' instead."),
        (fit_lms, {"missing": "pairwise"}, "The 'missing' parameter of fit_lms must be one of "
         "'listwise', 'ml'. Got 'pairwise' instead."),
        (fit_qml, {"control": {"iter.max": 0}}, "The 'control' parameter of fit_qml must be"),
    ],
)  # fmt: skip
def test_options_refused_with_one_phrasing(oneint, fn, kwargs, message):
    with pytest.raises(CkmError, match=re.escape(message)):
        fn(MODEL, oneint, **kwargs)


def test_options_validated_before_the_data_are_read():
    # the data argument is never read: the option is refused first
    with pytest.raises(CkmError, match="'nodes' parameter of fit_lms"):
        fit_lms(MODEL, "/nonexistent/data.csv", nodes=0)
    opts = InteractionOptions.from_kwargs("fit_lms", group="g", group_equal="loadings")
    assert opts.group_equal == ("loadings",) and opts.ordered == ()


def test_start_on_a_product_term_is_where_the_estimation_starts(oneint, monkeypatch):
    # start(v)*X:Z is honoured (it was read and ignored before): the BFGS starts the
    # product coefficient there, reaches the same maximum, and the restart drops it
    import ckm_research.moderation.lms as lms

    starts = []
    real = lms.bfgs

    def spy(fg, x0, *args, **kwargs):
        starts.append(np.array(x0, dtype=float))
        return real(fg, x0, *args, **kwargs)

    monkeypatch.setattr(lms, "bfgs", spy)
    plain = fit_lms(MODEL, oneint)
    started = fit_lms(MODEL.replace("X:Z", "start(0.5)*X:Z"), oneint)
    k = int(started.engine.model.term_free[0]) - 1
    assert starts[0][k] == 0.0 and starts[-1][k] == 0.5
    np.testing.assert_allclose(started.estimates["est"], plain.estimates["est"], atol=2e-4)
    assert started.engine.user_starts() == ["start(0.5) on Y ~ X:Z"]
    assert started.engine.from_default_starts([]).user_starts() == []
    qml = fit_qml(MODEL.replace("X:Z", "start(0.5)*X:Z"), oneint)
    assert qml.engine.user_starts() == ["start(0.5) on Y ~ X:Z"]
