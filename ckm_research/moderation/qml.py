"""Quasi-maximum likelihood (QML) for latent interaction and quadratic effects.

Klein & Muthén (2007, *Multivariate Behavioral Research* 42(4), 647-673,
doi:10.1080/00273170701710205) approximate the non-normal density of the
indicators of a structural equation model with latent products by a product
of normal densities whose moments are exact; no numerical integration is
needed, so the cost does not grow with the number of product terms (LMS,
:mod:`ckm_research.moderation.lms`, integrates over one dimension per
moderator).

**Model class.**  Exogenous latent factors :math:`\\xi \\sim N(\\kappa,
\\Phi)` measured by :math:`x = \\tau_x + \\Lambda_x \\xi + \\delta`;
endogenous latent factors measured by :math:`y = \\tau_y + \\Lambda_y \\eta +
\\varepsilon`; the structural equations

.. math::

    \\eta = \\alpha + B \\eta + \\Gamma \\xi + \\Omega(\\xi) + \\zeta,
    \\qquad \\Omega_k(\\xi) = \\xi^\\top \\Omega_k \\xi

(Klein & Muthén, 2007), one symmetric :math:`\\Omega_k` per
endogenous factor holding its product terms (``Y ~ X:Z`` puts
:math:`\\omega/2` at :math:`(X, Z)` and :math:`(Z, X)`; ``Y ~ X:X`` puts
:math:`\\omega` at :math:`(X, X)`).  Both members of every product are
exogenous; :math:`\\delta, \\varepsilon, \\zeta, \\xi` are independent
(covariances inside :math:`\\Theta_\\delta`, :math:`\\Theta_\\varepsilon`,
:math:`\\Psi`, :math:`\\Phi` are allowed).

**The likelihood.**  Each endogenous factor has a scaling indicator
:math:`y_s` with loading 1 and no other loading, so :math:`y_s - \\tau_s =
\\eta + \\varepsilon_s`.  The other indicators :math:`y_o` are turned into
:math:`u = (y_o - \\tau_o) - \\Lambda_o (y_s - \\tau_s) = \\varepsilon_o -
\\Lambda_o \\varepsilon_s = R\\,\\varepsilon`, free of :math:`\\eta`
(Klein & Muthén's elimination of the latent outcome).  The map
:math:`(x, y) \\mapsto (x, u, y_s)` has Jacobian 1, and

.. math::

    f(x, y) = \\phi(x;\\, \\tau_x + \\Lambda_x\\kappa,\\, \\Sigma_x)\\;
              \\phi(u;\\, 0,\\, R\\Theta_\\varepsilon R^\\top)\\;
              f(y_s \\mid x, u),

the first two factors exactly normal, :math:`\\Sigma_x = \\Lambda_x
\\Phi \\Lambda_x^\\top + \\Theta_\\delta`.  Given :math:`x`, :math:`\\xi \\sim
N(m, \\Sigma_1)` with :math:`m = \\kappa + \\Phi\\Lambda_x^\\top
\\Sigma_x^{-1}(x - \\tau_x - \\Lambda_x\\kappa)`, :math:`\\Sigma_1 = \\Phi -
\\Phi\\Lambda_x^\\top \\Sigma_x^{-1}\\Lambda_x\\Phi`; given :math:`u`,
:math:`\\varepsilon_s \\sim N(L_2 u, \\Sigma_2)` with :math:`L_2 =
\\Theta_{s\\varepsilon} R^\\top (R\\Theta_\\varepsilon R^\\top)^{-1}`.  QML
replaces :math:`f(y_s \\mid x, u)` by the normal density with its exact mean
and covariance:

.. math::

    E(y_s \\mid x, u) &= \\tau_s + B^{*}\\big(\\alpha + \\Gamma m
        + \\Omega(m) + \\operatorname{tr}(\\Omega_k\\Sigma_1)_k\\big) + L_2 u,\\\\
    \\operatorname{Var}(y_s \\mid x, u) &= B^{*}\\big(A \\Sigma_1 A^\\top
        + \\Psi + V\\big) B^{*\\top} + \\Sigma_2,

:math:`B^{*} = (I - B)^{-1}`, :math:`A = \\Gamma + 2\\,(m^\\top\\Omega_k)_k`
(the gradient of :math:`\\Gamma\\xi + \\Omega(\\xi)` at :math:`m`),
:math:`V_{kl} = 2\\operatorname{tr}(\\Omega_k\\Sigma_1\\Omega_l\\Sigma_1)` (the
covariance of the centred quadratic forms of a normal vector).  The only
approximation is the normality of this last factor: with no product term (or
every :math:`\\Omega_k = 0`) the QML log-likelihood is exactly the normal
log-likelihood of the linear model (``tests/test_moderation_qml.py`` checks it
against the multivariate normal density at arbitrary parameter values and
against the ML fit of the linear model).

**Estimation.**  The quasi-log-likelihood is maximised by BFGS
(:func:`ckm_research.numerics.bfgs`) with its analytic gradient
(:meth:`QMLEngine.analytic_gradient`, reverse-mode matrix calculus), started
from the ML fit of the model without products; standard errors come from the
observed information, the negative Hessian of the quasi-log-likelihood
(:func:`ckm_research.numerics.numerical_hessian`, central differences of the
analytic gradient; modsem's default ``FIM = "observed"``).  Incomplete cases are
deleted listwise.

**Compared with modsem.**  modsem's QML (read in its ``src/equations_qml.cpp``)
uses the same conditional mean and variance with one outcome; with several
outcomes it keeps only the diagonal of :math:`V` (the covariances between the
outcomes' quadratic forms are left out), where this module keeps all of it.
modsem also takes products with an endogenous member (the path matrix then
depends on :math:`\\xi`); here they are refused with a pointer to LMS.

In R: ``modsem::modsem(model, data, method = "qml")``.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg as sla

from ckm_research.errors import (
    CkmError,
    ModelSpecificationError,
)
from ckm_research.moderation.interaction_engine import InteractionOptions, select_cases
from ckm_research.moderation.lms import (
    LMSModel,
    _bfgs_start,
    _linear_start,
    _LMSOutput,
    _maximise,
    _ram_gradient,
    gauss_hermite_grid,
)
from ckm_research.numerics import numerical_hessian
from ckm_research.sem.results import SEMResults
from ckm_research.sem.syntax import parse_model

__all__ = ["QMLStructure", "QMLEngine", "fit_qml"]

_LOG2PI = np.log(2.0 * np.pi)


class QMLStructure:
    """The blocks of Klein & Muthén's (2007) model read from an :class:`LMSModel`.

    Parameters
    ----------
    model : LMSModel
        The parsed interaction model (its base RAM model and product terms).

    Attributes
    ----------
    xi, eta : list of int
        Positions (in ``model.variables``) of the exogenous and endogenous
        latent factors.
    ix, iy : list of int
        Positions of the indicators of :math:`\\xi` and of :math:`\\eta`.
    scaling : list of int
        The scaling indicator of each endogenous factor (in ``eta`` order).
    others : list of int
        The other indicators of the endogenous factors.

    Raises
    ------
    ModelSpecificationError
        For models outside the class QML takes (see the module docstring),
        naming the variable and the alternative.
    """

    def __init__(self, model: LMSModel):
        ram = model.ram
        self.model = model
        variables = list(model.variables)
        pos = {v: i for i, v in enumerate(variables)}
        p = len(model.ov)
        xi_names = list(model.xi)
        lv = list(ram.lv)
        eta_names = [v for v in lv if v not in xi_names]
        for t in model.terms:
            for member in t.term.split(":"):
                if member not in xi_names:
                    raise ModelSpecificationError(
                        f"QML needs both members of a product term to be exogenous latent "
                        f"factors; '{member}' in '{t.term}' (line {t.line}) is endogenous. "
                        "Use interaction='lms' (an endogenous member with an exogenous "
                        "moderator) or interaction='dblcent'"
                    )
        if not eta_names:
            raise ModelSpecificationError("QML needs an endogenous latent factor (Y ~ X + Z + X:Z)")
        self.xi = [pos[v] for v in xi_names]
        self.eta = [pos[v] for v in eta_names]
        # structural pattern: entries that are free or fixed at a non-zero value
        gm = ram.groups[0]
        vals = ram.values
        free = ram.free
        on = lambda rows: (free[rows] > 0) | (np.nan_to_num(vals[rows]) != 0)  # noqa: E731
        n = len(variables)
        Apat = np.zeros((n, n), dtype=bool)
        sel = on(gm.a_rows)
        Apat[gm.a_i[sel], gm.a_j[sel]] = True
        Spat = np.zeros((n, n), dtype=bool)
        sel = on(gm.s_rows)
        Spat[gm.s_i[sel], gm.s_j[sel]] = True
        Spat |= Spat.T
        xi_set, eta_set = set(self.xi), set(self.eta)
        ix, iy = [], []
        for i in range(p):
            parents = set(np.flatnonzero(Apat[i]))
            name = variables[i]
            if parents & set(range(p)):
                raise ModelSpecificationError(
                    f"QML here needs observed variables to be indicators only; '{name}' is "
                    "regressed on another observed variable (use interaction='lms')"
                )
            if parents and parents <= xi_set:
                ix.append(i)
            elif parents and parents <= eta_set:
                iy.append(i)
            elif parents:
                raise ModelSpecificationError(
                    f"QML needs each indicator to load on exogenous or on endogenous factors, "
                    f"not both; '{name}' loads on "
                    + ", ".join(variables[j] for j in sorted(parents))
                    + " (use interaction='lms')"
                )
            else:
                raise ModelSpecificationError(
                    f"QML needs every observed variable to be an indicator of a latent factor; "
                    f"'{name}' is not (write it as a single-indicator factor)"
                )
        self.ix, self.iy = ix, iy
        for a in self.xi:
            if Apat[a].any():
                raise ModelSpecificationError(
                    f"'{variables[a]}' is exogenous but has an incoming path"
                )
        for e in self.eta:
            if Apat[e, :p].any():
                raise ModelSpecificationError(
                    f"QML needs the endogenous factor '{variables[e]}' to depend on latent "
                    "factors only (use interaction='lms')"
                )
        lat = self.xi + self.eta
        checks = [
            (self.xi, self.eta, "exogenous factors and structural residuals"),
            (ix, iy, "residuals of indicators of exogenous and endogenous factors"),
            (lat, list(range(p)), "latent factors and indicator residuals"),
        ]
        for rows, cols, what in checks:
            if Spat[np.ix_(rows, cols)].any():
                raise ModelSpecificationError(
                    f"QML needs {what} to be uncorrelated (Klein & Muthén, 2007); remove the "
                    "covariance or use interaction='lms'"
                )
        # scaling indicator of each endogenous factor: loading fixed at 1, no other loading
        scaling = []
        for e in self.eta:
            cand = None
            for r, i, j in zip(gm.a_rows, gm.a_i, gm.a_j, strict=True):
                if j == e and i in iy and free[r] == 0 and vals[r] == 1.0 and Apat[i].sum() == 1:
                    cand = int(i)
                    break
            if cand is None:
                raise ModelSpecificationError(
                    f"QML needs an indicator of '{variables[e]}' with its loading fixed at 1 "
                    "and no other loading (lavaan's default: the first indicator; std_lv=False)"
                )
            scaling.append(cand)
        self.scaling = scaling
        self.others = [i for i in iy if i not in scaling]
        # the product coefficients: (equation index, a, b) in xi order
        xi_index = {v: k for k, v in enumerate(self.xi)}
        eta_index = {v: k for k, v in enumerate(self.eta)}
        self.term_cells = [
            (
                eta_index[pos[t.lhs]],
                xi_index[pos[t.term.split(":")[0]]],
                xi_index[pos[t.term.split(":")[1]]],
            )
            for t in model.terms
        ]


class QMLEngine(_LMSOutput):
    """Complete-data QML for an :class:`LMSModel` (Klein & Muthén, 2007).

    Parameters
    ----------
    model : LMSModel
    data : ndarray (N, p)
        Complete cases, columns in ``model.ov`` order.

    Notes
    -----
    The output (parameter table, ``std.all``, fit measures, likelihood-ratio
    test against the model without products) is that of the LMS engines:
    ``std.all`` uses the model-implied moments of the latent variables, which
    a Gauss-Hermite rule over the moderators gives exactly (the moments are
    polynomials of degree 4 at most in the nodes, and 3 nodes per dimension
    integrate degree 5 exactly).
    """

    label = "QML"

    def __init__(self, model: LMSModel, data: np.ndarray):
        self.model = model
        self.structure = QMLStructure(model)
        self.X = np.asarray(data, dtype=float)
        self.n = self.X.shape[0]
        self.z, self.w = gauss_hermite_grid(model.k, 3)  # exact to degree 5
        self.theta: np.ndarray | None = None
        self.n_evals = 0
        self.n_grads = 0
        st = self.structure
        ns, no = len(st.scaling), len(st.others)
        self._ns, self._no = ns, no
        self._xi, self._eta, self._x = st.xi, st.eta, st.ix
        self._ys, self._yall = st.scaling, st.scaling + st.others
        self._ncells = len(st.term_cells)
        self._ix = {
            "x_xi": np.ix_(st.ix, st.xi),
            "xi_xi": np.ix_(st.xi, st.xi),
            "x_x": np.ix_(st.ix, st.ix),
            "y_y": np.ix_(self._yall, self._yall),
            "yo_eta": np.ix_(st.others, st.eta),
            "eta_eta": np.ix_(st.eta, st.eta),
            "eta_xi": np.ix_(st.eta, st.xi),
        }
        self._X_x = self.X[:, st.ix]
        self._X_y = self.X[:, self._yall]
        self._X_s = self.X[:, st.scaling]
        # R maps (y_s, y_o) residuals to u = y_o - Lambda_o y_s (filled per theta)
        self._R_base = np.zeros((no, ns + no))
        self._R_base[:, ns:] = np.eye(no)

    # ------------------------------------------------ fit contract (run_engine)
    def _rebuilt(self, model: LMSModel) -> QMLEngine:
        """A new engine of ``model`` on the same data."""
        return QMLEngine(model, self.X)

    def interaction_info(self) -> dict:
        """``notes["interaction"]`` of the result: method, engine, scaling
        indicators, evaluations and time."""
        seconds, cpu = self.elapsed()
        return {
            "method": "qml",
            "engine": type(self).__name__,
            "missing": "listwise",
            "scaling_indicators": [self.model.variables[i] for i in self.structure.scaling],
            "function_evaluations": int(self.n_evals),
            "gradient_evaluations": int(self.n_grads),
            "seconds": seconds,
            "cpu_seconds": cpu,
        }

    def summary_lines(self) -> list[tuple[str, str]]:
        """The line ``summary()`` adds: the method."""
        return [("QML (Klein & Muthén, 2007)", "Latent interaction method")]

    # ------------------------------------------------------------- likelihood
    def loglik(self, theta: np.ndarray, per_case: bool = False):
        """Quasi-log-likelihood at ``theta`` (``-inf`` where a covariance matrix
        is not positive definite); per case with ``per_case=True``."""
        self.n_evals += 1
        try:
            out = self._loglik(theta)
        except np.linalg.LinAlgError:
            return -np.inf
        if not np.all(np.isfinite(out)):
            return -np.inf
        return out if per_case else float(out.sum())

    def _loglik(self, theta: np.ndarray) -> np.ndarray:
        M = self.model
        ix_ = self._ix
        ns, no = self._ns, self._no
        vals = M.ram.row_values(theta[: M.n_base])
        A, S, mvec = M.ram.matrices_from_rows(vals, 0)
        # x-part: exactly normal
        Lx = A[ix_["x_xi"]]
        Phi = S[ix_["xi_xi"]]
        kappa = mvec[self._xi]
        Sx = Lx @ Phi @ Lx.T + S[ix_["x_x"]]
        Cx = np.linalg.cholesky(Sx)
        dx = self._X_x - (mvec[self._x] + Lx @ kappa)
        zx = sla.solve_triangular(Cx, dx.T, lower=True, check_finite=False)  # (px, N)
        ll = (zx * zx).sum(axis=0)
        ll += len(self._x) * _LOG2PI + 2 * np.log(np.diag(Cx)).sum()
        LP = Lx @ Phi
        K = sla.cho_solve((Cx, True), LP, check_finite=False).T  # Phi Lx' Sx^-1 (nx, px)
        m = kappa + dx @ K.T  # (N, nx)
        Sigma1 = Phi - K @ LP
        # y-part: u = R (y - tau_y) is normal and free of eta
        ey = self._X_y - mvec[self._yall]
        Th = S[ix_["y_y"]]
        if no:
            R = self._R_base.copy()
            R[:, :ns] = -A[ix_["yo_eta"]]
            U = ey @ R.T
            ThR = Th @ R.T
            RTR = R @ ThR
            Cu = np.linalg.cholesky(RTR)
            zu = sla.solve_triangular(Cu, U.T, lower=True, check_finite=False)
            ll += (zu * zu).sum(axis=0)
            ll += no * _LOG2PI + 2 * np.log(np.diag(Cu)).sum()
            ThR = ThR[:ns]  # Cov(eps_s, u)
            L2 = sla.cho_solve((Cu, True), ThR.T, check_finite=False).T
            Sigma2 = Th[:ns, :ns] - L2 @ ThR.T
            mean = U @ L2.T
        else:
            Sigma2 = Th[:ns, :ns]
            mean = 0.0
        # scaling indicators given x and u: normal with the exact conditional moments
        Bstar = np.linalg.inv(np.eye(ns) - A[ix_["eta_eta"]])
        Gam = A[ix_["eta_xi"]]
        Om = self._omega(theta)
        ncell = self._ncells
        OS = Om @ Sigma1  # (ns, nx, nx)
        tr = np.trace(OS, axis1=1, axis2=2)
        inner = (mvec[self._eta] + tr) + m @ Gam.T  # (N, ns)
        V = 2.0 * np.einsum("kab,lba->kl", OS, OS)
        const = Bstar @ (S[ix_["eta_eta"]] + V) @ Bstar.T + Sigma2
        if ns == 1:
            if ncell:
                mO = m @ Om[0]  # (N, nx): m' Omega
                inner[:, 0] += (mO * m).sum(axis=1)
                Ag = Gam[0] + 2.0 * mO
            else:
                Ag = np.broadcast_to(Gam[0], m.shape)
            BA = Bstar[0, 0] * Ag
            var = ((BA @ Sigma1) * BA).sum(axis=1) + const[0, 0]
            d = (
                self._X_s[:, 0]
                - (mvec[self._ys][0] + Bstar[0, 0] * inner[:, 0])
                - (mean[:, 0] if no else 0.0)
            )
            if np.any(var <= 0):
                raise np.linalg.LinAlgError("non-positive conditional variance")
            ll += _LOG2PI + np.log(var) + d * d / var
            return -0.5 * ll
        mOm = np.einsum("nb,kab->nka", m, Om)  # (N, ns, nx): m' Omega_k
        inner += np.einsum("nka,na->nk", mOm, m)
        d = self._X_s - (mvec[self._ys] + inner @ Bstar.T + mean)
        BA = np.einsum("kl,nlx->nkx", Bstar, Gam[None, :, :] + 2.0 * mOm)
        cov = np.einsum("nkx,xy,nly->nkl", BA, Sigma1, BA) + const
        C = np.linalg.cholesky(cov)
        zs = np.linalg.solve(C, d[:, :, None])[:, :, 0]
        ll += ns * _LOG2PI + 2.0 * np.log(np.diagonal(C, axis1=1, axis2=2)).sum(axis=1)
        ll += (zs * zs).sum(axis=1)
        return -0.5 * ll

    def _omega(self, theta: np.ndarray) -> np.ndarray:
        """The symmetric :math:`\\Omega_k` of every endogenous factor, (ns, nx, nx)."""
        st = self.structure
        Om = np.zeros((self._ns, len(self._xi), len(self._xi)))
        for (k, a, b), om in zip(st.term_cells, self.model.omegas(theta), strict=True):
            Om[k, a, b] += 0.5 * om
            Om[k, b, a] += 0.5 * om
        return Om

    def analytic_gradient(self, theta: np.ndarray) -> np.ndarray | None:
        """Analytic gradient of the quasi-log-likelihood (``None`` where it is not
        defined).

        Reverse-mode matrix calculus through the three factors of the module
        docstring: the adjoints of :math:`\\Sigma_x, \\mu_x` (normal part), of
        :math:`R\\Theta_\\varepsilon R^\\top` and :math:`u` (normal part), and of
        each case's conditional mean and covariance of :math:`y_s`, carried back
        through :math:`m, \\Sigma_1, L_2, \\Sigma_2, B^{*}, A, V` to the matrices
        :math:`\\Lambda, \\Phi, \\Theta, \\Psi, B, \\Gamma, \\Omega` and the
        intercepts, and from there to the free parameters (as
        :class:`~ckm_research.moderation.lms.DenseLMSEngine` does).
        ``tests/test_moderation_qml.py`` checks it against central differences.
        """
        self.n_grads += 1
        try:
            return self._analytic_gradient(theta)
        except np.linalg.LinAlgError:
            return None

    def _analytic_gradient(self, theta: np.ndarray) -> np.ndarray | None:
        M = self.model
        ix_ = self._ix
        ns, no = self._ns, self._no
        xi, eta, xs, yall = self._xi, self._eta, self._x, self._yall
        N = self.n
        vals = M.ram.row_values(theta[: M.n_base])
        A, S, mvec = M.ram.matrices_from_rows(vals, 0)
        Lx = A[ix_["x_xi"]]
        Phi = S[ix_["xi_xi"]]
        kappa = mvec[xi]
        Sx = Lx @ Phi @ Lx.T + S[ix_["x_x"]]
        W = np.linalg.inv(Sx)
        dx = self._X_x - (mvec[xs] + Lx @ kappa)
        P = Lx @ Phi
        K = P.T @ W
        m = kappa + dx @ K.T
        Sigma1 = Phi - K @ P
        ey = self._X_y - mvec[yall]
        Th = S[ix_["y_y"]]
        if no:
            R = self._R_base.copy()
            R[:, :ns] = -A[ix_["yo_eta"]]
            U = ey @ R.T
            Ru = R @ Th @ R.T
            Rui = np.linalg.inv(Ru)
            T = Th[:ns] @ R.T
            L2 = T @ Rui
            Sigma2 = Th[:ns, :ns] - L2 @ T.T
            mean_u = U @ L2.T
        else:
            Sigma2 = Th[:ns, :ns]
            mean_u = 0.0
        Bstar = np.linalg.inv(np.eye(ns) - A[ix_["eta_eta"]])
        Gam = A[ix_["eta_xi"]]
        Psi = S[ix_["eta_eta"]]
        Om = self._omega(theta)
        OS = Om @ Sigma1
        tr = np.trace(OS, axis1=1, axis2=2)
        mOm = np.einsum("nb,kab->nka", m, Om)
        quad = np.einsum("nka,na->nk", mOm, m)
        inner = mvec[eta] + tr + m @ Gam.T + quad
        d = self._X_s - (mvec[self._ys] + inner @ Bstar.T + mean_u)
        Ag = Gam[None, :, :] + 2.0 * mOm
        BA = np.einsum("kl,nlx->nkx", Bstar, Ag)
        V = 2.0 * np.einsum("kab,lba->kl", OS, OS)
        const = Bstar @ (Psi + V) @ Bstar.T + Sigma2
        cov = np.einsum("nkx,xy,nly->nkl", BA, Sigma1, BA) + const
        ci = np.linalg.inv(cov)
        w = np.einsum("nkl,nl->nk", ci, d)  # d l / d mean
        Gc = -0.5 * (ci - np.einsum("nk,nl->nkl", w, w))  # d l / d cov (per case)
        # ---- backward through the scaling-indicator factor
        g_tau_s = w.sum(axis=0)
        g_Bstar = w.T @ inner
        g_inner = w @ Bstar  # (N, ns)
        g_BA = 2.0 * np.einsum("nkl,nlx,xy->nky", Gc, BA, Sigma1)
        g_Sigma1 = np.einsum("nkx,nkl,nly->xy", BA, Gc, BA)
        g_const = Gc.sum(axis=0)
        g_Bstar += np.einsum("nkx,nlx->kl", g_BA, Ag)
        g_Ag = np.einsum("kl,nkx->nlx", Bstar, g_BA)
        g_Gam = g_Ag.sum(axis=0) + g_inner.T @ m
        g_mOm = 2.0 * g_Ag
        g_m = np.einsum("nka,kab->nb", g_mOm, Om) + g_inner @ Gam
        g_m += 2.0 * np.einsum("nk,kab,nb->na", g_inner, Om, m)
        g_Om = np.einsum("nka,nb->kab", g_mOm, m) + np.einsum("nk,na,nb->kab", g_inner, m, m)
        g_alpha = g_inner.sum(axis=0)
        g_tr = g_alpha
        g_Om += g_tr[:, None, None] * Sigma1[None, :, :]
        g_Sigma1 += np.einsum("k,kab->ab", g_tr, Om)
        Gk = 0.5 * (g_const + g_const.T)
        g_Bstar += 2.0 * Gk @ Bstar @ (Psi + V)
        g_Psi = Bstar.T @ Gk @ Bstar
        g_V = g_Psi.copy()
        g_Sigma2 = Gk
        SOS = np.einsum("ab,lbc,cd->lad", Sigma1, Om, Sigma1)  # Sigma1 Om_l Sigma1
        gVs = g_V + g_V.T
        g_Om += 2.0 * np.einsum("kl,lab->kab", gVs, SOS)
        OSO = np.einsum("kab,bc,lcd->klad", Om, Sigma1, Om)  # Om_k Sigma1 Om_l
        g_Sigma1 += 2.0 * np.einsum("kl,klab->ab", g_V, OSO + np.swapaxes(OSO, 0, 1))
        g_B = Bstar.T @ g_Bstar @ Bstar.T
        # ---- the u factor and L2, Sigma2
        g_Th = np.zeros_like(Th)
        g_Th[:ns, :ns] += g_Sigma2
        g_tau_y = np.zeros(len(yall))
        g_tau_y[:ns] += g_tau_s
        if no:
            # Sigma2 = Th_ss - L2 T', L2 = T Ru^-1, T = Th_s R', Ru = R Th R', U = ey R'
            g_L2 = w.T @ U - g_Sigma2 @ T
            g_U = w @ L2 - U @ Rui  # from the mean and from the normal density of u
            g_T = -g_Sigma2.T @ L2 + g_L2 @ Rui
            DU = U.T @ U
            g_Ru = -0.5 * (N * Rui - Rui @ DU @ Rui) - Rui @ T.T @ g_L2 @ Rui
            g_R = g_T.T @ Th[:ns] + (g_Ru + g_Ru.T) @ R @ Th + g_U.T @ ey
            g_Th[:ns] += g_T @ R
            g_Th += R.T @ g_Ru @ R
            g_tau_y -= (g_U @ R).sum(axis=0)
            g_Lo = -g_R[:, :ns]
        # ---- the x factor, m and Sigma1
        g_kappa = g_m.sum(axis=0)
        g_K = g_m.T @ dx
        g_dx = g_m @ K
        g_mux = W @ dx.sum(axis=0) - g_dx.sum(axis=0)  # d l / d mu_x
        g_tau_x = g_mux
        g_Lx = np.outer(g_mux, kappa)
        g_kappa += Lx.T @ g_mux
        Dx = dx.T @ dx
        g_Sx = -0.5 * (N * W - W @ Dx @ W)
        g_Phi = g_Sigma1.copy()
        g_P = -W @ P @ (g_Sigma1 + g_Sigma1.T) + W @ g_K.T
        g_W = -P @ g_Sigma1 @ P.T + P @ g_K
        g_Sx += -W @ g_W @ W
        g_Lx += g_P @ Phi
        g_Phi += Lx.T @ g_P
        Gs = 0.5 * (g_Sx + g_Sx.T)
        g_Lx += 2.0 * Gs @ Lx @ Phi
        g_Phi += Lx.T @ Gs @ Lx
        g_Thx = Gs
        # ---- matrices -> free parameters
        n = len(M.variables)
        GA = np.zeros((n, n))
        GS = np.zeros((n, n))
        Gm = np.zeros(n)
        GA[ix_["x_xi"]] += g_Lx
        GA[ix_["eta_eta"]] += g_B
        GA[ix_["eta_xi"]] += g_Gam
        if no:
            GA[ix_["yo_eta"]] += g_Lo
        GS[ix_["xi_xi"]] += g_Phi
        GS[ix_["x_x"]] += g_Thx
        GS[ix_["y_y"]] += g_Th
        GS[ix_["eta_eta"]] += g_Psi
        GS = 0.5 * (GS + GS.T)
        Gm[xi] += g_kappa
        Gm[xs] += g_tau_x
        Gm[yall] += g_tau_y
        Gm[eta] += g_alpha
        grad = _ram_gradient(M, 0, GA, GS, Gm)
        for t, (k, a, b) in enumerate(self.structure.term_cells):
            if M.term_free[t] > 0:
                grad[M.term_free[t] - 1] += 0.5 * (g_Om[k, a, b] + g_Om[k, b, a])
        return grad

    # -------------------------------------------------------------- estimation
    def start_values(self):
        """ML fit of the model without product terms (coefficients 0) and its
        log-likelihood (the ``h0`` of the likelihood-ratio test;
        :func:`~ckm_research.moderation.lms._linear_start`)."""
        theta, h0_logl, h0 = _linear_start(self.model, [self.X])
        return theta, h0_logl, h0["theta0"], h0["info"]

    def estimate(self, max_iter: int = 500, gtol: float = 1e-6) -> None:
        """Maximise the quasi-log-likelihood by BFGS from the linear model's ML fit."""
        M = self.model
        theta, self.h0_logl, self.h0_theta, info = self.start_values()
        n = self.n

        def loglik(th, gradient=True):
            ll = self.loglik(th)
            if not np.isfinite(ll):
                return ll, None
            return ll, self.analytic_gradient(th)

        terms = [int(v) - 1 for v in M.term_free if v > 0]
        fg, Hinv, f, g = _bfgs_start(loglik, n, theta, info, M.n_base, terms, what="QML")
        theta, f, _, self.iterations = _maximise(fg, theta, Hinv, max_iter, gtol, f, g, "QML")
        self.theta = theta
        self.logl = float(-f * n)

    def hessian(self, theta: np.ndarray | None = None, n_jobs: int = 1) -> np.ndarray:
        """Hessian of the quasi-log-likelihood: the symmetrised central-difference
        Jacobian of the analytic gradient
        (:func:`ckm_research.numerics.numerical_hessian`; ``n_jobs`` is accepted
        for the LMS engines' interface and not used)."""
        theta = self.theta if theta is None else theta

        def grad(th):
            g = self.analytic_gradient(th)
            if g is None:
                raise CkmError(
                    "QML: the Hessian cannot be computed at the solution (a variance is at "
                    "its boundary); standard errors are not available"
                )
            return g

        return numerical_hessian(grad, theta)


def fit_qml(
    model: str,
    data,
    *,
    missing_values=None,
    level: float = 0.95,
    control: dict | None = None,
    missing: str | None = None,
) -> SEMResults:
    """Fit a latent interaction/quadratic model by QML (Klein & Muthén, 2007).

    Parameters
    ----------
    model : str
        lavaan syntax with product terms of exogenous latent factors
        (``Y ~ X + Z + X:Z``, ``Y ~ X:X``); one or more endogenous factors.
    data : pandas.DataFrame or path
        Incomplete cases are deleted listwise.
    missing_values : optional
        Missing-value codes, as for :func:`ckm_research.fit`.
    level : float
        Confidence level.
    control : dict, optional
        ``{"iter.max": 500}``.
    missing : {'listwise'}, optional
        QML here uses complete cases; ``'ml'`` is refused (LMS takes
        ``missing='ml'``).

    Returns
    -------
    SEMResults
        The same shape as :func:`~ckm_research.moderation.lms.fit_lms`: one
        row per parameter of the model without products plus one row per
        product term; ``fit_measures`` with ``logl`` (the quasi-log-likelihood),
        ``aic``, ``bic`` and the likelihood-ratio test against the model
        without products (``h0.logl``, ``lrt.stat``, ``lrt.df``).

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> one_int = load_dataset("oneInt")  # modsem's oneInt, first 500 rows
    >>> model = ("X =~ x1 + x2 + x3\\nZ =~ z1 + z2 + z3\\nY =~ y1 + y2 + y3\\n"
    ...          "Y ~ X + Z + X:Z")
    >>> res = fit_qml(model, one_int)
    >>> res.estimates.query("rhs == 'X:Z'")[["lhs", "op", "rhs", "est", "se"]].round(3)
       lhs op  rhs    est     se
    11   Y  ~  X:Z  0.701  0.056

    In R: ``modsem::modsem(model, data, method = "qml")``.
    """
    from ckm_research.data.io import read_data
    from ckm_research.sem.checks import run_engine

    started = (time.perf_counter(), time.process_time())
    opts = InteractionOptions.from_kwargs(
        "fit_qml", missing=missing, level=level, control=control, missing_values=missing_values
    )
    parsed = parse_model(model)
    try:
        lms = LMSModel(parsed)
    except ModelSpecificationError as exc:  # the model class LMS and QML share
        raise ModelSpecificationError(str(exc).replace("LMS", "QML")) from None
    frame = read_data(data, missing_values=opts.missing_values)
    xs, _, _, notes = select_cases(frame, lms.ov, opts)
    engine = QMLEngine(lms, xs[0]).configure(
        opts, definitions=parsed.definitions, model_text=model, notes=notes, started=started
    )
    return run_engine(engine, frame, parsed)
