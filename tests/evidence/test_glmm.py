"""The binomial-normal model against metafor's rma.glmm (lme4), including a 0/n study.

R (metafor 4, lme4; Debian packages):
    x <- c(6,13,0,21,8,15,3); n <- c(6,21,10,34,12,30,9)
    g <- rma.glmm(measure="PLO", xi=x, ni=n, method="ML")
    predict(g, transf=transf.ilogit)
gave b 0.1041158, se 0.5166937, tau2 1.430473; pred 0.5260055 (CI 0.2872894 to 0.7533978,
PI 0.07947923 to 0.9344825).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from pustula.evidence.glmm import glmm_proportions

X, N = [6, 13, 0, 21, 8, 15, 3], [6, 21, 10, 34, 12, 30, 9]


def test_glmm_matches_metafor() -> None:
    r = glmm_proportions(X, N)
    assert (r.mu, r.se, r.tau2) == pytest.approx((0.1041158, 0.5166937, 1.430473), abs=1e-4)
    assert (r.estimate, r.ci_low, r.ci_high, r.pi_low, r.pi_high) == pytest.approx(
        (0.5260055, 0.2872894, 0.7533978, 0.07947923, 0.9344825), abs=1e-4)  # fmt: skip


def test_homogeneous_studies_give_tau2_zero_and_the_pooled_proportion() -> None:
    r = glmm_proportions([10, 20, 30], [100, 200, 300])
    assert r.tau2 == 0.0
    assert r.estimate == pytest.approx(0.1, abs=1e-6)  # 60 of 600


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_live_metafor_agrees() -> None:
    code = ('suppressMessages(library(metafor)); x <- c(6,13,0,21,8,15,3); '
            'n <- c(6,21,10,34,12,30,9); g <- rma.glmm(measure="PLO", xi=x, ni=n, method="ML"); '
            'cat(g$b, g$se, g$tau2)')  # fmt: skip
    run = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        pytest.skip(f"metafor/lme4 not usable: {run.stderr.strip()[:80]}")
    b, se, tau2 = map(float, run.stdout.split())
    r = glmm_proportions(X, N)
    assert (r.mu, r.se, r.tau2) == pytest.approx((b, se, tau2), abs=1e-4)
