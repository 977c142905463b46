# Reference fixtures for the SEM engine (ckm_research.sem): lavaan's ML, MLR,
# FIML (missing = "ml") and WLSMV fits of the models the engine issue names,
# with everything the engine reports (estimates, SEs, standardized solution
# and its SEs, all fit measures, implied and sample moments, residuals,
# information matrices where small, the options lavaan actually used).
#
# Run from the repository root, through the driver:
#     Rscript tests/reference/make_reference.R engine
#     Rscript tests/reference/make_reference.R engine:hs_cfa_ml,ckm_ml   # some cases
#     Rscript tests/reference/make_reference.R engine:-ckm_fiml          # all but one
# or standalone: Rscript tests/reference/R/engine.R  (cases from the
# environment variable CKM_REF_CASES, same syntax as after "engine:").
#
# It writes
#     tests/reference/data/HolzingerSwineford1939.csv  lavaan's data set, all columns
#     tests/reference/data/PoliticalDemocracy.csv      lavaan's data set
#     tests/reference/data/ecsi_mobi.csv               copy of /work/shared/data/real/ecsi_mobi.csv
#     tests/reference/json/engine_<case>.json          one fixture per case
# and reads the simulated CKM data made by tests/reference/make_data.py.
# Each model is fitted to the data as read back from the CSV, so that Python
# reads exactly what lavaan saw.
#
# Numbers are written with 17 significant digits (jsonlite stops at 15), so a
# correctly rounding reader (Python's json) gets lavaan's doubles bit for bit;
# NA, NaN and Inf are written as null.
#
# Cost on the 2-core reference machine (lavaan 0.6.14, measured while other
# jobs shared the machine; each JSON stores its own "timing"):
#   all cases but ckm_fiml   about 5.5 min, mostly resid(type = "standardized")
#                            and lavResiduals() of the 53-item models
#                            (ckm_ml 1.5 min, ckm_mlr 2.5 min, ckm_wlsmv 1.5-2.5 min)
#   ckm_fiml                 about 30 min: sem() 4 min (3.5 of them the observed
#                            information), fitMeasures() 13 min (the saturated
#                            model by EM), resid() 4 min, lavResiduals() 9 min

local({
  suppressPackageStartupMessages({
    library(lavaan)
    library(jsonlite)
  })

  # ---- where to read and write ---------------------------------------------
  find_reference_dir <- function() {
    is_ref <- function(d) length(d) == 1L && !is.na(d) &&
      file.exists(file.path(d, "R", "engine.R"))
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
    cand <- c(cand, file.path(getwd(), "tests", "reference"), getwd())
    for (d in cand) if (is_ref(d)) return(normalizePath(d))
    stop("engine.R: cannot find tests/reference; run it from the repository root")
  }
  ref_dir <- find_reference_dir()
  data_dir <- file.path(ref_dir, "data")
  json_dir <- file.path(ref_dir, "json")
  dir.create(data_dir, showWarnings = FALSE, recursive = TRUE)
  dir.create(json_dir, showWarnings = FALSE, recursive = TRUE)
  ecsi_source <- "/work/shared/data/real/ecsi_mobi.csv"

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
    path <- file.path(json_dir, paste0("engine_", spec$name, ".json"))
    message(sprintf("engine: %s ...", spec$name))
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
    lres_out <- if (failed(lres)) unclass(lres) else {
      out <- list(type = lres$type)
      for (k in setdiff(names(lres), c("type", "summary")))
        out[[k]] <- if (is.matrix(lres[[k]])) json_ready(lres[[k]]) else named_num(lres[[k]])
      if (!is.null(lres$summary)) out$summary <- json_ready(as.data.frame(lres$summary))
      out
    }
    resid_out <- function(r) {
      if (failed(r)) return(unclass(r))
      out <- list()
      for (k in names(r))
        out[[k]] <- if (is.matrix(r[[k]])) json_ready(r[[k]]) else if (is.numeric(r[[k]]))
          named_num(r[[k]]) else r[[k]]
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
      generated_by = "tests/reference/R/engine.R (via tests/reference/make_reference.R)",
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
      rsquare = if (failed(r2)) unclass(r2) else named_num(r2),
      information = if (is.null(info)) NULL else lapply(info, function(m)
        if (failed(m)) unclass(m) else json_ready(m))
    )
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

  # ---- data ----------------------------------------------------------------------
  hs_csv <- file.path(data_dir, "HolzingerSwineford1939.csv")
  write.csv(HolzingerSwineford1939, hs_csv, row.names = FALSE, na = "")
  pd_csv <- file.path(data_dir, "PoliticalDemocracy.csv")
  write.csv(PoliticalDemocracy, pd_csv, row.names = FALSE, na = "")
  if (file.exists(ecsi_source)) {
    file.copy(ecsi_source, file.path(data_dir, "ecsi_mobi.csv"), overwrite = TRUE)
    Sys.chmod(file.path(data_dir, "ecsi_mobi.csv"), "0644")
  } else if (!file.exists(file.path(data_dir, "ecsi_mobi.csv"))) {
    stop("engine.R: ", ecsi_source, " is absent and no copy exists in tests/reference/data")
  }
  for (f in c("ckm_sim_n500.csv", "ckm_sim_n500_missing.csv", "ckm_sim_ordinal_n900.csv"))
    if (!file.exists(file.path(data_dir, f)))
      stop("engine.R: tests/reference/data/", f, " is absent; run python tests/reference/make_data.py")

  # ---- models --------------------------------------------------------------------
  hs_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
  hs_cov_model <- paste0(hs_model, "\nvisual ~ ageyr + grade")
  pd_model <- paste(
    "# measurement model",
    "ind60 =~ x1 + x2 + x3",
    "dem60 =~ y1 + y2 + y3 + y4",
    "dem65 =~ y5 + y6 + y7 + y8",
    "# regressions",
    "dem60 ~ ind60",
    "dem65 ~ ind60 + dem60",
    "# residual correlations",
    "y1 ~~ y5",
    "y2 ~~ y4 + y6",
    "y3 ~~ y7",
    "y4 ~~ y8",
    "y6 ~~ y8", sep = "\n")
  pd_eq_model <- paste(
    "ind60 =~ x1 + x2 + x3",
    "dem60 =~ y1 + a*y2 + b*y3 + c*y4",
    "dem65 =~ y5 + a*y6 + b*y7 + c*y8",
    "dem60 ~ a1*ind60",
    "dem65 ~ b1*dem60 + c1*ind60",
    "y1 ~~ y5",
    "y2 ~~ y4 + y6",
    "y3 ~~ y7",
    "y4 ~~ y8",
    "y6 ~~ y8",
    "ind := a1*b1",
    "total := c1 + a1*b1", sep = "\n")
  ckm_model <- paste(readLines(file.path(dirname(dirname(ref_dir)), "ckm_research", "models",
                                         "ckm_study.lav")), collapse = "\n")
  ckm_items <- local({
    lines <- sub("#.*$", "", strsplit(ckm_model, "\n")[[1]])
    lines <- lines[grepl("=~", lines)]
    trimws(unlist(strsplit(sub(".*=~", "", lines), "+", fixed = TRUE)))
  })
  ecsi_model <- paste(
    "# ECSI (Tenenhaus et al., 2005), mobile phone providers: four of its constructs",
    "Image        =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5",
    "Expectation  =~ CUEX1 + CUEX2 + CUEX3",
    "Satisfaction =~ CUSA1 + CUSA2 + CUSA3",
    "Loyalty      =~ CUSL1 + CUSL2 + CUSL3",
    "Expectation  ~ Image",
    "Satisfaction ~ Image + Expectation",
    "Loyalty      ~ Image + Satisfaction", sep = "\n")

  case <- function(name, description, fun, model, data_csv, args = list(), information = TRUE)
    list(name = name, description = description, fun = fun, model = model,
         data_csv = data_csv, args = args, information = information)
  hs <- "data/HolzingerSwineford1939.csv"
  pd <- "data/PoliticalDemocracy.csv"
  cases <- list(
    case("hs_cfa_ml", "Holzinger-Swineford 3-factor CFA, ML", "cfa", hs_model, hs,
         list(estimator = "ML")),
    case("hs_cfa_mlr", "Holzinger-Swineford 3-factor CFA, MLR", "cfa", hs_model, hs,
         list(estimator = "MLR")),
    case("hs_cfa_stdlv_ml", "Holzinger-Swineford 3-factor CFA, ML, std.lv = TRUE", "cfa",
         hs_model, hs, list(estimator = "ML", std.lv = TRUE)),
    case("hs_cfa_stdlv_mlr", "Holzinger-Swineford 3-factor CFA, MLR, std.lv = TRUE", "cfa",
         hs_model, hs, list(estimator = "MLR", std.lv = TRUE)),
    case("hs_covariates_ml",
         "HS CFA with visual regressed on observed ageyr and grade (fixed.x = TRUE, lavaan's default); one case with grade NA dropped listwise",
         "sem", hs_cov_model, hs, list(estimator = "ML")),
    case("hs_covariates_fixedx_false_ml",
         "as hs_covariates_ml with fixed.x = FALSE (covariate (co)variances free)", "sem",
         hs_cov_model, hs, list(estimator = "ML", fixed.x = FALSE)),
    case("hs_covariates_mlr", "as hs_covariates_ml, MLR", "sem", hs_cov_model, hs,
         list(estimator = "MLR")),
    case("poldem_ml", "PoliticalDemocracy SEM of the lavaan tutorial, ML", "sem", pd_model, pd,
         list(estimator = "ML")),
    case("poldem_mlr", "PoliticalDemocracy SEM of the lavaan tutorial, MLR", "sem", pd_model, pd,
         list(estimator = "MLR")),
    case("poldem_eq_ml",
         "PoliticalDemocracy SEM with equal loadings across waves (shared labels a b c) and defined indirect and total effects",
         "sem", pd_eq_model, pd, list(estimator = "ML")),
    case("ckm_ml", "CKM study model (13 factors, 53 items), simulated 7-point data N = 500, ML",
         "sem", ckm_model, "data/ckm_sim_n500.csv", list(estimator = "ML"), information = FALSE),
    case("ckm_mlr", "CKM study model, simulated 7-point data N = 500, MLR", "sem", ckm_model,
         "data/ckm_sim_n500.csv", list(estimator = "MLR"), information = FALSE),
    case("ckm_fiml",
         "CKM study model, simulated 7-point data N = 500 with 7% of cells MCAR, FIML (missing = \"ml\"), ML",
         "sem", ckm_model, "data/ckm_sim_n500_missing.csv",
         list(estimator = "ML", missing = "ml"), information = FALSE),
    case("ckm_wlsmv",
         "CKM study model, simulated 5-point data N = 900, all 53 items ordered, WLSMV",
         "sem", ckm_model, "data/ckm_sim_ordinal_n900.csv",
         list(estimator = "WLSMV", ordered = ckm_items), information = FALSE),
    case("ecsi_ml", "ECSI mobi (real data, N = 250): image, expectation, satisfaction, loyalty; ML",
         "sem", ecsi_model, "data/ecsi_mobi.csv", list(estimator = "ML")),
    case("ecsi_mlr", "ECSI mobi: as ecsi_ml, MLR", "sem", ecsi_model, "data/ecsi_mobi.csv",
         list(estimator = "MLR"))
  )
  names(cases) <- vapply(cases, `[[`, "", "name")

  # ---- which cases ---------------------------------------------------------------
  sel <- trimws(strsplit(Sys.getenv("CKM_REF_CASES", ""), ",", fixed = TRUE)[[1]])
  sel <- sel[nzchar(sel)]
  drop <- sub("^-", "", sel[startsWith(sel, "-")])
  take <- sel[!startsWith(sel, "-")]
  unknown <- setdiff(c(drop, take), names(cases))
  if (length(unknown))
    stop("engine.R: unknown case(s) ", paste(unknown, collapse = ", "), "; cases are ",
         paste(names(cases), collapse = ", "))
  todo <- if (length(take)) take else names(cases)
  todo <- setdiff(todo, drop)
  for (nm in todo) run_case(cases[[nm]])
})
