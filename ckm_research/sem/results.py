"""The results of a CFA/SEM fit: lavaan-style tables, summary and JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ckm_research.numerics import to_json_ready

__all__ = ["SEMResults", "FittedModel", "ESTIMATE_COLUMNS"]

ESTIMATE_COLUMNS = [
    "lhs",
    "op",
    "rhs",
    "est",
    "se",
    "z",
    "pvalue",
    "ci.lower",
    "ci.upper",
    "std.all",
]

#: fit measures printed by ``summary()``, in order, with their labels
_SUMMARY_FIT = [
    ("chisq", "Model chi-square"),
    ("df", "Degrees of freedom"),
    ("pvalue", "P-value (chi-square)"),
    ("chisq.scaled", "Scaled chi-square"),
    ("pvalue.scaled", "P-value (scaled)"),
    ("chisq.scaling.factor", "Scaling correction factor"),
    ("cfi", "CFI"),
    ("tli", "TLI"),
    ("cfi.robust", "Robust CFI"),
    ("tli.robust", "Robust TLI"),
    ("rmsea", "RMSEA"),
    ("rmsea.ci.lower", "RMSEA 90% CI lower"),
    ("rmsea.ci.upper", "RMSEA 90% CI upper"),
    ("rmsea.pvalue", "P-value H0: RMSEA <= .05"),
    ("rmsea.robust", "Robust RMSEA"),
    ("rmsea.ci.lower.robust", "Robust RMSEA 90% CI lower"),
    ("rmsea.ci.upper.robust", "Robust RMSEA 90% CI upper"),
    ("rmsea.pvalue.robust", "P-value H0: Robust RMSEA <= .05"),
    ("srmr", "SRMR"),
    ("logl", "Log-likelihood"),
    ("aic", "AIC"),
    ("bic", "BIC"),
]

_OP_HEADINGS = {
    "=~": "Latent Variables",
    "<~": "Composites",
    "~": "Regressions",
    "~~": "Covariances",
    "~1": "Intercepts",
    "var": "Variances",
    "|": "Thresholds",
    "~*~": "Scales y*",
    ":=": "Defined Parameters",
}


class FittedModel:
    """The fitted model of a :class:`SEMResults` (read-only): lavaan's parameter
    table with the estimates, and the model matrices at the estimates.

    In R: ``parTable(fit)`` and ``lavInspect(fit, "est")`` (lavaan's LISREL
    matrices; here the RAM matrices ``A``, ``S``, ``m`` of McArdle & McDonald,
    1984, from which :mod:`ckm_research.sem.model` computes the implied moments).
    """

    def __init__(self, engine: Any, theta: np.ndarray | None):
        self._engine = engine
        self._theta = theta

    def _ram(self):
        from ckm_research.sem.model import RAMModel

        ram = getattr(self._engine, "model", None)
        if isinstance(ram, RAMModel) and hasattr(self._engine, "pt"):
            return ram
        return None

    @property
    def partable(self) -> pd.DataFrame:
        """lavaan's ``parTable(fit)``: one row per parameter (``lhs op rhs group free
        ustart exo label ...``) with ``est`` at the estimates (a copy)."""
        pt = getattr(self._engine, "pt", None)
        if pt is None:  # LMS: its own parameter table (no est column)
            pt = getattr(getattr(self._engine, "model", None), "partable", None)
            if pt is None:
                raise AttributeError("this result has no parameter table")
            return pt.table.copy()
        table = pt.table.copy()
        ram = self._ram()
        if ram is not None and self._theta is not None:
            table["est"] = ram.row_values(np.asarray(self._theta, float))
        return table

    @property
    def observed(self) -> tuple[str, ...]:
        """The observed variables in the model's order (lavaan's ``lavNames(fit, "ov")``)."""
        ram = self._ram()
        model = ram if ram is not None else getattr(self._engine, "model", None)
        return tuple(getattr(model, "ov", ()))

    @property
    def latent(self) -> tuple[str, ...]:
        """The latent variables (lavaan's ``lavNames(fit, "lv")``)."""
        ram = self._ram()
        if ram is None:
            ram = getattr(getattr(self._engine, "model", None), "ram", None)
        return tuple(getattr(ram, "lv", ()))

    @property
    def ngroups(self) -> int:
        """Number of groups."""
        ram = self._ram()
        return int(ram.ngroups) if ram is not None else 1

    def matrices(self, group: int = 1) -> dict[str, Any]:
        """The RAM matrices of ``group`` (1-based) at the estimates.

        Returns
        -------
        dict
            ``"A"`` (directed paths, row <- column), ``"S"`` ((co)variances of
            the residuals and exogenous variables), both
            :class:`pandas.DataFrame` over observed then latent variables, and
            ``"m"`` (intercepts and means, a :class:`pandas.Series`).

        Raises
        ------
        ckm_research.errors.CkmError
            For fits that are not of the SEM engine (LMS) or a group that does not exist.
        """
        from ckm_research.errors import CkmError

        ram = self._ram()
        if ram is None or self._theta is None:
            raise CkmError("the model matrices are available for fits of the SEM engine, not LMS")
        if not isinstance(group, (int, np.integer)) or not 1 <= group <= ram.ngroups:
            raise CkmError(
                f"The 'group' parameter of matrices must be an int in the range "
                f"[1, {ram.ngroups}]. Got {group!r} instead."
            )
        vals = ram.row_values(np.asarray(self._theta, float))
        A, S, m = ram.matrices_from_rows(vals, int(group) - 1)
        names = list(ram.variables)
        return {
            "A": pd.DataFrame(A, index=names, columns=names),
            "S": pd.DataFrame(S, index=names, columns=names),
            "m": pd.Series(m, index=names),
        }

    def __repr__(self) -> str:
        return (
            f"<FittedModel observed={len(self.observed)} latent={len(self.latent)} "
            f"groups={self.ngroups}>"
        )


@dataclass
class SEMResults:
    """A fitted CFA/SEM model.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per parameter, lavaan's ``parameterEstimates(fit,
        standardized = TRUE)`` columns ``lhs op rhs est se z pvalue ci.lower
        ci.upper std.all`` (plus ``label`` and, with groups, ``group``).
    fit_measures : dict
        Named as lavaan's ``fitMeasures()``.
    estimator : str
    n : int
        Number of cases used (all groups).
    converged : bool
    model_text : str
        The lavaan syntax that was fitted (as given to :func:`ckm_research.fit`).
    warnings : list of str
    options : ckm_research.sem.options.FitOptions or None
        The options of the fit, validated, with lavaan's defaults resolved
        (``FitOptions.from_kwargs``); the engine's copy with the model-dependent
        values resolved is ``engine.opts``.
    """

    estimates: pd.DataFrame
    fit_measures: dict[str, float]
    estimator: str
    n: int
    converged: bool
    iterations: int
    model_text: str
    ngroups: int = 1
    group_labels: tuple = ()
    n_per_group: tuple = ()
    warnings: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    theta: np.ndarray | None = None
    vcov: np.ndarray | None = None
    _engine: Any = None  # the fitted internals, for lazy statistics
    options: Any = None

    @classmethod
    def from_engine(cls, engine: Any, **fields: Any) -> SEMResults:
        """A result for a fitted ``engine`` (any estimation engine: ML, FIML, LMS ...).

        The public constructor for engines outside :mod:`ckm_research.sem`
        (:mod:`ckm_research.moderation.lms`); ``fields`` are the dataclass fields
        (``estimates``, ``fit_measures``, ``estimator``, ``n`` ...).
        """
        return cls(**fields, _engine=engine)

    @property
    def model(self) -> FittedModel:
        """The fitted model: parameter table (``.partable``) and matrices (``.matrices()``)."""
        return FittedModel(self._engine, self.theta)

    # ---------------------------------------------------------------- access
    @property
    def engine(self) -> Any:
        """The fitted engine: parameter table (``.pt``), model matrices (``.model``),
        options (``.opts``), groups and sample moments; None for results without one.

        The public way for other packages (measurement, moderation, inference) to
        reach what ``SEMResults`` keeps for its lazy statistics (issue 10).
        """
        return self._engine

    @cached_property
    def standardized_solution(self) -> pd.DataFrame:
        """lavaan's ``standardizedSolution()``: ``est.std`` with delta-method
        ``se``, ``z``, ``pvalue`` and confidence interval."""
        if self._engine is None:
            raise AttributeError("this result was not produced by a fit in this session")
        return self._engine.standardized_solution()

    @cached_property
    def r_squared(self) -> pd.DataFrame:
        """R-squared of every endogenous variable (lavaan ``lavInspect(fit, "r2")``)."""
        if self._engine is None:
            raise AttributeError("this result was not produced by a fit in this session")
        return self._engine.r_squared()

    @property
    def n_total(self) -> int:
        """Number of cases in the data (all groups), before listwise deletion or the
        removal of empty rows (lavaan's ``lavInspect(fit, "norig")``); equals
        :attr:`n` when every case was used."""
        groups = getattr(self._engine, "groups", None) or []
        totals = [gd.extra.get("n_total") for gd in groups]
        if not totals or any(t is None for t in totals):
            return int(self.n)
        return int(sum(totals))

    @property
    def n_total_per_group(self) -> tuple:
        """:attr:`n_total` per group."""
        groups = getattr(self._engine, "groups", None) or []
        return tuple(
            int(gd.extra.get("n_total", n)) for gd, n in zip(groups, self.n_per_group, strict=False)
        )

    @cached_property
    def std_lv(self) -> np.ndarray:
        """lavaan's ``std.lv`` column (``parameterEstimates(fit, standardized =
        TRUE)``), aligned with the rows of :attr:`estimates`: only the latent
        variables standardized (:func:`~ckm_research.sem.standardized.standardize_lv`);
        defined parameters re-evaluated on it, as lavaan does."""
        from ckm_research.sem.model import RAMModel
        from ckm_research.sem.standardized import standardize_lv

        eng = self._engine
        if not (hasattr(eng, "pt") and isinstance(getattr(eng, "model", None), RAMModel)):
            return np.full(len(self.estimates), np.nan)  # not a fit of the SEM engine (LMS)
        t = eng.pt.table
        rows = standardize_lv(eng.model, self.theta)
        keys = {
            (a, o, b, int(g)): v
            for a, o, b, g, v in zip(t["lhs"], t["op"], t["rhs"], t["group"], rows, strict=True)
        }
        if getattr(eng.pt, "definitions", None):
            values = eng.defined_values(self.theta, row_vals=rows)
            for d, v in zip(eng.pt.definitions, values, strict=True):
                keys[(d.name, ":=", None, 0)] = v
        est = self.estimates
        groups = est["group"] if "group" in est else pd.Series(1, index=est.index)
        out = []
        for a, o, b, g in zip(est["lhs"], est["op"], est["rhs"], groups, strict=True):
            key = (a, o, None, 0) if o == ":=" else (a, o, b, int(g) if g == g else 1)
            out.append(keys.get(key, np.nan))
        return np.asarray(out, dtype=float)

    @property
    def implied(self) -> dict[str, Any]:
        """Model-implied covariance matrices (and means) per group."""
        return self._engine.implied_moments()

    def residuals(self, type: str = "cor.bentler") -> dict[str, pd.DataFrame]:  # noqa: A002
        """Residual matrices (sample minus implied), as lavaan's ``lavResiduals``."""
        return self._engine.residuals(type)

    #: what :meth:`inspect` knows, as lavaan's ``lavInspect(fit, what)`` names it
    INSPECT = ("coef", "vcov", "information", "implied", "sampstat", "rsquare", "nobs",
               "npar", "converged", "iterations")

    def parameter_names(self) -> list[str]:
        """The free parameters' names, as lavaan names the rows of
        ``lavInspect(fit, "vcov")``: the label where there is one, else
        ``lhs op rhs`` without spaces, with ``.g2``, ``.g3`` ... in later groups."""
        table = self._engine.pt.table
        # lavaan's parameter table lists group 1's rows (the user's, then the
        # defaults), then group 2's ...: its row ids give the .pK. names of
        # group.equal constraints
        lavaan_id = {
            i: k + 1 for k, i in enumerate(table.sort_values(["group", "id"], kind="stable")["id"])
        }
        first: dict[str, int] = {}
        for r in table.itertuples():
            if isinstance(r.label, str) and r.label.startswith("."):
                first.setdefault(r.label, lavaan_id[r.id])
        names: dict[int, str] = {}
        for r in table[table["free"] > 0].itertuples():
            if r.free in names:
                continue
            if isinstance(r.label, str) and r.label.startswith("."):
                names[r.free] = f".p{first[r.label]}."
            elif isinstance(r.label, str) and r.label:
                names[r.free] = r.label
            else:
                names[r.free] = f"{r.lhs}{r.op}{r.rhs}" + (f".g{r.group}" if r.group > 1 else "")
        return [names[k] for k in sorted(names)]

    def inspect(self, what: str):
        """lavaan's ``lavInspect(fit, what)`` for the common ``what``.

        Parameters
        ----------
        what : str
            ``"coef"`` (free parameters, a Series), ``"vcov"`` (their sampling
            covariance matrix, the one behind ``se``), ``"information"``
            (lavaan's unit expected information, total over N; ML-type
            estimators), ``"implied"`` / ``"sampstat"`` (per group: ``cov``
            and ``mean``), ``"rsquare"``, ``"nobs"`` (cases per group),
            ``"npar"``, ``"converged"``, ``"iterations"``.

        Returns
        -------
        pandas.Series, pandas.DataFrame, dict or number
            Parameters are named as lavaan names them (:meth:`parameter_names`);
            parameters that share a label appear once (lavaan repeats them).

        Examples
        --------
        >>> import ckm_research
        >>> from ckm_research.data.examples import load_dataset
        >>> data = load_dataset("HolzingerSwineford1939")
        >>> res = ckm_research.fit("f =~ x1 + x2 + x3", data)
        >>> round(float(res.inspect("vcov").loc["f=~x2", "f=~x2"] ** 0.5), 4)  # the SE
        0.1406

        In R: ``lavInspect(fit, "vcov")``.
        """
        from ckm_research.errors import CkmError

        if what not in self.INSPECT:
            raise CkmError(
                f"inspect({what!r}) is not available; choose one of {', '.join(self.INSPECT)} "
                "(lavaan's lavInspect has more: ask for what you need)"
            )
        if what in ("converged", "iterations"):
            return getattr(self, what)
        if what == "npar":
            return int(self.fit_measures["npar"])
        if what == "nobs":
            return list(self.n_per_group) if self.n_per_group else [self.n]
        if what == "rsquare":
            return self.r_squared
        if what == "implied":
            return self.implied
        if self._engine is None:
            raise CkmError("this result was not produced by a fit in this session")
        if what == "sampstat":
            out = {}
            for g, gd in enumerate(self._engine.groups):
                S, m = self._engine.sample_moments(g)
                ov = list(self._engine.model.ov)
                key = "sampstat" if gd.label is None else str(gd.label)
                out[key] = {"cov": pd.DataFrame(S, index=ov, columns=ov),
                            "mean": None if m is None else pd.Series(m, index=ov)}
            return out
        names = self.parameter_names()
        if what == "coef":
            if self.theta is None or len(self.theta) != len(names):
                raise CkmError("inspect('coef') is not available for this kind of fit")
            return pd.Series(np.asarray(self.theta, float), index=names)
        if what == "vcov":
            vc = self.vcov
            if vc is None or np.shape(vc) != (len(names), len(names)):
                raise CkmError("inspect('vcov') is not available for this kind of fit")
            return pd.DataFrame(np.asarray(vc, float), index=names, columns=names)
        info = getattr(self._engine, "information_expected", None)
        if info is None:
            raise CkmError(
                f"inspect('information') is available for ML-type fits, not for {self.estimator}"
            )
        unit = np.asarray(info(), float) / float(self.n)
        return pd.DataFrame(unit, index=names, columns=names)

    # ---------------------------------------------------------------- output
    def to_dict(self) -> dict[str, Any]:
        """The JSON document: ``estimator n n_total converged fit estimates`` (the
        estimates with lavaan's ``std.lv`` beside ``std.all``)."""
        est = self.estimates
        std_lv = self.std_lv
        if "std.all" in est and np.isfinite(std_lv).any():
            est = est.copy()
            est.insert(int(est.columns.get_loc("std.all")), "std.lv", std_lv)
        rows = [
            {k: to_json_ready(v) for k, v in rec.items()} for rec in est.to_dict(orient="records")
        ]
        out = {
            "estimator": self.estimator,
            "n": int(self.n),
            "n_total": int(self.n_total),
            "converged": bool(self.converged),
            "iterations": int(self.iterations),
            "ngroups": int(self.ngroups),
            "fit": {k: to_json_ready(v) for k, v in self.fit_measures.items()},
            "estimates": rows,
            "warnings": list(self.warnings),
        }
        if self.ngroups > 1:
            out["groups"] = [str(g) for g in self.group_labels]
            out["n_per_group"] = [int(n) for n in self.n_per_group]
        out.update(
            {
                k: to_json_ready(v) if not isinstance(v, (dict, list)) else v
                for k, v in self.notes.items()
            }
        )
        return out

    def to_json(self, path: str | Path | None = None, indent: int = 2) -> str:
        """Serialise :meth:`to_dict`; write it to ``path`` if given."""
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n", encoding="utf-8")
        return text

    def summary(self, digits: int = 3, warnings: bool = True) -> str:
        """A lavaan-like text summary (lavaan's ``summary(fit, fit.measures = TRUE,
        standardized = TRUE)``).

        Parameters
        ----------
        digits : int
            Decimals.
        warnings : bool
            End with the fit's warnings. ``ckm fit`` prints them on stderr instead
            (``warnings=False``), so each is printed once.
        """
        fm = self.fit_measures
        lines = []
        lines.append(
            f"ckm-research {self._version()} -- "
            f"{'ended normally' if self.converged else 'DID NOT CONVERGE'}"
            f" after {self.iterations} iterations"
        )
        lines.append("")
        lines.append(f"  Estimator                                  {self.estimator:>12}")
        lines.append(f"  Number of model parameters                 {int(fm.get('npar', 0)):>12}")
        totals = self.n_total_per_group if self.ngroups > 1 else (self.n_total,)
        used = self.n_per_group if self.ngroups > 1 else (self.n,)
        deleted = tuple(int(t) for t in totals) != tuple(int(u) for u in used)
        if deleted:  # lavaan: "Used" and "Total" columns when cases were dropped
            lines.append("")
            lines.append(f"  {'':<42} {'Used':>12} {'Total':>12}")
        if self.ngroups > 1:
            lines.append(f"  Number of groups                           {self.ngroups:>12}")
            for lab, n, tot in zip(self.group_labels, self.n_per_group, totals, strict=False):
                extra = f" {int(tot):>12}" if deleted else ""
                lines.append(f"    {str(lab):<40} {int(n):>12}{extra}")
        extra = f" {self.n_total:>12}" if deleted else ""
        lines.append(f"  Number of observations                     {self.n:>12}{extra}")
        for key, label in self.notes.get("summary_lines", []):
            lines.append(f"  {label:<42} {key:>12}")
        lines.append("")
        lines.append("Model Test and Fit Measures:")
        lines.append("")
        for key, label in _SUMMARY_FIT:
            if (
                key in fm
                and fm[key] is not None
                and not (isinstance(fm[key], float) and math.isnan(fm[key]))
            ):
                v = fm[key]
                txt = f"{int(v)}" if key == "df" and float(v).is_integer() else f"{v:.{digits}f}"
                lines.append(f"  {label:<42} {txt:>12}")
        lines.extend(self._baseline_lines(digits))
        lines.append("")
        lines.append("Parameter Estimates:")
        lines.extend(self._se_lines())
        est = self.estimates.copy()
        est["std.lv"] = self.std_lv
        # lavaan marks residual (co)variances and intercepts of dependent variables
        # (regression outcomes and indicators) with a dot: ".x1"
        dot = set(est.loc[est["op"] == "~", "lhs"]) | set(est.loc[est["op"] == "=~", "rhs"])

        def mark(name, op):
            return ("." + name) if op in ("~~", "var", "~1") and name in dot else name

        groups = [None] if self.ngroups == 1 else list(range(1, self.ngroups + 1))
        for g in groups:
            sub = est if g is None else est[est["group"] == g]
            if g is not None:
                lines.append("")
                lines.append(f"Group {g} [{self.group_labels[g - 1]}]:")
            for op in ["=~", "<~", "~", "~~", "~1", "var", "|", "~*~", ":="]:
                if op == "~~":
                    block = sub[(sub["op"] == "~~") & (sub["lhs"] != sub["rhs"])]
                elif op == "var":
                    block = sub[(sub["op"] == "~~") & (sub["lhs"] == sub["rhs"])]
                else:
                    block = sub[sub["op"] == op]
                if block.empty:
                    continue
                lines.append("")
                lines.append(f"{_OP_HEADINGS[op]}:")
                lines.append(
                    f"  {'':<24}{'Estimate':>10}{'Std.Err':>10}{'z-value':>10}"
                    f"{'P(>|z|)':>10}{'Std.lv':>10}{'Std.all':>10}"
                )
                current = None
                for d in block.to_dict(orient="records"):
                    lhs, rhs = d["lhs"], d["rhs"]
                    if op in ("=~", "<~", "~") or (op == "~~" and lhs != rhs):
                        if lhs != current:
                            lines.append(f"  {mark(lhs, op)} {op}")
                            current = lhs
                        name = "    " + mark(rhs, op)
                    elif op == "|":
                        name = f"    {lhs}|{rhs}"
                    elif op == ":=":
                        name = f"    {lhs}"
                    else:
                        name = "    " + mark(lhs, op)
                    if name.startswith("    ."):
                        name = name[1:]  # lavaan's dot takes a column of the indent
                    lab = d.get("label") or ""
                    if lab and op != ":=":
                        name = f"{name} ({lab})"
                    fmt = self._fmt
                    lines.append(
                        f"  {name:<24}{fmt(d['est'], digits)}{fmt(d['se'], digits, blank0=True)}"
                        f"{fmt(d['z'], digits)}{fmt(d['pvalue'], digits)}"
                        f"{fmt(d['std.lv'], digits)}{fmt(d['std.all'], digits)}"
                    )
        if hasattr(self._engine, "r_squared") and self.ngroups == 1:
            r2 = self.r_squared
            if len(r2):
                lines.append("")
                lines.append("R-Square:")
                for rec in r2.to_dict(orient="records"):
                    # NA above 1 (a negative residual variance), as lavaan prints it
                    value = (
                        self._fmt(rec["r2"], digits) if rec["r2"] == rec["r2"] else f"{'NA':>10}"
                    )
                    lines.append(f"  {'    ' + rec['variable']:<24}{value}")
        if warnings and self.warnings:
            lines.append("")
            lines.append("Warnings:")
            for w in self.warnings:
                lines.append(f"  - {w}")
        return "\n".join(lines)

    def _baseline_lines(self, digits: int) -> list[str]:
        """lavaan's "Model Test Baseline Model" block: the independence model's
        chi-square, df and p (and the scaled test beside it, for robust tests)."""
        fm = self.fit_measures

        def num(key):
            v = fm.get(key)
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else v

        if num("baseline.chisq") is None:
            return []
        scaled = num("baseline.chisq.scaled") is not None
        out = ["", "Model Test Baseline Model:", ""]
        if scaled:
            out.append(f"  {'':<42} {'Standard':>12} {'Scaled':>12}")
        rows = [
            ("Test statistic", "baseline.chisq", "baseline.chisq.scaled"),
            ("Degrees of freedom", "baseline.df", "baseline.df.scaled"),
            ("P-value", "baseline.pvalue", "baseline.pvalue.scaled"),
        ]
        if scaled and num("baseline.chisq.scaling.factor") is not None:
            rows.append(("Scaling correction factor", None, "baseline.chisq.scaling.factor"))
        for label, key, skey in rows:
            vals = [num(key) if key else None] + ([num(skey)] if scaled else [])
            txt = []
            for k, v in zip((key, skey), vals, strict=False):
                if v is None:
                    txt.append("")
                elif k and k.startswith("baseline.df") and float(v).is_integer():
                    txt.append(f"{int(v)}")
                else:
                    txt.append(f"{v:.{digits}f}")
            out.append(f"  {label:<42} " + " ".join(f"{t:>12}" for t in txt))
        return out

    def _se_lines(self) -> list[str]:
        """How the standard errors were computed, as lavaan's summary prints it:
        ``Standard errors`` (Standard, Sandwich for robust.huber.white, Robust.sem),
        the information matrix and, for the expected information, the saturated
        (h1) model (lavaan's ``lav_print_parameters`` header)."""
        if self.notes.get("se") == "bootstrap" or not hasattr(self._engine, "pt"):
            return []  # bootstrap: printed in the header; LMS: not the SEM engine's SEs
        from ckm_research.sem.estimators import estimator_spec

        try:
            spec = estimator_spec(self.estimator)
        except KeyError:
            return []
        fiml = getattr(getattr(self._engine, "opts", None), "missing", "listwise") != "listwise"
        if spec.se == "robust.huber.white":
            rows = [
                ("Standard errors", "Sandwich"),
                ("Information bread", "Observed"),
                ("Observed information based on", "Hessian"),
            ]
        else:
            se = "Robust.sem" if spec.se == "robust.sem" else "Standard"
            rows = [("Standard errors", se)]
            if fiml:
                rows += [("Information", "Observed"), ("Observed information based on", "Hessian")]
            else:
                h1 = "Structured" if spec.fitted_by in ("ML", "GLS") else "Unstructured"
                rows += [("Information", "Expected"), ("Information saturated (h1) model", h1)]
        return [""] + [f"  {label:<42} {value:>12}" for label, value in rows]

    @staticmethod
    def _fmt(v, digits, blank0=False):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return f"{'':>10}"
        if blank0 and v == 0:
            return f"{'':>10}"
        return f"{v:>10.{digits}f}"

    @staticmethod
    def _version():
        from ckm_research import __version__

        return __version__

    def __repr__(self) -> str:
        fm = self.fit_measures
        return (
            f"<SEMResults estimator={self.estimator} n={self.n} converged={self.converged} "
            f"chisq={fm.get('chisq', float('nan')):.3f} df={fm.get('df', float('nan'))}>"
        )
