# Reference numbers for pannet_core.cox_models (univariable + multivariable Cox as in seed 001).
# Data: survival::veteran (Veterans' Administration lung cancer trial), a real public data set.
# treated = trt == 2 (test chemotherapy); celltype keeps R's level order (squamous first);
# prior is 0/10. Run from this folder: Rscript make_reference.R
suppressPackageStartupMessages(library(survival))
d <- veteran
d$treated <- as.numeric(d$trt == 2)
d$time <- d$time / 365.25
d$prior <- factor(d$prior)
write.csv(data.frame(id = seq_len(nrow(d)), time = sprintf("%.17g", d$time), event = d$status,
                     treated = d$treated, celltype = as.character(d$celltype), karno = d$karno,
                     age = d$age, prior = as.character(d$prior), diagtime = d$diagtime),
          "veteran_full.csv", row.names = FALSE, quote = FALSE)
num <- function(x) sprintf("%.17g", x)
out <- c()
emit <- function(model, term, fit) {
  s <- summary(fit)$coefficients
  ci <- summary(fit)$conf.int
  i <- which(rownames(s) == term)
  out <<- c(out, sprintf('{"model":"%s","term":"%s","hr":%s,"lower":%s,"upper":%s,"p":%s}',
                         model, term, num(ci[i, "exp(coef)"]), num(ci[i, "lower .95"]),
                         num(ci[i, "upper .95"]), num(s[i, "Pr(>|z|)"])))
}
lrp <- list()
covs <- c("treated", "celltype", "karno", "age", "prior", "diagtime")
for (v in covs) {
  f <- coxph(as.formula(paste("Surv(time, status) ~", v)), data = transform(d, time = time), ties = "efron")
  lrp[[v]] <- summary(f)$logtest[["pvalue"]]
  for (term in names(coef(f))) emit("univariable", term, f)
}
entered <- c("treated", covs[-1][unlist(lrp[covs[-1]]) < 0.10])
fm <- coxph(as.formula(paste("Surv(time, status) ~", paste(entered, collapse = " + "))), data = d, ties = "efron")
for (term in names(coef(fm))) emit("multivariable", term, fm)
zph <- cox.zph(fm, transform = "km")$table
zrows <- sprintf('{"term":"%s","chisq":%s,"df":%s,"p":%s}', rownames(zph), num(zph[, "chisq"]),
                 num(zph[, "df"]), num(zph[, "p"]))
# truncation where one third of the cohort remains at risk (seed 001)
ut <- sort(unique(d$time)); atrisk <- sapply(ut, function(t) sum(d$time >= t))
tstar <- ut[which(atrisk <= nrow(d) / 3)[1]]
dt <- d; late <- dt$time > tstar; dt$status[late] <- 0; dt$time[late] <- tstar
ft <- coxph(Surv(time, status) ~ treated, data = dt, ties = "efron")
emit("truncated", "treated", ft)
writeLines(c("{", sprintf('"lr_p":{%s},', paste(sprintf('"%s":%s', names(lrp), num(unlist(lrp))), collapse = ",")),
             sprintf('"entered":[%s],', paste(sprintf('"%s"', entered), collapse = ",")),
             sprintf('"truncated_at":%s,', num(tstar)),
             sprintf('"rows":[%s],', paste(out, collapse = ",\n")),
             sprintf('"zph":[%s]', paste(zrows, collapse = ",\n")), "}"), "reference.json")
