"""FIML refits of bootstrap resamples from weighted missing-data pattern moments.

A bootstrap resample is the original cases with multiplicities :math:`c_i`
(how often case :math:`i` was drawn), so its casewise (FIML) log-likelihood
(Arbuckle, 1996; Little & Rubin, 2002, section 11.2) is the weighted sum

.. math::

    \\ell^*(\\theta) = \\sum_i c_i\\,\\ell_i(\\theta)
        = -\\tfrac12 \\sum_k \\big[n_k p_k \\log 2\\pi + n_k\\log|\\Sigma_k|
          + \\operatorname{tr}\\{\\Sigma_k^{-1}(S_k + n_k d_k d_k^\\top)\\}\\big]

over the missing-data patterns :math:`k` of the full sample, with
:math:`\\Sigma_k, \\mu_k` the rows and columns of the observed variables,
:math:`n_k = \\sum_{i\\in k} c_i`, the weighted pattern mean :math:`\\bar y_k`,
:math:`d_k = \\bar y_k - \\mu_k` and the weighted scatter :math:`S_k` (lavaan's
pattern statistics ``Yp[[k]]`` of ``lav_samplestats_missing_patterns``, here
weighted).  Patterns and their index arrays are found once; a resample only
recomputes :math:`n_k, \\bar y_k, S_k` (one pass over the cases), and every
likelihood evaluation costs one Cholesky factor per pattern, whatever N.  The
gradient is lavaan's ``lav_mvnorm_missing_dlogl_dSigma`` per pattern,

.. math::

    \\frac{\\partial\\ell^*}{\\partial\\Sigma_k} = \\tfrac12\\big[\\Sigma_k^{-1}
        (S_k + n_k d_k d_k^\\top)\\Sigma_k^{-1} - n_k\\Sigma_k^{-1}\\big],\\qquad
    \\frac{\\partial\\ell^*}{\\partial\\mu_k} = n_k\\Sigma_k^{-1} d_k,

chained with the model's derivatives as :class:`ckm_research.sem.fiml.FIMLEngine`
does.  The refit is a quasi-Newton iteration warm-started at the full-sample
estimates: its first metric is the full-sample observed information (the one
the FIML standard errors use), then BFGS updates of its inverse (Nocedal &
Wright, 2006, eq. 6.17) with step halving (:func:`ckm_research.numerics.minimize`).
The resample's Hessian differs from the full sample's by
:math:`O(N^{-1/2})`, so a handful of iterations reach the resample's maximum.
The result is the maximum of the same likelihood that :func:`ckm_research.fit`
maximises on the resampled data (``missing = "ml"``), without re-parsing the
model, finding the patterns again, the EM saturated model, standard errors or
fit measures.

Supported: FIML (``missing = "ml"``, ``estimator = "ML"``/``"MLR"``/``"FIML"``)
with one or more groups and equality constraints between labels; not with
fixed-x covariates (their moments follow the resample), sampling weights,
general (in)equality constraints or standardized data
(:func:`ckm_research.inference.bootstrap.bootstrap` refits those with
:func:`ckm_research.fit`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ckm_research.errors import CkmError, ConvergenceError, IdentificationError
from ckm_research.numerics import minimize, numerical_hessian
from ckm_research.sem.model import RAMModel
from ckm_research.sem.partable import ParTable

__all__ = ["FIMLRefitter", "PatternBatches", "weighted_products"]

_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class _Batch:
    """Incomplete patterns with the same number ``k`` of missing variables."""

    patterns: np.ndarray  # (g,) pattern ids
    miss: np.ndarray  # (g, k) missing variables of each pattern
    starts: np.ndarray  # (g,) first position of each pattern's cases in ``cases``
    cases: np.ndarray  # (n_b,) case ids, sorted by pattern


@dataclass(frozen=True)
class PatternStats:
    """Weighted pattern moments of one resample (one group).

    ``n`` (n_patterns,) weighted counts; ``mean`` (n_patterns, p) weighted
    means of the observed variables (0 where missing); ``scatter_sum`` (p, p)
    the sum over the patterns of the weighted scatter about the pattern means
    (0 in the missing rows and columns); ``scatter`` per incomplete batch the
    (g, p, p) scatter matrices of its patterns."""

    n: np.ndarray
    mean: np.ndarray
    scatter_sum: np.ndarray
    scatter: tuple[np.ndarray, ...]


class PatternBatches:
    """The missing-data patterns of one group's data.

    Parameters
    ----------
    data : ndarray, shape (n, p)
        The group's non-empty cases (``NaN`` where missing), as
        :attr:`ckm_research.sem.missing.MissingPatterns.data`.
    """

    def __init__(self, data: np.ndarray):
        data = np.asarray(data, dtype=float)
        obs = ~np.isnan(data)
        if not obs.any(axis=1).all():
            raise CkmError("PatternBatches: a case has no observed value (drop empty cases first)")
        self.n_cases, self.p = data.shape
        masks, case_pattern = np.unique(obs, axis=0, return_inverse=True)
        self.case_pattern = case_pattern.reshape(-1)
        self.masks = masks
        self.n_patterns = masks.shape[0]
        self.n_obs = masks.sum(axis=1)
        counts = np.bincount(self.case_pattern, minlength=self.n_patterns)
        x0 = np.where(obs, data, 0.0)
        # centre each case at its pattern's unweighted mean (numerical accuracy)
        self.centre = np.add.reduceat(
            x0[np.argsort(self.case_pattern, kind="stable")],
            np.concatenate(([0], np.cumsum(counts)[:-1])),
            axis=0,
        )
        self.centre = np.where(masks, self.centre / counts[:, None], 0.0)
        self.x = x0 - self.centre[self.case_pattern]
        self.observed = obs
        self.indicator = (self.case_pattern[None, :] == np.arange(self.n_patterns)[:, None]).astype(
            float
        )
        k_miss = self.p - self.n_obs
        batches = []
        for k in np.unique(k_miss[k_miss > 0]):
            pats = np.flatnonzero(k_miss == k)
            cases = np.flatnonzero(np.isin(self.case_pattern, pats))
            local = np.searchsorted(pats, self.case_pattern[cases])
            order = np.argsort(local, kind="stable")
            cases = cases[order]
            c = np.bincount(local, minlength=len(pats))
            starts = np.concatenate(([0], np.cumsum(c)[:-1]))
            miss = np.array([np.flatnonzero(~masks[j]) for j in pats]).reshape(len(pats), k)
            batches.append(_Batch(pats, miss, starts, cases))
        self.batches = tuple(batches)

    def stats(self, weights: np.ndarray, data: np.ndarray | None = None) -> PatternStats:
        """Weighted pattern moments for case weights ``weights`` (n,); ``data``:
        new values of the same cases with the same missing cells (product
        indicators recomputed for the resample)."""
        w = np.asarray(weights, dtype=float)
        if data is not None:
            self.x = np.where(self.observed, data, 0.0) - self.centre[self.case_pattern]
        n = np.bincount(self.case_pattern, weights=w, minlength=self.n_patterns)
        wx = w[:, None] * self.x
        s1 = self.indicator @ wx
        e = s1 / np.where(n > 0, n, 1.0)[:, None]  # weighted mean of the centred values
        mean = np.where(self.masks, self.centre + e, 0.0)
        total = self.x.T @ wx - (e * n[:, None]).T @ e
        scatter = []
        for b in self.batches:
            ends = np.append(b.starts[1:], len(b.cases))
            s2 = np.empty((len(b.patterns), self.p, self.p))
            for j, (lo, hi) in enumerate(zip(b.starts, ends, strict=True)):
                rows = b.cases[lo:hi]
                s2[j] = self.x[rows].T @ wx[rows]
            eb, nb = e[b.patterns], n[b.patterns]
            scatter.append(s2 - nb[:, None, None] * eb[:, :, None] * eb[:, None, :])
        return PatternStats(n, mean, 0.5 * (total + total.T), tuple(scatter))

    def check_observed(self, weights: np.ndarray, names) -> None:
        """Raise (as :func:`ckm_research.fit` would on the resampled data) when a
        variable has no observed value among the cases with positive weight."""
        seen = (weights[:, None] > 0) & self.observed
        never = np.flatnonzero(~seen.any(axis=0))
        if never.size:
            which = ", ".join(str(names[j]) for j in never[:5])
            raise CkmError(f"Variable(s) {which} have no observed value in this resample")


def weighted_products(x: np.ndarray, columns, weights: np.ndarray) -> np.ndarray:
    """``x`` with its double-mean-centred product indicators recomputed for case
    weights ``weights``: each item centred at its weighted mean over its
    observed values, the products (missing where an item is) centred at their
    weighted mean, as
    :func:`ckm_research.moderation.product_indicators.double_mean_centered_products`
    computes them on the resampled data.  ``columns``: (product, left item,
    right item) positions."""
    x = np.array(x, dtype=float, copy=True)
    w = np.asarray(weights, dtype=float)

    def wmean(v):
        ok = ~np.isnan(v)
        return (w[:, None] * np.where(ok, v, 0.0)).sum(axis=0) / (w[:, None] * ok).sum(axis=0)

    prod = np.array([c[0] for c in columns])
    left = np.array([c[1] for c in columns])
    right = np.array([c[2] for c in columns])
    pr = (x[:, left] - wmean(x[:, left])) * (x[:, right] - wmean(x[:, right]))
    x[:, prod] = pr - wmean(pr)
    return x


def _small_inverse(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverses and log-determinants of a stack of small SPD matrices; raises
    ``LinAlgError`` when one is not positive definite."""
    if h.shape[1] == 1:
        if np.any(h <= 0) or not np.all(np.isfinite(h)):
            raise np.linalg.LinAlgError("not positive definite")
        return 1.0 / h, np.log(h[:, 0, 0])
    chol = np.linalg.cholesky(h)
    d = np.diagonal(chol, axis1=1, axis2=2)
    if np.any(d <= 0) or not np.all(np.isfinite(d)):
        raise np.linalg.LinAlgError("not positive definite")
    inv = np.linalg.inv(h)
    return 0.5 * (inv + np.swapaxes(inv, 1, 2)), 2.0 * np.log(d).sum(axis=1)


class FIMLRefitter:
    """Maximise the FIML log-likelihood of many weighted versions of the same data.

    Parameters
    ----------
    pt : ParTable
        The model's parameter table (no fixed-x covariates).
    data : list of ndarray
        Per group, the non-empty cases in model-variable order (``NaN`` missing).
    start : ndarray
        The full-sample estimates (every refit starts there).
    information : ndarray, optional
        The full-sample observed information :math:`-\\partial^2\\ell/
        \\partial\\theta^2` (total, not per case) at ``start``; computed by
        central differences of the analytic gradient when not given.
    information_inverse : ndarray, optional
        Its inverse, when known (then ``information`` is not used).
    max_iter : int
        Iterations before :class:`~ckm_research.errors.ConvergenceError`.
    xtol : float
        Convergence: the largest quasi-Newton step below ``xtol``.
    """

    def __init__(
        self,
        pt: ParTable,
        data: list[np.ndarray],
        start: np.ndarray,
        information: np.ndarray | None = None,
        *,
        max_iter: int = 200,
        xtol: float = 1e-7,
        information_inverse: np.ndarray | None = None,
    ):
        self.pt = pt
        self.model = RAMModel(pt)
        self.q = self.model.n_free
        self.groups = [PatternBatches(x) for x in data]
        self.start = np.asarray(start, dtype=float).copy()
        self.max_iter = int(max_iter)
        self.xtol = float(xtol)
        t = pt.table
        self._var_rows = (t["op"].to_numpy() == "~~") & (t["lhs"].to_numpy() == t["rhs"].to_numpy())
        full = [np.ones(g.n_cases) for g in self.groups]
        if information is None and information_inverse is None:
            stats = [g.stats(w) for g, w in zip(self.groups, full, strict=True)]
            information = -numerical_hessian(
                lambda th: -self._evaluate(th, stats, True)[1], self.start, 1e-5
            )
        if information_inverse is not None:  # e.g. the fit's own (FIMLEngine._info_inverse)
            self.h0_inv = np.asarray(information_inverse, dtype=float)
            return
        information = 0.5 * (information + information.T)
        try:
            self.h0_inv = np.linalg.inv(information)
        except np.linalg.LinAlgError:
            raise IdentificationError(
                "the observed information matrix is singular at the estimates: the model is "
                "not identified"
            ) from None

    # ------------------------------------------------------------------ likelihood
    def _evaluate(self, theta, stats: list[PatternStats], derivatives: bool):
        """``(-loglik, -gradient)`` of the weighted data; ``(inf, None)`` where an
        implied covariance matrix is not positive definite.

        Each pattern's :math:`\\Sigma_k^{-1}`, padded with zeros, is the rank-k
        downdate :math:`P - U_k H_k^{-1} U_k^\\top` of :math:`P = \\Sigma^{-1}`
        with :math:`U_k` the columns of the k missing variables and
        :math:`H_k` their block of :math:`P` (Harville, 1997, ch. 8), and
        :math:`\\log|\\Sigma_k| = \\log|\\Sigma| + \\log|H_k|`; the sums over the
        patterns are then formed with p x p products only."""
        model = self.model
        f = 0.0
        grad = np.zeros(self.q) if derivatives else None
        for g, (pb, st) in enumerate(zip(self.groups, stats, strict=True)):
            pc = model.pieces(theta, g)
            sigma, mu = pc["sigma"], pc["mu"]
            p = sigma.shape[0]
            try:
                c = np.linalg.cholesky(sigma)
            except np.linalg.LinAlgError:
                return np.inf, None
            if not np.all(np.isfinite(c)):
                return np.inf, None
            ld_sigma = 2.0 * float(np.log(np.diag(c)).sum())
            ci = np.linalg.inv(c)
            P = ci.T @ ci
            n = st.n
            D = np.where(pb.masks, st.mean - mu, 0.0)
            nD = n[:, None] * D
            T = st.scatter_sum + D.T @ nD
            ntot = float(n.sum())
            f_log = float(n @ pb.n_obs) * _LOG_2PI + ntot * ld_sigma
            tr = float(np.sum(P * T))
            Bs, As, BAUs, nUs, nUds = [], [], [], [], []
            for b, S in zip(pb.batches, st.scatter, strict=True):
                nb, d = n[b.patterns], D[b.patterns]
                Ut = P[b.miss]  # (g, k, p)
                H = P[b.miss[:, :, None], b.miss[:, None, :]]
                try:
                    Hinv, ldH = _small_inverse(H)
                except np.linalg.LinAlgError:
                    return np.inf, None
                f_log += float(nb @ ldH)
                Ud = np.einsum("gkp,gp->gk", Ut, d)
                A = Ut @ S + (nb[:, None] * Ud)[:, :, None] * d[:, None, :]  # U' T_k
                U = np.swapaxes(Ut, 1, 2)
                AU = A @ U
                tr -= float(np.sum(Hinv * AU))
                if derivatives:
                    B = U @ Hinv  # (g, p, k)
                    kk = B.shape[0] * B.shape[2]
                    Bs.append(np.swapaxes(B, 0, 1).reshape(p, kk))
                    As.append(A.reshape(kk, p))
                    BAUs.append(np.swapaxes(B @ AU, 0, 1).reshape(p, kk))
                    nUs.append((nb[:, None, None] * Ut).reshape(kk, p))
                    nUds.append((nb[:, None] * Ud).reshape(kk))
            if derivatives and Bs:
                # sums over the patterns of B_k A_k, B_k (A_k U_k) B_k', n_k B_k U_k' and
                # n_k B_k U_k' d_k as products of the stacked columns
                Bc = np.hstack(Bs)
                Z = Bc @ np.vstack(As)
                W = np.hstack(BAUs) @ Bc.T
                nBU = Bc @ np.vstack(nUs)
                gmu_corr = Bc @ np.concatenate(nUds)
            elif derivatives:
                Z = W = nBU = np.zeros((p, p))
                gmu_corr = np.zeros(p)
            f += 0.5 * (f_log + tr)
            if derivatives:
                PT = P @ T
                ZP = Z @ P
                M = PT @ P - ZP - ZP.T + W
                G = 0.5 * (M - (ntot * P - nBU))
                G = 0.5 * (G + G.T)
                g_mu = P @ nD.sum(axis=0) - gmu_corr
                rows, X, Y, DMU = model.rank2_factors(pc, g)
                g_rows = 2.0 * np.sum(X * (G @ Y), axis=0) + DMU.T @ g_mu
                np.add.at(grad, model.free[rows] - 1, -g_rows)
        return f, grad

    def loglik(self, theta: np.ndarray, weights: list[np.ndarray]) -> float:
        """The weighted FIML log-likelihood :math:`\\sum_i c_i \\ell_i(\\theta)`."""
        stats = [g.stats(np.asarray(w, float)) for g, w in zip(self.groups, weights, strict=True)]
        return -self._evaluate(theta, stats, False)[0]

    def gradient(self, theta: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
        """Its gradient in the free parameters."""
        stats = [g.stats(np.asarray(w, float)) for g, w in zip(self.groups, weights, strict=True)]
        return -self._evaluate(theta, stats, True)[1]

    # ------------------------------------------------------------------ refit
    def fit(self, weights: list[np.ndarray], data=None) -> tuple[np.ndarray, float, int]:
        """Estimates, log-likelihood and iterations for case weights ``weights``
        (per group, one weight per non-empty case: the bootstrap counts);
        ``data``, per group, new values of the cases with the same missing
        cells (double-mean-centred product indicators of the resample).

        Raises
        ------
        ConvergenceError
            When no step improves the likelihood or ``max_iter`` is reached.
        CkmError
            When a variable has no observed value among the drawn cases.
        """
        ws = [np.asarray(w, dtype=float) for w in weights]
        for pb, w in zip(self.groups, ws, strict=True):
            pb.check_observed(w, self.model.ov)
        data = [None] * len(ws) if data is None else data
        stats = [pb.stats(w, x) for pb, w, x in zip(self.groups, ws, data, strict=True)]
        f0, g0 = self._evaluate(self.start, stats, True)
        if not np.isfinite(f0):  # pragma: no cover - the estimates give a PD Sigma
            raise ConvergenceError("the starting values give a non-positive-definite Sigma")
        qn = {"H": self.h0_inv.copy(), "g": None, "step": None}

        def objective(x):
            return self._evaluate(x, stats, True)

        def direction(x, f, grad, it, s):
            H = qn["H"]
            if s is not None:
                y = grad - qn["g"]
                sy = float(s @ y)
                if sy > 1e-12 * float(np.sqrt((s @ s) * (y @ y))):
                    # BFGS update of the inverse Hessian (Nocedal & Wright, eq. 6.17)
                    rho = 1.0 / sy
                    Hy = H @ y
                    H = (
                        H
                        - rho * (np.outer(s, Hy) + np.outer(Hy, s))
                        + (rho * rho * float(y @ Hy) + rho) * np.outer(s, s)
                    )
                    qn["H"] = H
            step = -H @ grad
            slope = float(grad @ step)
            if slope >= 0:  # lost positive definiteness: back to the observed information
                qn["H"] = H = self.h0_inv.copy()
                step = -H @ grad
                slope = float(grad @ step)
            qn["g"] = grad
            qn["step"] = step
            return step, slope

        res = minimize(
            objective,
            self.start.copy(),
            direction,
            f0=f0,
            state0=g0,
            max_iter=self.max_iter,
            ftol=0.0,
            xtol=self.xtol,
            armijo=1e-4,
            slack=1e-13,
            min_alpha=1e-10,
            stop=lambda x, f, grad: float(np.max(np.abs(qn["H"] @ grad))) < self.xtol,
        )
        if res.status == "converged":
            return res.x, -res.fun, res.nit
        if res.status == "no_descent" and float(np.max(np.abs(qn["H"] @ res.state))) < 1e-7:
            return res.x, -res.fun, res.nit  # at the maximum within rounding
        if res.status == "no_descent":
            raise ConvergenceError("FIML refit: no step improves the likelihood")
        raise ConvergenceError(f"FIML refit did not converge in {self.max_iter} iterations")

    # ------------------------------------------------------------------ outputs
    def row_values(self, theta: np.ndarray) -> np.ndarray:
        return self.model.row_values(theta)

    def has_negative_variance(self, row_values: np.ndarray) -> bool:
        """A Heywood case: a negative (residual) variance estimate."""
        return bool(np.any(row_values[self._var_rows] < 0))
