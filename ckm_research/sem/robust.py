"""Robust ML inference: Huber-White standard errors and the Yuan-Bentler test.

lavaan's ``estimator = "MLR"`` (version 0.6) combines

* sandwich ("Huber-White") standard errors (Huber, 1967; White, 1982),
  :math:`\\operatorname{acov}(\\hat\\theta) = N^{-1} A^{-1} B A^{-1}`, with
  :math:`A` the observed information per case (the Hessian of the
  log-likelihood, ``information = "observed"``) and :math:`B` the mean outer
  product of the casewise scores at :math:`\\hat\\theta`;
* the Yuan-Bentler scaled test statistic in its Mplus form
  (``test = "yuan.bentler.mplus"``; Yuan & Bentler, 2000, *Sociological
  Methodology* 30, 165-200; Muthén & Muthén, Mplus technical appendices):
  :math:`T_{sc} = T_{ML}/\\hat c`, with
  :math:`\\hat c = \\{\\operatorname{tr}(A_1^{-1}B_1) -
  \\operatorname{tr}(E^{-1}B_0)\\}/df`, where :math:`A_1, B_1` are the
  expected and first-order information of the saturated model at the sample
  moments, :math:`E` the model's information and :math:`B_0` its first-order
  information;
* "scaled" fit indices computed from :math:`T_{sc}` and "robust" ones
  (Brosseau-Liard, Savalei & Li, 2012; Brosseau-Liard & Savalei, 2014) that
  replace :math:`df` by :math:`\\hat c\\,df` in the non-centrality estimate.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ckm_research.numerics import numerical_hessian
from ckm_research.sem import distributions as stats  # scipy.stats' results, cheap to import
from ckm_research.sem import fit_measures as fmx
from ckm_research.sem.ml import ml_discrepancy
from ckm_research.sem.model import vech_indices

__all__ = [
    "casewise_scores_moments",
    "h1_information_expected",
    "observed_information",
    "mlr_vcov",
    "yuan_bentler_trace",
    "mlr_fit_measures",
]


def casewise_scores_moments(
    x: np.ndarray, mean: np.ndarray, cov: np.ndarray, meanstructure: bool
) -> np.ndarray:
    """Casewise derivatives of the normal log-likelihood wrt the moments.

    Columns follow lavaan's order: the means (if ``meanstructure``), then
    :math:`\\operatorname{vech}(\\Sigma)` (lower triangle, column by column);
    an off-diagonal element counts both of its positions in :math:`\\Sigma`.

    .. math::

        \\partial \\ell_i/\\partial\\mu = K d_i, \\qquad
        \\partial \\ell_i/\\partial\\Sigma = \\tfrac12 (K d_i d_i^\\top K - K),
        \\quad d_i = y_i - \\mu, \\; K = \\Sigma^{-1}.
    """
    K = np.linalg.inv(cov)
    d = x - mean
    Kd = d @ K
    ri, ci = vech_indices(cov.shape[0])
    mult = np.where(ri == ci, 1.0, 2.0)
    sc = 0.5 * (Kd[:, ri] * Kd[:, ci] - K[ri, ci][None, :]) * mult[None, :]
    if meanstructure:
        return np.hstack([Kd, sc])
    return sc


def h1_information_expected(cov: np.ndarray, meanstructure: bool) -> np.ndarray:
    """Expected information per case of the saturated normal model,
    :math:`\\tfrac12 D_p^\\top(K\\otimes K)D_p` (and :math:`K` for the means)."""
    K = np.linalg.inv(cov)
    ri, ci = vech_indices(cov.shape[0])
    mult = np.where(ri == ci, 1.0, 2.0)
    T = K[np.ix_(ri, ri)] * K[np.ix_(ci, ci)] + K[np.ix_(ri, ci)] * K[np.ix_(ci, ri)]
    A = 0.25 * T * np.outer(mult, mult)
    if meanstructure:
        p = cov.shape[0]
        out = np.zeros((p + len(ri), p + len(ri)))
        out[:p, :p] = K
        out[p:, p:] = A
        return out
    return A


def observed_information(engine, eps: float = 1e-5) -> np.ndarray:
    """Observed information per case, :math:`-N^{-1}\\partial^2\\ell/\\partial\\theta^2`,
    by central differences of the analytic gradient (as lavaan's
    ``observed.information = "hessian"``)."""
    model, theta = engine.model, engine.theta
    moments = [gd.moments for gd in engine.groups]
    H = numerical_hessian(lambda th: ml_discrepancy(model, th, moments)[1], theta, eps)
    # F = -2 logL / N + const  =>  information per case = H_F / 2
    return H / 2.0


def _model_scores(engine) -> list[np.ndarray]:
    """Casewise scores wrt the free parameters, per group (n_g x q)."""
    out = []
    ms = engine.opts.meanstructure
    for g, gd in enumerate(engine.groups):
        Sig, mu = engine.model.implied(engine.theta, g)
        mean = mu if ms else gd.moments.mean
        s = _weighted(gd, casewise_scores_moments(gd.data, mean, Sig, ms))
        delta = engine.model.jacobian(engine.theta, g, meanstructure=ms)
        out.append(s @ delta)
    return out


def _weighted(gd, scores: np.ndarray) -> np.ndarray:
    """Casewise scores times the case's sampling weight, :math:`w_i s_i`, when the
    group has sampling weights (lavaan's ``lav_mvnorm_scores_mu_vech_sigma`` with
    ``wt``; :mod:`ckm_research.sem.weights`); with the weighted number of cases
    :math:`N_g^w` as ``moments.n``, :math:`B = \\sum_i w_i^2 s_i s_i^\\top / N_g^w`."""
    wt = gd.extra.get("sampling_weights") if gd.extra else None
    return scores if wt is None else scores * wt[:, None]


def _info_observed_cached(engine) -> np.ndarray:
    if getattr(engine, "_obs_info", None) is None:
        engine._obs_info = observed_information(engine)
    return engine._obs_info


def _inverse_information(engine, info: np.ndarray) -> np.ndarray:
    """:math:`I^{-1}`, or under general constraints the inverse of the constrained
    model's information (:func:`ckm_research.sem.constraints.constrained_inverse`,
    lavaan's augmented information)."""
    inverse = getattr(engine, "constrained_inverse", None)
    return inverse(info) if inverse is not None else np.linalg.inv(info)


def mlr_vcov(engine) -> np.ndarray:
    """Huber-White sandwich covariance matrix of the estimates.

    :math:`N^{-1} A^{-1} B A^{-1}` with :math:`A` the observed information
    per case and :math:`B = N^{-1}\\sum_i s_i s_i^\\top`.
    """
    A = _info_observed_cached(engine)
    scores = _model_scores(engine)
    n = engine.ntotal
    B = sum(s.T @ s for s in scores) / n
    Ainv = _inverse_information(engine, A)
    return Ainv @ B @ Ainv / n


def yuan_bentler_trace(engine) -> tuple[float, float, float]:
    """:math:`\\operatorname{tr}(U\\Gamma)` of the Mplus variant of the Yuan-Bentler
    statistic, with its saturated (h1) and model (h0) parts."""
    ms = engine.opts.meanstructure
    n = engine.ntotal
    keep = _non_exo_moments(engine)
    trace_h1 = 0.0
    for gd in engine.groups:
        A1 = h1_information_expected(gd.moments.cov, ms)[np.ix_(keep, keep)]
        s1 = _weighted(gd, casewise_scores_moments(gd.data, gd.moments.mean, gd.moments.cov, ms))
        s1 = s1[:, keep]
        B1 = s1.T @ s1 / gd.moments.n
        trace_h1 += float(np.sum(np.linalg.solve(A1, B1).diagonal()))
    E = _info_observed_cached(engine)
    Einv = _inverse_information(engine, E)
    trace_h0 = 0.0
    for s, gd in zip(_model_scores(engine), engine.groups, strict=True):
        B0 = s.T @ s / gd.moments.n
        trace_h0 += gd.moments.n / n * float(np.sum(B0 * Einv.T))
    return trace_h1 - trace_h0, trace_h1, trace_h0


def _non_exo_moments(engine) -> np.ndarray:
    """Mask of the sample moments that are not fixed-x moments (lavaan drops the
    means, variances and covariances of fixed exogenous covariates from the
    saturated information)."""
    p = engine.model.n_ov
    ix = set(engine.exo_index()) if engine.n_exo() else set()
    ri, ci = vech_indices(p)
    cov_keep = np.array([not (i in ix and j in ix) for i, j in zip(ri, ci, strict=True)])
    if engine.opts.meanstructure:
        mean_keep = np.array([j not in ix for j in range(p)])
        return np.concatenate([mean_keep, cov_keep])
    return cov_keep


def _baseline_engine(engine):
    """The independence model as an engine of the same class and options."""
    from ckm_research.sem.ml import MLEngine
    from ckm_research.sem.partable import build_partable

    ov = list(engine.model.ov)
    ox = list(engine.pt.roles.ov_x)
    # the syntax is written with plain stand-in names: observed product terms
    # ("x1:x2") are variables here but not names the parser accepts on the left
    alias = {v: f"v{i}" for i, v in enumerate(ov)}
    back = {a: v for v, a in alias.items()}
    lines = [f"{alias[v]} ~~ {alias[v]}" for v in ov]
    # the covariates' block stays saturated: free, or fixed at the sample values (fixed.x)
    lines += [f"{alias[a]} ~~ {alias[b]}" for i, a in enumerate(ox) for b in ox[i + 1 :]]
    pt = build_partable(
        "\n".join(lines), ngroups=len(engine.groups), meanstructure=engine.opts.meanstructure
    )
    for col in ("lhs", "rhs"):
        pt.table[col] = [back.get(v, v) for v in pt.table[col]]
    pt.roles = dataclasses.replace(
        pt.roles,
        **{
            f.name: tuple(back.get(v, v) for v in getattr(pt.roles, f.name))
            for f in dataclasses.fields(pt.roles)
        },
    )
    if engine.n_exo():
        t = pt.table
        # the covariates' (co)variances and, with a mean structure, their means
        exo = t["lhs"].isin(ox) & ((t["op"] == "~1") | ((t["op"] == "~~") & t["rhs"].isin(ox)))
        t.loc[exo, ["free", "exo"]] = [0, 1]
        free = t["free"].to_numpy()
        order = {k: i + 1 for i, k in enumerate(sorted(set(free[free > 0])))}
        t["free"] = [order.get(f, 0) for f in free]
        pt.roles = dataclasses.replace(pt.roles, ov_x=tuple(ox))
    base = MLEngine(pt, engine.groups, engine.opts, [])
    base.estimate()
    return base


def scaled_fit_measures(chisq, df, tr, chisq_b, df_b, tr_b, n, ngroups=1) -> dict[str, float]:
    """Fit measures from a scaled test statistic :math:`T/\\hat c`, :math:`\\hat c =
    \\operatorname{tr}(U\\Gamma)/df`, of the model and of the baseline (lavaan's
    ``*.scaled`` measures; the scaled RMSEA uses the unscaled statistic on
    :math:`\\operatorname{tr}(U\\Gamma)` degrees of freedom, as lavaan 0.6 does).

    A saturated model (``df = 0``) has no scaling factor: as lavaan, the scaled
    statistic is the unscaled one, its p-value, scaling factor and the scaled
    RMSEA (with its interval and p-values) are NaN, and the scaled incremental
    indices compare it with the scaled baseline statistic.
    """
    if df == 0:
        return _saturated_scaled_measures(chisq, chisq_b, df_b, tr_b)
    c, c_b = tr / df, tr_b / df_b
    chisq_sc, chisq_b_sc = chisq / c, chisq_b / c_b
    G = ngroups
    out = {
        "chisq.scaled": chisq_sc,
        "df.scaled": df,
        "pvalue.scaled": float(stats.chi2.sf(chisq_sc, df)),
        "chisq.scaling.factor": c,
        "baseline.chisq.scaled": chisq_b_sc,
        "baseline.df.scaled": df_b,
        "baseline.pvalue.scaled": float(stats.chi2.sf(chisq_b_sc, df_b)),
        "baseline.chisq.scaling.factor": c_b,
        "cfi.scaled": fmx.cfi(chisq_sc, df, chisq_b_sc, df_b),
        "tli.scaled": fmx.tli(chisq_sc, df, chisq_b_sc, df_b),
    }
    out["nnfi.scaled"] = out["tli.scaled"]
    for k, v in fmx.incremental_indices(chisq_sc, df, chisq_b_sc, df_b).items():
        out[k + ".scaled"] = v
    out["rmsea.scaled"] = fmx.rmsea(chisq, tr, n, G)
    lo, hi = fmx.rmsea_ci(chisq, tr, n, 0.90, G)
    out["rmsea.ci.lower.scaled"], out["rmsea.ci.upper.scaled"] = lo, hi
    out["rmsea.pvalue.scaled"] = fmx.rmsea_pvalue(chisq, tr, n, 0.05, G)
    out["rmsea.notclose.pvalue.scaled"] = fmx.rmsea_pvalue(chisq, tr, n, 0.08, G, notclose=True)
    return out


def robust_fit_measures(xx3, df, c3, xx3_null, df_null, c3_null, n, ngroups=1) -> dict[str, float]:
    """Robust CFI, TLI, RNI and RMSEA (Brosseau-Liard, Savalei & Li, 2012;
    Brosseau-Liard & Savalei, 2014): the non-centrality is estimated by
    :math:`T - \\hat c\\,df`.  ``xx3`` is the (unscaled) statistic and ``c3``
    its scaling factor; for FIML these are the FIML-corrected versions of
    Zhang & Savalei (2023).

    With ``df = 0`` lavaan's ``lav_fit_cfi``/``lav_fit_tli``/``lav_fit_rni`` fall
    back to the uncorrected formulas (NaN when a scaling factor is NaN, as for
    complete-data MLR, whose saturated model has none), the robust RMSEA is 0
    with the interval [0, 0] (``lav_fit_rmsea_ci``: ``df < 1``) and its p-values
    are NaN.
    """
    if df == 0:
        return _saturated_robust_measures(xx3, c3, xx3_null, df_null, c3_null)
    G = ngroups
    xx3_sc = xx3 / c3
    out = {
        "cfi.robust": fmx.cfi_robust(xx3, df, xx3_null, df_null, c3, c3_null),
        "tli.robust": fmx.tli_robust(xx3, df, xx3_null, df_null, c3, c3_null),
        "rni.robust": fmx.rni_robust(xx3, df, xx3_null, df_null, c3, c3_null),
        "rmsea.robust": fmx.rmsea(xx3, df, n, G, c_hat=c3),
    }
    out["nnfi.robust"] = out["tli.robust"]
    lo, hi = fmx.rmsea_ci(xx3_sc, df, n, 0.90, G, c_hat=c3)
    out["rmsea.ci.lower.robust"], out["rmsea.ci.upper.robust"] = lo, hi
    out["rmsea.pvalue.robust"] = fmx.rmsea_pvalue(xx3_sc, df, n, 0.05, G, c_hat=c3)
    out["rmsea.notclose.pvalue.robust"] = fmx.rmsea_pvalue(
        xx3_sc, df, n, 0.08, G, c_hat=c3, notclose=True
    )
    return out


def _saturated_scaled_measures(chisq, chisq_b, df_b, tr_b) -> dict[str, float]:
    """lavaan's ``*.scaled`` measures of a model with ``df = 0`` (see
    :func:`scaled_fit_measures`)."""
    nan = float("nan")
    c_b = tr_b / df_b
    chisq_b_sc = chisq_b / c_b
    out = {
        "chisq.scaled": float(chisq),
        "df.scaled": 0.0,
        "pvalue.scaled": nan,
        "chisq.scaling.factor": nan,
        "baseline.chisq.scaled": chisq_b_sc,
        "baseline.df.scaled": df_b,
        "baseline.pvalue.scaled": float(stats.chi2.sf(chisq_b_sc, df_b)),
        "baseline.chisq.scaling.factor": c_b,
        "cfi.scaled": fmx.cfi(chisq, 0.0, chisq_b_sc, df_b),
        "tli.scaled": fmx.tli(chisq, 0.0, chisq_b_sc, df_b),
    }
    out["nnfi.scaled"] = out["tli.scaled"]
    for k, v in fmx.incremental_indices(chisq, 0.0, chisq_b_sc, df_b).items():
        out[k + ".scaled"] = v
    # lavaan: the scaled RMSEA's df is tr(U Gamma), NA for a saturated model
    for k in ("rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "rmsea.notclose.pvalue"):
        out[k + ".scaled"] = nan
    return out


def _saturated_robust_measures(xx3, c3, xx3_null, df_null, c3_null) -> dict[str, float]:
    """lavaan's ``*.robust`` measures of a model with ``df = 0`` (see
    :func:`robust_fit_measures`)."""
    nan = float("nan")
    no_c = bool(np.isnan(c3) or np.isnan(c3_null))
    t2 = xx3_null - df_null
    out = {
        "cfi.robust": nan if no_c else fmx.cfi(xx3, 0.0, xx3_null, df_null),
        "tli.robust": nan if no_c else 1.0,
        "rni.robust": nan if no_c or t2 == 0 else float(1.0 - xx3 / t2),
        "rmsea.robust": 0.0,
        "rmsea.ci.lower.robust": 0.0,
        "rmsea.ci.upper.robust": 0.0,
        "rmsea.pvalue.robust": nan,
        "rmsea.notclose.pvalue.robust": nan,
    }
    out["nnfi.robust"] = out["tli.robust"]
    return out


def mlr_fit_measures(engine, fm: dict) -> dict[str, float]:
    """Scaled and robust fit measures of an MLR fit (lavaan 0.6 definitions;
    a saturated model, ``df = 0``, gets lavaan's values for that case)."""
    chisq, df, n = fm["chisq"], fm["df"], engine.ntotal
    G = len(engine.groups)
    if df < 0:
        return {}
    tr_b, _, _ = yuan_bentler_trace(_baseline_engine(engine))
    if df == 0:
        chisq_b, df_b = fm["baseline.chisq"], fm["baseline.df"]
        out = scaled_fit_measures(chisq, 0.0, np.nan, chisq_b, df_b, tr_b, n, G)
        out.update(robust_fit_measures(chisq, 0.0, np.nan, chisq_b, df_b, tr_b / df_b, n, G))
        return out
    tr, _, _ = yuan_bentler_trace(engine)
    chisq_b, df_b = fm["baseline.chisq"], fm["baseline.df"]
    out = scaled_fit_measures(chisq, df, tr, chisq_b, df_b, tr_b, n, G)
    out.update(robust_fit_measures(chisq, df, tr / df, chisq_b, df_b, tr_b / df_b, n, G))
    return out
