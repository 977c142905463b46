#!/usr/bin/env Rscript
# ==============================================================================
# make_reference.R: regenerate the lavaan reference fixtures of the test suite
# ==============================================================================
#
# README
# ------
# The tests compare ckm_research with lavaan through JSON fixtures committed
# under tests/reference/json/ (the data lavaan saw under tests/reference/data/),
# so R is needed only to remake them.  Requirements (Debian/Ubuntu):
#
#     apt-get install r-base r-cran-lavaan r-cran-semtools r-cran-psych r-cran-jsonlite
#
# From the repository root:
#
#     python tests/reference/make_data.py            # simulated CKM data (seeded, ~1 s)
#     Rscript tests/reference/make_reference.R       # every topic
#     Rscript tests/reference/make_reference.R engine          # one topic
#     Rscript tests/reference/make_reference.R engine ordinal  # several topics
#     Rscript tests/reference/make_reference.R engine:hs_cfa_ml,poldem_ml  # some cases
#     Rscript tests/reference/make_reference.R engine:-ckm_fiml  # all cases but one
#     Rscript tests/reference/make_reference.R --list          # topics, then stop
#     python tests/reference/make_data.py            # rehash the data into MANIFEST.json
#
# A topic is a file tests/reference/R/<topic>.R; each writes its own
# json/<topic>_*.json (and data/<topic>_*.csv).  "engine" (R/engine.R, the SEM
# engine: ML, MLR, FIML, WLSMV) runs first, then the others in alphabetical
# order.  Case selection after "topic:" is passed to the topic script in the
# environment variable CKM_REF_CASES (engine.R and parity.R read it).
#
# How long it takes (2-core machine, lavaan 0.6.14, shared with other jobs):
#   engine:-ckm_fiml          about 5.5 min (most of it residuals of the 53-item
#                             models; ckm_mlr ~2.5 min, ckm_wlsmv ~2 min)
#   engine:ckm_fiml           about 30 min (sem() 4 min, fitMeasures() 13 min:
#                             lavaan fits the saturated model by EM then, and
#                             resid()/lavResiduals() 13 min)
#   parity                    about a minute (the lavaan parity issue: one case file
#                             per topic under R/parity/, ~130 small cases)
#   the other topics          under a minute together (38 s for fiml, measurement,
#                             missing, moderation and ordinal)
#   everything                about 36 minutes; run it under nohup, e.g.
#       nohup Rscript tests/reference/make_reference.R > make_reference.log 2>&1 &
# ==============================================================================

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

here <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
  if (length(f) == 1L) dirname(normalizePath(f)) else file.path(getwd(), "tests", "reference")
})
if (!file.exists(file.path(here, "R", "engine.R")))
  stop("make_reference.R: cannot find tests/reference/R/engine.R; run it from the repository root")
setwd(dirname(dirname(here)))  # the scripts write relative to the repository root

scripts <- sort(list.files(file.path(here, "R"), pattern = "\\.R$", full.names = TRUE))
topics <- sub("\\.R$", "", basename(scripts))
names(scripts) <- topics
topics <- c("engine", setdiff(topics, "engine"))

args <- commandArgs(trailingOnly = TRUE)
if ("--list" %in% args) {
  cat("topics:", paste(topics, collapse = " "), "\n")
  quit(status = 0)
}
if ("--help" %in% args || "-h" %in% args) {
  cat("usage: Rscript tests/reference/make_reference.R [--list] [topic[:case,case,-case] ...]\n",
      "topics:", paste(topics, collapse = " "), "\n")
  quit(status = 0)
}
req <- if (length(args)) args else topics
req_topic <- sub(":.*$", "", req)
req_cases <- ifelse(grepl(":", req, fixed = TRUE), sub("^[^:]*:", "", req), "")
unknown <- setdiff(req_topic, topics)
if (length(unknown)) {
  message("unknown topic(s): ", paste(unknown, collapse = ", "),
          "; topics are: ", paste(topics, collapse = ", "))
  quit(status = 2)
}

cat(sprintf("%s; lavaan %s; semTools %s; jsonlite %s\n", R.version.string,
            packageVersion("lavaan"),
            if (requireNamespace("semTools", quietly = TRUE)) packageVersion("semTools") else "absent",
            packageVersion("jsonlite")))

failures <- character(0)
t_all <- proc.time()[["elapsed"]]
for (i in seq_along(req_topic)[order(match(req_topic, topics))]) {
  topic <- req_topic[i]
  cat(sprintf("== %s%s\n", topic, if (nzchar(req_cases[i])) paste0(" (", req_cases[i], ")") else ""))
  Sys.setenv(CKM_REF_CASES = req_cases[i])
  t0 <- proc.time()[["elapsed"]]
  ok <- tryCatch({
    source(scripts[[topic]], local = new.env())
    TRUE
  }, error = function(e) {
    message(sprintf("!! %s failed: %s", topic, conditionMessage(e)))
    FALSE
  })
  Sys.unsetenv("CKM_REF_CASES")
  cat(sprintf("== %s %s in %.1f s\n", topic, if (ok) "done" else "FAILED",
              proc.time()[["elapsed"]] - t0))
  if (!ok) failures <- c(failures, topic)
}
cat(sprintf("all requested topics in %.1f s\n", proc.time()[["elapsed"]] - t_all))
if (length(failures)) {
  message("failed: ", paste(failures, collapse = ", "))
  quit(status = 1)
}
cat("Now rehash the data: python tests/reference/make_data.py\n")
