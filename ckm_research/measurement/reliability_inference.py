"""Confidence intervals for reliability: alpha (Feldt, bootstrap), omega and AVE
(delta method, bootstrap).

=====================================  ==========================================================
function                               intervals and their reference
=====================================  ==========================================================
:func:`alpha_intervals`                Feldt, Woodruff & Salih (1987), *Applied Psychological
                                       Measurement* 11(1), 93-103 (``psych::alpha.ci``);
                                       bootstrap percentile
:func:`reliability_intervals`          omega (composite reliability) and AVE: delta method
                                       (as lavaan's ``:=`` parameters) and bootstrap percentile
                                       (as measureQ; Cheung, Cooper-Thomas, Lau & Wang, 2024,
                                       *Asia Pacific Journal of Management* 41, 745-783)
=====================================  ==========================================================

The tests compare the delta-method intervals with lavaan (``omega := (l1+l2+l3)^2 /
((l1+l2+l3)^2 + t1+t2+t3)`` in a ``std.lv`` CFA) and Feldt's with ``psych::alpha.ci``
(``tests/reference/R/validity_inference.R``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from ckm_research.errors import CkmError
from ckm_research.measurement._common import (
    as_frame,
    blocks,
    check_columns,
    factor_indicators,
    multi_indicator_factors,
    require_result,
)
from ckm_research.measurement.reliability import cronbach_alpha

__all__ = ["alpha_intervals", "reliability_intervals"]


def _param_error(fn: str, name: str, allowed: str, got) -> CkmError:
    return CkmError(f"The '{name}' parameter of {fn} must be {allowed}. Got {got!r} instead.")


def _check_common(fn, level, n_boot):
    if not (isinstance(level, float) and 0 < level < 1):
        raise _param_error(fn, "level", "a float in the range (0, 1)", level)
    if (
        isinstance(n_boot, bool)
        or not isinstance(n_boot, (int, np.integer))
        or n_boot < 0
        or (0 < n_boot < 2)
    ):
        raise _param_error(fn, "n_boot", "0 (no bootstrap) or an int in the range [2, inf)", n_boot)


def _alpha(c: np.ndarray) -> float:
    k = c.shape[0]
    total = c.sum()
    return float(k / (k - 1) * (1.0 - np.trace(c) / total)) if total > 0 else float("nan")


def alpha_intervals(
    data, model, *, level: float = 0.95, n_boot: int = 1000, random_state=None
) -> pd.DataFrame:
    """Cronbach's alpha of each factor with Feldt's and bootstrap intervals.

    Feldt's interval (Feldt, Woodruff & Salih, 1987) takes
    :math:`(1 - \\alpha)/(1 - \\hat\\alpha)` as F-distributed with :math:`N - 1` and
    :math:`(N - 1)(k - 1)` degrees of freedom:

    .. math::

        \\big[1 - (1 - \\hat\\alpha) F_{1-\\gamma/2},\\;
              1 - (1 - \\hat\\alpha) F_{\\gamma/2}\\big],

    exact for parallel items with normal errors (``psych::alpha.ci``). The
    bootstrap interval resamples the N cases complete on the factor's items and
    takes the percentile limits (interpolated as ``boot``/lavaan).

    Parameters
    ----------
    data : pandas.DataFrame or path
    model : str, pathlib.Path or SEMResults
        Which items belong to which factor.
    level : float
        Confidence level.
    n_boot : int
        Bootstrap resamples (0: Feldt's interval only).
    random_state : int or None

    Returns
    -------
    pandas.DataFrame
        ``factor n_items n alpha feldt.lower feldt.upper boot.se boot.lower boot.upper``;
        ``n`` are the complete cases, and Feldt's interval uses it.

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> from ckm_research.measurement import alpha_intervals
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> out = alpha_intervals(hs, model, n_boot=50, random_state=1)  # use n_boot >= 1000
    >>> out[["factor", "n", "alpha", "feldt.lower", "feldt.upper"]].round(3)
        factor    n  alpha  feldt.lower  feldt.upper
    0   visual  301  0.626        0.547        0.694
    1  textual  301  0.883        0.858        0.904
    2    speed  301  0.688        0.622        0.745

    In R: ``psych::alpha.ci(alpha, n.obs = n, n.var = k)``.
    """
    fn = "alpha_intervals"
    _check_common(fn, level, n_boot)
    frame = as_frame(data)
    items = factor_indicators(model)
    check_columns(frame, [i for v in items.values() for i in v])
    point = cronbach_alpha(frame, model).set_index("factor")
    rng = np.random.default_rng(random_state)
    g = 1 - level
    rows = []
    for factor, cols in items.items():
        a = float(point.at[factor, "alpha"])
        x = frame[cols].apply(pd.to_numeric, errors="coerce").dropna().to_numpy(dtype=float)
        n, k = x.shape
        row = dict(
            factor=factor,
            n_items=k,
            n=n,
            alpha=a,
            **{
                "feldt.lower": np.nan,
                "feldt.upper": np.nan,
                "boot.se": np.nan,
                "boot.lower": np.nan,
                "boot.upper": np.nan,
            },
        )
        if k >= 2 and n > 2 and np.isfinite(a):
            df1, df2 = n - 1, (n - 1) * (k - 1)
            row["feldt.lower"] = 1 - (1 - a) * stats.f.ppf(1 - g / 2, df1, df2)
            row["feldt.upper"] = 1 - (1 - a) * stats.f.ppf(g / 2, df1, df2)
            if n_boot:
                from ckm_research.inference.bootstrap import percentile_interval

                reps = np.empty(n_boot)
                for b in range(n_boot):
                    xb = x[rng.integers(0, n, n)]
                    reps[b] = _alpha(np.cov(xb, rowvar=False))
                reps = reps[np.isfinite(reps)]
                if len(reps) > 1:
                    row["boot.se"] = float(np.std(reps))
                    row["boot.lower"], row["boot.upper"] = percentile_interval(reps, level)
        rows.append(row)
    return pd.DataFrame(rows)


def _stats_from(model, theta, structure, sample_cov, obs_var):
    """omega and AVE of each factor from free parameters ``theta`` (one group).

    ``structure``: ``[(factor, item positions, factor position, cross-loading)]``.
    """
    A, S, _ = model.matrices(theta, 0)
    E = model.total_effects_inverse(A)
    C = E @ S @ E.T
    k = len(model.ov)
    lam = A[:k, k:]
    phi = C[k:, k:]
    total = sample_cov if obs_var else C[:k, :k]
    out = []
    for _f, idx, j, cross in structure:
        lj = lam[idx, j]
        omega = lj.sum() ** 2 * phi[j, j] / total[np.ix_(idx, idx)].sum()
        ave = np.nan if cross else (lj**2).sum() * phi[j, j] / np.trace(total[np.ix_(idx, idx)])
        out += [omega, ave]
    return np.array(out, dtype=float)


def reliability_intervals(
    result, *, level: float = 0.95, n_boot: int = 1000, random_state=None, obs_var: bool = False
) -> pd.DataFrame:
    """Omega (composite reliability) and AVE of each factor with confidence intervals.

    The statistics are those of
    :func:`~ckm_research.measurement.composite_reliability` and
    :func:`~ckm_research.measurement.average_variance_extracted`:

    .. math::

        \\omega_f = \\frac{(\\sum_i \\lambda_{if})^2 \\phi_{ff}}{\\mathbf 1^\\top
        \\Sigma_f \\mathbf 1}, \\qquad
        AVE_f = \\frac{\\phi_{ff} \\sum_i \\lambda_{if}^2}{\\operatorname{tr}\\Sigma_f},

    with :math:`\\Sigma_f` the model-implied covariance matrix of the items
    (``obs_var=False``, the default here: McDonald's omega and Fornell & Larcker's
    AVE as functions of the parameters, as measureQ computes them; with a
    simple structure and ``std.lv`` they are :math:`(\\sum\\lambda)^2 / ((\\sum
    \\lambda)^2 + \\sum\\theta)` and :math:`\\sum\\lambda^2/(\\sum\\lambda^2 +
    \\sum\\theta)`) or the sample one (``obs_var=True``, semTools' default).

    * **delta method** (only for ``obs_var=False``, where the statistic is a
      function of the parameters alone): :math:`SE = \\sqrt{g^\\top V g}` with
      :math:`g` the numerical gradient and :math:`V` the fit's covariance matrix
      of the estimates (robust for MLR), the interval :math:`\\hat\\omega \\pm
      z_{1-\\gamma/2} SE`, as lavaan's ``:=`` parameters;
    * **bootstrap percentile** (``n_boot`` > 0): each resample of the cases is
      refitted from its sample moments, warm-started at the estimates
      (:class:`ckm_research.inference.refit.MomentFitter`, the bootstrap's own
      refits), with the resample's covariance matrix in the denominator when
      ``obs_var=True``. Available for single-group ML/MLR fits of complete data.

    Parameters
    ----------
    result : SEMResults
        A fitted single-group CFA/SEM with continuous items.
    level : float
        Confidence level.
    n_boot : int
        Bootstrap resamples (0: delta method only).
    random_state : int or None
        Seed; resample ``b`` uses ``SeedSequence(random_state).spawn(n_boot)[b]``.
    obs_var : bool
        Sample (semTools' default) or model-implied (default here) total variances.

    Returns
    -------
    pandas.DataFrame
        ``factor statistic est se ci.lower ci.upper boot.se boot.lower boot.upper``,
        one row per factor and statistic (``omega``, ``ave``); ``attrs["n_boot_ok"]``
        counts the resamples that converged.

    Examples
    --------
    >>> import ckm_research
    >>> from ckm_research.data.examples import load_dataset
    >>> from ckm_research.measurement import reliability_intervals
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> out = reliability_intervals(ckm_research.fit(model, hs), n_boot=50, random_state=1)
    >>> out[["factor", "statistic", "est", "ci.lower", "ci.upper"]].round(3)
        factor statistic    est  ci.lower  ci.upper
    0   visual     omega  0.625     0.554     0.697
    1   visual       ave  0.371     0.300     0.441
    2  textual     omega  0.885     0.863     0.908
    3  textual       ave  0.721     0.676     0.766
    4    speed     omega  0.688     0.627     0.748
    5    speed       ave  0.424     0.356     0.493
    >>> out.attrs["n_boot_ok"]
    50

    In R: ``omega := (l1+l2+l3)^2 / ((l1+l2+l3)^2 + t1+t2+t3)`` in a ``std.lv`` CFA;
    ``parameterEstimates(fit)``.
    """
    from ckm_research.sem.estimators import is_ordinal_fit

    fn = "reliability_intervals"
    result = require_result(result, fn)
    _check_common(fn, level, n_boot)
    if result.ngroups > 1:
        raise CkmError(f"{fn} needs a single-group fit; fit each group separately")
    if is_ordinal_fit(result):
        raise CkmError(
            f"{fn}: intervals for the categorical omega of ordinal items are not implemented; "
            "composite_reliability gives its point estimate"
        )
    eng = result.engine
    model = eng.model
    b = blocks(result)[0]
    ov, lv = list(model.ov), list(model.lv)
    facs = multi_indicator_factors(b.lam)
    cross = (b.lam[facs].round(5) != 0).sum(axis=1) > 1
    structure = []
    for f in facs:
        items = [i for i in b.ov if b.lam.at[i, f] != 0]
        structure.append((f, [ov.index(i) for i in items], lv.index(f), bool(cross[items].any())))
    s_cov = b.sample_cov.to_numpy()
    theta = np.asarray(result.theta, dtype=float)
    est = _stats_from(model, theta, structure, s_cov, obs_var)

    z = stats.norm.ppf(0.5 + level / 2)
    se = np.full(est.shape, np.nan)
    vcov = result.vcov
    if not obs_var and vcov is not None and np.all(np.isfinite(vcov)):
        grad = np.empty((len(est), len(theta)))
        for p in range(len(theta)):
            h = 1e-6 * max(1.0, abs(theta[p]))
            up, down = theta.copy(), theta.copy()
            up[p] += h
            down[p] -= h
            grad[:, p] = (
                _stats_from(model, up, structure, s_cov, obs_var)
                - _stats_from(model, down, structure, s_cov, obs_var)
            ) / (2 * h)
        se = np.sqrt(np.einsum("ip,pq,iq->i", grad, np.asarray(vcov, dtype=float), grad))

    boot = np.full((len(est), 3), np.nan)
    n_ok = 0
    if n_boot:
        reps, n_ok = _bootstrap(result, structure, obs_var, n_boot, random_state)
        from ckm_research.inference.bootstrap import percentile_interval

        for i in range(len(est)):
            t = reps[:, i]
            t = t[np.isfinite(t)]
            if len(t) > 1:
                boot[i] = [np.std(t), *percentile_interval(t, level)]
    rows = []
    for i, (name, stat) in enumerate((f, s) for f, *_ in structure for s in ("omega", "ave")):
        rows.append(
            {
                "factor": name,
                "statistic": stat,
                "est": est[i],
                "se": se[i],
                "ci.lower": est[i] - z * se[i],
                "ci.upper": est[i] + z * se[i],
                "boot.se": boot[i, 0],
                "boot.lower": boot[i, 1],
                "boot.upper": boot[i, 2],
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["n_boot"] = int(n_boot)
    out.attrs["n_boot_ok"] = int(n_ok)
    out.attrs["obs_var"] = bool(obs_var)
    return out


def _bootstrap(result, structure, obs_var, n_boot, random_state):
    from ckm_research.inference.parallel import spawn_seeds
    from ckm_research.inference.refit import MomentFitter, weighted_moments
    from ckm_research.sem.ml import MLEngine

    eng = result.engine
    if type(eng) is not MLEngine:
        raise CkmError(
            "bootstrap intervals of omega and the AVE need an ML or MLR fit of complete data "
            f"(this one is {result.estimator}, {type(eng).__name__}); use n_boot=0 for the "
            "delta-method intervals"
        )
    fitter = MomentFitter(eng.pt, max_iter=eng.opts.iter_max)
    x = np.ascontiguousarray(eng.groups[0].data, dtype=float)
    n = len(x)
    _, seeds = spawn_seeds(random_state, int(n_boot))
    reps = np.full((n_boot, 2 * len(structure)), np.nan)
    ok = 0
    # small matrices: one BLAS thread is much faster than several competing ones
    with threadpool_limits(1):
        for b, seed in enumerate(seeds):
            rng = np.random.default_rng(seed)
            counts = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
            try:
                mom = weighted_moments(x, counts)
                theta, _, _ = fitter.fit([mom], eng.theta)
                reps[b] = _stats_from(fitter.model, theta, structure, np.asarray(mom.cov), obs_var)
                ok += 1
            except (CkmError, np.linalg.LinAlgError, ArithmeticError, ValueError):
                continue
    return reps, ok
