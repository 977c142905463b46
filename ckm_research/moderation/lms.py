"""Latent Moderated Structural equations (LMS).

Klein & Moosbrugger (2000, *Psychometrika* 65(4), 457-474,
doi:10.1007/BF02296338) estimate a structural equation model with latent
product terms by maximum likelihood, writing the density of the indicators as
a finite mixture of normal densities.  Here the model is written in the RAM
form of :mod:`ckm_research.sem.model` (``v = A v + u``), with the exogenous
latent variables :math:`\\xi \\sim N(\\kappa, \\Phi)`.

**Conditioning on the moderators.**  Each product term ``Y ~ X:Z`` has one
member that is an exogenous latent variable, the *moderator* (chosen as modsem
does: the first member unless only the second is exogenous; a moderator shared
by several terms is used once).  Order :math:`\\xi` with the :math:`k`
moderators first and write :math:`\\xi = \\kappa + L z`, :math:`z \\sim N(0,
I)`, :math:`L` the Cholesky factor of :math:`\\Phi`.  Only the first :math:`k`
columns :math:`L_1 = \\Phi_{\\cdot M} C^{-\\top}` (:math:`C C^\\top =
\\Phi_{MM}`) involve the moderators, so given :math:`z_1 \\in
\\mathbb{R}^k`

.. math::

    \\xi \\mid z_1 \\sim N(\\kappa + L_1 z_1,\\; \\Phi - L_1 L_1^\\top),

the moderators are the constants :math:`\\xi_M = \\kappa_M + C z_1`, and
every product term :math:`\\omega\\, \\xi_M W` becomes a *linear* path with
coefficient :math:`\\omega\\,\\xi_M(z_1)` from :math:`W` to :math:`Y`
(Klein & Moosbrugger, 2000).  The indicators are then normal with
moments :math:`\\mu(z_1), \\Sigma(z_1)` of the linear RAM model with
:math:`A(z_1)`, and

.. math::

    f(x) = \\int \\phi(x; \\mu(z_1), \\Sigma(z_1))\\, \\phi_k(z_1)\\, dz_1
         \\approx \\sum_{j} w_j\\, \\phi(x; \\mu_j, \\Sigma_j)

with the Gauss-Hermite nodes and weights of :math:`N(0, I_k)` (a
product rule in :math:`k` dimensions, negligible weights pruned).  The rule
must be finer than modsem's fixed 24 nodes when the moderator is measured
reliably, because each case's posterior of :math:`z_1` is then narrower than
the node spacing (modsem itself adapts its nodes): on ``oneInt`` the X:Z
estimate is 0.713 with 24 nodes and 0.7183 with 48, 64 or 100.  The default
is 64 nodes for one moderator (36 after pruning) and 24 per dimension for two.

**Estimation.**  The log-likelihood :math:`\\ell = \\sum_i \\log f(x_i)` is
maximised directly (Klein & Moosbrugger use EM; its fixed point is the same).
The gradient is analytic: by Fisher's identity it is the gradient of the EM
complete-data log-likelihood at the current posterior node probabilities
:math:`r_{ij}`, i.e. of a multiple-group normal likelihood with one "group"
per node, weighted by :math:`n_j = \\sum_i r_{ij}`, carried back through
:math:`\\Sigma = F E S E^\\top F^\\top`, :math:`\\mu = F E m` (matrix
derivatives as in :mod:`ckm_research.sem.model`), the node-dependent paths,
and the Cholesky factor (:math:`dC = C\\,\\Phi_{low}(C^{-1} d\\Phi_{MM}
C^{-\\top})`; Murray, 2016, arXiv:1602.07527).  The optimiser is BFGS with
backtracking (:func:`ckm_research.numerics.bfgs`), started from the ML fit of
the model without product terms (FIML with missing data), its inverse
information as the initial inverse Hessian (:func:`_bfgs_start`).
Standard errors come from the observed information, the negative Hessian of
:math:`\\ell` obtained by differences of the analytic gradient (central up to
60 parameters, forward above; modsem's default ``FIM = "observed"``); the
latent-space engine differences only the measurement entries of the gradient
for the measurement parameters' columns (``LMSEngine.hessian``), and
``n_jobs`` forked processes can share the columns.  BLAS is held to one
thread while fitting.

**Engines.**  :class:`~ckm_research.moderation.lms_engine.LMSEngine` evaluates
this likelihood in the space of the latent variables (13 instead of 53
dimensions on the CKM model), case by case, so it also takes incomplete cases
(FIML, ``missing="ml"``) and adaptive quadrature; with complete data and the
fixed rule it gives the same log-likelihood and gradient as
:class:`DenseLMSEngine`, the indicator-space evaluation described above.
:func:`fit_lms` uses :class:`DenseLMSEngine` for complete data on the fixed rule
(a few large matrix products per node, faster there) and for models the
latent-space form cannot take (a single-indicator factor whose residual
variance is fixed at 0, observed outcomes of products; complete data only), and
:class:`~ckm_research.moderation.lms_engine.LMSEngine` otherwise.

The model is lavaan's default parameterisation with a mean structure: first
loadings fixed at 1, free indicator intercepts, latent means and latent
intercepts fixed at 0 (the same 31 parameters as modsem for ``oneInt``).

**Several groups** (``fit_lms(..., group="g")``, modsem's multigroup LMS):
:class:`LMSModel` then holds lavaan's multiple-group parameter table (one
block per group, ``group_equal``/``group_partial``/labels shared across
groups, latent means free in groups 2.. once the intercepts are equal) and one
coefficient per product term and group; :meth:`LMSModel.for_group` gives each
group's view, one engine per group evaluates that group's likelihood on the
common parameter vector, and
:class:`~ckm_research.moderation.lms_multigroup.MultiGroupLMSEngine` sums them.

In R: ``modsem::modsem(model, data, method = "lms")``.
"""

from __future__ import annotations

import copy
import dataclasses
import time
import warnings as _warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import logsumexp

from ckm_research.errors import (
    ConvergenceError,
    IdentificationError,
    ModelSpecificationError,
)
from ckm_research.moderation.interaction_engine import (
    InteractionEngine,
    InteractionOptions,
    group_column,
    select_cases,
)
from ckm_research.numerics import bfgs, wald_table
from ckm_research.numerics.forked import forked_sum
from ckm_research.sem.ml import SampleMoments, fit_ml, ml_information
from ckm_research.sem.model import RAMModel
from ckm_research.sem.partable import ParTable, build_partable, variable_roles
from ckm_research.sem.results import SEMResults
from ckm_research.sem.standardized import delta_method_se, standardize_rows
from ckm_research.sem.syntax import (
    DefinedParameters,
    ParsedModel,
    evaluate_definitions,
    parse_model,
)

__all__ = ["LMSModel", "DenseLMSEngine", "fit_lms", "gauss_hermite_grid"]

_LOG2PI = np.log(2.0 * np.pi)


def _moderator_moments_gradient(M, gm, free, pc, Lbar, kappa_bar, k, grad) -> None:
    """Add the chain rule through the moderators' means and the Cholesky factor of their
    covariance matrix to ``grad`` (in place): the part of the LMS gradient shared by
    :class:`DenseLMSEngine` and :class:`~ckm_research.moderation.lms_engine.LMSEngine`.

    ``Lbar`` is d l / d L1 with L1 = Phi[:, :k] C^{-T}, C = chol(Phi[:k, :k]) (Klein &
    Moosbrugger, 2000: the moderators are C z with z standard normal), ``kappa_bar``
    d l / d (the moderators' means), fixed at 0 unless the user frees them.
    """
    xp = list(M.xi_pos)
    for r, i in zip(gm.m_rows, gm.m_i, strict=True):
        if free[r] > 0 and i in xp[:k]:
            grad[free[r] - 1] += kappa_bar[xp.index(i)]
    C, Cinv, L1 = pc["C"], pc["Cinv"], pc["L1"]
    Pbar = Lbar @ Cinv  # d l / d Phi[:, :k] (as a plain matrix)
    Cbar = np.tril(-Cinv.T @ Lbar.T @ L1)
    for r, a, b in M._phi_rows:
        val = 0.0
        if b < k:
            val += Pbar[a, b]
        if a < k and a != b:
            val += Pbar[b, a]
        if a < k and b < k:
            Eab = np.zeros((k, k))
            Eab[a, b] = Eab[b, a] = 1.0
            X = Cinv @ Eab @ Cinv.T
            Xl = np.tril(X)
            Xl[np.diag_indices(k)] *= 0.5
            val += float(np.sum(Cbar * (C @ Xl)))
        grad[free[r] - 1] += val


def _ram_gradient(M, group: int, GA: np.ndarray, GS: np.ndarray, Gm: np.ndarray) -> np.ndarray:
    """The gradient with respect to the free parameters of the base (RAM) model from
    the derivatives with respect to its matrices in ``group``: ``GA`` (d l / d A),
    ``GS`` (d l / d S, symmetric: an off-diagonal parameter counts twice) and ``Gm``
    (d l / d m); zeros for the product coefficients (shared by the LMS engines and
    QML)."""
    ram = M.ram
    gm = ram.groups[group]
    free = ram.free
    grad = np.zeros(M.n_free)
    sel = free[gm.a_rows] > 0
    np.add.at(grad, free[gm.a_rows[sel]] - 1, GA[gm.a_i[sel], gm.a_j[sel]])
    sel = free[gm.s_rows] > 0
    si, sj = gm.s_i[sel], gm.s_j[sel]
    np.add.at(grad, free[gm.s_rows[sel]] - 1, GS[si, sj] * np.where(si == sj, 1.0, 2.0))
    sel = free[gm.m_rows] > 0
    np.add.at(grad, free[gm.m_rows[sel]] - 1, Gm[gm.m_i[sel]])
    return grad


def gauss_hermite_grid(k: int, nodes: int, prune: float = 1e-12):
    """Product Gauss-Hermite rule for :math:`E f(z)`, :math:`z \\sim N(0, I_k)`.

    Parameters
    ----------
    k : int
        Dimension.
    nodes : int
        Nodes per dimension.
    prune : float
        Drop nodes whose weight is below ``prune`` times the largest weight
        (their contribution is negligible); the kept weights are renormalised.

    Returns
    -------
    z : ndarray (J, k)
    w : ndarray (J,)
        Weights summing to 1.

    Examples
    --------
    >>> z, w = gauss_hermite_grid(1, 24)
    >>> round(float(w @ z[:, 0] ** 4), 10)   # E z^4 = 3
    3.0
    """
    x, w = np.polynomial.hermite.hermgauss(nodes)
    z1 = np.sqrt(2.0) * x
    w1 = w / np.sqrt(np.pi)
    grids = np.meshgrid(*([z1] * k), indexing="ij")
    z = np.stack([g.ravel() for g in grids], axis=1)
    wg = np.meshgrid(*([w1] * k), indexing="ij")
    wk = np.prod(np.stack([g.ravel() for g in wg], axis=1), axis=1)
    keep = wk >= prune * wk.max()
    z, wk = z[keep], wk[keep]
    return z, wk / wk.sum()


def _bfgs_start(
    loglik,
    n: int,
    theta: np.ndarray,
    info: np.ndarray,
    n_base: int,
    terms,
    curvature: dict | None = None,
    what: str = "LMS",
    where: str = "",
):
    """The objective of BFGS and its initial inverse Hessian (shared by the LMS
    engines, the multi-group engine and QML).

    Parameters
    ----------
    loglik : callable
        ``loglik(theta, gradient=True) -> (logl, gradient)``, the gradient
        ``None`` where the model is not admissible.
    n : int
        Cases: the objective is :math:`-\\ell/n`.
    theta : ndarray
        Start (the linear model's estimates, product coefficients 0).
    info : ndarray
        Expected information (per case) of the model without product terms at
        the start: its inverse is the initial inverse Hessian of the first
        ``n_base`` parameters.
    n_base : int
    terms : iterable of int
        0-based indices of the free product coefficients.
    curvature : dict, optional
        Curvature of :math:`-\\ell/n` along each of ``terms``; by default the
        forward difference of the gradient with step :math:`10^{-3}`.  The
        initial inverse Hessian holds its inverse (1 where it is not above
        :math:`10^{-8}`).
    what, where : str
        The estimator's name and where the model fails, in the error message.

    Returns
    -------
    fg : callable
        ``theta -> (-logl/n, -gradient/n)``, ``(inf, None)`` where not admissible.
    Hinv : ndarray
    f, g
        ``fg(theta)``.
    """

    def fg(th):
        ll, gr = loglik(th, gradient=True)
        if gr is None:
            return np.inf, None
        return -ll / n, -gr / n

    f, g = fg(theta)
    if not np.isfinite(f):
        raise ConvergenceError(
            f"{what}: the starting values give a non-positive-definite model{where}; "
            "check the model"
        )
    Hinv = np.eye(len(theta))
    try:
        Hinv[:n_base, :n_base] = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        pass
    for j in terms:
        if curvature is not None:
            curv = curvature[j]
        else:
            tp = theta.copy()
            tp[j] += 1e-3
            _, gp = fg(tp)
            curv = (gp[j] - g[j]) / 1e-3 if gp is not None else 1.0
        Hinv[j, j] = 1.0 / curv if curv > 1e-8 else 1.0
    return fg, Hinv, f, g


def _maximise(fg, theta, Hinv, max_iter: int, gtol: float, f0=None, g0=None, what="LMS"):
    """:func:`ckm_research.numerics.bfgs` on ``fg`` with the latent-interaction
    estimators' error messages; returns ``theta, f, Hinv, iterations``."""
    res = bfgs(fg, theta, Hinv, max_iter=max_iter, gtol=gtol, f0=f0, g0=g0)
    if res.status == "not_admissible":
        raise ConvergenceError(
            f"{what}: the starting values give a non-positive-definite model; check the model"
        )
    if res.status == "no_descent":
        raise ConvergenceError(
            f"{what} did not converge (no step improves the likelihood); try more "
            "quadrature nodes, check the model for Heywood cases, or use "
            "interaction='dblcent'"
        )
    if res.status == "max_iter":
        raise ConvergenceError(
            f"{what} did not converge in {max_iter} iterations; raise control['iter.max'] or "
            "simplify the model"
        )
    return res.x, res.fun, res.hess_inv, res.nit


def _recentre(fg, theta, f, Hinv, engines, n: int, max_iter: int, gtol: float):
    """Adaptive quadrature: move the nodes of ``engines`` to the cases'
    posteriors and maximise again, until the largest move is below 0.02
    posterior SDs and the log-likelihood changes by less than 1e-4 (at most
    the engines' ``max_rounds`` times).  Returns ``theta, f, iterations,
    rounds``."""
    iterations = rounds = 0
    for rnd in range(1, max(e.max_rounds for e in engines) + 1):
        rounds = rnd
        move = max(e.update_nodes(theta) for e in engines)
        f_old = f
        theta, f, Hinv, its = _maximise(fg, theta, Hinv, max_iter, gtol)
        iterations += its
        if move < 0.02 and abs(f_old - f) * n < 1e-4:
            break
    return theta, f, iterations, rounds


def _fit_measures(engine, n_terms_free: int) -> dict[str, float]:
    """Log-likelihood, lavaan's information criteria (``aic``, ``bic``,
    ``bic2``) and the likelihood-ratio test of the fitted ``engine`` against
    the model without its ``n_terms_free`` free product coefficients (modsem's
    D: ``lrt.stat`` on ``lrt.df``)."""
    M = engine.model
    n = engine.n
    npar = M.n_free
    logl = engine.logl
    lrt = 2.0 * (logl - engine.h0_logl)
    return {
        "npar": float(npar),
        "logl": logl,
        "aic": -2 * logl + 2 * npar,
        "bic": -2 * logl + np.log(n) * npar,
        "bic2": -2 * logl + np.log((n + 2) / 24) * npar,
        "ntotal": float(n),
        "h0.logl": engine.h0_logl,
        "h0.npar": float(M.n_base),
        "lrt.stat": lrt,
        "lrt.df": float(n_terms_free),
        "lrt.pvalue": float(stats.chi2.sf(lrt, n_terms_free)) if n_terms_free else np.nan,
    }


def _linear_start(model, Xs) -> tuple[np.ndarray, float, dict]:
    """Start of the latent-interaction estimators: the ML fit (FIML when some
    value is missing, :func:`fiml_linear`) of ``model`` without product terms,
    one data array per group.

    Returns
    -------
    theta : ndarray
        Its estimates, the product coefficients 0.
    h0_logl : float
        Its log-likelihood (the ``h0`` of the likelihood-ratio test).
    h0 : dict
        ``"theta0"`` (its estimates) and ``"info"`` (its expected information
        per case, the groups weighted by their sizes).
    """
    M = model
    Xs = list(Xs)
    if all(not np.isnan(x).any() for x in Xs):
        moms = [SampleMoments.from_data(x) for x in Xs]
        theta0, fmin, _ = fit_ml(M.ram, moms)
        p = len(M.ov)
        h0 = 0.0
        for mom in moms:
            _, ld = np.linalg.slogdet(mom.cov)
            h0 += -mom.n / 2 * (p * _LOG2PI + ld + p)
        h0 -= sum(mom.n for mom in moms) / 2 * fmin
    else:
        theta0, h0 = fiml_linear(M.ram, Xs)
    ns = [x.shape[0] for x in Xs]
    theta = np.zeros(M.n_free)
    theta[: M.n_base] = theta0  # product coefficients start at 0, or at start(v)*X:Z
    for terms, free in zip(M.terms_by_group, M.term_free_by_group, strict=True):
        for t, f in zip(terms, free, strict=True):
            if f > 0 and t.start is not None:
                theta[f - 1] = t.start
    info = ml_information(M.ram, theta0, [k / sum(ns) for k in ns])
    return theta, float(h0), {"theta0": theta0, "info": info}


def fiml_linear(ram, Xs: list[np.ndarray]):
    """FIML fit of a linear RAM model to incomplete data, one array per group
    (the model without product terms), by :func:`scipy.optimize.minimize`
    (BFGS, analytic gradient) from the ML fit to the EM estimates of the
    saturated moments.  Returns ``(theta, loglik)``."""
    from scipy.optimize import minimize

    from ckm_research.sem import missing as mis

    pats = [mis.MissingPatterns.from_data(x, warn=False) for x in Xs]
    moms = []
    for pat, x in zip(pats, Xs, strict=True):
        em = mis.em_saturated(pat)
        moms.append(SampleMoments(x.shape[0], em.sigma, em.mu))
    theta0, _, _ = fit_ml(ram, moms)
    n = sum(x.shape[0] for x in Xs)

    def fg(th):
        total = 0.0
        grad = np.zeros(ram.n_free)
        for g, pat in enumerate(pats):
            try:
                pc = ram.pieces(th, g)
                ll, g_mu, g_sigma = mis.fiml_loglik_gradient(pat, pc["mu"], pc["sigma"])
            except Exception:  # noqa: BLE001 - a step outside the admissible region
                return np.inf, np.zeros_like(th)
            rows, Xf, Yf, DMU = ram.rank2_factors(pc, g)
            g_rows = 2.0 * np.sum(Xf * (g_sigma @ Yf), axis=0) + DMU.T @ g_mu
            np.add.at(grad, ram.free[rows] - 1, g_rows)
            total += ll
        return -total / n, -grad / n

    res = minimize(fg, theta0, jac=True, method="BFGS", options={"gtol": 1e-8, "maxiter": 2000})
    theta = res.x
    ll = 0.0
    for g, pat in enumerate(pats):
        sigma, mu = ram.implied(theta, g)
        ll += float(mis.fiml_loglik(pat, mu, sigma))
    return theta, ll


@dataclass(frozen=True)
class _Term:
    """One product term ``lhs ~ left:right``."""

    lhs: str
    term: str
    moderator: str
    other: str
    label: str
    fixed: float | None
    line: int
    start: float | None = None  # ``start(v)*X:Z``: where the estimation starts it


class LMSModel:
    """The LMS model: a linear RAM model plus product terms.

    Parameters
    ----------
    parsed : ParsedModel
        The model with product terms.
    moderators : sequence of str, optional
        Exogenous latent variables to integrate over; by default chosen from
        the product terms as described in the module docstring.
    ngroups : int
        Number of groups (lavaan's blocks).  With several, the parameter table
        has one block per group in lavaan's multiple-group parameterisation
        (:func:`~ckm_research.sem.partable.build_partable`), and every product
        term has one coefficient per group (modsem's multigroup LMS).
    group_equal : tuple of str
        lavaan's ``group.equal``; ``"regressions"`` also makes the product-term
        coefficients equal across groups.
    group_partial : tuple of str
        lavaan's ``group.partial``; may name a product term (``"Y~X:Z"``).

    Attributes
    ----------
    partable : ParTable
        lavaan's parameter table of the model without product terms (with a
        mean structure).
    ram : RAMModel
    terms : list
        The product terms of :attr:`group` (modifiers of that group).
    moderators : tuple of str
    group : int
        The group (0-based) that :meth:`conditional`, :meth:`moments` and
        :meth:`omegas` describe; :meth:`for_group` gives the model of another.
    n_free : int
        Free parameters: those of ``ram`` followed by one coefficient per
        free product term (and group, unless equal across groups).
    """

    def __init__(
        self,
        parsed: ParsedModel,
        moderators=None,
        *,
        ngroups: int = 1,
        group_equal: tuple[str, ...] = (),
        group_partial: tuple[str, ...] = (),
    ):
        prod_stmts = [s for s in parsed.statements if s.op == "~" and ":" in s.rhs]
        if not prod_stmts:
            raise ModelSpecificationError("LMS needs a product term (Y ~ X + Z + X:Z)")
        base = ParsedModel(
            tuple(s for s in parsed.statements if not (s.op == "~" and ":" in s.rhs)),
            parsed.definitions,
            parsed.constraints,
            parsed.text,
        )
        roles = variable_roles(base)
        if roles.ov_x:
            raise ModelSpecificationError(
                "LMS here needs every predictor to be a latent factor; the observed "
                f"predictor(s) {', '.join(roles.ov_x)} can be written as single-indicator "
                "factors (F =~ x), or use interaction='dblcent'"
            )
        prod_names = {f"{s.lhs}~{s.rhs}" for s in prod_stmts}
        if isinstance(group_partial, str):
            group_partial = (group_partial,)
        partial_terms = {"".join(e.split()) for e in group_partial if isinstance(e, str)}
        partial_terms &= prod_names
        base_partial = tuple(
            e
            for e in group_partial
            if not (isinstance(e, str) and "".join(e.split()) in prod_names)
        )
        self.partable: ParTable = build_partable(
            base,
            ngroups=ngroups,
            meanstructure=True,
            group_equal=tuple(group_equal),
            group_partial=base_partial,
        )
        self.ram = RAMModel(self.partable)
        self.ngroups = int(ngroups)
        self.group = 0
        self.ov = self.ram.ov
        self.variables = self.ram.variables
        lv = set(roles.lv)
        exo = [v for v in roles.lv_x]
        terms_raw = []
        seen = set()
        for s in prod_stmts:
            parts = s.rhs.split(":")
            if len(parts) != 2:
                raise ModelSpecificationError(
                    f"the product term '{s.rhs}' (line {s.line}) is not a two-way product"
                )
            for p in parts:
                if p not in lv:
                    raise ModelSpecificationError(
                        f"the product term '{s.rhs}' (line {s.line}) involves '{p}', which is "
                        f"not a latent factor; LMS here needs latent factors (write {p} as a "
                        f"single-indicator factor with a measurement error) or use "
                        "interaction='dblcent'"
                    )
            if (s.lhs, s.rhs) in seen:
                continue
            seen.add((s.lhs, s.rhs))
            terms_raw.append((s, parts))
        # choose moderators: exogenous members, shared ones first, then the first member
        if moderators is None:
            chosen: list[str] = []
            counts: dict[str, int] = {}
            for _, parts in terms_raw:
                for p in set(parts):
                    if p in exo:
                        counts[p] = counts.get(p, 0) + 1
            for s, parts in terms_raw:
                if any(p in chosen for p in parts):
                    continue
                cands = [p for p in parts if p in exo]
                if not cands:
                    raise ModelSpecificationError(
                        f"the product term '{s.rhs}' (line {s.line}) multiplies two endogenous "
                        "variables; LMS needs one exogenous factor in each product term "
                        "(interaction='dblcent' can fit it)"
                    )
                best = max(cands, key=lambda p: (counts[p], -parts.index(p)))
                chosen.append(best)
            moderators = tuple(chosen)
        else:
            moderators = tuple(moderators)
            bad = [m for m in moderators if m not in exo]
            if bad:
                raise ModelSpecificationError(
                    f"moderators must be exogenous latent factors; {', '.join(bad)} are not"
                )
        self.moderators = moderators
        for s, _ in terms_raw:
            if len(s.modifiers) > 1 and len(s.modifiers) != ngroups:
                raise ModelSpecificationError(
                    f"the product term '{s.lhs} ~ {s.rhs}' (line {s.line}) has "
                    f"{len(s.modifiers)} modifiers but the model has {ngroups} group(s); give "
                    "one value per group, or a single value"
                )
        self.terms_by_group: list[list[_Term]] = []
        for g in range(self.ngroups):
            terms = []
            for s, (a, b) in terms_raw:
                mod = s.modifier(g)
                if a in moderators:
                    m_, o_ = a, b
                elif b in moderators:
                    m_, o_ = b, a
                else:
                    raise ModelSpecificationError(
                        f"the product term '{s.rhs}' involves none of the moderators "
                        f"{', '.join(moderators)}"
                    )
                terms.append(
                    _Term(s.lhs, s.rhs, m_, o_, mod.label or "", mod.fixed, s.line, mod.start)
                )
            self.terms_by_group.append(terms)
        self.terms: list[_Term] = self.terms_by_group[0]
        pos = {v: i for i, v in enumerate(self.variables)}
        # exogenous latents, moderators first
        self.xi = [v for v in moderators] + [v for v in exo if v not in moderators]
        self.xi_pos = np.array([pos[v] for v in self.xi], dtype=int)
        self.k = len(moderators)
        self.term_y = np.array([pos[t.lhs] for t in self.terms], dtype=int)
        self.term_o = np.array([pos[t.other] for t in self.terms], dtype=int)
        self.term_m = np.array([moderators.index(t.moderator) for t in self.terms], dtype=int)
        self.n_base = self.ram.n_free
        # 1-based parameter index of each product coefficient per group, 0 = fixed;
        # equal labels share one, and group.equal "regressions" makes a term's
        # unlabelled coefficients equal across groups (lavaan's rule for "~" rows)
        nterm = len(terms_raw)
        tf = np.zeros((self.ngroups, nterm), dtype=int)
        equal = "regressions" in tuple(group_equal) and self.ngroups > 1
        nxt = self.n_base
        label_idx: dict[str, int] = {}
        for g in range(self.ngroups):
            for i, t in enumerate(self.terms_by_group[g]):
                if t.fixed is not None:
                    continue
                if t.label:
                    if t.label not in label_idx:
                        nxt += 1
                        label_idx[t.label] = nxt
                    tf[g, i] = label_idx[t.label]
                    continue
                name = f"{t.lhs}~{t.term}"
                first = self.terms_by_group[0][i]
                if (
                    g > 0
                    and equal
                    and name not in partial_terms
                    and not first.label
                    and first.fixed is None
                ):
                    tf[g, i] = tf[0, i]
                    continue
                nxt += 1
                tf[g, i] = nxt
        self.term_free_by_group = tf
        self.term_free = tf[0].copy()
        self.n_free = nxt
        self._phi_rows = self._phi_rows_of(0)

    def _phi_rows_of(self, g: int):
        """Free S rows of group ``g`` inside the block of the exogenous latent
        variables (the parameters of :math:`\\Phi`): (row, i, j)."""
        gm = self.ram.groups[g]
        xi_index = {p: i for i, p in enumerate(self.xi_pos)}
        return [
            (r, xi_index[i], xi_index[j])
            for r, i, j in zip(gm.s_rows, gm.s_i, gm.s_j, strict=True)
            if i in xi_index and j in xi_index and self.ram.free[r] > 0
        ]

    def for_group(self, g: int) -> LMSModel:
        """The same model seen from group ``g`` (0-based): :attr:`group`,
        :attr:`terms` and :attr:`term_free` of that group, sharing the
        parameter table, the RAM model and the parameter vector."""
        out = copy.copy(self)
        out.group = int(g)
        out.terms = self.terms_by_group[g]
        out.term_free = self.term_free_by_group[g].copy()
        out._phi_rows = self._phi_rows_of(g)
        return out

    def without_starts(self) -> LMSModel:
        """The same model with the ``start()`` values of the syntax dropped (the
        default starting values of the ML fit that starts LMS and QML)."""
        out = copy.copy(self)
        out.partable = dataclasses.replace(
            self.partable, table=self.partable.table.assign(start=np.nan)
        )
        out.ram = RAMModel(out.partable)
        out.terms_by_group = [
            [dataclasses.replace(t, start=None) for t in terms] for terms in self.terms_by_group
        ]
        out.terms = out.terms_by_group[self.group]
        return out

    def term_starts(self) -> list[str]:
        """``"start(v) on Y ~ X:Z"`` for each free product term with a starting
        value in the syntax."""
        return [
            f"start({t.start:g}) on {t.lhs} ~ {t.term}"
            for terms, free in zip(self.terms_by_group, self.term_free_by_group, strict=True)
            for t, f in zip(terms, free, strict=True)
            if f > 0 and t.start is not None
        ]

    @property
    def gm(self):
        """The :class:`~ckm_research.sem.model.GroupModel` of :attr:`group`."""
        return self.ram.groups[self.group]

    # ------------------------------------------------------------------ pieces
    def omegas(self, theta: np.ndarray) -> np.ndarray:
        out = np.empty(len(self.terms))
        for i, t in enumerate(self.terms):
            out[i] = t.fixed if t.fixed is not None else theta[self.term_free[i] - 1]
        return out

    def conditional(self, theta: np.ndarray, z: np.ndarray):
        """RAM matrices at the quadrature nodes ``z`` (J, k).

        Returns a dict with the stacked ``A`` (J, n, n), the common ``S``, the
        stacked ``m`` (J, n), the Cholesky pieces and the moderator values.
        Raises ``np.linalg.LinAlgError`` if :math:`\\Phi_{MM}` is not positive
        definite.
        """
        vals = self.ram.row_values(theta[: self.n_base])
        A, S, m = self.ram.matrices_from_rows(vals, self.group)
        xp = self.xi_pos
        k = self.k
        Phi = S[np.ix_(xp, xp)]
        kappa = m[xp]
        C = np.linalg.cholesky(Phi[:k, :k])
        Cinv = np.linalg.inv(C)
        L1 = Phi[:, :k] @ Cinv.T
        Sc = S.copy()
        Sc[np.ix_(xp, xp)] = Phi - L1 @ L1.T
        J = z.shape[0]
        xi_mean = kappa[None, :] + z @ L1.T  # (J, q)
        ms = np.repeat(m[None, :], J, axis=0)
        ms[:, xp] = xi_mean
        modval = xi_mean[:, :k]  # (J, k)
        om = self.omegas(theta)
        As = np.repeat(A[None, :, :], J, axis=0)
        for t in range(len(self.terms)):
            As[:, self.term_y[t], self.term_o[t]] += om[t] * modval[:, self.term_m[t]]
        return dict(A=As, S=Sc, m=ms, Phi=Phi, C=C, Cinv=Cinv, L1=L1, modval=modval, om=om)

    def moments(self, theta: np.ndarray, z: np.ndarray):
        """Conditional means (J, p), covariances (J, p, p) of the indicators, and pieces."""
        pc = self.conditional(theta, z)
        n = len(self.variables)
        p = len(self.ov)
        E = np.linalg.inv(np.eye(n)[None, :, :] - pc["A"])
        ES = E @ pc["S"]
        Cfull = ES @ np.swapaxes(E, 1, 2)
        Em = np.einsum("jab,jb->ja", E, pc["m"])
        pc.update(E=E, Cfull=Cfull, Em=Em)
        return Em[:, :p], Cfull[:, :p, :p], pc


class _LMSOutput(InteractionEngine):
    """Output shared by the LMS engines: parameter-table values, implied
    moments of the mixture and ``std.all``.

    The output interface of :class:`ckm_research.sem.engine.BaseEngine`, as far
    as it carries over: :meth:`estimate`, :meth:`vcov`, :meth:`estimates_table`,
    :meth:`fit_measures`, :attr:`label`, :attr:`ntotal`, :attr:`theta`,
    :attr:`iterations`; and, from
    :class:`~ckm_research.moderation.interaction_engine.InteractionEngine`, the
    fit contract of :func:`ckm_research.sem.checks.run_engine` (``run``,
    ``check_df``, observed variances, restart from the default starting values).
    What differs: ``row_values`` takes ``theta`` (the product-term rows follow
    the base table's); ``estimates_table`` takes the confidence level and the
    ``:=`` definitions and adds a ``free`` column; ``vcov`` takes ``n_jobs``;
    the options are an
    :class:`~ckm_research.moderation.interaction_engine.InteractionOptions`
    (``opts``), not a ``FitOptions``; an engine describes the group of its
    model (:attr:`LMSModel.group`); ``standardized_solution``, ``r_squared``
    and residuals are not available (``std.all`` is a column of the table).
    """

    label = "ML"

    @property
    def ntotal(self) -> int:
        """Cases used (lavaan's ``ntotal``)."""
        return int(self.n)

    def _first_engine(self):
        """The engine of the first group (this engine for one group)."""
        return self

    def interaction_info(self) -> dict:
        """``notes["interaction"]`` of the result: the method, moderators, rule,
        engine, missing-data treatment, quadrature points, evaluations, time."""
        opts, first = self.opts, self._first_engine()
        info = {
            "method": "lms",
            "moderators": list(self.model.moderators),
            "nodes_per_dimension": int(opts.nodes),
            "quadrature": opts.quadrature,
            "engine": type(first).__name__,
            "missing": opts.missing,
            "quadrature_points": int(
                len(first.w) if opts.quadrature == "fixed" else len(first.logw_u)
            ),
            "function_evaluations": int(self.n_evals),
            "n_jobs": int(opts.n_jobs),
            "seconds": self.elapsed()[0],
        }
        if opts.group is not None:
            info["group"] = opts.group
            info["group_equal"] = list(opts.group_equal)
        return info

    def summary_lines(self) -> list[tuple[str, str]]:
        """The lines ``summary()`` adds: method, quadrature, missing data, equalities."""
        opts = self.opts
        points = self.interaction_info()["quadrature_points"]
        return (
            [
                ("LMS", "Latent interaction method"),
                (
                    str(points) + (" per case (adaptive)" if opts.quadrature == "adaptive" else ""),
                    "Quadrature points",
                ),
            ]
            + ([("FIML (casewise mixture)", "Missing data")] if opts.missing == "ml" else [])
            + (
                [(", ".join(opts.group_equal), "Equal across groups")]
                if opts.group is not None and opts.group_equal
                else []
            )
        )

    def estimates_table(self, vcov: np.ndarray, level: float = 0.95, definitions=()):
        """lavaan's ``parameterEstimates()`` rows of the base model, the
        product-term rows after their outcome's regressions, and ``:=`` rows
        (delta-method SEs); a ``free`` column gives the parameter index."""
        return _estimates_table(self, vcov, level, list(definitions or ()))

    def fit_measures(self) -> dict[str, float]:
        """Log-likelihood, information criteria (lavaan's ``aic``, ``bic``,
        ``bic2``) and the likelihood-ratio test against the model without
        product terms (modsem's D: ``lrt.stat`` on ``lrt.df``)."""
        M = self.model
        return _fit_measures(self, int((M.term_free > 0).sum()))

    def vcov(self, n_jobs: int = 1) -> np.ndarray:
        """Inverse observed information (``n_jobs`` processes for the Hessian)."""
        info = -self.hessian(n_jobs=n_jobs)
        try:
            vc = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            raise IdentificationError(
                "LMS: the observed information matrix is singular; the model is not identified"
            ) from None
        if np.any(np.diag(vc) < 0):
            _warnings.warn(
                "LMS: the observed information matrix is not positive definite; some standard "
                "errors are not available (the solution may not be a maximum)",
                stacklevel=3,
            )
        return vc

    def row_values(self, theta: np.ndarray) -> np.ndarray:
        """Values of the base table rows followed by the product-term rows."""
        M = self.model
        base = M.ram.row_values(theta[: M.n_base])
        return np.concatenate([base, M.omegas(theta)])

    def row_free(self) -> np.ndarray:
        M = self.model
        return np.concatenate([M.ram.free, M.term_free])

    def implied_latent(self, theta: np.ndarray):
        """Model-implied mean and covariance of all variables (observed and
        latent), integrated over the moderators by the quadrature rule."""
        mu, Sig, pc = self.model.moments(theta, self.z)
        w = self.w
        Em = pc["Em"]
        mean = w @ Em
        cov = np.einsum("j,jab->ab", w, pc["Cfull"]) + np.einsum("j,ja,jb->ab", w, Em, Em)
        cov -= np.outer(mean, mean)
        return mean, cov

    def std_all(self, theta: np.ndarray) -> np.ndarray:
        """``std.all`` as lavaan scales it, with the model-implied (mixture)
        variances; a product term ``Y ~ X:Z`` is scaled by sd(X) sd(Z) / sd(Y)
        (modsem's default for LMS; Wen, Marsh & Hau, 2010).

        The variance of ``Y`` is that of the mixture over the moderators' nodes, so it
        holds the product's variance Var(X)Var(Z) + Cov(X, Z)^2 (centred normal
        factors) and its covariances: checked against the closed form in
        ``tests/test_moderation_effect_sizes.py`` (issue 11 found this formula already
        in place; nothing was changed).  Delta-method SEs of these values:
        :func:`ckm_research.moderation.standardized_interactions`."""
        M = self.model
        t = M.partable.table
        vals = self.row_values(theta)
        _, cov = self.implied_latent(theta)
        var = np.diag(cov)
        sd = np.sqrt(np.abs(var))
        pos = {v: i for i, v in enumerate(M.variables)}
        vb = M.ram.row_values(theta[: M.n_base])
        _, S, _ = M.ram.matrices_from_rows(vb, M.group)
        out = np.full(len(vals), np.nan)
        # the rows of this model's group (all rows with one group)
        sel = np.flatnonzero(t["group"].to_numpy() == M.group + 1)
        out[sel] = standardize_rows(
            t["op"].to_numpy()[sel],
            t["lhs"].to_numpy()[sel],
            t["rhs"].to_numpy()[sel],
            vals[sel],
            var,
            np.diag(S),
            M.variables,
        )
        for i, term in enumerate(M.terms):
            a, b = term.term.split(":")
            out[len(t) + i] = vals[len(t) + i] * sd[pos[a]] * sd[pos[b]] / sd[pos[term.lhs]]
        return out


class DenseLMSEngine(_LMSOutput):
    """Complete-data LMS in the space of the indicators, for an :class:`LMSModel`
    that the latent-space engine (:mod:`ckm_research.moderation.lms_engine`)
    cannot take (single-indicator factors with a zero residual variance,
    observed outcomes of product terms).

    Parameters
    ----------
    model : LMSModel
    data : ndarray (N, p)
        Complete cases, columns in ``model.ov`` order.
    nodes : int
        Gauss-Hermite nodes per moderator.
    prune : float
        Relative weight below which product-rule nodes are dropped.
    """

    def __init__(self, model: LMSModel, data: np.ndarray, nodes: int = 24, prune: float = 1e-12):
        self.model = model
        self.X = np.asarray(data, dtype=float)
        self.n = self.X.shape[0]
        self.nodes = nodes
        self.prune = prune
        self.z, self.w = gauss_hermite_grid(model.k, nodes, prune)
        self.logw = np.log(self.w)
        self.theta: np.ndarray | None = None
        self.n_evals = 0

    def _rebuilt(self, model: LMSModel) -> DenseLMSEngine:
        """A new engine of ``model`` on the same data and rule."""
        return DenseLMSEngine(model, self.X, nodes=self.nodes, prune=self.prune)

    # ------------------------------------------------------------- likelihood
    def loglik(self, theta: np.ndarray, gradient: bool = False):
        """Log-likelihood (and its gradient) at ``theta``.

        Returns ``-inf`` (and ``None``) where a conditional covariance matrix
        is not positive definite.
        """
        self.n_evals += 1
        M = self.model
        try:
            mu, Sig, pc = M.moments(theta, self.z)
            L = np.linalg.cholesky(Sig)
        except np.linalg.LinAlgError:
            return (-np.inf, None) if gradient else -np.inf
        Linv = np.linalg.inv(L)
        p = mu.shape[1]
        D = self.X[None, :, :] - mu[:, None, :]  # (J, N, p)
        Y = D @ np.swapaxes(Linv, 1, 2)
        quad = np.einsum("jnp,jnp->jn", Y, Y)
        logdet = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
        logphi = -0.5 * (p * _LOG2PI + logdet[:, None] + quad)  # (J, N)
        lw = self.logw[:, None] + logphi
        lf = logsumexp(lw, axis=0)  # (N,)
        ll = float(lf.sum())
        if not np.isfinite(ll):
            return (-np.inf, None) if gradient else -np.inf
        if not gradient:
            return ll
        return ll, self._gradient(theta, pc, D, Linv, np.exp(lw - lf[None, :]))

    def _gradient(self, theta, pc, D, Linv, R):
        M = self.model
        ram = M.ram
        p = D.shape[2]
        nj = R.sum(axis=1)  # (J,)
        K = np.swapaxes(Linv, 1, 2) @ Linv  # (J, p, p)
        RD = D * R[:, :, None]
        Cw = np.swapaxes(RD, 1, 2) @ D  # sum_i r_ij d d'  (J, p, p)
        KCK = K @ Cw @ K
        W = -0.5 * (nj[:, None, None] * K - KCK)  # dl/dSigma_j
        g = np.einsum("jab,jb->ja", K, RD.sum(axis=1))  # dl/dmu_j
        E, Cfull, Em = pc["E"], pc["Cfull"], pc["Em"]
        FE = E[:, :p, :]
        FEt = np.swapaxes(FE, 1, 2)
        FEtW = FEt @ W
        Gm = np.einsum("jap,jp->ja", FEt, g)  # dl/dm_j  (J, n)
        GA = 2.0 * FEtW @ Cfull[:, :p, :] + np.einsum("ja,jb->jab", Gm, Em)  # dl/dA_j
        GS = FEtW @ FE  # dl/dS_j
        GA_sum = GA.sum(axis=0)
        GS_sum = GS.sum(axis=0)
        Gm_sum = Gm.sum(axis=0)
        grad = _ram_gradient(M, M.group, GA_sum, GS_sum, Gm_sum)
        gm = ram.groups[M.group]
        free = ram.free
        # product terms: coefficient omega * moderator(z) on the path other -> y
        k = M.k
        xp = M.xi_pos
        om, modval = pc["om"], pc["modval"]
        Lbar = -2.0 * GS_sum[np.ix_(xp, xp)] @ pc["L1"] + Gm[:, xp].T @ self.z
        kappa_bar = np.zeros(len(xp))
        for t in range(len(M.terms)):
            gpath = GA[:, M.term_y[t], M.term_o[t]]  # (J,)
            if M.term_free[t] > 0:
                grad[M.term_free[t] - 1] += gpath @ modval[:, M.term_m[t]]
            mbar = om[t] * gpath  # dl/d moderator value at each node
            Lbar[M.term_m[t], :] += mbar @ self.z
            kappa_bar[M.term_m[t]] += mbar.sum()
        _moderator_moments_gradient(M, gm, free, pc, Lbar, kappa_bar, k, grad)
        return grad

    # -------------------------------------------------------------- estimation
    def start_values(self) -> tuple[np.ndarray, float, dict]:
        """ML fit of the model without product terms (coefficients 0;
        :func:`_linear_start`)."""
        return _linear_start(self.model, [self.X])

    def estimate(self, max_iter: int = 500, gtol: float = 1e-7) -> None:
        """Maximise the log-likelihood by BFGS with backtracking line search
        (:func:`ckm_research.numerics.bfgs`), the initial inverse Hessian from
        the expected information of the linear model and the product
        coefficients' curvature by differences."""
        M = self.model
        theta, h0_logl, h0 = self.start_values()
        self.h0_logl = float(h0_logl)
        self.h0_theta = h0["theta0"]
        terms = [int(v) - 1 for v in M.term_free if v > 0]
        fg, Hinv, f, g = _bfgs_start(self.loglik, self.n, theta, h0["info"], M.n_base, terms)
        theta, f, Hinv, self.iterations = _maximise(fg, theta, Hinv, max_iter, gtol, f, g)
        self.theta = theta
        self.logl = float(-f * self.n)

    def posterior_nodes(self, theta: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        """Nodes where some case has posterior probability above ``tol``."""
        mu, Sig, _ = self.model.moments(theta, self.z)
        L = np.linalg.cholesky(Sig)
        Linv = np.linalg.inv(L)
        Y = (self.X[None, :, :] - mu[:, None, :]) @ np.swapaxes(Linv, 1, 2)
        logdet = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
        lw = self.logw[:, None] - 0.5 * (logdet[:, None] + np.einsum("jnp,jnp->jn", Y, Y))
        r = np.exp(lw - logsumexp(lw, axis=0)[None, :])
        return r.max(axis=1) > tol

    def hessian(
        self, theta: np.ndarray | None = None, method: str | None = None, n_jobs: int = 1
    ) -> np.ndarray:
        """Hessian of the log-likelihood by differences of the analytic gradient.

        ``method`` is ``"central"`` (default for up to 60 parameters;
        :func:`ckm_research.numerics.numerical_jacobian`, step
        :math:`10^{-5}\\max(1, |\\theta_j|)`) or ``"forward"`` (default above:
        half the cost, and ample accuracy for standard errors).  Nodes where no
        case has posterior probability above 1e-9 at ``theta`` are left out
        (their contribution to the log-likelihood is below that relative size).
        ``n_jobs`` forked processes share the columns.
        """
        theta = self.theta if theta is None else theta
        q = len(theta)
        if method is None:
            method = "central" if q <= 60 else "forward"
        keep = self.posterior_nodes(theta)
        z, logw = self.z, self.logw
        self.z, self.logw = z[keep], logw[keep]

        try:
            return gradient_hessian(self.loglik, theta, method, n_jobs)
        finally:
            self.z, self.logw = z, logw


def gradient_hessian(loglik, theta: np.ndarray, method: str, n_jobs: int = 1) -> np.ndarray:
    """Hessian of an LMS log-likelihood by differences of its analytic gradient.

    ``loglik(theta, gradient=True)`` returns ``(logl, gradient)``, the gradient
    ``None`` where it cannot be computed.  ``method`` is ``"central"``
    (:func:`ckm_research.numerics.numerical_jacobian`, step
    :math:`10^{-5}\\max(1, |\\theta_j|)`) or ``"forward"`` (step
    :math:`10^{-6}\\max(1, |\\theta_j|)`: half the cost, ample accuracy for
    standard errors); ``n_jobs`` forked processes share the columns.  Shared by
    :class:`DenseLMSEngine` and the multi-group engine.
    """
    from ckm_research.numerics import numerical_jacobian

    q = len(theta)

    def grad(th):
        _, g = loglik(th, gradient=True)
        if g is None:
            raise IdentificationError(
                "LMS: the Hessian cannot be computed at the solution (a variance is at "
                "its boundary); standard errors are not available"
            )
        return g

    g0 = grad(theta) if method == "forward" else None

    def columns(cols):
        if method == "central":
            return numerical_jacobian(grad, theta, 1e-5, columns=cols)
        Hc = np.zeros((q, q))
        for c in cols:
            h = 1e-6 * max(1.0, abs(theta[c]))
            tp = theta.copy()
            tp[c] += h
            Hc[:, c] = (grad(tp) - g0) / h
        return Hc

    n_jobs = max(1, min(int(n_jobs), q))
    cols = np.arange(q)
    if n_jobs == 1:
        H = columns(cols)
    else:
        H = forked_sum(columns, [(cols[w::n_jobs],) for w in range(n_jobs)])
    return 0.5 * (H + H.T)


def _estimates_table(engine, vcov: np.ndarray, level: float, defs, engines=None) -> pd.DataFrame:
    """lavaan's ``parameterEstimates()`` rows of an LMS or QML fit (one table
    for one group and for several).

    The rows of the parameter table in its order, each product-term row
    after the last regression of its outcome (in its group), then the ``:=``
    rows (:func:`_defined_rows`); a ``free`` column gives the parameter index.

    Parameters
    ----------
    engine
        The fitted engine (``model``, ``theta``, ``row_values``, ``row_free``;
        ``std_all`` for one group).
    vcov : ndarray
        Covariance matrix of the estimates.
    level : float
        Confidence level.
    defs : list
        The ``:=`` definitions.
    engines : list, optional
        Several groups: one single-group engine per group (each group's
        product terms and ``std.all``); adds lavaan's ``group`` column (1..G;
        0 for ``:=`` rows).
    """
    M = engine.model
    t = M.partable.table
    theta = engine.theta
    grouped = engines is not None
    engines = [engine] if engines is None else engines
    nrow = len(t)
    vals = engine.row_values(theta)
    free = engine.row_free()
    se_free = np.sqrt(np.clip(np.diag(vcov), 0, None))
    se = np.where(free > 0, se_free[np.maximum(free, 1) - 1], 0.0)
    wald = wald_table(vals, se, level)
    terms = [(g, tm) for g, e in enumerate(engines) for tm in e.model.terms]
    if grouped:
        std = np.full(len(vals), np.nan)
        tgroup = t["group"].to_numpy()
        nterm = len(M.terms)
        for g, eng in enumerate(engines):
            sa = eng.std_all(theta)  # base rows of group g, then its product rows
            sel = tgroup == g + 1
            std[:nrow][sel] = sa[:nrow][sel]
            std[nrow + g * nterm : nrow + (g + 1) * nterm] = sa[nrow:]
    else:
        std = engine.std_all(theta)
        tgroup = np.ones(nrow, dtype=int)
    lhs = list(t["lhs"]) + [tm.lhs for _, tm in terms]
    op = list(t["op"]) + ["~"] * len(terms)
    rhs = list(t["rhs"]) + [tm.term for _, tm in terms]
    grp = list(tgroup) + [g + 1 for g, _ in terms]
    labels = [lab if not str(lab).startswith(".") else "" for lab in t["label"]] + [
        tm.label for _, tm in terms
    ]
    columns = {
        "lhs": lhs,
        "op": op,
        "rhs": rhs,
        "est": vals,
        "se": se,
        "z": np.where(free > 0, wald["z"], np.nan),
        "pvalue": np.where(free > 0, wald["pvalue"], np.nan),
        "ci.lower": np.where(free > 0, wald["ci.lower"], vals),
        "ci.upper": np.where(free > 0, wald["ci.upper"], vals),
        "std.all": std,
        "label": labels,
    }
    if grouped:
        columns["group"] = np.asarray(grp, dtype=int)
    columns["free"] = free
    out = pd.DataFrame(columns)
    # the product rows go right after the last regression of their lhs in their group
    # (after the group's last row when there is none)
    order = list(range(nrow))
    for i, (g, tm) in enumerate(terms):
        where = [
            k
            for k, r in enumerate(order)
            if r < nrow and op[r] == "~" and lhs[r] == tm.lhs and grp[r] == g + 1
        ]
        if where:
            at = where[-1] + 1
        else:
            at = [k for k, r in enumerate(order) if grp[r] == g + 1][-1] + 1
        # keep several product terms of one lhs in the order written
        while at < len(order) and order[at] >= nrow:
            at += 1
        order.insert(at, nrow + i)
    out = out.iloc[order].reset_index(drop=True)
    if defs:
        allab = list(t["label"]) + [tm.label for _, tm in terms]
        drows = _defined_rows(defs, allab, engine.row_values, theta, vcov, level)
        if grouped:
            drows.insert(len(drows.columns) - 1, "group", 0)
        out = pd.concat([out, drows], ignore_index=True)
    return out


def _defined_rows(defs, labels, row_values, theta, vcov, level: float) -> pd.DataFrame:
    """The ``:=`` rows of an LMS or QML fit: each definition's value
    (:class:`ckm_research.sem.syntax.DefinedParameters` on ``row_values(theta)``,
    the values of the rows named by ``labels``), its delta-method SE
    (:func:`ckm_research.sem.standardized.delta_method_se`, central differences)
    and Wald test (:func:`ckm_research.numerics.wald_table`)."""
    dv = evaluate_definitions(defs, labels, row_values(theta))  # errors name the definition
    dp = DefinedParameters(defs, labels)  # compiled once for the differences

    def dvals(th):
        return dp.values(row_values(th))

    dse = delta_method_se(dvals, theta, vcov)
    dw = wald_table(dv, dse, level)
    names = [d.name for d in defs]
    return pd.DataFrame(
        {
            "lhs": names,
            "op": ":=",
            "rhs": [d.expression for d in defs],
            "est": dv,
            "se": dse,
            "z": dw["z"],
            "pvalue": dw["pvalue"],
            "ci.lower": dw["ci.lower"],
            "ci.upper": dw["ci.upper"],
            "std.all": np.nan,
            "label": names,
            "free": 0,
        }
    )


def fit_lms(
    model: str,
    data,
    *,
    nodes: int | None = None,
    prune: float = 1e-12,
    moderators=None,
    missing_values=None,
    level: float = 0.95,
    control: dict | None = None,
    missing: str | None = None,
    quadrature: str | None = None,
    n_jobs: int = 1,
    group: str | None = None,
    group_equal=(),
    group_partial=(),
) -> SEMResults:
    """Fit a latent interaction model by LMS (Klein & Moosbrugger, 2000).

    Parameters
    ----------
    model : str
        lavaan syntax with product terms (``Y ~ X + Z + X:Z``).
    data : pandas.DataFrame or path
        Incomplete cases are deleted listwise, or kept with ``missing='ml'``.
    nodes : int, optional
        Gauss-Hermite nodes per moderator.  Fixed rule (before pruning): 64
        with one moderator (about 36 remain), 24 with two, 12 with three or
        more.  Adaptive rule: 3 per moderator and case (on modsem's TPB data
        3 and 5 adaptive nodes give the same log-likelihood to 1e-5).
        modsem's fixed 24-node rule is too coarse when the moderator's
        indicators are reliable: its posterior is then narrower than the node
        spacing (on oneInt the X:Z estimate moves from 0.713 with 24 nodes to
        0.7183 with 48 or more; modsem itself uses adaptive quadrature).
    prune : float
        Product-rule nodes whose weight is below ``prune`` times the largest
        are dropped.
    moderators : sequence of str, optional
        The exogenous factors to integrate over (default: chosen from the
        product terms).
    missing_values : optional
        Missing-value codes, as for :func:`ckm_research.fit`.
    level : float
        Confidence level.
    control : dict, optional
        ``{"iter.max": 500}``.
    missing : {'listwise', 'ml'}, optional
        ``'ml'``: full-information ML, the mixture likelihood of each case's
        observed indicators (:mod:`ckm_research.moderation.lms_engine`;
        modsem's ``missing = "ml"``); ``'listwise'`` (default) deletes
        incomplete cases.
    quadrature : {'fixed', 'adaptive'}, optional
        The Gauss-Hermite rule: one fixed product rule for every case, or a few
        nodes per case placed at its posterior of the moderators (adaptive;
        modsem's ``adaptive.quad``).  Default: fixed with one moderator,
        adaptive with two or more.
    n_jobs : int, optional
        Forked processes that share the columns of the Hessian (the observed
        information for the standard errors, most of the time of a large
        model); 1 (default) computes it in this process.  The numbers do not
        depend on it.
    group : str, optional
        Column of ``data`` defining groups: multiple-group LMS
        (:mod:`ckm_research.moderation.lms_multigroup`; modsem's ``group``),
        the log-likelihood summed over the groups, with lavaan's
        multiple-group parameterisation and one coefficient per product term
        and group.  The groups are taken in the order of the data.
    group_equal : sequence of str
        lavaan's ``group.equal`` (``"loadings"``, ``"intercepts"``,
        ``"regressions"`` -- product terms included --, ``"residuals"``, ...).
    group_partial : sequence of str
        lavaan's ``group.partial`` (``"x2~1"``, ``"Y~X:Z"``).

    Returns
    -------
    SEMResults
        ``estimates`` has one row per parameter of the model without product
        terms plus one row ``Y ~ X:Z`` per product term (with ``group``, a
        ``group`` column 1..G and one block per group, as lavaan);
        ``fit_measures`` has the log-likelihood, information criteria and the
        likelihood-ratio test against the model without product terms
        (``h0.*``, ``lrt.*``).

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> one_int = load_dataset("oneInt")
    >>> model = ("X =~ x1 + x2 + x3\\nZ =~ z1 + z2 + z3\\nY =~ y1 + y2 + y3\\n"
    ...          "Y ~ X + Z + X:Z")
    >>> res = fit_lms(model, one_int)
    >>> res.estimates.query("rhs == 'X:Z'")[["lhs", "op", "rhs", "est", "se"]].round(3)
       lhs op  rhs  est     se
    11   Y  ~  X:Z  0.7  0.056

    In R: ``modsem::modsem(model, data, method = "lms")``.
    """
    from ckm_research.data.io import read_data
    from ckm_research.moderation.lms_engine import LMSEngine, latent_space_reason
    from ckm_research.sem.checks import run_engine

    started = (time.perf_counter(), time.process_time())
    opts = InteractionOptions.from_kwargs(
        "fit_lms", nodes=nodes, prune=prune, moderators=moderators, quadrature=quadrature,
        n_jobs=n_jobs, control=control, missing=missing, level=level,
        missing_values=missing_values, group=group, group_equal=group_equal,
        group_partial=group_partial,
    )  # fmt: skip
    parsed = parse_model(model)
    frame = read_data(data, missing_values=opts.missing_values)
    groups = group_column(frame, opts.group) if opts.group is not None else None
    lms = LMSModel(
        parsed,
        moderators=opts.moderators,
        ngroups=1 if groups is None else len(groups[0]),
        group_equal=opts.group_equal,
        group_partial=opts.group_partial,
    )
    dense_reason = latent_space_reason(lms)
    opts = opts.resolved(lms, dense_reason)
    xs, n_total, glabels, notes = select_cases(frame, lms.ov, opts, dense_reason, groups)
    engines = []
    for g, x in enumerate(xs):
        complete = not np.isnan(x).any()
        mg = lms.for_group(g)
        if dense_reason or (complete and opts.quadrature == "fixed"):
            # complete data on one fixed rule: the indicator-space engine gives the same
            # likelihood (tests/test_moderation_lms_fiml.py) with fewer, larger matrix products
            engines.append(DenseLMSEngine(mg, x, nodes=opts.nodes, prune=opts.prune))
        else:
            engines.append(
                LMSEngine(mg, x, nodes=opts.nodes, prune=opts.prune, quadrature=opts.quadrature)
            )
    if groups is None:
        engine = engines[0]
    else:
        from ckm_research.moderation.lms_multigroup import MultiGroupLMSEngine

        engine = MultiGroupLMSEngine(lms, engines, glabels, n_total=n_total)
    engine.configure(
        opts, definitions=parsed.definitions, model_text=model, notes=notes, started=started
    )
    return run_engine(engine, frame, parsed)
