"""Admissibility of a solution and the variance it explains.

:func:`heywood_cases` finds the inadmissible estimates of a fit (negative
variances, correlations beyond ±1) with the one-sided test of Kolenikov & Bollen
(2012); :func:`heywood_text` says what they mean and what to do (Chen et al.,
2001); :func:`power_blocker` says why no power can be simulated from such a fit;
:func:`r_squared` is lavaan's ``inspect(fit, "r2")``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

__all__ = ["heywood_cases", "heywood_text", "power_blocker", "r_squared", "HEYWOOD_REFS"]

#: What the report cites on inadmissible solutions (negative variances, R² > 1).
HEYWOOD_REFS = (
    "Kolenikov, S., & Bollen, K. A. (2012). Testing negative error variances: Is a Heywood "
    "case a symptom of misspecification? Sociological Methods & Research, 41(1), 124-167.",
    "Chen, F., Bollen, K. A., Paxton, P., Curran, P. J., & Kirby, J. B. (2001). Improper "
    "solutions in structural equation models: Causes, consequences, and strategies. "
    "Sociological Methods & Research, 29(4), 468-508.",
)


def heywood_cases(res, *, alpha: float = 0.05) -> list[dict[str, Any]]:
    """The inadmissible estimates of a fit: negative (residual) variances and
    correlations beyond ±1 (Heywood cases; Chen et al., 2001).

    A negative residual variance of an endogenous variable makes its R² exceed 1
    (lavaan's ``lavInspect(fit, "r2")`` then gives ``NA``). Each case carries the
    one-sided Wald test of Kolenikov & Bollen (2012, sec. 4), :math:`H_0: \\theta
    \\ge 0` against :math:`\\theta < 0`, with the fit's own (robust, under MLR)
    standard error: a variance significantly below zero points to a misspecified
    model, one within sampling error of zero to a true variance near zero.

    Parameters
    ----------
    res : SEMResults
    alpha : float
        Level of the one-sided test.

    Returns
    -------
    list of dict
        ``variable`` (``"A ~~ B"`` for a correlation), ``kind`` (``"latent"`` or
        ``"observed"``), ``what`` (``"residual variance"``, ``"variance"`` or
        ``"correlation"``), ``est``, ``se``, ``z``, ``p_negative`` (one-sided p),
        ``significant``, ``r2`` (1 - std.all, for a residual variance),
        ``std`` (std.all) and ``group`` (multi-group fits).
    """
    est = res.estimates
    latent = set(est.loc[est["op"].isin(["=~", "<~"]), "lhs"])
    endogenous = set(est.loc[est["op"] == "~", "lhs"]) | set(est.loc[est["op"] == "=~", "rhs"])
    out = []
    for rec in est[est["op"] == "~~"].to_dict(orient="records"):
        lhs, rhs, value = rec["lhs"], rec["rhs"], float(rec["est"])
        std = rec.get("std.all")
        std = None if std is None or not np.isfinite(std) else float(std)
        if lhs == rhs:
            if not value < 0:
                continue
            what = "residual variance" if lhs in endogenous else "variance"
            variable = lhs
        else:
            if std is None or abs(std) <= 1.0:
                continue
            what, variable = "correlation", f"{lhs} ~~ {rhs}"
        se = float(rec["se"]) if rec.get("se") is not None and np.isfinite(rec["se"]) else None
        z = value / se if se else None
        p_neg = float(stats.norm.cdf(z)) if z is not None and what != "correlation" else None
        case = {
            "variable": variable,
            "what": what,
            "kind": "latent" if lhs in latent else "observed",
            "est": value,
            "se": se,
            "z": z,
            "p_negative": p_neg,
            "significant": None if p_neg is None else bool(p_neg < alpha),
            "r2": (1.0 - std) if what == "residual variance" and std is not None else None,
            "std": std,
        }
        if "group" in rec and getattr(res, "ngroups", 1) > 1:
            case["group"] = rec["group"]
        out.append(case)
    return out


def _case_phrase(c: dict) -> str:
    where = f" in group {c['group']}" if "group" in c else ""
    if c["what"] == "correlation":
        return f"the correlation {c['variable']}{where} is {c['std']:.3f}, beyond ±1"
    kind = "factor" if c["kind"] == "latent" else "observed variable"
    text = f"the {c['what']} of the {kind} {c['variable']}{where} is negative ({c['est']:.3f}"
    if c.get("se"):
        text += f", SE {c['se']:.3f}"
    text += ")"
    if c.get("r2") is not None:
        text += f", so its R² is {c['r2']:.2f} (above 1)"
    return text


def _case_phrase_in(c: dict, lang: str) -> str:
    """:func:`_case_phrase` in the report language ``lang`` (the message catalogue
    :mod:`ckm_research.report.i18n`, imported here so that English needs no report)."""
    from ckm_research.report.i18n import text as _t

    where = _t("heywood.in_group", lang, group=c["group"]) if "group" in c else ""
    if c["what"] == "correlation":
        return _t(
            "heywood.case.correlation",
            lang,
            variable=c["variable"],
            where=where,
            std=f"{c['std']:.3f}",
        )
    out = _t(
        "heywood.case.negative",
        lang,
        what=_t(f"heywood.what.{c['what']}", lang),
        kind=_t(f"heywood.kind.{c['kind']}", lang),
        variable=c["variable"],
        where=where,
        est=f"{c['est']:.3f}",
    )
    if c.get("se"):
        out += _t("heywood.case.se", lang, se=f"{c['se']:.3f}")
    out += _t("heywood.case.close", lang)
    if c.get("r2") is not None:
        out += _t("heywood.case.r2", lang, r2=f"{c['r2']:.2f}")
    return out


def _heywood_text_in(cases: list[dict], model: str, lang: str) -> str:
    """:func:`heywood_text` in the report language ``lang`` (not English)."""
    from ckm_research.report.i18n import text as _t

    names = ", ".join(dict.fromkeys(c["variable"] for c in cases))
    phrases = _t("heywood.case.sep", lang).join(_case_phrase_in(c, lang) for c in cases)
    out = _t("heywood.intro", lang, model=model, names=names, cases=phrases)
    tested = [c for c in cases if c.get("p_negative") is not None]
    sig = [c["variable"] for c in tested if c["significant"]]
    near = [c["variable"] for c in tested if not c["significant"]]
    if sig:
        out += _t("heywood.significant", lang, names=", ".join(sig))
    if near:
        out += _t("heywood.near", lang, names=", ".join(near))
    return out + _t("heywood.todo", lang)


def heywood_text(cases: list[dict], *, model: str = "The model", lang: str = "en") -> str:
    """What the inadmissible estimates of :func:`heywood_cases` mean and what to do.

    Names each variable, says why the solution cannot be interpreted as it
    stands, reports the one-sided test of Kolenikov & Bollen (2012) and lists
    the causes to check (Chen et al., 2001). Empty if there is no case.
    ``lang`` is the report language (``"zh"``: the texts of the message catalogue
    :mod:`ckm_research.report.i18n`; ``model`` should then be in that language too).
    """
    if not cases:
        return ""
    if lang != "en":
        if model == "The model":
            from ckm_research.report.i18n import text as _t

            model = _t("heywood.model", lang)
        return _heywood_text_in(cases, model, lang)
    names = ", ".join(dict.fromkeys(c["variable"] for c in cases))
    text = (
        f"{model} has an inadmissible solution (a Heywood case: {names}): "
        + "; ".join(_case_phrase(c) for c in cases)
        + ". A variance cannot be negative "
        "nor a correlation exceed ±1 (a negative residual variance means the model "
        "explains more than all of the variable's variance), so the estimates, standard "
        "errors and fit measures cannot be interpreted as they stand."
    )
    tested = [c for c in cases if c.get("p_negative") is not None]
    sig = [c["variable"] for c in tested if c["significant"]]
    near = [c["variable"] for c in tested if not c["significant"]]
    if sig:
        text += (
            f" The negative variance of {', '.join(sig)} is significantly below zero "
            "(one-sided Wald test), which points to a misspecified model rather than "
            "sampling error (Kolenikov & Bollen, 2012)."
        )
    if near:
        text += (
            f" The negative variance of {', '.join(near)} is within sampling error of "
            "zero (one-sided Wald test): the true variance may be close to zero "
            "(Kolenikov & Bollen, 2012)."
        )
    text += (
        " What to do: check the model for a structural misspecification (a missing path "
        "or residual covariance, predictors so strongly correlated that they explain "
        "everything), empirical under-identification (a factor with two indicators or a "
        "near-zero loading), outliers and too small a sample (Chen et al., 2001); revise "
        "the model where theory allows. Fixing the variance at zero or bounding it hides "
        "a misspecification and is defensible only when the test above finds it within "
        "sampling error (Kolenikov & Bollen, 2012)."
    )
    return text


def power_blocker(res, *, lang: str = "en") -> str:
    """Why no power analysis can be simulated from the fit ``res`` ("" if it can).

    The power stage draws samples from the fitted model; a negative variance
    (or a correlation beyond ±1) gives no covariance matrix to draw from, and
    power computed from an inadmissible solution would mean nothing. ``lang`` is
    the report language (as in :func:`heywood_text`).
    """
    cases = heywood_cases(res)
    if not cases:
        return ""
    names = ", ".join(dict.fromkeys(c["variable"] for c in cases))
    if lang != "en":
        from ckm_research.report.i18n import text as _t

        phrases = _t("heywood.case.sep", lang).join(_case_phrase_in(c, lang) for c in cases)
        return _t("heywood.power", lang, names=names, cases=phrases)
    return (
        f"The power analysis was not run: it simulates samples from the fitted structural "
        f"model, whose solution is inadmissible (Heywood case: {names}; "
        + "; ".join(_case_phrase(c) for c in cases)
        + "). Such a model has no covariance "
        "matrix to draw samples from, and power at an inadmissible solution would mean "
        "nothing. Resolve the Heywood case first (see the structural model), then rerun "
        "the power stage (ckm run --only power)."
    )


def r_squared(res) -> dict[str, float]:
    """R-squared of each endogenous variable: 1 minus its standardized residual
    variance (lavaan's ``inspect(fit, "r2")``)."""
    est = res.estimates
    endo = list(dict.fromkeys(est.loc[est["op"] == "~", "lhs"]))
    out = {}
    for y in endo:
        row = est[(est["op"] == "~~") & (est["lhs"] == y) & (est["rhs"] == y)]
        if len(row):
            out[y] = float(1.0 - row["std.all"].iloc[0])
    return out
