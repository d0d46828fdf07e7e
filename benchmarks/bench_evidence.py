"""Design and meta-analysis speed: a Simon search up to n = 100 (target < 2 s) and a
binomial-normal GLMM fit of 50 studies (target < 1 s).

Each is run several times; the best and the median time are printed.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from pustula.design import simon_designs
from pustula.evidence import glmm_proportions


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def main() -> None:
    for p0, p1 in ((0.05, 0.25), (0.2, 0.4), (0.3, 0.5)):
        best, median, r = timed(lambda p0=p0, p1=p1: simon_designs(p0, p1, nmax=100), 3)
        o = r.optimal
        print(f"Simon p0={p0} p1={p1}, n <= 100: best {best:.2f} s, median {median:.2f} s "
              f"(optimal {o.r1}/{o.n1}, {o.r}/{o.n}; target < 2 s)")  # fmt: skip
    rng = np.random.default_rng(20261129)
    n = rng.integers(10, 200, 50)
    p = 1 / (1 + np.exp(-rng.normal(0.3, 0.8, 50)))
    x = rng.binomial(n, p)
    best, median, fit = timed(lambda: glmm_proportions(x.tolist(), n.tolist()), 5)
    print(f"GLMM, 50 studies: best {best:.3f} s, median {median:.3f} s "
          f"(tau2 {fit.tau2:.3f}; target < 1 s)")  # fmt: skip


if __name__ == "__main__":
    main()
