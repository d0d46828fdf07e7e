"""Two-arm comparison of proportions: sample size and power.

- Normal approximation (Fleiss, Levin & Paik 2003, eq. 4.14) with Fleiss' continuity
  correction, two-sided ``alpha``:
  n = [z(1-α/2)·√(2·p̄·q̄) + z(1-β)·√(p1·q1 + p2·q2)]² / (p1 − p2)², and
  n_cc = n/4 · (1 + √(1 + 4 / (n·|p1 − p2|)))².
- Exact power of Fisher's exact test (two-sided, as ``scipy.stats.fisher_exact``) by
  enumerating every pair of outcomes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from pustula.errors import DataValidationError

__all__ = ["TwoArmSize", "fisher_power", "two_arm_size"]


@dataclass(frozen=True)
class TwoArmSize:
    n_per_arm: int  # with continuity correction, rounded up
    n_uncorrected: int
    power_normal: float  # normal-approximation power at n_per_arm, corrected
    power_fisher: float  # exact power of Fisher's test at n_per_arm

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _check(p1: float, p2: float, alpha: float) -> None:
    if not (0 < p1 < 1 and 0 < p2 < 1) or p1 == p2:
        raise DataValidationError("the two rates must differ and lie between 0 and 1", field="p1")
    if not 0 < alpha < 0.5:
        raise DataValidationError("alpha must lie between 0 and 0.5", field="alpha")


def _uncorrected(p1: float, p2: float, alpha: float, power: float) -> float:
    pbar = (p1 + p2) / 2
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    top = za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return float(top**2 / (p1 - p2) ** 2)


def normal_power(p1: float, p2: float, n: int, alpha: float = 0.05) -> float:
    """Power at ``n`` per arm, inverting the continuity-corrected formula."""
    delta = abs(p1 - p2)
    # the uncorrected n that the correction turns into n: n' = n - 2/delta (exact inverse)
    effective = max(n - 2 / delta, 1e-9)
    pbar = (p1 + p2) / 2
    za = stats.norm.ppf(1 - alpha / 2)
    z = (delta * math.sqrt(effective) - za * math.sqrt(2 * pbar * (1 - pbar))) / math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2)
    )
    return float(stats.norm.cdf(z))


def fisher_power(p1: float, p2: float, n1: int, n2: int, alpha: float = 0.05) -> float:
    """Exact power of the two-sided Fisher test: Σ P(x1, x2) over tables it rejects.

    For each total t the test is the hypergeometric one: a table is rejected when the sum of
    the probabilities of tables no more likely than it is at most ``alpha``.
    """
    _check(p1, p2, alpha)
    x1 = np.arange(n1 + 1)
    b1, b2 = stats.binom.pmf(x1, n1, p1), stats.binom.pmf(np.arange(n2 + 1), n2, p2)
    total = 0.0
    for t in range(n1 + n2 + 1):
        lo, hi = max(0, t - n2), min(n1, t)
        xs = np.arange(lo, hi + 1)
        h = stats.hypergeom.pmf(xs, n1 + n2, n1, t)
        # two-sided p-value as scipy computes it: tables with probability <= the observed one
        # (with a relative tolerance of 1e-7 for ties)
        p_values = np.array([h[h <= v * (1 + 1e-7)].sum() for v in h])
        reject = xs[p_values <= alpha]
        total += float(np.sum(b1[reject] * b2[t - reject]))
    return total


def two_arm_size(p1: float, p2: float, alpha: float = 0.05, power: float = 0.8) -> TwoArmSize:
    _check(p1, p2, alpha)
    if not 0.5 < power < 1:
        raise DataValidationError("power must lie between 0.5 and 1", field="power")
    n = _uncorrected(p1, p2, alpha, power)
    corrected = n / 4 * (1 + math.sqrt(1 + 4 / (n * abs(p1 - p2)))) ** 2
    per_arm = math.ceil(corrected - 1e-9)
    return TwoArmSize(
        per_arm, math.ceil(n - 1e-9), normal_power(p1, p2, per_arm, alpha),
        fisher_power(p1, p2, per_arm, per_arm, alpha),
    )  # fmt: skip
