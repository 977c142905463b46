# lavResiduals() under FIML (missing = "ml"): with observed exogenous covariates
# (fixed.x = TRUE), with sampling weights, and robust (MLR) without covariates.
#
# lavaan 0.6.14 builds the residuals' asymptotic covariance (lav_residuals_acov,
# z.type = "standardized") from the saturated model's observed information with
# missing data (lav_mvnorm_missing_information_observed_samplestats), at the EM
# moments for the covariance of the sample moments (h1.acov = "unstructured") and
# at the model-implied ones for the projection Q; both with the covariates'
# means, variances and covariances zeroed (x.idx) and left out of the inverse,
# as is the first-order information of MLR (lav_mvnorm_missing_scores_mu_vech_sigma
# with x.idx and the sampling weights).
#
# Every case stores lavResiduals(fit) (cor.bentler) and resid(fit, type =
# "standardized") through run_case(); `extra` adds the "raw" and "cor.bollen"
# versions (z statistics and their summaries: rmr, crmr) and resid(fit, type =
# "normalized") (divided by the standard errors of the sample moments: lavaan's
# lav_model_h1_acov, the robust sandwich for MLR).  The complete-data cases
# check the normalized residuals without missing data.  Data written by other
# case files: parity_fimlx_hs.csv (fimlx.R), parity_weights_hs_missing.csv
# (weights.R); fiml_hs_missing.csv (engine.R).
resid_lavresiduals <- function(r) {
  one <- function(x) {
    out <- list(type = x$type)
    for (k in setdiff(names(x), c("type", "summary")))
      out[[k]] <- if (is.matrix(x[[k]])) json_ready(x[[k]]) else named_num(x[[k]])
    if (!is.null(x$summary)) out$summary <- json_ready(as.data.frame(x$summary))
    out
  }
  if (is.null(r$type)) lapply(r, one) else one(r)
}
resid_extra <- function(fit) list(
  lavResiduals_raw = resid_lavresiduals(lavResiduals(fit, type = "raw")),
  lavResiduals_cor_bollen = resid_lavresiduals(lavResiduals(fit, type = "cor.bollen")),
  resid_normalized = resid_lavresiduals(resid(fit, type = "normalized")),
  ov_x = I(lavNames(fit, "ov.x"))
)

resid_mimic <- paste(
  "visual =~ x1 + x2 + x3",
  "textual =~ x4 + x5 + x6",
  "speed =~ x7 + x8 + x9",
  "visual ~ ageyr + sex",
  "textual ~ grade", sep = "\n")
resid_weights_sem <- paste(hs_model, "visual ~ ageyr + sex", "speed ~ visual + textual",
                           sep = "\n")

list(
  case("resid_fimlx_mimic_ml",
       "MIMIC model with covariates ageyr, sex, grade (fixed.x), FIML (missing = 'ml'), ML: lavResiduals",
       "sem", resid_mimic, "data/parity_fimlx_hs.csv",
       args = list(missing = "ml", estimator = "ML"), information = FALSE,
       extra = resid_extra),
  case("resid_fimlx_mimic_mlr",
       "MIMIC model with covariates ageyr, sex, grade (fixed.x), FIML (missing = 'ml'), MLR: lavResiduals",
       "sem", resid_mimic, "data/parity_fimlx_hs.csv",
       args = list(missing = "ml", estimator = "MLR"), information = FALSE,
       extra = resid_extra),
  case("resid_fiml_hs_mlr",
       "HS 3-factor CFA, 10% MCAR, FIML (missing = 'ml'), MLR (robust FIML): lavResiduals",
       "cfa", hs_model, "data/fiml_hs_missing.csv",
       args = list(missing = "ml", estimator = "MLR"), information = FALSE,
       extra = resid_extra),
  case("resid_weights_sem_fiml_mlr",
       "HS SEM with covariates ageyr and sex (fixed.x), 10% MCAR, sampling.weights = 'w', MLR with missing = 'ml': lavResiduals",
       "sem", resid_weights_sem, "data/parity_weights_hs_missing.csv",
       args = list(missing = "ml", estimator = "MLR", sampling.weights = "w"),
       information = FALSE, extra = resid_extra),
  case("resid_hs_ml", "HS 3-factor CFA, complete data, ML: resid(type = 'normalized')",
       "cfa", hs_model, hs_csv, args = list(estimator = "ML"), information = FALSE,
       extra = resid_extra),
  case("resid_hs_mlr", "HS 3-factor CFA, complete data, MLR: resid(type = 'normalized')",
       "cfa", hs_model, hs_csv, args = list(estimator = "MLR"), information = FALSE,
       extra = resid_extra),
  case("resid_mimic_mlr",
       "MIMIC model with covariates (fixed.x), complete HS data (one case without grade deleted), MLR",
       "sem", resid_mimic, hs_csv, args = list(estimator = "MLR"), information = FALSE,
       extra = resid_extra)
)
