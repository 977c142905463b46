"""MLM, MLMV and MLMVS: ML estimates with Satorra-Bentler type inference.

lavaan's ``estimator = "MLM"`` (and ``"MLMV"``, ``"MLMVS"``) keeps the ML
estimates and replaces the normal-theory inference by one that holds under
non-normality, for complete data (Satorra & Bentler, 1994, "Corrections to
test statistics and standard errors in covariance structure analysis", in von
Eye & Clogg (eds.), *Latent Variables Analysis*, 399-419):

* ``se = "robust.sem"``: the sandwich
  :math:`N^{-1} E^{-1} \\Delta^\\top V \\Gamma V \\Delta E^{-1}`, with
  :math:`V` the normal-theory (expected) information of the saturated model
  at the model-implied moments (lavaan's ``h1.information = "structured"``),
  :math:`E = \\Delta^\\top V \\Delta` the expected information of the model
  and :math:`\\Gamma` the asymptotic covariance matrix of the sample moments
  estimated from the fourth-order moments of the data (lavaan's NACOV,
  ``lavInspect(fit, "gamma")``, divisor N);
* the test statistic, from the eigenvalues of :math:`U\\Gamma`,
  :math:`U = V - V\\Delta E^{-1}\\Delta^\\top V`: MLM the Satorra-Bentler
  mean-scaled statistic (``test = "satorra.bentler"``), MLMV the
  scaled-and-shifted one (``"scaled.shifted"``; Asparouhov & Muthén, 2010) and
  MLMVS the Satterthwaite mean-and-variance adjusted one
  (``"mean.var.adjusted"``), computed by the functions of
  :mod:`ckm_research.sem.ordinal` shared with the WLS family;
* the ``*.scaled`` and ``*.robust`` fit measures as lavaan's
  ``lav_fit_cfi_lavobject`` and ``lav_fit_rmsea_lavobject``: robust CFI, TLI,
  RNI and RMSEA (Brosseau-Liard, Savalei & Li, 2012; Brosseau-Liard &
  Savalei, 2014) with :math:`\\hat c = \\operatorname{tr}(U\\Gamma)/df`, for
  the satorra.bentler and scaled.shifted tests only (lavaan reports none for
  mean.var.adjusted).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import block_diag

from ckm_research.errors import IdentificationError
from ckm_research.sem import fit_measures as fmx
from ckm_research.sem import ordinal as ordm
from ckm_research.sem.estimators import estimator_spec
from ckm_research.sem.ml import independence_engine
from ckm_research.sem.model import vech_indices
from ckm_research.sem.robust import (
    h1_information_expected,
    robust_fit_measures,
)

__all__ = ["nacov_continuous", "robust_sem_vcov", "mlm_fit_measures"]


def nacov_continuous(
    x: np.ndarray, meanstructure: bool, x_idx: list[int] | None = None
) -> np.ndarray:
    """Asymptotic covariance matrix :math:`\\Gamma` of the sample moments of
    complete continuous data (Browne, 1984, eq. 2.2; lavaan's
    ``lav_samplestats_Gamma``, divisor N).

    Rows and columns follow lavaan's order: the means (with a mean structure),
    then :math:`\\operatorname{vech}(S)` (lower triangle, column by column).
    With fixed covariates (``x_idx``, lavaan's ``fixed.x = TRUE``) the
    variability the covariates bring is removed as lavaan does: each case's
    moment contributions minus those of its fitted values
    :math:`\\hat y_i` from the regression of the other variables on
    :math:`(1, x_i)`.

    Parameters
    ----------
    x : numpy.ndarray
        (n, p) complete data.
    meanstructure : bool
        Include the means.
    x_idx : list of int, optional
        Columns of the fixed covariates.

    Returns
    -------
    numpy.ndarray
    """
    x = np.asarray(x, dtype=float)
    n, p = x.shape
    ri, ci = vech_indices(p)
    xc = x - x.mean(axis=0)
    z = xc[:, ri] * xc[:, ci]
    first = x
    if x_idx:
        y_idx = [j for j in range(p) if j not in set(x_idx)]
        X = np.column_stack([np.ones(n), x[:, x_idx]])
        coef, *_ = np.linalg.lstsq(X, x[:, y_idx], rcond=None)
        yhat = x.copy()
        yhat[:, y_idx] = X @ coef
        hc = yhat - yhat.mean(axis=0)
        z = z - hc[:, ri] * hc[:, ci]
        first = x - yhat
    z = z - z.mean(axis=0)
    if meanstructure:
        z = np.hstack([first - first.mean(axis=0), z])
    return z.T @ z / n


def _pieces(engine):
    """Per group: the model Jacobian, the saturated information V at the
    implied moments and Gamma, without the fixed-x moments."""
    ms = engine.opts.meanstructure
    keep = engine.non_exo_mask()
    out = []
    for g, gd in enumerate(engine.groups):
        sigma, _ = engine.model.implied(engine.theta, g)
        D = engine.model.jacobian(engine.theta, g, meanstructure=ms)[keep]
        V = h1_information_expected(sigma, ms)[np.ix_(keep, keep)]
        x_idx = engine.exo_index() if engine.n_exo() else None
        gamma = nacov_continuous(gd.data, ms, x_idx)[np.ix_(keep, keep)]
        out.append((D, V, gamma, gd.data.shape[0] / engine.ntotal))
    return out


def robust_sem_vcov(engine) -> np.ndarray:
    """lavaan's ``se = "robust.sem"`` for ML: :math:`N^{-1} E^{-1} B E^{-1}` with
    :math:`E = \\sum_g f_g \\Delta_g^\\top V_g \\Delta_g` and
    :math:`B = \\sum_g f_g \\Delta_g^\\top V_g \\Gamma_g V_g \\Delta_g`,
    :math:`f_g = N_g/N` (Satorra & Bentler, 1994; lavaan's
    ``lav_model_nvcov_robust_sem``)."""
    E = 0.0
    B = 0.0
    for D, V, gamma, f in _pieces(engine):
        VD = V @ D
        E = E + f * D.T @ VD
        B = B + f * VD.T @ gamma @ VD
    try:
        Einv = np.linalg.inv(E)
    except np.linalg.LinAlgError:
        raise IdentificationError(
            "the information matrix is singular at the solution: the model is not identified"
        ) from None
    v = Einv @ B @ Einv / engine.ntotal
    return 0.5 * (v + v.T)


def _ugamma_inputs(engine):
    """Stacked Delta, block-diagonal weight (f_g V_g) and Gamma (Gamma_g / f_g), so
    that U Gamma summed over the groups is the one-group formula (lavaan's
    ``lav_test_satorra_bentler_trace_original``)."""
    pieces = _pieces(engine)
    D = np.vstack([p[0] for p in pieces])
    W = block_diag(*[p[3] * p[1] for p in pieces])
    G = block_diag(*[p[2] / p[3] for p in pieces])
    return D, W, G


def _test(kind: str, chisq: float, df: float, engine) -> ordm.ScaledTest:
    fn = {
        "satorra.bentler": ordm.satorra_bentler_test,
        "scaled.shifted": ordm.scaled_shifted_test,
        "mean.var.adjusted": ordm.mean_var_adjusted_test,
    }[kind]
    D, W, G = _ugamma_inputs(engine)
    return fn(float(chisq), int(round(df)), D, W, G)


def scaled_and_robust_measures(
    test: ordm.ScaledTest, test_b: ordm.ScaledTest, chisq, df, chisq_b, df_b, n, ngroups=1
) -> dict[str, float]:
    """The ``*.scaled`` and ``*.robust`` fit measures of a Satorra-Bentler type
    test of the model (``test``) and of the baseline model (``test_b``), as
    lavaan 0.6.14's ``lav_fit_cfi_lavobject`` / ``lav_fit_rmsea_lavobject``:
    incremental indices from the scaled statistics and their df; the scaled
    RMSEA from the scaled statistic on df (scaled.shifted) or from the
    unscaled one on :math:`\\operatorname{tr}(U\\Gamma)` df (otherwise); robust
    indices with :math:`\\hat c = \\operatorname{tr}(U\\Gamma)/df` except for
    mean.var.adjusted."""
    G = ngroups
    x2, d2 = test.stat, test.df
    x2b, d2b = test_b.stat, test_b.df
    out = {
        "chisq.scaled": x2,
        "df.scaled": d2,
        "pvalue.scaled": test.pvalue,
        "chisq.scaling.factor": test.scaling_factor,
        "baseline.chisq.scaled": x2b,
        "baseline.df.scaled": d2b,
        "baseline.pvalue.scaled": test_b.pvalue,
        "baseline.chisq.scaling.factor": test_b.scaling_factor,
        "cfi.scaled": fmx.cfi(x2, d2, x2b, d2b),
        "tli.scaled": fmx.tli(x2, d2, x2b, d2b),
    }
    out["nnfi.scaled"] = out["tli.scaled"]
    for k, v in fmx.incremental_indices(x2, d2, x2b, d2b).items():
        out[k + ".scaled"] = v
    if test.test == "scaled.shifted":
        xr, dr = x2, df
    else:
        xr, dr = chisq, test.trace_ugamma
    out["rmsea.scaled"] = fmx.rmsea(xr, dr, n, G)
    lo, hi = fmx.rmsea_ci(xr, dr, n, 0.90, G)
    out["rmsea.ci.lower.scaled"], out["rmsea.ci.upper.scaled"] = lo, hi
    out["rmsea.pvalue.scaled"] = fmx.rmsea_pvalue(xr, dr, n, 0.05, G)
    out["rmsea.notclose.pvalue.scaled"] = fmx.rmsea_pvalue(xr, dr, n, 0.08, G, notclose=True)
    if test.test == "mean.var.adjusted":
        return out
    c3, c3_b = test.trace_ugamma / df, test_b.trace_ugamma / df_b
    rob = robust_fit_measures(chisq, df, c3, chisq_b, df_b, c3_b, n, G)
    one = [np.isclose(c, 1.0, rtol=0, atol=1e-10) for c in (c3, c3_b)]
    if test.test == "satorra.bentler" and any(one):
        # lavaan's lav_fit_cfi/tli/rni use the scaling factors only when neither is 1;
        # the DWLS baseline's satorra.bentler factor is exactly 1 (tr(U Gamma) = df with
        # W = diag(Gamma)^-1); for scaled.shifted lavaan's a (df - b) / df is 1 only up
        # to rounding, so it keeps the robust formula there
        rob["cfi.robust"] = fmx.cfi(chisq, df, chisq_b, df_b)
        rob["tli.robust"] = rob["nnfi.robust"] = fmx.tli(chisq, df, chisq_b, df_b)
        rob["rni.robust"] = fmx.incremental_indices(chisq, df, chisq_b, df_b)["rni"]
    if test.test == "scaled.shifted":
        # lavaan 0.6.14 takes the robust RMSEA's interval and tests from the reported
        # statistic a T + b with c-hat = 1/a (not tr(U Gamma)/df as the RMSEA itself)
        c = test.scaling_factor
        lo, hi = fmx.rmsea_ci(x2, df, n, 0.90, G, c_hat=c)
        rob["rmsea.ci.lower.robust"], rob["rmsea.ci.upper.robust"] = lo, hi
        rob["rmsea.pvalue.robust"] = fmx.rmsea_pvalue(x2, df, n, 0.05, G, c_hat=c)
        rob["rmsea.notclose.pvalue.robust"] = fmx.rmsea_pvalue(
            x2, df, n, 0.08, G, c_hat=c, notclose=True
        )
    out.update(rob)
    return out


def mlm_fit_measures(engine, fm: dict) -> dict[str, float]:
    """Scaled and robust fit measures of an MLM, MLMV or MLMVS fit."""
    df = fm["df"]
    if df <= 0:
        return {}
    kind = estimator_spec(engine.opts.estimator).test
    test = _test(kind, fm["chisq"], df, engine)
    test_b = _test(kind, fm["baseline.chisq"], fm["baseline.df"], independence_engine(engine))
    return scaled_and_robust_measures(
        test,
        test_b,
        fm["chisq"],
        df,
        fm["baseline.chisq"],
        fm["baseline.df"],
        engine.ntotal,
        len(engine.groups),
    )
