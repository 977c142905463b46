# Shared tools of the lavaan fixture scripts (engine.R, parity.R): JSON with
# full precision, lavaan objects -> JSON-ready lists, and run_case(), which fits
# one case and writes json/<fixture_prefix>_<case>.json.
#
# Sourced with source(..., local = TRUE) from inside a script's local() block,
# after it has set ref_dir and json_dir (and fixture_prefix, "engine" unless
# set), so the functions below see those names.  A case is made by case();
# its optional `extra` is a function(fit) returning a named list of further
# lavaan outputs (modification indices, factor scores, ...) to store.
if (!exists("fixture_prefix", inherits = FALSE)) fixture_prefix <- "engine"

# ---- JSON with full precision ----------------------------------------------
# jsonlite prints at most 15 significant digits; numbers are therefore
# pre-formatted with %.17g and passed through verbatim.
num_json <- function(x) {
  s <- sprintf("%.17g", x)
  s[!is.finite(x)] <- "null"
  s
}
verbatim <- function(s) structure(s, class = "json")
json_ready <- function(x) {
  if (is.null(x)) return(NA)
  if (is.factor(x)) x <- as.character(x)
  if (is.data.frame(x)) {
    cols <- lapply(x, json_ready_column)
    rows <- lapply(seq_len(nrow(x)), function(i) lapply(cols, function(col) col[[i]]))
    rn <- attr(x, "row.names")
    if (is.character(rn)) names(rows) <- rn
    return(rows)
  }
  if (is.matrix(x)) {
    x <- unclass(x)
    attr(x, "class") <- NULL
    vals <- lapply(seq_len(nrow(x)), function(i) row_json(x[i, ]))
    return(list(rownames = I(as.character(rownames(x) %||% character(0))),
                colnames = I(as.character(colnames(x) %||% character(0))),
                values = vals))
  }
  if (is.list(x)) {
    out <- lapply(unclass(x), json_ready)
    return(out)
  }
  if (is.numeric(x)) {
    nm <- names(x)
    return(numeric_json(as.numeric(unclass(x)), names = nm))  # drops lavaan's print classes
  }
  if (is.character(x) || is.logical(x)) {
    if (!is.null(names(x)) && length(x) > 0) return(as.list(x))
    return(if (length(x) == 1L) x else I(x))
  }
  x
}
`%||%` <- function(a, b) if (is.null(a)) b else a
row_json <- function(v) verbatim(paste0("[", paste(num_json(as.numeric(v)), collapse = ","), "]"))
numeric_json <- function(x, names = NULL) {
  if (!is.null(names)) {
    out <- lapply(num_json(x), verbatim)
    names(out) <- names
    return(out)
  }
  if (length(x) == 1L) return(verbatim(num_json(x)))
  row_json(x)
}
json_ready_column <- function(col) {
  if (is.factor(col)) col <- as.character(col)
  if (is.numeric(col)) return(lapply(num_json(as.numeric(col)), verbatim))
  as.list(col)
}
# named numeric vectors (fit measures, means, thresholds) become objects
named_num <- function(x) {
  x <- unclass(x)
  numeric_json(as.numeric(x), names = names(x))
}
write_fixture <- function(x, path) {
  write_json(x, path, digits = NA, auto_unbox = TRUE, pretty = FALSE,
             json_verbatim = TRUE, na = "null")
}

# ---- lavaan objects -> JSON-ready lists --------------------------------------
moments <- function(m) {
  # one group: list(cov = , mean = , th = , ...) ; several: list of those
  one <- function(g) {
    out <- list()
    for (k in names(g)) {
      v <- g[[k]]
      out[[k]] <- if (is.matrix(v)) json_ready(v) else if (is.numeric(v)) named_num(v) else json_ready(v)
    }
    out
  }
  if (!is.null(names(m)) && all(names(m) %in% c("cov", "mean", "th", "res.cov", "res.int",
                                               "res.th", "res.slopes", "cov.x", "mean.x",
                                               "slopes", "wt", "nobs", "group.w", "cov.z",
                                               "mean.z", "cov.se", "mean.se", "type", "summary")))
    one(m) else lapply(m, one)
}
safely <- function(expr, what) {
  t0 <- proc.time()[["elapsed"]]
  val <- tryCatch(expr, error = function(e) {
    message(sprintf("    %s failed: %s", what, conditionMessage(e)))
    structure(list(error = conditionMessage(e)), class = "failed")
  })
  list(value = val, seconds = proc.time()[["elapsed"]] - t0)
}
failed <- function(v) inherits(v, "failed")

pe_columns <- c("lhs", "op", "rhs", "block", "group", "label", "exo", "est", "se", "z",
                "pvalue", "ci.lower", "ci.upper", "std.lv", "std.all", "std.nox")
estimates_table <- function(fit) {
  pe <- parameterEstimates(fit, standardized = TRUE)
  if (is.null(pe$label)) pe$label <- ""  # lavaan adds the column only when a label exists
  ss <- standardizedSolution(fit, type = "std.all")
  key <- function(d) paste(d$lhs, d$op, d$rhs, if (is.null(d$group)) 1L else d$group, sep = "\r")
  m <- match(key(pe), key(ss))
  if (anyNA(m)) stop("standardizedSolution rows do not match parameterEstimates rows")
  ss <- ss[m, ]
  if (max(abs(ss$est.std - pe$std.all), na.rm = TRUE) > 1e-12)
    stop("standardizedSolution est.std differs from parameterEstimates std.all")
  pe$se.std <- ss$se
  pe$z.std <- ss$z
  pe$pvalue.std <- ss$pvalue
  pe$ci.lower.std <- ss$ci.lower
  pe$ci.upper.std <- ss$ci.upper
  keep <- c(intersect(pe_columns, names(pe)),
            "se.std", "z.std", "pvalue.std", "ci.lower.std", "ci.upper.std")
  pe <- as.data.frame(pe[, keep])
  rownames(pe) <- NULL
  pe
}
partable <- function(fit) {
  pt <- as.data.frame(parTable(fit))
  keep <- intersect(c("id", "lhs", "op", "rhs", "user", "block", "group", "free", "ustart",
                      "exo", "label", "plabel", "start", "est", "se"), names(pt))
  pt[, keep]
}
test_info <- function(fit) {
  lapply(lavInspect(fit, "test"), function(t) {
    keep <- setdiff(names(t), c("stat.group", "UGamma", "UfromUGamma"))
    lapply(t[keep], function(v) if (is.numeric(v)) numeric_json(as.numeric(v)) else v)
  })
}
option_names <- c("estimator", "se", "test", "information", "observed.information",
                  "h1.information", "h1.information.meat", "information.meat", "missing",
                  "likelihood", "mimic", "meanstructure", "int.ov.free", "int.lv.free",
                  "fixed.x", "conditional.x", "std.lv", "auto.fix.first", "auto.fix.single",
                  "auto.var", "auto.cov.lv.x", "auto.cov.y", "auto.th", "auto.delta",
                  "orthogonal", "parameterization", "ordered", "std.ov", "sample.cov.rescale",
                  "optim.method", "optim.gradient", "bounds", "em.h1.iter.max", "em.h1.tol",
                  "zero.add", "zero.keep.margins", "zero.cell.warn", "scaled.test",
                  "ov.order", "representation", "do.fit", "check.gradient", "baseline",
                  "h1", "bootstrap", "level", "rotation")

# ---- one case ----------------------------------------------------------------
run_case <- function(spec) {
  path <- file.path(json_dir, paste0(fixture_prefix, "_", spec$name, ".json"))
  message(sprintf("%s: %s ...", fixture_prefix, spec$name))
  d <- read.csv(file.path(ref_dir, spec$data_csv))
  args <- c(list(model = spec$model, data = d), spec$args)
  warns <- character(0)
  t0 <- proc.time()[["elapsed"]]
  fit <- withCallingHandlers(do.call(spec$fun, args), warning = function(w) {
    warns <<- c(warns, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  fit_seconds <- proc.time()[["elapsed"]] - t0
  message(sprintf("    fitted in %.1f s", fit_seconds))
  timing <- list(fit = fit_seconds)
  grab <- function(name, expr) {
    r <- safely(expr, name)
    timing[[name]] <<- r$seconds
    r$value
  }
  fm <- grab("fitMeasures", fitMeasures(fit))
  message(sprintf("    fitMeasures in %.1f s", timing$fitMeasures))
  est <- grab("parameterEstimates", estimates_table(fit))
  implied <- grab("implied", lavInspect(fit, "implied"))
  sampstat <- grab("sampstat", lavInspect(fit, "sampstat"))
  rstd <- grab("resid_standardized", resid(fit, type = "standardized"))
  lres <- grab("lavResiduals", lavResiduals(fit))
  r2 <- grab("rsquare", lavInspect(fit, "rsquare"))
  info <- if (isTRUE(spec$information)) {
    list(
      information = grab("information", lavInspect(fit, "information")),
      information.expected = grab("information.expected", lavInspect(fit, "information.expected")),
      information.observed = grab("information.observed", lavInspect(fit, "information.observed")),
      information.first.order = grab("information.first.order",
                                     lavInspect(fit, "information.first.order")),
      vcov = grab("vcov", lavInspect(fit, "vcov"))
    )
  } else NULL
  total <- proc.time()[["elapsed"]] - t0
  message(sprintf("    done in %.1f s", total))

  opts <- lavInspect(fit, "options")
  used <- opts[intersect(option_names, names(opts))]
  lres_one <- function(lres) {
    out <- list(type = lres$type)
    for (k in setdiff(names(lres), c("type", "summary")))
      out[[k]] <- if (is.matrix(lres[[k]])) json_ready(lres[[k]]) else named_num(lres[[k]])
    if (!is.null(lres$summary)) out$summary <- json_ready(as.data.frame(lres$summary))
    out
  }
  # several groups: one list per group, named by the group label
  lres_out <- if (failed(lres)) unclass(lres) else if (is.null(lres$type))
    lapply(lres, lres_one) else lres_one(lres)
  resid_out <- function(r) {
    if (failed(r)) return(unclass(r))
    out <- list()
    for (k in names(r))
      out[[k]] <- if (is.matrix(r[[k]])) json_ready(r[[k]]) else if (is.numeric(r[[k]]))
        named_num(r[[k]]) else if (is.list(r[[k]])) resid_out(r[[k]]) else r[[k]]
    out
  }
  call_args <- vapply(names(spec$args), function(a) {
    v <- spec$args[[a]]
    if (is.character(v) && length(v) > 3) sprintf("%s = <%d names>", a, length(v))
    else paste(a, "=", paste(deparse(v), collapse = ""))
  }, "")
  extra <- list()
  if (identical(spec$args$missing, "ml")) {
    pats <- lavInspect(fit, "patterns")
    extra$n_patterns <- nrow(pats)
    extra$coverage_min <- min(lavInspect(fit, "coverage"))
  }
  out <- list(
    case = spec$name,
    description = spec$description,
    generated_by = sprintf("tests/reference/R/%s.R (via tests/reference/make_reference.R)", fixture_prefix),
    lavaan_version = as.character(packageVersion("lavaan")),
    semTools_version = if (requireNamespace("semTools", quietly = TRUE))
      as.character(packageVersion("semTools")) else NULL,
    R_version = R.version$version.string,
    created = format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z"),
    model = spec$model,
    data_csv = spec$data_csv,
    fun = spec$fun,
    call = sprintf("%s(model, data, %s)", spec$fun, paste(call_args, collapse = ", ")),
    args = lapply(spec$args, function(v) if (is.character(v) && length(v) > 1) I(v) else v),
    nobs = lavInspect(fit, "nobs"),
    norig = lavInspect(fit, "norig"),
    ntotal = lavInspect(fit, "ntotal"),
    case_idx = I(lavInspect(fit, "case.idx")),
    npar = lavInspect(fit, "npar"),
    converged = lavInspect(fit, "converged"),
    iterations = lavInspect(fit, "iterations"),
    warnings = I(warns),
    timing_seconds = fit_seconds,
    timing = lapply(timing, function(s) round(s, 3)),
    lavaan_timing = lapply(lavInspect(fit, "timing"), function(s) as.numeric(s)),
    options = used,
    estimates = json_ready(est),
    partable = json_ready(partable(fit)),
    fit = if (failed(fm)) unclass(fm) else named_num(fm),
    test = test_info(fit),
    implied = moments(implied),
    sampstat = moments(sampstat),
    resid_standardized = resid_out(rstd),
    lavResiduals = lres_out,
    rsquare = if (failed(r2)) unclass(r2) else if (is.list(r2)) lapply(r2, named_num) else
      named_num(r2),
    information = if (is.null(info)) NULL else lapply(info, function(m)
      if (failed(m)) unclass(m) else json_ready(m))
  )
  if (!is.null(spec$extra)) extra <- c(extra, spec$extra(fit))
  out <- c(out, extra)
  out <- out[!vapply(out, is.null, TRUE)]
  write_fixture(out, path)
  check_precision(path, fit, fm, est)
  message(sprintf("    wrote %s", sub(paste0(dirname(dirname(ref_dir)), "/"), "", path)))
  invisible(out)
}

# read the file back: values must be lavaan's to the last bit (R's reader may
# be 1 ulp off on 17-digit input, hence the 1e-15 relative tolerance)
check_precision <- function(path, fit, fm, est) {
  back <- fromJSON(path, simplifyVector = FALSE)
  f_back <- vapply(back$fit[names(fm)], function(v) if (is.null(v)) NA_real_ else v, 0)
  e_back <- vapply(back$estimates, function(r) if (is.null(r$est)) NA_real_ else r$est, 0)
  rel <- function(a, b) {
    ok <- is.finite(a) & is.finite(b)
    if (!any(ok)) return(0)
    max(abs(a[ok] - b[ok]) / pmax(abs(b[ok]), 1e-300))
  }
  worst <- max(rel(f_back, as.numeric(fm)), rel(e_back, est$est))
  if (worst > 1e-15) stop(sprintf("%s: values lost precision (relative %.2g)", path, worst))
  if (any(is.finite(unname(f_back)) != is.finite(as.numeric(fm))))
    stop(sprintf("%s: finite/non-finite fit measures changed on the way to JSON", path))
}

# ---- a case ----------------------------------------------------------------------
case <- function(name, description, fun, model, data_csv, args = list(), information = TRUE,
                 extra = NULL)
  list(name = name, description = description, fun = fun, model = model,
       data_csv = data_csv, args = args, information = information, extra = extra)

# ---- which cases: CKM_REF_CASES ("a,b" only those; "-a" all but a) ------------------
selected_cases <- function(cases, script) {
  sel <- trimws(strsplit(Sys.getenv("CKM_REF_CASES", ""), ",", fixed = TRUE)[[1]])
  sel <- sel[nzchar(sel)]
  drop <- sub("^-", "", sel[startsWith(sel, "-")])
  take <- sel[!startsWith(sel, "-")]
  unknown <- setdiff(c(drop, take), names(cases))
  if (length(unknown))
    stop(script, ": unknown case(s) ", paste(unknown, collapse = ", "), "; cases are ",
         paste(names(cases), collapse = ", "))
  todo <- if (length(take)) take else names(cases)
  setdiff(todo, drop)
}
