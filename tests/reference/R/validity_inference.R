# Reference fixtures for the inferential validity checks of ckm_research.measurement
# (issue 12): HTMT and HTMT2 point estimates (semTools::htmt), factor-correlation
# confidence intervals and the constrained-CFA chi-square difference tests of
# Ronkko & Cho (2022) (lavaan cfa(std.lv = TRUE), correlation fixed at a cutoff,
# lavTestLRT), delta-method intervals of omega and AVE (lavaan := parameters),
# Feldt's interval of alpha (psych::alpha.ci), categorical omega of ordinal
# items fitted by WLSMV (semTools::compRelSEM, Green & Yang 2009), and full
# collinearity VIFs of regression factor scores (1 / (1 - R^2), Kock 2015).
#
# Run from the repository root:
#     Rscript tests/reference/R/validity_inference.R
# or: Rscript tests/reference/make_reference.R validity_inference
# It reads tests/reference/data/HolzingerSwineford1939.csv,
# tests/reference/data/ordinal_hs.csv and data/example/ckm_example.csv and writes
# tests/reference/json/validity_{htmt,cicfa,reliability,omega_cat,vif}.json.

local({
  suppressPackageStartupMessages({
    library(lavaan)
    library(semTools)
    library(psych)
    library(jsonlite)
  })
  root <- getwd()
  if (!file.exists(file.path(root, "tests", "reference", "R", "validity_inference.R")))
    stop("validity_inference.R: run it from the repository root")
  ref <- file.path(root, "tests", "reference")
  versions <- list(lavaan = as.character(packageVersion("lavaan")),
                   semTools = as.character(packageVersion("semTools")),
                   psych = as.character(packageVersion("psych")),
                   R = paste(R.version$major, R.version$minor, sep = "."))
  named <- function(x) as.list(setNames(as.numeric(x), names(x)))
  matrix_list <- function(m) {
    m <- unclass(m)
    out <- lapply(rownames(m), function(r) named(m[r, ]))
    names(out) <- rownames(m)
    out
  }
  write_fixture <- function(name, out) {
    out$name <- name
    out$generated_by <- "tests/reference/R/validity_inference.R"
    out$versions <- versions
    write_json(out, file.path(ref, "json", paste0("validity_", name, ".json")),
               digits = NA, auto_unbox = TRUE, pretty = FALSE)
  }

  hs <- read.csv(file.path(ref, "data", "HolzingerSwineford1939.csv"))
  hs_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
  ckm <- read.csv(file.path(root, "data", "example", "ckm_example.csv"))
  lav <- readLines(file.path(root, "ckm_research", "models", "ckm_study.lav"))
  lav <- sub("#.*$", "", lav)
  ckm_model <- paste(trimws(lav[grepl("=~", lav)]), collapse = "\n")

  # ---- 1. HTMT and HTMT2 (semTools 0.5.6: htmt2 = TRUE is the default) --------------
  write_fixture("htmt", list(
    call = "semTools::htmt(model, data, htmt2 = TRUE / FALSE) (missing = 'listwise')",
    hs = list(model = hs_model, data = "tests/reference/data/HolzingerSwineford1939.csv",
              htmt2 = matrix_list(htmt(hs_model, hs)),
              htmt = matrix_list(htmt(hs_model, hs, htmt2 = FALSE))),
    ckm = list(model = ckm_model, data = "data/example/ckm_example.csv",
               htmt2 = matrix_list(htmt(ckm_model, ckm)),
               htmt = matrix_list(htmt(ckm_model, ckm, htmt2 = FALSE)))
  ))

  # ---- 2. CICFA(sys) and chi2(sys) (Ronkko & Cho, 2022) -----------------------------
  lv_pairs <- function(fit) {
    pe <- parameterEstimates(fit, level = 0.95)
    lv <- lavNames(fit, "lv")
    pe <- pe[pe$op == "~~" & pe$lhs %in% lv & pe$rhs %in% lv & pe$lhs != pe$rhs, ]
    list(lhs = pe$lhs, rhs = pe$rhs, est = pe$est, se = pe$se,
         ci.lower = pe$ci.lower, ci.upper = pe$ci.upper)
  }
  constrained <- function(model, data, fit0, a, b, cutoffs, estimator) {
    lapply(cutoffs, function(cut) {
      m1 <- paste0(model, "\n", a, " ~~ ", cut, "*", b)
      fit1 <- cfa(m1, data = data, std.lv = TRUE, estimator = estimator)
      tab <- lavTestLRT(fit0, fit1)
      list(lhs = a, rhs = b, cutoff = cut, chisq = fitMeasures(fit1, "chisq")[[1]],
           chisq_diff = tab[["Chisq diff"]][2], df_diff = tab[["Df diff"]][2],
           pvalue = tab[["Pr(>Chisq)"]][2], method = attr(tab, "heading"))
    })
  }
  cut3 <- c(0.8, 0.9, 1)
  fit_hs <- cfa(hs_model, data = hs, std.lv = TRUE)
  hs_tests <- c(constrained(hs_model, hs, fit_hs, "visual", "textual", cut3, "ML"),
                constrained(hs_model, hs, fit_hs, "visual", "speed", cut3, "ML"),
                constrained(hs_model, hs, fit_hs, "textual", "speed", cut3, "ML"))
  fit_hs_mlr <- cfa(hs_model, data = hs, std.lv = TRUE, estimator = "MLR")
  hs_tests_mlr <- constrained(hs_model, hs, fit_hs_mlr, "visual", "textual", cut3, "MLR")
  fit_ckm <- cfa(ckm_model, data = ckm, std.lv = TRUE)
  ckm_pairs <- lv_pairs(fit_ckm)
  top <- order(-abs(ckm_pairs$est))[1:2]
  ckm_tests <- c(
    constrained(ckm_model, ckm, fit_ckm, ckm_pairs$lhs[top[1]], ckm_pairs$rhs[top[1]],
                c(0.8, 0.9), "ML"),
    constrained(ckm_model, ckm, fit_ckm, ckm_pairs$lhs[top[2]], ckm_pairs$rhs[top[2]],
                0.8, "ML"))
  write_fixture("cicfa", list(
    call = paste("cfa(model, data, std.lv = TRUE); parameterEstimates() rows lv ~~ lv;",
                 "the constrained model adds 'A ~~ cut*B'; lavTestLRT(fit, fit_constrained)"),
    hs = list(model = hs_model, nobs = lavInspect(fit_hs, "nobs"),
              chisq = fitMeasures(fit_hs, "chisq")[[1]],
              pairs = lv_pairs(fit_hs), tests = hs_tests,
              pairs_mlr = lv_pairs(fit_hs_mlr), tests_mlr = hs_tests_mlr),
    ckm = list(model = ckm_model, nobs = lavInspect(fit_ckm, "nobs"),
               chisq = fitMeasures(fit_ckm, "chisq")[[1]],
               pairs = ckm_pairs, tests = ckm_tests)
  ))

  # ---- 3. Reliability intervals -----------------------------------------------------
  # omega (model-implied denominator) and AVE as functions of the std.lv parameters,
  # with lavaan's delta-method SEs
  hs_labelled <- paste(
    "visual =~ l1*x1 + l2*x2 + l3*x3", "textual =~ l4*x4 + l5*x5 + l6*x6",
    "speed =~ l7*x7 + l8*x8 + l9*x9",
    paste0("x", 1:9, " ~~ t", 1:9, "*x", 1:9, collapse = "\n"),
    "omega_visual := (l1+l2+l3)^2 / ((l1+l2+l3)^2 + t1+t2+t3)",
    "omega_textual := (l4+l5+l6)^2 / ((l4+l5+l6)^2 + t4+t5+t6)",
    "omega_speed := (l7+l8+l9)^2 / ((l7+l8+l9)^2 + t7+t8+t9)",
    "ave_visual := (l1^2+l2^2+l3^2) / (l1^2+l2^2+l3^2 + t1+t2+t3)",
    "ave_textual := (l4^2+l5^2+l6^2) / (l4^2+l5^2+l6^2 + t4+t5+t6)",
    "ave_speed := (l7^2+l8^2+l9^2) / (l7^2+l8^2+l9^2 + t7+t8+t9)", sep = "\n")
  defined <- function(fit) {
    pe <- parameterEstimates(fit)
    pe <- pe[pe$op == ":=", ]
    list(name = pe$lhs, est = pe$est, se = pe$se, ci.lower = pe$ci.lower,
         ci.upper = pe$ci.upper)
  }
  fit_rel <- cfa(hs_labelled, data = hs, std.lv = TRUE)
  fit_rel_mlr <- cfa(hs_labelled, data = hs, std.lv = TRUE, estimator = "MLR")
  items <- list(visual = paste0("x", 1:3), textual = paste0("x", 4:6),
                speed = paste0("x", 7:9))
  feldt <- lapply(items, function(v) {
    a <- psych::alpha(hs[, v], check.keys = FALSE)$total$raw_alpha
    ci <- psych::alpha.ci(a, n.obs = nrow(hs), n.var = length(v), p.val = 0.05)
    list(alpha = a, lower = ci$lower.ci, upper = ci$upper.ci, n = nrow(hs), k = length(v))
  })
  write_fixture("reliability", list(
    call = paste("cfa(labelled model, std.lv = TRUE) with omega/ave := ...;",
                 "compRelSEM(fit, obs.var = FALSE); AVE(fit, obs.var = FALSE);",
                 "psych::alpha.ci(alpha, n.obs, n.var)"),
    model = hs_model,
    ml = defined(fit_rel), mlr = defined(fit_rel_mlr),
    omega_fitted = named(compRelSEM(fit_hs, obs.var = FALSE)),
    ave_fitted = named(AVE(fit_hs, obs.var = FALSE)),
    feldt = feldt
  ))

  # ---- 4. Categorical omega (Green & Yang, 2009) ------------------------------------
  ord <- read.csv(file.path(ref, "data", "ordinal_hs.csv"))
  fit_ord <- cfa(hs_model, data = ord, ordered = TRUE, estimator = "WLSMV")
  write_fixture("omega_cat", list(
    call = "cfa(model, ordinal_hs, ordered = TRUE, estimator = 'WLSMV'); compRelSEM(fit)",
    model = hs_model, data = "tests/reference/data/ordinal_hs.csv",
    omega = named(compRelSEM(fit_ord)),
    omega_fitted = named(compRelSEM(fit_ord, obs.var = FALSE)),
    omega_latent_scale = named(compRelSEM(fit_ord, ord.scale = FALSE))
  ))

  # ---- 5. Full collinearity VIFs of construct scores (Kock, 2015) ------------------
  vif_of <- function(scores) {
    scores <- as.data.frame(scores)
    sapply(names(scores), function(v) {
      r2 <- summary(lm(reformulate(setdiff(names(scores), v), v), data = scores))$r.squared
      1 / (1 - r2)
    })
  }
  fit_ckm_ml <- cfa(ckm_model, data = ckm)
  sc_ckm <- lavPredict(fit_ckm_ml, method = "regression")
  fit_hs_ml <- cfa(hs_model, data = hs)
  sc_hs <- lavPredict(fit_hs_ml, method = "regression")
  means_hs <- sapply(items, function(v) rowMeans(hs[, v]))
  write_fixture("vif", list(
    call = "1 / (1 - R^2) of lm(score ~ other scores), scores = lavPredict(cfa(model, data))",
    hs = list(vif = named(vif_of(sc_hs)), vif_item_means = named(vif_of(means_hs))),
    ckm = list(vif = named(vif_of(sc_ckm)), nobs = nrow(sc_ckm))
  ))
  invisible(NULL)
})
