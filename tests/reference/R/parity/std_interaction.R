# Parity topic "std_interaction": the standardized latent interaction of a product-indicator
# model, b3 * SD(X) * SD(Z) / SD(Y) (Wen, Marsh & Hau, 2010, eq. 9; modsem's
# standardized_estimates(correction = TRUE)), and its delta-method SE, computed by lavaan's
# `:=` from labelled parameters (lavaan's own delta method is the reference).
#
# Data: the first 500 rows of oneInt (tests/reference/data/oneInt.csv, modsem's example
# data) with the 9 double-mean-centred product indicators of semTools::indProd(match =
# FALSE, meanC = TRUE, residualC = FALSE, doubleMC = TRUE), written to
# tests/reference/data/parity_std_interaction_prod.csv.  The model is modsem's "dblcent"
# (all pairs; residual covariances of products that share an indicator), with every
# latent (co)variance labelled so that Var(Y) can be written out:
#   Var(Y) = b1^2 vx + b2^2 vz + b3^2 vxz + 2 b1 b2 cxz + 2 b1 b3 cx_xz + 2 b2 b3 cz_xz + psi

local({
  d <- read.csv(file.path(data_dir, "oneInt.csv"))[1:500, ]
  prod <- semTools::indProd(d, var1 = c("x1", "x2", "x3"), var2 = c("z1", "z2", "z3"),
                            match = FALSE, meanC = TRUE, residualC = FALSE, doubleMC = TRUE)
  write.csv(round(prod, 10), file.path(data_dir, "parity_std_interaction_prod.csv"),
            row.names = FALSE)
})

std_interaction_model <- local({
  p <- as.vector(t(outer(c("x1", "x2", "x3"), c("z1", "z2", "z3"), paste, sep = ".")))
  members <- strsplit(p, ".", fixed = TRUE)
  covs <- character(0)
  for (i in seq_along(p)) for (j in seq_along(p)) if (i < j &&
      length(intersect(members[[i]], members[[j]])) > 0)
    covs <- c(covs, paste(p[i], "~~", p[j]))
  vy <- paste("(b1^2*vx + b2^2*vz + b3^2*vxz + 2*b1*b2*cxz + 2*b1*b3*cx_xz",
              "+ 2*b2*b3*cz_xz + psi)")
  paste(c(
    "X =~ x1 + x2 + x3", "Z =~ z1 + z2 + z3", "Y =~ y1 + y2 + y3",
    paste("X.Z =~", paste(p, collapse = " + ")),
    "Y ~ b1*X + b2*Z + b3*X.Z",
    "X ~~ vx*X", "Z ~~ vz*Z", "X.Z ~~ vxz*X.Z", "X ~~ cxz*Z", "X ~~ cx_xz*X.Z",
    "Z ~~ cz_xz*X.Z", "Y ~~ psi*Y",
    covs,
    paste0("var_y := ", vy),
    paste0("std_x := b1*sqrt(vx)/sqrt", vy),
    paste0("std_z := b2*sqrt(vz)/sqrt", vy),
    paste0("std_xz := b3*sqrt(vx*vz)/sqrt", vy)
  ), collapse = "\n")
})

list(
  case("std_interaction_dblcent_ml",
       paste("oneInt (first 500 rows), X:Z by dblcent product indicators; ML; := the",
             "standardized paths b*SD(X)/SD(Y) and b3*SD(X)*SD(Z)/SD(Y) with Var(Y) from the",
             "labelled parameters (delta-method SEs by lavaan)"),
       "sem", std_interaction_model, "data/parity_std_interaction_prod.csv",
       args = list(estimator = "ML"), information = FALSE)
)
