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
# # 6. Power analysis (optional)
#
# Monte Carlo power of the structural paths and indirect effects at several sample
# sizes (Muthén & Muthén, 2002), with the RMSEA-based power of the model test
# (MacCallum, Browne & Sugawara, 1996). The population model is the fitted structural
# model (every parameter at its estimate), so the result plans a replication or a
# follow-up study; it does not explain a non-significant result (Hoenig & Heisey, 2001).
# Switch the stage off with `-p power false`.

# %% tags=["parameters"]
# Parameters: `ckm run` replaces these values (see `ckm run --show-params`).
model = "../ckm_research/models/ckm_study.lav"  # the structural model in lavaan syntax
estimator = "MLR"  # estimator of the fit whose estimates are the population values
missing = "ml"  # missing answers in that fit: ml (FIML) or listwise
indirect_effects = True  # include the indirect effects
power_sample_sizes = [200, 300, 400, 500]  # sample sizes at which power is estimated
power_replications = 200  # simulated samples per sample size
power_alpha = 0.05  # significance level of the tests
power_interactions = True  # also the power of the product terms and indices of moderated mediation
power_interaction_replications = 10  # simulated samples per sample size for those
seed = 20240601  # study seed; the simulation draws from its "power" stream (study_stream)
n_jobs = 1  # worker processes (-1: all CPUs); results do not depend on it
language = "en"  # language of the report: en or zh (Chinese)
output_dir = "../reports/ckm-study"  # folder of the results (made if absent)

# %%
from ckm_research import structural
from ckm_research.inference import run_power
from ckm_research.report import analysis, figures, inputs
from ckm_research.report.i18n import text
from ckm_research.report.store import StageOutput
from ckm_research.sem.modelsyntax import indirect_syntax

figures.use_report_style(language)
out = StageOutput(output_dir, "power", lang=language)
data = inputs.read_analysis_data(output_dir)
model_text = inputs.read_model(model)
sem_text = indirect_syntax(model_text)[0] if indirect_effects else model_text

# %% [markdown]
# ## Monte Carlo power

# %%
power_fn, why = inputs.feature("power", language)
if power_fn is not None:
    res, messages = structural.fit_model(sem_text, data, estimator=estimator, missing=missing)
    # an inadmissible fit has no population to draw from
    heywood = structural.power_blocker(res, lang=language)
if power_fn is None:
    out.status("not available", why)
elif heywood:
    out.status("skipped", heywood)
else:
    pr, population = run_power(sem_text, res, sample_sizes=power_sample_sizes,
                               reps=power_replications, alpha=power_alpha, seed=seed,
                               n_jobs=n_jobs)
    out.path("models", "power_population.lav").write_text(population, encoding="utf-8")
    table = out.table(analysis.power_table(pr, lang=language))
    out.table(analysis.power_model_test_table(pr, lang=language))
    conv = pr.convergence
    out.numbers(sample_sizes=list(power_sample_sizes), replications=power_replications,
                alpha=power_alpha, n_study=res.n,
                converged=dict(zip([str(n) for n in conv["n"]],
                                   [int(c) for c in conv["converged"]], strict=False)),
                df=float(pr.settings["df"]))
    ns = [c for c in table.frame.columns if c.startswith("N=")]
    heat = table.frame.set_index("parameter")[ns]
    heat = heat[~heat.index.str.contains("→")]  # the figure shows the paths; the table all
    out.figure(figures.localize(figures.plot_power_heatmap(heat)), "power",
               text("fig.power.title", language),
               note=text("fig.power.note", language, reps=power_replications,
                         alpha=power_alpha))

# %% [markdown]
# ## Power of the moderation hypotheses
#
# The moderation stage's fit (product terms and the indices of moderated mediation
# `imm_ := a*b3`) is the population (`population_from_fit`); each sample is analysed with
# product indicators by ML: how many firms the turbulence hypotheses need.

# %%
pop_file = out.path("models", "interaction_population.lav")
if power_fn is not None and power_interactions and not pop_file.exists():
    out.note(text("note.power_interactions.none", language))
elif power_fn is not None and power_interactions:
    from ckm_research.inference import study_stream

    pr_i = power_fn(pop_file.read_text(encoding="utf-8"), list(power_sample_sizes),
                    int(power_interaction_replications), estimator="ML", interaction="dblcent",
                    alpha=power_alpha, random_state=study_stream(seed, "power_interactions"),
                    n_jobs=n_jobs, progress=False)
    out.table(analysis.interaction_power_table(pr_i, lang=language))
    conv_i = pr_i.convergence
    out.numbers(interactions={
        "replications": int(power_interaction_replications),
        "converged": dict(zip([str(n) for n in conv_i["n"]],
                              [int(c) for c in conv_i["converged"]], strict=False))})

# %%
out.save()
