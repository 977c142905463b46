"""Ordinal sample statistics and DWLS/WLSMV inference, as lavaan computes them.

This module has two jobs.

1. **Sample statistics** (:func:`ordinal_moments`).  For ordinal items it
   computes what lavaan computes for ``cfa(..., ordered = TRUE,
   estimator = "WLSMV")``: univariate probit thresholds, polychoric
   correlations by the two-step method (thresholds fixed, then pairwise
   maximum likelihood for each correlation; Olsson, 1979, "method 2") and the
   asymptotic covariance matrix of the stacked vector (thresholds,
   correlations) from case-wise scores (Muthén, 1984; Muthén & Satorra, 1995;
   lavaan's ``muthen1984``).
2. **Inference formulas** for (diagonally) weighted least squares, given the
   model Jacobian :math:`\\Delta`, the weight matrix :math:`W` and
   :math:`\\Gamma`: the discrepancy function and its gradient, the test
   statistic, robust ("sandwich") standard errors and the Satorra-Bentler,
   mean-and-variance adjusted and scaled-and-shifted test statistics
   (Satorra & Bentler, 1994; Asparouhov & Muthén, 2010).

Public API
----------
``ordinal_moments(data, names=None, zero_add=(0.5, 0.0), zero_keep_margins=True) -> OrdinalMoments``
    Thresholds, polychoric correlations, ``gamma`` (lavaan's NACOV,
    ``lavInspect(fit, "gamma")``) and ``wls_obs`` (``lavInspect(fit, "wls.obs")``).
``wls_vector(thresholds, corr) -> ndarray``
    Stacks model thresholds and a model-implied correlation matrix (delta
    parameterization: unit diagonal) in the order of ``wls_obs``; this is
    lavaan's ``WLS.est``.
``dwls_weight(gamma) -> ndarray``
    The diagonal DWLS weights ``1 / diag(gamma)`` (lavaan's ``WLS.VD``).
``wls_discrepancy(wls_obs, wls_est, weight) -> float``
    :math:`F = (s - \\hat\\sigma)^\\top W (s - \\hat\\sigma)`.
``wls_discrepancy_gradient(wls_obs, wls_est, weight) -> ndarray``
    :math:`\\partial F / \\partial\\hat\\sigma = -2 W (s - \\hat\\sigma)`; chain with
    ``delta`` for the gradient in the parameters.
``wls_test_statistic(wls_obs, wls_est, weight, n) -> float``
    lavaan's chi-square :math:`(N - 1) F`.
``robust_vcov_wls(delta, weight, gamma, n) -> ndarray``
    lavaan's ``se = "robust.sem"`` covariance matrix of the estimates.
``satorra_bentler_test``, ``mean_var_adjusted_test``, ``scaled_shifted_test``
    ``(chisq, df, delta, weight, gamma) -> ScaledTest``; lavaan's
    ``test = "satorra.bentler"``, ``"mean.var.adjusted"`` and
    ``"scaled.shifted"`` (the WLSMV default).
``bivariate_normal_cdf(h, k, rho) -> ndarray``
    Vectorised :math:`P(X \\le h, Y \\le k)` for a standard bivariate normal
    with correlation ``rho`` (Genz, 2004).

``weight`` is either a 1-D array (a diagonal weight matrix, DWLS) or a full
2-D matrix (WLS).  ``delta`` has one row per element of ``wls_obs`` and one
column per free parameter; with equality constraints pass
:math:`\\Delta K`, with :math:`K` a basis of the free directions.  All
functions are for a single group.

lavaan conventions reproduced here (lavaan 0.6.14, checked against its
output, not only its source):

* ``wls_obs`` holds all thresholds, item by item, then the polychoric
  correlations of the strict lower triangle taken column by column
  (``x1~~x2, x1~~x3, ..., x2~~x3, ...``), lavaan's ``vech(R, diagonal=FALSE)``.
* ``gamma`` is :math:`N` times the asymptotic covariance matrix of the
  estimates (divisor :math:`N`, lavaan's default ``gamma.n.minus.one = FALSE``).
* The test statistic is :math:`(N - 1) F`, not :math:`N F` (lavaan's DWLS
  objective is :math:`\\tfrac12 (N-1)/N \\, F`, reported as ``fmin``) and the
  covariance matrix of the estimates is divided by :math:`N - 1`.
* Categories are the values observed in the data before listwise deletion;
  a category that only occurs in deleted rows is an error, as in lavaan.
* Empty cells in bivariate tables are left alone, except in 2 x 2 tables
  with exactly one empty cell, where 0.5 is moved into it keeping the
  margins (lavaan's ``zero.add = c(0.5, 0)``, ``zero.keep.margins = TRUE``).

References
----------
Asparouhov, T., & Muthén, B. (2010). Simple second order chi-square
correction. Mplus technical appendix.

Browne, M. W. (1984). Asymptotically distribution-free methods for the
analysis of covariance structures. *British Journal of Mathematical and
Statistical Psychology, 37*, 62-83.

Drezner, Z., & Wesolowsky, G. O. (1990). On the computation of the
bivariate normal integral. *Journal of Statistical Computation and
Simulation, 35*, 101-107.

Genz, A. (2004). Numerical computation of rectangular bivariate and
trivariate normal and t probabilities. *Statistics and Computing, 14*,
251-260.

Muthén, B. (1984). A general structural equation model with dichotomous,
ordered categorical, and continuous latent variable indicators.
*Psychometrika, 49*, 115-132.

Muthén, B., & Satorra, A. (1995). Technical aspects of Muthén's LISCOMP
approach to estimation of latent variable relations with a comprehensive
measurement model. *Psychometrika, 60*, 489-503.

Muthén, B., du Toit, S. H. C., & Spisic, D. (1997). Robust inference using
weighted least squares and quadratic estimating equations in latent variable
modeling with categorical and continuous outcomes. Unpublished technical
report.

Olsson, U. (1979). Maximum likelihood estimation of the polychoric
correlation coefficient. *Psychometrika, 44*, 443-460.

Satorra, A., & Bentler, P. M. (1994). Corrections to test statistics and
standard errors in covariance structure analysis. In A. von Eye & C. C.
Clogg (Eds.), *Latent variables analysis* (pp. 399-419). Sage.

Examples
--------
>>> import numpy as np
>>> from ckm_research.sem.ordinal import ordinal_moments
>>> rng = np.random.default_rng(1)
>>> z = rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], size=2000)
>>> y = np.digitize(z, [-1.0, 0.0, 1.0]) + 1
>>> mom = ordinal_moments(y, names=["a", "b"])
>>> round(float(mom.corr[0, 1]), 1)
0.5
>>> # In R: lavaan::lavCor(as.data.frame(y), ordered = TRUE)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from ckm_research.errors import CkmError, CkmWarning, DataError, IdentificationError
from ckm_research.sem import distributions as stats  # scipy.stats' results, cheap to import

__all__ = [
    "OrdinalMoments",
    "ordinal_moments",
    "wls_vector",
    "bivariate_normal_cdf",
    "dwls_weight",
    "wls_discrepancy",
    "wls_discrepancy_gradient",
    "wls_test_statistic",
    "robust_vcov_wls",
    "ScaledTest",
    "satorra_bentler_test",
    "mean_var_adjusted_test",
    "scaled_shifted_test",
]

_TWO_PI = 2.0 * np.pi
_SQRT_EPS = np.sqrt(np.finfo(float).eps)
# 20-point Gauss-Legendre rule on [-1, 1] (Genz, 2004, uses 6, 12 or 20 points
# by |rho|; the 20-point rule is accurate to double precision everywhere).
_GL_X, _GL_W = np.polynomial.legendre.leggauss(20)
_RHO_BOUND = 0.999  # lavaan bounds the polychoric correlation to [-0.999, 0.999]


# --------------------------------------------------------------------------
# Bivariate normal distribution
# --------------------------------------------------------------------------
def _bvn_upper_finite(h: np.ndarray, k: np.ndarray, r: np.ndarray) -> np.ndarray:
    """:math:`P(X > h, Y > k)` for finite 1-D arrays (Genz, 2004, section 2.2)."""
    out = np.empty(h.shape)
    small = np.abs(r) < 0.925
    if np.any(small):
        hs, ks, rs = h[small], k[small], r[small]
        hk = hs * ks
        half_sq = 0.5 * (hs * hs + ks * ks)
        asr = np.arcsin(rs)
        # Drezner & Wesolowsky (1990): integrate over theta in [0, asin(r)].
        sn = np.sin(asr[:, None] * (0.5 * (_GL_X + 1.0)))
        integrand = np.exp((sn * hk[:, None] - half_sq[:, None]) / (1.0 - sn * sn))
        out[small] = integrand @ _GL_W * asr / (2.0 * _TWO_PI) + special.ndtr(-hs) * special.ndtr(
            -ks
        )
    large = ~small
    if np.any(large):
        hl, kl, rl = h[large], k[large], r[large]
        neg = rl < 0
        kk = np.where(neg, -kl, kl)
        hk = hl * kk
        bvn = np.zeros(hl.shape)
        inner = np.abs(rl) < 1.0
        if np.any(inner):
            hi, ki, ri, hki = hl[inner], kk[inner], rl[inner], hk[inner]
            as_ = (1.0 - ri) * (1.0 + ri)
            a = np.sqrt(as_)
            bs = (hi - ki) ** 2
            c = (4.0 - hki) / 8.0
            d = (12.0 - hki) / 16.0
            asr = -0.5 * (bs / as_ + hki)
            val = np.where(
                asr > -100.0,
                a
                * np.exp(np.maximum(asr, -100.0))
                * (1.0 - c * (bs - as_) * (1.0 - d * bs / 5.0) / 3.0 + c * d * as_ * as_ / 5.0),
                0.0,
            )
            b = np.sqrt(bs)
            tail = np.where(
                -hki < 100.0,
                np.exp(-0.5 * np.maximum(hki, -100.0))
                * np.sqrt(_TWO_PI)
                * special.ndtr(-b / a)
                * b
                * (1.0 - c * bs * (1.0 - d * bs / 5.0) / 3.0),
                0.0,
            )
            val = val - tail
            a2 = 0.5 * a
            xs = (a2[:, None] * (_GL_X + 1.0)) ** 2
            rs_ = np.sqrt(1.0 - xs)
            asr2 = -0.5 * (bs[:, None] / xs + hki[:, None])
            ok = asr2 > -100.0
            term = np.exp(np.where(ok, asr2, -100.0)) * (
                np.exp(-hki[:, None] * xs / (2.0 * (1.0 + rs_) ** 2)) / rs_
                - (1.0 + c[:, None] * xs * (1.0 + d[:, None] * xs))
            )
            val = val + a2 * (np.where(ok, term, 0.0) @ _GL_W)
            bvn[inner] = -val / _TWO_PI
        pos = ~neg
        res = np.empty(hl.shape)
        res[pos] = bvn[pos] + special.ndtr(-np.maximum(hl[pos], kk[pos]))
        hn, kn, bn = hl[neg], kk[neg], bvn[neg]
        lower = np.where(
            hn < 0.0, special.ndtr(kn) - special.ndtr(hn), special.ndtr(-hn) - special.ndtr(-kn)
        )
        res[neg] = np.where(hn >= kn, -bn, lower - bn)
        out[large] = res
    return np.clip(out, 0.0, 1.0)


def bivariate_normal_cdf(h, k, rho) -> np.ndarray:
    """Standard bivariate normal distribution function, vectorised.

    Computes :math:`\\Phi_2(h, k; \\rho) = P(X \\le h, Y \\le k)` for
    standard normal :math:`X, Y` with correlation :math:`\\rho`, by Genz's
    (2004) algorithm: the Drezner & Wesolowsky (1990) integral over
    :math:`\\arcsin\\rho` for :math:`|\\rho| < 0.925`, and Genz's series
    expansion around :math:`|\\rho| = 1` otherwise, both with 20-point
    Gauss-Legendre quadrature (absolute error about 1e-15).  This is the
    algorithm of the Fortran code in R's ``pbivnorm``, which lavaan uses.

    Parameters
    ----------
    h, k : array_like
        Upper integration limits; may be infinite.
    rho : array_like
        Correlations in [-1, 1].  ``h``, ``k`` and ``rho`` are broadcast.

    Returns
    -------
    numpy.ndarray
        The probabilities, with the broadcast shape.

    Examples
    --------
    >>> round(float(bivariate_normal_cdf(0.0, 0.0, 0.5)), 6)  # 1/4 + asin(.5)/(2 pi)
    0.333333
    >>> # In R: pbivnorm::pbivnorm(0, 0, 0.5)
    """
    h, k, rho = np.broadcast_arrays(
        np.asarray(h, float), np.asarray(k, float), np.asarray(rho, float)
    )
    shape = h.shape
    h, k, rho = h.ravel(), k.ravel(), rho.ravel()
    if np.any(np.abs(rho) > 1.0) or np.any(np.isnan(rho)):
        raise CkmError("The 'rho' parameter of bivariate_normal_cdf must be in [-1, 1].")
    out = np.empty(h.shape)
    fin = np.isfinite(h) & np.isfinite(k)
    if np.any(fin):
        out[fin] = _bvn_upper_finite(-h[fin], -k[fin], rho[fin])
    nf = ~fin
    if np.any(nf):
        hn, kn = h[nf], k[nf]
        val = np.where(np.isposinf(hn), special.ndtr(kn), special.ndtr(hn))
        val = np.where(np.isposinf(hn) & np.isposinf(kn), 1.0, val)
        val = np.where(np.isneginf(hn) | np.isneginf(kn), 0.0, val)
        out[nf] = val
    return out.reshape(shape)


def _bvn_density(h: np.ndarray, k: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Bivariate standard normal density; zero where ``h`` or ``k`` is infinite."""
    fin = np.isfinite(h) & np.isfinite(k)
    hf = np.where(fin, h, 0.0)
    kf = np.where(fin, k, 0.0)
    r2 = 1.0 - rho * rho
    q = (hf * hf - 2.0 * rho * hf * kf + kf * kf) / r2
    return np.where(fin, np.exp(-0.5 * q) / (_TWO_PI * np.sqrt(r2)), 0.0)


def _corner_diff(c: np.ndarray) -> np.ndarray:
    """Cell values from values at the cell corners (last two axes are the grid)."""
    return c[..., 1:, 1:] - c[..., :-1, 1:] - c[..., 1:, :-1] + c[..., :-1, :-1]


# --------------------------------------------------------------------------
# Sample statistics
# --------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class OrdinalMoments:
    """Sample statistics of ordinal items for (D)WLS estimation.

    Attributes
    ----------
    names : tuple of str
        Item names, in the order of the columns.
    levels : tuple of numpy.ndarray
        Per item, its categories in increasing order (the observed codes, or
        the categories of an ordered pandas Categorical); category ``c`` of
        the item (0-based) is ``levels[i][c]``.
    thresholds : tuple of numpy.ndarray
        Per item, its ``len(levels[i]) - 1`` thresholds (lavaan's ``x|t1``, ...).
    corr : numpy.ndarray
        (p, p) polychoric correlation matrix (unit diagonal).
    gamma : numpy.ndarray
        Asymptotic covariance matrix of :math:`\\sqrt N` times ``wls_obs``
        (lavaan's NACOV, ``lavInspect(fit, "gamma")``).
    wls_obs : numpy.ndarray
        Thresholds item by item, then ``corr[i, j]`` for ``j < i``, column by
        column (``lavInspect(fit, "wls.obs")``).
    n : int
        Number of cases after listwise deletion.
    labels : tuple of str
        lavaan's names of the ``wls_obs`` elements (``"x1|t1"``, ``"x1~~x2"``).
    pairs : numpy.ndarray
        (p(p-1)/2, 2) item indices ``(j, i)``, ``j < i``, of the correlations in
        ``wls_obs``.
    """

    names: tuple
    levels: tuple
    thresholds: tuple
    corr: np.ndarray
    gamma: np.ndarray
    wls_obs: np.ndarray
    n: int
    labels: tuple
    pairs: np.ndarray

    @property
    def n_thresholds(self) -> int:
        """Total number of thresholds (the first elements of ``wls_obs``)."""
        return int(sum(len(t) for t in self.thresholds))


def _as_codes(data, names):
    """Validate the data; return (0-based category codes, levels, names, n)."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    declared: list = []  # per column: declared categories (Categorical) or None
    labels: list = []  # per column: category labels of a Categorical, else None
    if pd is not None and isinstance(data, pd.DataFrame):
        cols = list(data.columns)
        if names is None:
            names = [str(c) for c in cols]
        arrays = []
        for c in cols:
            s = data[c]
            if isinstance(s.dtype, pd.CategoricalDtype):
                codes = s.cat.codes.to_numpy().astype(float)
                codes[codes < 0] = np.nan
                arrays.append(codes)
                declared.append(np.arange(len(s.cat.categories), dtype=float))
                labels.append(np.asarray(s.cat.categories))
            else:
                try:
                    arrays.append(pd.to_numeric(s, errors="raise").to_numpy(dtype=float))
                except (ValueError, TypeError) as exc:
                    raise DataError(
                        f"Item '{c}' has non-numeric values; code ordinal items as integers "
                        "or as an ordered pandas Categorical."
                    ) from exc
                declared.append(None)
                labels.append(None)
        x = np.column_stack(arrays) if arrays else np.empty((len(data), 0))
    else:
        try:
            x = np.asarray(data, dtype=float)
        except (ValueError, TypeError) as exc:
            raise DataError("The data must be numeric integer codes of ordinal items.") from exc
        if x.ndim != 2:
            raise DataError(
                f"The data must be a 2-D (cases x items) array. Got {x.ndim} dimension(s)."
            )
        declared = [None] * x.shape[1]
        labels = [None] * x.shape[1]
        if names is None:
            names = [f"x{i + 1}" for i in range(x.shape[1])]
    names = tuple(str(v) for v in names)
    p = x.shape[1]
    if len(names) != p:
        raise DataError(f"Got {len(names)} names for {p} items; give one name per column.")
    if len(set(names)) != p:
        raise DataError("Item names must be unique; rename the duplicated columns.")
    if p < 2:
        raise DataError(
            f"At least two ordinal items are needed for polychoric correlations. Got {p}."
        )
    if np.any(np.isinf(x)):
        raise DataError("The data contain infinite values; code missing values as NaN.")
    obs = ~np.isnan(x)
    if np.any(obs & (x != np.round(x))):
        bad = names[int(np.where(np.any(obs & (x != np.round(x)), axis=0))[0][0])]
        raise DataError(
            f"Item '{bad}' has non-integer values; ordinal items must be integer codes."
        )
    # Levels are fixed on all rows, before listwise deletion (as lavaan does).
    levels = []
    for i in range(p):
        lev = declared[i] if declared[i] is not None else np.unique(x[obs[:, i], i])
        levels.append(lev)
    keep = np.all(obs, axis=1)
    x = x[keep]
    n = x.shape[0]
    if n < 2:
        raise DataError(
            f"Only {n} complete case(s) remain after listwise deletion; at least 2 are needed."
        )
    codes = np.empty(x.shape, dtype=np.int64)
    for i in range(p):
        lev = levels[i]
        if len(lev) < 2:
            raise DataError(
                f"Item '{names[i]}' has a single category ({lev[0] if len(lev) else 'none'}); "
                "drop it or collect more varied responses."
            )
        codes[:, i] = np.searchsorted(lev, x[:, i])
        freq = np.bincount(codes[:, i], minlength=len(lev))
        # report Categorical labels, or the integer codes themselves
        levels[i] = labels[i] if labels[i] is not None else lev.astype(np.int64)
        if np.any(freq == 0):
            raise DataError(
                f"Some categories of item '{names[i]}' are empty (after listwise deletion); "
                f"frequencies are {freq.tolist()} for categories {list(levels[i])}. Merge an "
                "empty category with a neighbour, or drop unused Categorical categories "
                "(lavaan stops here too)."
            )
    return codes, tuple(np.asarray(lv) for lv in levels), names, n


def _pearson_start(codes: np.ndarray, pi: np.ndarray, pj: np.ndarray) -> np.ndarray:
    """Pearson correlations of the category codes (lavaan's starting values)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.corrcoef(codes, rowvar=False)[pi, pj]
    r = np.where(np.isfinite(r) & (np.abs(r) < 1.0), r, 0.0)
    return np.clip(r, -_RHO_BOUND, _RHO_BOUND)


class _PairGrid:
    """Extended thresholds of many item pairs, for vectorised cell probabilities.

    ``t1[p]`` and ``t2[p]`` are ``(-inf, tau_1, ..., tau_{K-1}, +inf, +inf, ...)``
    padded to a common length ``kmax + 1`` with ``+inf`` (padded categories
    have probability zero and no cases).
    """

    def __init__(self, t1: np.ndarray, t2: np.ndarray):
        self.t1 = t1
        self.t2 = t2

    def take(self, idx):
        return _PairGrid(self.t1[idx], self.t2[idx])

    def probs(self, rho: np.ndarray) -> np.ndarray:
        """Cell probabilities (P, kmax, kmax) at correlations ``rho`` (P,)."""
        h = self.t1[:, :, None]
        k = self.t2[:, None, :]
        cdf = bivariate_normal_cdf(h, k, rho[:, None, None])
        return _corner_diff(cdf)

    def dens(self, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First and second derivatives of the cell probabilities in ``rho``.

        :math:`\\partial \\Phi_2(h, k; \\rho)/\\partial\\rho = \\phi_2(h, k; \\rho)`
        and :math:`\\partial \\phi_2/\\partial\\rho = \\phi_2 \\, g(h, k, \\rho)` with
        :math:`g = [hk(1-\\rho^2) - \\rho(h^2 - 2\\rho hk + k^2) + \\rho(1-\\rho^2)]/(1-\\rho^2)^2`
        (Olsson, 1979, and its derivative).
        """
        h = self.t1[:, :, None]
        k = self.t2[:, None, :]
        r = rho[:, None, None]
        d = _bvn_density(h, k, r)
        fin = np.isfinite(h) & np.isfinite(k)
        hf = np.where(fin, h, 0.0)
        kf = np.where(fin, k, 0.0)
        r2 = 1.0 - r * r
        g = (hf * kf * r2 - r * (hf * hf - 2.0 * r * hf * kf + kf * kf) + r * r2) / (r2 * r2)
        return _corner_diff(d), _corner_diff(d * g)


def _loglik(grid: _PairGrid, freq: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Pairwise multinomial log-likelihoods, cell probabilities floored as lavaan."""
    pi = np.maximum(grid.probs(rho), _SQRT_EPS)
    return np.sum(np.where(freq > 0, freq * np.log(pi), 0.0), axis=(1, 2))


def _fit_rho(
    grid: _PairGrid,
    freq: np.ndarray,
    start: np.ndarray,
    n: int,
    max_iter: int = 100,
    tol: float = 1e-12,
) -> tuple[np.ndarray, np.ndarray]:
    """Maximise the pairwise likelihoods in rho (thresholds fixed), all pairs at once.

    Newton-Raphson where the log-likelihood is concave, Fisher scoring
    otherwise, with step halving and the bounds [-0.999, 0.999] that lavaan
    uses (Olsson, 1979).  Returns the estimates and a flag per pair
    telling whether it converged.
    """
    rho = start.copy()
    active = np.arange(len(rho))
    converged = np.zeros(len(rho), dtype=bool)
    ll = _loglik(grid, freq, rho)
    for _ in range(max_iter):
        if active.size == 0:
            break
        g_a = grid.take(active)
        f_a = freq[active]
        r_a = rho[active]
        pi = g_a.probs(r_a)
        phi, dphi = g_a.dens(r_a)
        ok = (pi > _SQRT_EPS) & (f_a > 0)
        pis = np.where(ok, pi, 1.0)
        grad = np.sum(np.where(ok, f_a * phi / pis, 0.0), axis=(1, 2))
        hess = np.sum(np.where(ok, f_a * (dphi / pis - phi * phi / (pis * pis)), 0.0), axis=(1, 2))
        pos = pi > _SQRT_EPS
        fisher = n * np.sum(np.where(pos, phi * phi / np.where(pos, pi, 1.0), 0.0), axis=(1, 2))
        step = np.where(
            hess < 0.0, -grad / np.where(hess < 0.0, hess, -1.0), grad / np.maximum(fisher, 1e-300)
        )
        ll_a = ll[active]
        lam = np.ones_like(step)
        new = np.clip(r_a + step, -_RHO_BOUND, _RHO_BOUND)
        ll_new = _loglik(g_a, f_a, new)
        for _ in range(40):
            worse = ll_new < ll_a - 1e-12 * np.abs(ll_a)
            if not np.any(worse):
                break
            lam = np.where(worse, lam * 0.5, lam)
            idx = np.where(worse)[0]
            new[idx] = np.clip(r_a[idx] + lam[idx] * step[idx], -_RHO_BOUND, _RHO_BOUND)
            ll_new[idx] = _loglik(g_a.take(idx), f_a[idx], new[idx])
        done = (np.abs(new - r_a) < tol) | (np.abs(grad) / n < 1e-13)
        rho[active] = new
        ll[active] = ll_new
        converged[active[done]] = True
        active = active[~done]
    return rho, converged


def ordinal_moments(
    data,
    names: Sequence[str] | None = None,
    zero_add: tuple[float, float] = (0.5, 0.0),
    zero_keep_margins: bool = True,
) -> OrdinalMoments:
    """Thresholds, polychoric correlations and their asymptotic covariance matrix.

    Reproduces lavaan's sample statistics for ``estimator = "WLSMV"`` with all
    items ordered and no exogenous covariates (lavaan's ``muthen1984``).

    * **Thresholds** (step 1): per item, the probit maximum likelihood
      estimates :math:`\\hat\\tau_{c} = \\Phi^{-1}(\\sum_{c' \\le c} n_{c'}/N)`.
    * **Polychoric correlations** (step 2): per pair, with the thresholds
      fixed, :math:`\\hat\\rho` maximises
      :math:`\\sum_{a,b} n_{ab} \\log \\pi_{ab}(\\rho)`,
      :math:`\\pi_{ab} = \\Phi_2(\\tau_a, \\tau'_b) - \\Phi_2(\\tau_{a-1}, \\tau'_b)
      - \\Phi_2(\\tau_a, \\tau'_{b-1}) + \\Phi_2(\\tau_{a-1}, \\tau'_{b-1})`
      (Olsson, 1979, two-step estimator), bounded to [-0.999, 0.999].
    * **Gamma** (NACOV): with :math:`s_i` the case-wise scores of all
      univariate (threshold) and bivariate (correlation) log-likelihoods,
      :math:`A_{11}` the block-diagonal outer product of the threshold scores,
      :math:`A_{21}` the outer product of correlation and threshold scores of
      the same bivariate likelihood and :math:`A_{22}` the diagonal of the
      squared correlation scores, :math:`B = [A_{11}, 0; A_{21}, A_{22}]` and
      :math:`\\Gamma = N B^{-1} (\\sum_i s_i s_i^\\top) B^{-\\top}`
      (Muthén, 1984; Muthén & Satorra, 1995; lavaan's ``muthen1984``).

    Parameters
    ----------
    data : array_like or pandas.DataFrame
        (n, p) integer codes of ordinal items (any integers; gaps are
        ignored: the categories are the observed values).  Ordered pandas
        Categorical columns use their declared categories.  Rows with a
        missing value (NaN) are removed (lavaan's ``missing = "listwise"``).
    names : sequence of str, optional
        Item names; default the DataFrame columns or ``x1, ..., xp``.
    zero_add : tuple of float, default (0.5, 0.0)
        Amount added to an empty cell of a 2 x 2 table (first) and of a larger
        table (second), for the estimation of the correlation only (lavaan's
        ``zero.add``).
    zero_keep_margins : bool, default True
        In a 2 x 2 table with one empty cell, also adjust the other cells so
        that the margins stay the same (lavaan's ``zero.keep.margins``).

    Returns
    -------
    OrdinalMoments

    Raises
    ------
    DataError
        If the data are not integer codes, an item has a single category,
        or a category is empty after listwise deletion.

    Notes
    -----
    The score outer products use every case, so the cost is
    :math:`O(N m^2)` for :math:`m` the length of ``wls_obs``: about 0.2 s for
    53 five-category items (m = 1590) and N = 900 (lavaan: about 5 s).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[1, 1], [1, 2], [2, 2], [2, 3], [3, 3], [3, 3], [1, 1], [2, 1]])
    >>> mom = ordinal_moments(y, names=["a", "b"])
    >>> mom.labels
    ('a|t1', 'a|t2', 'b|t1', 'b|t2', 'a~~b')
    >>> # In R: lavInspect(cfa("f =~ a + b", data = y, ordered = TRUE), "wls.obs")
    """
    if len(zero_add) != 2 or any(not np.isfinite(z) or z < 0 for z in zero_add):
        raise CkmError(
            "The 'zero_add' parameter of ordinal_moments must be two non-negative numbers. "
            f"Got {zero_add} instead."
        )
    codes, levels, names, n = _as_codes(data, names)
    p = codes.shape[1]
    ncat = np.array([len(lv) for lv in levels])
    kmax = int(ncat.max())

    # ---- step 1: thresholds ------------------------------------------------
    thresholds = []
    t_ext = np.full((p, kmax + 1), np.inf)
    t_ext[:, 0] = -np.inf
    props = []
    for i in range(p):
        freq = np.bincount(codes[:, i], minlength=ncat[i]).astype(float)
        prop = freq / n
        tau = special.ndtri(np.cumsum(prop)[:-1])
        thresholds.append(tau)
        props.append(prop)
        t_ext[i, 1 : ncat[i]] = tau

    # ---- bivariate tables of all pairs, lavaan's vech order ----------------
    # Pairs (j, i), j < i, ordered by j then i (x1~~x2, x1~~x3, ..., x2~~x3).
    pj, pi_ = np.triu_indices(p, k=1)
    npair = len(pi_)
    # Table rows index item i (the later item), columns item j, as lavaan's scores.
    freq_obs = _bivariate_tables(codes, kmax, pi_, pj)  # (P, kmax, kmax)
    valid = (np.arange(kmax)[None, :, None] < ncat[pi_][:, None, None]) & (
        np.arange(kmax)[None, None, :] < ncat[pj][:, None, None]
    )
    grid = _PairGrid(t_ext[pi_], t_ext[pj])

    # ---- zero cells (lavaan's zero.add / zero.keep.margins) ----------------
    freq_est = freq_obs.copy()
    is22 = (ncat[pi_] == 2) & (ncat[pj] == 2)
    nzero = np.sum((freq_obs == 0) & valid, axis=(1, 2))
    fixed = np.full(npair, np.nan)  # closed-form or conventional values
    for q in np.where(is22)[0]:
        f = freq_est[q, :2, :2]  # a view: edits go into freq_est
        if nzero[q] == 2:
            warnings.warn(
                f"Two empty cells in the 2 x 2 table of {names[pj[q]]} x {names[pi_[q]]}; "
                "the tetrachoric correlation is set to +/-1 (as lavaan does) and its "
                "rows of gamma are undefined (NaN). Drop or recode one of the items.",
                CkmWarning,
                stacklevel=2,
            )
            fixed[q] = 1.0 if f[0, 0] > 0 else -1.0
            continue
        if nzero[q] == 1 and zero_add[0] > 0:
            z = zero_add[0]
            if zero_keep_margins:
                sgn = 1.0 if (f[0, 0] == 0 or f[1, 1] == 0) else -1.0
                f += sgn * np.array([[z, -z], [-z, z]])
            else:
                f[f == 0] += z
        if f[0, 0] * f[1, 1] == f[0, 1] * f[1, 0]:
            fixed[q] = 0.0
        elif t_ext[pi_[q], 1] == 0.0 and t_ext[pj[q], 1] == 0.0:
            # both medians split: rho = -cos(2 pi n_11 / N) (Pearson's cosine formula)
            fixed[q] = -np.cos(_TWO_PI * f[0, 0] / f.sum())
    if zero_add[1] > 0:
        sel = (~is22)[:, None, None] & valid & (freq_est == 0)
        freq_est[sel] = zero_add[1]

    # ---- step 2: polychoric correlations ------------------------------------
    start = _pearson_start(codes.astype(float), pi_, pj)
    todo = np.where(np.isnan(fixed))[0]
    rho = fixed.copy()
    if todo.size:
        est, conv = _fit_rho(grid.take(todo), freq_est[todo], start[todo], n)
        rho[todo] = est
        if not np.all(conv):
            bad = [f"{names[pj[q]]} x {names[pi_[q]]}" for q in todo[~conv][:5]]
            warnings.warn(
                "Estimation of the polychoric correlation did not converge for "
                + ", ".join(bad)
                + "; inspect these bivariate tables for sparse cells.",
                CkmWarning,
                stacklevel=2,
            )
    for q in np.where(np.abs(rho) > 0.99)[0]:
        warnings.warn(
            f"The polychoric correlation between {names[pj[q]]} and {names[pi_[q]]} is "
            f"(nearly) 1.0 ({rho[q]:.4f}).",
            CkmWarning,
            stacklevel=2,
        )
    corr = np.eye(p)
    corr[pi_, pj] = rho
    corr[pj, pi_] = rho

    # ---- Gamma (NACOV) from case-wise scores ---------------------------------
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = _nacov(codes, thresholds, props, ncat, kmax, grid, freq_obs, rho, pi_, pj)

    wls_obs = np.concatenate([np.concatenate(thresholds), rho])
    labels = tuple(
        [f"{names[i]}|t{k + 1}" for i in range(p) for k in range(ncat[i] - 1)]
        + [f"{names[j]}~~{names[i]}" for j, i in zip(pj, pi_, strict=True)]
    )
    return OrdinalMoments(
        names=names,
        levels=levels,
        thresholds=tuple(thresholds),
        corr=corr,
        gamma=gamma,
        wls_obs=wls_obs,
        n=int(n),
        labels=labels,
        pairs=np.column_stack([pj, pi_]),
    )


def _row_chunks(n: int, width: int):
    """Row blocks of about 2 million matrix elements, to bound memory."""
    size = max(256, 2_000_000 // max(width, 1))
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def _bivariate_tables(codes: np.ndarray, kmax: int, pi_: np.ndarray, pj: np.ndarray) -> np.ndarray:
    """Frequency tables of all item pairs, (P, kmax, kmax), rows item ``pi_``."""
    n, p = codes.shape
    cross = np.zeros((p * kmax, p * kmax))
    cols = np.arange(p) * kmax
    for a, b in _row_chunks(n, p * kmax):
        onehot = np.zeros((b - a, p * kmax))
        onehot[np.arange(b - a)[:, None], cols + codes[a:b]] = 1.0
        cross += onehot.T @ onehot
    return cross.reshape(p, kmax, p, kmax)[pi_, :, pj, :]


def _nacov(codes, thresholds, props, ncat, kmax, grid, freq, rho, pi_, pj):
    """N times the asymptotic covariance of (thresholds, correlations).

    Muthén (1984); Muthén & Satorra (1995); lavaan's ``muthen1984``.  With case-wise
    scores :math:`s_i` and the matrix :math:`B` of :func:`ordinal_moments`, the
    influence function of case :math:`i` is :math:`B^{-1}s_i`, computed block
    by block: thresholds :math:`A_{11}^{-1}s_{i,\\tau}`, correlations
    :math:`A_{22}^{-1}(s_{i,\\rho} - A_{21}A_{11}^{-1}s_{i,\\tau})`.  All scores
    depend on a case only through its categories, so they are table look-ups.
    """
    n, p = codes.shape
    npair = len(rho)
    nth = ncat - 1
    th_start = np.concatenate([[0], np.cumsum(nth)[:-1]])
    nth_tot = int(nth.sum())

    # Threshold scores per category, d log pi_c / d tau_t =
    # (1[c = t] - 1[c = t + 1]) phi(tau_t) / pi_c, and their influence tables.
    inf_tabs = []
    for i in range(p):
        k = ncat[i]
        dn = stats.norm.pdf(thresholds[i])
        tab = np.zeros((k, k - 1))
        tab[np.arange(k - 1), np.arange(k - 1)] = dn
        tab[np.arange(1, k), np.arange(k - 1)] -= dn
        tab /= props[i][:, None]
        a11 = (tab.T * (props[i] * n)) @ tab  # sum over cases of s s'
        inf_tabs.append(tab @ np.linalg.inv(a11))

    # Bivariate correlation scores per cell.  lavaan drops cases in cells with
    # probability <= sqrt(eps) (their scores become NA, summed as zero).
    r = rho[:, None, None]
    pi = grid.probs(rho)
    phi, _ = grid.dens(rho)
    good = pi > _SQRT_EPS
    pis = np.where(good, pi, 1.0)
    s_rho = np.where(good, phi / pis, 0.0)  # d log pi_ab / d rho
    a22 = np.sum(freq * s_rho * s_rho, axis=(1, 2))
    hcell = freq * s_rho / pis  # A21 = sum_ab hcell_ab * d pi_ab / d tau
    rr = np.sqrt(np.maximum(1.0 - r * r, 0.0))
    rr = np.where(rr > 0, rr, np.nan)

    def _a21(t_own, t_other, h):
        # d Phi2(tau_t, u)/d tau_t = phi(tau_t) Phi((u - rho tau_t) / R) over the
        # other item's extended thresholds u; cell t has upper threshold tau_t and
        # cell t + 1 lower threshold tau_t.
        tau = t_own[:, 1:kmax]  # (P, kmax - 1), +inf padded
        fin = np.isfinite(tau)
        tf = np.where(fin, tau, 0.0)
        cz = special.ndtr((t_other[:, None, :] - r * tf[:, :, None]) / rr)
        g = np.where(fin[:, :, None], stats.norm.pdf(tf)[:, :, None] * np.diff(cz, axis=2), 0.0)
        return np.sum((h[:, :-1, :] - h[:, 1:, :]) * g, axis=2)  # (P, kmax - 1)

    a21_i = _a21(grid.t1, grid.t2, hcell)
    a21_j = _a21(grid.t2, grid.t1, np.swapaxes(hcell, 1, 2))
    a21 = np.zeros((npair, nth_tot))
    for q in range(npair):
        i, j = pi_[q], pj[q]
        a21[q, th_start[i] : th_start[i] + nth[i]] = a21_i[q, : nth[i]]
        a21[q, th_start[j] : th_start[j] + nth[j]] = a21_j[q, : nth[j]]

    m = nth_tot + npair
    s_flat = s_rho.reshape(-1)
    offset = (np.arange(npair) * kmax * kmax)[None, :]
    gamma = np.zeros((m, m))
    for a, b in _row_chunks(n, m):
        c = codes[a:b]
        inf_th = np.empty((b - a, nth_tot))
        for i in range(p):
            inf_th[:, th_start[i] : th_start[i] + nth[i]] = inf_tabs[i][c[:, i]]
        sc_cor = s_flat[offset + c[:, pi_] * kmax + c[:, pj]]
        infl = np.hstack([inf_th, (sc_cor - inf_th @ a21.T) / a22])
        gamma += infl.T @ infl
    gamma *= n
    return 0.5 * (gamma + gamma.T)


def wls_vector(thresholds: Sequence[np.ndarray], corr: np.ndarray) -> np.ndarray:
    """Stack thresholds and correlations in lavaan's ``WLS.obs``/``WLS.est`` order.

    Parameters
    ----------
    thresholds : sequence of array_like
        Per item, its thresholds.
    corr : array_like
        (p, p) correlation matrix (only the strict lower triangle is used).

    Returns
    -------
    numpy.ndarray
        All thresholds item by item, then ``corr[i, j]`` for ``j < i`` taken
        column by column (lavaan's ``vech(corr, diagonal = FALSE)``).

    Examples
    --------
    >>> wls_vector([[0.1], [0.2], [0.3]], np.array([[1, .5, .4], [.5, 1, .3], [.4, .3, 1]]))
    array([0.1, 0.2, 0.3, 0.5, 0.4, 0.3])
    """
    corr = np.asarray(corr, dtype=float)
    p = corr.shape[0]
    if corr.ndim != 2 or corr.shape[1] != p or len(thresholds) != p:
        raise CkmError(
            f"wls_vector needs a square correlation matrix and one threshold vector per item. "
            f"Got {corr.shape} and {len(thresholds)} threshold vectors."
        )
    rows, cols = np.tril_indices(p, k=-1)
    order = np.lexsort((rows, cols))
    th = [np.atleast_1d(np.asarray(t, dtype=float)) for t in thresholds]
    return np.concatenate(th + [corr[rows[order], cols[order]]])


# --------------------------------------------------------------------------
# (D)WLS inference
# --------------------------------------------------------------------------
def _check_weight(weight, m: int, fn: str) -> np.ndarray:
    w = np.asarray(weight, dtype=float)
    if not ((w.ndim == 1 and w.shape == (m,)) or (w.ndim == 2 and w.shape == (m, m))):
        raise CkmError(
            f"The 'weight' parameter of {fn} must be a vector of length {m} (diagonal) or an "
            f"({m}, {m}) matrix. Got shape {w.shape} instead."
        )
    return w


def _w_times(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """W @ x for a diagonal (1-D) or full weight matrix."""
    return w[:, None] * x if (w.ndim == 1 and x.ndim == 2) else (w * x if w.ndim == 1 else w @ x)


def dwls_weight(gamma: np.ndarray) -> np.ndarray:
    """Diagonal DWLS weights :math:`w_k = 1/\\Gamma_{kk}` (lavaan's ``WLS.VD``).

    lavaan builds them from the same NACOV it reports (``lavInspect(fit,
    "gamma")``), so that ``lavInspect(fit, "wls.v") == diag(1 / diag(gamma))``
    (Muthén, du Toit & Spisic, 1997, the "diagonal" weight matrix of WLSMV).

    Parameters
    ----------
    gamma : array_like
        (m, m) asymptotic covariance matrix (:attr:`OrdinalMoments.gamma`).

    Returns
    -------
    numpy.ndarray
        (m,) weights.
    """
    g = np.asarray(gamma, dtype=float)
    if g.ndim != 2 or g.shape[0] != g.shape[1]:
        raise CkmError(
            f"The 'gamma' parameter of dwls_weight must be a square matrix. Got shape {g.shape}."
        )
    d = np.diag(g)
    if not np.all(np.isfinite(d)) or np.any(d <= 0):
        raise DataError(
            "The diagonal of gamma has non-positive or non-finite values; check the "
            "bivariate tables for empty rows or perfectly associated items."
        )
    return 1.0 / d


def wls_discrepancy(wls_obs, wls_est, weight) -> float:
    """(D)WLS discrepancy :math:`F = (s - \\hat\\sigma)^\\top W (s - \\hat\\sigma)`.

    Browne (1984); with a diagonal ``weight`` this is lavaan's
    ``estimator.DWLS``.  lavaan reports ``fmin`` = :math:`\\tfrac12 (N-1)/N\\,F`.

    Parameters
    ----------
    wls_obs, wls_est : array_like
        (m,) sample statistics :math:`s` and model-implied :math:`\\hat\\sigma`.
    weight : array_like
        (m,) diagonal or (m, m) full weight matrix.

    Returns
    -------
    float
    """
    s = np.asarray(wls_obs, dtype=float)
    e = np.asarray(wls_est, dtype=float)
    if s.shape != e.shape or s.ndim != 1:
        raise CkmError(
            f"wls_obs and wls_est must be vectors of the same length. Got {s.shape} and {e.shape}."
        )
    w = _check_weight(weight, s.size, "wls_discrepancy")
    r = s - e
    return float(r @ _w_times(w, r))


def wls_discrepancy_gradient(wls_obs, wls_est, weight) -> np.ndarray:
    """Gradient of :func:`wls_discrepancy` in the model statistics.

    :math:`\\partial F/\\partial\\hat\\sigma = -2 W (s - \\hat\\sigma)` (for symmetric
    :math:`W`); the gradient in the parameters is ``delta.T @`` this.

    Parameters
    ----------
    wls_obs, wls_est : array_like
        (m,) sample and model-implied statistics.
    weight : array_like
        (m,) diagonal or (m, m) full weight matrix.

    Returns
    -------
    numpy.ndarray
        (m,) gradient.
    """
    s = np.asarray(wls_obs, dtype=float)
    e = np.asarray(wls_est, dtype=float)
    if s.shape != e.shape or s.ndim != 1:
        raise CkmError(
            f"wls_obs and wls_est must be vectors of the same length. Got {s.shape} and {e.shape}."
        )
    w = _check_weight(weight, s.size, "wls_discrepancy_gradient")
    return -2.0 * _w_times(w, s - e)


def wls_test_statistic(wls_obs, wls_est, weight, n: int) -> float:
    """lavaan's unscaled (D)WLS test statistic :math:`T = (N - 1) F`.

    lavaan minimises :math:`\\tfrac12 (N-1)/N\\,F` and reports
    :math:`2 N f_{min} = (N - 1) F` as ``chisq`` (``lav_model_objective``;
    Muthén, du Toit & Spisic, 1997, use :math:`N F`).

    Parameters
    ----------
    wls_obs, wls_est : array_like
        (m,) sample and model-implied statistics at the estimates.
    weight : array_like
        (m,) diagonal or (m, m) full weight matrix.
    n : int
        Number of cases.

    Returns
    -------
    float
    """
    _check_n(n, "wls_test_statistic")
    return (n - 1) * wls_discrepancy(wls_obs, wls_est, weight)


def _check_n(n, fn):
    if not (isinstance(n, (int, np.integer)) and n >= 2):
        raise CkmError(
            f"The 'n' parameter of {fn} must be an int in the range [2, inf). Got {n!r} instead."
        )


def _inputs(delta, weight, gamma, fn):
    d = np.asarray(delta, dtype=float)
    if d.ndim != 2:
        raise CkmError(
            f"The 'delta' parameter of {fn} must be an (m, q) matrix. Got shape {d.shape}."
        )
    m = d.shape[0]
    w = _check_weight(weight, m, fn)
    g = np.asarray(gamma, dtype=float)
    if g.shape != (m, m):
        raise CkmError(
            f"The 'gamma' parameter of {fn} must be ({m}, {m}). Got shape {g.shape} instead."
        )
    wd = _w_times(w, d)
    info = d.T @ wd
    try:
        info_inv = np.linalg.inv(info)
    except np.linalg.LinAlgError as exc:
        raise IdentificationError(
            "The information matrix Delta' W Delta is singular; the model is "
            "probably not identified (check the scaling of every factor)."
        ) from exc
    if not np.all(np.isfinite(info_inv)):
        raise IdentificationError("The information matrix Delta' W Delta could not be inverted.")
    return d, w, g, wd, info_inv


def robust_vcov_wls(delta, weight, gamma, n: int) -> np.ndarray:
    """Robust ("sandwich") covariance matrix of (D)WLS estimates.

    .. math::

        \\widehat{\\operatorname{Var}}(\\hat\\theta) = \\frac{1}{N-1}
        (\\Delta^\\top W\\Delta)^{-1}\\,\\Delta^\\top W\\Gamma W\\Delta\\,
        (\\Delta^\\top W\\Delta)^{-1}

    (Satorra & Bentler, 1994; Muthén, du Toit & Spisic, 1997); lavaan's
    ``se = "robust.sem"``, which divides by :math:`N - 1` (:math:`N` minus the
    number of groups) for every estimator other than ML.

    Parameters
    ----------
    delta : array_like
        (m, q) Jacobian of the model statistics (``wls_est``) in the free
        parameters (``lavInspect(fit, "delta")``).
    weight : array_like
        (m,) diagonal (DWLS, :func:`dwls_weight`) or (m, m) weight matrix.
    gamma : array_like
        (m, m) NACOV (:attr:`OrdinalMoments.gamma`).
    n : int
        Number of cases.

    Returns
    -------
    numpy.ndarray
        (q, q) covariance matrix; standard errors are ``sqrt(diag(...))``.

    Raises
    ------
    IdentificationError
        If :math:`\\Delta^\\top W\\Delta` is singular.
    """
    _check_n(n, "robust_vcov_wls")
    _, _, g, wd, info_inv = _inputs(delta, weight, gamma, "robust_vcov_wls")
    meat = wd.T @ g @ wd
    v = info_inv @ meat @ info_inv / (n - 1)
    return 0.5 * (v + v.T)


def standard_vcov_wls(delta, weight, n: int) -> np.ndarray:
    """Naive ("standard") covariance matrix of (D)WLS/ULS estimates,
    :math:`(\\Delta^\\top W\\Delta)^{-1}/(N-1)`.

    Correct only for full WLS with :math:`W = \\Gamma^{-1}` (Browne, 1984,
    eq. 2.12); lavaan's default ``se = "standard"`` for ``estimator = "WLS"``,
    ``"DWLS"`` and ``"ULS"`` (which is why WLSM/WLSMV/ULSMV use
    :func:`robust_vcov_wls`).

    Parameters
    ----------
    delta : array_like
        (m, q) Jacobian of the model statistics in the free parameters.
    weight : array_like
        (m,) diagonal or (m, m) weight matrix.
    n : int
        Number of cases.

    Returns
    -------
    numpy.ndarray
        (q, q) covariance matrix.
    """
    _check_n(n, "standard_vcov_wls")
    m = np.asarray(delta).shape[0]
    _, _, _, _, info_inv = _inputs(delta, weight, np.eye(m), "standard_vcov_wls")
    v = info_inv / (n - 1)
    return 0.5 * (v + v.T)


@dataclass(frozen=True)
class ScaledTest:
    """A robust (scaled) test statistic, in lavaan's ``fitMeasures`` terms.

    Attributes
    ----------
    test : str
        lavaan's name (``"scaled.shifted"``, ``"mean.var.adjusted"``,
        ``"satorra.bentler"``).
    stat : float
        ``chisq.scaled``.
    df : float
        ``df.scaled`` (not an integer for the mean-and-variance adjusted test).
    pvalue : float
        ``pvalue.scaled``.
    scaling_factor : float
        ``chisq.scaling.factor``.
    shift_parameter : float
        ``chisq.shift.parameters`` (0 unless scaled-and-shifted).
    trace_ugamma, trace_ugamma2 : float
        :math:`\\operatorname{tr}(U\\Gamma)` and :math:`\\operatorname{tr}[(U\\Gamma)^2]`.
    """

    test: str
    stat: float
    df: float
    pvalue: float
    scaling_factor: float
    shift_parameter: float
    trace_ugamma: float
    trace_ugamma2: float


def _ugamma_traces(delta, weight, gamma, fn):
    """tr(U Gamma) and tr((U Gamma)^2), U = W - W Delta (Delta' W Delta)^{-1} Delta' W.

    Satorra & Bentler (1994); lavaan's
    ``lav_test_satorra_bentler_trace_original`` for one group.
    """
    d, w, g, wd, info_inv = _inputs(delta, weight, gamma, fn)
    wg = _w_times(w, g)  # W Gamma
    ug = wg - wd @ (info_inv @ (wd.T @ g))  # U Gamma
    tr1 = float(np.trace(ug))
    tr2 = float(np.sum(ug * ug.T))
    return tr1, tr2


def _check_test_args(chisq, df, fn):
    if not np.isfinite(chisq) or chisq < 0:
        raise CkmError(
            f"The 'chisq' parameter of {fn} must be a finite number >= 0. Got {chisq!r} instead."
        )
    if not (isinstance(df, (int, np.integer)) and df >= 0):
        raise CkmError(
            f"The 'df' parameter of {fn} must be an int in the range [0, inf). Got {df!r} instead."
        )


def _na_test(name, chisq, df):
    return ScaledTest(name, float(chisq), float(df), np.nan, np.nan, np.nan, np.nan, np.nan)


def satorra_bentler_test(chisq: float, df: int, delta, weight, gamma) -> ScaledTest:
    """Satorra-Bentler mean-scaled test statistic.

    :math:`T_{SB} = T / c` with :math:`c = \\operatorname{tr}(U\\Gamma)/df` and
    :math:`U = W - W\\Delta(\\Delta^\\top W\\Delta)^{-1}\\Delta^\\top W`
    (Satorra & Bentler, 1994); lavaan's
    ``test = "satorra.bentler"`` (the WLSM test).

    Parameters
    ----------
    chisq : float
        Unscaled statistic :math:`T` (:func:`wls_test_statistic`).
    df : int
        Degrees of freedom of the model.
    delta, weight, gamma : array_like
        As in :func:`robust_vcov_wls`.

    Returns
    -------
    ScaledTest
        ``df == 0`` gives NaN scaling and p-value, as in lavaan.
    """
    _check_test_args(chisq, df, "satorra_bentler_test")
    if df == 0:
        return _na_test("satorra.bentler", chisq, df)
    tr1, tr2 = _ugamma_traces(delta, weight, gamma, "satorra_bentler_test")
    c = tr1 / df
    if c <= 0:
        return ScaledTest("satorra.bentler", np.nan, float(df), np.nan, np.nan, 0.0, tr1, tr2)
    stat = chisq / c
    return ScaledTest(
        "satorra.bentler", stat, float(df), float(stats.chi2.sf(stat, df)), c, 0.0, tr1, tr2
    )


def mean_var_adjusted_test(chisq: float, df: int, delta, weight, gamma) -> ScaledTest:
    """Mean-and-variance adjusted (Satterthwaite) test statistic.

    :math:`d^* = [\\operatorname{tr}(U\\Gamma)]^2/\\operatorname{tr}[(U\\Gamma)^2]`,
    :math:`c = \\operatorname{tr}(U\\Gamma)/d^*`, :math:`T^* = T/c` referred to
    :math:`\\chi^2_{d^*}` (Satorra & Bentler, 1994; lavaan's
    ``test = "mean.var.adjusted"``, without Mplus's rounding of :math:`d^*`).

    Parameters
    ----------
    chisq : float
        Unscaled statistic :math:`T`.
    df : int
        Degrees of freedom of the model.
    delta, weight, gamma : array_like
        As in :func:`robust_vcov_wls`.

    Returns
    -------
    ScaledTest
    """
    _check_test_args(chisq, df, "mean_var_adjusted_test")
    if df == 0:
        return _na_test("mean.var.adjusted", chisq, df)
    tr1, tr2 = _ugamma_traces(delta, weight, gamma, "mean_var_adjusted_test")
    dstar = tr1 * tr1 / tr2
    c = tr1 / dstar
    if c <= 0:
        return ScaledTest("mean.var.adjusted", np.nan, dstar, np.nan, np.nan, 0.0, tr1, tr2)
    stat = chisq / c
    return ScaledTest(
        "mean.var.adjusted", stat, dstar, float(stats.chi2.sf(stat, dstar)), c, 0.0, tr1, tr2
    )


def scaled_shifted_test(chisq: float, df: int, delta, weight, gamma) -> ScaledTest:
    """Scaled-and-shifted test statistic (lavaan's WLSMV default).

    With :math:`a = \\sqrt{df/\\operatorname{tr}[(U\\Gamma)^2]}` and
    :math:`b = df - a\\operatorname{tr}(U\\Gamma)`, :math:`T^* = aT + b`
    referred to :math:`\\chi^2_{df}`, so that :math:`T^*` has the mean and
    variance of :math:`\\chi^2_{df}` (Asparouhov & Muthén, 2010).
    lavaan reports ``chisq.scaling.factor`` :math:`= 1/a` and
    ``chisq.shift.parameters`` :math:`= b` (``test = "scaled.shifted"``).

    Parameters
    ----------
    chisq : float
        Unscaled statistic :math:`T` (:func:`wls_test_statistic`).
    df : int
        Degrees of freedom of the model.
    delta : array_like
        (m, q) model Jacobian in the free parameters.
    weight : array_like
        (m,) diagonal or (m, m) weight matrix used in the estimation.
    gamma : array_like
        (m, m) NACOV.

    Returns
    -------
    ScaledTest

    Examples
    --------
    The independence (baseline) model of ordinal items has the thresholds as
    its only parameters, so ``delta`` is ``[I; 0]``:

    >>> import numpy as np
    >>> rng = np.random.default_rng(3)
    >>> z = rng.multivariate_normal(np.zeros(3), 0.4 + 0.6 * np.eye(3), size=500)
    >>> mom = ordinal_moments(np.digitize(z, [-0.5, 0.7]))
    >>> w = dwls_weight(mom.gamma)
    >>> nt = mom.n_thresholds
    >>> delta = np.vstack([np.eye(nt), np.zeros((3, nt))])
    >>> est = np.concatenate([mom.wls_obs[:nt], np.zeros(3)])
    >>> t = wls_test_statistic(mom.wls_obs, est, w, mom.n)
    >>> res = scaled_shifted_test(t, 3, delta, w, mom.gamma)
    >>> res.df
    3.0
    >>> # In R: fitMeasures(fit, c("baseline.chisq.scaled", "baseline.df.scaled"))
    """
    _check_test_args(chisq, df, "scaled_shifted_test")
    if df == 0:
        return _na_test("scaled.shifted", chisq, df)
    tr1, tr2 = _ugamma_traces(delta, weight, gamma, "scaled_shifted_test")
    a = np.sqrt(df / tr2)
    shift = df - a * tr1
    stat = chisq * a + shift
    return ScaledTest(
        "scaled.shifted",
        float(stat),
        float(df),
        float(stats.chi2.sf(stat, df)),
        float(1.0 / a),
        float(shift),
        tr1,
        tr2,
    )


#: lavaan's ``test =`` names of the robust tests above (``"standard"``: none)
ROBUST_TESTS = {
    "scaled.shifted": scaled_shifted_test,
    "satorra.bentler": satorra_bentler_test,
    "mean.var.adjusted": mean_var_adjusted_test,
}
