# Model constraints beyond a == b (lavaan parity): general linear equalities
# (reparameterised through the null space of the constraint Jacobian in lavaan
# 0.6.14, "ceq.linear"), nonlinear equalities (also on := parameters, fitted by
# nlminb.constr) and inequalities, inactive and active at the solution.
# Besides run_case()'s outputs each case stores what lavaan's constrained
# inference uses: the constraint Jacobian at the solution (con.jac with its
# ceq.idx, cin.idx and inactive.idx) and the Lagrange multipliers (con.lambda).
con_extra <- function(fit) {
  jac <- fit@Model@con.jac
  list(
    con_jac = if (nrow(jac)) json_ready(unclass(matrix(jac, nrow(jac)))) else NULL,
    con_ceq_idx = I(as.integer(attr(jac, "ceq.idx"))),
    con_cin_idx = I(as.integer(attr(jac, "cin.idx"))),
    con_inactive_idx = I(as.integer(attr(jac, "inactive.idx"))),
    con_lambda = I(as.numeric(fit@Model@con.lambda)),
    eq_constraints_linear = fit@Model@eq.constraints
  )
}
hs_lin <- paste(
  "visual =~ x1 + x2 + x3",
  "textual =~ x4 + a*x5 + b*x6",
  "speed =~ x7 + x8 + x9",
  "a + b == 2", sep = "\n")
pd_lin <- paste(
  "ind60 =~ x1 + x2 + x3",
  "dem60 =~ y1 + a*y2 + b*y3 + c*y4",
  "dem65 =~ y5 + y6 + y7 + y8",
  "dem60 ~ ind60",
  "dem65 ~ ind60 + dem60",
  "y1 ~~ y5",
  "y2 ~~ y4 + y6",
  "y3 ~~ y7",
  "y4 ~~ y8",
  "y6 ~~ y8",
  "a == 1.2*b",
  "c == 1.25", sep = "\n")
pd_nonlin <- paste(
  "ind60 =~ x1 + x2 + x3",
  "dem60 =~ y1 + y2 + y3 + y4",
  "dem65 =~ y5 + y6 + y7 + y8",
  "dem60 ~ a*ind60",
  "dem65 ~ ind60 + b*dem60",
  "y1 ~~ y5",
  "y2 ~~ y4 + y6",
  "y3 ~~ y7",
  "y4 ~~ y8",
  "y6 ~~ y8",
  "ab := a*b",
  "ab == 1.2", sep = "\n")
hs_nonlin <- paste(
  "visual =~ x1 + x2 + c*x3",
  "textual =~ x4 + a*x5 + b*x6",
  "speed =~ x7 + x8 + x9",
  "a*b == c", sep = "\n")
# a one-factor model whose unconstrained fit has a Heywood case (y3's residual
# variance -0.11): the bound v > 0.01 is the usual remedy and is active
heywood_csv <- "data/parity_constraints_heywood.csv"
local({
  set.seed(4)
  n <- 60
  f <- rnorm(n)
  d <- data.frame(y1 = f + rnorm(n, sd = 0.8), y2 = f + rnorm(n, sd = 0.8),
                  y3 = 1.3 * f + rnorm(n, sd = 0.1), y4 = 0.5 * f + rnorm(n))
  write.csv(d, file.path(ref_dir, heywood_csv), row.names = FALSE)
})
heywood_model <- "F =~ y1 + y2 + y3 + y4\ny3 ~~ v*y3\nv > 0.01"
hs_ineq_inactive <- paste(
  "visual =~ x1 + a*x2 + b*x3",
  "textual =~ x4 + x5 + x6",
  "speed =~ x7 + x8 + x9",
  "x1 ~~ v*x1",
  "a < b",
  "v > 0.1", sep = "\n")
hs_ineq_active <- paste(
  "visual =~ x1 + a*x2 + b*x3",
  "textual =~ x4 + x5 + x6",
  "speed =~ x7 + x8 + x9",
  "x1 ~~ v*x1",
  "a > b",
  "v > 0.7", sep = "\n")

list(
  case("constraints_hs_linear_ml", "HS CFA, a + b == 2 on two textual loadings, ML",
       "cfa", hs_lin, hs_csv, extra = con_extra),
  case("constraints_hs_linear_mlr", "HS CFA, a + b == 2 on two textual loadings, MLR",
       "cfa", hs_lin, hs_csv, args = list(estimator = "MLR"), extra = con_extra),
  case("constraints_pd_linear_ml", "PoliticalDemocracy, a == 1.2*b and c == 1.25 on dem60 loadings, ML",
       "sem", pd_lin, pd_csv, extra = con_extra),
  case("constraints_pd_nonlinear_ml", "PoliticalDemocracy, ab := a*b; ab == 1.2 (indirect effect fixed), ML",
       "sem", pd_nonlin, pd_csv, extra = con_extra),
  case("constraints_hs_nonlinear_mlr", "HS CFA, a*b == c across loadings, MLR",
       "cfa", hs_nonlin, hs_csv, args = list(estimator = "MLR"), extra = con_extra),
  case("constraints_hs_ineq_inactive_ml", "HS CFA, a < b and v > 0.1, both inactive, ML",
       "cfa", hs_ineq_inactive, hs_csv, extra = con_extra),
  case("constraints_hs_ineq_active_ml", "HS CFA, a > b and v > 0.7, both active, ML",
       "cfa", hs_ineq_active, hs_csv, extra = con_extra),
  case("constraints_fiml_linear_ml", "HS CFA with 10% MCAR (FIML), a + b == 2, ML",
       "cfa", hs_lin, "data/fiml_hs_missing.csv", args = list(missing = "ml"), extra = con_extra),
  case("constraints_fiml_nonlinear_mlr", "HS CFA with 10% MCAR (FIML), a*b == c, MLR",
       "cfa", hs_nonlin, "data/fiml_hs_missing.csv", args = list(estimator = "MLR", missing = "ml"),
       extra = con_extra),
  case("constraints_fiml_ineq_active_ml", "HS CFA with 10% MCAR (FIML), a > b and v > 0.7, ML",
       "cfa", hs_ineq_active, "data/fiml_hs_missing.csv", args = list(missing = "ml"),
       extra = con_extra),
  case("constraints_heywood_bound_ml", "one factor, Heywood case without the bound; v > 0.01 active, ML",
       "cfa", heywood_model, heywood_csv, extra = con_extra),
  case("constraints_hs_ineq_active_mlr", "HS CFA, a > b and v > 0.7, both active, MLR",
       "cfa", hs_ineq_active, hs_csv, args = list(estimator = "MLR"), extra = con_extra)
)
