"""Edges of the intervals and the exact test that mutation testing found unasserted
(scripts/mutation; docs/mutation.md): each value here is worked out by hand or by scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from pustula.analysis.ci import (
    WILCOXON_EXACT_MAX,
    beta_binomial_posterior,
    mean_ci,
    proportion_ci,
    summarise_continuous,
    wilcoxon_change,
)
from pustula.errors import AnalysisError


def test_posterior_with_an_informative_prior_and_its_interval() -> None:
    # prior Beta(2, 8), 5 of 6 respond -> Beta(2 + 5, 8 + 1) = Beta(7, 9): mean 7/16
    post = beta_binomial_posterior(5, 6, threshold=0.5, prior=(2.0, 8.0), alpha=0.1)
    assert (post.x, post.n, post.prior_a, post.prior_b) == (5, 6, 2.0, 8.0)
    assert post.mean == pytest.approx(7 / 16)
    assert (post.low, post.high) == pytest.approx(
        (stats.beta.ppf(0.05, 7, 9), stats.beta.ppf(0.95, 7, 9))
    )
    assert post.p_above_threshold == pytest.approx(stats.beta.sf(0.5, 7, 9))
    assert (post.threshold, post.alpha) == (0.5, 0.1)


def test_posterior_interval_is_equal_tailed_at_the_default_alpha() -> None:
    post = beta_binomial_posterior(5, 6, threshold=0.5)  # Beta(6, 2)
    assert stats.beta.cdf(post.low, 6, 2) == pytest.approx(0.025)
    assert stats.beta.sf(post.high, 6, 2) == pytest.approx(0.025)


@pytest.mark.parametrize("alpha", [0.1, 0.01])
@pytest.mark.parametrize("method", ["clopper-pearson", "jeffreys"])
def test_beta_intervals_leave_alpha_over_two_in_each_tail(method: str, alpha: float) -> None:
    x, n = 3, 10
    shift = 0.0 if method == "clopper-pearson" else 0.5
    est = proportion_ci(x, n, method=method, alpha=alpha)  # type: ignore[arg-type]
    low_a, high_b = (x, n - x + 1) if not shift else (x + 0.5, n - x + 0.5)
    high_a, low_b = (x + 1, n - x) if not shift else (x + 0.5, n - x + 0.5)
    assert est.low == pytest.approx(stats.beta.ppf(alpha / 2, low_a, high_b))
    assert est.high == pytest.approx(stats.beta.ppf(1 - alpha / 2, high_a, low_b))
    assert (est.x, est.n, est.estimate, est.method, est.alpha) == (x, n, 0.3, method, alpha)


def test_wilson_stays_inside_zero_and_one() -> None:
    # x = n: centre + half is 1 up to rounding; the interval must still end at 1 exactly
    assert proportion_ci(6, 6, method="wilson").high <= 1.0
    assert proportion_ci(0, 6, method="wilson").low >= 0.0
    # by hand for 0 of 6 at z = 1.95996: upper = z²/n / (1 + z²/n) = 0.3903
    z2 = stats.norm.ppf(0.975) ** 2
    assert proportion_ci(0, 6, method="wilson").high == pytest.approx((z2 / 6) / (1 + z2 / 6))


@pytest.mark.parametrize("alpha", [0.0, 1.0, 1.5])
def test_an_impossible_alpha_is_refused(alpha: float) -> None:
    with pytest.raises(ValueError, match="alpha must be between 0 and 1"):
        proportion_ci(3, 6, alpha=alpha)
    with pytest.raises(AnalysisError, match="alpha must be between 0 and 1") as raised:
        mean_ci([1.0, 2.0], alpha=alpha)
    assert raised.value.field == "alpha"


def test_an_unknown_interval_method_is_refused() -> None:
    with pytest.raises(ValueError, match="method must be clopper-pearson, wilson or jeffreys"):
        proportion_ci(3, 6, method="wald")  # type: ignore[arg-type]


def test_mean_interval_by_hand_and_its_small_samples() -> None:
    # -60, -70, -90: mean -73.33, SD 15.275, t(0.975, 2) = 4.3027 -> half 37.95
    est = mean_ci([-60.0, -70.0, -90.0, float("nan")])
    half = stats.t.ppf(0.975, 2) * np.std([-60, -70, -90], ddof=1) / math.sqrt(3)
    assert (est.n, est.alpha, est.method) == (3, 0.05, "t interval")
    assert (est.mean, est.low, est.high) == pytest.approx(
        (-220 / 3, -220 / 3 - half, -220 / 3 + half)
    )
    assert est.low == pytest.approx(-111.28, abs=0.01)
    one = mean_ci([5.0])
    assert (one.n, one.mean) == (1, 5.0) and math.isnan(one.low) and math.isnan(one.high)
    none = mean_ci([float("nan")], alpha=0.1)
    assert (none.n, none.alpha) == (0, 0.1)
    assert all(math.isnan(v) for v in (none.mean, none.low, none.high))


def test_continuous_summary_quartiles_and_empty_input() -> None:
    # 1..8: linear interpolation puts Q1 at 2.75 and Q3 at 6.25
    s = summarise_continuous([8, 1, 7, 2, 6, 3, 5, 4])
    assert (s.n, s.q1, s.median, s.q3, s.min, s.max) == (8, 2.75, 4.5, 6.25, 1.0, 8.0)
    single = summarise_continuous([3.0])
    assert (single.n, single.mean, single.median) == (1, 3.0, 3.0) and math.isnan(single.sd)
    empty = summarise_continuous([float("nan")])
    assert empty.n == 0
    assert all(
        math.isnan(getattr(empty, f)) for f in ("mean", "sd", "median", "q1", "q3", "min", "max")
    )


def test_wilcoxon_without_non_zero_changes_says_it_cannot_be_computed() -> None:
    result = wilcoxon_change([0.0, 0.0, 0.0], zero_method="pratt")
    assert (result.n, result.n_nonzero, result.method, result.zero_method) == (
        3, 0, "not computed", "pratt",
    )  # fmt: skip
    assert all(math.isnan(v) for v in (result.statistic, result.p_value, result.smallest_p))
    assert result.caveat == "no non-zero changes: the test cannot be computed"


def test_wilcoxon_of_one_non_zero_change() -> None:
    # T+ is 0 or 1, each with probability 1/2: both are as extreme as can be, so p = 1
    result = wilcoxon_change([-4.0, 0.0])
    assert (result.n, result.n_nonzero, result.statistic) == (2, 1, 0.0)
    assert (result.p_value, result.smallest_p, result.method) == (1.0, 1.0, "exact")


def test_wilcoxon_refuses_an_unknown_zero_rule_naming_the_field() -> None:
    with pytest.raises(AnalysisError, match="zero_method must be 'wilcox' or 'pratt'") as raised:
        wilcoxon_change([1.0, 2.0], zero_method="zsplit")  # type: ignore[arg-type]
    assert raised.value.field == "zero_method"


def test_wilcoxon_rounds_at_ten_decimals_by_default() -> None:
    # 1 + 1e-11 and -1 tie once rounded to 10 decimals: mid-ranks 1.5 and 1.5, T+ = 1.5
    assert wilcoxon_change([1 + 1e-11, -1.0]).statistic == 1.5
    assert wilcoxon_change([1 + 1e-11, -1.0], decimals=11).statistic == 2.0


def test_the_caveat_changes_at_ten_non_zero_changes() -> None:
    nine = wilcoxon_change(-np.arange(1.0, 10.0))
    assert nine.caveat.startswith("9 non-zero changes: the smallest two-sided p")
    assert "0.00391" in nine.caveat  # 2 / 2**9
    assert wilcoxon_change(-np.arange(1.0, 11.0)).caveat == "10 non-zero changes"


def test_exact_up_to_the_limit_then_normal() -> None:
    at_limit = wilcoxon_change(np.arange(1.0, WILCOXON_EXACT_MAX + 1) - 150.5)
    assert (at_limit.method, at_limit.n_nonzero) == ("exact", WILCOXON_EXACT_MAX)
    above = wilcoxon_change(np.arange(1.0, WILCOXON_EXACT_MAX + 2) - 150.5)
    assert (above.method, above.smallest_p) == ("normal approximation", 0.0)
    # exact and normal agree closely this far out (scipy's normal approximation, corrected)
    scipy_p = stats.wilcoxon(
        np.arange(1.0, WILCOXON_EXACT_MAX + 2) - 150.5, method="approx", correction=True
    ).pvalue
    assert above.p_value == pytest.approx(scipy_p, rel=1e-9)


def test_two_values_have_an_sd_and_a_t_interval() -> None:
    # 4 and 8: mean 6, SD √8 = 2.828; t(0.975, 1) = 12.706 -> half 12.706 · 2.828 / √2 = 25.41
    assert summarise_continuous([4.0, 8.0]).sd == pytest.approx(math.sqrt(8))
    est = mean_ci([4.0, 8.0], alpha=0.1)
    half = stats.t.ppf(0.95, 1) * math.sqrt(8) / math.sqrt(2)
    assert (est.low, est.high) == pytest.approx((6 - half, 6 + half))
    assert mean_ci([4.0]).alpha == 0.05


def test_the_result_keeps_the_zero_rule_and_a_large_p_from_the_normal_approximation() -> None:
    assert wilcoxon_change([1.0, -2.0, 0.0, 3.0], zero_method="pratt").zero_method == "pratt"
    # a balanced large sample: z well below 1, p near 1 (scipy's corrected approximation)
    changes = np.append(np.tile([1.0, -1.0, 2.0, -2.0], 110), 3.0)  # 441: above the limit
    result = wilcoxon_change(changes)
    expected = stats.wilcoxon(changes, method="approx", correction=True).pvalue
    assert result.method == "normal approximation"
    assert result.p_value == pytest.approx(expected, rel=1e-9) and 0.5 < result.p_value < 1
