# Reference numbers for the matched-sample analyses with matching weights (CONTRACT.md,
# "Matched sets, weights and the matched-sample analyses"), made with R's survival package.
#
# Run from the worktree root, in three steps:
#   Rscript tests/data/r_weights/make_reference.R data      # writes colon.csv and veteran.csv
#   PYTHONPATH=$PWD python tests/data/r_weights/make_sets.py  # our matcher: sets_<case>.csv
#   Rscript tests/data/r_weights/make_reference.R            # reference.json (17 significant digits)
# plus nonmonotone.csv (a curve whose pointwise upper limit is not monotone) and its quantiles.
# The tests in tests/test_weights_reference.py read these files; they never call R.
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
here <- "tests/data/r_weights"

num1 <- function(x) {
  if (is.na(x) && !is.nan(x)) return("null")
  if (is.nan(x)) return("NaN")
  if (is.infinite(x)) return(if (x > 0) "Infinity" else "-Infinity")
  sprintf("%.17g", x)
}
to_json <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    nm <- names(x)
    if (is.null(nm)) return(paste0("[", paste(vapply(x, to_json, ""), collapse = ","), "]"))
    parts <- vapply(seq_along(x), function(i) paste0('"', nm[i], '":', to_json(x[[i]])), "")
    return(paste0("{", paste(parts, collapse = ","), "}"))
  }
  v <- vapply(suppressWarnings(as.numeric(x)), num1, "")
  if (!is.null(attr(x, "scalar"))) return(v)
  paste0("[", paste(v, collapse = ","), "]")
}
sc <- function(x) { x <- unname(x); attr(x, "scalar") <- TRUE; x }
vec <- function(x) unname(as.vector(x))

if (length(args) && args[1] == "data") {
  # colon: deaths (etype 2); treated = Lev+5FU vs Obs or Lev; complete cases of the covariates
  cd <- colon[colon$etype == 2, c("id", "rx", "time", "status", "age", "sex", "obstruct", "nodes", "extent", "surg")]
  cd <- cd[complete.cases(cd), ]
  cd$treated <- as.integer(cd$rx == "Lev+5FU"); cd$rx <- NULL
  write.csv(cd, file.path(here, "colon.csv"), row.names = FALSE)
  vd <- veteran
  vd$id <- seq_len(nrow(vd)); vd$treated <- as.integer(vd$trt == 2); vd$trt <- NULL
  write.csv(vd[, c("id", "treated", "time", "status", "celltype", "karno", "age", "diagtime", "prior")],
            file.path(here, "veteran.csv"), row.names = FALSE)
  quit(save = "no")
}

cases <- c(colon_k2 = FALSE, colon_k3 = FALSE, veteran_k3 = FALSE, veteran_r1 = TRUE, colon_r2 = TRUE)  # replace?
ref <- list()
for (case in names(cases)) {
  replace <- cases[[case]]
  d <- read.csv(file.path(here, paste0("sets_", case, ".csv")), colClasses = c(id = "character"))
  # MatchIt's ATT weights from the sets, by hand: control = sum over its sets of 1 / (controls in
  # the set), rescaled to sum to the number of distinct controls; treated 1
  k <- table(d$set[d$treated == 0])
  ctl <- d[d$treated == 0, ]
  raw <- tapply(1 / as.numeric(k[as.character(ctl$set)]), ctl$id, sum)
  wc <- raw * length(raw) / sum(raw)
  w_check <- ifelse(d$treated == 1, 1, wc[d$id])
  stopifnot(max(abs(w_check - d$weight)) < 1e-12)
  pts <- d[!duplicated(d$id), ]                       # one row per distinct patient
  pts$cl <- if (replace) pts$id else pts$set          # cluster: patient with replacement, set without
  out <- list(n_sets = sc(length(unique(d$set))), n_pairs = sc(sum(d$treated == 0)),
              n_patients = sc(nrow(pts)))
  for (ct in c("plain", "log", "log-log")) {
    for (g in c(1, 0)) {
      s <- pts[pts$treated == g, ]
      # survfit(Surv(time, event) ~ 1, weights = weight, cluster = cl, conf.type = ct)
      f <- survfit(Surv(time, event) ~ 1, data = s, weights = weight, cluster = cl, conf.type = ct)
      q <- quantile(f, 0.5)
      at <- summary(f, times = c(0.5, 1, 3), extend = FALSE)
      out[[paste0("km_", ct, "_", if (g == 1) "treated" else "control")]] <- list(
        time = vec(f$time), n_risk = vec(f$n.risk), n_event = vec(f$n.event), surv = vec(f$surv),
        std_err = vec(f$std.err), lower = vec(f$lower), upper = vec(f$upper),
        median = vec(c(q$quantile, q$lower, q$upper)),
        at_time = vec(at$time), at_surv = vec(at$surv), at_lower = vec(at$lower), at_upper = vec(at$upper))
    }
  }
  # coxph(Surv(time, event) ~ treated, weights = weight, cluster = cl), Efron ties
  fit <- coxph(Surv(time, event) ~ treated, data = pts, weights = weight, cluster = cl, ties = "efron")
  sm <- summary(fit)
  out$cox <- list(coef = sc(coef(fit)), robust_se = sc(sqrt(vcov(fit)[1, 1])), naive_se = sc(sqrt(fit$naive.var[1, 1])),
                  hr = sc(sm$conf.int[1, 1]), lower = sc(sm$conf.int[1, 3]), upper = sc(sm$conf.int[1, 4]),
                  p = sc(sm$coefficients[1, 6]), robscore = vec(sm$robscore))
  if (!replace) {
    # survdiff(Surv(time, event) ~ treated + strata(set)) on one row per set membership
    sd <- survdiff(Surv(time, event) ~ treated + strata(set), data = d)
    out$survdiff_strata <- list(chisq = sc(sd$chisq), p = sc(pchisq(sd$chisq, 1, lower.tail = FALSE)))
  }
  ref[[case]] <- out
}

# A curve whose upper pointwise limit falls below 0.5 and rises above it again (large variance in
# the last steps): quantile(fit, 0.5) for each conf.type (survival:::findq sorts the knots by value).
# 100 patients: 62 deaths at times 1..62 (S = 0.38, small variance), 36 censored at 63, then one
# death at 64 among the last 2 at risk (S = 0.19, the variance jumps) and one censored at 65.
nm <- data.frame(time = c(1:62, rep(63, 36), 64, 65), event = c(rep(1, 62), rep(0, 36), 1, 0))
write.csv(nm, file.path(here, "nonmonotone.csv"), row.names = FALSE)
nmo <- list()
for (ct in c("plain", "log", "log-log")) {
  f <- survfit(Surv(time, event) ~ 1, data = nm, conf.type = ct)
  q <- quantile(f, c(0.25, 0.5, 0.75))
  nmo[[ct]] <- list(upper = vec(f$upper), lower = vec(f$lower),
                    quantile = vec(q$quantile), lo = vec(q$lower), hi = vec(q$upper))
}
ref$nonmonotone <- nmo
ver <- function(v) vec(as.integer(strsplit(as.character(v), ".", fixed = TRUE)[[1]]))
ref$versions <- list(R = ver(paste(R.version$major, R.version$minor, sep = ".")), survival = ver(packageVersion("survival")))
writeLines(to_json(ref), file.path(here, "reference.json"))
