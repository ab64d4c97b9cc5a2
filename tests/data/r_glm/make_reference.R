# Reference numbers for pannet_core.propensity / matching / balance.
#
# Run from this folder:   Rscript make_reference.R
# Needs R >= 4.2 with MatchIt (4.5.1 used), survival (3.5-3) and jsonlite.
# Writes lalonde.csv, pbc_trial.csv and reference.json next to this script.
# The tests read only those files; R is not needed at test time.

invisible(Sys.setlocale("LC_COLLATE", "C"))   # factor levels sorted by code point, as pannet_core does
suppressPackageStartupMessages({
  library(MatchIt)
  library(survival)
  library(jsonlite)
})

tight <- glm.control(epsilon = 1e-14, maxit = 100)

glm_ref <- function(formula, data, ids) {
  fit_default <- glm(formula, family = binomial, data = data)
  fit <- glm(formula, family = binomial, data = data, control = tight)
  s <- summary(fit)$coefficients
  used <- as.integer(names(fitted(fit)))
  list(
    formula = deparse(formula, width.cutoff = 500),
    coef_names = rownames(s),
    coef = unname(s[, 1]),
    se = unname(s[, 2]),
    ids = ids[used],
    fitted = unname(fitted(fit)),
    linear = unname(fit$linear.predictors),
    fitted_default = unname(fitted(fit_default)),
    coef_default = unname(coef(fit_default)),
    deviance = fit$deviance,
    null_deviance = fit$null.deviance,
    iter_default = fit_default$iter
  )
}

# ---------------------------------------------------------------- lalonde
data("lalonde", package = "MatchIt")
lal <- lalonde
rownames(lal) <- NULL
lal$id <- seq_len(nrow(lal))
lal$race <- factor(as.character(lal$race))
write.csv(lal[, c("id", "treat", "age", "educ", "race", "married", "nodegree", "re74", "re75", "re78")],
          "lalonde.csv", row.names = FALSE)
f_lal <- treat ~ age + educ + race + married + nodegree + re74 + re75
ref_lal <- glm_ref(f_lal, lal, lal$id)

# ---------------------------------------------------------------- pbc (trial patients)
pb <- subset(pbc, !is.na(trt))
rownames(pb) <- NULL
pb$treat <- as.integer(pb$trt == 1)
pb$sex <- as.character(pb$sex)
out_pb <- pb[, c("id", "treat", "age", "sex", "edema", "bili", "albumin", "chol", "stage", "hepato")]
write.csv(out_pb, "pbc_trial.csv", row.names = FALSE, na = "")
f_pb <- treat ~ age + factor(sex) + factor(edema) + bili + albumin + chol + factor(stage) + hepato
ref_pb <- glm_ref(f_pb, pb, pb$id)

# ---------------------------------------------------------------- MatchIt on lalonde
# MatchIt 4.5.1's fast path for a vector distance (nn_matchC_vec) compares
# abs(distance[i] - distance[k]) > caliper with the *integer* abs(), so on the
# probability scale (|difference| < 1) the caliper is silently ignored.  The
# general path (nn_matchC, used when `mahvars` is given) applies the caliper
# correctly, breaks distance ties by data order (which.min) and orders the
# treated by `distance` as usual.  With mahvars = the score itself, the
# Mahalanobis distance is |difference| / s, so the nearest control is the one
# nearest on the score: exactly the CONTRACT semantics.
lal$ps <- fitted(glm(f_lal, family = binomial, data = lal))
lal$lp <- qlogis(lal$ps)
mi_run <- function(label, ...) {
  m <- matchit(f_lal, data = lal, method = "nearest", ...)
  mm <- m$match.matrix
  pairs <- list()
  for (i in seq_len(nrow(mm))) {
    ctl <- mm[i, ]
    ctl <- ctl[!is.na(ctl)]
    pairs[[length(pairs) + 1]] <- I(c(as.integer(rownames(mm)[i]), as.integer(ctl)))
  }
  args <- list(...)
  list(label = label,
       args = lapply(args, function(a) if (is.numeric(a) || is.logical(a) || is.character(a)) a else deparse(a)),
       distance = unname(m$distance),
       caliper = if (is.null(m$caliper)) NULL else unname(m$caliper[names(m$caliper) == ""]),
       sd_distance_all = sd(m$distance),
       sets = pairs,
       weights = unname(m$weights))
}
runs <- list(
  mi_run("ps_std_largest_1to1", mahvars = ~ps, caliper = 0.1, std.caliper = TRUE, m.order = "largest"),
  mi_run("ps_std_smallest_1to1", mahvars = ~ps, caliper = 0.1, std.caliper = TRUE, m.order = "smallest"),
  mi_run("ps_std_data_1to1", mahvars = ~ps, caliper = 0.2, std.caliper = TRUE, m.order = "data"),
  mi_run("ps_abs_largest_1to1", mahvars = ~ps, caliper = 0.1, std.caliper = FALSE, m.order = "largest"),
  mi_run("ps_abs_largest_1to1_c005", mahvars = ~ps, caliper = 0.05, std.caliper = FALSE, m.order = "largest"),
  mi_run("ps_std_largest_1to2", mahvars = ~ps, caliper = 0.1, std.caliper = TRUE, m.order = "largest", ratio = 2),
  mi_run("ps_std_largest_1to3_c05", mahvars = ~ps, caliper = 0.5, std.caliper = TRUE, m.order = "largest", ratio = 3),
  mi_run("ps_std_replace_1to1", mahvars = ~ps, caliper = 0.1, std.caliper = TRUE, replace = TRUE),
  mi_run("ps_std_replace_1to2", mahvars = ~ps, caliper = 0.1, std.caliper = TRUE, replace = TRUE, ratio = 2),
  mi_run("logit_std_largest_1to1", distance = "glm", link = "linear.logit", mahvars = ~lp, caliper = 0.2,
         std.caliper = TRUE, m.order = "largest"),
  mi_run("ps_std_largest_exact_married", mahvars = ~ps, caliper = 0.1, std.caliper = TRUE,
         m.order = "largest", exact = ~married),
  # the fast path without a caliper (where the integer abs() does not matter); its tie rule differs
  mi_run("vecpath_nocaliper_largest_1to1", distance = "glm", m.order = "largest"),
  # the fast path with a caliper: shows the ignored caliper (documented in docs/methods.md)
  mi_run("vecpath_caliper_bug_1to1", distance = "glm", caliper = 0.1, std.caliper = TRUE, m.order = "largest")
)

# ---------------------------------------------------------------- balance by hand (cobalt-like formulas)
wmean <- function(x, w) sum(w * x) / sum(w)
wvar <- function(x, w) {  # reliability-weights unbiased variance; = var(x) when all w are 1
  m <- wmean(x, w)
  sum(w * (x - m)^2) / (sum(w) - sum(w^2) / sum(w))
}
smd_num <- function(x, t, w) {
  x1 <- x[t == 1]; x0 <- x[t == 0]; w1 <- w[t == 1]; w0 <- w[t == 0]
  v1 <- wvar(x1, w1); v0 <- wvar(x0, w0)
  c(smd = abs(wmean(x1, w1) - wmean(x0, w0)) / sqrt((v1 + v0) / 2), vr = v1 / v0)
}
smd_bin <- function(x, t, w) {
  p1 <- wmean(x[t == 1], w[t == 1]); p0 <- wmean(x[t == 0], w[t == 0])
  abs(p1 - p0) / sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
}
balance_table <- function(w_after) {
  rows <- list()
  keep <- w_after > 0
  w1 <- rep(1, nrow(lal))
  for (v in c("age", "educ", "race", "married", "nodegree", "re74", "re75")) {
    if (v == "race") {
      for (lev in levels(lal$race)) {
        x <- as.numeric(lal$race == lev)
        rows[[length(rows) + 1]] <- list(variable = paste0("race=", lev), covariate = "race", level = lev,
          smd_before = smd_bin(x, lal$treat, w1),
          smd_after = smd_bin(x[keep], lal$treat[keep], w_after[keep]))
      }
    } else {
      b <- smd_num(lal[[v]], lal$treat, w1)
      a <- smd_num(lal[[v]][keep], lal$treat[keep], w_after[keep])
      rows[[length(rows) + 1]] <- list(variable = v, covariate = v, level = NULL,
        smd_before = unname(b["smd"]), smd_after = unname(a["smd"]),
        vr_before = unname(b["vr"]), vr_after = unname(a["vr"]))
    }
  }
  rows
}
bal <- list(
  one_to_one = list(weights = runs[[1]]$weights, table = balance_table(runs[[1]]$weights)),
  one_to_two = list(weights = runs[[6]]$weights, table = balance_table(runs[[6]]$weights)),
  replace_1to2 = list(weights = runs[[9]]$weights, table = balance_table(runs[[9]]$weights))
)

ref <- list(
  generated_by = "tests/data/r_glm/make_reference.R",
  r_version = R.version.string,
  matchit_version = as.character(packageVersion("MatchIt")),
  survival_version = as.character(packageVersion("survival")),
  glm = list(lalonde = ref_lal, pbc = ref_pb),
  matchit = runs,
  balance = bal
)
# jsonlite prints at most 15 significant digits; write doubles verbatim with 17.
exact17 <- function(x) {
  if (is.list(x)) return(lapply(x, exact17))
  if (is.double(x)) {
    v <- ifelse(is.na(x), "null", sprintf("%.17g", x))
    txt <- if (length(x) == 1) v else paste0("[", paste(v, collapse = ","), "]")
    return(structure(txt, class = "json"))
  }
  x
}
writeLines(toJSON(exact17(ref), auto_unbox = TRUE, json_verbatim = TRUE, null = "null"), "reference.json")
cat("wrote reference.json\n")
