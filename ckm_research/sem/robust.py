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

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ckm_research.numerics import numerical_hessian
from ckm_research.sem import distributions as stats  # scipy.stats' results, cheap to import
from ckm_research.sem import fit_measures as fmx
from ckm_research.sem.ml import SampleMoments, ml_discrepancy
from ckm_research.sem.model import RAMModel, vech_indices

__all__ = [
    "MLInputs",
    "casewise_scores_moments",
    "h1_information_expected",
    "non_exo_moments",
    "weighted_scores",
    "observed_information",
    "model_scores",
    "mlr_vcov",
    "yuan_bentler_trace",
    "mlr_fit_measures",
    "scaled_fit_measures",
    "robust_fit_measures",
]


@dataclass(frozen=True)
class MLInputs:
    """What the robust ML statistics are functions of: the model, the estimates and
    the data of each group (complete cases) with their sample moments.

    An engine builds it (:meth:`ckm_research.sem.ml.MLEngine.ml_inputs`); the
    functions of this module read nothing else.

    Attributes
    ----------
    model : RAMModel
        The model (parameter table and matrices).
    theta : numpy.ndarray
        The free parameters' estimates.
    data : sequence of numpy.ndarray
        Per group, the ``(n_g, p)`` complete data in the model's variable order.
    moments : sequence of SampleMoments
        Per group, the sample moments (divisor :math:`N_g`; weighted with sampling
        weights, ``n`` then the weighted number of cases).
    meanstructure : bool
        Whether the model has a mean structure.
    ntotal : int
        :math:`N`, the number of cases over the groups.
    exo_index : tuple of int
        Positions of the fixed exogenous covariates (lavaan's ``x.idx``; empty
        with ``fixed.x = FALSE`` or without covariates).
    weights : sequence of (numpy.ndarray or None), optional
        Per group, the normalized sampling weights of the cases (``None``: unweighted).
    """

    model: RAMModel
    theta: np.ndarray
    data: Sequence[np.ndarray]
    moments: Sequence[SampleMoments]
    meanstructure: bool
    ntotal: int
    exo_index: tuple[int, ...] = ()
    weights: Sequence[np.ndarray | None] | None = None

    def group_weights(self, g: int) -> np.ndarray | None:
        """The sampling weights of group ``g`` (``None``: unweighted)."""
        return None if self.weights is None else self.weights[g]


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


def non_exo_moments(p: int, exo_index: Sequence[int], meanstructure: bool) -> np.ndarray:
    """Mask of the sample moments that are not fixed-x moments (lavaan drops the
    means, variances and covariances of fixed exogenous covariates from the
    saturated information).

    Parameters
    ----------
    p : int
        Number of observed variables.
    exo_index : sequence of int
        Positions of the fixed covariates (lavaan's ``x.idx``).
    meanstructure : bool
        The moments include the means (first ``p`` entries).

    Returns
    -------
    numpy.ndarray of bool
        In lavaan's order of the moments: means (with a mean structure), then
        :math:`\\operatorname{vech}(S)`.
    """
    ix = set(exo_index)
    ri, ci = vech_indices(p)
    cov_keep = np.array([not (i in ix and j in ix) for i, j in zip(ri, ci, strict=True)])
    if meanstructure:
        mean_keep = np.array([j not in ix for j in range(p)])
        return np.concatenate([mean_keep, cov_keep])
    return cov_keep


def weighted_scores(scores: np.ndarray, wt: np.ndarray | None) -> np.ndarray:
    """Casewise scores times the case's sampling weight, :math:`w_i s_i`, when the
    group has sampling weights (lavaan's ``lav_mvnorm_scores_mu_vech_sigma`` with
    ``wt``; :mod:`ckm_research.sem.weights`); with the weighted number of cases
    :math:`N_g^w` as ``moments.n``, :math:`B = \\sum_i w_i^2 s_i s_i^\\top / N_g^w`."""
    return scores if wt is None else scores * wt[:, None]


def observed_information(inputs: MLInputs, eps: float = 1e-5) -> np.ndarray:
    """Observed information per case, :math:`-N^{-1}\\partial^2\\ell/\\partial\\theta^2`,
    by central differences of the analytic gradient (as lavaan's
    ``observed.information = "hessian"``), at ``inputs.theta``."""
    model, moments = inputs.model, list(inputs.moments)
    H = numerical_hessian(lambda th: ml_discrepancy(model, th, moments)[1], inputs.theta, eps)
    # F = -2 logL / N + const  =>  information per case = H_F / 2
    return H / 2.0


def model_scores(inputs: MLInputs) -> list[np.ndarray]:
    """Casewise scores wrt the free parameters, per group (n_g x q), weighted by the
    sampling weights when there are any."""
    out = []
    ms = inputs.meanstructure
    model, theta = inputs.model, inputs.theta
    for g, (x, mom) in enumerate(zip(inputs.data, inputs.moments, strict=True)):
        Sig, mu = model.implied(theta, g)
        mean = mu if ms else mom.mean
        s = weighted_scores(casewise_scores_moments(x, mean, Sig, ms), inputs.group_weights(g))
        delta = model.jacobian(theta, g, meanstructure=ms)
        out.append(s @ delta)
    return out


def _inverse(info: np.ndarray, inverse: Callable[[np.ndarray], np.ndarray] | None):
    """:math:`I^{-1}`, or under general constraints ``inverse(I)``, the inverse of the
    constrained model's information
    (:func:`ckm_research.sem.constraints.constrained_inverse`, lavaan's augmented
    information)."""
    return inverse(info) if inverse is not None else np.linalg.inv(info)


def mlr_vcov(
    inputs: MLInputs,
    information: np.ndarray | None = None,
    inverse: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Huber-White sandwich covariance matrix of the estimates.

    :math:`N^{-1} A^{-1} B A^{-1}` with :math:`A` the observed information
    per case and :math:`B = N^{-1}\\sum_i s_i s_i^\\top`.

    Parameters
    ----------
    inputs : MLInputs
    information : numpy.ndarray, optional
        :math:`A`, when already computed (:func:`observed_information` otherwise).
    inverse : callable, optional
        The inverse of an information matrix under general constraints.
    """
    A = observed_information(inputs) if information is None else information
    scores = model_scores(inputs)
    n = inputs.ntotal
    B = sum(s.T @ s for s in scores) / n
    Ainv = _inverse(A, inverse)
    return Ainv @ B @ Ainv / n


def yuan_bentler_trace(
    inputs: MLInputs,
    information: np.ndarray | None = None,
    inverse: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[float, float, float]:
    """:math:`\\operatorname{tr}(U\\Gamma)` of the Mplus variant of the Yuan-Bentler
    statistic, with its saturated (h1) and model (h0) parts; ``information`` and
    ``inverse`` as for :func:`mlr_vcov`."""
    ms = inputs.meanstructure
    n = inputs.ntotal
    keep = non_exo_moments(inputs.model.n_ov, inputs.exo_index, ms)
    trace_h1 = 0.0
    for g, (x, mom) in enumerate(zip(inputs.data, inputs.moments, strict=True)):
        A1 = h1_information_expected(mom.cov, ms)[np.ix_(keep, keep)]
        s1 = casewise_scores_moments(x, mom.mean, mom.cov, ms)
        s1 = weighted_scores(s1, inputs.group_weights(g))[:, keep]
        B1 = s1.T @ s1 / mom.n
        trace_h1 += float(np.sum(np.linalg.solve(A1, B1).diagonal()))
    E = observed_information(inputs) if information is None else information
    Einv = _inverse(E, inverse)
    trace_h0 = 0.0
    for s, mom in zip(model_scores(inputs), inputs.moments, strict=True):
        B0 = s.T @ s / mom.n
        trace_h0 += mom.n / n * float(np.sum(B0 * Einv.T))
    return trace_h1 - trace_h0, trace_h1, trace_h0


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


def mlr_fit_measures(
    fm: dict, trace: float, baseline_trace: float, n: int, ngroups: int = 1
) -> dict[str, float]:
    """Scaled and robust fit measures of an MLR fit (lavaan 0.6 definitions;
    a saturated model, ``df = 0``, gets lavaan's values for that case).

    Parameters
    ----------
    fm : dict
        The ML fit measures (``chisq``, ``df``, ``baseline.chisq``, ``baseline.df``).
    trace, baseline_trace : float
        :math:`\\operatorname{tr}(U\\Gamma)` of the model and of the independence
        model (:func:`yuan_bentler_trace`); ``trace`` is not used when ``df = 0``.
    n : int
        Number of cases.
    ngroups : int
    """
    chisq, df, G = fm["chisq"], fm["df"], ngroups
    if df < 0:
        return {}
    tr_b = baseline_trace
    chisq_b, df_b = fm["baseline.chisq"], fm["baseline.df"]
    if df == 0:
        out = scaled_fit_measures(chisq, 0.0, np.nan, chisq_b, df_b, tr_b, n, G)
        out.update(robust_fit_measures(chisq, 0.0, np.nan, chisq_b, df_b, tr_b / df_b, n, G))
        return out
    tr = trace
    out = scaled_fit_measures(chisq, df, tr, chisq_b, df_b, tr_b, n, G)
    out.update(robust_fit_measures(chisq, df, tr / df, chisq_b, df_b, tr_b / df_b, n, G))
    return out
