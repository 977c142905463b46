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
import pandas as pd

from ckm_research.errors import ConvergenceError, IdentificationError
from ckm_research.numerics import minimize, numerical_hessian, spd_inverse
from ckm_research.numerics.forked import default_jobs
from ckm_research.sem import fit_measures as fmx
from ckm_research.sem import missing as mis
from ckm_research.sem.engine import BaseEngine
from ckm_research.sem.ml import SampleMoments, fit_ml, ml_information

__all__ = ["FIMLEngine"]


class FIMLEngine(BaseEngine):
    """Casewise (full-information) ML with missing data."""

    label = "ML"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.label = self.opts.label  # "FIML" when fit() was given the alias
        self.patterns = [mis.MissingPatterns.from_data(gd.data) for gd in self.groups]
        self.h1 = []
        for gd, pat in zip(self.groups, self.patterns, strict=True):
            em = mis.em_saturated(pat)
            self.h1.append(em)
            gd.moments = SampleMoments(gd.data.shape[0], em.sigma, em.mu)
        self._fill_exo()
        self.coverage = [float(np.mean(~np.isnan(gd.data))) for gd in self.groups]

    def exo_index(self) -> list[int]:
        """Positions of the fixed observed exogenous covariates (lavaan's ``x.idx``;
        empty with ``fixed_x=False``)."""
        if not self.n_exo():
            return []
        return [self.model.ov.index(v) for v in self.pt.roles.ov_x]

    def _covariate_index(self) -> list[int]:
        """Positions of the observed exogenous covariates, fixed or not."""
        return [self.model.ov.index(v) for v in self.pt.roles.ov_x]

    def _x_data(self, g: int) -> np.ndarray:
        return self.groups[g].data[:, self._covariate_index()]

    def _baseline_x(self, g: int) -> tuple[np.ndarray, np.ndarray, float]:
        """Means, covariance matrix and FIML log-likelihood of the covariates' block
        of the independence model: fixed at the sample moments (``fixed_x=True``)
        or saturated and estimated (``fixed_x=False``, by EM on the covariates)."""
        pat = mis.MissingPatterns.from_data(self._x_data(g), warn=False)
        if self.exo_index():
            mu, sigma = self._x_sample_moments(g)
            return mu, sigma, mis.fiml_loglik(pat, mu, sigma)
        em = mis.em_saturated(pat)
        return em.mu, em.sigma, float(em.loglik)

    def _x_sample_moments(self, g: int) -> tuple[np.ndarray, np.ndarray]:
        """The covariates' sample means and covariance matrix as lavaan's sample
        statistics hold them with ``missing = "ml"/"ml.x"`` (``cov.x``): means of
        the observed values, pairwise-complete covariances rescaled by
        :math:`(N-1)/N` (with no missing covariate, the ML sample moments)."""
        x = pd.DataFrame(self._x_data(g))
        n = x.shape[0]
        return x.mean().to_numpy(), x.cov().to_numpy() * (n - 1) / n

    def _x_loglik(self) -> tuple[float, float]:
        """The covariates' own log-likelihood that lavaan removes from the model's and
        from the saturated model's log-likelihood when ``fixed.x = TRUE``
        (``lav_mvnorm_missing_loglik_samplestats`` with ``x.idx``; ``lav_h1_logl``):
        the complete-data saturated log-likelihood of N cases at the covariates'
        EM covariance matrix (model) and at their sample covariance matrix ``cov.x``
        (saturated model).  Both are the same unless covariates are missing
        (``missing = "ml.x"``)."""
        ix = self.exo_index()
        if not ix:
            return 0.0, 0.0
        h0 = h1 = 0.0
        for g, gd in enumerate(self.groups):
            n = gd.data.shape[0]
            h0 += _saturated_loglik(self.h1[g].sigma[np.ix_(ix, ix)], n)
            h1 += _saturated_loglik(self._x_sample_moments(g)[1], n)
        return h0, h1

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
            pat.n_weighted * cov for pat, cov in zip(self.patterns, self.coverage, strict=True)
        ]
        ll = self.loglik(theta)
        if not np.isfinite(ll):
            raise ConvergenceError(
                "the starting values give a non-positive-definite implied covariance matrix"
            )
        last = {}

        def scoring(x, f, state, it, s):
            # scoring step on the log-likelihood, with the complete-data expected
            # information weighted by each pattern's coverage
            grad = last["grad"] = self.gradient(x)
            info = ml_information(self.model, x, weights)
            try:
                return np.linalg.solve(info, grad), None
            except np.linalg.LinAlgError:
                raise IdentificationError(
                    "the model is not identified: the information matrix is singular"
                ) from None

        # minimise -loglik; a step may raise it by a rounding-level 1e-12 |loglik|
        res = minimize(
            lambda x: (-self.loglik(x), None),
            theta,
            scoring,
            f0=-ll,
            max_iter=self.opts.iter_max,
            ftol=1e-11,
            xtol=1e-7,
            armijo=0.0,
            slack=1e-12,
            min_alpha=1e-10,
        )
        if res.status == "max_iter":
            raise ConvergenceError(
                f"FIML estimation did not converge in {self.opts.iter_max} iterations"
            )
        if res.status == "no_descent":
            if np.max(np.abs(last["grad"])) / max(1.0, self.ntotal) >= 1e-6:
                raise ConvergenceError(
                    "FIML estimation did not converge (no step improves the likelihood); "
                    "check for Heywood cases or variables with very few observed values"
                )
            self.iterations = res.nit - 1
        else:
            self.iterations = res.nit
        theta, ll = res.x, -res.fun
        self.theta = theta
        self.logl = ll

    def observed_information(self, eps: float = 1e-5) -> np.ndarray:
        """Total observed information :math:`-\\partial^2\\ell/\\partial\\theta^2`."""
        # a large model's columns go to 2 forked processes (same numbers): the CKM
        # moderation model's 878 parameters need 1,756 gradients
        jobs = default_jobs(len(self.theta), threshold=150)
        return -numerical_hessian(self.gradient, self.theta, eps, n_jobs=jobs)

    def information_inverse(self) -> np.ndarray:
        """Inverse of the total observed information at the estimates (computed once
        and kept): the ML covariance matrix, the bread of the MLR sandwich."""
        return self._info_inverse()

    def _info_inverse(self) -> np.ndarray:
        if getattr(self, "_ainv", None) is None:
            try:
                self._ainv = np.linalg.inv(self.observed_information())
            except np.linalg.LinAlgError:
                raise IdentificationError(
                    "the observed information matrix is singular at the solution: the model is "
                    "not identified"
                ) from None
        return self._ainv

    def model_scores(self) -> list[np.ndarray]:
        """Casewise scores wrt the free parameters at the estimates, per group."""
        out = []
        for g, pat in enumerate(self.patterns):
            sigma, mu = self.model.implied(self.theta, g)
            s = mis.fiml_casewise_scores(pat, mu, sigma)
            out.append(s @ self.model.jacobian(self.theta, g, meanstructure=True))
        return out

    def vcov(self) -> np.ndarray:
        """Observed-information covariance matrix (ML), or the Huber-White
        sandwich :math:`A^{-1}BA^{-1}` with FIML casewise scores (MLR; Yuan &
        Bentler, 2000; lavaan ``se = "robust.huber.white"``)."""
        ainv = self._info_inverse()
        if self.opts.estimator != "MLR":
            return ainv
        B = sum(z.T @ z for z in self.model_scores())
        return ainv @ B @ ainv

    # ---------------------------------------------------------- fit measures
    def sample_moments(self, g: int):
        return self.h1[g].sigma, self.h1[g].mu

    def baseline(self) -> tuple[float, float, float]:
        """Independence model under FIML: each variable's mean and variance
        from its observed values (the likelihood factorises).  Fixed covariates
        keep their block, fixed at their sample moments (lavaan's
        ``lav_partable_independence`` with ``fixed.x = TRUE``) or saturated
        (``fixed.x = FALSE``), so their part of the likelihood is the FIML
        log-likelihood of the covariates at those moments or at their EM
        estimates."""
        ix = self._covariate_index()
        logl_b = 0.0
        for g in range(len(self.groups)):
            _, var, count = self._column_moments(g)
            for j in range(len(var)):
                if j not in ix:
                    logl_b += -0.5 * count[j] * (np.log(2 * np.pi) + np.log(var[j]) + 1.0)
            if ix:
                logl_b += self._baseline_x(g)[2]
        logl_h1 = sum(h.loglik for h in self.h1)
        chisq_b = 2 * (logl_h1 - logl_b)
        df_b = self.ndat() - len(self._baseline_free_moments()) * len(self.groups)
        return float(chisq_b), float(df_b), float(logl_b)

    def fit_measures(self) -> dict[str, float]:
        n = self.ntotal
        G = len(self.groups)
        logl1 = float(sum(h.loglik for h in self.h1))
        logl = self.logl
        chisq = max(2 * (logl1 - logl), 0.0)
        df = float(self.ndat() - self.npar())
        chisq_b, df_b, _ = self.baseline()
        fm: dict[str, float] = {"npar": float(self.npar()), "fmin": float((logl1 - logl) / n)}
        # fixed.x: the covariates' own likelihood is not part of the reported ones
        x_h0, x_h1 = self._x_loglik()
        fm.update(
            fmx.chisq_based_measures(
                chisq, df, chisq_b, df_b, n, ngroups=G, npar=self.npar(), logl=logl - x_h0,
                logl_h1=logl1 - x_h1,
            )
        )  # fmt: skip
        fm.update(self.residual_fit())
        if df >= 0:  # a saturated model (df = 0) gets lavaan's values for that case
            from ckm_research.sem.robust import robust_fit_measures, scaled_fit_measures

            xx3, c3, xx3_b, c3_b = self.fiml_corrected(
                fm, version="V3" if self.opts.estimator == "MLR" else "V6"
            )
            if self.opts.estimator == "MLR":
                tr = self.yuan_bentler_trace()
                tr_b = self._baseline_trace()
                fm.update(scaled_fit_measures(chisq, df, tr, chisq_b, df_b, tr_b, n, G))
            fm.update(robust_fit_measures(xx3, df, c3, xx3_b, df_b, c3_b, n, G))
        return fm

    # ------------------------------------------------------ robust machinery
    def _h1_info(self, g: int, kind: str) -> np.ndarray:
        key = (g, kind)
        cache = self.__dict__.setdefault("_h1_cache", {})
        if key not in cache:
            h = self.h1[g]
            cache[key] = mis.fiml_information_h1(self.patterns[g], h.mu, h.sigma, information=kind)
        return cache[key]

    def yuan_bentler_trace(self, delta=None, einv=None, b0=None) -> float:
        """:math:`\\operatorname{tr}(U\\Gamma)` of the Yuan-Bentler (Mplus) statistic
        with incomplete data: saturated information at the EM estimates
        (observed, as lavaan's MLR with ``missing = "ml"``)."""
        n = self.ntotal
        keep = self.non_exo_mask()  # lavaan zeroes the fixed-x rows and columns
        trace_h1 = 0.0
        for g in range(len(self.groups)):
            A1 = self._h1_info(g, "observed")[np.ix_(keep, keep)]
            B1 = self._h1_info(g, "firstorder")[np.ix_(keep, keep)]
            trace_h1 += float(np.trace(np.linalg.solve(A1, B1)))
        if einv is None:
            einv = self._info_inverse() * n  # per-case information, inverted
        if b0 is None:
            b0 = [z.T @ z / z.shape[0] for z in self.model_scores()]
        trace_h0 = sum(
            gd_n / n * float(np.sum(B0 * einv.T))
            for B0, gd_n in zip(b0, self.n_per_group, strict=True)
        )
        return trace_h1 - trace_h0

    def _baseline_free_moments(self) -> np.ndarray:
        """Positions in (mu, vech Sigma) of the independence model's parameters:
        every variable's mean and variance, except the fixed covariates'; with
        covariates that are not fixed (``fixed_x=False``) their whole block is
        free (lavaan's ``lav_partable_independence``, ``mimic = "lavaan"``)."""
        from ckm_research.sem.model import vech_indices

        p = self.model.n_ov
        ri, ci = vech_indices(p)
        cx = set(self._covariate_index())
        fixed = bool(self.exo_index())
        means = [j for j in range(p) if not (fixed and j in cx)]
        cov = [
            p + k
            for k, (i, j) in enumerate(zip(ri, ci, strict=True))
            if (i == j and not (fixed and i in cx)) or (not fixed and i in cx and j in cx)
        ]
        return np.array(means + cov)

    def _baseline_delta(self, g: int) -> np.ndarray:
        """Jacobian of (mu, vech Sigma) wrt the independence model's parameters
        (one group)."""
        p = self.model.n_ov
        free = self._baseline_free_moments()
        D = np.zeros((p + p * (p + 1) // 2, len(free)))
        D[free, np.arange(len(free))] = 1.0
        return D

    def _column_moments(self, g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each variable's mean, ML variance and number of answers over its
        observed values; with sampling weights (lavaan's ``sampling.weights``)
        the weighted ones and the sum of the weights."""
        x = self.groups[g].data
        w = ~np.isnan(x)
        if self.patterns[g].weights is not None:
            w = self.patterns[g].weights[:, None] * w
        count = w.sum(axis=0)
        x0 = np.nan_to_num(x)
        mu = (w * x0).sum(axis=0) / count
        var = (w * (x0 - mu) ** 2).sum(axis=0) / count
        return mu, var, count

    def _baseline_moments(self, g: int):
        mu, var, _ = self._column_moments(g)
        sigma = np.diag(var)
        ix = self._covariate_index()
        if ix:
            mu_x, sigma[np.ix_(ix, ix)], _ = self._baseline_x(g)
            mu[ix] = mu_x
        return mu, sigma

    def _baseline_trace(self) -> float:
        """Yuan-Bentler trace of the independence model (its scaling factor).

        The independence model has its own means and variances in every group
        (lavaan's baseline model, ``lav_partable_independence``), so its
        information is block-diagonal over the groups: each group's block is
        :math:`(N_g/N)\\,\\Delta^\\top A_g \\Delta` and its first-order
        information enters only the group's own parameters.
        """
        from scipy.linalg import block_diag

        n = self.ntotal
        G = len(self.patterns)
        blocks = []
        b0 = []
        for g, pat in enumerate(self.patterns):
            mu, sig = self._baseline_moments(g)
            D = self._baseline_delta(g)
            A = mis.fiml_information_h1(pat, mu, sig, information="observed")
            B = mis.fiml_information_h1(pat, mu, sig, information="firstorder")
            blocks.append(self.n_per_group[g] / n * (D.T @ A @ D))
            q = D.shape[1]
            B0 = np.zeros((q * G, q * G))
            B0[g * q : (g + 1) * q, g * q : (g + 1) * q] = D.T @ B @ D
            b0.append(B0)
        E = block_diag(*blocks)
        return self.yuan_bentler_trace(einv=np.linalg.inv(E), b0=b0)

    def fiml_corrected(self, fm: dict, version: str = "V3"):
        """FIML-corrected statistic and scaling factors for the robust RMSEA and
        CFI with incomplete data (Zhang & Savalei, 2023; lavaan's
        ``lav_fit_fiml_corrected``): the ML statistic of the estimates against
        the EM moments and a trace correction from the observed- and
        complete-data saturated information."""
        from ckm_research.sem.robust import h1_information_expected

        n = self.ntotal
        fg = [m / n for m in self.n_per_group]
        wm, wc, wmi, gam, deltas, deltas_b = [], [], [], [], [], []
        xx3 = xx3_b = 0.0
        # fixed.x: lavaan zeroes the covariates' rows and columns of the h1
        # information and inverts the rest
        keep = self.non_exo_mask()
        kk = np.ix_(keep, keep)
        for g in range(len(self.groups)):
            h = self.h1[g]
            Wm = self._h1_info(g, "observed")[kk]
            Wmi_g = spd_inverse(Wm)  # Cholesky: half the flops of LU (6,554 moments)
            wm.append(fg[g] * Wm)
            wmi.append(Wmi_g / fg[g])
            Wc = h1_information_expected(h.sigma, True)
            if not self.exo_index() and self._covariate_index():
                # lavaan refits the model to the EM moments with lavaan()'s default
                # fixed.x = TRUE, so with fixed.x = FALSE the complete-data
                # information still loses the covariates' rows and columns
                Wc = Wc * _moment_mask(self.model.n_ov, self._covariate_index())
            wc.append(fg[g] * Wc[kk])
            if version == "V3":  # Gamma (two products of the moments' size) only for V3
                Jm = self._h1_info(g, "firstorder")[kk]
                gam.append(Wmi_g @ Jm @ Wmi_g / fg[g])
            deltas.append(self.model.jacobian(self.theta, g, meanstructure=True)[keep])
            deltas_b.append(self._baseline_delta(g)[keep])
            sig, mu = self.model.implied(self.theta, g)
            xx3 += _ml_stat(h.mu, h.sigma, mu, sig, self.n_per_group[g])
            mu_b, sig_b = self._baseline_moments(g)
            xx3_b += _ml_stat(h.mu, h.sigma, mu_b, sig_b, self.n_per_group[g])
        from scipy.linalg import block_diag

        Wm_all, Wmi_all, Wc_all = (block_diag(*m) for m in (wm, wmi, wc))
        G_all = block_diag(*gam) if gam else None
        df, df_b = fm["df"], fm["baseline.df"]

        def k_of(delta_all, invert=np.linalg.inv):
            # U = Wm - Wm D E^-1 D' Wm with E = D' Wm D; the traces are expanded so
            # that only n x q products are formed (n = number of moments)
            A = Wm_all @ delta_all
            E = delta_all.T @ A
            Einv = invert(E)
            if version == "V3":
                # tr(U Wm^-1 Wc Wm^-1 U Gamma)
                #   = tr(Wc G) - 2 tr(E^-1 B' G A) + tr(E^-1 D'Wc D E^-1 A' G A)
                B = Wc_all @ delta_all
                GA = G_all @ A
                return float(
                    np.sum(Wc_all * G_all)
                    - 2.0 * np.sum(Einv * (B.T @ GA).T)
                    + np.trace(Einv @ (delta_all.T @ B) @ Einv @ (A.T @ GA))
                )
            # tr(Wc Wm^-1 U Wm^-1) = tr(Wc Wm^-1) - tr(E^-1 D' Wc D)
            return float(
                np.sum(Wc_all * Wmi_all.T) - np.sum(Einv * (delta_all.T @ Wc_all @ delta_all).T)
            )

        # lavaan divides by df = 0 too (an infinite factor): the robust measures of a
        # saturated model then use the uncorrected formulas (robust_fit_measures);
        # under general constraints E^-1 is the constrained model's (lavaan's
        # "inverted.information"; ckm_research.sem.constraints)
        inverse = getattr(self, "constrained_inverse", np.linalg.inv)
        c3 = k_of(np.vstack(deltas), inverse) / df if df > 0 else np.inf
        c3_b = k_of(_block_rows(deltas_b)) / df_b
        return xx3, c3, xx3_b, c3_b

    def residual_fit(self) -> dict[str, float]:
        from ckm_research.sem.ml import MLEngine

        return MLEngine.residual_fit(self)


def drop_missing_covariates(x, ov, ov_x, label, notes: list[str]) -> np.ndarray:
    """Delete the cases with a missing fixed covariate, as lavaan does with
    ``missing = "ml"`` and ``fixed.x = TRUE`` (``lav_data_full``: "N cases were
    deleted due to missing values in exogenous variable(s), while fixed.x =
    TRUE"); the FIML likelihood is then conditional on the covariates.  A note
    says how many and points to ``missing = "ml.x"``, which keeps them."""
    ix = [list(ov).index(v) for v in ov_x]
    if not ix:
        return x
    bad = np.isnan(x[:, ix]).any(axis=1)
    if bad.any():
        where = "" if label is None else f" in group {label}"
        notes.append(
            f"{int(bad.sum())} of {len(x)} cases{where} have a missing value on an exogenous "
            f"covariate ({', '.join(ov_x)}) and were deleted: with fixed_x=True, missing='ml' "
            "treats the covariates as fixed (as lavaan, which deletes them with a warning); "
            "use missing='ml.x' to keep these cases (the covariates then enter the "
            "likelihood as random variables)"
        )
    return x[~bad]


def _moment_mask(p: int, ix: list[int]) -> np.ndarray:
    """Outer product of the indicator of the (mu, vech Sigma) moments that do not
    belong to the covariates ``ix`` only (lavaan's ``eliminate.pstar.idx``)."""
    from ckm_research.sem.model import vech_indices

    ri, ci = vech_indices(p)
    sx = set(ix)
    keep = np.array(
        [j not in sx for j in range(p)]
        + [not (i in sx and j in sx) for i, j in zip(ri, ci, strict=True)],
        dtype=float,
    )
    return np.outer(keep, keep)


def _saturated_loglik(cov, n) -> float:
    """Complete-data saturated normal log-likelihood of ``n`` cases with ML
    covariance matrix ``cov`` (lavaan's ``lav_mvnorm_h1_loglik_samplestats``)."""
    p = cov.shape[0]
    _, ld = np.linalg.slogdet(cov)
    return float(-n / 2 * (p * np.log(2 * np.pi) + ld + p))


def _ml_stat(mean_s, cov_s, mu, sigma, n) -> float:
    """:math:`N F_{ML}` of implied moments against given sample moments."""
    p = len(mean_s)
    K = np.linalg.inv(sigma)
    d = mean_s - mu
    _, ld = np.linalg.slogdet(sigma)
    _, lds = np.linalg.slogdet(cov_s)
    return float(n * (ld + np.sum(K * cov_s) - lds - p + d @ K @ d))


def _block_rows(deltas: list[np.ndarray]) -> np.ndarray:
    """Stack per-group Jacobians whose parameters are group-specific."""
    from scipy.linalg import block_diag

    return block_diag(*deltas) if len(deltas) > 1 else deltas[0]
