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
# # 4. Structural model
#
# The study's structural model: fit (next to the measurement model's), path coefficients
# with confidence intervals, variance explained, and every indirect effect (chains of
# paths through the mediators), with bootstrap confidence intervals when
# `ckm_research.inference` provides the bootstrap. Ends with the path diagram.

# %% tags=["parameters"]
# Parameters: `ckm run` replaces these values (see `ckm run --show-params`).
model = "../ckm_research/models/ckm_study.lav"  # the structural model in lavaan syntax
instrument = None  # instrument (roles of the constructs in the diagram); None: CKM or derived
estimator = "MLR"  # ML, MLR (robust, for non-normal Likert items) or FIML
missing = "ml"  # missing answers: ml (full-information ML, MAR) or listwise
ci_level = 0.95  # confidence level of every interval
indirect_effects = True  # estimate every indirect effect (products of paths along each chain)
n_boot = 1000  # bootstrap resamples for the indirect effects (0: delta-method CIs only)
boot_missing = "listwise"  # bootstrap of a FIML fit: listwise (fast) or ml (FIML refits, slow)
seed = 20240601  # study seed; the bootstrap draws from its "bootstrap" stream (study_stream)
n_jobs = 1  # worker processes for the bootstrap (-1: all CPUs); results do not depend on it
copula_boot = 500  # bootstrap resamples of the Gaussian copula robustness table (0: none)
language = "en"  # language of the report: en or zh (Chinese)
output_dir = "../reports/ckm-study"  # folder of the results (made if absent)

# %%
from ckm_research import structural
from ckm_research.errors import CkmError
from ckm_research.inference import bootstrap_defined
from ckm_research.inference.workflows import study_stream
from ckm_research.moderation.robustness import composite_regression, gaussian_copula
from ckm_research.report import analysis, figures, inputs, validity_tables
from ckm_research.report.i18n import engine_text, text
from ckm_research.report.pathdiagram import dot_available, path_diagram, render_diagram
from ckm_research.report.store import StageOutput
from ckm_research.sem.modelsyntax import indicators, indirect_syntax

figures.use_report_style(language)
out = StageOutput(output_dir, "structural", lang=language)
data = inputs.read_analysis_data(output_dir)
model_text = inputs.read_model(model)
sem_text, effects = indirect_syntax(model_text) if indirect_effects else (model_text, [])
out.path("models", "structural.lav").write_text(sem_text, encoding="utf-8")
out.text("syntax", sem_text)

# %% [markdown]
# ## Fit

# %%
res, messages = structural.fit_model(sem_text, data, estimator=estimator, missing=missing,
                                     ci_level=ci_level)
for message in messages:
    out.note(text("note.structural_model", language, message=engine_text(message, language)))
heywood = analysis.flag_heywood(out, res, model=text("heywood.model.structural", language),
                               lang=language)
row = analysis.fit_row(text("fit.model.structural", language), res)
rows = [row]
try:
    rows.insert(0, out.load("measurement")["numbers"]["fit"])
except Exception as exc:  # the measurement stage has not run (ckm run --only structural)
    out.note(text("note.measurement_fit_missing", language, error=exc))
out.numbers(fit=row, n=res.n, converged=res.converged, estimator=estimator, missing=missing)
out.table(analysis.fit_table(rows, name="fit_structural",
                             title=text("fit.title.structural", language), lang=language))

# %% [markdown]
# ## Paths and variance explained

# %%
paths = out.table(analysis.paths_table(res, lang=language))
r2 = structural.r_squared(res)
out.numbers(r2=r2, n_paths=len(paths.frame),
            n_significant=int((paths.frame["pvalue"] < 1 - ci_level).sum()))
out.table(analysis.r2_table(res, lang=language))

# %% [markdown]
# ## Indirect effects

# %%
boot = boot_info = None
if effects:
    bootstrap, why = inputs.feature("bootstrap", language)
    if n_boot > 0 and bootstrap is None:
        out.unavailable(text("part.bootstrap", language), why)
    elif n_boot > 0:
        try:
            boot, boot_info = bootstrap_defined(
                sem_text, data, res, n_boot=n_boot, seed=seed, n_jobs=n_jobs,
                level=ci_level, estimator=estimator, missing=missing, boot_missing=boot_missing)
            out.numbers(bootstrap=boot_info)
        except CkmError as exc:  # e.g. no solution on the complete cases (boot_missing)
            reason = engine_text(str(exc), language)
            if missing == "ml" and boot_missing == "listwise":
                reason = text("note.boot_listwise_failed", language, reason=reason)
            out.unavailable(text("part.bootstrap", language), reason)
    ind = out.table(analysis.indirect_table(res, effects, boot, boot_info=boot_info,
                                            lang=language))
    out.numbers(n_indirect=len(ind.frame))
else:
    out.note(text("note.no_indirect", language))

# %% [markdown]
# ## Robustness: composite-score regressions and Gaussian copulas
#
# The structural equations as OLS regressions of item-mean composites (mean-centred
# products, HC3 SEs) beside the latent estimates, and Gaussian copula control functions
# for endogeneity (Park & Gupta, 2012) with the checks of Becker, Proksch & Ringle (2022).

# %%
comp = composite_regression(model_text, data, latent=res, alpha=1 - ci_level)
out.table(validity_tables.composite_table(comp, level=ci_level, lang=language))
robust_numbers = {"composite_r2": dict(zip(comp.r2["lhs"], comp.r2["r2"], strict=True))}
if copula_boot > 0:
    cop = gaussian_copula(model_text, data, n_boot=copula_boot, alpha=1 - ci_level,
                          random_state=int(study_stream(seed, "robustness").generate_state(1)[0]))
    out.table(validity_tables.copula_table(cop, level=ci_level, lang=language))
    out.table(validity_tables.copula_checks_table(cop, lang=language))
    robust_numbers.update(copula_boot=copula_boot, copula_usable=int(cop.checks["usable"].sum()),
                          copula_regressors=len(cop.checks))
out.numbers(robustness=robust_numbers)

# %% [markdown]
# ## Path diagram

# %%
ok, why = dot_available()
if not ok:
    out.unavailable(text("part.path_diagram", language), why)
else:
    ins = inputs.load_instrument(instrument, model=model, output_dir=output_dir)
    roles = {s.factor: s.role for s in ins.sections if s.factor}
    graph = path_diagram(paths.frame, r2=r2, latent=set(indicators(model_text)), roles=roles,
                         alpha=1 - ci_level)
    files = render_diagram(graph, out.path("figures"), "path_diagram")
    out.figure_files("path_diagram", files, text("fig.paths.title", language),
                     note=text("fig.paths.note", language))

# %%
out.save()
