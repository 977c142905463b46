"""Write survey answers in the layouts survey tools export.

Used by ``ckm simulate --format`` to produce files that look like what a
research team downloads from its survey tool, so that the whole import path
(:mod:`ckm_research.data.importer`) can be rehearsed, and tested, before
fieldwork:

- ``csv``, ``excel``: one header row, one column per variable;
- ``spss`` (``.sav``) and ``stata`` (``.dta``): with variable labels and the
  scales' value labels (pyreadstat);
- ``qualtrics``: a Qualtrics "CSV, numeric values" export: three header rows
  (export tags, question text, ``{"ImportId": ...}``) and Qualtrics'
  metadata columns (``StartDate`` ... ``UserLanguage``), including the
  personal data Qualtrics records (IP address, recipient names and e-mail,
  location) - here made up, from address ranges reserved for documentation
  (RFC 5737) and ``example.org`` (RFC 2606);
- ``kobo``: a KoboToolbox export ("XML values and headers", group names
  kept): item columns ``group/item``, ``start``/``end`` time stamps and Kobo's
  ``_id``, ``_uuid``, ``_submission_time`` ... columns; ``;``-separated CSV, or
  ``.xlsx``.

Input is a data frame as :func:`~ckm_research.data.simulate.simulate`
returns it: ``respondent``, ``duration_sec`` and the instrument's items.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ckm_research.errors import DataError
from ckm_research.instrument import Instrument

__all__ = ["WRITE_FORMATS", "write_responses", "format_for_path"]

#: Formats :func:`write_responses` writes, with their usual extensions.
from ckm_research.data.choices import WRITE_FORMATS  # noqa: E402  (light, for ckm --help)

_ID = "respondent"
_DURATION = "duration_sec"
_START = pd.Timestamp("2026-03-02 09:00:00")


def format_for_path(path: str | os.PathLike) -> str:
    """The plain format an output extension implies (``.sav`` -> ``spss``)."""
    ext = Path(path).suffix.lower()
    for fmt in ("csv", "excel", "spss", "stata"):
        if ext in WRITE_FORMATS[fmt]:
            return fmt
    raise DataError(
        f"Cannot tell the format of {path} from its extension {ext or '(none)'!r}: use .csv, "
        ".xlsx, .sav or .dta, or give --format."
    )


def write_responses(data: pd.DataFrame, path: str | os.PathLike, fmt: str | None = None,
                    instrument: Instrument | None = None, *, labels: bool = False) -> Path:
    """Write answers in the layout of ``fmt`` (see :data:`WRITE_FORMATS`).

    Parameters
    ----------
    data : pandas.DataFrame
        ``respondent``, ``duration_sec`` (optional) and item columns.
    path : str or path-like
    fmt : str, optional
        Default: from the extension (``.csv``, ``.xlsx``, ``.sav``, ``.dta``).
    instrument : Instrument
        Needed for labels (SPSS, Stata, Qualtrics question text, Kobo groups).
    labels : bool, default False
        Qualtrics and Kobo only: write answer labels (first language) instead
        of numeric codes, as their "choice text" / "labels" exports do.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    fmt = (fmt or format_for_path(path)).lower()
    if fmt not in WRITE_FORMATS:
        raise DataError(f"Unknown output format {fmt!r}; choose one of "
                        f"{', '.join(WRITE_FORMATS)}.")
    if path.suffix.lower() not in WRITE_FORMATS[fmt]:
        raise DataError(f"A {fmt} file is written as {' or '.join(WRITE_FORMATS[fmt])}; "
                        f"{path} has another extension.")
    if fmt in ("spss", "stata", "qualtrics", "kobo") and instrument is None:
        raise ValueError(f"The 'instrument' parameter of write_responses is needed for {fmt}.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            data.to_csv(path, index=False)
        elif fmt == "excel":
            data.to_excel(path, index=False)
        elif fmt in ("spss", "stata"):
            _write_stats(data, path, fmt, instrument)
        elif fmt == "qualtrics":
            _write_qualtrics(data, path, instrument, labels)
        else:
            _write_kobo(data, path, instrument, labels)
    except OSError as exc:
        raise DataError(f"Cannot write {path}: {exc.strerror}.") from None
    return path


def _items(data: pd.DataFrame, instrument: Instrument):
    return [i for i in instrument.items() if i.id in data.columns]


def _as_labels(series: pd.Series, info, lang: str, instrument: Instrument) -> pd.Series:
    if info.scale.type == "integer":
        return series
    names = {c.value: instrument.text(c.label, lang) for c in info.scale.choices}
    return series.map(lambda v: names.get(int(v), v) if pd.notna(v) else v)


def _write_stats(data: pd.DataFrame, path: Path, fmt: str, instrument: Instrument) -> None:
    import pyreadstat

    lang = instrument.languages[0]
    frame = data.copy()
    for col in frame.columns:
        if col != _ID:
            frame[col] = frame[col].astype("float64")
    limit = 80 if fmt == "stata" else 250
    labels = {_ID: "Respondent id", _DURATION: "Completion time (seconds)"}
    value_labels = {}
    for info in _items(frame, instrument):
        text = instrument.text(info.text, lang)
        labels[info.id] = text if len(text) <= limit else text[: limit - 3] + "..."
        if info.scale.type != "integer":
            value_labels[info.id] = {
                float(c.value): instrument.text(c.label, lang)[:32 if fmt == "stata" else 120]
                for c in info.scale.choices
            }
    column_labels = [labels.get(c, c) for c in frame.columns]
    if fmt == "spss":
        pyreadstat.write_sav(frame, str(path), column_labels=column_labels,
                             variable_value_labels=value_labels)
    else:
        pyreadstat.write_dta(frame, str(path), column_labels=column_labels,
                             variable_value_labels=value_labels)


def _timestamps(data: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    n = len(data)
    start = pd.Series([_START + pd.Timedelta(minutes=23 * i) for i in range(n)])
    if _DURATION in data.columns:
        dur = pd.to_numeric(data[_DURATION]).fillna(0).astype(int)
    else:
        dur = pd.Series(np.zeros(n, dtype=int))
    end = start + pd.to_timedelta(dur.to_numpy(), unit="s")
    return start, end


def _write_qualtrics(data: pd.DataFrame, path: Path, instrument: Instrument,
                     labels: bool) -> None:
    lang = instrument.languages[0]
    n = len(data)
    start, end = _timestamps(data)
    fmt = "%Y-%m-%d %H:%M:%S"
    first = ["Ana", "Bo", "Chen", "Dana", "Eli", "Fang", "Gus", "Hui"]
    last = ["Li", "Smith", "Wang", "Garcia", "Zhang", "Brown", "Liu", "Khan"]
    meta = {
        "StartDate": ("Start Date", '{"ImportId":"startDate","timeZone":"Asia/Shanghai"}',
                      start.dt.strftime(fmt)),
        "EndDate": ("End Date", '{"ImportId":"endDate","timeZone":"Asia/Shanghai"}',
                    end.dt.strftime(fmt)),
        "Status": ("Response Type", '{"ImportId":"status"}', ["0"] * n),
        "IPAddress": ("IP Address", '{"ImportId":"ipAddress"}',
                      [f"{('192.0.2', '198.51.100', '203.0.113')[i % 3]}.{i % 250 + 1}"
                       for i in range(n)]),
        "Progress": ("Progress", '{"ImportId":"progress"}', ["100"] * n),
        "Duration (in seconds)": ("Duration (in seconds)", '{"ImportId":"duration"}',
                                  data[_DURATION].astype("string").fillna("")
                                  if _DURATION in data else [""] * n),
        "Finished": ("Finished", '{"ImportId":"finished"}', ["1"] * n),
        "RecordedDate": ("Recorded Date",
                         '{"ImportId":"recordedDate","timeZone":"Asia/Shanghai"}',
                         end.dt.strftime(fmt)),
        "ResponseId": ("Response ID", '{"ImportId":"_recordId"}', data[_ID].astype(str)),
        "RecipientLastName": ("Recipient Last Name", '{"ImportId":"recipientLastName"}',
                              [last[i % len(last)] for i in range(n)]),
        "RecipientFirstName": ("Recipient First Name", '{"ImportId":"recipientFirstName"}',
                               [first[i % len(first)] for i in range(n)]),
        "RecipientEmail": ("Recipient Email", '{"ImportId":"recipientEmail"}',
                           [f"informant{i + 1}@example.org" for i in range(n)]),
        "ExternalReference": ("External Data Reference", '{"ImportId":"externalDataReference"}',
                              [f"FIRM-{1000 + i}" for i in range(n)]),
        "LocationLatitude": ("Location Latitude", '{"ImportId":"locationLatitude"}',
                             [f"{30.0 + (i % 97) / 100:.4f}" for i in range(n)]),
        "LocationLongitude": ("Location Longitude", '{"ImportId":"locationLongitude"}',
                              [f"{120.0 + (i % 89) / 100:.4f}" for i in range(n)]),
        "DistributionChannel": ("Distribution Channel", '{"ImportId":"distributionChannel"}',
                                ["email"] * n),
        "UserLanguage": ("User Language", '{"ImportId":"userLanguage"}',
                         ["ZH-S" if i % 2 else "EN" for i in range(n)]),
    }
    columns, row2, row3, values = [], [], [], []
    for name, (text, import_id, col) in meta.items():
        columns.append(name)
        row2.append(text)
        row3.append(import_id)
        values.append(pd.Series(list(col)))
    for k, info in enumerate(_items(data, instrument), start=1):
        col = data[info.id]
        if labels:
            col = _as_labels(col, info, lang, instrument)
        columns.append(info.id)
        row2.append(instrument.text(info.text, lang))
        row3.append(json.dumps({"ImportId": f"QID{k}"}))
        values.append(col.astype("string").fillna("").reset_index(drop=True))
    body = pd.concat(values, axis=1)
    body.columns = columns
    head = pd.DataFrame([row2, row3], columns=columns)
    pd.concat([head, body], ignore_index=True).to_csv(path, index=False, encoding="utf-8-sig")


def _write_kobo(data: pd.DataFrame, path: Path, instrument: Instrument, labels: bool) -> None:
    lang = instrument.languages[0]
    n = len(data)
    start, end = _timestamps(data)
    iso = "%Y-%m-%dT%H:%M:%S.000+08:00"
    out = {
        "start": start.dt.strftime(iso),
        "end": end.dt.strftime(iso),
        "today": start.dt.strftime("%Y-%m-%d"),
        "deviceid": [f"collect:device{i % 37:04d}" for i in range(n)],
    }
    for info in _items(data, instrument):
        col = data[info.id]
        if labels:
            col = _as_labels(col, info, lang, instrument)
        out[f"{info.section}/{info.id}"] = col.reset_index(drop=True)
    out.update({
        "__version__": ["vKpT3xQ2"] * n,
        "meta/instanceID": ["uuid:" + str(v) for v in data[_ID]],
        "_id": list(range(100001, 100001 + n)),
        "_uuid": list(data[_ID].astype(str)),
        "_submission_time": end.dt.strftime("%Y-%m-%dT%H:%M:%S"),
        "_validation_status": [""] * n,
        "_notes": [""] * n,
        "_status": ["submitted_via_web"] * n,
        "_submitted_by": [f"enumerator{i % 5 + 1}" for i in range(n)],
        "_tags": [""] * n,
        "_index": list(range(1, n + 1)),
    })
    frame = pd.DataFrame({k: list(v) if not isinstance(v, pd.Series) else v.to_numpy()
                          for k, v in out.items()})
    if path.suffix.lower() == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False, sep=";")
