"""Intervals against statsmodels and scipy, including the edges 0/n and n/n."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from pustula.analysis.ci import (
    beta_binomial_posterior,
    proportion_ci,
    summarise_continuous,
    wilcoxon_change,
)

CASES = [(x, n) for n in (1, 6, 10, 37) for x in range(0, n + 1, max(1, n // 5))] + [
    (0, 6),
    (6, 6),
    (5, 6),
    (3, 6),
]


@pytest.mark.parametrize(("x", "n"), CASES)
def test_clopper_pearson_equals_statsmodels_beta(x: int, n: int) -> None:
    ours = proportion_ci(x, n, method="clopper-pearson")
    low, high = proportion_confint(x, n, alpha=0.05, method="beta")
    assert (ours.low, ours.high) == pytest.approx((low, high), abs=1e-12)


@pytest.mark.parametrize(("x", "n"), CASES)
def test_wilson_equals_statsmodels(x: int, n: int) -> None:
    ours = proportion_ci(x, n, method="wilson")
    assert (ours.low, ours.high) == pytest.approx(
        proportion_confint(x, n, method="wilson"), abs=1e-12
    )


@pytest.mark.parametrize(("x", "n"), [(x, n) for x, n in CASES if 0 < x < n])
def test_jeffreys_equals_statsmodels_inside(x: int, n: int) -> None:
    ours = proportion_ci(x, n, method="jeffreys")
    assert (ours.low, ours.high) == pytest.approx(
        proportion_confint(x, n, method="jeffreys"), abs=1e-12
    )


def test_jeffreys_edges_use_the_brown_cai_dasgupta_modification() -> None:
    assert proportion_ci(0, 6, method="jeffreys").low == 0.0
    assert proportion_ci(6, 6, method="jeffreys").high == 1.0
    assert proportion_ci(6, 6, method="jeffreys").low == pytest.approx(
        stats.beta.ppf(0.025, 6.5, 0.5)
    )


def test_the_seed_paper_figures() -> None:
    # Clopper-Pearson 6/6: lower limit 0.025 ** (1/6) = 0.5407; 5/6: 0.3588-0.9958
    assert proportion_ci(6, 6).low == pytest.approx(0.025 ** (1 / 6))
    five = proportion_ci(5, 6)
    assert (round(100 * five.low, 1), round(100 * five.high, 1)) == (35.9, 99.6)
    assert (five.method, five.alpha) == ("clopper-pearson", 0.05)


@pytest.mark.parametrize(("x", "n"), [(-1, 6), (7, 6), (0, 0)])
def test_impossible_counts_are_refused(x: int, n: int) -> None:
    with pytest.raises(ValueError, match="0 <= x <= n"):
        proportion_ci(x, n)


def test_posterior_by_hand() -> None:
    # uniform prior, 5/6 -> Beta(6, 2): mean 6/8; P(p > 0.5) = 1 - I_0.5(6, 2) = 1 - 8/256 * ... computed by scipy
    post = beta_binomial_posterior(5, 6, threshold=0.5)
    assert post.mean == pytest.approx(0.75)
    assert post.p_above_threshold == pytest.approx(1 - stats.beta.cdf(0.5, 6, 2))
    # by hand: P(Beta(6,2) <= 0.5) = sum_{j=6}^{7} C(7,j) 0.5^7 = (7 + 1) / 128
    assert post.p_above_threshold == pytest.approx(1 - 8 / 128)


def test_continuous_summary_against_numpy() -> None:
    values = [26.1, 32.4, 25.1, 24.6, 19.5, 29.7, float("nan")]
    s = summarise_continuous(values)
    clean = np.array(values[:-1])
    assert s.n == 6
    assert (s.mean, s.sd, s.median) == pytest.approx(
        (clean.mean(), clean.std(ddof=1), np.median(clean))
    )
    assert (s.min, s.max) == (19.5, 32.4)


def test_wilcoxon_exact_for_six_all_negative() -> None:
    # every change negative, no ties: exact two-sided p = 2 / 2**6 = 0.03125
    result = wilcoxon_change([-10.6, -12.9, -10.1, -5.8, -3.3, -5.4])
    assert result.p_value == pytest.approx(0.03125)
    assert result.method == "exact"
    assert "smallest two-sided p this test can give is 0.0312" in result.caveat
