"""A subsample of the respondents, chosen by the values of some columns."""

from __future__ import annotations

import pandas as pd

from ckm_research.errors import CkmError

__all__ = ["apply_subset"]


def apply_subset(
    frame: pd.DataFrame, subset: dict[str, list], lang: str = "en"
) -> tuple[pd.DataFrame, str]:
    """Rows whose columns take the listed values, and a sentence saying so (in the
    report language ``lang``)."""
    if not subset:
        return frame, ""
    keep = pd.Series(True, index=frame.index)
    parts = []
    for column, values in subset.items():
        col = (
            pd.to_numeric(frame[column], errors="coerce")
            if all(isinstance(v, (int, float)) for v in values)
            else frame[column].astype(str)
        )
        wanted = (
            values if all(isinstance(v, (int, float)) for v in values) else [str(v) for v in values]
        )
        keep &= col.isin(wanted).fillna(False).astype(bool)
        parts.append(f"{column} in {{{', '.join(str(v) for v in values)}}}")
    out = frame.loc[keep].reset_index(drop=True)
    if out.empty:
        raise CkmError("the subset " + " and ".join(parts) + " keeps no respondent")
    if lang != "en":
        from ckm_research.report.i18n import text as _t

        local = [
            _t("subset.part", lang, column=column, values=", ".join(str(v) for v in values))
            for column, values in subset.items()
        ]
        return out, _t("subset.note", lang, parts=_t("subset.and", lang).join(local))
    return out, "Subsample analysed: respondents with " + " and ".join(parts) + "."
