"""Wenjuanxing (问卷星, wjx.cn) exports: recognise the layout, match questions to items.

Wenjuanxing, the survey platform most used in Chinese universities, exports
responses as Excel (``.xlsx``; older ``.xls``) or CSV (older exports, usually
GBK-encoded; :mod:`ckm_research.data.encoding` detects that), in two variants
chosen at download:

- **按序号** ("by number"): each answer is the option's number (1, 2, ...);
  ``-3`` marks a question skipped by the questionnaire's logic and ``-2`` one
  left empty;
- **按文本** ("by text"): each answer is the option's text ("非常同意");
  ``(跳过)`` marks a skipped question and ``(空)`` an empty one.

Both start with metadata columns ``序号`` (running number), ``提交答卷时间``
(``YYYY/MM/DD HH:MM:SS``), ``所用时间`` (``"256秒"``), ``来源``, ``来源详情``
and ``来自IP``; then one column per question, headed ``"N、题干"`` (question
number, an enumeration comma, the wording), and for matrix (scale) questions
one column per row, headed ``"N、引导语—子题"`` or ``"第N题(子题)"``.
Multiple answers are joined by ``┋``; text typed into an "other" option
follows it in ``〖...〗`` (``"其他〖咨询〗"``).

Layout facts confirmed in open-source readers of real exports:
gasongjian/reportgen ``reportgen/questionnaire/questionnaire.py``
(``wenjuanxing()``: six metadata columns before the first question; question
headers ``^\\d+[、：:]``, matrix and multi-select columns ``第N题(...)``; ``-2``
and ``-3`` replaced by missing in the by-number file; ``┋`` multi-select, ``→``
ranking, ``〖...〗`` other-text; ``所用时间`` read as ``int(s[:-1])``, i.e. a
number followed by 秒; detection by five of 序号, 提交答卷时间, 所用时间,
来自IP, 来源, 来源详情, 总分). See the README ("Wenjuanxing exports") for what
could not be confirmed.

Matching columns to the instrument's items (:func:`match_columns`) never
guesses: a column matches an item when its wording (the ``题干``, or the
``子题`` of a matrix row), with spaces and punctuation removed, equals the
item's wording in one of the instrument's languages (the Chinese ``zh`` text
for a Chinese questionnaire), or the item id; an optional mapping file names
the item (or nothing) for any column. Columns matching no item, or several,
and items matched by no column or by several are listed together in one
:class:`~ckm_research.errors.DataError`.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ckm_research.errors import DataError
from ckm_research.instrument import Instrument

__all__ = [
    "META_COLUMNS",
    "MISSING_CODES",
    "is_wjx",
    "parse_header",
    "parse_seconds",
    "read_column_map",
    "match_columns",
    "prepare_wjx",
    "WjxImport",
]

#: The metadata columns that open every Wenjuanxing export.
META_COLUMNS = ("序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP")
#: Cell codes meaning "no answer": -3 skipped by logic, -2 empty (by-number
#: exports); ``(跳过)`` skipped, ``(空)`` empty (by-text exports).
MISSING_CODES = (-3, -2, "(跳过)", "(空)")

_QUESTION = re.compile(r"^\s*(\d{1,4})\s*[、：:．.]\s*(.*)$", re.S)
_SUBQUESTION = re.compile(r"^\s*第\s*(\d{1,4})\s*题\s*[(（](.*)[)）]\s*$", re.S)
_DASHES = re.compile(r"[—―]")
_OTHER_TEXT = re.compile(r"〖.*?〗", re.S)
_DURATION = re.compile(r"^(?:(\d+)\s*小时)?\s*(?:(\d+)\s*分(?:钟)?)?\s*(?:(\d+(?:\.\d+)?)\s*秒)?$")
_SHOWN = 12


def is_wjx(frame: pd.DataFrame) -> bool:
    """True if the columns carry at least four of Wenjuanxing's six metadata names."""
    names = {str(c).strip() for c in frame.columns}
    return sum(m in names for m in META_COLUMNS) >= 4


def parse_header(name: str) -> tuple[int | None, list[str]]:
    """Question number and the wordings a column header can be matched by.

    Parameters
    ----------
    name : str
        A column header: ``"3、贵公司有多少名员工？"``,
        ``"7、请表明同意程度—我们善于直接从客户那里获取知识。"`` or
        ``"第7题(我们善于直接从客户那里获取知识。)"``.

    Returns
    -------
    (int or None, list of str)
        The question number (None if the header is not a question's) and the
        candidate wordings: the whole text after ``N、`` and every part after
        a dash ``—`` (a matrix row's 子题), or the text in ``第N题(...)``.

    Examples
    --------
    >>> parse_header("7、引导语—子题")
    (7, ['引导语—子题', '子题'])
    >>> parse_header("第7题(子题)")
    (7, ['子题'])
    >>> parse_header("所用时间")
    (None, [])
    """
    text = str(name).strip()
    m = _SUBQUESTION.match(text)
    if m:
        return int(m.group(1)), [m.group(2).strip()]
    m = _QUESTION.match(text)
    if not m:
        return None, []
    body = m.group(2).strip()
    parts = [body] + [body[d.end() :].strip() for d in _DASHES.finditer(body)]
    return int(m.group(1)), [p for p in parts if p]


def parse_seconds(value) -> float:
    """Seconds in a ``所用时间`` cell: ``"256秒"``, ``"4分16秒"``, ``"1小时2分3秒"`` or a number.

    Returns NaN for an empty cell or text that is none of these.

    Examples
    --------
    >>> parse_seconds("256秒"), parse_seconds("4分16秒"), parse_seconds(90)
    (256.0, 256.0, 90.0)
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return float("nan")
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return float("nan")
    try:
        return float(text)
    except ValueError:
        pass
    m = _DURATION.match(text)
    if not m or not any(m.groups()):
        return float("nan")
    h, mnt, s = (float(g) if g else 0.0 for g in m.groups())
    return 3600 * h + 60 * mnt + s


def _key(text: str) -> str:
    """Wording for matching: NFKC, case-folded, letters and digits only."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def read_column_map(path: str | os.PathLike) -> dict[str, str | None]:
    """Read a mapping file: column (header or question number) -> item id or nothing.

    Parameters
    ----------
    path : path
        YAML (``.yaml``/``.yml``): ``"12、题干": cip3`` per line, ``~`` (or an
        empty value) to leave a column out; or CSV (``.csv``) with columns
        ``column`` and ``item`` (an empty item leaves the column out). A
        column is named by its full header or by its question number
        (``"12"``) when only one column has that number.

    Returns
    -------
    dict
    """
    import yaml

    from ckm_research.data.encoding import read_text

    path = Path(path)
    if not path.is_file():
        raise DataError(f"The column mapping file {path} does not exist.")
    text = read_text(path).text
    ext = path.suffix.lower()
    if ext in (".yaml", ".yml"):
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DataError(f"Cannot read the column mapping file {path} as YAML: {exc}") from None
        if not isinstance(loaded, dict):
            raise DataError(
                f"The column mapping file {path} must map each column to an item "
                'id, one `"column": item` per line.'
            )
        pairs = list(loaded.items())
    elif ext == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows or not {"column", "item"} <= set(rows[0]):
            raise DataError(
                f"The column mapping file {path} needs the columns 'column' and 'item'."
            )
        pairs = [(r["column"], r["item"]) for r in rows]
    else:
        raise DataError(f"The column mapping file {path} must be .yaml, .yml or .csv.")
    out: dict[str, str | None] = {}
    for col, item in pairs:
        item = (
            None
            if item is None or str(item).strip() in ("", "-", "~", "null")
            else str(item).strip()
        )
        out[str(col).strip()] = item
    return out


def match_columns(
    frame: pd.DataFrame,
    instrument: Instrument,
    path: str | os.PathLike,
    column_map: dict[str, str | None] | None = None,
) -> tuple[dict[str, str], list[str], list[str]]:
    """Match question columns to the instrument's items (see the module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame
        The export as read.
    instrument : Instrument
    path : path
        The export, named in messages.
    column_map : dict, optional
        From :func:`read_column_map`; applied before matching by wording.

    Returns
    -------
    mapping : dict
        ``{item id: column}`` for every item.
    left_out : list of str
        Question columns the mapping file leaves out.
    matched_by : list of str
        ``"column -> item (how)"`` lines for the manifest.

    Raises
    ------
    DataError
        Listing every unmatched or ambiguous column and every item without a
        column (or with two), and how to resolve them.
    """
    items = instrument.items()
    ids = {i.id for i in items}
    index: dict[str, set[str]] = {}
    for info in items:
        for text in [*info.text.values(), info.id]:
            index.setdefault(_key(text), set()).add(info.id)
    questions = {}
    for col in frame.columns:
        number, wordings = parse_header(col)
        if number is not None and str(col).strip() not in META_COLUMNS:
            questions[col] = (number, wordings)

    problems: list[str] = []
    assigned: dict[str, list[str]] = {}
    how: dict[str, str] = {}
    left_out: list[str] = []
    by_map: dict[str, str | None] = {}
    for key, item in (column_map or {}).items():
        cols = [c for c in questions if str(c).strip() == key]
        if not cols:
            cols = [c for c, (n, _) in questions.items() if key.isdigit() and n == int(key)]
        if not cols:
            problems.append(f"the mapping file names column {key!r}, which the file does not have")
        elif len(cols) > 1:
            problems.append(
                f"the mapping file's {key!r} is the number of {len(cols)} "
                f"columns ({', '.join(map(repr, cols[:3]))}); name each by its "
                "full header"
            )
        elif item is not None and item not in ids:
            problems.append(
                f"the mapping file maps {cols[0]!r} to {item!r}, which is not an "
                f"item of the instrument {instrument.id!r}"
            )
        else:
            by_map[cols[0]] = item
    unmatched, ambiguous = [], []
    for col, (_number, wordings) in questions.items():
        if col in by_map:
            if by_map[col] is None:
                left_out.append(str(col))
            else:
                assigned.setdefault(by_map[col], []).append(col)
                how[col] = "mapping file"
            continue
        hits = set().union(*(index.get(_key(w), set()) for w in wordings)) if wordings else set()
        if len(hits) == 1:
            item = hits.pop()
            assigned.setdefault(item, []).append(col)
            how[col] = "wording"
        elif hits:
            ambiguous.append(f"{col!r} has the wording of items {', '.join(sorted(hits))}")
        else:
            keys = list(index)
            close = [difflib.get_close_matches(_key(w), keys, n=1, cutoff=0.6) for w in wordings]
            close = sorted({i for c in close if c for i in index[c[0]]})
            hint = f" (closest: {', '.join(close)}; not applied)" if close else ""
            unmatched.append(f"{col!r}{hint}")
    doubled = [
        f"item {item} has columns {', '.join(map(repr, cols))}"
        for item, cols in assigned.items()
        if len(cols) > 1
    ]
    absent = [i.id for i in items if i.id not in assigned]
    if unmatched:
        problems.append(
            f"{len(unmatched)} question column(s) match no item's wording: "
            + "; ".join(unmatched[:_SHOWN])
            + (f"; ... ({len(unmatched)} in all)" if len(unmatched) > _SHOWN else "")
        )
    problems += [f"ambiguous: {a}" for a in ambiguous]
    problems += [f"ambiguous: {d}" for d in doubled]
    if absent:
        problems.append(
            f"{len(absent)} item(s) have no column: "
            + ", ".join(absent[:20])
            + (" ..." if len(absent) > 20 else "")
        )
    if problems:
        error = DataError(
            f"{path} is a Wenjuanxing export whose question columns cannot all be matched to "
            f"the instrument {instrument.id!r} (a column matches an item when its wording, "
            "without spaces and punctuation, equals the item's text in one of the "
            f"instrument's languages ({', '.join(instrument.languages)}) or its id):\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nNothing was imported. Give a column mapping file (ckm data import "
            "--column-map map.yaml; import_responses(..., column_map='map.yaml')) with one "
            "line per column to resolve, '\"<header or question number>\": <item id>', or "
            "'\"<header>\": ~' to leave a column out; or use the instrument the survey was "
            "built from (--instrument)."
        )
        error.problems = problems
        raise error
    mapping = {item: cols[0] for item, cols in assigned.items()}
    order = {i.id: k for k, i in enumerate(items)}
    mapping = dict(sorted(mapping.items(), key=lambda kv: order[kv[0]]))
    matched_by = [f"{col} -> {item} ({how[col]})" for item, col in mapping.items()]
    return mapping, left_out, matched_by


@dataclass
class WjxImport:
    """What :func:`prepare_wjx` returns to the importer."""

    frame: pd.DataFrame
    mapping: dict[str, str]
    missing_codes: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    variant: str = ""
    matched_by: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


def _is_missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))


def prepare_wjx(
    frame: pd.DataFrame,
    instrument: Instrument,
    path: str | os.PathLike,
    column_map: str | os.PathLike | dict | None = None,
) -> WjxImport:
    """Ready a Wenjuanxing export for validation (used by ``import_responses``).

    Matches the question columns to items (:func:`match_columns`); in item
    columns removes the free text of "other" answers (``其他〖...〗`` ->
    ``其他``; never carried over: it may identify the respondent), reads
    full-width ``（跳过）``/``（空）`` as the missing codes, and refuses
    multi-select answers (``┋``) for the instrument's single-answer items;
    turns ``所用时间`` into seconds (the speed screen's duration).

    Parameters
    ----------
    frame : pandas.DataFrame
        The export as :func:`~ckm_research.data.io.read_data` read it (not changed).
    instrument : Instrument
    path : path
    column_map : path or dict, optional
        See :func:`read_column_map`.

    Returns
    -------
    WjxImport
    """
    if column_map is not None and not isinstance(column_map, dict):
        column_map = read_column_map(column_map)
    mapping, left_out, matched_by = match_columns(frame, instrument, path, column_map)
    frame = frame.copy()
    notes = []
    other_text = 0
    multi = []
    numeric = textual = 0
    for item, col in mapping.items():
        values = frame[col].tolist()
        out = []
        for r, v in enumerate(values):
            if isinstance(v, str):
                text = unicodedata.normalize("NFKC", v).strip()
                if text in ("(跳过)", "(空)"):
                    out.append(text)
                    continue
                if "┋" in text:
                    multi.append(f"{col!r} (item {item}) row {r + 1}: {v!r}")
                if _OTHER_TEXT.search(text):
                    other_text += 1
                    text = _OTHER_TEXT.sub("", text).strip()
                try:
                    float(text)
                    numeric += 1
                except ValueError:
                    textual += 1
                out.append(text)
            else:
                if not _is_missing(v) and v not in (-2, -3):
                    numeric += 1
                out.append(v)
        frame[col] = pd.Series(out, index=frame.index, dtype=object)
    if multi:
        raise DataError(
            f"{path}: Wenjuanxing multi-select answers (joined by ┋) in columns of "
            f"single-answer items: {'; '.join(multi[:5])}"
            + (f" ... ({len(multi)} in all)" if len(multi) > 5 else "")
            + ". The instrument's items take one answer each: check that the column is "
            "mapped to the right item, or leave it out in the column mapping file."
        )
    variant = (
        "按序号 (answers as option numbers)" if textual == 0 else "按文本 (answers as option text)"
    )
    notes.append(
        f"Wenjuanxing layout, {variant}: question columns matched to items by "
        "their wording"
        + (" and the column mapping file" if column_map else "")
        + "; -3 and (跳过) (skipped by the questionnaire's logic), -2 and (空) "
        "(left empty) read as missing"
    )
    allowing = [
        i.id
        for i in instrument.items()
        if (i.scale.type == "integer" and i.scale.min <= -2)
        or (i.scale.codes and {-2, -3} & set(i.scale.codes))
    ]
    if allowing:
        notes.append(
            "caution: -2/-3 are Wenjuanxing's missing codes but valid answers of "
            + ", ".join(allowing)
            + "; they were read as missing"
        )
    if other_text:
        notes.append(
            f"free text of {other_text} 'other' answers (〖...〗) removed, the option kept"
        )
    if left_out:
        notes.append(f"{len(left_out)} question column(s) left out by the mapping file")
    if "所用时间" in frame.columns:
        raw = frame["所用时间"]
        seconds = raw.map(parse_seconds)
        unread = int(
            (seconds.isna() & raw.map(lambda v: not _is_missing(v) and str(v).strip() != "")).sum()
        )
        frame["所用时间"] = seconds
        notes.append(
            "所用时间 read as the completion time in seconds"
            + (f" ({unread} cells unreadable, left missing)" if unread else "")
        )
    return WjxImport(
        frame=frame,
        mapping=mapping,
        missing_codes=list(MISSING_CODES),
        notes=notes,
        variant=variant,
        matched_by=matched_by,
        left_out=left_out,
    )
