"""Read survey data from the files researchers have: CSV, Excel, SPSS, Stata.

:func:`read_data` turns a file (or a ``DataFrame``) into a ``pandas.DataFrame``
with one row per respondent and one column per variable. It only ever reads the
file. Problems are raised as :class:`~ckm_research.errors.DataError` with a
message that names the file and says what to do, never as a parser traceback.

SPSS and Stata files are read with pyreadstat (Fajardo 2018-, a wrapper of
ReadStat): answers keep their numeric codes, user-defined missing values become
``NaN``, and the value labels (``1 = "strongly disagree"`` ...) and variable
labels are kept in ``df.attrs``.
"""

from __future__ import annotations

import csv
import io
import math
import os
import zipfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ckm_research.errors import DataError
from ckm_research.textfile import decode

__all__ = ["read_data", "SUPPORTED_EXTENSIONS"]

#: File extensions :func:`read_data` can read, by format.
SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".csv": "CSV (comma, semicolon or tab separated)",
    ".tsv": "CSV (comma, semicolon or tab separated)",
    ".txt": "CSV (comma, semicolon or tab separated)",
    ".xlsx": "Excel workbook",
    ".xlsm": "Excel workbook",
    ".xls": "Excel 97-2003 workbook",
    ".sav": "SPSS data file",
    ".zsav": "SPSS compressed data file",
    ".por": "SPSS portable file",
    ".dta": "Stata data file",
}

_DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_SNIFF_LINES = 50


def read_data(
    path_or_frame: str | os.PathLike | pd.DataFrame,
    *,
    missing_values: Iterable[float | int | str] | float | int | str | None = None,
    sheet: str | int = 0,
    encoding: str = "utf-8",
) -> pd.DataFrame:
    """Read survey data from a file, or take a ``DataFrame`` as it is.

    Parameters
    ----------
    path_or_frame : str, path-like or pandas.DataFrame
        The data file, or data already in memory (then a copy is returned).
        The format follows the extension (see ``SUPPORTED_EXTENSIONS``):

        - ``.csv``, ``.tsv``, ``.txt``: delimited text; the delimiter (comma,
          semicolon or tab) is detected from the first lines, and with a
          semicolon or tab, a decimal comma (``3,5``) is recognised.
        - ``.xlsx``, ``.xlsm``, ``.xls``: Excel; first row = column names.
        - ``.sav``, ``.zsav``, ``.por``: SPSS; ``.dta``: Stata.
    missing_values : number, str or list of them, optional
        Codes that mean "no answer" (for example ``[-99, -999]`` or ``"."``);
        those cells become ``NaN``, in every column. Empty cells are always
        missing; so are SPSS user-defined and Stata missing values.
    sheet : str or int, default 0
        For Excel files, the worksheet to read (name, or 0-based position).
    encoding : str, default "utf-8"
        Text encoding of a CSV file (a UTF-8 byte-order mark is skipped). Files
        saved by a Chinese-language Excel as plain "CSV" are often ``"gb18030"``;
        Western-European ones ``"cp1252"``.

    Returns
    -------
    pandas.DataFrame
        One row per respondent. Column names are strings with surrounding
        spaces removed. ``df.attrs`` holds ``"source"`` (the file path, when
        read from a file) and, for SPSS and Stata files, ``"value_labels"``
        (``{column: {code: label}}``) and ``"column_labels"``
        (``{column: label}``); for Excel, ``"sheet"``.

    Raises
    ------
    DataError
        The file does not exist, is empty, has an extension that is not
        supported, or cannot be parsed; the message says which and what to do.

    Notes
    -----
    The file is opened read-only and never changed. Values are not otherwise
    recoded: use :func:`ckm_research.data.checks.check_model_data` to check
    that the columns a model needs are numeric.

    Examples
    --------
    >>> import pandas as pd
    >>> from ckm_research.data.io import read_data
    >>> df = read_data(pd.DataFrame({"sat1": [5, -99, 7]}), missing_values=[-99])
    >>> df["sat1"].tolist()
    [5.0, nan, 7.0]

    In R: ``read.csv(path, na.strings = "-99")`` or ``haven::read_sav(path)``.
    """
    codes = _missing_codes(missing_values)
    if isinstance(path_or_frame, pd.DataFrame):
        df = path_or_frame.copy()
        df.attrs = dict(path_or_frame.attrs)
        return _apply_missing(_clean_column_names(df), codes)
    if not isinstance(path_or_frame, (str, os.PathLike)):
        raise TypeError(
            "The 'path_or_frame' parameter of read_data must be a file path or a "
            f"pandas DataFrame. Got {type(path_or_frame).__name__} instead."
        )

    path = Path(path_or_frame)
    _check_file(path)
    ext = path.suffix.lower()
    if ext in (".csv", ".tsv", ".txt"):
        df, attrs = _read_csv(path, codes, encoding)
    elif ext in (".xlsx", ".xlsm", ".xls"):
        df, attrs = _read_excel(path, sheet)
    else:  # .sav, .zsav, .por, .dta (_check_file rejected any other extension)
        df, attrs = _read_stats_file(path, ext)

    df = _clean_column_names(df)
    if df.shape[1] == 0:
        raise DataError(f"The data file {path} has no columns: it looks empty.")
    if df.shape[0] == 0:
        raise DataError(
            f"The data file {path} has column names ({_preview(df.columns)}) but no data "
            "rows. Check that you exported the responses and not only the header."
        )
    df.attrs.update(attrs)
    df.attrs["source"] = str(path)
    return _apply_missing(df, codes)


# ---------------------------------------------------------------------------
# helpers


def _supported_list() -> str:
    by_format: dict[str, list[str]] = {}
    for ext, fmt in SUPPORTED_EXTENSIONS.items():
        by_format.setdefault(fmt, []).append(ext)
    return "; ".join(f"{fmt} ({', '.join(exts)})" for fmt, exts in by_format.items())


def _check_file(path: Path) -> None:
    if not path.exists():
        hint = ""
        if path.parent.is_dir():
            close = [p.name for p in path.parent.iterdir() if p.stem.lower() == path.stem.lower()]
            if close:
                hint = f" Did you mean: {', '.join(sorted(close))}?"
        raise DataError(
            f"The data file {path} does not exist (looked in {path.resolve().parent}).{hint}"
        )
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a data file.")
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise DataError(
            f"Cannot read {path}: the extension {ext or '(none)'!r} is not a supported data "
            f"format. Supported: {_supported_list()}. Export the data to one of these, "
            "for example CSV."
        )
    if not os.access(path, os.R_OK):
        raise DataError(f"Cannot read {path}: permission denied.")
    if path.stat().st_size == 0:
        raise DataError(f"The data file {path} is empty (0 bytes).")


def _missing_codes(values) -> list:
    if values is None:
        return []
    if isinstance(values, (str, bytes, int, float, np.number)):
        values = [values]
    codes = list(values)
    for code in codes:
        if not isinstance(code, (str, int, float, np.number)) or isinstance(code, bool):
            raise TypeError(
                "The 'missing_values' parameter of read_data must be a number, a string or "
                f"a list of them. Got {code!r} ({type(code).__name__}) instead."
            )
    return codes


def _code_strings(codes: list) -> list[str]:
    """Text forms of missing-value codes, as they may appear in a CSV file."""
    out: list[str] = []
    for code in codes:
        if isinstance(code, str):
            out.append(code)
            continue
        value = float(code)
        out.append(str(code))
        out.append(repr(value))
        if math.isfinite(value) and value.is_integer():
            out.append(str(int(value)))
    return list(dict.fromkeys(out))


def _apply_missing(df: pd.DataFrame, codes: list) -> pd.DataFrame:
    if not codes:
        return df
    numbers = [float(c) for c in codes if not isinstance(c, str)]
    texts = set(_code_strings(codes))
    for col in df.columns:
        series = df[col]
        if pd.api.types.is_bool_dtype(series.dtype):
            continue
        if pd.api.types.is_numeric_dtype(series.dtype):
            if numbers:
                df[col] = series.mask(series.isin(numbers))
        elif series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            as_text = series.map(lambda v: v.strip() if isinstance(v, str) else v)
            is_code = as_text.isin(texts)
            if numbers:
                is_code |= series.map(
                    lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
                    and float(v) in numbers
                ).astype(bool)
            if is_code.any():
                df[col] = series.mask(is_code)
    return df


def _clean_column_names(df: pd.DataFrame) -> pd.DataFrame:
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _preview(items, limit: int = 8) -> str:
    items = [str(i) for i in items]
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


def _check_duplicate_names(header: list, path: Path) -> None:
    names = [str(h).strip() for h in header]
    counts = Counter(n for n in names if n)
    dups = [n for n, k in counts.items() if k > 1]
    if dups:
        where = "; ".join(
            f"{n!r} in columns {', '.join(str(i + 1) for i, m in enumerate(names) if m == n)}"
            for n in dups
        )
        raise DataError(
            f"The data file {path} has duplicate column names: {where}. Rename them so "
            "that every column name is unique."
        )


def _decode(raw: bytes, path: Path, encoding: str) -> str:
    """The CSV's text (:func:`ckm_research.textfile.decode`: one message for every reader)."""
    return decode(
        raw, path, what="data file", encoding=encoding, error=DataError,
        advice="Save it from Excel as 'CSV UTF-8', or give its encoding (for example "
               "read_data(path, encoding='gb18030') or encoding='cp1252'; ckm fit --encoding "
               "gb18030).",
    )  # fmt: skip


def _sniff_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:_SNIFF_LINES] if ln.strip()]
    best, best_fields = ",", 1
    for delim in _DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=delim)]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        consistent = sum(c == counts[0] for c in counts) / len(counts)
        if consistent >= 0.9 and counts[0] > best_fields:
            best, best_fields = delim, counts[0]
    return best


def _n_text_columns(df: pd.DataFrame) -> int:
    return sum(not pd.api.types.is_numeric_dtype(df[c].dtype) for c in df.columns)


def _read_csv(path: Path, codes: list, encoding: str) -> tuple[pd.DataFrame, dict]:
    text = _decode(path.read_bytes(), path, encoding)
    if not text.strip():
        raise DataError(f"The data file {path} is empty (only blank lines).")
    delim = _sniff_delimiter(text)
    header = next(csv.reader(io.StringIO(text), delimiter=delim), [])
    _check_duplicate_names(header, path)

    def parse(decimal: str) -> pd.DataFrame:
        return pd.read_csv(
            io.StringIO(text), sep=delim, decimal=decimal, na_values=_code_strings(codes),
            skipinitialspace=True,
        )

    try:
        df = parse(".")
        if delim != "," and _n_text_columns(df):
            alt = parse(",")
            if _n_text_columns(alt) < _n_text_columns(df):
                df = alt
    except pd.errors.EmptyDataError:
        raise DataError(f"The data file {path} is empty.") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(
            f"Cannot read {path} as {_DELIMITER_NAMES[delim]}-separated text: {exc}. Check "
            "that every row has as many fields as the header, and that text containing "
            "the delimiter is quoted."
        ) from None
    return df, {"delimiter": delim}


def _read_excel(path: Path, sheet: str | int) -> tuple[pd.DataFrame, dict]:
    engine = "calamine" if path.suffix.lower() == ".xls" else "openpyxl"
    try:
        book = pd.ExcelFile(path, engine=engine)
    except ImportError as exc:
        raise DataError(
            f"Cannot read {path}: the package needed for this Excel format is missing "
            f"({exc}). Install it, or save the workbook as .xlsx or CSV."
        ) from None
    except Exception as exc:  # openpyxl and xlrd raise many types
        raise DataError(
            f"Cannot read {path} as an Excel workbook ({type(exc).__name__}: {exc}). The file "
            "may be damaged, password-protected, or not really an Excel file; open it in "
            "Excel and save it again as .xlsx or CSV."
        ) from None
    with book:
        names = book.sheet_names
        if isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise DataError(
                f"{path} has {len(names)} worksheet(s) ({_preview(names)}); there is no "
                f"worksheet number {sheet} (counting from 0)."
            )
        if isinstance(sheet, str) and sheet not in names:
            raise DataError(
                f"{path} has no worksheet named {sheet!r}; its worksheets are {_preview(names)}."
            )
        sheet_name = names[sheet] if isinstance(sheet, int) else sheet
        try:
            head = pd.read_excel(book, sheet_name=sheet_name, header=None, nrows=1)
            if head.shape[0]:
                _check_duplicate_names(
                    [v for v in head.iloc[0].tolist() if not pd.isna(v)], path
                )
            df = pd.read_excel(book, sheet_name=sheet_name)
        except DataError:
            raise
        except (ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise DataError(
                f"Cannot read worksheet {sheet_name!r} of {path}: {exc}."
            ) from None
    if df.shape == (0, 0):
        raise DataError(f"Worksheet {sheet_name!r} of {path} is empty.")
    return df, {"sheet": sheet_name}


def _read_stats_file(path: Path, ext: str) -> tuple[pd.DataFrame, dict]:
    import pyreadstat

    reader = {
        ".sav": pyreadstat.read_sav,
        ".zsav": pyreadstat.read_sav,
        ".por": pyreadstat.read_por,
        ".dta": pyreadstat.read_dta,
    }[ext]
    kind = "Stata" if ext == ".dta" else "SPSS"
    try:
        df, meta = reader(str(path), apply_value_formats=False)
    except Exception as exc:  # pyreadstat's errors share no base class
        raise DataError(
            f"Cannot read {path} as a {kind} file ({exc}). The file may be damaged or saved "
            f"by a newer {kind} version; save it again from {kind}, or export it to CSV."
        ) from None
    value_labels = {
        col: dict(labels) for col, labels in (meta.variable_value_labels or {}).items()
    }
    column_labels = {
        col: label for col, label in (meta.column_names_to_labels or {}).items() if label
    }
    return df, {"value_labels": value_labels, "column_labels": column_labels}
