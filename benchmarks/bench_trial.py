"""The trial's MMRM on 1,000 subjects x 6 visits, beside R's nlme::gls on the same data
in the same run (issue 31: not slower than R).

    uv run python benchmarks/bench_trial.py [--subjects 1000] [--repeat 3]

The data are invented here (2:1 arms, six post-baseline visits, an unstructured
covariance, 10 % of visits missing, strata smoking and site) and written to a CSV that
both sides read. Pustula's time is the fit with Satterthwaite df for every least-squares
mean and contrast; R's is gls() plus emmeans() with residual df (mode "df.error": its
approximate Satterthwaite stops with an error at this size after four minutes), timed
inside R with system.time(), so R's start-up and package loading are not counted. The
estimates of both are compared too.
R needs Debian's r-cran-nlme and r-cran-emmeans.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pustula.analysis.mmrm import mmrm

VISITS = ["W2", "W4", "W8", "W12", "W16", "W24"]
R_CODE = r"""
suppressMessages({library(nlme); library(emmeans)})
d <- read.csv(commandArgs(trailingOnly = TRUE)[1], stringsAsFactors = FALSE)
visits <- c("W2", "W4", "W8", "W12", "W16", "W24")
d$visit <- factor(d$visit, levels = visits)
d$arm <- factor(d$arm, levels = c("PLCB", "TOFA5"))
d$vnum <- as.integer(d$visit)
elapsed <- system.time({
  fit <- gls(chg ~ visit * arm + visit * base + smoking + site, data = d,
             correlation = corSymm(form = ~ vnum | id),
             weights = varIdent(form = ~ 1 | visit), method = "REML")
  em <- emmeans(fit, ~ arm | visit, mode = "df.error")
  diffs <- as.data.frame(summary(pairs(em, reverse = TRUE)))
})[["elapsed"]]
cat(sprintf("R_SECONDS %.3f\n", elapsed))
cat(sprintf("R_CONTRAST %s %.6f %.6f\n", diffs$visit, diffs$estimate, diffs$SE), sep = "")
"""


def make(subjects: int, seed: int = 31) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = len(VISITS)
    sd = np.linspace(5.5, 7.8, t)
    corr = 0.65 ** np.abs(np.subtract.outer(np.arange(t), np.arange(t))) * 0.8 + 0.2 * np.eye(t)
    cov = corr * np.outer(sd, sd)
    rows = []
    for i in range(subjects):
        arm = "TOFA5" if rng.uniform() < 2 / 3 else "PLCB"
        base = rng.uniform(12, 40)
        smoking, site = rng.choice(["never", "ever"]), rng.choice(["S1", "S2", "S3", "S4"])
        error = rng.multivariate_normal(np.zeros(t), cov)
        for j, visit in enumerate(VISITS):
            if j and rng.uniform() < 0.1:
                continue
            chg = (-2 * (j + 1) - (4 + 1.5 * j) * (arm == "TOFA5") - 0.3 * (base - 25)
                   + (1.5 if smoking == "ever" else 0) + error[j])  # fmt: skip
            rows.append({"id": f"S{i:04d}", "visit": visit, "arm": arm, "base": round(base, 1),
                         "smoking": smoking, "site": site, "chg": round(chg, 2)})  # fmt: skip
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame = make(args.subjects)
    with tempfile.TemporaryDirectory() as folder:
        csv, script = Path(folder) / "data.csv", Path(folder) / "mmrm.R"
        frame.to_csv(csv, index=False)
        script.write_text(R_CODE)
        print(f"{args.subjects} subjects, {len(frame)} values at {len(VISITS)} visits")
        ours, theirs, fit = [], [], None
        r_out = ""
        for _ in range(args.repeat):  # alternate, so that a busy minute hits both
            start = time.perf_counter()
            fit = mmrm(frame, "chg", subject="id", visit="visit", arm="arm", baseline="base",
                       treated="TOFA5", control="PLCB", factors=["smoking", "site"],
                       visits=VISITS)  # fmt: skip
            ours.append(time.perf_counter() - start)
            run = subprocess.run(["Rscript", str(script), str(csv)], capture_output=True,
                                 text=True, check=True)  # fmt: skip
            r_out = run.stdout
            theirs.append(float(r_out.split("R_SECONDS ")[1].split()[0]))
    assert fit is not None
    r_contrasts = {
        line.split()[1]: (float(line.split()[2]), float(line.split()[3]))
        for line in r_out.splitlines()
        if line.startswith("R_CONTRAST")
    }
    worst = max(
        max(abs(c.estimate - r_contrasts[c.visit][0]), abs(c.se - r_contrasts[c.visit][1]))
        for c in fit.contrasts
    )
    print(f"pustula mmrm (REML, Satterthwaite df): best {min(ours):.3f} s of {ours}")
    print(f"R nlme::gls + emmeans:                 best {min(theirs):.3f} s of {theirs}")
    print(f"largest difference in a contrast's estimate or SE: {worst:.2e}")
    print(f"RATIO pustula / R = {min(ours) / min(theirs):.2f}  (target <= 1)")
    if worst > 1e-4:
        sys.exit("the estimates differ from R's by more than 1e-4")


if __name__ == "__main__":
    main()
