"""Published PPP treatment results, shipped with Pustula, and their pooling by stratum.

One row per study arm, endpoint and week (``data/ppp_published.csv``), with the endpoint's
exact definition (index, operator, cut-off), design, drug class, region, the source (DOI or
PMID) and how far each count was verified: *verified* (counts in the abstract), *derived*
(count worked out from a percentage and N), *partly verified* (secondary sources or an
inferred denominator) or *unverified* (no count seen: kept, never pooled). No row was checked
against a full-text results table; check before publishing.

Strata are never mixed silently: a selection that spans more than one index, operator or
cut-off, or both randomised arms and uncontrolled series, is pooled only with
``allow_mixed=True``, and the result says what was pooled and what was left out, and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

import pandas as pd

from pustula.errors import DataValidationError
from pustula.evidence.glmm import glmm_proportions
from pustula.evidence.meta import MetaResult, Tau2Method, escalc, rma

__all__ = ["PooledEvidence", "load_published", "pool_published", "select"]

UNCONTROLLED = frozenset({"single_arm", "case_series", "retrospective"})
_COLUMNS = ("row", "study", "design", "drug", "drug_class", "region", "arm", "index",
            "operator", "cutoff", "week", "responders", "n", "verification")  # fmt: skip


def load_published(extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """The shipped rows, with the user's own rows (same columns; ``verification`` "user")."""
    with resources.files("pustula.evidence.data").joinpath("ppp_published.csv").open() as f:
        table = pd.read_csv(f, dtype={"row": str, "pmid": str, "operator": str})
    if extra is not None:
        missing = [c for c in _COLUMNS if c not in extra.columns and c != "verification"]
        if missing:
            raise DataValidationError(f"your rows lack column(s) {', '.join(missing)}")
        extra = extra.assign(verification=extra.get("verification", "user"),
                             denominator=extra.get("denominator", "all"))  # fmt: skip
        table = pd.concat([table, extra], ignore_index=True)
    return table


def select(
    table: pd.DataFrame, *, index: str | None = None, cutoff: float | None = None,
    weeks: tuple[float, float] | None = None, designs: Iterable[str] | None = None,
    arm: str | None = "treatment", drug_class: str | None = None, completers: bool = False,
) -> pd.DataFrame:  # fmt: skip
    """Rows matching every criterion given (case-insensitive for text).

    A study that reported completers only (``denominator`` "completers", e.g. BRODA-JP:
    50 of 63 randomised) has a second row with the randomised denominator and
    non-responder imputation; that row is pooled by default, since completers overstate
    the rate against ITT. ``completers=True`` takes the completers' rows instead, as a
    sensitivity analysis.
    """
    keep = pd.Series(True, index=table.index)
    if "denominator" in table:
        only_completers = table["denominator"] == "completers"
        if completers:
            same = ["study", "drug", "arm", "index", "cutoff", "week"]
            reported = table.loc[only_completers, same].drop_duplicates()
            imputed = table[same].merge(reported, how="left", indicator=True)["_merge"]
            keep &= only_completers | (imputed.to_numpy() == "left_only")
        else:
            keep &= ~only_completers
    if index is not None:
        keep &= table["index"].str.lower() == index.lower()
    if cutoff is not None:
        keep &= table["cutoff"] == cutoff
    if weeks is not None:
        keep &= table["week"].between(*weeks)
    if designs is not None:
        keep &= table["design"].isin(list(designs))
    if arm is not None:
        keep &= table["arm"] == arm
    if drug_class is not None:
        keep &= table["drug_class"].str.lower() == drug_class.lower()
    return table[keep]


@dataclass(frozen=True)
class PooledEvidence:
    result: MetaResult
    included: pd.DataFrame
    excluded: list[tuple[str, str]]  # (row, why)
    description: str


def _definition(row: pd.Series) -> str:
    if pd.isna(row["cutoff"]):
        return f"{row['index']} (no responder definition)"
    return f"{row['index']} {row['operator']} {row['cutoff']:g}"


def pool_published(
    rows: pd.DataFrame, *, measure: str = "PLO", method: Tau2Method = "REML", hk: bool = False,
    allow_mixed: bool = False, level: float = 0.95,
) -> PooledEvidence:  # fmt: skip
    """Pool single-arm response proportions of the selected rows."""
    if measure not in ("PLO", "PFT", "GLMM"):
        raise DataValidationError("published rows are pooled as proportions: PLO, PFT or GLMM")
    uncounted = rows["responders"].isna() | rows["n"].isna()
    excluded = [(str(r["row"]), f"no responder count ({r['verification']})")
                for _, r in rows[uncounted].iterrows()]  # fmt: skip
    usable = rows.dropna(subset=["responders", "n"])
    if usable.empty:
        raise DataValidationError("no selected row has a responder count to pool")
    definitions = sorted(set(usable.apply(_definition, axis=1)))
    mixed = []
    if len(definitions) > 1:
        mixed.append(f"endpoint definitions differ ({'; '.join(definitions)})")
    designs = set(usable["design"])
    if designs & UNCONTROLLED and designs - UNCONTROLLED:
        mixed.append(f"randomised arms and uncontrolled series ({', '.join(sorted(designs))})")
    repeated = usable["study"][usable["study"].duplicated()].unique()
    if len(repeated):
        mixed.append(f"a study appears more than once ({', '.join(repeated)}); narrow the weeks")
    if mixed and not allow_mixed:
        raise DataValidationError("not pooled: " + "; ".join(mixed) + ". Pool them together "
                                  "only on purpose (--mixed)")  # fmt: skip
    labels = [f"{r['study']} ({r['drug']}, week {r['week']:g})" for _, r in usable.iterrows()]
    events, sizes = usable["responders"].tolist(), usable["n"].tolist()
    if measure == "GLMM":
        result = glmm_proportions(events, sizes, labels=labels, level=level)
    else:
        effects = escalc(measure, events, sizes)  # type: ignore[arg-type]
        result = rma(effects, method, hk=hk, labels=labels, level=level)
    what = (f"{len(usable)} arms of {usable['study'].nunique()} studies: "
            f"{'; '.join(definitions)}; designs {', '.join(sorted(designs))}; "
            f"weeks {usable['week'].min():g}-{usable['week'].max():g}")  # fmt: skip
    if mixed:
        what += " (mixed strata, as asked: " + "; ".join(mixed) + ")"
    return PooledEvidence(result, usable, excluded, what)
