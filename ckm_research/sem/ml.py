"""Normal-theory maximum likelihood for complete data.

The discrepancy function minimised is lavaan's (Bollen, 1989, eq. 4.67,
with a mean structure as in Jöreskog & Sörbom's LISREL):

.. math::

    F_{ML}(\\theta) = \\log|\\Sigma| + \\operatorname{tr}(S\\Sigma^{-1})
        - \\log|S| - p + (\\bar y - \\mu)^\\top\\Sigma^{-1}(\\bar y - \\mu),

with :math:`S` the sample covariance matrix using divisor :math:`N`
(lavaan's ``likelihood = "normal"``).  For several groups the objective is
:math:`\\sum_g (N_g/N) F_g`, the chi-square statistic :math:`N F_{ML}` at the
minimum.  It is minimised by Fisher scoring with step halving
(:func:`ckm_research.numerics.minimize`), using the
expected information per case

.. math::

    I_1 = \\tfrac12 \\Delta_\\Sigma^\\top D_p^\\top(\\Sigma^{-1}\\otimes\\Sigma^{-1})
          D_p\\Delta_\\Sigma
        + \\Delta_\\mu^\\top \\Sigma^{-1}\\Delta_\\mu

(Bollen, 1989, p. 134; lavaan's ``lav_model_information_expected``), computed
from the rank-two derivative factors of :mod:`ckm_research.sem.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from ckm_research.errors import ConvergenceError, IdentificationError
from ckm_research.numerics import minimize, structured_bfgs
from ckm_research.sem import fit_measures as fmx
from ckm_research.sem.engine import BaseEngine
from ckm_research.sem.estimators import estimator_spec
from ckm_research.sem.model import RAMModel

if TYPE_CHECKING:
    from ckm_research.sem.robust import MLInputs

__all__ = [
    "SampleMoments",
    "ml_discrepancy",
    "ml_information",
    "fit_ml",
    "start_values",
    "MLEngine",
    "independence_engine",
]


@dataclass(frozen=True)
class SampleMoments:
    """Sample moments of one group (covariance with divisor N).

    ``n`` is the number of cases, or with sampling weights the sum of the
    group's (normalized) weights, lavaan's weighted ``nobs``.
    """

    n: int
    cov: np.ndarray
    mean: np.ndarray

    @classmethod
    def from_data(cls, x: np.ndarray, wt: np.ndarray | None = None) -> SampleMoments:
        """Moments of complete data ``x``; with case weights ``wt`` the weighted
        mean and covariance (divisor :math:`\\sum_i w_i`, which is then ``n``), as
        lavaan's ``sampling.weights`` (``stats::cov.wt(x, wt, method = "ML")``)."""
        x = np.asarray(x, dtype=float)
        if wt is not None:
            wt = np.asarray(wt, dtype=float)
            n_w = float(wt.sum())
            mean = wt @ x / n_w
            xc = x - mean
            return cls(n_w, (xc * wt[:, None]).T @ xc / n_w, mean)
        n = x.shape[0]
        mean = x.mean(axis=0)
        xc = x - mean
        return cls(n, xc.T @ xc / n, mean)

    @cached_property
    def logdet(self) -> float:
        """:math:`\\log|S|` (computed once: every evaluation of the discrepancy needs it)."""
        return np.linalg.slogdet(self.cov)[1]


def _inv_logdet(sigma: np.ndarray):
    try:
        c = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return None, None
    ci = np.linalg.inv(c)
    return ci.T @ ci, 2.0 * np.log(np.diag(c)).sum()


class _GroupTerms:
    """What the discrepancy, its gradient and the information share at one point of
    one group: the implied moments (:meth:`RAMModel.pieces`), :math:`\\Sigma^{-1}`,
    :math:`\\log|\\Sigma|` and the rank-two derivative factors (built when first
    needed)."""

    __slots__ = ("pc", "K", "logdet", "_factors", "_model", "_g")

    def __init__(self, model: RAMModel, theta: np.ndarray, g: int):
        self.pc = model.pieces(theta, g)
        self.K, self.logdet = _inv_logdet(self.pc["sigma"])
        self._factors = None
        self._model, self._g = model, g

    @property
    def factors(self):
        if self._factors is None:
            self._factors = self._model.rank2_factors(self.pc, self._g)
        return self._factors


def _group_terms(model: RAMModel, theta: np.ndarray, g: int) -> _GroupTerms:
    """:class:`_GroupTerms` of ``theta``, kept for the last point of each group: Fisher
    scoring evaluates the information at the point whose discrepancy and gradient it has
    just computed (the values of fixed rows are part of the key: ``_fill_exo`` sets them)."""
    theta = np.asarray(theta, dtype=float)
    key = (theta.tobytes(), model.values.tobytes())
    cache = model.__dict__.setdefault("_ml_terms_cache", {})
    hit = cache.get(g)
    if hit is not None and hit[0] == key:
        return hit[1]
    terms = _GroupTerms(model, theta, g)
    cache[g] = (key, terms)
    return terms


def _free_positions(model: RAMModel, g: int, rows: np.ndarray):
    """The free-parameter positions of group ``g``'s free ``rows`` and their
    ``np.ix_`` grid when each row is a different parameter (then sums over rows are
    plain scatters), else ``None`` (computed once per group)."""
    cache = model.__dict__.setdefault("_ml_free_positions", {})
    if g not in cache:
        idx = model.free[rows] - 1
        cache[g] = (idx, np.ix_(idx, idx)) if len(np.unique(idx)) == len(idx) else None
    return cache[g]


def ml_discrepancy(
    model: RAMModel, theta: np.ndarray, moments: list[SampleMoments], gradient: bool = True
):
    """The ML discrepancy :math:`\\sum_g (N_g/N) F_g` and its gradient.

    Returns ``(f, grad)``; ``f`` is ``inf`` where an implied covariance matrix
    is not positive definite.
    """
    ntot = sum(m.n for m in moments)
    f = 0.0
    grad = np.zeros(model.n_free)
    for g, mom in enumerate(moments):
        terms = _group_terms(model, theta, g)
        pc, K, logdet = terms.pc, terms.K, terms.logdet
        if K is None:
            return np.inf, None
        p = K.shape[0]
        d = mom.mean - pc["mu"] if model.meanstructure else np.zeros(p)
        S = mom.cov
        logdet_s = mom.logdet if isinstance(mom, SampleMoments) else np.linalg.slogdet(S)[1]
        Kd = K @ d
        fg = logdet + np.sum(K * S) - logdet_s - p + d @ Kd
        w = mom.n / ntot
        f += w * fg
        if gradient:
            rows, X, Y, DMU = terms.factors
            G = K - K @ (S + np.outer(d, d)) @ K
            g_rows = 2.0 * np.sum(X * (G @ Y), axis=0) - 2.0 * (DMU.T @ Kd)
            pos = _free_positions(model, g, rows)
            if pos is None:
                np.add.at(grad, model.free[rows] - 1, w * g_rows)
            else:
                grad[pos[0]] += w * g_rows
    return f, (grad if gradient else None)


def ml_information(
    model: RAMModel, theta: np.ndarray, weights: list[float], meanstructure: bool | None = None
) -> np.ndarray:
    """Normal-theory expected information, :math:`\\sum_g w_g I_{1,g}` (per case).

    Parameters
    ----------
    weights : list of float
        Group weights (``N_g / N`` for the averaged information, ``N_g`` for
        the total).
    """
    ms = model.meanstructure if meanstructure is None else meanstructure
    info = np.zeros((model.n_free, model.n_free))
    for g, w in enumerate(weights):
        terms = _group_terms(model, theta, g)
        K = terms.K
        if K is None:
            K = np.linalg.pinv(terms.pc["sigma"])
        rows, X, Y, DMU = terms.factors
        KX, KY = K @ X, K @ Y
        P = X.T @ KX
        Q = Y.T @ KY
        R = X.T @ KY
        I_rows = P * Q + R * R.T
        if ms:
            I_rows = I_rows + DMU.T @ K @ DMU
        pos = _free_positions(model, g, rows)
        if pos is None:
            L = model.row_to_free(rows)
            info += w * (L.T @ I_rows @ L)
        else:  # L is a selection: L' I L scatters I's entries
            info[pos[1]] += w * I_rows
    return info


def start_values(model: RAMModel, moments: list[SampleMoments]) -> np.ndarray:
    """Starting values in the spirit of lavaan's ``start = "simple"`` plus a
    one-factor principal-axis guess of each factor's loadings.

    User ``start()`` values are honoured.
    """
    t = model.table
    # plain arrays, not pandas rows: this runs on every fit
    ops, lhs, rhs = (t[c].to_numpy() for c in ("op", "lhs", "rhs"))
    free, group = t["free"].to_numpy(), t["group"].to_numpy()
    ustart, start = t["ustart"].to_numpy(dtype=float), t["start"].to_numpy(dtype=float)
    theta = np.zeros(model.n_free)
    set_ = np.zeros(model.n_free, dtype=bool)
    pos = {v: i for i, v in enumerate(model.ov)}
    mom = moments[0]
    S = mom.cov
    lv_scale: dict[str, tuple[float, dict[str, float]]] = {}
    loading_rows = (ops == "=~") & (group == 1)
    for lvn in model.lv:
        rows = np.flatnonzero(loading_rows & (lhs == lvn))
        inds = [r for r in rhs[rows] if r in pos]
        if len(inds) < 2:
            lv_scale[lvn] = (1.0, {r: 1.0 for r in inds})
            continue
        idx = [pos[r] for r in inds]
        sub = S[np.ix_(idx, idx)]
        vals, vecs = np.linalg.eigh(sub)
        lam = vecs[:, -1] * np.sqrt(max(vals[-1], 1e-6))
        marker = None
        for i in rows:
            if free[i] == 0 and ustart[i] != 0 and np.isfinite(ustart[i]) and rhs[i] in pos:
                marker = (rhs[i], float(ustart[i]))
                break
        if marker is not None:
            lm = lam[inds.index(marker[0])]
            if abs(lm) < 1e-3:
                lm = 1e-3
            scale = lm / marker[1]
            loadings = {r: lam[k] / scale for k, r in enumerate(inds)}
            psi = scale**2
        else:
            if lam.sum() < 0:
                lam = -lam
            loadings = {r: lam[k] for k, r in enumerate(inds)}
            psi = 1.0
        lv_scale[lvn] = (psi, loadings)
    for i in np.flatnonzero(free > 0):
        k = free[i] - 1
        if set_[k]:
            continue
        g = group[i] - 1
        Sg = moments[g].cov if g < len(moments) else S
        meang = moments[g].mean if g < len(moments) else mom.mean
        op, lh = ops[i], lhs[i]
        if np.isfinite(start[i]):
            val = start[i]
        elif op == "=~":
            val = lv_scale.get(lh, (1.0, {}))[1].get(rhs[i], 1.0)
        elif op == "~~" and lh == rhs[i]:
            if lh in pos:
                val = 0.5 * Sg[pos[lh], pos[lh]]
            else:
                val = lv_scale.get(lh, (0.05, {}))[0]
                if model.partable.std_lv:
                    val = 1.0
        elif op == "~1":
            val = meang[pos[lh]] if lh in pos else 0.0
        else:
            val = 0.0
        theta[k] = val
        set_[k] = True
    return theta


def _nullspace_names(model: RAMModel, info: np.ndarray) -> list[str]:
    u, s, vt = np.linalg.svd(info)
    v = vt[-1]
    idx = np.argsort(-np.abs(v))[:4]
    t = model.table
    names = []
    for k in idx:
        if abs(v[k]) < 1e-3:
            continue
        row = t[t["free"] == k + 1].iloc[0]
        names.append(f"{row['lhs']} {row['op']} {row['rhs']}")
    return names


_PLAIN_SCORING = 4
"""Iterations of plain Fisher scoring before :func:`fit_ml` corrects the information."""


def fit_ml(
    model: RAMModel,
    moments: list[SampleMoments],
    start: np.ndarray | None = None,
    max_iter: int = 500,
    tol: float = 1e-10,
):
    """Minimise the ML discrepancy by Fisher scoring with a structured BFGS correction
    of the information (:func:`ckm_research.numerics.optimize.structured_bfgs`) and
    step halving.

    Returns
    -------
    theta : ndarray
    fmin : float
        The minimum of :math:`\\sum_g (N_g/N) F_g`.
    iterations : int

    Raises
    ------
    IdentificationError
        If the information matrix is singular (the model is not identified).
    ConvergenceError
        If no solution is found within ``max_iter`` iterations.
    """
    theta = start_values(model, moments) if start is None else np.asarray(start, float).copy()
    ntot = sum(m.n for m in moments)
    weights = [m.n / ntot for m in moments]
    f, grad = ml_discrepancy(model, theta, moments)
    if not np.isfinite(f):
        # fall back on safe starting values: unit loadings, half variances
        theta = _safe_start(model, moments)
        f, grad = ml_discrepancy(model, theta, moments)
        if not np.isfinite(f):
            raise ConvergenceError(
                "the starting values give a non-positive-definite implied covariance matrix; "
                "give starting values with start() in the model syntax"
            )

    def objective(x):
        return ml_discrepancy(model, x, moments)

    # Fisher scoring converges linearly when the model does not fit exactly (the
    # expected information lacks the Hessian's residual term: Holzinger-Swineford,
    # chi-square 85 on 24 df, took 30 iterations); a BFGS correction of the
    # information learnt from the gradients (structured BFGS) makes it superlinear
    # (11). The first _PLAIN_SCORING iterations are plain scoring: their long steps
    # from the starting values carry curvature that does not hold near the optimum
    # (corrections learnt from them made the CKM SEM take 13 evaluations instead of 10).
    # ``qn`` holds the correction, the gradient at the last accepted point and the
    # last direction (a step the line search shortened resets the correction).
    qn = {"C": None, "grad": grad, "step": None}

    def scoring(x, f, grad, it, s):
        H = 2.0 * ml_information(model, x, weights)
        grad_prev, qn["grad"] = qn["grad"], grad
        B = None
        if s is not None and not np.array_equal(s, qn["step"]):
            # the line search shortened the last step: the quadratic model was poor
            # there (e.g. near a boundary, from start values far off); start afresh
            qn["C"] = None
        elif s is not None and it > _PLAIN_SCORING:
            B, qn["C"] = structured_bfgs(H, qn["C"], s, grad - grad_prev)
        if B is not None:  # positive definite (structured_bfgs checked)
            step = -np.linalg.solve(B, grad)
        else:
            # away from the solution the information can be singular (e.g. a
            # two-indicator factor while its covariances are still zero): take the
            # minimum-norm step then; identification is judged at the solution
            qn["C"] = None
            step = _scoring_step(H, grad)
            if step is None:
                _raise_unidentified(model, H)
        qn["step"] = step
        return step, float(grad @ step)

    res = minimize(
        objective,
        theta,
        scoring,
        f0=f,
        state0=grad,
        max_iter=max_iter,
        ftol=tol,
        xtol=1e-6,
        armijo=1e-4,
        min_alpha=1e-10,
        stop=lambda x, f, grad: np.max(np.abs(grad)) < 1e-12,
    )
    theta, f, grad, it = res.x, res.fun, res.state, res.nit
    if res.status == "no_descent":
        if np.max(np.abs(grad)) < 1e-6:
            return theta, f, it
        raise ConvergenceError(
            "maximum likelihood estimation did not converge (no step improves the fit). "
            "Check for Heywood cases, give better starting values, or simplify the model."
        )
    if res.status == "converged":
        H = 2.0 * ml_information(model, theta, weights)
        if scaled_cond(H) > 1e12:
            _raise_unidentified(model, H)
        # a tiny step is a minimum only where the full Newton step predicts no further
        # decrease (the Newton decrement g' H^-1 g), not a step cut short
        if grad @ np.linalg.solve(H, grad) > 1e-6 * (1 + abs(f)):
            raise ConvergenceError(
                "maximum likelihood estimation stalled at a point that is not a minimum "
                "(the gradient is not zero there). Check for Heywood cases or empirical "
                "under-identification, rescale variables on very different scales, or "
                "give other starting values."
            )
        return theta, f, it
    raise ConvergenceError(
        f"maximum likelihood estimation did not converge in {max_iter} iterations. "
        "Check the model for Heywood cases or empirical under-identification, or simplify it."
    )


def _scoring_step(H: np.ndarray, grad: np.ndarray) -> np.ndarray | None:
    """Newton step ``-H^{-1} g``; the minimum-norm solution when ``H`` is singular."""
    if scaled_cond(H) < 1e12:
        step = -np.linalg.solve(H, grad)
    else:
        d = _jacobi_scale(H)
        step = -d * np.linalg.lstsq(H * np.outer(d, d), d * grad, rcond=1e-10)[0]
    return step if np.all(np.isfinite(step)) else None


def _jacobi_scale(H: np.ndarray) -> np.ndarray:
    """``1/sqrt(diag(H))`` (1 where the diagonal is not positive)."""
    diag = np.abs(np.diag(H))
    return np.where(diag > 0, 1.0 / np.sqrt(np.where(diag > 0, diag, 1.0)), 1.0)


def scaled_cond(H: np.ndarray) -> float:
    """Condition number of ``H`` after scaling it to a unit diagonal.

    The plain condition number of the information matrix grows with the
    squared ratio of the variables' scales (an item in cents next to items
    in units gives a large one for an identified model); the condition number
    of :math:`D^{-1/2} H D^{-1/2}`, :math:`D = \\operatorname{diag}(H)`, does
    not depend on the units of the parameters, so it tells a singular
    (non-identified) model from a badly scaled one (van der Sluis, 1969: the
    Jacobi scaling is within a factor ``n`` of the best diagonal scaling).
    """
    diag = np.diag(H)
    # (the same value as scaling by _jacobi_scale, in fewer numpy calls: this runs at
    # every scoring iteration)
    if not (np.isfinite(H).all() and (diag > 0).all()):
        return np.inf
    d = 1.0 / np.sqrt(diag)
    Hs = H * np.outer(d, d)
    if np.abs(Hs - Hs.T).max() > 1e-10:  # not an information matrix: the SVD's ratio
        return float(np.linalg.cond(Hs))
    # symmetric: the singular values are the eigenvalues' moduli (eigvalsh costs about
    # half the SVD, and this runs at every scoring iteration)
    ev = np.abs(np.linalg.eigvalsh(Hs))
    lo = ev.min()
    return float(ev.max() / lo) if lo > 0 else np.inf


def _raise_unidentified(model: RAMModel, H: np.ndarray):
    names = _nullspace_names(model, H)
    raise IdentificationError(
        "the model is not identified: the information matrix is singular at the solution. "
        "Parameters involved: " + ", ".join(names) + ". Fix a loading or a variance to set "
        "each factor's scale, or remove redundant parameters."
    )


def _safe_start(model: RAMModel, moments: list[SampleMoments]) -> np.ndarray:
    t = model.table
    theta = np.zeros(model.n_free)
    pos = {v: i for i, v in enumerate(model.ov)}
    for r in t.itertuples(index=False):
        if r.free == 0:
            continue
        S = moments[r.group - 1].cov
        if r.op == "=~":
            theta[r.free - 1] = 1.0
        elif r.op == "~~" and r.lhs == r.rhs:
            theta[r.free - 1] = 0.5 * S[pos[r.lhs], pos[r.lhs]] if r.lhs in pos else 0.05
        elif r.op == "~1" and r.lhs in pos:
            theta[r.free - 1] = moments[r.group - 1].mean[pos[r.lhs]]
    return theta


class MLEngine(BaseEngine):
    """Complete-data normal-theory ML (and MLR)."""

    label = "ML"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.label = self.opts.estimator
        for gd in self.groups:  # weighted with sampling weights (ckm_research.sem.weights)
            gd.moments = SampleMoments.from_data(gd.data, gd.extra.get("sampling_weights"))
        self._fill_exo()

    def estimate(self) -> None:
        self.theta, self.fmin, self.iterations = fit_ml(
            self.model, [gd.moments for gd in self.groups], max_iter=self.opts.iter_max
        )

    def information_expected(self) -> np.ndarray:
        """Total expected information :math:`\\sum_g N_g I_{1,g}`."""
        return ml_information(self.model, self.theta, [float(n) for n in self.n_per_group])

    def vcov(self) -> np.ndarray:
        if self.opts.estimator == "MLR":
            return self.sandwich_vcov()
        if estimator_spec(self.opts.estimator).se == "robust.sem":
            from ckm_research.sem.mlm import robust_sem_vcov

            return robust_sem_vcov(self)
        info = self.information_expected()
        try:
            return np.linalg.inv(info)
        except np.linalg.LinAlgError:
            raise IdentificationError(
                "the information matrix is singular at the solution: the model is not identified"
            ) from None

    # robust (MLR) inference: sem.robust's functions of this engine's inputs ------------
    def ml_inputs(self) -> MLInputs:
        """The model, estimates, data and moments the robust statistics are functions of
        (:class:`ckm_research.sem.robust.MLInputs`)."""
        from ckm_research.sem.robust import MLInputs

        return MLInputs(
            model=self.model,
            theta=self.theta,
            data=[gd.data for gd in self.groups],
            moments=[gd.moments for gd in self.groups],
            meanstructure=self.opts.meanstructure,
            ntotal=self.ntotal,
            exo_index=tuple(self.exo_index()) if self.n_exo() else (),
            weights=[gd.extra.get("sampling_weights") for gd in self.groups],
        )

    def observed_information(self) -> np.ndarray:
        """Observed information per case at the estimates
        (:func:`ckm_research.sem.robust.observed_information`), computed once; set
        ``_obs_info`` to ``None`` after changing ``theta``."""
        if getattr(self, "_obs_info", None) is None:
            from ckm_research.sem.robust import observed_information

            self._obs_info = observed_information(self.ml_inputs())
        return self._obs_info

    def _information_inverse(self):
        """The inverse used under general constraints (``None``: the plain inverse)."""
        return getattr(self, "constrained_inverse", None)

    def sandwich_vcov(self) -> np.ndarray:
        """Huber-White SEs' covariance matrix (:func:`ckm_research.sem.robust.mlr_vcov`)."""
        from ckm_research.sem.robust import mlr_vcov

        return mlr_vcov(self.ml_inputs(), self.observed_information(), self._information_inverse())

    def robust_trace(self) -> tuple[float, float, float]:
        """:math:`\\operatorname{tr}(U\\Gamma)` of the Yuan-Bentler (Mplus) statistic and its
        h1 and h0 parts (:func:`ckm_research.sem.robust.yuan_bentler_trace`)."""
        from ckm_research.sem.robust import yuan_bentler_trace

        return yuan_bentler_trace(
            self.ml_inputs(), self.observed_information(), self._information_inverse()
        )

    def loglik(self) -> tuple[float, float]:
        """Log-likelihood of the model and of the saturated model."""
        logl = logl1 = 0.0
        for g, gd in enumerate(self.groups):
            S, ybar, n = gd.moments.cov, gd.moments.mean, gd.moments.n
            Sig, mu = self.model.implied(self.theta, g)
            p = len(ybar)
            d = ybar - mu if self.opts.meanstructure else np.zeros(p)
            _, ld = np.linalg.slogdet(Sig)
            Ki = np.linalg.inv(Sig)
            logl += -n / 2 * (p * np.log(2 * np.pi) + ld + np.sum(Ki * S) + d @ Ki @ d)
            _, lds = np.linalg.slogdet(S)
            logl1 += -n / 2 * (p * np.log(2 * np.pi) + lds + p)
            # fixed.x: the covariates' marginal likelihood is not part of the model
            # (lavaan subtracts it from both log-likelihoods)
            ix = self.exo_index()
            if self.n_exo():
                _, ldx = np.linalg.slogdet(S[np.ix_(ix, ix)])
                logl_x = -n / 2 * (len(ix) * np.log(2 * np.pi) + ldx + len(ix))
                logl -= logl_x
                logl1 -= logl_x
        return float(logl), float(logl1)

    def exo_index(self) -> list[int]:
        """Positions of the observed exogenous covariates (lavaan's ``ov.x``)."""
        return [self.model.ov.index(v) for v in self.pt.roles.ov_x]

    def baseline(self) -> tuple[float, float]:
        """Chi-square and df of lavaan's independence (baseline) model."""
        chisq = 0.0
        # the covariates' (co)variances stay saturated in the baseline model, fixed
        # at their sample values (fixed.x) or free
        exo_idx = self.exo_index()
        px = len(exo_idx)
        for gd in self.groups:
            S = gd.moments.cov
            Sb = np.diag(np.diag(S))
            if exo_idx:
                Sb[np.ix_(exo_idx, exo_idx)] = S[np.ix_(exo_idx, exo_idx)]
            _, ldb = np.linalg.slogdet(Sb)
            _, lds = np.linalg.slogdet(S)
            F = ldb - lds + np.trace(S @ np.linalg.inv(Sb)) - S.shape[0]
            chisq += gd.moments.n * F
        p = self.model.n_ov
        if self.n_exo():
            npar_b = (p - px) * (2 if self.opts.meanstructure else 1)
        else:
            npar_b = p * (2 if self.opts.meanstructure else 1) + px * (px - 1) // 2
        return float(chisq), float(self.ndat() - npar_b * len(self.groups))

    def fit_measures(self) -> dict[str, float]:
        n = self.ntotal
        G = len(self.groups)
        chisq = float(n * self.fmin)
        df = float(self.ndat() - self.npar())
        if df < 0:
            raise IdentificationError(
                f"the model is not identified: it has {self.npar()} free parameters but only "
                f"{self.ndat()} sample statistics (df = {int(df)}). Fix or remove parameters."
            )
        chisq_b, df_b = self.baseline()
        logl, logl1 = self.loglik()
        fm: dict[str, float] = {"npar": float(self.npar()), "fmin": float(self.fmin / 2)}
        fm.update(
            fmx.chisq_based_measures(
                chisq, df, chisq_b, df_b, n, ngroups=G, npar=self.npar(), logl=logl, logl_h1=logl1
            )
        )
        fm.update(self.residual_fit())
        fm.update(self.gfi(df))
        if self.opts.estimator == "MLR":
            from ckm_research.sem.robust import mlr_fit_measures

            tr_b = independence_engine(self).robust_trace()[0]
            tr = self.robust_trace()[0] if df > 0 else np.nan
            fm.update(mlr_fit_measures(fm, tr, tr_b, n, G))
        elif estimator_spec(self.opts.estimator).se == "robust.sem":
            from ckm_research.sem.mlm import mlm_fit_measures

            fm.update(mlm_fit_measures(self, fm))
        return fm

    def gfi(self, df: float) -> dict[str, float]:
        """GFI/AGFI/PGFI with the normal-theory weight at the implied moments,
        group-weighted by N_g/N as lavaan."""
        from ckm_research.sem.model import vech_indices
        from ckm_research.sem.robust import h1_information_expected

        ms = self.opts.meanstructure
        out = {"gfi": 0.0}
        nel = 0
        keep = self.non_exo_mask()  # fixed-x moments are not part of the fit
        for g in range(len(self.groups)):
            S, ybar = self.sample_moments(g)
            Sig, mu = self.model.implied(self.theta, g)
            if keep.all():
                # without fixed-x moments the quadratic forms of the weight
                # V = 1/2 D'(K x K)D (+ K for the means), K = Sigma^-1, are traces:
                # e'Ve = 1/2 tr((K E)^2) + d'K d for the residuals E = S - Sigma,
                # d = ybar - mu (Magnus & Neudecker, 1999, ch. 18), without forming V
                # (p* x p*: 1431 x 1431 for 53 items)
                K = np.linalg.inv(Sig)
                KE, KS = K @ (S - Sig), K @ S
                num, den = 0.5 * np.sum(KE * KE.T), 0.5 * np.sum(KS * KS.T)
                if ms:
                    d = ybar - mu
                    num, den = num + d @ K @ d, den + ybar @ K @ ybar
                p = len(ybar)
                nel += p * (p + 1) // 2 + (p if ms else 0)
                out["gfi"] += self.n_per_group[g] / self.ntotal * float(1.0 - num / den)
                continue
            ri, ci = vech_indices(len(ybar))
            obs, est = S[ri, ci], Sig[ri, ci]
            if ms:
                obs, est = np.concatenate([ybar, obs]), np.concatenate([mu, est])
            V = h1_information_expected(Sig, ms)
            nel += len(obs)
            obs, est, V = obs[keep], est[keep], V[np.ix_(keep, keep)]
            one = fmx.gfi(obs, est, V, df)
            out["gfi"] += self.n_per_group[g] / self.ntotal * one["gfi"]
        g_ = out["gfi"]
        out["agfi"] = 1.0 - (nel / df) * (1.0 - g_) if df > 0 else 1.0
        out["pgfi"] = (df / nel) * g_
        return out

    def residual_fit(self) -> dict[str, float]:
        """RMR, SRMR (Bentler) and CRMR, averaged over groups by N_g/N as lavaan does."""
        acc: dict[str, float] = {}
        for g in range(len(self.groups)):
            S, ybar = self.sample_moments(g)
            Sig, mu = self.model.implied(self.theta, g)
            w = self.n_per_group[g] / self.ntotal
            ms = self.opts.meanstructure
            args = (S, Sig, ybar, mu) if ms else (S, Sig)
            for name, fn in (
                ("rmr", fmx.rmr),
                ("srmr_bentler", fmx.srmr_bentler),
                ("crmr", fmx.crmr),
                ("srmr_mplus", fmx.srmr_mplus),
            ):
                v, v0 = fn(*args)
                acc[name] = acc.get(name, 0.0) + w * v
                acc[name + "_nomean"] = acc.get(name + "_nomean", 0.0) + w * v0
        acc["srmr"] = acc["srmr_bentler"]
        return acc


def independence_engine(engine: BaseEngine) -> MLEngine:
    """The independence (baseline) model of ``engine``'s model, fitted by ML to the same
    data with the same options: the model of lavaan's baseline test, whose Yuan-Bentler
    and Satorra-Bentler traces the scaled baseline statistics need."""
    import dataclasses

    from ckm_research.sem.partable import build_partable

    ov = list(engine.model.ov)
    ox = list(engine.pt.roles.ov_x)
    # the syntax is written with plain stand-in names: observed product terms
    # ("x1:x2") are variables here but not names the parser accepts on the left
    alias = {v: f"v{i}" for i, v in enumerate(ov)}
    back = {a: v for v, a in alias.items()}
    lines = [f"{alias[v]} ~~ {alias[v]}" for v in ov]
    # the covariates' block stays saturated: free, or fixed at the sample values (fixed.x)
    lines += [f"{alias[a]} ~~ {alias[b]}" for i, a in enumerate(ox) for b in ox[i + 1 :]]
    pt = build_partable(
        "\n".join(lines), ngroups=len(engine.groups), meanstructure=engine.opts.meanstructure
    )
    for col in ("lhs", "rhs"):
        pt.table[col] = [back.get(v, v) for v in pt.table[col]]
    pt.roles = dataclasses.replace(
        pt.roles,
        **{
            f.name: tuple(back.get(v, v) for v in getattr(pt.roles, f.name))
            for f in dataclasses.fields(pt.roles)
        },
    )
    if engine.n_exo():
        t = pt.table
        # the covariates' (co)variances and, with a mean structure, their means
        exo = t["lhs"].isin(ox) & ((t["op"] == "~1") | ((t["op"] == "~~") & t["rhs"].isin(ox)))
        t.loc[exo, ["free", "exo"]] = [0, 1]
        free = t["free"].to_numpy()
        order = {k: i + 1 for i, k in enumerate(sorted(set(free[free > 0])))}
        t["free"] = [order.get(f, 0) for f in free]
        pt.roles = dataclasses.replace(pt.roles, ov_x=tuple(ox))
    base = MLEngine(pt, engine.groups, engine.opts, [])
    base.estimate()
    return base
