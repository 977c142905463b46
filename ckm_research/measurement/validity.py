"""Convergent and discriminant validity: HTMT, the Fornell-Larcker table,
standardized loadings, and flags against cited thresholds.

=============================  ===============================================
function                       R equivalent
=============================  ===============================================
:func:`htmt`                   ``semTools::htmt(model, data)`` (semTools
                               0.5.6 default ``htmt2 = TRUE``: HTMT2)
:func:`fornell_larcker`        ``sqrt(semTools::AVE(fit))`` on the diagonal,
                               ``lavInspect(fit, "cor.lv")`` off it
:func:`standardized_loadings`  ``standardizedSolution(fit)`` rows ``=~``
:func:`validity_flags`         -- (the thresholds of :data:`THRESHOLDS`)
:func:`validity_report`        all of the above plus alpha, omega and AVE
=============================  ===============================================

Thresholds are conventions, not tests; each flag cites where it comes from so
that a reader can judge it (Hair, Risher, Sarstedt & Ringle, 2019, discuss
their use).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ckm_research.errors import CkmError
from ckm_research.measurement._common import (
    as_frame,
    blocks,
    check_columns,
    clean_json,
    factor_indicators,
    format_table,
    require_result,
)
from ckm_research.measurement.reliability import (
    average_variance_extracted,
    composite_reliability,
    cronbach_alpha,
)

__all__ = [
    "THRESHOLDS",
    "htmt",
    "fornell_larcker",
    "standardized_loadings",
    "validity_flags",
    "validity_report",
    "ValidityReport",
]

#: Cut-offs used by :func:`validity_flags`, with their sources.
THRESHOLDS: dict[str, dict[str, Any]] = {
    "alpha": {
        "min": 0.70,
        "source": "Nunnally & Bernstein (1994), Psychometric Theory, 3rd ed.",
    },
    "omega": {
        "min": 0.70,
        "source": "Bagozzi & Yi (1988), JAMS 16(1), 74-94; Hair, Risher, Sarstedt & Ringle "
        "(2019), European Business Review 31(1), 2-24",
    },
    "ave": {
        "min": 0.50,
        "source": "Fornell & Larcker (1981), Journal of Marketing Research 18(1), 39-50",
    },
    "htmt": {
        "max": 0.85,
        "source": "Henseler, Ringle & Sarstedt (2015), JAMS 43(1), 115-135 (HTMT.85; Kline, "
        "2011)",
    },
    "htmt_similar": {
        "max": 0.90,
        "source": "Henseler, Ringle & Sarstedt (2015), JAMS 43(1), 115-135 (HTMT.90 for "
        "conceptually similar constructs; Gold, Malhotra & Segars, 2001)",
    },
    "fornell_larcker": {
        "rule": "sqrt(AVE) of each factor exceeds its correlations with the other factors",
        "source": "Fornell & Larcker (1981), Journal of Marketing Research 18(1), 39-50",
    },
    "single_indicator": {
        "rule": "a construct measured by one item has no estimable reliability or AVE",
        "source": "Petrescu (2013), Journal of Marketing Analytics 1(2), 99-117; Hair, "
        "Risher, Sarstedt & Ringle (2019), European Business Review 31(1), 2-24",
    },
    "loading": {
        "min": 0.708,
        "source": "Hair, Risher, Sarstedt & Ringle (2019), European Business Review 31(1), "
        "2-24 (a loading of .708 means the factor explains half the item's variance)",
    },
}


def htmt(data, model, *, htmt2: bool = True, absolute: bool = True) -> pd.DataFrame:
    """Heterotrait-monotrait ratio of correlations, as ``semTools::htmt``.

    For factors *i* and *j* with item sets :math:`I, J`,

    .. math::

        HTMT_{ij} = \\frac{\\bar r_{IJ}}{\\sqrt{\\bar r_{II}\\,\\bar r_{JJ}}},

    where :math:`\\bar r_{IJ}` is the mean of the heterotrait-heteromethod
    correlations between the items of *i* and *j*, and :math:`\\bar r_{II}`
    the mean of the monotrait-heteromethod correlations among the items of
    *i* (off-diagonal only).  Henseler, Ringle & Sarstedt (2015), *JAMS* 43,
    115-135, eq. 6, use arithmetic means; with ``htmt2=True`` (the default
    of semTools 0.5.6, which this function follows) the means are geometric,
    HTMT2 of Roemer, Schuberth & Henseler (2021), *Industrial Management &
    Data Systems* 121, 2637-2650, which is consistent for congeneric (not
    only tau-equivalent) items.  Correlations are Pearson's on the cases
    complete on all the model's items (semTools ``missing = "listwise"``);
    ``absolute`` takes their absolute values first (forced by ``htmt2``,
    whose logarithms need positive values).

    Parameters
    ----------
    data : pandas.DataFrame or path
        The item responses.
    model : str, pathlib.Path or SEMResults
        Which items measure which factor (the ``=~`` statements).
    htmt2 : bool
        Geometric (HTMT2, default) or arithmetic (original HTMT) means.
    absolute : bool
        Use absolute correlations.

    Returns
    -------
    pandas.DataFrame
        Symmetric factors x factors matrix with ones on the diagonal.

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> htmt(hs, "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6").round(3)
             visual  textual
    visual    1.000    0.384
    textual   0.384    1.000

    In R: ``semTools::htmt(model, data)`` (``htmt2 = FALSE`` for the original).
    """
    frame = as_frame(data)
    items = factor_indicators(model)
    names = list(dict.fromkeys(i for v in items.values() for i in v))
    check_columns(frame, names)
    x = frame[names].apply(pd.to_numeric, errors="coerce").dropna()
    if len(x) < 3:
        raise CkmError(
            f"HTMT needs at least 3 cases complete on the model's items; found {len(x)}"
        )
    r = x.corr().to_numpy()
    if absolute or htmt2:
        r = np.abs(r)
    np.fill_diagonal(r, np.nan)
    pos = {v: k for k, v in enumerate(names)}

    def mean(block: np.ndarray) -> float:
        vals = block[~np.isnan(block)]
        if vals.size == 0:
            return float("nan")
        if htmt2:
            with np.errstate(divide="ignore"):
                return float(np.exp(np.mean(np.log(vals))))
        return float(np.mean(vals))

    facs = list(items)
    idx = {f: [pos[i] for i in items[f]] for f in facs}
    within = {f: mean(r[np.ix_(idx[f], idx[f])]) for f in facs}
    out = pd.DataFrame(np.nan, index=facs, columns=facs)
    for a in facs:
        for b in facs:
            out.loc[a, b] = mean(r[np.ix_(idx[a], idx[b])]) / math.sqrt(within[a] * within[b])
    return out


def _pick_group(result, group) -> int:
    labels = list(result.group_labels) if result.ngroups > 1 else [None]
    if group is None:
        if result.ngroups > 1:
            raise CkmError(
                "the model has several groups; pass group= (a group label or a 1-based "
                f"number) to choose one: {', '.join(map(str, labels))}"
            )
        return 0
    if group in labels:
        return labels.index(group)
    if isinstance(group, (int, np.integer)) and 1 <= group <= len(labels):
        return int(group) - 1
    raise CkmError(
        f"The 'group' parameter must be one of {labels} or a number from 1 to {len(labels)}. "
        f"Got {group!r} instead."
    )


def fornell_larcker(result, *, group=None) -> pd.DataFrame:
    """Fornell-Larcker table: sqrt(AVE) on the diagonal, factor correlations off it.

    Discriminant validity holds for factor *i* when :math:`\\sqrt{AVE_i} >
    |r_{ij}|` for every other factor *j*, i.e. the factor shares more variance
    with its own indicators than with any other factor (Fornell & Larcker,
    1981, *Journal of Marketing Research* 18, 39-50, p. 46).  The
    correlations are the model-implied ones (``lavInspect(fit, "cor.lv")``);
    the AVE is :func:`~ckm_research.measurement.average_variance_extracted`.
    Henseler et al. (2015) show the criterion is insensitive; report HTMT too.

    Parameters
    ----------
    result : SEMResults
        A fitted CFA/SEM.
    group : label or int, optional
        Which group of a multiple-group model.

    Returns
    -------
    pandas.DataFrame
        Factors x factors (factors with two or more indicators).

    Examples
    --------
    >>> import ckm_research
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> res = ckm_research.fit(model, hs)
    >>> fornell_larcker(res).round(3)
             visual  textual  speed
    visual    0.609    0.459  0.471
    textual   0.459    0.849  0.283
    speed     0.471    0.283  0.652

    In R: ``cor <- lavInspect(fit, "cor.lv"); diag(cor) <- sqrt(AVE(fit))``.
    """
    result = require_result(result, "fornell_larcker")
    g = _pick_group(result, group)
    b = blocks(result)[g]
    ave = average_variance_extracted(result)
    if result.ngroups > 1:
        ave = ave[ave["group"] == b.label]
    ave = ave.set_index("factor")["ave"]
    facs = list(ave.index)
    phi = b.phi.loc[facs, facs].to_numpy()
    sd = np.sqrt(np.diag(phi))
    with np.errstate(invalid="ignore", divide="ignore"):
        cor = phi / np.outer(sd, sd)
    np.fill_diagonal(cor, np.sqrt(ave.to_numpy()))
    return pd.DataFrame(cor, index=facs, columns=facs)


def standardized_loadings(result) -> pd.DataFrame:
    """Completely standardized loadings with delta-method SEs and item R-squared.

    ``loading`` is lavaan's ``std.all`` (loading times the ratio of the
    factor's and the item's model-implied standard deviations; Bollen, 1989,
    p. 349) with the standard error, z, p-value and confidence interval of
    ``standardizedSolution()``; ``r2`` is the item's explained variance,
    one minus its standardized residual variance (the squared loading when
    the item loads on one factor: its indicator reliability).

    Parameters
    ----------
    result : SEMResults

    Returns
    -------
    pandas.DataFrame
        Columns ``[group] factor item loading se z pvalue ci.lower ci.upper r2``.

    Examples
    --------
    >>> import ckm_research
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> res = ckm_research.fit(model, hs)
    >>> standardized_loadings(res)[["factor", "item", "loading", "se", "r2"]].head(3).round(3)
       factor item  loading     se     r2
    0  visual   x1    0.772  0.055  0.596
    1  visual   x2    0.424  0.060  0.179
    2  visual   x3    0.581  0.055  0.338

    In R: ``subset(standardizedSolution(fit), op == "=~")``.
    """
    result = require_result(result, "standardized_loadings")
    ss = result.standardized_solution
    ov = set(result.engine.model.ov)
    load = ss[(ss["op"] == "=~") & ss["rhs"].isin(ov)].copy()
    resid = ss[(ss["op"] == "~~") & (ss["lhs"] == ss["rhs"]) & ss["lhs"].isin(ov)]
    r2 = {(g, v): 1.0 - e for g, v, e in zip(resid["group"], resid["lhs"], resid["est.std"],
                                             strict=True)}
    labels = list(result.group_labels) if result.ngroups > 1 else [None]
    out = pd.DataFrame(
        {
            "group": [labels[g - 1] for g in load["group"]],
            "factor": load["lhs"].to_numpy(),
            "item": load["rhs"].to_numpy(),
            "loading": load["est.std"].to_numpy(),
            "se": load["se"].to_numpy(),
            "z": load["z"].to_numpy(),
            "pvalue": load["pvalue"].to_numpy(),
            "ci.lower": load["ci.lower"].to_numpy(),
            "ci.upper": load["ci.upper"].to_numpy(),
            "r2": [r2.get((g, v), np.nan) for g, v in zip(load["group"], load["rhs"],
                                                           strict=True)],
        }
    )
    if result.ngroups == 1:
        out = out.drop(columns="group")
    return out.reset_index(drop=True)


def validity_flags(
    *,
    alpha: pd.DataFrame | None = None,
    omega: pd.DataFrame | None = None,
    ave: pd.DataFrame | None = None,
    htmt: pd.DataFrame | None = None,
    fornell_larcker: pd.DataFrame | None = None,
    loadings: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Values beyond the conventional thresholds of :data:`THRESHOLDS`.

    Flags alpha < .70 and omega (CR) < .70 (Nunnally & Bernstein, 1994;
    Bagozzi & Yi, 1988), AVE < .50 (Fornell & Larcker, 1981), HTMT > .85 and
    > .90 (Henseler et al., 2015), a factor whose sqrt(AVE) does not exceed
    all its correlations (Fornell & Larcker, 1981), and standardized loadings
    below .708 (Hair et al., 2019).  Pass the tables returned by the other
    functions of this package; any may be omitted.

    Returns
    -------
    pandas.DataFrame
        Columns ``check subject value threshold severity message source``;
        ``severity`` is ``"warning"`` (.90 for HTMT, the others) or
        ``"note"`` (HTMT between .85 and .90, a loading between .40 and .708).
    """
    rows: list[dict] = []

    def add(check, subject, value, threshold, severity, message, key):
        rows.append(dict(check=check, subject=subject, value=float(value),
                         threshold=threshold, severity=severity, message=message,
                         source=THRESHOLDS[key]["source"]))

    def where(frame, row):
        g = row.get("group") if "group" in frame.columns else None
        return "" if g is None else f" (group {g})"

    for name, frame, col in (("alpha", alpha, "alpha"), ("omega", omega, "omega")):
        if frame is None:
            continue
        lim = THRESHOLDS[name]["min"]
        for row in frame.to_dict(orient="records"):
            v = row[col]
            if v is not None and not np.isnan(v) and v < lim:
                label = "Cronbach's alpha" if name == "alpha" else "composite reliability"
                add(name, row["factor"] + where(frame, row), v, lim, "warning",
                    f"{label} of {row['factor']}{where(frame, row)} is {v:.3f} < {lim:.2f}",
                    name)
    if ave is not None:
        lim = THRESHOLDS["ave"]["min"]
        for row in ave.to_dict(orient="records"):
            v = row["ave"]
            if not np.isnan(v) and v < lim:
                add("ave", row["factor"] + where(ave, row), v, lim, "warning",
                    f"AVE of {row['factor']}{where(ave, row)} is {v:.3f} < {lim:.2f}: the "
                    "factor explains less than half of its items' variance", "ave")
    if htmt is not None:
        hi, lo = THRESHOLDS["htmt_similar"]["max"], THRESHOLDS["htmt"]["max"]
        facs = list(htmt.index)
        for i, a in enumerate(facs):
            for b in facs[i + 1:]:
                v = htmt.loc[a, b]
                if np.isnan(v):
                    continue
                if v > hi:
                    add("htmt", f"{a}-{b}", v, hi, "warning",
                        f"HTMT of {a} and {b} is {v:.3f} > {hi:.2f}: discriminant validity "
                        "is doubtful even for conceptually similar constructs",
                        "htmt_similar")
                elif v > lo:
                    add("htmt", f"{a}-{b}", v, lo, "note",
                        f"HTMT of {a} and {b} is {v:.3f} > {lo:.2f}: acceptable only if the "
                        "constructs are conceptually similar", "htmt")
    if fornell_larcker is not None:
        fl = fornell_larcker.to_numpy()
        facs = list(fornell_larcker.index)
        for i, a in enumerate(facs):
            others = np.abs(np.delete(fl[i], i))
            if others.size and np.nanmax(others) >= fl[i, i]:
                j = [k for k in range(len(facs)) if k != i][int(np.nanargmax(others))]
                add("fornell_larcker", a, fl[i, i], float(np.nanmax(others)), "warning",
                    f"sqrt(AVE) of {a} ({fl[i, i]:.3f}) does not exceed its correlation with "
                    f"{facs[j]} ({fl[i, j]:.3f})", "fornell_larcker")
    if loadings is not None:
        keys = ["factor"] + (["group"] if "group" in loadings.columns else [])
        for _key, sub in loadings.groupby(keys, sort=False):
            if len(sub) != 1:
                continue
            row = sub.iloc[0].to_dict()
            add("single_indicator", row["factor"] + where(loadings, row), 1, 3, "warning",
                f"{row['factor']}{where(loadings, row)} has a single indicator "
                f"({row['item']}): its reliability, AVE and HTMT cannot be estimated, and "
                "the model takes the item as measured without error (its residual variance "
                "is fixed at 0, lavaan's auto.fix.single). Measure the construct with "
                "several items, or fix the residual variance from an external reliability "
                f"estimate ({row['item']} ~~ (1 - rel) * var({row['item']}) as a number)",
                "single_indicator")
        lim = THRESHOLDS["loading"]["min"]
        for row in loadings.to_dict(orient="records"):
            v = row["loading"]
            if not np.isnan(v) and abs(v) < lim:
                sev = "warning" if abs(v) < 0.40 else "note"
                add("loading", f"{row['factor']}=~{row['item']}" + where(loadings, row), v, lim,
                    sev, f"standardized loading of {row['item']} on {row['factor']}"
                    f"{where(loadings, row)} is {v:.3f} < {lim}", "loading")
    cols = ["check", "subject", "value", "threshold", "severity", "message", "source"]
    return pd.DataFrame(rows, columns=cols)


@dataclass
class ValidityReport:
    """Measurement quality of a fitted CFA: reliability, validity, flags.

    Attributes
    ----------
    alpha, omega, ave : pandas.DataFrame
        From :func:`cronbach_alpha`, :func:`composite_reliability`,
        :func:`average_variance_extracted`.
    htmt, fornell_larcker : pandas.DataFrame
        Factor x factor matrices.
    loadings : pandas.DataFrame
        :func:`standardized_loadings`.
    flags : pandas.DataFrame
        :func:`validity_flags`.
    htmt_method : str
        ``"HTMT2"`` or ``"HTMT"``.
    cmv : dict
        Common-method checks added by the caller (name -> results object).
    """

    alpha: pd.DataFrame
    omega: pd.DataFrame
    ave: pd.DataFrame
    htmt: pd.DataFrame
    fornell_larcker: pd.DataFrame
    loadings: pd.DataFrame
    flags: pd.DataFrame
    htmt_method: str = "HTMT2"
    fit_measures: dict = field(default_factory=dict)
    estimator: str = "ML"
    n: int = 0
    cmv: dict = field(default_factory=dict)

    def reliability_table(self) -> pd.DataFrame:
        """alpha, omega and AVE side by side, one row per factor."""
        t = self.alpha[["factor", "n_items", "alpha"]].merge(
            self.omega[["factor", "omega"]], on="factor", how="left"
        ).merge(self.ave[["factor", "ave"]], on="factor", how="left")
        t["sqrt.ave"] = np.sqrt(t["ave"])
        return t

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``ckm validity``."""

        def by_factor(frame, col):
            return {r["factor"]: r[col] for r in frame.to_dict(orient="records")}

        def matrix(frame):
            return {a: {b: frame.loc[a, b] for b in frame.columns} for a in frame.index}

        out = {
            "estimator": self.estimator,
            "n": int(self.n),
            "alpha": by_factor(self.alpha, "alpha"),
            "alpha_std": by_factor(self.alpha, "alpha.std"),
            "omega": by_factor(self.omega, "omega"),
            "ave": by_factor(self.ave, "ave"),
            "htmt": matrix(self.htmt),
            "htmt_method": self.htmt_method,
            "fornell_larcker": matrix(self.fornell_larcker),
            "loadings": self.loadings,
            "flags": self.flags,
            "thresholds": THRESHOLDS,
            "fit": {k: self.fit_measures.get(k) for k in
                    ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "chisq.scaled",
                     "pvalue.scaled", "cfi.robust", "rmsea.robust")
                    if k in self.fit_measures},
        }
        for name, res in self.cmv.items():
            out[name] = res.to_dict()
        return clean_json(out)

    def summary(self, digits: int = 3) -> str:
        """Text tables: reliability, loadings, HTMT, Fornell-Larcker, flags, CMV."""
        lines = [f"Measurement quality ({self.estimator}, N = {self.n})", ""]
        lines += ["Reliability and convergent validity:",
                  format_table(self.reliability_table(), digits), ""]
        lines += ["Standardized loadings:",
                  format_table(self.loadings.drop(columns=["z"], errors="ignore"), digits), ""]
        lines += [f"{self.htmt_method} (Henseler et al., 2015; Roemer et al., 2021):",
                  self.htmt.round(digits).to_string(), ""]
        lines += ["Fornell-Larcker (sqrt AVE on the diagonal, factor correlations below):",
                  self.fornell_larcker.round(digits).to_string(), ""]
        lines.append("Flags:")
        if self.flags.empty:
            lines.append("  none: every value meets the thresholds")
        for _, block in self.flags.groupby(["check", "source"], sort=False):
            lines.append(f"  {block['source'].iloc[0]}:")
            for row in block.to_dict(orient="records"):
                lines.append(f"    [{row['severity']}] {row['message']}")
        for res in self.cmv.values():
            lines += ["", res.summary(digits)]
        return "\n".join(lines)


def validity_report(result, data, *, htmt2: bool = True) -> ValidityReport:
    """Everything :mod:`ckm_research.measurement` reports about a fitted CFA.

    Parameters
    ----------
    result : SEMResults
        A fitted single-group CFA/SEM.
    data : pandas.DataFrame or path
        The data it was fitted to (for alpha and HTMT).
    htmt2 : bool
        HTMT2 (default, as semTools 0.5.6) or the original HTMT.

    Returns
    -------
    ValidityReport

    Examples
    --------
    >>> import ckm_research
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> report = validity_report(ckm_research.fit(model, hs), hs)
    >>> print(report.summary())
    Measurement quality (ML, N = 301)
    <BLANKLINE>
    Reliability and convergent validity:
     factor n_items alpha omega   ave sqrt.ave
     visual       3 0.626 0.612 0.371    0.609
    textual       3 0.883 0.885 0.721    0.849
      speed       3 0.688 0.686 0.424    0.652
    ...
    """
    result = require_result(result, "validity_report")
    if result.ngroups > 1:
        raise CkmError(
            "validity_report needs a single-group fit; fit each group separately or use "
            "composite_reliability / average_variance_extracted, which report every group"
        )
    frame = as_frame(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        alpha = cronbach_alpha(frame, result)
        omega = composite_reliability(result)
        ave = average_variance_extracted(result)
        h = htmt(frame, result, htmt2=htmt2)
        fl = fornell_larcker(result)
        loads = standardized_loadings(result)
    flags = validity_flags(alpha=alpha, omega=omega, ave=ave, htmt=h, fornell_larcker=fl,
                           loadings=loads)
    return ValidityReport(
        alpha=alpha, omega=omega, ave=ave, htmt=h, fornell_larcker=fl, loadings=loads,
        flags=flags, htmt_method="HTMT2" if htmt2 else "HTMT",
        fit_measures=dict(result.fit_measures), estimator=result.estimator, n=result.n,
    )
