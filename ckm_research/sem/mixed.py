"""Sample statistics of ordinal and continuous items together, as lavaan computes them.

For ``estimator = "WLSMV"`` with only some items ``ordered``, lavaan (0.6.14,
``muthen1984``, ``lav_samplestats_step1``/``step2``) estimates

1. per variable (step 1): the thresholds of an ordinal item (probit), the mean
   and variance (divisor :math:`N`) of a continuous one;
2. per pair (step 2), with the step-1 estimates fixed: the polychoric
   correlation of two ordinal items, the *polyserial* correlation of a
   continuous and an ordinal item (Olsson, Drasgow & Dorans, 1982), the
   Pearson correlation of two continuous items;
3. the asymptotic covariance matrix :math:`\\Gamma` of all of them from the
   case-wise scores of the univariate and bivariate likelihoods (Muthén, 1984;
   Muthén & Satorra, 1995): :math:`\\Gamma = N B^{-1} (\\sum_i s_i s_i^\\top)
   B^{-\\top}`, then moved from the correlation to the covariance metric
   (:math:`\\sigma_{ij} = \\rho_{ij}\\sigma_i\\sigma_j`, lavaan's ``H``).

lavaan's ``WLS.obs`` order, reproduced here: the thresholds item by item with
*minus the mean* in the place of a continuous item's thresholds, then the
variances of the continuous items, then the covariances (a correlation when
both items are ordinal) of the strict lower triangle, column by column.

References
----------
Muthén, B. (1984). A general structural equation model with dichotomous,
ordered categorical, and continuous latent variable indicators.
*Psychometrika, 49*, 115-132.

Olsson, U., Drasgow, F., & Dorans, N. J. (1982). The polyserial correlation
coefficient. *Psychometrika, 47*, 337-347.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from ckm_research.errors import DataError
from ckm_research.sem import distributions as stats  # scipy.stats' results, cheap to import
from ckm_research.sem import ordinal as ordm

__all__ = ["MixedMoments", "mixed_moments"]

_EPS = np.finfo(float).eps
_BIG = 1e5  # finite stand-in for an infinite threshold in the score formulas


@dataclass(frozen=True, eq=False)
class MixedMoments:
    """Sample statistics of ordinal and continuous items (lavaan's ``WLS.obs``).

    Attributes
    ----------
    names : tuple of str
    ordered : numpy.ndarray of bool
        Which items are ordinal.
    thresholds : tuple of numpy.ndarray
        Per item its thresholds; for a continuous item ``[-mean]``.
    var : numpy.ndarray
        Variances of the continuous items (divisor N), in item order.
    cov : numpy.ndarray
        (p, p): unit diagonal for ordinal items, variances of continuous
        ones, polychoric/polyserial correlations times the standard
        deviations of the continuous items.
    mean : numpy.ndarray
        Means of the continuous items (0 for ordinal ones).
    gamma : numpy.ndarray
        lavaan's NACOV of ``wls_obs``.
    wls_obs : numpy.ndarray
    n : int
    labels : tuple of str
    levels : tuple
        Categories of each ordinal item (``None`` for continuous ones).
    """

    names: tuple
    ordered: np.ndarray
    thresholds: tuple
    var: np.ndarray
    cov: np.ndarray
    mean: np.ndarray
    gamma: np.ndarray
    wls_obs: np.ndarray
    n: int
    labels: tuple
    levels: tuple

    @property
    def corr(self) -> np.ndarray:
        """The correlation matrix (polychoric, polyserial and Pearson)."""
        sd = np.sqrt(np.diag(self.cov))
        return self.cov / np.outer(sd, sd)

    @property
    def n_univariate(self) -> int:
        """Number of thresholds, negated means and variances (the first elements)."""
        return int(sum(len(t) for t in self.thresholds) + (~self.ordered).sum())


def _ext(tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower thresholds per category, with +/- _BIG for the outer ones."""
    up = np.concatenate([tau, [_BIG]])
    lo = np.concatenate([[-_BIG], tau])
    return up, lo


def _polyserial_scores(rho, y, mu, var, code, tau):
    """Case-wise scores of the bivariate (normal x ordinal) log-likelihood in rho,
    the mean and variance of the continuous item and the ordinal item's thresholds
    (lavaan's ``lav_bvmix_cor_scores``)."""
    sd = np.sqrt(var)
    z = (y - mu) / sd
    r = np.sqrt(1.0 - rho * rho)
    up, lo = _ext(tau)
    t1 = (up[code] - rho * z) / r
    t2 = (lo[code] - rho * z) / r
    d1, d2 = stats.norm.pdf(t1), stats.norm.pdf(t2)
    prob = np.maximum(special.ndtr(t1) - special.ndtr(t2), _EPS)
    pinv = 1.0 / prob
    dd = d1 - d2
    dx_mu = (z + pinv * (rho / r) * dd) / sd
    dx_var = ((z * z - 1.0) + pinv * rho * z / r * dd) / (2.0 * var)
    k = len(tau)
    dx_th = np.zeros((len(y), k))
    for t in range(k):
        dx_th[:, t] = ((code == t) * d1 - (code == t + 1) * d2) / r * pinv
    dx_rho = pinv / r**3 * (d1 * (up[code] * rho - z) - d2 * (lo[code] * rho - z))
    return dx_rho, dx_mu, dx_var, dx_th


def _polyserial(y, mu, var, code, tau) -> float:
    """Two-step ML polyserial correlation (thresholds, mean and variance fixed),
    bounded to [-0.999, 0.999] as lavaan's."""
    sd = np.sqrt(var)
    z = (y - mu) / sd
    up, lo = _ext(tau)

    def nll(rho):
        r = np.sqrt(1.0 - rho * rho)
        p = special.ndtr((up[code] - rho * z) / r) - special.ndtr((lo[code] - rho * z) / r)
        return -np.sum(np.log(np.maximum(p, _EPS)))

    res = optimize.minimize_scalar(
        nll, bounds=(-0.999, 0.999), method="bounded", options={"xatol": 1e-12}
    )
    return float(res.x)


def _bvord_scores(rho, c1, c2, tau1, tau2):
    """Case-wise scores of the bivariate ordinal log-likelihood in rho and both
    items' thresholds (lavaan's ``lav_bvord_cor_scores``)."""
    r = np.sqrt(1.0 - rho * rho)
    u1, l1 = _ext(tau1)
    u2, l2 = _ext(tau2)
    a1, b1, a2, b2 = u1[c1], l1[c1], u2[c2], l2[c2]

    def cdf(h, k):
        return ordm.bivariate_normal_cdf(h, k, rho)

    prob = cdf(a1, a2) - cdf(b1, a2) - cdf(a1, b2) + cdf(b1, b2)
    prob = np.maximum(prob, _EPS)

    def dens(h, k):
        return np.exp(-(h * h - 2 * rho * h * k + k * k) / (2 * r * r)) / (2 * np.pi * r)

    dx_rho = (dens(a1, a2) - dens(b1, a2) - dens(a1, b2) + dens(b1, b2)) / prob

    def dth(c_own, u_other, l_other, tau):
        out = np.zeros((len(c_own), len(tau)))
        for t, tt in enumerate(tau):
            g = stats.norm.pdf(tt) * (
                special.ndtr((u_other - rho * tt) / r) - special.ndtr((l_other - rho * tt) / r)
            )
            out[:, t] = ((c_own == t).astype(float) - (c_own == t + 1)) * g / prob
        return out

    return dx_rho, dth(c1, a2, b2, tau1), dth(c2, a1, b1, tau2)


def mixed_moments(data: np.ndarray, names, ordered) -> MixedMoments:
    """Thresholds, means, variances, polychoric/polyserial/Pearson covariances and
    their NACOV for ordinal and continuous items (lavaan's ``muthen1984``).

    Parameters
    ----------
    data : numpy.ndarray
        (n, p) complete data; ordinal items coded as integers.
    names : sequence of str
    ordered : sequence of bool
        Which columns are ordinal (at least one, and at least one continuous).

    Returns
    -------
    MixedMoments

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> z = rng.multivariate_normal([0, 0, 0], 0.5 + 0.5 * np.eye(3), size=500)
    >>> x = np.column_stack([np.digitize(z[:, 0], [-0.5, 0.5]), z[:, 1:]])
    >>> mom = mixed_moments(x, ["a", "b", "c"], [True, False, False])
    >>> mom.labels[:4]
    ('a|t1', 'a|t2', 'b~1', 'c~1')
    >>> # In R: lavInspect(cfa(model, d, ordered = "a", estimator = "WLSMV"), "wls.obs")
    """
    x = np.asarray(data, dtype=float)
    names = tuple(names)
    ordered = np.asarray(ordered, dtype=bool)
    n, p = x.shape
    if np.isnan(x).any():
        raise DataError("mixed_moments needs complete data (lavaan: listwise deletion)")
    ord_idx = np.flatnonzero(ordered)
    num_idx = np.flatnonzero(~ordered)
    # ---- step 1 -----------------------------------------------------------------
    codes = np.zeros((n, p), dtype=int)
    levels, taus, mean, var = [], [], np.zeros(p), np.zeros(p)
    for i in range(p):
        if ordered[i]:
            lev = np.unique(x[:, i])
            codes[:, i] = np.searchsorted(lev, x[:, i])
            prop = np.bincount(codes[:, i], minlength=len(lev)) / n
            taus.append(special.ndtri(np.cumsum(prop)[:-1]))
            levels.append(lev.astype(np.int64))
        else:
            mean[i] = x[:, i].mean()
            var[i] = np.mean((x[:, i] - mean[i]) ** 2)
            taus.append(None)
            levels.append(None)
    # polychoric correlations of the ordinal items (same two-step estimator)
    cor = np.eye(p)
    if len(ord_idx) >= 2:
        om = ordm.ordinal_moments(x[:, ord_idx], names=[names[i] for i in ord_idx])
        cor[np.ix_(ord_idx, ord_idx)] = om.corr
    # ---- layout: thresholds (-mean for continuous), variances, pairs --------------
    th_start, nth, pos = [], [], 0
    for i in range(p):
        k = len(taus[i]) if ordered[i] else 1
        th_start.append(pos)
        nth.append(k)
        pos += k
    n_th = pos
    var_col = {i: n_th + k for k, i in enumerate(num_idx)}
    n_uni = n_th + len(num_idx)
    sc_uni = np.zeros((n, n_uni))
    for i in range(p):
        a = th_start[i]
        if ordered[i]:
            k = nth[i]
            dn = stats.norm.pdf(taus[i])
            prop = np.bincount(codes[:, i], minlength=k + 1) / n
            tab = np.zeros((k + 1, k))
            tab[np.arange(k), np.arange(k)] = dn
            tab[np.arange(1, k + 1), np.arange(k)] -= dn
            tab /= prop[:, None]
            sc_uni[:, a : a + k] = tab[codes[:, i]]
        else:
            dev = x[:, i] - mean[i]
            sc_uni[:, a] = dev / var[i]
            sc_uni[:, var_col[i]] = -0.5 / var[i] + dev * dev / (2 * var[i] ** 2)
    # ---- step 2: pairs, column by column (x1~~x2, x1~~x3, ..., x2~~x3, ...) ---------
    pairs = [(j, i) for j in range(p) for i in range(j + 1, p)]
    npair = len(pairs)
    sc_cor = np.zeros((n, npair))
    a21 = np.zeros((npair, n_uni))
    h21 = np.zeros((npair, n_uni))
    h22 = np.ones(npair)

    def uni_cols(i):
        return list(range(th_start[i], th_start[i] + nth[i]))

    for q, (j, i) in enumerate(pairs):
        oi, oj = ordered[i], ordered[j]
        if not oi and not oj:
            zi = (x[:, i] - mean[i]) / np.sqrt(var[i])
            zj = (x[:, j] - mean[j]) / np.sqrt(var[j])
            rho = float(np.mean(zi * zj))
            cor[i, j] = cor[j, i] = rho
            R = 1.0 - rho * rho
            yi, yj = x[:, i] - mean[i], x[:, j] - mean[j]
            sdij = np.sqrt(var[i] * var[j])
            s_rho = rho / R + (yi * yj / (sdij * R) - (zi * zi - 2 * rho * zi * zj + zj * zj)
                               * rho / (R * R))  # fmt: skip
            s_mu_i = (yi / var[i] - rho * yj / sdij) / R
            s_mu_j = (yj / var[j] - rho * yi / sdij) / R
            s_var_i = -(0.5 / var[i] - (yi * yi / var[i] ** 2 - rho * yi * yj / (var[i] * sdij))
                        / (2 * R))  # fmt: skip
            s_var_j = -(0.5 / var[j] - (yj * yj / var[j] ** 2 - rho * yi * yj / (var[j] * sdij))
                        / (2 * R))  # fmt: skip
            sc_cor[:, q] = s_rho
            a21[q, uni_cols(i)] = s_rho @ s_mu_i
            a21[q, uni_cols(j)] = s_rho @ s_mu_j
            a21[q, var_col[i]] = s_rho @ s_var_i
            a21[q, var_col[j]] = s_rho @ s_var_j
            h21[q, var_col[i]] = np.sqrt(var[j]) * rho / (2 * np.sqrt(var[i]))
            h21[q, var_col[j]] = np.sqrt(var[i]) * rho / (2 * np.sqrt(var[j]))
            h22[q] = np.sqrt(var[i] * var[j])
        elif oi != oj:
            c, o = (i, j) if not oi else (j, i)  # continuous, ordinal
            rho = _polyserial(x[:, c], mean[c], var[c], codes[:, o], taus[o])
            cor[i, j] = cor[j, i] = rho
            s_rho, s_mu, s_var, s_th = _polyserial_scores(
                rho, x[:, c], mean[c], var[c], codes[:, o], taus[o]
            )
            sc_cor[:, q] = s_rho
            a21[q, uni_cols(c)] = s_rho @ s_mu
            a21[q, uni_cols(o)] = s_rho @ s_th
            a21[q, var_col[c]] = s_rho @ s_var
            h21[q, var_col[c]] = rho / (2 * np.sqrt(var[c]))
            h22[q] = np.sqrt(var[c])
        else:
            rho = cor[i, j]
            s_rho, s_th_i, s_th_j = _bvord_scores(rho, codes[:, i], codes[:, j], taus[i], taus[j])
            sc_cor[:, q] = s_rho
            a21[q, uni_cols(i)] = s_rho @ s_th_i
            a21[q, uni_cols(j)] = s_rho @ s_th_j
    # ---- Gamma ----------------------------------------------------------------------
    sc = np.hstack([sc_uni, sc_cor])
    inner = sc.T @ sc
    a11 = np.zeros((n_uni, n_uni))
    for i in range(p):
        idx = uni_cols(i) + ([var_col[i]] if not ordered[i] else [])
        a11[np.ix_(idx, idx)] = inner[np.ix_(idx, idx)]
    a22 = np.sum(sc_cor * sc_cor, axis=0)
    a11_inv = np.linalg.inv(a11)
    b_inv = np.zeros((n_uni + npair, n_uni + npair))
    b_inv[:n_uni, :n_uni] = a11_inv
    b_inv[n_uni:, n_uni:] = np.diag(1.0 / a22)
    b_inv[n_uni:, :n_uni] = -(a21 @ a11_inv) / a22[:, None]
    gamma = b_inv @ inner @ b_inv.T
    H = np.eye(n_uni + npair)
    H[n_uni:, :n_uni] = h21
    H[n_uni:, n_uni:] = np.diag(h22)
    gamma = H @ gamma @ H.T
    # continuous items enter as minus their mean
    flip = np.array([th_start[i] for i in num_idx], dtype=int)
    gamma[flip, :] *= -1.0
    gamma[:, flip] *= -1.0
    gamma = n * 0.5 * (gamma + gamma.T)
    # ---- statistics ------------------------------------------------------------------
    sd = np.where(ordered, 1.0, np.sqrt(np.where(ordered, 1.0, var)))
    cov = cor * np.outer(sd, sd)
    thresholds = tuple(taus[i] if ordered[i] else np.array([-mean[i]]) for i in range(p))
    wls_obs = np.concatenate(
        [np.concatenate(thresholds), var[num_idx], [cov[i, j] for j, i in pairs]]
    )
    labels = []
    for i in range(p):
        if ordered[i]:
            labels += [f"{names[i]}|t{k + 1}" for k in range(nth[i])]
        else:
            labels.append(f"{names[i]}~1")
    labels += [f"{names[i]}~~{names[i]}" for i in num_idx]
    labels += [f"{names[j]}~~{names[i]}" for j, i in pairs]
    return MixedMoments(
        names=names,
        ordered=ordered,
        thresholds=thresholds,
        var=var,
        cov=cov,
        mean=np.where(ordered, 0.0, mean),
        gamma=gamma,
        wls_obs=wls_obs,
        n=int(n),
        labels=tuple(labels),
        levels=tuple(levels),
    )
