# Reference fixtures for FIML (missing = "ml") with ML and MLR.
#
# Run from the repository root:  Rscript tests/reference/R/fiml.R
# (or source() it from tests/reference/make_reference.R).  Writes
#   tests/reference/data/fiml_hs_missing.csv  HolzingerSwineford1939 x1-x9 with
#                                             10% of cells blanked MCAR (seed 20261126)
#   tests/reference/json/fiml_hs_<estimator>.json
local({
  suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
  ref <- file.path("tests", "reference")
  if (!dir.exists(ref)) stop("fiml.R: run it from the repository root")
  old_seed <- if (exists(".Random.seed", envir = globalenv())) get(".Random.seed", envir = globalenv()) else NULL
  on.exit(if (!is.null(old_seed)) assign(".Random.seed", old_seed, envir = globalenv()))
  set.seed(20261126)
  d <- HolzingerSwineford1939[, paste0("x", 1:9)]
  d[matrix(runif(prod(dim(d))) < 0.10, nrow(d))] <- NA
  csv <- file.path(ref, "data", "fiml_hs_missing.csv")
  write.csv(d, csv, row.names = FALSE, na = "")
  d <- read.csv(csv)
  model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
  for (est in c("ML", "MLR")) {
    t0 <- Sys.time()
    f <- cfa(model, d, missing = "ml", estimator = est)
    secs <- as.numeric(Sys.time() - t0, units = "secs")
    pe <- parameterEstimates(f, standardized = TRUE)
    ss <- standardizedSolution(f)
    pe$se.std <- ss$se
    fm <- fitMeasures(f)
    out <- list(
      lavaan_version = as.character(packageVersion("lavaan")),
      generated_by = "tests/reference/R/fiml.R",
      model = model, data_csv = "data/fiml_hs_missing.csv",
      call = sprintf('cfa(model, data, missing = "ml", estimator = "%s")', est),
      estimator = est, nobs = lavInspect(f, "nobs"), timing_seconds = secs,
      options = lavInspect(f, "options")[c("information", "observed.information",
                                            "h1.information", "se", "test")],
      estimates = pe[, c("lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci.lower",
                         "ci.upper", "std.all", "se.std")],
      fit = as.list(unclass(fm)),
      h1 = lavInspect(f, "sampstat.h1")
    )
    write_json(out, file.path(ref, "json", sprintf("fiml_hs_%s.json", tolower(est))),
               digits = NA, auto_unbox = TRUE)
  }
})
