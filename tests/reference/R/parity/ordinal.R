# Ordinal items with several groups (lavaan's multiple-group conventions for
# ordered data in the delta parameterization, lav_partable_flat of lavaan
# 0.6.14), the steps of ordinal measurement invariance (Wu & Estabrook, 2016):
#   configural     thresholds free, scaling factors ~*~ fixed at 1, latent means 0
#   thresholds     thresholds equal; in groups 2.. the scaling factors and the
#                  latent means are free
#   + loadings     also the loadings equal
#   + intercepts   the same model (the intercepts of ordered items stay at 0)
# Data: HS x1..x9 cut into 3-5 ordered categories with the cut points of
# R/ordinal.R's ordinal_hs.csv (no gaps, no missing values, every category in
# both schools), plus school; written here as data/parity_ordinal_hs_groups.csv.
# Mixed ordinal and continuous items (polyserial correlations, lavaan's
# muthen1984): x1..x3 cut as above, x4..x9 continuous, data/parity_ordinal_hs_mixed.csv.
ord_groups_csv <- "data/parity_ordinal_hs_groups.csv"
ord_mixed_csv <- "data/parity_ordinal_hs_mixed.csv"
local({
  cut_q <- function(x, probs) {
    br <- unique(quantile(x, c(0, probs, 1), na.rm = TRUE))
    as.integer(cut(x, breaks = br, include.lowest = TRUE))
  }
  hs <- read.csv(file.path(ref_dir, hs_csv))
  d <- data.frame(
    x1 = cut_q(hs$x1, c(.3, .7)), x2 = cut_q(hs$x2, c(.25, .6)),
    x3 = cut_q(hs$x3, c(.4, .8)), x4 = cut_q(hs$x4, c(.2, .5, .8)),
    x5 = cut_q(hs$x5, c(.15, .45, .75)), x6 = cut_q(hs$x6, c(.3, .6, .9)),
    x7 = cut_q(hs$x7, c(.1, .3, .6, .85)), x8 = cut_q(hs$x8, c(.2, .4, .6, .8)),
    x9 = cut_q(hs$x9, c(.05, .25, .55, .9)),
    school = hs$school)
  write.csv(d, file.path(ref_dir, ord_groups_csv), row.names = FALSE)
  # mixed: x1..x3 ordinal (as above), x4..x9 the continuous HS scores
  m <- cbind(d[, c("x1", "x2", "x3")], hs[, paste0("x", 4:9)], school = hs$school)
  write.csv(m, file.path(ref_dir, ord_mixed_csv), row.names = FALSE)
})
ord_items <- paste0("x", 1:9)
# lavTestLRT (method satorra.2000 for WLSMV/ULSMV) against the less restricted
# model with group.equal = `against` ("none": configural)
lrt_vs <- function(against, est)
  function(fit) {
    d <- read.csv(file.path(ref_dir, ord_groups_csv))
    args <- list(model = hs_model, data = d, estimator = est, ordered = ord_items,
                 group = "school")
    if (!identical(against, "none")) args$group.equal <- against
    fit0 <- do.call("cfa", args)
    lrt <- lavTestLRT(fit0, fit)
    list(lrt_against = against, lrt = json_ready(as.data.frame(lrt)),
         lrt_method = attr(lrt, "heading"))
  }
mi_of <- function(fit) {
  mi <- as.data.frame(modindices(fit))
  rownames(mi) <- NULL
  out <- list(modindices = json_ready(mi))
  if (lavInspect(fit, "ngroups") > 1 && any(parTable(fit)$op == "==")) {
    st <- lavTestScore(fit)
    out$score_test <- json_ready(as.data.frame(st$test))
    out$score_uni <- json_ready(as.data.frame(st$uni))
  }
  out
}
mg <- function(name, what, est = "WLSMV", group.equal = NULL, against = NULL,
               more = list(), mi = FALSE)
  case(paste0("ordinal_mg_", name),
       sprintf("ordinal HS 3-factor CFA, group = \"school\", estimator = \"%s\"%s", est,
               if (is.null(group.equal)) " (configural)"
               else sprintf(", group.equal = c(%s)",
                            paste0('"', group.equal, '"', collapse = ", "))),
       "cfa", hs_model, ord_groups_csv,
       args = c(list(estimator = est, ordered = ord_items, group = "school"),
                if (is.null(group.equal)) list() else list(group.equal = group.equal), more),
       extra = function(fit) c(list(wls_obs = lapply(lavInspect(fit, "wls.obs"), named_num),
                                    what = what),
                               if (is.null(against)) list() else lrt_vs(against, est)(fit),
                               if (mi) mi_of(fit) else list()))
mixed <- function(name, what, model = hs_model, args = list())
  case(paste0("ordinal_mixed_", name),
       sprintf("HS 3-factor CFA, x1..x3 ordered, x4..x9 continuous, WLSMV%s", what),
       "cfa", model, ord_mixed_csv,
       args = c(list(estimator = "WLSMV", ordered = c("x1", "x2", "x3")), args),
       extra = function(fit) list(
         wls_obs = if (lavInspect(fit, "ngroups") > 1)
           lapply(lavInspect(fit, "wls.obs"), named_num) else named_num(lavInspect(fit, "wls.obs")),
         gamma = if (lavInspect(fit, "ngroups") > 1)
           lapply(lavInspect(fit, "gamma"), json_ready) else json_ready(lavInspect(fit, "gamma"))))
theta <- function(name, what, args = list(), csv = ord_groups_csv)
  case(paste0("ordinal_theta_", name),
       sprintf("ordinal HS 3-factor CFA, WLSMV, parameterization = \"theta\"%s", what),
       "cfa", hs_model, csv,
       args = modifyList(list(estimator = "WLSMV", ordered = ord_items,
                              parameterization = "theta"), args))
list(
  theta("cfa", ""),
  theta("configural", ", group = \"school\"", args = list(group = "school")),
  theta("thresholds", ", group = \"school\", group.equal = \"thresholds\"",
        args = list(group = "school", group.equal = "thresholds")),
  theta("thresholds_loadings", ", group = \"school\", group.equal = thresholds + loadings",
        args = list(group = "school", group.equal = c("thresholds", "loadings"))),
  theta("mixed", ", x1..x3 ordered, x4..x9 continuous",
        args = list(ordered = c("x1", "x2", "x3")), csv = ord_mixed_csv),
  mixed("cfa", ""),
  mixed("groups", ", group = \"school\", group.equal = thresholds + loadings",
        args = list(group = "school", group.equal = c("thresholds", "loadings"))),
  mg("configural", "configural", mi = TRUE),
  mg("thresholds", "thresholds", group.equal = "thresholds", against = "none"),
  mg("thresholds_loadings", "thresholds + loadings",
     group.equal = c("thresholds", "loadings"), against = "thresholds", mi = TRUE),
  mg("thresholds_loadings_intercepts", "thresholds + loadings + intercepts",
     group.equal = c("thresholds", "loadings", "intercepts")),
  # with ordered items lavaan adds "thresholds" to "intercepts" (and vice versa)
  mg("intercepts", "intercepts (implies thresholds)", group.equal = "intercepts"),
  mg("loadings", "loadings only", group.equal = "loadings"),
  mg("std_lv_thresholds_loadings", "thresholds + loadings, std.lv = TRUE",
     group.equal = c("thresholds", "loadings"), more = list(std.lv = TRUE)),
  mg("partial_threshold", "thresholds + loadings, group.partial x3|t2",
     group.equal = c("thresholds", "loadings"), more = list(group.partial = "x3|t2")),
  mg("ulsmv_thresholds", "thresholds, ULSMV", est = "ULSMV", group.equal = "thresholds",
     against = "none"),
  mg("wlsm_configural", "configural, WLSM", est = "WLSM"),
  mg("wls_thresholds", "thresholds, full WLS", est = "WLS", group.equal = "thresholds"),
  mg("uls_configural", "configural, ULS", est = "ULS"),
  mg("wlsmvs_thresholds", "thresholds, WLSMVS", est = "WLSMVS", group.equal = "thresholds"),
  mg("dwls_thresholds_loadings", "thresholds + loadings, DWLS", est = "DWLS",
     group.equal = c("thresholds", "loadings"))
)
