#!/usr/bin/env Rscript
# lavaan's FIML bootstrap of the CKM study, per resample (issue 11: the FIML
# bootstrap, beside benchmarks/bench_fiml_bootstrap.py).  Run from the repository root:
#
#     Rscript benchmarks/fiml_bootstrap.R [B] [data.csv]
#
# Times (wall clock, data in memory, lavaan loaded, one untimed warm-up fit):
#   fit     sem(model, data, missing = "ml")                        (plain FIML fit)
#   boot    sem(model, data, missing = "ml", se = "bootstrap", bootstrap = B)
# and prints JSON with the per-resample time (boot - fit) / B.  Defaults: B = 20,
# data/example/ckm_example.csv (N = 379 with missing answers).
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
B <- if (length(args) >= 1) as.integer(args[[1]]) else 20L
data_file <- if (length(args) >= 2) args[[2]] else file.path("data", "example", "ckm_example.csv")
model <- paste(readLines(file.path("ckm_research", "models", "ckm_study.lav")), collapse = "\n")
d <- read.csv(data_file)
invisible(sem("visual =~ x1 + x2 + x3", data = HolzingerSwineford1939))  # warm-up
el <- function(expr) { t0 <- proc.time()[["elapsed"]]; force(expr); proc.time()[["elapsed"]] - t0 }
t_fit <- el(fit0 <- sem(model, data = d, missing = "ml"))
t_boot <- el(fb <- suppressWarnings(sem(model, data = d, missing = "ml", se = "bootstrap",
                                        bootstrap = B, iseed = 1L)))
boot <- lavInspect(fb, "boot")
ok <- nrow(boot) - length(attr(boot, "error.idx"))
cat(toJSON(list(
  lavaan = as.character(packageVersion("lavaan")), data = data_file, N = lavInspect(fit0, "ntotal"),
  B = B, converged = ok, fit_sec = t_fit, boot_sec = t_boot,
  per_resample_sec = (t_boot - t_fit) / B, cores = 1L
), auto_unbox = TRUE, digits = NA), "\n")
