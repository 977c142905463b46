"""An instrument derived from a lavaan model and a data file, for a survey without one.

``ckm run -p data_file my.csv -p model my.lav`` analyses a survey that has no
instrument definition (``surveys/*.yaml``): :func:`derive_instrument` writes
the definition the pipeline needs from what the model and the data say.

- Constructs: one section per factor of the model (``F =~ ...``), role
  ``construct``, its indicators in the order written.
- Items: the model's observed variables, named as the data's columns (matched
  ignoring case, as the importer does); observed variables that measure no
  factor (observed predictors) become profile questions on a whole-number
  scale spanning their observed range.
- Answer scale: ``scale = (lowest, highest)`` when given, else the smallest and
  largest answer to any indicator in the data (the answers must be whole
  numbers, as on a rating scale).

The wording of each item is its column name and the source says that the
instrument was derived, so the report does not pretend to know more.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ckm_research.instrument.load import instrument_from_dict
from ckm_research.instrument.schema import Instrument, InstrumentError

__all__ = ["derive_instrument", "instrument_yaml", "DERIVED_ID"]

#: The id of every derived instrument.
DERIVED_ID = "derived"


def _read_columns(data: str | os.PathLike | pd.DataFrame, missing_values) -> pd.DataFrame:
    from ckm_research.data.io import read_data

    return read_data(data, missing_values=list(missing_values or []) or None)


def derive_instrument(
    model_text: str,
    data: str | os.PathLike | pd.DataFrame,
    *,
    scale: tuple[int, int] | list[int] | None = None,
    missing_values=None,
    title: str | None = None,
) -> Instrument:
    """The instrument of a survey known only by its model and its data.

    Parameters
    ----------
    model_text : str
        The model in lavaan syntax (its factors are the constructs).
    data : path or DataFrame
        The raw responses (any format :func:`ckm_research.data.io.read_data`
        reads); only the columns the model names are used.
    scale : (int, int), optional
        Lowest and highest answer of the rating scale; default: the range of
        the answers to the indicators in ``data``.
    missing_values : list, optional
        Codes meaning "no answer" (left out of the observed range).
    title : str, optional
        Title of the instrument (default: from the data file's name).

    Returns
    -------
    Instrument
        With id ``"derived"``; :func:`instrument_yaml` writes it as a
        definition a researcher can edit (wording, sources) and pass back.

    Raises
    ------
    InstrumentError
        A variable of the model is not a column of the data, or the answers
        are not whole numbers, or an id is not usable as an item id.
    """
    from ckm_research.sem.modelsyntax import indicators
    from ckm_research.sem.partable import variable_roles
    from ckm_research.sem.syntax import parse_model

    parsed = parse_model(model_text)
    factors = indicators(parsed)
    observed = list(variable_roles(parsed).ov)
    frame = _read_columns(data, missing_values)
    name = Path(data).name if not isinstance(data, pd.DataFrame) else "the data"
    by_lower: dict[str, list[str]] = {}
    for col in frame.columns:
        by_lower.setdefault(str(col).strip().lower(), []).append(col)
    absent = [v for v in observed if v.lower() not in by_lower]
    if absent:
        raise InstrumentError(
            f"The model names variables that are not columns of {name}: {', '.join(absent)} "
            f"(its columns: {', '.join(map(str, frame.columns[:40]))}"
            f"{' ...' if len(frame.columns) > 40 else ''}). Name the model's observed "
            "variables as the data's columns."
        )
    column = {v: by_lower[v.lower()][0] for v in observed}
    indicator_ids = [i for items in factors.values() for i in items if i in column]

    def numbers(var: str) -> pd.Series:
        values = pd.to_numeric(frame[column[var]], errors="coerce")
        text = frame[column[var]].notna() & values.isna()
        if text.any():
            raise InstrumentError(
                f"The column {column[var]} of {name} holds answers that are not numbers "
                f"({frame[column[var]][text].iloc[0]!r}); give their codes in missing_values, "
                "or an instrument whose scale labels them."
            )
        return values.dropna()

    if scale is not None:
        low, high = int(scale[0]), int(scale[1])
    else:
        answers = (
            pd.concat([numbers(i) for i in indicator_ids])
            if indicator_ids
            else pd.Series(dtype=float)
        )
        if answers.empty:
            raise InstrumentError(f"The indicators of the model have no answers in {name}.")
        if not np.allclose(answers, np.round(answers)):
            raise InstrumentError(
                f"The indicators of the model take values that are not whole numbers in "
                f"{name}; the pipeline reads answers on a rating scale. Give an instrument "
                "(-p instrument FILE.yaml) for other answers."
            )
        low, high = int(answers.min()), int(answers.max())
    if low >= high:
        raise InstrumentError(
            f"The answer scale {low}..{high} has fewer than two points; give "
            "its range with -p scale [LOWEST, HIGHEST]."
        )
    choices = [{"value": v, "label": {"en": str(v)}} for v in range(low, high + 1)]
    sections: list[dict] = []
    for factor, items in factors.items():
        if factor in column:  # a factor named as a column: lavaan would refuse it too
            continue
        sections.append(
            {
                "id": _section_id(factor, len(sections)),
                "role": "construct",
                "construct": factor,
                "title": {"en": factor},
                "items": [
                    {"id": column[i], "text": {"en": column[i]}, "source": "derived"} for i in items
                ],
            }
        )
    others = [v for v in observed if v not in indicator_ids]
    scales: dict = {"answers": {"type": "ordinal", "choices": choices}}
    if others:
        profile = []
        for var in others:
            values = numbers(var)
            lo, hi = (
                (int(np.floor(values.min())), int(np.ceil(values.max())))
                if not values.empty
                else (0, 1)
            )
            scales[f"range_{len(profile) + 1}"] = {"type": "integer", "min": lo, "max": hi}
            profile.append(
                {
                    "id": column[var],
                    "text": {"en": column[var]},
                    "scale": f"range_{len(profile) + 1}",
                }
            )
        sections.insert(
            0,
            {
                "id": "observed",
                "role": "profile",
                "title": {"en": "Observed variables"},
                "items": profile,
            },
        )
    definition = {
        "id": DERIVED_ID,
        "version": "derived",
        "languages": ["en"],
        "title": {"en": title or f"Survey of {name}"},
        "default_scale": "answers",
        "scales": scales,
        "sources": {
            "derived": {
                "citation": f"Items as named in the columns of {name}; "
                "instrument derived from the model and the data "
                "(no wording or source given)."
            }
        },
        "sections": sections,
    }
    try:
        return instrument_from_dict(definition, source=f"the instrument derived from {name}")
    except InstrumentError as exc:
        raise InstrumentError(
            f"{exc}\nRename the columns (and the model's variables) to letters, digits and _, "
            "or give an instrument with -p instrument FILE.yaml."
        ) from None


def _section_id(factor: str, k: int) -> str:
    import re

    text = re.sub(r"[^a-z0-9_]", "_", factor.lower())
    return text if re.match(r"^[a-z][a-z0-9_]{0,31}$", text) else f"construct_{k + 1}"


def instrument_yaml(instrument: Instrument, path: str | os.PathLike) -> Path:
    """Write ``instrument`` as a YAML definition (``load_instrument`` reads it back)."""
    import yaml

    data = instrument.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)
    for key in ("id", "version", "languages", "title", "scales", "sections"):
        data.setdefault(key, getattr(instrument, key))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# Instrument derived by ckm-research from the model and the data (no instrument\n"
        "# was given). Edit the wording and sources, then pass it back with\n"
        "# -p instrument THIS_FILE.yaml.\n"
    )
    path.write_text(
        header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    return path
