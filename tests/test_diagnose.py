"""Every failure a correct diagnosis: name clashes, Unicode names, bad starting values,
badly scaled variables, non-identification, and the warnings lavaan gives.

Fixtures: tests/reference/R/parity/diagnose.R (``Rscript tests/reference/make_reference.R
parity:diagnose_...``), written to tests/reference/json/parity_diagnose_*.json; the case
``diagnose_zh_names`` also stores lavaan 0.6.14's own messages (``lavaan_messages``) for the
mistakes that fit() refuses or warns about.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from ckm_research import fit
from ckm_research.cli import main
from ckm_research.errors import (
    ConvergenceError,
    DataError,
    IdentificationError,
    ModelSpecificationError,
    ModelSyntaxError,
)
from tests.reference_compare import REF, compare_estimates, compare_fit, fit_like_lavaan, load

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
ML_REQUIRED = ["chisq", "df", "cfi", "tli", "rmsea", "srmr", "aic", "bic"]


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return pd.read_csv(REF / "data" / "HolzingerSwineford1939.csv")


@pytest.fixture(scope="module")
def lavaan_says() -> dict:
    return load("parity_diagnose_zh_names")["lavaan_messages"]


def _quiet_fit(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit(*args, **kwargs)


# ---- 1. name clashes ------------------------------------------------------------------
def test_factor_named_like_a_data_column_is_refused(hs, lavaan_says):
    assert "collide with observed" in lavaan_says["name_clash"]["error"]
    with pytest.raises(ModelSpecificationError, match="collide with observed") as err:
        fit("x1 =~ x2 + x3 + x4", hs)  # the old code fitted it, x1 taken as the factor
    assert "'x1'" in str(err.value) and "rename the factor" in str(err.value)


def test_factor_measured_by_itself_is_refused(hs, lavaan_says):
    assert "can not be measured by itself" in lavaan_says["self_measured"]["error"]
    for model in ("x4 =~ x4 + x5 + x6", HS_MODEL.replace("speed =~ x7", "x7 =~ x7")):
        with pytest.raises(ModelSpecificationError, match="measured by itself") as err:
            fit(model, hs)
        assert "rename the factor" in str(err.value)
    ecsi = pd.read_csv(REF / "data" / "ecsi_mobi.csv")
    with pytest.raises(ModelSpecificationError, match="'CUSCO' is measured by itself"):
        fit("CUSCO =~ CUSCO\nCUSA =~ CUSA1 + CUSA2 + CUSA3\nCUSCO ~ CUSA", ecsi)


# ---- 2. Unicode names ------------------------------------------------------------------
def test_chinese_names_fit_as_lavaan_and_as_ascii_names(hs):
    ref = load("parity_diagnose_zh_names")
    ours = fit_like_lavaan(ref)
    compare_estimates(ours.estimates, ref["estimates"], se_rtol=0.01)
    compare_fit(ours.fit_measures, ref["fit"], required=ML_REQUIRED)
    ascii_fit = fit(HS_MODEL, hs)
    np.testing.assert_allclose(ours.estimates["est"], ascii_fit.estimates["est"], atol=1e-8)
    np.testing.assert_allclose(ours.estimates["se"], ascii_fit.estimates["se"], atol=1e-8)
    assert ours.fit_measures["chisq"] == pytest.approx(ascii_fit.fit_measures["chisq"])
    assert "视觉" in set(ours.estimates["lhs"])


def test_unicode_labels_and_defined_parameters(hs):
    data = hs.rename(columns={"x1": "满意1", "x2": "满意2", "x3": "满意3"})
    res = fit("满意度 =~ 满意1 + 载荷*满意2 + 满意3\n两倍 := 2*载荷", data)
    row = res.estimates[res.estimates["lhs"] == "两倍"].iloc[0]
    loading = res.estimates[res.estimates["label"] == "载荷"]["est"].iloc[0]
    assert row["est"] == pytest.approx(2 * loading)


def test_cli_reads_a_gb18030_csv_with_encoding(tmp_path, capsys):
    ref = load("parity_diagnose_zh_names")
    data = pd.read_csv(REF / ref["data_csv"])
    csv = tmp_path / "survey.csv"
    csv.write_bytes(data.to_csv(index=False).encode("gb18030"))
    model = tmp_path / "model.lav"
    model.write_text(ref["model"], encoding="utf-8")
    assert main(["fit", str(model), str(csv), "--encoding", "utf-8"]) == 2
    assert "--encoding gb18030" in capsys.readouterr().err
    assert main(["fit", str(model), str(csv)]) == 0  # detected (ckm_research.data.encoding)
    assert "GBK (detected)" in capsys.readouterr().err
    assert main(["fit", str(model), str(csv), "--encoding", "gb18030"]) == 0
    out = capsys.readouterr().out
    assert "视觉" in out and "ended normally" in out


# ---- 3. bad starting values, bad scales, non-identification ------------------------------
@pytest.mark.parametrize("case", ["diagnose_start_x2", "diagnose_start_lv_tiny"])
def test_bad_start_values_reach_lavaans_solution(case):
    """The old code called start(1e6)*x2 'not identified' and did not converge from
    visual ~~ start(1e-12)*visual; lavaan converges from both to the usual solution."""
    ref = load(f"parity_{case}")
    ours = _quiet_fit(ref["model"], pd.read_csv(REF / ref["data_csv"]))
    compare_estimates(ours.estimates, ref["estimates"], se_rtol=0.01)
    compare_fit(ours.fit_measures, ref["fit"], required=ML_REQUIRED)


def test_failed_start_values_are_retried_from_the_defaults():
    ref = load("parity_diagnose_start_lv_tiny")
    ours = _quiet_fit(ref["model"], pd.read_csv(REF / ref["data_csv"]))
    note = [w for w in ours.warnings if "starting values given in the model" in w]
    assert note and "start(1e-12) on visual ~~ visual" in note[0]


def test_an_item_on_another_scale_fits_with_lavaans_warning():
    """x1 * 100: lavaan warns and fits; the old code called the model 'not identified'."""
    ref = load("parity_diagnose_x1_100")
    assert any("a factor 1000 times larger than others" in w for w in ref["warnings"])
    ours = fit_like_lavaan(ref)
    m = compare_estimates(ours.estimates, ref["estimates"], se_rtol=0.01)
    # the loadings of x2, x3 are about 0.006 now: compare them relative to their size
    np.testing.assert_allclose(m["est"], m["est_lav"], rtol=1e-4, atol=1e-9)
    compare_fit(ours.fit_measures, ref["fit"], required=ML_REQUIRED)
    scale = [w for w in ours.warnings if "a factor 1000 times larger than others" in w]
    assert scale and "'x1'" in scale[0] and "divide it by 100" in scale[0]


def test_an_item_on_a_1e150_scale_is_diagnosed_as_scaling(hs, lavaan_says):
    """lavaan warns about the variances, then cannot compute standard errors; the old
    code said 'not identified'."""
    said = lavaan_says["scale_1e150"]["warnings"]
    assert any("a factor 1000 times larger than others" in w for w in said)
    data = hs.copy()
    data["x1"] = data["x1"] * 1e150
    with pytest.raises(DataError, match="badly scaled") as err:
        _quiet_fit(HS_MODEL, data)
    msg = str(err.value)
    assert "Rescale 'x1' (e.g. divide it by 1e+150)" in msg
    assert "not evidence that the model is not identified" in msg


def test_a_1e150_cell_is_named(hs):
    data = hs.copy()
    data.loc[5, "x1"] = 1e150
    with pytest.raises(DataError, match="badly scaled") as err:
        _quiet_fit(HS_MODEL, data)
    assert "one cell, 1e+150 in data row 6" in str(err.value)


def test_a_1e300_cell_has_no_finite_variance(hs, lavaan_says):
    assert "no finite variance" in lavaan_says["cell_1e300"]["error"]
    data = hs.copy()
    data.loc[5, "x1"] = 1e300  # the old code blamed the starting values
    with pytest.raises(DataError, match="'x1' has no finite variance") as err:
        _quiet_fit(HS_MODEL, data)
    assert "(row 6)" in str(err.value)


def _noise(n=300, seed=1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(n, 4)), columns=["a1", "a2", "b1", "b2"])


def test_two_indicator_factors_on_noise_are_empirically_underidentified():
    """Two uncorrelated two-indicator factors (lavaan: "the optimizer warns that a
    solution has NOT been found")."""
    with pytest.raises((ConvergenceError, IdentificationError)) as err:
        _quiet_fit("f1 =~ a1 + a2\nf2 =~ b1 + b2", _noise())
    msg = str(err.value)
    assert "empirically under-identified" in msg and "'f1' (a1, a2" in msg
    assert "badly scaled" not in msg and "starting values" not in msg


def test_true_nonidentification_keeps_its_diagnosis(hs):
    """A two-indicator factor fixed orthogonal to the other is not identified,
    whatever the data."""
    model = "f1 =~ x1 + x2 + x3\nf2 =~ x4 + x5\nf1 ~~ 0*f2"
    with pytest.raises(IdentificationError, match="not identified") as err:
        _quiet_fit(model, hs)
    assert "badly scaled" not in str(err.value)


def test_true_nonidentification_with_start_values_is_not_blamed_on_them(hs):
    model = "f1 =~ x1 + x2 + x3\nf2 =~ x4 + start(0.9)*x5\nf1 ~~ 0*f2"
    with pytest.raises(IdentificationError, match="not identified") as err:
        _quiet_fit(model, hs)
    assert "also when fitted again from the default starting values" in str(err.value)


# ---- 4. warnings lavaan gives ------------------------------------------------------------
def test_wlsmv_with_more_than_12_categories_warns_as_lavaan():
    ref = load("parity_diagnose_wlsmv_15")
    assert any("more than 12 levels" in w for w in ref["warnings"])
    ours = fit_like_lavaan(ref)
    compare_estimates(ours.estimates, ref["estimates"], se_rtol=0.02)
    compare_fit(ours.fit_measures, ref["fit"], required=["chisq", "df", "chisq.scaled"])
    many = [w for w in ours.warnings if "more than 12 levels" in w]
    assert many and "x1 (15)" in many[0] and "x2 (14)" in many[0]


def test_two_labels_on_one_parameter_are_refused(hs, lavaan_says):
    assert "wrong number of arguments in modifier" in lavaan_says["two_labels"]["error"]
    with pytest.raises(ModelSyntaxError, match="two labels"):
        fit("visual =~ x1 + a*b*x2 + x3", hs)  # the old code kept b silently
    # lavaan keeps the first label of a repeated term silently; the old code the last
    kept = lavaan_says["repeated_labels"]["partable"][0]["label"]
    assert kept == "a"
    with pytest.raises(ModelSpecificationError, match="two labels, 'a' and 'b'"):
        fit("visual =~ x1 + a*x2 + b*x2 + x3", hs)


def test_two_numbers_on_one_parameter_are_refused(hs, lavaan_says):
    product = lavaan_says["two_numbers"]["partable"][0]["ustart"]  # lavaan: 0.5 * 0.7
    with pytest.raises(ModelSyntaxError, match=f"fixing it at {product:g}"):
        fit("visual =~ x1 + 0.5*0.7*x2 + x3", hs)  # the old code fixed it at 0.7


def test_label_chained_with_a_number_notes_lavaans_reading(hs, lavaan_says):
    lav = lavaan_says["label_number"]["partable"][0]
    assert lav["free"] > 0 and lav["label"] == "a"  # lavaan drops the 0.5
    res = fit("visual =~ x1 + a*0.5*x2 + x3", hs)
    row = res.estimates[(res.estimates["rhs"] == "x2") & (res.estimates["op"] == "=~")]
    assert row["est"].iloc[0] == 0.5 and row["label"].iloc[0] == "a"
    assert any("keeps only the label" in w for w in res.warnings)


def test_single_label_across_groups_warns_as_lavaan(lavaan_says):
    ref = load("parity_diagnose_single_label_groups")
    assert any("single label per parameter" in w for w in ref["warnings"])
    ours = fit_like_lavaan(ref)
    compare_estimates(ours.estimates, ref["estimates"], se_rtol=0.01)
    compare_fit(ours.fit_measures, ref["fit"], required=ML_REQUIRED)
    note = [w for w in ours.warnings if "single label per parameter" in w]
    assert note and "visual =~ x2" in note[0]
    # c(a, a) says so explicitly: lavaan is silent, and so are we
    assert lavaan_says["c_a_a_groups"]["warnings"] == []
    hs = pd.read_csv(REF / ref["data_csv"])
    res = fit(HS_MODEL.replace("x2", "c(a, a)*x2"), hs, group="school")
    assert not any("single label" in w for w in res.warnings)


def test_latent_interaction_with_chinese_names_equals_ascii(hs):
    ascii_model = HS_MODEL + "\nspeed ~ visual + textual + visual:textual"
    zh = {"visual": "视觉", "textual": "语文", "speed": "速度"}
    zh_model = ascii_model
    for en, cn in zh.items():
        zh_model = zh_model.replace(en, cn)
    ours = _quiet_fit(zh_model, hs)
    ref = _quiet_fit(ascii_model, hs)
    row = ours.estimates[(ours.estimates["op"] == "~") & (ours.estimates["rhs"] == "视觉:语文")]
    ref_row = ref.estimates[
        (ref.estimates["op"] == "~") & (ref.estimates["rhs"] == "visual:textual")
    ]
    assert row["est"].iloc[0] == pytest.approx(ref_row["est"].iloc[0], abs=1e-8)


def test_a_stalled_optimiser_is_not_reported_as_converged(hs, monkeypatch):
    """With a step truncated where the (unscaled) information looks singular, scoring
    stalls at chi-square 107.1 for x1 * 100 (lavaan: 85.3); that point must be refused
    (the Newton decrement is not zero there), never returned as a solution."""
    import ckm_research.sem.ml as ml

    def truncated_step(H, grad):
        if np.linalg.cond(H) < 1e12:
            return -np.linalg.solve(H, grad)
        return -np.linalg.lstsq(H, grad, rcond=1e-10)[0]

    monkeypatch.setattr(ml, "_scoring_step", truncated_step)
    # plain scoring throughout: the structured BFGS correction of fit_ml's later
    # iterations does not call _scoring_step and walks out of the stall
    monkeypatch.setattr(ml, "_PLAIN_SCORING", 10**9)
    data = hs.copy()
    data["x1"] = data["x1"] * 100
    with pytest.raises(DataError, match="stalled at a point that is not a minimum"):
        _quiet_fit(HS_MODEL, data)
