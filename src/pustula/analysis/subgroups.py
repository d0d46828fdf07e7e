"""Subgroups of a randomized trial, exploratory: the difference between arms within each
level of each stratification factor and prespecified subgroup, with the likelihood-ratio
test of the arm × subgroup interaction in a logistic model.

A trial is not powered for subgroups; every row and the forest plot say exploratory, and
no p-value here is adjusted or confirmatory (ICH E9, section 5.7).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from pustula.analysis.compare import compare_proportions
from pustula.analysis.models import logistic_fit
from pustula.errors import AnalysisError

__all__ = ["interaction_p", "subgroup_rows"]


def interaction_p(frame: pd.DataFrame, response: str, arm: str, subgroup: str) -> float | None:
    """The likelihood-ratio p of arm × subgroup in ``logit P(response) ~ arm * subgroup``
    against ``arm + subgroup`` (``arm`` 1 or 0); None when either model has no finite
    estimate (a level where an arm has no responder, for instance).

    >>> cells = [(1, "F", 5, 6), (1, "M", 3, 6), (0, "F", 2, 6), (0, "M", 2, 6)]
    >>> frame = pd.DataFrame([{"arm": a, "sex": s, "resp": int(i < x)}
    ...                       for a, s, x, n in cells for i in range(n)])
    >>> round(interaction_p(frame, "resp", "arm", "sex"), 4)
    0.3723
    """
    data = frame.dropna(subset=[response, arm, subgroup])
    levels = sorted(data[subgroup].astype(str).unique())
    if len(levels) < 2:
        return None
    y = data[response].to_numpy(dtype=float)
    treated = data[arm].to_numpy(dtype=float)
    dummies = np.column_stack([(data[subgroup].astype(str) == lv).to_numpy(dtype=float)
                               for lv in levels[1:]])  # fmt: skip
    reduced = np.column_stack([np.ones(len(data)), treated, dummies])
    full = np.column_stack([reduced, dummies * treated[:, None]])
    try:
        _, ll_reduced = logistic_fit(reduced, y, what=response)
        _, ll_full = logistic_fit(full, y, what=response)
    except AnalysisError:
        return None
    return float(stats.chi2.sf(max(2 * (ll_full - ll_reduced), 0.0), len(levels) - 1))


def subgroup_rows(
    frame: pd.DataFrame, response: str, *, arm: str, subgroups: Sequence[tuple[str, str]],
    alpha: float = 0.05,
) -> pd.DataFrame:  # fmt: skip
    """One row per subgroup level: subgroup, level, n, responders and n per arm, the risk
    difference with its Miettinen–Nurminen interval, and the subgroup's interaction p.
    ``subgroups`` are (column, name) pairs; ``arm`` is 1 (treated) or 0 (control)."""
    rows = []
    for column, name in subgroups:
        p = interaction_p(frame, response, arm, column)
        for level, part in frame.dropna(subset=[column]).groupby(column, sort=True):
            t, c = part[part[arm] == 1][response], part[part[arm] == 0][response]
            if not len(t) or not len(c):
                continue  # a level with one arm only has no comparison
            comparison = compare_proportions(int(t.sum()), len(t), int(c.sum()), len(c),
                                             alpha=alpha)  # fmt: skip
            d = comparison.risk_difference
            rows.append({
                "subgroup": name, "level": str(level), "n": len(part),
                "treated": f"{int(t.sum())}/{len(t)}", "control": f"{int(c.sum())}/{len(c)}",
                "estimate": d.estimate, "low": d.low, "high": d.high, "interaction_p": p,
            })  # fmt: skip
    return pd.DataFrame(rows, columns=["subgroup", "level", "n", "treated", "control",
                                       "estimate", "low", "high", "interaction_p"])  # fmt: skip
