"""Single-stage exact designs (A'Hern) and two-arm sizes, checked by hand and with scipy."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from pustula.design.single import single_stage
from pustula.design.two_arm import fisher_power, two_arm_size


def test_single_stage_is_the_smallest_exact_design() -> None:
    d = single_stage(0.05, 0.25, 0.05, 0.80)
    # A'Hern (2001), Table 1, p0 = 0.05, p1 = 0.25, α = 0.05, β = 0.20: n = 16, r = 3
    assert (d.n, d.r) == (16, 3)
    assert d.alpha == pytest.approx(stats.binom.sf(2, 16, 0.05))
    assert d.power == pytest.approx(stats.binom.sf(2, 16, 0.25))
    # and no smaller n works with any cut-off
    for n in range(1, 16):
        assert not any(stats.binom.sf(r - 1, n, 0.05) <= 0.05 and stats.binom.sf(r - 1, n, 0.25)
                       >= 0.80 for r in range(n + 1))  # fmt: skip


def test_two_arm_size_by_fleiss_formula() -> None:
    # hand calculation, p1 = 0.3, p2 = 0.5, two-sided α = 0.05, power 0.80:
    # p̄ = 0.4; n = (1.95996·√(2·0.4·0.6) + 0.84162·√(0.21 + 0.25))² / 0.2² = 92.99
    za, zb = 1.959963984540054, 0.8416212335729143
    n = (za * math.sqrt(2 * 0.4 * 0.6) + zb * math.sqrt(0.21 + 0.25)) ** 2 / 0.04
    corrected = n / 4 * (1 + math.sqrt(1 + 4 / (n * 0.2))) ** 2  # Fleiss: 102.9
    size = two_arm_size(0.3, 0.5)
    assert (size.n_uncorrected, size.n_per_arm) == (math.ceil(n), math.ceil(corrected)) == (93, 103)
    assert size.power_normal == pytest.approx(0.80, abs=0.002)


def test_fisher_power_equals_enumeration_with_scipy() -> None:
    n1, n2, p1, p2 = 12, 10, 0.2, 0.7
    expected = sum(
        stats.binom.pmf(a, n1, p1) * stats.binom.pmf(c, n2, p2)
        for a in range(n1 + 1) for c in range(n2 + 1)
        if stats.fisher_exact([[a, n1 - a], [c, n2 - c]]).pvalue <= 0.05
    )  # fmt: skip
    assert fisher_power(p1, p2, n1, n2) == pytest.approx(expected, abs=1e-12)
