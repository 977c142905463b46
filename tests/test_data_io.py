"""Data import (ckm_research.data.io) and pre-fit checks (ckm_research.data.checks)."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from ckm_research.data.checks import check_model_data
from ckm_research.data.io import SUPPORTED_EXTENSIONS, read_data
from ckm_research.errors import CkmError, DataError, ModelSpecificationError


@pytest.fixture
def survey() -> pd.DataFrame:
    """A small Likert survey: 6 respondents, 3 items, one answer missing (-99)."""
    return pd.DataFrame(
        {
            "sat1": [5.0, 6.0, 7.0, 4.0, 5.0, 6.0],
            "sat2": [4.0, 6.0, 7.0, 3.0, -99.0, 5.0],
            "loy1": [2.0, 3.0, 5.0, 1.0, 4.0, 6.0],
        }
    )


def _fingerprint(path) -> tuple[str, float]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns


def _assert_survey(df: pd.DataFrame, survey: pd.DataFrame) -> None:
    assert list(df.columns) == ["sat1", "sat2", "loy1"]
    assert df.shape == (6, 3)
    assert np.isnan(df["sat2"].iloc[4])
    expected = survey.replace(-99.0, np.nan)
    np.testing.assert_allclose(df.to_numpy(dtype=float), expected.to_numpy(), equal_nan=True)


# --- formats ------------------------------------------------------------------


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_csv_delimiters_are_detected(tmp_path, survey, sep):
    path = tmp_path / "survey.csv"
    survey.to_csv(path, sep=sep, index=False)
    df = read_data(path, missing_values=[-99])
    _assert_survey(df, survey)
    assert df.attrs["delimiter"] == sep
    assert df.attrs["source"] == str(path)


def test_csv_semicolon_with_decimal_commas(tmp_path):
    path = tmp_path / "de.csv"
    path.write_text("x1;x2\n1,5;2\n2,25;3\n3;4\n", encoding="utf-8")
    df = read_data(path)
    assert df["x1"].tolist() == [1.5, 2.25, 3.0]
    assert pd.api.types.is_numeric_dtype(df["x2"])


def test_csv_with_byte_order_mark_and_spaces_in_header(tmp_path):
    path = tmp_path / "excel_utf8.csv"
    path.write_bytes("\ufeff sat1 ,sat2\n1,2\n3,4\n".encode())
    df = read_data(path)
    assert list(df.columns) == ["sat1", "sat2"]


def test_csv_in_another_encoding(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("满意1,满意2\n1,2\n3,4\n".encode("gb18030"))
    # detected (these bytes are GBK too, the subset tried first), and said so
    df = read_data(path)
    assert list(df.columns) == ["满意1", "满意2"]
    assert df.attrs["encoding_note"] == "GBK (detected)"
    with pytest.raises(DataError, match="not valid utf-8 text: .*byte offset 0 .line 1.*encoding"):
        read_data(path, encoding="utf-8")
    df = read_data(path, encoding="gb18030")
    assert list(df.columns) == ["满意1", "满意2"]


def test_missing_value_codes_as_text(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("x1,x2\n1,.\n2,3\n-99,4\n", encoding="utf-8")
    df = read_data(path, missing_values=[".", -99])
    assert df["x1"].isna().tolist() == [False, False, True]
    assert df["x2"].isna().tolist() == [True, False, False]
    assert pd.api.types.is_numeric_dtype(df["x2"])


def test_excel(tmp_path, survey):
    path = tmp_path / "survey.xlsx"
    with pd.ExcelWriter(path) as writer:
        survey.to_excel(writer, sheet_name="answers", index=False)
        pd.DataFrame({"note": ["x"]}).to_excel(writer, sheet_name="notes", index=False)
    _assert_survey(read_data(path, missing_values=-99), survey)
    assert read_data(path, sheet="notes").columns.tolist() == ["note"]
    assert read_data(path).attrs["sheet"] == "answers"


def test_excel_97_2003(tmp_path, survey):
    import xlwt  # a dev dependency

    path = tmp_path / "survey.xls"
    book = xlwt.Workbook()
    sheet = book.add_sheet("answers")
    for j, name in enumerate(survey.columns):
        sheet.write(0, j, name)
        for i, value in enumerate(survey[name]):
            sheet.write(i + 1, j, float(value))
    book.save(str(path))
    _assert_survey(read_data(path, missing_values=[-99]), survey)


def test_spss_keeps_value_labels_and_user_missing(tmp_path, survey):
    path = tmp_path / "survey.sav"
    pyreadstat.write_sav(
        survey,
        str(path),
        column_labels=["Satisfied overall", "Meets expectations", "Would recommend"],
        variable_value_labels={"sat1": {1.0: "strongly disagree", 7.0: "strongly agree"}},
        missing_ranges={"sat2": [-99.0]},
    )
    df = read_data(path)
    _assert_survey(df, survey)  # -99 is declared user-missing in the file itself
    assert df.attrs["value_labels"]["sat1"][7.0] == "strongly agree"
    assert df.attrs["column_labels"]["loy1"] == "Would recommend"
    assert df["sat1"].dtype == float  # codes, not labels


def test_stata(tmp_path, survey):
    path = tmp_path / "survey.dta"
    pyreadstat.write_dta(survey, str(path), column_labels=["a", "b", "c"])
    df = read_data(path, missing_values=[-99])
    _assert_survey(df, survey)
    assert df.attrs["column_labels"]["sat1"] == "a"


def test_dataframe_is_copied_not_modified(survey):
    before = survey.copy()
    df = read_data(survey, missing_values=[-99])
    assert np.isnan(df["sat2"].iloc[4])
    pd.testing.assert_frame_equal(survey, before)


@pytest.mark.parametrize("ext", [".csv", ".xlsx", ".sav", ".dta"])
def test_the_file_is_never_modified(tmp_path, survey, ext):
    path = tmp_path / f"survey{ext}"
    if ext == ".csv":
        survey.to_csv(path, index=False)
    elif ext == ".xlsx":
        survey.to_excel(path, index=False)
    elif ext == ".sav":
        pyreadstat.write_sav(survey, str(path))
    else:
        pyreadstat.write_dta(survey, str(path))
    before = _fingerprint(path)
    read_data(path, missing_values=[-99])
    assert _fingerprint(path) == before


# --- import errors --------------------------------------------------------------


def test_missing_file(tmp_path):
    (tmp_path / "Survey.CSV").write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(DataError, match="does not exist") as err:
        read_data(tmp_path / "survey.csv")
    assert "survey.csv" in str(err.value)
    assert "Did you mean: Survey.CSV" in str(err.value)


def test_unsupported_extension_lists_supported_ones(tmp_path):
    path = tmp_path / "survey.json"
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_data(path)
    message = str(err.value)
    assert "'.json'" in message
    for ext in (".csv", ".xlsx", ".xls", ".sav", ".dta"):
        assert ext in message
    assert set(SUPPORTED_EXTENSIONS) >= {".csv", ".xlsx", ".xls", ".sav", ".dta"}


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        read_data(path)
    path.write_text("\n\n  \n", encoding="utf-8")
    with pytest.raises(DataError, match="empty"):
        read_data(path)


def test_header_without_rows(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("sat1,sat2\n", encoding="utf-8")
    with pytest.raises(DataError, match="no data rows") as err:
        read_data(path)
    assert "sat1" in str(err.value)


def test_ragged_csv(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3,4\n5,6,7\n", encoding="utf-8")
    with pytest.raises(DataError, match="comma-separated.*line 4"):
        read_data(path)


def test_duplicate_column_names(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("id,sat1,sat2,sat1\n1,2,3,4\n2,3,4,5\n", encoding="utf-8")
    with pytest.raises(DataError, match="duplicate column names: 'sat1' in columns 2, 4"):
        read_data(path)


@pytest.mark.parametrize("ext", [".sav", ".dta", ".xlsx", ".xls"])
def test_damaged_binary_file(tmp_path, ext):
    path = tmp_path / f"broken{ext}"
    path.write_bytes(b"this is not a real file" * 10)
    with pytest.raises(DataError, match="Cannot read") as err:
        read_data(path)
    assert path.name in str(err.value)


def test_missing_worksheet(tmp_path, survey):
    path = tmp_path / "survey.xlsx"
    survey.to_excel(path, index=False, sheet_name="answers")
    with pytest.raises(DataError, match="no worksheet named 'data'.*answers"):
        read_data(path, sheet="data")


def test_folder_is_not_a_file(tmp_path):
    folder = tmp_path / "data.csv"
    folder.mkdir()
    with pytest.raises(DataError, match="is a folder"):
        read_data(folder)


def test_bad_argument_types():
    with pytest.raises(TypeError, match="'path_or_frame' parameter of read_data"):
        read_data(42)
    with pytest.raises(TypeError, match="'missing_values' parameter"):
        read_data(pd.DataFrame({"a": [1]}), missing_values=[None])


def test_data_errors_are_ckm_errors():
    assert issubclass(DataError, CkmError)


# --- checks before fitting -------------------------------------------------------


@pytest.fixture
def items() -> pd.DataFrame:
    rng = np.random.default_rng(2024)
    data = pd.DataFrame(
        rng.integers(1, 8, size=(40, 6)).astype(float),
        columns=["cip1", "cip2", "cip3", "tmi1", "tmi2", "tmi3"],
    )
    data["respondent"] = [f"r{i}" for i in range(40)]
    return data


def test_checks_return_float_columns_in_model_order(items):
    items["tmi2"] = items["tmi2"].astype(int)
    out = check_model_data(items, ["tmi2", "cip1", "tmi2"])
    assert list(out.columns) == ["tmi2", "cip1"]
    assert (out.dtypes == np.float64).all()
    pd.testing.assert_index_equal(out.index, items.index)


def test_text_numbers_and_missing_cells_are_accepted(items):
    items["cip1"] = items["cip1"].astype(object)
    items.loc[0, "cip1"] = " 4 "
    items.loc[1, "cip1"] = np.nan
    out = check_model_data(items, ["cip1", "cip2"])
    assert out["cip1"].iloc[0] == 4.0 and np.isnan(out["cip1"].iloc[1])


def test_absent_variables_are_all_listed_with_suggestions(items):
    with pytest.raises(ModelSpecificationError) as err:
        check_model_data(items, ["cip1", "cip4", "TMI1", "zzz_unknown"])
    message = str(err.value)
    assert "3 variables" in message
    for name in ("'cip4'", "'TMI1'", "'zzz_unknown'"):
        assert name in message
    assert "did you mean 'tmi1'" in message
    assert "'cip1'" in message.split("'cip4'")[1]  # a close match for cip4
    assert err.value.variables == ["cip4", "TMI1", "zzz_unknown"]


def test_non_numeric_cells_name_column_rows_and_values(items):
    items["cip2"] = items["cip2"].astype(object)
    items.loc[2, "cip2"] = "agree"
    items.loc[9, "cip2"] = "n/a"
    with pytest.raises(DataError) as err:
        check_model_data(items, ["cip1", "cip2"])
    message = str(err.value)
    assert "column 'cip2'" in message
    assert "row 3: 'agree'" in message and "row 10: 'n/a'" in message
    assert "missing-value code" in message


def test_decimal_commas_are_explained(items):
    items["cip3"] = items["cip3"].astype(object)
    items.loc[0, "cip3"] = "3,5"
    with pytest.raises(DataError, match="decimal comma"):
        check_model_data(items, ["cip3", "cip1"])


def test_many_bad_rows_are_summarised(items):
    items["tmi1"] = "x"
    with pytest.raises(DataError, match=r"column 'tmi1' has 40 non-numeric cells .* and 35 more"):
        check_model_data(items, ["tmi1", "cip1"])


def test_constant_column(items):
    items["tmi3"] = 4.0
    items.loc[5, "tmi3"] = np.nan
    with pytest.raises(DataError, match=r"column 'tmi3' has the same value \(4\) in all 39"):
        check_model_data(items, ["tmi1", "tmi2", "tmi3"])


def test_column_without_answers(items):
    items["tmi3"] = np.nan
    with pytest.raises(DataError, match="column 'tmi3' has no answers"):
        check_model_data(items, ["tmi1", "tmi3"])


def test_identical_columns(items):
    items["copy_of_cip1"] = items["cip1"]
    with pytest.raises(DataError, match="columns 'cip1' and 'copy_of_cip1' are identical"):
        check_model_data(items, ["cip1", "cip2", "copy_of_cip1"])


def test_linear_combination_of_columns_is_refused_naming_them(items):
    # lavaan: "sample covariance matrix is not positive-definite"; we fitted it silently
    items["score"] = items["cip1"] + 2 * items["cip2"] - items["tmi1"]
    with pytest.raises(DataError) as err:
        check_model_data(items, ["cip1", "cip2", "tmi1", "tmi2", "score"])
    msg = str(err.value)
    assert "columns 'cip1', 'cip2', 'tmi1' and 'score' are linearly dependent" in msg
    assert "tmi2" not in msg
    assert "not positive-definite" in msg


def test_linear_combination_with_missing_cells_is_refused(items):
    items["score"] = items["cip1"] + items["cip2"]
    items.loc[[2, 7], "cip1"] = np.nan
    with pytest.raises(DataError, match="'cip1', 'cip2' and 'score' are linearly dependent"):
        check_model_data(items, ["cip1", "cip2", "score", "tmi1"])


def test_nearly_but_not_exactly_dependent_columns_pass(items):
    rng = np.random.default_rng(3)
    items["score"] = items["cip1"] + items["cip2"] + rng.normal(0, 0.01, len(items))
    out = check_model_data(items, ["cip1", "cip2", "score"])
    assert list(out.columns) == ["cip1", "cip2", "score"]


def test_infinite_values(items):
    items.loc[[1, 4], "cip2"] = np.inf
    with pytest.raises(DataError, match="column 'cip2' has infinite values in data rows 2, 5"):
        check_model_data(items, ["cip1", "cip2"])


def test_dates_are_not_answers(items):
    items["when"] = pd.date_range("2024-01-01", periods=len(items))
    with pytest.raises(DataError, match="column 'when' holds dates"):
        check_model_data(items, ["cip1", "when"])


def test_too_few_rows_says_how_many_are_needed(items):
    few = items.head(5)
    with pytest.raises(DataError, match="5 rows .* needs at least 7"):
        check_model_data(few, ["cip1", "cip2", "cip3", "tmi1", "tmi2", "tmi3"])
    with pytest.raises(DataError, match="40 rows .* needs at least 100"):
        check_model_data(items, ["cip1", "cip2"], min_rows=100)
    empty_rows = items.copy()
    empty_rows.loc[:35, ["cip1", "cip2"]] = np.nan
    with pytest.raises(DataError, match=r"4 rows .*\(36 more with none\)"):
        check_model_data(empty_rows, ["cip1", "cip2"], min_rows=10)


def test_all_problems_in_one_message(items):
    items["tmi3"] = 1.0
    items["cip3"] = items["cip2"]
    items["tmi1"] = items["tmi1"].astype(object)
    items.loc[0, "tmi1"] = "?"
    with pytest.raises(DataError) as err:
        check_model_data(items, ["cip2", "cip3", "tmi1", "tmi3"])
    assert "3 problems" in str(err.value)
    assert len(err.value.problems) == 3


def test_duplicate_column_names_in_a_frame(items):
    doubled = pd.concat([items[["cip1"]], items[["cip1", "cip2"]]], axis=1)
    with pytest.raises(DataError, match="more than one column named 'cip1'"):
        check_model_data(doubled, ["cip1", "cip2"])


def test_check_argument_errors(items):
    with pytest.raises(TypeError, match="'data' parameter of check_model_data"):
        check_model_data(items.to_numpy(), ["cip1"])
    with pytest.raises(ValueError, match=r"'min_rows' parameter .* Got 0 instead"):
        check_model_data(items, ["cip1"], min_rows=0)
    with pytest.raises(ModelSpecificationError, match="no observed variables"):
        check_model_data(items, [])


def test_read_then_check_end_to_end(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("a;b;c\n1;2;x\n2;3;4\n3;5;-99\n", encoding="utf-8")
    data = read_data(path, missing_values=[-99])
    with pytest.raises(DataError, match=r"column 'c' has 1 non-numeric cell \(row 1: 'x'"):
        check_model_data(data, ["a", "b", "c"], min_rows=2)


def test_undeclared_missing_code_is_refused_with_the_fix():
    df = pd.DataFrame({"a": [1, 2, 3, 4, -99, 5], "b": [2, 3, 1, 5, 4, 4]})
    with pytest.raises(DataError) as err:
        check_model_data(df, ["a", "b"])
    msg = str(err.value)
    assert "'a'" in msg and "-99" in msg and "row" in msg and "5" in msg
    assert "--missing-values -99" in msg
    # declared, it is fine
    clean = check_model_data(read_data(df, missing_values=[-99]), ["a", "b"])
    assert clean["a"].isna().sum() == 1
