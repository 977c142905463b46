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
    "HU_BENTLER",
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


def instrument_table(ins, model_text: str) -> Table:
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
            "name": ins.text(sec.title, "en") if sec else "",
            "role": sec.role if sec else "",
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
    note = ("Items adapted (rephrased, not copied) from the sources named; "
            f"answers on the scale {scale.describe('en')}. " if scale else "")
    note += "Reverse-keyed items are reverse-coded before analysis."
    if ins.id == "derived":  # no instrument was given (ckm_research.instrument.derive)
        for row in rows:
            row["adapted_from"] = ""
        note = ("No instrument was given: the constructs are the factors of the model and the "
                "items the data's columns (wording and sources not recorded); answers from "
                f"{scale.lowest} to {scale.highest}.")
    return Table(
        "constructs", "Constructs and Items of the Survey Instrument", pd.DataFrame(rows),
        formats={"items": "int"},
        labels={"construct": "Code", "name": "Construct", "role": "Role", "items": "k",
                "item_ids": "Items", "reverse_keyed": "Reverse-keyed",
                "adapted_from": "Adapted from"},
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
def exclusions_table(imp) -> Table:
    """Respondents flagged and excluded by each screening criterion."""
    counts = imp.manifest["counts"]
    rules = imp.manifest["rules"]["screening"]
    dropped = counts.get("dropped_by_criterion", {})
    describe = {
        "missing": f"More than {rules['missing_max_share']:.0%} of items unanswered",
        "longstring": f"Same answer {rules['longstring_min']}+ times in a row (longstring; "
                      "Johnson, 2005)",
        "attention": "Failed an instructed-response item (Meade & Craig, 2012)",
        "outlier": f"Multivariate outlier, Mahalanobis p < {rules['outlier_alpha']:g} "
                   "(Tabachnick & Fidell, 2013)",
        "speed": f"Faster than {rules['seconds_per_item']:g} s per item (Huang et al., 2012)",
    }
    rows = []
    for crit, n in counts["flagged"].items():
        rows.append({"criterion": describe.get(crit, crit), "flagged": n,
                     "excluded": dropped.get(crit, 0) if crit in dropped else 0,
                     "rule": "excluded" if crit in dropped else "flagged only"})
    rows.append({"criterion": "Any criterion (respondents)", "flagged": counts["flagged_any"],
                 "excluded": counts["rows_dropped"], "rule": ""})
    return Table(
        "screening", "Data Screening: Respondents Flagged and Excluded", pd.DataFrame(rows),
        formats={"flagged": "int", "excluded": "int"},
        labels={"criterion": "Criterion", "flagged": "Flagged", "excluded": "Excluded",
                "rule": "Decision"},
        note=f"N = {counts['rows_read']} responses read; a respondent may be flagged by several "
             "criteria, so the rows need not add up to the last one. Criteria not marked "
             "'excluded' were reported but not acted on (the choice is a parameter, 'drop').",
    )


def profile_table(frame: pd.DataFrame, ins) -> Table:
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
                rows.append({"variable": ins.text(_question_title(info), "en"),
                             "category": choice.label.get("en", next(iter(choice.label.values()))),
                             "n": n, "percent": 100 * n / n_valid if n_valid else np.nan})
        else:
            rows.append({"variable": ins.text(_question_title(info), "en"),
                         "category": f"M = {col.mean():.1f}, SD = {col.std():.1f}, "
                                     f"range {col.min():g}-{col.max():g}",
                         "n": n_valid, "percent": np.nan})
        n_miss = int(col.isna().sum())
        if n_miss:
            rows.append({"variable": ins.text(_question_title(info), "en"),
                         "category": "(no answer)", "n": n_miss, "percent": np.nan})
    table = pd.DataFrame(rows, columns=["variable", "category", "n", "percent"])
    table.loc[table["variable"].duplicated(), "variable"] = ""
    return Table(
        "sample", "Sample Description", table,
        formats={"n": "int", "percent": "num1"},
        labels={"variable": "Characteristic", "category": "Category", "n": "n", "percent": "%"},
        note=f"N = {n_respondents} respondents analysed; percentages of those who answered.",
    )


def _question_title(info) -> dict:
    text = dict(info.text)
    # profile questions are full sentences; the id reads better as a table label
    return {k: (v if len(v) <= 48 else info.id.capitalize()) for k, v in text.items()}


def _item_columns(frame: pd.DataFrame, factors: dict[str, list[str]]) -> list[str]:
    return [i for items in factors.values() for i in items if i in frame.columns]


def missing_table(frame: pd.DataFrame, factors: dict[str, list[str]]) -> Table:
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
    rows.append({"construct": "All items", "items": len(cols),
                 "cells_missing": 100 * float(allb.isna().to_numpy().mean()),
                 "max_item_missing": 100 * float(allb.isna().mean().max()),
                 "respondents_incomplete": int(allb.isna().any(axis=1).sum())})
    return Table(
        "missing", "Missing Answers by Construct", pd.DataFrame(rows),
        formats={"items": "int", "cells_missing": "num1", "max_item_missing": "num1",
                 "respondents_incomplete": "int"},
        labels={"construct": "Construct", "items": "k", "cells_missing": "% answers missing",
                "max_item_missing": "Max. % missing (item)",
                "respondents_incomplete": "Respondents with a gap"},
        note=f"N = {len(frame)}.",
    )


def item_table(frame: pd.DataFrame, factors: dict[str, list[str]]) -> Table:
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
        "items", "Item Descriptive Statistics", pd.DataFrame(rows),
        formats={"n": "int", "mean": "num2", "sd": "num2", "skew": "num2", "kurtosis": "num2"},
        labels={"construct": "Construct", "item": "Item", "n": "n", "mean": "M", "sd": "SD",
                "skew": "Skewness", "kurtosis": "Kurtosis"},
        note="Skewness and excess kurtosis are the adjusted Fisher-Pearson coefficients "
             "(G1, G2, as SPSS reports them); |skewness| > 2 or |kurtosis| > 7 would signal "
             "substantial non-normality (Curran, West & Finch, 1996). Reverse-keyed items "
             "after reverse coding.",
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
              ci_level: float = 0.90) -> Table:
    """Fit measures of one or more models, with the cited guidelines in the note."""
    frame = pd.DataFrame(rows)
    robust = bool(frame["robust"].any())
    note = ("χ² is the Yuan-Bentler scaled statistic and CFI, TLI and RMSEA their robust "
            "versions (Brosseau-Liard & Savalei, 2014; Savalei, 2018). " if robust else "")
    note += (f"RMSEA with its {ci_level:.0%} CI. Guidelines (Hu & Bentler, 1999): CFI and TLI "
             "≥ .95, RMSEA ≤ .06, SRMR ≤ .08 - read as guidelines that depend on the model, "
             "not as pass/fail rules (Marsh, Hau & Wen, 2004).")
    return Table(
        name, title, frame,
        formats={"n": "int", "npar": "int", "chisq": "num2", "df": "int", "pvalue": "p",
                 "scaling": "num3", "chisq.ml": "num2", "cfi": "r3", "tli": "r3",
                 "rmsea": "r3", "rmsea.ci.lower": "r3", "rmsea.ci.upper": "r3", "srmr": "r3",
                 "aic": "num1", "bic": "num1"},
        labels={"model": "Model", "n": "N", "npar": "Parameters", "chisq": "χ²", "df": "df",
                "pvalue": "p", "cfi": "CFI", "tli": "TLI", "rmsea": "RMSEA", "srmr": "SRMR"},
        ci={"RMSEA 90% CI": ("rmsea.ci.lower", "rmsea.ci.upper", "r3")},
        hide=["robust", "chisq.ml", "aic", "bic", "scaling", "npar"],
        note=note,
    )


# ---------------------------------------------------------------------- measurement
def measurement_table(report, factors: dict[str, list[str]]) -> Table:
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
        "measurement", "Measurement Model: Standardized Loadings, Reliability and Convergent "
                       "Validity", pd.DataFrame(rows),
        formats={"loading": "r2", "se": "r3", "alpha": "r2", "cr": "r2", "ave": "r2"},
        blank=["alpha", "cr", "ave"],
        labels={"construct": "Construct", "item": "Item", "loading": "λ", "se": "SE",
                "alpha": "α", "cr": "CR", "ave": "AVE"},
        ci={"95% CI": ("ci.lower", "ci.upper", "r2")},
        note="λ = standardized loading (std.all) with its delta-method SE and CI; α = "
             "Cronbach's alpha; CR = composite reliability (omega; Bagozzi & Yi, 1988); AVE = "
             "average variance extracted (Fornell & Larcker, 1981). Usual guidelines: λ ≥ .708 "
             "(Hair et al., 2019), α and CR ≥ .70 (Nunnally & Bernstein, 1994), AVE ≥ .50.",
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


def htmt_table(report, threshold: float = 0.85) -> Table:
    """HTMT ratios (lower triangle)."""
    frame = _triangle(report.htmt, diagonal=False)
    cols = list(report.htmt.columns)
    return Table(
        "htmt", f"Discriminant Validity: Heterotrait-Monotrait Ratios ({report.htmt_method})",
        frame.drop(columns=[cols[-1]]), formats=dict.fromkeys(cols[:-1], "r2"),
        labels={"construct": "Construct"},
        note=f"{report.htmt_method} (Henseler, Ringle & Sarstedt, 2015; Roemer, Schuberth & "
             f"Henseler, 2021). Values below {threshold:.2f} support discriminant validity "
             "(.90 for conceptually similar constructs).",
    )


def fornell_larcker_table(report) -> Table:
    """Fornell-Larcker table: sqrt(AVE) on the diagonal, factor correlations below."""
    frame = _triangle(report.fornell_larcker, diagonal=True)
    cols = list(report.fornell_larcker.columns)
    return Table(
        "fornell_larcker", "Discriminant Validity: Fornell-Larcker Criterion", frame,
        formats=dict.fromkeys(cols, "r2"), labels={"construct": "Construct"},
        note="Diagonal: square root of the AVE; below it: correlations between the factors. "
             "The criterion holds when each diagonal value exceeds the correlations in its row "
             "and column (Fornell & Larcker, 1981).",
    )


def flags_table(report) -> Table:
    flags = report.flags
    frame = (flags[["severity", "check", "subject", "value", "threshold", "message"]]
             if len(flags) else pd.DataFrame(columns=["severity", "check", "subject", "value",
                                                      "threshold", "message"]))
    return Table(
        "validity_flags", "Measurement Values Below the Usual Thresholds", frame,
        formats={"value": "r3", "threshold": "r3"},
        labels={"severity": "Severity", "check": "Check", "subject": "Where", "value": "Value",
                "threshold": "Threshold", "message": "Finding"},
        note="Flags compare each value with the cited threshold; they are prompts for "
             "judgement, not verdicts.",
    )


def residual_table(res, *, k: int = 10) -> Table:
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
        "residuals", "Local Fit: Largest Correlation Residuals", frame,
        formats={"residual": "r3"},
        labels={"item_a": "Item", "item_b": "Item", "residual": "Residual"},
        note=f"Observed minus model-implied correlations (Bentler's standardization); "
             f"{n_big} of {len(rows)} exceed |.10|, the usual signal of local misfit "
             "(Kline, 2016, p. 240).",
    )


def marker_table(marker) -> Table:
    """Correlations between constructs before and after the marker adjustment."""
    return Table(
        "marker_adjusted", "Correlations Between Constructs Adjusted for the Marker Variable",
        marker.table[["x", "y", "r", "r.adjusted", "pvalue", "significant"]],
        formats={"r": "r2", "r.adjusted": "r2", "pvalue": "p"},
        labels={"x": "Construct", "y": "Construct", "r": "r", "r.adjusted": "r (adjusted)",
                "pvalue": "p (adjusted)", "significant": "Significant"},
        note=f"Lindell & Whitney (2001) adjustment with r_M = {marker.r_m:.3f} ({marker.rule}); "
             f"N = {marker.n}.",
    )


def cmv_table(harman=None, ulmc_res=None, marker=None) -> Table:
    """The common-method-variance checks in one table."""
    rows = []
    if harman is not None:
        d = harman.to_dict()
        rows.append({
            "check": "Harman's single factor (Podsakoff et al., 2003)",
            "statistic": "first unrotated component: share of variance",
            "value": d["first_component_share"], "pvalue": None,
            "conclusion": ("one factor dominates (≥ .50)" if d.get("dominant")
                           else "no single factor dominates (< .50)"),
        })
        comp = d.get("comparison") or {}
        if comp:
            rows.append({
                "check": "One-factor CFA vs. the trait model",
                "statistic": f"Δχ²({comp.get('df.diff', float('nan')):.0f})",
                "value": comp.get("chisq.diff"), "pvalue": comp.get("pvalue"),
                "conclusion": "one factor fits worse than the trait model"
                if comp.get("pvalue") is not None and comp["pvalue"] < 0.05
                else "one factor fits as well as the trait model",
            })
    if ulmc_res is not None:
        d = ulmc_res.to_dict()
        rows.append({
            "check": "Unmeasured latent method construct (ULMC)",
            "statistic": "mean method variance per item (equal loadings)",
            "value": float(ulmc_res.method_variance_equal), "pvalue": d.get("pvalue"),
            "conclusion": "method factor detected" if d.get("detected")
            else "no method factor detected",
        })
    if marker is not None:
        d = marker.to_dict()
        tab = marker.table
        lost = int((tab["significant.unadjusted"] & ~tab["significant"]).sum())
        rows.append({
            "check": "Marker variable (Lindell & Whitney, 2001)",
            "statistic": "r_M (marker correlation used)",
            "value": float(d["r_m"]), "pvalue": None,
            "conclusion": (f"{lost} of {int(tab['significant.unadjusted'].sum())} significant "
                           "correlations lose significance after adjustment"),
        })
    return Table(
        "cmv", "Common Method Variance Checks", pd.DataFrame(
            rows, columns=["check", "statistic", "value", "pvalue", "conclusion"]),
        formats={"value": "num3", "pvalue": "p"},
        labels={"check": "Check", "statistic": "Statistic", "value": "Value", "pvalue": "p",
                "conclusion": "Conclusion"},
        note="Harman's test is insensitive (Podsakoff et al., 2003; Fuller et al., 2016); the "
             "ULMC test compares a model with a method factor loading equally on every item "
             "with the trait model (boundary-corrected p). Procedural remedies matter more than "
             "any of these tests.",
    )


# ---------------------------------------------------------------------- admissibility
def flag_heywood(out, res, *, model: str = "The structural model") -> list[dict[str, Any]]:
    """Record the Heywood cases of ``res`` in a stage's results: the list under
    ``numbers["heywood"]`` (empty when the solution is admissible) and, if any,
    a problem (``StageOutput.problem``) that names the variables and says what
    to do (:func:`heywood_text`)."""
    cases = heywood_cases(res)
    out.numbers(heywood=cases, admissible=not cases)
    if cases:
        names = ", ".join(dict.fromkeys(c["variable"] for c in cases))
        out.problem(f"Inadmissible solution (Heywood case: {names})",
                    heywood_text(cases, model=model))
    return cases


# ---------------------------------------------------------------------- structural
def paths_table(res, *, name: str = "paths",
                title: str = "Structural Model: Path Coefficients") -> Table:
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
    return Table(
        name, title, frame,
        formats={"est": "num3", "se": "num3", "std": "r2", "z": "num2", "pvalue": "p"},
        labels={"outcome": "Outcome", "predictor": "Predictor", "est": "B", "se": "SE",
                "std": "β", "z": "z", "pvalue": "p"},
        ci={f"{level:.0%} CI of B": ("ci.lower", "ci.upper", "num3")},
        note=f"B = unstandardized coefficient with its {level:.0%} Wald CI; β = completely "
             f"standardized coefficient (std.all). Estimator {res.estimator}, N = {res.n}.",
    )


def _level_of(res) -> float:
    est = res.estimates
    row = est[(est["op"] == "~") & est["se"].notna() & (est["se"] > 0)].head(1)
    if row.empty:
        return 0.95
    r = row.iloc[0]
    half = (r["ci.upper"] - r["ci.lower"]) / 2 / r["se"]
    return float(round(2 * stats.norm.cdf(half) - 1, 4))


def r2_table(res, *, name: str = "r2") -> Table:
    """R² of the endogenous factors; an R² above 1 (a negative residual variance,
    :func:`heywood_cases`) is shown, marked inadmissible, not hidden."""
    from ckm_research.structural.admissibility import r_squared

    r2 = r_squared(res)
    bad = {c["variable"] for c in heywood_cases(res) if c["what"] == "residual variance"}
    flags = ["inadmissible (negative residual variance)" if k in bad else "" for k in r2]
    note = "R² = 1 − standardized residual variance."
    if bad:
        note += (" An R² above 1 (" + ", ".join(k for k in r2 if k in bad) + ") comes from a "
                 "negative residual variance, a Heywood case: the solution is inadmissible and "
                 "these values cannot be interpreted (Chen et al., 2001; Kolenikov & Bollen, "
                 "2012).")
    return Table(
        name, "Variance Explained in the Endogenous Factors",
        pd.DataFrame({"outcome": list(r2), "r2": list(r2.values()), "flag": flags}),
        formats={"r2": "r2"}, labels={"outcome": "Factor", "r2": "R²", "flag": "Problem"},
        hide=[] if bad else ["flag"], note=note,
    )


def indirect_table(res, effects: list[IndirectEffect], boot: pd.DataFrame | None = None,
                   *, boot_info: dict | None = None) -> Table:
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
    ci = {"Delta-method CI": ("ci.lower", "ci.upper", "num3")}
    note = ("Estimate and SE from the structural model; indirect effect = product of the "
            "paths along the chain (Bollen, 1987). Delta-method (Sobel) CIs assume a normal "
            "sampling distribution, which products of coefficients do not have")
    labels = {"effect": "Path", "est": "Estimate", "se": "SE", "std": "Std.", "pvalue": "p"}
    formats = {"est": "num3", "se": "num3", "std": "r3", "pvalue": "p"}
    if boot is not None and len(boot):
        info = boot_info or {}
        b = boot.set_index("name")
        if info.get("complete_cases"):
            frame["boot.est"] = [b.at[n, "est"] if n in b.index else np.nan
                                 for n in frame["name"]]
            labels["boot.est"] = "Estimate (complete cases)"
            formats["boot.est"] = "num3"
        frame["boot.lower"] = [b.at[n, "ci.lower"] if n in b.index else np.nan
                               for n in frame["name"]]
        frame["boot.upper"] = [b.at[n, "ci.upper"] if n in b.index else np.nan
                               for n in frame["name"]]
        ci["Bootstrap CI"] = ("boot.lower", "boot.upper", "num3")
        note += (f"; the percentile bootstrap CIs ({info.get('n_boot')} resamples, "
                 f"{info.get('converged')} converged) do not, and are the ones to interpret "
                 "(Preacher & Hayes, 2008).")
        if info.get("complete_cases"):
            note += (f" The bootstrap resampled the {info.get('n')} complete cases and refitted "
                     "ML from their moments (parameter boot_missing: listwise); its estimates "
                     "are shown beside the FIML ones.")
    else:
        note += "; bootstrap CIs are preferable (Preacher & Hayes, 2008)."
    return Table("indirect", "Indirect Effects", frame, formats=formats, labels=labels, ci=ci,
                 hide=["name"], note=note)


# ---------------------------------------------------------------------- moderation
def interaction_table(res, interactions: list[tuple[str, str, str]]) -> Table:
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
        "interactions", "Latent Interactions: Equations With Product Terms", frame,
        formats={"est": "num3", "se": "num3", "std": "r2", "pvalue": "p"},
        labels={"outcome": "Outcome", "term": "Term", "est": "B", "se": "SE", "std": "β",
                "pvalue": "p"},
        ci={f"{level:.0%} CI of B": ("ci.lower", "ci.upper", "num3")},
        note=f"X × Z = latent product term. Estimator {res.estimator}, N = {res.n}.",
    )


def slopes_table(frames: list[tuple[str, str, str, pd.DataFrame]]) -> Table:
    """Simple slopes of each interaction at the moderator's mean and ±1 SD."""
    rows = []
    for y, x, z, ss in frames:
        for r in ss.to_dict(orient="records"):
            rows.append({"outcome": y, "predictor": x, "moderator": z, "at": r["label"],
                         "moderator_value": r["moderator_value"], "slope": r["slope"],
                         "se": r["se"], "ci.lower": r["ci.lower"], "ci.upper": r["ci.upper"],
                         "pvalue": r["pvalue"]})
    frame = pd.DataFrame(rows, columns=["outcome", "predictor", "moderator", "at",
                                        "moderator_value", "slope", "se", "ci.lower",
                                        "ci.upper", "pvalue"])
    return Table(
        "simple_slopes", "Simple Slopes at Low, Mean and High Moderator Values", frame,
        formats={"moderator_value": "num2", "slope": "num3", "se": "num3", "pvalue": "p"},
        labels={"outcome": "Outcome", "predictor": "Predictor", "moderator": "Moderator",
                "at": "Moderator at", "moderator_value": "Value", "slope": "Slope",
                "se": "SE", "pvalue": "p"},
        ci={"CI": ("ci.lower", "ci.upper", "num3")},
        note="Slopes at the model-implied mean of the latent moderator and ±1 SD, with "
             "delta-method SEs (Preacher, Curran & Bauer, 2006).",
    )


def invariance_table(inv, *, name: str = "invariance", title_group: str = "") -> Table:
    """The invariance sequence: fit of each level and the change from the one before."""
    t = inv.table
    title_group = title_group or str(inv.group)
    cols = ["model", "chisq", "df", "cfi", "rmsea", "srmr", "chisq.diff", "df.diff",
            "pvalue.diff", "delta.cfi", "delta.rmsea", "decision"]
    chisq_col = "chisq.scaled" if inv.estimator == "MLR" and "chisq.scaled" in t.columns \
        else "chisq"
    p_col = "pvalue.scaled" if chisq_col == "chisq.scaled" and "pvalue.scaled" in t.columns \
        else "pvalue"
    frame = pd.DataFrame({
        "model": t["model"], "chisq": t[chisq_col], "df": t["df"], "pvalue": t[p_col],
        "cfi": t["cfi"], "rmsea": t["rmsea"], "srmr": t["srmr"],
        "chisq.diff": t["chisq.diff"], "df.diff": t["df.diff"],
        "pvalue.diff": t["pvalue.diff"], "delta.cfi": t["delta.cfi"],
        "delta.rmsea": t["delta.rmsea"],
        "decision": [str(d).split(":")[0].split(" (")[0] if isinstance(d, str) else d
                     for d in t["decision"]],
    })[cols]
    groups = ", ".join(f"{g} (n = {n})" for g, n in zip(inv.group_labels, inv.n_per_group,
                                                        strict=False))
    test = ("Satorra-Bentler (2001) scaled χ² difference" if inv.estimator == "MLR"
            else "χ² difference (likelihood ratio)")
    return Table(
        name, f"Measurement Invariance Across the {title_group} Groups", frame,
        formats={"chisq": "num2", "df": "int", "pvalue": "p", "cfi": "r3", "rmsea": "r3",
                 "srmr": "r3", "chisq.diff": "num2", "df.diff": "int", "pvalue.diff": "p",
                 "delta.cfi": "r3", "delta.rmsea": "r3"},
        labels={"model": "Level", "chisq": "χ²", "df": "df", "pvalue": "p", "cfi": "CFI",
                "rmsea": "RMSEA", "srmr": "SRMR", "chisq.diff": "Δχ²", "df.diff": "Δdf",
                "pvalue.diff": "p(Δχ²)", "delta.cfi": "ΔCFI", "delta.rmsea": "ΔRMSEA",
                "decision": "Decision"},
        note=f"Groups: {groups}. Each level is compared with the one before by the {test} and "
             "the change in the fit indices; it is supported when ΔCFI ≥ −.010 (Cheung & "
             "Rensvold, 2002) and ΔRMSEA ≤ .015 (Chen, 2007)."
             + (" CFI and RMSEA are the robust versions." if inv.estimator == "MLR" else ""),
    )


def path_comparison_table(cp: pd.DataFrame, group: str, *, name: str = "path_comparison",
                          equal: list[str] | None = None) -> Table:
    """Wald tests of equal regression paths across the groups."""
    frame = cp.copy()
    est_cols = [c for c in frame.columns if c.startswith("est.")]
    frame["path"] = [f"{a} ← {b}" if b else "All paths jointly"
                     for a, b in zip(frame["lhs"].fillna("").replace("(all)", ""),
                                     frame["rhs"].fillna(""), strict=True)]
    frame.loc[frame["lhs"] == "(all)", "path"] = "All paths jointly"
    frame = frame[["path"] + est_cols + ["wald", "df", "pvalue"]]
    return Table(
        name, f"Structural Paths by {group}", frame,
        formats={**dict.fromkeys(est_cols, "num3"), "wald": "num2", "df": "int",
                 "pvalue": "p"},
        labels={"path": "Path", **{c: f"B ({c[4:]})" for c in est_cols}, "wald": "Wald χ²",
                "df": "df", "pvalue": "p"},
        note="Unstandardized paths estimated in each group with equal "
             + " and ".join(equal or ["loadings"]) + "; Wald tests of equal paths across "
             "groups.",
    )


def power_table(pr, *, ops: tuple[str, ...] = ("~", ":=")) -> Table:
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
        "power", "Monte Carlo Power of the Structural Paths and Indirect Effects", frame,
        formats={"true": "num3", **dict.fromkeys(ns, "r2")},
        labels={"parameter": "Parameter", "true": "Value"},
        note=f"Share of {int(pr.settings['reps'])} simulated samples per N in which the effect "
             f"is significant (α = {pr.settings['alpha']}); population values are the "
             "estimates of this study (Muthén & Muthén, 2002). Power computed at observed "
             "estimates plans a replication; it does not explain a non-significant result "
             "(Hoenig & Heisey, 2001).",
    )


def power_model_test_table(pr) -> Table:
    mt = pr.model_test.copy()
    cols = [c for c in ("n", "mc_reject_exact_fit", "power_close_fit", "power_not_close_fit")
            if c in mt.columns]
    return Table(
        "power_model_test", "Power of the Tests of Model Fit", mt[cols],
        formats={"n": "int", "mc_reject_exact_fit": "r2", "power_close_fit": "r2",
                 "power_not_close_fit": "r2"},
        labels={"n": "N", "mc_reject_exact_fit": "χ² rejects (simulated)",
                "power_close_fit": "Close fit (.05 vs .08)",
                "power_not_close_fit": "Not-close fit (.05 vs .01)"},
        note=f"RMSEA tests of MacCallum, Browne & Sugawara (1996) at df = "
             f"{pr.settings['df']:g}.",
    )
