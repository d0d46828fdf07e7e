"""ANCOVA and logistic regression against statsmodels (OLS, Logit) on the three invented
data sets of the MMRM reference, at week 12: visits missing, complete, and a site of one
subject."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pustula.analysis.models import ancova, logistic_effect
from pustula.errors import AnalysisError

REFERENCE = Path(__file__).parent / "reference"


def _week12(name: str) -> pd.DataFrame:
    frame = pd.read_csv(REFERENCE / f"{name}.csv")
    frame = frame[frame["visit"] == "W12"].copy()
    frame["treated"] = (frame["arm"] == "TOFA5").astype(int)
    # a response: 10 points better than the arm-free prediction, an invented cut-off
    frame["responder"] = (frame["chg"] < -12).astype(int)
    return frame


@pytest.mark.parametrize("name", ["mmrm_missing", "mmrm_complete", "mmrm_single_site"])
def test_ancova_equals_statsmodels_ols(name: str) -> None:
    import statsmodels.formula.api as smf

    frame = _week12(name)
    result = ancova(frame, "chg", arm="treated", covariates=["base"], factors=["smoking", "site"])
    ols = smf.ols("chg ~ treated + base + C(smoking) + C(site)", frame).fit()
    d = result.difference
    assert d.estimate == pytest.approx(ols.params["treated"], abs=1e-9)
    assert (d.low, d.high) == pytest.approx(tuple(ols.conf_int().loc["treated"]), abs=1e-9)
    assert d.p_value == pytest.approx(ols.pvalues["treated"], rel=1e-8)
    assert result.df == ols.df_resid
    assert result.ls_means[1] - result.ls_means[0] == pytest.approx(d.estimate)


def test_ancova_least_squares_means_weigh_strata_levels_equally() -> None:
    """Hand calculation: the mean of the model's predictions over a grid of every stratum
    level (each equally) at the mean baseline, per arm (as emmeans and SAS LSMEANS)."""
    import statsmodels.formula.api as smf

    frame = _week12("mmrm_missing")
    result = ancova(frame, "chg", arm="treated", covariates=["base"], factors=["smoking", "site"])
    ols = smf.ols("chg ~ treated + base + C(smoking) + C(site)", frame).fit()
    grid = pd.MultiIndex.from_product(
        [[0, 1], sorted(frame["smoking"].unique()), sorted(frame["site"].unique())],
        names=["treated", "smoking", "site"]).to_frame(index=False)  # fmt: skip
    grid["base"] = frame["base"].mean()
    by_arm = grid.assign(fit=ols.predict(grid)).groupby("treated")["fit"].mean()
    assert result.ls_means[1] == pytest.approx(by_arm[1]) and result.ls_means[0] == pytest.approx(
        by_arm[0])  # fmt: skip


@pytest.mark.parametrize("name", ["mmrm_missing", "mmrm_complete", "mmrm_single_site"])
def test_logistic_odds_ratio_equals_statsmodels_logit(name: str) -> None:
    import statsmodels.formula.api as smf

    frame = _week12(name)
    effect = logistic_effect(frame, "responder", arm="treated", covariates=["base"])
    fit = smf.logit("responder ~ treated + base", frame).fit(disp=0)
    assert effect.estimate == pytest.approx(np.exp(fit.params["treated"]), rel=1e-7)
    assert (effect.low, effect.high) == pytest.approx(
        tuple(np.exp(fit.conf_int().loc["treated"])), rel=1e-7)  # fmt: skip
    assert effect.p_value == pytest.approx(fit.pvalues["treated"], rel=1e-6)


def test_separated_responses_have_no_estimate_and_say_so() -> None:
    frame = pd.DataFrame({"treated": [1] * 5 + [0] * 5, "base": np.arange(10.0),
                          "responder": [1] * 5 + [0] * 5})  # fmt: skip
    with pytest.raises(AnalysisError, match="separated"):
        logistic_effect(frame, "responder", arm="treated", covariates=["base"])


def test_an_arm_missing_from_the_data_is_a_clear_error() -> None:
    frame = _week12("mmrm_complete").assign(treated=1)
    with pytest.raises(AnalysisError, match="cannot be estimated"):
        ancova(frame, "chg", arm="treated", covariates=["base"])
