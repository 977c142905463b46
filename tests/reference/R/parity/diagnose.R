# Parity topic "diagnose" (issue "Every failure a correct diagnosis"): what lavaan
# 0.6.14 fits, warns about or refuses where a model or its data go wrong.
#
#  * Unicode (Chinese) factor and item names: lavaan accepts any syntactic R name;
#  * starting values that lead our optimiser astray (start(1e6)*x2, a latent
#    variance started at 1e-12): lavaan converges to the ordinary solution;
#  * an item on another scale (x1 * 100): lavaan warns "some observed variances are
#    (at least) a factor 1000 times larger than others" and fits;
#  * WLSMV on items with 14-15 categories: lavaan warns "more than 12 levels";
#  * a single label in a multiple-group model: lavaan imposes equality and warns.
#
# The case diagnose_zh_names also stores, in `lavaan_messages`, what lavaan says
# (errors, warnings, the parameter table it builds) for the mistakes fit() refuses
# or warns about: a factor named like a data column, a factor measured by itself,
# two labels or two numbers chained on one parameter, a label chained with a
# number, two labels on a repeated term, a 1e300 cell, an item on a 1e150 scale,
# c(a, a) across groups.
#
# Writes tests/reference/data/parity_diagnose_zh.csv (HS x1..x9 under Chinese
# names), parity_diagnose_x1_100.csv (HS with x1 * 100) and parity_diagnose_hs15.csv
# (HS x1..x9 cut into 15 equal-width intervals, as R's cut(x, 15)).

zh_items <- c("视觉1", "视觉2", "视觉3", "语文1", "语文2", "语文3", "速度1", "速度2", "速度3")
local({
  d <- read.csv(file.path(ref_dir, hs_csv))
  zh <- d[, paste0("x", 1:9)]
  names(zh) <- zh_items
  write.csv(zh, file.path(data_dir, "parity_diagnose_zh.csv"), row.names = FALSE,
            fileEncoding = "UTF-8")
  s <- d
  s$x1 <- s$x1 * 100
  write.csv(s, file.path(data_dir, "parity_diagnose_x1_100.csv"), row.names = FALSE)
  c15 <- d
  for (v in paste0("x", 1:9)) c15[[v]] <- as.integer(cut(c15[[v]], 15))
  write.csv(c15, file.path(data_dir, "parity_diagnose_hs15.csv"), row.names = FALSE)
})
zh_model <- paste(
  "视觉 =~ 视觉1 + 视觉2 + 视觉3",
  "语文 =~ 语文1 + 语文2 + 语文3",
  "速度 =~ 速度1 + 速度2 + 速度3", sep = "\n")

# lavaan's error, warnings and (when it fits) parameter-table rows of one call
lavaan_says <- function(expr, rows = NULL) {
  warns <- character(0)
  out <- tryCatch(withCallingHandlers({
    fit <- expr
    res <- list(error = NA)
    if (!is.null(rows)) {
      pt <- parTable(fit)
      pt <- pt[rows(pt), intersect(c("lhs", "op", "rhs", "group", "label", "free", "ustart",
                                     "start"), names(pt))]
      res$partable <- json_ready(as.data.frame(pt))
    }
    res
  }, warning = function(w) {
    warns <<- c(warns, conditionMessage(w))
    invokeRestart("muffleWarning")
  }), error = function(e) list(error = conditionMessage(e)))
  out$warnings <- I(warns)
  out
}

diagnose_messages <- function(fit) {
  hs <- read.csv(file.path(ref_dir, hs_csv))
  x2_rows <- function(pt) pt$op == "=~" & pt$rhs == "x2"
  big_cell <- hs
  big_cell$x1[6] <- 1e300
  big_scale <- hs
  big_scale$x1 <- big_scale$x1 * 1e150
  list(lavaan_messages = list(
    name_clash = lavaan_says(cfa("x1 =~ x2 + x3 + x4", hs)),
    self_measured = lavaan_says(cfa("x4 =~ x4 + x5 + x6", hs)),
    two_labels = lavaan_says(cfa("visual =~ x1 + a*b*x2 + x3", hs), x2_rows),
    two_numbers = lavaan_says(cfa("visual =~ x1 + 0.5*0.7*x2 + x3", hs), x2_rows),
    label_number = lavaan_says(cfa("visual =~ x1 + a*0.5*x2 + x3", hs), x2_rows),
    repeated_labels = lavaan_says(cfa("visual =~ x1 + a*x2 + b*x2 + x3", hs), x2_rows),
    cell_1e300 = lavaan_says(cfa(hs_model, big_cell)),
    scale_1e150 = lavaan_says(cfa(hs_model, big_scale)),
    c_a_a_groups = lavaan_says(cfa("visual =~ x1 + c(a, a)*x2 + x3", hs, group = "school"),
                               x2_rows)
  ))
}

list(
  case("diagnose_zh_names",
       "HS three-factor CFA with Chinese factor and item names (UTF-8), ML; extra: lavaan's messages for the mistakes fit() refuses or warns about",
       "cfa", zh_model, "data/parity_diagnose_zh.csv", information = FALSE,
       extra = diagnose_messages),
  case("diagnose_start_x2",
       "HS three-factor CFA with start(1e6)*x2 (an identified model with a bad starting value), ML",
       "cfa", sub("x2", "start(1e6)*x2", hs_model, fixed = TRUE), hs_csv,
       information = FALSE),
  case("diagnose_start_lv_tiny",
       "HS three-factor CFA with visual ~~ start(1e-12)*visual, ML",
       "cfa", paste(hs_model, "visual ~~ start(1e-12)*visual", sep = "\n"), hs_csv,
       information = FALSE),
  case("diagnose_x1_100",
       "HS three-factor CFA with x1 multiplied by 100 (lavaan warns about the variances), ML",
       "cfa", hs_model, "data/parity_diagnose_x1_100.csv", information = FALSE),
  case("diagnose_wlsmv_15",
       "HS three-factor CFA, x1..x9 cut into 15 intervals and treated as ordinal, WLSMV (lavaan warns: more than 12 levels)",
       "cfa", hs_model, "data/parity_diagnose_hs15.csv",
       args = list(ordered = paste0("x", 1:9), estimator = "WLSMV"), information = FALSE),
  case("diagnose_single_label_groups",
       "HS three-factor CFA by school with a single label a*x2 (equal across groups; lavaan warns), ML",
       "cfa", sub("x2", "a*x2", hs_model, fixed = TRUE), hs_csv,
       args = list(group = "school"), information = FALSE)
)
