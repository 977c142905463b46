# Reference fixtures for ckm_research.measurement: reliability (psych::alpha,
# semTools::compRelSEM, semTools::AVE), discriminant validity (semTools::htmt,
# Fornell-Larcker), common-method checks (Harman, ULMC, CFA marker technique,
# Lindell-Whitney), factor scores and the invariance sequence with lavaan's
# chi-square difference tests and Wald tests of path equality.
#
# Run standalone from the repository root:
#     Rscript tests/reference/R/measurement.R
# or source() it from tests/reference/make_reference.R.  It writes
#     tests/reference/data/measurement_<name>.csv   (the very data R saw)
#     tests/reference/json/measurement_<name>.json  (the R results)
# Everything is done inside local() so that sourcing it leaves no objects
# behind; the global random-number state is restored afterwards.
#
# Versions used for the committed fixtures: lavaan 0.6.14, semTools 0.5.6,
# psych (Debian's R packages); each JSON records the versions it was made with.

local({
  suppressPackageStartupMessages({
    library(lavaan)
    library(semTools)
    library(psych)
    library(jsonlite)
  })

  # ---- where to read and write --------------------------------------------------
  find_reference_dir <- function() {
    is_ref <- function(d) length(d) == 1L && !is.na(d) &&
      file.exists(file.path(d, "R", "measurement.R"))
    cand <- character(0)
    for (i in rev(seq_len(sys.nframe()))) {
      of <- sys.frame(i)$ofile
      if (!is.null(of)) cand <- c(cand, dirname(dirname(normalizePath(of))))
    }
    args <- commandArgs(trailingOnly = FALSE)
    f <- sub("^--file=", "", args[grepl("^--file=", args)])
    if (length(f) == 1L) {
      f <- normalizePath(f)
      cand <- c(cand, dirname(dirname(f)), dirname(f))
    }
    cand <- c(cand, file.path(getwd(), "tests", "reference"), getwd(),
              file.path(getwd(), "reference"))
    for (d in cand) if (is_ref(d)) return(normalizePath(d))
    stop("measurement.R: cannot find tests/reference; run it from the repository root")
  }
  ref_dir <- find_reference_dir()
  data_dir <- file.path(ref_dir, "data")
  json_dir <- file.path(ref_dir, "json")
  dir.create(data_dir, showWarnings = FALSE, recursive = TRUE)
  dir.create(json_dir, showWarnings = FALSE, recursive = TRUE)
  # the real survey data (seminr's mobi, converted to CSV): repository root/../shared
  ecsi_candidates <- c(
    Sys.getenv("CKM_ECSI_CSV", unset = NA),
    file.path(data_dir, "ecsi_mobi.csv"),
    file.path(ref_dir, "..", "..", "..", "shared", "data", "real", "ecsi_mobi.csv"),
    "/work/shared/data/real/ecsi_mobi.csv"
  )
  ecsi_candidates <- ecsi_candidates[!is.na(ecsi_candidates) & file.exists(ecsi_candidates)]

  old_seed <- if (exists(".Random.seed", envir = globalenv())) get(".Random.seed", envir = globalenv()) else NULL
  on.exit({
    if (is.null(old_seed)) {
      if (exists(".Random.seed", envir = globalenv())) rm(".Random.seed", envir = globalenv())
    } else {
      assign(".Random.seed", old_seed, envir = globalenv())
    }
  }, add = TRUE)

  versions <- list(
    lavaan = as.character(packageVersion("lavaan")),
    semTools = as.character(packageVersion("semTools")),
    psych = as.character(packageVersion("psych")),
    R = paste(R.version$major, R.version$minor, sep = ".")
  )

  # ---- helpers ------------------------------------------------------------------
  fm_names <- c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr",
                "aic", "bic", "chisq.scaled", "df.scaled", "pvalue.scaled",
                "chisq.scaling.factor", "cfi.robust", "tli.robust", "rmsea.robust")
  fit_list <- function(fit) {
    fm <- fitMeasures(fit)
    keep <- intersect(fm_names, names(fm))
    lapply(as.list(fm[keep]), as.numeric)
  }
  named <- function(x) as.list(setNames(as.numeric(x), names(x)))
  matrix_list <- function(m) {
    m <- unclass(m)
    out <- lapply(rownames(m), function(r) named(m[r, ]))
    names(out) <- rownames(m)
    out
  }
  pe_list <- function(fit) {
    pe <- parameterEstimates(fit, standardized = TRUE)
    cols <- intersect(c("lhs", "op", "rhs", "group", "label", "est", "se", "std.all"),
                      names(pe))
    pe <- pe[pe$op %in% c("=~", "~", "~~", "~1"), cols]
    as.list(pe)
  }
  lrt_list <- function(...) {
    tab <- lavTestLRT(...)
    list(
      model_df = as.numeric(tab[["Df"]]),
      chisq = as.numeric(tab[["Chisq"]]),
      chisq_diff = as.numeric(tab[["Chisq diff"]]),
      df_diff = as.numeric(tab[["Df diff"]]),
      pvalue = as.numeric(tab[["Pr(>Chisq)"]]),
      rmsea_diff = if ("RMSEA" %in% names(tab)) as.numeric(tab[["RMSEA"]]) else NULL,
      method = sub(".*method = .(.*).\\)\n.*", "\\1", attr(tab, "heading"))
    )
  }
  psych_alpha <- function(d, items) {
    a <- suppressWarnings(suppressMessages(psych::alpha(d[, items], check.keys = FALSE)))
    c(raw = a$total$raw_alpha, std = a$total$std.alpha)
  }
  factor_items <- function(model) {
    pt <- lavaanify(model)
    pt <- pt[pt$op == "=~", ]
    split(pt$rhs, factor(pt$lhs, levels = unique(pt$lhs)))
  }
  # everything measurement quality needs from one fitted CFA/SEM
  quality <- function(fit, model, d) {
    items <- factor_items(model)
    al <- sapply(names(items), function(f) psych_alpha(d, items[[f]]))
    std <- standardizedSolution(fit)
    std <- std[std$op == "=~", c("lhs", "rhs", "est.std", "se", "pvalue")]
    list(
      alpha_psych = named(al["raw", ]),
      alpha_psych_std = named(al["std", ]),
      alpha_semtools = named(compRelSEM(fit, tau.eq = TRUE)),
      omega = named(compRelSEM(fit)),
      omega_fitted = named(compRelSEM(fit, obs.var = FALSE)),
      ave = named(AVE(fit)),
      ave_fitted = named(AVE(fit, obs.var = FALSE)),
      htmt2 = matrix_list(htmt(model, d)),
      htmt = matrix_list(htmt(model, d, htmt2 = FALSE)),
      cor_lv = matrix_list(lavInspect(fit, "cor.lv")),
      std_loadings = as.list(std),
      fit = fit_list(fit)
    )
  }
  write_fixture <- function(name, out) {
    out$name <- name
    out$generated_by <- "tests/reference/R/measurement.R"
    out$versions <- versions
    write_json(out, file.path(json_dir, paste0("measurement_", name, ".json")),
               digits = NA, auto_unbox = TRUE, pretty = FALSE)
  }
  save_csv <- function(d, name) {
    csv <- file.path(data_dir, paste0("measurement_", name, ".csv"))
    write.csv(d, csv, row.names = FALSE, na = "")
    read.csv(csv)  # R computes on exactly what Python will read
  }

  # ---- 1. Holzinger & Swineford (1939): 3-factor CFA ------------------------------
  hs <- HolzingerSwineford1939
  hs <- save_csv(data.frame(id = hs$id, school = as.character(hs$school),
                            hs[, paste0("x", 1:9)]), "hs")
  hs_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
  fit_hs <- cfa(hs_model, data = hs)
  q_hs <- quality(fit_hs, hs_model, hs)

  # the same factors with a structural part: omega and AVE use the model-implied
  # covariance matrix of the factors (lavInspect "cov.lv"), not Psi
  hs_sem <- paste(hs_model, "textual ~ visual", "speed ~ visual + textual", sep = "\n")
  fit_hs_sem <- sem(hs_sem, data = hs)

  # Harman's single-factor test: first unrotated principal component of the
  # item correlations, and a one-factor CFA against the trait model
  items_hs <- paste0("x", 1:9)
  ev <- eigen(cor(hs[, items_hs]), symmetric = TRUE, only.values = TRUE)$values
  one_model <- paste("general =~", paste(items_hs, collapse = " + "))
  fit_one <- cfa(one_model, data = hs)

  # regression factor scores (lavPredict default) and the median split of one
  scores <- lavPredict(fit_hs, method = "regression")
  speed <- as.numeric(scores[, "speed"])
  mean_speed <- rowMeans(hs[, c("x7", "x8", "x9")])

  write_fixture("hs", c(
    list(
      data_csv = "data/measurement_hs.csv",
      model = hs_model,
      call = "cfa(model, data); compRelSEM(fit); AVE(fit); htmt(model, data)",
      nobs = lavInspect(fit_hs, "nobs"),
      sem_model = hs_sem,
      sem_omega = named(compRelSEM(fit_hs_sem)),
      sem_ave = named(AVE(fit_hs_sem)),
      sem_cor_lv = matrix_list(lavInspect(fit_hs_sem, "cor.lv")),
      harman = list(
        eigenvalues = as.numeric(ev),
        pc1_share = ev[1] / length(ev),
        one_factor_model = one_model,
        one_factor_fit = fit_list(fit_one),
        lrt = lrt_list(fit_hs, fit_one)
      ),
      scores = list(
        method = "regression",
        speed = speed,
        visual = as.numeric(scores[, "visual"]),
        median_speed = median(speed),
        n_high_median = sum(speed > median(speed)),
        mean_score_speed = mean_speed,
        n_high_mean_score_at_5 = sum(mean_speed > 5)
      )
    ),
    q_hs
  ))

  # ---- 2. HS by school: invariance sequence, multigroup reliability, Wald tests ----
  levels_seq <- list(
    configural = "none",
    metric = "loadings",
    scalar = c("loadings", "intercepts"),
    strict = c("loadings", "intercepts", "residuals")
  )
  inv <- list()
  for (est in c("ML", "MLR")) {
    fits <- lapply(levels_seq, function(ge)
      cfa(hs_model, data = hs, group = "school", estimator = est, group.equal = ge))
    lrt_default <- lrt_list(fits$configural, fits$metric, fits$scalar, fits$strict)
    inv[[est]] <- list(
      group_labels = lavInspect(fits$configural, "group.label"),
      fit = lapply(fits, fit_list),
      estimates = lapply(fits, pe_list),
      lrt = lrt_default
    )
    if (est == "MLR") {
      inv[[est]]$lrt_sb2001 <- lrt_list(fits$configural, fits$metric, fits$scalar,
                                        fits$strict, method = "satorra.bentler.2001")
    }
  }
  fit_conf <- cfa(hs_model, data = hs, group = "school")
  cr_mg <- compRelSEM(fit_conf)
  ave_mg <- AVE(fit_conf)
  df_to_list <- function(x) {
    x <- as.data.frame(unclass(x))
    out <- lapply(seq_len(nrow(x)), function(i) named(unlist(x[i, -1])))
    names(out) <- as.character(x[[1]])
    out
  }
  # the metric model with std.lv = TRUE: lavaan frees the factor variances of the
  # second group (loadings equal, variances no longer needed for the scale)
  fit_metric_stdlv <- cfa(hs_model, data = hs, group = "school",
                          group.equal = "loadings", std.lv = TRUE)

  # path comparison across groups: labelled regressions, Wald tests of equality
  wald_model <- paste(hs_model,
                      "textual ~ c(a1, a2)*visual",
                      "speed ~ c(b1, b2)*visual + c(c1, c2)*textual", sep = "\n")
  wald_model_free <- paste(hs_model, "textual ~ visual", "speed ~ visual + textual",
                           sep = "\n")
  wald <- list()
  for (est in c("ML", "MLR")) {
    fw <- sem(wald_model, data = hs, group = "school", estimator = est)
    one <- function(con) {
      w <- lavTestWald(fw, constraints = con)
      list(constraints = con, stat = as.numeric(w$stat), df = as.numeric(w$df),
           pvalue = as.numeric(w$p.value))
    }
    wald[[est]] <- list(
      estimates = pe_list(fw),
      tests = list(
        textual_visual = one("a1 == a2"),
        speed_visual = one("b1 == b2"),
        speed_textual = one("c1 == c2"),
        all = one("a1 == a2\nb1 == b2\nc1 == c2")
      )
    )
  }
  write_fixture("invariance_hs", list(
    data_csv = "data/measurement_hs.csv",
    model = hs_model,
    group = "school",
    group_equal = levels_seq,
    call = "cfa(model, data, group = 'school', estimator, group.equal); lavTestLRT(...)",
    invariance = inv,
    multigroup_omega = df_to_list(cr_mg),
    multigroup_ave = df_to_list(ave_mg),
    metric_std_lv = list(fit = fit_list(fit_metric_stdlv), estimates = pe_list(fit_metric_stdlv)),
    wald_model = wald_model,
    wald_model_free = wald_model_free,
    wald = wald
  ))

  # ---- 3. ECSI mobile phone data (seminr's mobi): CFA, SEM, MLR invariance --------
  # Five of the seven constructs: perceived quality (PERQ) is left out because
  # with it the factor covariance matrix is not positive definite (PERQ-CUSA
  # r = .96) and complaints (CUSCO) has a single item.
  if (length(ecsi_candidates)) {
    mobi <- read.csv(ecsi_candidates[1])
    keep <- c(paste0("IMAG", 1:5), paste0("CUEX", 1:3), paste0("PERV", 1:2),
              paste0("CUSA", 1:3), paste0("CUSL", 1:3))
    mobi <- save_csv(mobi[, keep], "ecsi")
    ecsi_model <- paste(
      "IMAG =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5",
      "CUEX =~ CUEX1 + CUEX2 + CUEX3",
      "PERV =~ PERV1 + PERV2",
      "CUSA =~ CUSA1 + CUSA2 + CUSA3",
      "CUSL =~ CUSL1 + CUSL2 + CUSL3",
      sep = "\n")
    fit_ecsi <- cfa(ecsi_model, data = mobi, estimator = "MLR")
    q_ecsi <- quality(fit_ecsi, ecsi_model, mobi)
    ecsi_sem <- paste(ecsi_model,
                      "CUSA ~ IMAG + PERV",
                      "CUSL ~ CUSA + IMAG", sep = "\n")
    fit_ecsi_sem <- sem(ecsi_sem, data = mobi, estimator = "MLR")
    # two groups from a median split of the CUEX mean score (expectations), then
    # the invariance sequence of the satisfaction-loyalty part with MLR
    cuex_mean <- rowMeans(mobi[, paste0("CUEX", 1:3)])
    grp <- ifelse(cuex_mean > median(cuex_mean), "high", "low")
    mobi_g <- cbind(mobi, cuex_group = grp)
    inv_model <- paste(
      "IMAG =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5",
      "CUSA =~ CUSA1 + CUSA2 + CUSA3",
      "CUSL =~ CUSL1 + CUSL3", sep = "\n")
    fits <- lapply(levels_seq, function(ge)
      cfa(inv_model, data = mobi_g, group = "cuex_group", estimator = "MLR",
          group.equal = ge))
    write_fixture("ecsi", c(
      list(
        data_csv = "data/measurement_ecsi.csv",
        source = "seminr::mobi (Tenenhaus et al., 2005), /work/shared/data/real/ecsi_mobi.csv",
        model = ecsi_model,
        estimator = "MLR",
        call = "cfa(model, data, estimator = 'MLR'); compRelSEM(fit); AVE(fit); htmt(model, data)",
        nobs = lavInspect(fit_ecsi, "nobs"),
        sem_model = ecsi_sem,
        sem_omega = named(compRelSEM(fit_ecsi_sem)),
        sem_ave = named(AVE(fit_ecsi_sem)),
        sem_cor_lv = matrix_list(lavInspect(fit_ecsi_sem, "cor.lv")),
        split = list(items = paste0("CUEX", 1:3), score = "mean", cut = "median",
                     cut_value = median(cuex_mean), n_high = sum(grp == "high"),
                     n_low = sum(grp == "low")),
        invariance = list(
          model = inv_model,
          group = "cuex_group",
          group_labels = lavInspect(fits$configural, "group.label"),
          fit = lapply(fits, fit_list),
          lrt = lrt_list(fits$configural, fits$metric, fits$scalar, fits$strict)
        )
      ),
      q_ecsi
    ))
  } else {
    warning("measurement.R: ecsi_mobi.csv not found; measurement_ecsi.json not rewritten")
  }

  # ---- 4. Corporate reputation data (seminr): FIML with MLR, groups by service type --
  # Missing answers are coded -99 in the source (10 cells of the nine items used);
  # with missing = "ml" semTools' "observed" variances are lavaan's EM estimates
  # (lavInspect(fit, "sampstat")), while psych::alpha uses pairwise covariances and
  # htmt() listwise correlations.
  corp_candidates <- c(
    Sys.getenv("CKM_CORPREP_CSV", unset = NA),
    file.path(ref_dir, "..", "..", "..", "shared", "data", "real", "corporate_reputation.csv"),
    "/work/shared/data/real/corporate_reputation.csv"
  )
  corp_candidates <- corp_candidates[!is.na(corp_candidates) & file.exists(corp_candidates)]
  if (length(corp_candidates)) {
    corp <- read.csv(corp_candidates[1])
    keep <- c("servicetype", paste0("comp_", 1:3), paste0("like_", 1:3), paste0("cusl_", 1:3))
    corp <- corp[, keep]
    corp[corp == -99] <- NA
    corp <- save_csv(corp, "corprep")
    corp_model <- paste("COMP =~ comp_1 + comp_2 + comp_3",
                        "LIKE =~ like_1 + like_2 + like_3",
                        "CUSL =~ cusl_1 + cusl_2 + cusl_3", sep = "\n")
    fit_corp <- cfa(corp_model, data = corp, missing = "ml", estimator = "MLR")
    q_corp <- quality(fit_corp, corp_model, corp)
    fits <- lapply(levels_seq, function(ge)
      cfa(corp_model, data = corp, group = "servicetype", missing = "ml", estimator = "MLR",
          group.equal = ge))
    write_fixture("corprep", c(
      list(
        data_csv = "data/measurement_corprep.csv",
        source = paste("seminr::corp_rep_data (Hair et al., A Primer on PLS-SEM),",
                       "/work/shared/data/real/corporate_reputation.csv; -99 -> NA"),
        model = corp_model,
        estimator = "MLR",
        missing = "ml",
        call = "cfa(model, data, missing = 'ml', estimator = 'MLR'); compRelSEM(fit); AVE(fit)",
        nobs = lavInspect(fit_corp, "nobs"),
        n_missing_cells = sum(is.na(corp)),
        invariance = list(
          group = "servicetype",
          group_labels = lavInspect(fits$configural, "group.label"),
          fit = lapply(fits, fit_list),
          lrt = lrt_list(fits$configural, fits$metric, fits$scalar, fits$strict)
        )
      ),
      q_corp
    ))
  } else {
    warning("measurement.R: corporate_reputation.csv not found; measurement_corprep.json ",
            "not rewritten")
  }

  # ---- 5. Simulated common-method data with a marker scale -------------------------
  # Three traits (A, B, C; correlation .3; four items each, trait loadings
  # .8 .7 .6 .5) and a three-item marker scale (m1-m3, marker trait loading .7)
  # that is theoretically unrelated to the traits.  One method factor loads
  # .2 .3 .4 .5 on the items of each trait and .4 on the marker items: method
  # loadings that are not proportional to the trait loadings, so the method
  # factor is identifiable from the covariances (a uniform method effect on
  # congeneric items is nearly absorbed by the trait loadings and correlations).
  # N = 500, standardized items, rounded to 3 decimals.
  set.seed(20240614)
  n <- 500L
  phi <- matrix(.3, 3, 3)
  diag(phi) <- 1
  eta <- matrix(rnorm(n * 3), n, 3) %*% chol(phi)
  meth <- rnorm(n)
  mk <- rnorm(n)
  lam <- c(.8, .7, .6, .5)
  lam_m <- c(.2, .3, .4, .5)
  d <- list()
  for (f in 1:3) for (j in 1:4) {
    d[[paste0(c("a", "b", "c")[f], j)]] <-
      4 + lam[j] * eta[, f] + lam_m[j] * meth + rnorm(n, sd = sqrt(1 - lam[j]^2 - lam_m[j]^2))
  }
  for (j in 1:3) {
    d[[paste0("m", j)]] <- 4 + .7 * mk + .4 * meth + rnorm(n, sd = sqrt(1 - .49 - .16))
  }
  cmv <- save_csv(round(as.data.frame(d), 3), "cmv")
  trait_model <- "A =~ a1 + a2 + a3 + a4\nB =~ b1 + b2 + b3 + b4\nC =~ c1 + c2 + c3 + c4"
  sub_items <- c(paste0("a", 1:4), paste0("b", 1:4), paste0("c", 1:4))
  marker_items <- paste0("m", 1:3)

  # ULMC: a method factor on every substantive item, orthogonal to the traits
  # (Podsakoff et al., 2003, Table 4, "unmeasured latent methods factor"); all
  # factors standardized (std.lv = TRUE).  The "equal" variant constrains the
  # method loadings equal (one parameter).
  ulmc_model <- paste(trait_model,
                      paste("METHOD =~", paste(sub_items, collapse = " + ")),
                      "METHOD ~~ 0*A + 0*B + 0*C", sep = "\n")
  ulmc_equal_model <- paste(trait_model,
                            paste("METHOD =~", paste(paste0("lm*", sub_items), collapse = " + ")),
                            "METHOD ~~ 0*A + 0*B + 0*C", sep = "\n")
  ulmc <- list()
  for (est in c("ML", "MLR")) {
    f0 <- cfa(trait_model, data = cmv, estimator = est, std.lv = TRUE)
    f1 <- cfa(ulmc_model, data = cmv, estimator = est, std.lv = TRUE)
    f1c <- cfa(ulmc_equal_model, data = cmv, estimator = est, std.lv = TRUE)
    s1 <- standardizedSolution(f1)
    ml <- s1[s1$op == "=~" & s1$lhs == "METHOD", c("rhs", "est.std")]
    tl <- s1[s1$op == "=~" & s1$lhs != "METHOD", c("lhs", "rhs", "est.std")]
    s1c <- standardizedSolution(f1c)
    mlc <- s1c[s1c$op == "=~" & s1c$lhs == "METHOD", c("rhs", "est.std")]
    ulmc[[est]] <- list(
      trait_fit = fit_list(f0),
      method_fit = fit_list(f1),
      method_equal_fit = fit_list(f1c),
      lrt = lrt_list(f0, f1),
      lrt_equal = lrt_list(f0, f1c),
      method_loadings_std = named(setNames(ml$est.std, ml$rhs)),
      method_equal_loadings_std = named(setNames(mlc$est.std, mlc$rhs)),
      trait_loadings_std = named(setNames(tl$est.std, tl$rhs)),
      trait_cor_lv = matrix_list(lavInspect(f0, "cor.lv")),
      method_cor_lv = matrix_list(lavInspect(f1, "cor.lv")[c("A", "B", "C"), c("A", "B", "C")])
    )
  }

  # Williams, Hartman & Cavazotte (2010) CFA marker technique: all factors
  # standardized (std.lv = TRUE) so that covariances are correlations
  marker_cfa_model <- paste(trait_model, "MARKER =~ m1 + m2 + m3", sep = "\n")
  f_cfa <- cfa(marker_cfa_model, data = cmv, std.lv = TRUE)
  pe <- parameterEstimates(f_cfa)
  lm_ <- pe$est[pe$op == "=~" & pe$lhs == "MARKER"]
  th_ <- sapply(marker_items, function(v) pe$est[pe$op == "~~" & pe$lhs == v & pe$rhs == v])
  fixed_marker <- paste(
    paste("MARKER =~", paste(sprintf("%.17g*%s", lm_, marker_items), collapse = " + ")),
    paste(sprintf("%s ~~ %.17g*%s", marker_items, th_, marker_items), collapse = "\n"),
    "MARKER ~~ 0*A + 0*B + 0*C", sep = "\n")
  baseline_model <- paste(trait_model, fixed_marker, sep = "\n")
  method_c_model <- paste(baseline_model,
                          paste("MARKER =~", paste(paste0("lm*", sub_items), collapse = " + ")),
                          sep = "\n")
  method_u_model <- paste(baseline_model,
                          paste("MARKER =~", paste(sub_items, collapse = " + ")), sep = "\n")
  f_base <- cfa(baseline_model, data = cmv, std.lv = TRUE)
  f_c <- cfa(method_c_model, data = cmv, std.lv = TRUE)
  f_u <- cfa(method_u_model, data = cmv, std.lv = TRUE)
  pb <- parameterEstimates(f_base)
  cors <- pb[pb$op == "~~" & pb$lhs %in% c("A", "B", "C") & pb$rhs %in% c("A", "B", "C") &
               pb$lhs != pb$rhs, c("lhs", "rhs", "est")]
  fix_cors <- paste(sprintf("%s ~~ %.17g*%s", cors$lhs, cors$est, cors$rhs), collapse = "\n")
  f_r_u <- cfa(paste(method_u_model, fix_cors, sep = "\n"), data = cmv, std.lv = TRUE)
  f_r_c <- cfa(paste(method_c_model, fix_cors, sep = "\n"), data = cmv, std.lv = TRUE)
  williams <- list(
    cfa_fit = fit_list(f_cfa),
    marker_loadings = as.numeric(lm_),
    marker_residuals = as.numeric(th_),
    baseline_fit = fit_list(f_base),
    method_c_fit = fit_list(f_c),
    method_u_fit = fit_list(f_u),
    method_r_u_fit = fit_list(f_r_u),
    method_r_c_fit = fit_list(f_r_c),
    baseline_vs_c = lrt_list(f_base, f_c),
    c_vs_u = lrt_list(f_c, f_u),
    u_vs_r = lrt_list(f_u, f_r_u),
    c_vs_r = lrt_list(f_c, f_r_c),
    baseline_cor = as.list(cors)
  )

  # Lindell & Whitney (2001): r_M = smallest (and second smallest) correlation
  # between the marker scale score and the substantive scale scores
  scale_scores <- data.frame(
    A = rowMeans(cmv[, paste0("a", 1:4)]),
    B = rowMeans(cmv[, paste0("b", 1:4)]),
    C = rowMeans(cmv[, paste0("c", 1:4)]),
    MARKER = rowMeans(cmv[, marker_items])
  )
  R <- cor(scale_scores)
  rm_all <- sort(R["MARKER", c("A", "B", "C")])
  lw <- function(r_m) {
    pairs <- combn(c("A", "B", "C"), 2)
    out <- lapply(seq_len(ncol(pairs)), function(k) {
      r_u <- R[pairs[1, k], pairs[2, k]]
      r_a <- (r_u - r_m) / (1 - r_m)
      t <- r_a / sqrt((1 - r_a^2) / (n - 3))
      list(x = pairs[1, k], y = pairs[2, k], r = r_u, r_adjusted = r_a,
           t = t, pvalue = 2 * pt(-abs(t), df = n - 3))
    })
    list(r_m = r_m, pairs = out)
  }
  write_fixture("cmv", list(
    data_csv = "data/measurement_cmv.csv",
    model = trait_model,
    marker = marker_items,
    simulation = paste("3 traits (r = .3) x 4 items (loadings .8 .7 .6 .5) + 3 marker items",
                       "(.7); method loadings .2 .3 .4 .5 per trait and .4 on the markers; N = 500"),
    harman = list(
      eigenvalues = as.numeric(eigen(cor(cmv[, sub_items]), only.values = TRUE)$values)
    ),
    ulmc_model = ulmc_model,
    ulmc_equal_model = ulmc_equal_model,
    ulmc = ulmc,
    williams_models = list(cfa = marker_cfa_model, baseline = baseline_model,
                           method_c = method_c_model, method_u = method_u_model),
    williams = williams,
    lindell_whitney = list(
      scale_cor = matrix_list(R),
      smallest = lw(rm_all[[1]]),
      second_smallest = lw(rm_all[[2]])
    )
  ))
  message("measurement.R: wrote measurement_{hs,invariance_hs,ecsi,corprep,cmv}.{csv,json} ",
          "under ",
          ref_dir)
})
