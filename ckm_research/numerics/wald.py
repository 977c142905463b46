"""Normal-theory Wald statistics of estimates with standard errors.

The one place where ``z``, ``pvalue``, ``ci.lower`` and ``ci.upper`` are
computed from an estimate and its standard error, as lavaan's
``parameterEstimates()`` / ``standardizedSolution()`` do
(:math:`z = \\hat\\theta/\\mathrm{se}`,
:math:`p = 2\\Phi(-|z|)`, :math:`\\hat\\theta \\pm z_{(1+\\mathrm{level})/2}\\,
\\mathrm{se}`).  :func:`scipy.special.ndtr` / ``ndtri`` are what
``scipy.stats.norm.sf`` / ``ppf`` compute, without their per-call overhead.
"""

from __future__ import annotations

import numpy as np

__all__ = ["wald_table", "normal_quantile", "two_sided_pvalue"]


def normal_quantile(level: float) -> float:
    """:math:`z_{(1+\\mathrm{level})/2}`, the multiplier of a two-sided
    ``level`` confidence interval (1.959964 for 0.95)."""
    from scipy import special

    return float(special.ndtri(0.5 + level / 2))


def two_sided_pvalue(z):
    """:math:`2\\Phi(-|z|)` (NaN stays NaN); a scalar for a scalar ``z``."""
    from scipy import special

    return 2 * special.ndtr(-np.abs(z))


def wald_table(est, se, level: float = 0.95, *, se_min: float | None = 0.0) -> dict:
    """Wald z, two-sided p-value and confidence interval (lavaan's columns).

    Parameters
    ----------
    est, se : array_like or float
        Estimates and standard errors (fixed parameters have ``se`` 0).
    level : float
        Confidence level of the interval.
    se_min : float or None
        ``z`` (and so ``pvalue``) is NaN where ``se <= se_min`` (a fixed
        parameter); the interval is then :math:`\\hat\\theta \\pm z\\,\\mathrm{se}`
        all the same (the estimate itself when ``se`` is 0, as in lavaan).
        ``None``: plain division (``z`` infinite where ``se`` is 0 and the
        estimate is not).

    Returns
    -------
    dict
        ``{"z", "pvalue", "ci.lower", "ci.upper"}``, arrays (floats for scalar
        input).

    Examples
    --------
    >>> w = wald_table(0.5, 0.25)
    >>> round(float(w["z"]), 3), round(float(w["pvalue"]), 4), round(float(w["ci.lower"]), 4)
    (2.0, 0.0455, 0.01)
    """
    est = np.asarray(est, dtype=float) if not np.isscalar(est) else float(est)
    se = np.asarray(se, dtype=float) if not np.isscalar(se) else float(se)
    q = normal_quantile(level)
    if se_min is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            z = est / se
    else:
        z = est / np.where(se > se_min, se, np.nan)
    return {
        "z": z,
        "pvalue": two_sided_pvalue(z),
        "ci.lower": est - q * se,
        "ci.upper": est + q * se,
    }
