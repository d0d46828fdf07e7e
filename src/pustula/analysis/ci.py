"""Intervals and tests for small studies, as typed results that carry method and alpha.

References
----------
Clopper CJ, Pearson ES. Biometrika 1934;26:404-413. doi:10.1093/biomet/26.4.404
Wilson EB. J Am Stat Assoc 1927;22:209-212. doi:10.1080/01621459.1927.10502953
Brown LD, Cai TT, DasGupta A. Stat Sci 2001;16:101-133 (Jeffreys interval, with its
boundary modification at x = 0 and x = n). doi:10.1214/ss/1009213286
Student. Biometrika 1908;6:1-25 (the t interval of a mean). doi:10.1093/biomet/6.1.1
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from pustula.errors import AnalysisError
from pustula.protocol.model import CIMethod

__all__ = [
    "CIMethod",
    "ContinuousSummary",
    "MeanEstimate",
    "PosteriorSummary",
    "ProportionEstimate",
    "WilcoxonResult",
    "beta_binomial_posterior",
    "mean_ci",
    "proportion_ci",
    "summarise_continuous",
    "wilcoxon_change",
]

CI_METHOD_NAMES: dict[str, str] = {
    "clopper-pearson": "Clopper–Pearson exact",
    "wilson": "Wilson score",
    "jeffreys": "Jeffreys",
}


@dataclass(frozen=True)
class ProportionEstimate:
    """``x`` of ``n`` with a two-sided ``1 - alpha`` interval. Rates are fractions 0–1.

    Examples
    --------
    >>> from pustula.analysis import proportion_ci
    >>> estimate = proportion_ci(5, 6)
    >>> estimate.method, round(estimate.low, 4), round(estimate.high, 4)
    ('clopper-pearson', 0.3588, 0.9958)
    """

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
    """Beta-binomial posterior of a response rate.

    Examples
    --------
    >>> from pustula.analysis import beta_binomial_posterior
    >>> posterior = beta_binomial_posterior(5, 6, threshold=0.5)
    >>> round(posterior.mean, 3), round(posterior.p_above_threshold, 3)
    (0.75, 0.938)
    """

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
    """n, mean, standard deviation, median, quartiles and range of a continuous variable.

    Examples
    --------
    >>> from pustula.analysis import summarise_continuous
    >>> summary = summarise_continuous([26.1, 18.4, 31.0, 22.6, 15.2, 28.8])
    >>> summary.n, round(summary.mean, 2), summary.median
    (6, 23.68, 24.35)
    """

    n: int
    mean: float
    sd: float
    median: float
    q1: float
    q3: float
    min: float
    max: float


def summarise_continuous(values: Sequence[float] | np.ndarray) -> ContinuousSummary:
    """n, mean, SD (n - 1), median, quartiles (linear interpolation), min and max; NaN ignored.

    Examples
    --------
    >>> summary = summarise_continuous([26.1, 18.4, float("nan"), 22.6])
    >>> summary.n, round(summary.sd, 3), summary.min, summary.max
    (3, 3.855, 18.4, 26.1)
    """
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
class MeanEstimate:
    """A mean with its two-sided ``1 - alpha`` t interval (n - 1 degrees of freedom)."""

    n: int
    mean: float
    low: float
    high: float
    alpha: float
    method: str = "t interval"


def mean_ci(values: Sequence[float] | np.ndarray, *, alpha: float = 0.05) -> MeanEstimate:
    """The mean and its t interval; NaN ignored. With n < 2 the limits are NaN.

    The t interval, not mean ± 1.96 SE: at n = 6 the t quantile (2.571) is 31% wider.

    >>> r = mean_ci([-60.0, -70.0, -80.0, -90.0, -75.0, -65.0])
    >>> f"{r.mean:.2f} [{r.low:.2f}, {r.high:.2f}]"
    '-73.33 [-84.67, -62.00]'
    """
    if not 0 < alpha < 1:
        raise AnalysisError(f"alpha must be between 0 and 1; got {alpha}", field="alpha")
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = int(v.size)
    if n == 0:
        nan = float("nan")
        return MeanEstimate(0, nan, nan, nan, alpha)
    mean = float(v.mean())
    if n < 2:
        return MeanEstimate(n, mean, float("nan"), float("nan"), alpha)
    half = float(stats.t.ppf(1 - alpha / 2, n - 1)) * float(np.std(v, ddof=1)) / math.sqrt(n)
    return MeanEstimate(n, mean, mean - half, mean + half, alpha)


#: Up to this many non-zero changes the p-value comes from the exact null distribution.
WILCOXON_EXACT_MAX = 400
WilcoxonZeros = Literal["wilcox", "pratt"]


@dataclass(frozen=True)
class WilcoxonResult:
    """The Wilcoxon signed-rank test of a zero median change.

    ``statistic`` is T+, the sum of the ranks of the positive changes; ``n`` counts every
    change, ``n_nonzero`` those that are not zero; ``smallest_p`` is the smallest two-sided
    p-value this sample's ranks allow.

    Examples
    --------
    >>> from pustula.analysis import wilcoxon_change
    >>> result = wilcoxon_change([-20.1, -12.3, -25.0, -15.2, -9.8, -18.0])
    >>> result.method, result.statistic, round(result.p_value, 4)
    ('exact', 0.0, 0.0312)
    """

    n: int
    n_nonzero: int
    statistic: float
    p_value: float
    method: str
    zero_method: str
    smallest_p: float
    caveat: str


def _signed_rank_distribution(doubled_ranks: np.ndarray) -> np.ndarray:
    """P(2·T+ = k) for k = 0 … sum: each rank is + or − with probability 1/2, independently.

    Ranks are doubled so that mid-ranks of ties (x.5) are whole numbers; the convolution
    is exact for any pattern of ties.
    """
    total = int(doubled_ranks.sum())
    dist = np.zeros(total + 1)
    dist[0] = 1.0
    reach = 0
    for r in doubled_ranks.astype(int):
        shifted = np.zeros_like(dist)
        shifted[r : reach + r + 1] = dist[: reach + 1]
        dist = (dist + shifted) / 2
        reach += r
    return dist


def wilcoxon_change(
    changes: Sequence[float] | np.ndarray,
    *,
    zero_method: WilcoxonZeros = "wilcox",
    decimals: int = 10,
) -> WilcoxonResult:
    """Two-sided Wilcoxon signed-rank test that the median change is zero.

    The p-value comes from the exact null distribution of T+ given the sample's own
    (mid-)ranks, so ties and zeros are handled exactly, for up to
    ``WILCOXON_EXACT_MAX`` non-zero changes; above that, the normal approximation with tie
    and continuity corrections. Changes are rounded to ``decimals`` first, so binary noise
    never breaks a tie. ``zero_method="wilcox"`` drops zero changes; ``"pratt"`` ranks
    them and leaves their ranks out of T+ (Pratt 1959).

    Examples
    --------
    Six equal changes: every sign pattern but "all negative" and "all positive" is less
    extreme, so p = 2 / 2⁶:

    >>> wilcoxon_change([-3.0] * 6).p_value
    0.03125

    References
    ----------
    Wilcoxon F. Biometrics Bulletin 1945;1:80-83. doi:10.2307/3001968
    Pratt JW. J Am Stat Assoc 1959;54:655-667. doi:10.1080/01621459.1959.10501526
    """
    if zero_method not in ("wilcox", "pratt"):
        raise AnalysisError(
            f"zero_method must be 'wilcox' or 'pratt'; got {zero_method!r}", field="zero_method"
        )
    v = np.round(np.asarray(changes, dtype=float), decimals)
    v = v[~np.isnan(v)]
    n = int(v.size)
    nonzero = v != 0
    k = int(nonzero.sum())
    if k == 0:
        return WilcoxonResult(
            n, 0, float("nan"), float("nan"), "not computed", zero_method, float("nan"),
            "no non-zero changes: the test cannot be computed",
        )  # fmt: skip
    ranked = v if zero_method == "pratt" else v[nonzero]
    doubled = np.rint(2 * stats.rankdata(np.abs(ranked))).astype(int)
    positive = ranked > 0
    signed = doubled[ranked != 0]
    t2 = int(doubled[positive].sum())
    total2 = int(signed.sum())
    if k <= WILCOXON_EXACT_MAX:
        dist = _signed_rank_distribution(signed)
        deviation = np.abs(2 * np.arange(total2 + 1) - total2)
        p = float(dist[deviation >= abs(2 * t2 - total2)].sum())
        smallest = float(dist[deviation >= deviation.max()].sum())
        method = "exact"
    else:
        p, smallest, method = _normal_p(signed, t2), 0.0, "normal approximation"
    caveat = (
        f"{k} non-zero changes: the smallest two-sided p this test can give is "
        f"{smallest:.3g}; read the p-value as descriptive"
        if k < 10
        else f"{k} non-zero changes"
    )
    return WilcoxonResult(n, k, t2 / 2, min(1.0, p), method, zero_method, smallest, caveat)


def _normal_p(signed: np.ndarray, t2: int) -> float:
    """Normal approximation of T+ on the (mid-)ranks, which corrects the variance for ties,
    with a continuity correction of 1/2."""
    ranks = signed / 2
    mean = float(ranks.sum()) / 2
    variance = float((ranks**2).sum()) / 4
    z = (abs(t2 / 2 - mean) - 0.5) / math.sqrt(variance)
    return float(2 * stats.norm.sf(max(z, 0.0)))
