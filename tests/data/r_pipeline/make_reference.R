# End-to-end reference for the 000 preset on the synthetic demo cohort.
# demo_analysis.csv is the analysed cohort written by our pipeline (tests/test_pipeline_reference.py
# re-creates it and checks it is unchanged); here R recomputes, on the same rows:
#   glm propensity scores; MatchIt nearest 1:1, caliper 0.1 absolute on the PS, largest first,
#   no replacement (mahvars = ~ps: MatchIt 4.5.1's default C routine ignores calipers < 1,
#   see docs/methods.md); survfit (conf.type = "plain") medians and 1/3/5-year survival;
#   survdiff unmatched, matched and matched + strata(pair); coxph unmatched and matched with
#   cluster = pair. Run from this folder: Rscript make_reference.R
suppressPackageStartupMessages({library(survival); library(MatchIt)})
d <- read.csv("demo_analysis.csv", stringsAsFactors = TRUE, colClasses = c(patient_id = "character"))
covs <- c("age_group", "sex", "functioning", "calendar_period", "charlson_group", "primary_size_group",
          "liver_mets_group", "extra_abdominal_mets", "who_grade")
for (v in covs) d[[v]] <- factor(as.character(d[[v]]))
f <- as.formula(paste("treated ~", paste(covs, collapse = " + ")))
g <- glm(f, data = d, family = binomial(), control = glm.control(epsilon = 1e-14, maxit = 100))
d$ps <- fitted(g)
m <- matchit(treated ~ ps, data = d, method = "nearest", distance = d$ps, mahvars = ~ps, caliper = 0.1,
             std.caliper = FALSE, m.order = "largest", replace = FALSE, ratio = 1)
mm <- m$match.matrix
pairs <- cbind(d$patient_id[as.integer(rownames(mm))], d$patient_id[as.integer(mm[, 1])])
pairs <- pairs[!is.na(mm[, 1]), , drop = FALSE]
num <- function(x) ifelse(is.na(x), "null", sprintf("%.17g", x))
grp <- function(fit, strata_name) {
  s <- summary(fit, times = c(1, 3, 5), extend = TRUE)
  q <- quantile(fit, probs = 0.5, conf.int = TRUE)
  k <- which(names(fit$strata) == strata_name)
  rows <- s$strata == strata_name
  sprintf('{"n":%d,"events":%d,"median":[%s,%s,%s],"surv":[%s],"lo":[%s],"hi":[%s]}',
          fit$n[k], sum(fit$n.event[if (k == 1) 1:fit$strata[1] else (fit$strata[1] + 1):sum(fit$strata)]),
          num(q$quantile[k]), num(q$lower[k]), num(q$upper[k]),
          paste(num(s$surv[rows]), collapse = ","), paste(num(s$lower[rows]), collapse = ","),
          paste(num(s$upper[rows]), collapse = ","))
}
km <- function(data) {
  fit <- survfit(Surv(time_years, event) ~ treated, data = data, conf.type = "plain")
  sprintf('{"treated":%s,"control":%s}', grp(fit, "treated=1"), grp(fit, "treated=0"))
}
test <- function(sd) sprintf('{"chisq":%s,"df":%d,"p":%s}', num(sd$chisq), length(sd$n) - 1,
                             num(pchisq(sd$chisq, length(sd$n) - 1, lower.tail = FALSE)))
hr <- function(fit) {
  ci <- summary(fit)$conf.int; co <- summary(fit)$coefficients
  sprintf('{"hr":%s,"lo":%s,"hi":%s,"p":%s}', num(ci[1, 1]), num(ci[1, 3]), num(ci[1, 4]), num(co[1, ncol(co)]))
}
md <- d[d$matched == 1, ]
writeLines(c("{",
  sprintf('"ps":[%s],', paste(num(d$ps), collapse = ",")),
  sprintf('"pairs":[%s],', paste(sprintf('["%s","%s"]', pairs[, 1], pairs[, 2]), collapse = ",")),
  sprintf('"km":{"unmatched":%s,"matched":%s},', km(d), km(md)),
  sprintf('"logrank":{"unmatched":%s,"matched":%s,"matched_pair_stratified":%s},',
          test(survdiff(Surv(time_years, event) ~ treated, data = d)),
          test(survdiff(Surv(time_years, event) ~ treated, data = md)),
          test(survdiff(Surv(time_years, event) ~ treated + strata(pair), data = md))),
  sprintf('"cox":{"unmatched":%s,"matched_robust":%s}',
          hr(coxph(Surv(time_years, event) ~ treated, data = d, ties = "efron")),
          hr(coxph(Surv(time_years, event) ~ treated, data = md, ties = "efron", cluster = pair))),
  "}"), "reference.json")
