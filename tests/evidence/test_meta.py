"""Meta-analysis against R's metafor.

Reference numbers were produced with metafor 4 on R 4.2 (Debian's r-cran-metafor), with the
R code beside each block; where ``Rscript`` with metafor is installed, the same code also
runs live and must agree. dat.bcg (13 BCG vaccine trials) is metafor's public example data.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from pustula.evidence import escalc, leave_one_out, mantel_haenszel, rma, subgroups
from pustula.evidence.meta import mantel_haenszel_result

TPOS = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
TNEG = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
CPOS = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
CNEG = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]
N1 = [a + b for a, b in zip(TPOS, TNEG, strict=True)]
N2 = [a + b for a, b in zip(CPOS, CNEG, strict=True)]
BCG = escalc("RR", TPOS, N1, CPOS, N2)

# dat <- escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)
# rma(yi, vi, data=dat, method=M)  (and test="knha"; predict(res, transf=exp))
BCG_REFERENCE = {
    "REML": {"mu": -0.7145, "se": 0.1798, "ci": (-1.0669, -0.3622), "tau2": 0.3132},
    "DL": {"mu": -0.7141, "se": 0.1787, "tau2": 0.3088},
    "PM": {"mu": -0.7150, "se": 0.1809, "tau2": 0.3181},
    "ML": {"mu": -0.7112, "se": 0.1719, "tau2": 0.2800},
    "FE": {"mu": -0.4303, "se": 0.0405, "tau2": 0.0},
}


@pytest.mark.parametrize("method", list(BCG_REFERENCE))
def test_bcg_pooled_log_rr_matches_metafor(method: str) -> None:
    result, expected = rma(BCG, method), BCG_REFERENCE[method]
    assert result.mu == pytest.approx(expected["mu"], abs=1e-4)
    assert result.se == pytest.approx(expected["se"], abs=1e-4)
    assert result.tau2 == pytest.approx(expected["tau2"], abs=1e-4)
    if "ci" in expected:
        assert result.ci == pytest.approx(expected["ci"], abs=1e-4)


def test_bcg_heterogeneity_hartung_knapp_and_prediction_interval() -> None:
    reml = rma(BCG, "REML")
    assert reml.q == pytest.approx(152.233, abs=1e-3) and reml.k == 13
    assert reml.i2 == pytest.approx(92.22, abs=0.01)
    assert (reml.pi_low, reml.pi_high) == pytest.approx((0.1546, 1.5490), abs=1e-4)
    assert rma(BCG, "REML", hk=True).ci == pytest.approx((-1.1084, -0.3206), abs=1e-4)


# rma.mh(ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg, measure=M): b, se
MH_REFERENCE = {"RR": (-0.4537096, 0.03933737), "OR": (-0.473411, 0.04100778),
                "RD": (-0.003288182, 0.0002866567)}  # fmt: skip


@pytest.mark.parametrize("measure", list(MH_REFERENCE))
def test_mantel_haenszel_matches_metafor(measure: str) -> None:
    est, se, _ = mantel_haenszel(measure, TPOS, N1, CPOS, N2)
    assert (est, se) == pytest.approx(MH_REFERENCE[measure], rel=1e-6)


# R (metafor 4.x, Debian r-cran-metafor), heterogeneity around the MH estimate:
#   for (m in c("RR","OR","RD")) { r <- rma.mh(ai=tpos, bi=tneg, ci=cpos, di=cneg,
#     data=dat.bcg, measure=m); cat(m, sprintf("%.10g", c(r$QE, r$QEp, r$I2, r$H2))) }
MH_HETEROGENEITY = {
    "RR": (152.5675536, 1.707587532e-26, 92.1346317, 12.7139628),
    "OR": (163.9425796, 8.249452551e-29, 92.68036404, 13.66188163),
    "RD": (386.7759418, 2.382062565e-75, 96.89742854, 32.23132849),
}
# a sparse set: study 1 has no events in either arm (left out of Q: k.yi = 4 of k = 5),
# study 4 a zero cell (1/2 added for Q only):
#   ai <- c(0,2,5,0,7); n1 <- c(20,25,30,15,40); ci <- c(0,5,9,3,12); n2 <- c(20,25,28,15,41)
#   r <- rma.mh(ai=ai, n1i=n1, ci=ci, n2i=n2, measure=m); c(r$b, r$QE, r$QEp, r$I2, r$H2)
SPARSE = ([0, 2, 5, 0, 7], [20, 25, 30, 15, 40], [0, 5, 9, 3, 12], [20, 25, 28, 15, 41])
MH_SPARSE = {
    "RR": (-0.7399772804, 1.039843756, 0.7916121849, 0.0, 0.3466145852),
    "OR": (-0.9329740232, 0.8929641752, 0.8271253753, 0.0, 0.2976547251),
    "RD": (-0.1177836238, 0.4971935256, 0.9195075478, 0.0, 0.1657311752),
}


@pytest.mark.parametrize("measure", list(MH_HETEROGENEITY))
def test_mantel_haenszel_heterogeneity_is_around_the_mh_estimate_as_in_metafor(
    measure: str,
) -> None:
    """Before: Q around the inverse-variance mean (RD: 276.47 against metafor's 386.78)."""
    r = mantel_haenszel_result(measure, TPOS, N1, CPOS, N2)  # type: ignore[arg-type]
    q, q_p, i2, h2 = MH_HETEROGENEITY[measure]
    assert (r.q, r.i2, r.h2) == pytest.approx((q, i2, h2), rel=1e-8)
    assert r.q_p == pytest.approx(q_p, rel=1e-6)  # p ~ 1e-75: relative, never absolute


@pytest.mark.parametrize("measure", list(MH_SPARSE))
def test_mantel_haenszel_heterogeneity_with_zero_cells_matches_metafor(measure: str) -> None:
    r = mantel_haenszel_result(measure, *SPARSE)  # type: ignore[arg-type]
    assert (r.mu, r.q, r.q_p, r.i2, r.h2) == pytest.approx(MH_SPARSE[measure], rel=1e-8)


X, N = [6, 13, 0, 21, 8], [6, 21, 10, 34, 12]


def test_proportions_logit_and_double_arcsine_match_metafor() -> None:
    # p <- rma(measure="PLO", xi=x, ni=n, method="REML"); predict(p, transf=transf.ilogit)
    plo = rma(escalc("PLO", X, N), "REML")
    assert (plo.mu, plo.se, plo.q) == pytest.approx((0.4726515, 0.2455166, 8.067469), abs=1e-4)
    assert (plo.estimate, plo.ci_low, plo.ci_high) == pytest.approx(
        (0.6160111, 0.497862, 0.7218898), abs=1e-4)  # fmt: skip
    # zero cells: 0/10 and 6/6 get 1/2 added, as escalc(to="only0") does
    assert escalc("PLO", X, N).corrected == (0, 2)
    # f <- rma(measure="PFT", xi=x, ni=n, method="DL")
    # predict(f, transf=transf.ipft.hm, targs=list(ni=n))
    pft = rma(escalc("PFT", X, N), "DL")
    assert (pft.mu, pft.se, pft.tau2) == pytest.approx((0.8468068, 0.1533863, 0.09836071), abs=1e-6)
    assert (pft.estimate, pft.ci_low, pft.ci_high, pft.pi_low, pft.pi_high) == pytest.approx(
        (0.5662766, 0.2511229, 0.8575232, 0.001572024, 1.0), abs=1e-6)  # fmt: skip


def test_leave_one_out_refits_without_each_study() -> None:
    rows = leave_one_out(BCG, "DL")
    assert len(rows) == 13
    keep = np.arange(13) != 7
    by_hand = rma(escalc("RR", *(np.array(v)[keep] for v in (TPOS, N1, CPOS, N2))), "DL")
    assert rows[7][1].mu == pytest.approx(by_hand.mu)


def test_subgroup_difference_is_tested_across_subgroup_estimates() -> None:
    # dat.bcg's allocation: random, alternate or systematic
    alloc = ["random", "random", "random", "random", "alternate", "alternate", "random",
             "random", "random", "systematic", "systematic", "systematic", "systematic"]  # fmt: skip
    result = subgroups(BCG, alloc, "DL")
    assert set(result.groups) == {"random", "alternate", "systematic"} and result.df == 2
    mus = np.array([g.mu for g in result.groups.values()])
    w = 1 / np.array([g.se for g in result.groups.values()]) ** 2
    pooled = np.sum(w * mus) / np.sum(w)
    assert result.q_between == pytest.approx(float(np.sum(w * (mus - pooled) ** 2)))


LIVE = """
suppressMessages(library(metafor))
dat <- escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)
for (m in c("REML", "DL", "PM", "ML", "FE")) {
  r <- rma(yi, vi, data=dat, method=m); cat(m, r$b, r$se, r$tau2, "\\n")
}
for (m in c("RR", "OR", "RD")) {
  r <- rma.mh(ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg, measure=m)
  cat("MH", m, sprintf("%.12g", c(r$b, r$QE, r$I2, r$H2)), "\\n")
}
"""


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_live_metafor_agrees() -> None:
    run = subprocess.run(["Rscript", "-e", LIVE], capture_output=True, text=True, timeout=120)
    if "there is no package called" in run.stderr:
        pytest.skip("metafor is not installed")
    for line in run.stdout.strip().splitlines():
        if line.startswith("MH "):
            _, measure, *values = line.split()
            mh = mantel_haenszel_result(measure, TPOS, N1, CPOS, N2)  # type: ignore[arg-type]
            assert (mh.mu, mh.q, mh.i2, mh.h2) == pytest.approx(list(map(float, values)), rel=1e-8)
            continue
        method, mu, se, tau2 = line.split()
        ours = rma(BCG, method)  # type: ignore[arg-type]
        assert (ours.mu, ours.se, ours.tau2) == pytest.approx(
            (float(mu), float(se), float(tau2)), abs=1e-4)  # fmt: skip


def test_egger_matches_metafor_regtest_and_refuses_small_meta_analyses() -> None:
    from pustula.errors import DataValidationError
    from pustula.evidence.meta import egger_test

    # regtest(rma(yi, vi, data=dat), model="lm"): t = -1.4013, df = 11, p = 0.1887,
    # limit estimate b = -0.1909
    test = egger_test(BCG)
    assert (test.t, test.df, test.p_value) == pytest.approx((-1.4013, 11, 0.1887), abs=1e-4)
    assert test.limit_estimate == pytest.approx(-0.1909, abs=1e-4)
    with pytest.raises(DataValidationError, match="at least 10 studies"):
        egger_test(escalc("PLO", X, N))
