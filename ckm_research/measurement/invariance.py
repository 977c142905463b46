"""Measurement invariance across groups, path comparisons, and groups made
from a score.

The sequence follows Meredith (1993, *Psychometrika* 58, 525-543) and the
tutorial of Putnick & Bornstein (2016, *Developmental Review* 41, 71-90), with
lavaan's ``group.equal`` keywords:

==========  ==========================================  ========================
level       equal across groups                         lavaan ``group.equal``
==========  ==========================================  ========================
configural  nothing (same pattern of loadings)          --
metric      loadings                                    ``"loadings"``
scalar      loadings, intercepts                        ``+ "intercepts"``
strict      loadings, intercepts, residual variances    ``+ "residuals"``
==========  ==========================================  ========================

Nested models are compared with :func:`chisq_difference`, which does what
``lavaan::lavTestLRT`` 0.6.14 does by default: the ordinary likelihood-ratio
difference for ML and FIML, and for MLR (whose test is the Yuan-Bentler
scaled statistic) the scaled difference of Satorra & Bentler (2001,
*Psychometrika* 66, 507-514), ``method = "satorra.bentler.2001"``, which is
lavaan's default for scaled tests of that family.  Changes in CFI and RMSEA
(the robust versions for MLR, as ``semTools::compareFit`` shows them) are
judged against Cheung & Rensvold (2002, *SEM* 9, 233-255: a drop in CFI of
more than .010) and Chen (2007, *SEM* 14, 464-504: a rise in RMSEA of more
than .015; in SRMR of more than .030 for loadings and .010 for intercepts or
residuals).

Paths are compared across groups with Wald tests of equality
(:func:`compare_paths`, as ``lavaan::lavTestWald``), and
:func:`split_groups` makes groups from a (turbulence) score cut at a chosen
value; :func:`factor_scores` gives lavaan's regression factor scores.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ckm_research.errors import CkmError
from ckm_research.measurement._common import (
    as_frame,
    check_columns,
    clean_json,
    factor_indicators,
    format_table,
    read_model,
    require_result,
)
from ckm_research.sem import fit_measures as fmx

__all__ = [
    "LEVELS",
    "chisq_difference",
    "measurement_invariance",
    "InvarianceResult",
    "compare_paths",
    "factor_scores",
    "split_groups",
    "CRITERIA",
    "POWER_NOTE",
]

#: The invariance levels and the lavaan ``group.equal`` of each.
LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}

#: Cut-offs for changes in fit between successive levels.
DELTA_CUTOFFS = {
    "cfi": (-0.010, "Cheung & Rensvold (2002), SEM 9(2), 233-255"),
    "rmsea": (0.015, "Chen (2007), SEM 14(3), 464-504"),
    "srmr_metric": (0.030, "Chen (2007), SEM 14(3), 464-504"),
    "srmr": (0.010, "Chen (2007), SEM 14(3), 464-504"),
}


# ---------------------------------------------------------------------------
# chi-square difference


#: estimators whose scaled test lavTestLRT compares by the Satorra-Bentler (2001)
#: scaled difference (its default for the yuan.bentler.mplus and satorra.bentler tests)
SB2001_ESTIMATORS = ("MLR", "MLM")
#: estimators chisq_difference and measurement_invariance accept
DIFFERENCE_ESTIMATORS = ("ML", "FIML", *SB2001_ESTIMATORS)


def _is_scaled(res) -> bool:
    return res.estimator in SB2001_ESTIMATORS and "chisq.scaling.factor" in res.fit_measures


#: estimators whose difference test is lavaan's satorra.2000 (scaled-shifted tests)
SATORRA2000_ESTIMATORS = ("WLSMV", "ULSMV")


def _satorra2000(a, b, method: str) -> dict[str, Any]:
    """lavaan's ``satorra.2000`` difference of two WLSMV/ULSMV fits
    (:func:`ckm_research.sem.difftest.satorra2000_difference`)."""
    from ckm_research.sem.difftest import satorra2000_difference

    if method not in ("default", "satorra.2000"):
        raise CkmError(
            f"the difference test of {a.estimator} fits is lavaan's method='satorra.2000'; "
            f"got method={method!r}"
        )
    if a.estimator != b.estimator:
        raise CkmError(
            f"the Satorra (2000) difference test needs two fits with the same estimator; got "
            f"{a.estimator} and {b.estimator}"
        )
    if a.fit_measures["df"] == b.fit_measures["df"]:
        raise CkmError(
            "the two models have the same degrees of freedom, so they are not nested; a "
            "difference test needs a restricted and a less restricted model"
        )
    free, restricted = (a, b) if a.fit_measures["df"] < b.fit_measures["df"] else (b, a)
    out = satorra2000_difference(free, restricted)
    out["rmsea.diff"] = np.nan
    return out


def _check_difference_estimator(estimator: str, who: str) -> None:
    if estimator in DIFFERENCE_ESTIMATORS:
        return
    if estimator == "WLSMV":
        raise CkmError(
            "chi-square difference tests of WLSMV fits need lavaan's satorra.2000 method, "
            "which is not implemented; compare ML or MLR fits"
        )
    raise CkmError(
        f"{who} of {estimator} fits is not implemented (lavaan's lavTestLRT uses its "
        "satorra.2000 method or a test on another sample size for this estimator); fit with "
        "one of " + ", ".join(DIFFERENCE_ESTIMATORS)
    )


def chisq_difference(model_a, model_b, *, method: str = "default") -> dict[str, Any]:
    """Chi-square difference test of two nested models, as ``lavaan::lavTestLRT``.

    The model with more degrees of freedom is taken as the restricted one
    (lavaan sorts by df too).  With ``T`` the (unscaled) chi-square and ``d``
    the degrees of freedom of the restricted (0) and free (1) models:

    * ``"standard"`` (ML, FIML): :math:`\\Delta T = T_0 - T_1` on
      :math:`d_0 - d_1` df, and the RMSEA of the difference,
      :math:`\\sqrt{G}\\sqrt{\\max(0, \\Delta T/(N \\Delta d) - 1/N)}` (lavaan's
      ``RMSEA`` column; Savalei, Brace & Fouladi, 2023, *Psychological
      Methods*).
    * ``"satorra.2000"`` (the default for WLSMV and ULSMV fits, the only one
      for them): Satorra's (2000) scaled-and-shifted difference
      (:func:`ckm_research.sem.difftest.satorra2000_difference`).
    * ``"satorra.bentler.2001"`` (the default for MLR): with the scaling
      factors :math:`c_0, c_1` of the two scaled statistics,
      :math:`c_d = (d_0 c_0 - d_1 c_1)/(d_0 - d_1)` and
      :math:`\\Delta T_{sc} = (T_0 - T_1)/c_d` (Satorra & Bentler, 2001, eq. 7);
      a negative :math:`c_d` gives NaN, as in lavaan.

    Parameters
    ----------
    model_a, model_b : SEMResults
        Two fits of nested models to the same data.
    method : {'default', 'standard', 'satorra.bentler.2001'}
        ``'default'`` picks lavaan 0.6.14's default for the estimator.

    Returns
    -------
    dict
        ``chisq.diff df.diff pvalue method scaling.factor rmsea.diff`` (the
        last only for the standard test) and the names of the restricted
        and free models' estimators.

    Raises
    ------
    CkmError
        For models with the same df, or mixed scaled/unscaled fits.

    Examples
    --------
    >>> import ckm_research
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> configural_fit = ckm_research.fit(model, hs, group="school")
    >>> metric_fit = ckm_research.fit(model, hs, group="school", group_equal=["loadings"])
    >>> d = chisq_difference(metric_fit, configural_fit)
    >>> round(d["chisq.diff"], 3), d["df.diff"], round(d["pvalue"], 3)
    (8.192, 6.0, 0.224)

    In R: ``lavTestLRT(configural, metric)``.
    """
    a = require_result(model_a, "chisq_difference")
    b = require_result(model_b, "chisq_difference")
    if a.estimator in SATORRA2000_ESTIMATORS or b.estimator in SATORRA2000_ESTIMATORS:
        return _satorra2000(a, b, method)
    for r in (a, b):
        _check_difference_estimator(r.estimator, "a chi-square difference test")
    if a.fit_measures["df"] == b.fit_measures["df"]:
        raise CkmError(
            "the two models have the same degrees of freedom, so they are not nested; a "
            "difference test needs a restricted and a less restricted model"
        )
    free, restricted = (a, b) if a.fit_measures["df"] < b.fit_measures["df"] else (b, a)
    scaled = [_is_scaled(free), _is_scaled(restricted)]
    if any(scaled) and not all(scaled):
        raise CkmError(
            "one model has a scaled test statistic (MLR, MLM) and the other does not; fit both "
            "with the same estimator"
        )
    if method == "default":
        method = "satorra.bentler.2001" if all(scaled) else "standard"
    if method not in ("standard", "satorra.bentler.2001"):
        raise CkmError(
            "The 'method' parameter of chisq_difference must be one of 'default', 'standard', "
            f"'satorra.bentler.2001'. Got {method!r} instead."
        )
    if method == "satorra.bentler.2001" and not all(scaled):
        raise CkmError("the Satorra-Bentler (2001) difference needs two MLR or MLM fits")
    f0, f1 = restricted.fit_measures, free.fit_measures
    t0, t1, d0, d1 = f0["chisq"], f1["chisq"], f0["df"], f1["df"]
    dd = d0 - d1
    out: dict[str, Any] = {"method": method, "df.diff": float(dd)}
    if method == "standard":
        delta = t0 - t1
        out["scaling.factor"] = np.nan
        n = restricted.n
        out["rmsea.diff"] = fmx.rmsea(delta, dd, n, restricted.ngroups)
    else:
        c0, c1 = f0["chisq.scaling.factor"], f1["chisq.scaling.factor"]
        if d1 == 0:
            c1 = 1.0
        cd = (d0 * c0 - d1 * c1) / dd
        if cd < 0:
            warnings.warn(
                "the Satorra-Bentler (2001) difference scaling factor is negative; the test is "
                "not available (lavaan gives NA too). Try the standard test or a larger sample.",
                RuntimeWarning,
                stacklevel=2,
            )
            cd = np.nan
        delta = (t0 - t1) / cd
        out["scaling.factor"] = float(cd)
        out["rmsea.diff"] = np.nan
    out["chisq.diff"] = float(delta)
    out["pvalue"] = float(stats.chi2.sf(delta, dd)) if np.isfinite(delta) else np.nan
    if delta < -(np.finfo(float).eps ** (1 / 3)):
        warnings.warn(
            "the restricted model fits better than the less restricted one; either the models "
            "are not nested or the less restricted model did not reach its optimum",
            RuntimeWarning,
            stacklevel=2,
        )
    return out


# ---------------------------------------------------------------------------
# the invariance sequence


@dataclass
class InvarianceResult:
    """The configural -> metric -> scalar -> strict sequence.

    Attributes
    ----------
    fits : dict
        Model name -> :class:`~ckm_research.SEMResults`: the levels tested and
        the partial models ``"<level>.partial<k>"``.
    table : pandas.DataFrame
        One row per model: its fit (``group.partial`` lists the parameters
        free across groups) and the comparison with the accepted model of the
        level before (``compared.with chisq.diff df.diff pvalue.diff
        delta.cfi delta.rmsea delta.srmr status decision``); ``status`` is
        ``baseline``, ``supported``, ``not supported`` or ``not tested``.
    indices : dict
        Which fit measure stands behind ``cfi``, ``tli`` and ``rmsea``
        (``cfi.robust`` etc. for MLR, as ``semTools::compareFit``).
    group : str
    group_labels : tuple
    estimator : str
    partial : dict
        Level -> the parameters released to reach partial invariance.
    steps : pandas.DataFrame
        The partial-invariance search: ``level step model released X2 df
        p.value candidates holds`` (``X2`` the univariate score test of the
        released constraint in the model before the step).
    criterion : str
    """

    fits: dict[str, Any]
    table: pd.DataFrame
    indices: dict[str, str]
    group: str
    group_labels: tuple
    estimator: str
    n_per_group: tuple = ()
    notes: list[str] = field(default_factory=list)
    partial: dict[str, list[str]] = field(default_factory=dict)
    steps: pd.DataFrame = field(default_factory=pd.DataFrame)
    criterion: str = "fit"

    def compare_paths(self, level: str = "metric", **kwargs) -> pd.DataFrame:
        """Wald tests of equal regression paths in the fit of ``level``
        (metric by default: paths are comparable once loadings are equal)."""
        if level not in self.fits:
            raise CkmError(f"no '{level}' model in this sequence: {list(self.fits)}")
        return compare_paths(self.fits[level], **kwargs)

    def to_dict(self) -> dict[str, Any]:
        return clean_json(
            {
                "group": self.group,
                "groups": [str(g) for g in self.group_labels],
                "n_per_group": list(self.n_per_group),
                "estimator": self.estimator,
                "indices": self.indices,
                "cutoffs": {k: {"value": v[0], "source": v[1]} for k, v in DELTA_CUTOFFS.items()},
                "criterion": self.criterion,
                "table": self.table,
                "partial": self.partial,
                "steps": self.steps,
                "notes": self.notes,
            }
        )

    def summary(self, digits: int = 3) -> str:
        groups = ", ".join(
            f"{g} (N = {n})" for g, n in zip(self.group_labels, self.n_per_group, strict=False)
        )
        test = ("scaled chi-square difference (Satorra & Bentler, 2001)"
                if self.estimator in SB2001_ESTIMATORS
                else "scaled-shifted chi-square difference (Satorra, 2000; lavaan's "
                "satorra.2000)" if self.estimator in SATORRA2000_ESTIMATORS
                else "chi-square difference (likelihood ratio)")
        idx = ", ".join(f"{k} = {v}" for k, v in self.indices.items())
        fit_cols = [c for c in ("model", "npar", "chisq", "df", "pvalue", "chisq.scaled",
                                "pvalue.scaled", "cfi", "tli", "rmsea", "srmr")
                    if c in self.table.columns]
        diff_cols = ["model", "compared.with", "chisq.diff", "df.diff", "pvalue.diff",
                     "delta.cfi", "delta.rmsea", "delta.srmr"]
        tested = self.table[self.table["status"] != "not tested"]
        lines = [
            f"Measurement invariance across {self.group}: {groups}",
            f"Estimator {self.estimator}; {test}; {idx}",
            "",
            "Fit of each model:",
            format_table(tested[fit_cols], digits),
            "",
            "Change from the previous level (its accepted model, full or partial):",
            format_table(tested[diff_cols].iloc[1:], digits),
            "",
            "Decisions (Cheung & Rensvold, 2002: delta CFI >= -.010; Chen, 2007: delta RMSEA "
            "<= .015" + ("" if self.criterion == "fit" else
                         f"; criterion '{self.criterion}' with the chi-square difference")
            + "):",
        ]
        for row in self.table.iloc[1:].to_dict(orient="records"):
            extra = f" [free across groups: {row['group.partial']}]" if row.get(
                "group.partial") else ""
            lines.append(f"  {row['model']}: {row['decision']}{extra}")
        if len(self.steps):
            lines += ["", "Partial invariance search (largest univariate score test, "
                      "lavTestScore, released one at a time):"]
            lines.append(format_table(self.steps, digits))
        for note in self.notes:
            lines.append(f"note: {note}")
        return "\n".join(lines)


def _decision(level: str, d_cfi: float, d_rmsea: float, d_srmr: float) -> str:
    c_cfi, c_rmsea = DELTA_CUTOFFS["cfi"][0], DELTA_CUTOFFS["rmsea"][0]
    c_srmr = DELTA_CUTOFFS["srmr_metric" if level == "metric" else "srmr"][0]
    problems = []
    if np.isfinite(d_cfi) and d_cfi < c_cfi:
        problems.append(f"delta CFI = {d_cfi:.3f} < {c_cfi:.3f}")
    if np.isfinite(d_rmsea) and d_rmsea > c_rmsea:
        problems.append(f"delta RMSEA = {d_rmsea:.3f} > {c_rmsea:.3f}")
    if np.isfinite(d_srmr) and d_srmr > c_srmr:
        problems.append(f"delta SRMR = {d_srmr:.3f} > {c_srmr:.3f} (Chen, 2007; supplementary)")
    main = [p for p in problems if "SRMR" not in p]
    if not main:
        return "supported" + (f" ({problems[0]})" if problems else "")
    return "not supported: " + "; ".join(problems)


def measurement_invariance(
    model,
    data,
    group: str,
    *,
    estimator: str = "ML",
    levels: Sequence[str] = ("configural", "metric", "scalar", "strict"),
    std_lv: bool = False,
    missing: str | None = None,
    missing_values: Iterable[float] | None = None,
    partial: bool = True,
    criterion: str = "fit",
    alpha: float = 0.05,
    min_invariant: int = 2,
    hierarchical: bool = True,
) -> InvarianceResult:
    """Fit the invariance sequence and compare each level with the previous one.

    Each level adds lavaan ``group.equal`` constraints (see :data:`LEVELS`);
    factors are identified by their first loading (lavaan's default) or, with
    ``std_lv=True``, by unit variances in the first group (lavaan frees the
    factor variances of the later groups once loadings are equal); under equal
    intercepts the factor means of the later groups are free, as lavaan does.
    The fit and the tests do not depend on the identification.  Each row of
    :attr:`InvarianceResult.table` after the first compares the level with
    the one before it by :func:`chisq_difference` and by the change in CFI,
    RMSEA and SRMR (robust CFI and RMSEA for MLR, Brosseau-Liard & Savalei,
    2014, as ``semTools::compareFit`` shows them).

    Parameters
    ----------
    model : str or pathlib.Path
        lavaan syntax (a CFA, or a full SEM whose measurement part is tested).
    data : pandas.DataFrame or path
    group : str
        The column defining the groups (see :func:`split_groups` to make one
        from a score).
    estimator : {'ML', 'MLR', 'FIML'}
    levels : sequence of str
        A prefix-ordered subset of ``configural metric scalar strict``.
    std_lv : bool
        Identify the factors by their variances (lavaan ``std.lv = TRUE``).
    missing : {'listwise', 'ml'}, optional
        lavaan's ``missing`` (``'ml'`` with MLR: robust FIML; the scaled
        difference test then uses the FIML scaling factors, as lavaan).
    missing_values : iterable, optional
        Codes meaning "no answer".
    partial : bool
        When a level fails, search for partial invariance (below).
    criterion : {'fit', 'chisq', 'both'}
        When a level holds: ``'fit'`` by the changes in CFI and RMSEA (and SRMR
        reported; :data:`DELTA_CUTOFFS`), ``'chisq'`` by the chi-square difference
        test at ``alpha``, ``'both'`` by both.
    alpha : float
        Level of the chi-square difference test for ``criterion='chisq'``/``'both'``.
    min_invariant : int
        Partial invariance keeps at least this many items per factor with the
        level's parameter equal across groups (the marker's fixed loading counts;
        two, as Byrne, Shavelson & Muthen, 1989, and Steenkamp & Baumgartner, 1998).
    hierarchical : bool
        ``False`` fits every level with all its constraints whatever the level
        before gave (semTools' former ``measurementInvariance``); no partial search.

    Returns
    -------
    InvarianceResult

    Notes
    -----
    The sequence is hierarchical (Vandenberg & Lance, 2000, *ORM* 3, 4-70;
    Putnick & Bornstein, 2016): a level is tested only if the one before it
    holds, fully or partially.  When a level fails, the equality constraints
    it adds (loadings, intercepts or residual variances) are released one at
    a time, each time the one with the largest univariate score test of the
    current model (``lavaan::lavTestScore(fit)$uni``,
    :func:`ckm_research.sem.diagnostics.score_test`), refitting with lavaan's
    ``group.partial`` until the level holds against the accepted model of the
    level before (Byrne, Shavelson & Muthen, 1989, *Psychological Bulletin*
    105, 456-466; Yoon & Millsap, 2007, *SEM* 14, 435-463, on the specification
    search).  The released parameters stay free in the later levels.  If no
    constraint can be released without leaving a factor fewer than
    ``min_invariant`` invariant items, the level is not supported and every
    later level is reported as ``"not tested"`` with the reason.  The steps are
    in :attr:`InvarianceResult.steps`; each partial model is in
    :attr:`InvarianceResult.fits` as ``"<level>.partial<k>"``.

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> inv = measurement_invariance(model, hs, "school")
    >>> print(inv.summary())
    Measurement invariance across school: Pasteur (N = 156), Grant-White (N = 145)
    ...
    Decisions (Cheung & Rensvold, 2002: delta CFI >= -.010; Chen, 2007: delta RMSEA <= .015):
      metric: supported
      scalar: not supported: delta CFI = -0.038 < -0.010; ...
      scalar.partial1: not supported: delta CFI = -0.018 < -0.010 [free across groups: x3~1]
      scalar.partial2: supported [free across groups: x3~1, x7~1]
      strict: supported [free across groups: x3~1, x7~1]
    ...

    In R: ``cfa(model, data, group = "school", group.equal = ...)`` for each
    level, then ``lavTestLRT(...)`` / ``semTools::compareFit(...)``.
    """
    from ckm_research import fit

    estimator = str(estimator).upper()
    if estimator == "WLSMV":
        raise CkmError(
            "invariance of ordinal items (WLSMV: thresholds, then loadings, then intercepts; "
            "Wu & Estabrook, 2016) is ordinal_invariance(model, data, group) "
            "(ckm invariance --ordinal); measurement_invariance's levels are those of "
            "continuous items (ML, MLR, FIML)"
        )
    _check_difference_estimator(estimator, "measurement invariance testing")
    levels = list(levels)
    unknown = [lv for lv in levels if lv not in LEVELS]
    if unknown or not levels:
        raise CkmError(
            f"The 'levels' parameter of measurement_invariance must list levels among "
            f"{list(LEVELS)}. Got {levels!r} instead."
        )
    order = list(LEVELS)
    if [order.index(lv) for lv in levels] != sorted(order.index(lv) for lv in levels):
        raise CkmError("the invariance levels must go from least to most restricted: "
                       + " -> ".join(order))
    if criterion not in CRITERIA:
        raise CkmError(
            f"The 'criterion' parameter of measurement_invariance must be one of "
            f"{list(CRITERIA)}. Got {criterion!r} instead."
        )
    if not (isinstance(alpha, float) and 0.0 < alpha < 1.0):
        raise CkmError(
            f"The 'alpha' parameter of measurement_invariance must be a float in the range "
            f"(0, 1). Got {alpha!r} instead."
        )
    if isinstance(min_invariant, bool) or not isinstance(min_invariant, int) or min_invariant < 1:
        raise CkmError(
            f"The 'min_invariant' parameter of measurement_invariance must be an int in the "
            f"range [1, inf). Got {min_invariant!r} instead."
        )
    model_text = read_model(model)
    frame = as_frame(data)
    check_columns(frame, [group], what="group option")

    def fit_level(lv: str, freed: Sequence[str]):
        try:
            return fit(model_text, frame, estimator=estimator, group=group,
                       group_equal=list(LEVELS[lv]), group_partial=list(freed), std_lv=std_lv,
                       missing=missing, missing_values=missing_values)
        except CkmError as exc:
            raise type(exc)(f"the {lv} invariance model: {exc}") from None

    scaled = estimator in SB2001_ESTIMATORS
    indices = (
        {"cfi": "cfi.robust", "tli": "tli.robust", "rmsea": "rmsea.robust", "srmr": "srmr"}
        if scaled else {"cfi": "cfi", "tli": "tli", "rmsea": "rmsea", "srmr": "srmr"}
    )
    fits: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    partial_of: dict[str, list[str]] = {}
    notes: list[str] = []
    freed: list[str] = []
    accepted: tuple[str, Any, dict] | None = None  # name, fit, row of the accepted model
    blocked: str | None = None
    for lv in levels:
        if blocked is not None:
            rows.append(_not_tested_row(lv, blocked))
            continue
        res = fit_level(lv, freed)
        fits[lv] = res
        row = _fit_row(lv, lv, res, indices, scaled, freed)
        if accepted is None:
            row.update({"compared.with": "", "chisq.diff": np.nan, "df.diff": np.nan,
                        "pvalue.diff": np.nan, "delta.cfi": np.nan, "delta.rmsea": np.nan,
                        "delta.srmr": np.nan, "status": "baseline", "decision": "baseline"})
            rows.append(row)
            accepted = (lv, res, row)
            continue
        holds = _compare(row, lv, res, accepted, criterion, alpha)
        rows.append(row)
        if holds:
            accepted = (lv, res, row)
            continue
        if not hierarchical:
            row["decision"] += "; the next level is compared with this model (hierarchical=False)"
            accepted = (lv, res, row)
            continue
        if not partial:
            blocked = (f"{lv} invariance is not supported (partial invariance was not "
                       "searched: partial=False)")
            continue
        # partial invariance: free the constraint with the largest score test, one at a time
        ok = False
        k = 0
        current = res
        while True:
            pick = _next_release(current, lv, freed, min_invariant, model_text)
            if pick is None:
                break
            name, x2, pval, n_left = pick
            k += 1
            freed = [*freed, name]
            current = fit_level(lv, freed)
            tag = f"{lv}.partial{k}"
            fits[tag] = current
            prow = _fit_row(tag, lv, current, indices, scaled, freed)
            ok = _compare(prow, lv, current, accepted, criterion, alpha)
            rows.append(prow)
            steps.append({"level": lv, "step": k, "model": tag, "released": name,
                          "X2": x2, "df": 1, "p.value": pval, "candidates": n_left,
                          "holds": ok})
            if ok:
                break
        partial_of[lv] = [f for f in freed if _param_kind(f, model_text) == lv]
        if ok:
            accepted = (tag, current, prow)
            notes.append(
                f"partial {lv} invariance: {', '.join(partial_of[lv])} free across groups "
                f"(the largest univariate score tests, lavTestScore, released one at a "
                f"time; Byrne, Shavelson & Muthen, 1989); later levels keep them free"
            )
        else:
            blocked = (f"{lv} invariance is not supported, not even partially (no further "
                       f"constraint can be released with at least {min_invariant} invariant "
                       f"items per factor)")
    for lv, res in fits.items():
        notes += [f"{lv}: {w}" for w in res.warnings]
    first = fits[levels[0]]
    if steps and estimator == "MLR":
        notes.append("the score tests that chose the released constraints are the ordinary "
                     "(not robust) ones for MLR, as lavaan's lavTestScore")
    return InvarianceResult(
        fits=fits,
        table=pd.DataFrame(rows),
        indices=indices,
        group=group,
        group_labels=tuple(first.group_labels),
        estimator=estimator,
        n_per_group=tuple(int(n) for n in first.n_per_group),
        notes=notes,
        partial=partial_of,
        steps=pd.DataFrame(steps, columns=["level", "step", "model", "released", "X2", "df",
                                           "p.value", "candidates", "holds"]),
        criterion=criterion,
    )


#: the partial-invariance stopping rules measurement_invariance accepts
CRITERIA = ("fit", "chisq", "both")

#: the operator of the parameters each level constrains (beyond the level before)
_LEVEL_OP = {"metric": "=~", "scalar": "~1", "strict": "~~"}


def _param_kind(name: str, model_text: str) -> str:
    """The level whose constraint a group.partial name releases."""
    if "=~" in name:
        return "metric"
    if name.endswith("~1"):
        return "scalar"
    return "strict"


def _fit_row(name, level, res, indices, scaled, freed) -> dict[str, Any]:
    fm = res.fit_measures
    row: dict[str, Any] = {
        "model": name,
        "level": level,
        "group.partial": ", ".join(freed),
        "npar": fm["npar"],
        "chisq": fm["chisq"],
        "df": fm["df"],
        "pvalue": fm["pvalue"],
    }
    if scaled:
        row["chisq.scaled"] = fm.get("chisq.scaled", np.nan)
        row["pvalue.scaled"] = fm.get("pvalue.scaled", np.nan)
        row["scaling.factor"] = fm.get("chisq.scaling.factor", np.nan)
    for key, col in indices.items():
        row[key] = fm.get(col, np.nan)
    row["aic"] = fm.get("aic", np.nan)
    row["bic"] = fm.get("bic", np.nan)
    return row


def _not_tested_row(level: str, why: str) -> dict[str, Any]:
    return {"model": level, "level": level, "group.partial": "", "status": "not tested",
            "decision": f"not tested: {why}"}


def _compare(row, level, res, accepted, criterion, alpha) -> bool:
    """Fill the difference columns of ``row`` against the accepted model; True if the
    level holds by ``criterion``."""
    prev_name, prev_fit, prev_row = accepted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        test = chisq_difference(res, prev_fit)
    dcfi = row["cfi"] - prev_row["cfi"]
    drmsea = row["rmsea"] - prev_row["rmsea"]
    dsrmr = row["srmr"] - prev_row["srmr"]
    decision = _decision(level, dcfi, drmsea, dsrmr)
    fit_ok = decision.startswith("supported")
    p = test["pvalue"]
    chisq_ok = bool(np.isfinite(p) and p >= alpha)
    holds = {"fit": fit_ok, "chisq": chisq_ok, "both": fit_ok and chisq_ok}[criterion]
    if criterion != "fit":
        decision = ("supported" if holds else "not supported") + (
            f" (chi-square difference p = {p:.3f} {'>=' if chisq_ok else '<'} {alpha:g}; "
            f"fit: {decision})")
    row.update({"compared.with": prev_name, "chisq.diff": test["chisq.diff"],
                "df.diff": test["df.diff"], "pvalue.diff": p, "delta.cfi": dcfi,
                "delta.rmsea": drmsea, "delta.srmr": dsrmr,
                "status": "supported" if holds else "not supported", "decision": decision})
    return holds


def _next_release(res, level, freed, min_invariant, model_text):
    """The constraint of ``level`` with the largest univariate score test (lavaan's
    ``lavTestScore(fit)$uni``) whose release leaves every factor at least
    ``min_invariant`` items with invariant parameters of that kind; ``None`` if none.

    Returns ``(name, X2, p, number of candidates)``."""
    from ckm_research.sem.diagnostics import score_test

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = score_test(res, epc=True, standardized=False)
    epc = st["epc"]
    by_plabel = {r.plabel: (r.lhs, r.op, r.rhs) for r in epc.itertuples(index=False)}
    op = _LEVEL_OP[level]
    ov = set(res.engine.model.ov)
    fi = factor_indicators(model_text)
    item_factors: dict[str, list[str]] = {}
    for f, items in fi.items():
        for it in items:
            item_factors.setdefault(it, []).append(f)
    freed_items = {f: 0 for f in fi}
    for name in freed:
        lhs, o, rhs = _split_name(name)
        if o == op:
            for f in ([lhs] if op == "=~" else item_factors.get(lhs, [])):
                if f in freed_items:
                    freed_items[f] += 1
    cands = []
    for r in st["uni"].itertuples(index=False):
        lhs, o, rhs = by_plabel[r.lhs]
        if o != op:
            continue
        if op == "~~" and not (lhs == rhs and lhs in ov):
            continue
        if op == "~1" and lhs not in ov:
            continue
        name = f"{lhs}{o}{rhs}"
        if name in freed:
            continue
        cands.append((float(r.X2), float(r[5]), name, lhs))
    cands.sort(key=lambda c: -c[0])
    for x2, p, name, lhs in cands:
        factors = [lhs] if op == "=~" else item_factors.get(lhs, [])
        if all(len(fi[f]) - freed_items[f] - 1 >= min_invariant for f in factors):
            return name, x2, p, len(cands)
    return None


def _split_name(name: str) -> tuple[str, str, str]:
    for op in ("=~", "~~", "~1"):
        if op in name:
            lhs, _, rhs = name.partition(op)
            return lhs, op, rhs
    return name, "", ""


# ---------------------------------------------------------------------------
# Wald tests of equal paths across groups


def _wald(theta_rows: list[list[int]], theta: np.ndarray, vcov: np.ndarray):
    """W, df for the constraints sum of (+1, -1) pairs of free-parameter indices."""
    R = np.zeros((len(theta_rows), len(theta)))
    for k, (i, j) in enumerate(theta_rows):
        R[k, i] += 1.0
        R[k, j] -= 1.0
    r = R @ theta
    V = R @ vcov @ R.T
    rank = np.linalg.matrix_rank(V)
    W = float(r @ np.linalg.pinv(V) @ r)
    return W, int(rank)


def compare_paths(result, *, paths: Iterable[str] | None = None,
                  ops: Sequence[str] = ("~",)) -> pd.DataFrame:
    """Wald tests that each path is equal in all groups, as ``lavaan::lavTestWald``.

    For a parameter :math:`\\theta_g` estimated freely in each of *G* groups,
    the hypothesis :math:`\\theta_1 = \\theta_g\\ (g = 2..G)` is tested by

    .. math::

        W = (R\\hat\\theta)^\\top (R \\hat V R^\\top)^{-1} R\\hat\\theta
        \\sim \\chi^2_{G-1},

    with :math:`\\hat V` the fit's covariance matrix of the estimates (robust
    for MLR; Wald, 1943; Bollen, 1989, p. 293).  A last row ``(all)`` tests all
    listed paths jointly.  Compare paths on a model with equal loadings
    (metric invariance), otherwise the factors' scales may differ.

    Parameters
    ----------
    result : SEMResults
        A multiple-group fit.
    paths : iterable of str, optional
        ``"lhs~rhs"`` (or ``"lhs=~rhs"`` ...) names; all parameters with an
        operator in ``ops`` by default.
    ops : sequence of str
        Operators to test (regressions ``~`` by default; add ``"=~"`` for
        loadings).

    Returns
    -------
    pandas.DataFrame
        Columns ``lhs op rhs est.<group>... wald df pvalue``; parameters that
        are already constrained equal are left out.

    Examples
    --------
    >>> import ckm_research
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\ntextual ~ visual"
    >>> res = ckm_research.fit(model, hs, group="school", group_equal=["loadings"])
    >>> compare_paths(res).round(3)
           lhs op     rhs  est.Pasteur  est.Grant-White   wald  df  pvalue
    0  textual  ~  visual        0.524            0.624  0.359   1   0.549

    In R: ``lavTestWald(fit, constraints = "b1 == b2")`` with labelled paths.
    """
    result = require_result(result, "compare_paths")
    if result.ngroups < 2:
        raise CkmError("compare_paths needs a multiple-group fit (fit(..., group='COL'))")
    eng = result.engine
    t = eng.pt.table
    theta = np.asarray(result.theta, dtype=float)
    vcov = np.asarray(result.vcov, dtype=float)
    est = result.estimates.iloc[: len(t)]
    labels = list(result.group_labels)
    wanted = None if paths is None else {p.replace(" ", "") for p in paths}
    keys = []
    for r in t.itertuples(index=False):
        if r.op in ops and r.group == 1:
            keys.append((r.lhs, r.op, r.rhs))
    rows, all_pairs = [], []
    for lhs, op, rhs in keys:
        name = f"{lhs}{op}{rhs}"
        if wanted is not None and name not in wanted:
            continue
        idx = [np.flatnonzero((t["lhs"] == lhs).to_numpy() & (t["op"] == op).to_numpy()
                              & (t["rhs"] == rhs).to_numpy() & (t["group"] == g).to_numpy())
               for g in range(1, result.ngroups + 1)]
        if any(len(i) != 1 for i in idx):
            continue
        free = [int(t["free"].iat[i[0]]) for i in idx]
        if any(f == 0 for f in free) or len(set(free)) == 1:
            continue
        pairs = [(free[0] - 1, f - 1) for f in free[1:] if f != free[0]]
        W, df = _wald(pairs, theta, vcov)
        row = {"lhs": lhs, "op": op, "rhs": rhs}
        for g, i in zip(labels, idx, strict=True):
            row[f"est.{g}"] = float(est["est"].iat[i[0]])
        row.update({"wald": W, "df": df, "pvalue": float(stats.chi2.sf(W, df))})
        rows.append(row)
        all_pairs += pairs
    if wanted is not None:
        found = {f"{r['lhs']}{r['op']}{r['rhs']}" for r in rows}
        missing = sorted(wanted - found)
        if missing:
            raise CkmError(
                "cannot compare " + ", ".join(missing) + " across groups: not a parameter "
                "estimated freely in every group (write paths as 'lhs~rhs')"
            )
    if not rows:
        raise CkmError(
            f"the model has no parameters with operator(s) {list(ops)} that are free in every "
            "group; nothing to compare"
        )
    if len(rows) > 1:
        W, df = _wald(all_pairs, theta, vcov)
        rows.append({"lhs": "(all)", "op": "", "rhs": "", "wald": W, "df": df,
                     "pvalue": float(stats.chi2.sf(W, df))})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# scores and groups


def factor_scores(result, data) -> pd.DataFrame:
    """Regression (Thurstone) factor scores, as ``lavPredict(fit)``.

    .. math::

        \\hat\\eta_i = \\mu_\\eta + \\Phi\\Lambda^\\top\\hat\\Sigma^{-1}(y_i - \\mu_y),

    written generally with the model-implied covariances of factors and items,
    :math:`\\operatorname{Cov}(\\eta, y)\\hat\\Sigma^{-1}` (Thurstone, 1935;
    Bollen, 1989, p. 305); :math:`\\mu` are the model-implied means, or the
    sample means (and zero factor means) for a model without a mean structure.

    Parameters
    ----------
    result : SEMResults
        A single-group fit.
    data : pandas.DataFrame or path
        The data to score (rows with a missing item get NaN).

    Returns
    -------
    pandas.DataFrame
        One column per factor, indexed as ``data``.
    """
    result = require_result(result, "factor_scores")
    if result.ngroups > 1:
        raise CkmError("factor_scores needs a single-group fit")
    eng = result.engine
    model = eng.model
    frame = as_frame(data)
    ov, lv = list(model.ov), list(model.lv)
    check_columns(frame, ov)
    k = len(ov)
    vals = eng.row_values()
    A, S, m = model.matrices_from_rows(vals, 0)
    E = model.total_effects_inverse(A)
    C = E @ S @ E.T
    if eng.opts.meanstructure:
        mu = E @ m
        mu_y, mu_eta = mu[:k], mu[k:]
    else:
        _, mu_y = eng.sample_moments(0)
        mu_y = np.asarray(mu_y)
        mu_eta = np.zeros(len(lv))
    y = frame[ov].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    weights = np.linalg.solve(C[:k, :k], C[:k, k:])  # Sigma^-1 Cov(y, eta)
    scores = mu_eta + (y - mu_y) @ weights
    return pd.DataFrame(scores, index=frame.index, columns=lv)


def split_groups(
    data,
    *,
    items: Sequence[str] | None = None,
    result=None,
    factor: str | None = None,
    score: str = "mean",
    cut: str | float = "median",
    labels: tuple[str, str] = ("low", "high"),
    name: str | None = None,
) -> pd.Series:
    """Two groups from a score cut at a chosen value (e.g. high vs low turbulence).

    The score is either the mean of ``items`` (``score="mean"``; with
    ``result`` and ``factor``, the items of that factor) or the regression
    factor score of ``factor`` from ``result`` (``score="regression"``,
    :func:`factor_scores`).  Cases with ``score > cut`` form the second group
    (``labels[1]``), the others the first; cases without a score get NaN and
    drop out of a multiple-group fit.  Dichotomizing a continuous moderator
    loses power (MacCallum, Zhang, Preacher & Rucker, 2002, *Psychological
    Methods* 7, 19-40): prefer the latent interaction when the aim is to test
    moderation, and use groups for invariance and descriptive comparisons.
    Within each group the split factor has a restricted range, so its own
    variance and the paths from it differ between groups by construction.

    Parameters
    ----------
    data : pandas.DataFrame or path
    items : sequence of str, optional
        Items whose mean is the score.
    result : SEMResults, optional
        A fitted model, to take ``factor``'s items or its factor scores from.
    factor : str, optional
        The factor (e.g. ``"CTU"``) to score.
    score : {'mean', 'regression'}
    cut : 'median', 'mean' or float
        Where to cut the score.
    labels : (str, str)
        Names of the low and high groups.
    name : str, optional
        Name of the returned series (default ``"<factor>_group"``).

    Returns
    -------
    pandas.Series
        Group labels, indexed as ``data``; ``attrs["cut"]`` holds the cut
        value, ``attrs["score"]`` the scores and ``attrs["notes"]`` the loss of
        power of the split (MacCallum et al., 2002: a median split of a normal
        score correlates :math:`\\sqrt{2/\\pi} = .80` with it; :data:`POWER_NOTE`)
        and the restricted range within the groups.

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> groups = split_groups(hs, items=["x1", "x2", "x3"])
    >>> groups.value_counts().to_dict(), groups.attrs["cut"]
    ({'low': 152, 'high': 149}, 4.375)
    >>> hs["visual_group"] = groups
    """
    frame = as_frame(data)
    if score not in ("mean", "regression"):
        raise CkmError(
            f"The 'score' parameter of split_groups must be 'mean' or 'regression'. "
            f"Got {score!r} instead."
        )
    if score == "regression":
        if result is None or factor is None:
            raise CkmError("score='regression' needs result= (a fitted model) and factor=")
        scores = factor_scores(result, frame)
        if factor not in scores.columns:
            raise CkmError(f"the model has no factor '{factor}'; factors: "
                           + ", ".join(scores.columns))
        s = scores[factor]
    else:
        if items is None:
            if factor is None:
                raise CkmError("give items= (columns to average) or factor= with result= or "
                               "a model")
            source = result if result is not None else None
            if source is None:
                raise CkmError("factor= without items= needs result= to know the factor's "
                               "items")
            fi = factor_indicators(source)
            if factor not in fi:
                raise CkmError(f"the model has no factor '{factor}'; factors: "
                               + ", ".join(fi))
            items = fi[factor]
        items = list(items)
        check_columns(frame, items, what="score")
        s = frame[items].apply(pd.to_numeric, errors="coerce").mean(axis=1, skipna=False)
    valid = s.dropna()
    if valid.empty:
        raise CkmError("no case has a score (all have missing items)")
    if isinstance(cut, str):
        if cut == "median":
            value = float(valid.median())
        elif cut == "mean":
            value = float(valid.mean())
        else:
            raise CkmError(
                f"The 'cut' parameter of split_groups must be 'median', 'mean' or a number. "
                f"Got {cut!r} instead."
            )
    elif isinstance(cut, (int, float, np.integer, np.floating)) and not isinstance(cut, bool):
        value = float(cut)
    else:
        raise CkmError(
            f"The 'cut' parameter of split_groups must be 'median', 'mean' or a number. "
            f"Got {cut!r} instead."
        )
    out = pd.Series(np.where(s > value, labels[1], labels[0]), index=frame.index, dtype=object)
    out[s.isna()] = np.nan
    n_hi = int((out == labels[1]).sum())
    n_lo = int((out == labels[0]).sum())
    if n_hi == 0 or n_lo == 0:
        raise CkmError(
            f"the cut {value:g} leaves one group empty ({labels[0]}: {n_lo}, {labels[1]}: "
            f"{n_hi}); choose a cut inside the range of the score "
            f"({valid.min():g} to {valid.max():g})"
        )
    out.name = name or (f"{factor}_group" if factor else "score_group")
    out.attrs["cut"] = value
    out.attrs["score"] = s
    out.attrs["notes"] = [POWER_NOTE, RANGE_NOTE]
    return out


#: What a split at the median (or any cut) of a continuous moderator costs.
POWER_NOTE = (
    "Splitting a continuous moderator into two groups discards information: with a "
    "median split of a normal variable the power to detect its effects is that of a "
    "sample about one third smaller (the split correlates sqrt(2/pi) = .80 with the "
    "score, so r-squared shrinks to 64% of its value), and interactions can be missed or "
    "spurious (MacCallum, Zhang, Preacher & Rucker, 2002, Psychological Methods 7(1), "
    "19-40). The group comparison "
    "is descriptive; test moderation with the continuous latent interaction."
)
#: Why the split factor's own parameters are not comparable across its groups.
RANGE_NOTE = (
    "Within each group the split score has a restricted range, so its variance and the "
    "paths from it differ between the groups by construction."
)
