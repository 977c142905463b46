# Reference fixtures for ckm_research.moderation.product_indicators: the
# double-mean-centred product-indicator ("dblcent") latent interaction fit of
# lavaan, with the product indicators made by semTools::indProd(match = FALSE,
# meanC = TRUE, residualC = FALSE, doubleMC = TRUE) (Lin et al., 2010), all
# pairs of indicators, and free residual covariances between every two product
# indicators that share an indicator (modsem's res.cov.method = "simple",
# res.cov.across = TRUE).
#
# Run standalone from the repository root:
#     Rscript tests/reference/R/moderation.R
# or source() it from tests/reference/make_reference.R.  It writes
#     tests/reference/data/moderation_ckm.csv      (the simulated CKM-shaped data)
#     tests/reference/json/moderation_<name>.json  (lavaan's results)
# and reads tests/reference/data/oneInt.csv (modsem's oneInt, unchanged).
# Everything is done inside local(); the global random-number state is restored.

local({
  suppressPackageStartupMessages({
    library(lavaan)
    library(semTools)
    library(jsonlite)
  })

  find_reference_dir <- function() {
    is_ref <- function(d) length(d) == 1L && !is.na(d) &&
      file.exists(file.path(d, "R", "moderation.R"))
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
    stop("moderation.R: cannot find tests/reference; run it from the repository root")
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

  # ---- the dblcent specification, written out independently of the Python code ----
  # terms: list of c(X, Z); ind: named list factor -> indicators.
  # Returns the product-indicator data and the lavaan lines to add.
  dblcent_spec <- function(d, terms, ind) {
    lines <- character(0)
    members <- list()  # product indicator -> the two indicators it is made of
    for (tm in terms) {
      v1 <- ind[[tm[1]]]
      v2 <- ind[[tm[2]]]
      p <- indProd(d, var1 = v1, var2 = v2, match = FALSE, meanC = TRUE,
                   residualC = FALSE, doubleMC = TRUE)
      new <- setdiff(names(p), names(d))
      d <- p
      lines <- c(lines, paste0(tm[1], ".", tm[2], " =~ ", paste(new, collapse = " + ")))
      for (nm in new) {
        parts <- strsplit(nm, ".", fixed = TRUE)[[1]]
        members[[nm]] <- parts
      }
    }
    prods <- names(members)
    if (length(prods) > 1L) {
      for (i in seq_len(length(prods) - 1L)) for (j in (i + 1L):length(prods)) {
        if (length(intersect(members[[prods[i]]], members[[prods[j]]])) > 0L)
          lines <- c(lines, paste0(prods[i], " ~~ ", prods[j]))
      }
    }
    list(data = d, lines = lines)
  }

  # ---- data sets ------------------------------------------------------------------
  # 1. modsem's oneInt (Kenny-Judd elementary interaction model, N = 2000)
  make_oneint <- function() {
    d <- read.csv(file.path(data_dir, "oneInt.csv"))
    list(
      data = d,
      data_csv = "data/oneInt.csv",
      model = paste("X =~ x1 + x2 + x3", "Z =~ z1 + z2 + z3", "Y =~ y1 + y2 + y3",
                    "Y ~ X + Z + X:Z", sep = "\n"),
      base = paste("X =~ x1 + x2 + x3", "Z =~ z1 + z2 + z3", "Y =~ y1 + y2 + y3",
                   "Y ~ X + Z + X.Z", sep = "\n"),
      terms = list(c("X", "Z")),
      ind = list(X = paste0("x", 1:3), Z = paste0("z", 1:3))
    )
  }

  # 2. CKM-shaped: the default study model (13 factors, 53 items), N = 400,
  #    seven-point items, with CKM x customer turbulence and CKM x technological
  #    turbulence interactions on insight (INS).
  make_ckm <- function() {
    set.seed(20240917)
    n <- 400L
    exo <- c("CIP", "TMI", "RTS", "OST", "CUL", "STG", "CTU", "TTU", "CPT")
    q <- length(exo)
    phi <- matrix(0.3, q, q); diag(phi) <- 1
    phi[7:9, 1:6] <- phi[1:6, 7:9] <- 0.1
    xi <- matrix(rnorm(n * q), n, q) %*% chol(phi)
    colnames(xi) <- exo
    ckm <- as.vector(xi[, 1:6] %*% c(.25, .20, .15, .10, .20, .15)) + rnorm(n, sd = .6)
    ins <- .45 * ckm + .20 * xi[, "CTU"] + .15 * xi[, "TTU"] + .10 * xi[, "CPT"] +
      .25 * ckm * xi[, "CTU"] + .15 * ckm * xi[, "TTU"] + rnorm(n, sd = .6)
    sat <- .40 * ckm + .15 * xi[, "CTU"] + rnorm(n, sd = .7)
    loy <- .50 * sat + .20 * ckm + rnorm(n, sd = .7)
    eta <- cbind(xi, CKM = ckm, INS = ins, SAT = sat, LOY = loy)
    items <- list(CIP = 4, TMI = 4, RTS = 4, OST = 4, CUL = 4, STG = 4, CKM = 5,
                  INS = 4, SAT = 4, LOY = 4, CTU = 4, TTU = 4, CPT = 4)
    out <- list()
    for (f in names(items)) {
      for (j in seq_len(items[[f]])) {
        lam <- c(.9, .8, .75, .7, .85)[j]
        y <- 4 + lam * eta[, f] + rnorm(n, sd = .6)
        out[[paste0(tolower(f), j)]] <- pmin(7L, pmax(1L, as.integer(round(y))))
      }
    }
    d <- as.data.frame(out)
    csv <- file.path(data_dir, "moderation_ckm.csv")
    write.csv(d, csv, row.names = FALSE)
    d <- read.csv(csv)
    study <- paste(readLines(file.path(ref_dir, "..", "..", "ckm_research", "models",
                                       "ckm_study.lav")), collapse = "\n")
    ind <- list(CKM = paste0("ckm", 1:5), CTU = paste0("ctu", 1:4), TTU = paste0("ttu", 1:4))
    list(
      data = d,
      data_csv = "data/moderation_ckm.csv",
      model = paste(study, "INS ~ CKM:CTU + CKM:TTU", sep = "\n"),
      base = paste(study, "INS ~ CKM.CTU + CKM.TTU", sep = "\n"),
      terms = list(c("CKM", "CTU"), c("CKM", "TTU")),
      ind = ind
    )
  }

  fm_names <- c("npar", "fmin", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df",
                "cfi", "tli", "logl", "unrestricted.logl", "aic", "bic", "rmsea", "srmr")

  export <- function(name, spec) {
    pi <- dblcent_spec(spec$data, spec$terms, spec$ind)
    syntax <- paste(c(spec$base, pi$lines), collapse = "\n")
    fit <- sem(syntax, data = pi$data, estimator = "ML")
    pe <- parameterEstimates(fit, standardized = TRUE)
    pe_cols <- c("lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci.lower", "ci.upper",
                 "std.all")
    prods <- setdiff(names(pi$data), names(spec$data))
    out <- list(
      name = name,
      lavaan_version = as.character(packageVersion("lavaan")),
      semTools_version = as.character(packageVersion("semTools")),
      generated_by = "tests/reference/R/moderation.R",
      data_csv = spec$data_csv,
      model = spec$model,
      lavaan_syntax = syntax,
      call = paste("indProd(data, var1, var2, match = FALSE, meanC = TRUE,",
                   "residualC = FALSE, doubleMC = TRUE); sem(syntax, data, estimator = \"ML\")"),
      converged = lavInspect(fit, "converged"),
      nobs = lavInspect(fit, "nobs"),
      product_names = prods,
      product_means = as.list(colMeans(pi$data[, prods])),
      product_sds = as.list(apply(pi$data[, prods], 2, sd)),
      parameter_estimates = lapply(as.list(pe[, pe_cols]), function(v) if (is.numeric(v)) as.numeric(v) else v),
      fit_measures = as.list(fitMeasures(fit, fm_names))
    )
    path <- file.path(json_dir, paste0("moderation_", name, ".json"))
    write_json(out, path, digits = NA, auto_unbox = TRUE, pretty = FALSE)
    message("wrote ", path)
  }

  export("oneint_dblcent", make_oneint())
  export("ckm_dblcent", make_ckm())
})
