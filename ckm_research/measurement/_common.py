"""What the measurement statistics read from a model and a fitted result.

Private helpers: the factor -> indicator map of a model, the loading matrix,
the model-implied factor covariance matrix (lavaan's ``lavInspect(fit,
"cov.lv")``) and the sample covariance matrix (lavaan's ``lavInspect(fit,
"sampstat")``, divisor N) of every group of a fitted model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ckm_research.data.frames import as_frame, check_columns  # noqa: F401 (re-exported)
from ckm_research.errors import CkmError, ModelSpecificationError
from ckm_research.numerics import to_json_ready
from ckm_research.sem.results import SEMResults
from ckm_research.sem.syntax import parse_model

__all__: list[str] = []


def read_model(model) -> str:
    """Model syntax from a string or a ``.lav`` path (:func:`ckm_research.textfile.model_text`)."""
    from ckm_research.textfile import model_text

    return model_text(model)


def factor_indicators(model) -> dict[str, list[str]]:
    """``{factor: [observed indicators]}`` from lavaan syntax or a fitted result.

    Only observed indicators count: the first-order factors of a
    higher-order factor are left out (as in semTools, which reads lavaan's
    ``lambda`` matrix).
    """
    if isinstance(model, SEMResults):
        est = model.estimates
        if "group" in est.columns:
            est = est[est["group"] == 1]
        rows = est[est["op"] == "=~"]
        ov = set(model.engine.model.ov)
        out: dict[str, list[str]] = {}
        for lhs, rhs in zip(rows["lhs"], rows["rhs"], strict=True):
            if rhs in ov:
                out.setdefault(lhs, []).append(rhs)
        return out
    parsed = parse_model(read_model(model))
    lv = {s.lhs for s in parsed.statements if s.op == "=~"}
    out = {}
    for s in parsed.statements:
        if s.op == "=~" and s.rhs not in lv:
            items = out.setdefault(s.lhs, [])
            if s.rhs not in items:
                items.append(s.rhs)
    if not out:
        raise ModelSpecificationError(
            "the model defines no factors (no '=~' statement); measurement statistics need "
            "factors with indicators, e.g. 'F =~ x1 + x2 + x3'"
        )
    return out


@dataclass
class Block:
    """The matrices of one group of a fitted model."""

    label: object
    ov: list[str]
    lv: list[str]
    lam: pd.DataFrame  # observed x latent loadings
    phi: pd.DataFrame  # model-implied factor covariance matrix
    sample_cov: pd.DataFrame
    implied_cov: pd.DataFrame


def require_result(result, who: str) -> SEMResults:
    if not isinstance(result, SEMResults) or result.engine is None:
        raise CkmError(
            f"The 'result' parameter of {who} must be a fitted SEMResults "
            f"(from ckm_research.fit). Got {type(result).__name__} instead."
        )
    return result


def blocks(result: SEMResults) -> list[Block]:
    """Loadings, factor covariances and sample/implied covariances per group."""
    eng = result.engine
    model = eng.model
    ov = list(model.ov)
    lv = list(model.lv)
    k = len(ov)
    vals = eng.row_values()
    t = eng.pt.table
    out = []
    for g in range(model.ngroups):
        A, S, _ = model.matrices_from_rows(vals, g)
        E = model.total_effects_inverse(A)
        C = E @ S @ E.T
        lam = pd.DataFrame(0.0, index=ov, columns=lv)
        rows = np.flatnonzero((t["op"].to_numpy() == "=~") & (t["group"].to_numpy() == g + 1))
        for r in rows:
            lhs, rhs = t["lhs"].iat[r], t["rhs"].iat[r]
            if rhs in lam.index:
                lam.loc[rhs, lhs] = vals[r]
        s_cov, _ = eng.sample_moments(g)
        out.append(
            Block(
                label=eng.groups[g].label,
                ov=ov,
                lv=lv,
                lam=lam,
                phi=pd.DataFrame(C[k:, k:], index=lv, columns=lv),
                sample_cov=pd.DataFrame(np.asarray(s_cov), index=ov, columns=ov),
                implied_cov=pd.DataFrame(C[:k, :k], index=ov, columns=ov),
            )
        )
    return out


def multi_indicator_factors(lam: pd.DataFrame) -> list[str]:
    """Factors with more than one observed indicator (semTools ``dropSingle``)."""
    return [f for f in lam.columns if int((lam[f] != 0).sum()) > 1]


def group_frame(result: SEMResults, rows: list[dict]) -> pd.DataFrame:
    """A tidy frame; a ``group`` column first when the model has groups."""
    frame = pd.DataFrame(rows)
    if result.ngroups == 1 and "group" in frame.columns:
        frame = frame.drop(columns="group")
    return frame.reset_index(drop=True)


#: JSON-safe copy (NaN -> None, numpy -> Python): the package's one cleaner
clean_json = to_json_ready


def format_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """Plain-text table with fixed decimals (for ``summary()``)."""
    if frame.empty:
        return "  (none)"

    def fmt(v):
        if isinstance(v, (float, np.floating)):
            return "" if np.isnan(v) else f"{v:.{digits}f}"
        return str(v)

    text = frame.map(fmt)
    return text.to_string(index=False)
