"""Global fit measures, named and defined as lavaan's ``fitMeasures()``.

Each function is pure: it takes test statistics, degrees of freedom and
sample sizes and returns numbers.  References per index:

* CFI (Bentler, 1990, *Psychological Bulletin* 107, 238-246, eq. 7),
  truncated to [0, 1] as Bentler defines it and lavaan computes it.
* TLI / NNFI (Tucker & Lewis, 1973; Bentler & Bonett, 1980), not truncated.
* NFI, RFI, IFI, RNI, PNFI (Bentler & Bonett, 1980; Bollen, 1986, 1989).
* RMSEA (Steiger & Lind, 1980; Browne & Cudeck, 1993) with lavaan's
  :math:`\\sqrt{\\max(0, (T - df)/(N\\,df))}\\sqrt{G}` (N, not N-1), its 90 %
  confidence interval by inverting the non-central chi-square distribution
  and the test of close fit, :math:`H_0: \\varepsilon \\le .05`
  (MacCallum, Browne & Sugawara, 1996).
* SRMR (Bentler, 1995): residuals scaled by the *sample* standard
  deviations, averaged over the non-duplicated elements (lavaan's
  ``srmr_bentler``); CRMR (Bollen, 1989) on correlation residuals without the
  diagonal.
* AIC (Akaike, 1974), BIC (Schwarz, 1978), sample-size adjusted BIC
  (Sclove, 1987) from the log-likelihood.
* Hoelter's critical N (Hoelter, 1983), McDonald's MFI (1989), ECVI (Browne
  & Cudeck, 1989).
"""

from __future__ import annotations

import numpy as np

from ckm_research.sem import distributions as stats  # scipy.stats' results, cheap to import

__all__ = [
    "cfi",
    "tli",
    "rmsea",
    "rmsea_ci",
    "rmsea_pvalue",
    "incremental_indices",
    "srmr_bentler",
    "crmr",
    "information_criteria",
    "srmr_mplus",
    "other_indices",
    "gfi",
    "chisq_based_measures",
]


def cfi(chisq: float, df: float, chisq_null: float, df_null: float) -> float:
    """Comparative fit index (Bentler, 1990), truncated to [0, 1]."""
    t1 = max(chisq - df, 0.0)
    t2 = max(chisq - df, chisq_null - df_null, 0.0)
    if t2 == 0:
        return 1.0
    return float(min(max(1.0 - t1 / t2, 0.0), 1.0))


def tli(chisq: float, df: float, chisq_null: float, df_null: float) -> float:
    """Tucker-Lewis index / NNFI (not truncated, as in lavaan)."""
    if df <= 0:
        return 1.0
    t1 = chisq_null / df_null
    return float((t1 - chisq / df) / (t1 - 1.0))


def incremental_indices(chisq, df, chisq_null, df_null) -> dict[str, float]:
    """NFI, RFI, IFI, RNI, PNFI as lavaan reports them."""
    out = {}
    out["nfi"] = (chisq_null - chisq) / chisq_null if chisq_null > 0 else np.nan
    if df > 0 and df_null > 0:
        t1 = chisq_null / df_null - chisq / df
        t2 = chisq_null / df_null
        # lavaan's lav_fit_rfi: 1 when the model fits worse per df than the baseline
        # (t1 < 0), not 0; undefined when the model has more df than the baseline
        out["rfi"] = np.nan if df > df_null else (1.0 if t1 < 0 or t2 < 0 else min(t1 / t2, 1.0))
        out["pnfi"] = (df / df_null) * out["nfi"]
    else:
        out["rfi"] = 1.0 if df == 0 else np.nan
        out["pnfi"] = 0.0 if df == 0 else np.nan
    out["ifi"] = (chisq_null - chisq) / (chisq_null - df) if chisq_null != df else np.nan
    denom = chisq_null - df_null
    out["rni"] = 1.0 - (chisq - df) / denom if denom != 0 else np.nan
    return {k: float(v) for k, v in out.items()}


def rmsea(chisq: float, df: float, n: float, ngroups: int = 1, c_hat: float = 1.0) -> float:
    """Root mean square error of approximation, lavaan's formula (N, not N-1):
    :math:`\\sqrt{\\max(0, T/(N\\,df) - \\hat c/N)}\\,\\sqrt{G}`; ``c_hat`` is the
    scaling factor for the robust RMSEA (Brosseau-Liard, Savalei & Li, 2012)."""
    if not df > 0:
        return 0.0
    return float(np.sqrt(max(0.0, (chisq / n) / df - c_hat / n)) * np.sqrt(ngroups))


def _ncp_solve(chisq: float, df: float, target: float, upper: float) -> float:
    """The non-centrality lambda in [0, upper] with P(X <= chisq | df, lambda) = target.

    ``scipy.special.chndtrinc`` inverts the non-central chi-square CDF directly
    (it agrees with the root of lavaan's ``uniroot`` to about 1e-13); when its
    answer falls outside [0, upper], the bracketing root finder decides (and
    raises as before when there is no root there)."""
    lam = stats.ncx2.ncp(chisq, df, target)
    if 0.0 <= lam <= upper:
        return lam
    from scipy import optimize

    def f(lam):
        return (
            stats.ncx2.cdf(chisq, df, lam) - target
            if lam > 0
            else stats.chi2.cdf(chisq, df) - target
        )

    return optimize.brentq(f, 0.0, upper, xtol=1e-12, rtol=1e-14, maxiter=500)


def rmsea_ci(
    chisq: float, df: float, n: float, level: float = 0.90, ngroups: int = 1, c_hat: float = 1.0
):
    """Confidence interval of the RMSEA (Browne & Cudeck, 1993), inverting the
    non-central chi-square distribution as lavaan's ``lav_fit_rmsea_ci``; with
    ``df < 1`` (a saturated model) both limits are 0, as in lavaan."""
    if not np.isfinite(chisq) or not np.isfinite(df):
        return np.nan, np.nan
    upper_perc = 1 - (1 - level) / 2
    lower_perc = (1 - level) / 2
    p0 = stats.chi2.cdf(chisq, df)
    if df < 1 or p0 < upper_perc:
        lo = 0.0
    else:
        lam = _ncp_solve(chisq, df, upper_perc, chisq)
        lo = np.sqrt(c_hat * lam / (n * df)) * np.sqrt(ngroups)
    n_rmsea = max(n, chisq * 4)
    if df < 1 or p0 < lower_perc or stats.ncx2.cdf(chisq, df, n_rmsea) - lower_perc > 0:
        hi = 0.0
    else:
        lam = _ncp_solve(chisq, df, lower_perc, n_rmsea)
        hi = np.sqrt(c_hat * lam / (n * df)) * np.sqrt(ngroups)
    return float(lo), float(hi)


def rmsea_pvalue(
    chisq: float,
    df: float,
    n: float,
    h0: float = 0.05,
    ngroups: int = 1,
    notclose: bool = False,
    c_hat: float = 1.0,
) -> float:
    """p-value of the test of close fit, :math:`H_0: \\varepsilon \\le h_0`
    (or, with ``notclose``, of not-close fit :math:`H_0: \\varepsilon \\ge h_0`;
    MacCallum, Browne & Sugawara, 1996)."""
    if not df > 0:
        return np.nan
    ncp = n * df / c_hat * h0**2 / ngroups
    if notclose:
        return float(stats.ncx2.cdf(chisq, df, ncp))
    return float(1.0 - stats.ncx2.cdf(chisq, df, ncp))


def cfi_robust(chisq, df, chisq_null, df_null, c, c_null) -> float:
    """Robust CFI (Brosseau-Liard & Savalei, 2014): non-centralities
    :math:`T - \\hat c\\,df` of the model and of the baseline."""
    t1 = max(chisq - c * df, 0.0)
    t2 = max(chisq - c * df, chisq_null - c_null * df_null, 0.0)
    return 1.0 if t2 == 0 else float(1.0 - t1 / t2)


def tli_robust(chisq, df, chisq_null, df_null, c, c_null) -> float:
    """Robust TLI (Brosseau-Liard & Savalei, 2014), as lavaan computes it."""
    t1 = (chisq - c * df) * df_null
    t2 = (chisq_null - c_null * df_null) * df
    return float(1.0 - t1 / t2) if df > 0 and t2 != 0 else 1.0


def rni_robust(chisq, df, chisq_null, df_null, c, c_null) -> float:
    """Robust RNI: :math:`1 - (T - \\hat c\\,df)/(T_0 - \\hat c_0\\,df_0)`."""
    t2 = chisq_null - c_null * df_null
    return float(1.0 - (chisq - c * df) / t2) if t2 != 0 else np.nan


def srmr_bentler(sample_cov, implied_cov, sample_mean=None, implied_mean=None):
    """Standardized root mean square residual, Bentler's version (lavaan
    ``srmr_bentler``): residuals divided by the sample standard deviations.

    Returns ``(srmr, srmr_nomean)``.
    """
    s = np.asarray(sample_cov)
    sd = np.sqrt(np.diag(s))
    r = (s - implied_cov) / np.outer(sd, sd)
    il = np.tril_indices_from(r)
    ss = np.sum(r[il] ** 2)
    k = len(il[0])
    nomean = np.sqrt(ss / k)
    if sample_mean is None:
        return float(nomean), float(nomean)
    rm = (np.asarray(sample_mean) - implied_mean) / sd
    return float(np.sqrt((ss + np.sum(rm**2)) / (k + len(rm)))), float(nomean)


def rmr(sample_cov, implied_cov, sample_mean=None, implied_mean=None):
    """Root mean square residual on the raw (covariance) scale."""
    r = np.asarray(sample_cov) - implied_cov
    il = np.tril_indices_from(r)
    ss, k = np.sum(r[il] ** 2), len(il[0])
    nomean = np.sqrt(ss / k)
    if sample_mean is None:
        return float(nomean), float(nomean)
    rm = np.asarray(sample_mean) - implied_mean
    return float(np.sqrt((ss + np.sum(rm**2)) / (k + len(rm)))), float(nomean)


def _cov2cor(c):
    d = 1.0 / np.sqrt(np.diag(c))
    return c * np.outer(d, d)


def crmr(sample_cov, implied_cov, sample_mean=None, implied_mean=None):
    """Correlation root mean residual (Bollen, 1989), without the diagonal."""
    r = _cov2cor(np.asarray(sample_cov)) - _cov2cor(np.asarray(implied_cov))
    il = np.tril_indices_from(r, k=-1)
    ss, k = np.sum(r[il] ** 2), len(il[0])
    nomean = np.sqrt(ss / k) if k else 0.0
    if sample_mean is None:
        return float(nomean), float(nomean)
    # lavaan's "cor.bollen" residuals scale both means by the *sample* standard
    # deviations (lav_residuals_rescale(diag.cov2 = var.obs))
    rm = (np.asarray(sample_mean) - np.asarray(implied_mean)) / np.sqrt(np.diag(sample_cov))
    return float(np.sqrt((ss + np.sum(rm**2)) / (k + len(rm)))), float(nomean)


def information_criteria(logl: float, npar: int, n: float) -> dict[str, float]:
    """AIC, BIC and sample-size adjusted BIC from a log-likelihood."""
    return {
        "aic": -2 * logl + 2 * npar,
        "bic": -2 * logl + npar * np.log(n),
        "bic2": -2 * logl + npar * np.log((n + 2) / 24),
    }


def hoelter_cn(chisq: float, df: float, n: float, alpha: float) -> float:
    """Hoelter's critical N at level ``alpha``."""
    if df <= 0 or chisq <= 0:
        return np.nan
    return float(stats.chi2.ppf(1 - alpha, df) / (chisq / (n - 1)) + 1)


def srmr_mplus(sample_cov, implied_cov, sample_mean=None, implied_mean=None):
    """SRMR as Mplus defines it (lavaan ``srmr_mplus``): correlation residuals
    off the diagonal, relative variance residuals on it, and standardized mean
    residuals.  Returns ``(srmr, srmr_nomean)``."""
    s = np.asarray(sample_cov)
    sig = np.asarray(implied_cov)
    p = s.shape[0]
    r = _cov2cor(s) - _cov2cor(sig)
    il = np.tril_indices(p, k=-1)
    ss = np.sum(r[il] ** 2) + np.sum(((np.diag(s) - np.diag(sig)) / np.diag(s)) ** 2)
    e0 = p * (p + 1) / 2
    nomean = float(np.sqrt(ss / e0))
    if sample_mean is None:
        return nomean, nomean
    rm = np.asarray(sample_mean) / np.sqrt(np.diag(s)) - np.asarray(implied_mean) / np.sqrt(
        np.diag(sig)
    )
    return float(np.sqrt((ss + np.sum(rm**2)) / (e0 + p))), nomean


def other_indices(chisq: float, df: float, n: float, npar: int) -> dict[str, float]:
    """Hoelter's critical N (Hoelter, 1983), McDonald's (1989) MFI and the
    ECVI (Browne & Cudeck, 1989), with lavaan's formulas.

    Hoelter's N of a saturated model (``df = 0``) is NaN: there is no critical
    value on 0 df.  lavaan's ``lav_fit_cn`` returns NA only when the chi-square
    is below machine epsilon and otherwise ``qchisq(., 0)/(T/N) + 1 = 1``, so it
    reports 1 when its chi-square of a saturated model is rounding noise (e.g.
    4e-13 for a complete-data ML fit) and NA when it is exactly 0 (FIML).
    """
    out = {}
    for name, alpha in (("cn_05", 0.05), ("cn_01", 0.01)):
        out[name] = np.nan if df == 0 else float(stats.chi2.ppf(1 - alpha, df) / (chisq / n) + 1)
    out["mfi"] = float(np.exp(-0.5 * (chisq - df) / n))
    out["ecvi"] = float(chisq / n + 2 * npar / n)
    return out


def gfi(
    wls_obs: np.ndarray, wls_est: np.ndarray, weight: np.ndarray, df: float
) -> dict[str, float]:
    """GFI, AGFI and PGFI (Jöreskog & Sörbom, 1986; Mulaik et al., 1989) in
    lavaan's weighted form :math:`1 - e^\\top V e / s^\\top V s`, with ``weight``
    the estimator's weight matrix (for ML the normal-theory information at the
    model-implied moments)."""
    d = wls_obs - wls_est
    g = float(1.0 - (d @ weight @ d) / (wls_obs @ weight @ wls_obs))
    nel = len(wls_obs)
    agfi = 1.0 - (nel / df) * (1.0 - g) if df > 0 else 1.0
    pgfi = (df / nel) * g if nel else np.nan
    return {"gfi": g, "agfi": float(agfi), "pgfi": float(pgfi)}


def chisq_based_measures(
    chisq, df, chisq_b, df_b, n, *, ngroups=1, npar=None, logl=None, logl_h1=None, n_rmsea=None
) -> dict[str, float]:
    """Every measure that follows from the model and baseline chi-squares
    (and, for likelihood estimators, the log-likelihoods), named as lavaan's
    ``fitMeasures()``.

    ``n_rmsea`` is the N of the RMSEA and Hoelter's N (lavaan uses N - 1 for
    (D)WLS); the information criteria need ``npar``, ``logl`` and ``logl_h1``.
    """
    n_r = n if n_rmsea is None else n_rmsea
    G = ngroups
    fm = {
        "chisq": float(chisq),
        "df": float(df),
        "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
        "baseline.chisq": float(chisq_b),
        "baseline.df": float(df_b),
        "baseline.pvalue": float(stats.chi2.sf(chisq_b, df_b)),
        "cfi": cfi(chisq, df, chisq_b, df_b),
        "tli": tli(chisq, df, chisq_b, df_b),
    }
    fm["nnfi"] = fm["tli"]
    fm.update(incremental_indices(chisq, df, chisq_b, df_b))
    if logl is not None:
        fm["logl"] = float(logl)
        fm["unrestricted.logl"] = float(logl_h1)
        fm.update(information_criteria(logl, npar, n))
    fm["ntotal"] = float(n)
    fm["rmsea"] = rmsea(chisq, df, n_r, G)
    fm["rmsea.ci.lower"], fm["rmsea.ci.upper"] = rmsea_ci(chisq, df, n_r, 0.90, G)
    fm["rmsea.ci.level"] = 0.90
    fm["rmsea.pvalue"] = rmsea_pvalue(chisq, df, n_r, 0.05, G)
    fm["rmsea.close.h0"] = 0.05
    fm["rmsea.notclose.pvalue"] = rmsea_pvalue(chisq, df, n_r, 0.08, G, notclose=True)
    fm["rmsea.notclose.h0"] = 0.08
    if npar is not None:
        fm.update(other_indices(chisq, df, n_r, npar))
    return fm
