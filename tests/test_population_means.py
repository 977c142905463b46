"""The population of a fit with a mean structure (:func:`population_from_fit` of a
FIML fit) keeps the fitted means, and its freed version is identified.

What is checked:

* the population's means are the fit's model-implied means (exactly, to the
  digits written), and samples drawn from it have them (Monte Carlo: within 4
  standard errors :math:`\\sqrt{\\sigma^2_j / n}` of each item mean);
* :func:`power_analysis` of that population with its default analysis model
  (the freed population, :func:`freed_syntax`) runs and its true values are the
  fit's estimates, intercepts, the product term and the index of moderated
  mediation included.  Before the fix the fixed latent means (``X ~ 0*1``) were
  written as values, freed, and the analysis model (free intercepts and free
  latent means) was not identified; the moderation notebook then dropped every
  intercept, so the simulated items had mean 0 instead of the fitted means.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckm_research import fit
from ckm_research.inference.population import (
    PopulationModel,
    freed_syntax,
    population_from_fit,
)
from ckm_research.inference.power import power_analysis

REF = Path(__file__).parent / "reference"
MODEL = """X =~ x1 + x2 + x3
M =~ m1 + m2 + m3
W =~ w1 + w2 + w3
Y =~ y1 + y2 + y3
M ~ a*X
Y ~ cp*X + b*M + W + b3*M:W
imm := a*b3
"""
# item means far from 0, as Likert items have
SHIFT = {"x1": 4.0, "x2": 3.5, "x3": 5.0, "m1": 4.2, "m2": 3.8, "m3": 4.4, "w1": 2.5,
         "w2": 3.0, "w3": 3.3, "y1": 5.1, "y2": 4.7, "y3": 4.9}  # fmt: skip


@pytest.fixture(scope="module")
def fiml_fit():
    data = pd.read_csv(REF / "data" / "parity_modmed.csv") + pd.Series(SHIFT)
    rng = np.random.default_rng(3)
    for col in ("x2", "m3", "y1"):  # some missing answers: FIML
        data.loc[rng.random(len(data)) < 0.1, col] = np.nan
    return fit(MODEL, data, estimator="FIML", interaction="dblcent")


def _fitted_means(res) -> pd.Series:
    implied = res.implied
    moments = implied if "mean" in implied else next(iter(implied.values()))
    return pd.Series(moments["mean"]).loc[list(SHIFT)]


def test_population_of_a_fiml_fit_has_the_fitted_means(fiml_fit):
    pop_text = population_from_fit(fiml_fit)
    assert "x1 ~ " in pop_text and "*1" in pop_text  # the intercepts are written
    pop = PopulationModel(pop_text)
    fitted = _fitted_means(fiml_fit)
    assert (fitted.abs() > 2).all()  # far from the 0 of a population without intercepts
    np.testing.assert_allclose(pop.mean().loc[fitted.index], fitted, rtol=1e-8)
    n = 20000
    sample = pop.simulate(n, random_state=5)
    sd = np.sqrt(np.diag(pop.covariance().loc[fitted.index, fitted.index]))
    z = (sample[fitted.index].mean() - fitted) / (sd / np.sqrt(n))
    assert np.all(np.abs(z) < 4), z


def test_freed_population_of_a_fiml_fit_is_identified(fiml_fit):
    pop_text = population_from_fit(fiml_fit)
    freed = freed_syntax(pop_text)
    for lv in ("X", "M", "W", "Y"):  # latent means stay fixed at 0, as in the fit
        assert f"{lv} ~ 1" not in freed.splitlines()
    pr = power_analysis(pop_text, 200, 2, interaction="dblcent", random_state=1, n_jobs=1,
                        progress=False)  # fmt: skip
    true = {(r.lhs, r.op, r.rhs): r.true for r in pr.table.itertuples()}
    est = fiml_fit.estimates
    keys = [("M", "~", "X"), ("Y", "~", "M:W"), ("imm", ":=", "a*b3")]
    keys += [(v, "~1", "") for v in SHIFT]
    for key in keys:
        row = est[(est["lhs"] == key[0]) & (est["op"] == key[1]) & (est["rhs"] == key[2])]
        assert true[key] == pytest.approx(float(row["est"].iloc[0]), abs=1e-6), key
    assert pr.table["converged"].min() == 2
