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
# # 2. Data import and screening
#
# Reads the raw responses (never changed), validates every answer against the
# instrument, reverse-codes the reverse-keyed items, removes personal data and screens
# the respondents (`ckm_research.data.importer`). Then describes the sample, the missing
# answers and the distribution of the items. Writes the analysed rows to
# `data/analysis.csv` in the output folder, which the later stages read.

# %% tags=["parameters"]
# Parameters: `ckm run` replaces these values (see `ckm run --show-params`).
data_file = "../data/example/ckm_example.csv"  # raw responses (CSV, Excel, SPSS, Stata, ...)
instrument = None  # name in surveys/ or YAML path; None: CKM or derived by 01_instrument
model = "../ckm_research/models/ckm_study.lav"  # the structural model in lavaan syntax
missing_values = []  # codes meaning no answer besides empty cells, e.g. [-99]
drop = ["longstring", "attention", "speed"]  # screening flags that exclude a respondent
subset = {}  # subsample to analyse, {column: [values]}, e.g. {"industry": [1, 2]}
language = "en"  # language of the report: en or zh (Chinese)
output_dir = "../reports/ckm-study"  # folder of the results (made if absent)

# %%
from ckm_research.data.importer import import_responses, write_import
from ckm_research.data.normality import mardia
from ckm_research.data.subset import apply_subset
from ckm_research.report import analysis, figures, inputs
from ckm_research.report.i18n import encoding_text, text
from ckm_research.report.store import StageOutput
from ckm_research.sem.modelsyntax import indicators

font_warning = figures.use_report_style(language)
out = StageOutput(output_dir, "data", lang=language)
if font_warning:
    out.note(font_warning)
ins = inputs.load_instrument(instrument, model=model, output_dir=output_dir)
factors = indicators(inputs.read_model(model))

# %% [markdown]
# ## Import and screening

# %%
imp = import_responses(data_file, ins, missing_values=missing_values or None,
                       drop=list(drop or []) or None)
write_import(imp, out.path("data", "responses.csv"))
if imp.manifest["raw_file"].get("encoding_note"):  # a CSV file: say how its text was decoded
    out.note(encoding_text(imp.manifest["raw_file"]["name"],
                           imp.manifest["raw_file"]["encoding_note"], language))
frame, subset_text = apply_subset(imp.data, subset, language)
inputs.save_analysis_data(frame, out)
if subset_text:
    out.note(subset_text)
counts = imp.manifest["counts"]
out.numbers(n_read=counts["rows_read"], n_after_screening=counts["rows_written"],
            n_excluded=counts["rows_dropped"], n_analysed=len(frame),
            excluded_by=counts["dropped_by_criterion"], flagged_by=counts["flagged"],
            dropped_criteria=list(drop), data_format=imp.manifest["raw_file"]["format"],
            reverse_coded=imp.manifest["rules"]["reverse_coded"])
out.table(analysis.exclusions_table(imp, lang=language))

# %% [markdown]
# ## Sample description

# %%
out.table(analysis.profile_table(frame, ins, lang=language))

# %% [markdown]
# ## Missing answers

# %%
items = [i for v in factors.values() for i in v]
block = frame[items]
out.numbers(n_complete=int(block.notna().all(axis=1).sum()),
            pct_cells_missing=100 * float(block.isna().to_numpy().mean()),
            max_item_missing_pct=100 * float(block.isna().mean().max()),
            n_missing_patterns=int(block.isna().drop_duplicates().shape[0]))
out.table(analysis.missing_table(frame, factors, lang=language))

# %% [markdown]
# ## Distribution of the items

# %%
item_tab = out.table(analysis.item_table(frame, factors, lang=language))
m = mardia(block)
out.numbers(mardia=m, max_abs_skew=float(item_tab.frame["skew"].abs().max()),
            max_abs_kurtosis=float(item_tab.frame["kurtosis"].abs().max()))
print(f"Mardia's multivariate kurtosis: b2p = {m['b2p']:.1f} (expected "
      f"{m['kurtosis_expected']:.0f} under normality), z = {m['kurtosis_z']:.2f}, "
      f"p = {m['kurtosis_pvalue']:.3g}; complete cases n = {m['n']}")

# %%
scale = ins.item(items[0]).scale
codes = scale.codes
shares = analysis.likert_shares(frame, factors, codes)
labels = {c.value: c.label.get(language if not font_warning else "en", str(c.value))
          for c in scale.choices}
out.figure(figures.localize(figures.plot_likert(shares, labels=labels)), "likert",
           text("fig.likert.title", language),
           note=text("fig.likert.note", language, n=len(frame)))

# %%
out.save()
