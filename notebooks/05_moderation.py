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
# # 5. Moderation: latent interactions and multi-group comparisons
#
# Does environmental turbulence change how strongly CKM capability pays off? The latent
# interactions `OUTCOME ~ PREDICTOR:MODERATOR` are added to the structural model and
# estimated by product indicators or LMS (`ckm_research.moderation`); each is probed
# with simple slopes and the Johnson-Neyman interval. Then each moderator named in
# `multigroup` splits the sample into low and high groups, for the invariance sequence
# and Wald tests of equal paths (`ckm_research.measurement`).

# %% tags=["parameters"]
# Parameters: `ckm run` replaces these values (see `ckm run --show-params`).
model = "../ckm_research/models/ckm_study.lav"  # the structural model in lavaan syntax
interactions = ["INS ~ CKM:CTU", "INS ~ CKM:TTU", "SAT ~ CKM:CTU"]  # each Y ~ X:Z
interaction_method = "dblcent"  # dblcent (double-mean-centred product indicators) or lms
interaction_missing = "listwise"  # interaction model: listwise or ml (FIML, slow)
estimator = "MLR"  # ML, MLR (robust, for non-normal Likert items) or FIML
missing = "ml"  # missing answers in the multi-group models: ml (FIML) or listwise
ci_level = 0.95  # confidence level of every interval
multigroup = ["CTU"]  # moderators whose low/high split defines groups ([] for none)
group_split = "median"  # where the item-mean score of a moderator is cut: median or mean
invariance_levels = ["configural", "metric", "scalar", "strict"]  # invariance levels to test
language = "en"  # language of the report: en or zh (Chinese)
output_dir = "../reports/ckm-study"  # folder of the results (made if absent)

# %%
from ckm_research import structural
from ckm_research.measurement import multigroup_comparison
from ckm_research.report import analysis, figures, inputs, validity_tables
from ckm_research.report.i18n import engine_text, jn_text, text
from ckm_research.report.params import parse_interaction
from ckm_research.report.store import StageOutput
from ckm_research.sem.modelsyntax import interaction_syntax

figures.use_report_style(language)
out = StageOutput(output_dir, "moderation")
data = inputs.read_analysis_data(output_dir)
model_text = inputs.read_model(model)
terms = [parse_interaction(t) for t in interactions]

# %% [markdown]
# ## Latent interactions

# %%
fit_interactions, why = inputs.feature("interactions")
res_i = None
if not terms:
    out.note(text("note.no_interaction", language))
elif fit_interactions is None:
    out.unavailable(text("part.interactions", language), why)
else:
    int_text = interaction_syntax(model_text, terms)
    out.path("models", "interaction.lav").write_text(int_text, encoding="utf-8")
    out.text("syntax", int_text)
    est_i, miss_i = structural.interaction_fit_options(interaction_method, estimator,
                                                       interaction_missing)
    res_i, messages = structural.fit_model(int_text, data, estimator=est_i, missing=miss_i,
                                           ci_level=ci_level, interaction=interaction_method)
    for message in messages:
        out.note(text("note.interaction_model", language,
                      message=engine_text(message, language)))
    analysis.flag_heywood(out, res_i, model="The model with the latent interactions")
    out.numbers(method=interaction_method, estimator=est_i, missing=miss_i, n=res_i.n,
                converged=res_i.converged)
    out.table(analysis.interaction_table(res_i, terms, lang=language))

# %% [markdown]
# ## Simple slopes and Johnson-Neyman intervals

# %%
slopes_fn, why = inputs.feature("simple_slopes")
if res_i is not None and slopes_fn is None:
    out.unavailable(text("part.slopes", language), why)
elif res_i is not None:
    from ckm_research.moderation.simple_slopes import (
        johnson_neyman,
        plot_johnson_neyman,
        plot_simple_slopes,
        simple_slopes,
    )

    frames, jn_numbers = [], {}
    for y, x, z in terms:
        frames.append((y, x, z, simple_slopes(res_i, y, x, z, level=ci_level)))
        jn = johnson_neyman(res_i, y, x, z, level=ci_level)
        jn_numbers[f"{y} ~ {x}:{z}"] = {
            "bounds": list(jn.bounds), "significant_inside": jn.significant_inside,
            "always_significant": jn.always_significant,
            "never_significant": jn.never_significant, "mean": jn.mean, "sd": jn.sd,
            "describe": jn.describe()}
        key = f"{y}_{x}_{z}".lower()
        relabel = figures.moderation_labels(x, y, z, ci_level, mean=jn.mean, sd=jn.sd)
        out.figure(figures.localize(plot_simple_slopes(res_i, y, x, z, level=ci_level), relabel),
                   f"slopes_{key}", text("fig.slopes.title", language, x=x, y=y, z=z),
                   note=text("fig.slopes.note", language, z=z, level=f"{ci_level:.0%}"))
        out.figure(figures.localize(plot_johnson_neyman(res_i, y, x, z, level=ci_level),
                                    relabel),
                   f"jn_{key}", text("fig.jn.title", language, x=x, y=y, z=z),
                   note=(jn.describe() if language == "en" else
                         jn_text(jn_numbers[f"{y} ~ {x}:{z}"], ci_level, language))
                   + text("fig.jn.band", language, level=f"{ci_level:.0%}"))
    out.numbers(johnson_neyman=jn_numbers)
    out.table(analysis.slopes_table(frames, lang=language))

# %% [markdown]
# ## Multi-group comparison: low vs. high moderator

# %%
invariance_fn, why = inputs.feature("invariance")
if multigroup and invariance_fn is None:
    out.unavailable(text("h.multigroup", language), why)
elif multigroup:
    groups_numbers = {}
    for factor in multigroup:
        # the same comparison as `ckm invariance --split FACTOR` (measurement.multigroup_comparison)
        mg = multigroup_comparison(
            model_text, data, factor=factor, cut=group_split, levels=invariance_levels,
            estimator=estimator, missing=missing)
        out.path("models", f"multigroup_{factor.lower()}.lav").write_text(mg.model,
                                                                         encoding="utf-8")
        for message in mg.messages:
            out.note(text("note.multigroup_model", language, factor=factor,
                          message=engine_text(message, language)))
        numbers = {"cut": mg.cut, "split": group_split, "items": mg.items,
                   "group_equal": mg.group_equal}
        inv = mg.invariance
        if inv is None:
            out.unavailable(text("part.invariance", language, factor=factor),
                            text("part.invariance.error", language, error=mg.invariance_error))
        else:
            for message in inv.notes:
                out.note(text("note.invariance", language, factor=factor,
                              message=engine_text(message, language)))
            numbers["n_per_group"] = dict(zip([str(g) for g in inv.group_labels],
                                              [int(n) for n in inv.n_per_group], strict=False))
            numbers["decisions"] = dict(zip(inv.table["model"], inv.table["decision"],
                                            strict=False))
            out.table(analysis.invariance_table(
                inv, name=f"invariance_{factor.lower()}",
                title_group=text("invariance.group", language, factor=factor), lang=language))
            if len(inv.steps):  # partial invariance: the constraints released (issue 12)
                out.table(validity_tables.invariance_steps_table(
                    inv, name=f"invariance_steps_{factor.lower()}",
                    title_group=text("invariance.group", language, factor=factor), lang=language))
                numbers["partial"] = {k: list(v) for k, v in inv.partial.items()}
        if mg.comparison is None:
            out.unavailable(text("part.comparison", language, factor=factor),
                            text("part.comparison.error", language, error=mg.comparison_error))
        else:
            numbers["n_per_group"] = numbers.get("n_per_group") or dict(zip(
                [str(g) for g in mg.fit.group_labels],
                [int(n) for n in mg.fit.n_per_group], strict=False))
            numbers["omnibus_pvalue"] = float(mg.comparison["pvalue"].iloc[-1])
            out.table(analysis.path_comparison_table(
                mg.comparison, text("comparison.group", language, factor=factor,
                                    split=text(f"split.{group_split}", language)),
                name=f"path_comparison_{factor.lower()}", equal=mg.group_equal, lang=language))
        groups_numbers[factor] = numbers
    out.numbers(multigroup=groups_numbers)

# %%
out.save()
