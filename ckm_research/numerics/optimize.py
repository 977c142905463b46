"""The one optimiser of the estimators: damped (quasi-)Newton with step halving.

The ML (:func:`ckm_research.sem.ml.fit_ml`), FIML
(:class:`ckm_research.sem.fiml.FIMLEngine`), WLSMV/ULSMV
(:class:`ckm_research.sem.wlsmv.WLSMVEngine`) and refit
(:class:`ckm_research.inference.refit.MomentFitter`) estimators all minimise a
smooth discrepancy with a Newton-type direction (Fisher scoring: the expected
information as Hessian, with a BFGS correction (:func:`structured_bfgs`), or a
BFGS update alone) and a backtracking line search
that halves the step until the discrepancy decreases enough (Nocedal & Wright,
2006, algorithm 3.1 with the sufficient-decrease condition 3.4).  They differ
only in the direction they compute and in their acceptance and convergence
constants, which are the arguments of :func:`minimize`.

Why a home-made routine rather than :func:`scipy.optimize.minimize`
--------------------------------------------------------------------
The estimators' problems are small and well-conditioned near the solution:
from lavaan-style starting values the ML fit converges in about 10 iterations
(Fisher scoring with a structured BFGS correction of the information,
:func:`structured_bfgs`; plain Fisher scoring converges only linearly on a
model that does not fit exactly and needed 30 on the Holzinger-Swineford CFA),
each costing one information matrix and one or two discrepancy evaluations, so
the optimiser's own overhead per iteration decides the time.  Timed on the
benchmark models (the ``hs_ml`` and ``ckm_ml`` cases of ``benchmarks/run.py``)
with the same objective and analytic gradient, :func:`minimize` (as
:func:`~ckm_research.sem.ml.fit_ml` calls it) against scipy's ``trust-exact``
(the closest scipy method: a Newton step with the given Hessian, here the
expected information, inside a trust region), fit only, CPU time, min of 7 runs
on the shared 2-core machine (load average 3.8; 2 December 2026; the two
runs of each alternated with the old code)::

    model                      minimize              trust-exact
    Holzinger-Swineford CFA    5.5-5.8 ms, 11 iter.  24-33 ms, 54 iter.
      (plain Fisher scoring:   12.5-14.8 ms, 30 iter.)
    CKM SEM (53 items)         30-48 ms, 9 iter.     49-81 ms, 28 iter.
      (plain Fisher scoring:   36-43 ms, 10 iter.)

A trust region also needs more iterations here (it starts from radius 1 and
cannot take a longer scoring step before it has grown).  ``trust-exact`` stays in use
where its trust region pays: fits with equality constraints
(:mod:`ckm_research.sem.constraints`), whose trial points may make
:math:`\\Sigma` non-positive-definite.  The latent-interaction estimators
(LMS, QML: no closed-form information matrix) use :func:`bfgs`, BFGS with
the same step halving; its docstring gives the measurements against scipy's
BFGS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["minimize", "MinimizeResult", "structured_bfgs", "bfgs"]


@dataclass
class MinimizeResult:
    """Outcome of :func:`minimize`.

    Attributes
    ----------
    x : ndarray
        The last accepted point.
    fun : float
        The objective there.
    state : object
        What ``fun`` returned with it (e.g. the gradient).
    nit : int
        The iteration in which the routine stopped.
    status : str
        ``"converged"``; ``"no_descent"`` (no step length down to
        ``min_alpha`` decreased the objective enough: the caller decides
        whether ``x`` is a minimum, e.g. from its gradient); or ``"max_iter"``.
    hess_inv : ndarray or None
        The last inverse Hessian approximation (:func:`bfgs` only).
    """

    x: np.ndarray
    fun: float
    state: Any
    nit: int
    status: str
    hess_inv: np.ndarray | None = None


def minimize(
    fun,
    x0: np.ndarray,
    direction,
    *,
    f0: float | None = None,
    state0: Any = None,
    max_iter: int = 500,
    ftol: float = 1e-10,
    xtol: float = 1e-6,
    armijo: float = 1e-4,
    slack: float = 0.0,
    min_alpha: float = 1e-10,
    accept_below_min: bool = False,
    stop=None,
) -> MinimizeResult:
    """Minimise ``fun`` along the directions ``direction`` gives, halving steps.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (f, state)``: the objective (``inf`` or ``nan`` where ``x``
        is not admissible, e.g. :math:`\\Sigma` not positive definite) and
        whatever ``direction`` needs at an accepted point (gradient, residuals).
    x0 : ndarray
        Starting point.
    direction : callable
        ``direction(x, f, state, it, s) -> (d, slope)``: the search direction at
        the accepted point ``x`` in iteration ``it`` and :math:`g^\\top d`
        (``None`` when ``armijo`` is 0); ``s`` is the last accepted step
        :math:`x_{k} - x_{k-1}` as taken (``alpha * d``; ``None`` at first), for
        quasi-Newton updates.  It may raise (a singular information matrix).
    f0, state0 : optional
        ``fun(x0)``, when the caller has it already.
    max_iter : int
        Iterations (directions) at most.
    ftol, xtol : float
        Convergence: :math:`|f_k - f_{k+1}| < \\mathrm{ftol}(1 + |f_k|)` and
        :math:`\\max_j |\\alpha d_j| <` ``xtol``.
    armijo, slack : float
        A step is accepted when :math:`f(x + \\alpha d) \\le f + \\mathrm{armijo}
        \\cdot\\alpha\\, g^\\top d + \\mathrm{slack}\\,|f|` (the sufficient decrease
        condition; ``slack`` tolerates a rounding-level increase).
    min_alpha : float
        Smallest step length tried.
    accept_below_min : bool
        Accept the first step shorter than ``min_alpha`` whatever its objective
        (instead of returning ``"no_descent"``).
    stop : callable, optional
        ``stop(x, f, state) -> bool``: a further convergence test after each
        accepted step (e.g. a vanishing gradient).

    Returns
    -------
    MinimizeResult

    Examples
    --------
    Newton's method on a quadratic converges in one step:

    >>> A = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> def fun(x):
    ...     return 0.5 * x @ A @ x - x.sum(), A @ x - 1.0
    >>> def newton(x, f, g, it, s):
    ...     d = -np.linalg.solve(A, g)
    ...     return d, float(g @ d)
    >>> res = minimize(fun, np.zeros(2), newton)
    >>> res.status, np.round(res.x, 6).tolist()
    ('converged', [0.285714, 0.857143])
    """
    x = x0
    if f0 is None:
        f, state = fun(x)
    else:
        f, state = f0, state0
    s = None
    for it in range(1, max_iter + 1):
        d, slope = direction(x, f, state, it, s)
        alpha = 1.0
        while True:
            new = x + alpha * d
            f_new, state_new = fun(new)
            bound = f
            if armijo:
                bound = f + armijo * alpha * slope
            if slack:
                bound = bound + slack * abs(f)
            if np.isfinite(f_new) and f_new <= bound:
                break
            if accept_below_min and alpha < min_alpha:
                break
            alpha *= 0.5
            if not accept_below_min and alpha < min_alpha:
                return MinimizeResult(x, f, state, it, "no_descent")
        s = alpha * d
        converged = abs(f - f_new) < ftol * (1 + abs(f)) and np.max(np.abs(s)) < xtol
        x, f, state = new, f_new, state_new
        if converged or (stop is not None and stop(x, f, state)):
            return MinimizeResult(x, f, state, it, "converged")
    return MinimizeResult(x, f, state, max_iter, "max_iter")


def structured_bfgs(
    A: np.ndarray, C: np.ndarray | None, s: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """BFGS update of a Hessian approximation with a known, recomputed part.

    The Hessian of the ML discrepancy is the expected information (twice it,
    ``A``, known analytically at every point) plus a term that vanishes only when
    the model fits exactly.  Fisher scoring drops that term and so converges
    linearly on a misfitting model.  Here the approximation is
    :math:`B = A_{k+1} + C_k`, the freshly computed known part plus the correction
    ``C`` carried over from the last iteration, updated by BFGS with the step
    :math:`s = x_{k+1} - x_k` and the change of the gradient :math:`y = g_{k+1} -
    g_k` (Nocedal & Wright, 2006, eq. 6.19), so that the new :math:`B` satisfies
    the secant condition :math:`B s = y`; the new correction is :math:`B - A_{k+1}`.
    This is the structured quasi-Newton idea of Dennis, Gay & Welsch (1981, the
    NL2SOL algorithm for nonlinear least squares: exact Gauss-Newton part, secant
    update of the rest).

    Parameters
    ----------
    A : ndarray
        The known part of the Hessian at the new point (positive definite).
    C : ndarray or None
        The correction so far (``None``: none yet).
    s, y : ndarray
        The last step and the change of the gradient along it.

    Returns
    -------
    B, C : ndarray or None
        The updated approximation and correction; ``(None, None)`` when the update
        is not defined or would not be positive definite (curvature
        :math:`s^\\top y \\le 0`, or :math:`A + C` not positive definite): the
        caller then takes the plain step with ``A`` and starts the correction anew.

    Examples
    --------
    On a quadratic with Hessian ``A + E`` the updated matrix reproduces ``y``
    along ``s``:

    >>> A = np.diag([2.0, 1.0]); E = np.array([[0.5, 0.2], [0.2, 0.3]])
    >>> s = np.array([1.0, -0.5]); y = (A + E) @ s
    >>> B, C = structured_bfgs(A, None, s, y)
    >>> bool(np.allclose(B @ s, y)), bool(np.allclose(B - C, A))
    (True, True)
    """
    B = A if C is None else A + C
    sy = float(s @ y)
    Bs = B @ s
    sBs = float(s @ Bs)
    if not (sy > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y) and sBs > 0):
        return None, None
    B = B - np.outer(Bs / sBs, Bs) + np.outer(y / sy, y)
    try:
        np.linalg.cholesky(B)
    except np.linalg.LinAlgError:
        return None, None
    return B, B - A


def bfgs(
    fg,
    x0: np.ndarray,
    hess_inv0: np.ndarray,
    *,
    max_iter: int = 500,
    gtol: float = 1e-7,
    f0: float | None = None,
    g0: np.ndarray | None = None,
) -> MinimizeResult:
    """Minimise ``f`` by BFGS with a backtracking (Armijo) line search.

    The optimiser of the latent-interaction estimators (LMS,
    :mod:`ckm_research.moderation.lms`, and QML,
    :mod:`ckm_research.moderation.qml`): the inverse Hessian approximation
    :math:`H` is updated by the BFGS formula (Nocedal & Wright, 2006, eq. 6.17)
    after each step :math:`-\\alpha H g`, the step length halved from 1 until
    :math:`f` decreases by at least :math:`10^{-4}\\alpha\\, g^\\top d`
    (algorithm 3.1, condition 3.4).  A non-descent direction resets :math:`H`
    to the inverse of the diagonal of :math:`H^{-1}`; a pair with
    :math:`s^\\top y \\le 10^{-12}` is skipped.

    Parameters
    ----------
    fg : callable
        ``x -> (f, gradient)``; ``(inf, None)`` outside the admissible region
        (the step is then halved).
    x0 : ndarray
        Start.
    hess_inv0 : ndarray
        Initial inverse Hessian approximation.
    max_iter : int
        Iterations at most.
    gtol : float
        Converged when the largest absolute gradient element is below ``gtol``,
        or when :math:`|f_k - f_{k+1}| < 10^{-13}` and no step element exceeds
        :math:`10^{-9}`.
    f0, g0 : optional
        ``fg(x0)``, when the caller has it already.

    Returns
    -------
    MinimizeResult
        ``state`` is the gradient at ``x``, ``hess_inv`` the last inverse
        Hessian approximation (a warm start for a further call).  ``status``:
        ``"converged"`` (also when no step of length down to
        :math:`10^{-12}` decreases ``f`` but the gradient is below
        :math:`10^{-4}`: a maximum within rounding); ``"no_descent"`` (no step
        decreases ``f`` and the gradient is not small); ``"max_iter"``; or
        ``"not_admissible"`` (``f(x0)`` is not finite).

    Notes
    -----
    **Why BFGS, not :func:`minimize`'s Newton directions.**  The LMS
    log-likelihood has no closed-form information matrix, so a Newton direction
    would need the Hessian by differences of the gradient at every iteration,
    ``n_free + 1`` gradient evaluations (219 on the CKM model with three
    moderators, about 2-3 s of CPU each on the shared 2-core machine), where a
    BFGS iteration needs one or two.  Measured there
    (``benchmarks/bench_lms.py``, issue 11: 373 s for the whole BFGS fit, more
    for the one 219-evaluation Hessian of the standard errors), the whole BFGS
    fit costs less than a single Newton iteration would; on oneInt (31
    parameters) the same holds.

    **Why not** :func:`scipy.optimize.minimize` ``(method="BFGS", jac=True,
    options={"hess_inv0": H0})`` (scipy 1.17.1 takes the initial inverse
    Hessian; it must be exactly symmetric, and ``(inf, None)`` must become
    ``(inf, NaN gradient)``: then scipy's line search backs off as this one
    does).  ``benchmarks/bench_bfgs.py`` swaps it in, same objective, start,
    initial inverse Hessian and ``gtol``; CPU time of the optimisation only,
    min (median) of 7 interleaved runs, shared 2-core machine, load average
    1.1-2.3, 2 December 2026::

        case                   this routine               scipy BFGS
        oneInt LMS, complete   356 (446) ms, 15 ev.       367 (443) ms, 16 ev.
        oneInt LMS-FIML 10%    1082 (1228) ms, 15 ev.     1092 (1422) ms, 16 ev.
        oneInt QML             40 (45) ms, 14 ev.         44 (50) ms, 15 ev.
        products QML           34 (37) ms, 16 ev.         43 (48) ms, 18 ev.

    (ev.: gradient evaluations, the start's included; same iterations except
    products QML, 14 against 15.)  From the estimators' initial inverse
    Hessian both take the same steps; scipy evaluates the start once more (it
    takes no ``f0``), adds about 0.2 ms per iteration of its own (0.30 against
    0.10 ms on a 31-parameter quadratic), and is 9-31 % slower on the cheap
    QML fits, within noise on LMS.  The estimates agree to 1e-6 (largest
    differences 2e-8, 3e-14, 1.2e-7 and 9.6e-7, the last at QML's ``gtol``
    of 1e-6), SEs to 2e-8, log-likelihoods to 1e-9.  So this loop stays (the
    rule: scipy where it is no slower than 10 % and gives the same
    estimates).  Where scipy is better: from an initial inverse Hessian 5 or
    50 times too large (first steps overshoot, some into the inadmissible
    region) its Wolfe line search with interpolation needs 35-40 resp. 74-86
    evaluations against this routine's 53-63 resp. 162-393 (halving only);
    from one 5 times too small the two are within 1-5 evaluations.  The
    estimators' initial inverse Hessian (the linear model's information and
    the product coefficients' curvature) keeps the first steps in range on
    these models; the CKM model (issue 11) was not rerun here.

    Examples
    --------
    A quadratic from the identity as initial inverse Hessian:

    >>> A = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> res = bfgs(lambda x: (0.5 * x @ A @ x - x.sum(), A @ x - 1.0), np.zeros(2), np.eye(2))
    >>> res.status, np.round(res.x, 6).tolist()
    ('converged', [0.285714, 0.857143])
    """
    theta = x0
    Hinv = hess_inv0
    q = len(theta)
    if f0 is None:
        f, g = fg(theta)
    else:
        f, g = f0, g0
    if not np.isfinite(f):
        return MinimizeResult(theta, f, g, 0, "not_admissible", Hinv)
    it = 0
    while it < max_iter:
        it += 1
        d = -Hinv @ g
        if g @ d >= 0:  # not a descent direction: reset
            Hinv = np.diag(1.0 / np.maximum(np.abs(np.diag(np.linalg.inv(Hinv))), 1e-8))
            d = -Hinv @ g
        step = 1.0
        while True:
            new = theta + step * d
            f_new, g_new = fg(new)
            if np.isfinite(f_new) and f_new <= f + 1e-4 * step * (g @ d):
                break
            step *= 0.5
            if step < 1e-12:
                break
        if step < 1e-12:
            status = "converged" if np.max(np.abs(g)) < 1e-4 else "no_descent"
            return MinimizeResult(theta, f, g, it, status, Hinv)
        s = new - theta
        y = g_new - g
        theta, f_old, f, g = new, f, f_new, g_new
        sy = s @ y
        if sy > 1e-12:
            rho = 1.0 / sy
            V = np.eye(q) - rho * np.outer(s, y)
            Hinv = V @ Hinv @ V.T + rho * np.outer(s, s)
        if np.max(np.abs(g)) < gtol or (abs(f_old - f) < 1e-13 and np.max(np.abs(s)) < 1e-9):
            return MinimizeResult(theta, f, g, it, "converged", Hinv)
    return MinimizeResult(theta, f, g, it, "max_iter", Hinv)
