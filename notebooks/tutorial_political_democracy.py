# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python (ckm-research)
#     language: python
#     name: ckm-research
# ---

# %% [markdown]
# # Tutorial: a classic structural equation model, step by step
#
# Before fitting the CKM study, check that you can reproduce a published analysis. This
# notebook refits the **Political Democracy** model of Bollen (1989, ch. 8): does the
# industrialisation of 75 developing countries in 1960 explain their political democracy
# in 1960 and 1965? It is the example of the lavaan tutorial
# (<https://lavaan.ugent.be/tutorial/sem.html>), so every number below can be checked
# against the output printed there (lavaan 0.6, estimator ML). If the last cell of
# *Step 4* says that all numbers match, your installation computes what lavaan computes.
#
# References: Bollen, K. A. (1989). *Structural equations with latent variables*. Wiley.
# Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
# Statistical Software, 48*(2), 1-36.

# %% tags=["parameters"]
# Parameters (papermill can change them; nothing else is needed to run the tutorial).
tolerance = 0.0005  # largest difference allowed from the published values, which have 3 decimals

# %% [markdown]
# ## Step 1: the data
#
# Eleven indicators for 75 countries (the data ship with ckm-research, as with lavaan:
# `PoliticalDemocracy`): `x1`-`x3` measure industrialisation in 1960 (GNP per capita,
# energy consumption per capita, share of the labour force in industry); `y1`-`y4`
# political democracy in 1960 and `y5`-`y8` the same four indicators in 1965 (freedom of
# the press, freedom of political opposition, fairness of elections, effectiveness of the
# elected legislature).

# %%
from ckm_research.data.examples import load_dataset

data = load_dataset("PoliticalDemocracy")
print(f"{len(data)} countries, {data.shape[1]} indicators")
data.describe().T.round(2)

# %% [markdown]
# ## Step 2: the model in lavaan syntax
#
# Three latent variables, each measured by its indicators (`=~`); democracy in 1960 depends
# on industrialisation, democracy in 1965 on both (`~`); and the residuals of the same
# indicator measured in 1960 and 1965 may correlate (`~~`), as may `y2`-`y4` and `y6`-`y8`,
# which come from the same source.

# %%
model = """
  # measurement model
    ind60 =~ x1 + x2 + x3
    dem60 =~ y1 + y2 + y3 + y4
    dem65 =~ y5 + y6 + y7 + y8
  # regressions
    dem60 ~ ind60
    dem65 ~ ind60 + dem60
  # residual correlations
    y1 ~~ y5
    y2 ~~ y4 + y6
    y3 ~~ y7
    y4 ~~ y8
    y6 ~~ y8
"""

# %% [markdown]
# ## Step 3: fit it
#
# `ckm_research.fit` is the same call for any model; the default estimator is maximum
# likelihood, as `lavaan::sem(model, data = PoliticalDemocracy)`.

# %%
import ckm_research

fit = ckm_research.fit(model, data)
print(fit.summary())

# %% [markdown]
# ## Step 4: compare with the published output
#
# The values printed by lavaan in its tutorial (estimate and standard error; `.y1` is the
# residual variance of `y1`). The first loading of each factor is fixed at 1, so it has no
# standard error.

# %%
import pandas as pd

published_test = {"chisq": 38.125, "df": 35, "pvalue": 0.329}
published = pd.DataFrame(
    [
        # lhs, op, rhs, estimate, standard error
        ("ind60", "=~", "x2", 2.180, 0.139), ("ind60", "=~", "x3", 1.819, 0.152),
        ("dem60", "=~", "y2", 1.257, 0.182), ("dem60", "=~", "y3", 1.058, 0.151),
        ("dem60", "=~", "y4", 1.265, 0.145), ("dem65", "=~", "y6", 1.186, 0.169),
        ("dem65", "=~", "y7", 1.280, 0.160), ("dem65", "=~", "y8", 1.266, 0.158),
        ("dem60", "~", "ind60", 1.483, 0.399), ("dem65", "~", "ind60", 0.572, 0.221),
        ("dem65", "~", "dem60", 0.837, 0.098),
        ("y1", "~~", "y5", 0.624, 0.358), ("y2", "~~", "y4", 1.313, 0.702),
        ("y2", "~~", "y6", 2.153, 0.734), ("y3", "~~", "y7", 0.795, 0.608),
        ("y4", "~~", "y8", 0.348, 0.442), ("y6", "~~", "y8", 1.356, 0.568),
        ("x1", "~~", "x1", 0.082, 0.019), ("x2", "~~", "x2", 0.120, 0.070),
        ("x3", "~~", "x3", 0.467, 0.090), ("y1", "~~", "y1", 1.891, 0.444),
        ("y2", "~~", "y2", 7.373, 1.374), ("y3", "~~", "y3", 5.067, 0.952),
        ("y4", "~~", "y4", 3.148, 0.739), ("y5", "~~", "y5", 2.351, 0.480),
        ("y6", "~~", "y6", 4.954, 0.914), ("y7", "~~", "y7", 3.431, 0.713),
        ("y8", "~~", "y8", 3.254, 0.695), ("ind60", "~~", "ind60", 0.448, 0.087),
        ("dem60", "~~", "dem60", 3.956, 0.921), ("dem65", "~~", "dem65", 0.172, 0.215),
    ],
    columns=["lhs", "op", "rhs", "published_est", "published_se"],
)
ours = fit.estimates[["lhs", "op", "rhs", "est", "se"]]
comparison = published.merge(ours, on=["lhs", "op", "rhs"], how="left")
comparison["diff_est"] = (comparison["est"] - comparison["published_est"]).round(4)
comparison["diff_se"] = (comparison["se"] - comparison["published_se"]).round(4)
comparison.round(3)

# %%
fm = fit.fit_measures
test = {"chisq": fm["chisq"], "df": fm["df"], "pvalue": fm["pvalue"]}
print("                published   ckm-research")
for key, value in published_test.items():
    print(f"  {key:<12}{value:>11}   {test[key]:>11.3f}")

worst = max(comparison["diff_est"].abs().max(), comparison["diff_se"].abs().max(),
            abs(test["chisq"] - published_test["chisq"]), abs(test["pvalue"] -
                                                              published_test["pvalue"]))
if comparison[["est", "se"]].isna().any().any() or test["df"] != published_test["df"] \
        or worst > tolerance:
    raise AssertionError(f"the fit does not reproduce the published lavaan output (largest "
                         f"difference {worst:.4f} > {tolerance}); see the table above")
print(f"\nAll {len(comparison)} estimates, their standard errors and the chi-square test match "
      f"the published values (largest difference {worst:.4f}, rounding of 3 decimals).")

# %% [markdown]
# ## Step 5: equality constraints and an indirect effect
#
# The same label on two loadings makes them equal (`a*y2` and `a*y6`: the indicator
# relates to democracy the same way in 1960 and 1965), and `:=` defines new parameters
# from labelled ones: the indirect effect of industrialisation on democracy in 1965
# through democracy in 1960 (Bollen, 1987). The constrained model has 3 more degrees of
# freedom; lavaan reports chi-square = 40.179, df = 38, p = .374 for it.

# %%
model_eq = """
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  dem60 ~ a1*ind60
  dem65 ~ b1*dem60 + c1*ind60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
  indirect := a1*b1
  total := c1 + a1*b1
"""
fit_eq = ckm_research.fit(model_eq, data)
fm_eq = fit_eq.fit_measures
print(f"chi-square = {fm_eq['chisq']:.3f}, df = {fm_eq['df']:.0f}, p = {fm_eq['pvalue']:.3f}")
if abs(fm_eq["chisq"] - 40.179) > tolerance or fm_eq["df"] != 38:
    raise AssertionError("the constrained model does not reproduce lavaan's chi-square")
fit_eq.estimates.query("op == ':='")[["lhs", "est", "se", "pvalue", "ci.lower", "ci.upper"]]

# %% [markdown]
# ## Step 6: report it as the pipeline does
#
# The tables of `ckm run` come from the same functions: the global fit with the cited
# guidelines, the paths with confidence intervals and standardized coefficients, and the
# path diagram (when Graphviz is installed).

# %%
from IPython.display import HTML, Image, display

from ckm_research import structural
from ckm_research.report import analysis
from ckm_research.report.pathdiagram import dot_available, path_diagram, render_diagram

display(HTML(analysis.fit_table([analysis.fit_row("Political democracy (ML)", fit)]).to_html(1)))
paths = analysis.paths_table(fit)
display(HTML(paths.to_html(2)))
display(HTML(analysis.r2_table(fit).to_html(3)))

# %%
import tempfile

ok, why = dot_available()
if ok:
    graph = path_diagram(paths.frame, r2=structural.r_squared(fit),
                         latent={"ind60", "dem60", "dem65"})
    files = render_diagram(graph, tempfile.mkdtemp(), "political_democracy")
    display(Image(filename=str(files["png"]), width=520))
else:
    print("No path diagram:", why)

# %% [markdown]
# Industrialisation in 1960 raises democracy in 1960 (standardized β ≈ .45), and democracy
# is stable from 1960 to 1965 (β ≈ .89); the direct effect of industrialisation on 1965
# democracy is small once 1960 democracy is controlled. Now open
# `01_instrument.ipynb` to start on the CKM study, or run all of it with `ckm run`.
