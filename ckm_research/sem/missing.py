"""Full-information ML (FIML) core for incomplete normal data.

Everything here is a pure function of the data and a mean vector
:math:`\\mu` and covariance matrix :math:`\\Sigma`; the SEM engine chains the
derivatives with its Jacobian :math:`\\partial(\\mu, \\Sigma)/\\partial\\theta`.

Casewise likelihood
    Under MAR the log-likelihood of the observed parts :math:`y_{i,o}`
    (Arbuckle, 1996; Little & Rubin, 2002, §11.2) is

    .. math::

        \\ell(\\mu, \\Sigma) = -\\tfrac12 \\sum_i \\big[p_i \\log 2\\pi
            + \\log|\\Sigma_{oo,i}| + r_i^\\top \\Sigma_{oo,i}^{-1} r_i\\big],
        \\qquad r_i = y_{i,o} - \\mu_o ,

    with :math:`p_i` the number of observed values of case :math:`i`; it is
    lavaan's ``logl`` (``lav_mvnorm_missing_loglik_samplestats``).

Downdated inverses
    With :math:`P = \\Sigma^{-1}` and :math:`m` the (few) missing variables of
    a pattern, the inverse of the observed block is a Schur complement of
    :math:`P` (Harville, 1997, ch. 8, inverses of partitioned matrices):
    :math:`\\Sigma_{oo}^{-1} = P_{oo} - P_{om} P_{mm}^{-1} P_{mo}` and
    :math:`\\log|\\Sigma_{oo}| = \\log|\\Sigma| + \\log|P_{mm}|`, so a pattern
    costs a :math:`k\\times k` factorisation (:math:`k = |m|`) instead of a
    :math:`(p-k)\\times(p-k)` one.  Patterns with the same :math:`k` are
    processed as one batch.  When more than half of the variables are missing
    the observed block is factorised directly instead.

Scores through the E-step
    :math:`-P_{mm}^{-1} P_{mo} r_i = \\Sigma_{mo}\\Sigma_{oo}^{-1} r_i
    = E(y_{i,m} - \\mu_m \\mid y_{i,o})` and :math:`P_{mm}^{-1} =
    \\operatorname{Cov}(y_{i,m} \\mid y_{i,o})`.  Writing :math:`\\hat r_i` for
    the residual vector completed by its conditional expectation and
    :math:`v_i = P \\hat r_i` (which is :math:`\\Sigma_{oo,i}^{-1} r_i` padded
    with zeros), the observed-data score equals the conditional expectation of
    the complete-data score (Fisher's identity; Louis, 1982):

    .. math::

        \\frac{\\partial\\ell}{\\partial\\mu} = \\sum_i v_i, \\qquad
        \\frac{\\partial\\ell}{\\partial\\Sigma} = \\tfrac12 P\\Big(\\sum_i
            \\big[\\hat r_i \\hat r_i^\\top + C_i\\big] - n\\Sigma\\Big)P,

    :math:`C_i` being :math:`\\operatorname{Cov}(y_{i,m} \\mid y_{i,o})` padded
    with zeros, and the quadratic form is :math:`\\hat r_i^\\top P \\hat r_i`.
    The same sums are the E-step of the EM algorithm (Dempster, Laird &
    Rubin, 1977; Little & Rubin, 2002, §11.2.1), so one pass over the data
    gives the log-likelihood, the gradient and the next EM iterate.

Conventions
    ``vech`` is lavaan's: the lower triangle taken column by column,
    :math:`(1,1), (2,1), \\dots, (p,1), (2,2), \\dots`
    (:func:`ckm_research.sem.model.vech_indices`).  Derivatives are of the
    total log-likelihood :math:`\\ell` (not :math:`-2\\ell`, not per case)
    unless a docstring says otherwise; information matrices are per case
    (divided by the number of non-empty cases), as lavaan's.

References
----------
Arbuckle, J. L. (1996). Full information estimation in the presence of
incomplete data. In Marcoulides & Schumacker (Eds.), *Advanced structural
equation modeling* (pp. 243-277). Erlbaum.
Dempster, A. P., Laird, N. M., & Rubin, D. B. (1977). Maximum likelihood from
incomplete data via the EM algorithm. *JRSS B*, 39, 1-38.
Harville, D. A. (1997). *Matrix algebra from a statistician's perspective*.
Springer.
Little, R. J. A., & Rubin, D. B. (2002). *Statistical analysis with missing
data* (2nd ed.). Wiley.
Louis, T. A. (1982). Finding the observed information matrix when using the
EM algorithm. *JRSS B*, 44, 226-233.
Magnus, J. R., & Neudecker, H. (1999). *Matrix differential calculus with
applications in statistics and econometrics* (rev. ed.). Wiley.
Savalei, V. (2010). Expected versus observed information in SEM with
incomplete normal and nonnormal data. *Psychological Methods*, 15, 352-367.
Varadhan, R., & Roland, C. (2008). Simple and globally convergent methods for
accelerating the convergence of any EM algorithm. *Scandinavian Journal of
Statistics*, 35, 335-353.
Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean
and covariance structure analysis with nonnormal missing data.
*Sociological Methodology*, 30, 165-200.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from ckm_research.errors import CkmError, CkmWarning, DataError
from ckm_research.sem.model import vech_indices

__all__ = [
    "MissingPatterns",
    "EMResult",
    "fiml_loglik",
    "fiml_gradient",
    "fiml_loglik_gradient",
    "fiml_casewise_loglik",
    "fiml_casewise_scores",
    "fiml_information_h1",
    "em_saturated",
]

_LOG_2PI = float(np.log(2.0 * np.pi))


# --------------------------------------------------------------------------- patterns
@dataclass(frozen=True, eq=False)
class _Group:
    """Patterns with the same number ``k`` of missing variables, and their cases."""

    k: int
    patterns: np.ndarray  # (g,) pattern ids
    miss: np.ndarray  # (g, k) missing variable indices, ascending
    obs: np.ndarray  # (g, p - k) observed variable indices, ascending
    cases: np.ndarray  # (n_k,) case ids (rows of MissingPatterns.data)
    local: np.ndarray  # (n_k,) position of each case's pattern in ``patterns``


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class MissingPatterns:
    """Missing-data patterns of an (n x p) data matrix and their statistics.

    Build it once with :meth:`from_data`; every FIML function takes it.
    Cases without any observed value are dropped and counted (lavaan drops
    them too, warning "some cases are empty and will be ignored").

    Attributes
    ----------
    data : ndarray, shape (n_cases, p)
        The non-empty cases, in their original order, ``NaN`` where missing.
    observed : ndarray of bool, shape (n_cases, p)
        ``True`` where a value is observed.
    rows : ndarray of int, shape (n_cases,)
        Row of each case in the data given to :meth:`from_data`.
    empty_rows : ndarray of int
        Rows of the input without any observed value (dropped).
    n_rows : int
        Number of rows of the input (``n_cases + n_empty``).
    masks : ndarray of bool, shape (n_patterns, p)
        Observed variables of each distinct pattern, in lexicographic order
        of the 0/1 strings (lavaan's order of ``lav_data_missing_patterns``).
    case_pattern : ndarray of int, shape (n_cases,)
        Pattern of each case.
    freq : ndarray of int, shape (n_patterns,)
        Number of cases per pattern.
    means : ndarray, shape (n_patterns, p)
        Mean of the observed variables within each pattern (``NaN`` for the
        missing ones); lavaan's ``Yp[[k]]$MY``.
    scatter : tuple of ndarray
        For each pattern, the (p_k x p_k) within-pattern matrix of sums of
        squares and cross-products of its observed variables about
        ``means`` (lavaan's ``freq * Yp[[k]]$SY``).  It is zero for a pattern
        with one case and then stored as a zero-strided read-only view.
    names : tuple of str or None
        Column names when built from a DataFrame.
    groups : tuple
        Internal: the incomplete patterns batched by their number of missing
        variables, with the index arrays the vectorised computations use.
    weights : ndarray or None, shape (n_cases,)
        Sampling weights of the non-empty cases (lavaan's ``sampling.weights``,
        see :mod:`ckm_research.sem.weights`), or ``None``.  With weights, the
        log-likelihood, its gradient, the EM estimates and the saturated
        information are those of the weighted casewise log-likelihood
        :math:`\\sum_i w_i \\ell_i` (lavaan's ``lav_mvnorm_missing_*`` with
        ``wt``); ``means``, ``scatter`` and ``freq`` stay unweighted.
    """

    data: np.ndarray
    observed: np.ndarray
    rows: np.ndarray
    empty_rows: np.ndarray
    n_rows: int
    masks: np.ndarray
    case_pattern: np.ndarray
    freq: np.ndarray
    means: np.ndarray
    scatter: tuple[np.ndarray, ...]
    names: tuple[str, ...] | None = None
    groups: tuple[_Group, ...] = field(default=(), repr=False)
    weights: np.ndarray | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ sizes
    @property
    def n_cases(self) -> int:
        """Number of non-empty cases (lavaan's ``N`` with ``missing = "ml"``)."""
        return int(self.data.shape[0])

    @property
    def n_weighted(self) -> float:
        """The sum of the case weights (``n_cases`` without weights)."""
        return float(self.n_cases if self.weights is None else self.weights.sum())

    @property
    def weighted_freq(self) -> np.ndarray:
        """Per pattern, the sum of its cases' weights (``freq`` without weights)."""
        if self.weights is None:
            return self.freq
        return np.bincount(self.case_pattern, weights=self.weights, minlength=self.n_patterns)

    @property
    def n_vars(self) -> int:
        """Number of variables ``p``."""
        return int(self.data.shape[1])

    @property
    def n_patterns(self) -> int:
        """Number of distinct missing-data patterns among the non-empty cases."""
        return int(self.masks.shape[0])

    @property
    def n_empty(self) -> int:
        """Number of dropped cases without any observed value."""
        return int(self.empty_rows.shape[0])

    @property
    def n_observed(self) -> int:
        """Number of observed cells (the ``sum p_i`` of the likelihood)."""
        return int(self.observed.sum())

    @property
    def coverage(self) -> np.ndarray:
        """Proportion of cases observing each pair of variables (lavaan's
        ``lavInspect(fit, "coverage")``)."""
        o = self.observed.astype(float)
        return o.T @ o / self.n_cases

    def pattern_moments(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Observed variables, mean and ML covariance of pattern ``k``.

        Returns ``(var_idx, mean, cov)``, lavaan's ``Yp[[k]]``
        (``var.idx``, ``MY``, ``SY``; ``SY`` has divisor ``freq``).
        """
        if not 0 <= k < self.n_patterns:
            raise DataError(
                f"The 'k' parameter of pattern_moments must be an int in the range "
                f"[0, {self.n_patterns - 1}]. Got {k!r} instead."
            )
        idx = np.flatnonzero(self.masks[k])
        return idx, self.means[k, idx], np.asarray(self.scatter[k]) / self.freq[k]

    # ------------------------------------------------------------ construction
    @classmethod
    def from_data(cls, data, *, names=None, warn: bool = True, weights=None) -> MissingPatterns:
        """Find the missing-data patterns of ``data`` (``NaN`` = missing).

        Parameters
        ----------
        data : array_like or pandas.DataFrame, shape (n, p)
            Numeric data; ``NaN`` (or ``None``/``pd.NA``) marks a missing cell.
        names : sequence of str, optional
            Variable names for messages (taken from a DataFrame's columns).
        warn : bool, default True
            Warn (:class:`~ckm_research.errors.CkmWarning`) when empty cases
            are dropped.
        weights : array_like, shape (n,), optional
            Sampling weights of the rows (those of empty rows are dropped with
            them).

        Raises
        ------
        DataError
            If ``data`` is not a 2-D numeric array, holds infinite values, has
            no non-empty case, or a variable without any observed value.

        Examples
        --------
        >>> import numpy as np
        >>> pats = MissingPatterns.from_data(np.array([[1.0, np.nan], [2.0, 3.0], [np.nan, 1.0]]))
        >>> pats.n_patterns, pats.n_cases
        (3, 3)

        # In R: lavaan:::lav_data_missing_patterns(Y)
        """
        x, names = _as_float_matrix(data, names)
        n, p = x.shape
        obs_all = ~np.isnan(x)
        nonempty = obs_all.any(axis=1)
        empty_rows = np.flatnonzero(~nonempty)
        rows = np.flatnonzero(nonempty)
        if rows.size == 0:
            raise DataError(
                "Every case is empty (no observed value in any row); check the missing-value codes."
            )
        if warn and empty_rows.size:
            warnings.warn(
                f"{empty_rows.size} case(s) without any observed value were ignored "
                f"(rows {_row_list(empty_rows)}); lavaan drops them too.",
                CkmWarning,
                stacklevel=2,
            )
        x = x[rows]
        obs = obs_all[rows]
        never = np.flatnonzero(~obs.any(axis=0))
        if never.size:
            which = ", ".join(_var_name(names, j) for j in never[:5])
            raise DataError(
                f"Variable(s) {which} have no observed value; drop them from the model "
                "or check the missing-value codes."
            )

        masks, case_pattern, freq = np.unique(obs, axis=0, return_inverse=True, return_counts=True)
        case_pattern = case_pattern.reshape(-1)
        n_pat = masks.shape[0]

        # pattern means and within-pattern cross-products, by sorting the cases
        order = np.argsort(case_pattern, kind="stable")
        starts = np.concatenate(([0], np.cumsum(freq)[:-1]))
        x0 = np.where(obs, x, 0.0)
        sums = np.add.reduceat(x0[order], starts, axis=0)
        means = np.where(masks, sums / freq[:, None], np.nan)
        centred = np.where(obs, x0 - np.nan_to_num(means[case_pattern]), 0.0)[order]
        scatter: list[np.ndarray] = []
        for k in range(n_pat):  # loop over patterns (not rows); SSCP only when freq > 1
            idx = np.flatnonzero(masks[k])
            if freq[k] == 1:
                scatter.append(np.broadcast_to(0.0, (idx.size, idx.size)))
            else:
                block = centred[starts[k] : starts[k] + freq[k]][:, idx]
                scatter.append(_readonly(block.T @ block))

        groups = _make_groups(masks, case_pattern)
        return cls(
            data=_readonly(x),
            observed=_readonly(obs),
            rows=_readonly(rows),
            empty_rows=_readonly(empty_rows),
            n_rows=int(n),
            masks=_readonly(masks),
            case_pattern=_readonly(case_pattern),
            freq=_readonly(freq.astype(np.int64)),
            means=_readonly(means),
            scatter=tuple(scatter),
            names=names,
            groups=groups,
            weights=None if weights is None else _readonly(np.asarray(weights, float)[rows]),
        )


def _make_groups(masks: np.ndarray, case_pattern: np.ndarray) -> tuple[_Group, ...]:
    """Batch the incomplete patterns by their number of missing variables."""
    n_pat, p = masks.shape
    n_miss = p - masks.sum(axis=1)
    case_k = n_miss[case_pattern]
    groups = []
    for k in np.unique(n_miss):
        if k == 0:
            continue
        pats = np.flatnonzero(n_miss == k)
        miss = np.nonzero(~masks[pats])[1].reshape(pats.size, k)
        obs = np.nonzero(masks[pats])[1].reshape(pats.size, p - k)
        cases = np.flatnonzero(case_k == k)
        position = np.full(n_pat, -1)
        position[pats] = np.arange(pats.size)
        local = position[case_pattern[cases]]
        groups.append(
            _Group(
                int(k),
                _readonly(pats),
                _readonly(miss),
                _readonly(obs),
                _readonly(cases),
                _readonly(local),
            )
        )
    return tuple(groups)


def _as_float_matrix(data, names) -> tuple[np.ndarray, tuple[str, ...] | None]:
    if isinstance(data, pd.DataFrame):
        if names is None:
            names = tuple(str(c) for c in data.columns)
        bad = [
            str(c)
            for c in data.columns
            if not (pd.api.types.is_numeric_dtype(data[c]) or data[c].isna().all())
        ]
        if bad:
            raise DataError(
                f"Column(s) {', '.join(repr(b) for b in bad[:5])} are not numeric; FIML "
                "needs numeric data (recode answers to numbers first)."
            )
        x = data.to_numpy(dtype=float, na_value=np.nan)
    else:
        try:
            x = np.array(data, dtype=float)
        except (TypeError, ValueError):
            raise DataError(
                "The data must be a numeric (n x p) array with NaN for missing "
                "values; it holds non-numeric entries."
            ) from None
    if x.ndim != 2:
        raise DataError(
            f"The data must be a 2-D (cases x variables) array. Got {x.ndim} dimension(s); "
            "use x.reshape(-1, 1) for a single variable."
        )
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise DataError(f"The data have no cases or no variables (shape {x.shape}).")
    if np.isinf(x).any():
        r, c = np.argwhere(np.isinf(x))[0]
        raise DataError(
            f"The data hold an infinite value (row {r}, variable {_var_name(names, c)}); "
            "code missing cells as NaN."
        )
    if names is not None:
        names = tuple(str(s) for s in names)
        if len(names) != x.shape[1]:
            raise DataError(f"{len(names)} names were given for {x.shape[1]} variables.")
    return x, names


def _var_name(names, j: int) -> str:
    return repr(names[j]) if names is not None else f"#{j} (0-based)"


def _row_list(rows: np.ndarray) -> str:
    head = ", ".join(str(int(r)) for r in rows[:10])
    return head + (", ..." if rows.size > 10 else "")


def _as_patterns(patterns) -> MissingPatterns:
    if isinstance(patterns, MissingPatterns):
        return patterns
    return MissingPatterns.from_data(patterns)


# ------------------------------------------------------------------------ E-step
class _EStep(NamedTuple):
    precision: np.ndarray  # P = Sigma^{-1}
    logdet: float  # log|Sigma|
    resid: np.ndarray  # (n, p) residuals completed by their conditional expectation
    scaled: np.ndarray  # (n, p) V = resid @ P = Sigma_oo^{-1} r_o padded with zeros
    ccov: np.ndarray  # (p, p) sum over cases of the padded Cov(y_m | y_o)
    pattern_logdet: np.ndarray  # (n_patterns,) log|Sigma_oo| of each pattern


class _NotPD(Exception):
    """Sigma (or one of its diagonal blocks) is not positive definite."""


def _check_moments(pats: MissingPatterns, mu, sigma) -> tuple[np.ndarray, np.ndarray]:
    p = pats.n_vars
    mu = np.asarray(mu, dtype=float).reshape(-1)
    sigma = np.asarray(sigma, dtype=float)
    if mu.shape != (p,):
        raise DataError(f"mu has {mu.size} entries but the data have {p} variables.")
    if sigma.shape != (p, p):
        raise DataError(
            f"sigma has shape {sigma.shape} but the data have {p} variables; expected ({p}, {p})."
        )
    asym = np.abs(sigma - sigma.T)
    if np.any(asym > 1e-8 * (1.0 + np.abs(sigma))):
        raise DataError(
            "sigma is not symmetric (largest difference between sigma[i, j] and "
            f"sigma[j, i]: {np.nanmax(asym):.3g}); pass a covariance matrix."
        )
    return mu, 0.5 * (sigma + sigma.T)


def _precision(sigma: np.ndarray) -> tuple[np.ndarray, float]:
    if not np.all(np.isfinite(sigma)):
        raise _NotPD
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        raise _NotPD from None
    d = np.diag(chol)
    if np.any(d <= 0.0):
        raise _NotPD
    cinv = np.linalg.inv(chol)
    prec = cinv.T @ cinv
    return 0.5 * (prec + prec.T), float(2.0 * np.log(d).sum())


def _batch_chol_inv(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverses and log-determinants of a stack of SPD matrices."""
    try:
        chol = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        raise _NotPD from None
    d = np.diagonal(chol, axis1=1, axis2=2)
    if np.any(d <= 0.0) or not np.all(np.isfinite(d)):
        raise _NotPD
    logdet = 2.0 * np.log(d).sum(axis=1)
    k = a.shape[1]
    if k == 1:
        return 1.0 / a, logdet
    inv = np.linalg.inv(a)
    return 0.5 * (inv + np.swapaxes(inv, 1, 2)), logdet


def _scatter_add(out: np.ndarray, idx: np.ndarray, blocks: np.ndarray) -> None:
    """``out[idx_g, idx_g] += blocks_g`` for each g (idx: (g, k), blocks: (g, k, k))."""
    p = out.shape[0]
    flat = (idx[:, :, None] * p + idx[:, None, :]).reshape(-1)
    out += np.bincount(flat, weights=blocks.reshape(-1), minlength=p * p).reshape(p, p)


def _estep(pats: MissingPatterns, mu: np.ndarray, sigma: np.ndarray) -> _EStep:
    """One pass over the patterns: conditional expectations and covariances.

    Raises ``_NotPD`` if ``sigma`` is not positive definite.
    """
    prec, logdet = _precision(sigma)
    resid = np.where(pats.observed, pats.data - mu, 0.0)
    u = resid @ prec
    ccov = np.zeros_like(sigma)
    pat_logdet = np.full(pats.n_patterns, logdet)
    p = pats.n_vars
    for grp in pats.groups:
        k = grp.k
        case_miss = grp.miss[grp.local]  # (n_k, k)
        rows = grp.cases[:, None]
        if 2 * k <= p:
            # Schur-complement downdate of P (Harville, 1997, ch. 8)
            h = prec[grp.miss[:, :, None], grp.miss[:, None, :]]
            hinv, ld = _batch_chol_inv(h)
            pat_logdet[grp.patterns] = logdet + ld
            um = u[rows, case_miss]
            w = np.einsum("nij,nj->ni", hinv[grp.local], um)
            resid[rows, case_miss] = -w
            cond = hinv
        else:
            # few observed variables: factorise the observed block directly
            s_oo = sigma[grp.obs[:, :, None], grp.obs[:, None, :]]
            s_oo_inv, ld = _batch_chol_inv(s_oo)
            pat_logdet[grp.patterns] = ld
            s_mo = sigma[grp.miss[:, :, None], grp.obs[:, None, :]]
            beta = s_mo @ s_oo_inv  # (g, k, q) regression of y_m on y_o
            ro = resid[rows, grp.obs[grp.local]]
            resid[rows, case_miss] = np.einsum("nkq,nq->nk", beta[grp.local], ro)
            s_mm = sigma[grp.miss[:, :, None], grp.miss[:, None, :]]
            cond = s_mm - beta @ np.swapaxes(s_mo, 1, 2)
        freq = pats.weighted_freq[grp.patterns].astype(float)
        _scatter_add(ccov, grp.miss, cond * freq[:, None, None])
    scaled = resid @ prec
    scaled[~pats.observed] = 0.0  # zero in exact arithmetic
    return _EStep(prec, logdet, resid, scaled, 0.5 * (ccov + ccov.T), pat_logdet)


def _loglik_from(pats: MissingPatterns, es: _EStep) -> float:
    if pats.weights is not None:  # sum_i w_i l_i
        w = pats.weights
        quad = float(np.einsum("ij,ij,i->", es.resid, es.scaled, w))
        n_obs = float(pats.observed.sum(axis=1) @ w)
        return -0.5 * (n_obs * _LOG_2PI + float(pats.weighted_freq @ es.pattern_logdet) + quad)
    quad = float(np.einsum("ij,ij->", es.resid, es.scaled))
    logdet = float(pats.freq @ es.pattern_logdet)
    return -0.5 * (pats.n_observed * _LOG_2PI + logdet + quad)


def _gradient_from(pats: MissingPatterns, es: _EStep) -> tuple[np.ndarray, np.ndarray]:
    v, prec = es.scaled, es.precision
    if pats.weights is not None:
        w = pats.weights
        g_mu = w @ v
        g_sigma = 0.5 * (v.T @ (v * w[:, None]) + prec @ es.ccov @ prec - pats.n_weighted * prec)
        return g_mu, 0.5 * (g_sigma + g_sigma.T)
    g_mu = v.sum(axis=0)
    g_sigma = 0.5 * (v.T @ v + prec @ es.ccov @ prec - pats.n_cases * prec)
    return g_mu, 0.5 * (g_sigma + g_sigma.T)


def _not_pd_error(what: str) -> CkmError:
    return CkmError(
        f"{what}: sigma is not positive definite, so the normal likelihood is not "
        "defined there; check the model-implied covariance matrix (negative "
        "variances, correlations beyond 1)."
    )


# ---------------------------------------------------------------- public: likelihood
def fiml_loglik(patterns, mu, sigma) -> float:
    """Total casewise (FIML) log-likelihood of incomplete normal data.

    .. math::

        \\ell = -\\tfrac12 \\sum_i \\big[p_i\\log 2\\pi + \\log|\\Sigma_{oo,i}|
            + (y_{i,o}-\\mu_o)^\\top\\Sigma_{oo,i}^{-1}(y_{i,o}-\\mu_o)\\big]

    (Arbuckle, 1996; Little & Rubin, 2002, §11.2), computed with the
    Schur-complement downdate of :math:`\\Sigma^{-1}` described in the module
    docstring.  Equals lavaan's ``logl`` with ``missing = "ml"``.

    Parameters
    ----------
    patterns : MissingPatterns or array_like
        The data, preferably as :class:`MissingPatterns` built once.
    mu : array_like, shape (p,)
    sigma : array_like, shape (p, p)
        Symmetric.

    Returns
    -------
    float
        The log-likelihood, ``-inf`` if ``sigma`` is not positive definite
        (so that line searches can reject the step).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0.0, np.nan], [1.0, -1.0]])
    >>> round(fiml_loglik(y, np.zeros(2), np.eye(2)), 6)
    -3.756816

    # In R: lavaan:::lav_mvnorm_missing_loglik_data(Y, Mu, Sigma)
    """
    pats = _as_patterns(patterns)
    mu, sigma = _check_moments(pats, mu, sigma)
    try:
        es = _estep(pats, mu, sigma)
    except _NotPD:
        return -np.inf
    return _loglik_from(pats, es)


def fiml_gradient(patterns, mu, sigma) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of the FIML log-likelihood wrt the mean vector and covariance matrix.

    .. math::

        \\frac{\\partial\\ell}{\\partial\\mu} = \\sum_i \\Sigma_{oo,i}^{-1} r_i
            \\;\\text{(padded)}, \\qquad
        G = \\frac{\\partial\\ell}{\\partial\\Sigma} = \\tfrac12\\sum_i
            \\big(\\Sigma_{oo,i}^{-1} r_i r_i^\\top \\Sigma_{oo,i}^{-1}
            - \\Sigma_{oo,i}^{-1}\\big)\\;\\text{(padded)}

    (Little & Rubin, 2002, §11.2; lavaan's ``lav_mvnorm_missing_dlogl_dmu``
    and ``..._dlogl_dSigma``), evaluated as the expected complete-data score
    (Louis, 1982; see the module docstring).

    ``G`` is the derivative of :math:`\\ell` (the total log-likelihood, not
    :math:`-2\\ell`, not per case) treating the :math:`p^2` elements of
    :math:`\\Sigma` as independent variables; it is symmetric.  Chain it as
    :math:`\\partial\\ell/\\partial\\theta = \\operatorname{vec}(G)^\\top
    \\partial\\operatorname{vec}\\Sigma/\\partial\\theta + (\\partial\\ell/
    \\partial\\mu)^\\top\\partial\\mu/\\partial\\theta`.  The derivative wrt
    :math:`\\operatorname{vech}\\Sigma` (each off-diagonal element one
    parameter) is :math:`D_p^\\top\\operatorname{vec}G`: the diagonal of ``G``
    and twice its off-diagonal elements.

    Parameters
    ----------
    patterns : MissingPatterns or array_like
    mu : array_like, shape (p,)
    sigma : array_like, shape (p, p)

    Returns
    -------
    g_mu : ndarray, shape (p,)
    g_sigma : ndarray, shape (p, p)

    Raises
    ------
    CkmError
        If ``sigma`` is not positive definite.
    """
    _, g_mu, g_sigma = fiml_loglik_gradient(patterns, mu, sigma)
    return g_mu, g_sigma


def fiml_loglik_gradient(patterns, mu, sigma) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood and gradient in one pass: ``(loglik, g_mu, g_sigma)``.

    Same conventions as :func:`fiml_loglik` and :func:`fiml_gradient`, at the
    cost of one of them; raises :class:`~ckm_research.errors.CkmError` if
    ``sigma`` is not positive definite.
    """
    pats = _as_patterns(patterns)
    mu, sigma = _check_moments(pats, mu, sigma)
    try:
        es = _estep(pats, mu, sigma)
    except _NotPD:
        raise _not_pd_error("fiml_loglik_gradient") from None
    g_mu, g_sigma = _gradient_from(pats, es)
    return _loglik_from(pats, es), g_mu, g_sigma


def fiml_casewise_loglik(patterns, mu, sigma) -> np.ndarray:
    """Log-likelihood of each non-empty case (lavaan's
    ``lav_mvnorm_missing_llik_casewise``), in the order of ``patterns.rows``.

    Raises :class:`~ckm_research.errors.CkmError` if ``sigma`` is not
    positive definite.
    """
    pats = _as_patterns(patterns)
    mu, sigma = _check_moments(pats, mu, sigma)
    try:
        es = _estep(pats, mu, sigma)
    except _NotPD:
        raise _not_pd_error("fiml_casewise_loglik") from None
    quad = np.einsum("ij,ij->i", es.resid, es.scaled)
    n_obs = pats.observed.sum(axis=1)
    return -0.5 * (n_obs * _LOG_2PI + es.pattern_logdet[pats.case_pattern] + quad)


# ------------------------------------------------------------- scores, information
def _pattern_precisions(pats: MissingPatterns, es: _EStep, sigma: np.ndarray) -> np.ndarray:
    """:math:`\\Sigma_{oo}^{-1}` of every pattern, padded with zeros: (n_pat, p, p)."""
    p = pats.n_vars
    prec = es.precision
    out = np.broadcast_to(prec, (pats.n_patterns, p, p)).copy()
    for grp in pats.groups:
        if 2 * grp.k <= p:
            h = prec[grp.miss[:, :, None], grp.miss[:, None, :]]
            hinv, _ = _batch_chol_inv(h)
            pm = prec[:, grp.miss].transpose(1, 0, 2)  # (g, p, k)
            out[grp.patterns] -= pm @ hinv @ np.swapaxes(pm, 1, 2)
            out[grp.patterns[:, None], grp.miss, :] = 0.0
            out[grp.patterns[:, None], :, grp.miss] = 0.0
        else:
            s_oo = sigma[grp.obs[:, :, None], grp.obs[:, None, :]]
            s_oo_inv, _ = _batch_chol_inv(s_oo)
            block = np.zeros((grp.patterns.size, p, p))
            g_idx = np.arange(grp.patterns.size)[:, None, None]
            block[g_idx, grp.obs[:, :, None], grp.obs[:, None, :]] = s_oo_inv
            out[grp.patterns] = block
    return 0.5 * (out + np.swapaxes(out, 1, 2))


def _vech_scores(pats: MissingPatterns, es: _EStep, spat: np.ndarray) -> np.ndarray:
    """Casewise :math:`\\partial\\ell_i/\\partial\\operatorname{vech}\\Sigma` (n, p*)."""
    ri, ci = vech_indices(pats.n_vars)
    v = es.scaled
    sc = v[:, ri] * v[:, ci] - spat[:, ri, ci][pats.case_pattern]
    sc[:, ri == ci] *= 0.5
    return sc


def fiml_casewise_scores(patterns, mu, sigma) -> np.ndarray:
    """Casewise derivatives of the log-likelihood wrt :math:`(\\mu, \\operatorname{vech}\\Sigma)`.

    Row :math:`i` is :math:`\\partial\\ell_i/\\partial(\\mu^\\top,
    \\operatorname{vech}(\\Sigma)^\\top)`, with each off-diagonal covariance one
    parameter:

    .. math::

        \\frac{\\partial\\ell_i}{\\partial\\mu} = v_i, \\qquad
        \\frac{\\partial\\ell_i}{\\partial\\sigma_{jk}} = (2 - \\delta_{jk})\\,
            \\tfrac12\\big(v_{ij}v_{ik} - [\\Sigma_{oo,i}^{-1}]_{jk}\\big),
        \\qquad v_i = \\Sigma_{oo,i}^{-1}(y_{i,o} - \\mu_o)\\;\\text{(padded)},

    i.e. :math:`D_p^\\top\\operatorname{vec}` of the casewise ``G`` of
    :func:`fiml_gradient` (Yuan & Bentler, 2000; lavaan's
    ``lav_mvnorm_missing_scores_mu_vech_sigma``).  ``vech`` is lavaan's
    (lower triangle, column by column).  The columns sum to the gradient;
    ``scores.T @ scores / n`` is the first-order information ``B``.

    Parameters
    ----------
    patterns : MissingPatterns or array_like
    mu : array_like, shape (p,)
    sigma : array_like, shape (p, p)

    Returns
    -------
    ndarray, shape (n_cases, p + p(p+1)/2)
        One row per non-empty case, in the order of ``patterns.rows``.
    """
    pats = _as_patterns(patterns)
    mu, sigma = _check_moments(pats, mu, sigma)
    try:
        es = _estep(pats, mu, sigma)
        spat = _pattern_precisions(pats, es, sigma)
    except _NotPD:
        raise _not_pd_error("fiml_casewise_scores") from None
    return np.hstack([es.scaled, _vech_scores(pats, es, spat)])


def _pattern_sums(pats: MissingPatterns, x: np.ndarray) -> np.ndarray:
    """Sum the rows of ``x`` (one per case) within each pattern."""
    order = np.argsort(pats.case_pattern, kind="stable")
    starts = np.concatenate(([0], np.cumsum(pats.freq)[:-1]))
    return np.add.reduceat(x[order], starts, axis=0)


def _kron_vech(m: np.ndarray, p: int) -> np.ndarray:
    """:math:`D_p^\\top (A \\otimes B) D_p` from pattern sums of vech products.

    ``m[u, v]`` holds :math:`\\sum_g a_g[u] b_g[v] + b_g[u] a_g[v]` for vech
    positions ``u, v`` of symmetric :math:`A_g, B_g`; the result is
    :math:`\\sum_g D_p^\\top(A_g\\otimes B_g + B_g\\otimes A_g)D_p / 2`,
    whose element for :math:`\\sigma_{ij}, \\sigma_{kl}` collects the
    products :math:`a_{ik}b_{jl} + a_{il}b_{jk}` over the positions of both
    elements in :math:`\\Sigma` (Magnus & Neudecker, 1999, ch. 3, §8).
    Built in blocks of rows to bound the size of the index arrays.
    """
    ri, ci = vech_indices(p)
    pstar = ri.size
    pos = np.zeros((p, p), dtype=np.int64)
    pos[ri, ci] = np.arange(pstar)
    pos[ci, ri] = np.arange(pstar)
    w = np.where(ri == ci, 0.5, 1.0)
    k, l_ = ri[None, :], ci[None, :]
    out = np.empty((pstar, pstar))
    step = max(1, 2_000_000 // pstar)
    for a in range(0, pstar, step):
        i, j = ri[a : a + step, None], ci[a : a + step, None]
        blk = m[pos[i, k], pos[j, l_]] + m[pos[i, l_], pos[j, k]]
        out[a : a + step] = blk * np.outer(w[a : a + step], w)
    return out


def fiml_information_h1(patterns, mu, sigma, information: str = "observed") -> np.ndarray:
    """Information of the saturated model per case, wrt :math:`(\\mu, \\operatorname{vech}\\Sigma)`.

    With :math:`S_i = \\Sigma_{oo,i}^{-1}` (padded), :math:`t_i = S_i r_i`,
    :math:`W_i = r_i r_i^\\top` and :math:`N` the number of non-empty cases
    (Yuan & Bentler, 2000; Savalei, 2010):

    ``"expected"``
        :math:`N^{-1}\\sum_i \\operatorname{diag}\\big(S_i,\\;
        \\tfrac12 D_p^\\top(S_i\\otimes S_i)D_p\\big)`
        (lavaan's ``lav_mvnorm_missing_information_expected``);
    ``"observed"``
        minus the Hessian of :math:`\\ell` over :math:`N`,
        :math:`N^{-1}\\sum_i\\begin{pmatrix} S_i & \\cdot \\\\
        D_p^\\top(t_i\\otimes S_i) & \\tfrac12 D_p^\\top(S_i\\otimes
        S_i(2W_i - \\Sigma)S_i)D_p\\end{pmatrix}`
        (lavaan's ``lav_mvnorm_missing_information_observed_samplestats``);
    ``"firstorder"``
        :math:`N^{-1}\\sum_i s_i s_i^\\top` with :math:`s_i` the casewise
        scores of :func:`fiml_casewise_scores` (lavaan's
        ``lav_mvnorm_missing_information_firstorder``).

    Evaluated at whatever moments are given: the EM estimates for
    lavaan's ``h1.information = "unstructured"``, the model-implied ones for
    its default ``"structured"``.  The Kronecker sums are formed from Gram
    matrices of the per-pattern ``vech`` vectors, never as :math:`p^2\\times
    p^2` matrices.

    Parameters
    ----------
    patterns : MissingPatterns or array_like
    mu : array_like, shape (p,)
    sigma : array_like, shape (p, p)
    information : {"observed", "expected", "firstorder"}

    Returns
    -------
    ndarray, shape (p + p*, p + p*)
        Symmetric, per case; the means first, then ``vech`` (lavaan's order).
    """
    if information not in ("observed", "expected", "firstorder"):
        raise CkmError(
            "The 'information' parameter of fiml_information_h1 must be a str among "
            f"{{'observed', 'expected', 'firstorder'}}. Got {information!r} instead."
        )
    pats = _as_patterns(patterns)
    mu, sigma = _check_moments(pats, mu, sigma)
    p, n = pats.n_vars, pats.n_weighted
    wt = pats.weights
    try:
        es = _estep(pats, mu, sigma)
        spat = _pattern_precisions(pats, es, sigma)
    except _NotPD:
        raise _not_pd_error("fiml_information_h1") from None
    if information == "firstorder":
        sc = np.hstack([es.scaled, _vech_scores(pats, es, spat)])
        if wt is not None:  # lavaan: weighted scores w_i s_i, sum_i w_i^2 s_i s_i' / sum_i w_i
            sc = sc * wt[:, None]
        return sc.T @ sc / n

    ri, ci = vech_indices(p)
    freq = pats.weighted_freq.astype(float)
    x = spat[:, ri, ci]  # (n_pat, p*) vech(S_g)
    gram = (x * freq[:, None]).T @ x  # sum_g f_g vech(S_g) vech(S_g)'
    i11 = np.einsum("g,gab->ab", freq, spat)
    if information == "expected":
        i22 = 0.5 * _kron_vech(2.0 * gram, p)
        i21 = np.zeros((ri.size, p))
    else:
        # sum_g f_g vech(A_g) vech(S_g)' with f_g A_g = 2 sum_{i in g} v_i v_i' - f_g S_g
        v = es.scaled if wt is None else es.scaled * np.sqrt(wt)[:, None]
        q = _pattern_sums(pats, v[:, ri] * v[:, ci])
        cross = 2.0 * (q.T @ x) - gram
        i22 = 0.5 * _kron_vech(cross + cross.T, p)
        vsum = _pattern_sums(pats, es.scaled if wt is None else es.scaled * wt[:, None])
        # t3[b, a, c] = sum_g f_g t_g[b] S_g[a, c]
        t3 = (vsum.T @ spat.reshape(pats.n_patterns, p * p)).reshape(p, p, p)
        i21 = (t3[ci, ri, :] + t3[ri, ci, :]) * np.where(ri == ci, 0.5, 1.0)[:, None]
    out = np.block([[i11, i21.T], [i21, i22]]) / n
    return 0.5 * (out + out.T)


# ---------------------------------------------------------------------- EM for h1
class EMResult(NamedTuple):
    """Unrestricted (h1) ML estimates under MAR; unpacks as
    ``mu, sigma, loglik, n_iter, converged``."""

    mu: np.ndarray
    sigma: np.ndarray
    loglik: float
    n_iter: int
    converged: bool


def _start_moments(pats: MissingPatterns) -> tuple[np.ndarray, np.ndarray]:
    """Available-case means and pairwise (ML) covariances, shrunk to be PD."""
    obs = pats.observed.astype(float)
    x0 = np.where(pats.observed, pats.data, 0.0)
    n_j = obs.sum(axis=0)
    mu = x0.sum(axis=0) / n_j
    pair_n = obs.T @ obs
    pair_sum = x0.T @ obs  # [j, k]: sum of y_j over cases observing j and k
    cross = x0.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        m_jk = pair_sum / pair_n
        cov = cross / pair_n - m_jk * m_jk.T
    var = np.diag(cov).copy()
    bad = ~np.isfinite(var) | (var <= 0.0)
    if bad.any():
        names = pats.names
        which = ", ".join(_var_name(names, j) for j in np.flatnonzero(bad)[:5])
        raise DataError(
            f"Variable(s) {which} have no variance among their observed values (fewer than "
            "two distinct answers); drop them from the model."
        )
    cov = np.where((pair_n >= 2) & np.isfinite(cov), cov, 0.0)
    sd = np.sqrt(var)
    corr = np.clip(cov / np.outer(sd, sd), -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    corr = 0.5 * (corr + corr.T)
    lam_min = np.linalg.eigvalsh(corr)[0]
    if lam_min < 1e-3:
        # shrink towards the identity until the smallest eigenvalue is 1e-3
        a = (1.0 - 1e-3) / (1.0 - lam_min)
        corr = a * corr + (1.0 - a) * np.eye(corr.shape[0])
    return mu, corr * np.outer(sd, sd)


def _em_map(pats: MissingPatterns, mu, sigma):
    """E-step at (mu, sigma); returns the log-likelihood there and the M-step."""
    es = _estep(pats, mu, sigma)
    if pats.weights is not None:  # weighted M-step (lavaan's EM with wt)
        w, n = pats.weights, pats.n_weighted
        delta = w @ es.resid / n
        t2 = (es.resid.T @ (es.resid * w[:, None]) + es.ccov) / n
        new_sigma = t2 - np.outer(delta, delta)
        return _loglik_from(pats, es), mu + delta, 0.5 * (new_sigma + new_sigma.T)
    n = pats.n_cases
    delta = es.resid.sum(axis=0) / n
    t2 = (es.resid.T @ es.resid + es.ccov) / n
    new_sigma = t2 - np.outer(delta, delta)
    return _loglik_from(pats, es), mu + delta, 0.5 * (new_sigma + new_sigma.T)


def em_saturated(
    patterns,
    *,
    mu_start=None,
    sigma_start=None,
    tol: float = 1e-9,
    max_iter: int = 10_000,
    acceleration: str = "squarem",
) -> EMResult:
    """Unrestricted ML estimates of :math:`\\mu, \\Sigma` under MAR, by EM.

    The E-step computes :math:`E(y_{i,m}\\mid y_{i,o})` and
    :math:`\\operatorname{Cov}(y_{i,m}\\mid y_{i,o})` from the current moments
    (with the downdated inverses of the module docstring), the M-step the
    complete-data ML moments from the expected sufficient statistics
    (Dempster, Laird & Rubin, 1977; Little & Rubin, 2002, §11.2.1).  By
    default the iterations are accelerated with SQUAREM (Varadhan & Roland,
    2008, step length S3, with a monotonicity check), falling back to plain EM steps whenever an
    extrapolation lowers the likelihood or leaves the positive-definite cone.

    A warning is issued when the estimate is (nearly) singular, which is
    what EM approaches when the likelihood is unbounded (fewer cases observe
    a set of variables together than there are variables in it).

    Convergence: the plain EM step from the current point changes no element
    of :math:`(\\mu, \\operatorname{vech}\\Sigma)` by more than
    ``tol * (1 + |element|)``; the reported estimates are that last EM iterate
    and ``loglik`` the log-likelihood there.  lavaan stops its EM at an
    absolute change of 1e-5 (``em.h1.tol``), so its moments differ from these
    by up to about 1e-5 / (1 - rate of convergence); its ``unrestricted.logl``
    agrees to far better than 1e-6 relative.

    Parameters
    ----------
    patterns : MissingPatterns or array_like
    mu_start, sigma_start : array_like, optional
        Starting moments; by default the available-case means and pairwise
        ML covariances (shrunk towards a diagonal matrix if not positive
        definite).
    tol : float, default 1e-9
    max_iter : int, default 10000
        Maximum number of E-steps.
    acceleration : {"squarem", "none"}

    Returns
    -------
    EMResult
        ``(mu, sigma, loglik, n_iter, converged)``: the estimates, the h1
        log-likelihood (lavaan's ``unrestricted.logl``, with the
        :math:`2\\pi` constant), the number of E-steps and whether the
        criterion was met.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> y = rng.standard_normal((200, 3)); y[rng.random((200, 3)) < .1] = np.nan
    >>> res = em_saturated(y)
    >>> res.converged
    True

    # In R: lavInspect(cfa(model, data, missing = "ml"), "sampstat.h1")
    """
    if acceleration not in ("squarem", "none"):
        raise CkmError(
            "The 'acceleration' parameter of em_saturated must be a str among "
            f"{{'squarem', 'none'}}. Got {acceleration!r} instead."
        )
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 1):
        raise CkmError(
            "The 'max_iter' parameter of em_saturated must be an int in the range "
            f"[1, inf). Got {max_iter!r} instead."
        )
    if not (np.isfinite(tol) and tol > 0):
        raise CkmError(
            "The 'tol' parameter of em_saturated must be a float in the range (0, inf). "
            f"Got {tol!r} instead."
        )
    pats = _as_patterns(patterns)
    p = pats.n_vars
    if mu_start is None or sigma_start is None:
        mu0, s0 = _start_moments(pats)
        mu_start = mu0 if mu_start is None else mu_start
        sigma_start = s0 if sigma_start is None else sigma_start
    mu, sigma = _check_moments(pats, mu_start, sigma_start)

    def pack(m, s):
        return np.concatenate([m, s.reshape(-1)])

    def unpack(th):
        s = th[p:].reshape(p, p)
        return th[:p], 0.5 * (s + s.T)

    def emap(th):
        m, s = unpack(th)
        ll, m1, s1 = _em_map(pats, m, s)
        return ll, pack(m1, s1)

    def small(step, th):
        return bool(np.all(np.abs(step) <= tol * (1.0 + np.abs(th))))

    theta = pack(mu, sigma)
    try:
        ll, f_theta = emap(theta)
    except _NotPD:
        raise CkmError(
            "em_saturated: the starting covariance matrix is not positive definite; "
            "give other starting values."
        ) from None
    n_iter, converged = 1, False
    try:
        while n_iter < max_iter:
            # theta1 = F(theta) is known; test the plain EM step first
            ll1, f_theta1 = emap(f_theta)
            n_iter += 1
            if small(f_theta - theta, theta):
                theta, ll, f_theta, converged = f_theta, ll1, f_theta1, True
                break
            if acceleration == "none":
                theta, ll, f_theta = f_theta, ll1, f_theta1
                continue
            r = f_theta - theta
            v = f_theta1 - 2.0 * f_theta + theta
            nv = np.linalg.norm(v)
            alpha = -np.linalg.norm(r) / nv if nv > 0 else -1.0
            alpha = min(alpha, -1.0)
            accepted = False
            while alpha < -1.0 and n_iter < max_iter:
                cand = theta - 2.0 * alpha * r + alpha**2 * v
                try:
                    _, f_cand = emap(cand)  # stabilising EM step
                    n_iter += 1
                    ll_new, f_new = emap(f_cand)
                    n_iter += 1
                except _NotPD:
                    alpha = 0.5 * (alpha - 1.0)
                    continue
                if np.isfinite(ll_new) and ll_new >= ll1:
                    theta, ll, f_theta, accepted = f_cand, ll_new, f_new, True
                    break
                alpha = 0.5 * (alpha - 1.0)
                if alpha > -1.01:
                    break
            if not accepted:  # plain EM: theta <- F(F(theta))
                theta = f_theta1
                ll, f_theta = emap(theta)
                n_iter += 1
    except _NotPD:
        raise CkmError(
            "em_saturated: an EM iterate of the covariance matrix is not positive definite; "
            "the data may hold (near) collinear variables or variables observed together "
            "in too few cases."
        ) from None
    mu, sigma = unpack(theta)
    if not converged:
        warnings.warn(
            f"EM for the saturated model did not converge in {max_iter} E-steps "
            f"(tol = {tol:g}); increase max_iter or check the data.",
            CkmWarning,
            stacklevel=2,
        )
    sd = np.sqrt(np.diag(sigma))
    ev_min = float(np.linalg.eigvalsh(sigma / np.outer(sd, sd))[0])
    if ev_min < 1e-6:
        warnings.warn(
            "The EM estimate of the saturated covariance matrix is (nearly) singular "
            f"(smallest eigenvalue of its correlation matrix {ev_min:.1e}): the "
            "likelihood may have no maximum because too few cases observe some sets of "
            "variables together (see MissingPatterns.coverage), or variables are "
            "collinear. Results that use the h1 model are unreliable.",
            CkmWarning,
            stacklevel=2,
        )
    return EMResult(mu.copy(), sigma.copy(), float(ll), int(n_iter), converged)
