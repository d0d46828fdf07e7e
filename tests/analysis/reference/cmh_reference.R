# R reference for tests/analysis/test_compare.py: the CMH test without continuity
# correction and the Mantel-Haenszel common odds ratio (Robins-Breslow-Greenland interval).
# strata: (treated responders, treated n, control responders, control n); R refuses a
# stratum of one subject, which carries no comparison, so it is dropped as Pustula does.
s <- list(c(8, 10, 3, 10), c(5, 10, 2, 10), c(7, 12, 4, 11), c(1, 1, 0, 0))
tab <- array(0, dim = c(2, 2, length(s)))
for (k in seq_along(s)) {
  v <- s[[k]]
  tab[, , k] <- matrix(c(v[1], v[2] - v[1], v[3], v[4] - v[3]), 2, byrow = TRUE)
}
tab <- tab[, , apply(tab, 3, function(t) all(rowSums(t) > 0)), drop = FALSE]
r <- mantelhaen.test(tab, correct = FALSE)
cat(sprintf("%.10f %.10f %.10f %.10f %.10f\n", r$statistic, r$p.value, r$estimate,
            r$conf.int[1], r$conf.int[2]))
