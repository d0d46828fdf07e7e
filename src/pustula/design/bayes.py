"""Bayesian single-arm monitoring with a Beta prior: posterior, posterior probability of
exceeding a rate, and predictive probability monitoring (Lee & Liu 2008).

With ``x`` responses in ``n`` patients and a Beta(a, b) prior, the response rate's posterior
is Beta(a + x, b + n − x). If the trial goes on to ``nmax`` patients, the number of further
responses Y among the m = nmax − n still to come is beta-binomial; the trial would succeed
with Y = y when P(rate > p0 | x + y in nmax) > θ_T. The predictive probability is the chance
of such a y. Lee & Liu stop for futility when it falls below θ_L and for efficacy when it
exceeds θ_U.

Reference: Lee JJ, Liu DD. A predictive probability design for phase II cancer clinical
trials. Clin Trials 2008;5:93-106.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from pustula.errors import DataValidationError

__all__ = [
    "Boundary",
    "OperatingCharacteristics",
    "PredictiveResult",
    "operating_characteristics",
    "predictive_probability",
    "stopping_boundaries",
]


@dataclass(frozen=True)
class PredictiveResult:
    predictive_probability: float
    posterior_prob_above_p0: float
    posterior_a: float
    posterior_b: float
    posterior_mean: float
    #: the fewest further responses (of nmax − n) that would make the trial succeed
    responses_needed: int | None

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def _check(a: float, b: float, x: int, n: int, nmax: int, p0: float, theta_t: float) -> None:
    if a <= 0 or b <= 0:
        raise DataValidationError("the prior's a and b must be positive", field="a")
    if not 0 <= x <= n <= nmax:
        raise DataValidationError(
            "responses, patients and the maximum must satisfy 0 <= x <= n <= nmax", field="n"
        )
    if not (0 < p0 < 1 and 0 < theta_t < 1):
        raise DataValidationError("p0 and theta-t must lie between 0 and 1", field="p0")


def predictive_probability(
    a: float, b: float, x: int, n: int, nmax: int, p0: float, theta_t: float
) -> PredictiveResult:
    _check(a, b, x, n, nmax, p0, theta_t)
    m = nmax - n
    y = np.arange(m + 1)
    weights = stats.betabinom.pmf(y, m, a + x, b + n - x)
    final = stats.beta.sf(p0, a + x + y, b + nmax - x - y)  # P(rate > p0) at the end
    success = final > theta_t
    needed = int(y[success][0]) if success.any() else None
    post_a, post_b = a + x, b + n - x
    return PredictiveResult(
        float(np.sum(weights[success])), float(stats.beta.sf(p0, post_a, post_b)),
        post_a, post_b, post_a / (post_a + post_b), needed,
    )  # fmt: skip


@dataclass(frozen=True)
class Boundary:
    n: int
    stop_if_at_most: int | None  # futility: stop with this many responses or fewer
    go_if_at_least: int | None  # efficacy (only when theta_u < 1)


def stopping_boundaries(
    a: float, b: float, nmax: int, p0: float, theta_t: float, theta_l: float,
    theta_u: float | None = None, *, first: int = 1, every: int = 1,
) -> list[Boundary]:  # fmt: skip
    """At each look (n = first, first + every, …, nmax), the response counts that stop:
    for futility when the predictive probability is below ``theta_l``, and, only when
    ``theta_u`` is given, for efficacy when it is above ``theta_u``."""
    rows = []
    for n in range(first, nmax + 1, every):
        pp = [predictive_probability(a, b, x, n, nmax, p0, theta_t).predictive_probability
              for x in range(n + 1)]  # fmt: skip
        low = [x for x, v in enumerate(pp) if v < theta_l]
        high = [x for x, v in enumerate(pp) if theta_u is not None and v > theta_u]
        rows.append(Boundary(n, max(low) if low else None, min(high) if high else None))
    return rows


@dataclass(frozen=True)
class OperatingCharacteristics:
    rate: float
    reject_p0: float  # probability the trial declares success (type I error at p0, power at p1)
    early_stop: float
    mean_n: float
    runs: int
    seed: int


def operating_characteristics(
    boundaries: list[Boundary], rate: float, nmax: int, p0: float, a: float, b: float,
    theta_t: float, *, runs: int = 10_000, seed: int = 20261129,
) -> OperatingCharacteristics:  # fmt: skip
    """Simulate ``runs`` trials at the true ``rate`` with the boundaries (seeded)."""
    rng = np.random.default_rng(seed)
    outcomes = rng.uniform(size=(runs, nmax)) < rate
    counts = np.cumsum(outcomes, axis=1)
    stopped_at = np.full(runs, nmax)
    success = np.zeros(runs, dtype=bool)
    live = np.ones(runs, dtype=bool)
    for bound in boundaries:
        if bound.n >= nmax:
            continue
        x = counts[:, bound.n - 1]
        futile = live & (bound.stop_if_at_most is not None) & (x <= (bound.stop_if_at_most or 0))
        good = live & (bound.go_if_at_least is not None) & (x >= (bound.go_if_at_least or 0))
        stopped_at[futile | good] = bound.n
        success[good] = True
        live &= ~(futile | good)
    final = stats.beta.sf(p0, a + counts[:, -1], b + nmax - counts[:, -1]) > theta_t
    success[live] = final[live]
    return OperatingCharacteristics(
        rate, float(success.mean()), float((stopped_at < nmax).mean()),
        float(stopped_at.mean()), runs, seed,
    )  # fmt: skip
