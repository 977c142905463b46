# Reference for ckm_research.moderation.robustness (issue 12, "endogeneity as a
# robustness check"), computed directly in base R (no sandwich, no REndo):
#   * composite-score regressions: item means per construct, predictors mean-centred,
#     products of centred components, lm(), and HC3 standard errors by their formula
#     (X'X)^-1 X' diag(e_i^2 / (1 - h_ii)^2) X (X'X)^-1 (MacKinnon & White, 1985);
#   * Gaussian copula point estimates (Park & Gupta, 2012): lm() with the copula term
#     qnorm(ecdf(P)(P)), the ecdf held in [1e-7, 1 - 1e-7] (REndo's convention), and
#     the OLS estimates without it; Shapiro-Wilk of each regressor.
# Data: tests/reference/data/ckm_sim_n500.csv (the simulated CKM study).
# Run from the repository root: Rscript tests/reference/R/invar_robustness.R
# Writes tests/reference/json/invar_robustness.json.
suppressPackageStartupMessages(library(jsonlite))
ref_dir <- file.path("tests", "reference")
d <- read.csv(file.path(ref_dir, "data", "ckm_sim_n500.csv"))
mean_of <- function(prefix, k) rowMeans(d[, paste0(prefix, seq_len(k))])
sc <- data.frame(CKM = mean_of("ckm", 5), INS = mean_of("ins", 4), CTU = mean_of("ctu", 4),
                 SAT = mean_of("sat", 4))
cen <- function(x) x - mean(x)
hc3 <- function(fit) {
  X <- model.matrix(fit); e <- resid(fit); h <- hatvalues(fit)
  B <- solve(crossprod(X))
  sqrt(diag(B %*% t(X) %*% (X * (e^2 / (1 - h)^2)) %*% B))
}
tidy <- function(fit, se) {
  b <- coef(fit)
  list(rhs = names(b), est = unname(b), se = unname(se))
}
# INS ~ CKM + CTU + CKM:CTU (centred), SAT ~ CKM + CTU (centred)
ins <- lm(INS ~ CKMc + CTUc + CKMxCTU,
          data = transform(sc, CKMc = cen(CKM), CTUc = cen(CTU), CKMxCTU = cen(CKM) * cen(CTU)))
sat <- lm(SAT ~ CKMc + CTUc, data = transform(sc, CKMc = cen(CKM), CTUc = cen(CTU)))
cop <- function(p) qnorm(pmin(pmax(ecdf(p)(p), 1e-7), 1 - 1e-7))
ins_cop <- lm(INS ~ CKM + CTU + CKMxCTU + cop(CKM) + cop(CTU),
              data = transform(sc, CKMxCTU = cen(CKM) * cen(CTU)))
ins_ols <- lm(INS ~ CKM + CTU + CKMxCTU, data = transform(sc, CKMxCTU = cen(CKM) * cen(CTU)))
sat_cop <- lm(SAT ~ CKM + CTU + cop(CKM) + cop(CTU), data = sc)
out <- list(
  generated_by = "tests/reference/R/invar_robustness.R",
  R_version = R.version$version.string,
  data_csv = "data/ckm_sim_n500.csv",
  composite = list(
    INS = c(tidy(ins, hc3(ins)), list(r2 = summary(ins)$r.squared, n = nobs(ins))),
    SAT = c(tidy(sat, hc3(sat)), list(r2 = summary(sat)$r.squared, n = nobs(sat)))),
  copula = list(
    INS = list(rhs = names(coef(ins_cop)), est = unname(coef(ins_cop)),
               est_ols = unname(coef(ins_ols))),
    SAT = list(rhs = names(coef(sat_cop)), est = unname(coef(sat_cop)))),
  shapiro = list(CKM = shapiro.test(sc$CKM)$p.value, CTU = shapiro.test(sc$CTU)$p.value,
                 CKM_W = unname(shapiro.test(sc$CKM)$statistic))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(ref_dir, "json", "invar_robustness.json"))
