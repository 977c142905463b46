"""Reliability of the scales: Cronbach's alpha, composite reliability (omega)
and the average variance extracted (AVE).

Each function returns a tidy :class:`pandas.DataFrame` with one row per
factor (and group), so that ``frame.set_index("factor")["omega"]`` gives the
values by name.  The definitions are those of the R packages the field uses,
and the tests compare every number with them (tolerance 1e-3; fixtures made by
``tests/reference/R/measurement.R`` with semTools 0.5.6 and psych):

=================================  =============================================
statistic                          R equivalent
=================================  =============================================
:func:`cronbach_alpha`             ``psych::alpha(items)$total$raw_alpha``
                                   (``std.alpha`` for the standardized one) =
                                   ``semTools::compRelSEM(fit, tau.eq = TRUE)``
:func:`composite_reliability`      ``semTools::compRelSEM(fit)``
:func:`average_variance_extracted` ``semTools::AVE(fit)``
=================================  =============================================

The defaults of semTools 0.5.6 matter: ``compRelSEM`` and ``AVE`` use
``obs.var = TRUE``, i.e. the denominator is the *observed* (sample) variance
of the composite, :math:`\\mathbf 1^\\top S \\mathbf 1` with ``S`` lavaan's
sample covariance matrix (``lavInspect(fit, "sampstat")``), not the
model-implied one.  ``obs_var=False`` gives the model-implied version
(:math:`\\mathbf 1^\\top \\hat\\Sigma \\mathbf 1`), McDonald's (1999) omega in its
original form.  For congeneric models that fit well the two are close.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ckm_research.errors import CkmError
from ckm_research.measurement._common import (
    as_frame,
    blocks,
    check_columns,
    factor_indicators,
    group_frame,
    multi_indicator_factors,
    require_result,
)

__all__ = ["cronbach_alpha", "composite_reliability", "average_variance_extracted"]


def _alpha_from_cov(c: np.ndarray) -> float:
    k = c.shape[0]
    total = c.sum()
    if k < 2 or total <= 0:
        return float("nan")
    return float(k / (k - 1) * (1.0 - np.trace(c) / total))


def cronbach_alpha(data, model) -> pd.DataFrame:
    """Cronbach's alpha of each factor's items.

    .. math::

        \\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\sum_i s_i^2}{\\mathbf 1^\\top S
        \\mathbf 1}\\right), \\qquad
        \\alpha_{std} = \\frac{k \\bar r}{1 + (k - 1)\\bar r},

    with ``S`` the covariance matrix of the ``k`` items and :math:`\\bar r` their
    mean inter-item correlation (Cronbach, 1951, *Psychometrika* 16, 297-334).
    Covariances use pairwise-complete cases, as ``psych::alpha`` does.

    Parameters
    ----------
    data : pandas.DataFrame or path
        The item responses.
    model : str, pathlib.Path or SEMResults
        lavaan syntax (or a fitted result) whose ``=~`` statements say which
        items belong to which factor.

    Returns
    -------
    pandas.DataFrame
        Columns ``factor n_items n alpha alpha.std``; ``n`` counts the cases
        with all the factor's items answered.  Factors with one item get NaN.

    Examples
    --------
    >>> from ckm_research.measurement import cronbach_alpha
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> cronbach_alpha(hs, "visual =~ x1 + x2 + x3").round(3)
       factor  n_items    n  alpha  alpha.std
    0  visual        3  301  0.626      0.627

    In R: ``psych::alpha(hs[, c("x1", "x2", "x3")])$total``.
    """
    frame = as_frame(data)
    items = factor_indicators(model)
    check_columns(frame, [i for v in items.values() for i in v])
    rows = []
    for factor, cols in items.items():
        sub = frame[cols].apply(pd.to_numeric, errors="coerce")
        if len(cols) < 2:
            rows.append(dict(factor=factor, n_items=1, n=int(sub.notna().all(axis=1).sum()),
                             alpha=np.nan, **{"alpha.std": np.nan}))
            continue
        cov = sub.cov().to_numpy()  # pairwise complete, divisor n - 1 (as psych)
        cor = sub.corr().to_numpy()
        k = len(cols)
        rbar = (cor.sum() - k) / (k * (k - 1))
        rows.append(
            dict(
                factor=factor,
                n_items=k,
                n=int(sub.notna().all(axis=1).sum()),
                alpha=_alpha_from_cov(cov),
                **{"alpha.std": float(k * rbar / (1 + (k - 1) * rbar))},
            )
        )
    return pd.DataFrame(rows, columns=["factor", "n_items", "n", "alpha", "alpha.std"])


def _check_continuous(result, who):
    from ckm_research.sem.estimators import is_ordinal_fit

    if is_ordinal_fit(result):
        raise CkmError(
            f"{who} of ordinal items ({result.estimator}) is not implemented (semTools uses the "
            "categorical omega of Green & Yang, 2009, and latent-response scales); fit the "
            "model with estimator='ML' or 'MLR' (items treated as continuous) to compute it"
        )


def composite_reliability(result, *, obs_var: bool = True) -> pd.DataFrame:
    """Composite reliability (omega) of each factor, as ``semTools::compRelSEM``.

    .. math::

        \\omega_f = \\frac{\\mathbf 1^\\top \\lambda_f \\phi_{ff} \\lambda_f^\\top
        \\mathbf 1}{\\mathbf 1^\\top S_f \\mathbf 1}
        = \\frac{(\\sum_i \\lambda_{if})^2 \\phi_{ff}}{\\mathbf 1^\\top S_f \\mathbf 1},

    where :math:`\\lambda_f` are the unstandardized loadings of the factor's
    indicators, :math:`\\phi_{ff}` the model-implied variance of the factor
    (``lavInspect(fit, "cov.lv")``, which for an endogenous factor includes
    the variance its predictors explain), and :math:`S_f` the sample
    covariance matrix of its indicators (divisor N). ``obs_var=False`` puts
    the model-implied :math:`\\hat\\Sigma_f` in the denominator. Bentler
    (2009, *Psychometrika* 74, 137-143); McDonald (1999), *Test theory*,
    ch. 6; Raykov (1997), *Applied Psychological Measurement* 21, 173-184.
    Factors with a single indicator are skipped (semTools ``dropSingle``).

    Parameters
    ----------
    result : SEMResults
        A fitted CFA/SEM (ML, MLR or FIML; with FIML, ``S`` is the
        EM-estimated covariance matrix, as lavaan's ``sampstat``).
    obs_var : bool
        Observed (default, semTools 0.5.6) or model-implied total variance.

    Returns
    -------
    pandas.DataFrame
        Columns ``[group] factor n_items omega``.

    Examples
    --------
    >>> import ckm_research
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> res = ckm_research.fit(model, hs)
    >>> composite_reliability(res).round(3)
        factor  n_items  omega
    0   visual        3  0.612
    1  textual        3  0.885
    2    speed        3  0.686

    In R: ``semTools::compRelSEM(fit)``.
    """
    result = require_result(result, "composite_reliability")
    _check_continuous(result, "composite reliability")
    rows = []
    for b in blocks(result):
        denom = b.sample_cov if obs_var else b.implied_cov
        for f in multi_indicator_factors(b.lam):
            items = [i for i in b.ov if b.lam.at[i, f] != 0]
            lam = b.lam.loc[items, f].to_numpy()
            common = lam.sum() ** 2 * b.phi.at[f, f]
            total = denom.loc[items, items].to_numpy().sum()
            rows.append(dict(group=b.label, factor=f, n_items=len(items), omega=common / total))
    return group_frame(result, rows)


def average_variance_extracted(result, *, obs_var: bool = True) -> pd.DataFrame:
    """Average variance extracted of each factor, as ``semTools::AVE``.

    .. math::

        AVE_f = \\frac{\\phi_{ff} \\sum_i \\lambda_{if}^2}{\\sum_i s_{ii}},

    the share of the indicators' total variance that the factor accounts for
    (Fornell & Larcker, 1981, *Journal of Marketing Research* 18, 39-50,
    eq. 11); with standardized loadings and ``obs_var=False`` it is the mean
    squared standardized loading.  :math:`s_{ii}` are the sample variances
    (divisor N; ``obs_var=False``: model-implied).  As semTools, a factor
    with an indicator that also loads on another factor gets NaN, since the
    indicator's variance cannot be split between them.

    Parameters
    ----------
    result : SEMResults
        A fitted CFA/SEM.
    obs_var : bool
        Observed (default, semTools 0.5.6) or model-implied variances.

    Returns
    -------
    pandas.DataFrame
        Columns ``[group] factor n_items ave``.

    Examples
    --------
    >>> import ckm_research
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> res = ckm_research.fit(model, hs)
    >>> average_variance_extracted(res).round(3)
        factor  n_items    ave
    0   visual        3  0.371
    1  textual        3  0.721
    2    speed        3  0.424

    In R: ``semTools::AVE(fit)``.
    """
    result = require_result(result, "average_variance_extracted")
    _check_continuous(result, "the AVE")
    rows = []
    for b in blocks(result):
        var = np.diag((b.sample_cov if obs_var else b.implied_cov).to_numpy())
        var = pd.Series(var, index=b.ov)
        facs = multi_indicator_factors(b.lam)
        cross = (b.lam[facs].round(5) != 0).sum(axis=1) > 1
        for f in facs:
            items = [i for i in b.ov if b.lam.at[i, f] != 0]
            lam = b.lam.loc[items, f].to_numpy()
            value = float("nan")
            if not cross[items].any():
                value = float((lam**2).sum() * b.phi.at[f, f] / var[items].sum())
            rows.append(dict(group=b.label, factor=f, n_items=len(items), ave=value))
    return group_frame(result, rows)
