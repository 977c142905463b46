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

__all__ = [
    "cronbach_alpha",
    "composite_reliability",
    "average_variance_extracted",
    "omega_categorical",
]


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
            f"{who} of ordinal items ({result.estimator}) is not implemented (it would be on "
            "the latent-response scale; composite_reliability gives the categorical omega of "
            "Green & Yang, 2009); fit the model with estimator='ML' or 'MLR' (items treated "
            "as continuous) to compute it"
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

    For ordinal items fitted by WLSMV (or another estimator of ordinal data)
    the value is Green & Yang's (2009) categorical omega
    (:func:`omega_categorical`), the reliability of the sum of the item scores,
    as ``semTools::compRelSEM`` (``ord.scale = TRUE``); ``S`` is then the
    polychoric correlation matrix (``obs_var=False``: the model-implied one).

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
    from ckm_research.sem.estimators import is_ordinal_fit

    result = require_result(result, "composite_reliability")
    if is_ordinal_fit(result):
        return _composite_reliability_ordinal(result, obs_var=obs_var)
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


def omega_categorical(common, total, thresholds, scales=None) -> float:
    """Green & Yang's (2009) categorical omega of one composite of ordinal items.

    The reliability of the sum of the item *scores* (not of their latent
    responses), for items whose latent responses :math:`y^*_j` are cut at
    thresholds :math:`\\tau_{jc}` (Green & Yang, 2009, *Psychometrika* 74(1),
    155-167):

    .. math::

        \\omega_{cat} = \\frac{\\sum_{j,j'} \\big[\\sum_{c,c'} \\Phi_2(\\tau_{jc},
        \\tau_{j'c'}; \\rho^{com}_{jj'}) - \\sum_c \\Phi(\\tau_{jc})
        \\sum_{c'} \\Phi(\\tau_{j'c'})\\big]}
        {\\sum_{j,j'} \\big[\\sum_{c,c'} \\Phi_2(\\tau_{jc}, \\tau_{j'c'};
        \\rho_{jj'}) - \\sum_c \\Phi(\\tau_{jc}) \\sum_{c'} \\Phi(\\tau_{j'c'})\\big]},

    with :math:`\\rho^{com} = \\lambda\\phi\\lambda^\\top` the common part of the
    latent-response correlations and :math:`\\rho` the total (polychoric or
    model-implied) correlations. Thresholds and common parts are multiplied by
    the latent-response scales (lavaan's ``delta``; 1 in the delta
    parameterization of one group), as ``semTools:::omegaCat``.

    Parameters
    ----------
    common, total : numpy.ndarray
        Items x items common-factor covariance and total covariance matrices.
    thresholds : list of numpy.ndarray
        Each item's thresholds.
    scales : numpy.ndarray, optional
        Latent-response scales (default 1).

    Returns
    -------
    float
    """
    from scipy.special import ndtr

    from ckm_research.sem.ordinal import bivariate_normal_cdf

    k = len(thresholds)
    s = np.ones(k) if scales is None else np.asarray(scales, dtype=float)
    rc = np.asarray(common, dtype=float) * np.outer(s, s)
    tot = np.asarray(total, dtype=float)
    sd = np.sqrt(np.diag(tot))
    rt = tot / np.outer(sd, sd)
    taus = [np.asarray(t, dtype=float) * s[j] for j, t in enumerate(thresholds)]

    def p2(h, kk, r):
        if abs(r) >= 1.0 - 1e-12:  # Phi_2 at |rho| = 1 (the diagonal of the total)
            return ndtr(np.minimum(h, kk)) if r > 0 else np.maximum(ndtr(h) + ndtr(kk) - 1, 0)
        return bivariate_normal_cdf(h, kk, r)

    num = den = 0.0
    for j in range(k):
        for jp in range(k):
            h, kk = np.meshgrid(taus[j], taus[jp], indexing="ij")
            marg = ndtr(taus[j]).sum() * ndtr(taus[jp]).sum()
            num += float(p2(h, kk, rc[j, jp]).sum()) - marg
            den += float(p2(h, kk, rt[j, jp]).sum()) - marg
    return num / den


def _composite_reliability_ordinal(result, *, obs_var: bool) -> pd.DataFrame:
    """:func:`composite_reliability` of a fit with ordinal items (categorical omega)."""
    if str(getattr(result.engine.opts, "parameterization", "delta")) != "delta":
        raise CkmError(
            "categorical omega is implemented for the delta parameterization (lavaan's "
            "default); refit with parameterization='delta'"
        )
    est = result.estimates
    ordered = set(est.loc[est["op"] == "|", "lhs"])
    rows = []
    for gi, b in enumerate(blocks(result), start=1):
        e = est[est["group"] == gi] if "group" in est.columns else est
        thr = {v: e.loc[(e["op"] == "|") & (e["lhs"] == v), "est"].to_numpy(dtype=float)
               for v in ordered}
        sc = e[e["op"] == "~*~"]
        scales = dict(zip(sc["lhs"], sc["est"].astype(float), strict=True))
        total = b.sample_cov if obs_var else b.implied_cov
        for f in multi_indicator_factors(b.lam):
            items = [i for i in b.ov if b.lam.at[i, f] != 0]
            cat = [i in ordered for i in items]
            if not all(cat):
                if any(cat):
                    raise CkmError(
                        f"composite reliability of {f}: its items mix ordinal "
                        f"({', '.join(i for i, c in zip(items, cat, strict=True) if c)}) and "
                        "continuous ones; semTools gives no omega for such a composite"
                    )
                lam = b.lam.loc[items, f].to_numpy()
                value = lam.sum() ** 2 * b.phi.at[f, f] / total.loc[items, items].to_numpy().sum()
            else:
                lam = b.lam.loc[items, [f]].to_numpy()
                common = lam @ lam.T * b.phi.at[f, f]
                value = omega_categorical(common, total.loc[items, items].to_numpy(),
                                          [thr[i] for i in items],
                                          [scales.get(i, 1.0) for i in items])
            rows.append(dict(group=b.label, factor=f, n_items=len(items), omega=value))
    return group_frame(result, rows)
