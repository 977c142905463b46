# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python (ckm-research)
#     language: python
#     name: ckm-research
# ---

# %% [markdown]
# # 3. Measurement model
#
# Confirmatory factor analysis of the study's constructs (every factor correlated),
# its global and local fit, reliability and convergent validity (standardized loadings,
# alpha, CR, AVE, with their intervals), discriminant validity with inference (HTMT2 with
# bootstrap tests, CICFA(sys), Fornell-Larcker for comparison, full collinearity VIFs) and
# common method variance (CFA marker technique, ULMC, Lindell-Whitney marker; Harman last).
# Reads `data/analysis.csv` from the data stage.

# %% tags=["parameters"]
# Parameters: `ckm run` replaces these values (see `ckm run --show-params`).
model = "../ckm_research/models/ckm_study.lav"  # the structural model in lavaan syntax
instrument = None  # instrument of the data (for the marker items); None: CKM or derived
estimator = "MLR"  # ML, MLR (robust, for non-normal Likert items) or FIML
missing = "ml"  # missing answers: ml (full-information ML, MAR) or listwise
ci_level = 0.95  # confidence level of every interval
cmv_methods = ["harman", "ulmc", "marker"]  # common-method checks to run
marker_items = None  # marker-variable items; None means the marker section of the instrument
validity_boot = 500  # bootstrap resamples of the HTMT tests and the omega/AVE/alpha intervals
htmt_threshold = 0.85  # HTMT threshold c of the test of H0 HTMT at least c: 0.85, 0.9 or 1
chi2_sys = False  # also run chi2(sys) of Ronkko & Cho (2022): one CFA per pair and cutoff (slow)
seed = 20240601  # study seed (the validity bootstraps draw from their own stream of it)
language = "en"  # language of the report: en or zh (Chinese)
output_dir = "../reports/ckm-study"  # folder of the results (made if absent)

# %%
from ckm_research import structural
from ckm_research.measurement import cmv_checks
from ckm_research.measurement.cmv import cfa_marker
from ckm_research.measurement.discriminant import (
    VIF_THRESHOLD,
    discriminant_cfa,
    full_collinearity_vif,
    htmt_inference,
)
from ckm_research.measurement.invariance import factor_scores
from ckm_research.measurement.reliability_inference import alpha_intervals, reliability_intervals
from ckm_research.report import analysis, figures, inputs, validity_tables
from ckm_research.report.i18n import engine_text, text
from ckm_research.report.store import StageOutput
from ckm_research.sem.modelsyntax import cfa_syntax, indicators

figures.use_report_style(language)
out = StageOutput(output_dir, "measurement", lang=language)
data = inputs.read_analysis_data(output_dir)
model_text = inputs.read_model(model)
factors = indicators(model_text)
cfa_text = cfa_syntax(model_text)
out.path("models", "measurement.lav").write_text(cfa_text, encoding="utf-8")
out.text("syntax", cfa_text)
out.numbers(estimator=estimator, missing=missing,
            estimator_text=structural.estimator_text(estimator, missing))

# %% [markdown]
# ## Confirmatory factor analysis: global and local fit

# %%
cfa, messages = structural.fit_model(cfa_text, data, estimator=estimator, missing=missing,
                                     ci_level=ci_level)
for message in messages:
    out.note(text("note.measurement_model", language, message=engine_text(message, language)))
analysis.flag_heywood(out, cfa, model=text("heywood.model.measurement", language),
                      lang=language)
row = analysis.fit_row(text("fit.model.measurement", language), cfa)
out.numbers(fit=row, n=cfa.n, converged=cfa.converged)
out.table(analysis.fit_table([row], name="fit_measurement",
                             title=text("fit.title.measurement", language), lang=language))

# %%
out.table(analysis.residual_table(cfa, lang=language))

# %% [markdown]
# ## Reliability and validity

# %%
validity_report, why = inputs.feature("measurement", language)
if validity_report is None:
    out.unavailable(text("part.validity", language), why)
else:
    vr = validity_report(cfa, data)
    rel = vr.reliability_table()
    out.table(analysis.measurement_table(vr, factors, lang=language))
    out.numbers(alpha_min=float(rel["alpha"].min()), cr_min=float(rel["omega"].min()),
                ave_min=float(rel["ave"].min()), loading_min=float(vr.loadings["loading"].min()),
                loading_max=float(vr.loadings["loading"].max()),
                htmt_max=float(vr.htmt.where(~vr.htmt.eq(1.0)).max().max()),
                htmt_method=vr.htmt_method, n_flags=int(len(vr.flags)))
    loads = vr.loadings.rename(columns={"loading": "std"})
    out.figure(figures.localize(figures.plot_loadings(loads)), "loadings",
               text("fig.loadings.title", language), note=text("fig.loadings.note", language))

# %%
if validity_report is not None:
    out.table(analysis.htmt_table(vr, lang=language))
    out.table(analysis.fornell_larcker_table(vr, lang=language))
    out.table(analysis.flags_table(vr, lang=language))
    out.figure(figures.localize(figures.plot_htmt(vr.htmt)), "htmt",
               text("fig.htmt.title", language, method=vr.htmt_method),
               note=text("fig.htmt.note", language))

# %% [markdown]
# ## Reliability and discriminant validity with inference
#
# omega/AVE with delta-method (and, for ML/MLR fits of complete data, bootstrap) intervals,
# alpha with Feldt's interval; HTMT2 with bootstrap percentile intervals and the test of
# H0: HTMT >= c; CICFA(sys) (and chi2(sys) if asked) of Ronkko & Cho (2022); full
# collinearity VIFs of the factor scores (Kock, 2015). The same functions as
# `ckm validity --inference` (measurement.validity_inference).

# %%
if validity_report is not None:
    from ckm_research.inference.workflows import study_stream
    from ckm_research.sem.ml import MLEngine

    boot_seed = int(study_stream(seed, "validity").generate_state(1)[0])  # its own stream
    rel_boot = validity_boot if type(cfa.engine) is MLEngine else 0
    rel_ci = reliability_intervals(cfa, level=ci_level, n_boot=rel_boot, random_state=boot_seed)
    alpha_ci = alpha_intervals(data, cfa, level=ci_level, n_boot=0)
    out.table(validity_tables.reliability_ci_table(rel_ci, alpha_ci, level=ci_level,
                                                   lang=language))
    numbers = {"omega_lower_min": float(rel_ci.loc[rel_ci["statistic"] == "omega",
                                                   "ci.lower"].min()),
               "ave_lower_min": float(rel_ci.loc[rel_ci["statistic"] == "ave",
                                                 "ci.lower"].min()),
               "alpha_lower_min": float(alpha_ci["feldt.lower"].min())}
    if validity_boot >= 2:
        h = htmt_inference(data, cfa, htmt2=vr.htmt_method == "HTMT2", n_boot=validity_boot,
                           alpha=1 - ci_level, random_state=boot_seed)
        out.table(validity_tables.htmt_inference_table(h, threshold=htmt_threshold,
                                                       lang=language))
        col = f"below {htmt_threshold:g}"
        numbers.update(htmt_threshold=htmt_threshold, htmt_boot=validity_boot,
                       htmt_n_pairs=len(h.table),
                       htmt_n_below=int(h.table[col].sum()) if col in h.table else None)
    fit_kwargs = {"estimator": estimator}
    if estimator != "FIML":
        fit_kwargs["missing"] = missing
    dcfa = discriminant_cfa(cfa_text, data, chisq=chi2_sys, level=ci_level, **fit_kwargs)
    for message in dcfa.notes:
        out.note(f"CICFA(sys): {engine_text(message, language)}")
    out.table(validity_tables.cicfa_table(dcfa, lang=language))
    order = {"no problem": 0, "marginal": 1, "moderate": 2, "severe": 3}
    worst = max(dcfa.pairs["cicfa"], key=lambda v: order.get(v, -1))
    vif = full_collinearity_vif(factor_scores(cfa, data))
    out.table(validity_tables.vif_table(vif, threshold=VIF_THRESHOLD, lang=language))
    numbers.update(cicfa_worst=worst, chi2_sys=bool(chi2_sys), vif_max=float(vif["vif"].max()))
    out.numbers(validity_inference=numbers)

# %% [markdown]
# ## Common method variance

# %%
cmv_fn, why = inputs.feature("cmv", language)
if cmv_fn is None:
    out.unavailable(text("h.cmv", language), why)
elif cmv_methods:
    ins = inputs.load_instrument(instrument, model=model, output_dir=output_dir)
    markers = marker_items or [i.id for i in ins.items()
                               if i.role == "marker" and i.kind == "indicator"]
    cmv = cmv_checks(data, cfa_text, cmv_methods, estimator=estimator, missing=missing,
                     markers=markers, alpha=1 - ci_level)
    if cmv["harman"] is not None:
        out.numbers(harman_first_share=float(cmv["harman"].first_component_share))
    if cmv["ulmc"] is not None:
        out.numbers(ulmc_detected=bool(cmv["ulmc"].detected), ulmc_pvalue=cmv["ulmc"].pvalue,
                    ulmc_method_variance=float(cmv["ulmc"].method_variance_equal))
        for message in cmv["ulmc"].notes:
            out.note(f"ULMC: {engine_text(message, language)}")
    cm = None
    if "marker" in cmv_methods and markers:
        # the CFA marker technique leads (Williams, Hartman & Cavazotte, 2010)
        cm = cfa_marker(data, cfa_text, markers, estimator=estimator, alpha=1 - ci_level,
                        missing=None if estimator == "FIML" else missing)
        out.table(validity_tables.cfa_marker_table(cm, markers, lang=language))
        out.numbers(cfa_marker={"detected": bool(cm.detected), "biased": bool(cm.biased),
                                "retained": cm.retained,
                                "method_variance": float(cm.loadings["method.variance"].mean())})
        for message in cm.notes:
            out.note(f"CFA marker: {engine_text(message, language)}")
    if cmv["marker"] is not None:
        out.numbers(marker_items=markers, marker_r=float(cmv["marker"].r_m))
        out.table(analysis.marker_table(cmv["marker"], lang=language))
    out.table(validity_tables.cmv_current_table(cm, cmv["ulmc"], cmv["marker"], cmv["harman"],
                                                markers=markers if cm is not None else (),
                                                lang=language))

# %%
out.save()
