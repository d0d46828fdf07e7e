"""Single-stage exact binomial design (A'Hern 2001; Fleming 1982): the smallest ``n`` and
cut-off ``r`` such that ``r`` or more responses out of ``n`` happen with probability at most
``alpha`` when the true rate is ``p0``, and at least ``power`` when it is ``p1``.

Reference: A'Hern RP. Sample size tables for exact single-stage phase II designs. Stat Med
2001;20:859-866.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from pustula.errors import DataValidationError

__all__ = ["SingleStageDesign", "single_stage"]


@dataclass(frozen=True)
class SingleStageDesign:
    n: int
    r: int  # responses needed to reject p0 (at least r)
    alpha: float
    power: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def single_stage(
    p0: float, p1: float, alpha: float = 0.05, power: float = 0.8, *, nmax: int = 1000
) -> SingleStageDesign:
    if not 0 < p0 < p1 < 1:
        raise DataValidationError("the rates must satisfy 0 < p0 < p1 < 1", field="p0")
    if not (0 < alpha < 0.5 and 0.5 < power < 1):
        raise DataValidationError("alpha must lie in (0, 0.5) and power in (0.5, 1)")
    for n in range(1, nmax + 1):
        r = np.arange(n + 1)
        size = stats.binom.sf(r - 1, n, p0)  # P(X >= r | p0)
        ok = np.flatnonzero(size <= alpha)
        if ok.size == 0:
            continue
        cut = int(ok[0])
        achieved = float(stats.binom.sf(cut - 1, n, p1))
        if achieved >= power:
            return SingleStageDesign(n, cut, float(size[cut]), achieved)
    raise DataValidationError(f"no single-stage design with at most {nmax} patients", field="nmax")
