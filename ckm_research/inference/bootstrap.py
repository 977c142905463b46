"""Nonparametric bootstrap of a CFA/SEM fit: standard errors, percentile and
BCa confidence intervals for every parameter and every ``:=`` effect.

Each of the ``B`` resamples draws N cases with replacement (within each group,
as lavaan's ``se = "bootstrap"``) and refits the model (Efron & Tibshirani,
1993, *An Introduction to the Bootstrap*, algorithm 6.1, p. 47).  From the
replicates :math:`\\hat\\theta^*_1, \\dots, \\hat\\theta^*_B` of a parameter:

* **standard error**: their standard deviation with divisor :math:`B`, as
  lavaan computes it (``lav_model_nvcov_bootstrap``: ``cov(COEF) * (B-1)/B``);
* **percentile interval**: the :math:`\\alpha/2` and :math:`1-\\alpha/2`
  quantiles, interpolated on the normal scale between order statistics as the
  boot package and lavaan do (``norm.inter``; Davison & Hinkley, 1997, eq. 5.8);
* **BCa interval** (Efron, 1987, *JASA* 82, 171-185, eq. 2.3 and 6.6; Efron &
  Tibshirani, 1993, section 14.3, eq. 14.9-14.15): the quantiles at

  .. math::

      \\alpha_1 = \\Phi\\Big(\\hat z_0 + \\frac{\\hat z_0 + z_{\\alpha/2}}
                 {1 - \\hat a(\\hat z_0 + z_{\\alpha/2})}\\Big),\\quad
      \\alpha_2 = \\Phi\\Big(\\hat z_0 + \\frac{\\hat z_0 + z_{1-\\alpha/2}}
                 {1 - \\hat a(\\hat z_0 + z_{1-\\alpha/2})}\\Big),

  with the bias correction :math:`\\hat z_0 = \\Phi^{-1}(\\#\\{\\hat\\theta^*_b <
  \\hat\\theta\\}/B)` and the acceleration from the jackknife (delete-one refits
  :math:`\\hat\\theta_{(i)}`, :math:`\\bar\\theta_{(\\cdot)}` their mean):

  .. math::

      \\hat a = \\frac{\\sum_i (\\bar\\theta_{(\\cdot)} - \\hat\\theta_{(i)})^3}
                 {6\\,\\{\\sum_i (\\bar\\theta_{(\\cdot)} - \\hat\\theta_{(i)})^2\\}^{3/2}}.

  (lavaan 0.6's ``boot.ci.type = "bca"`` estimates :math:`\\hat a` by a
  regression on the resampling frequencies instead; ``"bca.simple"`` sets it
  to 0.)

Resamples whose fit fails or does not converge are counted by reason and left
out of the statistics, never dropped silently (lavaan does the same and warns);
improper solutions (a negative variance) are kept and counted, as lavaan does.

Speed: for ML and MLR fits of complete data (with or without product
indicators) each resample is refitted from its sample moments, warm-started at
the full-sample estimates (:mod:`ckm_research.inference.refit`); FIML fits
(``missing = "ml"``) from the resample's weighted missing-data pattern
moments, warm-started likewise (:mod:`ckm_research.inference.fiml_refit`;
not with fixed-x covariates, general constraints or standardized data); other
fits (WLSMV, LMS, ...) are refitted with :func:`ckm_research.fit`.
``BootstrapResult.path`` says which refit was used and ``path_reason`` why a
fit was refitted in full; a FIML fit that cannot take the pattern-moment refits
also warns (:class:`~ckm_research.errors.CkmWarning`) and notes the reason.

Double-mean-centred product indicators (``interaction = "dblcent"``) are
recomputed in every resample from its resampled items (centred at the
resample's means), as :func:`ckm_research.fit` of the resampled data computes
them: the centring is part of the estimator.  (modsem's ``bootstrap_modsem``
for ``modsem_pi`` fits and lavaan's ``se = "bootstrap"`` on modsem's data
resample the product columns computed once from the full sample instead; the
two differ by the resample-to-sample shift of the centring constants.)  Resamples run
in parallel (:mod:`ckm_research.inference.parallel`), each with its own random
stream ``SeedSequence(seed).spawn(B)[b]``, so the numbers do not depend on the
number of workers.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ckm_research.errors import CkmError, CkmWarning
from ckm_research.inference.parallel import (
    ReplicationTask,
    resolve_n_jobs,
    run_replications,
    spawn_seeds,
)
from ckm_research.numerics import to_json_ready, two_sided_pvalue
from ckm_research.sem import distributions as stats  # scipy.stats' results, cheap to import

__all__ = [
    "bootstrap",
    "BootstrapResult",
    "percentile_interval",
    "bca_interval",
    "jackknife_acceleration",
    "norm_inter",
]

#: status codes of one resample
OK, NOT_CONVERGED, FAILED = 0, 1, 2
_STATUS = {OK: "converged", NOT_CONVERGED: "not_converged", FAILED: "failed"}

CI_TYPES = ("perc", "bca")


def _param_error(name: str, allowed: str, got: Any, fn: str = "bootstrap") -> CkmError:
    return CkmError(f"The '{name}' parameter of {fn} must be {allowed}. Got {got!r} instead.")


# ---------------------------------------------------------------------------
# interval formulas (pure functions, tested against direct computations)


def norm_inter(t: np.ndarray, alpha) -> np.ndarray:
    """Quantiles of bootstrap replicates ``t`` at probabilities ``alpha``.

    The order statistic :math:`t_{(k)}` with :math:`k = \\lfloor (B+1)\\alpha
    \\rfloor`, interpolated on the normal-quantile scale towards
    :math:`t_{(k+1)}` (Davison & Hinkley, 1997, eq. 5.8), as ``boot:::norm.inter``
    and lavaan's ``parameterEstimates()`` compute bootstrap intervals.  Non-finite
    replicates are ignored; extreme order statistics are used when
    :math:`(B+1)\\alpha` falls outside :math:`(1, B)`.

    In R: ``boot:::norm.inter(t, alpha)[, 2]``.
    """
    t = np.sort(np.asarray(t, dtype=float)[np.isfinite(t)])
    alpha = np.atleast_1d(np.asarray(alpha, dtype=float))
    R = len(t)
    out = np.full(alpha.shape, np.nan)
    if R == 0:
        return out
    rk = (R + 1) * alpha
    k = np.trunc(rk).astype(int)
    for j in range(len(alpha)):
        if not np.isfinite(alpha[j]):
            continue
        kj = k[j]
        if kj <= 0:
            out[j] = t[0]
        elif kj >= R:
            out[j] = t[R - 1]
        elif kj == rk[j]:
            out[j] = t[kj - 1]
        else:
            z = stats.norm.ppf(alpha[j])
            z1 = stats.norm.ppf(kj / (R + 1))
            z2 = stats.norm.ppf((kj + 1) / (R + 1))
            tk, tk1 = t[kj - 1], t[kj]
            out[j] = tk + (z - z1) / (z2 - z1) * (tk1 - tk)
    return out


def percentile_interval(t: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Efron's percentile interval of the replicates ``t`` (see :func:`norm_inter`)."""
    a = (1 - level) / 2
    lo, hi = norm_inter(t, [a, 1 - a])
    return float(lo), float(hi)


def jackknife_acceleration(jack: np.ndarray) -> float:
    """Acceleration :math:`\\hat a` from delete-one jackknife values
    (Efron & Tibshirani, 1993, eq. 14.15); non-finite values are ignored."""
    jack = np.asarray(jack, dtype=float)
    jack = jack[np.isfinite(jack)]
    if len(jack) < 3:
        return float("nan")
    d = jack.mean() - jack
    den = np.sum(d**2)
    if den <= 0:
        return 0.0
    return float(np.sum(d**3) / (6.0 * den**1.5))


def bca_interval(
    t: np.ndarray, estimate: float, acceleration: float, level: float = 0.95
) -> tuple[float, float]:
    """Efron's (1987) bias-corrected and accelerated interval.

    Parameters
    ----------
    t : array
        Bootstrap replicates (non-finite ones are ignored).
    estimate : float
        The full-sample estimate :math:`\\hat\\theta`.
    acceleration : float
        :math:`\\hat a`, e.g. from :func:`jackknife_acceleration`.
    level : float
        Confidence level.

    Returns
    -------
    (float, float)
        NaN when the bias correction is infinite (all replicates on one side
        of the estimate) or the acceleration is unknown; the estimate twice
        when all replicates are equal.

    In R: ``boot::boot.ci(b, type = "bca")`` (with jackknife influence values).
    """
    t = np.asarray(t, dtype=float)
    t = t[np.isfinite(t)]
    if len(t) == 0 or not np.isfinite(acceleration):
        return float("nan"), float("nan")
    if np.all(t == t[0]):
        return float(estimate), float(estimate)
    p0 = np.mean(t < estimate)
    if p0 <= 0.0 or p0 >= 1.0:
        return float("nan"), float("nan")
    z0 = stats.norm.ppf(p0)
    a = (1 - level) / 2
    za = stats.norm.ppf([a, 1 - a])
    adj = stats.norm.cdf(z0 + (z0 + za) / (1 - acceleration * (z0 + za)))
    lo, hi = norm_inter(t, adj)
    return float(lo), float(hi)


# ---------------------------------------------------------------------------
# the work of one resample


def _classify(exc: BaseException) -> tuple[int, str]:
    from ckm_research.errors import ConvergenceError

    status = NOT_CONVERGED if isinstance(exc, ConvergenceError) else FAILED
    msg = str(exc).split(";")[0].split(". ")[0].strip() or type(exc).__name__
    return status, msg


# errors that a resample can legitimately run into (singular moments, no
# convergence, a category missing from a resample, ...); anything else is a bug
_RESAMPLE_ERRORS = (CkmError, np.linalg.LinAlgError, ArithmeticError, ValueError)


class _MomentTask(ReplicationTask):
    """Refit from resampled moments (ML and MLR with complete data)."""

    def __init__(self, pt, data, theta, iter_max, products, n_out, *, deletions=False):
        super().__init__()
        self.pt = pt
        self.data = [np.ascontiguousarray(x, dtype=float) for x in data]
        self.theta = np.asarray(theta, dtype=float)
        self.iter_max = iter_max
        self.products = products  # {product indicator: (item, item)}
        self.n_out = n_out
        self.deletions = deletions
        self.offsets = np.cumsum([0] + [len(x) for x in self.data])

    def setup(self):
        from ckm_research.inference.refit import MomentFitter, ProductColumns

        fitter = MomentFitter(self.pt, max_iter=self.iter_max)
        prods = ProductColumns.from_names(fitter.model.ov, self.products or {})
        return fitter, prods

    def counts(self, index, rng) -> list[np.ndarray]:
        out = []
        for g, x in enumerate(self.data):
            n = len(x)
            if self.deletions:  # jackknife: case `index` (over all groups) left out
                c = np.ones(n)
                local = index - self.offsets[g]
                if 0 <= local < n:
                    c[local] = 0.0
            else:
                c = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
            out.append(c)
        return out

    def run(self, state, index, rng):
        from ckm_research.inference.refit import weighted_moments

        fitter, prods = state
        counts = self.counts(index, rng)
        try:
            moments = [
                weighted_moments(prods.apply(x, c) if prods else x, c)
                for x, c in zip(self.data, counts, strict=True)
            ]
            theta, _, _ = fitter.fit(moments, self.theta)
            rows = fitter.row_values(theta)
            values = np.concatenate([rows, fitter.definitions.values(rows)])
        except _RESAMPLE_ERRORS as exc:
            status, msg = _classify(exc)
            return status, None, False, msg
        return OK, values, fitter.has_negative_variance(rows), ""


class _RefitTask(ReplicationTask):
    """Refit with :func:`ckm_research.fit` (FIML, WLSMV, LMS, ...)."""

    def __init__(self, model, frame, options, keys, group, *, deletions=False):
        super().__init__()
        self.model = model
        self.frame = frame.reset_index(drop=True)
        self.options = options  # FitOptions
        self.keys = keys
        self.group = group
        self.deletions = deletions
        if group is None:
            self.strata = [np.arange(len(self.frame))]
        else:
            g = self.frame[group].to_numpy()
            self.strata = [np.flatnonzero(g == lab) for lab in pd.unique(g[pd.notna(g)])]

    def run(self, state, index, rng):
        from ckm_research.fitting import fit_with_options

        if self.deletions:
            rows = np.delete(np.arange(len(self.frame)), index)
        else:
            rows = np.concatenate([s[rng.integers(0, len(s), len(s))] for s in self.strata])
        sub = self.frame.iloc[rows].reset_index(drop=True)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = fit_with_options(self.model, sub, self.options)
            est = res.estimates
            keys = _row_keys(est)
            if keys != self.keys:
                raise CkmError(
                    "the resample's model has other parameters (a category or group absent)"
                )
            values = est["est"].to_numpy(dtype=float)
            if getattr(res, "converged", True) is False:
                return NOT_CONVERGED, None, False, "did not converge"
        except _RESAMPLE_ERRORS as exc:
            status, msg = _classify(exc)
            return status, None, False, msg
        var = (est["op"] == "~~") & (est["lhs"] == est["rhs"])
        return OK, values, bool((est.loc[var, "est"] < 0).any()), ""


class _FIMLTask(_RefitTask):
    """FIML refit from weighted missing-data pattern moments
    (:class:`ckm_research.inference.fiml_refit.FIMLRefitter`): the same resamples
    as :class:`_RefitTask` (the same draws of the same random streams), as case
    weights of the full sample's patterns."""

    def __init__(self, model, frame, options, keys, group, engine, case_rows, ainv, products,
                 *, deletions=False):  # fmt: skip
        super().__init__(model, frame, options, keys, group, deletions=deletions)
        self.pt = engine.pt
        self.data = [np.asarray(p.data) for p in engine.patterns]
        self.theta = np.asarray(engine.theta, dtype=float)
        self.iter_max = engine.opts.iter_max
        self.case_rows = case_rows  # per group: the frame row of each non-empty case
        self.information_inverse = ainv  # the fit's inverse observed information
        # product indicators: the frame's items and the (product, item, item) columns
        self.products = products  # None or (matrix of the frame's rows, columns)

    def setup(self):
        from ckm_research.inference.fiml_refit import FIMLRefitter
        from ckm_research.inference.refit import Definitions

        fitter = FIMLRefitter(
            self.pt, self.data, self.theta, max_iter=self.iter_max,
            information_inverse=self.information_inverse,
        )  # fmt: skip
        return fitter, Definitions(self.pt)

    def run(self, state, index, rng):
        fitter, definitions = state
        if self.deletions:
            counts = np.ones(len(self.frame))
            counts[index] = 0.0
        else:
            rows = np.concatenate([s[rng.integers(0, len(s), len(s))] for s in self.strata])
            counts = np.bincount(rows, minlength=len(self.frame)).astype(float)
        try:
            data = None
            if self.products is not None:
                from ckm_research.inference.fiml_refit import weighted_products

                x = weighted_products(self.products[0], self.products[1], counts)
                data = [x[r] for r in self.case_rows]
            theta, _, _ = fitter.fit([counts[r] for r in self.case_rows], data)
            rows_v = fitter.row_values(theta)
            values = np.concatenate([rows_v, definitions.values(rows_v)])
        except _RESAMPLE_ERRORS as exc:
            status, msg = _classify(exc)
            return status, None, False, msg
        return OK, values, fitter.has_negative_variance(rows_v), ""


def _fiml_case_rows(engine, frame: pd.DataFrame, group, products=None):
    """Per group of a FIML fit, the row of ``frame`` of each case the engine
    kept, and the data matrix with the columns of double-mean-centred product
    indicators (``products``: {product: (item, item)}) if any.

    Returns
    -------
    tuple or str
        ``(case_rows, products)`` when the resamples can be refitted from the
        full sample's weighted patterns; otherwise a sentence saying why not
        (fixed-x covariates, standardized data, sampling weights, general
        constraints, data that are not the frame's rows ...: the bootstrap then
        refits with :func:`ckm_research.fit` and says so)."""
    from ckm_research.sem.constraints import general_constraints

    if engine.n_exo():
        return "the model has fixed-x covariates (their moments follow each resample)"
    if general_constraints(engine.pt):
        return "the model has general (in)equality constraints"
    if engine.opts.std_ov:
        return "the data are standardized (std.ov), which each resample would redo"
    if any(getattr(p, "weights", None) is not None for p in engine.patterns):
        return "the fit has case weights"
    ov = list(engine.model.ov)
    products = {k: v for k, v in (products or {}).items() if k in ov}
    try:
        x = np.column_stack(
            [np.full(len(frame), np.nan) if v in products else frame[v].to_numpy(dtype=float)
             for v in ov]
        )  # fmt: skip
        columns = tuple((ov.index(k), ov.index(a), ov.index(b)) for k, (a, b) in products.items())
    except (KeyError, TypeError, ValueError) as exc:
        return f"a variable of the model is not a numeric column of the data ({exc})"
    if columns:
        from ckm_research.inference.fiml_refit import weighted_products

        x = weighted_products(x, columns, np.ones(len(frame)))
    labels = None if group is None else frame[group].to_numpy()
    out = []
    for gd, pat in zip(engine.groups, engine.patterns, strict=True):
        rows = np.arange(len(frame)) if group is None else np.flatnonzero(labels == gd.label)
        rows = rows[~np.isnan(x[rows]).all(axis=1)]
        xr = x[rows]
        where = "" if group is None else f" (group {gd.label})"
        if xr.shape != pat.data.shape:
            return (
                f"the fit used {pat.data.shape[0]} cases{where}, the data have {xr.shape[0]} "
                "non-empty rows"
            )
        same_missing = np.array_equal(np.isnan(xr), np.isnan(pat.data))
        if not same_missing or not np.allclose(xr, pat.data, 0, 1e-10, equal_nan=True):
            close = np.isclose(xr, pat.data, 0, 1e-10, equal_nan=True).all(axis=0)
            bad = [v for v, ok in zip(ov, close, strict=True) if not ok]
            return (
                f"the data the fit used are not the data rows{where}: they differ in "
                + ", ".join(bad[:5])
                + (" ..." if len(bad) > 5 else "")
            )
        out.append(rows)
    return out, ((x, columns) if columns else None)


def _row_keys(est: pd.DataFrame) -> list[tuple]:
    cols = ["lhs", "op", "rhs"] + (["group"] if "group" in est else [])
    return [tuple(r) for r in est[cols].itertuples(index=False)]


# ---------------------------------------------------------------------------
# results


@dataclass
class BootstrapResult:
    """The bootstrap distribution of a fit's estimates and what it implies.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per row of the fit's parameter table (and ``:=`` effect):
        ``lhs op rhs label [group] est se bias z pvalue ci.lower ci.upper
        perc.lower perc.upper bca.lower bca.upper n.valid``.  ``se``, ``z``,
        ``pvalue`` come from the bootstrap; ``ci.lower``/``ci.upper`` are the
        interval chosen by ``ci``; ``bca.lower``/``bca.upper`` are NaN unless
        the jackknife ran (``ci='bca'`` or ``bca=True``).  Fixed parameters keep ``se = 0`` and
        ``ci = est``, as in lavaan.
    replicates : numpy.ndarray
        ``(n_boot, n_rows)`` estimates of every resample (NaN rows for failed
        resamples), in the order of ``estimates``.
    status : numpy.ndarray
        Per resample: 0 converged, 1 not converged, 2 failed.
    failures : dict
        Messages of failed resamples and how often each occurred.
    n_improper : int
        Converged resamples with a negative variance estimate (kept).
    seed : int
        The root entropy of the random streams (repeats the run).
    method : str
        How each resample was refitted, in words.
    path : str
        The refit path: ``"moments"`` (ML/MLR on complete data),
        ``"fiml_patterns"`` (FIML from weighted missing-data pattern moments) or
        ``"full_refit"`` (:func:`ckm_research.fit` of every resample).
    path_reason : str
        For ``"full_refit"``, why the faster refits were not used (for a FIML
        fit, also a warning and the first of ``notes``); empty otherwise.
    jackknife : numpy.ndarray or None
        ``(N, n_rows)`` delete-one estimates (for BCa).
    acceleration, z0 : numpy.ndarray
        BCa constants per row.
    """

    estimates: pd.DataFrame
    replicates: np.ndarray
    status: np.ndarray
    level: float
    ci: str
    seed: int
    method: str
    failures: dict[str, int] = field(default_factory=dict)
    n_improper: int = 0
    jackknife: np.ndarray | None = None
    jackknife_failed: int = 0
    acceleration: np.ndarray | None = None
    z0: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    path: str = ""
    path_reason: str = ""

    @property
    def n_boot(self) -> int:
        return int(len(self.status))

    @property
    def n_converged(self) -> int:
        return int(np.sum(self.status == OK))

    def counts(self) -> dict[str, int]:
        """Resamples by outcome: ``requested converged not_converged failed improper``."""
        out = {"requested": self.n_boot}
        for code, name in _STATUS.items():
            out[name] = int(np.sum(self.status == code))
        out["improper"] = int(self.n_improper)
        return out

    @property
    def has_bca(self) -> bool:
        """Whether BCa limits were computed (the jackknife ran: ``bca=True`` or ``ci='bca'``)."""
        return self.jackknife is not None

    def summary_dict(self) -> dict[str, Any]:
        """What a JSON report says about the bootstrap."""
        return {
            "se": "bootstrap",
            "ci": {"perc": "percentile", "bca": "BCa"}[self.ci],
            "level": self.level,
            "resamples": self.counts(),
            "failure_reasons": dict(self.failures),
            "seed": self.seed,
            "method": self.method,
            "path": self.path,
            "path_reason": self.path_reason,
            "se_divisor": "B (as lavaan)",
            "bca": None
            if self.jackknife is None
            else {"acceleration": "jackknife", "jackknife_failed": int(self.jackknife_failed)},
            "notes": list(self.notes),
        }

    def apply_to(self, result):
        """A copy of ``result`` whose ``se z pvalue ci.lower ci.upper`` come from
        the bootstrap, with the percentile limits (and the BCa limits, when
        computed) as extra ``boot.*`` columns and
        ``notes["bootstrap"]`` saying so (written to the JSON)."""
        est = result.estimates.copy()
        b = self.estimates
        for col in ("se", "z", "pvalue", "ci.lower", "ci.upper"):
            est[col] = b[col].to_numpy()
        cols = ("perc.lower", "perc.upper") + (("bca.lower", "bca.upper") if self.has_bca else ())
        for col in cols:
            est[f"boot.{col}"] = b[col].to_numpy()
        notes = dict(result.notes)
        notes["se"] = "bootstrap"
        notes["bootstrap"] = self.summary_dict()
        c = self.counts()
        notes["summary_lines"] = list(notes.get("summary_lines", [])) + [
            ("Bootstrap", "Standard errors"),
            (f"{c['converged']}/{c['requested']}", "Converged bootstrap resamples"),
            ({"perc": "percentile", "bca": "BCa"}[self.ci], "Bootstrap confidence intervals"),
        ]
        warns = list(result.warnings)
        failed = c["requested"] - c["converged"]
        if failed:
            warns.append(
                f"{failed} of {c['requested']} bootstrap resamples failed or did not converge "
                f"({', '.join(f'{k}: {v}' for k, v in self.failures.items())}); the bootstrap "
                "statistics use the other resamples"
            )
        if c["improper"]:
            warns.append(
                f"{c['improper']} bootstrap resamples gave a negative variance estimate (kept, as "
                "lavaan does)"
            )
        warns.extend(self.notes)
        return dataclasses.replace(result, estimates=est, notes=notes, warnings=warns)

    def to_dict(self) -> dict[str, Any]:
        rows = [
            {k: to_json_ready(v) for k, v in r.items()} for r in self.estimates.to_dict("records")
        ]
        return {"bootstrap": self.summary_dict(), "estimates": rows}


# ---------------------------------------------------------------------------
# the public function


def bootstrap(
    model: str | Path,
    data,
    *,
    n_boot: int = 1000,
    random_state=None,
    n_jobs: int | None = None,
    scheduler=None,
    level: float = 0.95,
    ci: str = "perc",
    bca: bool | None = None,
    progress: bool | None = None,
    result=None,
    **fit_kwargs,
) -> BootstrapResult:
    """Nonparametric bootstrap of a CFA/SEM fit.

    Parameters
    ----------
    model : str or pathlib.Path
        lavaan model syntax (or a ``.lav`` file), as for :func:`ckm_research.fit`.
    data : pandas.DataFrame or path
        The data the model is fitted to.
    n_boot : int
        Number of resamples ``B`` (Efron & Tibshirani recommend at least 1000
        for interval endpoints, more for BCa).
    random_state : int, numpy.random.SeedSequence or None
        Seed of the resampling; resample ``b`` uses
        ``SeedSequence(random_state).spawn(n_boot)[b]``.  ``None`` draws one and
        records it in ``result.seed``.
    n_jobs : int, optional
        Local worker processes (``None``/``-1``: all cores; 1: this process).
    scheduler : str or distributed.Client, optional
        A dask.distributed scheduler address (or client) to run the resamples on.
    level : float
        Confidence level of the intervals.
    ci : {'perc', 'bca'}
        The interval reported as ``ci.lower``/``ci.upper`` (both are computed
        when ``bca`` is true).
    bca : bool or None
        Compute BCa intervals (costs N extra delete-one refits for the
        jackknife acceleration).  ``None`` (default): only when ``ci='bca'``;
        otherwise ``bca.lower``/``bca.upper`` are NaN and :meth:`BootstrapResult.apply_to`
        adds no ``boot.bca.*`` columns.
    progress : bool, optional
        Progress bar on stderr (default: when stderr is a terminal).
    result : SEMResults, optional
        The full-sample fit of ``model`` to ``data`` with the same options, if
        already computed (it is refitted otherwise).
    **fit_kwargs
        Options of :func:`ckm_research.fit` (``estimator``, ``group``,
        ``std_lv``, ``interaction``, ...).

    Returns
    -------
    BootstrapResult
        ``.estimates`` (bootstrap SEs and intervals), ``.replicates``,
        ``.counts()``; ``.apply_to(fit_result)`` gives a fit whose SEs and
        intervals are the bootstrap ones.

    Raises
    ------
    ckm_research.errors.CkmError
        For invalid options, or when fewer than two resamples converge.

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> survey = load_dataset("PoliticalDemocracy")
    >>> model = ("ind60 =~ x1 + x2 + x3\\ndem60 =~ y1 + y2 + y3 + y4\\n"
    ...          "dem65 =~ y5 + y6 + y7 + y8\\n"
    ...          "dem60 ~ a*ind60\\ndem65 ~ b*dem60 + ind60\\nab := a*b")
    >>> boot = bootstrap(model, survey, n_boot=100, random_state=1, n_jobs=1)  # use 2000+
    >>> boot.estimates.query("op == ':='")[["lhs", "est", "se"]].round(3)
       lhs    est     se
    28  ab  1.274  0.326

    In R: ``fit <- lavaan::sem(model, data, se = "bootstrap", bootstrap = 2000)``;
    ``parameterEstimates(fit, boot.ci.type = "perc")`` (or ``"bca.simple"``).
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise _param_error("n_boot", "an int in the range [2, inf)", n_boot)
    if not (isinstance(level, float) and 0 < level < 1):
        raise _param_error("level", "a float in the range (0, 1)", level)
    if ci not in CI_TYPES:
        raise _param_error("ci", "one of 'perc', 'bca'", ci)
    if bca is None:  # the N-case jackknife only when BCa intervals are asked for
        bca = ci == "bca"
    if ci == "bca" and not bca:
        raise CkmError("ci='bca' needs bca=True (the jackknife acceleration)")
    from ckm_research.sem.options import FitOptions

    options = FitOptions.from_kwargs(**dict(fit_kwargs, level=level))
    if options.sampling_weights is not None:
        # lavaan's bootstrap (lav_bootstrap_internal) resamples the cases without their
        # weights: there is no weighted bootstrap to match
        raise CkmError(
            "the bootstrap is not supported with sampling_weights (lavaan's "
            "sampling.weights): use the robust (MLR) standard errors of the weighted fit, "
            "which are design-based sandwich SEs, or drop --bootstrap"
        )
    if scheduler is None:
        resolve_n_jobs(n_jobs, "bootstrap")
    from ckm_research.data.io import read_data
    from ckm_research.fitting import fit_with_options
    from ckm_research.textfile import model_text

    if isinstance(model, (str, Path)):
        model = model_text(model)
    frame = read_data(data, missing_values=options.missing_values)
    options = options.replace(missing_values=None)  # the codes are read
    if result is None:
        result = fit_with_options(model, frame, options)
    root, seeds = spawn_seeds(random_state, int(n_boot))
    est = result.estimates
    n_rows = len(est)

    task, jack_task, n_cases, method, path, path_reason = _make_tasks(
        model, frame, result, options, n_rows
    )
    slow_fiml = path_reason.startswith("FIML pattern-moment refits not applicable")
    if slow_fiml:
        # a FIML fit that would be refitted quickly but cannot: say so (issue 11)
        warnings.warn(
            f"bootstrap: every resample is refitted with ckm_research.fit (slow); {path_reason}",
            CkmWarning,
            stacklevel=2,
        )
    reps = np.full((n_boot, n_rows), np.nan)
    status = np.zeros(n_boot, dtype=int)
    failures: Counter = Counter()
    improper = 0
    for i, (code, values, bad, msg) in run_replications(
        task, int(n_boot), seeds=seeds, n_jobs=n_jobs, scheduler=scheduler,
        progress=progress, desc="bootstrap", unit="resample",
    ):  # fmt: skip
        status[i] = code
        if code == OK:
            reps[i] = values
            improper += bool(bad)
        else:
            failures[msg] += 1
    ok = status == OK
    if ok.sum() < 2:
        reason = failures.most_common(1)[0][0] if failures else "unknown"
        raise CkmError(
            f"only {int(ok.sum())} of {n_boot} bootstrap resamples converged (most common "
            f"problem: {reason}); check the model on the full sample, or use more data"
        )

    jack = None
    jack_failed = 0
    if bca:
        jack = np.full((n_cases, n_rows), np.nan)
        for i, (code, values, _, _) in run_replications(
            jack_task, n_cases, n_jobs=n_jobs, scheduler=scheduler, progress=progress,
            desc="jackknife (BCa)", unit="case",
        ):  # fmt: skip
            if code == OK:
                jack[i] = values
            else:
                jack_failed += 1

    table, accel, z0, notes = _summarise(est, reps[ok], jack, level, ci)
    if slow_fiml:
        notes.insert(0, f"the resamples were refitted with ckm_research.fit; {path_reason}")
    if bca and n_boot < 1000:
        notes.append(
            f"BCa intervals from {n_boot} resamples are unstable; Efron & Tibshirani (1993, "
            "p. 188) recommend at least 1000"
        )
    return BootstrapResult(
        estimates=table,
        replicates=reps,
        status=status,
        level=level,
        ci=ci,
        seed=int(root.entropy) if isinstance(root.entropy, (int, np.integer)) else root.entropy,
        method=method,
        path=path,
        path_reason=path_reason,
        failures=dict(failures.most_common()),
        n_improper=int(improper),
        jackknife=jack,
        jackknife_failed=int(jack_failed),
        acceleration=accel,
        z0=z0,
        notes=notes,
    )


def _make_tasks(model, frame, result, options, n_rows):
    """The resample and jackknife tasks, the number of cases, the method in words,
    the refit path (``"moments"``, ``"fiml_patterns"`` or ``"full_refit"``) and,
    for full refits, why the faster refits do not apply."""
    from ckm_research.sem.ml import MLEngine

    engine = result.engine
    if type(engine) is MLEngine:
        inter = result.notes.get("interaction") or {}
        products = {}
        if inter.get("method") == "dblcent":
            from ckm_research.moderation.product_indicators import product_terms

            for term in product_terms(result.model_text or model):
                products.update(term.members)
        n_out = len(engine.pt.table) + len(engine.pt.definitions)
        if n_out != n_rows:  # pragma: no cover - the engine's table is the estimates table
            raise RuntimeError("bootstrap: the parameter table and the estimates disagree")
        data = [gd.data for gd in engine.groups]
        args = (engine.pt, data, engine.theta, engine.opts.iter_max, products, n_rows)
        return (
            _MomentTask(*args),
            _MomentTask(*args, deletions=True),
            sum(len(x) for x in data),
            "refit from resampled sample moments, warm-started at the estimates",
            "moments",
            "",
        )
    keys = _row_keys(result.estimates)
    group = options.group
    from ckm_research.sem.fiml import FIMLEngine

    fallback = f"no refit from moments for this fit ({type(engine).__name__}, {options.estimator})"
    if type(engine) is FIMLEngine and len(engine.pt.table) + len(engine.pt.definitions) != n_rows:
        fallback = "the estimates have rows the parameter table does not"  # pragma: no cover
    elif type(engine) is FIMLEngine:
        inter = result.notes.get("interaction") or {}
        products = {}
        if inter.get("method") == "dblcent":
            from ckm_research.moderation.product_indicators import product_terms

            for term in product_terms(result.model_text or model):
                products.update(term.members)
        found = _fiml_case_rows(engine, frame.reset_index(drop=True), group, products)
        if found is None:  # no reason given (e.g. a test's stand-in)
            found = "the data the fit used are not the data rows"
        if isinstance(found, str):
            fallback = found
        else:
            case_rows, prods = found
            # the refits' first metric: the inverse observed information, which the fit
            # computed for its standard errors (ML: vcov(); MLR: the sandwich's bread)
            ainv = engine.information_inverse()
            args = (model, frame, options, keys, group, engine, case_rows, ainv, prods)
            return (
                _FIMLTask(*args),
                _FIMLTask(*args, deletions=True),
                len(frame),
                "FIML refit from the resample's weighted missing-data pattern moments, "
                "warm-started at the estimates",
                "fiml_patterns",
                "",
            )
        fallback = "FIML pattern-moment refits not applicable: " + fallback
    return (
        _RefitTask(model, frame, options, keys, group),
        _RefitTask(model, frame, options, keys, group, deletions=True),
        len(frame),
        "full refit with ckm_research.fit",
        "full_refit",
        fallback,
    )


def _summarise(est: pd.DataFrame, reps: np.ndarray, jack, level: float, ci: str):
    t0 = est["est"].to_numpy(dtype=float)
    se0 = est["se"].to_numpy(dtype=float)
    target = (est["op"].to_numpy() == ":=") | ~(se0 == 0)
    k = len(est)
    se = np.where(target, np.nan, 0.0)
    bias = np.where(target, np.nan, 0.0)
    perc = np.column_stack([t0, t0]).astype(float)
    bcas = np.column_stack([t0, t0]).astype(float)
    accel = np.full(k, np.nan)
    z0 = np.full(k, np.nan)
    n_valid = np.zeros(k, dtype=int)
    notes: list[str] = []
    undefined = []
    for j in np.flatnonzero(target):
        t = reps[:, j]
        t = t[np.isfinite(t)]
        n_valid[j] = len(t)
        if len(t) < 2:
            perc[j] = bcas[j] = np.nan
            continue
        se[j] = float(np.sqrt(np.mean((t - t.mean()) ** 2)))  # divisor B, as lavaan
        bias[j] = float(t.mean() - t0[j])
        perc[j] = percentile_interval(t, level)
        if jack is None:
            bcas[j] = np.nan
            continue
        accel[j] = jackknife_acceleration(jack[:, j])
        p0 = np.mean(t < t0[j])
        z0[j] = stats.norm.ppf(p0) if 0 < p0 < 1 else np.nan
        bcas[j] = bca_interval(t, t0[j], accel[j], level)
        if np.isnan(bcas[j]).any() and se[j] > 0:
            undefined.append(_name(est.iloc[j]))
    if undefined:
        notes.append(
            "BCa interval undefined (all resamples on one side of the estimate) for: "
            + ", ".join(undefined[:10])
            + (" ..." if len(undefined) > 10 else "")
        )
    z = np.where(target & (se > 0), t0 / np.where(se > 0, se, np.nan), np.nan)
    cols = ["lhs", "op", "rhs", "label"] + (["group"] if "group" in est else [])
    out = est[cols].copy()
    out["est"] = t0
    out["se"] = se
    out["bias"] = bias
    out["z"] = z
    out["pvalue"] = two_sided_pvalue(z)
    chosen = perc if ci == "perc" else bcas
    out["ci.lower"], out["ci.upper"] = chosen[:, 0], chosen[:, 1]
    out["perc.lower"], out["perc.upper"] = perc[:, 0], perc[:, 1]
    out["bca.lower"], out["bca.upper"] = bcas[:, 0], bcas[:, 1]
    out["n.valid"] = n_valid
    return out.reset_index(drop=True), accel, z0, notes


def _name(row) -> str:
    if row["op"] == ":=":
        return str(row["lhs"])
    return f"{row['lhs']} {row['op']} {row['rhs']}"
