"""Data given as a DataFrame or a file, and the columns a model needs.

Shared by ``ckm_research.sem`` (``factor_scores(newdata=)``, ``predict``) and
``ckm_research.measurement``; it lives in ``data`` so that ``sem`` does not reach
into a private module of ``measurement`` (issue 10).
"""

from __future__ import annotations

import pandas as pd

from ckm_research.errors import CkmError

__all__ = ["as_frame", "check_columns"]


def check_columns(data: pd.DataFrame, columns, what: str = "model") -> None:
    """Raise a clear error when columns are missing from the data."""
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise CkmError(
            f"the {what} uses variable(s) not in the data: {', '.join(missing)}; "
            f"columns are: {', '.join(map(str, data.columns[:30]))}"
            + (" ..." if data.shape[1] > 30 else "")
        )


def require_column(data: pd.DataFrame, column: str, what: str, error=CkmError) -> None:
    """Raise ``error`` naming ``column`` (``what``: "group column", "sampling weights
    column") and the data's columns when the column is not in ``data``."""
    if column not in data.columns:
        raise error(
            f"the {what} '{column}' is not in the data; columns are: "
            + ", ".join(map(str, data.columns[:30]))
            + (" ..." if data.shape[1] > 30 else "")
        )


def as_frame(data) -> pd.DataFrame:
    """A DataFrame from a DataFrame or a data file path."""
    if isinstance(data, pd.DataFrame):
        return data
    from ckm_research.data.io import read_data

    return read_data(data)
