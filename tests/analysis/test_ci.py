"""Intervals against statsmodels and scipy, including the edges 0/n and n/n."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from pustula.analysis.ci import (
    beta_binomial_posterior,
    mean_ci,
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


# --- Wilcoxon with ties and zeros: the exact distribution of the sample's own ranks --------


def _permutation_p(changes: list[float], *, zero_method: str) -> float:
    """Reference: every one of the 2^n sign patterns enumerated by scipy's permutation test,
    on T+ computed with scipy's own ranks (Pratt: zeros ranked, then left out of T+)."""
    v = np.asarray(changes, dtype=float)
    if zero_method == "wilcox":
        v = v[v != 0]
    ranks = stats.rankdata(np.abs(v))

    def t_plus(x: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.sum(np.where(x > 0, ranks, 0.0), axis=axis)

    centre = ranks[v != 0].sum() / 2
    result = stats.permutation_test(
        (v,), lambda x, axis=-1: np.abs(t_plus(x, axis) - centre),
        permutation_type="samples", alternative="greater", n_resamples=np.inf,
    )  # fmt: skip
    return float(result.pvalue)


@pytest.mark.parametrize(
    "changes",
    [
        [-3.0] * 6,  # all tied: exact p = 2 / 2**6 = 0.03125 (a normal approximation gave 0.0143)
        [-3.0, -3.0, -3.0, 0.0, 0.0, -1.0],
        [-5.5, -5.5, 2.0, -1.0, -1.0, -7.0, 0.0],
        [1.0, -1.0, 2.0, -2.0, 3.0, 0.0, 0.0, -4.0, -4.0],
        [-0.1, -0.2, -0.2, -0.3, -0.4, -0.4, -0.4, -0.5, 0.1, -0.6, -0.7, -0.8],
    ],
)
@pytest.mark.parametrize("zero_method", ["wilcox", "pratt"])
def test_wilcoxon_with_ties_and_zeros_is_exact(changes: list[float], zero_method: str) -> None:
    result = wilcoxon_change(changes, zero_method=zero_method)  # type: ignore[arg-type]
    assert result.method == "exact"
    expected = _permutation_p(changes, zero_method=zero_method)
    assert result.p_value == pytest.approx(expected, rel=1e-9, abs=0)


def test_wilcoxon_equals_scipy_exact_without_ties() -> None:
    rng = np.random.default_rng(20261129)
    for n in range(2, 26):
        sample = rng.normal(-0.4, 1.0, n).round(6)
        if np.unique(np.abs(sample)).size < n or np.any(sample == 0):
            continue
        ours = wilcoxon_change(sample)
        theirs = stats.wilcoxon(sample, method="exact")
        assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9), n
        assert min(ours.statistic, n * (n + 1) / 2 - ours.statistic) == theirs.statistic


def test_binary_noise_does_not_break_a_tie() -> None:
    noisy = wilcoxon_change([-14.900000000000002, -14.899999999999999, -3.0, -5.0, 2.0, -7.0])
    clean = wilcoxon_change([-14.9, -14.9, -3.0, -5.0, 2.0, -7.0])
    assert noisy == clean
    assert clean.p_value == pytest.approx(
        _permutation_p([-14.9, -14.9, -3, -5, 2, -7], zero_method="wilcox")
    )


def test_the_caveat_states_the_smallest_p_the_sample_allows() -> None:
    # two zeros dropped leave 4 non-zero changes: the smallest p is 2 / 2**4 = 0.125, and the
    # p-value can never be below it
    result = wilcoxon_change([-3.0, -2.0, -2.0, -1.0, 0.0, 0.0])
    assert result.n_nonzero == 4
    assert result.smallest_p == pytest.approx(0.125)
    assert result.p_value >= result.smallest_p
    assert "0.125" in result.caveat


def test_large_samples_use_the_corrected_normal_approximation() -> None:
    sample = np.round(np.random.default_rng(7).normal(-0.2, 1.0, 450), 1)  # many ties
    ours = wilcoxon_change(sample)
    theirs = stats.wilcoxon(sample[sample != 0], method="approx", correction=True)
    assert ours.method == "normal approximation"
    # p is about 1e-10: a relative tolerance only (pytest's default absolute 1e-12 would
    # hide a missing continuity correction, which moves p by 1.2e-13 here)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9, abs=0)
    uncorrected = stats.wilcoxon(sample[sample != 0], method="approx", correction=False)
    assert ours.p_value != pytest.approx(uncorrected.pvalue, rel=1e-6, abs=0)


def test_mean_change_interval_is_a_t_interval() -> None:
    values = [-93.5, -97.2, -89.1, -76.3, -100.0, -88.0]
    for alpha in (0.05, 0.1):
        ours = mean_ci(values, alpha=alpha)
        low, high = stats.t.interval(1 - alpha, 5, loc=np.mean(values), scale=stats.sem(values))
        assert (ours.low, ours.high) == pytest.approx((low, high), rel=1e-12)
    # the old mean ± 1.96 SE is narrower: the t quantile at 5 df is 2.571
    z_half = 1.96 * stats.sem(values)
    assert (ours.high - ours.low) / 2 > z_half
