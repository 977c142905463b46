"""Measurement invariance of ordinal items (WLSMV), after Wu & Estabrook (2016).

Wu, H., & Estabrook, R. (2016). Identification of confirmatory factor analysis
models of different levels of invariance for ordered categorical outcomes.
*Psychometrika*, 81(4), 1014-1045.

The levels and their identification are those of
``semTools::measEq.syntax(ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016",
parameterization = "delta")``, with thresholds constrained first:

============  ================================  ======================================
level         equal across groups               freed in groups 2.. (fixed in group 1)
============  ================================  ======================================
configural    nothing                           nothing: latent-response intercepts 0,
                                                scales 1, factor means 0, variances 1
thresholds    thresholds                        intercepts, scales (``~*~``)
loadings      thresholds, loadings              + factor variances
intercepts    thresholds, loadings, intercepts  + factor means (intercepts back at 0)
============  ================================  ======================================

Successive models are compared with lavaan's ``lavTestLRT`` for WLSMV, the
scaled-and-shifted difference of Satorra (2000), ``method = "satorra.2000"``
(:func:`ckm_research.measurement.chisq_difference`), and by the changes in the
scaled CFI and RMSEA (as ``semTools::compareFit`` shows them for WLSMV).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ckm_research.errors import CkmError
from ckm_research.measurement._common import as_frame, check_columns, read_model
from ckm_research.measurement.invariance import (
    InvarianceResult,
    _compare,
    _fit_row,
    _not_tested_row,
)
from ckm_research.sem.syntax import parse_model

__all__ = ["ORDINAL_LEVELS", "ordinal_invariance", "wu_estabrook_syntax"]

#: The ordinal levels and the measEq.syntax ``group.equal`` of each.
ORDINAL_LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "thresholds": ("thresholds",),
    "loadings": ("thresholds", "loadings"),
    "intercepts": ("thresholds", "loadings", "intercepts"),
}


def _cfa_structure(model_text: str) -> tuple[dict[str, list[str]], list[str]]:
    parsed = parse_model(model_text)
    factors: dict[str, list[str]] = {}
    for s in parsed.statements:
        if s.op == "=~":
            factors.setdefault(s.lhs, [])
            if s.rhs not in factors[s.lhs]:
                factors[s.lhs].append(s.rhs)
        elif s.op not in ("~~",):
            raise CkmError(
                f"ordinal_invariance takes a CFA (F =~ items and covariances); the model has "
                f"'{s.lhs} {s.op} {s.rhs}' (line {s.line})"
            )
        elif s.lhs != s.rhs and (s.lhs not in factors or s.rhs not in factors):
            raise CkmError(
                f"ordinal_invariance: residual covariance '{s.lhs} ~~ {s.rhs}' is not "
                "supported (the Wu & Estabrook models here have none)"
            )
    lv = set(factors)
    nested = sorted({i for its in factors.values() for i in its} & lv)
    if nested:
        raise CkmError(
            "ordinal_invariance: higher-order factors are not supported (" + ", ".join(nested) + ")"
        )
    items = [i for its in factors.values() for i in its]
    if len(set(items)) != len(items):
        raise CkmError("ordinal_invariance: an item loads on two factors; not supported")
    return factors, items


def wu_estabrook_syntax(
    model, n_thresholds: dict[str, int], ngroups: int, level: str = "configural"
) -> str:
    """lavaan syntax of one Wu & Estabrook (2016) invariance model.

    The same model as ``semTools::measEq.syntax(model, ordered = items,
    parameterization = "delta", ID.fac = "std.lv", ID.cat =
    "Wu.Estabrook.2016", group.equal = ORDINAL_LEVELS[level])`` (see the
    module's table).

    Parameters
    ----------
    model : str
        A CFA in lavaan syntax (factors measured by ordered items).
    n_thresholds : dict
        Item -> number of thresholds (categories - 1; at least 2).
    ngroups : int
    level : {'configural', 'thresholds', 'loadings', 'intercepts'}
    """
    if level not in ORDINAL_LEVELS:
        raise CkmError(
            f"The 'level' parameter of wu_estabrook_syntax must be one of "
            f"{list(ORDINAL_LEVELS)}. Got {level!r} instead."
        )
    equal = set(ORDINAL_LEVELS[level])
    factors, items = _cfa_structure(read_model(model))
    G = ngroups

    def vec(first: str, rest: str) -> str:
        return "c(" + ", ".join([first] + [rest] * (G - 1)) + ")"

    def labels(stem: str, same: bool) -> str:
        return "c(" + ", ".join(stem if same else f"{stem}.g{g}" for g in range(1, G + 1)) + ")"

    lines = []
    for f, its in factors.items():
        for i in its:
            lines.append(
                f"{f} =~ {vec('NA', 'NA')}*{i} + "
                f"{labels(f'lambda.{i}.{f}', 'loadings' in equal)}*{i}"
            )
    for i in items:
        for k in range(1, n_thresholds[i] + 1):
            lines.append(
                f"{i} | {vec('NA', 'NA')}*t{k} + "
                f"{labels(f'{i}.thr{k}', 'thresholds' in equal)}*t{k}"
            )
    free_nu = "thresholds" in equal and "intercepts" not in equal
    for i in items:
        lines.append(f"{i} ~ {vec('0', 'NA' if free_nu else '0')}*1")
        lines.append(f"{i} ~*~ {vec('1', 'NA' if 'thresholds' in equal else '1')}*{i}")
    lvs = list(factors)
    for f in lvs:
        lines.append(f"{f} ~ {vec('0', 'NA' if 'intercepts' in equal else '0')}*1")
        lines.append(f"{f} ~~ {vec('1', 'NA' if 'loadings' in equal else '1')}*{f}")
    for a in range(len(lvs)):
        for b in range(a + 1, len(lvs)):
            lines.append(f"{lvs[a]} ~~ {vec('NA', 'NA')}*{lvs[b]}")
    return "\n".join(lines) + "\n"


def ordinal_invariance(
    model,
    data,
    group: str,
    *,
    levels: Sequence[str] = ("configural", "thresholds", "loadings", "intercepts"),
    criterion: str = "fit",
    alpha: float = 0.05,
    missing_values=None,
) -> InvarianceResult:
    """The Wu & Estabrook (2016) invariance sequence of ordinal items, by WLSMV.

    Each level (:data:`ORDINAL_LEVELS`) is fitted from
    :func:`wu_estabrook_syntax` with ``estimator='WLSMV'``, every item
    ordered, and compared with the level before by lavaan's satorra.2000
    scaled difference test and the changes in the scaled CFI and RMSEA
    (:data:`~ckm_research.measurement.invariance.DELTA_CUTOFFS`).  The sequence
    is hierarchical: after a level that does not hold, the later ones are
    reported as not tested.  No partial-invariance search is made for ordinal
    items (releasing thresholds needs the identification conditions of Wu &
    Estabrook's section 4 item by item); the result says so when a level fails.

    Parameters
    ----------
    model : str or pathlib.Path
        A CFA (``F =~ items``; factor covariances allowed).
    data : pandas.DataFrame or path
        Items coded as ordered integers; every item with at least three
        categories (binary items need Wu & Estabrook's other identification).
    group : str
    levels : sequence of str
        An ordered subset of ``configural thresholds loadings intercepts``.
    criterion : {'fit', 'chisq', 'both'}
        As :func:`~ckm_research.measurement.measurement_invariance`.
    alpha : float
    missing_values : optional
        Codes meaning "no answer" (rows with a missing item are dropped,
        lavaan's listwise deletion for WLSMV).

    Returns
    -------
    InvarianceResult
        With ``estimator = 'WLSMV'`` and the indices ``cfi.scaled`` and
        ``rmsea.scaled``.

    Examples
    --------
    Holzinger-Swineford's items cut into three ordered categories (with three
    categories the thresholds level is equivalent to the configural model, and
    is reported as not testable):

    >>> import pandas as pd
    >>> from ckm_research.data.examples import load_dataset
    >>> items = [f"x{i}" for i in range(1, 7)]
    >>> df = load_dataset("HolzingerSwineford1939")[["school", *items]]
    >>> df[items] = df[items].apply(lambda s: pd.qcut(s, 3, labels=False) + 1)
    >>> inv = ordinal_invariance("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6", df,
    ...                          "school")
    >>> inv.table[["model", "df", "status"]]
            model    df         status
    0  configural  16.0       baseline
    1  thresholds  16.0      supported
    2    loadings  20.0      supported
    3  intercepts  24.0  not supported

    In R: ``semTools::measEq.syntax(model, data, ordered = items, group =
    "school", ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016", group.equal =
    ..., return.fit = TRUE)`` for each level, then ``lavTestLRT``.
    """
    from ckm_research import fit
    from ckm_research.measurement.invariance import CRITERIA

    levels = list(levels)
    order = list(ORDINAL_LEVELS)
    if (
        not levels
        or any(lv not in ORDINAL_LEVELS for lv in levels)
        or [order.index(lv) for lv in levels] != sorted(order.index(lv) for lv in levels)
    ):
        raise CkmError(
            f"The 'levels' parameter of ordinal_invariance must list levels among {order} in "
            f"that order. Got {levels!r} instead."
        )
    if criterion not in CRITERIA:
        raise CkmError(
            f"The 'criterion' parameter of ordinal_invariance must be one of {list(CRITERIA)}. "
            f"Got {criterion!r} instead."
        )
    model_text = read_model(model)
    factors, items = _cfa_structure(model_text)
    frame = as_frame(data)
    check_columns(frame, [group, *items], what="ordinal invariance")
    groups = frame[group].dropna().unique()
    if len(groups) < 2:
        raise CkmError(f"the group column '{group}' has fewer than two groups")
    n_thr = {}
    for i in items:
        values = pd.to_numeric(frame[i], errors="coerce")
        if missing_values is not None:
            values = values.where(~values.isin(list(missing_values)))
        k = int(values.dropna().nunique())
        if k < 3:
            raise CkmError(
                f"item {i} has {k} categories; ordinal_invariance needs at least three per item "
                "(binary items need Wu & Estabrook's (2016) binary identification, not "
                "implemented)"
            )
        n_thr[i] = k - 1
    indices = {"cfi": "cfi.scaled", "tli": "tli.scaled", "rmsea": "rmsea.scaled", "srmr": "srmr"}
    fits: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    accepted = None
    blocked = None
    for lv in levels:
        if blocked is not None:
            rows.append(_not_tested_row(lv, blocked))
            continue
        syntax = wu_estabrook_syntax(model_text, n_thr, len(groups), lv)
        try:
            res = fit(
                syntax,
                frame,
                estimator="WLSMV",
                ordered=items,
                group=group,
                missing_values=missing_values,
            )
        except CkmError as exc:
            raise type(exc)(f"the {lv} model (Wu & Estabrook, 2016): {exc}") from None
        fits[lv] = res
        row = _fit_row(lv, lv, res, indices, False, [])
        row["chisq.scaled"] = res.fit_measures.get("chisq.scaled", np.nan)
        if accepted is None:
            row.update(
                {
                    "compared.with": "",
                    "chisq.diff": np.nan,
                    "df.diff": np.nan,
                    "pvalue.diff": np.nan,
                    "delta.cfi": np.nan,
                    "delta.rmsea": np.nan,
                    "delta.srmr": np.nan,
                    "status": "baseline",
                    "decision": "baseline",
                }
            )
            rows.append(row)
            accepted = (lv, res, row)
            continue
        if res.fit_measures.get("df") == accepted[1].fit_measures.get("df"):
            # an equivalent model, not a restriction: with three response categories
            # Wu & Estabrook's threshold constraints only identify the model, so the
            # level cannot be tested (their Proposition on equivalent models)
            row.update(
                {
                    "compared.with": accepted[0],
                    "chisq.diff": np.nan,
                    "df.diff": 0.0,
                    "pvalue.diff": np.nan,
                    "delta.cfi": np.nan,
                    "delta.rmsea": np.nan,
                    "delta.srmr": np.nan,
                    "status": "supported",
                    "decision": (
                        f"equivalent to the {accepted[0]} model (the same df and fit: with "
                        "this few response categories the constraints only identify the "
                        "model, Wu & Estabrook, 2016); not testable"
                    ),
                }
            )
            notes.append(
                f"{lv}: equivalent to the {accepted[0]} model (same degrees of freedom), so "
                "not a testable level with items of this few categories (Wu & Estabrook, 2016)"
            )
            rows.append(row)
            accepted = (lv, res, row)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            holds = _compare(
                row, "metric" if lv == "loadings" else lv, res, accepted, criterion, alpha
            )
        rows.append(row)
        if holds:
            accepted = (lv, res, row)
        else:
            blocked = (
                f"{lv} invariance is not supported (no partial-invariance search for ordinal items)"
            )
    for lv, res in fits.items():
        notes += [f"{lv}: {w}" for w in res.warnings]
    first = fits[levels[0]]
    return InvarianceResult(
        fits=fits,
        table=pd.DataFrame(rows),
        indices=indices,
        group=group,
        group_labels=tuple(first.group_labels),
        estimator="WLSMV",
        n_per_group=tuple(int(n) for n in first.n_per_group),
        notes=notes,
        criterion=criterion,
    )
