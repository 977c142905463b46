"""The pipeline's inputs: the model file, the instrument, the analysed rows, and which
parts of the toolkit are installed.

The stage notebooks read what the earlier stages wrote through these functions
(``data/analysis.csv`` in the output folder), so every stage analyses the same rows.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pandas as pd

from ckm_research.errors import CkmError

__all__ = ["feature", "read_model", "load_instrument", "save_analysis_data", "read_analysis_data"]

#: Parts of the toolkit the pipeline uses, by issue: (module, attribute, what).
_FEATURES = {
    "measurement": (
        "ckm_research.measurement",
        "validity_report",
        "reliability and validity (ckm_research.measurement, issue 4)",
    ),
    "cmv": (
        "ckm_research.measurement",
        "ulmc",
        "common-method checks (ckm_research.measurement, issue 4)",
    ),
    "invariance": (
        "ckm_research.measurement",
        "measurement_invariance",
        "measurement invariance (ckm_research.measurement, issue 4)",
    ),
    "interactions": (
        "ckm_research.moderation.dispatch",
        "fit_with_interactions",
        "latent interactions (ckm_research.moderation, issue 4)",
    ),
    "simple_slopes": (
        "ckm_research.moderation.simple_slopes",
        "simple_slopes",
        "simple slopes and Johnson-Neyman (ckm_research.moderation, issue 4)",
    ),
    "bootstrap": (
        "ckm_research.inference.bootstrap",
        "bootstrap",
        "the bootstrap (ckm_research.inference, issue 6)",
    ),
    "power": (
        "ckm_research.inference.power",
        "power_analysis",
        "Monte Carlo power analysis (ckm_research.inference, issue 6)",
    ),
}


def feature(name: str, lang: str = "en") -> tuple[Any, str]:
    """``(function, "")`` if the part of the toolkit is installed, else ``(None, reason)``,
    the reason in the report language ``lang``."""
    module, attr, what = _FEATURES[name]
    try:
        mod = importlib.import_module(module)
        fn = getattr(mod, attr)
    except (ImportError, AttributeError):
        if lang != "en":
            from ckm_research.report.i18n import text as _t

            return None, _t(
                "feature.missing", lang, what=_t(f"feature.{name}", lang), module=module, attr=attr
            )
        return None, (
            f"{what} is not part of this installation of ckm-research yet "
            f"({module}.{attr} is missing), so this part is left out rather than "
            "estimated some other way."
        )
    return fn, ""


def read_model(path: str | Path) -> str:
    """The model syntax in a file (UTF-8, :func:`ckm_research.textfile.read_text`)."""
    from ckm_research.errors import ModelFileError
    from ckm_research.textfile import read_text

    return read_text(path, what="model file", error=ModelFileError)


def load_instrument(
    name_or_path: str | None,
    *,
    model: str | Path | None = None,
    data_file: str | Path | None = None,
    output_dir: str | Path | None = None,
    scale=None,
    missing_values=None,
):
    """The instrument of the study: named, or (``None``) the CKM instrument when the
    model uses only its items, else derived from the model and the data
    (:func:`ckm_research.instrument.derive.derive_instrument`), or the one the
    instrument stage derived into ``output_dir``."""
    from ckm_research.instrument import load_instrument as _load

    if name_or_path is not None:
        return _load(name_or_path)
    ckm = _load("ckm")
    if model is None:
        return ckm
    from ckm_research.report.params import DERIVED_INSTRUMENT
    from ckm_research.sem.partable import variable_roles
    from ckm_research.sem.syntax import parse_model

    text = read_model(model)
    if set(variable_roles(parse_model(text)).ov) <= set(ckm.item_ids()):
        return ckm
    if data_file is not None:
        from ckm_research.instrument.derive import derive_instrument

        return derive_instrument(text, data_file, scale=scale, missing_values=missing_values)
    derived = Path(output_dir or ".") / DERIVED_INSTRUMENT
    if not derived.exists():
        raise CkmError(
            f"The model uses variables that are not items of the CKM instrument, and "
            f"no instrument was given: run notebooks/01_instrument.ipynb first (it "
            f"derives one from the model and the data into {derived}), or set "
            f"instrument to the path of the survey's YAML definition."
        )
    return _load(derived)


def save_analysis_data(frame: pd.DataFrame, out) -> Path:
    """Write the analysed rows to ``data/analysis.csv`` (derived data)."""
    path = out.path("data", "analysis.csv")
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


def read_analysis_data(output_dir: str | Path) -> pd.DataFrame:
    """The rows the data stage kept, items as floats (missing answers NaN)."""
    path = Path(output_dir) / "data" / "analysis.csv"
    if not path.exists():
        raise CkmError(f"{path} does not exist: run the 'data' stage first")
    frame = pd.read_csv(path)
    for col in frame.columns:
        if col != "respondent" and pd.api.types.is_numeric_dtype(frame[col]):
            frame[col] = frame[col].astype("float64")
    return frame
