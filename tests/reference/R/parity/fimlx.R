# FIML with observed exogenous covariates (lavaan's fixed.x = TRUE conventions
# under missing = "ml" and "ml.x"): a MIMIC model on HolzingerSwineford1939.
#
# Writes tests/reference/data/parity_fimlx_hs.csv: x1..x9 with about 10% of
# the cells blanked MCAR (seed 20261202), plus the covariates ageyr, sex and
# grade (grade has one NA in the original data; ageyr is blanked in 5 further
# rows), so that missing = "ml" deletes the cases with a missing covariate
# (lavaan warns how many) and missing = "ml.x" keeps them; and school, for a
# two-group case.
local({
  old_seed <- if (exists(".Random.seed", envir = globalenv()))
    get(".Random.seed", envir = globalenv()) else NULL
  on.exit(if (!is.null(old_seed)) assign(".Random.seed", old_seed, envir = globalenv()))
  set.seed(20261202)
  hs <- read.csv(file.path(ref_dir, hs_csv))
  d <- hs[, paste0("x", 1:9)]
  d[matrix(runif(prod(dim(d))) < 0.10, nrow(d))] <- NA
  d$ageyr <- hs$ageyr
  d$sex <- hs$sex
  d$grade <- hs$grade
  d$school <- hs$school
  d$ageyr[sample(which(!is.na(d$grade)), 5)] <- NA
  write.csv(d, file.path(data_dir, "parity_fimlx_hs.csv"), row.names = FALSE, na = "")
})

fimlx_csv <- "data/parity_fimlx_hs.csv"
fimlx_mimic <- paste(
  "visual =~ x1 + x2 + x3",
  "textual =~ x4 + x5 + x6",
  "speed =~ x7 + x8 + x9",
  "visual ~ ageyr + sex",
  "textual ~ grade", sep = "\n")
fimlx_path <- paste(
  "x3 ~ x1 + ageyr + sex",
  "x6 ~ x3 + x4 + grade", sep = "\n")
fimlx_extra <- function(fit) list(
  logl_h0 = fitMeasures(fit, "logl"),
  ov_x = I(lavNames(fit, "ov.x")),
  sampstat_h1 = moments(lavInspect(fit, "sampstat.h1"))
)

list(
  case("fimlx_mimic_ml", "MIMIC model, FIML (missing = 'ml'), ML: cases with a missing covariate deleted",
       "sem", fimlx_mimic, fimlx_csv, args = list(missing = "ml", estimator = "ML"),
       extra = fimlx_extra),
  case("fimlx_mimic_mlr", "MIMIC model, FIML (missing = 'ml'), MLR",
       "sem", fimlx_mimic, fimlx_csv, args = list(missing = "ml", estimator = "MLR"),
       extra = fimlx_extra),
  case("fimlx_mimic_mlx", "MIMIC model, missing = 'ml.x' (covariates random in the likelihood), ML",
       "sem", fimlx_mimic, fimlx_csv, args = list(missing = "ml.x", estimator = "ML"),
       extra = fimlx_extra),
  case("fimlx_mimic_mlx_mlr", "MIMIC model, missing = 'ml.x', MLR",
       "sem", fimlx_mimic, fimlx_csv, args = list(missing = "ml.x", estimator = "MLR"),
       extra = fimlx_extra),
  case("fimlx_mimic_fixedx_false_mlr",
       "MIMIC model, FIML, fixed.x = FALSE (covariates' moments free; no case deleted), MLR",
       "sem", fimlx_mimic, fimlx_csv,
       args = list(missing = "ml", estimator = "MLR", fixed.x = FALSE), extra = fimlx_extra),
  case("fimlx_mimic_group_mlr", "MIMIC model by school, FIML (missing = 'ml'), MLR",
       "sem", fimlx_mimic, fimlx_csv,
       args = list(missing = "ml", estimator = "MLR", group = "school"), extra = fimlx_extra),
  case("fimlx_mimic_group_mlx", "MIMIC model by school, missing = 'ml.x', ML",
       "sem", fimlx_mimic, fimlx_csv,
       args = list(missing = "ml.x", estimator = "ML", group = "school"), extra = fimlx_extra),
  case("fimlx_path_ml", "path model with observed covariates, FIML (missing = 'ml'), ML",
       "sem", fimlx_path, fimlx_csv, args = list(missing = "ml", estimator = "ML"),
       extra = fimlx_extra),
  case("fimlx_path_mlx_mlr", "path model with observed covariates, missing = 'ml.x', MLR",
       "sem", fimlx_path, fimlx_csv, args = list(missing = "ml.x", estimator = "MLR"),
       extra = fimlx_extra)
)
