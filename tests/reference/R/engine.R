# Reference fixtures for the SEM engine (ckm_research.sem): lavaan's ML, MLR,
# FIML (missing = "ml") and WLSMV fits of the models the engine issue names,
# with everything the engine reports (estimates, SEs, standardized solution
# and its SEs, all fit measures, implied and sample moments, residuals,
# information matrices where small, the options lavaan actually used).
#
# Run from the repository root, through the driver:
#     Rscript tests/reference/make_reference.R engine
#     Rscript tests/reference/make_reference.R engine:hs_cfa_ml,ckm_ml   # some cases
#     Rscript tests/reference/make_reference.R engine:-ckm_fiml          # all but one
# or standalone: Rscript tests/reference/R/engine.R  (cases from the
# environment variable CKM_REF_CASES, same syntax as after "engine:").
#
# It writes
#     tests/reference/data/HolzingerSwineford1939.csv  lavaan's data set, all columns
#     tests/reference/data/PoliticalDemocracy.csv      lavaan's data set
#     tests/reference/data/ecsi_mobi.csv               copy of /work/shared/data/real/ecsi_mobi.csv
#     tests/reference/json/engine_<case>.json          one fixture per case
# and reads the simulated CKM data made by tests/reference/make_data.py.
# Each model is fitted to the data as read back from the CSV, so that Python
# reads exactly what lavaan saw.
#
# Numbers are written with 17 significant digits (jsonlite stops at 15), so a
# correctly rounding reader (Python's json) gets lavaan's doubles bit for bit;
# NA, NaN and Inf are written as null.
#
# Cost on the 2-core reference machine (lavaan 0.6.14, measured while other
# jobs shared the machine; each JSON stores its own "timing"):
#   all cases but ckm_fiml   about 5.5 min, mostly resid(type = "standardized")
#                            and lavResiduals() of the 53-item models
#                            (ckm_ml 1.5 min, ckm_mlr 2.5 min, ckm_wlsmv 1.5-2.5 min)
#   ckm_fiml                 about 30 min: sem() 4 min (3.5 of them the observed
#                            information), fitMeasures() 13 min (the saturated
#                            model by EM), resid() 4 min, lavResiduals() 9 min

local({
  suppressPackageStartupMessages({
    library(lavaan)
    library(jsonlite)
  })

  # ---- where to read and write ---------------------------------------------
  find_reference_dir <- function() {
    is_ref <- function(d) length(d) == 1L && !is.na(d) &&
      file.exists(file.path(d, "R", "engine.R"))
    cand <- character(0)
    for (i in rev(seq_len(sys.nframe()))) {
      of <- sys.frame(i)$ofile
      if (!is.null(of)) cand <- c(cand, dirname(dirname(normalizePath(of))))
    }
    args <- commandArgs(trailingOnly = FALSE)
    f <- sub("^--file=", "", args[grepl("^--file=", args)])
    if (length(f) == 1L) {
      f <- normalizePath(f)
      cand <- c(cand, dirname(dirname(f)), dirname(f))
    }
    cand <- c(cand, file.path(getwd(), "tests", "reference"), getwd())
    for (d in cand) if (is_ref(d)) return(normalizePath(d))
    stop("engine.R: cannot find tests/reference; run it from the repository root")
  }
  ref_dir <- find_reference_dir()
  data_dir <- file.path(ref_dir, "data")
  json_dir <- file.path(ref_dir, "json")
  dir.create(data_dir, showWarnings = FALSE, recursive = TRUE)
  dir.create(json_dir, showWarnings = FALSE, recursive = TRUE)
  ecsi_source <- "/work/shared/data/real/ecsi_mobi.csv"

  fixture_prefix <- "engine"
  source(file.path(ref_dir, "R", "lib", "fixture_tools.R"), local = TRUE)


  # ---- data ----------------------------------------------------------------------
  hs_csv <- file.path(data_dir, "HolzingerSwineford1939.csv")
  write.csv(HolzingerSwineford1939, hs_csv, row.names = FALSE, na = "")
  pd_csv <- file.path(data_dir, "PoliticalDemocracy.csv")
  write.csv(PoliticalDemocracy, pd_csv, row.names = FALSE, na = "")
  if (file.exists(ecsi_source)) {
    file.copy(ecsi_source, file.path(data_dir, "ecsi_mobi.csv"), overwrite = TRUE)
    Sys.chmod(file.path(data_dir, "ecsi_mobi.csv"), "0644")
  } else if (!file.exists(file.path(data_dir, "ecsi_mobi.csv"))) {
    stop("engine.R: ", ecsi_source, " is absent and no copy exists in tests/reference/data")
  }
  for (f in c("ckm_sim_n500.csv", "ckm_sim_n500_missing.csv", "ckm_sim_ordinal_n900.csv"))
    if (!file.exists(file.path(data_dir, f)))
      stop("engine.R: tests/reference/data/", f, " is absent; run python tests/reference/make_data.py")

  # ---- models --------------------------------------------------------------------
  hs_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
  hs_cov_model <- paste0(hs_model, "\nvisual ~ ageyr + grade")
  pd_model <- paste(
    "# measurement model",
    "ind60 =~ x1 + x2 + x3",
    "dem60 =~ y1 + y2 + y3 + y4",
    "dem65 =~ y5 + y6 + y7 + y8",
    "# regressions",
    "dem60 ~ ind60",
    "dem65 ~ ind60 + dem60",
    "# residual correlations",
    "y1 ~~ y5",
    "y2 ~~ y4 + y6",
    "y3 ~~ y7",
    "y4 ~~ y8",
    "y6 ~~ y8", sep = "\n")
  pd_eq_model <- paste(
    "ind60 =~ x1 + x2 + x3",
    "dem60 =~ y1 + a*y2 + b*y3 + c*y4",
    "dem65 =~ y5 + a*y6 + b*y7 + c*y8",
    "dem60 ~ a1*ind60",
    "dem65 ~ b1*dem60 + c1*ind60",
    "y1 ~~ y5",
    "y2 ~~ y4 + y6",
    "y3 ~~ y7",
    "y4 ~~ y8",
    "y6 ~~ y8",
    "ind := a1*b1",
    "total := c1 + a1*b1", sep = "\n")
  ckm_model <- paste(readLines(file.path(dirname(dirname(ref_dir)), "ckm_research", "models",
                                         "ckm_study.lav")), collapse = "\n")
  ckm_items <- local({
    lines <- sub("#.*$", "", strsplit(ckm_model, "\n")[[1]])
    lines <- lines[grepl("=~", lines)]
    trimws(unlist(strsplit(sub(".*=~", "", lines), "+", fixed = TRUE)))
  })
  ecsi_model <- paste(
    "# ECSI (Tenenhaus et al., 2005), mobile phone providers: four of its constructs",
    "Image        =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5",
    "Expectation  =~ CUEX1 + CUEX2 + CUEX3",
    "Satisfaction =~ CUSA1 + CUSA2 + CUSA3",
    "Loyalty      =~ CUSL1 + CUSL2 + CUSL3",
    "Expectation  ~ Image",
    "Satisfaction ~ Image + Expectation",
    "Loyalty      ~ Image + Satisfaction", sep = "\n")

  hs <- "data/HolzingerSwineford1939.csv"
  pd <- "data/PoliticalDemocracy.csv"
  cases <- list(
    case("hs_cfa_ml", "Holzinger-Swineford 3-factor CFA, ML", "cfa", hs_model, hs,
         list(estimator = "ML")),
    case("hs_cfa_mlr", "Holzinger-Swineford 3-factor CFA, MLR", "cfa", hs_model, hs,
         list(estimator = "MLR")),
    case("hs_cfa_stdlv_ml", "Holzinger-Swineford 3-factor CFA, ML, std.lv = TRUE", "cfa",
         hs_model, hs, list(estimator = "ML", std.lv = TRUE)),
    case("hs_cfa_stdlv_mlr", "Holzinger-Swineford 3-factor CFA, MLR, std.lv = TRUE", "cfa",
         hs_model, hs, list(estimator = "MLR", std.lv = TRUE)),
    case("hs_covariates_ml",
         "HS CFA with visual regressed on observed ageyr and grade (fixed.x = TRUE, lavaan's default); one case with grade NA dropped listwise",
         "sem", hs_cov_model, hs, list(estimator = "ML")),
    case("hs_covariates_fixedx_false_ml",
         "as hs_covariates_ml with fixed.x = FALSE (covariate (co)variances free)", "sem",
         hs_cov_model, hs, list(estimator = "ML", fixed.x = FALSE)),
    case("hs_covariates_mlr", "as hs_covariates_ml, MLR", "sem", hs_cov_model, hs,
         list(estimator = "MLR")),
    case("poldem_ml", "PoliticalDemocracy SEM of the lavaan tutorial, ML", "sem", pd_model, pd,
         list(estimator = "ML")),
    case("poldem_mlr", "PoliticalDemocracy SEM of the lavaan tutorial, MLR", "sem", pd_model, pd,
         list(estimator = "MLR")),
    case("poldem_eq_ml",
         "PoliticalDemocracy SEM with equal loadings across waves (shared labels a b c) and defined indirect and total effects",
         "sem", pd_eq_model, pd, list(estimator = "ML")),
    case("ckm_ml", "CKM study model (13 factors, 53 items), simulated 7-point data N = 500, ML",
         "sem", ckm_model, "data/ckm_sim_n500.csv", list(estimator = "ML"), information = FALSE),
    case("ckm_mlr", "CKM study model, simulated 7-point data N = 500, MLR", "sem", ckm_model,
         "data/ckm_sim_n500.csv", list(estimator = "MLR"), information = FALSE),
    case("ckm_fiml",
         "CKM study model, simulated 7-point data N = 500 with 7% of cells MCAR, FIML (missing = \"ml\"), ML",
         "sem", ckm_model, "data/ckm_sim_n500_missing.csv",
         list(estimator = "ML", missing = "ml"), information = FALSE),
    case("ckm_wlsmv",
         "CKM study model, simulated 5-point data N = 900, all 53 items ordered, WLSMV",
         "sem", ckm_model, "data/ckm_sim_ordinal_n900.csv",
         list(estimator = "WLSMV", ordered = ckm_items), information = FALSE),
    case("ecsi_ml", "ECSI mobi (real data, N = 250): image, expectation, satisfaction, loyalty; ML",
         "sem", ecsi_model, "data/ecsi_mobi.csv", list(estimator = "ML")),
    case("ecsi_mlr", "ECSI mobi: as ecsi_ml, MLR", "sem", ecsi_model, "data/ecsi_mobi.csv",
         list(estimator = "MLR"))
  )
  names(cases) <- vapply(cases, `[[`, "", "name")

  # ---- which cases ---------------------------------------------------------------
  for (nm in selected_cases(cases, "engine.R")) run_case(cases[[nm]])
})
