"""Bayesian monitoring against Lee & Liu (2008) and by direct computation."""

from __future__ import annotations

import pytest
from scipy import stats

from pustula.design.bayes import (
    operating_characteristics,
    predictive_probability,
    stopping_boundaries,
)


def test_predictive_probability_matches_lee_and_liu() -> None:
    # Lee JJ, Liu DD. Clin Trials 2008;5:93-106, worked example: Beta(0.6, 0.4) prior,
    # Nmax = 40, p0 = 0.6, θT = 0.90; 16 responses in 23 patients: PP = 0.5656
    r = predictive_probability(0.6, 0.4, 16, 23, 40, 0.6, 0.9)
    assert r.predictive_probability == pytest.approx(0.5656, abs=5e-5)
    assert r.posterior_prob_above_p0 == pytest.approx(stats.beta.sf(0.6, 16.6, 7.4))
    # the fewest further responses (of 17) for P(rate > 0.6) > 0.9 at the end
    needed = [y for y in range(18) if stats.beta.sf(0.6, 16.6 + y, 7.4 + 17 - y) > 0.9]
    assert r.responses_needed == needed[0] == 12


def test_boundaries_stop_only_when_the_predictive_probability_is_low() -> None:
    rows = stopping_boundaries(0.6, 0.4, 40, 0.6, 0.9, theta_l=0.05, first=10, every=5)
    for row in rows:
        if row.stop_if_at_most is not None:
            low = predictive_probability(0.6, 0.4, row.stop_if_at_most, row.n, 40, 0.6, 0.9)
            above = predictive_probability(0.6, 0.4, row.stop_if_at_most + 1, row.n, 40, 0.6, 0.9)
            assert low.predictive_probability < 0.05 <= above.predictive_probability


def test_operating_characteristics_are_seeded_and_sensible() -> None:
    rows = stopping_boundaries(0.6, 0.4, 40, 0.6, 0.9, theta_l=0.05, first=10, every=5)
    null = operating_characteristics(rows, 0.6, 40, 0.6, 0.6, 0.4, 0.9, runs=4000, seed=1)
    good = operating_characteristics(rows, 0.8, 40, 0.6, 0.6, 0.4, 0.9, runs=4000, seed=1)
    again = operating_characteristics(rows, 0.6, 40, 0.6, 0.6, 0.4, 0.9, runs=4000, seed=1)
    assert null == again
    assert null.reject_p0 < 0.15 < 0.8 < good.reject_p0
    assert null.early_stop > good.early_stop and null.mean_n < good.mean_n


def test_without_interim_looks_the_simulation_matches_the_exact_probability() -> None:
    # no look before nmax: success iff P(rate > 0.6 | x of 40) > 0.9, i.e. x >= the smallest
    # such x; the exact chance of that at a true rate of 0.8 is a binomial tail
    needed = next(x for x in range(41) if stats.beta.sf(0.6, 0.6 + x, 0.4 + 40 - x) > 0.9)
    exact = stats.binom.sf(needed - 1, 40, 0.8)
    oc = operating_characteristics([], 0.8, 40, 0.6, 0.6, 0.4, 0.9, runs=20_000, seed=7)
    spread = (exact * (1 - exact) / 20_000) ** 0.5
    assert abs(oc.reject_p0 - exact) < 4 * spread
    assert oc.early_stop == 0 and oc.mean_n == 40


def test_a_good_drug_rarely_stops_for_futility() -> None:
    rows = stopping_boundaries(0.6, 0.4, 40, 0.6, 0.9, theta_l=0.05, first=10, every=5)
    assert all(row.go_if_at_least is None for row in rows)  # no efficacy stop unless asked
    good = operating_characteristics(rows, 0.8, 40, 0.6, 0.6, 0.4, 0.9, runs=4000, seed=1)
    assert good.early_stop < 0.1
