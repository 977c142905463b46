# Parity topic "weights": sampling weights (lavaan's sampling.weights = "w").
#
# lavaan 0.6.14 with sampling.weights:
#  * rescales the weights to sum to the total N over all groups
#    (sampling.weights.normalization = "total", the default);
#  * weights the sample moments (cov.wt(method = "ML")) and counts the weighted N of
#    each group (the sum of its weights) in the objective and the test statistics;
#  * turns estimator = "ML" (and the default) into MLR: se = "robust.huber.white",
#    test = "yuan.bentler.mplus", with casewise weights in the first-order information;
#  * fits FIML (missing = "ml") with casewise weighted log-likelihoods.
#
# Writes tests/reference/data/parity_weights_hs.csv (HS, all columns, and a weight w
# depending on school and sex times a uniform draw; set.seed(20261203)) and
# parity_weights_hs_missing.csv (the same with about 10% of the x1..x9 cells blanked MCAR).

local({
  old_seed <- if (exists(".Random.seed", envir = globalenv()))
    get(".Random.seed", envir = globalenv()) else NULL
  on.exit(if (!is.null(old_seed)) assign(".Random.seed", old_seed, envir = globalenv()))
  set.seed(20261203)
  d <- read.csv(file.path(ref_dir, hs_csv))
  # over-represented Grant-White girls get small weights, Pasteur boys large ones
  base <- ifelse(d$school == "Pasteur", 1.4, 0.7) * ifelse(d$sex == 1, 1.25, 0.85)
  d$w <- round(base * runif(nrow(d), 0.5, 1.5), 4)
  write.csv(d, file.path(data_dir, "parity_weights_hs.csv"), row.names = FALSE, na = "")
  xs <- paste0("x", 1:9)
  m <- d[, xs]
  m[matrix(runif(prod(dim(m))) < 0.10, nrow(m))] <- NA
  d[, xs] <- m
  write.csv(d, file.path(data_dir, "parity_weights_hs_missing.csv"), row.names = FALSE,
            na = "")
})
weights_csv <- "data/parity_weights_hs.csv"
weights_missing_csv <- "data/parity_weights_hs_missing.csv"

# HS with a structural part and two observed covariates (fixed.x)
weights_sem_model <- paste(hs_model, "visual ~ ageyr + sex", "speed ~ visual + textual",
                           sep = "\n")

# the tools after fitting on a weighted fit: modindices(), lavPredict(), lavTestLRT()
# against a nested model (lavResiduals() is stored by every case)
weights_nested_model <- paste(hs_model, "visual ~~ 0*textual", sep = "\n")
weights_tools <- function(fit) {
  mi <- as.data.frame(modindices(fit))
  rownames(mi) <- NULL
  fit0 <- update(fit, model = weights_nested_model)
  lrt <- as.data.frame(lavTestLRT(fit, fit0))
  list(modindices = json_ready(mi),
       lavPredict = list(
         regression = json_ready(as.data.frame(lavPredict(fit, method = "regression"))),
         Bartlett = json_ready(as.data.frame(lavPredict(fit, method = "Bartlett")))),
       nested_model = weights_nested_model,
       lavTestLRT = list(rows = json_ready(lrt), rownames = I(rownames(lrt))))
}

list(
  # ---- one group -------------------------------------------------------------------
  case("weights_cfa_ml",
       "HS 3-factor CFA, sampling.weights = 'w', estimator = 'ML' (lavaan fits MLR)",
       "cfa", hs_model, weights_csv, args = list(estimator = "ML", sampling.weights = "w"),
       extra = weights_tools),
  case("weights_cfa_mlr", "HS 3-factor CFA, sampling.weights = 'w', estimator = 'MLR'",
       "cfa", hs_model, weights_csv, args = list(estimator = "MLR", sampling.weights = "w"),
       information = FALSE),
  case("weights_sem_mlr",
       "HS SEM with covariates ageyr and sex (fixed.x), sampling.weights = 'w', MLR",
       "sem", weights_sem_model, weights_csv,
       args = list(estimator = "MLR", sampling.weights = "w")),
  case("weights_cfa_eq_ml",
       "HS 3-factor CFA with a == b on two loadings, sampling.weights = 'w', ML (MLR): lavTestScore",
       "cfa", paste("visual =~ x1 + a*x2 + b*x3", "textual =~ x4 + x5 + x6",
                    "speed =~ x7 + x8 + x9", "a == b", sep = "\n"), weights_csv,
       args = list(estimator = "ML", sampling.weights = "w"), information = FALSE,
       extra = function(fit) {
         st <- lavTestScore(fit)
         list(lavTestScore = list(test = json_ready(as.data.frame(st$test)),
                                  uni = json_ready(as.data.frame(st$uni))))
       }),
  case("weights_cfa_listwise_mlr",
       "HS 3-factor CFA, 10% MCAR deleted listwise (weights of the complete cases normalized), MLR",
       "cfa", hs_model, weights_missing_csv,
       args = list(estimator = "MLR", sampling.weights = "w"), information = FALSE),
  # ---- two groups ------------------------------------------------------------------
  case("weights_cfa_mlr_2g",
       "HS 3-factor CFA by school, sampling.weights = 'w' (normalized over all groups), MLR",
       "cfa", hs_model, weights_csv,
       args = list(estimator = "MLR", sampling.weights = "w", group = "school"),
       information = FALSE),
  case("weights_sem_ml_2g",
       "HS SEM with covariates by school, equal loadings, sampling.weights = 'w', ML (MLR)",
       "sem", weights_sem_model, weights_csv,
       args = list(estimator = "ML", sampling.weights = "w", group = "school",
                   group.equal = "loadings"),
       information = FALSE),
  # ---- FIML --------------------------------------------------------------------------
  case("weights_cfa_fiml_mlr",
       "HS 3-factor CFA, 10% MCAR, sampling.weights = 'w', MLR with missing = 'ml'",
       "cfa", hs_model, weights_missing_csv,
       args = list(estimator = "MLR", missing = "ml", sampling.weights = "w"),
       extra = weights_tools),
  case("weights_sem_fiml_mlr",
       "HS SEM with covariates ageyr and sex (fixed.x), 10% MCAR in x1..x9, sampling.weights = 'w', MLR with missing = 'ml'",
       "sem", weights_sem_model, weights_missing_csv,
       args = list(estimator = "MLR", missing = "ml", sampling.weights = "w"),
       information = FALSE),
  case("weights_cfa_fiml_ml_2g",
       "HS 3-factor CFA by school, 10% MCAR, sampling.weights = 'w', ML with missing = 'ml'",
       "cfa", hs_model, weights_missing_csv,
       args = list(estimator = "ML", missing = "ml", sampling.weights = "w",
                   group = "school"),
       information = FALSE)
)
