# Reference numbers for pannet_core.survival / logrank / cox, made with R's survival package.
#
# Run from this folder:   Rscript make_reference.R
# Writes: lung.csv, veteran.csv, ovarian.csv, retinopathy.csv, flat.csv, flatend.csv, ties.csv
#         (the data as used, numbers printed with 17 significant digits) and
#         reference.json (every number with 17 significant digits).
# The tests in tests/test_*_reference.py read these files; they never call R.
suppressPackageStartupMessages(library(survival))

# ---- a tiny JSON writer with full precision ---------------------------------
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
  if (is.character(x) || is.factor(x)) {
    v <- paste0('"', as.character(x), '"')
  } else if (is.logical(x)) {
    v <- ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else {
    v <- vapply(as.numeric(x), num1, "")
  }
  if (!is.null(attr(x, "scalar"))) return(v)
  paste0("[", paste(v, collapse = ","), "]")
}
sc <- function(x) { x <- unname(x); attr(x, "scalar") <- TRUE; x }   # write as a scalar
vec <- function(x) unname(as.vector(x))

write_data <- function(df, file) {
  out <- df
  for (nm in names(out)) if (is.numeric(out[[nm]])) {
    v <- out[[nm]]
    out[[nm]] <- ifelse(is.na(v), "", sprintf("%.17g", v))
  }
  write.csv(out, file, row.names = FALSE, quote = FALSE, na = "")
}

# ---- the data -------------------------------------------------------------
lung_d <- data.frame(time = lung$time, event = lung$status - 1, sex = lung$sex, inst = lung$inst,
                     age = lung$age, ph_ecog = lung$ph.ecog)
veteran_d <- data.frame(time = veteran$time, event = veteran$status, trt = veteran$trt,
                        celltype = as.character(veteran$celltype), karno = veteran$karno)
ovarian_d <- data.frame(time = ovarian$futime, event = ovarian$fustat, rx = ovarian$rx, age = ovarian$age)
retino_d <- data.frame(id = retinopathy$id, time = retinopathy$futime, event = retinopathy$status,
                       trt = retinopathy$trt)
# survival is exactly 0.5 on a flat segment from t=4 to t=5 -> median 4.5 (quantile.survfit rule)
flat_d <- data.frame(time = c(1, 2, 3, 4, 5, 6, 7, 8), event = c(1, 1, 1, 1, 1, 1, 1, 1))
# survival stays at 0.5 until the last (censored) time -> median (2 + 4)/2 = 3
flatend_d <- data.frame(time = c(1, 2, 3, 4), event = c(1, 1, 0, 0))
# ties of events and censorings at the same time
ties_d <- data.frame(time = c(1, 2, 2, 2, 3, 4, 4, 5, 5, 5, 6, 7),
                     event = c(1, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0))
datasets <- list(lung = lung_d, veteran = veteran_d, ovarian = ovarian_d, retinopathy = retino_d,
                 flat = flat_d, flatend = flatend_d, ties = ties_d)
for (nm in names(datasets)) write_data(datasets[[nm]], paste0(nm, ".csv"))

# ---- Kaplan-Meier -------------------------------------------------------------
km_case <- function(d, times, conf.int = 0.95) {
  out <- list(n = sc(nrow(d)), events = sc(sum(d$event)), conf_level = sc(conf.int), times = times)
  for (ct in c("plain", "log", "log-log")) {
    f <- survfit(Surv(time, event) ~ 1, data = d, conf.type = ct, conf.int = conf.int)
    q <- quantile(f, probs = c(0.25, 0.5, 0.75))
    s <- summary(f, times = times, extend = FALSE)
    out[[ct]] <- list(
      table = list(time = vec(f$time), n_risk = vec(f$n.risk), n_event = vec(f$n.event),
                   n_censor = vec(f$n.censor), surv = vec(f$surv), std_err = vec(f$std.err),
                   lower = vec(f$lower), upper = vec(f$upper)),
      quantile = list(probs = c(0.25, 0.5, 0.75), est = vec(q$quantile), lower = vec(q$lower),
                      upper = vec(q$upper)),
      summary = list(time = vec(s$time), n_risk = vec(s$n.risk), surv = vec(s$surv),
                     lower = vec(s$lower), upper = vec(s$upper)))
  }
  rev <- survfit(Surv(time, 1 - event) ~ 1, data = d)
  out$median_followup <- sc(vec(quantile(rev, 0.5)$quantile))
  out
}
km <- list(
  lung = km_case(lung_d, c(0, 5, 100, 183, 365.25, 500, 730.5, 1022, 2000)),
  lung_sex1 = km_case(subset(lung_d, sex == 1), c(0, 100, 365.25, 730.5, 1000, 1500)),
  lung_sex2 = km_case(subset(lung_d, sex == 2), c(100, 365.25, 730.5, 1000)),
  lung_90 = km_case(lung_d, c(100, 365.25, 730.5), conf.int = 0.90),
  veteran_trt1 = km_case(subset(veteran_d, trt == 1), c(1, 30, 90, 180, 365, 1000)),
  veteran_trt2 = km_case(subset(veteran_d, trt == 2), c(30, 90, 180, 365, 1000)),
  ovarian = km_case(ovarian_d, c(100, 365, 638, 1000, 1500)),
  retinopathy = km_case(retino_d, c(6, 12, 24, 36, 60, 80)),
  flat = km_case(flat_d, c(0.5, 4, 4.5, 8, 9)),
  flatend = km_case(flatend_d, c(1, 2, 3.5, 4, 10)),
  ties = km_case(ties_d, c(2, 2.5, 5, 7, 8))
)

# ---- log-rank -------------------------------------------------------------
lr <- function(fit) list(chisq = sc(fit$chisq), df = sc(length(fit$n) - 1), p = sc(fit$pvalue))
logrank <- list(
  lung_sex = lr(survdiff(Surv(time, event) ~ sex, data = lung_d)),
  veteran_trt = lr(survdiff(Surv(time, event) ~ trt, data = veteran_d)),
  veteran_celltype = lr(survdiff(Surv(time, event) ~ celltype, data = veteran_d)),
  veteran_trt_strata_celltype = lr(survdiff(Surv(time, event) ~ trt + strata(celltype), data = veteran_d)),
  ovarian_rx = lr(survdiff(Surv(time, event) ~ rx, data = ovarian_d)),
  retinopathy_trt = lr(survdiff(Surv(time, event) ~ trt, data = retino_d)),
  retinopathy_trt_strata_id = lr(survdiff(Surv(time, event) ~ trt + strata(id), data = retino_d)),
  lung_sex_strata_inst = lr(survdiff(Surv(time, event) ~ sex + strata(inst), data = lung_d)),
  ties_group = lr(survdiff(Surv(time, event) ~ rep(c(0, 1), 6), data = ties_d))
)

# ---- Cox ------------------------------------------------------------------
cox_case <- function(formula, data, ties, clustered = FALSE) {
  if (clustered) {
    f <- coxph(formula, data = data, ties = ties, cluster = cl, model = TRUE, x = TRUE)
  } else {
    f <- coxph(formula, data = data, ties = ties, model = TRUE, x = TRUE)
  }
  s <- summary(f)
  z <- cox.zph(f, transform = "km")
  se <- sqrt(diag(if (clustered) f$naive.var else f$var))
  out <- list(
    terms = names(coef(f)), coef = vec(coef(f)), se = vec(se),
    robust_se = if (clustered) vec(sqrt(diag(f$var))) else rep(NA_real_, length(coef(f))),
    hr = vec(exp(coef(f))), lower = vec(s$conf.int[, "lower .95"]), upper = vec(s$conf.int[, "upper .95"]),
    z = vec(s$coefficients[, "z"]),
    p = vec(s$coefficients[, ncol(s$coefficients)]),
    loglik = vec(f$loglik), n = sc(f$n), events = sc(f$nevent), iter = sc(f$iter),
    # summary() rounds the Wald statistic to 2 decimals; fit$wald.test is the full one
    lr_test = vec(s$logtest),
    wald_test = c(unname(f$wald.test), vec(s$waldtest)[2:3]), score_test = vec(s$sctest),
    robust_score_test = if (clustered) vec(s$robscore) else NULL,
    zph = list(terms = rownames(z$table), chisq = vec(z$table[, "chisq"]), df = vec(z$table[, "df"]),
               p = vec(z$table[, "p"])))
  out
}
lung_cc <- subset(lung_d, !is.na(ph_ecog))
lung_cl <- subset(lung_d, !is.na(inst)); lung_cl$cl <- lung_cl$inst
retino_cl <- retino_d; retino_cl$cl <- retino_cl$id
cox <- list(
  lung_sex_efron = cox_case(Surv(time, event) ~ sex, lung_d, "efron"),
  lung_sex_breslow = cox_case(Surv(time, event) ~ sex, lung_d, "breslow"),
  lung_multi_efron = cox_case(Surv(time, event) ~ age + sex + ph_ecog, lung_cc, "efron"),
  lung_multi_breslow = cox_case(Surv(time, event) ~ age + sex + ph_ecog, lung_cc, "breslow"),
  lung_sex_cluster_inst = cox_case(Surv(time, event) ~ sex, lung_cl, "efron", clustered = TRUE),
  veteran_trt_karno = cox_case(Surv(time, event) ~ trt + karno, veteran_d, "efron"),
  ovarian_rx_age = cox_case(Surv(time, event) ~ rx + age, ovarian_d, "efron"),
  retinopathy_trt_cluster_efron = cox_case(Surv(time, event) ~ trt, retino_cl, "efron", clustered = TRUE),
  retinopathy_trt_cluster_breslow = cox_case(Surv(time, event) ~ trt, retino_cl, "breslow", clustered = TRUE),
  ties_group = cox_case(Surv(time, event) ~ g, transform(ties_d, g = rep(c(0, 1), 6)), "efron")
)
# stratified Cox (no cox.zph)
fs <- coxph(Surv(time, event) ~ trt + karno + strata(celltype), data = veteran_d)
cox$veteran_strata_celltype <- list(terms = names(coef(fs)), coef = vec(coef(fs)),
  se = vec(sqrt(diag(fs$var))), loglik = vec(fs$loglik), iter = sc(fs$iter))

ref <- list(r_version = sc(R.version.string), survival_version = sc(as.character(packageVersion("survival"))),
            km = km, logrank = logrank, cox = cox)
writeLines(to_json(ref), "reference.json")
