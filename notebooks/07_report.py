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
# # 7. Report
#
# The report a co-author or a reviewer reads. Every section is written by
# `ckm_research.report.render` from `results.json` and `manifest.json` alone, so every
# number shown is in `results.json`. `ckm run` exports this notebook to `report.html`
# without its code (nbconvert `--no-input`).

# %% tags=["parameters"]
# Parameters: `ckm run` replaces these values (see `ckm run --show-params`).
output_dir = "../reports/ckm-study"  # folder of the results (made if absent)

# %%
from IPython.display import HTML, display

from ckm_research.report.render import Report
from ckm_research.report.store import check_inputs

check_inputs(output_dir, "report")  # results.json complete and of one set of parameters
report = Report(output_dir)

# %%
display(HTML(report.header()))
display(HTML(report.summary()))

# %%
display(HTML(report.method_instrument()))

# %%
display(HTML(report.method_sample()))

# %%
display(HTML(report.method_missing()))

# %%
display(HTML(report.method_estimation()))

# %%
display(HTML(report.results_measurement()))

# %%
display(HTML(report.results_structural()))

# %%
display(HTML(report.results_moderation()))

# %%
display(HTML(report.results_power()))

# %%
display(HTML(report.notes_section()))

# %%
display(HTML(report.syntax_section()))

# %%
display(HTML(report.provenance()))

# %%
display(HTML(report.references()))

# %%
display(HTML(report.appendix()))
