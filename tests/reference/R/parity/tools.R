# Cases of the "tools after fitting" part of the lavaan parity issue:
# modindices(), lavTestScore(), lavPredict(), lavResiduals(), lavTestWald(),
# lavTestLRT().  Each case stores the tools' output in `extra`; the Python side
# (ckm_research.sem.diagnostics) is tested against it in
# tests/test_parity_tools.py.
mi_table <- function(fit, ...) {
  mi <- as.data.frame(modindices(fit, ...))
  rownames(mi) <- NULL
  json_ready(mi)
}
score_tables <- function(st) {
  out <- list(test = json_ready(as.data.frame(st$test)),
              uni = json_ready(as.data.frame(st$uni)))
  if (!is.null(st$cumulative)) out$cumulative <- json_ready(as.data.frame(st$cumulative))
  if (!is.null(st$epc)) out$epc <- json_ready(as.data.frame(st$epc))
  out
}
predict_tables <- function(fit) list(
  regression = json_ready(as.data.frame(lavPredict(fit, method = "regression"))),
  Bartlett = json_ready(as.data.frame(lavPredict(fit, method = "Bartlett"))))
lrt_table <- function(...) {
  t <- as.data.frame(lavTestLRT(...))
  out <- json_ready(t)
  list(rows = out, rownames = I(rownames(t)), method = attr(lavTestLRT(...), "heading"))
}
hs_labelled <- paste(
  "visual =~ x1 + l2*x2 + l3*x3",
  "textual =~ x4 + l5*x5 + l6*x6",
  "speed =~ x7 + l8*x8 + l9*x9", sep = "\n")
# a model nested in hs_model: equal loadings of x2 and x3, of x5 and x6
hs_nested <- paste(
  "visual =~ x1 + l2*x2 + l2*x3",
  "textual =~ x4 + l5*x5 + l5*x6",
  "speed =~ x7 + x8 + x9", sep = "\n")
hs_eq <- paste(
  "visual =~ x1 + a*x2 + a*x3",
  "textual =~ x4 + b*x5 + b*x6",
  "speed =~ x7 + x8 + x9", sep = "\n")
score_add <- "x7 ~~ x8\nvisual =~ x9\ntextual =~ x1"
hs_wald <- "l2 == l3; l5 == l6; l8 == 1"
pd_eq <- paste(
  "ind60 =~ x1 + x2 + x3",
  "dem60 =~ y1 + a*y2 + b*y3 + c*y4",
  "dem65 =~ y5 + a*y6 + b*y7 + c*y8",
  "dem60 ~ ind60",
  "dem65 ~ ind60 + dem60",
  "y1 ~~ y5",
  "y2 ~~ y4 + y6",
  "y3 ~~ y7",
  "y4 ~~ y8",
  "y6 ~~ y8", sep = "\n")
# explicit equality constraints between different labels, and a shared label
pd_explicit <- paste(
  "ind60 =~ x1 + x2 + x3",
  "dem60 =~ y1 + a*y2 + b*y3 + c*y4",
  "dem65 =~ y5 + d*y6 + e*y7 + c*y8",
  "dem60 ~ ind60",
  "dem65 ~ ind60 + dem60",
  "a == d",
  "e == b", sep = "\n")
# covariates (fixed.x): candidates that make a covariate endogenous
hs_cov <- paste(
  "visual =~ x1 + x2 + x3",
  "textual =~ x4 + x5 + x6",
  "visual ~ ageyr + sex",
  "textual ~ ageyr", sep = "\n")
hs_data <- read.csv(file.path(ref_dir, hs_csv))

tools_extra <- function(estimator) function(fit) {
  fit0 <- cfa(hs_nested, data = hs_data, estimator = estimator)
  list(modindices = mi_table(fit),
       modindices_sorted = mi_table(fit, sort. = TRUE, minimum.value = 10),
       modindices_power = mi_table(fit, power = TRUE),
       lavPredict = predict_tables(fit),
       lavTestWald = lavTestWald(fit, constraints = hs_wald)[c("stat", "df", "p.value", "se")],
       lavTestLRT = lrt_table(fit0, fit),
       lavTestLRT_sb2010 = lrt_table(fit0, fit, method = "satorra.bentler.2010"),
       lavTestScore_add = score_tables(lavTestScore(fit, add = score_add, cumulative = TRUE,
                                                    epc = TRUE)),
       score_add = score_add,
       nested_model = hs_nested,
       wald_constraints = hs_wald)
}

list(
  case("tools_hs_ml", "HS CFA (labelled loadings, no equalities), ML: modindices, lavPredict, lavTestWald, lavTestLRT",
       "cfa", hs_labelled, hs_csv, list(estimator = "ML"), extra = tools_extra("ML")),
  case("tools_hs_mlr", "HS CFA (labelled loadings, no equalities), MLR: modindices, lavTestWald, lavTestLRT (scaled)",
       "cfa", hs_labelled, hs_csv, list(estimator = "MLR"), extra = tools_extra("MLR")),
  case("tools_pd_eq_ml", "PoliticalDemocracy with equal loadings (labels a b c shared), ML: modindices, lavTestScore",
       "sem", pd_eq, pd_csv, list(estimator = "ML"),
       extra = function(fit) list(
         modindices = mi_table(fit),
         lavTestScore = score_tables(lavTestScore(fit, cumulative = TRUE, epc = TRUE)),
         lavPredict = predict_tables(fit))),
  case("tools_pd_explicit_eq_ml", "PoliticalDemocracy with constraints a == d, e == b and a shared label c, ML: lavTestScore",
       "sem", pd_explicit, pd_csv, list(estimator = "ML"),
       extra = function(fit) list(
         lavTestScore = score_tables(lavTestScore(fit, cumulative = TRUE)))),
  case("tools_hs_covariates_ml", "HS two factors regressed on ageyr and sex (fixed.x), ML: modindices",
       "sem", hs_cov, hs_csv, list(estimator = "ML"),
       extra = function(fit) list(modindices = mi_table(fit), lavPredict = predict_tables(fit))),
  case("tools_hs_ovreg_ml", "HS: an observed outcome regressed on a factor and a covariate (x4 ~ visual + x5), ML: modindices, lavPredict",
       "sem", "visual =~ x1 + x2 + x3\nx4 ~ visual + x5", hs_csv, list(estimator = "ML"),
       extra = function(fit) list(modindices = mi_table(fit), lavPredict = predict_tables(fit))),
  case("tools_ordinal_wlsmv", "HS items cut into ordinal categories (ordinal_hs.csv), labelled loadings, WLSMV: lavTestWald, modindices, lavTestScore(add = ), lavPredict (EBM)",
       "cfa", hs_labelled, "data/ordinal_hs.csv",
       list(estimator = "WLSMV", ordered = paste0("x", 1:9)),
       extra = function(fit) list(
         lavTestWald = lavTestWald(fit, constraints = hs_wald)[c("stat", "df", "p.value", "se")],
         wald_constraints = hs_wald,
         modindices = mi_table(fit),
         lavTestScore_add = score_tables(lavTestScore(fit, add = score_add, cumulative = TRUE)),
         score_add = score_add,
         lavPredict = list(EBM = json_ready(as.data.frame(lavPredict(fit)))))),
  case("tools_hs_orth_ml", "HS CFA with factor covariances fixed at 0, ML: modindices with cov.std = TRUE and FALSE",
       "cfa", paste(hs_model, "visual ~~ 0*textual + 0*speed\ntextual ~~ 0*speed", sep = "\n"),
       hs_csv, list(estimator = "ML"),
       extra = function(fit) list(modindices = mi_table(fit),
                                  modindices_covstd_false = mi_table(fit, cov.std = FALSE))),
  case("tools_hs_mg_loadings", "HS CFA by school (two groups), group.equal = loadings, ML: modindices, lavTestScore",
       "cfa", hs_model, hs_csv, list(estimator = "ML", group = "school", group.equal = "loadings"),
       extra = function(fit) list(
         modindices = mi_table(fit),
         lavTestScore = score_tables(lavTestScore(fit, cumulative = TRUE)),
         lavTestScore_add = score_tables(lavTestScore(fit, add = score_add, cumulative = TRUE)),
         score_add = score_add,
         lavPredict = lapply(lavPredict(fit), function(m) json_ready(as.data.frame(m))))),
  case("tools_hs_fiml_eq", "HS CFA with equal loadings (labels a b shared), 10% MCAR cells, FIML: lavTestScore, modindices",
       "cfa", hs_eq, "data/fiml_hs_missing.csv", list(estimator = "ML", missing = "ml"),
       extra = function(fit) list(
         modindices = mi_table(fit),
         lavTestScore = score_tables(lavTestScore(fit, cumulative = TRUE)))),
  case("tools_hs_fiml", "HS CFA, x1..x9 with 10% MCAR cells, FIML (missing = ml): lavPredict, modindices",
       "cfa", hs_model, "data/fiml_hs_missing.csv", list(estimator = "ML", missing = "ml"),
       extra = function(fit) list(
         modindices = mi_table(fit),
         lavPredict = predict_tables(fit)))
)
