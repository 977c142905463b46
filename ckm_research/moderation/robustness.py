"""Robustness checks of the structural model on construct scores.

Two analyses a reviewer asks to see beside the latent (SEM) results:

* :func:`composite_regression`: the regression most published CKM studies ran,
  with each construct scored by the mean of its items, products of
  mean-centred scores for the interactions (Aiken & West, 1991, *Multiple
  Regression: Testing and Interpreting Interactions*, ch. 3) and HC3
  standard errors (MacKinnon & White, 1985, *Journal of Econometrics* 29,
  305-325; recommended by Long & Ervin, 2000, *The American Statistician*
  54, 217-224), so a reader can compare them with the latent estimates,
  which are free of the attenuation by measurement error the composites
  carry.
* :func:`gaussian_copula`: Gaussian copula control functions for endogenous
  regressors (Park & Gupta, 2012, *Marketing Science* 31(4), 567-586),
  with the checks Becker, Proksch & Ringle (2022, *Journal of the Academy of
  Marketing Science* 50, 46-66) require before it may be used: each
  endogenous regressor clearly non-normal, and a large sample.

Both work on construct scores (item means by default), use statsmodels OLS,
and return tidy tables with lavaan-like columns (``lhs op rhs est se``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ckm_research.errors import CkmError
from ckm_research.sem.syntax import parse_model

__all__ = [
    "composite_scores",
    "structural_equations",
    "composite_regression",
    "CompositeRegressionResult",
    "gaussian_copula",
    "CopulaResult",
    "COPULA_MIN_N",
]

#: Sample size below which Becker, Proksch & Ringle (2022) advise against copulas.
COPULA_MIN_N = 1000


def _read(model) -> str:
    from pathlib import Path

    if isinstance(model, Path):
        return model.read_text(encoding="utf-8")
    if not isinstance(model, str):
        raise CkmError(f"the model must be lavaan syntax (a string or a path); got {model!r}")
    return model


def _frame(data) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    from ckm_research.data.io import read_data

    return read_data(data)


def composite_scores(model, data, *, min_items: int | None = None) -> pd.DataFrame:
    """Each construct scored by the mean of its items (a unit-weighted composite).

    Parameters
    ----------
    model : str or pathlib.Path
        lavaan syntax; every ``F =~ items`` with observed items gives one column.
    data : pandas.DataFrame or path
    min_items : int, optional
        Score a case with at least this many answered items of the construct
        (the mean of those); default: all items (a missing item gives NaN).

    Returns
    -------
    pandas.DataFrame
        One column per construct, indexed as ``data``.

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> composite_scores("visual =~ x1 + x2 + x3", hs).round(3).head(2)
       visual
    0   3.819
    1   4.236

    In R: ``rowMeans(df[, c("x1", "x2", "x3")])``.
    """
    parsed = parse_model(_read(model))
    frame = _frame(data)
    lv = {s.lhs for s in parsed.statements if s.op == "=~"}
    items: dict[str, list[str]] = {}
    for s in parsed.statements:
        if s.op == "=~" and s.rhs not in lv:
            items.setdefault(s.lhs, [])
            if s.rhs not in items[s.lhs]:
                items[s.lhs].append(s.rhs)
    if not items:
        raise CkmError("the model has no factor with observed items (F =~ x1 + x2 ...)")
    missing = sorted({i for its in items.values() for i in its} - set(frame.columns))
    if missing:
        raise CkmError("the data have no column(s) " + ", ".join(missing) + " named in the model")
    out = {}
    for f, its in items.items():
        block = frame[its].apply(pd.to_numeric, errors="coerce")
        bad = [c for c in its if block[c].isna().all()]
        if bad:
            raise CkmError(f"item(s) {', '.join(bad)} of {f} have no numeric value")
        need = len(its) if min_items is None else int(min_items)
        score = block.mean(axis=1, skipna=True)
        score[block.notna().sum(axis=1) < need] = np.nan
        out[f] = score
    return pd.DataFrame(out, index=frame.index)


def structural_equations(model) -> list[tuple[str, list[str]]]:
    """The regressions ``Y ~ X + Z + X:Z`` of a model, as ``(Y, [X, Z, X:Z])``."""
    parsed = parse_model(_read(model))
    eqs: dict[str, list[str]] = {}
    for s in parsed.statements:
        if s.op == "~" and s.rhs != "1":
            eqs.setdefault(s.lhs, [])
            if s.rhs not in eqs[s.lhs]:
                eqs[s.lhs].append(s.rhs)
    return list(eqs.items())


def _scores_and_equations(model, data, scores, equations):
    eqs = (
        structural_equations(model)
        if equations is None
        else [(str(y), list(xs)) for y, xs in equations]
    )
    if not eqs:
        raise CkmError("the model has no structural equation (Y ~ X); nothing to estimate")
    sc = composite_scores(model, data) if scores is None else scores
    if not isinstance(sc, pd.DataFrame):
        raise CkmError("scores must be a pandas.DataFrame with one column per construct")
    need = {y for y, _ in eqs} | {p for _, xs in eqs for x in xs for p in x.split(":")}
    absent = sorted(need - set(sc.columns))
    if absent:
        raise CkmError(
            "no score for " + ", ".join(absent) + " (the structural equations name them; "
            "composite scores exist for the factors with observed items)"
        )
    return sc, eqs


def _design(sc: pd.DataFrame, y: str, terms: Sequence[str], center: bool):
    """Response and design (intercept first) on the complete cases: first-order
    terms mean-centred if ``center``, products always of mean-centred components."""
    comps = sorted({p for t in terms for p in t.split(":")})
    d = sc[[y, *comps]].dropna()
    cols = {"(Intercept)": np.ones(len(d))}
    for t in terms:
        parts = t.split(":")
        v = np.ones(len(d))
        for p in parts:
            x = d[p].to_numpy(float)
            v = v * (x - x.mean() if (center or len(parts) > 1) else x)
        cols[t] = v
    return d[y].astype(float), pd.DataFrame(cols, index=d.index)


@dataclass
class CompositeRegressionResult:
    """Composite-score regressions of the structural equations.

    Attributes
    ----------
    table : pandas.DataFrame
        ``lhs op rhs est se t pvalue ci.lower ci.upper std`` (HC3 SEs; ``std``
        the coefficient times sd(x)/sd(y)), with ``est.latent std.latent``
        beside them when a latent fit was given.
    r2 : pandas.DataFrame
        ``lhs r2 adj.r2 n`` per equation.
    models : dict
        ``lhs`` -> statsmodels results (``cov_type='HC3'``).
    notes : list of str
    """

    table: pd.DataFrame
    r2: pd.DataFrame
    models: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self, digits: int = 3) -> str:
        lines = [
            "Composite-score regressions (item means; mean-centred products; HC3 SEs):",
            self.table.round(digits).to_string(index=False),
            "",
            self.r2.round(digits).to_string(index=False),
        ]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def composite_regression(
    model,
    data,
    *,
    equations: Iterable[tuple[str, Sequence[str]]] | None = None,
    scores: pd.DataFrame | None = None,
    center: bool = True,
    cov_type: str = "HC3",
    latent=None,
    alpha: float = 0.05,
) -> CompositeRegressionResult:
    """The structural equations as OLS regressions on item-mean composites.

    For each equation :math:`Y = b_0 + \\sum_k b_k X_k + \\sum b_{jk}
    (X_j - \\bar X_j)(X_k - \\bar X_k) + e`, with every construct the mean of its
    items; with ``center=True`` (the default) all predictors are mean-centred
    and products are formed of the centred components (Aiken & West, 1991),
    so the first-order coefficients are the slopes at the mean of the
    moderator.  Standard errors are HC3 (MacKinnon & White, 1985):
    :math:`(X^\\top X)^{-1} X^\\top \\operatorname{diag}(e_i^2/(1-h_{ii})^2) X
    (X^\\top X)^{-1}`.  Composites carry measurement error, so their slopes are
    attenuated relative to the latent ones and product terms especially so
    (Busemeyer & Jones, 1983, *Psychological Bulletin* 93, 549-562).

    Parameters
    ----------
    model : str or pathlib.Path
        lavaan syntax with the measurement model and ``Y ~ X + Z + X:Z``.
    data : pandas.DataFrame or path
    equations : iterable of (str, sequence of str), optional
        ``[("INS", ["CKM", "CTU", "CKM:CTU"])]``; default: the model's.
    scores : pandas.DataFrame, optional
        Construct scores to use instead of the item means.
    center : bool
        Mean-centre the predictors (products are always of centred components).
    cov_type : str
        statsmodels' ``cov_type`` (``'HC3'``; ``'nonrobust'`` for OLS SEs).
    latent : SEMResults, optional
        A latent fit of the same model: its ``est`` and ``std.all`` are put
        beside the composite estimates.
    alpha : float
        1 - confidence level of the intervals (t distribution).

    Returns
    -------
    CompositeRegressionResult

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9\\nspeed ~ visual + textual")
    >>> composite_regression(model, hs).table[["lhs", "op", "rhs", "est", "se"]].round(3)
         lhs op      rhs    est     se
    0  speed  ~   visual  0.207  0.053
    1  speed  ~  textual  0.118  0.046

    In R: ``lm(INS ~ CKMc * CTUc)`` on the centred item means, with
    ``sandwich::vcovHC(fit, type = "HC3")``.
    """
    import statsmodels.api as sm

    sc, eqs = _scores_and_equations(model, data, scores, equations)
    rows, r2, fits = [], [], {}
    for y, terms in eqs:
        yv, X = _design(sc, y, terms, center)
        if len(yv) <= X.shape[1]:
            raise CkmError(
                f"the equation of {y} has {len(yv)} complete cases for {X.shape[1]} coefficients"
            )
        res = sm.OLS(yv, X).fit(cov_type=cov_type)
        fits[y] = res
        ci = res.conf_int(alpha)
        sd_y = float(yv.std(ddof=1))
        for t in terms:
            p = res.params[t]
            sd_x = float(X[t].std(ddof=1))
            rows.append(
                {
                    "lhs": y,
                    "op": "~",
                    "rhs": t,
                    "est": float(p),
                    "se": float(res.bse[t]),
                    "t": float(res.tvalues[t]),
                    "pvalue": float(res.pvalues[t]),
                    "ci.lower": float(ci.loc[t, 0]),
                    "ci.upper": float(ci.loc[t, 1]),
                    "std": float(p * sd_x / sd_y),
                }
            )
        r2.append(
            {
                "lhs": y,
                "r2": float(res.rsquared),
                "adj.r2": float(res.rsquared_adj),
                "n": int(res.nobs),
            }
        )
    table = pd.DataFrame(rows)
    notes = [
        "item means carry measurement error: composite slopes are attenuated relative to "
        "the latent ones, products most (Busemeyer & Jones, 1983)",
    ]
    if cov_type.upper() != "HC3":
        notes.append(f"standard errors: statsmodels cov_type={cov_type!r}")
    if latent is not None:
        est = latent.estimates
        if "group" in est.columns:
            raise CkmError("latent= must be a single-group fit")
        lat = est[est["op"] == "~"][
            ["lhs", "rhs", "est", *(["std.all"] if "std.all" in est.columns else [])]
        ]
        lat = lat.rename(columns={"est": "est.latent", "std.all": "std.latent"})
        table = table.merge(lat, on=["lhs", "rhs"], how="left")
        notes.append(
            "est.latent/std.latent: the latent fit given (its product terms are on "
            "the scale of the latent product, not of the centred composites)"
        )
    return CompositeRegressionResult(table=table, r2=pd.DataFrame(r2), models=fits, notes=notes)


# ---------------------------------------------------------------------------
# Gaussian copula


def copula_term(x) -> np.ndarray:
    """Park & Gupta's (2012) copula control function :math:`\\Phi^{-1}(H(x))`.

    :math:`H` is the empirical distribution function (``ecdf(x)(x)`` in R: the
    share of values :math:`\\le x_i`), held inside :math:`[10^{-7}, 1 - 10^{-7}]`
    so that the largest value gets a finite term, as REndo's
    ``copulaCorrection`` does.
    """
    x = np.asarray(x, dtype=float)
    h = stats.rankdata(x, method="max") / len(x)
    return stats.norm.ppf(np.clip(h, 1e-7, 1 - 1e-7))


@dataclass
class CopulaResult:
    """Gaussian-copula robustness table.

    Attributes
    ----------
    table : pandas.DataFrame
        ``lhs op rhs est.ols est se.boot z pvalue ci.lower ci.upper`` for
        every regressor and copula term (``rhs`` ``cop(X)``) of each equation:
        ``est.ols`` without the copula terms, ``est`` with them; bootstrap
        SEs and percentile intervals.
    checks : pandas.DataFrame
        Per equation and endogenous regressor: ``n sw.stat sw.pvalue cvm.stat
        cvm.pvalue nonnormal large.n usable`` (Becker et al., 2022).
    notes : list of str
        The limits of the method and any failed check.
    n_boot : int
    """

    table: pd.DataFrame
    checks: pd.DataFrame
    notes: list[str]
    n_boot: int

    def summary(self, digits: int = 3) -> str:
        lines = [
            "Gaussian copula control functions (Park & Gupta, 2012), bootstrap SEs "
            f"({self.n_boot} resamples):",
            self.table.round(digits).to_string(index=False),
            "",
            "Checks before use (Becker, Proksch & Ringle, 2022):",
            self.checks.round(digits).to_string(index=False),
        ]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _ols(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(X, y, rcond=None)[0]


def gaussian_copula(
    model,
    data,
    *,
    equations: Iterable[tuple[str, Sequence[str]]] | None = None,
    endogenous: Sequence[str] | None = None,
    scores: pd.DataFrame | None = None,
    n_boot: int = 500,
    random_state: int | None = None,
    alpha: float = 0.05,
) -> CopulaResult:
    """Gaussian copula control functions for endogenous regressors (Park & Gupta, 2012).

    For an equation :math:`Y = X\\beta + P\\alpha + \\varepsilon` whose
    regressor :math:`P` may correlate with the error, the copula term
    :math:`P^* = \\Phi^{-1}(H(P))` (:func:`copula_term`) is added as a
    regressor, :math:`Y = X\\beta + P\\alpha + P^*\\sigma + \\xi` (Park &
    Gupta, 2012); a significant :math:`\\sigma` signals endogeneity and
    :math:`\\alpha` is then the corrected slope.  Standard errors come from a
    case bootstrap that recomputes the copula terms in each resample (Park &
    Gupta, 2012).  The scores are the item means
    (:func:`composite_scores`) unless ``scores`` are given; product terms
    (``X:Z``) are mean-centred products, kept as exogenous regressors.

    Before it may be used (Becker, Proksch & Ringle, 2022, JAMS 50, 46-66):
    each endogenous regressor must be clearly non-normal (here: both
    Shapiro-Wilk and Cramer-von Mises tests of normality reject at .05;
    identification fails for a normal regressor), and the sample should be
    large (about 1,000 or more; below that the copula estimates are biased and
    unstable).  A regressor failing a check is still estimated but marked
    ``usable = False`` with a note.

    Parameters
    ----------
    model : str or pathlib.Path
        lavaan syntax with the measurement model and the structural equations.
    data : pandas.DataFrame or path
    equations : iterable of (str, sequence of str), optional
        Default: the model's regressions.
    endogenous : sequence of str, optional
        The regressors suspected endogenous (default: every first-order
        regressor of each equation).
    scores : pandas.DataFrame, optional
        Construct scores to use instead of item means.
    n_boot : int
        Bootstrap resamples.
    random_state : int, optional
    alpha : float
        1 - level of the percentile intervals.

    Returns
    -------
    CopulaResult

    Notes
    -----
    Limits, stated in the result: the method assumes normal structural errors
    and a non-normal regressor; it does not correct for endogeneity of a
    regressor correlated with the exogenous ones unless these get copula terms
    too (Becker et al., 2022);
    on composite scores it does not remove attenuation by measurement error,
    which is not endogeneity of the kind it addresses; it is a robustness
    check, not an instrument.

    Examples
    --------
    Holzinger-Swineford's item means are close to normal, so the checks say the
    copula cannot be used there (use ``n_boot=1000`` or more in real work):

    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9\\nspeed ~ visual + textual")
    >>> cop = gaussian_copula(model, hs, n_boot=50, random_state=1)
    >>> cop.checks[["rhs", "usable"]]
           rhs  usable
    0   visual   False
    1  textual   False

    In R: ``lm(Y ~ X + qnorm(ecdf(X)(X)))`` (or ``REndo::copulaCorrection``).
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise CkmError(
            f"The 'n_boot' parameter of gaussian_copula must be an int in the range [2, inf). "
            f"Got {n_boot!r} instead."
        )
    sc, eqs = _scores_and_equations(model, data, scores, equations)
    rng = np.random.default_rng(random_state)
    rows, checks = [], []
    notes = [
        "the copula needs normal structural errors and non-normal endogenous regressors; "
        "an exogenous regressor correlated with an endogenous one biases it unless it gets "
        "a copula term too (Becker, Proksch & Ringle, 2022); it does not correct the "
        "attenuation of composite scores by measurement error; a robustness check, not an "
        "instrumental-variable estimate",
    ]
    for y, terms in eqs:
        yv, X = _design(sc, y, terms, center=False)
        n = len(yv)
        first = [t for t in terms if ":" not in t]
        endo = first if endogenous is None else [t for t in first if t in set(endogenous)]
        if endogenous is not None:
            unknown = sorted(set(endogenous) - {p for _, ts in eqs for p in ts})
            if unknown:
                raise CkmError(
                    "endogenous= names " + ", ".join(unknown) + ", which is no "
                    "regressor of the structural equations"
                )
        if not endo:
            continue
        for p in endo:
            v = X[p].to_numpy(float)
            sw = stats.shapiro(v) if n <= 5000 else (np.nan, np.nan)
            cvm = stats.cramervonmises(v, "norm", args=(v.mean(), v.std(ddof=1)))
            nonnormal = bool(sw[1] < 0.05 and cvm.pvalue < 0.05)
            large = n >= COPULA_MIN_N
            checks.append(
                {
                    "lhs": y,
                    "rhs": p,
                    "n": n,
                    "sw.stat": float(sw[0]),
                    "sw.pvalue": float(sw[1]),
                    "cvm.stat": float(cvm.statistic),
                    "cvm.pvalue": float(cvm.pvalue),
                    "nonnormal": nonnormal,
                    "large.n": large,
                    "usable": nonnormal and large,
                }
            )
            if not nonnormal:
                notes.append(
                    f"{y} ~ {p}: {p} is not clearly non-normal (Shapiro-Wilk p = "
                    f"{sw[1]:.3f}, Cramer-von Mises p = {cvm.pvalue:.3f}); the copula "
                    "is not identified for a normal regressor, do not interpret it"
                )
            if not large:
                notes.append(
                    f"{y} ~ {p}: n = {n} < {COPULA_MIN_N}; Becker et al. (2022) "
                    "advise large samples, the estimates are unreliable here"
                )
        names = list(X.columns)
        cop_names = [f"cop({p})" for p in endo]

        def estimate(idx, _X=X, _y=yv, _endo=endo):
            Xb = _X.to_numpy(float)[idx]
            Xb = _centre_products(Xb, _X.columns)
            cops = np.column_stack([copula_term(_X[p].to_numpy(float)[idx]) for p in _endo])
            return _ols(_y.to_numpy(float)[idx], np.column_stack([Xb, cops]))

        full = np.arange(n)
        est = estimate(full)
        ols = _ols(yv.to_numpy(float), _centre_products(X.to_numpy(float), X.columns))
        boot = np.empty((n_boot, len(est)))
        for b in range(n_boot):
            boot[b] = estimate(rng.integers(0, n, n))
        se = boot.std(axis=0, ddof=1)
        lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2], axis=0)
        for k, name in enumerate(names + cop_names):
            if name == "(Intercept)":
                continue
            z = est[k] / se[k]
            rows.append(
                {
                    "lhs": y,
                    "op": "~",
                    "rhs": name,
                    "est.ols": float(ols[k]) if k < len(names) else np.nan,
                    "est": float(est[k]),
                    "se.boot": float(se[k]),
                    "z": float(z),
                    "pvalue": float(2 * stats.norm.sf(abs(z))),
                    "ci.lower": float(lo[k]),
                    "ci.upper": float(hi[k]),
                }
            )
    if not rows:
        raise CkmError(
            "no endogenous regressor to correct (endogenous= names none of the "
            "equations' first-order regressors)"
        )
    return CopulaResult(
        table=pd.DataFrame(rows), checks=pd.DataFrame(checks), notes=notes, n_boot=int(n_boot)
    )


def _centre_products(X: np.ndarray, columns) -> np.ndarray:
    """Recompute the product columns from mean-centred components of this sample."""
    cols = list(columns)
    if not any(":" in c for c in cols):
        return X
    out = X.copy()
    for j, c in enumerate(cols):
        if ":" in c:
            v = np.ones(len(X))
            for p in c.split(":"):
                if p not in cols:
                    raise CkmError(f"the product {c} needs {p} as a regressor of its own")
                x = X[:, cols.index(p)]
                v = v * (x - x.mean())
            out[:, j] = v
    return out
