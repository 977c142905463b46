"""lavaan options fit() lacks are refused by name, never with a TypeError."""

from __future__ import annotations

import pandas as pd
import pytest

from ckm_research import fit
from ckm_research.errors import CkmError
from tests.reference_compare import REF

MODEL = "visual =~ x1 + x2 + x3"


@pytest.fixture(scope="module")
def hs():
    return pd.read_csv(REF / "data" / "HolzingerSwineford1939.csv")


@pytest.mark.parametrize(
    "option,lavaan_name,advice",
    [
        ("se", "se", "--bootstrap"),
        ("test", "test", "Satorra-Bentler"),
        ("conditional_x", "conditional.x", "fixed_x=True"),
    ],
)
def test_lavaan_options_without_support_are_named(hs, option, lavaan_name, advice):
    with pytest.raises(CkmError) as err:
        fit(MODEL, hs, **{option: "x"})
    msg = str(err.value)
    assert f"lavaan's {lavaan_name} option" in msg and advice in msg


def test_an_unknown_option_lists_fits_options(hs):
    with pytest.raises(CkmError, match="fit\\(\\) has no option 'std.lv'.*std_lv"):
        fit(MODEL, hs, **{"std.lv": True})


@pytest.mark.parametrize("missing", ["pairwise", "two.stage", "robust.two.stage"])
def test_lavaans_other_missing_data_methods_are_named(hs, missing):
    with pytest.raises(CkmError, match=f"lavaan's missing='{missing}' is not supported"):
        fit(MODEL, hs, missing=missing)
