# Parity topic "structure": model structures lavaan fits and ckm-research refused
# or mishandled (tests/test_parity_structure.py).
#
# * higher-order factors: a factor measured by factors.  The first-order factors
#   are endogenous (lavaan's lav_partable_vnames: a latent variable that is an
#   indicator of another one is neither lv.x nor lv.y), so they get residual
#   variances and no free covariances (auto.cov.lv.x concerns g only);
# * observed product terms y ~ x1 + x2 + x1:x2: lavaan's lav_data_full adds the
#   raw product column "x1:x2" when both x1 and x2 are observed variables of the
#   model, and the product is an exogenous covariate (ov.x, fixed.x).
#
# * composites C <~ w1*x1 + ... (lavaan's lv.formative): a latent variable with
#   its (residual) variance fixed at 0 and the weights as regressions on the
#   variables forming it, which are exogenous covariates; lavaan 0.6.14 fixes no
#   weight, so the models fix the first one.
ho_model <- paste(hs_model, "g =~ visual + textual + speed", sep = "\n")
comp_pd <- "ind60 <~ 1*x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\ndem60 ~ ind60"
list(
  case("structure_higher_order_ml",
       "HS second-order CFA: g measured by visual, textual, speed (ML)",
       "cfa", ho_model, hs_csv),
  case("structure_higher_order_mlr",
       "HS second-order CFA (MLR: Huber-White SEs, Yuan-Bentler scaled test)",
       "cfa", ho_model, hs_csv, args = list(estimator = "MLR")),
  case("structure_higher_order_stdlv",
       "HS second-order CFA with std.lv = TRUE (all latent (residual) variances fixed at 1)",
       "cfa", ho_model, hs_csv, args = list(std.lv = TRUE)),
  case("structure_higher_order_sem",
       "HS second-order factor regressed on observed covariates (g ~ ageyr + sex, fixed.x)",
       "sem", paste(ho_model, "g ~ ageyr + sex", sep = "\n"), hs_csv),
  case("structure_higher_order_fiml",
       "HS second-order CFA on incomplete data (10% MCAR), FIML",
       "cfa", ho_model, "data/fiml_hs_missing.csv", args = list(missing = "ml")),
  case("structure_higher_order_wlsmv",
       "HS second-order CFA on the ordinal HS items (WLSMV, delta parameterization)",
       "cfa", ho_model, "data/ordinal_hs.csv",
       args = list(estimator = "WLSMV", ordered = c("x1", "x2", "x3", "x4", "x5", "x6",
                                                    "x7", "x8", "x9"))),
  case("structure_product_fiml",
       "Observed product term on incomplete data (10% MCAR): x9 ~ x1 + x2 + x1:x2, FIML",
       "sem", "x9 ~ x1 + x2 + x1:x2", "data/fiml_hs_missing.csv", args = list(missing = "ml")),
  case("structure_fiml_covariates",
       "FIML with fixed.x covariates that have missing values: lavaan deletes those cases",
       "sem", "visual =~ x1 + x2 + x3\nvisual ~ x4 + x5", "data/fiml_hs_missing.csv",
       args = list(missing = "ml")),
  case("structure_fiml_covariates_mlr",
       "Robust FIML (MLR) with fixed.x covariates that have missing values",
       "sem", "visual =~ x1 + x2 + x3\nvisual ~ x4 + x5", "data/fiml_hs_missing.csv",
       args = list(estimator = "MLR", missing = "ml")),
  case("structure_product_ml",
       "HS path model with an observed product term x9 ~ x1 + x2 + x1:x2 (ML)",
       "sem", "x9 ~ x1 + x2 + x1:x2", hs_csv),
  case("structure_product_mlr",
       "HS path model with an observed product term x9 ~ x1 + x2 + x1:x2 (MLR)",
       "sem", "x9 ~ x1 + x2 + x1:x2", hs_csv, args = list(estimator = "MLR")),
  case("structure_product_sem",
       "SEM with an observed product of covariates: speed ~ visual + ageyr + grade + ageyr:grade",
       "sem", paste("visual =~ x1 + x2 + x3", "speed =~ x7 + x8 + x9",
                    "speed ~ visual + ageyr + grade + ageyr:grade", sep = "\n"), hs_csv),
  case("structure_product_pd",
       "PoliticalDemocracy path model: a product of covariates predicts a mediator (y1 ~ x1 + x2 + x1:x2, y5 ~ y1 + x1)",
       "sem", "y1 ~ x1 + x2 + x1:x2\ny5 ~ y1 + x1", pd_csv),
  case("structure_saturated_path",
       "HS saturated regression x9 ~ x1 + x2 + x3 (df = 0: lavaan's RMSEA interval is [0, 0])",
       "sem", "x9 ~ x1 + x2 + x3", hs_csv),
  case("structure_composite_pd",
       "PoliticalDemocracy: ind60 as a composite (<~) of x1-x3, first weight fixed by the user",
       "sem", comp_pd, pd_csv),
  case("structure_composite_pd_mlr",
       "PoliticalDemocracy composite ind60 <~ 1*x1 + x2 + x3 (MLR)",
       "sem", comp_pd, pd_csv, args = list(estimator = "MLR")),
  case("structure_composite_pd_stdlv",
       "PoliticalDemocracy composite with std.lv = TRUE (lavaan then fixes the composite's variance at 1, not 0)",
       "sem", comp_pd, pd_csv, args = list(std.lv = TRUE)),
  case("structure_composite_hs",
       "HS: a composite of x1-x3 predicting two factors (residual covariance by auto.cov.y)",
       "sem", paste("visc <~ 1*x1 + x2 + x3", "textual =~ x4 + x5 + x6",
                    "speed =~ x7 + x8 + x9", "textual + speed ~ visc", sep = "\n"),
       hs_csv)
)
