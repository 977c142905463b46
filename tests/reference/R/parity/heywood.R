# Inadmissible solutions and what lavaan's summary() prints (lavaan parity, issue
# "Every failure a correct diagnosis").
# - heywood_ecsi_ml: the ECSI mobile-phone data (Tenenhaus et al., 2005) with
#   Satisfaction ~ Image + Expectation + Quality + Value and Loyalty ~ Satisfaction +
#   Image: Loyalty's residual variance is negative (a Heywood case, R² above 1, which
#   lavInspect(fit, "r2") gives as NA). The fixture keeps lavaan's warnings.
# - heywood_hs_listwise_mlr, heywood_hs_mlm, heywood_hs_fiml: the header of the
#   parameter table (standard errors, information, h1 model), the "Used / Total"
#   observations after listwise deletion, the baseline test and the robust RMSEA CI
#   as summary(fit, fit.measures = TRUE, standardized = TRUE) prints them.
# Each case stores that summary's text (extra$summary_text).
summary_text <- function(fit)
  list(summary_text = I(capture.output(summary(fit, fit.measures = TRUE,
                                               standardized = TRUE))))
ecsi_heywood_model <- paste(
  "Image        =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5",
  "Expectation  =~ CUEX1 + CUEX2 + CUEX3",
  "Quality      =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7",
  "Value        =~ PERV1 + PERV2",
  "Satisfaction =~ CUSA1 + CUSA2 + CUSA3",
  "Loyalty      =~ CUSL1 + CUSL2 + CUSL3",
  "Satisfaction ~ Image + Expectation + Quality + Value",
  "Loyalty      ~ Satisfaction + Image", sep = "\n")
list(
  case("heywood_ecsi_ml",
       "ECSI mobi (N = 250), six factors, Satisfaction on four and Loyalty on two: Loyalty's residual variance is negative (Heywood case), ML",
       "sem", ecsi_heywood_model, "data/ecsi_mobi.csv", list(estimator = "ML"),
       information = FALSE, extra = summary_text),
  case("heywood_hs_listwise_mlr",
       "HS 3-factor CFA on x1..x9 with 10% MCAR cells, listwise deletion (107 of 301 used), MLR",
       "cfa", hs_model, "data/fiml_hs_missing.csv", list(estimator = "MLR"),
       information = FALSE, extra = summary_text),
  case("heywood_hs_mlm", "HS 3-factor CFA, MLM (robust.sem SEs)",
       "cfa", hs_model, hs_csv, list(estimator = "MLM"),
       information = FALSE, extra = summary_text),
  case("heywood_hs_fiml", "HS 3-factor CFA with 10% MCAR cells, FIML (missing = ml), ML",
       "cfa", hs_model, "data/fiml_hs_missing.csv", list(estimator = "ML", missing = "ml"),
       information = FALSE, extra = summary_text)
)
