"""The MMRM against R: ``nlme::gls`` with an unstructured covariance (``corSymm`` +
``varIdent``, REML), least-squares means and contrasts from ``emmeans``, on three invented
data sets (visits missing; complete; a site with one subject). The R code and the data are
in tests/analysis/reference/ (``mmrm_reference.R``, ``make_mmrm_data.py``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pustula.analysis.mmrm import MmrmResult, mmrm
from pustula.errors import AnalysisError

REFERENCE = Path(__file__).parent / "reference"
VISITS = ["W2", "W4", "W8", "W12"]
DATA_SETS = ["mmrm_missing", "mmrm_complete", "mmrm_single_site"]


def _fit(frame: pd.DataFrame, factors: tuple[str, ...] = ("smoking", "site")) -> MmrmResult:
    return mmrm(frame, "chg", subject="id", visit="visit", arm="arm", baseline="base",
                treated="TOFA5", control="PLCB", factors=factors, visits=VISITS)  # fmt: skip


@pytest.mark.parametrize("name", DATA_SETS)
def test_estimates_and_standard_errors_equal_nlme_gls_to_1e_4(name: str) -> None:
    result = _fit(pd.read_csv(REFERENCE / f"{name}.csv"))
    expected = pd.read_csv(REFERENCE / f"{name}_expected.csv")
    r = expected[expected["what"] == "contrast"].set_index("visit")
    for c in result.contrasts:
        assert c.estimate == pytest.approx(r.loc[c.visit, "estimate"], abs=1e-4)
        assert c.se == pytest.approx(r.loc[c.visit, "se"], abs=1e-4)
    means = expected[expected["what"] == "lsmean"].set_index(["visit", "arm"])
    for m in result.ls_means:
        assert m.estimate == pytest.approx(means.loc[(m.visit, m.arm), "estimate"], abs=1e-4)
        assert m.se == pytest.approx(means.loc[(m.visit, m.arm), "se"], abs=1e-4)
    cov = expected[expected["what"] == "covariance"].pivot_table(
        index="arm", columns="visit", values="estimate")  # fmt: skip
    # relative: nlme stops where its REML gradient is still ~1e-3 (our criterion at our
    # covariance is lower than at nlme's by ~1e-8), so its variances agree to 1e-5 relative
    np.testing.assert_allclose(result.covariance, cov.loc[VISITS, VISITS].to_numpy(), rtol=1e-4)


@pytest.mark.parametrize("name", DATA_SETS)
def test_satterthwaite_df_are_near_emmeans_approximation(name: str) -> None:
    """emmeans offers gls only its approximate Satterthwaite df; the exact ones differ
    from it by a few per cent, never more (the exact check is the next test)."""
    result = _fit(pd.read_csv(REFERENCE / f"{name}.csv"))
    expected = pd.read_csv(REFERENCE / f"{name}_expected.csv")
    r = expected[expected["what"] == "contrast"].set_index("visit")
    for c in result.contrasts:
        assert c.df == pytest.approx(r.loc[c.visit, "df"], rel=0.05)


def test_complete_data_give_each_visits_least_squares_and_exactly_n_minus_3_df() -> None:
    """With every visit of every subject and the same terms at each visit, GLS is least
    squares visit by visit, and the variance of a visit's contrast is its residual
    variance, a chi-square on n - 3 df (intercept, arm, baseline): Satterthwaite gives
    exactly n - 3 (hand derivation; statsmodels OLS for the estimates)."""
    import statsmodels.formula.api as smf

    frame = pd.read_csv(REFERENCE / "mmrm_complete.csv")
    result = _fit(frame, factors=())
    n = frame["id"].nunique()
    for c in result.contrasts:
        ols = smf.ols("chg ~ arm + base", frame[frame["visit"] == c.visit]).fit()
        assert c.estimate == pytest.approx(ols.params["arm[T.TOFA5]"], abs=1e-6)
        assert c.se == pytest.approx(ols.bse["arm[T.TOFA5]"], abs=1e-6)
        assert c.df == pytest.approx(n - 3, abs=1e-3)


def test_intervals_and_p_use_the_t_distribution_on_those_df() -> None:
    from scipy import stats

    result = _fit(pd.read_csv(REFERENCE / "mmrm_missing.csv"))
    for c in result.contrasts:
        q = stats.t.ppf(0.975, c.df)
        assert (c.low, c.high) == pytest.approx((c.estimate - q * c.se, c.estimate + q * c.se))
        assert c.p_value == pytest.approx(2 * stats.t.sf(abs(c.estimate / c.se), c.df))


def test_a_subject_without_post_baseline_values_or_baseline_is_left_out() -> None:
    frame = pd.read_csv(REFERENCE / "mmrm_missing.csv")
    extra = frame[frame["id"] == "S000"].assign(id="X1", base=np.nan)
    result = _fit(pd.concat([frame, extra]))
    assert result.n_subjects == frame["id"].nunique()
    assert result.n_observations == len(frame)


def test_an_arm_without_values_at_a_visit_is_a_clear_error() -> None:
    frame = pd.read_csv(REFERENCE / "mmrm_missing.csv")
    frame = frame[~((frame["arm"] == "PLCB") & (frame["visit"] == "W12"))]
    with pytest.raises(AnalysisError, match="cannot be estimated"):
        _fit(frame)


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_the_stored_reference_is_what_r_gives_today(tmp_path: Path) -> None:
    """Re-run the R reference where R and nlme are installed: the stored numbers are
    still what R computes (skipped without R)."""
    check = subprocess.run(["Rscript", "-e", "library(nlme); library(emmeans)"],
                           capture_output=True, check=False)  # fmt: skip
    if check.returncode:
        pytest.skip("R lacks nlme or emmeans")
    for path in REFERENCE.glob("mmrm_*"):
        shutil.copy(path, tmp_path / path.name)
    subprocess.run(["Rscript", "mmrm_reference.R", *DATA_SETS], cwd=tmp_path, check=True,
                   capture_output=True)  # fmt: skip
    for name in DATA_SETS:
        fresh = pd.read_csv(tmp_path / f"{name}_expected.csv")
        stored = pd.read_csv(REFERENCE / f"{name}_expected.csv")
        np.testing.assert_allclose(fresh["estimate"], stored["estimate"], atol=1e-6)
