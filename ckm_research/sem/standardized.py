"""Completely standardized solution (lavaan's ``std.all``).

Every parameter is rescaled by the model-implied standard deviations of the
variables it links (Bollen, 1989, pp. 124-125, 349): loadings and
regression coefficients by :math:`\\sigma_x/\\sigma_y`, (residual) variances
as a share of the total variance, and residual covariances into residual
*correlations* (lavaan's ``cov.std = TRUE``), i.e. divided by the square
roots of the two residual variances.  Defined parameters (``:=``) are
re-evaluated on the standardized values, as lavaan does.  Standard errors of
the standardized estimates follow by the delta method with a numerical
Jacobian (lavaan's ``standardizedSolution(se = TRUE)``).
"""

from __future__ import annotations

import numpy as np

from ckm_research.numerics import numerical_jacobian
from ckm_research.sem.model import RAMModel

__all__ = ["standardize_all", "standardize_lv", "standardize_rows", "delta_method_se"]


def standardize_all(
    model: RAMModel,
    theta: np.ndarray,
    row_est: np.ndarray | None = None,
) -> np.ndarray:
    """``std.all`` of every parameter-table row.

    Parameters
    ----------
    model : RAMModel
    theta : ndarray
        Free parameters.
    row_est : ndarray, optional
        Values of every row (default: from ``theta``).

    Returns
    -------
    ndarray
        One value per parameter-table row (NaN for rows that have none).
    """
    return _standardize(model, theta, row_est, latent_only=False)


def standardize_lv(
    model: RAMModel,
    theta: np.ndarray,
    row_est: np.ndarray | None = None,
) -> np.ndarray:
    """``std.lv`` of every parameter-table row: only the latent variables are
    standardized (lavaan's ``lav_standardize_lv`` with ``cov.std = TRUE``).

    The rule of :func:`standardize_rows` with every observed variable's
    variance taken as 1: loadings times the factor's model-implied SD,
    regressions rescaled by the SDs of the latent variables they link, factor
    (residual) variances as shares, factor residual covariances as
    correlations; parameters of observed variables alone stay as estimated.
    """
    return _standardize(model, theta, row_est, latent_only=True)


def _standardize(model: RAMModel, theta, row_est, *, latent_only: bool) -> np.ndarray:
    """:func:`standardize_rows` group by group, with the model-implied total
    and residual variances (observed variables' taken as 1 when
    ``latent_only``, lavaan's ``std.lv``, which also keeps the ``~*~`` scales)."""
    t = model.table
    est = model.row_values(theta) if row_est is None else row_est
    out = np.full(len(t), np.nan)
    ops = t["op"].to_numpy()
    lhs = t["lhs"].to_numpy()
    rhs = t["rhs"].to_numpy()
    grp = t["group"].to_numpy()
    if latent_only:
        lv = set(model.lv)
        latent = np.array([v in lv for v in model.variables])
    for g in range(model.ngroups):
        A, S, m = model._matrices(est, g)
        E = model.total_effects_inverse(A)
        C = E @ S @ E.T
        var, resid = np.diag(C).copy(), np.diag(S)
        if latent_only:
            var, resid = np.where(latent, var, 1.0), np.where(latent, resid, 1.0)
        rows = np.flatnonzero(grp == g + 1)
        out[rows] = standardize_rows(
            ops[rows], lhs[rows], rhs[rows], est[rows], var, resid, model.variables
        )
        if latent_only:
            scale = rows[ops[rows] == "~*~"]
            out[scale] = est[scale]
    return out


def standardize_rows(ops, lhs, rhs, est, var, resid, variables) -> np.ndarray:
    """The ``std.all`` rule of each parameter-table row, given the model-implied
    total variances ``var`` and the residual variances ``resid`` of
    ``variables`` (lavaan's ``lav_standardize_all`` with ``cov.std = TRUE``)."""
    pos = {v: i for i, v in enumerate(variables)}
    sd = np.sqrt(np.abs(var))
    out = np.full(len(est), np.nan)
    for r, (op, a, b, v) in enumerate(zip(ops, lhs, rhs, est, strict=True)):
        if op == "=~":
            out[r] = v * sd[pos[a]] / sd[pos[b]]
        elif op in ("~", "<~"):
            out[r] = v * sd[pos[b]] / sd[pos[a]]
        elif op == "~~":
            if a == b:
                out[r] = v / var[pos[a]] if var[pos[a]] != 0 else np.nan
            else:
                d = np.sqrt(abs(resid[pos[a]]) * abs(resid[pos[b]]))
                out[r] = v / d if d > 0 else np.nan
        elif op == "~1" or op == "|":
            out[r] = v / sd[pos[a]] if sd[pos[a]] > 0 else np.nan
        elif op == "~*~":
            out[r] = 1.0
    return out


def delta_method_se(fun, theta: np.ndarray, vcov: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Delta-method standard errors of ``fun(theta)``.

    ``fun`` maps the free parameters to a vector (e.g. the standardized
    solution); its Jacobian is taken by central differences.
    """
    J = numerical_jacobian(fun, theta, eps)
    var = np.einsum("ij,jk,ik->i", J, vcov, J)
    return np.sqrt(np.clip(var, 0.0, None))
