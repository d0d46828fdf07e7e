"""Simon's two-stage designs for a single-arm phase II study, by exact binomial search.

Stage 1 treats ``n1`` patients and stops for futility when ``r1`` or fewer respond; otherwise
``n - n1`` more are treated, and the treatment is rejected when ``r`` or fewer of all ``n``
respond. Among the designs whose type I error at ``p0`` is at most ``alpha`` and whose power at
``p1`` is at least ``power``, the *optimal* design has the smallest expected size under
``p0`` (EN0), the *minimax* design the smallest ``n`` (then the smallest EN0), and the
*admissible* designs (Jung et al. 2004) are those that minimise ``q·n + (1 − q)·EN0`` for
some weight ``q`` in [0, 1]: the lower convex hull between the two.

References: Simon R. Optimal two-stage designs for phase II clinical trials. Control Clin
Trials 1989;10:1-10. Jung SH, Lee T, Kim K, George SL. Admissible two-stage designs for
phase II cancer clinical trials. Stat Med 2004;23:561-569.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from pustula.errors import DataValidationError

__all__ = ["SimonDesign", "SimonResult", "simon_designs"]


@dataclass(frozen=True)
class SimonDesign:
    """A Simon two-stage design: stop after stage 1 if at most ``r1`` of ``n1`` respond;
    the treatment is promising if more than ``r`` of ``n`` respond. With its expected size
    and probability of early stopping under p0.

    Examples
    --------
    >>> design = simon_designs(p0=0.2, p1=0.4, nmax=60).minimax
    >>> (design.r1, design.n1, design.r, design.n), round(design.pet0, 3)
    ((4, 18, 10, 33), 0.716)
    """

    r1: int
    n1: int
    r: int
    n: int
    en0: float  # expected sample size under p0
    pet0: float  # probability of early termination under p0
    alpha: float  # actual type I error
    power: float  # actual power at p1

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class SimonResult:
    """The optimal, minimax and admissible Simon designs for one set of rates and errors.

    >>> from pustula.design import simon_designs
    >>> o = simon_designs(0.2, 0.4, nmax=60).optimal
    >>> (o.r1, o.n1, o.r, o.n)
    (3, 13, 12, 43)
    """

    optimal: SimonDesign
    minimax: SimonDesign
    admissible: tuple[tuple[SimonDesign, float, float], ...]  # design, q from, q to


def _check(p0: float, p1: float, alpha: float, power: float, nmax: int) -> None:
    if not 0 < p0 < p1 < 1:
        raise DataValidationError("the rates must satisfy 0 < p0 < p1 < 1", field="p0")
    if not 0 < alpha < 0.5:
        raise DataValidationError("alpha must lie between 0 and 0.5", field="alpha")
    if not 0.5 < power < 1:
        raise DataValidationError("power must lie between 0.5 and 1", field="power")
    if not 2 <= nmax <= 500:
        raise DataValidationError("the largest sample size must be from 2 to 500", field="nmax")


class _Binomial:
    """Binomial probabilities for every size up to ``nmax`` at one rate, computed once."""

    def __init__(self, p: float, nmax: int) -> None:
        sizes = np.arange(nmax + 1)[:, None]
        self.pmf = stats.binom.pmf(np.arange(nmax + 1)[None, :], sizes, p)
        # sf[m, k + nmax + 1] = P(Bin(m, p) > k) for k = -nmax-1 .. nmax
        self.offset = nmax + 1
        ks = np.arange(-nmax - 1, nmax + 1)[None, :]
        self.sf = np.where(ks < 0, 1.0, stats.binom.sf(ks, sizes, p))

    def rejection(self, n1: int, n: int) -> np.ndarray:
        """A[r1, r]: P(X1 > r1 and X1 + X2 > r) for r1 = 0..n1 and r = 0..n."""
        x1 = np.arange(n1 + 1)
        surv = self.sf[n - n1][np.arange(n + 1)[None, :] - x1[:, None] + self.offset]
        joint = self.pmf[n1, : n1 + 1, None] * surv
        # sum over x1 > r1: reverse cumulative sums, shifted by one row
        tail = np.cumsum(joint[::-1], axis=0)[::-1]
        return np.vstack([tail[1:], np.zeros((1, n + 1))])


def _candidates(p0: float, p1: float, alpha: float, power: float, nmax: int) -> list[SimonDesign]:
    """For each n, n1 and r1, the smallest r that keeps the type I error; kept if powered."""
    null, alternative = _Binomial(p0, nmax), _Binomial(p1, nmax)
    found = []
    for n in range(2, nmax + 1):
        for n1 in range(1, n):
            a = null.rejection(n1, n)
            ok = a <= alpha
            r1s = np.flatnonzero(ok.any(axis=1))
            if r1s.size == 0:
                continue
            # r is never below r1: a smaller r adds nothing to the second stage
            r_min = np.maximum(ok[r1s].argmax(axis=1), r1s)
            b = alternative.rejection(n1, n)
            powered = b[r1s, r_min] >= power
            if not powered.any():
                continue
            for r1, r in zip(r1s[powered], r_min[powered], strict=True):
                pet0 = float(null.pmf[n1, : r1 + 1].sum())
                found.append(SimonDesign(
                    int(r1), n1, int(r), n, n1 + (1 - pet0) * (n - n1), pet0,
                    float(a[r1, r]), float(b[r1, r]),
                ))  # fmt: skip
    return found


def simon_designs(
    p0: float, p1: float, alpha: float = 0.05, power: float = 0.8, *, nmax: int = 100
) -> SimonResult:
    """The optimal, minimax and admissible two-stage designs with ``n <= nmax``.

    Examples
    --------
    >>> optimal = simon_designs(p0=0.2, p1=0.4, alpha=0.05, power=0.8, nmax=60).optimal
    >>> optimal.r1, optimal.n1, optimal.r, optimal.n
    (3, 13, 12, 43)
    """
    _check(p0, p1, alpha, power, nmax)
    designs = _candidates(p0, p1, alpha, power, nmax)
    if not designs:
        raise DataValidationError(
            f"no two-stage design with at most {nmax} patients meets these error rates; "
            "allow more patients or a larger difference",
            field="nmax",
        )
    optimal = min(designs, key=lambda d: (round(d.en0, 10), d.n))
    minimax = min(designs, key=lambda d: (d.n, round(d.en0, 10)))
    return SimonResult(optimal, minimax, _admissible(designs, minimax, optimal))


def _admissible(
    designs: list[SimonDesign], minimax: SimonDesign, optimal: SimonDesign
) -> tuple[tuple[SimonDesign, float, float], ...]:
    """The designs on the lower convex hull of (n, EN0) from the minimax to the optimal one,
    each with the range of weights q for which it minimises q·n + (1 − q)·EN0."""
    best: dict[int, SimonDesign] = {}
    for d in designs:
        if minimax.n <= d.n <= optimal.n and (d.n not in best or d.en0 < best[d.n].en0):
            best[d.n] = d
    hull: list[SimonDesign] = []
    for d in sorted(best.values(), key=lambda d: d.n):
        # drop points above the segment from the previous hull point to this one
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], d) <= 0:
            hull.pop()
        if not hull or d.en0 < hull[-1].en0:
            hull.append(d)
    # between neighbours a (smaller n) and b, a wins for q above (Ea - Eb) / (Ea - Eb + nb - na)
    cuts = [(a.en0 - b.en0) / (a.en0 - b.en0 + b.n - a.n) for a, b in itertools.pairwise(hull)]
    upper = [1.0, *cuts]
    lower = [*cuts, 0.0]
    return tuple((d, lo, hi) for d, lo, hi in zip(hull, lower, upper, strict=True))


def _cross(a: SimonDesign, b: SimonDesign, c: SimonDesign) -> float:
    return (b.n - a.n) * (c.en0 - a.en0) - (b.en0 - a.en0) * (c.n - a.n)
