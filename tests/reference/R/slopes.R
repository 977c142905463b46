# Reference fixtures for ckm_research.moderation.simple_slopes: simple slopes of a
# double-mean-centred product-indicator latent interaction, probed by
# semTools::probe2WayMC(), and Johnson-Neyman bounds.
#
# The fit is lavaan's dblcent fit of tests/reference/R/moderation.R (the same
# specification): product indicators from semTools::indProd(match = FALSE,
# meanC = TRUE, residualC = FALSE, doubleMC = TRUE) for all pairs of indicators,
# free residual covariances between two product indicators that share an
# indicator, estimator = "ML".
#
# Simple slopes: semTools::probe2WayMC(fit, nameX = c(X, Z, "X.Z"), nameY = Y,
# modVar = Z, valProbe = ...) at the moderator's mean -/+ 1 SD (the latent Z has
# mean 0 in this model, SD = sqrt of its estimated variance) and at a few fixed
# values.  probe2WayMC's slope is gamma_X + gamma_XZ * z, its SE the delta-method
# SE from lavaan's vcov(), z = est / se, p two-sided normal.
#
# Johnson-Neyman: semTools 0.5-6 has no Johnson-Neyman function (plotProbe()
# only draws the probed lines), so the bounds are computed here from the same
# vcov(fit) by the textbook formula (Bauer & Curran, 2005, eq. 6; Preacher,
# Curran & Bauer, 2006): the real roots z of
#   (g3^2 - c^2 v33) z^2 + 2 (g1 g3 - c^2 v13) z + (g1^2 - c^2 v11) = 0,
# c = qnorm(0.975); every bound is checked by re-probing it with probe2WayMC(),
# whose p-value there must be 0.05.
#
# Run from the repository root:
#     Rscript tests/reference/make_reference.R slopes
# (or Rscript tests/reference/R/slopes.R).  It writes
#     tests/reference/data/parity_slopes_weak.csv  (simulated; set.seed)
#     tests/reference/json/slopes_<name>.json
# and reads tests/reference/data/oneInt.csv (modsem's oneInt, unchanged).

local({
  suppressPackageStartupMessages({
    library(lavaan)
    library(semTools)
    library(jsonlite)
  })
  ref_dir <- file.path("tests", "reference")
  if (!file.exists(file.path(ref_dir, "R", "slopes.R")))
    stop("slopes.R: run it from the repository root")
  data_dir <- file.path(ref_dir, "data")
  json_dir <- file.path(ref_dir, "json")

  old_seed <- if (exists(".Random.seed", envir = globalenv())) get(".Random.seed", envir = globalenv()) else NULL
  on.exit({
    if (is.null(old_seed)) {
      if (exists(".Random.seed", envir = globalenv())) rm(".Random.seed", envir = globalenv())
    } else {
      assign(".Random.seed", old_seed, envir = globalenv())
    }
  }, add = TRUE)

  # the dblcent model of X, Z (three indicators each) and X:Z on Y
  dblcent <- function(d, x, z, y) {
    p <- indProd(d, var1 = x, var2 = z, match = FALSE, meanC = TRUE, residualC = FALSE,
                 doubleMC = TRUE)
    prods <- setdiff(names(p), names(d))
    members <- strsplit(prods, ".", fixed = TRUE)
    covs <- character(0)
    for (i in seq_len(length(prods) - 1L)) for (j in (i + 1L):length(prods)) {
      if (length(intersect(members[[i]], members[[j]])) > 0L)
        covs <- c(covs, paste0(prods[i], " ~~ ", prods[j]))
    }
    syntax <- paste(c(paste("X =~", paste(x, collapse = " + ")),
                      paste("Z =~", paste(z, collapse = " + ")),
                      paste("Y =~", paste(y, collapse = " + ")),
                      paste("X.Z =~", paste(prods, collapse = " + ")),
                      "Y ~ X + Z + X.Z", covs), collapse = "\n")
    list(data = p, syntax = syntax)
  }

  probe_frame <- function(tab) {
    # probe2WayMC's SimpleSlope: columns Z (the moderator value), est, se, z, pvalue
    list(moderator_value = as.numeric(tab[[1]]), est = as.numeric(tab$est),
         se = as.numeric(tab$se), z = as.numeric(tab$z), pvalue = as.numeric(tab$pvalue))
  }

  export <- function(name, d, data_csv, rows, description) {
    x <- paste0("x", 1:3); z <- paste0("z", 1:3); y <- paste0("y", 1:3)
    d <- d[rows, , drop = FALSE]
    spec <- dblcent(d, x, z, y)
    fit <- sem(spec$syntax, data = spec$data, estimator = "ML")
    pe <- parameterEstimates(fit)
    sd_z <- sqrt(pe$est[pe$lhs == "Z" & pe$op == "~~" & pe$rhs == "Z"])
    at_sd <- c(-1, 0, 1) * sd_z
    at_fixed <- c(-2, -0.5, 0.25, 1.5)
    nameX <- c("X", "Z", "X.Z")
    pr_sd <- probe2WayMC(fit, nameX = nameX, nameY = "Y", modVar = "Z", valProbe = at_sd)
    pr_fixed <- probe2WayMC(fit, nameX = nameX, nameY = "Y", modVar = "Z",
                            valProbe = at_fixed)

    # Johnson-Neyman from the same vcov (semTools has no JN function)
    V <- lavInspect(fit, "vcov")
    lab <- function(rhs) paste0("Y~", rhs)
    g1 <- coef(fit)[[lab("X")]]
    g3 <- coef(fit)[[lab("X.Z")]]
    v11 <- V[lab("X"), lab("X")]
    v13 <- V[lab("X"), lab("X.Z")]
    v33 <- V[lab("X.Z"), lab("X.Z")]
    crit <- qnorm(0.975)
    qa <- g3^2 - crit^2 * v33
    qb <- 2 * (g1 * g3 - crit^2 * v13)
    qc <- g1^2 - crit^2 * v11
    disc <- qb^2 - 4 * qa * qc
    bounds <- if (disc >= 0) sort(c((-qb - sqrt(disc)) / (2 * qa), (-qb + sqrt(disc)) / (2 * qa))) else numeric(0)
    check <- if (length(bounds)) probe_frame(probe2WayMC(fit, nameX = nameX, nameY = "Y",
                                                         modVar = "Z", valProbe = bounds)$SimpleSlope) else NULL
    if (!is.null(check) && any(abs(check$pvalue - 0.05) > 1e-8))
      stop("slopes.R: the Johnson-Neyman bounds are not where probe2WayMC's p is .05")

    out <- list(
      name = name,
      description = description,
      lavaan_version = as.character(packageVersion("lavaan")),
      semTools_version = as.character(packageVersion("semTools")),
      generated_by = "tests/reference/R/slopes.R",
      data_csv = data_csv,
      rows = c(min(rows), max(rows)),
      model = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z",
      lavaan_syntax = spec$syntax,
      call = paste("probe2WayMC(fit, nameX = c(\"X\", \"Z\", \"X.Z\"), nameY = \"Y\",",
                   "modVar = \"Z\", valProbe = ...)"),
      nobs = lavInspect(fit, "nobs"),
      converged = lavInspect(fit, "converged"),
      sd_z = sd_z,
      coef = list(gamma_x = g1, gamma_z = coef(fit)[[lab("Z")]], gamma_xz = g3),
      vcov = list(v11 = v11, v13 = v13, v33 = v33),
      simple_slopes_sd = probe_frame(pr_sd$SimpleSlope),
      simple_intercepts_sd = probe_frame(pr_sd$SimpleIntcept),
      simple_slopes_fixed = probe_frame(pr_fixed$SimpleSlope),
      johnson_neyman = list(
        method = paste("semTools 0.5-6 has no Johnson-Neyman function: the roots of",
                       "(g3^2 - c^2 v33) z^2 + 2 (g1 g3 - c^2 v13) z + (g1^2 - c^2 v11) = 0,",
                       "c = qnorm(0.975), from lavInspect(fit, 'vcov'), checked by",
                       "probe2WayMC at the bounds (p = .05)"),
        level = 0.95,
        bounds = bounds,
        significant_inside = length(bounds) == 2L && qa < 0,
        always_significant = length(bounds) == 0L && qa > 0,
        never_significant = length(bounds) == 0L && qa < 0,
        probe_at_bounds = check
      )
    )
    path <- file.path(json_dir, paste0("slopes_", name, ".json"))
    write_json(out, path, digits = NA, auto_unbox = TRUE, pretty = FALSE)
    message("wrote ", path)
  }

  one_int <- read.csv(file.path(data_dir, "oneInt.csv"))
  export("oneint_dblcent", one_int, "data/oneInt.csv", seq_len(600),
         "modsem's oneInt, first 600 rows (the rows of tests/test_moderation_slopes.py)")

  # a weak main effect of X, so that the JN bounds fall within +/- 2 SD of Z
  set.seed(20261202)
  n <- 500L
  xi <- matrix(rnorm(n * 2), n, 2) %*% chol(matrix(c(1, .3, .3, 1), 2))
  eta <- 0.10 * xi[, 1] + 0.30 * xi[, 2] + 0.25 * xi[, 1] * xi[, 2] + rnorm(n, sd = .8)
  ind <- function(f, lam) sapply(lam, function(l) l * f + rnorm(n, sd = .6))
  weak <- data.frame(ind(xi[, 1], c(1, .9, .8)), ind(eta, c(1, .85, .8)),
                     ind(xi[, 2], c(1, .9, .75)))
  names(weak) <- c(paste0("x", 1:3), paste0("y", 1:3), paste0("z", 1:3))
  csv <- file.path(data_dir, "parity_slopes_weak.csv")
  write.csv(round(weak, 6), csv, row.names = FALSE)
  weak <- read.csv(csv)
  export("weak_dblcent", weak, "data/parity_slopes_weak.csv", seq_len(n),
         "simulated (set.seed(20261202), N = 500): weak X effect, two JN bounds within the data")
})
