"""WLSMV: diagonally weighted least squares on polychoric correlations.

lavaan's ``estimator = "WLSMV"`` with ``ordered =`` (Muthén, du Toit &
Spisic, 1997; Flora & Curran, 2004):

1. thresholds and polychoric correlations (two-step), and their asymptotic
   covariance matrix :math:`\\Gamma`, from :mod:`ckm_research.sem.ordinal`;
2. estimates minimising :math:`F = (s - \\sigma(\\theta))^\\top W_D
   (s - \\sigma(\\theta))`, :math:`W_D = \\operatorname{diag}(\\Gamma)^{-1}`, by
   Gauss-Newton, with the model in lavaan's *delta* parameterization: the
   latent responses have unit variance, so the residual variances of the
   items are :math:`1 - \\operatorname{diag}(\\Lambda\\Psi\\Lambda^\\top)` and not
   free;
3. robust ("sandwich") standard errors and the scaled-and-shifted test
   statistic (Asparouhov & Muthén, 2010).
"""

from __future__ import annotations

import numpy as np

from ckm_research.errors import CkmError, ConvergenceError
from ckm_research.sem import fit_measures as fmx
from ckm_research.sem import ordinal as ordm
from ckm_research.sem.api import BaseEngine
from ckm_research.sem.estimators import estimator_spec
from ckm_research.sem.standardized import standardize_all

__all__ = ["WLSMVEngine"]


class WLSMVEngine(BaseEngine):
    """DWLS estimation with robust inference (lavaan's WLSMV)."""

    label = "WLSMV"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = estimator_spec(self.opts.estimator)
        self.label = self.spec.name
        if len(self.groups) > 1:
            raise CkmError(
                f"multiple-group {self.label} is not supported yet; fit each group separately or "
                "use estimator='MLR' on the item scores"
            )
        t = self.pt.table
        ov = self.model.ov
        non_ord = [v for v in ov if v not in set(self.opts.ordered)]
        if non_ord:
            raise CkmError(
                f"{self.label} here needs every observed variable of the model to be ordinal; "
                "not ordered: " + ", ".join(non_ord)
            )
        x = self.groups[0].data
        self.mom = ordm.ordinal_moments(x, names=list(ov))
        self.weight = self._weight()
        # rows of the parameter table holding each model threshold, in wls_obs order
        th_rows = []
        for i, v in enumerate(ov):
            for k in range(len(self.mom.thresholds[i])):
                hit = np.flatnonzero(
                    (t["op"].to_numpy() == "|")
                    & (t["lhs"].to_numpy() == v)
                    & (t["rhs"].to_numpy() == f"t{k + 1}")
                )
                if not len(hit):
                    raise CkmError(f"no threshold t{k + 1} for the ordinal item '{v}' in the model")
                th_rows.append(hit[0])
        self.th_rows = np.asarray(th_rows)
        self.resvar_rows = np.flatnonzero(
            (t["op"].to_numpy() == "~~")
            & (t["lhs"].to_numpy() == t["rhs"].to_numpy())
            & np.isin(t["lhs"].to_numpy(), ov)
            & (t["free"].to_numpy() == 0)
        )
        self.n = self.mom.n
        self.n_per_group = [self.n]
        self.ntotal = self.n

    def _weight(self) -> np.ndarray:
        """lavaan's ``WLS.V`` of the estimator: the diagonal of :math:`\\Gamma^{-1}`
        (DWLS, a vector), the identity (ULS, a vector of ones) or the full
        :math:`\\Gamma^{-1}` (WLS; Browne, 1984; Muthén, 1984)."""
        gamma = self.mom.gamma
        if self.spec.fitted_by == "DWLS":
            return ordm.dwls_weight(gamma)
        if self.spec.fitted_by == "ULS":
            return np.ones(gamma.shape[0])
        try:
            w = np.linalg.inv(gamma)
        except np.linalg.LinAlgError:
            raise CkmError(
                "the asymptotic covariance matrix of the polychoric correlations (Gamma) is "
                "singular, so full WLS is not defined; use estimator='WLSMV'"
            ) from None
        return 0.5 * (w + w.T)

    def _wmat(self) -> np.ndarray:
        """The weight as a full matrix."""
        w = self.weight
        return np.diag(w) if w.ndim == 1 else w

    # ------------------------------------------------------------- model side
    def full_row_values(self, theta: np.ndarray) -> np.ndarray:
        """Row values with the items' residual variances implied by unit
        latent-response variances (delta parameterization)."""
        vals = self.model.row_values(theta)
        vals[self.resvar_rows] = 0.0
        A, S, _ = self.model._matrices(vals, 0)
        E = self.model.total_effects_inverse(A)
        C = E @ S @ E.T
        pos = {v: i for i, v in enumerate(self.model.variables)}
        lhs = self.pt.table["lhs"].to_numpy()
        for r in self.resvar_rows:
            vals[r] = 1.0 - C[pos[lhs[r]], pos[lhs[r]]]
        return vals

    def wls_est(self, theta: np.ndarray) -> np.ndarray:
        vals = self.model.row_values(theta)
        sigma, _ = self.model.implied(theta, 0)
        p = sigma.shape[0]
        r, c = np.tril_indices(p, k=-1)
        # column-by-column order of the strict lower triangle (lavaan vech, no diagonal)
        order = np.lexsort((r, c))
        return np.concatenate([vals[self.th_rows], sigma[r[order], c[order]]])

    def delta(self, theta: np.ndarray) -> np.ndarray:
        D_cor = self.model.jacobian(theta, 0, meanstructure=False, diagonal=False)
        D_th = np.zeros((len(self.th_rows), self.model.n_free))
        free = self.model.free[self.th_rows]
        for k, f in enumerate(free):
            if f > 0:
                D_th[k, f - 1] = 1.0
        return np.vstack([D_th, D_cor])

    # -------------------------------------------------------------- estimate
    def _start(self) -> np.ndarray:
        from ckm_research.sem.ml import SampleMoments, start_values

        mom = SampleMoments(self.n, self.mom.corr, np.zeros(self.model.n_ov))
        theta = start_values(self.model, [mom])
        free = self.model.free[self.th_rows]
        obs_th = self.mom.wls_obs[: len(self.th_rows)]
        for k, f in enumerate(free):
            if f > 0:
                theta[f - 1] = obs_th[k]
        return theta

    def estimate(self) -> None:
        s = self.mom.wls_obs
        w = self.weight
        theta = self._start()
        resid = s - self.wls_est(theta)
        f = ordm.wls_discrepancy(s, s - resid, w)
        for it in range(1, self.opts.iter_max + 1):
            D = self.delta(theta)
            WD = ordm._w_times(w, D)
            info = D.T @ WD
            g = WD.T @ resid
            try:
                step = np.linalg.solve(info, g)
            except np.linalg.LinAlgError:
                from ckm_research.errors import IdentificationError

                raise IdentificationError(
                    "the model is not identified: Delta' W Delta is singular"
                ) from None
            alpha = 1.0
            while True:
                new = theta + alpha * step
                r_new = s - self.wls_est(new)
                f_new = ordm.wls_discrepancy(s, s - r_new, w)
                if f_new <= f or alpha < 1e-8:
                    break
                alpha *= 0.5
            done = abs(f - f_new) < 1e-14 * (1 + f) and np.max(np.abs(alpha * step)) < 1e-8
            theta, f, resid = new, f_new, r_new
            self.iterations = it
            if done:
                break
        else:
            raise ConvergenceError(
                f"{self.spec.fitted_by} estimation did not converge in {self.opts.iter_max} "
                "iterations; simplify the model or check for categories with very few answers"
            )
        self.theta = theta
        self.fmin_dwls = f

    def row_values(self) -> np.ndarray:
        return self.full_row_values(self.theta)

    def std_all(self, theta: np.ndarray) -> np.ndarray:
        return standardize_all(self.model, theta, row_est=self.full_row_values(theta))

    def vcov(self) -> np.ndarray:
        D = self.delta(self.theta)
        if self.spec.se == "robust.sem":
            return ordm.robust_vcov_wls(D, self.weight, self.mom.gamma, self.n)
        return ordm.standard_vcov_wls(D, self.weight, self.n)

    def ndat(self) -> int:
        p = self.model.n_ov
        return len(self.th_rows) + p * (p - 1) // 2

    def sample_moments(self, g: int):
        return self.mom.corr, np.zeros(self.model.n_ov)

    def implied_moments(self):
        out = super().implied_moments()
        for v in out.values():
            c = v["cov"].to_numpy().copy()
            np.fill_diagonal(c, 1.0)
            v["cov"].iloc[:, :] = c
        return out

    def residuals(self, type: str = "cor.bentler"):  # noqa: A002
        out = {}
        sig, _ = self.model.implied(self.theta, 0)
        np.fill_diagonal(sig, 1.0)
        import pandas as pd

        out["residuals"] = pd.DataFrame(
            self.mom.corr - sig, index=self.model.ov, columns=self.model.ov
        )
        return out

    # ---------------------------------------------------------- fit measures
    def _baseline(self):
        """Independence model: free thresholds, zero correlations, fitted with
        the estimator's weight (the thresholds are the sample ones unless the
        weight is full WLS, whose thresholds absorb the correlations' residuals)."""
        nth = len(self.th_rows)
        s = self.mom.wls_obs
        w = self.weight
        th = s[:nth].copy()
        if w.ndim == 2:
            th += np.linalg.solve(w[:nth, :nth], w[:nth, nth:] @ s[nth:])
        est = np.concatenate([th, np.zeros(len(s) - nth)])
        f = ordm.wls_discrepancy(s, est, w)
        chisq = ordm.wls_test_statistic(s, est, w, self.n)
        df = len(s) - nth
        D = np.zeros((len(s), nth))
        D[np.arange(nth), np.arange(nth)] = 1.0
        test = self._test(chisq, df, D)
        return chisq, df, test, f

    def _test(self, chisq, df, D):
        """The estimator's robust test (None for ``test = "standard"``)."""
        fn = {
            "scaled.shifted": ordm.scaled_shifted_test,
            "satorra.bentler": ordm.satorra_bentler_test,
            "mean.var.adjusted": ordm.mean_var_adjusted_test,
        }.get(self.spec.test)
        return None if fn is None else fn(chisq, df, D, self.weight, self.mom.gamma)

    def fit_measures(self) -> dict[str, float]:
        s = self.mom.wls_obs
        est = self.wls_est(self.theta)
        n = self.n
        chisq = ordm.wls_test_statistic(s, est, self.weight, n)
        npar = self.model.n_free
        df = self.ndat() - npar
        if df < 0:
            from ckm_research.errors import IdentificationError

            raise IdentificationError(
                f"the model is not identified: {npar} free parameters for {self.ndat()} sample "
                f"statistics (df = {df})"
            )
        D = self.delta(self.theta)
        test = self._test(chisq, df, D)
        chisq_b, df_b, test_b, _ = self._baseline()
        # lavaan's RMSEA for (D)WLS uses N - 1 (its test statistic is (N - 1) F)
        n1 = n - 1
        fm: dict[str, float] = {
            "npar": float(npar),
            "fmin": float(self.fmin_dwls * (n - 1) / n / 2),
        }
        fm.update(fmx.chisq_based_measures(chisq, df, chisq_b, df_b, n, npar=npar, n_rmsea=n1))
        if test is not None:
            from ckm_research.sem.mlm import scaled_and_robust_measures

            # the .scaled measures as for ML (on N - 1); the .robust ones by catML below
            scaled = scaled_and_robust_measures(test, test_b, chisq, df, chisq_b, df_b, n1)
            fm.update({k: v for k, v in scaled.items() if not k.endswith(".robust")})
            if test.test == "scaled.shifted":
                fm["chisq.shift.parameters"] = float(test.shift_parameter)
            if test.test != "mean.var.adjusted":
                fm.update(self.catml_robust(chisq_b_df=df_b, df=df))
        # residual-based measures on the correlation residuals; the "mean" versions
        # also count the thresholds (whose residuals are zero when they are free)
        sig, _ = self.model.implied(self.theta, 0)
        r = self.mom.corr - sig
        il = np.tril_indices_from(r, k=-1)
        p = r.shape[0]
        nth = len(self.th_rows)
        th_res = self.mom.wls_obs[:nth] - self.wls_est(self.theta)[:nth]
        ss = float(np.sum(r[il] ** 2))
        ss_th = float(np.sum(th_res**2))
        pstar = p * (p + 1) / 2
        fm["srmr_bentler_nomean"] = float(np.sqrt(ss / pstar))
        fm["srmr_bentler"] = float(np.sqrt((ss + ss_th) / (pstar + nth)))
        fm["srmr"] = fm["srmr_bentler_nomean"]
        fm["rmr_nomean"] = fm["srmr_bentler_nomean"]
        fm["rmr"] = fm["srmr_bentler"]
        fm["crmr_nomean"] = float(np.sqrt(ss / len(il[0])))
        fm["crmr"] = float(np.sqrt((ss + ss_th) / (len(il[0]) + nth)))
        fm.update(fmx.gfi(self.mom.wls_obs, self.wls_est(self.theta), self._wmat(), df))
        # weighted root mean square residual (Muthen, 1998-2004 Mplus technical appendix)
        fm["wrmr"] = float(np.sqrt(chisq / len(self.mom.wls_obs)))
        return fm

    def catml_robust(self, chisq_b_df: float, df: float) -> dict[str, float]:
        """Robust CFI/TLI/RMSEA for categorical data by the catML approach
        (Savalei, 2021, *Structural Equation Modeling* 28, 357-370; lavaan's
        ``lav_fit_catml_dwls``): the normal-theory ML discrepancy between the
        polychoric and the implied correlation matrices at the WLSMV estimates,
        with a scaling factor from the DWLS information and :math:`\\Gamma`.
        Not defined (NaN, as in lavaan) when the polychoric matrix is not
        positive definite."""
        from ckm_research.sem.model import vech_indices
        from ckm_research.sem.robust import h1_information_expected, robust_fit_measures

        R = self.mom.corr
        if np.linalg.eigvalsh(R).min() < np.sqrt(np.finfo(float).eps) or df <= 0:
            return {}
        sig, _ = self.model.implied(self.theta, 0)
        np.fill_diagonal(sig, 1.0)
        p = R.shape[0]
        K = np.linalg.inv(sig)
        _, ld_sig = np.linalg.slogdet(sig)
        _, ld_r = np.linalg.slogdet(R)
        xx3 = self.n * (ld_sig + np.sum(K * R) - ld_r - p)
        xx3_null = self.n * (-ld_r)
        ri, ci = vech_indices(p)
        off = np.flatnonzero(ri != ci)
        V = h1_information_expected(sig, False)[np.ix_(off, off)]
        nth = len(self.th_rows)
        w = self._wmat()
        D = self.delta(self.theta)
        einv = np.linalg.inv(D.T @ w @ D)
        Dc = D[nth:]
        gam = self.mom.gamma[nth:, nth:]
        wiu = np.eye(len(off)) - Dc @ einv @ Dc.T @ w[nth:, nth:]
        c3 = float(np.trace(wiu.T @ V @ wiu @ gam)) / df
        df_null = p * (p - 1) / 2
        c3_null = float(np.trace(gam)) / df_null
        # lavaan's RMSEA for (D)WLS uses N - 1
        return robust_fit_measures(xx3, df, c3, xx3_null, chisq_b_df, c3_null, self.n - 1)
