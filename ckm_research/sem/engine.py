"""The estimation engine's base class, shared by every estimator of :mod:`ckm_research.sem`.

:func:`ckm_research.sem.api.fit` builds one engine per fit (``build_engine``): the
parameter table (:mod:`~ckm_research.sem.partable`), the data of each group
(:class:`GroupData`) and the validated options
(:class:`~ckm_research.sem.options.FitOptions`).  :class:`BaseEngine` holds what every
estimator shares (estimates table with Wald tests, ``:=`` parameters, the standardized
solution and its delta-method SEs, R-square, residuals, lavaan's ``ndat``/``npar``,
Heywood-case warnings); each estimator subclasses it in its own module:

=========================================  ============================================
engine                                     module
=========================================  ============================================
``MLEngine`` (ML, MLR, MLM, MLMV, MLMVS)   :mod:`ckm_research.sem.ml`
``FIMLEngine`` (``missing="ml"``)          :mod:`ckm_research.sem.fiml`
``WLSMVEngine`` (ordered items)            :mod:`ckm_research.sem.wlsmv`
``LSEngine`` (GLS, ULS, WLS, DWLS)         :mod:`ckm_research.sem.ls`
weighted ML/FIML (``sampling.weights``)    :mod:`ckm_research.sem.weights`
constrained ML/FIML                        :mod:`ckm_research.sem.constraints`
=========================================  ============================================
"""

from __future__ import annotations

import dataclasses
import warnings as _warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ckm_research.errors import (
    CkmError,
    HeywoodCaseWarning,
    NonPositiveDefiniteWarning,
)
from ckm_research.numerics import wald_table
from ckm_research.sem import fit_measures as fmx
from ckm_research.sem.checks import (
    check_parameter_count,
    two_indicator_hint,
    user_start_rows,
    variable_variances,
)
from ckm_research.sem.model import RAMModel
from ckm_research.sem.options import FitOptions
from ckm_research.sem.partable import ParTable
from ckm_research.sem.results import SEMResults
from ckm_research.sem.standardized import delta_method_se, standardize_all
from ckm_research.sem.syntax import evaluate_definitions

if TYPE_CHECKING:
    from ckm_research.sem.ml import SampleMoments

__all__ = ["GroupData", "BaseEngine"]


@dataclass
class GroupData:
    label: Any
    data: np.ndarray  # n x p, in model ov order (may contain NaN for FIML)
    moments: SampleMoments | None = None
    extra: dict = field(default_factory=dict)


class BaseEngine:
    """Shared machinery: estimates table, defined parameters, standardization,
    warnings.  Subclasses implement :meth:`estimate`, :meth:`vcov` and
    :meth:`fit_measures`."""

    label = "ML"

    def __init__(self, pt: ParTable, groups: list[GroupData], opts: FitOptions, notes: list[str]):
        self.pt = pt
        self.groups = groups
        self.opts = opts
        self.notes = notes
        self.model = RAMModel(pt)
        self.n_per_group = [gd.data.shape[0] for gd in groups]
        self.ntotal = int(sum(self.n_per_group))
        self.theta: np.ndarray | None = None
        self.iterations = 0
        self.extra_json: dict[str, Any] = {}

    # to override -----------------------------------------------------------
    def estimate(self) -> None:
        raise NotImplementedError

    def vcov(self) -> np.ndarray:
        raise NotImplementedError

    def fit_measures(self) -> dict[str, float]:
        raise NotImplementedError

    def row_values(self) -> np.ndarray:
        return self.model.row_values(self.theta)

    def std_all(self, theta: np.ndarray) -> np.ndarray:
        return standardize_all(self.model, theta)

    # shared ---------------------------------------------------------------
    def _fill_exo(self) -> None:
        """Fixed.x: exogenous covariate (co)variances and means at their sample values."""
        t = self.pt.table
        exo = np.flatnonzero(t["exo"].to_numpy() == 1)
        if not len(exo):
            return
        pos = {v: i for i, v in enumerate(self.model.ov)}
        for r in exo:
            row = t.iloc[r]
            mom = self.groups[row["group"] - 1].moments
            if row["op"] == "~~":
                self.model.values[r] = mom.cov[pos[row["lhs"]], pos[row["rhs"]]]
            elif row["op"] == "~1":
                self.model.values[r] = mom.mean[pos[row["lhs"]]]

    def defined_values(self, theta: np.ndarray, row_vals: np.ndarray | None = None) -> np.ndarray:
        defs = self.pt.definitions
        if not defs:
            return np.zeros(0)
        vals = self.model.row_values(theta) if row_vals is None else row_vals
        return evaluate_definitions(defs, self.pt.table["label"], vals)

    def _check_warnings(self, row_vals: np.ndarray) -> list[str]:
        out = []
        cols = self._table_columns()
        lhs = cols["lhs"]
        lv = set(self.model.lv)
        negative = (cols["op"] == "~~") & (lhs == cols["rhs"]) & (row_vals < 0)
        for r in np.flatnonzero(negative):
            kind = "latent variable" if lhs[r] in lv else "observed variable"
            msg = (
                f"the estimated (residual) variance of the {kind} '{lhs[r]}' is negative "
                f"({row_vals[r]:.4f}): a Heywood case. Check the model for misspecification, "
                "empirical under-identification or too few indicators."
            )
            out.append(msg)
            _warnings.warn(msg, HeywoodCaseWarning, stacklevel=3)
        for g in range(self.model.ngroups):
            C, _ = self.model.implied(self.theta, g, full=True)
            k = self.model.n_ov
            psi = C[k:, k:]
            if psi.size:
                ev = np.linalg.eigvalsh(psi)
                if ev.min() < -1e-10:
                    msg = (
                        "the model-implied covariance matrix of the latent variables is not "
                        "positive "
                        "definite (smallest eigenvalue {:.3g}); check the factors' variances and "
                        "covariances: {}".format(ev.min(), ", ".join(self.model.lv))
                    )
                    out.append(msg)
                    _warnings.warn(msg, NonPositiveDefiniteWarning, stacklevel=3)
        return out

    def _table_columns(self) -> dict[str, np.ndarray]:
        """The parameter table's ``lhs op rhs group`` and the reported ``label`` (the
        automatic ``.p`` labels blanked) as arrays, read once per engine."""
        t = self.pt.table
        cached = self.__dict__.get("_table_columns_cache")
        if cached is not None and cached[0] is t:  # (a copied engine may have another table)
            return cached[1]
        labels = t["label"].to_numpy(dtype=object)
        cols = {
            "lhs": t["lhs"].to_numpy(dtype=object),
            "op": t["op"].to_numpy(dtype=object),
            "rhs": t["rhs"].to_numpy(dtype=object),
            "group": t["group"].to_numpy(),
            "label": np.array(
                ["" if isinstance(v, str) and v.startswith(".") else v for v in labels],
                dtype=object,
            ),
        }
        self._table_columns_cache = (t, cols)
        return cols

    def estimates_table(self, vcov: np.ndarray) -> pd.DataFrame:
        cols = self._table_columns()
        free = self.model.free
        vals = self.row_values()
        se_free = np.sqrt(np.clip(np.diag(vcov), 0, None))
        se = np.where(free > 0, se_free[np.maximum(free, 1) - 1], 0.0)
        # fixed rows have se 0: z is NaN and the interval is the value itself
        wald = wald_table(vals, se, self.opts.level)
        std = self.std_all(self.theta)
        # built from arrays in the final column order (one DataFrame, no reindexing)
        # copies: the table's arrays may be the parameter table's own memory, and callers
        # edit the estimates (the product-indicator fit renames its rhs)
        out = {
            "lhs": cols["lhs"].copy(),
            "op": cols["op"].copy(),
            "rhs": cols["rhs"].copy(),
            "est": vals,
            "se": se,
            **wald,
            "std.all": std,
            "label": cols["label"].copy(),
            "group": cols["group"].copy(),
        }
        if self.pt.definitions:
            defs = self.pt.definitions
            dv = self.defined_values(self.theta)
            dse = delta_method_se(self.defined_values, self.theta, vcov)
            names = np.array([d.name for d in defs], dtype=object)
            drows = {
                "lhs": names,
                "op": np.array([":="] * len(defs), dtype=object),
                "rhs": np.array([d.expression.replace(" ", "") for d in defs], dtype=object),
                "est": dv,
                "se": dse,
                **wald_table(dv, dse, self.opts.level),
                "std.all": self.defined_values(self.theta, row_vals=std),
                "label": names,
                "group": np.zeros(len(defs), dtype=cols["group"].dtype),
            }
            out = {k: np.concatenate([v, np.asarray(drows[k])]) for k, v in out.items()}
        if self.pt.ngroups <= 1:
            del out["group"]
        return pd.DataFrame(out)

    def standardized_solution(self) -> pd.DataFrame:
        """``std.all`` with delta-method SEs (lavaan ``standardizedSolution``)."""
        vc = self._vcov
        t = self.pt.table
        std = self.std_all(self.theta)
        se = delta_method_se(self.std_all, self.theta, vc)
        fixed_std = np.zeros(len(t), dtype=bool)
        se = np.where(fixed_std, 0.0, se)
        out = pd.DataFrame(
            {
                "lhs": t["lhs"],
                "op": t["op"],
                "rhs": t["rhs"],
                "group": t["group"],
                "est.std": std,
                "se": se,
                **wald_table(std, se, self.opts.level, se_min=1e-12),
            }
        )
        if self.pt.definitions:

            def dstd(th):
                return self.defined_values(th, row_vals=self.std_all(th))

            dv = dstd(self.theta)
            drows = self._definition_rows(dv, delta_method_se(dstd, self.theta, vc), "est.std")
            out = pd.concat([out, drows], ignore_index=True)
        return out

    def _definition_rows(self, est: np.ndarray, se: np.ndarray, est_col: str) -> pd.DataFrame:
        """Rows of the ``:=`` parameters with Wald z, p and confidence interval."""
        defs = self.pt.definitions
        return pd.DataFrame(
            {
                "lhs": [d.name for d in defs],
                "op": ":=",
                "rhs": [d.expression.replace(" ", "") for d in defs],
                "group": 0,
                est_col: est,
                "se": se,
                **wald_table(est, se, self.opts.level),
            }
        )

    def r_squared(self) -> pd.DataFrame:
        """Explained variance of every endogenous variable (lavaan's
        ``lavInspect(fit, "r2")``): :math:`1 - \\psi_{ii}/\\sigma_{ii}`, the
        residual over the model-implied total variance (Bollen, 1989, p. 118);
        missing (NaN) above 1, i.e. for a negative residual variance, as lavaan's
        ``lav_object_inspect_rsquare``."""
        vals = self.row_values()
        rows = []
        t = self.pt.table
        # lavaan reports indicators and dependent variables, not composites (<~)
        reported = set(t["rhs"][t["op"] == "=~"]) | set(t["lhs"][t["op"] == "~"])
        for g in range(self.model.ngroups):
            A, S, _ = self.model._matrices(vals, g)
            E = self.model.total_effects_inverse(A)
            total = np.diag(E @ S @ E.T)
            endogenous = np.flatnonzero(np.abs(A).sum(axis=1) > 0)
            for i in endogenous:
                name = self.model.variables[i]
                if name not in reported:
                    continue
                r2 = 1.0 - S[i, i] / total[i]
                r2 = r2 if r2 <= 1.0 else np.nan
                rows.append({"group": g + 1, "variable": name, "r2": r2})
        out = pd.DataFrame(rows, columns=["group", "variable", "r2"])
        return out if self.model.ngroups > 1 else out.drop(columns="group")

    def implied_moments(self) -> dict[str, Any]:
        out = {}
        for g, gd in enumerate(self.groups):
            S, mu = self.model.implied(self.theta, g)
            key = "implied" if gd.label is None else str(gd.label)
            out[key] = {
                "cov": pd.DataFrame(S, index=self.model.ov, columns=self.model.ov),
                "mean": pd.Series(mu, index=self.model.ov),
            }
        return out

    def sample_moments(self, g: int) -> tuple[np.ndarray, np.ndarray]:
        mom = self.groups[g].moments
        return mom.cov, mom.mean

    def residuals(self, type: str = "cor.bentler") -> dict[str, pd.DataFrame]:  # noqa: A002
        out = {}
        for g, gd in enumerate(self.groups):
            S, m = self.sample_moments(g)
            Sig, mu = self.model.implied(self.theta, g)
            if type == "raw":
                R = S - Sig
            elif type == "cor.bentler":
                sd = np.sqrt(np.diag(S))
                R = (S - Sig) / np.outer(sd, sd)
            elif type == "cor.bollen":
                R = fmx._cov2cor(S) - fmx._cov2cor(Sig)
            else:
                raise CkmError(
                    f"The 'type' parameter of residuals must be one of 'raw', 'cor.bentler', "
                    f"'cor.bollen'. Got {type!r} instead."
                )
            key = "residuals" if gd.label is None else str(gd.label)
            out[key] = pd.DataFrame(R, index=self.model.ov, columns=self.model.ov)
        return out

    def check_df(self) -> None:
        """Refuse a model with more free parameters than sample statistics."""
        check_parameter_count(self.npar(), self.ndat())

    # the fit contract of run_engine (ckm_research.sem.checks.FitEngine) -------
    @property
    def ngroups(self) -> int:
        """Number of groups (lavaan's blocks)."""
        return self.pt.ngroups

    def observed_data(self) -> pd.DataFrame:
        """The cases used, all groups stacked, one column per observed variable."""
        return pd.DataFrame(np.vstack([gd.data for gd in self.groups]), columns=self.model.ov)

    def observed_variances(self) -> pd.Series:
        """The variances of lavaan's scale warnings (its ``varTable(fit)$var``):
        the continuous observed variables that are not fixed-x covariates; empty
        with ``std_ov=True``, as lavaan skips its check then."""
        if self.opts.std_ov:
            return pd.Series(dtype=float)
        skip = set(self.opts.ordered) | (set(self.pt.roles.ov_x) if self.opts.fixed_x else set())
        return variable_variances(np.vstack([gd.data for gd in self.groups]), self.model.ov, skip)

    def user_starts(self) -> list[str]:
        """The ``start()`` values of the syntax on free parameters."""
        return user_start_rows(self.pt.table)

    def from_default_starts(self, notes: list[str]) -> BaseEngine:
        """The same engine (model, groups, options) from the default starting
        values: the ``start`` column of the parameter table cleared."""
        pt = dataclasses.replace(self.pt, table=self.pt.table.assign(start=np.nan))
        return type(self)(pt, self.groups, self.opts, notes)

    def failure_hint(self, identification: bool) -> str:
        """A hint on two-indicator factors (:func:`ckm_research.sem.checks.two_indicator_hint`)."""
        return two_indicator_hint(self.pt.table, self.observed_data(), identification)

    def run(self) -> SEMResults:
        self.check_df()
        self.estimate()
        vc = self.vcov()
        self._vcov = vc
        fm = self.fit_measures()
        est = self.estimates_table(vc)
        warns = list(self.notes) + self._check_warnings(self.row_values())
        return SEMResults(
            estimates=est,
            fit_measures=fm,
            estimator=self.label,
            n=self.ntotal,
            converged=True,
            iterations=self.iterations,
            model_text=self.pt.definitions and "" or "",
            ngroups=self.pt.ngroups,
            group_labels=tuple(gd.label for gd in self.groups),
            n_per_group=tuple(self.n_per_group),
            warnings=warns,
            notes=self.extra_json,
            theta=self.theta,
            vcov=vc,
            _engine=self,
        )

    # helpers for df -----------------------------------------------------------
    def n_exo(self) -> int:
        return len(self.pt.roles.ov_x) if self.opts.fixed_x else 0

    def ndat(self) -> int:
        """Number of sample statistics (lavaan ``ndat``), excluding fixed-x moments."""
        p = self.model.n_ov
        px = self.n_exo()
        per = p * (p + 1) // 2 - px * (px + 1) // 2
        if self.opts.meanstructure:
            per += p - px
        return per * len(self.groups)

    def npar(self) -> int:
        return self.model.n_free

    def non_exo_mask(self) -> np.ndarray:
        """The sample moments that are not fixed-x moments
        (:func:`ckm_research.sem.robust.non_exo_moments` for this model and options)."""
        from ckm_research.sem.robust import non_exo_moments

        ix = [self.model.ov.index(v) for v in self.pt.roles.ov_x] if self.n_exo() else []
        return non_exo_moments(self.model.n_ov, ix, self.opts.meanstructure)
