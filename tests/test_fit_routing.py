"""``ckm_research.fit`` routes latent product terms above ``ckm_research.sem`` (issue 10).

:func:`ckm_research.fit` (:mod:`ckm_research.fitting`) sends ``X:Z`` models to
:mod:`ckm_research.moderation` and every other model to the SEM engine
(:func:`ckm_research.sem.api.fit`), which refuses a latent product term with a message
naming ``ckm_research.fit``.  The numbers of the interaction fits are checked against
lavaan + semTools in ``tests/test_moderation_dblcent.py`` (through ``ckm_research.fit``).
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ckm_research
from ckm_research.errors import CkmError, ModelSpecificationError
from ckm_research.fitting import fit, fit_with_options
from ckm_research.moderation.product_indicators import fit_dblcent
from ckm_research.sem import api as sem_api
from ckm_research.sem.options import FIT_PARAMETERS, FitOptions

REF = Path(__file__).parent / "reference"
ONEINT_MODEL = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z\n"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@pytest.fixture(scope="module")
def oneint_data():
    return pd.read_csv(REF / "data" / "oneInt.csv")


@pytest.fixture(scope="module")
def hs():
    from ckm_research.data.examples import load_dataset

    return load_dataset("HolzingerSwineford1939")


def test_top_level_fit_is_the_router():
    assert ckm_research.fit is fit
    # help(ckm_research.fit) lists every option of fit(), in fit()'s order
    assert tuple(inspect.signature(fit).parameters)[: len(FIT_PARAMETERS)] == FIT_PARAMETERS


def test_interaction_model_goes_to_moderation(oneint_data):
    res = fit(ONEINT_MODEL, oneint_data)
    ref = fit_dblcent(ONEINT_MODEL, oneint_data)
    assert res.estimator == ref.estimator
    np.testing.assert_allclose(res.estimates["est"], ref.estimates["est"], atol=1e-10)
    assert res.options == FitOptions.from_kwargs() and res.model_text == ONEINT_MODEL


def test_sem_fit_refuses_latent_products(oneint_data):
    with pytest.raises(ModelSpecificationError, match=r"X:Z.*ckm_research\.fit"):
        sem_api.fit(ONEINT_MODEL, oneint_data)
    with pytest.raises(ModelSpecificationError, match="ckm_research.fit"):
        sem_api.fit_with_options(ONEINT_MODEL, oneint_data, FitOptions.from_kwargs())


def test_other_models_go_to_sem(hs):
    res = fit(HS_MODEL, hs)
    ref = sem_api.fit(HS_MODEL, hs)
    np.testing.assert_array_equal(res.estimates["est"], ref.estimates["est"])
    # interaction= without a product term has nothing to act on: the ordinary fit
    lms = fit(HS_MODEL, hs, interaction="lms")
    assert lms.fit_measures["chisq"] == pytest.approx(85.306, abs=1e-3)  # lavaan's


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"meanstructure": True}, "meanstructure"),
        ({"std_ov": True}, "std_ov"),
        ({"sampling_weights": "x1"}, "sampling"),
    ],
)
def test_interaction_refusals_stay(oneint_data, kwargs, match):
    with pytest.raises(CkmError, match=match):
        fit_with_options(ONEINT_MODEL, oneint_data, FitOptions.from_kwargs(**kwargs))


def test_estimator_choices_come_from_the_one_table():
    """(issue 10) The ML-family choices of the pipeline, the power analysis and the weights
    check are derived from :mod:`ckm_research.sem.estimators`, not re-typed."""
    import typing

    from ckm_research.inference.power import POWER_ESTIMATORS
    from ckm_research.report.params import PipelineParams
    from ckm_research.sem.estimators import ESTIMATORS, FIML_ESTIMATORS, estimator_spec

    assert FIML_ESTIMATORS == ("ML", "MLR", "FIML")  # lavaan's missing="ml" estimators
    assert set(FIML_ESTIMATORS) <= set(ESTIMATORS)
    assert all(estimator_spec(e).fitted_by == "ML" for e in FIML_ESTIMATORS)
    assert POWER_ESTIMATORS is FIML_ESTIMATORS
    annotation = PipelineParams.model_fields["estimator"].annotation
    assert typing.get_args(annotation) == FIML_ESTIMATORS
