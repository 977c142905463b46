"""Helpers comparing our fits with lavaan fixtures (tolerances of the engine issue)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

REF = Path(__file__).parent / "reference"

#: fit measures we do not compute: the weight matrix lavaan uses for the GFI
#: under FIML is undocumented (the GFI is checked for complete-data fits, where
#: these keys are compared because both sides have them); scaling.factor.h1/h0
#: are intermediate quantities
NOT_COMPUTED = {
    "scaling.factor.h1",
    "scaling.factor.h0",
    "rmsea.ci.level",
    "rmsea.close.h0",
    "rmsea.notclose.h0",
}


def load(name: str) -> dict:
    return json.loads((REF / "json" / f"{name}.json").read_text())


def load_data(ref: dict) -> pd.DataFrame:
    return pd.read_csv(REF / ref["data_csv"])


def compare_estimates(
    ours: pd.DataFrame,
    lav: list[dict] | pd.DataFrame,
    *,
    se_rtol: float,
    est_atol: float = 1e-3,
    std_atol: float = 1e-3,
) -> pd.DataFrame:
    """Merge on (lhs, op, rhs[, group]) and assert the engine issue's tolerances."""
    lav = pd.DataFrame(lav)
    keys = ["lhs", "op", "rhs"] + (["group"] if "group" in lav and "group" in ours else [])
    lav = lav.copy()
    lav["rhs"] = lav["rhs"].fillna("")
    m = lav.merge(ours, on=keys, suffixes=("_lav", ""), how="left", indicator=True)
    missing = m[m["_merge"] != "both"]
    assert missing.empty, f"rows lavaan has and we do not: {missing[keys].values.tolist()}"
    np.testing.assert_allclose(m["est"], m["est_lav"], atol=est_atol, err_msg="est")
    free = m["se_lav"].fillna(0) > 0
    np.testing.assert_allclose(m.loc[free, "se"], m.loc[free, "se_lav"], rtol=se_rtol, err_msg="se")
    if "std.all_lav" in m:
        ok = m["std.all_lav"].notna()
        np.testing.assert_allclose(
            m.loc[ok, "std.all"], m.loc[ok, "std.all_lav"], atol=std_atol, err_msg="std.all"
        )
    return m


def compare_fit(
    ours: dict, lav: dict, *, atol: float = 1e-3, rtol: float = 1e-5, required=()
) -> list[str]:
    """Every fit measure both have must agree; returns the keys compared.

    Each key of ``required`` must be in the fixture and in ``ours``."""
    absent = [key for key in required if key not in lav]
    if absent:
        raise AssertionError(f"the fixture has no fit measure {', '.join(absent)}")
    compared = []
    for key, value in lav.items():
        if key in NOT_COMPUTED or value is None:
            continue
        if key not in ours:
            if key in required:
                raise AssertionError(f"fit measure {key} is missing")
            continue
        got = ours[key]
        if isinstance(value, str) or not np.isfinite(value):
            continue
        tol = max(atol, rtol * abs(value))
        assert abs(got - value) <= tol, f"{key}: ours {got!r}, lavaan {value!r}"
        compared.append(key)
    missing = [k for k in required if k not in compared]
    assert not missing, f"not compared: {missing}"
    return compared


#: lavaan argument -> our keyword, for the arguments fit() takes under another name
_LAVAAN_ARGS = {
    "std.lv": "std_lv",
    "fixed.x": "fixed_x",
    "group.equal": "group_equal",
}


def fit_like_lavaan(ref: dict, **overrides):
    """Fit a fixture's model and data with the arguments lavaan was given.

    lavaan's argument names are translated (``std.lv`` -> ``std_lv`` ...);
    a fixture made by lavaan's ``growth()`` is fitted by our ``growth()``;
    ``missing = "ml"`` with ML becomes our FIML; ``overrides`` win.
    """
    from ckm_research import fit

    args = dict(ref.get("args") or {})
    kw: dict = {"estimator": args.pop("estimator", "ML")}
    for key, value in args.items():
        name = _LAVAAN_ARGS.get(key, key.replace(".", "_"))
        if isinstance(value, list) and key != "ordered" and name != "group_equal":
            value = value[0] if len(value) == 1 else value
        if name == "group_equal" and isinstance(value, str):
            value = [value]
        kw[name] = value
    if kw.get("ordered") is True:
        kw["ordered"] = "all"
    kw.update(overrides)
    if ref.get("fun") == "growth":
        from ckm_research import growth

        return growth(ref["model"], load_data(ref), **kw)
    return fit(ref["model"], load_data(ref), **kw)
