# Reference fixtures for ckm_research.inference.power: Monte Carlo power by the
# usual lavaan loop (simulate a sample from the population model, fit the
# analysis model, record the Wald test, the estimate and whether the 95% CI
# holds the true value), and the analytic RMSEA-based power of MacCallum,
# Browne & Sugawara (1996) from semTools::findRMSEApower.
#
# Run standalone from the repository root:
#     Rscript tests/reference/R/power.R
# or source() it from tests/reference/make_reference.R ("power" topic).  It writes
#     tests/reference/json/power_cfa3.json         (3-factor SEM, lavaan::simulateData)
#     tests/reference/json/power_interaction.json  (latent interaction, dblcent analysis)
# and needs no data files.  Cases can be chosen with CKM_REF_CASES=cfa3 or
# =interaction.  Time (2 cores, lavaan 0.6.14): cfa3 about 2-3 min (1000 fits),
# interaction about 2 min (400 fits of a 27-indicator model).
# Everything is done inside local(); the global random-number state is restored.

local({
  suppressPackageStartupMessages({
    library(lavaan)
    library(semTools)
    library(jsonlite)
  })

  find_reference_dir <- function() {
    is_ref <- function(d) length(d) == 1L && !is.na(d) &&
      file.exists(file.path(d, "R", "power.R"))
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
    stop("power.R: cannot find tests/reference; run it from the repository root")
  }
  ref_dir <- find_reference_dir()
  json_dir <- file.path(ref_dir, "json")
  dir.create(json_dir, showWarnings = FALSE, recursive = TRUE)

  old_seed <- if (exists(".Random.seed", envir = globalenv())) get(".Random.seed", envir = globalenv()) else NULL
  on.exit({
    if (is.null(old_seed)) {
      if (exists(".Random.seed", envir = globalenv())) rm(".Random.seed", envir = globalenv())
    } else {
      assign(".Random.seed", old_seed, envir = globalenv())
    }
  }, add = TRUE)

  cases_env <- Sys.getenv("CKM_REF_CASES", "")
  wanted <- function(name) {
    if (!nzchar(cases_env)) return(TRUE)
    sel <- strsplit(cases_env, ",", fixed = TRUE)[[1]]
    if (any(startsWith(sel, "-"))) return(!(paste0("-", name) %in% sel))
    name %in% sel
  }

  alpha <- 0.05
  level <- 1 - alpha

  # one Monte Carlo cell: `reps` samples of size n from `gen(n)`, analysis `fit_one(d)`;
  # returns per-parameter sums and the chi-square rejections
  run_cell <- function(n, reps, gen, fit_one, keys, truth) {
    k <- length(keys)
    acc <- list(valid = numeric(k), sum = numeric(k), sum2 = numeric(k), rej = numeric(k),
                cov = numeric(k), se = numeric(k))
    conv <- 0L; chisq_rej <- 0L; chisq_n <- 0L
    for (r in seq_len(reps)) {
      d <- gen(n)
      fit <- tryCatch(suppressWarnings(fit_one(d)), error = function(e) NULL)
      if (is.null(fit) || !lavInspect(fit, "converged")) next
      conv <- conv + 1L
      pe <- parameterEstimates(fit, level = level)
      pe_key <- key_of(pe)
      idx <- match(keys, pe_key)
      est <- pe$est[idx]; se <- pe$se[idx]; lo <- pe$ci.lower[idx]; hi <- pe$ci.upper[idx]
      ok <- is.finite(est) & is.finite(se) & se > 0
      acc$valid <- acc$valid + ok
      acc$sum <- acc$sum + ifelse(ok, est, 0)
      acc$sum2 <- acc$sum2 + ifelse(ok, est^2, 0)
      acc$se <- acc$se + ifelse(ok, se, 0)
      acc$rej <- acc$rej + (ok & pe$pvalue[idx] < alpha)
      acc$cov <- acc$cov + (ok & lo <= truth & truth <= hi)
      p <- fitMeasures(fit, "pvalue")
      if (is.finite(p)) {
        chisq_n <- chisq_n + 1L
        chisq_rej <- chisq_rej + (p < alpha)
      }
    }
    v <- acc$valid
    mean_est <- acc$sum / v
    sd_est <- sqrt(pmax(acc$sum2 / v - mean_est^2, 0) * v / pmax(v - 1, 1))
    list(
      per_param = data.frame(
        n = n, lhs = sub("\t.*", "", keys),
        op = sapply(strsplit(keys, "\t", fixed = TRUE), `[`, 2),
        rhs = sapply(strsplit(keys, "\t", fixed = TRUE), `[`, 3),
        true = truth, power = acc$rej / v, mean_est = mean_est, coverage = acc$cov / v,
        mean_se = acc$se / v, sd_est = sd_est, converged = v, stringsAsFactors = FALSE),
      model_test = list(n = n, converged = conv, chisq_reject = chisq_rej / chisq_n)
    )
  }

  key_of <- function(pe) {
    lhs <- pe$lhs; rhs <- pe$rhs
    # covariances as an unordered pair
    sw <- pe$op == "~~" & lhs > rhs
    tmp <- lhs[sw]; lhs[sw] <- rhs[sw]; rhs[sw] <- tmp
    rhs[pe$op == ":="] <- pe$rhs[pe$op == ":="]
    paste(lhs, pe$op, rhs, sep = "\t")
  }

  free_keys <- function(fit) {
    pe <- parameterEstimates(fit)
    keep <- pe$op == ":=" | (pe$se > 0 & is.finite(pe$se))
    list(keys = key_of(pe)[keep], est = pe$est[keep])
  }

  write_case <- function(name, x) {
    path <- file.path(json_dir, paste0("power_", name, ".json"))
    jsonlite::write_json(x, path, digits = NA, auto_unbox = TRUE, pretty = TRUE)
    cat(sprintf("  wrote %s\n", path))
  }

  rmsea_table <- function(df, ns) {
    lapply(ns, function(n) list(
      n = n, df = df,
      close_fit = semTools::findRMSEApower(rmsea0 = .05, rmseaA = .08, df = df, n = n, alpha = alpha),
      not_close_fit = semTools::findRMSEApower(rmsea0 = .05, rmseaA = .01, df = df, n = n,
                                               alpha = alpha)))
  }

  # ---- case 1: a three-factor SEM with a zero path and an indirect effect ---------
  if (wanted("cfa3")) {
    set.seed(20240601)
    pop <- paste(
      "f1 =~ 0.7*x1 + 0.7*x2 + 0.6*x3",
      "f2 =~ 0.7*x4 + 0.7*x5 + 0.6*x6",
      "f3 =~ 0.7*x7 + 0.7*x8 + 0.6*x9",
      "f2 ~ 0.4*f1",
      "f3 ~ 0.3*f2 + 0*f1",
      "f1 ~~ 1*f1", "f2 ~~ 0.84*f2", "f3 ~~ 0.91*f3",
      "x1 ~~ 0.51*x1", "x2 ~~ 0.51*x2", "x3 ~~ 0.64*x3",
      "x4 ~~ 0.51*x4", "x5 ~~ 0.51*x5", "x6 ~~ 0.64*x6",
      "x7 ~~ 0.51*x7", "x8 ~~ 0.51*x8", "x9 ~~ 0.64*x9", sep = "\n")
    ana <- paste(
      "f1 =~ x1 + x2 + x3", "f2 =~ x4 + x5 + x6", "f3 =~ x7 + x8 + x9",
      "f2 ~ a*f1", "f3 ~ b*f2 + c*f1", "ind := a*b", sep = "\n")
    ns <- c(100L, 200L)
    reps <- 500L
    # population moments: empirical = TRUE reproduces them exactly (divisor N, as lavaan)
    big <- simulateData(pop, sample.nobs = 1000L, empirical = TRUE)
    Sigma <- cov(big) * (nrow(big) - 1) / nrow(big)
    ov <- colnames(Sigma)
    fit0 <- sem(ana, sample.cov = Sigma, sample.nobs = 1000L, sample.cov.rescale = FALSE)
    tk <- free_keys(fit0)
    df <- as.numeric(fitMeasures(fit0, "df"))
    t0 <- proc.time()[["elapsed"]]
    cells <- lapply(ns, function(n) run_cell(
      n, reps, gen = function(n) simulateData(pop, sample.nobs = n),
      fit_one = function(d) sem(ana, data = d), keys = tk$keys, truth = tk$est))
    secs <- proc.time()[["elapsed"]] - t0
    write_case("cfa3", list(
      case = "cfa3", population = pop, analysis = ana, n = ns, reps = reps, alpha = alpha,
      seed = 20240601L, ov = ov, sigma_population = unname(Sigma),
      true = data.frame(key = tk$keys, est = tk$est),
      power = do.call(rbind, lapply(cells, `[[`, "per_param")),
      model_test = lapply(cells, `[[`, "model_test"),
      df = df, rmsea_power = rmsea_table(df, ns),
      seconds_per_replication = secs / (reps * length(ns)),
      lavaan = as.character(packageVersion("lavaan")),
      semTools = as.character(packageVersion("semTools"))))
  }

  # ---- case 2: a latent interaction, analysed by dblcent product indicators -------
  if (wanted("interaction")) {
    set.seed(20240602)
    lam <- c(0.8, 0.7, 0.6); th <- 1 - lam^2
    b_x <- 0.3; b_z <- 0.2; b_xz <- 0.2; phi_xz <- 0.3; psi_y <- 0.6
    pop <- paste(
      "X =~ 0.8*x1 + 0.7*x2 + 0.6*x3", "Z =~ 0.8*z1 + 0.7*z2 + 0.6*z3",
      "Y =~ 0.8*y1 + 0.7*y2 + 0.6*y3", "Y ~ 0.3*X + 0.2*Z + 0.2*X:Z",
      "X ~~ 1*X", "Z ~~ 1*Z", "X ~~ 0.3*Z", "Y ~~ 0.6*Y",
      "x1 ~~ 0.36*x1", "x2 ~~ 0.51*x2", "x3 ~~ 0.64*x3",
      "z1 ~~ 0.36*z1", "z2 ~~ 0.51*z2", "z3 ~~ 0.64*z3",
      "y1 ~~ 0.36*y1", "y2 ~~ 0.51*y2", "y3 ~~ 0.64*y3", sep = "\n")
    ana <- paste("X =~ x1 + x2 + x3", "Z =~ z1 + z2 + z3", "Y =~ y1 + y2 + y3",
                 "Y ~ X + Z + X:Z", sep = "\n")
    # the latent product is generated as X*Z - E[XZ] (never a product of items)
    gen <- function(n) {
      L <- chol(matrix(c(1, phi_xz, phi_xz, 1), 2))
      xz <- matrix(rnorm(2 * n), n, 2) %*% L
      X <- xz[, 1]; Z <- xz[, 2]
      Y <- b_x * X + b_z * Z + b_xz * (X * Z - phi_xz) + rnorm(n, sd = sqrt(psi_y))
      item <- function(f, j) lam[j] * f + rnorm(n, sd = sqrt(th[j]))
      data.frame(x1 = item(X, 1), x2 = item(X, 2), x3 = item(X, 3),
                 z1 = item(Z, 1), z2 = item(Z, 2), z3 = item(Z, 3),
                 y1 = item(Y, 1), y2 = item(Y, 2), y3 = item(Y, 3))
    }
    # dblcent: all pairs, doubly mean-centred; residual covariances of products
    # that share an item (modsem's default)
    prods <- as.vector(t(outer(paste0("x", 1:3), paste0("z", 1:3), paste, sep = ".")))
    members <- strsplit(prods, ".", fixed = TRUE)
    rescov <- character(0)
    for (i in 1:(length(prods) - 1)) for (j in (i + 1):length(prods))
      if (length(intersect(members[[i]], members[[j]])))
        rescov <- c(rescov, paste(prods[i], "~~", prods[j]))
    ana_pi <- paste("X =~ x1 + x2 + x3", "Z =~ z1 + z2 + z3", "Y =~ y1 + y2 + y3",
                    paste("X.Z =~", paste(prods, collapse = " + ")),
                    "Y ~ X + Z + X.Z", paste(rescov, collapse = "\n"), sep = "\n")
    add_products <- function(d) indProd(d, var1 = paste0("x", 1:3), var2 = paste0("z", 1:3),
                                        match = FALSE, meanC = TRUE, residualC = FALSE,
                                        doubleMC = TRUE)
    fit_one <- function(d) sem(ana_pi, data = add_products(d))
    # true values: the analysis model in a very large sample (Monte Carlo error ~0.002)
    fit0 <- fit_one(gen(200000L))
    tk <- free_keys(fit0)
    ns <- 250L
    reps <- 400L
    t0 <- proc.time()[["elapsed"]]
    cells <- lapply(ns, function(n) run_cell(n, reps, gen = gen, fit_one = fit_one,
                                             keys = tk$keys, truth = tk$est))
    secs <- proc.time()[["elapsed"]] - t0
    pw <- do.call(rbind, lapply(cells, `[[`, "per_param"))
    pw$rhs[pw$op == "~" & pw$rhs == "X.Z"] <- "X:Z"
    tr <- data.frame(key = sub("\t~\tX\\.Z$", "\t~\tX:Z", tk$keys), est = tk$est)
    write_case("interaction", list(
      case = "interaction", population = pop, analysis = ana, fitted_syntax = ana_pi,
      n = ns, reps = reps, alpha = alpha, seed = 20240602L,
      true = tr, true_note = "dblcent fit to one sample of 200000 (Monte Carlo error about 0.002)",
      power = pw, model_test = lapply(cells, `[[`, "model_test"),
      df = as.numeric(fitMeasures(fit0, "df")),
      seconds_per_replication = secs / (reps * length(ns)),
      lavaan = as.character(packageVersion("lavaan")),
      semTools = as.character(packageVersion("semTools"))))
  }
})
