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

(Klein & Muthén, 2007, eqs. 1-3), one symmetric :math:`\\Omega_k` per
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
(eq. 9).  The map :math:`(x, y) \\mapsto (x, u, y_s)` has Jacobian 1, and

.. math::

    f(x, y) = \\phi(x;\\, \\tau_x + \\Lambda_x\\kappa,\\, \\Sigma_x)\\;
              \\phi(u;\\, 0,\\, R\\Theta_\\varepsilon R^\\top)\\;
              f(y_s \\mid x, u),

the first two factors exactly normal (eq. 11), :math:`\\Sigma_x = \\Lambda_x
\\Phi \\Lambda_x^\\top + \\Theta_\\delta`.  Given :math:`x`, :math:`\\xi \\sim
N(m, \\Sigma_1)` with :math:`m = \\kappa + \\Phi\\Lambda_x^\\top
\\Sigma_x^{-1}(x - \\tau_x - \\Lambda_x\\kappa)`, :math:`\\Sigma_1 = \\Phi -
\\Phi\\Lambda_x^\\top \\Sigma_x^{-1}\\Lambda_x\\Phi`; given :math:`u`,
:math:`\\varepsilon_s \\sim N(L_2 u, \\Sigma_2)` with :math:`L_2 =
\\Theta_{s\\varepsilon} R^\\top (R\\Theta_\\varepsilon R^\\top)^{-1}`.  QML
replaces :math:`f(y_s \\mid x, u)` by the normal density with its exact mean
and covariance (eqs. 13-16):

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
against :func:`ckm_research.sem.ml.fit_ml`).

**Estimation.**  The quasi-log-likelihood is maximised by BFGS
(:func:`~ckm_research.moderation.lms.bfgs_maximise`) with central-difference
gradients (:func:`ckm_research.numerics.numerical_jacobian`), started from the
ML fit of the model without products; standard errors come from the observed
information, the negative Hessian of the quasi-log-likelihood
(:func:`ckm_research.numerics.numerical_hessian` of the numerical gradient;
modsem's default ``FIM = "observed"``).  Incomplete cases are deleted
listwise.

In R: ``modsem::modsem(model, data, method = "qml")``.
"""

from __future__ import annotations

import time
import warnings as _warnings

import numpy as np

from ckm_research.errors import CkmError, ConvergenceError, HeywoodCaseWarning, ModelSpecificationError
from ckm_research.moderation.lms import LMSModel, _LMSOutput, bfgs_maximise, gauss_hermite_grid
from ckm_research.numerics import numerical_jacobian, single_thread_blas
from ckm_research.sem.ml import SampleMoments, fit_ml, ml_information
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
    polynomials of degree 4 at most in the nodes; 8 nodes per dimension).
    """

    label = "QML"

    def __init__(self, model: LMSModel, data: np.ndarray):
        self.model = model
        self.structure = QMLStructure(model)
        self.X = np.asarray(data, dtype=float)
        self.n = self.X.shape[0]
        self.z, self.w = gauss_hermite_grid(model.k, 8)
        self.theta: np.ndarray | None = None
        self.n_evals = 0
        st = self.structure
        ns, no = len(st.scaling), len(st.others)
        yorder = st.scaling + st.others
        self._ycols = yorder
        # R maps (y_s, y_o) residuals to u = y_o - Lambda_o y_s (filled per theta)
        self._R_base = np.zeros((no, ns + no))
        self._R_base[:, ns:] = np.eye(no)

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
        st = self.structure
        vals = M.ram.row_values(theta[: M.n_base])
        A, S, mvec = M.ram.matrices_from_rows(vals, 0)
        xi, eta, ix = st.xi, st.eta, st.ix
        ys, yo = st.scaling, st.others
        ns, no, nx = len(ys), len(yo), len(xi)
        X = self.X
        # x-part: exactly normal
        Lx = A[np.ix_(ix, xi)]
        Phi = S[np.ix_(xi, xi)]
        kappa = mvec[xi]
        Sx = Lx @ Phi @ Lx.T + S[np.ix_(ix, ix)]
        Cx = np.linalg.cholesky(Sx)
        dx = X[:, ix] - (mvec[ix] + Lx @ kappa)
        zx = np.linalg.solve(Cx, dx.T)  # (px, N)
        ll = -0.5 * (len(ix) * _LOG2PI + 2 * np.log(np.diag(Cx)).sum() + (zx * zx).sum(axis=0))
        K = np.linalg.solve(Cx.T, np.linalg.solve(Cx, Lx @ Phi)).T  # Phi Lx' Sx^-1 (nx, px)
        m = kappa[None, :] + dx @ K.T  # (N, nx)
        Sigma1 = Phi - K @ Lx @ Phi
        # y-part: u = R (y - tau_y) is normal and free of eta
        yall = ys + yo
        ey = X[:, yall] - mvec[yall][None, :]
        Th = S[np.ix_(yall, yall)]
        if no:
            R = self._R_base.copy()
            R[:, :ns] = -A[np.ix_(yo, eta)]
            U = ey @ R.T
            RTR = R @ Th @ R.T
            Cu = np.linalg.cholesky(RTR)
            zu = np.linalg.solve(Cu, U.T)
            ll += -0.5 * (no * _LOG2PI + 2 * np.log(np.diag(Cu)).sum() + (zu * zu).sum(axis=0))
            ThR = Th[:ns, :] @ R.T  # Cov(eps_s, u)
            L2 = np.linalg.solve(RTR, ThR.T).T
            Sigma2 = Th[:ns, :ns] - L2 @ ThR.T
            mean_u = U @ L2.T
        else:
            Sigma2 = Th[:ns, :ns]
            mean_u = 0.0
        # scaling indicators given x and u: normal with the exact moments (eqs. 13-16)
        Bstar = np.linalg.inv(np.eye(ns) - A[np.ix_(eta, eta)])
        Gam = A[np.ix_(eta, xi)]
        Om = np.zeros((ns, nx, nx))
        for (k, a, b), om in zip(st.term_cells, M.omegas(theta), strict=True):
            Om[k, a, b] += 0.5 * om
            Om[k, b, a] += 0.5 * om
        mOm = np.einsum("nb,kab->nka", m, Om)  # (N, ns, nx): m' Omega_k
        quad = np.einsum("nka,na->nk", mOm, m)
        OS = Om @ Sigma1  # (ns, nx, nx)
        tr = np.trace(OS, axis1=1, axis2=2)
        inner = mvec[eta][None, :] + m @ Gam.T + quad + tr[None, :]
        mean_s = mvec[ys][None, :] + inner @ Bstar.T + mean_u
        Ag = Gam[None, :, :] + 2.0 * mOm  # (N, ns, nx)
        BA = np.einsum("kl,nlx->nkx", Bstar, Ag)
        V = 2.0 * np.einsum("kab,lba->kl", OS, OS)
        const = Bstar @ (S[np.ix_(eta, eta)] + V) @ Bstar.T + Sigma2
        cov = np.einsum("nkx,xy,nly->nkl", BA, Sigma1, BA) + const[None, :, :]
        d = X[:, ys] - mean_s
        if ns == 1:
            var = cov[:, 0, 0]
            if np.any(var <= 0):
                raise np.linalg.LinAlgError("non-positive conditional variance")
            ll += -0.5 * (_LOG2PI + np.log(var) + d[:, 0] ** 2 / var)
        else:
            C = np.linalg.cholesky(cov)
            zs = np.linalg.solve(C, d[:, :, None])[:, :, 0]
            logdet = 2.0 * np.log(np.diagonal(C, axis1=1, axis2=2)).sum(axis=1)
            ll += -0.5 * (ns * _LOG2PI + logdet + (zs * zs).sum(axis=1))
        return ll

    def gradient(self, theta: np.ndarray, eps: float = 1e-6) -> np.ndarray | None:
        """Gradient of the quasi-log-likelihood by central differences
        (:func:`ckm_research.numerics.numerical_jacobian`); ``None`` if a
        neighbouring point is inadmissible."""
        g = numerical_jacobian(self.loglik, theta, eps)[0]
        return g if np.all(np.isfinite(g)) else None

    # -------------------------------------------------------------- estimation
    def start_values(self):
        """ML fit of the model without product terms (coefficients 0) and its
        log-likelihood (the ``h0`` of the likelihood-ratio test)."""
        M = self.model
        mom = SampleMoments.from_data(self.X)
        theta0, fmin, _ = fit_ml(M.ram, [mom])
        theta = np.zeros(M.n_free)
        theta[: M.n_base] = theta0
        info = ml_information(M.ram, theta0, [1.0])
        p = len(M.ov)
        _, ld = np.linalg.slogdet(mom.cov)
        h0_logl = -self.n / 2 * (p * _LOG2PI + ld + p) - self.n / 2 * fmin
        return theta, float(h0_logl), theta0, info

    def estimate(self, max_iter: int = 500, gtol: float = 1e-6) -> None:
        """Maximise the quasi-log-likelihood by BFGS from the linear model's ML fit."""
        M = self.model
        theta, self.h0_logl, self.h0_theta, info = self.start_values()
        n = self.n

        def fg(th):
            ll = self.loglik(th)
            if not np.isfinite(ll):
                return np.inf, None
            g = self.gradient(th)
            if g is None:
                return np.inf, None
            return -ll / n, -g / n

        f0, g0 = fg(theta)
        if not np.isfinite(f0):
            raise ConvergenceError(
                "QML: the starting values give a non-positive-definite model; check the model"
            )
        q = M.n_free
        Hinv = np.eye(q)
        try:
            Hinv[: M.n_base, : M.n_base] = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            pass
        for i in range(len(M.terms)):
            if M.term_free[i] == 0:
                continue
            j = M.term_free[i] - 1
            tp = theta.copy()
            tp[j] += 1e-3
            _, gp = fg(tp)
            curv = (gp[j] - g0[j]) / 1e-3 if gp is not None else 1.0
            Hinv[j, j] = 1.0 / curv if curv > 1e-8 else 1.0
        try:
            theta, f, _, self.iterations = bfgs_maximise(fg, theta, Hinv, max_iter, gtol)
        except ConvergenceError as exc:
            raise ConvergenceError(str(exc).replace("LMS", "QML")) from None
        self.theta = theta
        self.logl = float(-f * n)

    def hessian(self, theta: np.ndarray | None = None, n_jobs: int = 1) -> np.ndarray:
        """Hessian of the quasi-log-likelihood: central differences of the
        numerical gradient (steps :math:`10^{-4}` and :math:`10^{-5}` relative,
        so that rounding stays small against the curvature)."""
        from ckm_research.numerics import numerical_hessian

        theta = self.theta if theta is None else theta

        def grad(th):
            g = self.gradient(th, eps=1e-5)
            if g is None:
                raise CkmError(
                    "QML: the Hessian cannot be computed at the solution (a variance is at "
                    "its boundary); standard errors are not available"
                )
            return g

        return numerical_hessian(grad, theta, eps=1e-4)


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
    >>> one_int = load_dataset("oneInt")
    >>> model = ("X =~ x1 + x2 + x3\\nZ =~ z1 + z2 + z3\\nY =~ y1 + y2 + y3\\n"
    ...          "Y ~ X + Z + X:Z")
    >>> res = fit_qml(model, one_int)
    >>> round(float(res.estimates.query("rhs == 'X:Z'")["est"].iloc[0]), 2)
    0.72

    In R: ``modsem::modsem(model, data, method = "qml")``.
    """
    from ckm_research.data.checks import check_model_data
    from ckm_research.data.io import read_data

    t0 = time.perf_counter()
    c0 = time.process_time()
    if missing not in (None, "listwise"):
        raise CkmError(
            f"QML uses complete cases (missing='listwise'); got missing={missing!r}. For "
            "full-information ML with incomplete cases use interaction='lms' with missing='ml'"
        )
    parsed = parse_model(model)
    lms = LMSModel(parsed)
    control = dict(control or {})
    unknown = set(control) - {"iter.max"}
    if unknown:
        raise CkmError(
            f"The 'control' parameter of fit accepts only 'iter.max'. Got {sorted(unknown)} "
            "instead."
        )
    iter_max = int(control.get("iter.max", 500))
    frame = read_data(data, missing_values=missing_values)
    clean = check_model_data(frame, list(lms.ov))
    x = clean.to_numpy(dtype=float)
    keep = ~np.isnan(x).any(axis=1)
    notes = []
    if (~keep).any():
        notes.append(
            f"{int((~keep).sum())} of {len(x)} cases have missing values and were deleted "
            "listwise (QML uses complete cases; interaction='lms' with missing='ml' keeps them)"
        )
    engine = QMLEngine(lms, x[keep])
    with single_thread_blas():
        engine.estimate(max_iter=iter_max)
        vc = engine.vcov()
    est = engine.estimates_table(vc, level, parsed.definitions)
    fm = engine.fit_measures()
    warns = list(notes)
    for r in est.itertuples(index=False):
        if r.op == "~~" and r.lhs == r.rhs and r.est < 0:
            msg = (
                f"the estimated (residual) variance of '{r.lhs}' is negative ({r.est:.4f}): "
                "a Heywood case. Check the model for misspecification."
            )
            warns.append(msg)
            _warnings.warn(msg, HeywoodCaseWarning, stacklevel=2)
    info = {
        "method": "qml",
        "engine": type(engine).__name__,
        "missing": "listwise",
        "scaling_indicators": [lms.variables[i] for i in engine.structure.scaling],
        "function_evaluations": int(engine.n_evals),
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": time.process_time() - c0,
    }
    res = SEMResults.from_engine(
        engine,
        estimates=est.drop(columns=["free"]),
        fit_measures=fm,
        estimator=engine.label,
        n=engine.ntotal,
        converged=True,
        iterations=engine.iterations,
        model_text=model,
        warnings=warns,
        notes={
            "interaction": info,
            "summary_lines": [("QML (Klein & Muthén, 2007)", "Latent interaction method")],
        },
        theta=engine.theta,
        vcov=vc,
    )
    engine.row_free_index = est["free"].to_numpy()
    return res
