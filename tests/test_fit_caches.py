"""The per-fit caches of issue 10 keep results independent of what was fitted before.

``parse_model`` and ``build_partable`` are cached by model text and options, the ML
discrepancy/information share one evaluation per point, and the estimates table is
built from the parameter table's arrays: each test here fails if a cached or shared
object leaks from one call or one result into another.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ckm_research
from ckm_research.sem.ml import SampleMoments, ml_discrepancy, ml_information
from ckm_research.sem.model import RAMModel
from ckm_research.sem.partable import build_partable
from ckm_research.sem.syntax import parse_model

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"


@pytest.fixture(scope="module")
def hs():
    from ckm_research.data.examples import load_dataset

    return load_dataset("HolzingerSwineford1939")


def test_parse_model_gives_the_same_immutable_model():
    assert parse_model(HS_MODEL) is parse_model(HS_MODEL)
    # another text: parsed anew (the model keeps its text)
    assert parse_model(HS_MODEL + "\n").statements == parse_model(HS_MODEL).statements
    assert parse_model(HS_MODEL + "\n") is not parse_model(HS_MODEL)


def test_each_parameter_table_is_the_callers_own():
    first = build_partable(HS_MODEL, meanstructure=True)
    first.table.loc[:, "ustart"] = 99.0
    first.table.loc[0, "lhs"] = "changed"
    second = build_partable(HS_MODEL, meanstructure=True)
    assert second.table is not first.table
    assert "changed" not in set(second.table["lhs"])
    assert not (second.table["ustart"] == 99.0).any()
    # other options, another table
    assert len(build_partable(HS_MODEL, meanstructure=False).table) < len(second.table)


def test_editing_the_estimates_leaves_the_fit_alone(hs):
    res = ckm_research.fit(HS_MODEL, hs)
    rhs = res.engine.pt.table["rhs"].tolist()
    res.estimates.loc[:, "rhs"] = "edited"
    res.estimates.loc[:, "lhs"] = "edited"
    assert res.engine.pt.table["rhs"].tolist() == rhs
    again = ckm_research.fit(HS_MODEL, hs)
    assert again.estimates["rhs"].tolist()[: len(rhs)] == rhs


def test_information_follows_the_point_asked_for(hs):
    """The shared evaluation is reused only at the same point: the information at one
    point after the discrepancy at another equals that of a fresh model."""
    res = ckm_research.fit(HS_MODEL, hs)
    pt = res.engine.pt
    mom = [SampleMoments.from_data(hs[list(res.engine.model.ov)].to_numpy(dtype=float))]
    th1 = np.asarray(res.theta, float)
    th2 = th1 * 1.1
    used = RAMModel(pt)
    ml_discrepancy(used, th2, mom)
    info_used = ml_information(used, th1, [1.0])
    f_used, g_used = ml_discrepancy(used, th1, mom)
    fresh = RAMModel(pt)
    np.testing.assert_array_equal(info_used, ml_information(fresh, th1, [1.0]))
    f_fresh, g_fresh = ml_discrepancy(RAMModel(pt), th1, mom)
    assert f_used == f_fresh
    np.testing.assert_array_equal(g_used, g_fresh)
    # and not the information of the other point
    assert not np.allclose(info_used, ml_information(RAMModel(pt), th2, [1.0]))


def test_checked_data_is_a_copy(hs):
    from ckm_research.data.checks import check_model_data

    data = hs[["x1", "x2", "x3"]].astype(float)
    clean = check_model_data(data, ["x1", "x2", "x3"])
    clean.iloc[0, 0] = -1000.0
    assert data.iloc[0, 0] != -1000.0
    pd.testing.assert_index_equal(clean.index, data.index)
