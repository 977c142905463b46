"""Multivariate normality of the items: Mardia's (1970) skewness and kurtosis."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ckm_research.errors import CkmError

__all__ = ["mardia"]


def mardia(data: pd.DataFrame | np.ndarray) -> dict[str, float]:
    """Mardia's (1970) multivariate skewness and kurtosis, on complete cases.

    :math:`b_{1,p} = n^{-2}\\sum_{i,j} d_{ij}^3` and :math:`b_{2,p} = n^{-1}\\sum_i
    d_{ii}^2`, with :math:`d_{ij} = (x_i-\\bar x)^\\top S^{-1}(x_j-\\bar x)` and
    :math:`S` the covariance matrix with divisor :math:`n`. Under multivariate
    normality :math:`n b_{1,p}/6 \\sim \\chi^2_{p(p+1)(p+2)/6}` and
    :math:`(b_{2,p} - p(p+2))/\\sqrt{8p(p+2)/n} \\sim N(0, 1)` (Mardia, 1970,
    *Biometrika* 57(3), 519-530). In R: ``psych::mardia(x)`` (its ``b1p``,
    ``b2p``, ``skew`` and ``kurtosis``).
    """
    x = np.asarray(pd.DataFrame(data).dropna(), dtype=float)
    n, p = x.shape
    if n <= p:
        raise CkmError(f"Mardia's coefficients need more complete cases ({n}) than variables ({p})")
    xc = x - x.mean(axis=0)
    s = xc.T @ xc / n
    d = xc @ np.linalg.solve(s, xc.T)
    b1 = float((d**3).sum() / n**2)
    b2 = float((np.diag(d) ** 2).mean())
    skew_stat = n * b1 / 6
    skew_df = p * (p + 1) * (p + 2) / 6
    kurt_z = (b2 - p * (p + 2)) / np.sqrt(8 * p * (p + 2) / n)
    return {
        "n": int(n),
        "p": int(p),
        "b1p": b1,
        "b2p": b2,
        "skew_chisq": float(skew_stat),
        "skew_df": float(skew_df),
        "skew_pvalue": float(stats.chi2.sf(skew_stat, skew_df)),
        "kurtosis_expected": float(p * (p + 2)),
        "kurtosis_z": float(kurt_z),
        "kurtosis_pvalue": float(2 * stats.norm.sf(abs(kurt_z))),
    }
