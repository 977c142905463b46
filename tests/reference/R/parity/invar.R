# Parity topic "invar": measurement invariance done right (issue 12).
#
#  * partial invariance, HS 3-factor CFA by school (ML and MLR): the scalar model
#    (group.equal loadings + intercepts) with lavTestScore(fit)$uni and the parameter
#    each constraint's group-1 label (.pK.) belongs to; the partial scalar models that
#    free the intercepts ckm's search picks, one at a time (x3~1, then x7~1: the largest
#    univariate score tests), each with lavTestScore and lavTestLRT against the metric
#    model; the strict model keeping those intercepts free, against the partial scalar one.
#  * ordinal invariance of Wu & Estabrook (2016): the HS items cut into 3-5 categories
#    (data/parity_ordinal_hs_groups.csv, written by ordinal.R), WLSMV, the models of
#    semTools::measEq.syntax(ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016",
#    parameterization = "delta") for configural, thresholds, thresholds + loadings and
#    thresholds + loadings + intercepts, each with lavTestLRT (satorra.2000) against the
#    level before.
invar_ord_csv <- "data/parity_ordinal_hs_groups.csv"
invar_ord_items <- paste0("x", 1:9)
invar_levels <- list(
  configural = "configural",
  thresholds = "thresholds",
  thresholds_loadings = c("thresholds", "loadings"),
  thresholds_loadings_intercepts = c("thresholds", "loadings", "intercepts"))
invar_we_syntax <- local({
  d <- read.csv(file.path(ref_dir, invar_ord_csv))
  lapply(invar_levels, function(ge)
    as.character(semTools::measEq.syntax(
      hs_model, data = d, ordered = invar_ord_items, parameterization = "delta",
      ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016", group = "school",
      group.equal = ge)))
})

# lavTestScore with, for each constraint, the parameter of its left-hand label
invar_score <- function(fit) {
  st <- lavTestScore(fit)
  pt <- parTable(fit)
  uni <- as.data.frame(st$uni)
  k <- match(uni$lhs, pt$plabel)
  uni$param <- paste0(pt$lhs[k], pt$op[k], pt$rhs[k])
  list(score_test = json_ready(as.data.frame(st$test)), score_uni = json_ready(uni))
}
invar_lrt <- function(against_args)
  function(fit) {
    d <- read.csv(file.path(ref_dir, hs_csv))
    fit0 <- do.call("cfa", c(list(model = hs_model, data = d), against_args))
    lrt <- lavTestLRT(fit0, fit)
    list(lrt = json_ready(as.data.frame(lrt)), lrt_method = attr(lrt, "heading"),
         against = json_ready(as.list(fitMeasures(fit0))))
  }
invar_hs <- function(name, what, est, group.equal, group.partial = NULL, against = NULL) {
  args <- c(list(estimator = est, group = "school", group.equal = group.equal),
            if (is.null(group.partial)) list() else list(group.partial = group.partial))
  case(paste0("invar_hs_", name), sprintf("HS 3-factor CFA by school, %s, %s", est, what),
       "cfa", hs_model, hs_csv, args = args, information = FALSE,
       extra = function(fit) c(
         invar_score(fit),
         if (is.null(against)) list()
         else invar_lrt(c(list(estimator = est, group = "school"), against))(fit)))
}
invar_metric <- list(group.equal = "loadings")
invar_we <- function(name, against)
  case(paste0("invar_we_", name),
       sprintf("ordinal HS by school, WLSMV, measEq.syntax Wu & Estabrook (2016), std.lv, %s",
               paste(invar_levels[[name]], collapse = " + ")),
       "cfa", invar_we_syntax[[name]], invar_ord_csv,
       args = list(estimator = "WLSMV", ordered = invar_ord_items, group = "school"),
       information = FALSE,
       extra = function(fit) {
         if (is.null(against)) return(list(level = invar_levels[[name]]))
         d <- read.csv(file.path(ref_dir, invar_ord_csv))
         fit0 <- cfa(invar_we_syntax[[against]], data = d, estimator = "WLSMV",
                     ordered = invar_ord_items, group = "school")
         lrt <- lavTestLRT(fit0, fit)
         list(level = invar_levels[[name]], against = against,
              lrt = json_ready(as.data.frame(lrt)), lrt_method = attr(lrt, "heading"))
       })

c(
  unlist(lapply(c("ML", "MLR"), function(est) {
    e <- tolower(est)
    list(
      invar_hs(paste0("scalar_", e), "group.equal loadings + intercepts", est,
               c("loadings", "intercepts"), against = invar_metric),
      invar_hs(paste0("scalar_partial1_", e), "scalar, group.partial x3~1", est,
               c("loadings", "intercepts"), "x3~1", against = invar_metric),
      invar_hs(paste0("scalar_partial2_", e), "scalar, group.partial x3~1, x7~1", est,
               c("loadings", "intercepts"), c("x3~1", "x7~1"), against = invar_metric),
      invar_hs(paste0("strict_partial_", e),
               "strict (+ residuals), group.partial x3~1, x7~1", est,
               c("loadings", "intercepts", "residuals"), c("x3~1", "x7~1"),
               against = list(group.equal = c("loadings", "intercepts"),
                              group.partial = c("x3~1", "x7~1"))))
  }), recursive = FALSE),
  list(
    invar_we("configural", NULL),
    invar_we("thresholds", "configural"),
    invar_we("thresholds_loadings", "thresholds"),
    invar_we("thresholds_loadings_intercepts", "thresholds_loadings"))
)
