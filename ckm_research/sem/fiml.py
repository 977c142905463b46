"""Full-information ML for incomplete data (lavaan ``missing = "ml"``).

The casewise log-likelihood under MAR (Arbuckle, 1996; Enders, 2010, ch. 4)

.. math::

    \\ell(\\theta) = \\sum_i -\\tfrac12\\big[p_i\\log 2\\pi + \\log|\\Sigma_{i}(\\theta)|
        + (y_i - \\mu_i(\\theta))^\\top\\Sigma_i(\\theta)^{-1}(y_i - \\mu_i(\\theta))\\big],

with :math:`\\mu_i, \\Sigma_i` the rows and columns of the observed variables
of case :math:`i`, is maximised with the analytic gradient from
:mod:`ckm_research.sem.missing` chained with the model Jacobian.  The
iterations are Fisher scoring with the complete-data information as the
metric (it only over-states the information by the share of missing cells,
so convergence is fast and monotone with step halving).  Starting values
come from an ML fit to the EM estimates of the saturated moments, which are
needed anyway for the chi-square statistic (the saturated, "h1", model).

Standard errors use the observed information (lavaan's default with
``missing = "ml"``: ``information = "observed"``), the Hessian of
:math:`\\ell` obtained by central differences of the analytic gradient.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ckm_research.errors import ConvergenceError, IdentificationError
from ckm_research.sem import fit_measures as fmx
from ckm_research.sem import missing as mis
from ckm_research.sem.api import BaseEngine
from ckm_research.sem.ml import SampleMoments, fit_ml, ml_information

__all__ = ["FIMLEngine"]


class FIMLEngine(BaseEngine):
    """Casewise (full-information) ML with missing data."""

    label = "ML"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.label = "FIML" if self.opts.estimator == "FIML" else self.opts.estimator
        self.patterns = [mis.MissingPatterns.from_data(gd.data) for gd in self.groups]
        self.h1 = []
        for gd, pat in zip(self.groups, self.patterns, strict=True):
            em = mis.em_saturated(pat)
            self.h1.append(em)
            gd.moments = SampleMoments(gd.data.shape[0], em.sigma, em.mu)
        self._fill_exo()
        self.coverage = [float(np.mean(~np.isnan(gd.data))) for gd in self.groups]

    # ------------------------------------------------------------ likelihood
    def loglik(self, theta: np.ndarray) -> float:
        total = 0.0
        for g, pat in enumerate(self.patterns):
            sigma, mu = self.model.implied(theta, g)
            total += mis.fiml_loglik(pat, mu, sigma)
        return float(total)

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        """Gradient of the log-likelihood in the free parameters."""
        grad = np.zeros(self.model.n_free)
        for g, pat in enumerate(self.patterns):
            pc = self.model.pieces(theta, g)
            g_mu, g_sigma = mis.fiml_gradient(pat, pc["mu"], pc["sigma"])
            rows, X, Y, DMU = self.model.rank2_factors(pc, g)
            # d l / d row = tr(G dSigma) + g_mu' dmu with dSigma = x y' + y x'
            g_rows = 2.0 * np.sum(X * (g_sigma @ Y), axis=0) + DMU.T @ g_mu
            np.add.at(grad, self.model.free[rows] - 1, g_rows)
        return grad

    # -------------------------------------------------------------- estimate
    def estimate(self) -> None:
        moments = [gd.moments for gd in self.groups]
        try:
            theta, _, _ = fit_ml(self.model, moments, max_iter=self.opts.iter_max)
        except ConvergenceError:
            theta = None
        if theta is None:
            from ckm_research.sem.ml import start_values

            theta = start_values(self.model, moments)
        weights = [
            float(pat.n_cases) * cov for pat, cov in zip(self.patterns, self.coverage, strict=True)
        ]
        ll = self.loglik(theta)
        if not np.isfinite(ll):
            raise ConvergenceError(
                "the starting values give a non-positive-definite implied covariance matrix"
            )
        for it in range(1, self.opts.iter_max + 1):
            grad = self.gradient(theta)
            info = ml_information(self.model, theta, weights)
            try:
                step = np.linalg.solve(info, grad)
            except np.linalg.LinAlgError:
                raise IdentificationError(
                    "the model is not identified: the information matrix is singular"
                ) from None
            alpha = 1.0
            while True:
                new = theta + alpha * step
                ll_new = self.loglik(new)
                if np.isfinite(ll_new) and ll_new >= ll - 1e-12 * abs(ll):
                    break
                alpha *= 0.5
                if alpha < 1e-10:
                    break
            if alpha < 1e-10:
                if np.max(np.abs(grad)) / max(1.0, self.ntotal) < 1e-6:
                    break
                raise ConvergenceError(
                    "FIML estimation did not converge (no step improves the likelihood); "
                    "check for Heywood cases or variables with very few observed values"
                )
            done = abs(ll_new - ll) < 1e-11 * (1 + abs(ll)) and np.max(np.abs(alpha * step)) < 1e-7
            theta, ll = new, ll_new
            self.iterations = it
            if done:
                break
        else:
            raise ConvergenceError(
                f"FIML estimation did not converge in {self.opts.iter_max} iterations"
            )
        self.theta = theta
        self.logl = ll

    def observed_information(self, eps: float = 1e-5) -> np.ndarray:
        """Total observed information :math:`-\\partial^2\\ell/\\partial\\theta^2`."""
        theta = self.theta
        q = len(theta)
        H = np.zeros((q, q))
        for k in range(q):
            h = eps * max(1.0, abs(theta[k]))
            tp, tm = theta.copy(), theta.copy()
            tp[k] += h
            tm[k] -= h
            H[:, k] = (self.gradient(tp) - self.gradient(tm)) / (2 * h)
        return -0.5 * (H + H.T)

    def vcov(self) -> np.ndarray:
        info = self.observed_information()
        try:
            return np.linalg.inv(info)
        except np.linalg.LinAlgError:
            raise IdentificationError(
                "the observed information matrix is singular at the solution: the model is not "
                "identified"
            ) from None

    # ---------------------------------------------------------- fit measures
    def sample_moments(self, g: int):
        return self.h1[g].sigma, self.h1[g].mu

    def baseline(self) -> tuple[float, float, float]:
        """Independence model under FIML: each variable's mean and variance
        from its observed values (the likelihood factorises)."""
        logl_b = 0.0
        for gd in self.groups:
            x = gd.data
            for j in range(x.shape[1]):
                col = x[:, j]
                col = col[~np.isnan(col)]
                n = len(col)
                var = np.mean((col - col.mean()) ** 2)
                logl_b += -0.5 * n * (np.log(2 * np.pi) + np.log(var) + 1.0)
        logl_h1 = sum(h.loglik for h in self.h1)
        chisq_b = 2 * (logl_h1 - logl_b)
        p = self.model.n_ov
        df_b = self.ndat() - 2 * p * len(self.groups)
        return float(chisq_b), float(df_b), float(logl_b)

    def fit_measures(self) -> dict[str, float]:
        n = self.ntotal
        G = len(self.groups)
        logl1 = float(sum(h.loglik for h in self.h1))
        logl = self.logl
        chisq = max(2 * (logl1 - logl), 0.0)
        df = float(self.ndat() - self.npar())
        chisq_b, df_b, _ = self.baseline()
        fm: dict[str, float] = {
            "npar": float(self.npar()),
            "fmin": float((logl1 - logl) / n),
            "chisq": chisq,
            "df": df,
            "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
            "baseline.chisq": chisq_b,
            "baseline.df": df_b,
            "baseline.pvalue": float(stats.chi2.sf(chisq_b, df_b)),
            "cfi": fmx.cfi(chisq, df, chisq_b, df_b),
            "tli": fmx.tli(chisq, df, chisq_b, df_b),
        }
        fm["nnfi"] = fm["tli"]
        fm.update(fmx.incremental_indices(chisq, df, chisq_b, df_b))
        fm["logl"] = logl
        fm["unrestricted.logl"] = logl1
        fm.update(fmx.information_criteria(logl, self.npar(), n))
        fm["ntotal"] = float(n)
        fm["rmsea"] = fmx.rmsea(chisq, df, n, G)
        lo, hi = fmx.rmsea_ci(chisq, df, n, 0.90, G)
        fm["rmsea.ci.lower"], fm["rmsea.ci.upper"] = lo, hi
        fm["rmsea.ci.level"] = 0.90
        fm["rmsea.pvalue"] = fmx.rmsea_pvalue(chisq, df, n, 0.05, G)
        fm["rmsea.close.h0"] = 0.05
        fm["rmsea.notclose.pvalue"] = fmx.rmsea_pvalue(chisq, df, n, 0.08, G, notclose=True)
        fm["rmsea.notclose.h0"] = 0.08
        fm.update(self.residual_fit())
        return fm

    def residual_fit(self) -> dict[str, float]:
        from ckm_research.sem.api import MLEngine

        return MLEngine.residual_fit(self)
