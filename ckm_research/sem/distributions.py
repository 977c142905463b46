"""The normal and chi-square distributions the engine needs, on :mod:`scipy.special`.

``scipy.stats`` takes about a second to import (it loads ``scipy.sparse``,
``scipy.spatial``, ``scipy.interpolate``, ``scipy.integrate`` and hundreds of
distributions), which every ``ckm fit`` paid for ``norm.sf`` and
``chi2.sf``, and each call goes through the generic ``rv_continuous``
machinery (argument broadcasting, support masks). This module gives the few
functions the fit path uses with the same results as ``scipy.stats``: each one
calls the very :mod:`scipy.special` function that ``scipy.stats`` calls
(``norm._cdf = special.ndtr``, ``chi2._sf = special.chdtrc``,
``chi2._ppf = 2 * special.gammaincinv(df / 2, p)``, ``ncx2._cdf = special.chndtr``,
...), with ``rv_continuous``'s handling of the support's ends and of invalid
arguments (``nan``). Modules import it as ``stats`` so that their formulas read
as before::

    from ckm_research.sem import distributions as stats
    p = 2 * stats.norm.sf(abs(z))

Functions not listed here (``ncx2.sf``, ``ncx2.ppf``) are handed to
``scipy.stats``, imported on first use. ``tests/test_distributions.py`` checks
every function against ``scipy.stats`` on a grid including the edge cases.

In R: ``pnorm``, ``qnorm``, ``dnorm``, ``pchisq``, ``qchisq``, ``pchisq(ncp =)``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

__all__ = ["norm", "chi2", "ncx2"]

_SQRT_2PI = np.sqrt(2 * np.pi)


def _float(x) -> np.ndarray:
    x = np.asarray(x)
    return np.asarray(x, dtype=np.promote_types(x.dtype, np.float64))


def _out(out: np.ndarray):
    return out[()] if out.ndim == 0 else out


class _Norm:
    """The standard normal distribution (``scipy.stats.norm`` without loc/scale)."""

    @staticmethod
    def cdf(x):
        return _out(np.asarray(special.ndtr(_float(x))))

    @staticmethod
    def sf(x):
        return _out(np.asarray(special.ndtr(-_float(x))))

    @staticmethod
    def ppf(q):
        return _out(np.asarray(special.ndtri(_float(q))))

    @staticmethod
    def isf(q):
        return _out(np.asarray(-special.ndtri(_float(q))))

    @staticmethod
    def pdf(x):
        x = _float(x)
        return _out(np.asarray(np.exp(-(x**2) / 2.0) / _SQRT_2PI))


class _Chi2:
    """The central chi-square distribution with ``df`` degrees of freedom."""

    @staticmethod
    def _prob(x, df, fn, at_zero: float, at_inf: float):
        x, df = np.broadcast_arrays(_float(x), _float(df))
        ok = df > 0
        out = np.zeros(x.shape, dtype=x.dtype)
        out[~ok | np.isnan(x)] = np.nan
        out[ok & (x <= 0)] = at_zero
        out[ok & (x >= np.inf)] = at_inf
        inside = ok & (x > 0) & (x < np.inf)
        if inside.any():
            out[inside] = fn(df[inside], x[inside])
        return _out(out)

    @classmethod
    def cdf(cls, x, df):
        return cls._prob(x, df, special.chdtr, 0.0, 1.0)

    @classmethod
    def sf(cls, x, df):
        return cls._prob(x, df, special.chdtrc, 1.0, 0.0)

    @staticmethod
    def _quantile(q, df, fn, at_zero: float, at_one: float):
        q, df = np.broadcast_arrays(_float(q), _float(df))
        ok = df > 0
        out = np.full(q.shape, np.nan, dtype=q.dtype)
        out[ok & (q == 0)] = at_zero
        out[ok & (q == 1)] = at_one
        inside = ok & (q > 0) & (q < 1)
        if inside.any():
            out[inside] = fn(df[inside], q[inside])
        return _out(out)

    @classmethod
    def ppf(cls, q, df):
        return cls._quantile(q, df, lambda d, p: 2 * special.gammaincinv(d / 2, p), 0.0, np.inf)

    @classmethod
    def isf(cls, q, df):
        return cls._quantile(q, df, special.chdtri, np.inf, 0.0)


class _Ncx2:
    """The non-central chi-square distribution (``df``, non-centrality ``nc``)."""

    @staticmethod
    def cdf(x, df, nc):
        x, df, nc = np.broadcast_arrays(_float(x), _float(df), _float(nc))
        ok = (df > 0) & np.isfinite(df) & (nc >= 0)
        out = np.zeros(x.shape, dtype=x.dtype)
        out[~ok | np.isnan(x)] = np.nan
        out[ok & (x >= np.inf)] = 1.0
        inside = ok & (x > 0) & (x < np.inf)
        central = inside & (nc == 0)
        noncentral = inside & (nc != 0)
        with np.errstate(over="ignore"):
            if central.any():
                out[central] = special.chdtr(df[central], x[central])
            if noncentral.any():
                out[noncentral] = special.chndtr(x[noncentral], df[noncentral], nc[noncentral])
        return _out(out)

    @staticmethod
    def ncp(x: float, df: float, p: float) -> float:
        """The non-centrality ``nc`` with ``cdf(x, df, nc) == p`` (``special.chndtrinc``);
        ``nan`` when there is none."""
        if not (df > 0 and math.isfinite(df) and x > 0 and 0 < p < 1):
            return float("nan")
        return float(special.chndtrinc(x, df, p))

    def __getattr__(self, name):
        from scipy import stats

        return getattr(stats.ncx2, name)


norm = _Norm()
chi2 = _Chi2()
ncx2 = _Ncx2()
