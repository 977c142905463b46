"""Moderated mediation: conditional indirect effects and the index of moderated
mediation of a latent interaction fit.

For a mediator :math:`M` between a predictor :math:`X` and an outcome
:math:`Y`, with a moderator :math:`W` acting on the first stage
(:math:`M = a X + a_3 XW + \\dots`) and/or the second stage
(:math:`Y = b M + b_3 MW + \\dots`), the *conditional indirect effect* of
:math:`X` on :math:`Y` through :math:`M` at :math:`W = w` is

.. math::

    \\omega(w) = (a + a_3 w)(b + b_3 w)

(Preacher, Rucker & Hayes, 2007, *Multivariate Behav. Res.* 42(1), 185-227,
eq. 19 and table 1; Edwards & Lambert, 2007).  With moderation of one stage
only, :math:`\\omega(w)` is linear in :math:`w` and its slope is the *index of
moderated mediation* (Hayes, 2015, *Multivariate Behav. Res.* 50(1), 1-22,
eq. 4 and 5): :math:`a\\,b_3` for second-stage moderation (the seed's model:
the turbulence moderators act on CKM's paths to the outcomes), :math:`a_3 b`
for first-stage moderation.  An index whose interval excludes 0 says that the
indirect effects at any two values of :math:`W` differ (Hayes, 2015, p. 4).

Inference, said in the ``method`` column of every table:

* ``"delta"``: first-order delta-method standard errors from the sampling
  covariance of :math:`(\\hat a, \\hat a_3, \\hat b, \\hat b_3)`, the gradient
  of :math:`\\omega(w)` being :math:`(b(w), w\\,b(w), a(w), w\\,a(w))` (as
  lavaan's ``:=`` rows; Sobel, 1982), Wald intervals.  Quick, but the
  sampling distribution of a product is skewed: prefer the bootstrap for the
  intervals (Preacher et al., 2007, p. 190).
* ``"bootstrap"``: the replicates of :math:`(a, a_3, b, b_3)` from
  :func:`ckm_research.inference.bootstrap.bootstrap` (every resample refitted,
  by FIML when the fit used ``missing="ml"``); the standard error is their
  SD (divisor B, as lavaan), the interval is percentile or BCa.

The moderator values are fixed numbers (as in PROCESS): by default the
model-implied mean of the latent moderator and that mean :math:`\\pm 1`
model-implied SD of the full-sample fit, in the moderator's latent metric;
other moderators of the same equations are held at 0, their model-implied
mean (latent variables are centred in both the product-indicator and the LMS
parameterisation).

The *Johnson-Neyman* region of the indirect effect is the set of moderator
values where its interval excludes 0 (Hayes, 2022, *Introduction to
Mediation, Moderation, and Conditional Process Analysis*, 3rd ed., section
12.4, and Montoya, 2019, for the indirect effect).  With delta-method
intervals its boundaries are the real roots of the polynomial
:math:`\\omega(w)^2 - c^2 \\operatorname{Var}\\hat\\omega(w)` (degree 2 with
one moderated stage, 4 with both); with bootstrap intervals they are found on
a grid of moderator values (``z_range`` model-implied SDs around the mean) by
linear interpolation between grid points.

In R (lavaan): label the paths and write ``ind_lo := a*(b + b3*(-1))``,
``imm := a*b3`` (the moderator values as numbers in its latent metric).
The same lines work in ckm-research's model syntax, with the product term
labelled as any path (``Y ~ b*M + b3*M:W``; by product indicators and LMS),
and give lavaan's delta-method ``:=`` rows; ``semTools::probe2WayMC`` probes
the first-order effect only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.polynomial import polynomial as P
from scipy import stats

from ckm_research.errors import CkmError
from ckm_research.moderation.simple_slopes import (
    _coef_and_vcov,
    _figure,
    _latent_moments,
    _moderator_values,
)

__all__ = [
    "ModeratedMediationPath",
    "IndirectJohnsonNeyman",
    "moderated_mediation_paths",
    "conditional_indirect",
    "index_of_moderated_mediation",
    "johnson_neyman_indirect",
    "moderated_mediation",
    "plot_conditional_indirect",
    "moderated_mediation_syntax",
]

SE_METHODS = ("delta", "bootstrap")
_COLS = ["est", "se", "z", "pvalue", "ci.lower", "ci.upper"]


def _param_error(fn: str, name: str, allowed: str, got) -> CkmError:
    return CkmError(f"The '{name}' parameter of {fn} must be {allowed}. Got {got!r} instead.")


# ----------------------------------------------------------------- the paths
@dataclass(frozen=True)
class ModeratedMediationPath:
    """One moderated indirect path ``x -> m -> y`` with moderator ``moderator``.

    Attributes
    ----------
    x, m, y, moderator : str
    rows : tuple of (int or None)
        Rows of ``results.estimates`` holding :math:`a` (``m ~ x``),
        :math:`a_3` (``m ~ x:moderator``), :math:`b` (``y ~ m``) and
        :math:`b_3` (``y ~ m:moderator``); ``None`` where the model has no such
        path (the coefficient is 0).
    stage : {'first', 'second', 'both'}
        Which stage the moderator acts on.
    """

    x: str
    m: str
    y: str
    moderator: str
    rows: tuple
    stage: str

    @property
    def name(self) -> str:
        return f"{self.x} -> {self.m} -> {self.y} | {self.moderator}"


def _path(results, x: str, m: str, y: str, moderator: str) -> ModeratedMediationPath:
    est = results.estimates
    if "group" in est.columns and est["group"].nunique() > 1:
        raise CkmError(
            "moderated mediation of multiple-group fits is not supported; fit each group"
        )
    names = [x, m, y, moderator]
    if len(set(names)) != 4:
        raise CkmError(
            f"the predictor, mediator, outcome and moderator must be four different variables "
            f"(got {x}, {m}, {y}, {moderator})"
        )
    reg = est[est["op"] == "~"]

    def row(lhs, rhs_options):
        hit = reg.index[(reg["lhs"] == lhs) & reg["rhs"].isin(rhs_options)]
        return int(hit[0]) if len(hit) else None

    a = row(m, [x])
    a3 = row(m, [f"{x}:{moderator}", f"{moderator}:{x}"])
    b = row(y, [m])
    b3 = row(y, [f"{m}:{moderator}", f"{moderator}:{m}"])
    if a is None and a3 is None:
        raise CkmError(f"the fit has no path {m} ~ {x}: {m} does not mediate an effect of {x}")
    if b is None and b3 is None:
        raise CkmError(f"the fit has no path {y} ~ {m}: {m} does not mediate an effect on {y}")
    if a3 is None and b3 is None:
        terms = ", ".join(f"{r.lhs} ~ {r.rhs}" for r in reg.itertuples() if ":" in r.rhs)
        raise CkmError(
            f"{moderator} moderates neither stage of {x} -> {m} -> {y}: the fit has no product "
            f"term {m}:{moderator} in the equation of {y} nor {x}:{moderator} in that of {m} "
            f"(product terms: {terms or 'none'})"
        )
    if a3 is not None and b3 is not None:
        stage = "both"
    else:
        stage = "first" if a3 is not None else "second"
    return ModeratedMediationPath(x, m, y, moderator, (a, a3, b, b3), stage)


def moderated_mediation_paths(results) -> list[ModeratedMediationPath]:
    """Every second-stage moderated indirect path of a fit.

    For each product term ``Y ~ M:W`` whose member ``M`` is regressed on a
    variable ``X`` (``M ~ X``), the path ``X -> M -> Y`` moderated by ``W``
    (the seed's model: ``INS ~ CKM + CTU + CKM:CTU`` with ``CKM ~ CIP + ...``
    gives one path per condition and moderator).  First-stage moderation
    (``M ~ X:W``) is ambiguous about which member is focal: give such paths
    explicitly to :func:`conditional_indirect`.

    Returns
    -------
    list of ModeratedMediationPath
    """
    est = results.estimates
    reg = est[est["op"] == "~"]
    out, seen = [], set()
    for r in reg[reg["rhs"].str.contains(":", regex=False)].itertuples():
        left, right = r.rhs.split(":")
        for med, mod in ((left, right), (right, left)):
            preds = reg.loc[(reg["lhs"] == med) & ~reg["rhs"].str.contains(":", regex=False), "rhs"]
            for x in preds:
                key = (x, med, r.lhs, mod)
                if x in (mod, r.lhs) or key in seen:
                    continue
                seen.add(key)
                out.append(_path(results, *key))
    return out


# ------------------------------------------------------------ the arithmetic
def _gradient(theta: np.ndarray, w: np.ndarray) -> np.ndarray:
    """d omega(w) / d(a, a3, b, b3), one row per w."""
    a, a3, b, b3 = theta
    aw, bw = a + a3 * w, b + b3 * w
    return np.column_stack([bw, w * bw, aw, w * aw])


def _omega(theta, w):
    """omega(w) for theta of shape (4,) or (B, 4) -> (len(w),) or (B, len(w))."""
    th = np.atleast_2d(theta)
    w = np.asarray(w, dtype=float)
    out = (th[:, [0]] + th[:, [1]] * w) * (th[:, [2]] + th[:, [3]] * w)
    return out[0] if np.ndim(theta) == 1 else out


def _delta(theta, V, w):
    G = _gradient(theta, w)
    return np.sqrt(np.clip(np.einsum("ij,jk,ik->i", G, V, G), 0, None))


def _index_parts(path: ModeratedMediationPath):
    """The index of moderated mediation as (value fn, gradient fn, formula)."""
    if path.stage == "both":
        raise CkmError(
            f"{path.moderator} moderates both stages of {path.x} -> {path.m} -> {path.y}: the "
            "indirect effect is quadratic in the moderator and has no single index of "
            "moderated mediation (Hayes, 2015, p. 13); compare conditional indirect effects "
            "instead"
        )
    if path.stage == "second":
        return (lambda t: t[..., 0] * t[..., 3]), (lambda t: np.array([t[3], 0, 0, t[0]])), "a*b3"
    return (lambda t: t[..., 1] * t[..., 2]), (lambda t: np.array([0, t[2], t[1], 0])), "a3*b"


# --------------------------------------------------------------- bootstrap
def _key(est, i):
    r = est.loc[i]
    return (str(r["lhs"]), str(r["op"]), str(r["rhs"]))


def _boot_columns(results, boot, rows) -> tuple[np.ndarray, np.ndarray | None]:
    """Replicates (B_ok, 4) and jackknife values (N, 4) of the four coefficients."""
    est, bt = results.estimates, boot.estimates
    keys = {(str(a), str(o), str(c)): j for j, (a, o, c) in
            enumerate(bt[["lhs", "op", "rhs"]].itertuples(index=False))}  # fmt: skip
    cols = []
    for r in rows:
        if r is None:
            cols.append(None)
            continue
        k = _key(est, r)
        if k not in keys:
            raise CkmError(
                f"the bootstrap result has no row '{' '.join(k)}': it was run on another model"
            )
        cols.append(keys[k])
    ok = boot.status == 0
    reps = boot.replicates[ok]
    R = np.column_stack([np.zeros(len(reps)) if c is None else reps[:, c] for c in cols])
    J = None
    if boot.jackknife is not None:
        jk = boot.jackknife
        J = np.column_stack([np.zeros(len(jk)) if c is None else jk[:, c] for c in cols])
    return R, J


def _run_bootstrap(results, data, fn, n_boot, ci, random_state, n_jobs, level):
    from ckm_research.inference.bootstrap import bootstrap

    if data is None:
        raise CkmError(
            f"se='bootstrap' in {fn} needs the data the model was fitted to (data=...) or a "
            "bootstrap result of the fit (boot=bootstrap(model, data, result=res, ...))"
        )
    if results.options is None or results.model_text is None:
        raise CkmError(f"{fn}: these results carry no model or options to refit; refit them")
    kwargs = results.options.to_kwargs()
    kwargs.pop("level", None)
    return bootstrap(
        results.model_text, data, n_boot=n_boot, ci=ci, random_state=random_state,
        n_jobs=n_jobs, level=level, result=results, progress=False, **kwargs,
    )  # fmt: skip


def _boot_stats(t: np.ndarray, jack, est: float, level: float, ci: str):
    """se, interval of one quantity from its replicates (and jackknife values)."""
    from ckm_research.inference.bootstrap import (
        bca_interval,
        jackknife_acceleration,
        percentile_interval,
    )

    t = t[np.isfinite(t)]
    if len(t) < 2:
        return np.nan, np.nan, np.nan
    se = float(np.sqrt(np.mean((t - t.mean()) ** 2)))
    if ci == "bca":
        if jack is None:
            raise CkmError(
                "BCa intervals need the bootstrap's jackknife: run bootstrap(..., bca=True)"
            )
        lo, hi = bca_interval(t, est, jackknife_acceleration(jack), level)
    else:
        lo, hi = percentile_interval(t, level)
    return se, lo, hi


def _inference(fn, se, boot, data, n_boot, ci, random_state, n_jobs, level, results):
    if se not in SE_METHODS:
        raise _param_error(fn, "se", "one of 'delta', 'bootstrap'", se)
    if not (isinstance(level, float) and 0 < level < 1):
        raise _param_error(fn, "level", "a float in the range (0, 1)", level)
    if ci not in ("perc", "bca"):
        raise _param_error(fn, "ci", "one of 'perc', 'bca'", ci)
    if se == "bootstrap" and boot is None:
        boot = _run_bootstrap(results, data, fn, n_boot, ci, random_state, n_jobs, level)
    return boot


def _method_text(se, boot, ci) -> str:
    if se == "delta":
        return "delta"
    c = boot.counts()
    kind = {"perc": "percentile", "bca": "BCa"}[ci]
    return f"bootstrap {kind} ({c['converged']}/{c['requested']} resamples)"


# --------------------------------------------------------------- the tables
def conditional_indirect(
    results,
    x: str,
    m: str,
    y: str,
    moderator: str,
    *,
    at=None,
    level: float = 0.95,
    se: str = "delta",
    boot=None,
    data=None,
    n_boot: int = 1000,
    ci: str = "perc",
    random_state=None,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Conditional indirect effects of ``x`` on ``y`` through ``m`` at values
    of ``moderator``.

    Parameters
    ----------
    results : SEMResults
        A latent interaction fit (``interaction="dblcent"`` or ``"lms"``) with
        ``m ~ x`` and a product term of ``moderator`` on either stage
        (``y ~ m:moderator``, ``m ~ x:moderator``).
    x, m, y, moderator : str
        Predictor, mediator, outcome and moderator.
    at : sequence of float, optional
        Moderator values in its latent metric; default: model-implied mean
        and mean +/- 1 SD.
    level : float
        Confidence level.
    se : {'delta', 'bootstrap'}
        Delta-method SEs and Wald intervals (quick), or bootstrap SEs and
        percentile/BCa intervals (see the module docstring).
    boot : BootstrapResult, optional
        A bootstrap of this fit (:func:`ckm_research.inference.bootstrap`);
        with ``se='bootstrap'`` and no ``boot``, one is run on ``data``.
    data : pandas.DataFrame, optional
        The data of the fit (for ``se='bootstrap'`` without ``boot``).
    n_boot, ci, random_state, n_jobs
        Options of the bootstrap run here (``ci``: ``'perc'`` or ``'bca'``).

    Returns
    -------
    pandas.DataFrame
        ``x m y moderator label moderator_value est se z pvalue ci.lower
        ci.upper method``, one row per moderator value.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from ckm_research import fit
    >>> rng = np.random.default_rng(1)  # X -> M -> Y, W moderating M -> Y
    >>> X, W, e_m, e_y = rng.standard_normal((4, 300))
    >>> M = 0.5 * X + 0.8 * e_m
    >>> Y = 0.4 * M + 0.2 * W + 0.3 * M * W + 0.8 * e_y
    >>> df = pd.DataFrame({f"{v.lower()}{i}": 0.8 * f + 0.6 * rng.standard_normal(300)
    ...                    for v, f in zip("XMWY", (X, M, W, Y)) for i in (1, 2, 3)})
    >>> model = ("X =~ x1 + x2 + x3\\nM =~ m1 + m2 + m3\\nW =~ w1 + w2 + w3\\n"
    ...          "Y =~ y1 + y2 + y3\\nM ~ X\\nY ~ X + M + W + M:W")
    >>> res = fit(model, df, interaction="dblcent")
    >>> tab = conditional_indirect(res, "X", "M", "Y", "W")
    >>> tab[["label", "moderator_value", "est", "se", "ci.lower", "ci.upper"]].round(3)
       label  moderator_value    est     se  ci.lower  ci.upper
    0  -1 SD           -0.803  0.048  0.048    -0.046     0.142
    1   Mean            0.000  0.196  0.047     0.103     0.289
    2  +1 SD            0.803  0.345  0.080     0.188     0.501
    >>> boot = conditional_indirect(res, "X", "M", "Y", "W", se="bootstrap", data=df,
    ...                             n_boot=20, random_state=1, n_jobs=1)
    >>> boot[["label", "est", "se", "ci.lower", "ci.upper"]].round(3)
       label    est     se  ci.lower  ci.upper
    0  -1 SD  0.048  0.050    -0.045     0.181
    1   Mean  0.196  0.060     0.129     0.361
    2  +1 SD  0.345  0.099     0.227     0.636
    >>> boot["method"].iloc[0]
    'bootstrap percentile (20/20 resamples)'

    (20 resamples only to keep the example quick: use 2000 or more.)

    In R (lavaan): ``ind_lo := a*(b + b3*(-1))`` etc. with labelled paths
    (delta method), or ``se = "bootstrap"`` and
    ``parameterEstimates(fit, boot.ci.type = "perc")``.
    """
    fn = "conditional_indirect"
    boot = _inference(fn, se, boot, data, n_boot, ci, random_state, n_jobs, level, results)
    path = _path(results, x, m, y, moderator)
    theta, V = _coef_and_vcov(results, list(path.rows))
    if at is not None:
        try:
            ok = np.all(np.isfinite(np.asarray(at, dtype=float)))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise _param_error(fn, "at", "a number or a sequence of finite numbers", at)
    ws, labels, _, _ = _moderator_values(results, moderator, at)
    est = _omega(theta, ws)
    q = stats.norm.ppf(0.5 + level / 2)
    if se == "delta":
        s = _delta(theta, V, ws)
        lo, hi = est - q * s, est + q * s
    else:
        R, J = _boot_columns(results, boot, path.rows)
        reps, jack = _omega(R, ws), None if J is None else _omega(J, ws)
        out = [_boot_stats(reps[:, k], None if jack is None else jack[:, k], est[k], level, ci)
               for k in range(len(ws))]  # fmt: skip
        s, lo, hi = (np.array(v, dtype=float) for v in zip(*out, strict=True))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = est / s
    return pd.DataFrame({
        "x": x, "m": m, "y": y, "moderator": moderator, "label": labels,
        "moderator_value": ws, "est": est, "se": s, "z": z,
        "pvalue": 2 * stats.norm.sf(np.abs(z)), "ci.lower": lo, "ci.upper": hi,
        "method": _method_text(se, boot, ci),
    })  # fmt: skip


def index_of_moderated_mediation(
    results,
    x: str,
    m: str,
    y: str,
    moderator: str,
    *,
    level: float = 0.95,
    se: str = "delta",
    boot=None,
    data=None,
    n_boot: int = 1000,
    ci: str = "perc",
    random_state=None,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Hayes' (2015) index of moderated mediation of ``x -> m -> y`` by ``moderator``.

    :math:`a\\,b_3` for second-stage moderation (``y ~ b*m + b3*m:moderator``),
    :math:`a_3 b` for first-stage moderation (``m ~ a*x + a3*x:moderator``):
    the change of the indirect effect per unit of the moderator (in its
    latent metric; multiply by its SD for the change per SD).

    Parameters
    ----------
    As :func:`conditional_indirect` (without ``at``).

    Returns
    -------
    pandas.DataFrame
        One row: ``x m y moderator stage formula est se z pvalue ci.lower
        ci.upper moderator_sd method``.

    Raises
    ------
    CkmError
        If the moderator acts on both stages (no single index exists).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from ckm_research import fit
    >>> rng = np.random.default_rng(1)  # X -> M -> Y, W moderating M -> Y
    >>> X, W, e_m, e_y = rng.standard_normal((4, 300))
    >>> M = 0.5 * X + 0.8 * e_m
    >>> Y = 0.4 * M + 0.2 * W + 0.3 * M * W + 0.8 * e_y
    >>> df = pd.DataFrame({f"{v.lower()}{i}": 0.8 * f + 0.6 * rng.standard_normal(300)
    ...                    for v, f in zip("XMWY", (X, M, W, Y)) for i in (1, 2, 3)})
    >>> model = ("X =~ x1 + x2 + x3\\nM =~ m1 + m2 + m3\\nW =~ w1 + w2 + w3\\n"
    ...          "Y =~ y1 + y2 + y3\\nM ~ X\\nY ~ X + M + W + M:W")
    >>> res = fit(model, df, interaction="dblcent")
    >>> imm = index_of_moderated_mediation(res, "X", "M", "Y", "W")
    >>> imm[["stage", "formula", "est", "se", "pvalue", "moderator_sd"]].round(3)
        stage formula    est     se  pvalue  moderator_sd
    0  second    a*b3  0.185  0.057   0.001         0.803

    In R (lavaan): ``imm := a*b3`` with ``M ~ a*X`` and ``Y ~ b*M + b3*M:W``
    (product indicators) or PROCESS model 14's "Index of moderated mediation".
    """
    fn = "index_of_moderated_mediation"
    boot = _inference(fn, se, boot, data, n_boot, ci, random_state, n_jobs, level, results)
    path = _path(results, x, m, y, moderator)
    value, grad, formula = _index_parts(path)
    theta, V = _coef_and_vcov(results, list(path.rows))
    est = float(value(theta))
    q = stats.norm.ppf(0.5 + level / 2)
    if se == "delta":
        g = grad(theta)
        s = float(np.sqrt(max(g @ V @ g, 0.0)))
        lo, hi = est - q * s, est + q * s
    else:
        R, J = _boot_columns(results, boot, path.rows)
        s, lo, hi = _boot_stats(value(R), None if J is None else value(J), est, level, ci)
    z = est / s if s > 0 else np.nan
    _, sd = _latent_moments(results, moderator)
    return pd.DataFrame([{
        "x": x, "m": m, "y": y, "moderator": moderator, "stage": path.stage,
        "formula": formula, "est": est, "se": s, "z": z,
        "pvalue": float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else np.nan,
        "ci.lower": lo, "ci.upper": hi, "moderator_sd": sd,
        "method": _method_text(se, boot, ci),
    }])  # fmt: skip


# ---------------------------------------------------------- Johnson-Neyman
@dataclass
class IndirectJohnsonNeyman:
    """Where the conditional indirect effect's interval excludes 0.

    Attributes
    ----------
    regions : tuple of (float, float)
        Moderator intervals (latent metric) where the indirect effect is
        significant; ``-inf``/``inf`` for unbounded ones (delta method); with
        the bootstrap they are clipped to ``search_range``.
    bounds : tuple of float
        The finite region boundaries, sorted.
    mean, sd : float
        Model-implied mean and SD of the moderator.
    level : float
    method : str
        ``"delta"`` (exact roots) or the bootstrap's description (grid).
    search_range : tuple of float
        The moderator range examined (the whole line for the delta method).
    """

    regions: tuple
    bounds: tuple
    mean: float
    sd: float
    level: float
    method: str
    search_range: tuple

    def is_significant(self, w) -> np.ndarray:
        """Whether the indirect effect is significant at moderator value(s) ``w``."""
        w = np.asarray(w, dtype=float)
        out = np.zeros(w.shape, dtype=bool)
        for lo, hi in self.regions:
            out |= (w >= lo) & (w <= hi)
        return out

    def describe(self, within_sd: float = 3.0) -> str:
        """One sentence for a report, about the moderator values within
        ``within_sd`` model-implied SDs of its mean (boundaries far outside the
        data's range are mathematically right and substantively empty)."""
        pct = f"{100 * self.level:g}%"
        lo_r = max(self.search_range[0], self.mean - within_sd * self.sd)
        hi_r = min(self.search_range[1], self.mean + within_sd * self.sd)
        shown = [(max(a, lo_r), min(b, hi_r)) for a, b in self.regions if b > lo_r and a < hi_r]
        where = f"moderator value within {within_sd:g} SD of its mean"
        if not shown:
            return f"The conditional indirect effect's {pct} interval includes 0 at every {where}."
        if len(shown) == 1 and shown[0] == (lo_r, hi_r):
            return f"The conditional indirect effect's {pct} interval excludes 0 at every {where}."

        def v(x):
            if x in (lo_r, hi_r):
                return f"{(x - self.mean) / self.sd:+g} SD"
            return f"{x:.3f} ({(x - self.mean) / self.sd:+.2f} SD)"

        parts = ", ".join(f"[{v(a)}, {v(b)}]" for a, b in shown)
        return (f"The conditional indirect effect's {pct} interval ({self.method}) excludes 0 "
                f"for moderator values in {parts} (examined within {within_sd:g} SD of the "
                "mean).")  # fmt: skip


def _regions_from_roots(theta, V, c2):
    """Exact delta-method regions: sign of omega^2 - c^2 Var(omega) between its roots."""
    a, a3, b, b3 = theta
    omega = np.array([a * b, a * b3 + a3 * b, a3 * b3])
    g = [np.array([b, 0, a, 0]), np.array([b3, b, a3, a]), np.array([0, b3, 0, a3])]
    var = np.zeros(5)
    for i in range(3):
        for j in range(3):
            var[i + j] += g[i] @ V @ g[j]
    poly = P.polysub(P.polymul(omega, omega), c2 * var)
    scale = np.max(np.abs(poly)) or 1.0
    poly = np.where(np.abs(poly) < 1e-14 * scale, 0.0, poly)
    poly = P.polytrim(poly)
    roots = P.polyroots(poly) if len(poly) > 1 else np.array([])
    real = np.sort(roots[np.abs(roots.imag) <= 1e-9 * np.maximum(1, np.abs(roots.real))].real)
    real = np.unique(np.round(real, 12))
    edges = np.concatenate([[-np.inf], real, [np.inf]])
    regions = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if np.isinf(lo) and np.isinf(hi):
            mid = 0.0
        elif np.isinf(lo):
            mid = hi - 1.0 - abs(hi)
        elif np.isinf(hi):
            mid = lo + 1.0 + abs(lo)
        else:
            mid = 0.5 * (lo + hi)
        if P.polyval(mid, poly) > 0:
            if regions and regions[-1][1] == lo:  # a double root: join
                regions[-1] = (regions[-1][0], float(hi))
            else:
                regions.append((float(lo), float(hi)))
    return tuple(regions)


def _regions_from_grid(ws, lo, hi):
    """Regions where [lo, hi] excludes 0, boundaries by linear interpolation."""
    d = np.maximum(lo, -hi)  # > 0 exactly where the interval excludes 0
    sig = d > 0
    regions, start = [], None
    for k in range(len(ws)):
        if sig[k] and start is None:
            if k == 0:
                start = ws[0]
            else:
                start = ws[k - 1] + (ws[k] - ws[k - 1]) * (-d[k - 1]) / (d[k] - d[k - 1])
        if not sig[k] and start is not None:
            end = ws[k - 1] + (ws[k] - ws[k - 1]) * d[k - 1] / (d[k - 1] - d[k])
            regions.append((float(start), float(end)))
            start = None
    if start is not None:
        regions.append((float(start), float(ws[-1])))
    return tuple(regions)


def _band(results, path, se, boot, level, ci, ws):
    theta, V = _coef_and_vcov(results, list(path.rows))
    est = _omega(theta, ws)
    if se == "delta":
        q = stats.norm.ppf(0.5 + level / 2)
        s = _delta(theta, V, ws)
        return theta, V, est, est - q * s, est + q * s
    R, J = _boot_columns(results, boot, path.rows)
    reps, jack = _omega(R, ws), None if J is None else _omega(J, ws)
    out = [_boot_stats(reps[:, k], None if jack is None else jack[:, k], est[k], level, ci)
           for k in range(len(ws))]  # fmt: skip
    _, lo, hi = (np.array(v, dtype=float) for v in zip(*out, strict=True))
    return theta, V, est, lo, hi


def johnson_neyman_indirect(
    results,
    x: str,
    m: str,
    y: str,
    moderator: str,
    *,
    level: float = 0.95,
    se: str = "delta",
    boot=None,
    data=None,
    n_boot: int = 1000,
    ci: str = "perc",
    random_state=None,
    n_jobs: int | None = None,
    z_range: float = 3.0,
    grid: int = 301,
) -> IndirectJohnsonNeyman:
    """Johnson-Neyman region of the conditional indirect effect.

    Parameters
    ----------
    As :func:`conditional_indirect`, and
    z_range : float
        With the bootstrap: the moderator range searched, in model-implied SDs
        around its mean.
    grid : int
        With the bootstrap: grid points in that range.

    Returns
    -------
    IndirectJohnsonNeyman

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from ckm_research import fit
    >>> rng = np.random.default_rng(1)  # X -> M -> Y, W moderating M -> Y
    >>> X, W, e_m, e_y = rng.standard_normal((4, 300))
    >>> M = 0.5 * X + 0.8 * e_m
    >>> Y = 0.4 * M + 0.2 * W + 0.3 * M * W + 0.8 * e_y
    >>> df = pd.DataFrame({f"{v.lower()}{i}": 0.8 * f + 0.6 * rng.standard_normal(300)
    ...                    for v, f in zip("XMWY", (X, M, W, Y)) for i in (1, 2, 3)})
    >>> model = ("X =~ x1 + x2 + x3\\nM =~ m1 + m2 + m3\\nW =~ w1 + w2 + w3\\n"
    ...          "Y =~ y1 + y2 + y3\\nM ~ X\\nY ~ X + M + W + M:W")
    >>> res = fit(model, df, interaction="dblcent")
    >>> jn = johnson_neyman_indirect(res, "X", "M", "Y", "W")
    >>> [round(b, 3) for b in jn.bounds]
    [-2.276, -0.599]
    >>> print(jn.describe())
    The conditional indirect effect's 95% interval (delta) excludes 0 for moderator
    values in [-3 SD, -2.276 (-2.84 SD)], [-0.599 (-0.75 SD), +3 SD] (examined within
    3 SD of the mean).
    """
    fn = "johnson_neyman_indirect"
    boot = _inference(fn, se, boot, data, n_boot, ci, random_state, n_jobs, level, results)
    path = _path(results, x, m, y, moderator)
    mean, sd = _latent_moments(results, moderator)
    if se == "delta":
        theta, V = _coef_and_vcov(results, list(path.rows))
        regions = _regions_from_roots(theta, V, stats.norm.ppf(0.5 + level / 2) ** 2)
        rng = (-np.inf, np.inf)
    else:
        ws = np.linspace(mean - z_range * sd, mean + z_range * sd, int(grid))
        _, _, _, lo, hi = _band(results, path, se, boot, level, ci, ws)
        regions = _regions_from_grid(ws, lo, hi)
        rng = (float(ws[0]), float(ws[-1]))
    bounds = tuple(sorted({v for r in regions for v in r if np.isfinite(v)} - set(rng)))
    return IndirectJohnsonNeyman(
        regions=regions, bounds=bounds, mean=mean, sd=sd, level=level,
        method=_method_text(se, boot, ci), search_range=rng,
    )  # fmt: skip


# ----------------------------------------------------------------- all paths
def moderated_mediation(
    results,
    paths=None,
    *,
    at=None,
    level: float = 0.95,
    se: str = "delta",
    boot=None,
    data=None,
    n_boot: int = 1000,
    ci: str = "perc",
    random_state=None,
    n_jobs: int | None = None,
) -> dict[str, pd.DataFrame]:
    """Conditional indirect effects and indices of several moderated paths,
    with one bootstrap for all.

    Parameters
    ----------
    results : SEMResults
    paths : list of (x, m, y, moderator), optional
        Default: every second-stage path of :func:`moderated_mediation_paths`.
    Others as :func:`conditional_indirect`.

    Returns
    -------
    dict
        ``{"conditional": DataFrame, "index": DataFrame, "johnson_neyman":
        DataFrame}`` (the last with ``x m y moderator regions description``).
    """
    fn = "moderated_mediation"
    boot = _inference(fn, se, boot, data, n_boot, ci, random_state, n_jobs, level, results)
    if paths is None:
        found = moderated_mediation_paths(results)
        if not found:
            raise CkmError(
                "the fit has no moderated indirect path (a product term Y ~ M:W whose member "
                "M is regressed on a predictor, M ~ X)"
            )
        paths = [(p.x, p.m, p.y, p.moderator) for p in found]
    kw = dict(level=level, se=se, boot=boot, ci=ci)
    cond, idx, jn = [], [], []
    for x, m, y, w in paths:
        cond.append(conditional_indirect(results, x, m, y, w, at=at, **kw))
        if _path(results, x, m, y, w).stage != "both":
            idx.append(index_of_moderated_mediation(results, x, m, y, w, **kw))
        j = johnson_neyman_indirect(results, x, m, y, w, **kw)
        regions = [list(r) for r in j.regions]
        jn.append({"x": x, "m": m, "y": y, "moderator": w, "regions": regions,
                   "description": j.describe()})  # fmt: skip
    return {
        "conditional": pd.concat(cond, ignore_index=True),
        "index": pd.concat(idx, ignore_index=True) if idx else pd.DataFrame(),
        "johnson_neyman": pd.DataFrame(jn),
    }


# --------------------------------------------------------------------- plot
def plot_conditional_indirect(
    results,
    x: str,
    m: str,
    y: str,
    moderator: str,
    *,
    level: float = 0.95,
    se: str = "delta",
    boot=None,
    data=None,
    n_boot: int = 1000,
    ci: str = "perc",
    random_state=None,
    n_jobs: int | None = None,
    z_range: float = 3.0,
    ax=None,
    figsize=(5.5, 4.0),
):
    """The conditional indirect effect across the moderator, with its
    confidence band (delta-method or bootstrap) and the Johnson-Neyman region
    shaded (as :func:`~ckm_research.moderation.simple_slopes.plot_johnson_neyman`
    for a simple slope).

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot; save it with ``fig.savefig(...)``.
    """
    fn = "plot_conditional_indirect"
    boot = _inference(fn, se, boot, data, n_boot, ci, random_state, n_jobs, level, results)
    path = _path(results, x, m, y, moderator)
    mean, sd = _latent_moments(results, moderator)
    ws = np.linspace(mean - z_range * sd, mean + z_range * sd, 301)
    _, _, est, lo, hi = _band(results, path, se, boot, level, ci, ws)
    jn = johnson_neyman_indirect(results, x, m, y, moderator, level=level, se=se, boot=boot,
                                 ci=ci, z_range=z_range)  # fmt: skip
    if ax is None:
        fig, ax = _figure(figsize)
    else:
        fig = ax.figure
    ax.fill_between(ws, 0, 1, where=jn.is_significant(ws), transform=ax.get_xaxis_transform(),
                    color="#7570b3", alpha=0.12, lw=0, label="interval excludes 0")  # fmt: skip
    ax.plot(ws, est, color="#1b9e77", lw=2, label=f"indirect effect of {x} via {m}")
    band = "delta method" if se == "delta" else {"perc": "percentile", "bca": "BCa"}[ci]
    ax.fill_between(ws, lo, hi, color="#1b9e77", alpha=0.2, lw=0,
                    label=f"{int(round(100 * level))}% CI ({band})")  # fmt: skip
    ax.axhline(0, color="0.3", lw=0.8)
    for k, lab in ((-1, "-1 SD"), (0, "mean"), (1, "+1 SD")):
        ax.axvline(mean + k * sd, color="0.7", lw=0.8, ls=":")
        ax.text(mean + k * sd, 0.99, lab, transform=ax.get_xaxis_transform(), ha="center",
                va="top", fontsize="x-small", color="0.4")  # fmt: skip
    shown = [b for b in jn.bounds if ws[0] <= b <= ws[-1]]
    for bnd in shown:
        ax.axvline(bnd, color="#d95f02", ls="--", lw=1.2)
    if shown:
        ax.text(0.98, 0.03, "JN bounds: " + ", ".join(f"{b:.2f}" for b in shown),
                transform=ax.transAxes, ha="right", va="bottom", color="#d95f02",
                fontsize="small")  # fmt: skip
    ax.set_xlabel(f"{moderator} (latent metric; mean {mean + 0.0:.2f}, SD {sd:.2f})")
    ax.set_ylabel(f"Indirect effect {x} → {m} → {y}")
    ax.set_title("Conditional indirect effect")
    ax.legend(frameon=False, fontsize="small")
    return fig


# ------------------------------------------------------------ as := lines
def moderated_mediation_syntax(model: str, paths=None, *, at_sd: bool = True) -> str:
    """``model`` with its moderated indirect paths labelled and written as ``:=``.

    For each second-stage path ``X -> M -> Y`` moderated by ``W`` (``Y ~ M:W``;
    default: all, as :func:`moderated_mediation_paths` finds them in a fit) the
    paths ``M ~ X``, ``Y ~ M`` and ``Y ~ M:W`` get labels (the researcher's are
    kept; new ones are ``a_M_X``, ``b_Y_M``, ``b3_Y_M_W``) and the lines

    .. code-block:: text

        imm_X_M_Y_W := a*b3                       # index of moderated mediation
        cind_X_M_Y_W_lo := a*(b - b3*sqrt(vW))    # at W = -1 SD (at_sd, W exogenous)
        cind_X_M_Y_W_hi := a*(b + b3*sqrt(vW))    # at W = +1 SD

    are added, ``vW`` labelling the variance of an exogenous ``W`` (``W ~~ vW*W``;
    the SD is then the estimated one, so its uncertainty enters the ``:=`` rows,
    unlike :func:`conditional_indirect`, which holds the moderator values fixed).
    Any fit, bootstrap or power analysis of the result reports them as ``:=``
    rows; :func:`ckm_research.inference.population.population_from_fit` keeps
    them in the population, so ``ckm power --from-fit`` gives the power of the
    index.  For marker-variable identification (with ``std_lv=True`` the
    variance of ``W`` is 1: use ``at_sd=False``).

    Parameters
    ----------
    model : str
        lavaan syntax with product terms ``Y ~ M:W``.
    paths : list of (x, m, y, moderator), optional
    at_sd : bool
        Also the conditional indirect effects at -1 and +1 SD of an exogenous
        moderator.

    Returns
    -------
    str

    Examples
    --------
    >>> print(moderated_mediation_syntax("M ~ X\\nY ~ M + W + M:W", at_sd=False))
    M ~ a_M_X*X
    Y ~ b_Y_M*M + W + b3_Y_M_W*M:W
    imm_X_M_Y_W := a_M_X*b3_Y_M_W
    <BLANKLINE>

    In R (lavaan): the same lines, written by hand.
    """
    from ckm_research.sem.syntax import Definition, Modifier, Statement, parse_model

    parsed = parse_model(model)
    stmts = list(parsed.statements)
    if any(len(st.modifiers) > 1 for st in stmts):
        raise CkmError("moderated mediation syntax is written for single-group models only")
    reg = [(k, st) for k, st in enumerate(stmts) if st.op == "~"]
    taken = {m.label for st in stmts for m in st.modifiers if m.label}
    taken |= {d.name for d in parsed.definitions} | {st.lhs for st in stmts}
    taken |= {st.rhs for st in stmts}
    if paths is None:
        paths, seen = [], set()
        for _, st in reg:
            if ":" not in st.rhs:
                continue
            left, right = st.rhs.split(":")
            for med, mod in ((left, right), (right, left)):
                for _, p in reg:
                    key = (p.rhs, med, st.lhs, mod)
                    if (
                        p.lhs == med
                        and ":" not in p.rhs
                        and p.rhs not in (mod, st.lhs)
                        and (key not in seen)
                    ):
                        seen.add(key)
                        paths.append(key)
        if not paths:
            raise CkmError(
                "the model has no moderated indirect path (a product term Y ~ M:W whose "
                "member M is regressed on a predictor, M ~ X)"
            )

    def fresh(base):
        name, k = base, 1
        while name in taken:
            k += 1
            name = f"{base}{k}"
        taken.add(name)
        return name

    def label(lhs, op, rhs_options, base, add=False):
        for k, st in enumerate(stmts):
            if st.lhs == lhs and st.op == op and st.rhs in rhs_options:
                mod = st.modifier(0)
                if mod.fixed is not None:
                    return repr(float(mod.fixed))
                if mod.label:
                    return mod.label
                new = fresh(base)
                stmts[k] = Statement(st.lhs, st.op, st.rhs, (Modifier(
                    fixed=None, free=mod.free, label=new, start=mod.start),), st.line)  # fmt: skip
                return new
        if add:
            new = fresh(base)
            stmts.append(Statement(lhs, op, rhs_options[0], (Modifier(label=new),)))
            return new
        return None

    defs = list(parsed.definitions)
    endogenous = {st.lhs for st in stmts if st.op == "~"}
    for x, m, y, w in paths:
        a = label(m, "~", [x], f"a_{m}_{x}")
        b = label(y, "~", [m], f"b_{y}_{m}")
        b3 = label(y, "~", [f"{m}:{w}", f"{w}:{m}"], f"b3_{y}_{m}_{w}")
        if a is None or b3 is None:
            raise CkmError(
                f"the model has no {'path ' + m + ' ~ ' + x if a is None else 'product term'} "
                f"for the moderated path {x} -> {m} -> {y} by {w} (second stage: {y} ~ {m}:{w})"
            )
        b = b or "0"
        tag = f"{x}_{m}_{y}_{w}"
        defs.append(Definition(fresh(f"imm_{tag}"), f"{a}*{b3}"))
        if at_sd and w not in endogenous:
            v = label(w, "~~", [w], f"v_{w}", add=True)
            defs.append(Definition(fresh(f"cind_{tag}_lo"), f"{a}*({b} - {b3}*sqrt({v}))"))
            defs.append(Definition(fresh(f"cind_{tag}_hi"), f"{a}*({b} + {b3}*sqrt({v}))"))
    return _syntax(stmts, defs, parsed.constraints)


def _syntax(statements, definitions, constraints) -> str:
    """lavaan syntax of single-group statements, one (lhs, op) per line (as
    ``report.modelsyntax.to_syntax``, kept here so moderation does not import report)."""

    def term(st):
        rhs = "1" if st.op == "~1" else st.rhs
        mod = st.modifier(0) if st.modifiers else None
        parts = []
        if mod is not None:
            if mod.fixed is not None:
                parts.append(f"{mod.fixed:.17g}")
            elif mod.free:
                parts.append("NA")
            if mod.label is not None:
                parts.append(mod.label)
            if mod.start is not None:
                parts.append(f"start({mod.start:.17g})")
        return "*".join(parts + [rhs])

    lines, current = [], None
    for st in statements:
        op = "~" if st.op == "~1" else st.op
        if (st.lhs, op) == current:
            lines[-1] += f" + {term(st)}"
        else:
            lines.append(f"{st.lhs} {op} {term(st)}")
            current = (st.lhs, op)
    lines += [f"{d.name} := {d.expression}" for d in definitions]
    lines += [f"{c.lhs} {c.op} {c.rhs}" for c in constraints]
    return "\n".join(lines) + "\n"
