"""Fast refits of one model to many sets of sample moments.

The bootstrap, the jackknife and Monte Carlo power all fit *the same* model
thousands of times to data that differ a little.  Everything that depends only
on the model is done once (parsing, the parameter table, the RAM index arrays
of :class:`~ckm_research.sem.model.RAMModel`, the compiled ``:=`` expressions);
each refit then needs only

* the sample moments, computed in one pass from resampling counts or a
  simulated matrix (:func:`weighted_moments`), with double-mean-centred product
  indicators rebuilt from the resampled items (:class:`ProductColumns`);
* the ML discrepancy of :mod:`ckm_research.sem.ml` (Bollen, 1989, eq. 4.67),
  minimised (:class:`MomentFitter`) from the full-sample (or population)
  solution with the analytic gradient: Fisher scoring for the first iterations
  (the expected information, from the same model matrices as the gradient),
  then that information corrected by BFGS updates (Nocedal & Wright, 2006,
  eq. 6.19), which converge superlinearly and need only gradients.

:class:`MomentFitter` minimises exactly the objective of
:func:`ckm_research.sem.ml.fit_ml` with the same convergence criteria; it skips
what a refit does not need (the condition number of the information at every
step; it is checked every 25 iterations, so that a sample in which the model is
not identified fails early).  The tests check that both give the same
estimates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg as sla

from ckm_research.errors import ConvergenceError, IdentificationError, ModelSpecificationError
from ckm_research.numerics import minimize, numerical_jacobian
from ckm_research.sem.ml import SampleMoments
from ckm_research.sem.model import RAMModel
from ckm_research.sem.partable import ParTable
from ckm_research.sem.syntax import DefinedParameters

__all__ = [
    "MomentFitter",
    "Definitions",
    "ProductColumns",
    "weighted_moments",
    "fill_exogenous",
]


def weighted_moments(x: np.ndarray, counts: np.ndarray | None = None) -> SampleMoments:
    """Sample moments (covariance with divisor N) of ``x``, each row counted
    ``counts[i]`` times (a bootstrap resample) or once."""
    if counts is None:
        return SampleMoments.from_data(x)
    n = int(counts.sum())
    w = counts.astype(float)
    mean = (w @ x) / n
    xc = x - mean
    cov = (xc.T * w) @ xc / n
    return SampleMoments(n, cov, mean)


def fill_exogenous(model: RAMModel, table, moments: list[SampleMoments]) -> None:
    """Fixed-x: set the (co)variances and means of observed exogenous covariates
    to their sample values (as :meth:`ckm_research.sem.api.BaseEngine._fill_exo`)."""
    exo = np.flatnonzero(table["exo"].to_numpy() == 1)
    if not len(exo):
        return
    pos = {v: i for i, v in enumerate(model.ov)}
    ops, lhs, rhs, grp = (table[c].to_numpy() for c in ("op", "lhs", "rhs", "group"))
    for r in exo:
        mom = moments[grp[r] - 1]
        if ops[r] == "~~":
            model.values[r] = mom.cov[pos[lhs[r]], pos[rhs[r]]]
        elif ops[r] == "~1":
            model.values[r] = mom.mean[pos[lhs[r]]]


class Definitions(DefinedParameters):
    """The ``:=`` parameters of a parameter table
    (:class:`ckm_research.sem.syntax.DefinedParameters`, compiled once), with
    their Jacobian in the free parameters for the delta method."""

    def __init__(self, pt: ParTable):
        super().__init__(pt.definitions, pt.table["label"].to_numpy())

    def jacobian(self, model: RAMModel, theta: np.ndarray, eps: float = 1e-6) -> np.ndarray:
        """:math:`\\partial\\,\\mathrm{def}/\\partial\\theta` by central differences
        (as the engine's delta method), over the parameters the definitions use."""
        cols = np.unique(model.free[self.rows] - 1) if len(self.rows) else []
        if not any(k >= 0 for k in cols):
            return np.zeros((len(self.definitions), len(theta)))
        return numerical_jacobian(
            lambda th: self.values(model.row_values(th)), theta, eps, columns=cols
        )


@dataclass(frozen=True)
class ProductColumns:
    """Rebuild double-mean-centred product indicators from their items.

    ``columns`` maps positions of product indicators in the data matrix to the
    positions of the two items they multiply (see
    :func:`ckm_research.moderation.product_indicators.double_mean_centered_products`).
    """

    columns: tuple[tuple[int, int, int], ...]  # (product, left item, right item)

    @classmethod
    def from_names(cls, names, members: dict[str, tuple[str, str]]) -> ProductColumns:
        pos = {v: i for i, v in enumerate(names)}
        cols = []
        for prod, (a, b) in members.items():
            if prod in pos:
                if a not in pos or b not in pos:
                    raise ModelSpecificationError(
                        f"the product indicator {prod} needs {a} and {b}, which are not in the data"
                    )
                cols.append((pos[prod], pos[a], pos[b]))
        return cls(tuple(cols))

    def __bool__(self) -> bool:
        return bool(self.columns)

    def apply(self, x: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
        """``x`` with its product columns recomputed (weighted by ``counts``)."""
        if not self.columns:
            return x
        x = np.array(x, dtype=float, copy=True)
        prod = np.array([c[0] for c in self.columns])
        left = np.array([c[1] for c in self.columns])
        right = np.array([c[2] for c in self.columns])
        items = np.union1d(left, right)
        if counts is None:
            means = x[:, items].mean(axis=0)
        else:
            means = (counts @ x[:, items]) / counts.sum()
        centred = np.zeros_like(x)
        centred[:, items] = x[:, items] - means
        p = centred[:, left] * centred[:, right]
        pm = p.mean(axis=0) if counts is None else (counts @ p) / counts.sum()
        x[:, prod] = p - pm
        return x


class MomentFitter:
    """Minimise the ML discrepancy for many sets of sample moments.

    Parameters
    ----------
    pt : ParTable
        The model's parameter table (its ``exo`` rows follow the moments, as
        with ``fixed.x``).
    max_iter : int
        Fisher-scoring iterations before giving up (lavaan's ``iter.max``).
    tol : float
        Relative change of the discrepancy for convergence (as
        :func:`~ckm_research.sem.ml.fit_ml`); steps must also fall below
        ``1e-6``.
    refresh : int
        Fisher-scoring iterations before the BFGS corrections take over.

    Notes
    -----
    The model's fixed values are copied, so fitting never changes the caller's
    :class:`RAMModel`.
    """

    def __init__(
        self, pt: ParTable, *, max_iter: int = 500, tol: float = 1e-10, refresh: int = 2
    ):
        from ckm_research.sem.constraints import general_constraints

        cons = general_constraints(pt)
        if cons:
            # the moment refits know only the shared free parameters of a == b
            c = cons[0]
            raise ModelSpecificationError(
                f"the constraint '{c.lhs} {c.op} {c.rhs}' (line {c.line}) is not supported by "
                "the moment refits of the power analysis, which know only simple equalities "
                "between labels (a == b); fit() and bootstrap() apply it, drop it for the "
                "power analysis"
            )
        self.pt = pt
        self.refresh = int(refresh)
        self.table = pt.table
        self.model = RAMModel(pt)
        self.max_iter = int(max_iter)
        self.tol = float(tol)
        self.meanstructure = bool(self.model.meanstructure)
        self.q = self.model.n_free
        self._has_exo = bool((pt.table["exo"].to_numpy() == 1).any())
        self.definitions = Definitions(pt)
        self._start_cache = None
        # rows -> free parameters, per group (rank2_factors returns rows in a fixed order)
        self._maps = []
        theta0 = np.zeros(self.q)
        for g in range(self.model.ngroups):
            rows = self.model.rank2_factors(self.model.pieces(theta0, g), g)[0]
            idx = self.model.free[rows] - 1
            if len(idx) == self.q and np.array_equal(idx, np.arange(self.q)):
                self._maps.append((None, None))  # rows already in parameter order
            elif len(np.unique(idx)) == len(idx):
                self._maps.append((idx, None))
            else:  # equality constraints: several rows share a parameter
                self._maps.append((idx, self.model.row_to_free(rows)))

    # ------------------------------------------------------------------ pieces
    def _model_part(self, theta, g: int, derivatives: bool, information: bool):
        """What depends on the parameters only: K = Sigma^-1, log|Sigma|, mu, the
        derivative factors and the information rows of group ``g`` (None when
        Sigma is not positive definite)."""
        model = self.model
        pc = model.pieces(theta, g)
        try:
            c = np.linalg.cholesky(pc["sigma"])
        except np.linalg.LinAlgError:
            return None
        ci = sla.solve_triangular(c, np.eye(c.shape[0]), lower=True, check_finite=False)
        K = ci.T @ ci
        part = {"K": K, "logdet": 2.0 * np.log(np.diag(c)).sum(), "mu": pc["mu"]}
        if derivatives:
            rows, X, Y, DMU = model.rank2_factors(pc, g)
            part.update(X=X, Y=Y, DMU=DMU)
            if information:
                KX, KY = K @ X, K @ Y
                R = X.T @ KY
                I_rows = (X.T @ KX) * (Y.T @ KY) + R * R.T
                if self.meanstructure:
                    I_rows = I_rows + DMU.T @ K @ DMU
                part["I_rows"] = I_rows
        return part

    def _start_parts(self, theta):
        """:meth:`_model_part` at the start values, kept while they do not change
        (every bootstrap resample starts from the same estimates)."""
        key = theta.tobytes()
        if self._has_exo or self._start_cache is None or self._start_cache[0] != key:
            parts = [self._model_part(theta, g, True, True) for g in range(self.model.ngroups)]
            if self._has_exo:  # fixed-x values follow the moments: nothing to keep
                return parts
            self._start_cache = (key, parts)
        return self._start_cache[1]

    def _evaluate(self, theta, moments, weights, derivatives: bool, information: bool = True,
                  parts=None):  # fmt: skip
        f = 0.0
        grad = np.zeros(self.q) if derivatives else None
        info = np.zeros((self.q, self.q)) if derivatives and information else None
        for g, (mom, w) in enumerate(zip(moments, weights, strict=True)):
            part = (
                parts[g] if parts is not None
                else self._model_part(theta, g, derivatives, derivatives and information)
            )  # fmt: skip
            if part is None:
                return np.inf, None, None
            K = part["K"]
            p = K.shape[0]
            d = mom.mean - part["mu"] if self.meanstructure else np.zeros(p)
            Kd = K @ d
            f += w * (part["logdet"] + np.sum(K * mom.cov) - mom.logdet - p + d @ Kd)
            if not derivatives:
                continue
            X, Y, DMU = part["X"], part["Y"], part["DMU"]
            G = K - K @ (mom.cov + np.outer(d, d)) @ K
            g_rows = 2.0 * np.sum(X * (G @ Y), axis=0) - 2.0 * (DMU.T @ Kd)
            idx, L = self._maps[g]
            if idx is None:
                grad += w * g_rows
            elif L is None:
                grad[idx] += w * g_rows
            else:
                grad += w * (L.T @ g_rows)
            if info is None:
                continue
            I_rows = part["I_rows"]
            if idx is None:
                info += w * I_rows
            elif L is None:
                info[np.ix_(idx, idx)] += w * I_rows
            else:
                info += w * (L.T @ I_rows @ L)
        return f, grad, info

    def prepare(self, moments: list[SampleMoments]) -> list[_Moments]:
        """Moments with their log-determinants; sets fixed-x values."""
        if self._has_exo:
            fill_exogenous(self.model, self.table, moments)
        out = []
        for m in moments:
            try:
                diag = np.diag(np.linalg.cholesky(m.cov))
            except np.linalg.LinAlgError:
                diag = np.zeros(1)
            # a (numerically) singular matrix: a pivot of the Cholesky factor vanishes
            if not np.all(np.isfinite(diag)) or diag.min() ** 2 <= 1e-12 * np.max(np.diag(m.cov)):
                raise IdentificationError(
                    "the sample covariance matrix is singular (a variable is constant or a "
                    "linear combination of others in this sample)"
                )
            out.append(_Moments(m.n, m.cov, m.mean, 2.0 * np.log(diag).sum()))
        return out

    def fit(self, moments: list[SampleMoments], start: np.ndarray) -> tuple[np.ndarray, float, int]:
        """Estimates, minimum of :math:`\\sum_g (N_g/N) F_g`, and iterations.

        Raises
        ------
        ConvergenceError
            When no step improves the fit or ``max_iter`` is reached.
        IdentificationError
            When the information matrix is singular or the sample covariance
            matrix is singular.
        """
        moms = self.prepare(moments)
        ntot = sum(m.n for m in moms)
        weights = [m.n / ntot for m in moms]
        self._last = (moms, weights)
        theta = np.asarray(start, dtype=float).copy()
        f, grad, info = self._evaluate(
            theta, moms, weights, True, parts=self._start_parts(theta)
        )
        if not np.isfinite(f):
            raise ConvergenceError("the starting values give a non-positive-definite Sigma")
        # Fisher scoring for the first iterations; then the last information,
        # corrected by BFGS updates from the gradients (superlinear, and only
        # gradients to compute); the information again after a halved step
        qn = {"H": None, "grad": None, "fresh": True, "tries": 0}

        def objective(x):
            fresh = qn["fresh"] or qn["tries"] > 0
            qn["tries"] += 1
            f_x, g_x, i_x = self._evaluate(x, moms, weights, True, fresh)
            return f_x, (g_x, i_x)

        def direction(x, f, state, it, s_):
            grad, info = state
            H = qn["H"]
            if info is not None:
                H = 2.0 * info
            elif s_ is not None:
                y_ = grad - qn["grad"]
                sy = float(s_ @ y_)
                if sy > 1e-12 * float(np.sqrt((s_ @ s_) * (y_ @ y_))):
                    Hs = H @ s_
                    H = H + np.outer(y_, y_) / sy - np.outer(Hs, Hs) / float(s_ @ Hs)
            if it % 25 == 0 and info is not None and np.linalg.cond(H) > 1e12:
                # slow progress towards a solution where the information is singular
                # (fit_ml judges identification there the same way)
                raise IdentificationError(
                    "the model is not identified in this sample: the information matrix is "
                    "singular near the solution"
                )
            try:
                factor = sla.cho_factor(H, lower=False, check_finite=True)
            except (np.linalg.LinAlgError, ValueError):
                raise IdentificationError(
                    "the information matrix is not positive definite"
                ) from None
            step = -sla.cho_solve(factor, grad, check_finite=False)
            qn.update(H=H, grad=grad, fresh=it < self.refresh or (it + 1) % 25 == 0, tries=0)
            return step, float(grad @ step)

        res = minimize(
            objective,
            theta,
            direction,
            f0=f,
            state0=(grad, info),
            max_iter=self.max_iter,
            ftol=self.tol,
            xtol=1e-6,
            armijo=1e-4,
            min_alpha=1e-10,
            stop=lambda x, f, state: np.max(np.abs(state[0])) < 1e-12,
        )
        if res.status == "converged":
            return res.x, res.fun, res.nit
        if res.status == "no_descent":
            if np.max(np.abs(res.state[0])) < 1e-6:
                return res.x, res.fun, res.nit
            raise ConvergenceError("no step improves the fit")
        raise ConvergenceError(f"did not converge in {self.max_iter} iterations")

    # ------------------------------------------------------------ inference
    def information(self, theta: np.ndarray, moments: list[SampleMoments]) -> np.ndarray:
        """Expected information per case, :math:`\\sum_g (N_g/N) I_{1,g}` (as
        :func:`~ckm_research.sem.ml.ml_information`)."""
        moms = self.prepare(moments)
        ntot = sum(m.n for m in moms)
        return self._evaluate(theta, moms, [m.n / ntot for m in moms], True)[2]

    def information_at(self, theta: np.ndarray) -> np.ndarray:
        """:meth:`information` for the moments of the last :meth:`fit`."""
        moms, weights = self._last
        return self._evaluate(theta, moms, weights, True)[2]

    def row_values(self, theta: np.ndarray) -> np.ndarray:
        return self.model.row_values(theta)

    def has_negative_variance(self, row_values: np.ndarray) -> bool:
        """A Heywood case: a negative (residual) variance estimate."""
        t = self.table
        var = (t["op"].to_numpy() == "~~") & (t["lhs"].to_numpy() == t["rhs"].to_numpy())
        return bool(np.any(row_values[var] < 0))


@dataclass(frozen=True)
class _Moments:
    n: int
    cov: np.ndarray
    mean: np.ndarray
    logdet: float


def chisq_pvalue(fmin: float, n: int, df: float) -> float:
    """p-value of the ML chi-square :math:`N F_{min}` (lavaan's test)."""
    from ckm_research.sem import distributions as stats

    if df <= 0 or not math.isfinite(fmin):
        return float("nan")
    return float(stats.chi2.sf(n * fmin, df))
