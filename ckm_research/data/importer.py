"""Bring survey answers back from the field: detect, map, validate, recode, screen.

:func:`import_responses` reads a response file from whatever tool collected
it, checks every answer against the instrument, reverse-codes reverse-keyed
items, removes personal data and screens the respondents;
:func:`write_import` writes the processed data, a screening report and a
manifest. This is ``ckm data import``.

Formats (detected from the extension and content; files are read with
:func:`ckm_research.data.io.read_data`):

========== ==============================================================
csv        a plain table, one header row (comma, semicolon or tab)
excel      ``.xlsx``/``.xls``, first row = column names
spss       ``.sav``/``.zsav``/``.por``; value labels kept and checked
stata      ``.dta``
qualtrics  a Qualtrics CSV export: row 1 export tags, row 2 question text,
           row 3 ``{"ImportId": ...}``; metadata columns (``StartDate``,
           ``IPAddress``, ``ResponseId``, ``Duration (in seconds)``, ...);
           ``-99`` ("seen but unanswered") is read as missing
kobo       a KoboToolbox / ODK export: item columns may carry group names
           (``cip/cip1``); ``start``/``end``, ``_uuid``, ``_submission_time``
wjx        a Wenjuanxing (问卷星) export, by number or by text: metadata
           ``序号``, ``提交答卷时间``, ``所用时间``, ``来源``, ``来源详情``,
           ``来自IP``; question columns ``N、题干`` matched to items by their
           wording (:mod:`ckm_research.data.wjx`)
========== ==============================================================

Answers may be numeric codes or answer labels in any language of the
instrument (as "choice text" exports give them).

Rules, applied in this order:

1. **Raw file untouched**: it is only read; its SHA-256 is taken before and
   after, and the manifest records it.
2. **Column mapping**: each item id matches one column (case-insensitive,
   after removing a ``group/`` prefix); an item with no column, or with two,
   is an error.
3. **Validation**: every answer must be a code (or label) of the item's scale;
   otherwise an error names the column, the 1-based data row and the value.
   Empty cells and the declared missing-value codes stay missing.
4. **Reverse coding** of reverse-keyed items: ``lowest + highest - answer``.
5. **Personal data**: columns with identifying metadata (IP address, e-mail,
   names, phone, geolocation, recipient and external-reference fields, device
   and user ids) are dropped; the respondent id is replaced by a pseudonym
   (``p`` + the first 12 hex digits of SHA-256 of the id); other columns that
   are not items are not carried over. The report names the columns removed,
   never their values.
6. **Screening** (:mod:`ckm_research.data.screening`): flags only; rows are
   dropped only for the criteria given in ``drop``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ckm_research import __version__
from ckm_research.data.io import SUPPORTED_EXTENSIONS, read_data
from ckm_research.data.screening import CRITERIA, ScreeningRules, screen
from ckm_research.data.wjx import is_wjx, prepare_wjx
from ckm_research.errors import DataError
from ckm_research.instrument import Instrument, load_instrument
from ckm_research.numerics import sha256_file

__all__ = ["ImportResult", "import_responses", "write_import", "detect_format", "pseudonym",
           "FORMATS"]

#: Formats :func:`import_responses` recognises.
FORMATS = ("csv", "excel", "spss", "stata", "qualtrics", "kobo", "wjx")

#: Respondent-id columns, by preference (matched case-insensitively).
_ID_COLUMNS = ("ResponseId", "_uuid", "meta/instanceID", "instanceID", "respondent",
               "respondent_id", "id", "_id", "序号")
#: Completion-time columns in seconds.
_DURATION_COLUMNS = ("Duration (in seconds)", "duration_sec", "duration", "duration_seconds",
                     "所用时间")
#: Start and end time stamps, from which a duration is computed.
_TIMESTAMP_PAIRS = (("start", "end"), ("StartDate", "EndDate"))

#: Column names of identifying metadata (lower-cased, without spaces, _ and -).
_PERSONAL = re.compile(
    r"(^ip$|ipaddress|email|^mail$|firstname|lastname|fullname|surname|^name$|"
    r"respondentname|contactname|recipient|phone|mobile|^tel$|telephone|latitude|longitude|"
    r"geolocation|^location|^gps|address|externalreference|externaldatareference|"
    r"^externalref|deviceid|^imei|simserial|subscriberid|username|submittedby|^user$|"
    r"postcode|zipcode|来自ip|^ip地址|来源详情|姓名|昵称|手机|电话|邮箱|微信|身份证|地址)"
)

_QUALTRICS_MISSING = -99
_MAX_PROBLEMS_SHOWN = 12


@dataclass
class ImportResult:
    """What :func:`import_responses` returns.

    Attributes
    ----------
    data : pandas.DataFrame
        The processed data: ``respondent`` (pseudonym), ``row`` (1-based data
        row of the raw file), ``duration_sec`` (when known), every item
        (reverse-keyed items reverse-coded; nullable integers) and the
        screening columns. Rows dropped by ``drop`` are absent.
    screening : pandas.DataFrame
        The screening columns for *every* row of the raw file.
    summary : dict
        Screening summary (see :func:`ckm_research.data.screening.screen`).
    manifest : dict
        Provenance: raw file checksum, format, instrument version, rules and
        counts (written as JSON by :func:`write_import`).
    """

    data: pd.DataFrame
    screening: pd.DataFrame
    summary: dict
    manifest: dict
    instrument: Instrument = field(repr=False)


def pseudonym(value) -> str | None:
    """``p`` + 12 hex digits of SHA-256 of the id (``None`` for a missing id).

    The same id always gives the same pseudonym, so records can be linked
    back to the raw file by whoever holds it, and by nobody else.
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    if not text:
        return None
    return "p" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


# ---------------------------------------------------------------------------
# reading and detecting


def _is_import_id(value) -> bool:
    return isinstance(value, str) and value.strip().startswith('{"ImportId"')


def detect_format(path: str | os.PathLike, frame: pd.DataFrame,
                  instrument: Instrument | None = None) -> str:
    """The survey tool layout of a file read by ``read_data`` (see :data:`FORMATS`)."""
    ext = Path(path).suffix.lower()
    if ext in (".sav", ".zsav", ".por"):
        return "spss"
    if ext == ".dta":
        return "stata"
    if len(frame) >= 2 and any(_is_import_id(v) for v in frame.iloc[1].tolist()):
        return "qualtrics"
    if is_wjx(frame):
        return "wjx"
    lowered = {str(c).lower() for c in frame.columns}
    item_ids = set(instrument.item_ids()) if instrument else set()
    grouped = any("/" in str(c) and str(c).rsplit("/", 1)[1].lower() in item_ids
                  for c in frame.columns)
    if grouped or {"_uuid", "_submission_time"} & lowered or "meta/instanceid" in lowered:
        return "kobo"
    return "excel" if ext in (".xlsx", ".xlsm", ".xls") else "csv"


def _row_offset(fmt: str) -> int:
    """File line of data row 1, minus 1 (header lines before the data)."""
    return {"qualtrics": 3, "csv": 1, "excel": 1, "kobo": 1, "wjx": 1}.get(fmt, 0)


# ---------------------------------------------------------------------------
# column mapping and metadata


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


def _map_columns(frame: pd.DataFrame, instrument: Instrument, path: Path) -> dict[str, str]:
    ids = instrument.item_ids()
    by_key: dict[str, list[str]] = {}
    for col in frame.columns:
        key = str(col).rsplit("/", 1)[-1].strip().lower()
        by_key.setdefault(key, []).append(col)
    mapping, absent, doubled = {}, [], []
    for item in ids:
        cols = by_key.get(item.lower(), [])
        if len(cols) == 1:
            mapping[item] = cols[0]
        elif not cols:
            absent.append(item)
        else:
            doubled.append(f"item {item!r} matches columns {', '.join(repr(c) for c in cols)}")
    if doubled:
        raise DataError(f"{path}: " + "; ".join(doubled) + ". Keep one column per item.")
    if absent:
        others = [str(c) for c in frame.columns if c not in mapping.values()]
        hints = []
        for item in absent[:8]:
            close = difflib.get_close_matches(item, others, n=1, cutoff=0.6)
            if close:
                hints.append(f"{item} (is it {close[0]!r}?)")
        raise DataError(
            f"{path} has no column for {len(absent)} item(s) of the instrument "
            f"{instrument.id!r}: {', '.join(absent[:20])}"
            + (" ..." if len(absent) > 20 else "") + "."
            + (f" Close matches: {'; '.join(hints)}." if hints else "")
            + " Rename the columns to the item ids (see the codebook), or use the "
            "instrument the data were collected with (--instrument)."
        )
    return mapping


def _find(frame: pd.DataFrame, names) -> str | None:
    lowered = {str(c).lower(): c for c in frame.columns}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def _durations(frame: pd.DataFrame) -> tuple[pd.Series | None, str | None]:
    col = _find(frame, _DURATION_COLUMNS)
    if col is not None:
        return pd.to_numeric(frame[col], errors="coerce"), col
    for start, end in _TIMESTAMP_PAIRS:
        s, e = _find(frame, [start]), _find(frame, [end])
        if s is not None and e is not None:
            t0 = pd.to_datetime(frame[s], errors="coerce", utc=True, format="mixed")
            t1 = pd.to_datetime(frame[e], errors="coerce", utc=True, format="mixed")
            seconds = (t1 - t0).dt.total_seconds()
            if seconds.notna().any():
                return seconds, f"{s} -> {e}"
    return None, None


# ---------------------------------------------------------------------------
# validating answers


def _label_key(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(text))).strip().casefold()


def _label_codes(info, instrument: Instrument) -> dict[str, int]:
    if info.scale.type == "integer":
        return {}
    out = {}
    for choice in info.scale.choices:
        for text in choice.label.values():
            out[_label_key(text)] = choice.value
    return out


def _validate(frame: pd.DataFrame, mapping: dict[str, str], instrument: Instrument,
              path: Path, fmt: str, missing_codes: list) -> tuple[pd.DataFrame, dict]:
    """Codes of every item (float, NaN = missing), or a DataError naming column and row."""
    problems: list[str] = []
    out = {}
    used_labels = 0
    missing_numbers = {float(c) for c in missing_codes if not isinstance(c, str)}
    missing_texts = {str(c).strip() for c in missing_codes}
    value_labels = frame.attrs.get("value_labels") or {}
    for info in instrument.items():
        col = mapping[info.id]
        values = frame[col].tolist()
        codes = np.full(len(values), np.nan)
        labels = _label_codes(info, instrument)
        scale = info.scale
        bad: list[tuple[int, object]] = []
        for r, v in enumerate(values):
            if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
                continue
            if isinstance(v, str):
                text = v.strip()
                if text == "" or text in missing_texts:
                    continue
                try:
                    number = float(text)
                except ValueError:
                    key = _label_key(text)
                    if key in labels:
                        codes[r] = labels[key]
                        used_labels += 1
                    else:
                        bad.append((r, v))
                    continue
            else:
                try:
                    number = float(v)
                except (TypeError, ValueError):
                    bad.append((r, v))
                    continue
            if number in missing_numbers:
                continue
            if not np.isfinite(number) or not number.is_integer():
                bad.append((r, v))
                continue
            ok = (scale.min <= number <= scale.max) if scale.type == "integer" \
                else number in scale.codes
            if ok:
                codes[r] = number
            else:
                bad.append((r, v))
        if bad:
            if scale.type == "integer":
                allowed = f"whole numbers {scale.min}-{scale.max}"
            else:
                allowed = (f"codes {', '.join(str(c) for c in scale.codes)} or their labels")
            shown = ", ".join(f"row {r + 1}: {v!r}" for r, v in bad[:5])
            more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
            problems.append(
                f"column {col!r} (item {info.id}, scale {info.scale_name}) has "
                f"{len(bad)} answer(s) that are not {allowed}: {shown}{more}"
            )
        if col in value_labels and scale.type != "integer":
            problems += _check_value_labels(col, info, value_labels[col], instrument)
        out[info.id] = codes
    if problems:
        offset = _row_offset(fmt)
        where = (f" (data rows count from 1 = the first respondent; file line = row + "
                 f"{offset})" if offset else " (data rows count from 1 = the first respondent)")
        shown = problems[:_MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        message = (f"{path}: answers outside the instrument's scales{where}:\n"
                   + "\n".join(f"  - {p}" for p in shown)
                   + (f"\n  ... and {more} more columns" if more > 0 else "")
                   + "\nCorrect these cells in a copy of the file, declare missing-value "
                   "codes (--missing-values), or check that --instrument is the one the "
                   "data were collected with.")
        error = DataError(message)
        error.problems = problems
        raise error
    return pd.DataFrame(out, index=frame.index), {"labels_converted": used_labels}


def _check_value_labels(col: str, info, file_labels: dict, instrument: Instrument) -> list[str]:
    """The file's value labels must not contradict the scale (a reversed scale)."""
    own = {}
    for choice in info.scale.choices:
        for text in choice.label.values():
            own[_label_key(text)] = choice.value
    problems = []
    for code, label in file_labels.items():
        meant = own.get(_label_key(label))
        try:
            code_f = float(code)
        except (TypeError, ValueError):
            continue
        if meant is not None and float(meant) != code_f:
            problems.append(
                f"column {col!r} (item {info.id}): the file labels code {code:g} as "
                f"{label!r}, which is code {meant} in the instrument's scale "
                f"{info.scale_name}; the file's coding runs differently, so recode it first"
            )
            break
    return problems


# ---------------------------------------------------------------------------
# the import


def _parse_drop(drop) -> list[str]:
    if drop is None:
        return []
    if isinstance(drop, str):
        drop = [d.strip() for d in drop.split(",") if d.strip()]
    drop = list(drop)
    if "any" in drop:
        return list(CRITERIA)
    unknown = [d for d in drop if d not in CRITERIA]
    if unknown:
        raise ValueError(
            f"The 'drop' parameter of import_responses must name criteria among "
            f"{', '.join(CRITERIA)} or 'any'. Got {', '.join(map(repr, unknown))} instead."
        )
    return drop


def import_responses(
    path: str | os.PathLike,
    instrument: str | os.PathLike | Instrument | None = None,
    *,
    missing_values=None,
    drop=None,
    rules: ScreeningRules | None = None,
    encoding: str = "auto",
    column_map=None,
) -> ImportResult:
    """Import survey responses: map, validate, reverse-code, de-identify, screen.

    Parameters
    ----------
    path : str or path-like
        The raw response file (never modified).
    instrument : name, path or Instrument, optional
        The instrument the data were collected with (default ``"ckm"``).
    missing_values : list of codes, optional
        Codes meaning "no answer" (e.g. ``[-99, -999]``), besides empty cells.
    drop : list of str or "any", optional
        Drop respondents flagged on these criteria (``missing``,
        ``longstring``, ``attention``, ``outlier``, ``speed``); by default
        nothing is dropped.
    rules : ScreeningRules, optional
        Cut-offs of the screening flags.
    encoding : str, default "auto"
        Text encoding of a CSV file; ``"auto"`` detects UTF-8 (with or without
        BOM), GBK and GB18030 (:mod:`ckm_research.data.encoding`). The one used
        is in the manifest and the report.
    column_map : path or dict, optional
        Wenjuanxing exports only: a mapping file (YAML or CSV) naming the item,
        or nothing, for question columns
        (:func:`ckm_research.data.wjx.read_column_map`).

    Returns
    -------
    ImportResult

    Raises
    ------
    DataError
        The file cannot be read, an item has no column, or answers are not
        codes of their scale (the message names column, data row and value).

    Examples
    --------
    A simulated Qualtrics export of 60 answers (10% careless respondents):

    >>> import tempfile
    >>> from ckm_research.data.formats import write_responses
    >>> from ckm_research.data.importer import import_responses
    >>> from ckm_research.data.simulate import simulate
    >>> from ckm_research.instrument import load_instrument
    >>> ckm = load_instrument()
    >>> folder = tempfile.mkdtemp()
    >>> answers = simulate(60, seed=1, careless=0.1, instrument=ckm)
    >>> path = write_responses(answers, f"{folder}/qualtrics_export.csv", "qualtrics", ckm)
    >>> result = import_responses(path, ckm)
    >>> result.data.filter(like="flag_").sum()
    flag_missing       0
    flag_longstring    3
    flag_attention     7
    flag_outlier       0
    flag_speed         5
    dtype: int64
    """
    path = Path(path)
    if not isinstance(instrument, Instrument):
        instrument = load_instrument(instrument)
    drop_list = _parse_drop(drop)
    rules = rules or ScreeningRules()
    codes = [] if missing_values is None else (
        [missing_values] if isinstance(missing_values, (str, int, float)) else
        list(missing_values))

    if path.exists() and path.is_file():
        before = sha256_file(path)
        size = path.stat().st_size
    else:
        before = None
    frame = read_data(path, missing_values=codes or None, encoding=encoding)
    fmt = detect_format(path, frame, instrument)
    rules_applied = []
    encoding_used, encoding_note = frame.attrs.get("encoding"), frame.attrs.get("encoding_note")
    if encoding_used:
        rules_applied.append(f"text decoded as {encoding_note}")
    if column_map is not None and fmt != "wjx":
        raise DataError(f"A column mapping file is for Wenjuanxing exports; {path} is a {fmt} "
                        "file, whose columns are named by the item ids.")
    wjx = prepare_wjx(frame, instrument, path, column_map) if fmt == "wjx" else None
    if wjx is not None:
        frame = wjx.frame
        codes += [c for c in wjx.missing_codes if c not in codes]
        rules_applied += wjx.notes
    if fmt == "qualtrics":
        frame = frame.iloc[2:].reset_index(drop=True)
        if _QUALTRICS_MISSING not in codes:
            codes.append(_QUALTRICS_MISSING)
        rules_applied.append("Qualtrics layout: the question-text and ImportId header rows "
                             "were skipped; -99 (seen but unanswered) read as missing")
    if len(frame) == 0:
        raise DataError(f"{path} has no responses (only header rows).")

    mapping = wjx.mapping if wjx is not None else _map_columns(frame, instrument, path)
    raw_codes, label_info = _validate(frame, mapping, instrument, path, fmt, codes)
    if label_info["labels_converted"]:
        rules_applied.append(f"{label_info['labels_converted']} answer labels converted to "
                             "their codes")

    processed = raw_codes.copy()
    reversed_items = []
    for info in instrument.items():
        if info.reverse:
            processed[info.id] = info.reverse_code(processed[info.id])
            reversed_items.append(info.id)
    if reversed_items:
        rules_applied.append("reverse-coded as lowest + highest - answer: "
                             + ", ".join(reversed_items))

    # metadata: ids, durations, personal data
    others = [c for c in frame.columns if c not in set(mapping.values())]
    id_col = _find(frame[others], _ID_COLUMNS) if others else None
    duration, duration_source = _durations(frame[others]) if others else (None, None)
    personal = [c for c in others if c != id_col and _PERSONAL.search(_norm(c))]
    duration_cols = set(duration_source.split(" -> ")) if duration_source else set()
    not_carried = [c for c in others
                   if c != id_col and c not in personal and str(c) not in duration_cols]

    screening, summary = screen(raw_codes, processed, instrument, duration, rules)

    out = pd.DataFrame(index=frame.index)
    out["respondent"] = pd.array(
        [pseudonym(v) for v in frame[id_col].tolist()] if id_col is not None
        else [None] * len(frame), dtype="string")
    out["row"] = pd.array(np.arange(1, len(frame) + 1), dtype="Int64")
    if duration is not None:
        whole = duration.dropna()
        whole_numbers = bool(np.all(np.isclose(whole, whole.round())))
        out["duration_sec"] = (pd.array(duration.round().to_numpy(), dtype="Int64")
                               if whole_numbers else duration.to_numpy(dtype=float))
    for item in instrument.item_ids():
        out[item] = pd.array(processed[item].to_numpy(), dtype="Int64")
    for col in screening.columns:
        out[col] = screening[col]

    keep = np.ones(len(out), dtype=bool)
    dropped = {}
    for criterion in drop_list:
        hit = screening[f"flag_{criterion}"].to_numpy(dtype=bool)
        dropped[criterion] = int((hit & keep).sum())
        keep &= ~hit
    data = out.loc[keep].reset_index(drop=True)

    after = sha256_file(path)
    if before is not None and after != before:
        raise DataError(f"{path} changed while it was being imported; import it again.")

    manifest = {
        "created_by": f"ckm-research {__version__}",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "raw_file": {"name": path.name, "path": str(path), "bytes": size, "sha256": before,
                     "format": fmt, "reader": SUPPORTED_EXTENSIONS.get(path.suffix.lower()),
                     "encoding": encoding_used, "encoding_note": encoding_note,
                     "layout": wjx.variant if wjx else None},
        "instrument": {"id": instrument.id, "version": instrument.version,
                       "file": instrument.path, "sha256": instrument.sha256},
        "rules": {
            "missing_values": [c if isinstance(c, str) else float(c) for c in codes],
            "empty_cells": "missing",
            "reverse_coded": reversed_items,
            "column_mapping": {k: v for k, v in mapping.items() if k != v},
            "applied": rules_applied,
            "personal_data": {
                "removed_columns": [str(c) for c in personal],
                "pseudonymised_id_column": None if id_col is None else str(id_col),
                "pseudonym": "p + first 12 hex digits of sha256(id)",
            },
            "columns_not_carried": [str(c) for c in not_carried],
            "duration_source": duration_source,
            "screening": rules.as_dict(),
            "drop": drop_list,
        },
        "counts": {
            "rows_read": int(len(frame)),
            "rows_written": int(len(data)),
            "rows_dropped": int((~keep).sum()),
            "dropped_by_criterion": dropped,
            "flagged": summary["flag_counts"],
            "flagged_any": summary["flagged"],
            "items": len(instrument.item_ids()),
            "answers_missing": summary["missing_by_respondent"]["cells_missing"],
        },
    }
    return ImportResult(data=data, screening=screening, summary=summary, manifest=manifest,
                        instrument=instrument)


# ---------------------------------------------------------------------------
# writing


def _companion(output: Path, suffix: str) -> Path:
    return output.with_name(output.stem + suffix)


def write_import(result: ImportResult, output: str | os.PathLike,
                 report: str | os.PathLike | None = None) -> dict[str, Path]:
    """Write the processed data, the screening report and the manifest.

    Parameters
    ----------
    result : ImportResult
    output : path
        Processed data: ``.csv`` (UTF-8), ``.xlsx``, ``.sav`` or ``.dta``.
    report : path, optional
        Screening report, Markdown (``.md``) or JSON (``.json``); default
        ``<output stem>.screening.md`` beside the output.

    Returns
    -------
    dict
        ``{"data": path, "report": path, "manifest": path}``; the manifest
        (``<output stem>.manifest.json``) also records the sha256 of the
        processed data and of the report.
    """
    from ckm_research.data.screening_report import render_report

    output = Path(output)
    raw_path = Path(result.manifest["raw_file"]["path"])
    report = Path(report) if report is not None else _companion(output, ".screening.md")
    manifest_path = _companion(output, ".manifest.json")
    for target in (output, report, manifest_path):
        if raw_path.exists() and target.exists() and target.resolve() == raw_path.resolve():
            raise DataError(f"{target} is the raw file: raw files are never overwritten; "
                            "choose another output path.")
    ext = output.suffix.lower()
    if ext not in (".csv", ".xlsx", ".sav", ".dta"):
        raise DataError(f"Cannot write processed data as {output.name}: use .csv, .xlsx, "
                        ".sav or .dta.")
    if report.suffix.lower() not in (".md", ".json"):
        raise DataError(f"The report {report} must be .md (Markdown) or .json.")
    try:
        for target in (output, report):
            target.parent.mkdir(parents=True, exist_ok=True)
        data = result.data
        if ext == ".csv":
            data.to_csv(output, index=False)
        elif ext == ".xlsx":
            data.to_excel(output, index=False)
        else:
            import pyreadstat

            frame = data.copy()
            for col in frame.columns:
                if col != "respondent":
                    frame[col] = frame[col].astype("float64")
            frame["respondent"] = frame["respondent"].astype(object).fillna("")
            writer = pyreadstat.write_sav if ext == ".sav" else pyreadstat.write_dta
            writer(frame, str(output))
        if report.suffix.lower() == ".json":
            text = json.dumps(_json_summary(result), indent=2, ensure_ascii=False)
        else:
            text = render_report(result)
        report.write_text(text, encoding="utf-8")
        manifest = dict(result.manifest)
        manifest["outputs"] = {
            "data": {"path": str(output), "sha256": sha256_file(output)},
            "report": {"path": str(report), "sha256": sha256_file(report)},
        }
        manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                 encoding="utf-8")
    except OSError as exc:
        raise DataError(f"Cannot write the import's output: {exc}.") from None
    return {"data": output, "report": report, "manifest": manifest_path}


def _json_summary(result: ImportResult) -> dict:
    summary = dict(result.summary)
    summary["missing_by_item"] = summary["missing_by_item"].to_dict(orient="records")
    flagged = result.screening[result.screening["flagged"]]
    summary["flagged_rows"] = [int(i) + 1 for i in flagged.index]
    return {"manifest": result.manifest, "screening": summary}
