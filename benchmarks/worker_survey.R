# Benchmark worker: the 56 prevalences with R's survey package (run by run.py).
#
#   Rscript worker_survey.R --survey survey_1e5.csv [--replicates repweights_1e5.csv] --out DIR
#
# Reads the CSV copies of the benchmark data with data.table::fread (timed
# apart from the estimation), then, timed: the design (svydesign with strata,
# nested PSUs and fpc; or svrepdesign(type = "bootstrap") on the replicate
# weights, R's defaults scale = 1/(R-1) and mse = FALSE), and for every
# indicator, on the design restricted to rows where it is not missing:
#   svyciprop(~ind, d, method = "beta")                       overall
#   svyby(~ind, ~region, d, svyciprop, method = "beta",
#         vartype = c("se", "ci"))                            by region
# Writes progress.jsonl, estimates.csv and result.json like the Python
# workers (see harness.py), with the same repetition rule.

args <- commandArgs(trailingOnly = TRUE)
option <- function(name) {
  i <- match(name, args)
  if (is.na(i)) NULL else args[i + 1]
}
survey_csv <- option("--survey")
replicates_csv <- option("--replicates")
out <- option("--out")
if (is.null(survey_csv) || is.null(out)) stop("usage: --survey FILE [--replicates FILE] --out DIR")

max_repeats <- 3
repeat_budget <- 20

dir.create(out, showWarnings = FALSE, recursive = TRUE)
progress_file <- file.path(out, "progress.jsonl")
cat("", file = progress_file)
event <- function(name, seconds = NULL) {
  line <- if (is.null(seconds)) {
    sprintf('{"event": "%s"}', name)
  } else {
    sprintf('{"event": "%s", "seconds": %.9f}', name, seconds)
  }
  cat(line, "\n", file = progress_file, append = TRUE, sep = "")
}
now <- function() proc.time()[["elapsed"]]

suppressPackageStartupMessages({
  library(survey)
  library(data.table)
})
setDTthreads(0)  # all cores for reading
indicators <- paste0("ind", 1:8)

start <- now()
data <- fread(survey_csv, data.table = FALSE, showProgress = FALSE)
replicates <- NULL
if (!is.null(replicates_csv)) {
  replicates <- fread(replicates_csv, data.table = FALSE, showProgress = FALSE)
}
event("read", now() - start)

estimate <- function() {
  if (is.null(replicates)) {
    design <- svydesign(
      ids = ~psu, strata = ~stratum, fpc = ~fpc, weights = ~weight, nest = TRUE, data = data
    )
  } else {
    design <- svrepdesign(
      variables = data, repweights = replicates, weights = data$weight,
      type = "bootstrap", combined.weights = TRUE, mse = FALSE
    )
  }
  rows <- vector("list", length(indicators))
  for (j in seq_along(indicators)) {
    ind <- indicators[j]
    formula <- as.formula(paste0("~", ind))
    d <- design[!is.na(data[[ind]]), ]
    overall <- svyciprop(formula, d, method = "beta")
    by_region <- svyby(formula, ~region, d, svyciprop, method = "beta", vartype = c("se", "ci"))
    # confint() of an svyby object gives Wald intervals; svyciprop's own are in ci_l, ci_u
    rows[[j]] <- data.frame(
      indicator = ind,
      domain = c("overall", as.character(by_region$region)),
      estimate = c(coef(overall), coef(by_region)),
      se = c(SE(overall), SE(by_region)),
      ci_low = c(attr(overall, "ci")[1], by_region$ci_l),
      ci_high = c(attr(overall, "ci")[2], by_region$ci_u)
    )
  }
  do.call(rbind, rows)
}

seconds <- numeric(0)
while (length(seconds) < max_repeats && sum(seconds) < repeat_budget) {
  invisible(gc())
  start <- now()
  result <- estimate()
  seconds <- c(seconds, now() - start)
  event("run", seconds[length(seconds)])
}

digits <- function(x) sprintf("%.17g", x)
write.csv(
  data.frame(
    indicator = result$indicator, domain = result$domain,
    estimate = digits(result$estimate), se = digits(result$se),
    ci_low = digits(result$ci_low), ci_high = digits(result$ci_high), df = ""
  ),
  file.path(out, "estimates.csv"),
  row.names = FALSE, quote = FALSE
)
info <- sessionInfo()
json_string <- function(x) paste0('"', gsub('"', "'", x, fixed = TRUE), '"')
writeLines(
  c(
    "{",
    paste0('  "versions": {"R": ', json_string(paste(R.version$major, R.version$minor, sep = ".")),
           ', "survey": ', json_string(as.character(packageVersion("survey"))),
           ', "data.table": ', json_string(as.character(packageVersion("data.table"))), "},"),
    paste0('  "blas": ', json_string(info$BLAS), ","),
    paste0('  "lapack": ', json_string(info$LAPACK), ","),
    paste0('  "fread_threads": ', getDTthreads()),
    "}"
  ),
  file.path(out, "result.json")
)
event("done")
