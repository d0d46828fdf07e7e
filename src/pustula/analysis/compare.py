"""Two arms compared on a binary endpoint: risk difference, relative risk and odds ratio
with score intervals, Fisher's exact test; and, over the randomization strata, the
Cochran–Mantel–Haenszel test with the Mantel–Haenszel common risk difference.

The arm compared comes first (treated, ``1``), the reference second (control, ``0``).

References
----------
Miettinen O, Nurminen M. Comparative analysis of two rates. Stat Med 1985;4:213-226
(score intervals for the difference, ratio and odds ratio, with the N/(N-1) variance
factor). doi:10.1002/sim.4780040211
Newcombe RG. Interval estimation for the difference between independent proportions:
comparison of eleven methods. Stat Med 1998;17:873-890 (method 10, the hybrid score
interval from two Wilson intervals; Table II's examples are the tests' reference).
Fagerland MW, Lydersen S, Laake P. Recommended confidence intervals for two independent
binomial proportions. Stat Methods Med Res 2015;24:224-254. doi:10.1177/0962280211415469
Mantel N, Haenszel W. J Natl Cancer Inst 1959;22:719-748 (the stratified test).
Sato T. On the variance estimator for the Mantel-Haenszel risk difference. Biometrics
1989;45:1323-1324 (with Greenland S, Robins JM. Biometrics 1985;41:55-68).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from pustula.analysis.ci import ProportionEstimate, proportion_ci
from pustula.errors import AnalysisError

__all__ = [
    "BinaryComparison",
    "Effect",
    "StratifiedComparison",
    "compare_proportions",
    "stratified_comparison",
]

_EPS = 1e-10


@dataclass(frozen=True)
class Effect:
    """An effect of the treated arm over the control arm, with its interval and method.

    ``estimate`` is None where the data do not define it (an odds ratio with a zero cell
    in both arms' non-responders, for instance); the interval is still given.

    Examples
    --------
    >>> effect = compare_proportions(12, 20, 4, 20).risk_difference
    >>> effect.measure, round(effect.estimate, 2), effect.method
    ('risk difference', 0.4, 'Miettinen–Nurminen score')
    """

    measure: str
    estimate: float | None
    low: float
    high: float
    method: str
    alpha: float = 0.05
    p_value: float | None = None


@dataclass(frozen=True)
class BinaryComparison:
    """Responders in two arms: each rate with its exact interval, and the effects.

    Examples
    --------
    >>> c = compare_proportions(12, 20, 4, 20)
    >>> [round(v, 4) for v in (c.risk_difference.low, c.risk_difference.high)]
    [0.0948, 0.6381]
    >>> round(c.fisher_p, 4)
    0.0225
    """

    treated: ProportionEstimate
    control: ProportionEstimate
    risk_difference: Effect
    risk_difference_newcombe: Effect
    relative_risk: Effect
    odds_ratio: Effect
    fisher_p: float


def _check(x1: int, n1: int, x0: int, n0: int, alpha: float) -> None:
    for x, n, arm in ((x1, n1, "treated"), (x0, n0, "control")):
        if n <= 0 or not 0 <= x <= n:
            raise AnalysisError(
                f"the {arm} arm needs at least one subject and 0 <= responders <= subjects; "
                f"got {x} of {n}",
                field=arm,
            )
    if not 0 < alpha < 1:
        raise AnalysisError(f"alpha must be between 0 and 1; got {alpha}", field="alpha")


def _invert(score: Callable[[float], float], estimate: float, lo: float, hi: float,
            z: float) -> tuple[float, float]:  # fmt: skip
    """The set {t : score(t)^2 <= z^2} around ``estimate`` within (lo, hi): the score is
    monotone in t on each side of the estimate, so each limit is one root."""

    def excess(t: float) -> float:
        return score(t) ** 2 - z * z

    def side(edge: float) -> float:
        if abs(edge - estimate) < _EPS or excess(edge) <= 0:
            return edge
        return float(optimize.brentq(excess, estimate, edge, xtol=1e-12, rtol=1e-12))

    return side(lo), side(hi)


def _restricted_difference(p1: float, p0: float, n1: int, n0: int, delta: float
                           ) -> tuple[float, float]:  # fmt: skip
    """The maximum likelihood rates under p1 - p0 = delta (Miettinen & Nurminen's cubic,
    solved in its trigonometric form)."""
    theta = n0 / n1
    a = 1 + theta
    b = -(1 + theta + p1 + theta * p0 + delta * (theta + 2))
    c = delta * delta + delta * (2 * p1 + theta + 1) + p1 + theta * p0
    d = -p1 * delta * (1 + delta)
    v = b**3 / (27 * a**3) - b * c / (6 * a * a) + d / (2 * a)
    u = math.copysign(math.sqrt(max(b * b / (9 * a * a) - c / (3 * a), 0.0)), v)
    cosine = 1.0 if u == 0 else max(-1.0, min(1.0, v / u**3))
    w = (math.pi + math.acos(cosine)) / 3
    q1 = min(1.0, max(0.0, 2 * u * math.cos(w) - b / (3 * a)))
    return q1, min(1.0, max(0.0, q1 - delta))


def _difference_score(x1: int, n1: int, x0: int, n0: int) -> Callable[[float], float]:
    p1, p0, factor = x1 / n1, x0 / n0, (n1 + n0) / (n1 + n0 - 1)

    def score(delta: float) -> float:
        r1, r0 = _restricted_difference(p1, p0, n1, n0, delta)
        variance = (r1 * (1 - r1) / n1 + r0 * (1 - r0) / n0) * factor
        return (p1 - p0 - delta) / math.sqrt(max(variance, 1e-300))

    return score


def _ratio_score(x1: int, n1: int, x0: int, n0: int) -> Callable[[float], float]:
    p1, p0, big_n = x1 / n1, x0 / n0, n1 + n0
    factor = big_n / (big_n - 1)

    def score(log_ratio: float) -> float:
        phi = math.exp(log_ratio)
        a = big_n * phi
        b = -(n1 * phi + x1 + n0 + x0 * phi)
        c = x1 + x0
        # the smaller root, in the form without cancellation (b < 0 < c)
        r0 = 2 * c / (-b + math.sqrt(max(b * b - 4 * a * c, 0.0))) if c else 0.0
        r1 = phi * r0
        variance = (r1 * (1 - r1) / n1 + phi * phi * r0 * (1 - r0) / n0) * factor
        return (p1 - phi * p0) / math.sqrt(max(variance, 1e-300))

    return score


def _odds_ratio_score(x1: int, n1: int, x0: int, n0: int) -> Callable[[float], float]:
    big_n, m1 = n1 + n0, x1 + x0
    factor = big_n / (big_n - 1)

    def score(log_odds_ratio: float) -> float:
        if m1 in (0, big_n):
            return 0.0  # no responder, or all: every odds ratio fits equally well
        # the restricted rates on the logit scale, where nothing cancels at the extremes:
        # n1 r1 + n0 r0 = m1 with logit r1 = logit r0 + log OR
        u = optimize.brentq(lambda v: n1 * special.expit(v + log_odds_ratio)
                            + n0 * special.expit(v) - m1, -60 - abs(log_odds_ratio),
                            60 + abs(log_odds_ratio), xtol=1e-14)  # fmt: skip
        v1, v0 = u + log_odds_ratio, u
        var1 = special.expit(v1) * special.expit(-v1)
        var0 = special.expit(v0) * special.expit(-v0)
        information = 1 / max(n1 * var1, 1e-300) + 1 / max(n0 * var0, 1e-300)
        return float((x1 - n1 * special.expit(v1)) * math.sqrt(information / factor))

    return score


def _log_limits(score: Callable[[float], float], estimate: float | None, z: float
                ) -> tuple[float, float]:  # fmt: skip
    """Limits of a ratio found on the log scale, where the score is monotone; a ratio at
    0 or infinity has that end open."""
    span = 30.0  # e^30: beyond any ratio that 2 x 2 counts can support
    centre = math.log(estimate) if estimate not in (None, 0.0) and math.isfinite(estimate) else (
        -span if estimate == 0.0 else span if estimate == math.inf else 0.0)  # fmt: skip
    if estimate is None:
        centre = float(optimize.minimize_scalar(lambda t: score(t) ** 2, bounds=(-span, span),
                                                method="bounded").x)  # fmt: skip
    low, high = _invert(score, centre, -span, span, z)
    return (0.0 if low <= -span else math.exp(low)), (math.inf if high >= span else math.exp(high))


def _ratio(numerator: float, denominator: float) -> float | None:
    if denominator == 0:
        return None if numerator == 0 else math.inf
    return numerator / denominator


def compare_proportions(
    x1: int, n1: int, x0: int, n0: int, *, alpha: float = 0.05
) -> BinaryComparison:
    """Responders ``x1`` of ``n1`` (treated) against ``x0`` of ``n0`` (control).

    Risk difference with the Miettinen–Nurminen score interval (and Newcombe's hybrid
    score interval beside it), relative risk and odds ratio with their Miettinen–Nurminen
    score intervals, each rate with its Clopper–Pearson interval, and the two-sided
    Fisher exact p.

    Examples
    --------
    >>> c = compare_proportions(56, 70, 48, 80)
    >>> n = c.risk_difference_newcombe
    >>> round(n.estimate, 4), round(n.low, 4), round(n.high, 4)
    (0.2, 0.0524, 0.3339)
    """
    _check(x1, n1, x0, n0, alpha)
    z = float(stats.norm.ppf(1 - alpha / 2))
    p1, p0 = x1 / n1, x0 / n0
    low, high = _invert(_difference_score(x1, n1, x0, n0), p1 - p0, -1 + _EPS, 1 - _EPS, z)
    low, high = (-1.0 if low <= -1 + 2 * _EPS else low), (1.0 if high >= 1 - 2 * _EPS else high)
    difference = Effect("risk difference", p1 - p0, low, high,
                        "Miettinen–Nurminen score", alpha)  # fmt: skip
    w1 = proportion_ci(x1, n1, method="wilson", alpha=alpha)
    w0 = proportion_ci(x0, n0, method="wilson", alpha=alpha)
    newcombe = Effect(
        "risk difference",
        p1 - p0,
        p1 - p0 - math.sqrt((p1 - w1.low) ** 2 + (w0.high - p0) ** 2),
        p1 - p0 + math.sqrt((w1.high - p1) ** 2 + (p0 - w0.low) ** 2),
        "Newcombe hybrid score",
        alpha,
    )
    rr = _ratio(p1, p0)
    rr_low, rr_high = _log_limits(_ratio_score(x1, n1, x0, n0), rr, z)
    odds = _ratio(x1 * (n0 - x0), x0 * (n1 - x1))
    or_low, or_high = _log_limits(_odds_ratio_score(x1, n1, x0, n0), odds, z)
    fisher = float(stats.fisher_exact([[x1, n1 - x1], [x0, n0 - x0]]).pvalue)
    return BinaryComparison(
        treated=proportion_ci(x1, n1, alpha=alpha),
        control=proportion_ci(x0, n0, alpha=alpha),
        risk_difference=difference,
        risk_difference_newcombe=newcombe,
        relative_risk=Effect(
            "relative risk", rr, rr_low, rr_high, "Miettinen–Nurminen score", alpha
        ),
        odds_ratio=Effect(
            "odds ratio", odds, or_low, or_high, "Miettinen–Nurminen score", alpha, fisher
        ),
        fisher_p=fisher,
    )


@dataclass(frozen=True)
class StratifiedComparison:
    """The arms compared within the randomization strata, then pooled.

    ``strata_used`` counts the strata that hold both arms; a stratum with one arm only
    (a stratum of one subject, for instance) carries no comparison and no weight.

    Examples
    --------
    >>> s = stratified_comparison([(8, 10, 3, 10), (5, 10, 2, 10)])
    >>> round(s.risk_difference.estimate, 2), round(s.cmh_p, 4), s.strata_used
    (0.4, 0.0114, 2)
    """

    risk_difference: Effect
    cmh_statistic: float
    cmh_p: float
    common_odds_ratio: Effect
    strata_used: int
    strata_total: int


def _mantel_haenszel_odds_ratio(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, alpha: float
) -> Effect:
    """The Mantel–Haenszel common odds ratio with the Robins–Breslow–Greenland interval
    (Biometrics 1986;42:311-323)."""
    big_n = a + b + c + d
    p, q = (a + d) / big_n, (b + c) / big_n
    r, s = a * d / big_n, b * c / big_n
    sr, ss = float(r.sum()), float(s.sum())
    estimate = _ratio(sr, ss)
    if not sr or not ss:
        return Effect("odds ratio", estimate, 0.0 if not sr else math.nan,
                      math.inf if not ss else math.nan,
                      "Mantel–Haenszel, Robins–Breslow–Greenland", alpha)  # fmt: skip
    variance = (
        float((p * r).sum()) / (2 * sr**2)
        + float((p * s + q * r).sum()) / (2 * sr * ss)
        + float((q * s).sum()) / (2 * ss**2)
    )
    z = float(stats.norm.ppf(1 - alpha / 2))
    half = z * math.sqrt(variance)
    log_or = math.log(sr / ss)
    return Effect("odds ratio", estimate, math.exp(log_or - half), math.exp(log_or + half),
                  "Mantel–Haenszel, Robins–Breslow–Greenland", alpha)  # fmt: skip


def stratified_comparison(
    strata: Sequence[tuple[int, int, int, int]], *, alpha: float = 0.05
) -> StratifiedComparison:
    """Per stratum (treated responders, treated n, control responders, control n): the
    Cochran–Mantel–Haenszel test (no continuity correction), the Mantel–Haenszel common
    odds ratio, and the Mantel–Haenszel common risk difference with Sato's variance.

    A stratum where the CMH variance vanishes (one arm only, or one subject) is left out
    of the sums: it holds no comparison.

    >>> s = stratified_comparison([(8, 10, 3, 10), (5, 10, 2, 10), (1, 1, 0, 0)])
    >>> s.strata_used, s.strata_total, round(s.common_odds_ratio.estimate, 2)
    (2, 3, 6.0)
    """
    for x1, n1, x0, n0 in strata:
        if min(n1, n0, x1, x0) < 0 or x1 > n1 or x0 > n0:
            raise AnalysisError(f"a stratum's counts are impossible: {x1}/{n1}, {x0}/{n0}",
                                field="strata")  # fmt: skip
    used = np.array([s for s in strata if s[1] > 0 and s[3] > 0], dtype=float).reshape(-1, 4)
    if not len(used):
        raise AnalysisError("no stratum holds subjects of both arms", field="strata")
    a, t1, c, t0 = used.T  # per stratum: responders and subjects, treated then control
    return _stratified(a, t1, c, t0, alpha, strata_total=len(strata))


def _stratified(a: np.ndarray, n1: np.ndarray, c: np.ndarray, n0: np.ndarray, alpha: float,
                *, strata_total: int) -> StratifiedComparison:  # fmt: skip
    b, d = n1 - a, n0 - c
    big_n = n1 + n0
    m1 = a + c
    expected = n1 * m1 / big_n
    variance = np.where(big_n > 1, n1 * n0 * m1 * (big_n - m1) / (big_n**2 * (big_n - 1)), 0.0)
    total_variance = float(variance.sum())
    statistic = (float((a - expected).sum()) ** 2 / total_variance) if total_variance else 0.0
    p = float(stats.chi2.sf(statistic, 1)) if total_variance else 1.0
    common_odds_ratio = _mantel_haenszel_odds_ratio(a, b, c, d, alpha)
    weight = n1 * n0 / big_n
    estimate = float(((a * n0 - c * n1) / big_n).sum() / weight.sum())
    sato_p = (n1**2 * c - n0**2 * a + n1 * n0 * (n0 - n1) / 2) / big_n**2
    sato_q = (a * (n0 - c) + c * (n1 - a)) / (2 * big_n)
    se = math.sqrt(max(estimate * sato_p.sum() + sato_q.sum(), 0.0)) / float(weight.sum())
    z = float(stats.norm.ppf(1 - alpha / 2))
    difference = Effect("risk difference", estimate, max(estimate - z * se, -1.0),
                        min(estimate + z * se, 1.0), "Mantel–Haenszel, Sato variance", alpha,
                        p)  # fmt: skip
    return StratifiedComparison(
        risk_difference=difference,
        cmh_statistic=statistic,
        cmh_p=p,
        common_odds_ratio=common_odds_ratio,
        strata_used=len(a),
        strata_total=strata_total,
    )
