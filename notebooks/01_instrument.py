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
# # 1. Instrument
#
# What was asked, on which scale, and where each construct's items come from: the
# constructs of the study model, their items and the validated scales they are adapted
# from. First stage of `ckm run`; its results go to `results/instrument.json` in the
# output folder. Run it on its own in JupyterLab by running all cells.

# %% tags=["parameters"]
# Parameters: `ckm run` replaces these values (see `ckm run --show-params`).
instrument = None  # a name in surveys/ (ckm), a YAML path, or None: derived (see below)
model = "../ckm_research/models/ckm_study.lav"  # the structural model in lavaan syntax
data_file = "../data/example/ckm_example.csv"  # raw responses (to derive an instrument)
scale = None  # [lowest, highest] answer of a derived instrument (None: range of the data)
missing_values = []  # codes meaning no answer besides empty cells, e.g. [-99]
language = "en"  # language of the report: en or zh (Chinese)
output_dir = "../reports/ckm-study"  # folder of the results (made if absent)

# %%
from ckm_research.instrument.derive import DERIVED_ID, instrument_yaml
from ckm_research.instrument.export import to_codebook, to_lavaan
from ckm_research.report import analysis, inputs
from ckm_research.report.params import DERIVED_INSTRUMENT
from ckm_research.report.store import StageOutput

out = StageOutput(output_dir, "instrument", lang=language)
# None: the CKM instrument if the model uses only its items, else one derived from the
# model (constructs) and the data (items, answer scale), written for the later stages
ins = inputs.load_instrument(instrument, model=model, data_file=data_file, scale=scale,
                               missing_values=missing_values)
if instrument is None and ins.id == DERIVED_ID:
    instrument_yaml(ins, out.path(str(DERIVED_INSTRUMENT)))
model_text = inputs.read_model(model)

# %% [markdown]
# ## Constructs and items

# %%
out.table(analysis.instrument_table(ins, model_text, lang=language))
out.numbers(**analysis.instrument_numbers(ins, model_text))
out.text("instrument_title", ins.text(ins.title, language))
out.text("model_syntax", model_text)

# %% [markdown]
# ## Codebook and measurement syntax for the analyst

# %%
codebook = to_codebook(ins, out.path("instrument", "codebook.csv"), lang="en")
to_lavaan(ins, out.path("instrument", "measurement_from_instrument.lav"))
print("written:", ", ".join(p.name for p in codebook), "and measurement_from_instrument.lav")

# %%
out.save()
