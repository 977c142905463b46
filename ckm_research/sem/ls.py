"""GLS, ULS, WLS and DWLS for continuous items.

lavaan's ``estimator = "GLS"``, ``"ULS"``, ``"WLS"`` and ``"DWLS"`` without
``ordered =`` (lavaan 0.6.14, ``lav_model_objective``): the estimates minimise
the quadratic-form discrepancy (Browne, 1982, 1984)

.. math::

    F(\\theta) = (s - \\sigma(\\theta))^\\top W (s - \\sigma(\\theta)),

with :math:`s = \\operatorname{vech}(S)` (and the means first with a mean
structure), :math:`S` the sample covariance matrix with divisor :math:`N - 1`
(lavaan uses the unbiased matrix for every estimator but ML), and the weight

* GLS: the normal-theory weight at the sample moments,
  :math:`\\tfrac12 D_p^\\top(S^{-1}\\otimes S^{-1})D_p` (Jöreskog & Goldberger,
  1972; Browne, 1974);
* ULS: the identity;
* WLS: :math:`\\Gamma^{-1}`, the inverse of the distribution-free asymptotic
  covariance matrix of :math:`s` (Browne, 1984, "ADF");
* DWLS: :math:`\\operatorname{diag}(\\Gamma)^{-1}`.

lavaan's defaults for these names are ``se = "standard"`` (the inverse of
:math:`\\Delta^\\top W\\Delta`, correct for GLS under normality and for WLS, a
naive approximation for ULS and DWLS) and ``test = "standard"``
(:math:`T = (N-1) F`, chi-square only for GLS and WLS).  There is no
likelihood, hence no AIC or BIC.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize
from scipy.linalg import block_diag

from ckm_research.errors import ConvergenceError, IdentificationError
from ckm_research.sem import fit_measures as fmx
from ckm_research.sem import ordinal as ordm
from ckm_research.sem.estimators import estimator_spec
from ckm_research.sem.ml import MLEngine, SampleMoments, start_values
from ckm_research.sem.mlm import nacov_continuous
from ckm_research.sem.model import vech_indices
from ckm_research.sem.robust import h1_information_expected

__all__ = ["LSEngine"]


class LSEngine(MLEngine):
    """Least-squares estimation of a continuous-data model (GLS/ULS/WLS/DWLS)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = self.opts.estimator
        ms = self.opts.meanstructure
        self.spec = estimator_spec(self.kind)
        self.keep = self.non_exo_mask()
        self.obs, self.weights, self.gammas = [], [], []
        for gd in self.groups:
            n = gd.data.shape[0]
            # lavaan: the unbiased covariance matrix for every estimator but ML
            gd.moments = SampleMoments(n, gd.moments.cov * n / (n - 1), gd.moments.mean)
            self.obs.append(self._vec(gd.moments.mean, gd.moments.cov)[self.keep])
            x_idx = self.exo_index() if self.n_exo() else None
            self.gammas.append(nacov_continuous(gd.data, ms, x_idx)[np.ix_(self.keep, self.keep)])
            self.weights.append(self._weight(gd, ms))
        self._fill_exo()

    def _vec(self, mean, cov) -> np.ndarray:
        ri, ci = vech_indices(cov.shape[0])
        v = cov[ri, ci]
        return np.concatenate([mean, v]) if self.opts.meanstructure else v

    def _weight(self, gd, ms) -> np.ndarray:
        keep = self.keep
        m = int(keep.sum())
        kind = self.spec.fitted_by
        if kind == "ULS":
            return np.eye(m)
        if kind == "GLS":
            return h1_information_expected(gd.moments.cov, ms)[np.ix_(keep, keep)]
        gamma = self.gammas[-1]
        if kind == "DWLS":
            return np.diag(1.0 / np.diag(gamma))
        try:
            w = np.linalg.inv(gamma)
        except np.linalg.LinAlgError:
            raise IdentificationError(
                "the asymptotic covariance matrix of the sample moments (Gamma) is singular, "
                "so WLS is not defined (too few cases for the number of items?); use "
                "estimator='MLM' or 'MLR'"
            ) from None
        return 0.5 * (w + w.T)

    # ------------------------------------------------------------------ model
    def _est(self, theta, g) -> np.ndarray:
        sigma, mu = self.model.implied(theta, g)
        return self._vec(mu, sigma)[self.keep]

    def _delta(self, theta, g) -> np.ndarray:
        D = self.model.jacobian(theta, g, meanstructure=self.opts.meanstructure)
        return D[self.keep]

    def _f_grad(self, theta):
        """:math:`F`, its gradient and the Gauss-Newton Hessian
        :math:`2\\sum_g (N_g/N)\\Delta_g^\\top W_g\\Delta_g`."""
        f = 0.0
        grad = np.zeros(self.model.n_free)
        hess = np.zeros((self.model.n_free, self.model.n_free))
        for g, gd in enumerate(self.groups):
            fg = gd.data.shape[0] / self.ntotal
            D = self._delta(theta, g)
            r = self.obs[g] - self._est(theta, g)
            WD = self.weights[g] @ D
            f += fg * float(r @ self.weights[g] @ r)
            grad -= 2.0 * fg * (WD.T @ r)
            hess += 2.0 * fg * (D.T @ WD)
        return f, grad, hess

    def estimate(self) -> None:
        """Minimise :math:`F` by a trust-region Newton method on the Gauss-Newton
        Hessian (scipy's ``trust-exact``; a plain Gauss-Newton line search can
        stall in the flat valleys of weakly determined models, where lavaan's
        ``nlminb`` still converges)."""
        theta = start_values(self.model, [gd.moments for gd in self.groups])
        cache = {}

        def pieces(x):
            key = x.tobytes()
            if key not in cache:
                cache.clear()
                cache[key] = self._f_grad(x)
            return cache[key]

        res = optimize.minimize(
            lambda x: pieces(x)[:2],
            theta,
            jac=True,
            hess=lambda x: pieces(x)[2],
            method="trust-exact",
            options={"maxiter": self.opts.iter_max, "gtol": 1e-9},
        )
        f, grad, hess = self._f_grad(res.x)
        if not res.success and not np.max(np.abs(grad)) < 1e-6:
            if np.linalg.matrix_rank(hess) < hess.shape[0]:
                raise IdentificationError("the model is not identified: Delta' W Delta is singular")
            raise ConvergenceError(
                f"{self.kind} estimation did not converge in {self.opts.iter_max} iterations; "
                "simplify the model or use estimator='ML'"
            )
        self.theta = res.x
        self.iterations = int(res.nit)
        self.f_ls = f

    # -------------------------------------------------------------- inference
    def information_expected(self) -> np.ndarray:
        """:math:`(N - G)\\sum_g (N_g/N) \\Delta_g^\\top W_g \\Delta_g`: lavaan's
        expected information of a least-squares estimator, times :math:`N - G`
        (lavaan divides by N minus the number of groups for every estimator
        but ML)."""
        info = 0.0
        for g, gd in enumerate(self.groups):
            D = self._delta(self.theta, g)
            info = info + gd.data.shape[0] / self.ntotal * D.T @ self.weights[g] @ D
        return (self.ntotal - len(self.groups)) * info

    def vcov(self) -> np.ndarray:
        """``se = "standard"``: the inverse information; ``se = "robust.sem"``: the
        sandwich :math:`(N-G)^{-1} E^{-1} \\Delta^\\top W\\Gamma W\\Delta E^{-1}`
        (Satorra & Bentler, 1994; lavaan's ``lav_model_nvcov_robust_sem``)."""
        info = self.information_expected()
        from ckm_research.sem.ml import scaled_cond

        if scaled_cond(info) > 1e12:  # as fit_ml: singular at the solution
            from ckm_research.sem.ml import _raise_unidentified

            _raise_unidentified(self.model, info)
        inv = np.linalg.inv(info)
        if self.spec.se != "robust.sem":
            return inv
        m = self.ntotal - len(self.groups)
        meat = 0.0
        for g, gd in enumerate(self.groups):
            WD = self.weights[g] @ self._delta(self.theta, g)
            meat = meat + gd.data.shape[0] / self.ntotal * WD.T @ self.gammas[g] @ WD
        v = (m * inv) @ meat @ (m * inv) / m
        return 0.5 * (v + v.T)

    def _robust_test(self, chisq: float, df: float, deltas: list[np.ndarray]):
        """The estimator's Satorra-Bentler type test, from the groups' Jacobians."""
        fn = ordm.ROBUST_TESTS.get(self.spec.test)
        if fn is None:
            return None
        f = [gd.data.shape[0] / self.ntotal for gd in self.groups]
        D = np.vstack(deltas)
        W = block_diag(*[fg * w for fg, w in zip(f, self.weights, strict=True)])
        G = block_diag(*[gm / fg for fg, gm in zip(f, self.gammas, strict=True)])
        return fn(float(chisq), int(round(df)), D, W, G)

    def _baseline_chisq(self) -> float:
        """The independence model fitted with the same weight: the variances
        (and means) solve a linear least-squares problem."""
        total = 0.0
        deltas = []
        p = self.model.n_ov
        ri, ci = vech_indices(p)
        ms = self.opts.meanstructure
        exo = set(self.exo_index()) if self.n_exo() else set()
        for g, gd in enumerate(self.groups):
            s, W = self.obs[g], self.weights[g]
            # free moments of the baseline: means, variances, the covariates' block
            free = [j for j in range(p) if j not in exo] if ms else []
            cols = []
            off = p if ms else 0
            full_len = off + len(ri)
            for j in free:
                e = np.zeros(full_len)
                e[j] = 1.0
                cols.append(e)
            for k, (i, j) in enumerate(zip(ri, ci, strict=True)):
                if i == j and i not in exo:
                    e = np.zeros(full_len)
                    e[off + k] = 1.0
                    cols.append(e)
            D0 = np.array(cols).T[self.keep]
            v = np.linalg.solve(D0.T @ W @ D0, D0.T @ W @ s)
            est = D0 @ v
            total += (gd.data.shape[0] - 1) * ordm.wls_discrepancy(s, est, W)
            deltas.append(D0)
        return float(total), deltas

    def fit_measures(self) -> dict[str, float]:
        n = self.ntotal
        G = len(self.groups)
        npar = self.npar()
        df = float(self.ndat() - npar)
        chisq = float(sum(
            (gd.data.shape[0] - 1)
            * ordm.wls_discrepancy(self.obs[g], self._est(self.theta, g), self.weights[g])
            for g, gd in enumerate(self.groups)
        ))  # fmt: skip
        _, df_b = self.baseline()
        chisq_b, deltas_b = self._baseline_chisq()
        fm: dict[str, float] = {"npar": float(npar), "fmin": chisq / (2 * n)}
        # lavaan's RMSEA, Hoelter's N, MFI and ECVI use N - G for these estimators
        fm.update(
            fmx.chisq_based_measures(
                chisq, df, chisq_b, df_b, n, ngroups=G, npar=npar, n_rmsea=n - G
            )
        )
        fm.update(self.residual_fit())
        out = {"gfi": 0.0}
        nel = 0
        for g, gd in enumerate(self.groups):
            one = fmx.gfi(self.obs[g], self._est(self.theta, g), self.weights[g], df)
            out["gfi"] += gd.data.shape[0] / n * one["gfi"]
            nel += len(self.obs[g])
        fm["gfi"] = out["gfi"]
        fm["agfi"] = 1.0 - (nel / df) * (1.0 - fm["gfi"]) if df > 0 else 1.0
        fm["pgfi"] = (df / nel) * fm["gfi"]
        test = self._robust_test(chisq, df, [self._delta(self.theta, g) for g in range(G)])
        if test is not None and df > 0:
            from ckm_research.sem.mlm import scaled_and_robust_measures

            test_b = self._robust_test(chisq_b, df_b, deltas_b)
            fm.update(scaled_and_robust_measures(test, test_b, chisq, df, chisq_b, df_b, n - G, G))
            if test.test == "scaled.shifted":
                fm["chisq.shift.parameters"] = float(test.shift_parameter)
        return fm
