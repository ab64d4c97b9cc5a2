# R peer of `python -m pannet_core run --no-figures` for docs/benchmarks.md:
# glm propensity score, MatchIt nearest neighbour (1:1, caliper 0.1 absolute on the PS,
# largest first, no replacement), survfit / survdiff (unmatched and matched, pair-stratified)
# and coxph (unmatched; matched with cluster = pair). Same analysis cohort as ours.
# An id column (pid) in the file is ignored by the analysis (bench/peers_generic.py: same file for both).
# Usage: Rscript bench/r_pipeline.R cohort.csv covariate1,covariate2,... [mahvars]
suppressPackageStartupMessages({library(survival); library(MatchIt)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE)
covs <- strsplit(args[2], ",")[[1]]
f <- as.formula(paste("treated ~", paste(covs, collapse = " + ")))
# Third argument "mahvars": MatchIt's general C routine with mahvars = ~ps, which honours a caliper
# below 1 on the probability scale (MatchIt 4.5.1's default vector routine ignores it: docs/methods.md).
if (length(args) >= 3 && args[3] == "mahvars") {
  d$ps <- fitted(glm(f, data = d, family = binomial))
  m <- matchit(f, data = d, method = "nearest", distance = d$ps, mahvars = ~ps, caliper = 0.1,
               std.caliper = FALSE, m.order = "largest", replace = FALSE, ratio = 1)
} else {
  m <- matchit(f, data = d, method = "nearest", distance = "glm", caliper = 0.1,
               std.caliper = FALSE, m.order = "largest", replace = FALSE, ratio = 1)
}
md <- match.data(m)
s <- Surv(d$time, d$event)
fu <- survfit(s ~ treated, data = d, conf.type = "plain")
lu <- survdiff(s ~ treated, data = d)
cu <- coxph(s ~ treated, data = d, ties = "efron")
sm <- Surv(md$time, md$event)
fm <- survfit(sm ~ treated, data = md, conf.type = "plain")
lm <- survdiff(sm ~ treated, data = md)
ls <- survdiff(sm ~ treated + strata(subclass), data = md)
cm <- coxph(sm ~ treated, data = md, cluster = subclass, ties = "efron")
x <- summary(fm, times = c(1, 3, 5), extend = TRUE)
# Enough digits to compare with ours to 1e-6; the robust CI and the pair-stratified log-rank depend on
# which control is paired with which treated patient, id_sum (when the file has a pid column) on who is matched.
se <- sqrt(cm$var[1, 1])
cat(sprintf("pairs=%d hr_matched=%.10f p_logrank=%.10g hr_lo=%.10f hr_hi=%.10f chisq_matched=%.10g chisq_pairs=%.10g hr_unmatched=%.10f id_sum=%s\n",
            nrow(md) / 2, exp(coef(cm)), pchisq(lm$chisq, 1, lower.tail = FALSE), exp(coef(cm) - qnorm(0.975) * se),
            exp(coef(cm) + qnorm(0.975) * se), lm$chisq, ls$chisq, exp(coef(cu)),
            if ("pid" %in% names(md)) format(sum(as.numeric(md$pid)), scientific = FALSE) else "NA"))
