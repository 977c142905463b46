"""Discriminant validity with inference, and full collinearity VIFs.

Point rules (HTMT below .85, Fornell-Larcker) ignore sampling error. The
tests here give each factor pair an interval and a decision:

==================================  ===========================================================
function                            what it tests, and its reference
==================================  ===========================================================
:func:`htmt_inference`              HTMT or HTMT2 with bootstrap percentile intervals and the
                                    one-sided test of H0: HTMT >= c (Henseler, Ringle &
                                    Sarstedt, 2015, *JAMS* 43, 115-135; Franke &
                                    Sarstedt, 2019, *Internet Research* 29, 430-447); point
                                    estimates as ``semTools::htmt``
:func:`discriminant_cfa`            CICFA(sys) and chi2(sys) of Ronkko & Cho (2022),
                                    *Organizational Research Methods* 25(1), 6-47: the CFA's
                                    factor-correlation interval against the cutoffs .80/.90/1,
                                    and the chi-square difference test of the CFA with the
                                    correlation fixed at each cutoff (lavaan ``std.lv = TRUE``,
                                    ``A ~~ c*B``, ``lavTestLRT``)
:func:`full_collinearity_vif`       full collinearity VIFs of construct scores (Kock, 2015,
                                    *International Journal of e-Collaboration* 11(4), 1-10;
                                    threshold 3.3), with statsmodels
==================================  ===========================================================

The tests compare every number with R (``tests/reference/R/validity_inference.R``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from ckm_research.errors import CkmError
from ckm_research.measurement._common import (
    as_frame,
    check_columns,
    clean_json,
    factor_indicators,
    format_table,
    read_model,
    require_result,
)

__all__ = [
    "HTMTInference",
    "htmt_inference",
    "DiscriminantCFA",
    "discriminant_cfa",
    "full_collinearity_vif",
    "HTMT_THRESHOLDS",
    "RONKKO_CHO_CUTOFFS",
    "VIF_THRESHOLD",
    "ValidityInference",
    "validity_inference",
]

#: thresholds of the HTMT test (Henseler et al., 2015: HTMT.85, HTMT.90, HTMT(inference) = 1)
HTMT_THRESHOLDS = (0.85, 0.90, 1.0)
#: cutoffs of Ronkko & Cho's (2022) classification (marginal, moderate, severe)
RONKKO_CHO_CUTOFFS = (0.80, 0.90, 1.0)
#: Kock's (2015) full-collinearity threshold
VIF_THRESHOLD = 3.3


def _param_error(fn: str, name: str, allowed: str, got: Any) -> CkmError:
    return CkmError(f"The '{name}' parameter of {fn} must be {allowed}. Got {got!r} instead.")


def _check_cutoffs(fn: str, name: str, values) -> tuple[float, ...]:
    try:
        out = tuple(sorted(float(v) for v in values))
    except (TypeError, ValueError):
        raise _param_error(fn, name, "a sequence of numbers in (0, 1]", values) from None
    if not out or any(not (0 < v <= 1) for v in out):
        raise _param_error(fn, name, "a sequence of numbers in (0, 1]", values)
    return out


# ---------------------------------------------------------------------------
# HTMT with bootstrap inference


def _htmt_stack(r: np.ndarray, member: np.ndarray, htmt2: bool) -> np.ndarray:
    """HTMT (or HTMT2) matrices of a stack of correlation matrices ``r`` (B x k x k).

    With ``M`` the item x factor membership matrix and the diagonal of ``r`` left out,
    the block sums are :math:`M^\\top R M` and the block sizes :math:`M^\\top (J - I) M`;
    their ratio is the mean (arithmetic, or of the logarithms for HTMT2).
    """
    k = r.shape[-1]
    off = 1.0 - np.eye(k)
    vals = np.abs(r)
    if htmt2:
        with np.errstate(divide="ignore"):
            vals = np.log(vals)
    vals = np.where(off.astype(bool), vals, 0.0)
    sums = member.T @ vals @ member
    counts = member.T @ off @ member
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
        d = np.diagonal(means, axis1=1, axis2=2)
        if htmt2:
            return np.exp(means - 0.5 * (d[:, :, None] + d[:, None, :]))
        return means / np.sqrt(d[:, :, None] * d[:, None, :])


@dataclass
class HTMTInference:
    """HTMT (or HTMT2) per factor pair with bootstrap intervals and tests.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per pair: ``lhs rhs htmt boot.se ci.lower ci.upper`` and, for each
        threshold ``c``, a column ``below <c>``: True when H0: HTMT >= c is rejected
        (``ci.upper`` < c), i.e. discriminant validity is supported at level ``alpha``.
    method : str
        ``"HTMT2"`` or ``"HTMT"``.
    alpha : float
        Level of the one-sided tests; the interval is the ``1 - 2 alpha`` percentile one.
    thresholds : tuple of float
    n : int
        Cases complete on the model's items.
    n_boot, n_valid : int
        Resamples drawn, and resamples in which every HTMT could be computed.
    seed : int or None
        The seed of the resampling (``random_state``).
    replicates : numpy.ndarray
        ``n_boot`` x pairs bootstrap values (NaN where not computable).
    """

    table: pd.DataFrame
    method: str
    alpha: float
    thresholds: tuple
    n: int
    n_boot: int
    n_valid: int
    seed: Any = None
    replicates: np.ndarray | None = field(default=None, repr=False)

    def summary(self, digits: int = 3) -> str:
        """Text table with the decisions."""
        level = 1 - 2 * self.alpha
        head = (
            f"{self.method} with {level:.0%} bootstrap percentile intervals ({self.n_valid} of "
            f"{self.n_boot} resamples, N = {self.n}); 'below c' = H0: {self.method} >= c "
            f"rejected at alpha = {self.alpha:g} (upper limit < c; Henseler et al., 2015; "
            "Franke & Sarstedt, 2019)"
        )
        return head + "\n" + format_table(self.table, digits)

    def to_dict(self) -> dict[str, Any]:
        return clean_json(
            {
                "method": self.method,
                "alpha": self.alpha,
                "level": 1 - 2 * self.alpha,
                "thresholds": list(self.thresholds),
                "n": self.n,
                "n_boot": self.n_boot,
                "n_valid": self.n_valid,
                "seed": self.seed,
                "pairs": self.table,
            }
        )


def _threshold_column(c: float) -> str:
    return f"below {c:g}"


def htmt_inference(
    data,
    model,
    *,
    htmt2: bool = True,
    n_boot: int = 2000,
    alpha: float = 0.05,
    thresholds=HTMT_THRESHOLDS,
    random_state=None,
) -> HTMTInference:
    """HTMT or HTMT2 with bootstrap percentile intervals and the test of H0: HTMT >= c.

    The point estimates are those of
    :func:`~ckm_research.measurement.htmt` (``semTools::htmt``):

    .. math::

        HTMT_{ij} = \\frac{\\bar r_{IJ}}{\\sqrt{\\bar r_{II}\\,\\bar r_{JJ}}}

    with arithmetic means of the absolute item correlations (Henseler, Ringle &
    Sarstedt, 2015, eq. 6) or geometric ones (HTMT2; Roemer, Schuberth & Henseler,
    2021, *Industrial Management & Data Systems* 121, 2637-2650).
    Each of ``n_boot`` resamples draws N cases with replacement and recomputes every
    ratio. Henseler et al. (2015) test discriminant validity with the null
    hypothesis :math:`H_0: HTMT \\ge c` against :math:`H_1: HTMT < c`; Franke &
    Sarstedt (2019) make it a one-sided test at level :math:`\\alpha`:
    reject :math:`H_0` when the upper limit of the :math:`1 - 2\\alpha` percentile
    interval is below ``c`` (alpha = .05: the 90% interval). The percentile limits
    are interpolated as ``boot``/lavaan do
    (:func:`ckm_research.inference.bootstrap.norm_inter`). (seminr's bootstrap reports
    a two-sided interval around the estimate; semTools has none, its issue #34.)

    Parameters
    ----------
    data : pandas.DataFrame or path
        The item responses (cases complete on all the model's items are used, as
        semTools ``missing = "listwise"``).
    model : str, pathlib.Path or SEMResults
        Which items measure which factor.
    htmt2 : bool
        HTMT2 (geometric means, default as semTools 0.5.6) or the original HTMT.
    n_boot : int
        Bootstrap resamples (at least 500 for the limits of a 90% interval).
    alpha : float
        Level of the one-sided tests, in (0, 0.5).
    thresholds : sequence of float
        The values ``c`` tested (default .85, .90 and 1).
    random_state : int or None
        Seed (``numpy.random.default_rng``).

    Returns
    -------
    HTMTInference

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> from ckm_research.measurement import htmt_inference
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> res = htmt_inference(hs, model, n_boot=50, random_state=1)  # use n_boot >= 500
    >>> res.table.columns.tolist()
    ['lhs', 'rhs', 'htmt', 'boot.se', 'ci.lower', 'ci.upper', 'below 0.85', 'below 0.9', 'below 1']
    >>> res.table[["lhs", "rhs", "htmt"]].round(3)
           lhs      rhs   htmt
    0   visual  textual  0.384
    1   visual    speed  0.387
    2  textual    speed  0.280

    In R (point estimates only): ``semTools::htmt(model, data)``.
    """
    fn = "htmt_inference"
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise _param_error(fn, "n_boot", "an int in the range [2, inf)", n_boot)
    if not isinstance(alpha, (float, int)) or isinstance(alpha, bool) or not 0 < alpha < 0.5:
        raise _param_error(fn, "alpha", "a float in the range (0, 0.5)", alpha)
    thresholds = _check_cutoffs(fn, "thresholds", thresholds)
    frame = as_frame(data)
    items = factor_indicators(model)
    facs = list(items)
    if len(facs) < 2:
        raise CkmError(f"{fn} needs at least two factors; the model has {len(facs)}")
    names = list(dict.fromkeys(i for v in items.values() for i in v))
    check_columns(frame, names)
    x = frame[names].apply(pd.to_numeric, errors="coerce").dropna().to_numpy(dtype=float)
    n = len(x)
    if n < 3:
        raise CkmError(f"HTMT needs at least 3 cases complete on the model's items; found {n}")
    member = np.zeros((len(names), len(facs)))
    pos = {v: k for k, v in enumerate(names)}
    for a, f in enumerate(facs):
        member[[pos[i] for i in items[f]], a] = 1.0
    est = _htmt_stack(np.corrcoef(x, rowvar=False)[None], member, htmt2)[0]

    rng = np.random.default_rng(random_state)
    iu = np.triu_indices(len(facs), 1)
    reps = np.empty((n_boot, len(iu[0])))
    chunk = max(1, int(2e6 // max(1, len(names) ** 2)))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        idx = rng.integers(0, n, (b, n))
        xs = x[idx]
        xs = xs - xs.mean(axis=1, keepdims=True)
        cov = np.matmul(xs.transpose(0, 2, 1), xs)
        sd = np.sqrt(np.einsum("bii->bi", cov))
        with np.errstate(invalid="ignore", divide="ignore"):
            r = cov / (sd[:, :, None] * sd[:, None, :])
            reps[start : start + b] = _htmt_stack(r, member, htmt2)[:, iu[0], iu[1]]
    reps[~np.isfinite(reps)] = np.nan
    valid = np.isfinite(reps).all(axis=1)

    from ckm_research.inference.bootstrap import norm_inter

    rows = []
    for p, (i, j) in enumerate(zip(*iu, strict=True)):
        t = reps[valid, p]
        lo, hi = norm_inter(t, [alpha, 1 - alpha]) if len(t) > 1 else (np.nan, np.nan)
        row = {
            "lhs": facs[i],
            "rhs": facs[j],
            "htmt": float(est[i, j]),
            "boot.se": float(np.std(t)) if len(t) > 1 else np.nan,
            "ci.lower": float(lo),
            "ci.upper": float(hi),
        }
        for c in thresholds:
            row[_threshold_column(c)] = bool(np.isfinite(hi) and hi < c)
        rows.append(row)
    if valid.sum() < n_boot:
        warnings.warn(
            f"{n_boot - int(valid.sum())} of {n_boot} bootstrap resamples gave an HTMT that "
            "cannot be computed (a zero or negative mean correlation) and were left out",
            RuntimeWarning,
            stacklevel=2,
        )
    return HTMTInference(
        table=pd.DataFrame(rows),
        method="HTMT2" if htmt2 else "HTMT",
        alpha=float(alpha),
        thresholds=thresholds,
        n=n,
        n_boot=int(n_boot),
        n_valid=int(valid.sum()),
        seed=random_state if isinstance(random_state, (int, np.integer)) else None,
        replicates=reps,
    )


# ---------------------------------------------------------------------------
# CICFA(sys) and chi2(sys), Ronkko & Cho (2022)

_RC_LABELS = {
    3: ("no problem", "marginal", "moderate", "severe"),
}


def _rc_label(k: int, n_cut: int) -> str:
    labels = _RC_LABELS.get(n_cut)
    if labels is not None:
        return labels[k]
    return "below all cutoffs" if k == 0 else f"not below cutoff {k}"


@dataclass
class DiscriminantCFA:
    """CICFA(sys) and chi2(sys) of every factor pair (Ronkko & Cho, 2022).

    Attributes
    ----------
    pairs : pandas.DataFrame
        One row per pair: ``lhs rhs cor se ci.lower ci.upper cicfa`` and, when the
        chi-square tests were run, ``chi2``: the classes of the two techniques.
    tests : pandas.DataFrame
        The constrained-CFA tests: ``lhs rhs cutoff chisq chisq.diff df.diff pvalue
        method below`` (``below``: the correlation is significantly below the cutoff).
    cutoffs : tuple of float
    level : float
    estimator : str
    n : int
    notes : list of str
    """

    pairs: pd.DataFrame
    tests: pd.DataFrame
    cutoffs: tuple
    level: float
    estimator: str
    n: int
    notes: list = field(default_factory=list)

    def summary(self, digits: int = 3) -> str:
        cuts = "/".join(f"{c:g}" for c in self.cutoffs)
        lines = [
            f"Discriminant validity: CICFA(sys) and chi2(sys) (Ronkko & Cho, 2022; "
            f"cutoffs {cuts}; {self.level:.0%} intervals; {self.estimator}, N = {self.n})",
            format_table(self.pairs, digits),
        ]
        if not self.tests.empty:
            lines += [
                "",
                "Constrained CFAs (correlation fixed at the cutoff; chi-square "
                "difference, as lavaan's lavTestLRT):",
                format_table(self.tests, digits),
            ]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return clean_json(
            {
                "cutoffs": list(self.cutoffs),
                "level": self.level,
                "estimator": self.estimator,
                "n": self.n,
                "pairs": self.pairs,
                "tests": self.tests,
                "notes": self.notes,
            }
        )


def discriminant_cfa(
    model,
    data,
    *,
    cutoffs=RONKKO_CHO_CUTOFFS,
    level: float = 0.95,
    chisq: bool = True,
    pairs=None,
    result=None,
    **fit_kwargs,
) -> DiscriminantCFA:
    """CICFA(sys) and chi2(sys): factor-correlation intervals and constrained-CFA tests.

    Ronkko & Cho (2022, *Organizational Research Methods* 25(1), 6-47) recommend
    judging discriminant validity from the CFA's factor correlations with their
    sampling error, against a system of cutoffs (their classification, .80/.90/1):

    * **CICFA(sys)**: with the factors scaled to unit variance (lavaan
      ``std.lv = TRUE``) the factor covariance is the correlation :math:`\\phi_{ij}`;
      its Wald interval :math:`\\hat\\phi_{ij} \\pm z_{1-\\alpha/2} SE` is compared with
      the cutoffs. The upper limit (of :math:`|\\phi|`) below .80: no problem;
      in [.80, .90): marginal; in [.90, 1): moderate; at or above 1: severe.
    * **chi2(sys)**: the CFA is refitted with :math:`\\phi_{ij}` fixed at each cutoff
      ``c`` (``A ~~ c*B``, signed as the estimate, factor variances fixed at 1, which
      Ronkko & Cho stress: fixing a covariance in a marker-scaled model is not the
      test), and the chi-square difference on 1 df (lavaan's ``lavTestLRT``:
      Satorra-Bentler 2001 for MLR) tests :math:`H_0: \\phi_{ij} = c`. The
      correlation is significantly below ``c`` when :math:`|\\hat\\phi_{ij}| < c` and
      the p-value is below :math:`1 - level`; the class is that of the smallest
      cutoff the correlation is significantly below (the same scheme).

    Parameters
    ----------
    model : str or pathlib.Path
        lavaan syntax of the CFA (structural paths make the factor correlations
        model-implied; give the measurement model).
    data : pandas.DataFrame or path
    cutoffs : sequence of float
        Increasing cutoffs (default .80, .90, 1, Ronkko & Cho's system).
    level : float
        Confidence level of the intervals (the tests use ``1 - level``).
    chisq : bool
        Run the constrained CFAs (one refit per pair and cutoff, up to the first
        cutoff the correlation is significantly below; set False for the CICFA only).
    pairs : list of (str, str), optional
        Restrict the chi-square tests to these pairs.
    result : SEMResults, optional
        The unconstrained fit with ``std_lv=True`` and the same options, if computed.
    **fit_kwargs
        Options of :func:`ckm_research.fit` (``estimator``, ``missing``, ...).

    Returns
    -------
    DiscriminantCFA

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> from ckm_research.measurement import discriminant_cfa
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> dv = discriminant_cfa(model, hs)
    >>> dv.pairs[["lhs", "rhs", "cor", "ci.lower", "ci.upper", "cicfa"]].round(3)
           lhs      rhs    cor  ci.lower  ci.upper       cicfa
    0   visual  textual  0.459     0.334     0.584  no problem
    1   visual    speed  0.471     0.328     0.613  no problem
    2  textual    speed  0.283     0.148     0.418  no problem
    >>> dv.tests[["lhs", "rhs", "cutoff", "chisq.diff", "df.diff", "below"]].round(3)
           lhs      rhs  cutoff  chisq.diff  df.diff  below
    0   visual  textual     0.8      42.449      1.0   True
    1   visual    speed     0.8      19.969      1.0   True
    2  textual    speed     0.8      88.970      1.0   True

    In R: ``fit <- cfa(model, data, std.lv = TRUE)``; for a pair,
    ``fit1 <- cfa(paste(model, "\\nA ~~ .9*B"), data, std.lv = TRUE)``;
    ``lavTestLRT(fit, fit1)``.
    """
    import ckm_research
    from ckm_research.measurement.invariance import chisq_difference

    fn = "discriminant_cfa"
    cutoffs = _check_cutoffs(fn, "cutoffs", cutoffs)
    if not (isinstance(level, float) and 0 < level < 1):
        raise _param_error(fn, "level", "a float in the range (0, 1)", level)
    if fit_kwargs.get("group") is not None:
        raise CkmError(f"{fn} needs a single-group model; fit each group separately")
    fit_kwargs.pop("std_lv", None)
    text = read_model(model)
    if result is None:
        result = ckm_research.fit(text, data, std_lv=True, level=level, **fit_kwargs)
    else:
        result = require_result(result, fn)
        if not result.engine.opts.std_lv:
            raise CkmError(
                f"the 'result' given to {fn} must be fitted with std_lv=True (factor "
                "variances fixed at 1, so that the covariances are the correlations)"
            )
    est = result.estimates
    lv = list(result.engine.model.lv)
    ov = set(result.engine.model.ov)
    lv = [f for f in lv if f not in ov]
    cov = est[
        (est["op"] == "~~") & est["lhs"].isin(lv) & est["rhs"].isin(lv) & (est["lhs"] != est["rhs"])
    ]
    if cov.empty:
        raise CkmError(
            f"{fn}: the model has no free factor covariances (at least two correlated "
            "exogenous factors are needed; structural paths leave none free)"
        )
    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for r in cov.to_dict(orient="records"):
        phi, se = float(r["est"]), float(r["se"])
        lo, hi = phi - z * se, phi + z * se
        bound = max(abs(lo), abs(hi))
        k = sum(bound >= c for c in cutoffs)
        rows.append(
            {
                "lhs": r["lhs"],
                "rhs": r["rhs"],
                "cor": phi,
                "se": se,
                "ci.lower": lo,
                "ci.upper": hi,
                "cicfa": _rc_label(k, len(cutoffs)),
            }
        )
    table = pd.DataFrame(rows)
    notes = []
    tests = pd.DataFrame(
        columns=[
            "lhs",
            "rhs",
            "cutoff",
            "chisq",
            "chisq.diff",
            "df.diff",
            "pvalue",
            "method",
            "below",
        ]
    )
    if chisq:
        fast = _moment_refit(result, data, level)
        wanted = None if pairs is None else {frozenset(p) for p in pairs}
        test_rows = []
        classes = []
        for row in rows:
            a, b, phi = row["lhs"], row["rhs"], row["cor"]
            if wanted is not None and frozenset((a, b)) not in wanted:
                classes.append(None)
                continue
            k = len(cutoffs)
            for j, c in enumerate(cutoffs):
                value = math.copysign(c, phi)
                text1 = f"{text}\n{a} ~~ {value!r}*{b}"
                d = fast(text1) if fast is not None else None
                if d is None:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        fit1 = ckm_research.fit(text1, data, std_lv=True, level=level, **fit_kwargs)
                        d = chisq_difference(result, fit1)
                        d["chisq"] = fit1.fit_measures.get("chisq", np.nan)
                p = float(d["pvalue"])
                below = bool(abs(phi) < c and np.isfinite(p) and p < 1 - level)
                test_rows.append(
                    {
                        "lhs": a,
                        "rhs": b,
                        "cutoff": c,
                        "chisq": d["chisq"],
                        "chisq.diff": d["chisq.diff"],
                        "df.diff": d["df.diff"],
                        "pvalue": p,
                        "method": d["method"],
                        "below": below,
                    }
                )
                if below:
                    k = j
                    break
            classes.append(_rc_label(k, len(cutoffs)))
        table["chi2"] = classes
        tests = pd.DataFrame(test_rows, columns=tests.columns)
        notes.append(
            "chi2(sys): each pair is tested at the cutoffs in increasing order up to "
            "the first one its correlation is significantly below (the larger ones "
            "would be rejected too)"
        )
    return DiscriminantCFA(
        pairs=table,
        tests=tests,
        cutoffs=cutoffs,
        level=level,
        estimator=result.estimator,
        n=int(result.n),
        notes=notes,
    )


def _moment_refit(result, data, level):
    """A function ``text -> chi-square difference`` that refits a constrained ML model
    from the sample moments, warm-started at the unconstrained estimates (the bootstrap's
    :class:`~ckm_research.inference.refit.MomentFitter`), or None when the fit is not an ML
    fit of complete data (then :func:`ckm_research.fit` refits). The same minimum as a
    full fit; the tests compare both with lavaan."""
    from ckm_research.inference.refit import MomentFitter, weighted_moments
    from ckm_research.sem.api import build_engine
    from ckm_research.sem.ml import MLEngine
    from ckm_research.sem.syntax import parse_model

    eng0 = result.engine
    if type(eng0) is not MLEngine or result.estimator != "ML" or eng0.opts.missing != "listwise":
        return None
    chisq0 = float(result.fit_measures["chisq"])
    t0 = eng0.pt.table
    free0 = {
        (r.lhs, r.op, r.rhs, r.group): int(r.free) - 1
        for r in t0[["lhs", "op", "rhs", "group", "free"]].itertuples(index=False)
        if r.free > 0
    }
    theta0 = np.asarray(eng0.theta, dtype=float)
    frame = as_frame(data)

    def refit(text: str):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                eng = build_engine(
                    parse_model(text),
                    frame,
                    std_lv=True,
                    estimator="ML",
                    level=level,
                    ordered=(),
                    group=None,
                    group_equal=(),
                )
                fitter = MomentFitter(eng.pt, max_iter=eng.opts.iter_max)
                start = np.zeros(fitter.q)
                t = eng.pt.table
                for r in t[["lhs", "op", "rhs", "group", "free"]].itertuples(index=False):
                    if r.free > 0:
                        start[int(r.free) - 1] = theta0[free0[(r.lhs, r.op, r.rhs, r.group)]]
                moments = [weighted_moments(np.asarray(g.data, dtype=float)) for g in eng.groups]
                with threadpool_limits(1):
                    _, fmin, _ = fitter.fit(moments, start)
            n = sum(m.n for m in moments)
        except (CkmError, KeyError, np.linalg.LinAlgError, ArithmeticError, ValueError):
            return None
        chisq1 = float(n * fmin)
        diff = max(chisq1 - chisq0, 0.0)
        return {
            "chisq": chisq1,
            "chisq.diff": diff,
            "df.diff": 1.0,
            "pvalue": float(stats.chi2.sf(diff, 1)),
            "method": "standard",
        }

    return refit


# ---------------------------------------------------------------------------
# full collinearity VIFs


def full_collinearity_vif(scores, *, threshold: float = VIF_THRESHOLD) -> pd.DataFrame:
    """Full collinearity VIF of each construct score, regressed on all the others.

    .. math::

        VIF_j = \\frac{1}{1 - R^2_j},

    with :math:`R^2_j` from the OLS regression (with intercept) of score *j* on every
    other construct score. Kock (2015, *International Journal of e-Collaboration*
    11(4), 1-10; Kock & Lynn, 2012, *JAIS* 13(7), 546-580) reads a VIF above 3.3 as
    a sign of pathological collinearity or common method bias. Computed with
    statsmodels' ``variance_inflation_factor`` on the scores with a constant.

    Parameters
    ----------
    scores : pandas.DataFrame
        One column per construct (e.g. :func:`~ckm_research.measurement.factor_scores`
        of the CFA, or item means); rows with a missing score are dropped.
    threshold : float
        Kock's cut-off (3.3).

    Returns
    -------
    pandas.DataFrame
        Columns ``construct r2 vif above`` (``above``: VIF > threshold).

    Examples
    --------
    >>> import ckm_research
    >>> from ckm_research.data.examples import load_dataset
    >>> from ckm_research.measurement import factor_scores, full_collinearity_vif
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> res = ckm_research.fit(model, hs)
    >>> full_collinearity_vif(factor_scores(res, hs)).round(3)
      construct     r2    vif  above
    0    visual  0.488  1.953  False
    1   textual  0.305  1.439  False
    2     speed  0.352  1.544  False

    In R: ``1 / (1 - summary(lm(F1 ~ ., data = scores))$r.squared)``, per score.
    """
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    if not isinstance(scores, pd.DataFrame):
        raise _param_error("full_collinearity_vif", "scores", "a pandas.DataFrame", scores)
    x = scores.apply(pd.to_numeric, errors="coerce").dropna()
    if x.shape[1] < 2:
        raise CkmError("full collinearity VIFs need at least two construct scores")
    if len(x) <= x.shape[1] + 1:
        raise CkmError(
            f"full collinearity VIFs need more than {x.shape[1] + 1} complete "
            f"rows of scores; found {len(x)}"
        )
    sd = x.std()
    const = [str(c) for c in sd.index[~(sd > 0)]]
    if const:
        raise CkmError(f"the score of {', '.join(const)} is constant; it has no VIF")
    exog = np.column_stack([np.ones(len(x)), x.to_numpy(dtype=float)])
    rows = []
    for j, name in enumerate(x.columns):
        with np.errstate(divide="ignore"):
            vif = float(variance_inflation_factor(exog, j + 1))
        rows.append(
            {"construct": name, "r2": 1.0 - 1.0 / vif, "vif": vif, "above": bool(vif > threshold)}
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# everything at once (``ckm validity --inference``)


@dataclass
class ValidityInference:
    """The inferential checks of a fitted measurement model, for ``ckm validity``.

    Attributes
    ----------
    htmt : HTMTInference
    cfa : DiscriminantCFA
        CICFA(sys), and chi2(sys) when asked for.
    reliability : pandas.DataFrame
        :func:`~ckm_research.measurement.reliability_intervals`.
    alpha : pandas.DataFrame
        :func:`~ckm_research.measurement.alpha_intervals`.
    vif : pandas.DataFrame
        :func:`full_collinearity_vif` of the regression factor scores.
    notes : list of str
    """

    htmt: HTMTInference
    cfa: DiscriminantCFA
    reliability: pd.DataFrame
    alpha: pd.DataFrame
    vif: pd.DataFrame
    notes: list = field(default_factory=list)

    def summary(self, digits: int = 3) -> str:
        lines = [
            "Reliability intervals (omega and AVE of the model-implied variances: delta method "
            "and bootstrap percentile; Cronbach's alpha: Feldt et al., 1987, and bootstrap):",
            format_table(self.reliability, digits),
            format_table(self.alpha, digits),
            "",
            self.htmt.summary(digits),
            "",
            self.cfa.summary(digits),
            "",
            f"Full collinearity VIFs of the factor scores (Kock, 2015; threshold {VIF_THRESHOLD}):",
            format_table(self.vif, digits),
        ]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return clean_json(
            {
                "reliability_intervals": self.reliability,
                "alpha_intervals": self.alpha,
                "htmt_inference": self.htmt.to_dict(),
                "discriminant_cfa": self.cfa.to_dict(),
                "full_collinearity_vif": self.vif,
                "notes": self.notes,
            }
        )


def validity_inference(
    result,
    data,
    *,
    htmt2: bool = True,
    n_boot: int = 1000,
    random_state=None,
    chisq: bool = False,
    level: float = 0.95,
) -> ValidityInference:
    """All the inferential validity checks of a fitted single-group CFA/SEM.

    :func:`htmt_inference`, :func:`discriminant_cfa` (on the measurement model:
    the ``=~`` statements of ``result``, fitted with ``std.lv`` and the same estimator),
    :func:`~ckm_research.measurement.reliability_intervals` (bootstrap only for ML/MLR
    fits of complete data, the delta method otherwise),
    :func:`~ckm_research.measurement.alpha_intervals` and :func:`full_collinearity_vif`
    of the regression factor scores (``lavPredict``).

    Parameters
    ----------
    result : SEMResults
    data : pandas.DataFrame or path
        The data ``result`` was fitted to.
    htmt2 : bool
    n_boot : int
        Bootstrap resamples of each bootstrap.
    random_state : int or None
    chisq : bool
        Also run chi2(sys) (one constrained CFA per factor pair and cutoff).
    level : float

    Returns
    -------
    ValidityInference
    """
    from ckm_research.measurement.invariance import factor_scores
    from ckm_research.measurement.reliability_inference import (
        alpha_intervals,
        reliability_intervals,
    )
    from ckm_research.sem.ml import MLEngine

    result = require_result(result, "validity_inference")
    if result.ngroups > 1:
        raise CkmError("validity_inference needs a single-group fit")
    frame = as_frame(data)
    notes = []
    h = htmt_inference(frame, result, htmt2=htmt2, n_boot=n_boot, random_state=random_state)
    items = factor_indicators(result)
    cfa_text = "\n".join(f"{f} =~ {' + '.join(v)}" for f, v in items.items())
    opts = result.engine.opts
    fit_kwargs = {"estimator": result.estimator}
    if opts.missing != "listwise" and result.estimator not in ("FIML",):
        fit_kwargs["missing"] = opts.missing
    cfa = discriminant_cfa(cfa_text, frame, chisq=chisq, level=level, **fit_kwargs)
    if type(result.engine) is MLEngine:
        rel = reliability_intervals(result, level=level, n_boot=n_boot, random_state=random_state)
    else:
        rel = reliability_intervals(result, level=level, n_boot=0)
        notes.append(
            f"omega/AVE intervals: delta method only (the bootstrap refits need an ML or MLR "
            f"fit of complete data; this is {result.estimator})"
        )
    alpha = alpha_intervals(frame, result, level=level, n_boot=n_boot, random_state=random_state)
    vif = full_collinearity_vif(factor_scores(result, frame))
    if not chisq:
        notes.append("chi2(sys) not run (ckm validity --chi2-sys: one CFA per pair and cutoff)")
    return ValidityInference(htmt=h, cfa=cfa, reliability=rel, alpha=alpha, vif=vif, notes=notes)
