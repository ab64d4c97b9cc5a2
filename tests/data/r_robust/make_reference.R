# Reference numbers for the robustness kernels (CONTRACT.md, "Is the answer robust?"),
# made with R's survival package (3.5.3).  Run from the worktree root:
#   Rscript tests/data/r_robust/make_reference.R
# Writes lung.csv, veteran.csv, weighted.csv, jasa.csv, edge.csv, pairs.csv and
# reference.json (17 significant digits).  tests/test_rmst.py, test_confounding.py and
# test_immortal_time.py read these files; they never call R.
suppressPackageStartupMessages({library(survival); library(jsonlite)})
here <- "tests/data/r_robust"
ref <- list()

# ---------------------------------------------------------------- RMST: survfit rmean
rm1 <- function(fit, tau) {
  tab <- summary(fit, rmean = tau)$table
  list(est = unname(tab["rmean"]), se = unname(tab["se(rmean)"]))
}
lung2 <- data.frame(time = lung$time, event = as.integer(lung$status == 2), group = as.integer(lung$sex == 2))
vet2 <- data.frame(time = veteran$time, event = veteran$status, group = as.integer(veteran$trt == 2))
write.csv(lung2, file.path(here, "lung.csv"), row.names = FALSE)
write.csv(vet2, file.path(here, "veteran.csv"), row.names = FALSE)
set.seed(18)
n <- 80
wd <- data.frame(id = sample(1:60, n, replace = TRUE),
                 time = round(rexp(n, 0.3), 1) + 0.1, event = rbinom(n, 1, 0.7),
                 w = round(runif(n, 0.2, 2.5), 3), group = rbinom(n, 1, 0.5))
write.csv(wd, file.path(here, "weighted.csv"), row.names = FALSE)
rmst_cases <- list()
for (cs in list(list("lung", lung2, c(365, 730, 500)), list("veteran", vet2, c(180, 365, 100)))) {
  d <- cs[[2]]
  for (tau in cs[[3]]) for (g in 0:1) {
    # R: summary(survfit(Surv(time, event) ~ 1, data = d[d$group == g, ]), rmean = tau)$table
    fit <- survfit(Surv(time, event) ~ 1, data = d[d$group == g, ])
    rmst_cases[[length(rmst_cases) + 1]] <- c(list(data = cs[[1]], tau = tau, group = g, weighted = FALSE), rm1(fit, tau))
  }
}
tau_w <- sort(unique(wd$time[wd$event == 1]))[10]  # an event time: tau on a jump
for (tau in c(2, 4.5, tau_w)) for (g in 0:1) {
  # R: survfit(Surv(time, event) ~ 1, weights = w, cluster = id) on one group
  fit <- survfit(Surv(time, event) ~ 1, data = wd[wd$group == g, ], weights = w, cluster = id)
  rmst_cases[[length(rmst_cases) + 1]] <- c(list(data = "weighted", tau = tau, group = g, weighted = TRUE), rm1(fit, tau))
}
ref$rmst <- rmst_cases

# ---------------------------------------------------------------- E-value (EValue::evalues.HR formulas)
ev_point <- function(hr, rare) {
  rr <- if (rare) hr else (1 - 0.5^sqrt(hr)) / (1 - 0.5^sqrt(1 / hr))
  if (rr < 1) rr <- 1 / rr
  rr + sqrt(rr * (rr - 1))
}
ev <- function(hr, lo, hi, rare) {
  ci <- if (lo <= 1 && hi >= 1) 1 else if (hr < 1) ev_point(hi, rare) else ev_point(lo, rare)
  list(hr = hr, lo = lo, hi = hi, rare = rare, point = ev_point(hr, rare), ci = ci)
}
ref$evalue <- list(ev(0.6, 0.45, 0.8, TRUE), ev(0.6, 0.45, 0.8, FALSE), ev(1.8, 1.2, 2.7, TRUE),
                   ev(1.8, 1.2, 2.7, FALSE), ev(0.7, 0.4, 1.2, FALSE), ev(0.3, 0.1, 0.9, FALSE),
                   ev(2.5, 0.9, 7, TRUE), ev(1, 0.8, 1.25, FALSE))

# ---------------------------------------------------------------- Rosenbaum sign test
ub <- function(n, t, g) pbinom(t - 1, n, g / (1 + g), lower.tail = FALSE)  # P(Binomial(n, G/(1+G)) >= t)
gam <- function(n, t) {
  grid <- round(seq(1, 20, by = 0.01), 2)
  p <- sapply(grid, function(g) ub(n, t, g))
  if (p[1] >= 0.05) return(NA)
  max(grid[p < 0.05])
}
ros <- list()
for (nt in list(c(50, 35), c(30, 21), c(20, 12), c(40, 36), c(10, 10), c(25, 13))) {
  ros[[length(ros) + 1]] <- list(n = nt[1], t = nt[2], p_gamma1 = ub(nt[1], nt[2], 1),
                                 p_gamma15 = ub(nt[1], nt[2], 1.5), gamma = gam(nt[1], nt[2]))
}
ref$rosenbaum <- ros
# pairs data: one row per pair, sign test counted here in R
set.seed(7)
np <- 60
pr <- data.frame(t_time = round(rexp(np, 0.2), 1), t_event = rbinom(np, 1, 0.6),
                 c_time = round(rexp(np, 0.3), 1), c_event = rbinom(np, 1, 0.7))
pr$c_time[1:4] <- pr$t_time[1:4]  # equal times: not informative
write.csv(pr, file.path(here, "pairs.csv"), row.names = FALSE)
short_t <- pr$t_time < pr$c_time
short_c <- pr$c_time < pr$t_time
inf_c <- short_c & pr$c_event == 1  # control had the event first
inf_t <- short_t & pr$t_event == 1
ref$pairs <- list(n_informative = sum(inf_c | inf_t), control_first = sum(inf_c), treated_first = sum(inf_t),
                  gamma_control_first = gam(sum(inf_c | inf_t), sum(inf_c)),
                  p_gamma1_control_first = ub(sum(inf_c | inf_t), sum(inf_c), 1))

# ---------------------------------------------------------------- immortal time: Stanford heart transplant
# jasa: time from acceptance; one follow-up of 0 days is set to 0.5 (tmerge needs tstop > tstart);
# wait.time 0 (transplant on the day of acceptance) counts from the start, a transplant on the
# last follow-up day (wait.time == futime) never counts, by tmerge's rule.
ja <- data.frame(id = seq_len(nrow(jasa)), time = pmax(0.5, jasa$futime), event = jasa$fustat,
                 exposure = jasa$wait.time, age = jasa$age)
write.csv(ja, file.path(here, "jasa.csv"), row.names = FALSE, na = "")
hr_block <- function(fit) {
  s <- summary(fit)
  list(hr = unname(s$conf.int[1, "exp(coef)"]), lo = unname(s$conf.int[1, "lower .95"]),
       hi = unname(s$conf.int[1, "upper .95"]), p = unname(s$coefficients[1, "Pr(>|z|)"]),
       coef = unname(coef(fit)[1]), se = unname(sqrt(vcov(fit)[1, 1])), n = fit$n, events = fit$nevent)
}
tv <- function(d) {
  base <- d[, c("id", "time", "event")]
  td <- tmerge(base, base, id = id, death = event(time, event))
  td <- tmerge(td, d, id = id, treated = tdc(exposure))
  # R: coxph(Surv(tstart, tstop, death) ~ treated, data = tmerge(...)), Efron ties
  hr_block(coxph(Surv(tstart, tstop, death) ~ treated, data = td, ties = "efron"))
}
lm_fit <- function(d, L) {
  s <- d[d$time > L, ]
  s$treated <- as.integer(!is.na(s$exposure) & s$exposure <= L)
  # R: coxph(Surv(time - L, event) ~ treated) on patients followed longer than L
  c(hr_block(coxph(Surv(time - L, event) ~ treated, data = s, ties = "efron")), list(landmark = L))
}
naive <- function(d) {
  d$treated <- as.integer(!is.na(d$exposure))
  # R: coxph(Surv(time, event) ~ treated), ever-treated from the origin (biased on purpose)
  hr_block(coxph(Surv(time, event) ~ treated, data = d, ties = "efron"))
}
ref$jasa <- list(time_varying = tv(ja), landmark = list(lm_fit(ja, 30), lm_fit(ja, 100), lm_fit(ja, 10)),
                 naive = naive(ja))
# small data with exposures at 0, at the end, after the end, and tied times
ed <- data.frame(id = 1:14, time = c(5, 8, 8, 3, 10, 12, 7, 4, 9, 6, 11, 2, 8, 6),
                 event = c(1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 0),
                 exposure = c(0, 8, NA, 1, 4, 20, NA, 2, 3, NA, 0, NA, 5, 6), age = 1:14)
write.csv(ed, file.path(here, "edge.csv"), row.names = FALSE, na = "")
ref$edge <- list(time_varying = tv(ed), landmark = list(lm_fit(ed, 3)), naive = naive(ed))

# ---------------------------------------------------------------- proportional hazards: cox.zph
zph <- function(d, w = NULL, cl = NULL) {
  d$w <- if (is.null(w)) 1 else w
  d$cl <- if (is.null(cl)) seq_len(nrow(d)) else cl
  # R: cox.zph(coxph(Surv(time, event) ~ group, weights = w, cluster = cl), transform = "km")$table
  fit <- if (is.null(w)) coxph(Surv(time, event) ~ group, data = d) else
    coxph(Surv(time, event) ~ group, data = d, weights = w, cluster = cl)
  z <- cox.zph(fit, transform = "km")
  tab <- z$table
  # the plot's points: z$time, z$x (1 - S(t-)) and z$y (scaled Schoenfeld residuals)
  list(chisq = unname(tab["group", "chisq"]), df = unname(tab["group", "df"]), p = unname(tab["group", "p"]),
       time = z$time, x = z$x, y = unname(z$y[, 1]), beta = unname(coef(fit)))
}
set.seed(99)
vet_w <- round(runif(nrow(vet2), 0.3, 3), 2)
write.csv(data.frame(w = vet_w), file.path(here, "veteran_weights.csv"), row.names = FALSE)
ref$zph <- list(weighted = zph(wd, wd$w, wd$id), weighted_unweighted = zph(wd), lung = zph(lung2),
                veteran = zph(vet2), veteran_weighted = zph(vet2, vet_w, seq_len(nrow(vet2))))

writeLines(toJSON(ref, digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE), file.path(here, "reference.json"))
