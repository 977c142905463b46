"""WLSMV: diagonally weighted least squares on polychoric correlations.

lavaan's ``estimator = "WLSMV"`` with ``ordered =`` (Muthén, du Toit &
Spisic, 1997; Flora & Curran, 2004):

1. thresholds and polychoric correlations (two-step), and their asymptotic
   covariance matrix :math:`\\Gamma`, from :mod:`ckm_research.sem.ordinal`
   (with continuous items among them: means, variances, polyserial and
   Pearson covariances from :mod:`ckm_research.sem.mixed`), per group;
2. estimates minimising :math:`F = (s - \\sigma(\\theta))^\\top W_D
   (s - \\sigma(\\theta))`, :math:`W_D = \\operatorname{diag}(\\Gamma)^{-1}`, by
   Gauss-Newton, with the model in lavaan's *delta* parameterization (the
   latent responses have variance :math:`1/\\delta^2`, 1 unless the scaling
   factors ``~*~`` are free, so the residual variances of the items follow and
   are not free) or its *theta* parameterization (unit residual variances, the
   scaling factors follow);
3. robust ("sandwich") standard errors and the scaled-and-shifted test
   statistic (Asparouhov & Muthén, 2010), with several groups stacked as
   lavaan stacks them.
"""

from __future__ import annotations

import numpy as np

from ckm_research.errors import CkmError, ConvergenceError
from ckm_research.numerics import minimize
from ckm_research.sem import fit_measures as fmx
from ckm_research.sem import ordinal as ordm
from ckm_research.sem.engine import BaseEngine
from ckm_research.sem.estimators import estimator_spec
from ckm_research.sem.standardized import standardize_all

__all__ = ["WLSMVEngine"]


class WLSMVEngine(BaseEngine):
    """DWLS estimation with robust inference (lavaan's WLSMV), one or several groups.

    With several groups every group has its own thresholds, polychoric
    correlations and :math:`\\Gamma`; lavaan 0.6.14 minimises
    :math:`\\sum_g \\tfrac12 (N_g - 1) F_g / N` (``lav_model_objective``) and
    stacks the groups with weights :math:`N_g/N` in the information, the robust
    covariance matrix (``lav_model_nvcov_robust_sem``, divided by :math:`N - G`)
    and the traces of :math:`U\\Gamma` (``lav_test_satorra_bentler``).  In the
    delta parameterization the model of group :math:`g` is
    :math:`\\tau^*_{ik} = (\\tau_{ik} - \\mu_i)\\,\\delta_i` and
    :math:`\\rho^*_{ij} = \\delta_i\\delta_j\\Sigma_{ij}`, with the residual
    variances :math:`1/\\delta_i^2 - \\operatorname{diag}(\\Lambda\\Psi\\Lambda^\\top)_i`
    (lavaan's ``computeTH.LISREL``, ``setResidualElements.LISREL``); the scaling
    factors :math:`\\delta` (``~*~``) and the latent means are free in groups 2..
    when ``group_equal`` holds ``"thresholds"`` (``lav_partable_flat``).
    """

    label = "WLSMV"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = estimator_spec(self.opts.estimator)
        self.label = self.spec.name
        t = self.pt.table
        ov = self.model.ov
        ord_set = set(self.opts.ordered)
        self.is_ordered = np.array([v in ord_set for v in ov])
        self.mixed = not self.is_ordered.all()
        covariates = [v for v in self.pt.roles.ov_x if v in ov]
        if covariates:
            raise CkmError(
                f"{self.label} with observed exogenous covariates ("
                + ", ".join(covariates)
                + ") is not supported: lavaan treats them with conditional.x = TRUE "
                "(probit/linear regressions on the covariates); make them indicators, or fit "
                "the model in lavaan"
            )
        if self.mixed:
            from ckm_research.sem.mixed import mixed_moments

            self.moms = [mixed_moments(gd.data, list(ov), self.is_ordered) for gd in self.groups]
        else:
            self.moms = [ordm.ordinal_moments(gd.data, names=list(ov)) for gd in self.groups]
        self._check_categories()
        self.weights = [self._weight(m.gamma) for m in self.moms]
        ops = t["op"].to_numpy()
        lhs = t["lhs"].to_numpy()
        rhs = t["rhs"].to_numpy()
        grp = t["group"].to_numpy()
        # per group: rows of the parameter table holding each model threshold (wls_obs
        # order; -1 for the slot of a continuous item, its negated mean) and each item's
        # scaling factor (~*~)
        self.th_rows_g, self.th_item_g, self.delta_rows_g = [], [], []
        for g, mom in enumerate(self.moms):
            rows, items = [], []
            for i, v in enumerate(ov):
                if not self.is_ordered[i]:
                    rows.append(-1)
                    items.append(i)
                    continue
                for k in range(len(mom.thresholds[i])):
                    hit = np.flatnonzero(
                        (ops == "|") & (lhs == v) & (rhs == f"t{k + 1}") & (grp == g + 1)
                    )
                    if not len(hit):
                        raise CkmError(
                            f"no threshold t{k + 1} for the ordinal item '{v}' in the model"
                        )
                    rows.append(hit[0])
                    items.append(i)
            self.th_rows_g.append(np.asarray(rows, dtype=int))
            self.th_item_g.append(np.asarray(items, dtype=int))
            drow = []
            for v in ov:
                hit = np.flatnonzero((ops == "~*~") & (lhs == v) & (grp == g + 1))
                drow.append(hit[0] if len(hit) else -1)
            self.delta_rows_g.append(np.asarray(drow, dtype=int))
        self.num_idx = np.flatnonzero(~self.is_ordered)
        self.theta_param = getattr(self.opts, "parameterization", "delta") == "theta"
        # delta parameterization: the ordinal items' residual variances are computed;
        # theta: they are parameters (fixed at 1 or free) and the scaling factors follow
        self.resvar_rows = np.flatnonzero(
            (ops == "~~")
            & (lhs == rhs)
            & np.isin(lhs, ov)
            & (t["free"].to_numpy() == 0)
            & np.isin(lhs, list(self.opts.ordered))
            & (not self.theta_param)
        )
        self.n_per_group = [m.n for m in self.moms]
        self.ntotal = int(sum(self.n_per_group))
        self.n = self.ntotal
        # single-group names kept for the diagnostics (modindices, lavResiduals)
        self.mom = self.moms[0]
        self.weight = self.weights[0]
        self.th_rows = self.th_rows_g[0]

    def _check_categories(self) -> None:
        """Every group must have every category of every item (lavaan stops too)."""
        if len(self.moms) < 2:
            return
        ov = self.model.ov
        for i, v in enumerate(ov):
            if not self.is_ordered[i]:
                continue
            levels = [tuple(np.asarray(m.levels[i]).tolist()) for m in self.moms]
            if len(set(levels)) > 1:
                allv = sorted(set().union(*levels))
                bad = [
                    f"{gd.label} ({', '.join(map(str, sorted(set(allv) - set(lv))))})"
                    for gd, lv in zip(self.groups, levels, strict=True)
                    if set(lv) != set(allv)
                ]
                raise CkmError(
                    f"the ordinal item '{v}' has categories that are empty in some groups: "
                    + "; ".join(bad)
                    + ". Every group needs every category for multiple-group "
                    f"{self.label} (lavaan stops too); merge the sparse categories."
                )

    def _weight(self, gamma: np.ndarray) -> np.ndarray:
        """lavaan's ``WLS.V`` of the estimator: the diagonal of :math:`\\Gamma^{-1}`
        (DWLS, a vector), the identity (ULS, a vector of ones) or the full
        :math:`\\Gamma^{-1}` (WLS; Browne, 1984; Muthén, 1984)."""
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

    def _wmat(self, g: int = 0) -> np.ndarray:
        """The weight of group ``g`` as a full matrix."""
        w = self.weights[g]
        return np.diag(w) if w.ndim == 1 else w

    # ------------------------------------------------------------- stacking
    @property
    def ngroups(self) -> int:
        return len(self.moms)

    def _fg(self) -> np.ndarray:
        return np.asarray(self.n_per_group, float) / self.ntotal

    def _stack_weight(self, factors) -> np.ndarray:
        """Block-diagonal weight with group ``g`` multiplied by ``factors[g]``."""
        ws = [f * w for f, w in zip(factors, self.weights, strict=True)]
        if all(w.ndim == 1 for w in ws):
            return np.concatenate(ws)
        from scipy.linalg import block_diag

        return block_diag(*[np.diag(w) if w.ndim == 1 else w for w in ws])

    def _stack_gamma(self) -> np.ndarray:
        """lavaan's ``Gamma.all``: block diagonal of :math:`\\Gamma_g / f_g`."""
        from scipy.linalg import block_diag

        return block_diag(*[m.gamma / f for m, f in zip(self.moms, self._fg(), strict=True)])

    def wls_obs_all(self) -> np.ndarray:
        return np.concatenate([m.wls_obs for m in self.moms])

    # ------------------------------------------------------------- model side
    def _deltas(self, vals: np.ndarray, g: int) -> np.ndarray:
        """Scaling factors :math:`\\delta_i` of group ``g``: the ``~*~`` rows (1 for a
        continuous item) in the delta parameterization; in the theta
        parameterization :math:`1/\\sqrt{\\Sigma_{ii}}` of the ordinal items (lavaan's
        ``setDeltaElements``)."""
        if self.theta_param:
            A, S, _ = self.model._matrices(vals, g)
            E = self.model.total_effects_inverse(A)
            var = np.diag(E @ S @ E.T)[: self.model.n_ov]
            return np.where(self.is_ordered, 1.0 / np.sqrt(np.abs(var)), 1.0)
        dr = self.delta_rows_g[g]
        return np.where(dr >= 0, vals[np.maximum(dr, 0)], 1.0)

    def full_row_values(self, theta: np.ndarray) -> np.ndarray:
        """Row values with the items' residual variances implied by the scaling
        factors, :math:`1/\\delta_i^2 - (\\Lambda\\Psi\\Lambda^\\top)_{ii}`
        (delta parameterization; unit variances when :math:`\\delta = 1`)."""
        vals = self.model.row_values(theta)
        vals[self.resvar_rows] = 0.0
        pos = {v: i for i, v in enumerate(self.model.variables)}
        t = self.pt.table
        lhs = t["lhs"].to_numpy()
        grp = t["group"].to_numpy()
        for g in range(self.ngroups):
            rows = self.resvar_rows[grp[self.resvar_rows] == g + 1]
            if not len(rows):
                continue
            A, S, _ = self.model._matrices(vals, g)
            E = self.model.total_effects_inverse(A)
            C = E @ S @ E.T
            d = self._deltas(vals, g)
            for r in rows:
                i = pos[lhs[r]]
                vals[r] = 1.0 / d[i] ** 2 - C[i, i]
        if self.theta_param:  # report the implied scaling factors, as lavaan does
            for g in range(self.ngroups):
                dr = self.delta_rows_g[g]
                vals[dr[dr >= 0]] = self._deltas(vals, g)[dr >= 0]
        return vals

    def _group_est(self, theta: np.ndarray, g: int, vals=None):
        """Model thresholds and correlations of group ``g`` (lavaan's ``WLS.est``)."""
        if vals is None:
            vals = self.model.row_values(theta)
        A, S, m = self.model._matrices(vals, g)
        E = self.model.total_effects_inverse(A)
        p = self.model.n_ov
        sigma = (E @ S @ E.T)[:p, :p]
        mu = (E @ m)[:p]
        d = self._deltas(vals, g)
        items = self.th_item_g[g]
        rows = self.th_rows_g[g]
        tau = np.where(rows >= 0, vals[np.maximum(rows, 0)], 0.0)
        th = (tau - mu[items]) * d[items]
        r, c = np.tril_indices(p, k=-1)
        order = np.lexsort((r, c))
        r, c = r[order], c[order]
        num = self.num_idx
        return np.concatenate([th, sigma[num, num], d[r] * d[c] * sigma[r, c]])

    def wls_est(self, theta: np.ndarray) -> np.ndarray:
        """``WLS.est`` of every group, stacked."""
        vals = self.model.row_values(theta)
        return np.concatenate([self._group_est(theta, g, vals) for g in range(self.ngroups)])

    def _unit(self, row: int) -> np.ndarray:
        e = np.zeros(self.model.n_free)
        if row >= 0 and self.model.free[row] > 0:
            e[self.model.free[row] - 1] = 1.0
        return e

    def _group_delta(self, theta: np.ndarray, g: int, vals: np.ndarray) -> np.ndarray:
        """:math:`\\partial\\,\\mathrm{WLS.est}_g/\\partial\\theta^\\top` by the chain rule:
        the RAM Jacobian of :math:`(\\mu, \\Sigma)` times the scaling factors, plus
        the thresholds' and scaling factors' own columns."""
        from ckm_research.sem.model import vech_indices

        p = self.model.n_ov
        J = self.model.jacobian(theta, g, meanstructure=True, diagonal=True)
        dmu, dvech = J[:p], J[p:]
        vi, vj = vech_indices(p)
        at = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(vi, vj, strict=True))}
        A, S, m = self.model._matrices(vals, g)
        E = self.model.total_effects_inverse(A)
        sigma = (E @ S @ E.T)[:p, :p]
        mu = (E @ m)[:p]
        d = self._deltas(vals, g)
        if self.theta_param:
            # d delta_i = -1/2 Sigma_ii^(-3/2) d Sigma_ii for the ordinal items
            dd = np.array(
                [
                    -0.5 * d[i] ** 3 * dvech[at[(i, i)]]
                    if self.is_ordered[i]
                    else np.zeros(self.model.n_free)
                    for i in range(p)
                ]
            ).reshape(p, self.model.n_free)
        else:
            dd = np.array([self._unit(r) for r in self.delta_rows_g[g]])  # (p, q)
        items = self.th_item_g[g]
        th_rows = self.th_rows_g[g]
        D_th = np.array(
            [
                d[i] * (self._unit(r) - dmu[i]) + ((vals[r] if r >= 0 else 0.0) - mu[i]) * dd[i]
                for r, i in zip(th_rows, items, strict=True)
            ]
        ).reshape(len(th_rows), self.model.n_free)
        D_var = dvech[[at[(int(i), int(i))] for i in self.num_idx]]
        r, c = np.tril_indices(p, k=-1)
        order = np.lexsort((r, c))
        r, c = r[order], c[order]
        dsig = dvech[[at[(int(a), int(b))] for a, b in zip(r, c, strict=True)]]
        D_cor = (d[r] * d[c])[:, None] * dsig + sigma[r, c][:, None] * (
            d[c][:, None] * dd[r] + d[r][:, None] * dd[c]
        )
        return np.vstack([D_th, D_var, D_cor])

    def delta_groups(self, theta: np.ndarray) -> list[np.ndarray]:
        vals = self.model.row_values(theta)
        return [self._group_delta(theta, g, vals) for g in range(self.ngroups)]

    def delta(self, theta: np.ndarray) -> np.ndarray:
        """lavaan's ``Delta`` of all groups, stacked."""
        return np.vstack(self.delta_groups(theta))

    # -------------------------------------------------------------- estimate
    def _start(self) -> np.ndarray:
        from ckm_research.sem.ml import SampleMoments, start_values

        moms = [SampleMoments(m.n, *self.sample_moments(g)) for g, m in enumerate(self.moms)]
        theta = start_values(self.model, moms)
        t = self.pt.table
        free = self.model.free
        for g, mom in enumerate(self.moms):
            obs_th = mom.wls_obs[: len(self.th_rows_g[g])]
            for k, r in enumerate(self.th_rows_g[g]):
                if r >= 0 and free[r] > 0:
                    theta[free[r] - 1] = obs_th[k]
            for r in self.delta_rows_g[g]:
                if r >= 0 and free[r] > 0:
                    theta[free[r] - 1] = 1.0
        lv = set(self.model.lv)
        for r in np.flatnonzero((t["op"].to_numpy() == "~1") & (free > 0)):
            if t["lhs"].iat[r] in lv:
                theta[free[r] - 1] = 0.0
        return theta

    def _objective_weight(self) -> np.ndarray:
        """Weight of the stacked residuals in lavaan's objective, group ``g`` times
        :math:`(N_g - 1)/N` (``lav_model_objective``; any constant factor would do
        for one group)."""
        return self._stack_weight([(n - 1) / self.ntotal for n in self.n_per_group])

    def estimate(self) -> None:
        s = self.wls_obs_all()
        w = self._objective_weight()
        theta = self._start()
        resid = s - self.wls_est(theta)
        f = ordm.wls_discrepancy(s, s - resid, w)
        def objective(x):
            r = s - self.wls_est(x)
            return ordm.wls_discrepancy(s, s - r, w), r

        def gauss_newton(x, f, resid, it, step):
            D = self.delta(x)
            WD = ordm._w_times(w, D)
            try:
                return np.linalg.solve(D.T @ WD, WD.T @ resid), None
            except np.linalg.LinAlgError:
                from ckm_research.errors import IdentificationError

                raise IdentificationError(
                    "the model is not identified: Delta' W Delta is singular"
                ) from None

        # Gauss-Newton on the (D)WLS discrepancy; a step shorter than 1e-8 is taken
        # whatever the discrepancy
        res = minimize(
            objective,
            theta,
            gauss_newton,
            f0=f,
            state0=resid,
            max_iter=self.opts.iter_max,
            ftol=1e-14,
            xtol=1e-8,
            armijo=0.0,
            min_alpha=1e-8,
            accept_below_min=True,
        )
        if res.status != "converged":
            raise ConvergenceError(
                f"{self.spec.fitted_by} estimation did not converge in {self.opts.iter_max} "
                "iterations; simplify the model or check for categories with very few answers"
            )
        theta, f, self.iterations = res.x, res.fun, res.nit
        self.theta = theta
        # sum over groups of (N_g - 1) F_g: lavaan's test statistic
        self.chisq_dwls = f * self.ntotal
        self.fmin_dwls = f

    def row_values(self) -> np.ndarray:
        return self.full_row_values(self.theta)

    def std_all(self, theta: np.ndarray) -> np.ndarray:
        return standardize_all(self.model, theta, row_est=self.full_row_values(theta))

    def vcov(self) -> np.ndarray:
        """lavaan's ``robust.sem`` (or ``standard``) covariance matrix for several
        groups: the single-group formulas on the stacked :math:`\\Delta`, weight
        :math:`f_g W_g` and :math:`\\Gamma_g/f_g`, divided by :math:`N - G`."""
        D = self.delta(self.theta)
        V = self._stack_weight(self._fg())
        n_eff = self.ntotal - self.ngroups + 1  # the functions divide by n - 1
        if self.spec.se == "robust.sem":
            return ordm.robust_vcov_wls(D, V, self._stack_gamma(), n_eff)
        return ordm.standard_vcov_wls(D, V, n_eff)

    def ndat(self) -> int:
        return sum(len(m.wls_obs) for m in self.moms)

    def sample_moments(self, g: int):
        """Polychoric (polyserial) correlations, with the variances and means of
        continuous items when there are any."""
        m = self.moms[g]
        if self.mixed:
            return m.cov, m.mean
        return m.corr, np.zeros(self.model.n_ov)

    def _implied_cor(self, g: int) -> np.ndarray:
        """Model-implied correlations of the latent responses of group ``g``."""
        vals = self.full_row_values(self.theta)
        A, S, _ = self.model._matrices(vals, g)
        E = self.model.total_effects_inverse(A)
        p = self.model.n_ov
        d = self._deltas(vals, g)
        sig = (E @ S @ E.T)[:p, :p] * np.outer(d, d)
        o = np.flatnonzero(self.is_ordered)
        sig[o, o] = 1.0
        return sig

    def implied_moments(self):
        import pandas as pd

        out = super().implied_moments()
        for g, v in enumerate(out.values()):
            v["cov"] = pd.DataFrame(
                self._implied_cor(g), index=self.model.ov, columns=self.model.ov
            )
        return out

    def residuals(self, type: str = "cor.bentler"):  # noqa: A002
        import pandas as pd

        out = {}
        for g, gd in enumerate(self.groups):
            key = "residuals" if gd.label is None else str(gd.label)
            out[key] = pd.DataFrame(
                self.sample_moments(g)[0] - self._implied_cor(g),
                index=self.model.ov,
                columns=self.model.ov,
            )
        return out

    # ---------------------------------------------------------- fit measures
    def _baseline(self):
        """Independence model: free thresholds in every group, zero correlations,
        fitted with the estimator's weight (the thresholds are the sample ones
        unless the weight is full WLS, whose thresholds absorb the correlations'
        residuals)."""
        chisq, f, df, ests, deltas = 0.0, 0.0, 0, [], []
        p = self.model.n_ov
        for g, mom in enumerate(self.moms):
            # thresholds (negated means) and variances are free, covariances zero
            nth = len(mom.wls_obs) - p * (p - 1) // 2
            s = mom.wls_obs
            w = self.weights[g]
            th = s[:nth].copy()
            if w.ndim == 2:
                th += np.linalg.solve(w[:nth, :nth], w[:nth, nth:] @ s[nth:])
            est = np.concatenate([th, np.zeros(len(s) - nth)])
            fg = ordm.wls_discrepancy(s, est, w)
            chisq += (mom.n - 1) * fg
            f += (mom.n - 1) * fg / self.ntotal
            df += len(s) - nth
            D = np.zeros((len(s), nth))
            D[np.arange(nth), np.arange(nth)] = 1.0
            deltas.append(D)
            ests.append(est)
        from scipy.linalg import block_diag

        test = self._test(chisq, df, block_diag(*deltas))
        return chisq, df, test, f

    def _test(self, chisq, df, D):
        """The estimator's robust test (None for ``test = "standard"``), on the
        stacked groups (lavaan's ``Gamma.all``, ``V.all``)."""
        fn = ordm.ROBUST_TESTS.get(self.spec.test)
        if fn is None:
            return None
        return fn(chisq, df, D, self._stack_weight(self._fg()), self._stack_gamma())

    def fit_measures(self) -> dict[str, float]:
        s = self.wls_obs_all()
        est = self.wls_est(self.theta)
        n = self.ntotal
        G = self.ngroups
        # lavaan's statistic: sum over groups of (N_g - 1) F_g
        chisq = float(
            ordm.wls_discrepancy(s, est, self._stack_weight([m.n - 1 for m in self.moms]))
        )
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
        # lavaan's RMSEA for (D)WLS uses N - G (its test statistic is sum (N_g - 1) F_g)
        n1 = n - G
        fm: dict[str, float] = {
            "npar": float(npar),
            "fmin": float(chisq / (2 * n)),
        }
        fm.update(
            fmx.chisq_based_measures(chisq, df, chisq_b, df_b, n, ngroups=G, npar=npar, n_rmsea=n1)
        )
        if test is not None:
            from ckm_research.sem.mlm import scaled_and_robust_measures

            # the .scaled measures as for ML (on N - G); the .robust ones by catML below
            scaled = scaled_and_robust_measures(test, test_b, chisq, df, chisq_b, df_b, n1, G)
            fm.update({k: v for k, v in scaled.items() if not k.endswith(".robust")})
            if test.test == "scaled.shifted":
                fm["chisq.shift.parameters"] = float(test.shift_parameter)
            if test.test != "mean.var.adjusted":
                fm.update(self.catml_robust())
        fm.update(self._residual_measures(df))
        # weighted root mean square residual (Muthen, 1998-2004 Mplus technical appendix);
        # lavaan 0.6.14 divides by the number of statistics of the first group only
        fm["wrmr"] = float(np.sqrt(chisq / len(self.moms[0].wls_obs)))
        return fm

    def _residual_measures(self, df) -> dict[str, float]:
        """SRMR, RMR, CRMR and GFI/AGFI/PGFI, as lavaan's categorical branch of
        ``lav_residuals_summary``: SRMR on the residuals divided by the sample
        standard deviations (lower triangle with the diagonal), RMR on the raw
        residuals, CRMR on the correlation residuals (no diagonal); the "mean"
        versions also count the thresholds of the ordered items.  With several
        groups the average over the groups weighted by :math:`N_g/N`."""
        keys = (
            "srmr_bentler_nomean", "srmr_bentler", "rmr_nomean", "rmr", "crmr_nomean", "crmr",
            "gfi",
        )  # fmt: skip
        acc = dict.fromkeys(keys, 0.0)
        est_all = self.wls_est(self.theta)
        off = 0
        for g, (mom, f) in enumerate(zip(self.moms, self._fg(), strict=True)):
            m = len(mom.wls_obs)
            est = est_all[off : off + m]
            off += m
            S = self.sample_moments(g)[0]
            sig = self._implied_cor(g)
            sd = np.sqrt(np.diag(S))
            raw = S - sig
            std = raw / np.outer(sd, sd)
            isd = np.sqrt(np.diag(sig))
            cor = S / np.outer(sd, sd) - sig / np.outer(isd, isd)
            p = S.shape[0]
            il = np.tril_indices(p)
            lo = np.tril_indices(p, k=-1)
            rows = self.th_rows_g[g]
            th_res = (mom.wls_obs[: len(rows)] - est[: len(rows)])[rows >= 0]
            nth = len(th_res)
            ss_th = float(np.sum(th_res**2))
            pstar = p * (p + 1) / 2
            ss_std, ss_raw = float(np.sum(std[il] ** 2)), float(np.sum(raw[il] ** 2))
            ss_cor = float(np.sum(cor[lo] ** 2))
            one = {
                "srmr_bentler_nomean": np.sqrt(ss_std / pstar),
                "srmr_bentler": np.sqrt((ss_std + ss_th) / (pstar + nth)),
                "rmr_nomean": np.sqrt(ss_raw / pstar),
                "rmr": np.sqrt((ss_raw + ss_th) / (pstar + nth)),
                "crmr_nomean": np.sqrt(ss_cor / len(lo[0])),
                "crmr": np.sqrt((ss_cor + ss_th) / (len(lo[0]) + nth)),
            }
            one.update(fmx.gfi(mom.wls_obs, est, self._wmat(g), df))
            for k in keys:
                acc[k] += f * float(one.get(k, np.nan))
        fm = {k: float(v) for k, v in acc.items()}
        # AGFI and PGFI from the pooled GFI and all groups' statistics (lav_fit_gfi_lavobject)
        nel = sum(len(m.wls_obs) for m in self.moms)
        fm["agfi"] = float(1.0 - (nel / df) * (1.0 - fm["gfi"]) if df > 0 else 1.0)
        fm["pgfi"] = float((df / nel) * fm["gfi"])
        fm["srmr"] = fm["srmr_bentler_nomean"]
        return fm

    def catml_robust(self) -> dict[str, float]:
        """Robust CFI/TLI/RMSEA for categorical data by the catML approach
        (Savalei, 2021, *Structural Equation Modeling* 28, 357-370; lavaan's
        ``lav_fit_catml_dwls``): the normal-theory ML discrepancy between the
        polychoric and the implied correlation matrices at the WLSMV estimates
        (summed over groups, :math:`\\sum_g N_g F_{ML,g}`), with a scaling factor
        from the DWLS information and :math:`\\Gamma` stacked over the groups.
        Its df are those of the correlation structure: the model's df without
        the thresholds and means (``lav_object_catml``).  Not defined (NaN, as in
        lavaan) when a polychoric matrix is not positive definite."""
        from scipy.linalg import block_diag

        from ckm_research.sem.model import vech_indices
        from ckm_research.sem.robust import h1_information_expected, robust_fit_measures

        if self.mixed:  # lavaan's lav_fit_catml_dwls: only for all items ordinal
            return {}
        p = self.model.n_ov
        npair = p * (p - 1) // 2
        t = self.pt.table
        ops = t["op"].to_numpy()
        free = t["free"].to_numpy()
        cor_free = np.unique(free[(free > 0) & ~np.isin(ops, ["|", "~1"])])
        df3 = self.ngroups * npair - len(cor_free)
        if df3 <= 0:
            return {}
        fg = self._fg()
        xx3 = xx3_null = 0.0
        Vs, Ws, Gs, Ds = [], [], [], []
        Dall = self.delta_groups(self.theta)
        ri, ci = vech_indices(p)
        offd = np.flatnonzero(ri != ci)
        for g, mom in enumerate(self.moms):
            R = mom.corr
            if np.linalg.eigvalsh(R).min() < np.sqrt(np.finfo(float).eps):
                return {}
            sig = self._implied_cor(g)
            K = np.linalg.inv(sig)
            _, ld_sig = np.linalg.slogdet(sig)
            _, ld_r = np.linalg.slogdet(R)
            xx3 += mom.n * (ld_sig + np.sum(K * R) - ld_r - p)
            xx3_null += mom.n * (-ld_r)
            nth = len(self.th_rows_g[g])
            Vs.append(fg[g] * h1_information_expected(sig, False)[np.ix_(offd, offd)])
            Ws.append(fg[g] * self._wmat(g)[nth:, nth:])
            Gs.append(mom.gamma[nth:, nth:] / fg[g])
            Ds.append(Dall[g][nth:])
        V, W, Gam, Dc = block_diag(*Vs), block_diag(*Ws), block_diag(*Gs), np.vstack(Ds)
        D = np.vstack(Dall)
        wfull = self._stack_weight(fg)
        WD = ordm._w_times(wfull, D)
        einv = np.linalg.inv(D.T @ WD)
        wiu = np.eye(Dc.shape[0]) - (Dc @ einv @ Dc.T) @ W
        # tr(wiu' V wiu Gam) without the last product
        c3 = float(np.sum((wiu.T @ V @ wiu) * Gam.T)) / df3
        df_null = self.ngroups * npair
        c3_null = float(np.trace(Gam)) / df_null
        # lavaan's RMSEA for (D)WLS uses N - G
        return robust_fit_measures(
            xx3, df3, c3, xx3_null, df_null, c3_null, self.ntotal - self.ngroups, self.ngroups
        )
