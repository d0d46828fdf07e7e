"""Simon's two-stage designs against Simon (1989), Table 1 (α = 0.05, β = 0.20).

Source: Simon R. Optimal two-stage designs for phase II clinical trials. Control Clin
Trials 1989;10:1-10, Table 1: r1/n1, r/n, EN0 and PET0 of the optimal and minimax designs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from pustula.design import simon_designs
from pustula.errors import DataValidationError

# (p0, p1): optimal (r1, n1, r, n, EN0, PET0), minimax (r1, n1, r, n, EN0, PET0)
TABLE_1 = [
    ((0.05, 0.25), (0, 9, 2, 17, 11.96, 0.630), (0, 12, 2, 16, 13.84, 0.540)),
    ((0.10, 0.30), (1, 10, 5, 29, 15.01, 0.736), (1, 15, 5, 25, 19.51, 0.549)),
    ((0.20, 0.40), (3, 13, 12, 43, 20.58, 0.747), (4, 18, 10, 33, 22.25, 0.716)),
    ((0.30, 0.50), (5, 15, 18, 46, 23.63, 0.722), (6, 19, 16, 39, 25.69, 0.666)),
]


@pytest.mark.parametrize(("rates", "optimal", "minimax"), TABLE_1)
def test_optimal_and_minimax_designs_match_simons_table(rates, optimal, minimax) -> None:
    result = simon_designs(*rates, alpha=0.05, power=0.80)
    for design, expected in ((result.optimal, optimal), (result.minimax, minimax)):
        assert (design.r1, design.n1, design.r, design.n) == expected[:4]
        assert design.en0 == pytest.approx(expected[4], abs=0.005)
        assert design.pet0 == pytest.approx(expected[5], abs=0.0005)
        assert design.alpha <= 0.05 and design.power >= 0.80


def test_the_error_rates_are_recomputed_by_hand() -> None:
    d = simon_designs(0.05, 0.25).optimal  # 0/9, 2/17
    b = stats.binom

    def reject(p: float) -> float:  # X1 >= 1 of 9, and X1 + X2 >= 3 of 17
        return sum(b.pmf(x1, 9, p) * b.sf(2 - x1, 8, p) for x1 in range(1, 10))

    assert d.alpha == pytest.approx(reject(0.05), abs=1e-12)
    assert d.power == pytest.approx(reject(0.25), abs=1e-12)
    assert d.pet0 == pytest.approx(b.pmf(0, 9, 0.05), abs=1e-12)


def test_admissible_designs_run_from_minimax_to_optimal_with_weights() -> None:
    result = simon_designs(0.10, 0.30)
    designs = [d for d, _, _ in result.admissible]
    assert designs[0] == result.minimax and designs[-1] == result.optimal
    weights = [(lo, hi) for _, lo, hi in result.admissible]
    assert weights[0][1] == 1.0 and weights[-1][0] == 0.0
    assert all(a[0] == pytest.approx(b[1]) for a, b in itertools.pairwise(weights))
    # each admissible design is best for a q inside its range
    for design, lo, hi in result.admissible:
        q = (lo + hi) / 2
        loss = q * design.n + (1 - q) * design.en0
        assert all(loss <= q * d.n + (1 - q) * d.en0 + 1e-9 for d in designs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"p0": 0.3, "p1": 0.2}, "0 < p0 < p1 < 1"),
        ({"p0": 0.1, "p1": 0.3, "alpha": 0.7}, "alpha"),
        ({"p0": 0.01, "p1": 0.02, "nmax": 20}, "no two-stage design"),
    ],
)
def test_impossible_requests_are_explained(kwargs, message) -> None:
    with pytest.raises(DataValidationError, match=message):
        simon_designs(**kwargs)


# rates and error rates where the hull must prune designs that are on the way from the
# minimax to the optimal design and lower in EN0 than the last, yet above the hull
PRUNED = [(0.10, 0.25, 0.10, 0.9), (0.20, 0.35, 0.05, 0.8), (0.20, 0.40, 0.05, 0.8),
          (0.30, 0.50, 0.05, 0.9), (0.40, 0.60, 0.10, 0.9), (0.50, 0.65, 0.05, 0.8)]  # fmt: skip


@pytest.mark.parametrize("rates", PRUNED)
def test_the_admissible_designs_are_the_brute_force_minimisers_of_every_weight(rates) -> None:
    """Jung et al. (Stat Med 2004;23:561-569): a design is admissible if it minimises
    q·n + (1 − q)·EN0 for some q. Brute force over every design that meets the error rates
    (not only those on the hull), for 2,001 weights: the design our hull gives for q
    reaches the minimum loss, and every minimiser's loss is matched. Before, the hull was
    checked only against its own designs, where pruning is never needed."""
    from pustula.design.simon import _candidates

    p0, p1, alpha, power = rates
    result = simon_designs(p0, p1, alpha, power, nmax=80)
    every = _candidates(p0, p1, alpha, power, 80)
    n, en0 = np.array([d.n for d in every]), np.array([d.en0 for d in every])

    def minimum(q: float) -> float:
        return float((q * n + (1 - q) * en0).min())

    # each admissible design owns a non-empty range of weights and is a minimiser inside it
    for design, lo, hi in result.admissible:
        assert lo < hi, design
        q = (lo + hi) / 2
        assert q * design.n + (1 - q) * design.en0 == pytest.approx(minimum(q), abs=1e-9)
    # and for every weight the minimisers are among the admissible designs
    chosen = {(d.r1, d.n1, d.r, d.n) for d, _, _ in result.admissible}
    is_admissible = np.array([(d.r1, d.n1, d.r, d.n) in chosen for d in every])
    for q in np.linspace(0.0, 1.0, 2001):
        losses = q * n + (1 - q) * en0
        assert is_admissible[losses <= losses.min() + 1e-9].any(), q
