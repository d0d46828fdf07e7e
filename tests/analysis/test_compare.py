"""Binary endpoints between two arms, each method against an independent reference:
Newcombe (1998) Table II's worked examples for the risk difference; the score limits'
defining equation solved with a restricted maximum likelihood found numerically (not the
closed form the code uses); statsmodels for the ratio and odds-ratio score intervals;
R's ``mantelhaen.test`` for the CMH test and the common odds ratio."""

from __future__ import annotations

import math
import random
import warnings

import pytest
from scipy import optimize, stats

from pustula.analysis.compare import compare_proportions, stratified_comparison
from pustula.errors import AnalysisError

Z2 = stats.norm.ppf(0.975) ** 2

# Newcombe RG. Stat Med 1998;17:873-890, Table II: 95% limits for examples (a)-(d),
# method 10 (hybrid score) and the Miettinen-Nurminen score interval.
NEWCOMBE = [
    ((56, 70, 48, 80), (0.0524, 0.3339), (0.0528, 0.3382)),
    ((9, 10, 3, 10), (0.1705, 0.8090), (0.1700, 0.8406)),
    ((6, 7, 2, 7), (0.0582, 0.8062), (0.0342, 0.8534)),
    ((5, 56, 0, 29), (-0.0381, 0.1926), (-0.0326, 0.1933)),
]


@pytest.mark.parametrize(("table", "hybrid", "score"), NEWCOMBE)
def test_risk_difference_intervals_equal_newcombes_worked_examples(
    table: tuple[int, int, int, int], hybrid: tuple[float, float], score: tuple[float, float]
) -> None:
    c = compare_proportions(*table)
    h, s = c.risk_difference_newcombe, c.risk_difference
    assert (round(h.low, 4), round(h.high, 4)) == hybrid
    assert (round(s.low, 4), round(s.high, 4)) == score


def _restricted(x1: int, n1: int, x0: int, n0: int, link) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Maximum likelihood (p1, p0) with p1 = link(p0), by a bounded numerical search."""

    def minus_loglik(p0: float) -> float:
        p1 = link(p0)
        if not 0 <= p1 <= 1:
            return 1e100
        total = 0.0
        for x, n, p in ((x1, n1, p1), (x0, n0, p0)):
            p = min(max(p, 1e-15), 1 - 1e-15)
            total -= x * math.log(p) + (n - x) * math.log(1 - p)
        return total

    grid = [i / 4000 for i in range(4001)]
    best = min(range(4001), key=lambda i: minus_loglik(grid[i]))
    found = optimize.minimize_scalar(minus_loglik, bounds=(grid[max(best - 1, 0)],
                                     grid[min(best + 1, 4000)]), method="bounded",
                                     options={"xatol": 1e-13})  # fmt: skip
    p0 = found.x if found.fun <= minus_loglik(grid[best]) else grid[best]
    return link(p0), p0


def _score_sq(x1: int, n1: int, x0: int, n0: int, measure: str, value: float) -> float:
    """Miettinen & Nurminen's score statistic squared, written from their paper."""
    big_n = n1 + n0
    p1, p0 = x1 / n1, x0 / n0
    if measure == "difference":
        r1, r0 = _restricted(x1, n1, x0, n0, lambda q: q + value)
        var = r1 * (1 - r1) / n1 + r0 * (1 - r0) / n0
        return (p1 - p0 - value) ** 2 / (var * big_n / (big_n - 1))
    r1, r0 = _restricted(x1, n1, x0, n0, lambda q: q * value)
    var = r1 * (1 - r1) / n1 + value**2 * r0 * (1 - r0) / n0
    return (p1 - value * p0) ** 2 / (var * big_n / (big_n - 1))


def _tables(count: int, seed: int) -> list[tuple[int, int, int, int]]:
    rng = random.Random(seed)
    tables = [(0, 10, 0, 20), (10, 10, 0, 10), (1, 1, 1, 6), (1, 21, 1, 2), (0, 12, 5, 12)]
    for _ in range(count):
        n1, n0 = rng.randint(1, 60), rng.randint(1, 60)
        tables.append((rng.randint(0, n1), n1, rng.randint(0, n0), n0))
    return tables


@pytest.mark.parametrize("table", _tables(40, 31))
def test_each_score_limit_solves_the_score_equation(table: tuple[int, int, int, int]) -> None:
    """At each limit inside the parameter space the squared score equals z^2, with the
    restricted likelihood maximised numerically rather than by the closed form (a search
    that is good to about 1e-5 near a rate of 0 or 1, hence the tolerance)."""
    c = compare_proportions(*table)
    for limit in (c.risk_difference.low, c.risk_difference.high):
        if -1 < limit < 1:
            assert _score_sq(*table, "difference", limit) == pytest.approx(Z2, abs=1e-4)
    for limit in (c.relative_risk.low, c.relative_risk.high):
        if 0 < limit < math.inf:
            assert _score_sq(*table, "ratio", limit) == pytest.approx(Z2, abs=1e-4)


def test_ratio_and_odds_ratio_intervals_equal_statsmodels() -> None:
    """statsmodels' score intervals for the ratio and odds ratio, on tables without a zero
    cell. (Its risk-difference score interval is not Miettinen-Nurminen's: it misses
    Newcombe's published limits and fails outright on many tables, so the difference is
    checked against the paper and the score equation above.)"""
    from statsmodels.stats.proportion import confint_proportions_2indep

    rng = random.Random(5)
    for _ in range(150):
        n1, n0 = rng.randint(5, 80), rng.randint(5, 80)
        x1, x0 = rng.randint(1, n1 - 1), rng.randint(1, n0 - 1)
        c = compare_proportions(x1, n1, x0, n0)
        for effect, compare in ((c.relative_risk, "ratio"), (c.odds_ratio, "odds-ratio")):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                low, high = confint_proportions_2indep(x1, n1, x0, n0, method="score",
                                                       compare=compare, correction=True)  # fmt: skip
            assert effect.low == pytest.approx(low, rel=1e-7)
            assert effect.high == pytest.approx(high, rel=1e-7)


def test_fisher_exact_is_fishers_tea_tasting_p() -> None:
    """Fisher (1935): 3 of 4 cups right each way, two-sided p = 34/70 (hypergeometric)."""
    assert compare_proportions(3, 4, 1, 4).fisher_p == pytest.approx(34 / 70)


def test_estimates_are_the_plain_ratios_and_zero_cells_open_an_end() -> None:
    c = compare_proportions(12, 20, 4, 20)
    assert c.relative_risk.estimate == pytest.approx(3.0)
    assert c.odds_ratio.estimate == pytest.approx((12 * 16) / (4 * 8))
    none_in_control = compare_proportions(5, 10, 0, 10)
    assert none_in_control.relative_risk.estimate == math.inf
    assert none_in_control.relative_risk.high == math.inf
    assert 0 < none_in_control.relative_risk.low < 5
    nobody = compare_proportions(0, 10, 0, 10)
    assert nobody.relative_risk.estimate is None
    assert nobody.risk_difference.estimate == 0
    assert nobody.risk_difference.low < 0 < nobody.risk_difference.high


def test_impossible_counts_are_refused_with_the_arm_named() -> None:
    with pytest.raises(AnalysisError, match="control arm") as caught:
        compare_proportions(3, 10, 5, 4)
    assert caught.value.field == "control"


# R 4.x: mantelhaen.test(tab, correct = FALSE) on the three strata that hold both arms
# (R refuses a stratum of one subject); the code is in reference/cmh_reference.R.
R_CMH = {"statistic": 6.9240955309, "p": 0.0085041992, "or": 4.1510416667,
         "or_low": 1.4241128190, "or_high": 12.0995659111}  # fmt: skip


def test_cmh_and_common_odds_ratio_equal_r_mantelhaen_test_with_a_stratum_of_one() -> None:
    strata = [(8, 10, 3, 10), (5, 10, 2, 10), (7, 12, 4, 11), (1, 1, 0, 0)]
    s = stratified_comparison(strata)
    assert s.strata_used == 3 and s.strata_total == 4
    assert s.cmh_statistic == pytest.approx(R_CMH["statistic"], abs=1e-8)
    assert s.cmh_p == pytest.approx(R_CMH["p"], abs=1e-9)
    odds = s.common_odds_ratio
    assert (odds.estimate, odds.low, odds.high) == pytest.approx(
        (R_CMH["or"], R_CMH["or_low"], R_CMH["or_high"]), abs=1e-8)  # fmt: skip


def test_cmh_equals_statsmodels_stratified_table() -> None:
    import numpy as np
    from statsmodels.stats.contingency_tables import StratifiedTable

    rng = random.Random(8)
    for _ in range(30):
        strata = []
        for _ in range(rng.randint(2, 5)):
            n1, n0 = rng.randint(2, 30), rng.randint(2, 30)
            strata.append((rng.randint(0, n1), n1, rng.randint(0, n0), n0))
        tables = np.array([[[a, n1 - a], [c, n0 - c]] for a, n1, c, n0 in strata], float)
        reference = StratifiedTable(np.moveaxis(tables, 0, -1)).test_null_odds(correction=False)
        s = stratified_comparison(strata)
        assert s.cmh_statistic == pytest.approx(reference.statistic, rel=1e-9)


def test_mantel_haenszel_risk_difference_with_one_stratum_is_the_wald_interval() -> None:
    """Hand calculation: for one stratum the MH difference is p1 - p0 and Sato's variance
    is p1 q1 / n1 + p0 q0 / n0 (30/50 vs 20/50: 0.2 +- 1.96 x 0.09798)."""
    s = stratified_comparison([(30, 50, 20, 50)])
    rd = s.risk_difference
    se = math.sqrt(0.6 * 0.4 / 50 + 0.4 * 0.6 / 50)
    assert rd.estimate == pytest.approx(0.2)
    assert (rd.low, rd.high) == pytest.approx((0.2 - 1.959964 * se, 0.2 + 1.959964 * se),
                                              abs=1e-6)  # fmt: skip


def test_mantel_haenszel_risk_difference_weights_strata_by_n1_n0_over_n() -> None:
    """Hand calculation: strata 8/10 vs 3/10 (weight 5) and 10/20 vs 1/10 (weight 20/3)."""
    s = stratified_comparison([(8, 10, 3, 10), (10, 20, 1, 10)])
    expected = (5 * 0.5 + 20 / 3 * 0.4) / (5 + 20 / 3)
    assert s.risk_difference.estimate == pytest.approx(expected)


def test_no_stratum_with_both_arms_is_a_clear_error() -> None:
    with pytest.raises(AnalysisError, match="both arms"):
        stratified_comparison([(1, 1, 0, 0), (0, 0, 2, 3)])
