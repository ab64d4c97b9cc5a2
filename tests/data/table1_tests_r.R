# Reference p values for pannet_core.table1 (run: Rscript tests/data/table1_tests_r.R > tests/data/table1_tests_r.json)
# Tables are levels x groups (column 1 = treated), filled by column.
tabs <- list(
  age      = matrix(c(18, 21, 20, 6, 32, 39, 32, 26), ncol = 2),
  sex      = matrix(c(26, 39, 50, 79), ncol = 2),
  calendar = matrix(c(19, 46, 14, 115), ncol = 2),
  charlson = matrix(c(53, 9, 3, 108, 13, 8), ncol = 2),
  size     = matrix(c(6, 34, 24, 1, 18, 72, 30, 9), ncol = 2),
  livermets= matrix(c(21, 20, 17, 7, 12, 40, 68, 9), ncol = 2),
  extra    = matrix(c(3, 62, 12, 117), ncol = 2),
  small2x2 = matrix(c(1, 9, 6, 4), ncol = 2),
  small5x2 = matrix(c(3, 1, 0, 2, 5, 1, 4, 2, 3, 0), ncol = 2)
)
out <- c()
for (nm in names(tabs)) {
  t <- tabs[[nm]]
  chi <- suppressWarnings(chisq.test(t, correct = FALSE)$p.value)
  fi <- fisher.test(t)$p.value
  out <- c(out, sprintf('"%s": {"table": [%s], "chisq_p": %.15g, "fisher_p": %.15g}', nm,
                        paste(sprintf("[%s]", apply(t, 1, paste, collapse = ", ")), collapse = ", "), chi, fi))
}
x1 <- c(1.2, 3.4, 2.2, 5.0, 4.1, 2.2, 3.3)
x0 <- c(2.5, 6.1, 4.4, 5.5, 7.0, 3.9)
w <- wilcox.test(x1, x0, exact = FALSE, correct = TRUE)$p.value
tt <- t.test(x1, x0)$p.value
out <- c(out, sprintf('"numeric": {"x1": [%s], "x0": [%s], "wilcox_p": %.15g, "welch_p": %.15g}',
                      paste(x1, collapse = ", "), paste(x0, collapse = ", "), w, tt))
cat("{", paste(out, collapse = ",\n"), "}\n")
