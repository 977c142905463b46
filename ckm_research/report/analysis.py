"""What the stage notebooks call: ckm_research's results, arranged as report tables.

The notebooks stay thin (STYLE: a ``parameters`` cell and calls into
``ckm_research``): each step here runs the toolkit's public functions
(:func:`ckm_research.fit`, :mod:`ckm_research.data.importer`,
:mod:`ckm_research.measurement`, :mod:`ckm_research.moderation`) and turns
their results into :class:`~ckm_research.report.tables.Table` objects with APA
headers and notes that cite the cut-offs. The only statistics computed here
are descriptive ones no other module offers (item moments, Mardia's
coefficients, R-squared read off the standardized solution).

Parts of the toolkit still being written are looked up when called
(:func:`feature`); when one is missing the step says so and the report prints
that the part is not available - no number is invented in its place.
"""

from __future__ import annotations

import importlib
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ckm_research.errors import CkmError, CkmWarning
from ckm_research.report.modelsyntax import IndirectEffect, indicators
from ckm_research.report.tables import Table

__all__ = [
    "feature", "read_model", "load_instrument", "instrument_table", "instrument_numbers",
    "import_survey", "apply_subset", "save_analysis_data", "read_analysis_data",
    "exclusions_table", "profile_table", "missing_table", "item_table", "mardia",
    "likert_shares", "fit_model", "fit_row", "fit_table", "estimator_text",
    "measurement_table", "htmt_table", "fornell_larcker_table", "flags_table",
    "residual_table", "run_cmv", "marker_table", "cmv_table", "paths_table", "r_squared",
    "r2_table", "indirect_table", "interaction_table", "slopes_table", "invariance_table",
    "path_comparison_table", "bootstrap_defined", "interaction_fit_options",
    "multigroup_comparison", "run_power", "power_table", "power_model_test_table", "HU_BENTLER",
    "heywood_cases", "heywood_text", "flag_heywood", "power_blocker", "HEYWOOD_REFS",
]

#: Fit guidelines of Hu & Bentler (1999), read as guidelines, not pass/fail rules.
HU_BENTLER = {"cfi": 0.95, "tli": 0.95, "rmsea": 0.06, "srmr": 0.08}
HU_BENTLER_REF = ("Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance "
                  "structure analysis. Structural Equation Modeling, 6(1), 1-55.")

#: What the report cites on inadmissible solutions (negative variances, R² > 1).
HEYWOOD_REFS = (
    "Kolenikov, S., & Bollen, K. A. (2012). Testing negative error variances: Is a Heywood "
    "case a symptom of misspecification? Sociological Methods & Research, 41(1), 124-167.",
    "Chen, F., Bollen, K. A., Paxton, P., Curran, P. J., & Kirby, J. B. (2001). Improper "
    "solutions in structural equation models: Causes, consequences, and strategies. "
    "Sociological Methods & Research, 29(4), 468-508.",
)

# ---------------------------------------------------------------------- features
#: Parts of the toolkit the pipeline uses, by issue: (module, attribute, what).
_FEATURES = {
    "measurement": ("ckm_research.measurement", "validity_report",
                    "reliability and validity (ckm_research.measurement, issue 4)"),
    "cmv": ("ckm_research.measurement", "ulmc",
            "common-method checks (ckm_research.measurement, issue 4)"),
    "invariance": ("ckm_research.measurement", "measurement_invariance",
                   "measurement invariance (ckm_research.measurement, issue 4)"),
    "interactions": ("ckm_research.moderation.dispatch", "fit_with_interactions",
                     "latent interactions (ckm_research.moderation, issue 4)"),
    "simple_slopes": ("ckm_research.moderation.simple_slopes", "simple_slopes",
                      "simple slopes and Johnson-Neyman (ckm_research.moderation, issue 4)"),
    "bootstrap": ("ckm_research.inference.bootstrap", "bootstrap",
                  "the bootstrap (ckm_research.inference, issue 6)"),
    "power": ("ckm_research.inference.power", "power_analysis",
              "Monte Carlo power analysis (ckm_research.inference, issue 6)"),
}


def feature(name: str) -> tuple[Any, str]:
    """``(function, "")`` if the part of the toolkit is installed, else ``(None, reason)``."""
    module, attr, what = _FEATURES[name]
    try:
        mod = importlib.import_module(module)
        fn = getattr(mod, attr)
    except (ImportError, AttributeError):
        return None, (f"{what} is not part of this installation of ckm-research yet "
                      f"({module}.{attr} is missing), so this part is left out rather than "
                      "estimated some other way.")
    return fn, ""


#: One random stream per use of the study seed: ``SeedSequence(seed, spawn_key=(k,))``
#: (numpy's ``spawn_key``, as ``SeedSequence(seed).spawn``'s k-th child), so the bootstrap
#: and the power simulation never share draws while each stays reproducible from the seed.
#: Within a use, replication ``i`` draws from child ``(k, i)`` (see
#: :func:`ckm_research.inference.parallel.spawn_seeds`).
SEED_STREAMS = {"bootstrap": 1, "power": 2}


def study_stream(seed: int, purpose: str) -> np.random.SeedSequence:
    """The random stream of one use (``purpose``, a key of :data:`SEED_STREAMS`) of the
    study seed: ``numpy.random.SeedSequence(seed, spawn_key=(SEED_STREAMS[purpose],))``."""
    if purpose not in SEED_STREAMS:
        raise CkmError(f"no random stream '{purpose}': one of {', '.join(SEED_STREAMS)}")
    return np.random.SeedSequence(int(seed), spawn_key=(SEED_STREAMS[purpose],))


# ---------------------------------------------------------------------- inputs
def read_model(path: str | Path) -> str:
    """The model syntax in a file (UTF-8)."""
    from ckm_research.cli_common import read_model_file

    return read_model_file(path)


def load_instrument(name_or_path: str | None, *, model: str | Path | None = None,
                    data_file: str | Path | None = None, output_dir: str | Path | None = None,
                    scale=None, missing_values=None):
    """The instrument of the study: named, or (``None``) the CKM instrument when the
    model uses only its items, else derived from the model and the data
    (:func:`ckm_research.instrument.derive.derive_instrument`), or the one the
    instrument stage derived into ``output_dir``."""
    from ckm_research.instrument import load_instrument as _load

    if name_or_path is not None:
        return _load(name_or_path)
    ckm = _load("ckm")
    if model is None:
        return ckm
    from ckm_research.report.params import DERIVED_INSTRUMENT
    from ckm_research.sem.partable import variable_roles
    from ckm_research.sem.syntax import parse_model

    text = read_model(model)
    if set(variable_roles(parse_model(text)).ov) <= set(ckm.item_ids()):
        return ckm
    if data_file is not None:
        from ckm_research.instrument.derive import derive_instrument

        return derive_instrument(text, data_file, scale=scale, missing_values=missing_values)
    derived = Path(output_dir or ".") / DERIVED_INSTRUMENT
    if not derived.exists():
        raise CkmError(f"The model uses variables that are not items of the CKM instrument, and "
                       f"no instrument was given: run notebooks/01_instrument.ipynb first (it "
                       f"derives one from the model and the data into {derived}), or set "
                       f"instrument to the path of the survey's YAML definition.")
    return _load(derived)


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
def import_survey(data_file: str | Path, instrument: str, *, missing_values=None, drop=None):
    """Import the raw responses (:func:`ckm_research.data.importer.import_responses`)."""
    from ckm_research.data.importer import import_responses

    return import_responses(data_file, instrument, missing_values=missing_values or None,
                            drop=list(drop or []) or None)


def apply_subset(frame: pd.DataFrame, subset: dict[str, list]) -> tuple[pd.DataFrame, str]:
    """Rows whose columns take the listed values, and a sentence saying so."""
    if not subset:
        return frame, ""
    keep = pd.Series(True, index=frame.index)
    parts = []
    for column, values in subset.items():
        col = pd.to_numeric(frame[column], errors="coerce") if all(
            isinstance(v, (int, float)) for v in values) else frame[column].astype(str)
        wanted = values if all(isinstance(v, (int, float)) for v in values) else \
            [str(v) for v in values]
        keep &= col.isin(wanted).fillna(False).astype(bool)
        parts.append(f"{column} in {{{', '.join(str(v) for v in values)}}}")
    out = frame.loc[keep].reset_index(drop=True)
    if out.empty:
        raise CkmError("the subset " + " and ".join(parts) + " keeps no respondent")
    return out, "Subsample analysed: respondents with " + " and ".join(parts) + "."


def save_analysis_data(frame: pd.DataFrame, out) -> Path:
    """Write the analysed rows to ``data/analysis.csv`` (derived data)."""
    path = out.path("data", "analysis.csv")
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


def read_analysis_data(output_dir: str | Path) -> pd.DataFrame:
    """The rows the data stage kept, items as floats (missing answers NaN)."""
    path = Path(output_dir) / "data" / "analysis.csv"
    if not path.exists():
        raise CkmError(f"{path} does not exist: run the 'data' stage first")
    frame = pd.read_csv(path)
    for col in frame.columns:
        if col != "respondent" and pd.api.types.is_numeric_dtype(frame[col]):
            frame[col] = frame[col].astype("float64")
    return frame


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


def mardia(data: pd.DataFrame | np.ndarray) -> dict[str, float]:
    """Mardia's (1970) multivariate skewness and kurtosis, on complete cases.

    :math:`b_{1,p} = n^{-2}\\sum_{i,j} d_{ij}^3` and :math:`b_{2,p} = n^{-1}\\sum_i
    d_{ii}^2`, with :math:`d_{ij} = (x_i-\\bar x)^\\top S^{-1}(x_j-\\bar x)` and
    :math:`S` the covariance matrix with divisor :math:`n`. Under multivariate
    normality :math:`n b_{1,p}/6 \\sim \\chi^2_{p(p+1)(p+2)/6}` and
    :math:`(b_{2,p} - p(p+2))/\\sqrt{8p(p+2)/n} \\sim N(0, 1)` (Mardia, 1970,
    *Biometrika* 57(3), 519-530). In R: ``psych::mardia(x)`` (its ``b1p``,
    ``b2p``, ``skew`` and ``kurtosis``).
    """
    x = np.asarray(pd.DataFrame(data).dropna(), dtype=float)
    n, p = x.shape
    if n <= p:
        raise CkmError(f"Mardia's coefficients need more complete cases ({n}) than variables "
                       f"({p})")
    xc = x - x.mean(axis=0)
    s = xc.T @ xc / n
    d = xc @ np.linalg.solve(s, xc.T)
    b1 = float((d**3).sum() / n**2)
    b2 = float((np.diag(d) ** 2).mean())
    skew_stat = n * b1 / 6
    skew_df = p * (p + 1) * (p + 2) / 6
    kurt_z = (b2 - p * (p + 2)) / np.sqrt(8 * p * (p + 2) / n)
    return {"n": int(n), "p": int(p), "b1p": b1, "b2p": b2, "skew_chisq": float(skew_stat),
            "skew_df": float(skew_df), "skew_pvalue": float(stats.chi2.sf(skew_stat, skew_df)),
            "kurtosis_expected": float(p * (p + 2)), "kurtosis_z": float(kurt_z),
            "kurtosis_pvalue": float(2 * stats.norm.sf(abs(kurt_z)))}


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
def _fit_options(estimator: str, missing: str) -> dict[str, Any]:
    if estimator == "FIML":
        return {"estimator": "FIML"}
    if missing == "ml":
        return {"estimator": "FIML"} if estimator == "ML" else {"estimator": estimator,
                                                                 "missing": "ml"}
    return {"estimator": estimator, "missing": "listwise"}


def estimator_text(estimator: str, missing: str) -> str:
    """How the model was estimated, in words (for the report)."""
    robust = estimator == "MLR"
    base = ("robust maximum likelihood (MLR: Huber-White standard errors and the "
            "Yuan-Bentler scaled chi-square)" if robust else "maximum likelihood (ML)")
    if estimator == "FIML" or missing == "ml":
        return base + " with full-information ML for missing answers (FIML, assuming MAR)"
    return base + " on complete cases (listwise deletion)"


def fit_model(model_text: str, data: pd.DataFrame, *, estimator: str, missing: str,
              ci_level: float = 0.95, **options):
    """``ckm_research.fit`` with the pipeline's options; warnings returned as text.

    Returns
    -------
    (SEMResults, list of str)
    """
    import ckm_research

    opts = _fit_options(estimator, missing)
    opts.update(options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = ckm_research.fit(model_text, data, level=float(ci_level), **opts)
    messages = list(res.warnings or [])
    messages += [str(w.message) for w in caught if issubclass(w.category, CkmWarning)]
    if not res.converged:
        messages.append("the model did not converge: its estimates are not trustworthy")
    return res, list(dict.fromkeys(messages))


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


def run_cmv(data: pd.DataFrame, model_text: str, methods: list[str], *, estimator: str,
            missing: str, markers: list[str] | None = None, alpha: float = 0.05) -> dict:
    """Run the requested common-method checks of :mod:`ckm_research.measurement`.

    Returns ``{"harman": HarmanResult | None, "ulmc": ULMCResult | None,
    "marker": LindellWhitneyResult | None}``.
    """
    from ckm_research import measurement

    out: dict[str, Any] = {"harman": None, "ulmc": None, "marker": None}
    if "harman" in methods:
        out["harman"] = measurement.harman_single_factor(data, model_text,
                                                         estimator=estimator, missing=missing)
    if "ulmc" in methods:
        out["ulmc"] = measurement.ulmc(data, model_text, estimator=estimator,
                                       missing=missing, alpha=alpha)
    if "marker" in methods and markers:
        out["marker"] = measurement.lindell_whitney(data, model_text, marker=list(markers),
                                                    alpha=alpha)
    return out


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
            "variable": variable, "what": what,
            "kind": "latent" if lhs in latent else "observed",
            "est": value, "se": se, "z": z, "p_negative": p_neg,
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
        return (f"the correlation {c['variable']}{where} is {c['std']:.3f}, beyond ±1")
    kind = "factor" if c["kind"] == "latent" else "observed variable"
    text = f"the {c['what']} of the {kind} {c['variable']}{where} is negative ({c['est']:.3f}"
    if c.get("se"):
        text += f", SE {c['se']:.3f}"
    text += ")"
    if c.get("r2") is not None:
        text += f", so its R² is {c['r2']:.2f} (above 1)"
    return text


def heywood_text(cases: list[dict], *, model: str = "The model") -> str:
    """What the inadmissible estimates of :func:`heywood_cases` mean and what to do.

    Names each variable, says why the solution cannot be interpreted as it
    stands, reports the one-sided test of Kolenikov & Bollen (2012) and lists
    the causes to check (Chen et al., 2001). Empty if there is no case.
    """
    if not cases:
        return ""
    names = ", ".join(dict.fromkeys(c["variable"] for c in cases))
    text = (f"{model} has an inadmissible solution (a Heywood case: {names}): "
            + "; ".join(_case_phrase(c) for c in cases) + ". A variance cannot be negative "
            "nor a correlation exceed ±1 (a negative residual variance means the model "
            "explains more than all of the variable's variance), so the estimates, standard "
            "errors and fit measures cannot be interpreted as they stand.")
    tested = [c for c in cases if c.get("p_negative") is not None]
    sig = [c["variable"] for c in tested if c["significant"]]
    near = [c["variable"] for c in tested if not c["significant"]]
    if sig:
        text += (f" The negative variance of {', '.join(sig)} is significantly below zero "
                 "(one-sided Wald test), which points to a misspecified model rather than "
                 "sampling error (Kolenikov & Bollen, 2012).")
    if near:
        text += (f" The negative variance of {', '.join(near)} is within sampling error of "
                 "zero (one-sided Wald test): the true variance may be close to zero "
                 "(Kolenikov & Bollen, 2012).")
    text += (" What to do: check the model for a structural misspecification (a missing path "
             "or residual covariance, predictors so strongly correlated that they explain "
             "everything), empirical under-identification (a factor with two indicators or a "
             "near-zero loading), outliers and too small a sample (Chen et al., 2001); revise "
             "the model where theory allows. Fixing the variance at zero or bounding it hides "
             "a misspecification and is defensible only when the test above finds it within "
             "sampling error (Kolenikov & Bollen, 2012).")
    return text


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


def power_blocker(res) -> str:
    """Why no power analysis can be simulated from the fit ``res`` ("" if it can).

    The power stage draws samples from the fitted model; a negative variance
    (or a correlation beyond ±1) gives no covariance matrix to draw from, and
    power computed from an inadmissible solution would mean nothing.
    """
    cases = heywood_cases(res)
    if not cases:
        return ""
    names = ", ".join(dict.fromkeys(c["variable"] for c in cases))
    return (f"The power analysis was not run: it simulates samples from the fitted structural "
            f"model, whose solution is inadmissible (Heywood case: {names}; "
            + "; ".join(_case_phrase(c) for c in cases) + "). Such a model has no covariance "
            "matrix to draw samples from, and power at an inadmissible solution would mean "
            "nothing. Resolve the Heywood case first (see the structural model), then rerun "
            "the power stage (ckm run --only power).")


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


def r2_table(res, *, name: str = "r2") -> Table:
    """R² of the endogenous factors; an R² above 1 (a negative residual variance,
    :func:`heywood_cases`) is shown, marked inadmissible, not hidden."""
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


# ---------------------------------------------------------------------- bootstrap
def bootstrap_defined(bootstrap_fn, model_text: str, data: pd.DataFrame, res, *, n_boot: int,
                      seed: int, n_jobs: int, level: float, estimator: str, missing: str,
                      boot_missing: str = "listwise") -> tuple[pd.DataFrame, dict]:
    """Percentile bootstrap intervals of the ``:=`` effects of a fit
    (:func:`ckm_research.inference.bootstrap`).

    The resamples draw from the study seed's ``"bootstrap"`` stream
    (:func:`study_stream`), never shared with the power simulation.

    With ``boot_missing="listwise"`` and a FIML fit, the resamples are drawn
    from the complete cases and refitted by ML from their moments (fast); the
    returned frame then also holds the complete-case estimate (``est``).
    With ``"ml"`` each resample is refitted by FIML (slow for large models).

    Returns
    -------
    (pandas.DataFrame, dict)
        ``name est se ci.lower ci.upper`` per defined effect, and what was done.
    """
    same = boot_missing == "ml" or missing == "listwise"
    if same:
        opts = _fit_options(estimator, missing)
    else:
        opts = _fit_options("ML" if estimator == "FIML" else estimator, "listwise")
    b = bootstrap_fn(model_text, data, n_boot=int(n_boot),
                     random_state=study_stream(seed, "bootstrap"), n_jobs=int(n_jobs),
                     level=float(level), ci="perc", bca=False, progress=False,
                     result=res if same else None, **opts)
    est = b.estimates[b.estimates["op"] == ":="]
    frame = pd.DataFrame({
        "name": est["lhs"].to_numpy(), "est": est["est"].to_numpy(dtype=float),
        "se": est["se"].to_numpy(dtype=float),
        "ci.lower": est["perc.lower"].to_numpy(dtype=float),
        "ci.upper": est["perc.upper"].to_numpy(dtype=float),
    })
    counts = b.counts()
    from ckm_research.sem.partable import variable_roles
    from ckm_research.sem.syntax import parse_model

    ov = [v for v in variable_roles(parse_model(model_text)).ov if v in data.columns]
    info = {"n_boot": int(n_boot), "converged": counts.get("converged"),
            "failed": int(counts["requested"] - counts.get("converged", 0)),
            "complete_cases": not same and bool(data[ov].isna().any().any()),
            "n": int(data[ov].notna().all(axis=1).sum()) if not same else int(res.n),
            "method": b.method, "ci": "percentile", "seed": int(seed)}
    return frame, info


# ---------------------------------------------------------------------- power
def run_power(power_fn, sem_text: str, res, *, sample_sizes: list[int], reps: int,
              alpha: float, seed: int, n_jobs: int):
    """Monte Carlo power at the estimated values (population = the fitted model).

    The population model fixes every parameter of ``res`` at its estimate
    (:func:`~ckm_research.report.modelsyntax.population_syntax`); each sample is
    analysed with ``sem_text`` by ML
    (:func:`ckm_research.inference.power_analysis`).  The samples draw from the
    study seed's ``"power"`` stream (:func:`study_stream`), never shared with the
    bootstrap.
    """
    from ckm_research.report.modelsyntax import population_syntax

    if why := power_blocker(res):
        raise CkmError(why)
    population = population_syntax(res.estimates, header="Population: the fitted model's "
                                                         "estimates")
    result = power_fn(population, list(sample_sizes), int(reps), analysis=sem_text,
                      estimator="ML", alpha=float(alpha),
                      random_state=study_stream(seed, "power"), n_jobs=int(n_jobs),
                      progress=False)
    return result, population


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


# ---------------------------------------------------------------------- moderation runs
def interaction_fit_options(method: str, estimator: str, missing: str) -> tuple[str, str]:
    """Estimator and missing-data handling of the interaction model.

    LMS is a maximum-likelihood method on complete cases; product indicators
    take the study's estimator (FIML when ``missing="ml"``).
    """
    if method == "lms":
        return "ML", "listwise"
    if estimator == "FIML" and missing == "listwise":
        return "ML", "listwise"
    return estimator, missing


def multigroup_comparison(data: pd.DataFrame, model_text: str, factor: str, *, split: str,
                          levels: list[str], estimator: str, missing: str) -> dict:
    """Low/high groups of a moderator: invariance sequence, then equal-path tests.

    The groups cut the moderator's item-mean score at its median (or mean)
    (:func:`ckm_research.measurement.split_groups`). Within each group the
    moderator's own range is restricted by construction, so the group models
    leave it out (:func:`~ckm_research.report.modelsyntax.drop_factor`): the
    invariance sequence is fitted to the measurement model of the other
    factors (:func:`~ckm_research.measurement.measurement_invariance`), and
    their structural paths are compared by Wald tests in a two-group fit with
    equal loadings, and equal intercepts when scalar invariance holds
    (:func:`~ckm_research.measurement.compare_paths`). A part that cannot be
    estimated is returned as an error message, not raised.
    """
    from ckm_research import measurement
    from ckm_research.report.modelsyntax import cfa_syntax, drop_factor
    from ckm_research.report.modelsyntax import indicators as _indicators

    items = _indicators(model_text)[factor]
    name = f"{factor}_group"
    groups = measurement.split_groups(data, items=items, cut=split, labels=("low", "high"),
                                      name=name)
    frame = data.assign(**{name: groups})
    reduced = drop_factor(model_text, factor)
    out: dict[str, Any] = {"name": name, "groups": groups, "items": items,
                           "cut": float(groups.attrs.get("cut", np.nan)), "model": reduced,
                           "invariance": None, "invariance_error": "", "comparison": None,
                           "comparison_error": "", "group_equal": ["loadings"], "messages": []}
    opts = _fit_options(estimator, missing)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CkmWarning)
            inv = measurement.measurement_invariance(cfa_syntax(reduced), frame, name,
                                                     levels=list(levels), **opts)
        out["invariance"] = inv
        decisions = dict(zip(inv.table["model"], inv.table["decision"], strict=False))
        if str(decisions.get("scalar", "")).startswith("supported") and \
                str(decisions.get("metric", "")).startswith("supported"):
            out["group_equal"] = ["loadings", "intercepts"]
    except CkmError as exc:
        out["invariance_error"] = str(exc)
    try:
        mg, messages = fit_model(reduced, frame, estimator=estimator, missing=missing,
                                 group=name, group_equal=out["group_equal"])
        out["fit"], out["messages"] = mg, messages
        out["comparison"] = measurement.compare_paths(mg)
    except CkmError as exc:
        out["comparison_error"] = str(exc)
    return out


