# Reference fixtures for ckm_research.sem.ordinal: lavaan's WLSMV sample
# statistics (thresholds, polychoric correlations, NACOV) and its DWLS
# inference (robust.sem standard errors, scaled-shifted and other robust tests).
#
# Run standalone from the repository root:
#     Rscript tests/reference/R/ordinal.R
# or source() it from tests/reference/make_reference.R.  It writes
#     tests/reference/data/ordinal_<name>.csv   (the very data lavaan saw)
#     tests/reference/json/ordinal_<name>.json  (lavaan's results)
# Everything is done inside local() so that sourcing it leaves no objects
# behind; the global random-number state is restored afterwards.

local({
  suppressPackageStartupMessages({
    library(lavaan)
    library(jsonlite)
  })

  # ---- where to write -------------------------------------------------------
  find_reference_dir <- function() {
    is_ref <- function(d) length(d) == 1L && !is.na(d) &&
      file.exists(file.path(d, "R", "ordinal.R"))
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
    stop("ordinal.R: cannot find tests/reference; run it from the repository root")
  }
  ref_dir <- find_reference_dir()
  data_dir <- file.path(ref_dir, "data")
  json_dir <- file.path(ref_dir, "json")
  dir.create(data_dir, showWarnings = FALSE, recursive = TRUE)
  dir.create(json_dir, showWarnings = FALSE, recursive = TRUE)

  old_seed <- if (exists(".Random.seed", envir = globalenv())) get(".Random.seed", envir = globalenv()) else NULL
  on.exit({
    if (is.null(old_seed)) {
      if (exists(".Random.seed", envir = globalenv())) rm(".Random.seed", envir = globalenv())
    } else {
      assign(".Random.seed", old_seed, envir = globalenv())
    }
  }, add = TRUE)

  # ---- data sets ----------------------------------------------------------------
  cut_q <- function(x, probs, codes = seq_len(length(probs) + 1L)) {
    br <- unique(quantile(x, c(0, probs, 1), na.rm = TRUE))
    codes[as.integer(cut(x, breaks = br, include.lowest = TRUE))]
  }

  # 1. Holzinger & Swineford (1939) x1-x9 cut into 3, 4 and 5 categories; x9 is
  #    coded with gaps (1, 2, 4, 5, 7) and three cases get a missing value, to
  #    exercise the observed-category and listwise-deletion rules.
  make_hs <- function() {
    hs <- HolzingerSwineford1939[, paste0("x", 1:9)]
    d <- data.frame(
      x1 = cut_q(hs$x1, c(.3, .7)),
      x2 = cut_q(hs$x2, c(.25, .6)),
      x3 = cut_q(hs$x3, c(.4, .8)),
      x4 = cut_q(hs$x4, c(.2, .5, .8)),
      x5 = cut_q(hs$x5, c(.15, .45, .75)),
      x6 = cut_q(hs$x6, c(.3, .6, .9)),
      x7 = cut_q(hs$x7, c(.1, .3, .6, .85)),
      x8 = cut_q(hs$x8, c(.2, .4, .6, .8)),
      x9 = cut_q(hs$x9, c(.05, .25, .55, .9), codes = c(1L, 2L, 4L, 5L, 7L))
    )
    d$x2[17] <- NA
    d$x5[101] <- NA
    d$x9[230] <- NA
    list(
      data = d,
      model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    )
  }

  # 2. Simulated: 4 correlated factors x 4 items, 5 categories, N = 600; some
  #    items are strongly skewed so that several bivariate tables have empty cells.
  make_sim16 <- function() {
    set.seed(20240611)
    n <- 600L
    phi <- matrix(c(1, .4, .3, .2,
                    .4, 1, .5, .3,
                    .3, .5, 1, .4,
                    .2, .3, .4, 1), 4, 4)
    lam <- c(.8, .7, .6, .75, .65, .8, .7, .55, .7, .75, .6, .8, .6, .7, .8, .65)
    eta <- matrix(rnorm(n * 4), n, 4) %*% chol(phi)
    f_of <- rep(1:4, each = 4)
    ystar <- sapply(1:16, function(j) lam[j] * eta[, f_of[j]] + sqrt(1 - lam[j]^2) * rnorm(n))
    th_sym <- c(-1.5, -0.5, 0.5, 1.5)
    th_skew <- c(-2.4, -1.9, -1.0, 0.3)
    th_right <- c(-0.3, 0.9, 1.8, 2.3)
    th <- list(th_sym, th_skew, th_right, th_sym, th_skew, th_sym, th_right, th_sym,
               th_sym, th_right, th_skew, th_sym, th_skew, th_sym, th_sym, th_right)
    d <- as.data.frame(sapply(1:16, function(j) findInterval(ystar[, j], th[[j]]) + 1L))
    names(d) <- paste0("y", 1:16)
    list(
      data = d,
      model = paste(
        "f1 =~ y1 + y2 + y3 + y4",
        "f2 =~ y5 + y6 + y7 + y8",
        "f3 =~ y9 + y10 + y11 + y12",
        "f4 =~ y13 + y14 + y15 + y16",
        sep = "\n"
      )
    )
  }

  # 3. Simulated binary items, one factor, N = 250, with rare categories so
  #    that some 2 x 2 tables have one empty cell (lavaan then moves 0.5 into it,
  #    keeping the margins, before estimating the tetrachoric correlation).
  make_binary <- function() {
    set.seed(7)
    n <- 250L
    lam <- c(.8, .75, .7, .7, .65, .6)
    eta <- rnorm(n)
    th <- c(1.75, 1.6, 0.2, -0.3, 1.3, -1.0)
    d <- as.data.frame(sapply(1:6, function(j) {
      as.integer(lam[j] * eta + sqrt(1 - lam[j]^2) * rnorm(n) > th[j])
    }))
    names(d) <- paste0("u", 1:6)
    list(data = d, model = "f =~ u1 + u2 + u3 + u4 + u5 + u6")
  }

  # ---- fit and export -------------------------------------------------------------
  fm_names <- c("npar", "fmin", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled",
                "pvalue.scaled", "chisq.scaling.factor", "chisq.shift.parameters",
                "baseline.chisq", "baseline.df", "baseline.pvalue",
                "baseline.chisq.scaled", "baseline.df.scaled", "baseline.pvalue.scaled",
                "baseline.chisq.scaling.factor",
                "cfi", "tli", "rmsea", "cfi.scaled", "tli.scaled", "rmsea.scaled",
                "cfi.robust", "tli.robust", "rmsea.robust", "srmr")

  test_list <- function(tst) {
    lapply(tst, function(t) {
      keep <- intersect(names(t), c("test", "stat", "df", "pvalue", "scaling.factor",
                                    "shift.parameter", "trace.UGamma", "trace.UGamma2"))
      lapply(t[keep], function(v) if (is.numeric(v)) as.numeric(v) else v)
    })
  }

  export <- function(name, spec) {
    d <- spec$data
    csv <- file.path(data_dir, paste0("ordinal_", name, ".csv"))
    write.csv(d, csv, row.names = FALSE, na = "")
    d <- read.csv(csv)  # lavaan sees exactly what Python will read

    fit <- cfa(spec$model, data = d, ordered = TRUE, estimator = "WLSMV")
    # the other robust tests, from the same sample statistics
    fit_other <- cfa(spec$model, data = d, ordered = TRUE, estimator = "WLSMV",
                     test = c("satorra.bentler", "mean.var.adjusted"))

    wls_obs <- lavInspect(fit, "wls.obs")
    delta <- lavInspect(fit, "delta")
    pt <- parTable(fit)
    pe <- parameterEstimates(fit, standardized = TRUE)
    key_pt <- paste(pt$lhs, pt$op, pt$rhs)
    key_pe <- paste(pe$lhs, pe$op, pe$rhs)
    pe$free <- pt$free[match(key_pe, key_pt)]
    pe_cols <- c("lhs", "op", "rhs", "free", "est", "se", "z", "pvalue",
                 "ci.lower", "ci.upper", "std.all")
    fm <- as.list(fitMeasures(fit, fm_names))
    # lavaan 0.6.14's fitMeasures() has no shift parameter; summary() prints
    # it from the test slot, so take it from there.
    fm[["chisq.shift.parameters"]] <- fit@test$scaled.shifted$shift.parameter
    th <- lavInspect(fit, "th")
    ov <- lavNames(fit, "ov")
    levels <- lapply(ov, function(v) sort(unique(d[[v]][!is.na(d[[v]])])))
    names(levels) <- ov

    out <- list(
      name = name,
      lavaan_version = as.character(packageVersion("lavaan")),
      generated_by = "tests/reference/R/ordinal.R",
      data_csv = paste0("data/ordinal_", name, ".csv"),
      model = spec$model,
      call = "cfa(model, data, ordered = TRUE, estimator = \"WLSMV\")",
      nobs = lavInspect(fit, "nobs"),
      ov_names = ov,
      levels = levels,
      th_labels = names(th),
      thresholds = as.numeric(th),
      polychoric = unname(lavInspect(fit, "sampstat")$cov[ov, ov]),
      wls_labels = names(wls_obs),
      wls_obs = as.numeric(wls_obs),
      wls_est = as.numeric(lavInspect(fit, "wls.est")),
      wls_v_diag = as.numeric(diag(lavInspect(fit, "wls.v"))),
      gamma = unname(lavInspect(fit, "gamma")),
      delta_colnames = colnames(delta),
      delta = unname(delta),
      vcov = unname(lavInspect(fit, "vcov")),
      vcov_names = colnames(lavInspect(fit, "vcov")),
      parameter_estimates = as.list(pe[, pe_cols]),
      fit_measures = fm,
      test = test_list(fit@test),
      test_other = test_list(fit_other@test),
      baseline_test = test_list(fit@baseline$test),
      zero_cell_pairs = names(lavInspect(fit, "zero.cell.tables"))
    )
    write_json(out, file.path(json_dir, paste0("ordinal_", name, ".json")),
               digits = NA, auto_unbox = TRUE, pretty = FALSE)
    invisible(out)
  }

  export("hs", make_hs())
  export("sim16", make_sim16())
  export("binary", make_binary())
  message("ordinal.R: wrote ordinal_{hs,sim16,binary}.{csv,json} under ", ref_dir)
})
