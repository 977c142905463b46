# Reference fixtures for ckm_research.sem.missing: lavaan's full-information ML
# with missing data (missing = "ml"): the EM estimates of the saturated (h1)
# moments and their log-likelihood, the casewise log-likelihood of a fitted CFA,
# its model-implied moments, the casewise scores and the h1 information
# matrices (observed, expected, first-order; at the implied and at the EM moments).
#
# Run standalone from the repository root:
#     Rscript tests/reference/R/missing.R
# or source() it from tests/reference/make_reference.R.  It writes
#     tests/reference/data/missing_<name>.csv   (the very data lavaan saw)
#     tests/reference/json/missing_<name>.json  (lavaan's results)
# Everything runs inside local() so that sourcing it leaves no objects behind;
# the global random-number state is restored afterwards.

local({
  suppressPackageStartupMessages({
    library(lavaan)
    library(jsonlite)
  })

  # ---- where to write -------------------------------------------------------
  find_reference_dir <- function() {
    is_ref <- function(d) length(d) == 1L && !is.na(d) &&
      file.exists(file.path(d, "R", "missing.R"))
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
    stop("missing.R: cannot find tests/reference; run it from the repository root")
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
  # 1. Holzinger & Swineford (1939) x1-x9 (N = 301) with 10% of the cells blanked
  #    completely at random.
  make_hs <- function() {
    set.seed(19390301)
    d <- HolzingerSwineford1939[, paste0("x", 1:9)]
    blank <- matrix(runif(nrow(d) * ncol(d)) < 0.10, nrow(d))
    d[blank] <- NA
    list(
      data = d,
      model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9",
      full = TRUE  # store the full information matrices
    )
  }

  # 2. Simulated: 4 correlated factors x 5 items, N = 300, 10% of the cells
  #    missing (MCAR, plus MAR: y5 and y10 are more often missing when y1 is
  #    high), so that nearly every case has its own pattern.  Case 1 is empty
  #    (lavaan drops it) and cases 2-6 observe only one to three variables.
  make_sim20 <- function() {
    set.seed(20240612)
    n <- 300L
    phi <- matrix(c(1, .4, .3, .2,
                    .4, 1, .5, .3,
                    .3, .5, 1, .4,
                    .2, .3, .4, 1), 4, 4)
    lam <- c(.8, .7, .6, .75, .65, .8, .7, .55, .7, .75,
             .6, .8, .6, .7, .8, .65, .7, .75, .6, .7)
    f_of <- rep(1:4, each = 5)
    eta <- matrix(rnorm(n * 4), n, 4) %*% chol(phi)
    y <- sapply(1:20, function(j) {
      3 + j / 10 + (1 + (j %% 3) / 2) * (lam[j] * eta[, f_of[j]] + sqrt(1 - lam[j]^2) * rnorm(n))
    })
    miss <- matrix(runif(n * 20) < 0.09, n, 20)
    high <- y[, 1] > quantile(y[, 1], 0.7)
    miss[high, 5] <- miss[high, 5] | (runif(sum(high)) < 0.3)
    miss[high, 10] <- miss[high, 10] | (runif(sum(high)) < 0.3)
    miss[1, ] <- TRUE
    keep <- list(7L, c(2L, 13L), c(1L, 8L, 19L), 20L, c(5L, 6L))
    for (i in seq_along(keep)) {
      miss[i + 1L, ] <- TRUE
      miss[i + 1L, keep[[i]]] <- FALSE
    }
    y[miss] <- NA
    d <- as.data.frame(round(y, 4))
    names(d) <- paste0("y", 1:20)
    list(
      data = d,
      model = paste(
        "f1 =~ y1 + y2 + y3 + y4 + y5",
        "f2 =~ y6 + y7 + y8 + y9 + y10",
        "f3 =~ y11 + y12 + y13 + y14 + y15",
        "f4 =~ y16 + y17 + y18 + y19 + y20",
        sep = "\n"
      ),
      full = FALSE  # 230 x 230 matrices: store summaries only (file size)
    )
  }

  # ---- fit and export -------------------------------------------------------------
  # information matrices: full, or (for large ones) the diagonal, the first
  # row and the row sums
  info_out <- function(m, full) {
    m <- unname(as.matrix(m))
    if (full) return(m)
    list(diag = diag(m), row1 = m[1, ], rowsums = rowSums(m))
  }

  export <- function(name, spec) {
    d <- spec$data
    csv <- file.path(data_dir, paste0("missing_", name, ".csv"))
    write.csv(d, csv, row.names = FALSE, na = "")
    d <- read.csv(csv)  # lavaan sees exactly what Python will read

    fit <- withCallingHandlers(
      cfa(spec$model, data = d, missing = "ml"),
      warning = function(w) {
        if (grepl("empty", conditionMessage(w))) invokeRestart("muffleWarning")
      }
    )
    ov <- lavNames(fit, "ov")
    Y <- fit@Data@X[[1]]
    Mp <- fit@Data@Mp[[1]]
    h1 <- lavInspect(fit, "sampstat.h1")
    implied <- lavInspect(fit, "implied")
    em_mu <- as.numeric(h1$mean[ov])
    em_sigma <- unname(h1$cov[ov, ov])
    imp_mu <- as.numeric(implied$mean[ov])
    imp_sigma <- unname(implied$cov[ov, ov])

    # EM run to (near) full convergence, to test our EM more tightly than
    # lavaan's default em.h1.tol = 1e-5 allows
    tight <- lavaan:::lav_mvnorm_missing_h1_estimate_moments(
      Y = Y, Mp = Mp, max.iter = 100000L, tol = 1e-13
    )
    tight_logl <- lavaan:::lav_mvnorm_missing_loglik_data(
      Y = Y, Mu = tight$Mu, Sigma = tight$Sigma
    )

    info_at <- function(mu, sigma) {
      list(
        observed = info_out(lavaan:::lav_mvnorm_missing_information_observed_data(
          Y = Y, Mp = Mp, Mu = mu, Sigma = sigma), spec$full),
        expected = info_out(lavaan:::lav_mvnorm_missing_information_expected(
          Y = Y, Mp = Mp, Mu = mu, Sigma = sigma), spec$full),
        firstorder = info_out(lavaan:::lav_mvnorm_missing_information_firstorder(
          Y = Y, Mp = Mp, Mu = mu, Sigma = sigma), spec$full)
      )
    }

    scores <- lavaan:::lav_mvnorm_missing_scores_mu_vech_sigma(
      Y = Y, Mp = Mp, Mu = imp_mu, Sigma = imp_sigma
    )
    # lavaan leaves NA in the mean scores of a case's missing variables (its
    # lav_matrix_crossprod skips them); the derivative there is zero
    scores[is.na(scores)] <- 0
    score_rows <- seq_len(min(30L, nrow(Y)))
    llik <- lavaan:::lav_mvnorm_missing_llik_casewise(Y = Y, Mu = imp_mu, Sigma = imp_sigma)
    dlogl_dmu <- lavaan:::lav_mvnorm_missing_dlogl_dmu(Y = Y, Mu = imp_mu, Sigma = imp_sigma)
    dlogl_dsigma <- lavaan:::lav_mvnorm_missing_dlogl_dSigma(Y = Y, Mp = Mp, Mu = imp_mu,
                                                             Sigma = imp_sigma)

    fm <- as.list(fitMeasures(fit, c("npar", "logl", "unrestricted.logl", "chisq", "df",
                                     "ntotal")))
    out <- list(
      name = name,
      lavaan_version = as.character(packageVersion("lavaan")),
      generated_by = "tests/reference/R/missing.R",
      data_csv = paste0("data/missing_", name, ".csv"),
      model = spec$model,
      call = "cfa(model, data, missing = \"ml\")",
      ov_names = ov,
      n_rows = nrow(d),
      nobs = lavInspect(fit, "nobs"),
      empty_rows = as.integer(Mp$empty.idx),  # 1-based rows of the csv
      npatterns = Mp$npatterns,
      pattern_freq = as.integer(Mp$freq),
      coverage = unname(lavInspect(fit, "coverage")[ov, ov]),
      h1 = list(
        mean = em_mu,
        cov = em_sigma,
        logl = fm[["unrestricted.logl"]],
        tol = fit@Options$em.h1.tol,
        iter_max = fit@Options$em.h1.iter.max
      ),
      h1_tight = list(
        mean = as.numeric(tight$Mu),
        cov = unname(tight$Sigma),
        logl = tight_logl,
        tol = 1e-13
      ),
      fit = list(
        logl = fm[["logl"]],
        npar = fm[["npar"]],
        chisq = fm[["chisq"]],
        df = fm[["df"]],
        implied_mean = imp_mu,
        implied_cov = imp_sigma,
        casewise_logl = as.numeric(llik),
        dlogl_dmu = as.numeric(dlogl_dmu),
        dlogl_dsigma = unname(dlogl_dsigma),
        score_rows = score_rows,
        scores = unname(scores[score_rows, , drop = FALSE]),
        score_colsums = as.numeric(colSums(scores))
      ),
      # lavInspect(fit, "h1.information.*"): h1.information = "structured",
      # i.e. at the model-implied moments
      information_implied = list(
        observed = info_out(lavInspect(fit, "h1.information.observed"), spec$full),
        expected = info_out(lavInspect(fit, "h1.information.expected"), spec$full),
        firstorder = info_out(lavInspect(fit, "h1.information.first.order"), spec$full)
      ),
      information_implied_direct = if (spec$full) NULL else info_at(imp_mu, imp_sigma),
      # at the EM (unstructured) moments
      information_h1 = info_at(em_mu, em_sigma)
    )
    out <- out[!vapply(out, is.null, logical(1))]
    write_json(out, file.path(json_dir, paste0("missing_", name, ".json")),
               digits = NA, auto_unbox = TRUE, pretty = FALSE)
    invisible(out)
  }

  export("hs", make_hs())
  export("sim20", make_sim20())
  message("missing.R: wrote missing_{hs,sim20}.{csv,json} under ", ref_dir)
})
