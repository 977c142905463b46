"""The latent-interaction engines (LMS, multiple-group LMS, QML) as fit engines.

Every fit of the package goes through one entry,
:func:`ckm_research.sem.checks.run_engine`, which uses only the contract
:class:`ckm_research.sem.checks.FitEngine` (notes, ``check_df``, ``run``, the
observed data and variances, a restart from the default starting values, a
hint on failure).  This module gives the engines of
:mod:`ckm_research.moderation.lms`, :mod:`~ckm_research.moderation.lms_engine`,
:mod:`~ckm_research.moderation.lms_multigroup` and
:mod:`~ckm_research.moderation.qml` that contract, and holds what
:func:`~ckm_research.moderation.lms.fit_lms` and
:func:`~ckm_research.moderation.qml.fit_qml` share:

- :class:`InteractionOptions`: their options (nodes, prune, moderators,
  quadrature, ``n_jobs``, ``control``, missing, level, groups), validated once
  with the phrasing of :class:`ckm_research.sem.options.FitOptions`;
- :func:`group_column` and :func:`select_cases`: the groups and the cases used
  (listwise deletion, or every case with an observed indicator for FIML,
  ``missing='ml'``);
- :class:`InteractionEngine`: the mixin of the engines: ``run()`` (estimate,
  observed-information vcov, estimates table, fit measures, Heywood warnings,
  :class:`~ckm_research.sem.results.SEMResults`), the identification count
  (free parameters against the :math:`p(p+3)/2` sample means and covariances
  per group, as for the linear model; Bollen, 1989, p. 93), the observed
  variances for lavaan's scale warnings and diagnosis, and the restart from the
  default starting values (the ``start()`` values of the syntax act on the ML
  fit of the model without product terms that starts LMS and QML).
"""

from __future__ import annotations

import dataclasses
import time
import warnings as _warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ckm_research.data.frames import require_column
from ckm_research.errors import CkmError, HeywoodCaseWarning
from ckm_research.numerics import single_thread_blas
from ckm_research.numerics.forked import default_jobs
from ckm_research.sem.checks import (
    check_parameter_count,
    two_indicator_hint,
    user_start_rows,
    variable_variances,
)
from ckm_research.sem.options import param_error
from ckm_research.sem.results import SEMResults

__all__ = ["InteractionOptions", "InteractionEngine", "group_column", "select_cases"]


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _names(x) -> tuple:
    """A tuple of names from a name or a sequence of names (``None`` -> ``()``)."""
    if x is None:
        return ()
    return (x,) if isinstance(x, str) else tuple(x)


@dataclass(frozen=True)
class InteractionOptions:
    """The options of :func:`~ckm_research.moderation.lms.fit_lms` and
    :func:`~ckm_research.moderation.qml.fit_qml`, validated.

    Build it with :meth:`from_kwargs`; ``nodes``, ``quadrature`` and
    ``n_jobs`` may be ``None`` until :meth:`resolved` fills in the defaults
    that depend on the model.

    Attributes
    ----------
    fn : str
        The public function (``"fit_lms"`` or ``"fit_qml"``), named in errors.
    nodes : int or None
        Gauss-Hermite nodes per moderator (LMS).
    prune : float
        Relative weight below which product-rule nodes are dropped (LMS).
    moderators : tuple of str or None
        The factors to integrate over (LMS; default: chosen from the terms).
    quadrature : {'fixed', 'adaptive'} or None
    n_jobs : int or None
        Forked processes for the Hessian (``None``: by the model's size).
    iter_max : int
        ``control={"iter.max": ...}``.
    missing : {'listwise', 'ml'}
    level : float
        Confidence level.
    missing_values : object
        Missing-value codes for :func:`ckm_research.data.io.read_data`.
    group : str or None
        Column of the groups (multiple-group LMS).
    group_equal, group_partial : tuple of str
        lavaan's ``group.equal`` and ``group.partial``.
    ordered : tuple
        Always empty: LMS and QML need continuous indicators (the contract of
        :func:`ckm_research.sem.checks.ordinal_warnings`).
    """

    fn: str = "fit_lms"
    nodes: int | None = None
    prune: float = 1e-12
    moderators: tuple[str, ...] | None = None
    quadrature: str | None = None
    n_jobs: int | None = 1
    iter_max: int = 500
    missing: str = "listwise"
    level: float = 0.95
    missing_values: Any = None
    group: str | None = None
    group_equal: tuple[str, ...] = ()
    group_partial: tuple[str, ...] = ()
    ordered: tuple[str, ...] = ()

    @classmethod
    def from_kwargs(
        cls,
        fn: str,
        *,
        nodes=None,
        prune=1e-12,
        moderators=None,
        quadrature=None,
        n_jobs=1,
        control=None,
        missing=None,
        level=0.95,
        missing_values=None,
        group=None,
        group_equal=(),
        group_partial=(),
    ) -> InteractionOptions:
        """Check every value (``fn``: the public function, for the messages).

        Raises
        ------
        CkmError
            ``The 'nodes' parameter of fit_lms must be an int in the range
            [2, inf). Got 1 instead.``
        """
        if fn == "fit_qml":
            if missing not in (None, "listwise"):
                raise param_error(
                    "missing",
                    "'listwise' (QML uses complete cases; for full-information ML with "
                    "incomplete cases use interaction='lms' with missing='ml')",
                    missing,
                    fn,
                )
        elif missing not in (None, "listwise", "ml"):
            raise param_error("missing", "one of 'listwise', 'ml'", missing, fn)
        if quadrature not in (None, "fixed", "adaptive"):
            raise param_error("quadrature", "one of 'fixed', 'adaptive'", quadrature, fn)
        if nodes is not None and (not _is_int(nodes) or nodes < 2):
            raise param_error("nodes", "an int in the range [2, inf)", nodes, fn)
        if n_jobs is not None and (not _is_int(n_jobs) or n_jobs < 1):
            raise param_error("n_jobs", "an int in the range [1, inf)", n_jobs, fn)
        if not (
            isinstance(prune, (int, float, np.floating))
            and not isinstance(prune, bool)
            and 0 <= prune < 1
        ):
            raise param_error("prune", "a float in the range [0, 1)", prune, fn)
        if not (isinstance(level, (float, np.floating)) and 0 < level < 1):
            raise param_error("level", "a float in the range (0, 1)", level, fn)
        control = dict(control or {})
        unknown = set(control) - {"iter.max"}
        if unknown:
            raise CkmError(
                f"The 'control' parameter of fit accepts only 'iter.max'. Got "
                f"{sorted(unknown)} instead."
            )
        iter_max = control.get("iter.max", 500)
        number = isinstance(iter_max, (int, float, np.number)) and not isinstance(iter_max, bool)
        if not number or int(iter_max) < 1:
            raise param_error(
                "control", "a dict with 'iter.max' an int in the range [1, inf)", control, fn
            )
        group_equal, group_partial = _names(group_equal), _names(group_partial)
        if group is None and (group_equal or group_partial):
            raise CkmError(
                "group_equal and group_partial need several groups; give the group column "
                "with group="
            )
        return cls(
            fn=fn,
            nodes=None if nodes is None else int(nodes),
            prune=float(prune),
            moderators=None if moderators is None else _names(moderators),
            quadrature=quadrature,
            n_jobs=None if n_jobs is None else int(n_jobs),
            iter_max=int(iter_max),
            missing="ml" if missing == "ml" else "listwise",
            level=float(level),
            missing_values=missing_values,
            group=group,
            group_equal=group_equal,
            group_partial=group_partial,
        )

    def resolved(self, model, dense_reason: str | None) -> InteractionOptions:
        """The defaults that depend on the LMS model: the quadrature (fixed with
        one moderator or in the indicator space, adaptive otherwise), the nodes
        (fixed rule: 64 with one moderator, 24 with two, 12 with more; adaptive:
        3) and ``n_jobs`` (:func:`ckm_research.numerics.forked.default_jobs`).

        Raises
        ------
        CkmError
            Adaptive quadrature for a model that needs the indicator space
            (``dense_reason``, :func:`~ckm_research.moderation.lms_engine.latent_space_reason`).
        """
        quadrature = self.quadrature
        if quadrature is None:
            quadrature = "fixed" if (model.k == 1 or dense_reason) else "adaptive"
        if dense_reason and quadrature == "adaptive":
            raise CkmError(
                f"LMS with adaptive quadrature needs the latent-space form, but {dense_reason}; "
                "use quadrature='fixed'"
            )
        nodes = self.nodes
        if nodes is None:
            nodes = {1: 64, 2: 24}.get(model.k, 12) if quadrature == "fixed" else 3
        n_jobs = default_jobs(model.n_free) if self.n_jobs is None else self.n_jobs
        return dataclasses.replace(self, quadrature=quadrature, nodes=nodes, n_jobs=n_jobs)


def group_column(frame: pd.DataFrame, group: str):
    """The groups of ``frame[group]`` in the order of the data (lavaan's default
    ``group.label``), the column's values and notes on cases without a group."""
    require_column(frame, group, "group column")
    col = frame[group]
    glabels = list(pd.unique(col.dropna()))
    if len(glabels) < 2:
        raise CkmError(f"the group column '{group}' has fewer than two distinct values")
    notes = []
    if col.isna().any():
        notes.append(
            f"{int(col.isna().sum())} case(s) without a value of the group column '{group}' "
            "were left out"
        )
    return glabels, col.to_numpy(), notes


def _usable_cases(clean: pd.DataFrame, missing, dense_reason, where: str, notes: list, fn: str):
    """The cases used: complete cases (listwise deletion), or with
    ``missing='ml'`` every case with an observed indicator; notes are appended
    to ``notes``."""
    x = clean.to_numpy(dtype=float)
    if missing == "ml":
        empty = np.isnan(x).all(axis=1)
        if empty.any():
            rows = ", ".join(str(r) for r in clean.index[empty][:10])
            notes.append(
                f"{int(empty.sum())} case(s){where} without any observed indicator were left "
                f"out (rows {rows}{' ...' if empty.sum() > 10 else ''})"
            )
        keep = ~empty
        if dense_reason and np.isnan(x[keep]).any():
            raise CkmError(
                f"LMS with missing='ml' needs the latent-space form, but {dense_reason}; "
                "use missing='listwise' or interaction='dblcent'"
            )
    else:
        keep = ~np.isnan(x).any(axis=1)
        if (~keep).any():
            why = (
                "QML uses complete cases; interaction='lms' with missing='ml' keeps them"
                if fn == "fit_qml"
                else "LMS here uses complete cases; missing='ml' keeps them"
            )
            notes.append(
                f"{int((~keep).sum())} of {len(x)} cases{where} have missing values and were "
                f"deleted listwise ({why})"
            )
    return x[keep]


def select_cases(
    frame: pd.DataFrame,
    ov,
    opts: InteractionOptions,
    dense_reason: str | None = None,
    groups=None,
):
    """The data of each group, in the columns ``ov``.

    Parameters
    ----------
    frame : pandas.DataFrame
        As read by :func:`ckm_research.data.io.read_data`.
    ov : sequence of str
        The observed variables of the model (checked by
        :func:`ckm_research.data.checks.check_model_data`).
    opts : InteractionOptions
    dense_reason : str, optional
        Why the model needs the indicator space (then incomplete cases cannot
        be kept).
    groups : tuple, optional
        ``(labels, column values, notes)`` from :func:`group_column`.

    Returns
    -------
    data : list of ndarray
        One (N_g, p) array per group (one for a single group), ``NaN`` for
        missing values with ``missing='ml'``.
    n_total : list of int
        Cases per group before deletion.
    labels : list
        The groups' labels (``[None]`` for a single group).
    notes : list of str
    """
    from ckm_research.data.checks import check_model_data

    glabels, gcol, notes = groups if groups is not None else ([None], None, [])
    notes = list(notes)
    clean = check_model_data(frame, list(ov))
    xs, n_total = [], []
    for lab in glabels:
        sub = clean if gcol is None else clean[gcol == lab]
        n_total.append(len(sub))
        where = "" if lab is None else f" in group {lab}"
        x = _usable_cases(sub, opts.missing, dense_reason, where, notes, opts.fn)
        if lab is not None and x.shape[0] < len(ov) + 1:
            raise CkmError(
                f"too few cases{where}: {x.shape[0]} for {len(ov)} observed variables; "
                "merge small groups or fit without group="
            )
        xs.append(x)
    return xs, n_total, list(glabels), notes


class InteractionEngine:
    """The fit contract (:class:`ckm_research.sem.checks.FitEngine`) of the
    latent-interaction engines.

    A mixin of :class:`~ckm_research.moderation.lms.DenseLMSEngine`,
    :class:`~ckm_research.moderation.lms_engine.LMSEngine`,
    :class:`~ckm_research.moderation.lms_multigroup.MultiGroupLMSEngine` and
    :class:`~ckm_research.moderation.qml.QMLEngine`.  They provide ``model``
    (an :class:`~ckm_research.moderation.lms.LMSModel`), ``estimate``,
    ``vcov``, ``estimates_table``, ``fit_measures``, :meth:`interaction_info`,
    :meth:`summary_lines` and :meth:`_rebuilt`; :meth:`configure` gives the
    options and the model text before :func:`~ckm_research.sem.checks.run_engine`.
    """

    label = "ML"
    opts: InteractionOptions = InteractionOptions()
    definitions: tuple = ()
    model_text: str = ""
    #: (wall-clock, CPU) time at the start of the fit, for the ``seconds`` of the result
    started: tuple[float, float] | None = None

    @property
    def notes(self) -> list[str]:
        """Notes of the fit (data, syntax, scale warnings), reported as warnings."""
        return self.__dict__.setdefault("_notes", [])

    @notes.setter
    def notes(self, value: list[str]) -> None:
        self.__dict__["_notes"] = value

    def configure(
        self,
        opts: InteractionOptions,
        *,
        definitions=(),
        model_text: str = "",
        notes=(),
        started: tuple[float, float] | None = None,
    ):
        """Set the options, the ``:=`` definitions, the model text and the notes;
        returns the engine."""
        self.opts = opts
        self.definitions = tuple(definitions or ())
        self.model_text = model_text
        self.notes = list(notes)
        self.started = started
        return self

    # --------------------------------------------------------- fit contract
    @property
    def ngroups(self) -> int:
        """Number of groups of the model."""
        return int(self.model.ngroups)

    def check_df(self) -> None:
        """Refuse a model with more free parameters (product coefficients
        included) than sample means and covariances, :math:`p(p+3)/2` per group
        (the counting rule of the linear model; Bollen, 1989, p. 93)."""
        p = len(self.model.ov)
        check_parameter_count(int(self.model.n_free), self.ngroups * p * (p + 3) // 2)

    def _data_arrays(self) -> list[np.ndarray]:
        return [self.X]

    def observed_data(self) -> pd.DataFrame:
        """The cases used (all groups), one column per indicator."""
        return pd.DataFrame(np.vstack(self._data_arrays()), columns=list(self.model.ov))

    def observed_variances(self) -> pd.Series:
        """Sample variances of the indicators (all are continuous, none fixed-x)."""
        return variable_variances(np.vstack(self._data_arrays()), self.model.ov)

    def user_starts(self) -> list[str]:
        """The ``start()`` values of the syntax on free parameters (product
        terms included)."""
        return user_start_rows(self.model.partable.table) + self.model.term_starts()

    def from_default_starts(self, notes: list[str]):
        """The same engine without the ``start()`` values of the syntax (they act
        on the ML fit that starts the estimation), with ``notes``."""
        out = self._rebuilt(self.model.without_starts())
        return out.configure(
            self.opts,
            definitions=self.definitions,
            model_text=self.model_text,
            notes=notes,
            started=self.started,
        )

    def failure_hint(self, identification: bool) -> str:
        """The two-indicator hint of :func:`ckm_research.sem.checks.two_indicator_hint`."""
        return two_indicator_hint(self.model.partable.table, self.observed_data(), identification)

    def _rebuilt(self, model):  # pragma: no cover - each engine overrides it
        raise NotImplementedError

    def interaction_info(self) -> dict:  # pragma: no cover - each engine overrides it
        raise NotImplementedError

    def summary_lines(self) -> list[tuple[str, str]]:  # pragma: no cover
        raise NotImplementedError

    def result_fields(self) -> dict:
        """Extra :class:`SEMResults` fields (the groups, for several)."""
        return {}

    def elapsed(self) -> tuple[float, float]:
        """Wall-clock and CPU seconds since :attr:`started`."""
        t0, c0 = self.started or (time.perf_counter(), time.process_time())
        return time.perf_counter() - t0, time.process_time() - c0

    def run(self) -> SEMResults:
        """Estimate (BFGS), the inverse observed information (``opts.n_jobs``
        processes for the Hessian), the estimates table, the fit measures and
        lavaan-style warnings on negative variances (Heywood cases)."""
        self.check_df()
        opts = self.opts
        with single_thread_blas():  # the many small products of LMS run 10-20 times slower threaded
            self.estimate(max_iter=opts.iter_max)
            vc = self.vcov(n_jobs=opts.n_jobs)
        est = self.estimates_table(vc, opts.level, self.definitions)
        fm = self.fit_measures()
        warns = list(self.notes) + heywood_warnings(est)
        res = SEMResults.from_engine(
            self,
            **self.result_fields(),
            estimates=est.drop(columns=["free"]),
            fit_measures=fm,
            estimator=self.label,
            n=self.ntotal,
            converged=True,
            iterations=self.iterations,
            model_text=self.model_text,
            warnings=warns,
            notes={"interaction": self.interaction_info(), "summary_lines": self.summary_lines()},
            theta=self.theta,
            vcov=vc,
        )
        self.row_free_index = est["free"].to_numpy()
        return res


def heywood_warnings(est: pd.DataFrame) -> list[str]:
    """A warning (:class:`~ckm_research.errors.HeywoodCaseWarning`, also
    returned) for each negative estimated variance of the table ``est``."""
    out = []
    for r in est.itertuples(index=False):
        if r.op == "~~" and r.lhs == r.rhs and r.est < 0:
            msg = (
                f"the estimated (residual) variance of '{r.lhs}' is negative ({r.est:.4f}): "
                "a Heywood case. Check the model for misspecification."
            )
            out.append(msg)
            _warnings.warn(msg, HeywoodCaseWarning, stacklevel=4)
    return out
