"""The whole report of a randomized trial on 1,000 subjects, beside R doing the report's
statistics on the same data in the same run (issue 31: not slower than R).

    uv run python benchmarks/bench_trial_report.py [--subjects 1000]

The SYNTHETIC demo trial is seeded with ``--subjects`` randomized subjects (2:1, strata
site and smoking, six visits; not timed). Pustula's time is the whole unblinded report:
the analysis datasets, every comparison (rates, score intervals, CMH, logistic, ANCOVA,
the MMRMs of PPPASI and DLQI, subgroups, safety by arm), every table and figure, and the
HTML; the PDF is timed apart. R's time is its statistics alone on the analysis datasets
Pustula wrote (ADSL and ADQS as CSV): Fisher, CMH and logistic regression for each
binary endpoint, the ANCOVAs, and nlme::gls for the two MMRMs, timed inside R with
system.time() (so R draws no table or figure: the ratio flatters R).
R needs Debian's r-cran-nlme.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from pustula.analysis import build_analysis
from pustula.demo import trial_protocol
from pustula.demo_trial import create_trial_study
from pustula.report.build import render_html, render_pdf, report_from_analysis
from pustula.store import Store
from pustula.store.transfer.extract import read_study

R_CODE = r"""
suppressMessages(library(nlme))
args <- commandArgs(trailingOnly = TRUE)
adsl <- read.csv(args[1], stringsAsFactors = FALSE)
adqs <- read.csv(args[2], stringsAsFactors = FALSE)
elapsed <- system.time({
  itt <- adsl[adsl$ITTFL == "Y", ]
  itt$treated <- as.integer(itt$ARMCD == "TOFA5")
  for (ep in strsplit(args[3], ",")[[1]]) {
    parts <- strsplit(ep, ":")[[1]]
    rows <- adqs[adqs$PARAMCD == parts[1] & adqs$VISITCD %in% parts[2], ]
    flag <- rows[[parts[3]]][match(itt$USUBJID, rows$USUBJID)]
    itt$resp <- as.integer(!is.na(flag) & flag == "Y")
    fisher.test(table(itt$treated, itt$resp))
    mantelhaen.test(table(itt$treated, itt$resp, paste(itt$SITEID, itt$SMOKING)), correct = FALSE)
    base <- adqs[adqs$PARAMCD == "PPPASI" & adqs$ABLFL %in% "Y", ]
    itt$base <- base$AVAL[match(itt$USUBJID, base$USUBJID)]
    glm(resp ~ treated + base, family = binomial, data = itt)
  }
  observed <- (is.na(adqs$DTYPE) | adqs$DTYPE == "") & !(adqs$ABLFL %in% "Y")
  post <- merge(adqs[observed, ], itt[, c("USUBJID", "treated")])
  for (p in c("PPPASI", "DLQI")) {
    d <- post[post$PARAMCD == p & !is.na(post$CHG) & !is.na(post$BASE), ]
    w16 <- d[d$VISITCD == "W16", ]
    lm(CHG ~ treated + BASE, data = w16)
    d$visit <- factor(d$VISITCD)
    d$vnum <- as.integer(d$visit)
    gls(CHG ~ visit * treated + visit * BASE, data = d,
        correlation = corSymm(form = ~ vnum | USUBJID),
        weights = varIdent(form = ~ 1 | visit), method = "REML")
  }
})[["elapsed"]]
cat(sprintf("R_SECONDS %.3f\n", elapsed))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=1000)
    args = parser.parse_args()
    protocol = trial_protocol()
    assert protocol.randomization is not None
    longer = protocol.randomization.model_copy(update={"slots_per_stratum": args.subjects})
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{Path(folder) / 'trial.sqlite3'}")
        store.create_schema()
        start = time.perf_counter()
        seeded = protocol.model_copy(update={"randomization": longer})
        create_trial_study(store, subjects=args.subjects, protocol=seeded)
        print(f"seeded {args.subjects} subjects in {time.perf_counter() - start:.1f} s "
              "(not timed)")  # fmt: skip
        start = time.perf_counter()
        analysis = build_analysis(read_study(store, arms=True))
        report = report_from_analysis(analysis)
        html = render_html(report)
        ours = time.perf_counter() - start
        start = time.perf_counter()
        pdf = render_pdf(report)
        pdf_seconds = time.perf_counter() - start
        adsl, adqs = Path(folder) / "adsl.csv", Path(folder) / "adqs.csv"
        analysis.adsl.to_csv(adsl, index=False)
        analysis.adqs.to_csv(adqs, index=False)
        endpoints = ",".join(
            f"{'PGA' if e.kind == 'pga_0_1' else 'PPPASI'}:{e.visit}:"
            f"CRIT{analysis.crit(e.threshold) if e.threshold else analysis.pga_crit}FL"
            for e in protocol.endpoints
        )
        script = Path(folder) / "report.R"
        script.write_text(R_CODE)
        run = subprocess.run(["Rscript", str(script), str(adsl), str(adqs), endpoints],
                             capture_output=True, text=True, check=False)  # fmt: skip
        if run.returncode:
            raise SystemExit(f"R failed: {run.stderr}")
        theirs = float(run.stdout.split("R_SECONDS ")[1].split()[0])
        store.dispose()
    assert report.trial is not None
    print(
        f"pustula: analysis, comparisons, {len(report.tables)} tables, "
        f"{len(report.figures)} figures, HTML ({len(html) // 1024} kB): {ours:.2f} s"
    )
    print(f"pustula: PDF ({len(pdf) // 1024} kB, {pdf_seconds:.2f} s, not in the ratio)")
    print(f"R: the same statistics, no table or figure: {theirs:.2f} s")
    print(f"RATIO pustula / R = {ours / theirs:.2f}  (target <= 1)")


if __name__ == "__main__":
    main()
