"""Common method variance (CMV): Harman's single-factor test, the
unmeasured latent method construct (ULMC), and marker-variable techniques.

Podsakoff, MacKenzie, Lee & Podsakoff (2003, *Journal of Applied
Psychology* 88, 879-903) review the procedures; none of them is decisive, so
report what each finds:

============================  ==================================================
function                      what it does
============================  ==================================================
:func:`harman_single_factor`  share of the items' variance on the first
                              unrotated principal component, and a one-factor
                              CFA against the trait model (Podsakoff et al.,
                              2003, p. 889)
:func:`ulmc`                  adds a method factor loading on every item,
                              orthogonal to the traits, and tests it by a
                              chi-square difference (Podsakoff et al., 2003,
                              Table 4; Williams, Cote & Buckley, 1989)
:func:`lindell_whitney`       partials the smallest marker correlation out of
                              the construct correlations (Lindell & Whitney,
                              2001, *J. Applied Psychology* 86, 114-121)
:func:`cfa_marker`            the CFA marker technique: baseline, Method-C,
                              Method-U and Method-R models (Williams, Hartman &
                              Cavazotte, 2010, *Organizational Research Methods*
                              13, 477-514)
============================  ==================================================

The models are fitted with the toolkit's lavaan-equivalent engine and the
tests compare them with lavaan fits of the same models
(``tests/reference/R/measurement.R``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ckm_research.errors import CkmError
from ckm_research.measurement._common import (
    as_frame,
    blocks,
    check_columns,
    clean_json,
    factor_indicators,
    format_table,
)
from ckm_research.measurement.invariance import chisq_difference

__all__ = [
    "cmv_checks",
    "harman_single_factor",
    "HarmanResult",
    "ulmc",
    "ULMCResult",
    "lindell_whitney",
    "LindellWhitneyResult",
    "cfa_marker",
    "CFAMarkerResult",
]

_FIT_KEYS = ("npar", "chisq", "df", "pvalue", "chisq.scaled", "pvalue.scaled", "cfi", "tli",
             "rmsea", "srmr", "cfi.robust", "rmsea.robust", "aic", "bic")


def _cfa_syntax(items: dict[str, list[str]]) -> str:
    return "\n".join(f"{f} =~ " + " + ".join(v) for f, v in items.items())


def _fresh_name(base: str, taken) -> str:
    name = base
    k = 1
    while name in taken:
        k += 1
        name = f"{base}{k}"
    return name


def _fit(model_text: str, data: pd.DataFrame, estimator: str, **kw):
    from ckm_research import fit

    return fit(model_text, data, estimator=estimator, **kw)


def _fit_row(name: str, res) -> dict[str, Any]:
    row: dict[str, Any] = {"model": name}
    if res is None:
        return row
    fm = res.fit_measures
    for k in _FIT_KEYS:
        if k in fm:
            row[k] = fm[k]
    return row


def _compare(name: str, restricted, free) -> dict[str, Any]:
    row: dict[str, Any] = {"comparison": name}
    if restricted is None or free is None:
        row.update({"chisq.diff": np.nan, "df.diff": np.nan, "pvalue": np.nan,
                    "method": "not available"})
        return row
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        test = chisq_difference(restricted, free)
    row.update({"chisq.diff": test["chisq.diff"], "df.diff": test["df.diff"],
                "pvalue": test["pvalue"], "method": test["method"]})
    row["delta.cfi"] = free.fit_measures["cfi"] - restricted.fit_measures["cfi"]
    return row


def _std_loadings(res, factor: str | None = None) -> pd.DataFrame:
    ss = res.standardized_solution
    sub = ss[ss["op"] == "=~"]
    if factor is not None:
        sub = sub[sub["lhs"] == factor]
    return sub[["lhs", "rhs", "est.std"]]


def _prepare(data, model, estimator):
    frame = as_frame(data)
    items = factor_indicators(model)
    names = list(dict.fromkeys(i for v in items.values() for i in v))
    check_columns(frame, names)
    est = str(estimator).upper()
    if est in ("WLSMV", "WLSM", "ULSMV"):
        raise CkmError(f"common-method checks with {est} are not implemented; use ML or MLR")
    return frame, items, names, est


# ---------------------------------------------------------------------------
# Harman


@dataclass
class HarmanResult:
    """Harman's single-factor test.

    Attributes
    ----------
    eigenvalues : numpy.ndarray
        Of the items' correlation matrix, largest first.
    first_component_share : float
        Share of the items' total (standardized) variance on the first
        unrotated principal component, ``eigenvalues[0] / p``.
    one_factor_share : float
        Mean squared standardized loading of the one-factor CFA: the share
        of variance a single common factor accounts for.
    fits : pandas.DataFrame
        Fit of the one-factor and the trait (measurement) model.
    comparison : dict
        Chi-square difference of the one-factor against the trait model.
    """

    eigenvalues: np.ndarray
    first_component_share: float
    one_factor_share: float
    fits: pd.DataFrame
    comparison: dict
    n_items: int
    threshold: float = 0.50

    @property
    def dominant(self) -> bool:
        """True when the first component explains more than half the variance."""
        return bool(self.first_component_share > self.threshold)

    def to_dict(self) -> dict[str, Any]:
        return clean_json({
            "method": "first unrotated principal component of the item correlations; "
                      "one-factor CFA against the trait model",
            "eigenvalues": list(self.eigenvalues),
            "first_component_share": self.first_component_share,
            "one_factor_share": self.one_factor_share,
            "threshold": self.threshold,
            "dominant": self.dominant,
            "fits": self.fits,
            "comparison": self.comparison,
        })

    def summary(self, digits: int = 3) -> str:
        verdict = ("more than half: a single factor dominates" if self.dominant
                   else "less than half: no single factor dominates")
        c = self.comparison
        return "\n".join([
            "Harman's single-factor test (Podsakoff et al., 2003, p. 889):",
            f"  first unrotated principal component: {self.first_component_share:.{digits}f} "
            f"of the variance of {self.n_items} items ({verdict}; threshold .50)",
            f"  one-factor CFA: the factor accounts for {self.one_factor_share:.{digits}f} of "
            f"the variance; against the trait model chi-square difference = "
            f"{c['chisq.diff']:.{digits}f} (df = {c['df.diff']:.0f}, p = {c['pvalue']:.3g})",
            "  The test is insensitive: it rarely detects method variance that biases "
            "results (Podsakoff et al., 2003; Fuller et al., 2016, J. Business Research 69, "
            "3192-3198).",
        ])


def harman_single_factor(data, model, *, estimator: str = "ML",
                         missing: str | None = None) -> HarmanResult:
    """Harman's single-factor test, EFA-free: principal components and a one-factor CFA.

    The first part is the classic test without a factor-analysis package: the
    share of the items' standardized variance on the first unrotated
    *principal component*, :math:`\\lambda_1/p` with :math:`\\lambda_1` the
    largest eigenvalue of the correlation matrix of the ``p`` items (cases
    complete on all items); more than .50 is the usual sign that one factor
    dominates.  The second part is its confirmatory version (McFarlin &
    Sweeney, 1992; Podsakoff et al., 2003, p. 889): a CFA with all items on one
    factor, compared with the trait model (the model's factors, all
    correlated) by :func:`~ckm_research.measurement.chisq_difference`; the
    share of variance of that single factor is the mean squared standardized
    loading.

    Parameters
    ----------
    data : pandas.DataFrame or path
    model : str, pathlib.Path or SEMResults
        Which items measure which factor.
    estimator : {'ML', 'MLR', 'FIML'}
    missing : {'listwise', 'ml'}, optional
        Passed to :func:`~ckm_research.fit` (``'ml'``: FIML).

    Returns
    -------
    HarmanResult

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> print(harman_single_factor(hs, model).summary())
    Harman's single-factor test (Podsakoff et al., 2003, p. 889):
      first unrotated principal component: 0.357 of the variance of 9 items ...

    In R: ``eigen(cor(items))$values[1] / ncol(items)``.
    """
    frame, items, names, est = _prepare(data, model, estimator)
    x = frame[names].apply(pd.to_numeric, errors="coerce").dropna()
    ev = np.sort(np.linalg.eigvalsh(x.corr().to_numpy()))[::-1]
    general = _fresh_name("GENERAL", set(items) | set(names))
    one = _fit(f"{general} =~ " + " + ".join(names), frame, est, missing=missing)
    trait = _fit(_cfa_syntax(items), frame, est, missing=missing)
    load = _std_loadings(one, general)["est.std"].to_numpy()
    fits = pd.DataFrame([_fit_row("one factor", one), _fit_row("traits", trait)])
    comp = _compare("one factor vs traits", one, trait)
    return HarmanResult(
        eigenvalues=ev,
        first_component_share=float(ev[0] / len(ev)),
        one_factor_share=float(np.mean(load**2)),
        fits=fits,
        comparison=comp,
        n_items=len(names),
    )


# ---------------------------------------------------------------------------
# ULMC


@dataclass
class ULMCResult:
    """The unmeasured latent method construct comparison.

    Attributes
    ----------
    fits : pandas.DataFrame
        Fit of the trait model, the method model with equal loadings and the
        method model with free loadings.
    tests : pandas.DataFrame
        Chi-square differences of each method model against the trait model.
    loadings : pandas.DataFrame
        Per item: standardized trait loading without and with the method
        factor, standardized method loading (free model) and the variance
        shares (squared loadings).
    method_variance : float
        Mean share of item variance due to the method factor (free model);
        Williams et al. (1989) found a median of about .25 in published studies.
    method_variance_equal : float
        The same for the equal-loadings model.
    correlations : pandas.DataFrame
        Factor correlations without and with the method factor (free model).
    method_factor_variance : (float, float)
        Estimate and SE of the method variance :math:`v` of the equal model.
    pvalue : float
        Boundary-corrected p-value of the equal-loadings test.
    detected : bool
        ``pvalue < alpha``.
    """

    fits: pd.DataFrame
    tests: pd.DataFrame
    loadings: pd.DataFrame
    method_variance: float
    method_variance_equal: float
    correlations: pd.DataFrame
    alpha: float
    method_factor_variance: tuple[float, float] = (np.nan, np.nan)
    notes: list[str] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)

    @property
    def pvalue(self) -> float:
        """p-value of H0: no method variance, against v > 0 (boundary-corrected).

        Under H0 the variance sits on the boundary of its space, so the
        likelihood-ratio statistic is a 50:50 mixture of chi-square(0) and
        chi-square(1) (Self & Liang, 1987, JASA 82, 605-610; Stram & Lee,
        1994, Biometrics 50, 1171-1177): half the chi-square(1) p-value when
        the estimate is positive, 1 otherwise.
        """
        p = self.tests.set_index("comparison").loc["equal vs traits", "pvalue"]
        if not np.isfinite(p):
            return float("nan")
        return float(p / 2) if self.method_factor_variance[0] > 0 else 1.0

    @property
    def detected(self) -> bool:
        """The boundary-corrected test of the method variance is significant."""
        return bool(np.isfinite(self.pvalue) and self.pvalue < self.alpha)

    def to_dict(self) -> dict[str, Any]:
        return clean_json({
            "method": "ULMC: method factor on all items, orthogonal to the traits",
            "detected": self.detected,
            "pvalue": self.pvalue,
            "alpha": self.alpha,
            "method_variance": self.method_variance,
            "method_variance_equal": self.method_variance_equal,
            "method_factor_variance": {"est": self.method_factor_variance[0],
                                       "se": self.method_factor_variance[1]},
            "fits": self.fits,
            "tests": self.tests,
            "loadings": self.loadings,
            "correlations": self.correlations,
            "notes": self.notes,
        })

    def summary(self, digits: int = 3) -> str:
        lines = [
            "Unmeasured latent method construct (Podsakoff et al., 2003, Table 4):",
            format_table(self.fits[[c for c in ("model", "npar", "chisq", "df", "cfi", "rmsea",
                                                "srmr") if c in self.fits.columns]], digits),
            "",
            format_table(self.tests, digits),
            "",
            f"  mean method variance per item: {self.method_variance:.{digits}f} (free "
            f"loadings), {self.method_variance_equal:.{digits}f} (equal loadings)",
            "  method factor " + ("detected" if self.detected else "not detected")
            + f" by the equal-loadings test (boundary-corrected p = {self.pvalue:.3g}, "
            f"alpha = {self.alpha})",
        ]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def ulmc(data, model, *, estimator: str = "ML", alpha: float = 0.05,
         missing: str | None = None) -> ULMCResult:
    """Unmeasured latent method construct: a method factor on every item.

    Three CFAs with all factors standardized (lavaan ``std.lv = TRUE``):

    * the trait model (the model's factors, correlated);
    * the same plus a factor ``METHOD`` loading on every item with one common
      loading, uncorrelated with the traits (one extra parameter; written with
      unit loadings and a free method variance :math:`v`, which is the same
      model with loading :math:`\\sqrt v` when :math:`v \\ge 0` and, unlike the
      loading, a regular parameter at zero);
    * the same with free method loadings (Podsakoff et al., 2003, Table 4,
      "controlling for the effects of an unmeasured latent methods factor";
      Williams, Cote & Buckley, 1989, *J. Applied Psychology* 74, 462-468).

    Each method model is compared with the trait model by
    :func:`~ckm_research.measurement.chisq_difference` (Satorra-Bentler 2001
    for MLR).  ``detected`` uses the equal-loadings test: with free loadings
    the model is not identified when there is no method factor (every
    derivative with respect to a method loading vanishes at zero loadings),
    so its difference test does not follow its nominal chi-square
    distribution and rejects too often (about 10% at the 5% level in our
    simulations); it and the share of method variance
    (mean squared standardized method loading) are reported as effect sizes.
    The equal-loadings p-value is corrected for the boundary (see
    :attr:`ULMCResult.pvalue`).
    The ULMC cannot tell method variance from a true general factor, and a
    method effect proportional to the trait loadings is absorbed by the
    traits (Richardson, Simmering & Sturman, 2009, *Organizational Research
    Methods* 12, 762-800): read it with the marker techniques.

    Parameters
    ----------
    data : pandas.DataFrame or path
    model : str, pathlib.Path or SEMResults
        Which items measure which factor (its ``=~`` statements).
    estimator : {'ML', 'MLR', 'FIML'}
    alpha : float
        Significance level of ``detected``.
    missing : {'listwise', 'ml'}, optional
        Passed to :func:`~ckm_research.fit` (``'ml'``: FIML).

    Returns
    -------
    ULMCResult

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> res = ulmc(hs, model)
    >>> res.detected, round(res.method_variance, 3)
    (True, 0.23)

    In R: ``cfa(paste(model, "METHOD =~ x1 + ... ; METHOD ~~ 0*F1 + ..."),
    data, std.lv = TRUE)`` and ``lavTestLRT``.
    """
    if not (isinstance(alpha, float) and 0 < alpha < 1):
        raise CkmError(f"The 'alpha' parameter of ulmc must be a float in the range (0, 1). "
                       f"Got {alpha!r} instead.")
    frame, items, names, est = _prepare(data, model, estimator)
    taken = set(items) | set(names)
    meth = _fresh_name("METHOD", taken)
    trait_text = _cfa_syntax(items)
    orth = f"{meth} ~~ " + " + ".join(f"0*{f}" for f in items)
    free_text = "\n".join([trait_text, f"{meth} =~ " + " + ".join(names), orth])
    equal_text = "\n".join([trait_text, f"{meth} =~ " + " + ".join(f"1*{v}" for v in names),
                            f"{meth} ~~ NA*{meth}", orth])
    notes: list[str] = []
    trait = _fit(trait_text, frame, est, std_lv=True, missing=missing)
    fitted: dict[str, Any] = {}
    for key, text in (("equal", equal_text), ("free", free_text)):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fitted[key] = _fit(text, frame, est, std_lv=True, missing=missing)
            for w in caught:
                if not issubclass(w.category, UserWarning):
                    continue
                text = str(w.message)
                if key == "equal" and (f"'{meth}'" in text
                                       or "latent variables is not positive" in text):
                    continue  # a negative method variance: reported below
                notes.append(f"method model ({key} loadings): {w.message}")
        except CkmError as exc:
            fitted[key] = None
            why = (" (expected when there is little method variance: with free loadings the "
                   "model is not identified at zero method loadings)" if key == "free" else "")
            notes.append(f"the method model with {key} loadings could not be estimated{why}: "
                         f"{exc}")
    fits = pd.DataFrame([_fit_row("traits", trait),
                         _fit_row("traits + method (equal loadings)", fitted["equal"]),
                         _fit_row("traits + method (free loadings)", fitted["free"])])
    tests = pd.DataFrame([_compare("equal vs traits", trait, fitted["equal"]),
                          _compare("free vs traits", trait, fitted["free"])])
    # the equal-loadings model is written with unit loadings and a free method
    # variance v (equivalent to a common loading sqrt(v) when v >= 0, and regular
    # at v = 0); its method variance share of item i is v / sigma_ii
    v_hat = v_se = np.nan
    share_equal = pd.Series(np.nan, index=names)
    if fitted["equal"] is not None:
        e = fitted["equal"].estimates
        vrow = e[(e["op"] == "~~") & (e["lhs"] == meth) & (e["rhs"] == meth)].iloc[0]
        v_hat, v_se = float(vrow["est"]), float(vrow["se"])
        if v_hat < 0:
            notes.append(f"the method variance of the equal-loadings model is negative "
                         f"({v_hat:.4f}, SE {v_se:.4f}): no sign of method variance")
        sig = blocks(fitted["equal"])[0].implied_cov
        share_equal = pd.Series({v: v_hat / sig.at[v, v] for v in names})
    t0 = _std_loadings(trait)
    rows = []
    for f, vs in items.items():
        for v in vs:
            row = {"factor": f, "item": v}
            row["trait"] = float(t0[(t0["lhs"] == f) & (t0["rhs"] == v)]["est.std"].iloc[0])
            res = fitted["free"]
            if res is None:
                row["trait.with.method"] = row["method"] = np.nan
            else:
                s = _std_loadings(res)
                row["trait.with.method"] = float(
                    s[(s["lhs"] == f) & (s["rhs"] == v)]["est.std"].iloc[0])
                row["method"] = float(s[(s["lhs"] == meth) & (s["rhs"] == v)]["est.std"].iloc[0])
            sh = share_equal[v]
            row["method.equal"] = float(np.sign(sh) * np.sqrt(abs(sh)))
            rows.append(row)
    loadings = pd.DataFrame(rows)
    # the sign of a factor with all-free loadings is arbitrary: report it positive on average
    if np.nansum(loadings["method"]) < 0:
        loadings["method"] = -loadings["method"]
    loadings["method.variance"] = loadings["method"] ** 2
    loadings["trait.variance"] = loadings["trait.with.method"] ** 2
    facs = list(items)
    corr = []
    for i, a in enumerate(facs):
        for b in facs[i + 1:]:
            r0 = _factor_cor(trait, a, b)
            r1 = _factor_cor(fitted["free"], a, b) if fitted["free"] is not None else np.nan
            r1e = _factor_cor(fitted["equal"], a, b) if fitted["equal"] is not None else np.nan
            corr.append({"x": a, "y": b, "r.traits": r0, "r.with.method": r1,
                         "r.with.method.equal": r1e})
    return ULMCResult(
        fits=fits,
        tests=tests,
        loadings=loadings,
        method_variance=float(np.mean(loadings["method.variance"])),
        method_variance_equal=float(np.mean(share_equal)),
        method_factor_variance=(v_hat, v_se),
        correlations=pd.DataFrame(corr),
        alpha=alpha,
        notes=notes,
        models={"traits": trait_text, "equal": equal_text, "free": free_text},
    )


def _factor_cor(res, a: str, b: str) -> float:
    phi = blocks(res)[0].phi
    return float(phi.at[a, b] / np.sqrt(phi.at[a, a] * phi.at[b, b]))


# ---------------------------------------------------------------------------
# Lindell & Whitney


@dataclass
class LindellWhitneyResult:
    """Correlations adjusted for common method variance with a marker.

    Attributes
    ----------
    r_m : float
        The CMV estimate: a marker correlation (see ``rule``).
    rule : str
    table : pandas.DataFrame
        ``x y r r.adjusted t df pvalue significant significant.unadjusted``.
    scale_correlations : pandas.DataFrame
        Correlations of the scale scores (marker last).
    """

    r_m: float
    rule: str
    table: pd.DataFrame
    scale_correlations: pd.DataFrame
    alpha: float
    n: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return clean_json({"method": "Lindell & Whitney (2001) marker adjustment",
                           "r_m": self.r_m, "rule": self.rule, "n": self.n,
                           "alpha": self.alpha, "table": self.table, "notes": self.notes})

    def summary(self, digits: int = 3) -> str:
        lost = self.table[self.table["significant.unadjusted"] & ~self.table["significant"]]
        lines = [
            f"Marker-variable adjustment (Lindell & Whitney, 2001): r_M = {self.r_m:.{digits}f} "
            f"({self.rule} marker correlation), N = {self.n}",
            format_table(self.table, digits),
        ]
        if len(lost):
            lines.append("  correlations no longer significant after the adjustment: "
                         + ", ".join(f"{a}-{b}" for a, b in zip(lost["x"], lost["y"],
                                                                  strict=True)))
        else:
            lines.append("  every correlation significant before is still significant after "
                         "the adjustment")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def lindell_whitney(
    data,
    model,
    marker: Sequence[str],
    *,
    r_m: str | float = "smallest",
    alpha: float = 0.05,
) -> LindellWhitneyResult:
    """Marker-variable adjustment of construct correlations (Lindell & Whitney, 2001).

    Each construct is scored by the mean of its items, the marker by the mean
    of the ``marker`` items (cases complete on all of them).  The CMV estimate
    :math:`r_M` is the smallest correlation of the marker with a substantive
    scale (``"second_smallest"``: the more conservative second smallest; a
    number: a value chosen a priori); each correlation is adjusted by

    .. math::

        r_A = \\frac{r_U - r_M}{1 - r_M}, \\qquad
        t = \\frac{r_A}{\\sqrt{(1 - r_A^2)/(N - 3)}} \\sim t_{N-3}

    (Lindell & Whitney, 2001, eqs. 4-5; the adjusted correlation is a partial
    correlation with a constant :math:`r_M`).  A negative :math:`r_M` is set to
    0 (method variance cannot deflate correlations in this model).

    Parameters
    ----------
    data : pandas.DataFrame or path
    model : str, pathlib.Path or SEMResults
        Which items measure which construct.
    marker : sequence of str
        The marker items (a scale theoretically unrelated to the constructs).
    r_m : 'smallest', 'second_smallest' or float
    alpha : float
        Significance level.

    Returns
    -------
    LindellWhitneyResult

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6"
    >>> table = lindell_whitney(hs, model, marker=["x7", "x8", "x9"]).table
    >>> table[["x", "y", "significant"]]
            x        y  significant
    0  visual  textual         True
    """
    frame, items, names, _ = _prepare(data, model, "ML")
    marker = _marker_list(marker, names)
    check_columns(frame, marker, what="marker option")
    cols = list(dict.fromkeys(names + marker))
    x = frame[cols].apply(pd.to_numeric, errors="coerce").dropna()
    n = len(x)
    if n < 5:
        raise CkmError(f"the marker adjustment needs at least 5 complete cases; found {n}")
    scores = pd.DataFrame({f: x[v].mean(axis=1) for f, v in items.items()})
    mname = _fresh_name("MARKER", set(items))
    scores[mname] = x[marker].mean(axis=1)
    R = scores.corr()
    rm_all = R.loc[mname, list(items)].sort_values()
    notes = []
    if isinstance(r_m, str):
        if r_m == "smallest":
            value = float(rm_all.iloc[0])
        elif r_m == "second_smallest":
            if len(rm_all) < 2:
                raise CkmError("r_m='second_smallest' needs at least two constructs")
            value = float(rm_all.iloc[1])
        else:
            raise CkmError(
                "The 'r_m' parameter of lindell_whitney must be 'smallest', 'second_smallest' "
                f"or a float. Got {r_m!r} instead."
            )
        rule = r_m.replace("_", " ")
    else:
        value, rule = float(r_m), "given"
    if value < 0:
        notes.append(f"the marker correlation {value:.3f} is negative; r_M set to 0")
        value = 0.0
    rows = []
    facs = list(items)
    tcrit_df = n - 3
    for i, a in enumerate(facs):
        for b in facs[i + 1:]:
            r = float(R.loc[a, b])
            ra = (r - value) / (1 - value)
            t = ra / np.sqrt((1 - ra**2) / tcrit_df)
            p = float(2 * stats.t.sf(abs(t), tcrit_df))
            t_u = r / np.sqrt((1 - r**2) / (n - 2))
            p_u = float(2 * stats.t.sf(abs(t_u), n - 2))
            rows.append({"x": a, "y": b, "r": r, "r.adjusted": ra, "t": t, "df": tcrit_df,
                         "pvalue": p, "significant": p < alpha,
                         "significant.unadjusted": p_u < alpha})
    return LindellWhitneyResult(r_m=value, rule=rule, table=pd.DataFrame(rows),
                                scale_correlations=R, alpha=alpha, n=n, notes=notes)


def _marker_list(marker, names) -> list[str]:
    if isinstance(marker, str):
        marker = [m.strip() for m in marker.split(",") if m.strip()]
    marker = list(marker or [])
    if not marker:
        raise CkmError("give the marker items: marker=['m1', 'm2', ...]")
    overlap = [m for m in marker if m in names]
    if overlap:
        raise CkmError(
            "marker items must not be indicators of the model's factors: "
            + ", ".join(overlap)
        )
    return marker


# ---------------------------------------------------------------------------
# Williams et al. (2010)


@dataclass
class CFAMarkerResult:
    """The CFA marker technique of Williams, Hartman & Cavazotte (2010).

    Attributes
    ----------
    fits : pandas.DataFrame
        CFA, Baseline, Method-C, Method-U and Method-R models.
    tests : pandas.DataFrame
        Baseline vs Method-C (is there method variance?), Method-C vs
        Method-U (is it equal across items?), Method-C/U vs Method-R (does it
        bias the factor correlations?).
    loadings : pandas.DataFrame
        Standardized marker-factor loadings on the substantive items in the
        retained method model, and their squares (method variance).
    retained : str
        ``"Method-C"`` or ``"Method-U"``.
    correlations : pandas.DataFrame
        Factor correlations of the Baseline and the retained method model.
    """

    fits: pd.DataFrame
    tests: pd.DataFrame
    loadings: pd.DataFrame
    retained: str
    correlations: pd.DataFrame
    alpha: float
    models: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def _p(self, name):
        t = self.tests.set_index("comparison")
        return float(t.loc[name, "pvalue"]) if name in t.index else np.nan

    @property
    def detected(self) -> bool:
        """Method variance: the Baseline vs Method-C test is significant."""
        p = self._p("Baseline vs Method-C")
        return bool(np.isfinite(p) and p < self.alpha)

    @property
    def biased(self) -> bool:
        """The factor correlations change significantly (Method-R test)."""
        p = self._p(f"{self.retained} vs Method-R")
        return bool(np.isfinite(p) and p < self.alpha)

    def to_dict(self) -> dict[str, Any]:
        return clean_json({"method": "Williams, Hartman & Cavazotte (2010) CFA marker "
                                     "technique",
                           "detected": self.detected, "biased": self.biased,
                           "retained": self.retained, "alpha": self.alpha,
                           "method_variance": float(self.loadings["method.variance"].mean()),
                           "fits": self.fits, "tests": self.tests,
                           "loadings": self.loadings, "correlations": self.correlations,
                           "notes": self.notes})

    def summary(self, digits: int = 3) -> str:
        lines = [
            "CFA marker technique (Williams, Hartman & Cavazotte, 2010):",
            format_table(self.fits[[c for c in ("model", "npar", "chisq", "df", "cfi", "rmsea")
                                    if c in self.fits.columns]], digits),
            "",
            format_table(self.tests, digits),
            "",
            f"  method variance {'present' if self.detected else 'not detected'}; retained "
            f"{self.retained}; mean method variance per item "
            f"{self.loadings['method.variance'].mean():.{digits}f}; factor correlations "
            + ("biased (Method-R rejected)" if self.biased else "not significantly biased"),
        ]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def cfa_marker(
    data,
    model,
    marker: Sequence[str],
    *,
    estimator: str = "ML",
    alpha: float = 0.05,
    missing: str | None = None,
) -> CFAMarkerResult:
    """CFA marker technique (Williams, Hartman & Cavazotte, 2010, pp. 488-496).

    All factors are standardized (variance 1, lavaan ``std.lv = TRUE``), so
    that factor covariances are correlations:

    1. **CFA**: the substantive factors and a marker factor measured by the
       ``marker`` items, all correlated; gives the marker loadings and
       residual variances.
    2. **Baseline**: the marker factor uncorrelated with the substantive
       factors, its loadings and residual variances fixed at the CFA values.
    3. **Method-C**: Baseline plus loadings of the marker factor on every
       substantive item, constrained equal.
    4. **Method-U**: the same loadings free.
    5. **Method-R**: the retained method model (U if it fits significantly
       better than C, else C) with the substantive factor correlations fixed
       at their Baseline values.

    Comparisons by :func:`~ckm_research.measurement.chisq_difference`:
    Baseline vs Method-C tests whether method variance is present, C vs U
    whether it is equal across items, and the retained model vs Method-R
    whether it biases the factor correlations.

    Parameters
    ----------
    data : pandas.DataFrame or path
    model : str, pathlib.Path or SEMResults
        Which items measure which factor.
    marker : sequence of str
        Marker items (at least two).
    estimator : {'ML', 'MLR', 'FIML'}
    alpha : float
    missing : {'listwise', 'ml'}, optional
        Passed to :func:`~ckm_research.fit` (``'ml'``: FIML).

    Returns
    -------
    CFAMarkerResult

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6"
    >>> print(cfa_marker(hs, model, marker=["x7", "x8", "x9"]).summary())
    CFA marker technique (Williams, Hartman & Cavazotte, 2010):
    ...
      method variance present; retained Method-C; ...
    """
    frame, items, names, est = _prepare(data, model, estimator)
    marker = _marker_list(marker, names)
    if len(marker) < 2:
        raise CkmError("the CFA marker technique needs at least two marker items")
    check_columns(frame, marker, what="marker option")
    mk = _fresh_name("MARKER", set(items) | set(names) | set(marker))
    lab = _fresh_name("cmv_marker", set(items) | set(names) | set(marker))
    trait_text = _cfa_syntax(items)
    cfa_text = "\n".join([trait_text, f"{mk} =~ " + " + ".join(marker)])
    cfa = _fit(cfa_text, frame, est, std_lv=True, missing=missing)
    e = cfa.estimates
    lam = {r["rhs"]: r["est"] for r in e[(e["op"] == "=~") & (e["lhs"] == mk)]
           .to_dict(orient="records")}
    theta = {r["lhs"]: r["est"] for r in e[(e["op"] == "~~") & (e["lhs"] == e["rhs"])
                                           & e["lhs"].isin(marker)].to_dict(orient="records")}
    fixed = "\n".join([
        f"{mk} =~ " + " + ".join(f"{lam[m]!r}*{m}" for m in marker),
        *[f"{m} ~~ {theta[m]!r}*{m}" for m in marker],
        f"{mk} ~~ " + " + ".join(f"0*{f}" for f in items),
    ])
    base_text = "\n".join([trait_text, fixed])
    c_text = "\n".join([base_text, f"{mk} =~ " + " + ".join(f"{lab}*{v}" for v in names)])
    u_text = "\n".join([base_text, f"{mk} =~ " + " + ".join(names)])
    base = _fit(base_text, frame, est, std_lv=True, missing=missing)
    mc = _fit(c_text, frame, est, std_lv=True, missing=missing)
    mu = _fit(u_text, frame, est, std_lv=True, missing=missing)
    test_c = _compare("Baseline vs Method-C", base, mc)
    test_u = _compare("Method-C vs Method-U", mc, mu)
    retained_name = "Method-U" if (np.isfinite(test_u["pvalue"])
                                   and test_u["pvalue"] < alpha) else "Method-C"
    retained, retained_text = (mu, u_text) if retained_name == "Method-U" else (mc, c_text)
    facs = list(items)
    base_cor = {(a, b): _factor_cor(base, a, b)
                for i, a in enumerate(facs) for b in facs[i + 1:]}
    notes = []
    if base_cor:
        r_text = "\n".join([retained_text] + [f"{a} ~~ {v!r}*{b}"
                                              for (a, b), v in base_cor.items()])
        mr = _fit(r_text, frame, est, std_lv=True, missing=missing)
        test_r = _compare(f"{retained_name} vs Method-R", mr, retained)
    else:
        mr, r_text = None, ""
        test_r = {"comparison": f"{retained_name} vs Method-R", "chisq.diff": np.nan,
                  "df.diff": np.nan, "pvalue": np.nan, "method": "not available"}
        notes.append("one substantive factor: no correlations to test (Method-R)")
    fits = pd.DataFrame([_fit_row("CFA", cfa), _fit_row("Baseline", base),
                         _fit_row("Method-C", mc), _fit_row("Method-U", mu),
                         _fit_row("Method-R", mr)])
    tests = pd.DataFrame([test_c, test_u, test_r])
    s = _std_loadings(retained, mk)
    s = s[s["rhs"].isin(names)]
    item_factor = {v: f for f, vs in items.items() for v in vs}
    loadings = pd.DataFrame({"factor": [item_factor[v] for v in s["rhs"]],
                             "item": s["rhs"].to_numpy(),
                             "method": s["est.std"].to_numpy()})
    loadings["method.variance"] = loadings["method"] ** 2
    corr = pd.DataFrame([{"x": a, "y": b, "r.baseline": v,
                          "r.method": _factor_cor(retained, a, b)}
                         for (a, b), v in base_cor.items()])
    return CFAMarkerResult(
        fits=fits, tests=tests, loadings=loadings, retained=retained_name,
        correlations=corr, alpha=alpha, notes=notes,
        models={"cfa": cfa_text, "baseline": base_text, "method_c": c_text,
                "method_u": u_text, "method_r": r_text},
    )


def cmv_checks(data: pd.DataFrame, model, methods: Sequence[str], *, estimator: str = "ML",
               missing: str | None = None, markers: Sequence[str] | None = None,
               alpha: float = 0.05) -> dict:
    """Run the requested common-method checks (Podsakoff et al., 2003).

    Parameters
    ----------
    data : pandas.DataFrame
    model : str, pathlib.Path or SEMResults
        The measurement model (lavaan syntax, a ``.lav`` file or its fit).
    methods : sequence of str
        Some of ``"harman"`` (:func:`harman_single_factor`), ``"ulmc"``
        (:func:`ulmc`) and ``"marker"`` (:func:`lindell_whitney`, with ``markers``).
    estimator, missing : str
        Of the models the checks fit.
    markers : sequence of str, optional
        Marker items (a scale unrelated to the constructs).
    alpha : float
        Level of the tests.

    Returns
    -------
    dict
        ``{"harman": HarmanResult | None, "ulmc": ULMCResult | None,
        "marker": LindellWhitneyResult | None}``.
    """
    out: dict[str, Any] = {"harman": None, "ulmc": None, "marker": None}
    if "harman" in methods:
        out["harman"] = harman_single_factor(data, model, estimator=estimator, missing=missing)
    if "ulmc" in methods:
        out["ulmc"] = ulmc(data, model, estimator=estimator, missing=missing, alpha=alpha)
    if "marker" in methods and markers:
        out["marker"] = lindell_whitney(data, model, marker=list(markers), alpha=alpha)
    return out
