"""`ckm data import`: formats, round trips, validation messages, reverse coding,
personal data, screening, outputs and the raw file's checksum."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from ckm_research.cli import main
from ckm_research.data.formats import write_responses
from ckm_research.data.importer import import_responses, pseudonym, write_import
from ckm_research.data.screening import ScreeningRules, longstring, mahalanobis
from ckm_research.data.simulate import simulate
from ckm_research.errors import DataError
from ckm_research.instrument import load_instrument

N = 300


@pytest.fixture(scope="module")
def ckm():
    return load_instrument()


@pytest.fixture(scope="module")
def sim(ckm):
    data, latent = simulate(N, seed=42, missing=0.02, careless=0.05, instrument=ckm,
                            return_latent=True)
    return data, latent


@pytest.fixture(scope="module")
def files(sim, ckm, tmp_path_factory):
    """The simulated answers in every layout a survey tool exports."""
    data, _ = sim
    folder = tmp_path_factory.mktemp("raw")
    out = {
        "csv": write_responses(data, folder / "plain.csv", "csv", ckm),
        "excel": write_responses(data, folder / "plain.xlsx", "excel", ckm),
        "qualtrics": write_responses(data, folder / "qualtrics.csv", "qualtrics", ckm),
        "qualtrics-labels": write_responses(data, folder / "qualtrics_text.csv", "qualtrics",
                                            ckm, labels=True),
        "spss": write_responses(data, folder / "survey.sav", "spss", ckm),
        "stata": write_responses(data, folder / "survey.dta", "stata", ckm),
        "kobo": write_responses(data, folder / "kobo.csv", "kobo", ckm),
        "kobo-xlsx": write_responses(data, folder / "kobo.xlsx", "kobo", ckm),
        "kobo-labels": write_responses(data, folder / "kobo_labels.csv", "kobo", ckm,
                                       labels=True),
    }
    return out


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def imported(path, *args, **kwargs):
    """Import, checking that the raw file is byte-for-byte unchanged."""
    before, mtime = sha(path), Path(path).stat().st_mtime_ns
    result = import_responses(path, *args, **kwargs)
    assert sha(path) == before and Path(path).stat().st_mtime_ns == mtime
    assert result.manifest["raw_file"]["sha256"] == before
    return result


# --- formats and round trips ---------------------------------------------------------


EXPECTED_FORMAT = {"csv": "csv", "excel": "excel", "qualtrics": "qualtrics",
                   "qualtrics-labels": "qualtrics", "spss": "spss", "stata": "stata",
                   "kobo": "kobo", "kobo-xlsx": "kobo", "kobo-labels": "kobo"}


@pytest.fixture(scope="module")
def results(files, ckm):
    return {name: imported(path, ckm) for name, path in files.items()}


@pytest.mark.parametrize("name", list(EXPECTED_FORMAT))
def test_every_layout_gives_identical_processed_data(results, name):
    assert results[name].manifest["raw_file"]["format"] == EXPECTED_FORMAT[name]
    pd.testing.assert_frame_equal(results[name].data, results["csv"].data)


def test_processed_data_are_the_simulated_answers_reverse_coded(results, sim, ckm):
    data, _ = sim
    out = results["qualtrics"].data
    assert list(out["row"]) == list(range(1, N + 1))
    for info in ckm.items():
        raw = data[info.id].astype("Float64")
        expected = (8 - raw) if info.reverse else raw
        got = out[info.id].astype("Float64")
        pd.testing.assert_series_equal(got, expected, check_names=False)
    assert out["duration_sec"].tolist() == data["duration_sec"].tolist()
    assert out["respondent"].tolist() == [pseudonym(v) for v in data["respondent"]]
    assert not set(out["respondent"]) & set(data["respondent"])


def test_reverse_coding_makes_reverse_items_agree_with_their_factor(results, sim, ckm):
    _, latent = sim
    out = results["spss"].data
    attentive = (latent["careless"] == "").to_numpy()
    for item in ckm.reverse_keyed:
        factor = ckm.item(item).construct
        x = out.loc[attentive, item].astype(float)
        r = np.corrcoef(x[x.notna()], latent.loc[attentive, factor][x.notna().to_numpy()])[0, 1]
        assert r > 0.4, item


def test_spss_value_labels_are_kept_in_the_file(files, ckm):
    _, meta = pyreadstat.read_sav(str(files["spss"]), metadataonly=True)
    assert meta.variable_value_labels["cip1"][7.0] == "Strongly agree"
    assert meta.column_names_to_labels["cul3"] == ckm.item("cul3").text["en"]


# --- personal data ---------------------------------------------------------------------


def test_personal_data_never_reach_the_outputs(files, ckm, tmp_path):
    raw_path = files["qualtrics"]
    raw = pd.read_csv(raw_path, skiprows=[1, 2], dtype=str)
    result = imported(raw_path, ckm)
    paths = write_import(result, tmp_path / "clean.csv")
    removed = result.manifest["rules"]["personal_data"]["removed_columns"]
    assert set(removed) == {"IPAddress", "RecipientLastName", "RecipientFirstName",
                            "RecipientEmail", "ExternalReference", "LocationLatitude",
                            "LocationLongitude"}
    assert result.manifest["rules"]["personal_data"]["pseudonymised_id_column"] == "ResponseId"
    written = "".join(Path(p).read_text(encoding="utf-8") for p in paths.values())
    for col in [*removed, "ResponseId"]:
        for value in raw[col].dropna().unique()[:50]:
            assert value not in written, f"a value of {col} leaked into the outputs"
    for col in removed:
        assert col not in result.data.columns
    report = paths["report"].read_text(encoding="utf-8")
    assert "## Personal data" in report and "`RecipientEmail`" in report


def test_kobo_device_and_user_ids_are_removed(results):
    removed = results["kobo"].manifest["rules"]["personal_data"]["removed_columns"]
    assert {"deviceid", "_submitted_by"} <= set(removed)
    assert results["kobo"].manifest["rules"]["personal_data"]["pseudonymised_id_column"] == \
        "_uuid"
    assert results["kobo"].manifest["rules"]["column_mapping"]["cip1"] == "cip/cip1"


# --- screening -------------------------------------------------------------------------


def test_careless_respondents_are_flagged(results, sim):
    _, latent = sim
    scr = results["csv"].screening
    kinds = latent["careless"].to_numpy()
    straight = kinds == "straightline"
    # straight-liners have long runs; attentive respondents do not
    assert scr.loc[straight, "flag_longstring"].all()
    assert not scr.loc[kinds == "", "flag_longstring"].any()
    # random responders are far from the others
    assert scr.loc[kinds == "random", "mahalanobis_d2"].median() > \
        2 * scr.loc[kinds == "", "mahalanobis_d2"].median()
    # speed flags only the fast (careless) respondents
    assert not scr.loc[kinds == "", "flag_speed"].any()
    assert scr.loc[kinds != "", "flag_speed"].mean() > 0.3
    assert scr["flagged"].sum() >= (kinds != "").sum()


def test_attention_failures_counted(sim, ckm, tmp_path):
    data, _ = sim
    edited = data.head(40).copy()
    edited["att1"], edited["att2"] = 5, 1  # everybody passes ...
    edited.loc[3, "att1"] = 2  # ... except these
    edited.loc[3, "att2"] = 7
    edited.loc[5, "att2"] = 4
    edited.loc[6, "att1"] = pd.NA
    path = write_responses(edited, tmp_path / "att.csv", "csv", ckm)
    result = imported(path, ckm)
    scr = result.screening
    assert scr.loc[3, "attention_failures"] == 2
    assert scr.loc[5, "attention_failures"] == 1
    assert scr["attention_failures"].sum() == 3  # a missing answer is not a failure
    assert result.summary["attention_checks"]["att1"] == {"expected": [5], "failed": 1,
                                                          "unanswered": 1}
    assert scr.index[scr["flag_attention"]].tolist() == [3, 5]


def test_longstring_function():
    x = np.array([[4, 4, 4, 2, 2, 2, 2], [1, 2, np.nan, 2, 2, 1, 1], [5, 5, 5, 5, 5, 5, 5]],
                 dtype=float)
    assert longstring(x).tolist() == [4, 2, 7]


def test_mahalanobis_matches_the_textbook_formula_on_complete_data():
    rng = np.random.default_rng(0)
    x = rng.multivariate_normal([0, 1, 2], [[1, 0.5, 0.2], [0.5, 1, 0.3], [0.2, 0.3, 1]], 200)
    d2, df = mahalanobis(x)
    centred = x - x.mean(axis=0)
    inv = np.linalg.inv(np.cov(x, rowvar=False))
    np.testing.assert_allclose(d2, np.einsum("ij,jk,ik->i", centred, inv, centred))
    assert set(df) == {3}
    x[0, 1] = np.nan
    d2, df = mahalanobis(x)
    assert df[0] == 2 and np.isfinite(d2[0])


def test_drop_removes_flagged_rows_and_counts_them(files, ckm):
    result = imported(files["csv"], ckm, drop="longstring,speed")
    scr = result.screening
    hit = scr["flag_longstring"] | scr["flag_speed"]
    assert len(result.data) == N - hit.sum()
    assert not result.data["flag_longstring"].any()
    assert result.manifest["counts"]["rows_dropped"] == hit.sum()
    assert set(result.data["row"]) == set(np.flatnonzero(~hit.to_numpy()) + 1)
    everything = imported(files["csv"], ckm, drop="any")
    assert len(everything.data) == N - scr["flagged"].sum()
    with pytest.raises(ValueError, match="'drop' parameter.*'typo'"):
        import_responses(files["csv"], ckm, drop="typo")


def test_screening_rules_are_validated():
    with pytest.raises(ValueError, match="'longstring_min' parameter of ScreeningRules"):
        ScreeningRules(longstring_min=1)


# --- outputs: report, manifest ---------------------------------------------------------


def test_outputs_report_and_manifest(files, ckm, tmp_path):
    result = imported(files["kobo"], ckm)
    paths = write_import(result, tmp_path / "out" / "ckm.csv")
    assert paths["report"].name == "ckm.screening.md"
    manifest = json.loads(paths["manifest"].read_text(encoding="utf-8"))
    assert manifest["raw_file"]["sha256"] == sha(files["kobo"])
    assert manifest["instrument"] == {"id": "ckm", "version": ckm.version, "file": ckm.path,
                                      "sha256": ckm.sha256}
    assert manifest["rules"]["reverse_coded"] == ckm.reverse_keyed
    assert manifest["counts"]["rows_read"] == N
    assert manifest["outputs"]["data"]["sha256"] == sha(paths["data"])
    written = pd.read_csv(paths["data"])
    assert list(written.columns[:3]) == ["respondent", "row", "duration_sec"]
    assert written.shape[0] == N
    report = paths["report"].read_text(encoding="utf-8")
    for heading in ("Missing answers", "Straight-lining", "Attention checks",
                    "Multivariate outliers", "Completion time"):
        assert f"## {heading}" in report
    json_report = tmp_path / "r.json"
    write_import(result, tmp_path / "ckm2.sav", json_report)
    loaded = json.loads(json_report.read_text(encoding="utf-8"))
    assert loaded["screening"]["flag_counts"] == result.summary["flag_counts"]
    back, _ = pyreadstat.read_sav(str(tmp_path / "ckm2.sav"))
    assert back.shape[0] == N


def test_raw_file_is_never_overwritten(files, ckm, tmp_path):
    path = tmp_path / "raw.csv"
    path.write_bytes(Path(files["csv"]).read_bytes())
    result = imported(path, ckm)
    before = sha(path)
    with pytest.raises(DataError, match="never overwritten"):
        write_import(result, path)
    assert sha(path) == before


# --- bad input: each gets its message ----------------------------------------------------


@pytest.fixture
def small(sim):
    data, _ = sim
    return data.head(30).copy()


def _bad(small, ckm, tmp_path, fmt="csv", name="bad.csv", **kwargs) -> str:
    path = write_responses(small, tmp_path / name, fmt, ckm)
    before = sha(path)
    with pytest.raises(DataError) as info:
        import_responses(path, ckm, **kwargs)
    assert sha(path) == before
    return str(info.value)


def test_out_of_range_code_names_column_and_row(small, ckm, tmp_path):
    small["cip3"] = small["cip3"].astype(object)
    small.loc[16, "cip3"] = 9
    message = _bad(small, ckm, tmp_path)
    assert "column 'cip3'" in message and "row 17: 9" in message and "bad.csv" in message
    assert "1, 2, 3, 4, 5, 6, 7" in message


def test_qualtrics_rows_count_from_the_first_respondent(small, ckm, tmp_path):
    small["sat2"] = small["sat2"].astype(object)
    small.loc[4, "sat2"] = 0
    message = _bad(small, ckm, tmp_path, fmt="qualtrics", name="q.csv")
    assert "column 'sat2'" in message and "row 5: " in message
    assert "file line = row + 3" in message


def test_unknown_label_and_fraction(small, ckm, tmp_path):
    small["ins4"] = small["ins4"].astype(object)
    small.loc[0, "ins4"] = "Maybe"
    small["loy2"] = small["loy2"].astype(object)
    small.loc[9, "loy2"] = 4.5
    message = _bad(small, ckm, tmp_path)
    assert "column 'ins4'" in message and "row 1: 'Maybe'" in message
    assert "column 'loy2'" in message and "row 10:" in message and "4.5" in message


def test_whole_number_out_of_range(small, ckm, tmp_path):
    small.loc[2, "tenure"] = 99
    message = _bad(small, ckm, tmp_path)
    assert "column 'tenure'" in message and "row 3: 99" in message and "0-60" in message


def test_missing_item_column_suggests_a_match(small, ckm, tmp_path):
    small = small.rename(columns={"ckm4": "ckm_4"}).drop(columns=["loy1"])
    message = _bad(small, ckm, tmp_path)
    assert "ckm4" in message and "loy1" in message and "'ckm_4'" in message


def test_two_columns_for_one_item(small, ckm, tmp_path):
    small["grp/cip2"] = small["cip2"]
    message = _bad(small, ckm, tmp_path)
    assert "item 'cip2'" in message and "'grp/cip2'" in message


def test_spss_with_reversed_value_labels(small, ckm, tmp_path):
    path = tmp_path / "reversed.sav"
    frame = small.drop(columns=["respondent"]).astype("float64")
    labels = {"cip1": {float(k): ckm.scales["agree7"].choices[7 - k].label["en"]
                       for k in range(1, 8)}}
    pyreadstat.write_sav(frame, str(path), variable_value_labels=labels)
    with pytest.raises(DataError) as info:
        import_responses(path, ckm)
    message = str(info.value)
    assert "column 'cip1'" in message and "Strongly agree" in message and "recode" in message


def test_missing_value_codes(small, ckm, tmp_path):
    small["rts2"] = small["rts2"].astype(object)
    small.loc[7, "rts2"] = -99
    _bad(small, ckm, tmp_path)  # undeclared: refused
    path = tmp_path / "bad.csv"
    result = imported(path, ckm, missing_values=[-99])
    assert pd.isna(result.data.loc[7, "rts2"])
    assert result.manifest["rules"]["missing_values"] == [-99.0]


def test_wrong_instrument(small, tmp_path, ckm):
    path = write_responses(small[["respondent", "cip1", "cip2"]], tmp_path / "few.csv", "csv",
                           ckm)
    with pytest.raises(DataError, match=r"no column for \d+ item\(s\)"):
        import_responses(path, ckm)


def test_cli_import_and_errors(files, small, ckm, tmp_path, capsys):
    out = tmp_path / "clean.csv"
    before = sha(files["qualtrics"])
    assert main(["data", "import", str(files["qualtrics"]), "--output", str(out),
                 "--report", str(tmp_path / "screen.md")]) == 0
    err = capsys.readouterr().err
    assert "qualtrics layout" in err and "Flagged" in err
    assert (tmp_path / "screen.md").is_file() and (tmp_path / "clean.manifest.json").is_file()
    assert sha(files["qualtrics"]) == before
    small["cip3"] = small["cip3"].astype(object)
    small.loc[16, "cip3"] = 9
    bad = write_responses(small, tmp_path / "bad.csv", "csv", ckm)
    code = main(["data", "import", str(bad), "--output", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "column 'cip3'" in err and "row 17" in err and "Traceback" not in err
    assert main(["data", "import", str(bad), "--output", str(bad)]) == 2
    assert "never overwritten" in capsys.readouterr().err
    assert main(["data", "import", str(files["csv"]), "--output", str(tmp_path / "y.csv"),
                 "--drop", "lazy"]) == 2
    assert "unknown criterion 'lazy'" in capsys.readouterr().err
    code = main(["data", "import", str(files["csv"]), "--output", str(tmp_path / "z.csv"),
                 "--missing-values", "-99", "--drop", "any", "--longstring-min", "10"])
    assert code == 0


def test_qualtrics_seen_but_unanswered_is_missing(small, ckm, tmp_path):
    small["ost2"] = small["ost2"].astype(object)
    small.loc[11, "ost2"] = -99
    path = write_responses(small, tmp_path / "q99.csv", "qualtrics", ckm)
    result = imported(path, ckm)
    assert pd.isna(result.data.loc[11, "ost2"])
    assert any("-99" in rule for rule in result.manifest["rules"]["applied"])


def test_chinese_answer_labels_are_converted(small, ckm, tmp_path):
    labels = {c.value: c.label["zh"] for c in ckm.scales["agree7"].choices}
    text = small.copy()
    for item in ("cip1", "cul3"):
        text[item] = text[item].map(lambda v: labels[int(v)] if pd.notna(v) else v)
    plain = imported(write_responses(small, tmp_path / "codes.csv", "csv", ckm), ckm)
    zh = imported(write_responses(text, tmp_path / "zh.csv", "csv", ckm), ckm)
    pd.testing.assert_frame_equal(zh.data, plain.data)
    assert "answer labels converted" in " ".join(zh.manifest["rules"]["applied"])
