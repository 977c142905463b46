"""``ckm validity`` and ``ckm invariance``: JSON against the lavaan/semTools fixtures,
exit codes for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ckm_research.cli import main

REF = Path(__file__).parent / "reference"
TOL = 1e-3


def fixture(name):
    return json.loads((REF / "json" / f"measurement_{name}.json").read_text())


@pytest.fixture
def hs_files(tmp_path):
    ref = fixture("hs")
    model = tmp_path / "hs.lav"
    model.write_text(ref["model"] + "\n", encoding="utf-8")
    return ref, model, REF / ref["data_csv"]


@pytest.fixture
def cmv_files(tmp_path):
    ref = fixture("cmv")
    model = tmp_path / "traits.lav"
    model.write_text(ref["model"] + "\n", encoding="utf-8")
    return ref, model, REF / ref["data_csv"]


def test_validity_json_matches_semtools(hs_files, tmp_path, capsys):
    ref, model, csv = hs_files
    out = tmp_path / "v.json"
    assert main(["validity", str(model), str(csv), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    for key, expected in (("alpha", ref["alpha_psych"]), ("omega", ref["omega"]),
                          ("ave", ref["ave"])):
        assert set(doc[key]) == set(expected)
        for f, v in expected.items():
            assert doc[key][f] == pytest.approx(v, abs=TOL), (key, f)
    for a, row in ref["htmt2"].items():
        for b, v in row.items():
            assert doc["htmt"][a][b] == pytest.approx(v, abs=TOL)
    assert doc["fornell_larcker"]["visual"]["textual"] == pytest.approx(
        ref["cor_lv"]["visual"]["textual"], abs=TOL)
    assert len(doc["loadings"]) == 9
    assert doc["harman"]["first_component_share"] == pytest.approx(ref["harman"]["pc1_share"])
    assert "ulmc" in doc and "marker_cfa" not in doc
    text = capsys.readouterr().out
    assert "Reliability" in text and "Harman" in text


def test_validity_with_markers_and_original_htmt(cmv_files, tmp_path):
    ref, model, csv = cmv_files
    out = tmp_path / "v.json"
    code = main(["validity", str(model), str(csv), "--marker", "m1,m2,m3", "--htmt",
                 "original", "--json", str(out)])
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["htmt_method"] == "HTMT"
    lw = doc["marker_lindell_whitney"]
    assert lw["r_m"] == pytest.approx(ref["lindell_whitney"]["smallest"]["r_m"])
    assert doc["marker_cfa"]["detected"] is True
    assert doc["ulmc"]["detected"] is True


def test_validity_bad_input_exits_2(cmv_files, tmp_path, capsys):
    ref, model, csv = cmv_files
    assert main(["validity", str(model), str(csv), "--marker", "m1,zz", "--no-cmv"]) == 2
    assert "zz" in capsys.readouterr().err
    assert main(["validity", str(model), str(csv), "--estimator", "WLSMV"]) == 2
    assert main(["validity", str(csv), str(model)]) == 2  # swapped
    assert main(["validity", str(model), str(csv), "--json", str(csv)]) == 2


def test_invariance_by_group_column(hs_files, tmp_path, capsys):
    _, model, csv = hs_files
    ref = fixture("invariance_hs")
    out = tmp_path / "inv.json"
    assert main(["invariance", str(model), str(csv), "--group", "school", "--estimator",
                 "MLR", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    lrt = ref["invariance"]["MLR"]["lrt"]
    rows = {r["model"]: r for r in doc["table"]}
    assert rows["scalar"]["chisq.diff"] == pytest.approx(lrt["chisq_diff"][2], abs=TOL)
    assert rows["metric"]["cfi"] == pytest.approx(
        ref["invariance"]["MLR"]["fit"]["metric"]["cfi.robust"], abs=TOL)
    assert "paths" not in doc  # a CFA has no regressions
    assert "Change from the previous level" in capsys.readouterr().out


SPLIT_MODEL = """visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
textual ~ visual
speed ~ visual
"""


def test_invariance_by_split_with_path_comparisons(tmp_path):
    ref = fixture("invariance_hs")
    model = tmp_path / "sem.lav"
    model.write_text(SPLIT_MODEL, encoding="utf-8")
    out = tmp_path / "inv.json"
    code = main(["invariance", str(model), str(REF / ref["data_csv"]), "--split", "speed",
                 "--cut", "median", "--levels", "configural,metric", "--json", str(out)])
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["split"]["factor"] == "speed" and sum(doc["split"]["n"].values()) == 301
    # speed defines the groups, so it is left out of the group models: only textual ~ visual
    assert [(r["lhs"], r["rhs"]) for r in doc["paths"]["tests"]] == [("textual", "visual")]
    assert doc["paths"]["group_equal"][0] == "loadings"


def test_invariance_split_fits_the_pipelines_multigroup_model(tmp_path):
    """``ckm invariance --split`` and the pipeline's comparison (notebooks/05_moderation calls
    measurement.multigroup_comparison) fit the same models: the same numbers, which are
    those of the two-group fit of the model without the split factor (issue 10; the CLI
    used to keep the split factor in the group models)."""
    import ckm_research
    from ckm_research.data.io import read_data
    from ckm_research.measurement import compare_paths, multigroup_comparison
    from ckm_research.sem.modelsyntax import drop_factor

    ref = fixture("invariance_hs")
    csv = REF / ref["data_csv"]
    model = tmp_path / "sem.lav"
    model.write_text(SPLIT_MODEL, encoding="utf-8")
    out = tmp_path / "inv.json"
    levels = ["configural", "metric", "scalar"]
    assert main(["invariance", str(model), str(csv), "--split", "speed", "--estimator", "MLR",
                 "--levels", ",".join(levels), "--json", str(out)]) == 0
    cli = json.loads(out.read_text())

    data = read_data(csv)  # as the CLI reads it
    # as notebooks/05_moderation.py calls it
    mg = multigroup_comparison(SPLIT_MODEL, data, factor="speed", cut="median", levels=levels,
                               estimator="MLR", missing="listwise")
    pipe = mg.to_dict()
    assert cli["split"]["cut_value"] == pytest.approx(pipe["split"]["cut_value"], abs=1e-12)
    for a, b in zip(cli["table"], pipe["table"], strict=True):
        assert a["model"] == b["model"]
        for key in ("chisq", "df", "cfi", "rmsea", "chisq.diff"):
            assert a[key] == pytest.approx(b[key], abs=1e-9, nan_ok=True), (a["model"], key)
    assert cli["paths"]["group_equal"] == pipe["paths"]["group_equal"]
    assert len(cli["paths"]["tests"]) == len(pipe["paths"]["tests"]) == 1
    for a, b in zip(cli["paths"]["tests"], pipe["paths"]["tests"], strict=True):
        for key in ("est.low", "est.high", "wald", "pvalue"):
            assert a[key] == pytest.approx(b[key], abs=1e-9), key

    # ... and these are the numbers of the two-group model without speed
    frame = data.assign(speed_group=mg.groups)
    direct = ckm_research.fit(drop_factor(SPLIT_MODEL, "speed"), frame, estimator="MLR",
                              group="speed_group", group_equal=mg.group_equal)
    cp = compare_paths(direct)
    row = cli["paths"]["tests"][0]
    assert row["est.low"] == pytest.approx(float(cp["est.low"].iloc[0]), abs=1e-6)
    assert row["wald"] == pytest.approx(float(cp["wald"].iloc[0]), abs=1e-6)


def test_invariance_with_robust_fiml(tmp_path):
    ref = fixture("corprep")
    model = tmp_path / "corprep.lav"
    model.write_text(ref["model"] + "\n", encoding="utf-8")
    out = tmp_path / "inv.json"
    code = main(["invariance", str(model), str(REF / ref["data_csv"]), "--group",
                 "servicetype", "--estimator", "MLR", "--missing", "ml", "--json", str(out)])
    assert code == 0
    rows = json.loads(out.read_text())["table"]
    lrt = ref["invariance"]["lrt"]
    for k in (1, 2, 3):
        assert rows[k]["chisq.diff"] == pytest.approx(lrt["chisq_diff"][k], abs=TOL)


def test_invariance_bad_input_exits_2(hs_files, capsys):
    _, model, csv = hs_files
    assert main(["invariance", str(model), str(csv), "--group", "nope"]) == 2
    assert main(["invariance", str(model), str(csv), "--split", "nofactor"]) == 2
    assert "nofactor" in capsys.readouterr().err
    assert main(["invariance", str(model), str(csv), "--split", "speed", "--cut", "99"]) == 2
    assert main(["invariance", str(model), str(csv)]) == 2  # --group or --split required


def test_single_indicator_factor_is_flagged(tmp_path, capsys):
    # its reliability is blank: the flags must say why instead of "none"
    model = tmp_path / "single.lav"
    model.write_text("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7\n")
    out = tmp_path / "v.json"
    csv = REF / "data" / "HolzingerSwineford1939.csv"
    assert main(["validity", str(model), str(csv), "--no-cmv", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "speed has a single indicator (x7)" in text
    flags = json.loads(out.read_text())["flags"]
    single = [f for f in flags if f["check"] == "single_indicator"]
    assert [f["subject"] for f in single] == ["speed"]
    assert not [f for f in flags if f["check"] == "single_indicator" and f["subject"] != "speed"]
