# Parity topic "groups": multiple-group models and df = 0 (lavaan parity issue).
#
#  * robust FIML with several groups (MLR + missing = "ml", and ML + missing = "ml"):
#    HS by school with 10% MCAR cells in x1..x9; the baseline model's scaling factor
#    is per group in lavaan;
#  * crmr / srmr variants with several groups (complete HS by school, ML and MLR);
#  * a just-identified model (df = 0): rmsea.ci.lower/upper, rmsea.pvalue, notclose;
#  * group.equal (every value lavaan has), group.partial and a label shared across
#    groups (c(a, a)*x2) on a structural model of HS by school.
#
# Writes tests/reference/data/parity_groups_hs_age3.csv (HS, all columns, and age3:
# three age groups) and parity_groups_hs_missing.csv (the same with about 10% of the
# x1..x9 cells blanked MCAR; set.seed(20261202)).

local({
  old_seed <- if (exists(".Random.seed", envir = globalenv()))
    get(".Random.seed", envir = globalenv()) else NULL
  on.exit(if (!is.null(old_seed)) assign(".Random.seed", old_seed, envir = globalenv()))
  set.seed(20261202)
  d <- read.csv(file.path(ref_dir, hs_csv))
  # three age groups for models with more than two groups: 11-12, 13, 14-16 years
  d$age3 <- ifelse(d$ageyr <= 12, "age11_12", ifelse(d$ageyr == 13, "age13", "age14_16"))
  write.csv(d, file.path(data_dir, "parity_groups_hs_age3.csv"), row.names = FALSE, na = "")
  xs <- paste0("x", 1:9)
  m <- d[, xs]
  m[matrix(runif(prod(dim(m))) < 0.10, nrow(m))] <- NA
  d[, xs] <- m
  write.csv(d, file.path(data_dir, "parity_groups_hs_missing.csv"), row.names = FALSE,
            na = "")
})
groups_missing_csv <- "data/parity_groups_hs_missing.csv"
groups_age3_csv <- "data/parity_groups_hs_age3.csv"

# HS with a structural part and a residual covariance
groups_sem_model <- paste(hs_model, "speed ~ visual + textual", "x1 ~~ x4", sep = "\n")
all_equal <- c("loadings", "intercepts", "regressions", "residuals",
               "residual.covariances", "lv.variances", "lv.covariances", "means")

list(
  # ---- 1. robust FIML, several groups -------------------------------------------------
  case("groups_hs_missing_mlr",
       "HS 3-factor CFA by school, 10% MCAR, MLR with missing = 'ml' (robust FIML)",
       "cfa", hs_model, groups_missing_csv,
       args = list(estimator = "MLR", missing = "ml", group = "school"),
       information = FALSE),
  case("groups_hs_missing_ml",
       "HS 3-factor CFA by school, 10% MCAR, ML with missing = 'ml' (FIML)",
       "cfa", hs_model, groups_missing_csv,
       args = list(estimator = "ML", missing = "ml", group = "school"),
       information = FALSE),
  # ---- 2. residual-based measures, several groups --------------------------------------
  case("groups_hs_ml", "HS 3-factor CFA by school, complete data, ML",
       "cfa", hs_model, hs_csv, args = list(estimator = "ML", group = "school"),
       information = FALSE),
  case("groups_hs_mlr", "HS 3-factor CFA by school, complete data, MLR",
       "cfa", hs_model, hs_csv, args = list(estimator = "MLR", group = "school"),
       information = FALSE),
  # ---- 3. df = 0 -----------------------------------------------------------------------
  case("groups_df0_ml", "just-identified one-factor model (x1, x2, x3), df = 0, ML",
       "cfa", "visual =~ x1 + x2 + x3", hs_csv, args = list(estimator = "ML")),
  case("groups_df0_mlr", "just-identified one-factor model (x1, x2, x3), df = 0, MLR",
       "cfa", "visual =~ x1 + x2 + x3", hs_csv, args = list(estimator = "MLR")),
  case("groups_df0_fiml",
       "just-identified one-factor model (x1, x2, x3), df = 0, ML with missing = 'ml'",
       "cfa", "visual =~ x1 + x2 + x3", groups_missing_csv,
       args = list(estimator = "ML", missing = "ml")),
  case("groups_df0_fiml_mlr",
       "just-identified one-factor model (x1, x2, x3), df = 0, MLR with missing = 'ml'",
       "cfa", "visual =~ x1 + x2 + x3", groups_missing_csv,
       args = list(estimator = "MLR", missing = "ml"), information = FALSE),
  case("groups_df0_ml_2g",
       "just-identified one-factor model (x1, x2, x3) by school, df = 0, ML",
       "cfa", "visual =~ x1 + x2 + x3", hs_csv, args = list(estimator = "ML", group = "school"),
       information = FALSE),
  # ---- 4. group.equal, group.partial, shared labels -------------------------------------
  case("groups_sem_free", "HS SEM (speed ~ visual + textual, x1 ~~ x4) by school, no equality",
       "sem", groups_sem_model, hs_csv, args = list(group = "school"), information = FALSE),
  case("groups_sem_load_int",
       "HS SEM by school, group.equal = loadings + intercepts (scalar)",
       "sem", groups_sem_model, hs_csv,
       args = list(group = "school", group.equal = c("loadings", "intercepts")),
       information = FALSE),
  case("groups_sem_all",
       "HS SEM by school, group.equal = every value but thresholds",
       "sem", groups_sem_model, hs_csv,
       args = list(group = "school", group.equal = all_equal), information = FALSE),
  case("groups_sem_regr_resid",
       "HS SEM by school, group.equal = loadings, regressions, residuals, residual.covariances",
       "sem", groups_sem_model, hs_csv,
       args = list(group = "school", group.equal = c("loadings", "regressions", "residuals",
                                                      "residual.covariances")),
       information = FALSE),
  case("groups_sem_lv",
       "HS SEM by school, group.equal = loadings, intercepts, means, lv.variances, lv.covariances",
       "sem", groups_sem_model, hs_csv,
       args = list(group = "school", group.equal = c("loadings", "intercepts", "means",
                                                      "lv.variances", "lv.covariances")),
       information = FALSE),
  case("groups_sem_lv_only",
       "HS SEM by school, group.equal = lv.variances, lv.covariances, regressions (no loadings)",
       "sem", groups_sem_model, hs_csv,
       args = list(group = "school", group.equal = c("lv.variances", "lv.covariances",
                                                      "regressions")),
       information = FALSE),
  case("groups_sem_partial",
       "HS SEM by school, group.equal = loadings + intercepts, group.partial = visual=~x2, x3~1",
       "sem", groups_sem_model, hs_csv,
       args = list(group = "school", group.equal = c("loadings", "intercepts"),
                   group.partial = c("visual=~x2", "x3~1")),
       information = FALSE),
  case("groups_sem_partial_mlr",
       "HS SEM by school, MLR, group.equal = all, group.partial = x1~~x4, speed~visual, x7~~x7",
       "sem", groups_sem_model, hs_csv,
       args = list(estimator = "MLR", group = "school", group.equal = all_equal,
                   group.partial = c("x1~~x4", "speed~visual", "x7~~x7")),
       information = FALSE),
  case("groups_shared_label",
       "HS CFA by school, one label in both groups: visual =~ x1 + c(a,a)*x2 + x3",
       "cfa", "visual =~ x1 + c(a,a)*x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9",
       hs_csv, args = list(group = "school"), information = FALSE),
  case("groups_fixed_one_group",
       "HS CFA by school, loadings equal, x2's loading fixed at 0.5 in group 1 only: c(0.5, NA)*x2",
       "cfa", "visual =~ x1 + c(0.5, NA)*x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9",
       hs_csv, args = list(group = "school", group.equal = "loadings"), information = FALSE),
  case("groups_stdlv_load",
       "HS CFA by school, std.lv = TRUE, group.equal = loadings (factor variances of group 2 free)",
       "cfa", hs_model, hs_csv,
       args = list(group = "school", std.lv = TRUE, group.equal = "loadings"),
       information = FALSE),
  case("groups_stdlv_load_int_lvvar",
       "HS CFA by school, std.lv = TRUE, group.equal = loadings, intercepts, lv.variances",
       "cfa", hs_model, hs_csv,
       args = list(group = "school", std.lv = TRUE,
                   group.equal = c("loadings", "intercepts", "lv.variances")),
       information = FALSE),
  case("groups_covariate_fixedx_false",
       "HS SEM by school with a covariate (visual + textual ~ ageyr), fixed.x = FALSE, group.equal = loadings, intercepts, residuals, residual.covariances, regressions",
       "sem", paste(hs_model, "visual ~ ageyr", "textual ~ ageyr", sep = "\n"), hs_csv,
       args = list(group = "school", fixed.x = FALSE,
                   group.equal = c("loadings", "intercepts", "residuals",
                                   "residual.covariances", "regressions")),
       information = FALSE),
  case("groups_covariate_fixedx",
       "HS SEM by school with a covariate (visual + textual ~ ageyr), fixed.x = TRUE, group.equal = loadings, intercepts, residuals, regressions",
       "sem", paste(hs_model, "visual ~ ageyr", "textual ~ ageyr", sep = "\n"), hs_csv,
       args = list(group = "school",
                   group.equal = c("loadings", "intercepts", "residuals", "regressions")),
       information = FALSE),
  case("groups_fiml_equal_partial",
       "HS CFA by school, 10% MCAR, MLR with missing = 'ml', group.equal = loadings + intercepts, group.partial = x3~1",
       "cfa", hs_model, groups_missing_csv,
       args = list(estimator = "MLR", missing = "ml", group = "school",
                   group.equal = c("loadings", "intercepts"), group.partial = "x3~1"),
       information = FALSE),
  case("groups_age3_missing_mlr",
       "HS 3-factor CFA by three age groups, 10% MCAR, MLR with missing = 'ml'",
       "cfa", hs_model, groups_missing_csv,
       args = list(estimator = "MLR", missing = "ml", group = "age3"), information = FALSE),
  case("groups_age3_equal",
       "HS SEM by three age groups, MLR, group.equal = loadings, intercepts, residuals, regressions, group.partial = x1~1, labels c(a,a,b)*x5",
       "sem", paste("visual =~ x1 + x2 + x3\ntextual =~ x4 + c(a,a,b)*x5 + x6",
                    "speed =~ x7 + x8 + x9\nspeed ~ visual + textual", sep = "\n"),
       groups_age3_csv,
       args = list(estimator = "MLR", group = "age3",
                   group.equal = c("loadings", "intercepts", "residuals", "regressions"),
                   group.partial = "x1~1"),
       information = FALSE),
  case("groups_shared_label_partial",
       "HS CFA by school, loadings equal but c(b1,b2)*x5 freed by distinct labels",
       "cfa", "visual =~ x1 + x2 + x3\ntextual =~ x4 + c(b1,b2)*x5 + x6\nspeed =~ x7 + x8 + x9",
       hs_csv, args = list(group = "school", group.equal = "loadings"), information = FALSE)
)
