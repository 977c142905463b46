"""The report's tables of issue 12: validity with inference, modern CMV checks,
partial invariance and the robustness checks of the structural model.

Each function arranges the result of one public function of
:mod:`ckm_research.measurement` or :mod:`ckm_research.moderation` as a
:class:`~ckm_research.report.tables.Table` with APA headers and a note citing its
source; no statistic is computed here (as :mod:`ckm_research.report.analysis`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ckm_research.report.i18n import text as _t
from ckm_research.report.tables import Table

__all__ = [
    "reliability_ci_table",
    "htmt_inference_table",
    "cicfa_table",
    "vif_table",
    "cfa_marker_table",
    "cmv_current_table",
    "invariance_steps_table",
    "composite_table",
    "copula_table",
    "copula_checks_table",
]


def _yes_no(value, lang: str):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return _t("value.yes" if bool(value) else "value.no", lang)


def reliability_ci_table(
    rel: pd.DataFrame, alpha: pd.DataFrame, *, level: float = 0.95, lang: str = "en"
) -> Table:
    """Omega (CR) and AVE with delta-method (and bootstrap) intervals
    (:func:`~ckm_research.measurement.reliability_intervals`) and Cronbach's alpha with
    Feldt's interval (:func:`~ckm_research.measurement.alpha_intervals`), one row per factor."""
    rows = []
    boot = "boot.lower" in rel.columns and rel["boot.lower"].notna().any()
    for factor in alpha["factor"]:
        a = alpha[alpha["factor"] == factor].iloc[0]
        row = {
            "factor": factor,
            "alpha": a["alpha"],
            "alpha.lower": a["feldt.lower"],
            "alpha.upper": a["feldt.upper"],
        }
        for stat in ("omega", "ave"):
            r = rel[(rel["factor"] == factor) & (rel["statistic"] == stat)]
            r = r.iloc[0] if len(r) else pd.Series(dtype=float)
            row[stat] = r.get("est", np.nan)
            row[f"{stat}.lower"] = r.get("ci.lower", np.nan)
            row[f"{stat}.upper"] = r.get("ci.upper", np.nan)
            row[f"{stat}.boot.lower"] = r.get("boot.lower", np.nan)
            row[f"{stat}.boot.upper"] = r.get("boot.upper", np.nan)
        rows.append(row)
    frame = pd.DataFrame(rows)
    pct = f"{level:.0%}"
    ci = {
        f"α {_t('col.ci_feldt', lang, level=pct)}": ("alpha.lower", "alpha.upper", "r2"),
        f"ω {_t('col.ci_delta', lang, level=pct)}": ("omega.lower", "omega.upper", "r2"),
        f"AVE {_t('col.ci_delta', lang, level=pct)}": ("ave.lower", "ave.upper", "r2"),
    }
    hide = []
    if boot:
        ci[f"ω {_t('col.ci_boot', lang, level=pct)}"] = (
            "omega.boot.lower",
            "omega.boot.upper",
            "r2",
        )
        ci[f"AVE {_t('col.ci_boot', lang, level=pct)}"] = ("ave.boot.lower", "ave.boot.upper", "r2")
    else:
        hide = ["omega.boot.lower", "omega.boot.upper", "ave.boot.lower", "ave.boot.upper"]
    return Table(
        "reliability_ci",
        _t("relci.title", lang),
        frame,
        formats={"alpha": "r2", "omega": "r2", "ave": "r2"},
        labels={"factor": _t("col.construct", lang), "alpha": "α", "omega": "ω (CR)", "ave": "AVE"},
        ci=ci,
        hide=hide,
        note=_t("relci.note", lang) + ("" if boot else _t("relci.note.noboot", lang)),
    )


def htmt_inference_table(h, *, threshold: float = 0.85, lang: str = "en") -> Table:
    """HTMT (or HTMT2) per pair with its bootstrap percentile interval and the one-sided
    tests of H0: HTMT >= c (:func:`~ckm_research.measurement.htmt_inference`)."""
    t = h.table
    cols = [c for c in t.columns if c.startswith("below ")]
    frame = t[["lhs", "rhs", "htmt", "boot.se", "ci.lower", "ci.upper"]].copy()
    labels = {
        "lhs": _t("col.construct", lang),
        "rhs": _t("col.construct", lang),
        "htmt": h.method,
        "boot.se": "SE (boot)",
    }
    for c in cols:
        frame[c] = [_yes_no(v, lang) for v in t[c]]
        cut = float(c.split()[1])
        labels[c] = _t("col.htmt_below", lang, c=f"{cut:.2f}".lstrip("0") if cut < 1 else "1")
    level = 1 - 2 * h.alpha
    return Table(
        "htmt_inference",
        _t("htmtci.title", lang, method=h.method),
        frame,
        formats={"htmt": "r3", "boot.se": "r3"},
        labels=labels,
        ci={_t("col.ci_boot", lang, level=f"{level:.0%}"): ("ci.lower", "ci.upper", "r3")},
        note=_t(
            "htmtci.note",
            lang,
            method=h.method,
            level=f"{level:.0%}",
            alpha=f"{h.alpha:g}",
            n_valid=h.n_valid,
            n_boot=h.n_boot,
            n=h.n,
            threshold=f"{threshold:.2f}".lstrip("0") if threshold < 1 else "1",
        ),
    )


def cicfa_table(d, *, lang: str = "en") -> Table:
    """CICFA(sys) (and chi2(sys) when run) per factor pair
    (:func:`~ckm_research.measurement.discriminant_cfa`, Ronkko & Cho, 2022)."""
    p = d.pairs
    cols = ["lhs", "rhs", "cor", "se", "ci.lower", "ci.upper", "cicfa"]
    if "chi2" in p.columns:
        cols.append("chi2")
    frame = p[cols].copy()
    frame["cicfa"] = [
        _t(f"rc.{v.replace(' ', '_')}", lang)
        if isinstance(v, str) and f"rc.{v.replace(' ', '_')}" in _keys()
        else v
        for v in frame["cicfa"]
    ]
    if "chi2" in frame.columns:
        frame["chi2"] = [
            _t(f"rc.{v.replace(' ', '_')}", lang)
            if isinstance(v, str) and f"rc.{v.replace(' ', '_')}" in _keys()
            else v
            for v in frame["chi2"]
        ]
    cuts = "/".join(f"{c:.2f}".lstrip("0") if c < 1 else "1" for c in d.cutoffs)
    return Table(
        "cicfa",
        _t("cicfa.title", lang),
        frame,
        formats={"cor": "r3", "se": "r3"},
        labels={
            "lhs": _t("col.construct", lang),
            "rhs": _t("col.construct", lang),
            "cor": "φ",
            "se": "SE",
            "cicfa": "CICFA(sys)",
            "chi2": "χ²(sys)",
        },
        ci={_t("col.ci", lang, level=f"{d.level:.0%}"): ("ci.lower", "ci.upper", "r3")},
        note=_t("cicfa.note", lang, cuts=cuts, estimator=d.estimator, n=d.n)
        + _t("cicfa.note.chi2" if "chi2" in p.columns else "cicfa.note.nochi2", lang),
    )


def _keys():
    from ckm_research.report.i18n import MESSAGES

    return MESSAGES


def vif_table(vif: pd.DataFrame, *, threshold: float = 3.3, lang: str = "en") -> Table:
    """Full collinearity VIFs of the construct scores
    (:func:`~ckm_research.measurement.full_collinearity_vif`, Kock, 2015)."""
    frame = vif.copy()
    frame["above"] = [_yes_no(v, lang) for v in frame["above"]]
    return Table(
        "full_collinearity_vif",
        _t("vif.title", lang),
        frame,
        formats={"r2": "r3", "vif": "num2"},
        labels={
            "construct": _t("col.construct", lang),
            "r2": "R²",
            "vif": "VIF",
            "above": _t("col.vif_above", lang, threshold=f"{threshold:g}"),
        },
        note=_t("vif.note", lang, threshold=f"{threshold:g}"),
    )


def cfa_marker_table(cm, markers, *, lang: str = "en") -> Table:
    """The CFA marker technique's model comparisons
    (:func:`~ckm_research.measurement.cfa_marker`, Williams et al., 2010)."""
    tests = cm.tests
    frame = pd.DataFrame(
        {
            "comparison": tests["comparison"],
            "chisq.diff": tests["chisq.diff"],
            "df.diff": tests["df.diff"],
            "pvalue": tests["pvalue"],
            "delta.cfi": tests["delta.cfi"] if "delta.cfi" in tests.columns else np.nan,
        }
    )
    fits = cm.fits.set_index("model")
    return Table(
        "cfa_marker",
        _t("cfamarker.title", lang),
        frame,
        formats={"chisq.diff": "num2", "df.diff": "int", "pvalue": "p", "delta.cfi": "r3"},
        labels={
            "comparison": _t("col.comparison", lang),
            "chisq.diff": "Δχ²",
            "df.diff": "Δdf",
            "pvalue": "p",
            "delta.cfi": "ΔCFI",
        },
        note=_t(
            "cfamarker.note",
            lang,
            markers=", ".join(markers),
            retained=cm.retained,
            mv=f"{float(cm.loadings['method.variance'].mean()):.3f}",
            detected=_yes_no(cm.detected, lang),
            biased=_yes_no(cm.biased, lang),
            cfi=f"{float(fits.loc['CFA', 'cfi']):.3f}"
            if "CFA" in fits.index and "cfi" in fits.columns
            else "—",
        ),
    )


def cmv_current_table(
    cfa_marker=None, ulmc_res=None, marker=None, harman=None, *, markers=(), lang: str = "en"
) -> Table:
    """The common-method checks in the order of current practice: the CFA marker
    technique and the ULMC first, the Lindell-Whitney adjustment, Harman's test last."""
    rows = []
    if cfa_marker is not None:
        p = cfa_marker._p("Baseline vs Method-C")
        rows.append(
            {
                "check": _t("cmv.cfa_marker", lang),
                "statistic": _t("cmv.cfa_marker.statistic", lang),
                "value": float(cfa_marker.loadings["method.variance"].mean()),
                "pvalue": p,
                "conclusion": _t(
                    "cmv.cfa_marker.conclusion",
                    lang,
                    detected=_yes_no(cfa_marker.detected, lang),
                    biased=_yes_no(cfa_marker.biased, lang),
                ),
            }
        )
    if ulmc_res is not None:
        d = ulmc_res.to_dict()
        rows.append(
            {
                "check": _t("cmv.ulmc", lang),
                "statistic": _t("cmv.ulmc.statistic", lang),
                "value": float(ulmc_res.method_variance_equal),
                "pvalue": d.get("pvalue"),
                "conclusion": _t(
                    "cmv.ulmc.detected" if d.get("detected") else "cmv.ulmc.not_detected", lang
                ),
            }
        )
    if marker is not None:
        tab = marker.table
        lost = int((tab["significant.unadjusted"] & ~tab["significant"]).sum())
        rows.append(
            {
                "check": _t("cmv.marker", lang),
                "statistic": _t("cmv.marker.statistic", lang),
                "value": float(marker.r_m),
                "pvalue": None,
                "conclusion": _t(
                    "cmv.marker.conclusion",
                    lang,
                    lost=lost,
                    n=int(tab["significant.unadjusted"].sum()),
                ),
            }
        )
    if harman is not None:
        d = harman.to_dict()
        rows.append(
            {
                "check": _t("cmv.harman.last", lang),
                "statistic": _t("cmv.harman.statistic", lang),
                "value": d["first_component_share"],
                "pvalue": None,
                "conclusion": _t(
                    "cmv.harman.dominant" if d.get("dominant") else "cmv.harman.not_dominant", lang
                ),
            }
        )
        comp = d.get("comparison") or {}
        if comp:
            rows.append(
                {
                    "check": _t("cmv.onefactor", lang),
                    "statistic": f"Δχ²({comp.get('df.diff', float('nan')):.0f})",
                    "value": comp.get("chisq.diff"),
                    "pvalue": comp.get("pvalue"),
                    "conclusion": _t(
                        "cmv.onefactor.worse"
                        if comp.get("pvalue") is not None and comp["pvalue"] < 0.05
                        else "cmv.onefactor.same",
                        lang,
                    ),
                }
            )
    note = _t("cmvc.note", lang)
    if markers:
        note += _t("cmvc.note.markers", lang, markers=", ".join(markers))
    return Table(
        "cmv",
        _t("cmv.title", lang),
        pd.DataFrame(rows, columns=["check", "statistic", "value", "pvalue", "conclusion"]),
        formats={"value": "num3", "pvalue": "p"},
        labels={
            "check": _t("col.check", lang),
            "statistic": _t("col.statistic", lang),
            "value": _t("col.value", lang),
            "pvalue": "p",
            "conclusion": _t("col.conclusion", lang),
        },
        note=note,
    )


def invariance_steps_table(
    inv, *, name: str = "invariance_steps", title_group: str = "", lang: str = "en"
) -> Table:
    """The partial-invariance search: the constraint released at each step, its
    univariate score test (lavaan ``lavTestScore``) and whether the level then holds."""
    s = inv.steps
    frame = pd.DataFrame(
        {
            "level": [
                _t(f"invariance.level.{v}", lang) if f"invariance.level.{v}" in _keys() else v
                for v in s["level"]
            ],
            "step": s["step"],
            "released": s["released"],
            "X2": s["X2"],
            "df": s["df"],
            "p.value": s["p.value"],
            "candidates": s["candidates"],
            "holds": [_yes_no(v, lang) for v in s["holds"]],
        }
    )
    return Table(
        name,
        _t("invsteps.title", lang, group=title_group or inv.group),
        frame,
        formats={"step": "int", "X2": "num2", "df": "int", "p.value": "p", "candidates": "int"},
        labels={
            "level": _t("col.level", lang),
            "step": _t("col.step", lang),
            "released": _t("col.released", lang),
            "X2": "χ² (score)",
            "df": "df",
            "p.value": "p",
            "candidates": _t("col.candidates", lang),
            "holds": _t("col.holds", lang),
        },
        note=_t("invsteps.note", lang),
    )


def composite_table(cr, *, level: float = 0.95, lang: str = "en") -> Table:
    """Composite-score OLS regressions (item means, mean-centred products, HC3) beside the
    latent estimates (:func:`~ckm_research.moderation.composite_regression`)."""
    t = cr.table
    cols = ["lhs", "rhs", "est", "se", "ci.lower", "ci.upper", "std", "pvalue"]
    cols += [c for c in ("est.latent", "std.latent") if c in t.columns]
    frame = t[cols].copy()
    return Table(
        "composite_regression",
        _t("composite.title", lang),
        frame,
        formats={
            "est": "num3",
            "se": "num3",
            "std": "r2",
            "pvalue": "p",
            "est.latent": "num3",
            "std.latent": "r2",
        },
        labels={
            "lhs": _t("col.outcome", lang),
            "rhs": _t("col.predictor", lang),
            "est": "B",
            "se": "SE (HC3)",
            "std": "β",
            "pvalue": "p",
            "est.latent": _t("col.b_latent", lang),
            "std.latent": _t("col.beta_latent", lang),
        },
        ci={_t("col.ci", lang, level=f"{level:.0%}"): ("ci.lower", "ci.upper", "num3")},
        note=_t(
            "composite.note",
            lang,
            r2="; ".join(f"{r.lhs}: {r.r2:.2f} (n = {int(r.n)})" for r in cr.r2.itertuples()),
        ),
    )


def copula_table(gc, *, level: float = 0.95, lang: str = "en") -> Table:
    """Gaussian copula control functions (:func:`~ckm_research.moderation.gaussian_copula`)."""
    t = gc.table
    frame = t[["lhs", "rhs", "est.ols", "est", "se.boot", "ci.lower", "ci.upper", "pvalue"]].copy()
    return Table(
        "gaussian_copula",
        _t("copula.title", lang),
        frame,
        formats={"est.ols": "num3", "est": "num3", "se.boot": "num3", "pvalue": "p"},
        labels={
            "lhs": _t("col.outcome", lang),
            "rhs": _t("col.predictor", lang),
            "est.ols": _t("col.b_ols", lang),
            "est": _t("col.b_copula", lang),
            "se.boot": "SE (boot)",
            "pvalue": "p",
        },
        ci={_t("col.ci_boot", lang, level=f"{level:.0%}"): ("ci.lower", "ci.upper", "num3")},
        note=_t("copula.note", lang, n_boot=gc.n_boot),
    )


def copula_checks_table(gc, *, lang: str = "en") -> Table:
    """The checks Becker, Proksch & Ringle (2022) require before the copula may be used."""
    c = gc.checks
    frame = c[["lhs", "rhs", "n", "sw.pvalue", "cvm.pvalue"]].copy()
    for col in ("nonnormal", "large.n", "usable"):
        frame[col] = [_yes_no(v, lang) for v in c[col]]
    n_usable = int(c["usable"].sum())
    return Table(
        "copula_checks",
        _t("copulachk.title", lang),
        frame,
        formats={"n": "int", "sw.pvalue": "p", "cvm.pvalue": "p"},
        labels={
            "lhs": _t("col.outcome", lang),
            "rhs": _t("col.predictor", lang),
            "n": "n",
            "sw.pvalue": "p (Shapiro-Wilk)",
            "cvm.pvalue": "p (Cramér-von Mises)",
            "nonnormal": _t("col.nonnormal", lang),
            "large.n": _t("col.large_n", lang),
            "usable": _t("col.usable", lang),
        },
        note=_t("copulachk.note", lang, usable=n_usable, n=len(c)),
    )
