# The R reference for pustula.analysis.mmrm (issue 31): nlme::gls with an unstructured
# covariance (corSymm + varIdent), REML; least-squares means and contrasts by emmeans.
# Run from this folder (Debian: r-cran-nlme, r-cran-emmeans):
#   Rscript mmrm_reference.R mmrm_missing mmrm_complete mmrm_single_site
# Each <name>.csv is read; <name>_expected.csv is written (what tests/analysis/test_mmrm.py
# compares to 1e-4). R 4.x, nlme 3.1, emmeans 1.8 made the stored files.
suppressMessages({library(nlme); library(emmeans)})
visits <- c("W2", "W4", "W8", "W12")
for (name in commandArgs(trailingOnly = TRUE)) {
  d <- read.csv(paste0(name, ".csv"), stringsAsFactors = FALSE)
  d$visit <- factor(d$visit, levels = visits)
  d$arm <- factor(d$arm, levels = c("PLCB", "TOFA5"))
  d$vnum <- as.integer(d$visit)
  fit <- gls(chg ~ visit * arm + visit * base + smoking + site, data = d,
             correlation = corSymm(form = ~ vnum | id),
             weights = varIdent(form = ~ 1 | visit), method = "REML",
             control = glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 500,
                                  msMaxIter = 500))
  em <- emmeans(fit, ~ arm | visit)
  means <- as.data.frame(summary(em))
  diffs <- as.data.frame(summary(pairs(em, reverse = TRUE)))
  complete <- names(which(table(d$id) == length(visits)))[1]
  sigma <- getVarCov(fit, individual = complete)
  out <- rbind(
    data.frame(what = "lsmean", visit = means$visit, arm = means$arm,
               estimate = means$emmean, se = means$SE, df = means$df),
    data.frame(what = "contrast", visit = diffs$visit, arm = "TOFA5 - PLCB",
               estimate = diffs$estimate, se = diffs$SE, df = diffs$df),
    data.frame(what = "covariance", visit = rep(visits, each = 4), arm = rep(visits, 4),
               estimate = as.vector(sigma), se = NA, df = NA)
  )
  write.csv(out, paste0(name, "_expected.csv"), row.names = FALSE)
}
