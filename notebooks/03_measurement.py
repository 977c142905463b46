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
# alpha, CR, AVE), discriminant validity (HTMT, Fornell-Larcker) and common method
# variance (Harman, ULMC, marker variable). Reads `data/analysis.csv` from the data stage.

# %% tags=["parameters"]
# Parameters: `ckm run` replaces these values (see `ckm run --show-params`).
model = "../ckm_research/models/ckm_study.lav"  # the structural model in lavaan syntax
instrument = None  # instrument of the data (for the marker items); None: CKM or derived
estimator = "MLR"  # ML, MLR (robust, for non-normal Likert items) or FIML
missing = "ml"  # missing answers: ml (full-information ML, MAR) or listwise
ci_level = 0.95  # confidence level of every interval
cmv_methods = ["harman", "ulmc", "marker"]  # common-method checks to run
marker_items = None  # marker-variable items; None means the marker section of the instrument
language = "en"  # language of the report: en or zh (Chinese)
output_dir = "../reports/ckm-study"  # folder of the results (made if absent)

# %%
from ckm_research import structural
from ckm_research.measurement import cmv_checks
from ckm_research.report import analysis, figures, inputs
from ckm_research.report.i18n import engine_text, text
from ckm_research.report.store import StageOutput
from ckm_research.sem.modelsyntax import cfa_syntax, indicators

figures.use_report_style(language)
out = StageOutput(output_dir, "measurement")
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
analysis.flag_heywood(out, cfa, model="The measurement model")
row = analysis.fit_row(text("fit.model.measurement", language), cfa)
out.numbers(fit=row, n=cfa.n, converged=cfa.converged)
out.table(analysis.fit_table([row], name="fit_measurement",
                             title=text("fit.title.measurement", language), lang=language))

# %%
out.table(analysis.residual_table(cfa, lang=language))

# %% [markdown]
# ## Reliability and validity

# %%
validity_report, why = inputs.feature("measurement")
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
# ## Common method variance

# %%
cmv_fn, why = inputs.feature("cmv")
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
    if cmv["marker"] is not None:
        out.numbers(marker_items=markers, marker_r=float(cmv["marker"].r_m))
        out.table(analysis.marker_table(cmv["marker"], lang=language))
    out.table(analysis.cmv_table(cmv["harman"], cmv["ulmc"], cmv["marker"], lang=language))

# %%
out.save()
