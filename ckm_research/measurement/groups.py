"""Groups compared: the invariance sequence, then Wald tests of equal structural paths.

One workflow for ``ckm invariance`` (``--group COL`` or ``--split FACTOR``) and for
the pipeline's multi-group comparison (``notebooks/05_moderation``), so both fit the
same models and give the same numbers (issue 10):

1. the groups are a column of the data, or the low and high halves of a factor's
   score cut at its median, mean or a value (:func:`~ckm_research.measurement.split_groups`);
   a factor that defines the groups is left out of the group models
   (:func:`~ckm_research.sem.modelsyntax.drop_factor`): within each group its range
   is restricted by construction, so its variance and the paths from it are not
   comparable across the groups (MacCallum, Zhang, Preacher & Rucker, 2002);
2. the configural -> metric -> scalar -> strict sequence is fitted to the
   measurement model of the remaining factors
   (:func:`~ckm_research.sem.modelsyntax.cfa_syntax`,
   :func:`~ckm_research.measurement.measurement_invariance`; lavaan's
   ``cfa(..., group.equal = ...)`` and ``lavTestLRT``);
3. the structural paths are compared by Wald tests
   (:func:`~ckm_research.measurement.compare_paths`, lavaan's ``lavTestWald``) in one
   multi-group fit of the model with equal loadings, and equal intercepts too when
   scalar invariance is supported (Vandenberg & Lance, 2000).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ckm_research.errors import CkmError, CkmWarning
from ckm_research.measurement._common import clean_json, format_table, read_model

__all__ = ["GroupComparison", "multigroup_comparison"]


@dataclass
class GroupComparison:
    """What :func:`multigroup_comparison` found.

    Attributes
    ----------
    group : str
        The column defining the groups (made as ``"<factor>_group"`` for a split).
    groups : pandas.Series
        The group of each case (NaN: no score, left out).
    model : str
        The model fitted in the groups (lavaan syntax; without the split factor).
    factor, score, cut : str, str, float or None
        The split: the factor, its score (``"mean"`` of its items or
        ``"regression"`` factor score) and the value it was cut at.
    items : list of str or None
        The split factor's items.
    invariance : InvarianceResult or None
        The invariance sequence (None when it could not be estimated:
        ``invariance_error`` says why).
    fit : SEMResults or None
        The multi-group fit the paths are compared in.
    group_equal : list of str
        Its equality constraints (lavaan's ``group.equal``).
    group_partial : list of str
        The parameters released by the partial-invariance search (lavaan's
        ``group.partial``).
    notes : list of str
        Notes on the split (the power lost by cutting a continuous score).
    comparison : pandas.DataFrame or None
        Wald tests of equal paths (None without regressions, or when the fit failed:
        ``comparison_error`` says why).
    messages : list of str
        Warnings of the multi-group fit.
    invariance_warnings : list of str
        Warnings of the invariance models.
    """

    group: str
    groups: pd.Series
    model: str
    factor: str | None = None
    score: str | None = None
    cut: float | None = None
    items: list[str] | None = None
    invariance: Any = None
    invariance_error: str = ""
    fit: Any = None
    group_equal: list[str] = field(default_factory=lambda: ["loadings"])
    group_partial: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    comparison: pd.DataFrame | None = None
    comparison_error: str = ""
    messages: list[str] = field(default_factory=list)
    invariance_warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Cases per group."""
        return {str(k): int(v) for k, v in self.groups.value_counts(sort=False).items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: the split, the invariance table and the path tests."""
        doc: dict[str, Any] = {}
        if self.factor is not None:
            doc["split"] = {
                "factor": self.factor,
                "score": self.score,
                "cut_value": self.cut,
                "group": self.group,
                "n": self.counts(),
            }
        if self.invariance is not None:
            doc.update(self.invariance.to_dict())
        else:
            doc["invariance_error"] = self.invariance_error
        if self.comparison is not None:
            doc["paths"] = {"group_equal": list(self.group_equal),
                            "group_partial": list(self.group_partial),
                            "tests": self.comparison}
        elif self.comparison_error:
            doc["paths_error"] = self.comparison_error
        return clean_json(doc)

    def summary(self, digits: int = 3) -> str:
        """The invariance sequence and the path tests as text."""
        parts = []
        if self.factor is not None:
            parts.append(
                f"Groups from {self.factor} ({self.score} score) cut at {self.cut:.4g}: "
                + ", ".join(f"{k} {v}" for k, v in self.counts().items())
                + f". {self.factor} is left out of the group models (its range is restricted "
                "within each group); test moderation by it with the latent interaction."
            )
        if self.invariance is not None:
            parts.append(self.invariance.summary(digits))
        else:
            parts.append(f"Invariance models not estimated: {self.invariance_error}")
        if self.comparison is not None:
            parts.append(
                "Wald tests of equal regression paths across groups (equal "
                + " and ".join(self.group_equal)
                + (f"; free: {', '.join(self.group_partial)}" if self.group_partial else "")
                + "):\n"
                + format_table(self.comparison, digits)
            )
        elif self.comparison_error:
            parts.append(f"Paths not compared: {self.comparison_error}")
        return "\n\n".join(parts)


def multigroup_comparison(
    model,
    data: pd.DataFrame,
    *,
    group: str | None = None,
    factor: str | None = None,
    cut: str | float = "median",
    score: str = "mean",
    levels: Sequence[str] = ("configural", "metric", "scalar", "strict"),
    estimator: str = "ML",
    missing: str = "listwise",
    labels: tuple[str, str] = ("low", "high"),
    partial: bool = True,
    criterion: str = "fit",
) -> GroupComparison:
    """Compare groups: invariance of the measurement model, then equal-path Wald tests.

    See the module docstring for the steps. A part that cannot be estimated (a
    group too small, a model that does not converge) is returned with its error
    message (``invariance_error``, ``comparison_error``), not raised; errors in the
    arguments are raised.

    Parameters
    ----------
    model : str or pathlib.Path
        lavaan syntax of the study model (a CFA, or an SEM whose paths are compared).
    data : pandas.DataFrame
    group : str, optional
        A column defining the groups; or give ``factor``.
    factor : str, optional
        A factor of ``model`` whose score is cut into a low and a high group.
    cut : 'median', 'mean' or float
        Where the score is cut (:func:`~ckm_research.measurement.split_groups`).
    score : {'mean', 'regression'}
        Mean of the factor's items, or its regression factor score from a fit of
        ``model``.
    levels : sequence of str
        Invariance levels fitted (:data:`~ckm_research.measurement.LEVELS`).
    estimator : {'ML', 'MLR', 'FIML'}
    missing : {'listwise', 'ml'}
        lavaan's ``missing`` (:func:`ckm_research.structural.fit_options`).
    labels : (str, str)
        Names of the low and high groups of a split.
    partial, criterion
        Passed to :func:`~ckm_research.measurement.measurement_invariance`: search for
        partial invariance when a level fails, and the rule that decides when a level
        holds.  The paths are compared with the constraints of the levels that hold,
        fully or partially (the released parameters stay free: lavaan's
        ``group.partial``).

    Returns
    -------
    GroupComparison

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> from ckm_research.measurement import multigroup_comparison
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "textual ~ visual")
    >>> mg = multigroup_comparison(model, hs, group="school", levels=("configural", "metric"))
    >>> mg.invariance.table[["model", "npar", "chisq", "df", "chisq.diff", "pvalue.diff"]].round(3)
            model  npar   chisq    df  chisq.diff  pvalue.diff
    0  configural  38.0  28.565  16.0         NaN          NaN
    1      metric  34.0  38.947  20.0      10.382        0.034
    >>> mg.comparison.round(3)
           lhs op     rhs  est.Pasteur  est.Grant-White   wald  df  pvalue
    0  textual  ~  visual        0.524            0.624  0.359   1   0.549

    In R: ``semTools::measEq.syntax`` / ``lavaan::cfa(..., group.equal = ...)`` and
    ``lavaan::lavTestWald``.
    """
    from ckm_research.measurement.invariance import (
        compare_paths,
        measurement_invariance,
        split_groups,
    )
    from ckm_research.sem.modelsyntax import (
        cfa_syntax,
        drop_factor,
        indicators,
        structural_paths,
    )
    from ckm_research.structural.fitting import fit_model, fit_options

    if (group is None) == (factor is None):
        raise CkmError(
            "multigroup_comparison needs either 'group' (a column) or 'factor' "
            "(a factor whose score is split), not both."
        )
    model_text = read_model(model)
    out: dict[str, Any] = {}
    if factor is not None:
        found = indicators(model_text)
        if factor not in found:
            raise CkmError(
                f"'{factor}' is not a factor of the model; its factors: {', '.join(found)}."
            )
        name = f"{factor}_group"
        if name in data.columns:
            raise CkmError(
                f"the data already have a column '{name}', the name of the groups "
                f"made from {factor}; rename it."
            )
        base = None
        if score == "regression":
            base, _ = fit_model(model_text, data, estimator=estimator, missing=missing)
        groups = split_groups(
            data,
            items=found[factor] if score == "mean" else None,
            result=base,
            factor=factor,
            score=score,
            cut=cut,
            labels=labels,
            name=name,
        )
        frame = data.assign(**{name: groups})
        reduced = drop_factor(model_text, factor)
        out = {
            "factor": factor,
            "score": score,
            "items": list(found[factor]),
            "cut": float(groups.attrs.get("cut", np.nan)),
            "notes": list(groups.attrs.get("notes", [])),
        }
    else:
        if group not in data.columns:
            raise CkmError(
                f"The group column '{group}' is not in the data; its columns: "
                f"{', '.join(map(str, data.columns))}."
            )
        name, frame, reduced = group, data, model_text
        groups = data[group]
    res = GroupComparison(group=name, groups=groups, model=reduced, **out)
    opts = fit_options(estimator, missing)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            inv = measurement_invariance(
                cfa_syntax(reduced), frame, name, levels=list(levels), partial=partial,
                criterion=criterion, **opts,
            )  # fmt: skip
        res.invariance = inv
        res.invariance_warnings = list(
            dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, CkmWarning))
        )
        # the levels that hold, fully or partially (a partial model's row has status
        # "supported" and its level in the "level" column)
        held = set(inv.table.loc[inv.table["status"] == "supported", "level"])
        if {"metric", "scalar"} <= held:
            res.group_equal = ["loadings", "intercepts"]
            res.group_partial = [*inv.partial.get("metric", []), *inv.partial.get("scalar", [])]
        elif "metric" in held:
            res.group_partial = list(inv.partial.get("metric", []))
    except CkmError as exc:
        res.invariance_error = str(exc)
    if not structural_paths(reduced):
        res.comparison_error = "the model has no regression paths to compare"
        return res
    try:
        mg, messages = fit_model(
            reduced,
            frame,
            estimator=estimator,
            missing=missing,
            group=name,
            group_equal=res.group_equal,
            group_partial=res.group_partial,
        )
        res.fit, res.messages = mg, messages
        res.comparison = compare_paths(mg)
    except CkmError as exc:
        res.comparison_error = str(exc)
    return res
