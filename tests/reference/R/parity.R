# Reference fixtures for lavaan parity (the "lavaan parity" issue): the models,
# options and tools a researcher coming from lavaan uses, each fitted by lavaan
# with everything run_case() stores (estimates, SEs, std.all and its SEs, all
# fit measures, moments, residuals, information, the options lavaan used), plus
# what a case's `extra` asks for (modification indices, score tests, ...).
#
# The cases live one file per topic under tests/reference/R/parity/; each file
# is sourced here with the names below in scope (case(), ref_dir, data_dir,
# hs_model, hs_csv, pd_model, pd_csv) and its last value is a list of case(...).
# A file may also write the data its cases need (under tests/reference/data/,
# then rehash with python tests/reference/make_data.py).
#
# Run from the repository root, through the driver:
#     Rscript tests/reference/make_reference.R parity
#     Rscript tests/reference/make_reference.R parity:growth_ml,hs_latent_mean_ml
# Writes tests/reference/json/parity_<case>.json.  All cases together take
# well under a minute (small models).

local({
  suppressPackageStartupMessages({
    library(lavaan)
    library(jsonlite)
  })
  ref_dir <- normalizePath(file.path("tests", "reference"))
  if (!file.exists(file.path(ref_dir, "R", "parity.R")))
    stop("parity.R: run it from the repository root")
  data_dir <- file.path(ref_dir, "data")
  json_dir <- file.path(ref_dir, "json")
  fixture_prefix <- "parity"
  source(file.path(ref_dir, "R", "lib", "fixture_tools.R"), local = TRUE)

  hs_csv <- "data/HolzingerSwineford1939.csv"
  pd_csv <- "data/PoliticalDemocracy.csv"
  for (f in c(hs_csv, pd_csv))
    if (!file.exists(file.path(ref_dir, f)))
      stop("parity.R: tests/reference/", f, " is absent; run make_reference.R engine first")
  hs_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
  pd_model <- paste(
    "ind60 =~ x1 + x2 + x3",
    "dem60 =~ y1 + y2 + y3 + y4",
    "dem65 =~ y5 + y6 + y7 + y8",
    "dem60 ~ ind60",
    "dem65 ~ ind60 + dem60",
    "y1 ~~ y5",
    "y2 ~~ y4 + y6",
    "y3 ~~ y7",
    "y4 ~~ y8",
    "y6 ~~ y8", sep = "\n")

  cases <- list()
  env <- environment()
  for (f in sort(list.files(file.path(ref_dir, "R", "parity"), pattern = "\\.R$",
                            full.names = TRUE))) {
    more <- source(f, local = new.env(parent = env))$value
    if (!is.list(more) || !all(vapply(more, function(x) is.list(x) && !is.null(x$name), TRUE)))
      stop("parity.R: ", basename(f), " must end with a list of case(...)")
    cases <- c(cases, more)
  }
  names(cases) <- vapply(cases, `[[`, "", "name")
  if (anyDuplicated(names(cases)))
    stop("parity.R: duplicated case names ", paste(names(cases)[duplicated(names(cases))],
                                                   collapse = ", "))
  for (nm in selected_cases(cases, "parity.R")) run_case(cases[[nm]])
})
