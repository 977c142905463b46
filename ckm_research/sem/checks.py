"""Checks of a model against its data before estimation.

Each check turns a mistake lavaan refuses (or warns about) into a message that
names the variable at fault and says what to do, instead of a numerical
failure later on ("I - B is singular", a singular information matrix):

- :func:`check_latent_names`: a latent variable named like a column of the
  data (lavaan's ``lav_lavaan_step01_ovnames_checklv``, "some latent variable
  names collide with observed variable names").
- :func:`scale_warnings`: lavaan's two warnings on the observed variances
  (``lav_data_full``: "some observed variances are (at least) a factor 1000
  times larger than others", "some observed variances are larger than
  1000000"), with the variables and their variances.
- :func:`ordinal_warnings`: lavaan's warning on ordinal items with more than
  12 categories; :func:`syntax_notes`: lavaan's warning on a single label in a
  multiple-group model, and syntax lavaan reads differently.
- :class:`FitEngine`: what :func:`run_engine` needs of an engine (the SEM
  engines of :mod:`ckm_research.sem.engine` and the latent-interaction
  engines of :mod:`ckm_research.moderation` implement it).
- :func:`run_engine`: runs the estimation and, when it fails, tells apart
  bad starting values (it refits once from the default starting values, as a
  lavaan user would with ``start = "simple"``), badly scaled variables (a
  numerically singular information matrix; the message says which variable to
  rescale, and by how much) and a model that is not identified (with a hint on
  two-indicator factors, empirically under-identified when their covariances
  with the other factors are near zero; Bollen, 1989, pp. 244-246).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ckm_research.errors import (
    ConvergenceError,
    DataError,
    IdentificationError,
    ModelSpecificationError,
)
from ckm_research.sem.partable import VariableRoles

__all__ = [
    "FitEngine",
    "check_parameter_count",
    "check_latent_names",
    "observed_variances",
    "scale_warnings",
    "ordinal_warnings",
    "syntax_notes",
    "run_engine",
]

#: lavaan's thresholds (lav_data_full): largest / smallest variance, largest variance
_RATIO_LIMIT = 1000.0
_VARIANCE_LIMIT = 1e6


@runtime_checkable
class FitEngine(Protocol):
    """What :func:`run_engine` uses of an engine: the contract of every fit.

    Implemented by :class:`ckm_research.sem.engine.BaseEngine` (every SEM
    estimator) and by the latent-interaction engines
    (:class:`ckm_research.moderation.interaction_engine.InteractionEngine`:
    LMS, multiple-group LMS, QML).  ``isinstance(engine, FitEngine)`` checks
    that the members exist (:func:`typing.runtime_checkable`).

    Attributes
    ----------
    notes : list of str
        Notes and warnings of the fit; :func:`run_engine` appends to it and
        :meth:`run` reports it (``SEMResults.warnings``).
    opts : object
        The fit's options; :func:`ordinal_warnings` reads ``opts.ordered`` (the
        ordinal items; empty for engines of continuous indicators).
    ngroups : int
        Number of groups, for :func:`syntax_notes`.
    """

    notes: list[str]
    opts: Any

    @property
    def ngroups(self) -> int: ...

    def check_df(self) -> None:
        """Refuse a model with more free parameters than sample moments
        (:func:`check_parameter_count`)."""

    def run(self) -> Any:
        """Estimate and return the :class:`~ckm_research.sem.results.SEMResults`;
        raise :class:`IdentificationError` or :class:`ConvergenceError` on failure."""

    def observed_data(self) -> pd.DataFrame:
        """The cases used, all groups stacked, one column per observed variable
        of the model (``NaN`` for a missing value)."""

    def observed_variances(self) -> pd.Series:
        """The variances lavaan's scale warnings look at (:func:`observed_variances`)."""

    def user_starts(self) -> list[str]:
        """The starting values given in the syntax (``start(v)*x``), one
        ``"start(v) on lhs op rhs"`` per free parameter; empty if none."""

    def from_default_starts(self, notes: list[str]) -> FitEngine | None:
        """A new, unfitted engine of the same model, data and options that
        starts from the default starting values (the ``start()`` values of the
        syntax dropped), with ``notes``; ``None`` if the engine cannot restart."""

    def failure_hint(self, identification: bool) -> str:
        """Text appended to the message of a failed fit (``""`` for none);
        ``identification``: the failure was an :class:`IdentificationError`."""


def check_parameter_count(npar: int, ndat: int) -> None:
    """Refuse a model with more free parameters than sample statistics.

    The counting rule (Bollen, 1989, p. 93: the t-rule): a model with
    ``npar > ndat`` is not identified, whatever the data.

    Raises
    ------
    ckm_research.errors.IdentificationError
    """
    df = ndat - npar
    if df < 0:
        raise IdentificationError(
            f"the model is not identified: it has {npar} free parameters but only "
            f"{ndat} sample statistics (df = {df}). Fix or remove parameters."
        )


def check_latent_names(roles: VariableRoles, columns: Iterable) -> None:
    """Refuse latent variables that have the name of a data column.

    lavaan 0.6.14 stops with "some latent variable names collide with observed
    variable names: x1" when a factor (``=~``) or composite (``<~``) has the
    name of a column of the data, whether or not the model uses that column:
    the name would denote both the factor and the observed variable.

    Parameters
    ----------
    roles : VariableRoles
        The model's variables (:func:`ckm_research.sem.partable.variable_roles`).
    columns : iterable
        The column names of the data.

    Raises
    ------
    ckm_research.errors.ModelSpecificationError
        Naming the latent variable(s) and saying to rename them.
    """
    cols = {str(c) for c in columns}
    clash = [v for v in roles.lv if v in cols]
    if not clash:
        return
    names = ", ".join(f"'{v}'" for v in clash)
    first = clash[0]
    raise ModelSpecificationError(
        f"the latent variable name(s) {names} are also column(s) of the data (lavaan: "
        f'"some latent variable names collide with observed variable names"). A factor '
        "must have a name of its own: rename the factor in the model (e.g. "
        f"F_{first} =~ ...), or rename the column if the factor is meant to be measured "
        "by other items."
    )


def observed_variances(engine: FitEngine) -> pd.Series:
    """The variances lavaan's scale warnings look at (its ``varTable(fit)$var``).

    The sample variances (divisor N - 1, available cases, all groups together)
    of the continuous observed variables of the model that are not fixed-x
    covariates (lavaan: ``type == "numeric" & exo == 0``).  Empty with
    ``std_ov=True``, as lavaan skips its check then.  Each engine says which
    variables (:meth:`FitEngine.observed_variances`; computed by
    :func:`variable_variances`).
    """
    return engine.observed_variances()


def variable_variances(
    values: np.ndarray, names: Iterable[str], skip: Iterable[str] = ()
) -> pd.Series:
    """Sample variances (divisor N - 1, available cases) of the columns of
    ``values`` (named ``names``) not in ``skip``; a column with fewer than two
    values is left out.  An array, not a DataFrame: every fit computes it."""
    skip = set(skip)
    out = {}
    for j, name in enumerate(names):
        if name in skip:
            continue
        col = values[:, j]
        col = col[np.isfinite(col)]
        if len(col) > 1:
            with np.errstate(over="ignore", invalid="ignore"):
                out[name] = float(np.var(col, ddof=1))
    return pd.Series(out, dtype=float)


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _scale_problem(variances: pd.Series):
    """(largest, smallest, ratio) when the variances differ by more than lavaan's 1000."""
    v = variances[np.isfinite(variances) & (variances > 0)]
    if len(v) < 2:
        return None
    big, small = v.idxmax(), v.idxmin()
    ratio = v[big] / v[small]
    return (big, small, ratio) if ratio > _RATIO_LIMIT else None


def scale_warnings(engine) -> list[str]:
    """lavaan's warnings on the observed variances, with the variables named.

    lavaan 0.6.14 (``lav_data_full``) warns when the largest variance of the
    continuous, non-exogenous observed variables is more than 1000 times the
    smallest, and when it exceeds 10^6.  The fit goes on; very different
    scales can make the information matrix numerically singular (then
    :func:`run_engine` says so).
    """
    variances = observed_variances(engine)
    v = variances.to_numpy()
    ok = v[np.isfinite(v) & (v > 0)]
    if not (len(ok) > 1 and ok.max() / ok.min() > _RATIO_LIMIT) and not (v > _VARIANCE_LIMIT).any():
        return []  # the usual case, decided on the array (this runs on every fit)
    out = []
    prob = _scale_problem(variances)
    if prob is not None:
        big, small, ratio = prob
        out.append(
            "some observed variances are (at least) a factor 1000 times larger than others "
            f"(lavaan's warning): '{big}' has variance {_fmt(variances[big])}, '{small}' "
            f"{_fmt(variances[small])} (ratio {_fmt(ratio)}). Variables on very different "
            f"scales can make the estimation unstable; consider rescaling '{big}' (e.g. "
            f"divide it by {_fmt(_rescale_factor(variances, big))})."
        )
    large = variances[variances > _VARIANCE_LIMIT]
    if len(large):
        listed = ", ".join(f"'{k}' ({_fmt(v)})" for k, v in large.items())
        out.append(
            f"some observed variances are larger than 1000000 (lavaan's warning): {listed}. "
            "Check for an undeclared missing-value code (such as -999999: declare it with "
            "missing_values=[...] or --missing-values) or a variable on a large scale."
        )
    return out


def _rescale_factor(variances: pd.Series, name: str) -> float:
    """The power of ten that brings ``name``'s standard deviation to the median one."""
    v = variances[np.isfinite(variances) & (variances > 0)]
    sd_ratio = np.sqrt(v[name] / np.median(v))
    return float(10.0 ** round(np.log10(sd_ratio)))


def _outlier_cell(frame: pd.DataFrame | None, name: str) -> str:
    """' Its value x in data row r ...' when one cell makes most of ``name``'s variance."""
    if frame is None or name not in frame.columns:
        return ""
    col = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
    ok = np.flatnonzero(np.isfinite(col))
    if len(ok) < 3:
        return ""
    with np.errstate(over="ignore", invalid="ignore"):
        dev = np.abs(col[ok] - np.median(col[ok]))
        k = ok[int(np.argmax(dev))]
        rest = np.delete(col, k)
        rest = rest[np.isfinite(rest)]
        var_all, var_rest = np.var(col[ok], ddof=1), np.var(rest, ddof=1)
    if not (np.isfinite(var_all) and var_rest > 0 and var_all / var_rest > 100):
        return ""
    return (
        f" Most of the variance of '{name}' comes from one cell, {col[k]:.3g} in data row "
        f"{k + 1} (rows counted from 1): check it for a data-entry error."
    )


def user_start_rows(t: pd.DataFrame) -> list[str]:
    """``"start(v) on lhs op rhs"`` for each free row of the parameter table
    ``t`` with a starting value from the syntax."""
    rows = t[np.isfinite(t["start"].to_numpy(dtype=float)) & (t["free"] > 0)]
    return [f"start({r.start:g}) on {r.lhs} {r.op} {r.rhs}" for r in rows.itertuples()]


def two_indicator_hint(table: pd.DataFrame, data: pd.DataFrame, identification: bool) -> str:
    """A hint on two-indicator factors (Bollen, 1989, pp. 244-246).

    A factor with two indicators is identified only through the covariances
    of its indicators with the rest of the model.  When those indicators
    hardly correlate with every other observed variable the hint says the
    model is empirically under-identified in these data (none of those
    correlations differs from zero at the 5% level, Fisher's z test);
    otherwise, for a
    non-identification, it says where to look.

    Parameters
    ----------
    table : pandas.DataFrame
        The parameter table (``lhs op rhs group``).
    data : pandas.DataFrame
        The observed variables, all groups stacked (:meth:`FitEngine.observed_data`).
    identification : bool
        The failure was a non-identification.
    """
    t = table[(table["op"] == "=~") & (table["group"] == 1)]
    ov = list(data.columns)
    corr = data.corr()
    n = len(data)
    weak, two = [], []
    for f, sub in t.groupby("lhs", sort=False):
        items = list(dict.fromkeys(sub["rhs"]))
        if len(items) != 2 or not all(i in ov for i in items):
            continue
        two.append(f)
        others = [v for v in ov if v not in items]
        if not others:
            continue
        r = float(np.nanmax(np.abs(corr.loc[items, others].to_numpy())))
        if np.arctanh(min(r, 0.999)) * np.sqrt(max(n - 3, 1)) < 1.96:
            weak.append(f"'{f}' ({items[0]}, {items[1]}: |r| <= {r:.2f})")
    if weak:
        return (
            " The factor(s) " + ", ".join(weak) + " have two indicators whose correlations "
            "with the other observed variables do not differ from zero (5% level, Fisher's z) "
            "in these data; a two-indicator factor is "
            "identified only through those correlations, so the model is empirically "
            "under-identified (Bollen, 1989, pp. 244-246). Add a third indicator, or "
            "constrain the two loadings equal (e.g. F =~ a*x1 + a*x2)."
        )
    if identification and two:
        return (
            " Note: the factor(s) " + ", ".join(f"'{f}'" for f in two) + " have two "
            "indicators; such a factor is identified only through its covariances with other "
            "factors, so the model is empirically under-identified when these are near zero "
            "(Bollen, 1989, pp. 244-246). Add a third indicator, or constrain the two "
            "loadings equal (e.g. F =~ a*x1 + a*x2)."
        )
    return ""


def ordinal_warnings(engine) -> list[str]:
    """lavaan's warning on ordinal items with more than 12 categories.

    lavaan 0.6.14 (``lav_data_full``) warns "some ordered categorical
    variable(s) have more than 12 levels" and fits the model; with so many
    categories the item is better treated as continuous (``estimator='MLR'``).
    """
    ordered = list(engine.opts.ordered)
    if not ordered:
        return []
    data = engine.observed_data()
    many = []
    for v in ordered:
        col = data[v].to_numpy(dtype=float)
        n = len(np.unique(col[np.isfinite(col)]))
        if n > 12:
            many.append(f"{v} ({n})")
    if not many:
        return []
    return [
        "some ordered categorical variable(s) have more than 12 levels (lavaan's warning): "
        + ", ".join(many)
        + ". With so many categories, treat them as continuous (e.g. estimator='MLR' without "
        "ordered=), or collapse categories."
    ]


def syntax_notes(parsed, ngroups: int) -> list[str]:
    """Notes on the syntax that lavaan 0.6.14 warns about or reads differently.

    - the parser's notes (a label chained with a fixed value, which lavaan
      reads differently; :attr:`ckm_research.sem.syntax.ParsedModel.notes`);
    - a single label on a parameter of a multiple-group model: the label is
      shared by the groups, so the parameter is equal across them, as in
      lavaan, which warns "using a single label per parameter in a multiple
      group setting implies imposing equality constraints across all the
      groups" (``lav_model_partable``; no warning for ``c(a, a)``, which says
      so explicitly).
    """
    out = list(getattr(parsed, "notes", ()))
    if ngroups > 1:
        single = [
            f"{s.lhs} {s.op} {s.rhs}"
            for s in parsed.statements
            if len(s.modifiers) == 1 and s.modifiers[0].label is not None
        ]
        if single:
            out.append(
                "using a single label per parameter in a multiple group setting implies "
                "imposing equality constraints across all the groups (lavaan's warning): "
                + ", ".join(single)
                + ". If this is not intended, remove the label(s) or give one label per "
                "group, c(a1, a2)."
            )
    return out


def run_engine(engine: FitEngine, frame: pd.DataFrame | None = None, parsed=None):
    """Fit with ``engine`` and diagnose a failure correctly.

    The one entry of every fit: the SEM engines (:mod:`ckm_research.sem.api`)
    and the latent-interaction engines (:func:`ckm_research.moderation.fit_lms`,
    :func:`ckm_research.moderation.fit_qml`).  It uses only the
    :class:`FitEngine` contract.

    1. A model with more free parameters than sample statistics is refused
       first (not identified, whatever the data).
    2. lavaan's scale warnings (:func:`scale_warnings`) are added to the notes.
    3. If the estimation fails (:class:`IdentificationError` or
       :class:`ConvergenceError`) and the syntax gave starting values
       (``start(v)*x``), the model is fitted once more from the default
       starting values (:meth:`FitEngine.from_default_starts`); if that
       converges, the result says so in a note.
       lavaan's optimiser (``nlminb``) reaches the same minimum from such
       starting values; ours may not, but the solution is the same.
    4. If it still fails and the observed variances differ by more than a
       factor 1000, the failure is reported as badly scaled data
       (:class:`~ckm_research.errors.DataError`), naming the variable, the
       factor to rescale it by and, where one cell makes most of its variance,
       that cell.
    5. Otherwise the original error is raised, with the engine's hint
       (:meth:`FitEngine.failure_hint`; for the SEM engines a hint on
       empirical under-identification by a two-indicator factor).

    Parameters
    ----------
    engine : FitEngine
        E.g. from :func:`ckm_research.sem.api.build_engine`.
    frame : pandas.DataFrame, optional
        The data, to locate a cell that makes most of a variable's variance.
    parsed : ParsedModel, optional
        The model, for :func:`syntax_notes`.

    Returns
    -------
    SEMResults
    """
    if parsed is not None:
        engine.notes.extend(syntax_notes(parsed, engine.ngroups))
    engine.check_df()
    engine.notes.extend(scale_warnings(engine))
    engine.notes.extend(ordinal_warnings(engine))
    try:
        return engine.run()
    except (IdentificationError, ConvergenceError) as exc:
        first = exc
    starts = engine.user_starts()
    retried = ""
    if starts:
        notes = list(engine.notes)
        notes.append(
            "the starting values given in the model (" + ", ".join(starts) + ") led to no "
            f"solution ({first}); the model was fitted again from the default starting "
            "values, which converged to the estimates reported"
        )
        again = engine.from_default_starts(notes)
        if again is not None:
            try:
                return again.run()
            except (IdentificationError, ConvergenceError):
                retried = (
                    " (also when fitted again from the default starting values instead of "
                    "the start() values in the model)"
                )
    var = observed_variances(engine)
    prob = _scale_problem(var)
    if prob is not None:
        big, small, ratio = prob
        raise DataError(
            f"the estimation failed{retried}, and the observed variables are badly scaled: "
            f"the variance of '{big}' ({_fmt(var[big])}) is {_fmt(ratio)} times that of "
            f"'{small}' ({_fmt(var[small])}) (lavaan warns: \"some observed variances are "
            '(at least) a factor 1000 times larger than others"). Such scales make the '
            "information matrix numerically singular, so this is not evidence that the model "
            "is not identified." + _outlier_cell(frame, big) + f" Rescale '{big}' (e.g. divide "
            f"it by {_fmt(_rescale_factor(var, big))}) or fit with std_ov=True, then fit "
            f"again. (The optimiser reported: {first})"
        ) from None
    message = str(first) + retried
    message += engine.failure_hint(isinstance(first, IdentificationError))
    raise type(first)(message) from None
