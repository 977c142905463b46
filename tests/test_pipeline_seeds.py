"""Random streams of the pipeline (ckm_research.inference.workflows).

* the bootstrap and the power simulation draw from their own streams of the study
  seed (``SeedSequence(seed, spawn_key=(k,))``), never the same child streams, and
  the same seed gives the same numbers;
* the power pilot sample draws from its own child of ``random_state`` (it used a
  fixed seed);
* the pipeline calls its estimators with explicit keyword arguments: one the
  callee does not accept raises, naming it, instead of being dropped silently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ckm_research import fit
from ckm_research.inference import power as power_mod
from ckm_research.inference import workflows
from ckm_research.inference.bootstrap import bootstrap
from ckm_research.inference.parallel import spawn_seeds
from ckm_research.inference.population import PopulationModel

# the two-factor population and model of the bootstrap tests
from tests.test_bootstrap import MODEL, POP  # noqa: E402


class _Seen(Exception):
    """Raised by a stand-in estimator with the random_state it was given."""


def _capture(*args, random_state=None, **kwargs):
    raise _Seen(random_state)


@pytest.fixture(scope="module")
def data_and_fit():
    data = PopulationModel(POP).simulate(200, random_state=5)
    return data, fit(MODEL, data)


def _draws(random_state, n=4):
    _, children = spawn_seeds(random_state, n)
    return np.array([np.random.default_rng(c).random(3) for c in children])


def _streams(data, res, seed):
    kw = dict(n_jobs=1, level=0.95, estimator="ML", missing="listwise")
    with pytest.raises(_Seen) as boot:
        workflows.bootstrap_defined(MODEL, data, res, n_boot=10, seed=seed, bootstrap_fn=_capture,
                                    **kw)
    with pytest.raises(_Seen) as power:
        workflows.run_power(MODEL, res, sample_sizes=[100], reps=10, alpha=0.05, seed=seed,
                            n_jobs=1, power_fn=_capture)  # fmt: skip
    return boot.value.args[0], power.value.args[0]


def test_bootstrap_and_power_draw_their_own_streams_of_the_study_seed(data_and_fit):
    data, res = data_and_fit
    boot, power = _streams(data, res, 20240601)
    # no child stream of the one is a child stream of the other
    b, p = _draws(boot), _draws(power)
    assert not np.isin(b, p).any()
    assert boot.entropy == power.entropy == 20240601  # both derived from the study seed
    # reproducible: the same seed gives the same streams, another seed others
    boot2, power2 = _streams(data, res, 20240601)
    np.testing.assert_array_equal(_draws(boot2), b)
    np.testing.assert_array_equal(_draws(power2), p)
    assert not np.isin(_draws(_streams(data, res, 7)[0]), b).any()


def test_pipeline_bootstrap_is_reproducible_from_the_seed(data_and_fit):
    data, res = data_and_fit
    kw = dict(n_boot=15, n_jobs=1, level=0.95, estimator="ML", missing="listwise")
    one, info = workflows.bootstrap_defined(MODEL, data, res, seed=3, bootstrap_fn=bootstrap, **kw)
    two, _ = workflows.bootstrap_defined(MODEL, data, res, seed=3, bootstrap_fn=bootstrap, **kw)
    other, _ = workflows.bootstrap_defined(MODEL, data, res, seed=4, bootstrap_fn=bootstrap, **kw)
    pd.testing.assert_frame_equal(one, two)
    assert not np.allclose(one["se"], other["se"])
    assert info["seed"] == 3


def test_power_pilot_sample_draws_from_its_own_child_of_the_seed(monkeypatch):
    seen = []

    def spy(*args):
        seen.append(args[-1])
        raise _Seen()

    monkeypatch.setattr(power_mod, "_plan", spy)
    for seed in (1, 1, 2):
        with pytest.raises(_Seen):
            power_mod.power_analysis(POP, [100, 150], reps=3, random_state=seed, n_jobs=1,
                                     progress=False)  # fmt: skip
    one, again, other = (np.random.default_rng(s).random(5) for s in seen)
    np.testing.assert_array_equal(one, again)
    assert not np.allclose(one, other)
    # not the stream of any replication (children 0..5 of the seed)
    assert seen[0].spawn_key == (6,) and seen[0].entropy == 1
    assert not np.isin(one, _draws(1, 6)).any()


def test_a_keyword_the_estimator_does_not_take_is_an_error_not_dropped(data_and_fit):
    data, res = data_and_fit

    def no_seed(model, data, *, n_boot, n_jobs, level, ci, bca, progress, result,
                estimator=None, missing=None):  # fmt: skip
        raise AssertionError("called without its random_state")

    with pytest.raises(TypeError, match="no_seed.*random_state"):
        workflows.bootstrap_defined(MODEL, data, res, n_boot=10, seed=1, n_jobs=1, level=0.95,
                                    estimator="ML", missing="listwise",
                                    bootstrap_fn=no_seed)  # fmt: skip
