"""Ordinal measurement invariance (Wu & Estabrook, 2016) against lavaan 0.6.14 and
semTools 0.5.6: the models of measEq.syntax(ID.fac = "std.lv", ID.cat =
"Wu.Estabrook.2016") fitted by WLSMV, and lavTestLRT (satorra.2000) between
successive levels.  Fixtures: tests/reference/R/parity/invar.R
(parity_invar_we_<level>.json)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ckm_research.errors import CkmError
from ckm_research.measurement import ordinal_invariance
from tests.reference_compare import compare_estimates, compare_fit, load, load_data

TOL = 1e-3
MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
CASES = {
    "configural": "configural",
    "thresholds": "thresholds",
    "loadings": "thresholds_loadings",
    "intercepts": "thresholds_loadings_intercepts",
}


@pytest.fixture(scope="module")
def inv():
    data = load_data(load("parity_invar_we_configural"))
    return ordinal_invariance(MODEL, data, "school")


@pytest.mark.parametrize("level", list(CASES))
def test_each_level_is_measeq_syntax_model(inv, level):
    ref = load(f"parity_invar_we_{CASES[level]}")
    res = inv.fits[level]
    keys = compare_fit(
        res.fit_measures, ref["fit"], required=("chisq", "df", "npar", "chisq.scaled", "cfi.scaled")
    )
    assert "rmsea.scaled" in keys
    compare_estimates(res.estimates, ref["estimates"], se_rtol=0.02)


@pytest.mark.parametrize("level", ["thresholds", "loadings", "intercepts"])
def test_difference_tests_are_lavtestlrt_satorra2000(inv, level):
    ref = load(f"parity_invar_we_{CASES[level]}")
    lrt = ref["lrt"]["fit"]
    row = inv.table.set_index("model").loc[level]
    assert row["chisq.diff"] == pytest.approx(lrt["Chisq diff"], abs=TOL)
    assert row["df.diff"] == lrt["Df diff"]
    assert row["pvalue.diff"] == pytest.approx(lrt["Pr(>Chisq)"], abs=TOL)
    assert "satorra.2000" in ref["lrt_method"]


def test_decisions_and_summary(inv):
    t = inv.table.set_index("model")
    for level in ("thresholds", "loadings"):
        assert t.loc[level, "status"] == "supported"
    # delta CFI (scaled) -.026: the intercepts do not hold
    assert t.loc["intercepts", "status"] == "not supported"
    text = inv.summary()
    assert "Satorra, 2000" in text and "cfi.scaled" in text
    json.dumps(inv.to_dict())


def test_hierarchical_with_chisq_criterion():
    data = load_data(load("parity_invar_we_configural"))
    # with the chi-square criterion and a strict alpha the loadings level fails ...
    # (p = .833 never fails; force a failure at thresholds with alpha = .5: p = .395)
    inv = ordinal_invariance(MODEL, data, "school", criterion="chisq", alpha=0.5)
    t = inv.table.set_index("model")
    assert t.loc["thresholds", "status"] == "not supported"
    assert (t.loc[["loadings", "intercepts"], "status"] == "not tested").all()
    assert "loadings" not in inv.fits


def test_refusals():
    data = load_data(load("parity_invar_we_configural"))
    d2 = data.assign(x1=(data["x1"] > 1).astype(int))
    with pytest.raises(CkmError, match="x1 has 2 categories"):
        ordinal_invariance(MODEL, d2, "school")
    with pytest.raises(CkmError, match="CFA"):
        ordinal_invariance(MODEL + "\nspeed ~ visual", data, "school")
    with pytest.raises(CkmError, match="'levels' parameter"):
        ordinal_invariance(MODEL, data, "school", levels=["loadings", "thresholds"])
    with pytest.raises(CkmError, match="nope"):
        ordinal_invariance(MODEL, data, "nope")


def test_measurement_invariance_points_to_ordinal_invariance():
    from ckm_research.measurement import measurement_invariance

    data = load_data(load("parity_invar_we_configural"))
    with pytest.raises(CkmError, match="ordinal_invariance"):
        measurement_invariance(MODEL, data, "school", estimator="WLSMV")


def test_cli_ordinal(tmp_path, capsys):
    from ckm_research.cli import main

    ref = load("parity_invar_we_configural")
    model = tmp_path / "hs.lav"
    model.write_text(MODEL + "\n", encoding="utf-8")
    csv = tmp_path / "d.csv"
    load_data(ref).to_csv(csv, index=False)
    out = tmp_path / "o.json"
    assert (
        main(
            [
                "invariance",
                str(model),
                str(csv),
                "--group",
                "school",
                "--ordinal",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    rows = pd.DataFrame(json.loads(out.read_text())["table"]).set_index("model")
    lrt = load("parity_invar_we_thresholds")["lrt"]["fit"]
    assert rows.loc["thresholds", "chisq.diff"] == pytest.approx(lrt["Chisq diff"], abs=TOL)
    assert "Satorra, 2000" in capsys.readouterr().out


def test_three_categories_thresholds_level_is_equivalent_not_an_error():
    """With three categories, Wu & Estabrook's threshold constraints give a model
    equivalent to the configural one (same df and chi-square): reported as not testable,
    not a crash of the difference test (which needs a restricted model)."""
    import pandas as pd

    from ckm_research.data.examples import load_dataset
    from ckm_research.measurement import ordinal_invariance

    items = [f"x{i}" for i in range(1, 7)]
    df = load_dataset("HolzingerSwineford1939")[["school", *items]]
    df[items] = df[items].apply(lambda s: pd.qcut(s, 3, labels=False) + 1)
    inv = ordinal_invariance("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6", df, "school")
    conf, thr = inv.fits["configural"], inv.fits["thresholds"]
    assert thr.fit_measures["df"] == conf.fit_measures["df"]
    assert abs(thr.fit_measures["chisq"] - conf.fit_measures["chisq"]) < 1e-4
    row = inv.table.set_index("model").loc["thresholds"]
    assert "equivalent" in row["decision"] and "not testable" in row["decision"]
    assert "loadings" in inv.fits  # the sequence goes on
