"""Central-difference derivatives of smooth functions of the free parameters.

Used where an analytic second derivative is not worth its code: the observed
information as the Jacobian of the analytic gradient (lavaan does the same,
``lav_model_hessian``), and delta-method standard errors of derived
quantities.  The step for parameter :math:`k` is
:math:`h_k = \\varepsilon\\max(1, |\\theta_k|)`; the error is
:math:`O(h^2)` (Nocedal & Wright, 2006, eq. 8.7).
"""

from __future__ import annotations

import numpy as np

__all__ = ["numerical_jacobian"]


def numerical_jacobian(fun, theta: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Jacobian :math:`\\partial f/\\partial\\theta^\\top` of ``fun`` at ``theta``
    by central differences; ``fun`` returns a 1-D array."""
    theta = np.asarray(theta, float)
    cols = []
    for k in range(len(theta)):
        h = eps * max(1.0, abs(theta[k]))
        tp, tm = theta.copy(), theta.copy()
        tp[k] += h
        tm[k] -= h
        cols.append((np.atleast_1d(fun(tp)) - np.atleast_1d(fun(tm))) / (2 * h))
    if not cols:
        return np.zeros((len(np.atleast_1d(fun(theta))), 0))
    return np.column_stack(cols)
