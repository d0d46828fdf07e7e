"""The strata of a randomized protocol: each factor's levels, and a subject's level of each.

A stratum is named by its levels joined with `` · `` (``SITE1 · ever · ≥ 20``), which is
what a coordinator confirms and what an allocation list is kept by.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise, product
from typing import Any

from pustula.protocol.randomization import RECORDED_CODES, Randomization, Stratum

__all__ = ["SEPARATOR", "factor_levels", "level_of", "levels_of", "strata", "stratum_name"]

SEPARATOR = " · "


def factor_levels(stratum: Stratum, sites: Sequence[str]) -> tuple[str, ...]:
    """The levels of one factor, in the protocol's order.

    Examples
    --------
    >>> factor_levels(Stratum(factor="pppasi_band", cuts=(20,)), [])
    ('< 20', '≥ 20')
    >>> factor_levels(Stratum(factor="smoking", groups={
    ...     "never": ("never", "unknown"), "ever": ("current", "former")}), [])
    ('never', 'ever')
    """
    if stratum.factor == "site":
        return tuple(sites)
    if stratum.factor == "pppasi_band":
        cuts = [f"{c:g}" for c in stratum.cuts]
        between = (f"{a}\u2013<{b}" for a, b in pairwise(cuts))
        return (f"< {cuts[0]}", *between, f"\u2265 {cuts[-1]}")
    if stratum.groups:
        return tuple(stratum.groups)
    return RECORDED_CODES[stratum.factor]


def level_of(stratum: Stratum, value: Any) -> str | None:
    """The level a recorded value falls in (site code, answer code or PPPASI total);
    None when the value is missing or not a level.

    Examples
    --------
    >>> band = Stratum(factor="pppasi_band", cuts=(10, 20))
    >>> [level_of(band, v) for v in (9.9, 10, 19.9, 20, 72, None)]
    ['< 10', '10–<20', '10–<20', '≥ 20', '≥ 20', None]
    """
    if value is None or value == "":
        return None
    if stratum.factor == "pppasi_band":
        levels = factor_levels(stratum, [])
        below = sum(float(value) >= c for c in stratum.cuts)
        return levels[below]
    if stratum.groups:
        return next((g for g, members in stratum.groups.items() if value in members), None)
    return str(value)


def stratum_name(levels: Sequence[str]) -> str:
    """The name of the stratum with these levels (``-`` for an unstratified list).

    >>> stratum_name(["SITE1", "ever"]), stratum_name([])
    ('SITE1 · ever', '-')
    """
    return SEPARATOR.join(levels) or "-"


def strata(randomization: Randomization, sites: Sequence[str]) -> list[str]:
    """Every stratum: each combination of the factors' levels.

    Examples
    --------
    >>> r = Randomization(block_sizes=(3,), slots_per_stratum=3, blinding="open",
    ...     strata=[Stratum(factor="site"), Stratum(factor="pppasi_band", cuts=(20,))])
    >>> strata(r, ["A", "B"])
    ['A · < 20', 'A · ≥ 20', 'B · < 20', 'B · ≥ 20']
    """
    return [stratum_name(combo) for combo in
            product(*(factor_levels(s, sites) for s in randomization.strata))]  # fmt: skip


def levels_of(randomization: Randomization, values: Mapping[str, Any]) -> dict[str, str | None]:
    """Each factor's level for a subject's recorded values (keyed by factor).

    >>> r = Randomization(block_sizes=(3,), slots_per_stratum=3, blinding="open",
    ...     strata=[Stratum(factor="site"), Stratum(factor="pppasi_band", cuts=(20,))])
    >>> levels_of(r, {"site": "A", "pppasi_band": 25.5})
    {'site': 'A', 'pppasi_band': '≥ 20'}
    """
    return {s.factor: level_of(s, values.get(s.factor)) for s in randomization.strata}
