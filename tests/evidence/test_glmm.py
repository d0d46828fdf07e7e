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

# Heterogeneity as rma.glmm reports it, on three data sets (metafor 4.x with lme4, Debian):
#   run <- function(x, n) { g <- rma.glmm(measure="PLO", xi=x, ni=n, method="ML")
#     sprintf("%.10g", c(g$QE.Wld, g$QEp.Wld, g$QE.LRT, g$QEp.LRT, g$I2, g$H2)) }
#   run(c(6,13,0,21,8,15,3), c(6,21,10,34,12,30,9))   # A: a 0/n and an n/n study
#   run(c(12,30,7,45,20), c(40,60,30,70,50))          # B
#   run(c(3,9,14,2,25,11), c(10,20,25,12,40,30))      # C
HETEROGENEITY = [
    (X, N, (3.461985587, 0.7490202888, 26.84080928, 0.0001550960322, 82.72081951, 5.787311502)),
    ([12, 30, 7, 45, 20], [40, 60, 30, 70, 50],
     (19.75028455, 0.0005593905809, 21.4448258, 0.0002584236519, 76.42047112, 4.240966836)),
    ([3, 9, 14, 2, 25, 11], [10, 20, 25, 12, 40, 30],
     (10.62370595, 0.05937287206, 12.12333824, 0.03313629216, 48.13878104, 1.928223093)),
]  # fmt: skip


@pytest.mark.parametrize(("x", "n", "expected"), HETEROGENEITY)
def test_heterogeneity_tests_i2_and_h2_are_those_of_rma_glmm(x, n, expected) -> None:
    """Before: an ordinary logit-scale Cochran Q of a non-GLMM fit (A: 8.07, not a test
    metafor reports). The Wald test of A agrees to 1e-6 only: glm stops its 0/n and n/n
    estimates at a finite size; B and C have no such study."""
    r = glmm_proportions(x, n)
    wald, wald_p, lrt, lrt_p, i2, h2 = expected
    assert r.q_test == "Wald"
    assert (r.q, r.q_p) == pytest.approx((wald, wald_p), rel=1e-6)
    assert (r.q_lrt, r.q_lrt_p) == pytest.approx((lrt, lrt_p), rel=1e-6)
    # I² and H² come from τ², which the optimiser finds to about 1e-6 of lme4's
    assert (r.i2, r.h2) == pytest.approx((i2, h2), rel=1e-4)


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
            'cat(g$b, g$se, g$tau2, g$QE.Wld, g$QE.LRT, g$I2)')  # fmt: skip
    run = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        pytest.skip(f"metafor/lme4 not usable: {run.stderr.strip()[:80]}")
    b, se, tau2, wald, lrt, i2 = map(float, run.stdout.split())
    r = glmm_proportions(X, N)
    assert (r.mu, r.se, r.tau2) == pytest.approx((b, se, tau2), abs=1e-4)
    assert (r.q, r.q_lrt, r.i2) == pytest.approx((wald, lrt, i2), rel=1e-4)
