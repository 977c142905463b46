# Parity topic "modmed": moderated mediation (second-stage moderation, Hayes 2015).
#
# X -> M -> Y with W moderating M -> Y, all four latent with three indicators, the
# product M:W by double-mean-centred product indicators (semTools::indProd with
# match = FALSE, meanC = TRUE, residualC = FALSE, doubleMC = TRUE; all 9 pairs; free
# residual covariances between products sharing an indicator, as modsem's "dblcent"),
# fitted by lavaan::sem with `:=` definitions of the conditional indirect effects
# a*(b + b3*w) at w = -1, 0, 1, 0.5 and the index of moderated mediation a*b3
# (lavaan's delta-method est/se of the `:=` rows are the reference).
#
# Writes tests/reference/data/parity_modmed.csv (the 12 items; N = 500; set.seed(20261202);
# population a = 0.5, b = 0.4, b3 = 0.25, c' = 0.1, cor(X, W) = 0.3, loadings 1/.8/.7),
# parity_modmed_prod.csv (the same plus the 9 product columns m1.w1 ... m3.w3), and the
# _missing versions (about 8% of the item cells blanked MCAR; products missing where an
# item is, centring at the available means) for a FIML (missing = "ml") case, and
# parity_modmed_composite.csv (the four mean scores x m w y and the double-mean-centred
# product mw of m and w) for the same model on observed composite scores.

local({
  old_seed <- if (exists(".Random.seed", envir = globalenv()))
    get(".Random.seed", envir = globalenv()) else NULL
  on.exit(if (!is.null(old_seed)) assign(".Random.seed", old_seed, envir = globalenv()))
  set.seed(20261202)
  n <- 500
  X <- rnorm(n)
  W <- 0.3 * X + sqrt(1 - 0.09) * rnorm(n)
  M <- 0.5 * X + rnorm(n, sd = sqrt(0.75))
  Y <- 0.1 * X + 0.4 * M + 0.2 * W + 0.25 * M * W + rnorm(n, sd = 0.7)
  lam <- c(1, 0.8, 0.7)
  item <- function(f, p) {
    out <- sapply(1:3, function(j) lam[j] * f + rnorm(n, sd = 0.6))
    colnames(out) <- paste0(p, 1:3)
    out
  }
  d <- as.data.frame(cbind(item(X, "x"), item(M, "m"), item(W, "w"), item(Y, "y")))
  d <- round(d, 5)
  write.csv(d, file.path(data_dir, "parity_modmed.csv"), row.names = FALSE, na = "")
  prod <- semTools::indProd(d, var1 = c("m1", "m2", "m3"), var2 = c("w1", "w2", "w3"),
                            match = FALSE, meanC = TRUE, residualC = FALSE, doubleMC = TRUE)
  write.csv(prod, file.path(data_dir, "parity_modmed_prod.csv"), row.names = FALSE, na = "")
  dm <- d
  dm[matrix(runif(prod(dim(dm))) < 0.08, nrow(dm))] <- NA
  write.csv(dm, file.path(data_dir, "parity_modmed_missing.csv"), row.names = FALSE, na = "")
  pm <- semTools::indProd(dm, var1 = c("m1", "m2", "m3"), var2 = c("w1", "w2", "w3"),
                          match = FALSE, meanC = TRUE, residualC = FALSE, doubleMC = TRUE)
  write.csv(pm, file.path(data_dir, "parity_modmed_missing_prod.csv"), row.names = FALSE,
            na = "")
  # composite (mean) scores and their double-mean-centred product, for the observed case
  comp <- data.frame(x = rowMeans(d[, c("x1", "x2", "x3")]),
                     m = rowMeans(d[, c("m1", "m2", "m3")]),
                     w = rowMeans(d[, c("w1", "w2", "w3")]),
                     y = rowMeans(d[, c("y1", "y2", "y3")]))
  mc <- comp$m - mean(comp$m)
  wc <- comp$w - mean(comp$w)
  comp$mw <- mc * wc - mean(mc * wc)
  write.csv(comp, file.path(data_dir, "parity_modmed_composite.csv"), row.names = FALSE)
})

modmed_structural <- paste(
  "X =~ x1 + x2 + x3", "M =~ m1 + m2 + m3", "W =~ w1 + w2 + w3", "Y =~ y1 + y2 + y3",
  "M ~ a*X", "Y ~ cp*X + b*M + W + b3*M.W", sep = "\n")
modmed_defs <- paste(
  "ind_lo := a*(b + b3*(-1))", "ind_mid := a*b", "ind_hi := a*(b + b3*1)",
  "ind_half := a*(b + b3*0.5)", "imm := a*b3", "direct := cp", sep = "\n")
modmed_products <- local({
  p <- as.vector(t(outer(c("m1", "m2", "m3"), c("w1", "w2", "w3"), paste, sep = ".")))
  members <- lapply(strsplit(p, ".", fixed = TRUE), identity)
  covs <- character(0)
  for (i in seq_along(p)) for (j in seq_along(p)) if (i < j &&
      length(intersect(members[[i]], members[[j]])) > 0)
    covs <- c(covs, paste(p[i], "~~", p[j]))
  paste(c(paste("M.W =~", paste(p, collapse = " + ")), covs), collapse = "\n")
})
modmed_model <- paste(modmed_structural, modmed_defs, modmed_products, sep = "\n")

modmed_composite_model <- paste(
  "m ~ a*x", "y ~ cp*x + b*m + w + b3*mw", modmed_defs, sep = "\n")

list(
  case("modmed_composite_ml",
       paste("moderated mediation on observed composite scores: m ~ a*x, y ~ b*m + b3*mw",
             "with mw the double-mean-centred product of m and w; := as the latent cases"),
       "sem", modmed_composite_model, "data/parity_modmed_composite.csv",
       args = list(estimator = "ML")),
  case("modmed_dblcent_ml",
       paste("moderated mediation X -> M -> Y, W moderating M -> Y by dblcent product",
             "indicators (indProd, all pairs, shared-indicator residual covariances); ML;",
             ":= conditional indirect effects at W = -1, 0, 0.5, 1 and the index a*b3"),
       "sem", modmed_model, "data/parity_modmed_prod.csv", args = list(estimator = "ML"),
       information = FALSE),
  case("modmed_dblcent_fiml",
       paste("the same on parity_modmed_missing (8% MCAR item cells; products missing",
             "where an item is), missing = 'ml' (FIML)"),
       "sem", modmed_model, "data/parity_modmed_missing_prod.csv",
       args = list(estimator = "ML", missing = "ml"), information = FALSE)
)
