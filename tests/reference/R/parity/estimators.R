# lavaan's single-level estimators beside ML, MLR, FIML and WLSMV, each with
# lavaan's default se and test (lavaan 0.6.14, lav_options.R):
#   MLM    ML + se "robust.sem" + test "satorra.bentler"
#   MLMV   ML + se "robust.sem" + test "scaled.shifted"
#   MLMVS  ML + se "robust.sem" + test "mean.var.adjusted"
#   GLS, ULS, WLS, DWLS on continuous data: se "standard", test "standard"
#   ordered data: DWLS, ULS, WLS (se "standard", test "standard"),
#   WLSM (DWLS + robust.sem + satorra.bentler), ULSMV (ULS + robust.sem +
#   scaled.shifted).
# Data: Holzinger-Swineford (continuous), ordinal_hs.csv (HS cut into ordered
# categories by R/ordinal.R, three cases with a missing value: listwise) and
# PoliticalDemocracy (N = 75) for MLM.
ord_csv <- "data/ordinal_hs.csv"
cont <- function(est, fun = "cfa", model = hs_model, csv = hs_csv, name = NULL, args = list())
  case(if (is.null(name)) paste0("estimators_hs_", tolower(est)) else name,
       sprintf("%s, estimator = \"%s\"", if (identical(csv, hs_csv)) "HS 3-factor CFA"
               else "PoliticalDemocracy SEM", est),
       fun, model, csv, args = c(list(estimator = est), args))
ord <- function(est)
  case(paste0("estimators_ord_", tolower(est)),
       sprintf("ordinal HS 3-factor CFA (ordered = TRUE), estimator = \"%s\"", est),
       "cfa", hs_model, ord_csv, args = list(estimator = est, ordered = TRUE))
# the Satorra-Bentler (2001) scaled difference test lavaan's lavTestLRT does for MLM
# fits (its default method for the satorra.bentler test), against a restricted model
lrt_mlm <- function(fit) {
  d <- read.csv(file.path(ref_dir, hs_csv))
  restricted <- cfa(paste0(hs_model, "\nvisual ~~ 0*speed"), d, estimator = "MLM")
  lrt <- lavTestLRT(restricted, fit)
  list(lrt_restricted_model = paste0(hs_model, "\nvisual ~~ 0*speed"),
       lrt = json_ready(as.data.frame(lrt)),
       lrt_restricted_fit = named_num(fitMeasures(restricted)))
}
list(
  case("estimators_hs_mlm", "HS 3-factor CFA, estimator = \"MLM\"", "cfa", hs_model, hs_csv,
       args = list(estimator = "MLM"), extra = lrt_mlm),
  cont("MLMV"),
  cont("MLMVS"),
  cont("MLM", fun = "sem", model = pd_model, csv = pd_csv, name = "estimators_pd_mlm"),
  ord("WLSM"),
  ord("ULSMV"),
  ord("DWLS"),
  ord("ULS"),
  ord("WLS"),
  ord("ULSM"),
  ord("WLSMVS"),
  ord("ULSMVS"),
  cont("GLS"),
  cont("ULS"),
  cont("WLS"),
  cont("DWLS"),
  # the robust least-squares shortcuts on continuous items (robust.sem SEs)
  cont("WLSMV"),
  cont("WLSM"),
  cont("ULSMV"),
  cont("ULSM"),
  cont("WLSMVS"),
  cont("ULSMVS"),
  cont("GLS", fun = "sem", model = pd_model, csv = pd_csv, name = "estimators_pd_gls"),
  cont("ULS", model = paste0(hs_model, "\nspeed ~ ageyr"), name = "estimators_hs_cov_uls"),
  cont("WLS", model = paste0(hs_model, "\nspeed ~ ageyr"), name = "estimators_hs_cov_wls"),
  cont("MLM", model = paste0(hs_model, "\nspeed ~ ageyr"), name = "estimators_hs_cov_mlm"),
  # a weakly determined WLS solution (visual's x3 loading 4.5, SE 4.4) that a plain
  # Gauss-Newton line search does not reach
  cont("WLS", model = paste0(hs_model, "\nvisual ~ ageyr"), name = "estimators_hs_flat_wls"),
  cont("GLS", model = paste0(hs_model, "\nx1 ~ 1\nx4 ~ 1"), name = "estimators_hs_means_gls"),
  cont("MLMV", model = paste0(hs_model, "\nx1 ~ 1\nx4 ~ 1"), name = "estimators_hs_means_mlmv"),
  # several groups (needs the multiple-group lavResiduals of R/lib/fixture_tools.R)
  cont("MLM", name = "estimators_hs_group_mlm", args = list(group = "school")),
  cont("MLMV", name = "estimators_hs_group_mlmv", args = list(group = "school")),
  cont("GLS", name = "estimators_hs_group_gls", args = list(group = "school")),
  cont("ULS", name = "estimators_hs_group_uls", args = list(group = "school"))
)
