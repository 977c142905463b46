#!/usr/bin/env Rscript
# Time lavaan on the benchmark cases of benchmarks/run.py; print JSON on stdout.
#
#     Rscript benchmarks/lavaan_bench.R [--cases ckm_ml,ckm_mlr,...] [--reps ckm_ml=5,hs_ml=10]
#
# Run from the repository root (benchmarks/run.py does).  Progress goes to
# stderr.  For every case and repetition it records the wall time of
#   fit            sem()/cfa() itself (estimates, SEs, test statistic)
#   fit_measures   fitMeasures(fit) afterwards (for FIML this fits the
#                  saturated and baseline models, most of lavaan's time)
#   estimates      parameterEstimates(fit, standardized = TRUE)
#   total          the three together: the work ckm_research.fit() does
# Data reading and package loading are not timed.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
opt <- function(name, default) {
  i <- match(name, args)
  if (is.na(i) || i == length(args)) default else args[[i + 1L]]
}
data_dir <- file.path("tests", "reference", "data")
model_file <- file.path("ckm_research", "models", "ckm_study.lav")
if (!file.exists(model_file)) stop("lavaan_bench.R: run it from the repository root")

ckm_model <- paste(readLines(model_file), collapse = "\n")
ckm_items <- local({
  lines <- sub("#.*$", "", strsplit(ckm_model, "\n")[[1]])
  lines <- lines[grepl("=~", lines)]
  trimws(unlist(strsplit(sub(".*=~", "", lines), "+", fixed = TRUE)))
})
hs_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"

# keep in step with CASES in benchmarks/run.py
cases <- list(
  hs_ml = list(model = hs_model, data = "HolzingerSwineford1939.csv", args = list(estimator = "ML")),
  ckm_ml = list(model = ckm_model, data = "ckm_sim_n500.csv", args = list(estimator = "ML")),
  ckm_mlr = list(model = ckm_model, data = "ckm_sim_n500.csv", args = list(estimator = "MLR")),
  ckm_fiml = list(model = ckm_model, data = "ckm_sim_n500_missing.csv",
                  args = list(estimator = "ML", missing = "ml")),
  ckm_wlsmv = list(model = ckm_model, data = "ckm_sim_ordinal_n900.csv",
                   args = list(estimator = "WLSMV", ordered = ckm_items))
)

which <- strsplit(opt("--cases", paste(names(cases), collapse = ",")), ",", fixed = TRUE)[[1]]
unknown <- setdiff(which, names(cases))
if (length(unknown)) stop("lavaan_bench.R: unknown case(s): ", paste(unknown, collapse = ", "))
reps <- list()
for (kv in strsplit(opt("--reps", ""), ",", fixed = TRUE)[[1]]) {
  kv <- strsplit(kv, "=", fixed = TRUE)[[1]]
  if (length(kv) == 2L) reps[[kv[1]]] <- as.integer(kv[2])
}

elapsed <- function() proc.time()[["elapsed"]]
# warm-up, untimed: the first fit of a session pays for loading lavaan's code
invisible(fitMeasures(cfa(hs_model, HolzingerSwineford1939)))
out <- list(
  lavaan_version = as.character(packageVersion("lavaan")),
  R_version = R.version$version.string,
  blas = tryCatch(La_library(), error = function(e) NA_character_),
  cases = list()
)
for (name in which) {
  spec <- cases[[name]]
  d <- read.csv(file.path(data_dir, spec$data))
  n_rep <- if (is.null(reps[[name]])) 1L else reps[[name]]
  res <- list(fit = numeric(0), fit_measures = numeric(0), estimates = numeric(0),
              total = numeric(0))
  for (r in seq_len(n_rep)) {
    message(sprintf("lavaan %s, repetition %d of %d ...", name, r, n_rep))
    t0 <- elapsed()
    fit <- suppressWarnings(do.call("sem", c(list(model = spec$model, data = d), spec$args)))
    t1 <- elapsed()
    fm <- fitMeasures(fit)
    t2 <- elapsed()
    pe <- parameterEstimates(fit, standardized = TRUE)
    t3 <- elapsed()
    res$fit <- c(res$fit, t1 - t0)
    res$fit_measures <- c(res$fit_measures, t2 - t1)
    res$estimates <- c(res$estimates, t3 - t2)
    res$total <- c(res$total, t3 - t0)
    message(sprintf("  fit %.2f s, fitMeasures %.2f s, estimates %.2f s", t1 - t0, t2 - t1, t3 - t2))
  }
  res$nobs <- lavInspect(fit, "nobs")
  res$converged <- lavInspect(fit, "converged")
  res$chisq <- unname(fm[["chisq"]])
  res$df <- unname(fm[["df"]])
  res$fit <- I(res$fit)
  res$fit_measures <- I(res$fit_measures)
  res$estimates <- I(res$estimates)
  res$total <- I(res$total)
  out$cases[[name]] <- res
}
cat(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null"), "\n")
