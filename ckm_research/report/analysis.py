"""The report's tables: ckm_research's results arranged as APA tables.

The stage notebooks (``notebooks/0*.py``) run the toolkit's public workflow
functions, the same ones the ``ckm`` command line calls:
:func:`ckm_research.structural.fit_model`, :func:`ckm_research.data.importer.import_responses`,
:mod:`ckm_research.measurement` (:func:`~ckm_research.measurement.validity_report`,
:func:`~ckm_research.measurement.cmv_checks`,
:func:`~ckm_research.measurement.multigroup_comparison`),
:mod:`ckm_research.moderation`, :func:`ckm_research.inference.bootstrap_defined` and
:func:`ckm_research.inference.run_power`; the pipeline's inputs come from
:mod:`ckm_research.report.inputs`. This module turns their results into
:class:`~ckm_research.report.tables.Table` objects with APA headers and notes that
cite the cut-offs (and records Heywood cases in a stage's results,
:func:`flag_heywood`). No statistic is computed here.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ckm_research.report.i18n import text as _t
from ckm_research.report.tables import Table
from ckm_research.sem.modelsyntax import IndirectEffect, indicators
from ckm_research.structural.admissibility import heywood_cases, heywood_text

__all__ = [
    "instrument_table", "instrument_numbers", "exclusions_table", "profile_table",
    "missing_table", "item_table", "likert_shares", "fit_row", "fit_table",
    "measurement_table", "htmt_table", "fornell_larcker_table", "flags_table",
    "residual_table", "marker_table", "cmv_table", "paths_table", "r2_table",
    "indirect_table", "interaction_table", "slopes_table", "invariance_table",
    "path_comparison_table", "power_table", "power_model_test_table", "flag_heywood",
    "HU_BENTLER", "interaction_compare_table", "conditional_indirect_table",
    "moderated_mediation_index_table", "hypotheses_table", "interaction_power_table",
    "moderator_moments", "standardized_interaction_table", "interaction_effect_size_table",
]

#: Fit guidelines of Hu & Bentler (1999), read as guidelines, not pass/fail rules.
HU_BENTLER = {"cfi": 0.95, "tli": 0.95, "rmsea": 0.06, "srmr": 0.08}
HU_BENTLER_REF = ("Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance "
                  "structure analysis. Structural Equation Modeling, 6(1), 1-55.")


def _short_citation(citation: str) -> str:
    """``'Jaworski, B. J., & Kohli, A. K. (1993). Market ...'`` -> ``'Jaworski & Kohli (1993)'``."""
    text = citation.strip()
    m = re.search(r"\((\d{4}[a-z]?|n\.d\.)\)", text)
    if not m:
        return text[:60]
    authors = text[: m.start()].strip().rstrip(",")
    surnames = re.findall(r"(?:^|,\s*&?\s*|&\s*)([^\s,&][^,&]*?),\s*(?:[A-Z]\.\s*-?)+", authors)
    if not surnames:
        surnames = [authors.split(",")[0]]
    if len(surnames) == 1:
        who = surnames[0]
    elif len(surnames) == 2:
        who = f"{surnames[0]} & {surnames[1]}"
    else:
        who = f"{surnames[0]} et al."
    return f"{who.strip()} ({m.group(1)})"


def instrument_table(ins, model_text: str, *, lang: str = "en") -> Table:
    """Constructs of the model: role, items, reverse-keyed items, source."""
    factors = indicators(model_text)
    sections = {s.factor: s for s in ins.sections if s.factor}
    rows = []
    for factor, items in factors.items():
        sec = sections.get(factor)
        infos = [ins.item(i) for i in items]
        sources = sorted({i.source for i in infos if i.source})
        cites = "; ".join(_short_citation(ins.sources[s].citation) if s in ins.sources else s
                          for s in sources)
        rows.append({
            "construct": factor,
            "name": ins.text(sec.title, lang) if sec else "",
            "role": _word("role", sec.role, lang) if sec else "",
            "items": len(items),
            "item_ids": ", ".join(items),
            "reverse_keyed": ", ".join(i.id for i in infos if i.reverse) or "",
            "adapted_from": cites,
        })
    scale = ins.items()[0].scale if ins.items() else None
    for info in ins.items():
        if info.kind == "indicator":
            scale = info.scale
            break
    note = _t("constructs.note.adapted", lang, scale=scale.describe(lang)) if scale else ""
    note += _t("constructs.note.reverse", lang)
    if ins.id == "derived":  # no instrument was given (ckm_research.instrument.derive)
        for row in rows:
            row["adapted_from"] = ""
        note = _t("constructs.note.derived", lang, lowest=scale.lowest, highest=scale.highest)
    return Table(
        "constructs", _t("constructs.title", lang), pd.DataFrame(rows),
        formats={"items": "int"},
        labels={"construct": _t("col.code", lang), "name": _t("col.construct", lang),
                "role": _t("col.role", lang), "items": "k", "item_ids": _t("col.items", lang),
                "reverse_keyed": _t("col.reverse_keyed", lang),
                "adapted_from": _t("col.adapted_from", lang)},
        note=note,
    )


def instrument_numbers(ins, model_text: str) -> dict[str, Any]:
    factors = indicators(model_text)
    scale = next((i.scale for i in ins.items() if i.kind == "indicator"), None)
    return {
        "instrument_id": ins.id,
        "instrument_version": ins.version,
        "languages": list(ins.languages),
        "n_constructs": len(factors),
        "n_items": sum(len(v) for v in factors.values()),
        "n_questions": len(ins.items()),
        "scale_points": len(scale.codes) if scale is not None and scale.codes else None,
        "n_reverse_keyed": sum(1 for v in factors.values() for i in v if ins.item(i).reverse),
        "n_attention_checks": len(ins.item_ids("attention")),
    }


# ---------------------------------------------------------------------- data
def exclusions_table(imp, *, lang: str = "en") -> Table:
    """Respondents flagged and excluded by each screening criterion."""
    counts = imp.manifest["counts"]
    rules = imp.manifest["rules"]["screening"]
    dropped = counts.get("dropped_by_criterion", {})
    describe = {
        "missing": _t("screening.missing", lang, share=f"{rules['missing_max_share']:.0%}"),
        "longstring": _t("screening.longstring", lang, n=rules["longstring_min"]),
        "attention": _t("screening.attention", lang),
        "outlier": _t("screening.outlier", lang, alpha=f"{rules['outlier_alpha']:g}"),
        "speed": _t("screening.speed", lang, seconds=f"{rules['seconds_per_item']:g}"),
    }
    rows = []
    for crit, n in counts["flagged"].items():
        rows.append({"criterion": describe.get(crit, crit), "flagged": n,
                     "excluded": dropped.get(crit, 0) if crit in dropped else 0,
                     "rule": _t("screening.excluded" if crit in dropped
                                else "screening.flagged_only", lang)})
    rows.append({"criterion": _t("screening.any", lang), "flagged": counts["flagged_any"],
                 "excluded": counts["rows_dropped"], "rule": ""})
    return Table(
        "screening", _t("screening.title", lang), pd.DataFrame(rows),
        formats={"flagged": "int", "excluded": "int"},
        labels={"criterion": _t("col.criterion", lang), "flagged": _t("col.flagged", lang),
                "excluded": _t("col.excluded", lang), "rule": _t("col.decision", lang)},
        note=_t("screening.note", lang, n=counts["rows_read"]),
    )


def profile_table(frame: pd.DataFrame, ins, *, lang: str = "en") -> Table:
    """Sample description: the answers to the profile questions with choices."""
    n_respondents = len(frame)
    rows = []
    for info in ins.items():
        if info.kind != "profile" or info.id not in frame.columns:
            continue
        col = pd.to_numeric(frame[info.id], errors="coerce")
        n_valid = int(col.notna().sum())
        if info.scale.choices:
            for choice in info.scale.choices:
                n = int((col == choice.value).sum())
                rows.append({"variable": ins.text(_question_title(info), lang),
                             "category": choice.label.get(lang, next(iter(choice.label.values()))),
                             "n": n, "percent": 100 * n / n_valid if n_valid else np.nan})
        else:
            rows.append({"variable": ins.text(_question_title(info), lang),
                         "category": _t("sample.moments", lang, mean=f"{col.mean():.1f}",
                                        sd=f"{col.std():.1f}", lo=f"{col.min():g}",
                                        hi=f"{col.max():g}"),
                         "n": n_valid, "percent": np.nan})
        n_miss = int(col.isna().sum())
        if n_miss:
            rows.append({"variable": ins.text(_question_title(info), lang),
                         "category": _t("sample.no_answer", lang), "n": n_miss, "percent": np.nan})
    table = pd.DataFrame(rows, columns=["variable", "category", "n", "percent"])
    table.loc[table["variable"].duplicated(), "variable"] = ""
    return Table(
        "sample", _t("sample.title", lang), table,
        formats={"n": "int", "percent": "num1"},
        labels={"variable": _t("col.characteristic", lang), "category": _t("col.category", lang),
                "n": "n", "percent": "%"},
        note=_t("sample.note", lang, n=n_respondents),
    )


def _question_title(info) -> dict:
    text = dict(info.text)
    # profile questions are full sentences; the id reads better as a table label
    return {k: (v if len(v) <= 48 else info.id.capitalize()) for k, v in text.items()}


def _item_columns(frame: pd.DataFrame, factors: dict[str, list[str]]) -> list[str]:
    return [i for items in factors.values() for i in items if i in frame.columns]


def missing_table(frame: pd.DataFrame, factors: dict[str, list[str]], *,
                  lang: str = "en") -> Table:
    """Missing answers by construct."""
    rows = []
    for factor, items in factors.items():
        block = frame[items]
        rows.append({"construct": factor, "items": len(items),
                     "cells_missing": 100 * float(block.isna().to_numpy().mean()),
                     "max_item_missing": 100 * float(block.isna().mean().max()),
                     "respondents_incomplete": int(block.isna().any(axis=1).sum())})
    cols = _item_columns(frame, factors)
    allb = frame[cols]
    rows.append({"construct": _t("missing.all_items", lang), "items": len(cols),
                 "cells_missing": 100 * float(allb.isna().to_numpy().mean()),
                 "max_item_missing": 100 * float(allb.isna().mean().max()),
                 "respondents_incomplete": int(allb.isna().any(axis=1).sum())})
    return Table(
        "missing", _t("missing.title", lang), pd.DataFrame(rows),
        formats={"items": "int", "cells_missing": "num1", "max_item_missing": "num1",
                 "respondents_incomplete": "int"},
        labels={"construct": _t("col.construct", lang), "items": "k",
                "cells_missing": _t("col.cells_missing", lang),
                "max_item_missing": _t("col.max_item_missing", lang),
                "respondents_incomplete": _t("col.respondents_incomplete", lang)},
        note=f"N = {len(frame)}.",
    )


def item_table(frame: pd.DataFrame, factors: dict[str, list[str]], *,
               lang: str = "en") -> Table:
    """Item descriptives: n, M, SD, skewness, excess kurtosis."""
    rows = []
    for factor, items in factors.items():
        for item in items:
            x = frame[item].dropna().to_numpy(dtype=float)
            rows.append({
                "construct": factor, "item": item, "n": len(x),
                "mean": float(np.mean(x)) if len(x) else np.nan,
                "sd": float(np.std(x, ddof=1)) if len(x) > 1 else np.nan,
                "skew": float(stats.skew(x, bias=False)) if len(x) > 2 else np.nan,
                "kurtosis": float(stats.kurtosis(x, bias=False)) if len(x) > 3 else np.nan,
            })
    return Table(
        "items", _t("items.title", lang), pd.DataFrame(rows),
        formats={"n": "int", "mean": "num2", "sd": "num2", "skew": "num2", "kurtosis": "num2"},
        labels={"construct": _t("col.construct", lang), "item": _t("col.item", lang), "n": "n",
                "mean": "M", "sd": "SD", "skew": _t("col.skew", lang),
                "kurtosis": _t("col.kurtosis", lang)},
        note=_t("items.note", lang),
    )


def likert_shares(frame: pd.DataFrame, factors: dict[str, list[str]],
                  codes: list[int]) -> pd.DataFrame:
    """Share of each answer code over the items of each construct."""
    rows = {}
    for factor, items in factors.items():
        vals = frame[items].to_numpy(dtype=float).ravel()
        vals = vals[~np.isnan(vals)]
        rows[factor] = [float((vals == c).mean()) if len(vals) else np.nan for c in codes]
    return pd.DataFrame.from_dict(rows, orient="index", columns=codes)


# ---------------------------------------------------------------------- estimation
def fit_row(label: str, res) -> dict[str, Any]:
    """The fit measures a report shows (scaled/robust versions under MLR)."""
    fm = res.fit_measures
    robust = res.estimator == "MLR" and "chisq.scaled" in fm

    def g(key):
        v = fm.get(key)
        return None if v is None else float(v)

    sfx = ".robust" if robust else ""
    return {
        "model": label, "n": int(res.n), "npar": g("npar"),
        "chisq": g("chisq.scaled") if robust else g("chisq"),
        "df": g("df"),
        "pvalue": g("pvalue.scaled") if robust else g("pvalue"),
        "scaling": g("chisq.scaling.factor") if robust else None,
        "chisq.ml": g("chisq"),
        "cfi": g("cfi" + sfx), "tli": g("tli" + sfx), "rmsea": g("rmsea" + sfx),
        "rmsea.ci.lower": g("rmsea.ci.lower" + sfx), "rmsea.ci.upper": g("rmsea.ci.upper" + sfx),
        "srmr": g("srmr"), "aic": g("aic"), "bic": g("bic"),
        "robust": bool(robust),
    }


def fit_table(rows: list[dict], *, name: str = "fit", title: str = "Model Fit",
              ci_level: float = 0.90, lang: str = "en") -> Table:
    """Fit measures of one or more models, with the cited guidelines in the note."""
    frame = pd.DataFrame(rows)
    robust = bool(frame["robust"].any())
    note = _t("fit.note.robust", lang) if robust else ""
    note += _t("fit.note", lang, level=f"{ci_level:.0%}")
    return Table(
        name, title, frame,
        formats={"n": "int", "npar": "int", "chisq": "num2", "df": "int", "pvalue": "p",
                 "scaling": "num3", "chisq.ml": "num2", "cfi": "r3", "tli": "r3",
                 "rmsea": "r3", "rmsea.ci.lower": "r3", "rmsea.ci.upper": "r3", "srmr": "r3",
                 "aic": "num1", "bic": "num1"},
        labels={"model": _t("col.model", lang), "n": "N", "npar": _t("col.parameters", lang),
                "chisq": "χ²", "df": "df",
                "pvalue": "p", "cfi": "CFI", "tli": "TLI", "rmsea": "RMSEA", "srmr": "SRMR"},
        ci={_t("col.rmsea_ci", lang): ("rmsea.ci.lower", "rmsea.ci.upper", "r3")},
        hide=["robust", "chisq.ml", "aic", "bic", "scaling", "npar"],
        note=note,
    )


# ---------------------------------------------------------------------- measurement
def measurement_table(report, factors: dict[str, list[str]], *, lang: str = "en") -> Table:
    """Standardized loadings with alpha, CR (omega) and AVE per construct."""
    rel = report.reliability_table().set_index("factor")
    load = report.loadings
    rows = []
    for factor, items in factors.items():
        first = True
        for item in items:
            rec = load[(load["factor"] == factor) & (load["item"] == item)]
            r = rec.iloc[0] if len(rec) else None
            rows.append({
                "construct": factor if first else "",
                "item": item,
                "loading": float(r["loading"]) if r is not None else np.nan,
                "se": float(r["se"]) if r is not None and "se" in r else np.nan,
                "ci.lower": float(r["ci.lower"]) if r is not None else np.nan,
                "ci.upper": float(r["ci.upper"]) if r is not None else np.nan,
                "alpha": float(rel.at[factor, "alpha"]) if first and factor in rel.index
                else np.nan,
                "cr": float(rel.at[factor, "omega"]) if first and factor in rel.index
                else np.nan,
                "ave": float(rel.at[factor, "ave"]) if first and factor in rel.index
                else np.nan,
            })
            first = False
    return Table(
        "measurement", _t("measurement.title", lang), pd.DataFrame(rows),
        formats={"loading": "r2", "se": "r3", "alpha": "r2", "cr": "r2", "ave": "r2"},
        blank=["alpha", "cr", "ave"],
        labels={"construct": _t("col.construct", lang), "item": _t("col.item", lang),
                "loading": "λ", "se": "SE", "alpha": "α", "cr": "CR", "ave": "AVE"},
        ci={_t("col.ci95", lang): ("ci.lower", "ci.upper", "r2")},
        note=_t("measurement.note", lang),
    )


def _triangle(matrix: pd.DataFrame, diagonal: bool) -> pd.DataFrame:
    m = matrix.astype(float).copy()
    n = len(m)
    for i in range(n):
        for j in range(n):
            if j > i or (j == i and not diagonal):
                m.iat[i, j] = np.nan
    out = m.reset_index().rename(columns={"index": "construct"})
    out.columns = ["construct"] + list(matrix.columns)
    return out


def htmt_table(report, threshold: float = 0.85, *, lang: str = "en") -> Table:
    """HTMT ratios (lower triangle)."""
    frame = _triangle(report.htmt, diagonal=False)
    cols = list(report.htmt.columns)
    return Table(
        "htmt", _t("htmt.title", lang, method=report.htmt_method),
        frame.drop(columns=[cols[-1]]), formats=dict.fromkeys(cols[:-1], "r2"),
        labels={"construct": _t("col.construct", lang)},
        note=_t("htmt.note", lang, method=report.htmt_method, threshold=f"{threshold:.2f}"),
    )


def fornell_larcker_table(report, *, lang: str = "en") -> Table:
    """Fornell-Larcker table: sqrt(AVE) on the diagonal, factor correlations below."""
    frame = _triangle(report.fornell_larcker, diagonal=True)
    cols = list(report.fornell_larcker.columns)
    return Table(
        "fornell_larcker", _t("fornell.title", lang), frame,
        formats=dict.fromkeys(cols, "r2"), labels={"construct": _t("col.construct", lang)},
        note=_t("fornell.note", lang),
    )


def flags_table(report, *, lang: str = "en") -> Table:
    from ckm_research.report.i18n import engine_text

    flags = report.flags
    frame = (flags[["severity", "check", "subject", "value", "threshold", "message"]]
             if len(flags) else pd.DataFrame(columns=["severity", "check", "subject", "value",
                                                      "threshold", "message"]))
    if lang != "en" and len(frame):
        frame = frame.assign(
            severity=[_word("severity", v, lang) for v in frame["severity"]],
            check=[_word("check", v, lang) for v in frame["check"]],
            message=[engine_text(v, lang) for v in frame["message"]])
    return Table(
        "validity_flags", _t("flags.title", lang), frame,
        formats={"value": "r3", "threshold": "r3"},
        labels={"severity": _t("col.severity", lang), "check": _t("col.check", lang),
                "subject": _t("col.where", lang), "value": _t("col.value", lang),
                "threshold": _t("col.threshold", lang), "message": _t("col.finding", lang)},
        note=_t("flags.note", lang),
    )


def residual_table(res, *, k: int = 10, lang: str = "en") -> Table:
    """Local fit: the largest absolute correlation residuals (Bentler)."""
    resid = next(iter(res.residuals("cor.bentler").values()))
    vals = resid.to_numpy()
    names = list(resid.columns)
    rows = [{"item_a": names[i], "item_b": names[j], "residual": float(vals[i, j])}
            for i in range(len(names)) for j in range(i)]
    frame = pd.DataFrame(rows)
    frame["abs"] = frame["residual"].abs()
    frame = frame.sort_values(["abs", "item_a", "item_b"], ascending=[False, True, True],
                              kind="mergesort").head(k).drop(columns="abs")
    n_big = int((pd.DataFrame(rows)["residual"].abs() > 0.10).sum())
    return Table(
        "residuals", _t("residuals.title", lang), frame,
        formats={"residual": "r3"},
        labels={"item_a": _t("col.item", lang), "item_b": _t("col.item", lang),
                "residual": _t("col.residual", lang)},
        note=_t("residuals.note", lang, n_big=n_big, n=len(rows)),
    )


def marker_table(marker, *, lang: str = "en") -> Table:
    """Correlations between constructs before and after the marker adjustment."""
    return Table(
        "marker_adjusted", _t("marker.title", lang),
        marker.table[["x", "y", "r", "r.adjusted", "pvalue", "significant"]],
        formats={"r": "r2", "r.adjusted": "r2", "pvalue": "p"},
        labels={"x": _t("col.construct", lang), "y": _t("col.construct", lang), "r": "r",
                "r.adjusted": _t("col.r_adjusted", lang), "pvalue": _t("col.p_adjusted", lang),
                "significant": _t("col.significant", lang)},
        note=_t("marker.note", lang, r_m=f"{marker.r_m:.3f}", rule=marker.rule, n=marker.n),
    )


def cmv_table(harman=None, ulmc_res=None, marker=None, *, lang: str = "en") -> Table:
    """The common-method-variance checks in one table."""
    rows = []
    if harman is not None:
        d = harman.to_dict()
        rows.append({
            "check": _t("cmv.harman", lang),
            "statistic": _t("cmv.harman.statistic", lang),
            "value": d["first_component_share"], "pvalue": None,
            "conclusion": _t("cmv.harman.dominant" if d.get("dominant")
                             else "cmv.harman.not_dominant", lang),
        })
        comp = d.get("comparison") or {}
        if comp:
            rows.append({
                "check": _t("cmv.onefactor", lang),
                "statistic": f"Δχ²({comp.get('df.diff', float('nan')):.0f})",
                "value": comp.get("chisq.diff"), "pvalue": comp.get("pvalue"),
                "conclusion": _t("cmv.onefactor.worse"
                                 if comp.get("pvalue") is not None and comp["pvalue"] < 0.05
                                 else "cmv.onefactor.same", lang),
            })
    if ulmc_res is not None:
        d = ulmc_res.to_dict()
        rows.append({
            "check": _t("cmv.ulmc", lang),
            "statistic": _t("cmv.ulmc.statistic", lang),
            "value": float(ulmc_res.method_variance_equal), "pvalue": d.get("pvalue"),
            "conclusion": _t("cmv.ulmc.detected" if d.get("detected")
                             else "cmv.ulmc.not_detected", lang),
        })
    if marker is not None:
        d = marker.to_dict()
        tab = marker.table
        lost = int((tab["significant.unadjusted"] & ~tab["significant"]).sum())
        rows.append({
            "check": _t("cmv.marker", lang),
            "statistic": _t("cmv.marker.statistic", lang),
            "value": float(d["r_m"]), "pvalue": None,
            "conclusion": _t("cmv.marker.conclusion", lang, lost=lost,
                             n=int(tab["significant.unadjusted"].sum())),
        })
    return Table(
        "cmv", _t("cmv.title", lang), pd.DataFrame(
            rows, columns=["check", "statistic", "value", "pvalue", "conclusion"]),
        formats={"value": "num3", "pvalue": "p"},
        labels={"check": _t("col.check", lang), "statistic": _t("col.statistic", lang),
                "value": _t("col.value", lang), "pvalue": "p",
                "conclusion": _t("col.conclusion", lang)},
        note=_t("cmv.note", lang),
    )


# ---------------------------------------------------------------------- admissibility
def flag_heywood(out, res, *, model: str = "The structural model",
                 lang: str = "en") -> list[dict[str, Any]]:
    """Record the Heywood cases of ``res`` in a stage's results: the list under
    ``numbers["heywood"]`` (empty when the solution is admissible) and, if any,
    a problem (``StageOutput.problem``) that names the variables and says what
    to do (:func:`heywood_text`), in the report language ``lang``."""
    cases = heywood_cases(res)
    out.numbers(heywood=cases, admissible=not cases)
    if cases:
        names = ", ".join(dict.fromkeys(c["variable"] for c in cases))
        out.problem(_t("heywood.problem", lang, names=names),
                    heywood_text(cases, model=model, lang=lang))
    return cases


# ---------------------------------------------------------------------- structural
def paths_table(res, *, name: str = "paths",
                title: str = "Structural Model: Path Coefficients", lang: str = "en") -> Table:
    """Regression paths: B, SE, CI, beta, p."""
    est = res.estimates
    reg = est[est["op"] == "~"]
    frame = pd.DataFrame({
        "outcome": reg["lhs"].to_numpy(), "predictor": reg["rhs"].to_numpy(),
        "est": reg["est"].to_numpy(dtype=float), "se": reg["se"].to_numpy(dtype=float),
        "ci.lower": reg["ci.lower"].to_numpy(dtype=float),
        "ci.upper": reg["ci.upper"].to_numpy(dtype=float),
        "std": reg["std.all"].to_numpy(dtype=float),
        "z": reg["z"].to_numpy(dtype=float), "pvalue": reg["pvalue"].to_numpy(dtype=float),
    })
    level = _level_of(res)
    if lang != "en" and title == "Structural Model: Path Coefficients":
        title = _t("paths.title", lang)
    return Table(
        name, title, frame,
        formats={"est": "num3", "se": "num3", "std": "r2", "z": "num2", "pvalue": "p"},
        labels={"outcome": _t("col.outcome", lang), "predictor": _t("col.predictor", lang),
                "est": "B", "se": "SE", "std": "β", "z": "z", "pvalue": "p"},
        ci={_t("col.ci_of_b", lang, level=f"{level:.0%}"): ("ci.lower", "ci.upper", "num3")},
        note=_t("paths.note", lang, level=f"{level:.0%}", estimator=res.estimator, n=res.n),
    )


def _level_of(res) -> float:
    est = res.estimates
    row = est[(est["op"] == "~") & est["se"].notna() & (est["se"] > 0)].head(1)
    if row.empty:
        return 0.95
    r = row.iloc[0]
    half = (r["ci.upper"] - r["ci.lower"]) / 2 / r["se"]
    return float(round(2 * stats.norm.cdf(half) - 1, 4))


def r2_table(res, *, name: str = "r2", lang: str = "en") -> Table:
    """R² of the endogenous factors; an R² above 1 (a negative residual variance,
    :func:`heywood_cases`) is shown, marked inadmissible, not hidden."""
    from ckm_research.structural.admissibility import r_squared

    r2 = r_squared(res)
    bad = {c["variable"] for c in heywood_cases(res) if c["what"] == "residual variance"}
    flags = [_t("r2.flag", lang) if k in bad else "" for k in r2]
    note = _t("r2.note", lang)
    if bad:
        note += _t("r2.note.bad", lang, names=", ".join(k for k in r2 if k in bad))
    return Table(
        name, _t("r2.title", lang),
        pd.DataFrame({"outcome": list(r2), "r2": list(r2.values()), "flag": flags}),
        formats={"r2": "r2"}, labels={"outcome": _t("col.factor", lang), "r2": "R²",
                                      "flag": _t("col.problem", lang)},
        hide=[] if bad else ["flag"], note=note,
    )


def indirect_table(res, effects: list[IndirectEffect], boot: pd.DataFrame | None = None,
                   *, boot_info: dict | None = None, lang: str = "en") -> Table:
    """Indirect effects with delta-method CIs (and bootstrap CIs when given).

    ``boot`` has columns ``name ci.lower ci.upper`` (percentile bootstrap).
    """
    est = res.estimates
    defs = est[est["op"] == ":="].set_index("lhs")
    rows = []
    for eff in effects:
        if eff.name not in defs.index:
            continue
        r = defs.loc[eff.name]
        rows.append({"effect": eff.describe(), "name": eff.name, "est": float(r["est"]),
                     "se": float(r["se"]), "ci.lower": float(r["ci.lower"]),
                     "ci.upper": float(r["ci.upper"]), "std": float(r["std.all"]),
                     "pvalue": float(r["pvalue"])})
    frame = pd.DataFrame(rows, columns=["effect", "name", "est", "se", "ci.lower", "ci.upper",
                                        "std", "pvalue"])
    ci = {_t("col.delta_ci", lang): ("ci.lower", "ci.upper", "num3")}
    note = _t("indirect.note", lang)
    labels = {"effect": _t("col.path", lang), "est": _t("col.estimate", lang), "se": "SE",
              "std": _t("col.std", lang), "pvalue": "p"}
    formats = {"est": "num3", "se": "num3", "std": "r3", "pvalue": "p"}
    if boot is not None and len(boot):
        info = boot_info or {}
        b = boot.set_index("name")
        if info.get("complete_cases"):
            frame["boot.est"] = [b.at[n, "est"] if n in b.index else np.nan
                                 for n in frame["name"]]
            labels["boot.est"] = _t("col.boot_est", lang)
            formats["boot.est"] = "num3"
        frame["boot.lower"] = [b.at[n, "ci.lower"] if n in b.index else np.nan
                               for n in frame["name"]]
        frame["boot.upper"] = [b.at[n, "ci.upper"] if n in b.index else np.nan
                               for n in frame["name"]]
        ci[_t("col.boot_ci", lang)] = ("boot.lower", "boot.upper", "num3")
        note += _t("indirect.note.boot", lang, n_boot=info.get("n_boot"),
                   converged=info.get("converged"))
        if info.get("complete_cases"):
            note += _t("indirect.note.complete", lang, n=info.get("n"))
    else:
        note += _t("indirect.note.no_boot", lang)
    return Table("indirect", _t("indirect.title", lang), frame, formats=formats, labels=labels,
                 ci=ci, hide=["name"], note=note)


# ---------------------------------------------------------------------- moderation
def interaction_table(res, interactions: list[tuple[str, str, str]], *,
                      lang: str = "en") -> Table:
    """The equations with product terms: main effects and interaction terms."""
    est = res.estimates
    outcomes = list(dict.fromkeys(y for y, _, _ in interactions))
    reg = est[(est["op"] == "~") & est["lhs"].isin(outcomes)]
    frame = pd.DataFrame({
        "outcome": reg["lhs"].to_numpy(),
        "term": [t.replace(":", " × ") for t in reg["rhs"]],
        "est": reg["est"].to_numpy(dtype=float), "se": reg["se"].to_numpy(dtype=float),
        "ci.lower": reg["ci.lower"].to_numpy(dtype=float),
        "ci.upper": reg["ci.upper"].to_numpy(dtype=float),
        "std": reg["std.all"].to_numpy(dtype=float),
        "pvalue": reg["pvalue"].to_numpy(dtype=float),
    })
    level = _level_of(res)
    return Table(
        "interactions", _t("interactions.title", lang), frame,
        formats={"est": "num3", "se": "num3", "std": "r2", "pvalue": "p"},
        labels={"outcome": _t("col.outcome", lang), "term": _t("col.term", lang), "est": "B",
                "se": "SE", "std": "β", "pvalue": "p"},
        ci={_t("col.ci_of_b", lang, level=f"{level:.0%}"): ("ci.lower", "ci.upper", "num3")},
        note=_t("interactions.note", lang, estimator=res.estimator, n=res.n),
    )


def standardized_interaction_table(res, interactions: list[tuple[str, str, str]], *,
                                   lang: str = "en") -> Table:
    """The standardized paths of the equations with product terms, the product terms
    scaled by SD(X) SD(Z) / SD(Y) (Wen, Marsh & Hau, 2010), with delta-method SEs
    (:func:`ckm_research.moderation.standardized_interactions`)."""
    from ckm_research.moderation import standardized_interactions

    level = _level_of(res)
    std = standardized_interactions(res, level=level)
    outcomes = list(dict.fromkeys(y for y, _, _ in interactions))
    std = std[std["lhs"].isin(outcomes)]
    frame = pd.DataFrame({
        "outcome": std["lhs"].to_numpy(),
        "term": [t.replace(":", " × ") for t in std["rhs"]],
        "est": std["est"].to_numpy(dtype=float),
        "est.std": std["est.std"].to_numpy(dtype=float),
        "se": std["se"].to_numpy(dtype=float),
        "ci.lower": std["ci.lower"].to_numpy(dtype=float),
        "ci.upper": std["ci.upper"].to_numpy(dtype=float),
        "pvalue": std["pvalue"].to_numpy(dtype=float),
    })
    method = (res.notes.get("interaction") or {}).get("method", "")
    return Table(
        "interaction_std", _t("stdint.title", lang), frame,
        formats={"est": "num3", "est.std": "num3", "se": "num3", "pvalue": "p"},
        labels={"outcome": _t("col.outcome", lang), "term": _t("col.term", lang), "est": "B",
                "est.std": "β", "se": _t("stdint.col.se", lang), "pvalue": "p"},
        ci={_t("stdint.col.ci", lang, level=f"{level:.0%}"): ("ci.lower", "ci.upper", "num3")},
        note=_t("stdint.note", lang) + (_t("stdint.note.dblcent", lang)
                                       if method == "dblcent" else ""),
    )


def interaction_effect_size_table(res, interactions: list[tuple[str, str, str]], *,
                                  lang: str = "en") -> Table:
    """R-squared change, Cohen's f-squared and the likelihood-ratio test D of the
    product terms of an LMS or QML fit (for QML a quasi-likelihood ratio, said in the
    note) (:func:`ckm_research.moderation.interaction_effect_sizes`; Aiken & West, 1991;
    Klein & Moosbrugger, 2000)."""
    from ckm_research.moderation import interaction_effect_sizes

    es = interaction_effect_sizes(res)
    outcomes = list(dict.fromkeys(y for y, _, _ in interactions))
    es = es[es["lhs"].isin(outcomes)]
    frame = pd.DataFrame({
        "outcome": es["lhs"].to_numpy(),
        "term": [t.replace(":", " × ") for t in es["rhs"]],
        "r2": es["r2"].to_numpy(dtype=float), "r2.h0": es["r2.h0"].to_numpy(dtype=float),
        "delta.r2": es["delta.r2"].to_numpy(dtype=float), "f2": es["f2"].to_numpy(dtype=float),
        "delta.r2.term": es["delta.r2.term"].to_numpy(dtype=float),
        "f2.term": es["f2.term"].to_numpy(dtype=float),
        "lrt.stat": es["lrt.stat"].to_numpy(dtype=float),
        "lrt.df": es["lrt.df"].to_numpy(dtype=float),
        "lrt.pvalue": es["lrt.pvalue"].to_numpy(dtype=float),
    })
    joint = bool((es["terms"] != es["rhs"]).any()) or len(es) > 1
    return Table(
        "interaction_effect_sizes", _t("effsize.title", lang), frame,
        formats={"r2": "r3", "r2.h0": "r3", "delta.r2": "r3", "f2": "num3", "delta.r2.term": "r3",
                 "f2.term": "num3", "lrt.stat": "num2", "lrt.df": "int", "lrt.pvalue": "p"},
        labels={"outcome": _t("col.outcome", lang), "term": _t("col.term", lang),
                "r2": _t("effsize.col.r2", lang), "r2.h0": _t("effsize.col.r2_h0", lang),
                "delta.r2": "ΔR²", "f2": "f²", "delta.r2.term": _t("effsize.col.dr2_term", lang),
                "f2.term": _t("effsize.col.f2_term", lang), "lrt.stat": "D", "lrt.df": "df",
                "lrt.pvalue": "p"},
        note=_t("effsize.note", lang) + (_t("effsize.note.joint", lang) if joint else "")
        + (_t("qmlfx.effsize.note.qml", lang) if "quasi-likelihood ratio" in set(es["lrt.kind"])
           else ""),
    )


def slopes_table(frames: list[tuple[str, str, str, pd.DataFrame]], *,
                 lang: str = "en") -> Table:
    """Simple slopes of each interaction at the moderator's mean and ±1 SD."""
    rows = []
    for y, x, z, ss in frames:
        for r in ss.to_dict(orient="records"):
            rows.append({"outcome": y, "predictor": x, "moderator": z,
                         "at": _slope_label(r["label"], lang),
                         "moderator_value": r["moderator_value"], "slope": r["slope"],
                         "se": r["se"], "ci.lower": r["ci.lower"], "ci.upper": r["ci.upper"],
                         "pvalue": r["pvalue"]})
    frame = pd.DataFrame(rows, columns=["outcome", "predictor", "moderator", "at",
                                        "moderator_value", "slope", "se", "ci.lower",
                                        "ci.upper", "pvalue"])
    return Table(
        "simple_slopes", _t("slopes.title", lang), frame,
        formats={"moderator_value": "num2", "slope": "num3", "se": "num3", "pvalue": "p"},
        labels={"outcome": _t("col.outcome", lang), "predictor": _t("col.predictor", lang),
                "moderator": _t("col.moderator", lang), "at": _t("col.moderator_at", lang),
                "moderator_value": _t("col.value", lang), "slope": _t("col.slope", lang),
                "se": "SE", "pvalue": "p"},
        ci={"CI": ("ci.lower", "ci.upper", "num3")},
        note=_t("slopes.note", lang),
    )


def _slope_label(label: Any, lang: str) -> Any:
    """``'-1 SD'``, ``'Mean'``, ``'+1 SD'`` (simple_slopes' labels) in ``lang``; other
    labels as they are."""
    if lang == "en" or not isinstance(label, str):
        return label
    key = {"-1 SD": "slopes.at.low", "Mean": "slopes.at.mean",
           "+1 SD": "slopes.at.high"}.get(label.strip())
    return _t(key, lang) if key else label


def invariance_table(inv, *, name: str = "invariance", title_group: str = "",
                     lang: str = "en") -> Table:
    """The invariance sequence: fit of each level and the change from the one before."""
    t = inv.table
    title_group = title_group or str(inv.group)
    cols = ["model", "chisq", "df", "cfi", "rmsea", "srmr", "chisq.diff", "df.diff",
            "pvalue.diff", "delta.cfi", "delta.rmsea", "status", "decision"]
    chisq_col = "chisq.scaled" if inv.estimator == "MLR" and "chisq.scaled" in t.columns \
        else "chisq"
    p_col = "pvalue.scaled" if chisq_col == "chisq.scaled" and "pvalue.scaled" in t.columns \
        else "pvalue"
    frame = pd.DataFrame({
        "model": [_word("invariance.level", m, lang) for m in t["model"]],
        "chisq": t[chisq_col], "df": t["df"], "pvalue": t[p_col],
        "cfi": t["cfi"], "rmsea": t["rmsea"], "srmr": t["srmr"],
        "chisq.diff": t["chisq.diff"], "df.diff": t["df.diff"],
        "pvalue.diff": t["pvalue.diff"], "delta.cfi": t["delta.cfi"],
        "delta.rmsea": t["delta.rmsea"],
        "decision": [_invariance_decision(d, lang) for d in t["decision"]],
        # hierarchical sequence: baseline, supported, not supported, not tested (issue 12)
        "status": [_word("invariance.status", s, lang) for s in t["status"]]
        if "status" in t.columns else "",
    })[cols]
    if "group.partial" in t.columns:  # a partial model: name the parameters freed
        frame["model"] = [f"{m} ({_t('invariance.freed', lang, params=g)})"
                          if isinstance(g, str) and g else m
                          for m, g in zip(frame["model"], t["group.partial"], strict=True)]
    groups = _t("r.list_sep", lang).join(
        f"{_word('group', g, lang)} (n = {n})"
        for g, n in zip(inv.group_labels, inv.n_per_group, strict=False))
    test = _t("invariance.test.mlr" if inv.estimator == "MLR" else "invariance.test.ml", lang)
    return Table(
        name, _t("invariance.title", lang, group=title_group), frame,
        formats={"chisq": "num2", "df": "int", "pvalue": "p", "cfi": "r3", "rmsea": "r3",
                 "srmr": "r3", "chisq.diff": "num2", "df.diff": "int", "pvalue.diff": "p",
                 "delta.cfi": "r3", "delta.rmsea": "r3"},
        labels={"model": _t("col.level", lang), "chisq": "χ²", "df": "df", "pvalue": "p",
                "cfi": "CFI", "rmsea": "RMSEA", "srmr": "SRMR", "chisq.diff": "Δχ²",
                "df.diff": "Δdf", "pvalue.diff": "p(Δχ²)", "delta.cfi": "ΔCFI",
                "delta.rmsea": "ΔRMSEA", "status": _t("col.status", lang),
                "decision": _t("col.decision", lang)},
        note=_t("invariance.note", lang, groups=groups, test=test)
             + (_t("invariance.note.robust", lang) if inv.estimator == "MLR" else ""),
    )


def _invariance_decision(d: Any, lang: str) -> Any:
    """An invariance decision; a level not tested keeps its reason (issue 12)."""
    from ckm_research.report.i18n import engine_text

    if not isinstance(d, str):
        return d
    if d.startswith("not tested"):
        why = d.split(":", 1)[1].strip() if ":" in d else ""
        return _t("invariance.not_tested", lang, why=engine_text(why, lang)) if why else \
            _word("invariance.status", "not tested", lang)
    return _word("invariance.decision", d.split(":")[0].split(" (")[0], lang)


def _word(prefix: str, word: Any, lang: str) -> Any:
    """A word of a results table (an invariance level, a decision) in ``lang``, when the
    catalogue has it (``prefix.word``); else as it is."""
    from ckm_research.report.i18n import MESSAGES

    key = f"{prefix}.{word}"
    return _t(key, lang) if lang != "en" and key in MESSAGES else word


def path_comparison_table(cp: pd.DataFrame, group: str, *, name: str = "path_comparison",
                          equal: list[str] | None = None, lang: str = "en") -> Table:
    """Wald tests of equal regression paths across the groups."""
    frame = cp.copy()
    est_cols = [c for c in frame.columns if c.startswith("est.")]
    frame["path"] = [f"{a} ← {b}" if b else _t("comparison.all", lang)
                     for a, b in zip(frame["lhs"].fillna("").replace("(all)", ""),
                                     frame["rhs"].fillna(""), strict=True)]
    frame.loc[frame["lhs"] == "(all)", "path"] = _t("comparison.all", lang)
    frame = frame[["path"] + est_cols + ["wald", "df", "pvalue"]]
    return Table(
        name, _t("comparison.title", lang, group=group), frame,
        formats={**dict.fromkeys(est_cols, "num3"), "wald": "num2", "df": "int",
                 "pvalue": "p"},
        labels={"path": _t("col.path", lang),
                **{c: f"B ({_word('group', c[4:], lang)})" for c in est_cols},
                "wald": "Wald χ²", "df": "df", "pvalue": "p"},
        note=_t("comparison.note", lang, equal=_t("comparison.and", lang).join(
            _word("equal", e, lang) for e in (equal or ["loadings"]))),
    )


def power_table(pr, *, ops: tuple[str, ...] = ("~", ":="), lang: str = "en") -> Table:
    """Power per structural path and indirect effect (columns: sample sizes)."""
    t = pr.table[pr.table["op"].isin(ops)].copy()
    t["parameter"] = np.where(t["op"] == ":=", t["lhs"].str.replace("^ind_", "", regex=True)
                              .str.replace("_", " → "), t["lhs"] + " ← " + t["rhs"])
    wide = t.pivot_table(index=["parameter"], columns="n", values="power", sort=False)
    true = t.drop_duplicates("parameter").set_index("parameter")["true"]
    frame = wide.reset_index()
    frame.insert(1, "true", [float(true[p]) for p in frame["parameter"]])
    frame.columns = ["parameter", "true"] + [f"N={int(n)}" for n in wide.columns]
    ns = [c for c in frame.columns if c.startswith("N=")]
    return Table(
        "power", _t("power.title", lang), frame,
        formats={"true": "num3", **dict.fromkeys(ns, "r2")},
        labels={"parameter": _t("col.parameter", lang), "true": _t("col.value", lang)},
        note=_t("power.note", lang, reps=int(pr.settings["reps"]), alpha=pr.settings["alpha"]),
    )


def power_model_test_table(pr, *, lang: str = "en") -> Table:
    mt = pr.model_test.copy()
    cols = [c for c in ("n", "mc_reject_exact_fit", "power_close_fit", "power_not_close_fit")
            if c in mt.columns]
    return Table(
        "power_model_test", _t("power_test.title", lang), mt[cols],
        formats={"n": "int", "mc_reject_exact_fit": "r2", "power_close_fit": "r2",
                 "power_not_close_fit": "r2"},
        labels={"n": "N", "mc_reject_exact_fit": _t("col.mc_reject", lang),
                "power_close_fit": _t("col.close_fit", lang),
                "power_not_close_fit": _t("col.not_close_fit", lang)},
        note=_t("power_test.note", lang, df=f"{pr.settings['df']:g}"),
    )


# ------------------------------------------------ moderation of the study (issue 11)
def interaction_compare_table(main, other, interactions: list[tuple[str, str, str]], *,
                              methods: tuple[str, str], lang: str = "en") -> Table:
    """The product terms of the interaction model by two methods side by side (the
    robustness check: LMS and product indicators estimate the same latent
    interaction, Klein & Moosbrugger, 2000; Lin et al., 2010)."""

    def rows(res):
        est = res.estimates
        reg = est[(est["op"] == "~") & est["rhs"].str.contains(":", regex=False)]
        return {(r.lhs, r.rhs): r for r in reg.itertuples()}

    a, b = rows(main), rows(other)
    out = []
    for y, x, z in interactions:
        key = next((k for k in ((y, f"{x}:{z}"), (y, f"{z}:{x}")) if k in a), (y, f"{x}:{z}"))
        ra, rb = a.get(key), b.get(key) or b.get((y, f"{z}:{x}"))
        out.append({
            "outcome": y, "term": f"{x} × {z}",
            "est.main": getattr(ra, "est", np.nan), "se.main": getattr(ra, "se", np.nan),
            "pvalue.main": getattr(ra, "pvalue", np.nan),
            "est.other": getattr(rb, "est", np.nan), "se.other": getattr(rb, "se", np.nan),
            "pvalue.other": getattr(rb, "pvalue", np.nan),
        })
    frame = pd.DataFrame(out, columns=["outcome", "term", "est.main", "se.main", "pvalue.main",
                                       "est.other", "se.other", "pvalue.other"])
    name = {m: _t(f"mm.method.{m}", lang) for m in methods}
    return Table(
        "interaction_compare", _t("mm.compare.title", lang), frame,
        formats={c: ("p" if c.startswith("pvalue") else "num3") for c in frame.columns[2:]},
        labels={"outcome": _t("col.outcome", lang), "term": _t("col.term", lang),
                "est.main": f"B ({name[methods[0]]})", "se.main": f"SE ({name[methods[0]]})",
                "pvalue.main": f"p ({name[methods[0]]})",
                "est.other": f"B ({name[methods[1]]})", "se.other": f"SE ({name[methods[1]]})",
                "pvalue.other": f"p ({name[methods[1]]})"},
        note=_t("mm.compare.note", lang, main=name[methods[0]], other=name[methods[1]],
                n_main=main.n, n_other=other.n),
    )


def _regions_text(regions, mean: float, sd: float, lang: str, within: float = 3.0) -> str:
    """Johnson-Neyman regions of an indirect effect within ``within`` SDs of the
    moderator's mean, in words of ``lang``."""
    lo_r, hi_r = mean - within * sd, mean + within * sd
    shown = [(max(a, lo_r), min(b, hi_r)) for a, b in regions if b > lo_r and a < hi_r]
    if not shown:
        return _t("mm.jn.none", lang, k=f"{within:g}")
    if len(shown) == 1 and shown[0] == (lo_r, hi_r):
        return _t("mm.jn.all", lang, k=f"{within:g}")

    def v(x):
        return f"{(x - mean) / sd:+.2f} SD"

    return _t("r.list_sep", lang).join(f"[{v(a)}, {v(b)}]" for a, b in shown)


def conditional_indirect_table(cond: pd.DataFrame, *, level: float,
                               lang: str = "en") -> Table:
    """Conditional indirect effects (:func:`ckm_research.moderation.mediation.
    moderated_mediation`'s ``conditional`` frame), one row per path and moderator,
    the effects at the moderator's -1 SD, mean and +1 SD side by side."""
    rows = []
    keys = ["x", "m", "y", "moderator"]
    for (x, m, y, w), g in cond.groupby(keys, sort=False):
        row = {"path": f"{x} → {m} → {y}", "moderator": w}
        for pos, tag in zip(range(3), ("lo", "mid", "hi"), strict=True):
            r = g.iloc[pos]
            row[f"est.{tag}"] = float(r["est"])
            row[f"ci.lower.{tag}"] = float(r["ci.lower"])
            row[f"ci.upper.{tag}"] = float(r["ci.upper"])
        rows.append(row)
    cols = ["path", "moderator"] + [f"{k}.{t}" for t in ("lo", "mid", "hi")
                                    for k in ("est", "ci.lower", "ci.upper")]
    frame = pd.DataFrame(rows, columns=cols)
    pct = f"{level:.0%}"
    ci, labels = {}, {"path": _t("col.path", lang), "moderator": _t("col.moderator", lang)}
    for tag, key in (("lo", "slopes.at.low"), ("mid", "slopes.at.mean"),
                     ("hi", "slopes.at.high")):
        at = _t(key, lang) if lang != "en" else {"lo": "-1 SD", "mid": "Mean",
                                                 "hi": "+1 SD"}[tag]
        labels[f"est.{tag}"] = _t("mm.cond.at", lang, at=at)
        ci[_t("mm.cond.ci", lang, at=at, level=pct)] = (f"ci.lower.{tag}", f"ci.upper.{tag}",
                                                       "num3")
    method = str(cond["method"].iloc[0]) if len(cond) else "delta"
    return Table(
        "conditional_indirect", _t("mm.cond.title", lang), frame,
        formats={f"est.{t}": "num3" for t in ("lo", "mid", "hi")}, labels=labels, ci=ci,
        note=_t("mm.cond.note", lang, how=_mm_method(method, lang)),
    )


def _mm_method(method: str, lang: str) -> str:
    """The inference of a moderated-mediation table, in words of ``lang``."""
    if method == "delta":
        return _t("mm.how.delta", lang)
    m = re.search(r"\((\d+)/(\d+) resamples\)", method)
    return _t("mm.how.boot", lang, converged=m.group(1) if m else "?",
              requested=m.group(2) if m else "?")


def moderated_mediation_index_table(index: pd.DataFrame, jn: pd.DataFrame, moments: dict,
                                    *, level: float, lang: str = "en") -> Table:
    """Hayes' (2015) index of moderated mediation of every path, with the
    Johnson-Neyman region of the conditional indirect effect (moderator values
    where its interval excludes 0, in SDs from the moderator's mean, within 3 SD)."""
    regions = {(r["x"], r["m"], r["y"], r["moderator"]): r["regions"]
               for r in jn.to_dict("records")}
    rows = []
    for r in index.to_dict("records"):
        mean, sd = moments[r["moderator"]]
        reg = regions.get((r["x"], r["m"], r["y"], r["moderator"]), [])
        rows.append({"path": f"{r['x']} → {r['m']} → {r['y']}", "moderator": r["moderator"],
                     "est": float(r["est"]), "se": float(r["se"]),
                     "ci.lower": float(r["ci.lower"]), "ci.upper": float(r["ci.upper"]),
                     "pvalue": float(r["pvalue"]),
                     "per_sd": float(r["est"]) * float(r["moderator_sd"]),
                     "jn": _regions_text(reg, mean, sd, lang)})
    frame = pd.DataFrame(rows, columns=["path", "moderator", "est", "se", "ci.lower",
                                        "ci.upper", "pvalue", "per_sd", "jn"])
    method = str(index["method"].iloc[0]) if len(index) else "delta"
    return Table(
        "index_moderated_mediation", _t("mm.index.title", lang), frame,
        formats={"est": "num3", "se": "num3", "pvalue": "p", "per_sd": "num3"},
        labels={"path": _t("col.path", lang), "moderator": _t("col.moderator", lang),
                "est": _t("mm.index.col", lang), "se": "SE", "pvalue": "p",
                "per_sd": _t("mm.index.per_sd", lang), "jn": _t("mm.index.jn", lang)},
        ci={f"{level:.0%} CI": ("ci.lower", "ci.upper", "num3")},
        note=_t("mm.index.note", lang, how=_mm_method(method, lang), level=f"{level:.0%}"),
    )


def hypotheses_table(paths: list[dict], indirect: list[dict], interactions: list[dict], *,
                     level: float, lang: str = "en") -> Table:
    """The study's hypotheses and whether the data support them.

    ``paths`` and ``indirect`` are the rows of the structural stage's ``paths`` and
    ``indirect`` tables (:func:`paths_table`, :func:`indirect_table`), ``interactions``
    those of the moderation stage's ``interactions`` table
    (:func:`interaction_table`). The hypotheses are the seed's model (MODEL.md):
    H1, every path into the mediator of the interactions (the conditions -> CKM);
    H2, every path from the mediator or from an outcome it reaches (CKM -> outcomes,
    SAT -> LOY; the moderators' main effects are controls, not hypotheses); H3,
    every indirect effect of a condition through the mediator; H4,
    every product term (each moderation). A directed hypothesis (H1-H3, a positive
    effect) is supported when the interval lies above 0 (the bootstrap interval for
    indirect effects when there is one, else the delta-method one); a moderation
    (H4, direction not stated by the seed) when the interval excludes 0.
    """
    focal = {str(r["term"]).split(" × ")[0] for r in interactions if "×" in str(r["term"])}
    rows = []
    # the seed's words (conditions -> CKM -> outcomes) for the CKM study; for any other
    # model the kinds name the focal predictor of its product terms
    ckm = focal == {"CKM"}
    names = ", ".join(sorted(focal))

    def kind(group: int) -> str:
        if ckm or group > 2:
            return _t(f"hyp.kind.{group}", lang)
        return _t(f"hyp.kind.{group}.generic", lang, focal=names)

    def add(group, n, statement, est, lo, hi, p, directed):
        supported = bool(lo > 0) if directed else bool(lo > 0 or hi < 0)
        rows.append({"hypothesis": f"H{group}{_letter(n)}", "statement": statement,
                     "kind": kind(group), "est": est, "ci.lower": lo,
                     "ci.upper": hi, "pvalue": p, "supported": supported})

    into = [r for r in paths if r["outcome"] in focal]
    reached = set(focal)  # the mediator and every outcome downstream of it
    while True:
        more = {r["outcome"] for r in paths if r["predictor"] in reached} - reached
        if not more:
            break
        reached |= more
    onward = [r for r in paths if r["predictor"] in reached and r["outcome"] not in focal]
    for group, chosen in ((1, into), (2, onward)):
        for n, r in enumerate(chosen):
            add(group, n, f"{r['predictor']} → {r['outcome']} (+)", r["est"], r["ci.lower"],
                r["ci.upper"], r["pvalue"], True)
    starts = {r["predictor"] for r in into}
    chains = [r for r in indirect
              if (parts := str(r["name"]).removeprefix("ind_").split("_"))
              and parts[0] in starts and len(parts) > 2 and parts[1] in focal]
    for n, r in enumerate(chains):
        boot = r.get("boot.lower") is not None and np.isfinite(r.get("boot.lower", np.nan))
        lo, hi = (r["boot.lower"], r["boot.upper"]) if boot else (r["ci.lower"], r["ci.upper"])
        add(3, n, str(r["name"]).removeprefix("ind_").replace("_", " → ") + " (+)", r["est"],
            lo, hi, r["pvalue"], True)
    products = [r for r in interactions if "×" in str(r["term"])]
    for n, r in enumerate(products):
        add(4, n, f"{r['term']} → {r['outcome']}", r["est"], r["ci.lower"], r["ci.upper"],
            r["pvalue"], False)
    frame = pd.DataFrame(rows, columns=["hypothesis", "statement", "kind", "est", "ci.lower",
                                        "ci.upper", "pvalue", "supported"])
    # Python bools (not numpy's), which format_value prints as yes/no (是/否 in zh)
    frame["supported"] = frame["supported"].astype(object)
    return Table(
        "hypotheses", _t("hyp.title", lang), frame,
        formats={"est": "num3", "pvalue": "p", "supported": "int"},
        labels={"hypothesis": "H", "statement": _t("hyp.col.statement", lang),
                "kind": _t("hyp.col.kind", lang), "est": _t("col.estimate", lang),
                "pvalue": "p", "supported": _t("hyp.col.supported", lang)},
        ci={f"{level:.0%} CI": ("ci.lower", "ci.upper", "num3")},
        note=_t("hyp.note" if ckm else "hyp.note.generic", lang, focal=names,
                rule=_t("hyp.rule", lang, level=f"{level:.0%}")),
    )


def _letter(n: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa."""
    s = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(97 + r) + s
    return s


def interaction_power_table(pr, *, lang: str = "en") -> Table:
    """Power of the product terms and the indices of moderated mediation
    (population: the moderation fit, :func:`ckm_research.inference.population.
    population_from_fit`), Monte Carlo and large-sample (analytic) power per
    sample size."""
    t = pr.table
    keep = (t["op"] == "~") & t["rhs"].str.contains(":", regex=False)
    keep |= (t["op"] == ":=") & t["lhs"].str.startswith("imm_")
    t = t[keep].copy()
    t["parameter"] = np.where(
        t["op"] == ":=",
        "IMM " + t["lhs"].str.removeprefix("imm_").str.replace("_", " → ", n=2)
        .str.replace("_", " | ", n=1),
        t["lhs"] + " ← " + t["rhs"].str.replace(":", " × "))
    wide = t.pivot_table(index="parameter", columns="n", values="power", sort=False)
    ana = t.pivot_table(index="parameter", columns="n", values="power_analytic", sort=False)
    true = t.drop_duplicates("parameter").set_index("parameter")["true"]
    frame = pd.DataFrame({"parameter": wide.index,
                          "true": [float(true[p]) for p in wide.index]})
    formats, labels = {"true": "num3"}, {"parameter": _t("col.parameter", lang),
                                         "true": _t("col.value", lang)}
    for n in wide.columns:
        frame[f"N={int(n)}"] = wide[n].to_numpy()
        frame[f"A{int(n)}"] = ana[n].to_numpy()
        formats[f"N={int(n)}"] = formats[f"A{int(n)}"] = "r2"
        labels[f"N={int(n)}"] = _t("mm.power.mc", lang, n=int(n))
        labels[f"A{int(n)}"] = _t("mm.power.analytic", lang, n=int(n))
    return Table(
        "power_interactions", _t("mm.power.title", lang), frame, formats=formats,
        labels=labels,
        note=_t("mm.power.note", lang, reps=int(pr.settings["reps"]),
                alpha=pr.settings["alpha"],
                mcse=f"{0.5 / np.sqrt(int(pr.settings['reps'])):.2f}".lstrip("0")),
    )


def moderator_moments(cond: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """``{moderator: (mean, sd)}`` as the conditional indirect effects used them (the
    values at the mean and at +1 SD of :func:`~ckm_research.moderation.mediation.
    conditional_indirect`)."""
    out = {}
    for w, g in cond.groupby("moderator", sort=False):
        vals = g["moderator_value"].to_numpy(dtype=float)
        out[str(w)] = (float(vals[1]), float(vals[2] - vals[1]))
    return out
