"""Intervals and tests for small studies, as typed results that carry method and alpha.

References
----------
Clopper CJ, Pearson ES. Biometrika 1934;26:404-413. doi:10.1093/biomet/26.4.404
Wilson EB. J Am Stat Assoc 1927;22:209-212. doi:10.1080/01621459.1927.10502953
Brown LD, Cai TT, DasGupta A. Stat Sci 2001;16:101-133 (Jeffreys interval, with its
boundary modification at x = 0 and x = n). doi:10.1214/ss/1009213286
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

__all__ = [
    "CIMethod",
    "ContinuousSummary",
    "PosteriorSummary",
    "ProportionEstimate",
    "WilcoxonResult",
    "beta_binomial_posterior",
    "proportion_ci",
    "summarise_continuous",
    "wilcoxon_change",
]

CIMethod = Literal["clopper-pearson", "wilson", "jeffreys"]
CI_METHOD_NAMES: dict[str, str] = {
    "clopper-pearson": "Clopper–Pearson exact",
    "wilson": "Wilson score",
    "jeffreys": "Jeffreys",
}


@dataclass(frozen=True)
class ProportionEstimate:
    """``x`` of ``n`` with a two-sided ``1 - alpha`` interval. Rates are fractions 0–1."""

    x: int
    n: int
    estimate: float
    low: float
    high: float
    method: CIMethod
    alpha: float


def proportion_ci(
    x: int, n: int, *, method: CIMethod = "clopper-pearson", alpha: float = 0.05
) -> ProportionEstimate:
    """A binomial proportion with its confidence interval.

    Examples
    --------
    The seed paper's week-12 PPPASI80, 5 of 6:

    >>> r = proportion_ci(5, 6)
    >>> f"{r.estimate:.3f} [{r.low:.3f}, {r.high:.3f}]"
    '0.833 [0.359, 0.996]'
    """
    if n <= 0 or not 0 <= x <= n:
        raise ValueError(f"a proportion needs 0 <= x <= n and n > 0; got x={x}, n={n}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1; got {alpha}")
    if method == "clopper-pearson":
        low = 0.0 if x == 0 else float(stats.beta.ppf(alpha / 2, x, n - x + 1))
        high = 1.0 if x == n else float(stats.beta.ppf(1 - alpha / 2, x + 1, n - x))
    elif method == "jeffreys":
        low = 0.0 if x == 0 else float(stats.beta.ppf(alpha / 2, x + 0.5, n - x + 0.5))
        high = 1.0 if x == n else float(stats.beta.ppf(1 - alpha / 2, x + 0.5, n - x + 0.5))
    elif method == "wilson":
        z = float(stats.norm.ppf(1 - alpha / 2))
        p = x / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        low, high = max(0.0, centre - half), min(1.0, centre + half)
    else:
        raise ValueError(f"method must be clopper-pearson, wilson or jeffreys; got {method!r}")
    return ProportionEstimate(x, n, x / n, low, high, method, alpha)


@dataclass(frozen=True)
class PosteriorSummary:
    """Beta-binomial posterior of a response rate."""

    x: int
    n: int
    prior_a: float
    prior_b: float
    mean: float
    low: float
    high: float
    threshold: float
    p_above_threshold: float
    alpha: float


def beta_binomial_posterior(
    x: int,
    n: int,
    *,
    threshold: float,
    prior: tuple[float, float] = (1.0, 1.0),
    alpha: float = 0.05,
) -> PosteriorSummary:
    """Posterior Beta(a + x, b + n - x) of a rate, its equal-tailed interval and P(rate > t).

    >>> post = beta_binomial_posterior(5, 6, threshold=0.5)   # uniform prior
    >>> round(post.mean, 4), round(post.p_above_threshold, 4)
    (0.75, 0.9375)
    """
    a, b = prior[0] + x, prior[1] + n - x
    dist = stats.beta(a, b)
    return PosteriorSummary(
        x,
        n,
        prior[0],
        prior[1],
        float(dist.mean()),
        float(dist.ppf(alpha / 2)),
        float(dist.ppf(1 - alpha / 2)),
        threshold,
        float(dist.sf(threshold)),
        alpha,
    )


@dataclass(frozen=True)
class ContinuousSummary:
    n: int
    mean: float
    sd: float
    median: float
    q1: float
    q3: float
    min: float
    max: float


def summarise_continuous(values: Sequence[float] | np.ndarray) -> ContinuousSummary:
    """n, mean, SD (n - 1), median, quartiles (linear interpolation), min and max; NaN ignored."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        nan = float("nan")
        return ContinuousSummary(0, nan, nan, nan, nan, nan, nan, nan)
    sd = float(np.std(v, ddof=1)) if v.size > 1 else float("nan")
    q1, median, q3 = (float(q) for q in np.percentile(v, [25, 50, 75]))
    return ContinuousSummary(
        int(v.size), float(v.mean()), sd, median, q1, q3, float(v.min()), float(v.max())
    )


@dataclass(frozen=True)
class WilcoxonResult:
    n: int
    statistic: float
    p_value: float
    method: str
    caveat: str


def wilcoxon_change(changes: Sequence[float] | np.ndarray) -> WilcoxonResult:
    """Two-sided Wilcoxon signed-rank test that the median change is zero.

    Uses the exact distribution when scipy can (small n, no ties or zeros). The caveat
    states the smallest p-value the sample size allows, because with n = 6 even a change
    in every subject cannot give p < 0.03.
    """
    v = np.asarray(changes, dtype=float)
    v = v[~np.isnan(v)]
    n = int(v.size)
    if n == 0 or np.all(v == 0):
        return WilcoxonResult(n, float("nan"), float("nan"), "not computed", "no non-zero changes")
    ties = np.unique(np.abs(v)).size < n
    method = "exact" if n <= 50 and np.all(v != 0) and not ties else "approx"
    result = stats.wilcoxon(v, alternative="two-sided", zero_method="wilcox", method=method)
    smallest = 2 / 2**n if n < 30 else 0.0
    caveat = (
        f"n = {n}: the smallest two-sided p this test can give is {smallest:.3g}; "
        "read it as descriptive"
        if n < 10
        else f"n = {n}"
    )
    label = "exact" if method == "exact" else "normal approximation"
    return WilcoxonResult(n, float(result.statistic), float(result.pvalue), label, caveat)
