"""Pure derivations on BDS-like data (ADaM names): inputs are never changed.

Each ``derive_*`` takes a dataset first and keyword-only options, and returns a new
DataFrame with the added columns or rows (pharmaverse admiral's grammar).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from pustula.analysis.settings import CUTOFFS
from pustula.errors import AnalysisError
from pustula.protocol import Visit, window_status
from pustula.protocol.amendments import ProtocolHistory

__all__ = [
    "CUTOFFS",
    "BaselineZero",
    "Imputation",
    "Operator",
    "derive_param_imputed",
    "derive_time_to_response",
    "derive_var_base",
    "derive_var_chg",
    "derive_var_pga_response",
    "derive_var_responders",
    "derive_var_window",
    "require_columns",
]

Operator = Literal[">=", ">"]
Imputation = Literal["OC", "LOCF", "LOCF_BASELINE", "NRI"]
BaselineZero = Literal["not_evaluable", "non_responder"]
KEYS = ["USUBJID", "PARAMCD"]
#: Changes are rounded to this many decimals, so that binary noise never splits a tie
#: (-14.900000000000002 and -14.899999999999999 are the same change of -14.9).
CHANGE_DECIMALS = 10


def require_columns(bds: pd.DataFrame, columns: Collection[str], *, where: str) -> None:
    """Refuse a dataset that lacks a column a derivation needs (admiral's assert_data_frame).

    >>> require_columns(pd.DataFrame({"AVAL": [1]}), ["AVAL", "BASE"], where="derive_var_chg")
    Traceback (most recent call last):
    ...
    pustula.errors.AnalysisError: derive_var_chg needs the column BASE, which the dataset lacks
    """
    missing = [c for c in columns if c not in bds.columns]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise AnalysisError(
            f"{where} needs the column{plural} {', '.join(missing)}, which the dataset lacks",
            field=missing[0],
        )


def _one_of(name: str, value: object, allowed: Collection[object]) -> None:
    if value not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise AnalysisError(f"{name} must be one of {shown}; got {value!r}", field=name)


def _check_cutoffs(cutoffs: Sequence[int]) -> None:
    if not cutoffs or any(
        isinstance(c, bool) or not isinstance(c, int | np.integer) or not 0 < c <= 100
        for c in cutoffs
    ):
        raise AnalysisError(
            f"cutoffs must be whole percents from 1 to 100; got {tuple(cutoffs)!r}",
            field="cutoffs",
        )


def _where(condition: Any, yes: Any, no: Any) -> Any:
    """``np.where`` over Series or arrays, element by element (None stays None)."""
    return np.where(np.asarray(condition, dtype=bool), yes, no)


def derive_var_base(bds: pd.DataFrame) -> pd.DataFrame:
    """BASE and ABLFL: the last non-missing value on or before the first dose (TRTSDT).

    Ties on the same date are broken by the later visit (AVISITN). Subjects without a
    first dose have no baseline.

    Examples
    --------
    >>> adqs = demo_analysis().adqs
    >>> s01 = adqs[adqs["SUBJID"].eq("S01") & adqs["PARAMCD"].eq("PPPASI")]
    >>> with_base = derive_var_base(s01.drop(columns=["BASE", "ABLFL"]))
    >>> with_base[["AVISIT", "AVAL", "BASE", "ABLFL"]].head(2)
       AVISIT  AVAL  BASE ABLFL
    4  Week 0  26.1  26.1     Y
    5  Week 2  15.5  26.1  None
    """
    require_columns(bds, [*KEYS, "ADT", "TRTSDT", "AVAL", "AVISITN"], where="derive_var_base")
    out = bds.copy()
    observed = out["DTYPE"].isna() if "DTYPE" in out else pd.Series(True, index=out.index)
    candidates = out[(out["ADT"] <= out["TRTSDT"]) & out["AVAL"].notna() & observed]
    chosen = candidates.sort_values([*KEYS, "ADT", "AVISITN"]).groupby(KEYS, sort=False).tail(1)
    out["ABLFL"] = _where(out.index.isin(chosen.index), "Y", None)
    base = chosen.set_index(KEYS)["AVAL"].rename("BASE")
    out = out.drop(columns=["BASE"], errors="ignore").join(base, on=KEYS)
    return out


def derive_var_chg(bds: pd.DataFrame) -> pd.DataFrame:
    """CHG = AVAL - BASE and PCHG = 100 * CHG / BASE (missing when BASE is 0).

    CHG is rounded to 10 decimals, so equal changes are equal numbers:

    >>> derive_var_chg(pd.DataFrame({"AVAL": [0.1, 15.1], "BASE": [15.0, 30.0]}))["CHG"].tolist()
    [-14.9, -14.9]
    """
    require_columns(bds, ["AVAL", "BASE"], where="derive_var_chg")
    out = bds.copy()
    out["CHG"] = np.round(out["AVAL"] - out["BASE"], CHANGE_DECIMALS)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["PCHG"] = _where(out["BASE"] != 0, 100 * out["CHG"] / out["BASE"], np.nan)
    return out


def derive_var_window(
    bds: pd.DataFrame, *, visits: Sequence[Visit], history: ProtocolHistory | None = None
) -> pd.DataFrame:
    """AWTDIFF and OUTWINFL: each record's distance from its visit's target day, and a flag.

    Days count from the first dose (day 0), the schedule's own convention
    (:func:`pustula.protocol.study_day`), and the window is the protocol's
    (:func:`pustula.protocol.window_status`): with a ``history`` of amendments, the window
    of the version in force on the record's date, so an amendment never makes an earlier
    visit late. OUTWINFL is "Y" outside the window, "N" inside, and missing where there
    is no date or no first dose. Imputed rows get none.
    """
    require_columns(bds, ["VISITCD", "ADT", "TRTSDT"], where="derive_var_window")
    out = bds.copy()
    plan = {v.code: v for v in visits}
    day = (out["ADT"] - out["TRTSDT"]).dt.days

    def planned(code: str, when: Any) -> Visit | None:
        if history is None or pd.isna(when):
            return plan.get(code)
        return history.window_of(code, when.date())[0] or plan.get(code)

    plans = [planned(c, w) for c, w in zip(out["VISITCD"], out["ADT"], strict=True)]
    targets: list[float] = [np.nan if p is None else float(p.day) for p in plans]
    out["AWTDIFF"] = day - targets
    out["OUTWINFL"] = [
        None
        if pd.isna(d) or p is None
        else ("N" if window_status(p, int(d)) == "in_window" else "Y")
        for p, d in zip(plans, day, strict=True)
    ]
    return out


def _post_baseline(bds: pd.DataFrame) -> pd.Series:
    return (
        (bds["ABLFL"] != "Y")
        & (bds["ADT"].isna() | (bds["ADT"] > bds["TRTSDT"]))
        & bds["BASE"].notna()
    )


def derive_var_responders(
    bds: pd.DataFrame,
    *,
    paramcd: str = "PPPASI",
    cutoffs: Sequence[int] = CUTOFFS,
    operator: Operator = ">=",
    decimals: int = 1,
    baseline_zero: BaselineZero = "not_evaluable",
) -> pd.DataFrame:
    """CRITy / CRITyFL for a reduction of at least (or more than) each cut-off.

    The comparison is exact: totals are compared as whole multiples of
    ``10 ** -decimals`` (PPPASI: tenths), so no floating-point rounding moves a subject
    across a cut-off. Records of other parameters, baseline records and records without a
    baseline get no flag; rows imputed as non-responders (DTYPE "NRI") are "N".

    A baseline of 0 has no percentage change: its records are not evaluable (no flag, so
    they leave the denominator) or, with ``baseline_zero="non_responder"``, "N". Never "Y".

    Examples
    --------
    >>> adqs = demo_analysis().adqs
    >>> flags = derive_var_responders(adqs, cutoffs=(50, 80))   # CRIT1: >= 50 %, CRIT2: >= 80 %
    >>> week4 = flags[flags["PARAMCD"].eq("PPPASI") & flags["AVISIT"].eq("Week 4")]
    >>> responders = [int(week4[flag].eq("Y").sum()) for flag in ("CRIT1FL", "CRIT2FL")]
    >>> week4["CRIT1"].iloc[0], responders
    ('PCHG <= -50', [6, 3])
    """
    require_columns(
        bds, ["PARAMCD", "AVAL", "BASE", "ABLFL", "ADT", "TRTSDT"], where="derive_var_responders"
    )
    _check_cutoffs(cutoffs)
    _one_of("operator", operator, (">=", ">"))
    _one_of("baseline_zero", baseline_zero, ("not_evaluable", "non_responder"))
    out = bds.copy()
    scale = 10**decimals
    mask = (out["PARAMCD"] == paramcd) & _post_baseline(out)
    base = np.rint(out["BASE"].to_numpy(dtype=float) * scale)
    aval = np.rint(out["AVAL"].to_numpy(dtype=float) * scale)
    nri = out["DTYPE"].eq("NRI").to_numpy() if "DTYPE" in out else np.zeros(len(out), bool)
    zero = base == 0
    sign = "<=" if operator == ">=" else "<"
    for y, cut in enumerate(cutoffs, start=1):
        with np.errstate(invalid="ignore"):
            lhs, rhs = (base - aval) * 100, cut * base
            met = lhs >= rhs if operator == ">=" else lhs > rhs
        flag = _where(nri, "N", _where(np.isnan(aval), None, _where(met, "Y", "N")))
        zero_flag = None if baseline_zero == "not_evaluable" else "N"
        flag = _where(zero, zero_flag, flag)
        out[f"CRIT{y}"] = _where(mask, f"PCHG {sign} -{cut}", None)
        out[f"CRIT{y}FL"] = _where(mask, flag, None)
    return out


def derive_var_pga_response(
    bds: pd.DataFrame,
    *,
    paramcd: str = "PGA",
    baseline_min: int | None = None,
    min_improvement: int | None = None,
    crit: int = 1,
) -> pd.DataFrame:
    """PGA 0/1 (clear or almost clear) as CRITy / CRITyFL on the PGA records.

    ``baseline_min`` restricts the analysis to subjects with baseline PGA at least that
    (others get no flag, so they leave the denominator); ``min_improvement`` also asks
    for at least that many grades of improvement from baseline.

    Examples
    --------
    >>> adqs = demo_analysis().adqs
    >>> pga = derive_var_pga_response(adqs.drop(columns=["CRIT1", "CRIT1FL"]))
    >>> pga.query("PARAMCD == 'PGA' and AVISIT == 'Week 12'")["CRIT1FL"].value_counts().to_dict()
    {'Y': 5, 'N': 1}
    """
    require_columns(
        bds, ["PARAMCD", "AVAL", "BASE", "ABLFL", "ADT", "TRTSDT"], where="derive_var_pga_response"
    )
    for name, value, low in (
        ("baseline_min", baseline_min, 0),
        ("min_improvement", min_improvement, 1),
    ):
        if value is not None and (isinstance(value, bool) or value not in range(low, 5)):
            raise AnalysisError(
                f"{name} must be a whole PGA grade from {low} to 4; got {value!r}", field=name
            )
    out = bds.copy()
    mask = (out["PARAMCD"] == paramcd) & _post_baseline(out)
    if baseline_min is not None:
        mask &= out["BASE"] >= baseline_min
    met = out["AVAL"] <= 1
    text = "AVAL ≤ 1"
    if min_improvement is not None:
        met &= (out["BASE"] - out["AVAL"]) >= min_improvement
        text += f" and BASE − AVAL ≥ {min_improvement}"
    if baseline_min is not None:
        text += f" (BASE ≥ {baseline_min})"
    nri = out["DTYPE"].eq("NRI") if "DTYPE" in out else pd.Series(False, index=out.index)
    flag = _where(nri, "N", _where(out["AVAL"].isna(), None, _where(met, "Y", "N")))
    out[f"CRIT{crit}"] = _where(mask, text, None)
    out[f"CRIT{crit}FL"] = _where(mask, flag, None)
    return out


def derive_param_imputed(
    bds: pd.DataFrame, *, visits: Sequence[tuple[str, float]], method: Imputation
) -> pd.DataFrame:
    """Add a row for each planned post-baseline visit a subject with a baseline missed.

    ``visits`` are the planned (AVISIT, AVISITN) pairs after baseline. ``OC`` adds
    nothing. ``LOCF`` carries the last observed *post-baseline* value forward (DTYPE
    "LOCF"): a visit with no earlier post-baseline value stays missing, since carrying the
    baseline would be BOCF and would make a subject who was never assessed after baseline
    a non-responder under a method called LOCF. ``LOCF_BASELINE`` counts the baseline as
    an observation too (DTYPE "LOCF"), the rule some trials prespecify. ``NRI`` adds an
    empty row with DTYPE "NRI" that responder derivations count as a non-responder.
    Apply before :func:`derive_var_chg` and the responder derivations.

    References
    ----------
    National Research Council. The Prevention and Treatment of Missing Data in Clinical
    Trials. National Academies Press; 2010, chapter 4 (LOCF and BOCF as distinct
    single-imputation rules).

    Examples
    --------
    >>> adqs = demo_analysis().adqs
    >>> s02 = "TOFA-PPP-S02"
    >>> missed = adqs["USUBJID"].eq(s02) & adqs["AVISIT"].eq("Week 12")
    >>> observed = adqs[adqs["DTYPE"].isna() & ~missed]
    >>> weeks = [("Week 2", 2), ("Week 4", 4), ("Week 12", 12)]
    >>> filled = derive_param_imputed(observed, visits=weeks, method="LOCF")
    >>> ppasi = filled[filled["USUBJID"].eq(s02) & filled["PARAMCD"].eq("PPPASI")]
    >>> ppasi[["AVISIT", "AVAL", "DTYPE"]].tail(2).to_dict("records")
    [{'AVISIT': 'Week 4', 'AVAL': 4.6, 'DTYPE': None}, {'AVISIT': 'Week 12', 'AVAL': 4.6, 'DTYPE':
    'LOCF'}]
    """
    require_columns(bds, [*KEYS, "AVISIT", "AVISITN", "BASE", "AVAL"], where="derive_param_imputed")
    _one_of("method", method, ("OC", "LOCF", "LOCF_BASELINE", "NRI"))
    out = bds.copy()
    if "DTYPE" not in out:
        out["DTYPE"] = None
    if method == "OC":
        return out
    have = out[out["BASE"].notna()]
    template = have.drop_duplicates(KEYS).drop(columns=["AVISIT", "AVISITN"])
    # weeks given as whole numbers must still line up with the dataset's float AVISITN
    planned = pd.DataFrame([(v, float(n)) for v, n in visits], columns=["AVISIT", "AVISITN"])
    grid = template.merge(planned, how="cross")
    seen = have[[*KEYS, "AVISIT"]].drop_duplicates()
    grid = grid.merge(seen, on=[*KEYS, "AVISIT"], how="left", indicator=True)
    missing = grid[grid["_merge"] == "left_only"].drop(columns="_merge")
    if missing.empty:
        return out
    missing = missing.assign(
        ADT=pd.Series(pd.NaT, index=missing.index, dtype=out["ADT"].dtype),
        ADY=np.nan,
        ABLFL=None,
        DTYPE="NRI" if method == "NRI" else "LOCF",
        AVAL=np.nan,
    )
    # record-level facts of the row the template came from do not belong to an imputed row
    for column in ("AWTDIFF", "OUTWINFL", "INSTVER"):
        if column in missing:
            missing[column] = None
    if method in ("LOCF", "LOCF_BASELINE"):
        observed = have[have["AVAL"].notna()]
        if method == "LOCF":
            observed = observed[observed["ABLFL"] != "Y"]
        observed = observed[[*KEYS, "AVISITN", "AVAL"]].sort_values("AVISITN")
        carried = pd.merge_asof(
            missing.drop(columns="AVAL").sort_values("AVISITN"),
            observed.rename(columns={"AVISITN": "FROMN"}),
            left_on="AVISITN",
            right_on="FROMN",
            by=KEYS,
            allow_exact_matches=False,
        ).drop(columns="FROMN")
        missing = carried[carried["AVAL"].notna()]  # nothing to carry: stays missing
    # a column with no value in the imputed rows stays missing there; leaving it out of
    # the concatenation keeps each column's dtype the observed rows' own
    return pd.concat([out, missing[out.columns].dropna(axis=1, how="all")], ignore_index=True)


def derive_time_to_response(
    bds: pd.DataFrame,
    *,
    cutoff: int = 50,
    operator: Operator = ">=",
    paramcd: str = "PPPASI",
    baseline_zero: BaselineZero = "not_evaluable",
) -> pd.DataFrame:
    """One row per subject: study day of the first response, or censoring at the last visit.

    Returns USUBJID, AVAL (days), CNSR (0 = response, 1 = censored) and the cut-off.

    Examples
    --------
    >>> times = derive_time_to_response(demo_analysis().adqs, cutoff=80)
    >>> times[["USUBJID", "AVAL", "CNSR"]].head(3).to_dict("records")
    [{'USUBJID': 'TOFA-PPP-S01', 'AVAL': 29.0, 'CNSR': 0}, {'USUBJID': 'TOFA-PPP-S02', 'AVAL':
    29.0, 'CNSR': 0}, {'USUBJID': 'TOFA-PPP-S03', 'AVAL': 29.0, 'CNSR': 0}]
    """
    require_columns(bds, ["USUBJID", "ADY"], where="derive_time_to_response")
    flagged = derive_var_responders(
        bds, paramcd=paramcd, cutoffs=(cutoff,), operator=operator, baseline_zero=baseline_zero
    )
    obs = flagged[
        (flagged["PARAMCD"] == paramcd) & flagged["CRIT1FL"].notna() & flagged["ADY"].notna()
    ]
    obs = obs.sort_values(["USUBJID", "ADY"])
    first = obs[obs["CRIT1FL"] == "Y"].groupby("USUBJID")["ADY"].first()
    last = obs.groupby("USUBJID")["ADY"].max()
    result = pd.DataFrame({"USUBJID": last.index})
    result["AVAL"] = result["USUBJID"].map(first).fillna(result["USUBJID"].map(last))
    result["CNSR"] = _where(result["USUBJID"].isin(first.index), 0, 1)
    result["PARAMCD"] = f"TTR{cutoff}"
    return result.reset_index(drop=True)
