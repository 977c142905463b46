"""Central-difference derivatives of smooth functions of the free parameters.

The one home of numerical derivatives in ``ckm_research``.  Used where an
analytic second derivative is not worth its code: the observed information as
the Jacobian of the analytic gradient (lavaan does the same,
``lav_model_hessian``), delta-method standard errors of derived quantities
(standardized solution, ``:=`` parameters, constraints).  The step for
parameter :math:`k` is :math:`h_k = \\varepsilon\\max(1, |\\theta_k|)`; the
error is :math:`O(h^2)` (Nocedal & Wright, 2006, eq. 8.7).
"""

from __future__ import annotations

import numpy as np

__all__ = ["numerical_jacobian", "numerical_hessian"]


def numerical_jacobian(fun, theta: np.ndarray, eps: float = 1e-6, columns=None) -> np.ndarray:
    """Jacobian :math:`\\partial f/\\partial\\theta^\\top` by central differences.

    Parameters
    ----------
    fun : callable
        Maps a 1-D parameter vector to a 1-D array (or a scalar).
    theta : array_like
        Point of differentiation.
    eps : float
        Relative step, :math:`h_k = \\varepsilon\\max(1, |\\theta_k|)`.
    columns : sequence of int, optional
        Differentiate only in these parameters; the other columns are 0 (for a
        function known to depend on a few parameters only, e.g. ``:=``
        definitions).  Negative entries are skipped.

    Returns
    -------
    ndarray, shape (len(fun(theta)), len(theta))

    Examples
    --------
    >>> numerical_jacobian(lambda t: np.array([t[0] * t[1], t[1] ** 2]), np.array([2.0, 3.0]))
    array([[3., 2.],
           [0., 6.]])
    """
    theta = np.asarray(theta, float)
    if columns is not None:
        J = None
        for k in columns:
            if k < 0:
                continue
            col = _difference(fun, theta, int(k), eps)
            if J is None:
                J = np.zeros((len(col), len(theta)))
            J[:, k] = col
        if J is None:
            return np.zeros((len(np.atleast_1d(fun(theta))), len(theta)))
        return J
    cols = [_difference(fun, theta, k, eps) for k in range(len(theta))]
    if not cols:
        return np.zeros((len(np.atleast_1d(fun(theta))), 0))
    return np.column_stack(cols)


def _difference(fun, theta: np.ndarray, k: int, eps: float) -> np.ndarray:
    h = eps * max(1.0, abs(theta[k]))
    tp, tm = theta.copy(), theta.copy()
    tp[k] += h
    tm[k] -= h
    return (np.atleast_1d(fun(tp)) - np.atleast_1d(fun(tm))) / (2 * h)


def numerical_hessian(
    gradient, theta: np.ndarray, eps: float = 1e-6, n_jobs: int = 1
) -> np.ndarray:
    """Hessian as the symmetrised central-difference Jacobian of an analytic
    gradient, :math:`\\tfrac12(J + J^\\top)` (lavaan's ``lav_model_hessian``).

    ``n_jobs`` forked processes share the columns
    (:func:`ckm_research.numerics.forked.forked_sum`); each column is the same
    central difference, so the result does not depend on it.

    Examples
    --------
    >>> numerical_hessian(lambda t: np.array([2 * t[0] * t[1], t[0] ** 2]), np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    if n_jobs > 1 and len(theta) > 1:
        from ckm_research.numerics.forked import forked_sum

        theta = np.asarray(theta, float)
        cols = np.arange(len(theta))
        n_jobs = min(int(n_jobs), len(theta))
        H = forked_sum(
            lambda c: numerical_jacobian(gradient, theta, eps, columns=c),
            [(cols[w::n_jobs],) for w in range(n_jobs)],
        )
    else:
        H = numerical_jacobian(gradient, theta, eps)
    return 0.5 * (H + H.T)
