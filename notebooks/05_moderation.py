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
interactions = ["INS ~ CKM:CTU", "INS ~ CKM:TTU", "INS ~ CKM:CPT", "SAT ~ CKM:CTU", "SAT ~ CKM:TTU", "SAT ~ CKM:CPT"]  # each Y ~ X:Z
interaction_method = "lms"  # lms (the default) or dblcent (double-mean-centred product indicators)
interaction_missing = "ml"  # interaction model: ml (FIML, every respondent) or listwise
interaction_compare = None  # also fit by the other method (default: when it is dblcent)
moderation_se = "delta"  # moderated mediation intervals: delta or bootstrap (FIML refits)
n_boot = 1000  # bootstrap resamples (with moderation_se: bootstrap)
seed = 20240601  # study seed; the bootstrap draws from its "moderation" stream
n_jobs = 1  # worker processes (-1: all CPUs); results do not depend on it
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
from ckm_research.errors import CkmError
from ckm_research.inference import study_stream
from ckm_research.inference.population import population_from_fit
from ckm_research.measurement import multigroup_comparison
from ckm_research.report import analysis, figures, inputs, validity_tables
from ckm_research.report.i18n import engine_text, jn_text, text
from ckm_research.report.params import parse_interaction
from ckm_research.report.store import StageOutput
from ckm_research.sem.modelsyntax import indicators, interaction_syntax

figures.use_report_style(language)
out = StageOutput(output_dir, "moderation", lang=language)
data = inputs.read_analysis_data(output_dir)
model_text = inputs.read_model(model)
terms = [parse_interaction(t) for t in interactions]
out.path("models", "interaction_population.lav").unlink(missing_ok=True)  # none of an old run
# observed scores of the factors (centred item means) to mark where data exist in the figures
items_of = indicators(model_text)
observed = {f: (data[v].mean(axis=1) - data[v].mean(axis=1).mean()).dropna()
            for f, v in items_of.items()}

# %% [markdown]
# ## Latent interactions

# %%
fit_interactions, why = inputs.feature("interactions", language)
res_i = None
if not terms:
    out.note(text("note.no_interaction", language))
elif fit_interactions is None:
    out.unavailable(text("part.interactions", language), why)
else:
    from ckm_research.moderation.mediation import moderated_mediation_syntax

    int_text = interaction_syntax(model_text, terms)
    try:  # label the moderated paths and add the indices of moderated mediation (imm_ :=)
        int_text = moderated_mediation_syntax(int_text, at_sd=False)
    except Exception as exc:  # no moderated indirect path: the plain interaction model
        out.note(str(exc))
    out.path("models", "interaction.lav").write_text(int_text, encoding="utf-8")
    out.text("syntax", int_text)
    est_i, miss_i = structural.interaction_fit_options(interaction_method, estimator,
                                                       interaction_missing)
    fallback = None
    try:
        res_i, messages = structural.fit_model(int_text, data, estimator=est_i, missing=miss_i,
                                               ci_level=ci_level, interaction=interaction_method)
    except CkmError as exc:
        if interaction_method != "lms":
            raise
        # a model LMS cannot fit (e.g. FIML with a single-indicator factor): product
        # indicators become the main method, and the report says why
        fallback = str(exc)
        out.note(text("note.lms_fallback", language, reason=engine_text(fallback, language)))
        interaction_method = "dblcent"
        est_i, miss_i = structural.interaction_fit_options(interaction_method, estimator,
                                                           interaction_missing)
        res_i, messages = structural.fit_model(int_text, data, estimator=est_i,
                                               missing=miss_i, ci_level=ci_level,
                                               interaction=interaction_method)
    for message in messages:
        out.note(text("note.interaction_model", language,
                      message=engine_text(message, language)))
    analysis.flag_heywood(out, res_i, model=text("heywood.model.interactions", language),
                          lang=language)
    out.numbers(method=interaction_method, estimator=est_i, missing=miss_i, n=res_i.n,
                converged=res_i.converged, n_data=int(len(data)), fallback=fallback)
    out.table(analysis.interaction_table(res_i, terms, lang=language))
    # standardized effects (product terms by SD(X) SD(Z) / SD(Y)) and, for LMS, the
    # R-squared change, Cohen's f2 and the LRT of the product terms (ckm_research.moderation)
    try:
        out.table(analysis.standardized_interaction_table(res_i, terms, lang=language))
        if interaction_method == "lms":
            out.table(analysis.interaction_effect_size_table(res_i, terms, lang=language))
    except CkmError as exc:
        out.note(str(exc))
    # the fitted moderation model as a population, for the power stage
    if res_i.converged:  # with the fitted intercepts of a FIML fit (latent means stay 0)
        out.path("models", "interaction_population.lav").write_text(
            population_from_fit(res_i), encoding="utf-8")

# %% [markdown]
# ## Robustness check: the other estimation method

# %%
other = "dblcent" if interaction_method == "lms" else "lms"
compare = interaction_compare if interaction_compare is not None else other == "dblcent"
if res_i is not None and compare:
    # the main fit's estimator: LMS is ML, so the product indicators are fitted by ML too
    # (FIML with interaction_missing ml): the comparison is of the methods, same likelihood
    est_o, miss_o = structural.interaction_fit_options(other, est_i, interaction_missing)
    try:
        res_o, messages_o = structural.fit_model(int_text, data, estimator=est_o,
                                                 missing=miss_o, ci_level=ci_level,
                                                 interaction=other)
    except CkmError as exc:  # the other method cannot fit this model: said, not fatal
        res_o, messages_o = None, []
        out.note(text("note.compare_failed", language, method=text(f"mm.method.{other}",
                      language), reason=engine_text(str(exc), language)))
if res_i is not None and compare and res_o is not None:
    for message in messages_o:
        out.note(text("note.interaction_model", language,
                      message=engine_text(message, language)))
    out.numbers(compare={"method": other, "estimator": est_o, "missing": miss_o,
                         "n": res_o.n, "converged": res_o.converged})
    out.table(analysis.interaction_compare_table(res_i, res_o, terms,
                                                 methods=(interaction_method, other),
                                                 lang=language))

# %% [markdown]
# ## Moderated mediation: conditional indirect effects and the index
#
# Each condition's indirect effect on an outcome through CKM, at the moderator's
# -1 SD, mean and +1 SD, Hayes' (2015) index of moderated mediation and the
# Johnson-Neyman region of the indirect effect (`ckm_research.moderation.mediation`);
# delta-method intervals by default, the bootstrap of the interaction model with
# `moderation_se = "bootstrap"`.

# %%
mm, mm_paths = None, []
if res_i is not None and res_i.converged:
    from ckm_research.moderation.mediation import (
        moderated_mediation,
        moderated_mediation_paths,
        plot_conditional_indirect,
    )

    mm_paths = [(p.x, p.m, p.y, p.moderator) for p in moderated_mediation_paths(res_i)]
if res_i is not None and res_i.converged and mm_paths:
    boot_i = None
    if moderation_se == "bootstrap":
        from ckm_research.inference.bootstrap import bootstrap

        boot_kw = res_i.options.to_kwargs()
        boot_kw.pop("level", None)
        # one bootstrap of the interaction model (FIML refits with missing = ml) for all paths
        boot_i = bootstrap(res_i.model_text, data, n_boot=n_boot, level=ci_level,
                           random_state=study_stream(seed, "moderation"), n_jobs=n_jobs,
                           result=res_i, progress=False, **boot_kw)
        # which refit path the bootstrap took, and why when it is the slow one
        reason = boot_i.path_reason.split(": ", 1)[-1]
        out.note(text(f"note.boot_path.{boot_i.path}", language,
                      reason=engine_text(reason, language)))
    mm = moderated_mediation(res_i, mm_paths, level=ci_level, se=moderation_se, boot=boot_i)
    moments = analysis.moderator_moments(mm["conditional"])
    out.table(analysis.conditional_indirect_table(mm["conditional"], level=ci_level,
                                                  lang=language))
    out.table(analysis.moderated_mediation_index_table(mm["index"], mm["johnson_neyman"],
                                                       moments, level=ci_level,
                                                       lang=language))
    out.numbers(moderated_mediation={
        "se": moderation_se, "paths": len(mm_paths), "mediator": terms[0][1],
        "bootstrap_path": None if boot_i is None else boot_i.path,
        "bootstrap_path_reason": None if boot_i is None else boot_i.path_reason,
        "method": str(mm["index"]["method"].iloc[0]) if len(mm["index"]) else moderation_se,
        "n_index_significant": int((mm["index"]["pvalue"] < 1 - ci_level).sum()),
        "johnson_neyman": {f"{r['x']} -> {r['m']} -> {r['y']} | {r['moderator']}": r["regions"]
                           for r in mm["johnson_neyman"].to_dict("records")}})
    # one figure per moderated outcome path, for the condition with the strongest a path
    est_i_tab = res_i.estimates
    for y, x, z in terms:
        cands = [p for p in mm_paths if p[1] == x and p[2] == y and p[3] == z]
        if not cands:
            continue
        a = {p[0]: abs(float(est_i_tab[(est_i_tab["op"] == "~") & (est_i_tab["lhs"] == x)
                                       & (est_i_tab["rhs"] == p[0])]["est"].iloc[0]))
             for p in cands}
        cond_x = max(a, key=a.get)
        fig = plot_conditional_indirect(res_i, cond_x, x, y, z, level=ci_level,
                                        se=moderation_se, boot=boot_i)
        figures.mark_observed_range(fig, observed[z])
        mean, sd = moments[z]
        relabel = figures.moderation_labels(x, y, z, ci_level, mean=mean, sd=sd)
        relabel.update(figures.indirect_labels(cond_x, x, y, ci_level))
        how = analysis._mm_method(str(mm["index"]["method"].iloc[0]), language)
        out.figure(figures.localize(fig, relabel), f"cind_{cond_x}_{x}_{y}_{z}".lower(),
                   text("fig.cind.title", language, x=cond_x, m=x, y=y, z=z),
                   note=text("fig.cind.note", language, x=cond_x, m=x,
                             level=f"{ci_level:.0%}", how=how)
                   + text("fig.range.note", language, z=z, lo=f"{observed[z].min():.2f}",
                          hi=f"{observed[z].max():.2f}"))

# %% [markdown]
# ## The hypotheses
#
# Which of the study's hypotheses the data support: the structural paths and indirect
# effects of the structural stage, and the product terms of the interaction model.

# %%
if res_i is not None:
    try:
        st_struct = out.load("structural")
    except Exception as exc:  # the structural stage did not run: no table, said why
        out.unavailable(text("part.hypotheses", language), str(exc))
    else:
        tabs = st_struct.get("tables", {})
        inter_rows = out.data["tables"]["interactions"]["rows"]
        if "paths" in tabs:
            out.table(analysis.hypotheses_table(
                tabs["paths"]["rows"], tabs.get("indirect", {}).get("rows", []), inter_rows,
                level=ci_level, lang=language))

# %% [markdown]
# ## Simple slopes and Johnson-Neyman intervals

# %%
slopes_fn, why = inputs.feature("simple_slopes", language)
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
        fig = plot_simple_slopes(res_i, y, x, z, level=ci_level)
        figures.mark_observed_range(fig, observed[x])
        zm, zp = jn.mean - jn.sd, jn.mean + jn.sd
        inside = observed[z].min() <= zm and zp <= observed[z].max()
        out.figure(figures.localize(fig, relabel),
                   f"slopes_{key}", text("fig.slopes.title", language, x=x, y=y, z=z),
                   note=text("fig.slopes.note", language, z=z, level=f"{ci_level:.0%}")
                   + text("fig.range.note.x", language, x=x, z=z,
                          lo=f"{observed[x].min():.2f}", hi=f"{observed[x].max():.2f}",
                          zlo=f"{observed[z].min():.2f}", zhi=f"{observed[z].max():.2f}",
                          zm=f"{zm:.2f}", zp=f"{zp:.2f}",
                          inside=text("fig.range.inside" if inside else "fig.range.outside",
                                      language)))
        fig = plot_johnson_neyman(res_i, y, x, z, level=ci_level)
        figures.mark_observed_range(fig, observed[z])
        out.figure(figures.localize(fig, relabel),
                   f"jn_{key}", text("fig.jn.title", language, x=x, y=y, z=z),
                   note=(jn.describe() if language == "en" else
                         jn_text(jn_numbers[f"{y} ~ {x}:{z}"], ci_level, language))
                   + text("fig.jn.band", language, level=f"{ci_level:.0%}")
                   + text("fig.range.note", language, z=z, lo=f"{observed[z].min():.2f}",
                          hi=f"{observed[z].max():.2f}"))
    out.numbers(johnson_neyman=jn_numbers)
    out.table(analysis.slopes_table(frames, lang=language))

# %% [markdown]
# ## Multi-group comparison: low vs. high moderator

# %%
invariance_fn, why = inputs.feature("invariance", language)
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
