# Parity topic "means": mean structures as lavaan users write them (lavaan parity issue).
#
#  * a latent mean the user writes (f ~ 1) is free: lavaan's int.lv.free = FALSE fixes
#    only the latent means it adds itself (HS CFA with visual ~ 1 and x1 ~ 0*1,
#    ML and MLR);
#  * growth(): lavaan's linear growth model of Demo.growth (model.type "growth":
#    meanstructure = TRUE, int.ov.free = FALSE, int.lv.free = TRUE), ML, MLR and
#    FIML, with and without the tutorial's covariates (time-invariant x1, x2 and
#    time-varying c1..c4); the same models written out in full for sem();
#  * everyday options: meanstructure = TRUE, orthogonal = TRUE, std.ov = TRUE.
#
# Writes tests/reference/data/parity_means_demo_growth.csv (lavaan's Demo.growth, 400
# rows, t1..t4 x1 x2 c1..c4) and parity_means_demo_growth_missing.csv (the same with
# about 10% of the t1..t4 cells blanked MCAR; set.seed(20261203)) and
# parity_means_demo_growth_groups.csv (Demo.growth with grp = "a", "b" on alternate rows).

local({
  old_seed <- if (exists(".Random.seed", envir = globalenv()))
    get(".Random.seed", envir = globalenv()) else NULL
  on.exit(if (!is.null(old_seed)) assign(".Random.seed", old_seed, envir = globalenv()))
  write.csv(lavaan::Demo.growth, file.path(data_dir, "parity_means_demo_growth.csv"),
            row.names = FALSE, na = "")
  set.seed(20261203)
  d <- read.csv(file.path(data_dir, "parity_means_demo_growth.csv"))
  ts <- paste0("t", 1:4)
  m <- d[, ts]
  m[matrix(runif(prod(dim(m))) < 0.10, nrow(m))] <- NA
  d[, ts] <- m
  write.csv(d, file.path(data_dir, "parity_means_demo_growth_missing.csv"),
            row.names = FALSE, na = "")
  d <- read.csv(file.path(data_dir, "parity_means_demo_growth.csv"))
  d$grp <- rep(c("a", "b"), length.out = nrow(d))
  write.csv(d, file.path(data_dir, "parity_means_demo_growth_groups.csv"),
            row.names = FALSE, na = "")
})
means_growth_csv <- "data/parity_means_demo_growth.csv"
means_growth_missing_csv <- "data/parity_means_demo_growth_missing.csv"
means_growth_groups_csv <- "data/parity_means_demo_growth_groups.csv"

# lavaan tutorial (https://lavaan.ugent.be/tutorial/growth.html)
means_growth <- paste("i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4",
                      "s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4", sep = "\n")
means_growth_cov <- paste(means_growth,
                          "i ~ x1 + x2", "s ~ x1 + x2",
                          "t1 ~ c1", "t2 ~ c2", "t3 ~ c3", "t4 ~ c4", sep = "\n")
# what growth() adds, written out for sem(): free latent means, observed intercepts at 0
means_written <- paste("i ~ 1", "s ~ 1", "t1 ~ 0*1", "t2 ~ 0*1", "t3 ~ 0*1", "t4 ~ 0*1",
                       sep = "\n")
# the auto.* options lavaan's sem() sets before calling lavaan()
means_sem_auto <- list(auto.fix.first = TRUE, auto.fix.single = TRUE, auto.var = TRUE,
                       auto.cov.lv.x = TRUE, auto.cov.y = TRUE, auto.th = TRUE,
                       auto.delta = TRUE, auto.efa = TRUE)
means_hs_x <- paste("visual =~ x1 + x2 + x3", "visual ~ ageyr + grade", sep = "\n")
means_hs_latent <- paste(hs_model, "visual ~ 1", "x1 ~ 0*1", sep = "\n")

list(
  # ---- 1. a latent mean written by the user is free ------------------------------------
  case("means_hs_latent_mean_ml",
       "HS 3-factor CFA with a free latent mean (visual ~ 1) identified by x1 ~ 0*1, ML",
       "sem", means_hs_latent, hs_csv, args = list(estimator = "ML")),
  case("means_hs_latent_mean_mlr",
       "HS 3-factor CFA with a free latent mean (visual ~ 1) identified by x1 ~ 0*1, MLR",
       "sem", means_hs_latent, hs_csv, args = list(estimator = "MLR")),
  case("means_growth_written_ml",
       "linear growth model of Demo.growth written out for sem(): i ~ 1, s ~ 1, t ~ 0*1, ML",
       "sem", paste(means_growth, means_written, sep = "\n"), means_growth_csv,
       args = list(estimator = "ML")),
  case("means_growth_cov_written_ml",
       "growth model with covariates x1 x2 (on i, s) and c1..c4 (on t1..t4) written out for sem(), ML",
       "sem", paste(means_growth_cov, means_written, sep = "\n"), means_growth_csv,
       args = list(estimator = "ML")),
  case("means_growth_cov_written_mlr",
       "the same written-out growth model with covariates, MLR (fixed-x means in the baseline)",
       "sem", paste(means_growth_cov, means_written, sep = "\n"), means_growth_csv,
       args = list(estimator = "MLR")),
  # ---- 2. growth() -----------------------------------------------------------------------
  case("means_growth_ml", "lavaan's growth(): linear growth model of Demo.growth, ML",
       "growth", means_growth, means_growth_csv, args = list(estimator = "ML")),
  case("means_growth_mlr", "lavaan's growth(): linear growth model of Demo.growth, MLR",
       "growth", means_growth, means_growth_csv, args = list(estimator = "MLR")),
  case("means_growth_cov_ml",
       "growth() with time-invariant x1 x2 and time-varying c1..c4 covariates, ML",
       "growth", means_growth_cov, means_growth_csv, args = list(estimator = "ML")),
  case("means_growth_cov_mlr",
       "growth() with time-invariant x1 x2 and time-varying c1..c4 covariates, MLR",
       "growth", means_growth_cov, means_growth_csv, args = list(estimator = "MLR")),
  case("means_growth_fiml",
       "growth(): linear growth model, Demo.growth with 10% MCAR in t1..t4, ML, missing = 'ml'",
       "growth", means_growth, means_growth_missing_csv,
       args = list(estimator = "ML", missing = "ml")),
  case("means_growth_fiml_mlr",
       "growth(): linear growth model, Demo.growth with 10% MCAR in t1..t4, MLR, missing = 'ml'",
       "growth", means_growth, means_growth_missing_csv,
       args = list(estimator = "MLR", missing = "ml")),
  case("means_growth_groups_ml",
       "growth() in two groups (alternate rows of Demo.growth), ML",
       "growth", means_growth, means_growth_groups_csv,
       args = list(estimator = "ML", group = "grp")),
  case("means_growth_groups_means_mlr",
       "growth() in two groups with group.equal = 'means' (equal growth-factor means), MLR",
       "growth", means_growth, means_growth_groups_csv,
       args = list(estimator = "MLR", group = "grp", group.equal = "means")),
  # ---- 3. everyday options ---------------------------------------------------------------
  case("means_hs_meanstructure_ml", "HS 3-factor CFA with meanstructure = TRUE, ML",
       "cfa", hs_model, hs_csv, args = list(estimator = "ML", meanstructure = TRUE)),
  case("means_hs_meanstructure_mlr", "HS 3-factor CFA with meanstructure = TRUE, MLR",
       "cfa", hs_model, hs_csv, args = list(estimator = "MLR", meanstructure = TRUE)),
  case("means_hs_orthogonal_ml", "HS 3-factor CFA with orthogonal = TRUE, ML",
       "cfa", hs_model, hs_csv, args = list(estimator = "ML", orthogonal = TRUE)),
  case("means_pd_orthogonal_ml",
       "Political Democracy SEM with orthogonal = TRUE (one exogenous factor: no change), ML",
       "sem", pd_model, pd_csv, args = list(estimator = "ML", orthogonal = TRUE)),
  case("means_hs_orthogonal_sem_ml",
       "HS with textual ~ visual, speed ~ visual and orthogonal = TRUE (the residual covariance of textual and speed is fixed at 0), ML",
       "sem", paste(hs_model, "textual ~ visual", "speed ~ visual", sep = "\n"), hs_csv,
       args = list(estimator = "ML", orthogonal = TRUE)),
  # cfa() and sem() overwrite int.ov.free and int.lv.free (TRUE, FALSE) whatever the
  # user passes: only lavaan() honours them (its own default is int.ov.free = FALSE),
  # here with sem()'s auto.* defaults
  case("means_hs_int_lv_free_ml",
       "HS CFA, marker intercepts x1 x4 x7 ~ 0*1 and int.lv.free = TRUE (free factor means), lavaan() with sem()'s defaults, ML",
       "lavaan", paste(hs_model, "x1 ~ 0*1", "x4 ~ 0*1", "x7 ~ 0*1", sep = "\n"), hs_csv,
       args = c(list(estimator = "ML", int.ov.free = TRUE, int.lv.free = TRUE),
                means_sem_auto)),
  case("means_hs_int_ov_free_ml",
       "HS CFA with meanstructure = TRUE and int.ov.free = FALSE (intercepts fixed at 0), lavaan() with sem()'s defaults, ML",
       "lavaan", hs_model, hs_csv,
       args = c(list(estimator = "ML", meanstructure = TRUE, int.ov.free = FALSE),
                means_sem_auto)),
  case("means_hs_std_ov_ml", "HS 3-factor CFA with std.ov = TRUE, ML",
       "cfa", hs_model, hs_csv, args = list(estimator = "ML", std.ov = TRUE)),
  case("means_hs_std_ov_x_ml",
       "visual factor regressed on ageyr and grade with std.ov = TRUE: the fixed-x covariates keep their scale, ML",
       "sem", means_hs_x, hs_csv, args = list(estimator = "ML", std.ov = TRUE),
       # lavaan 0.6.14's baseline model is off here (baseline.chisq 4121 where the
       # scale-free value is 135): keep the fit without std.ov to compare with
       extra = function(fit) list(fit_without_std_ov = named_num(fitMeasures(
         sem(means_hs_x, data = read.csv(file.path(ref_dir, hs_csv)), estimator = "ML"))))),
  case("means_hs_std_ov_x_free_ml",
       "the same with fixed.x = FALSE: the covariates are standardized too, ML",
       "sem", means_hs_x, hs_csv, args = list(estimator = "ML", std.ov = TRUE, fixed.x = FALSE)),
  case("means_hs_std_ov_mlr", "HS 3-factor CFA with std.ov = TRUE and a mean structure, MLR",
       "cfa", hs_model, hs_csv,
       args = list(estimator = "MLR", std.ov = TRUE, meanstructure = TRUE))
)
