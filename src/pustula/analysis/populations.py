"""The analysis populations of a randomized trial on ADSL: intention to treat, modified
ITT and per protocol as the protocol defines them, and the safety set as treated, each
subject's membership with the reason when they are out.

ADSL columns: ARMCD (the arm randomized to, ``BLINDED`` in a blinded read), RANDFL,
ITTFL, MITTFL with MITTRSN, PPROTFL with PPROTRSN. SAFFL stays what it is for every
study: at least one dose.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pustula.protocol.model import Protocol
from pustula.protocol.populations import DEVIATION_CATEGORIES, MITT_CRITERIA
from pustula.store.transfer.extract import StudyData

__all__ = ["TRIAL_POPULATIONS", "derive_trial_populations", "population_definitions"]

#: ADSL flag -> the population's name, in the order a CONSORT report lists them.
TRIAL_POPULATIONS: dict[str, str] = {
    "ITTFL": "Intention to treat",
    "MITTFL": "Modified intention to treat",
    "PPROTFL": "Per protocol",
    "SAFFL": "Safety set",
}


def population_definitions(protocol: Protocol) -> dict[str, str]:
    """Each trial population's definition in words, from the protocol's analysis plan.

    >>> from pustula.demo import trial_protocol
    >>> population_definitions(trial_protocol())["MITTFL"].split(", in")[0]
    'randomized subjects with at least one dose of study drug and a baseline PPPASI'
    """
    plan = protocol.analysis.populations
    needs = " and ".join(MITT_CRITERIA[c] for c in plan.mitt)
    excluded = ", ".join(plan.per_protocol_excludes) or "none"
    return {
        "ITTFL": "every randomized subject, in the arm randomized to",
        "MITTFL": f"randomized subjects with {needs}, in the arm randomized to"
        if needs
        else "every randomized subject, in the arm randomized to",
        "PPROTFL": "subjects of the modified ITT set without a protocol deviation of the "
        f"kinds the protocol names ({excluded})",
        "SAFFL": "randomized subjects with at least one dose of study drug, as treated",
    }


_LACKING = {
    "dosed": "no dose of study drug",
    "baseline_pppasi": "no baseline PPPASI",
    "post_baseline_pppasi": "no PPPASI after baseline",
}


def _flag(values: pd.Series | np.ndarray) -> np.ndarray:
    return np.where(values, "Y", "N")


def derive_trial_populations(adsl: pd.DataFrame, bds: pd.DataFrame, data: StudyData
                             ) -> pd.DataFrame:  # fmt: skip
    """ADSL with the trial's population flags and reasons (see the module's docstring)."""
    plan = data.protocol.analysis.populations
    allocation = data.allocation
    arm_of = allocation.set_index("subject")["arm"] if len(allocation) else pd.Series(dtype=object)
    adsl = adsl.copy()
    subject = adsl["SUBJID"]
    randomized = subject.isin(arm_of.index)
    adsl["ARMCD"] = subject.map(arm_of).fillna("")
    adsl["RANDFL"] = _flag(randomized)
    adsl["ITTFL"] = adsl["RANDFL"]
    pppasi = bds[bds["PARAMCD"] == "PPPASI"]
    with_base = set(pppasi.loc[pppasi["ABLFL"].eq("Y"), "USUBJID"])
    with_post = set(pppasi.loc[pppasi["ABLFL"].ne("Y") & pppasi["DTYPE"].isna(), "USUBJID"])
    missing = {
        "dosed": ~adsl["TRTSDT"].notna(),
        "baseline_pppasi": ~adsl["USUBJID"].isin(with_base),
        "post_baseline_pppasi": ~adsl["USUBJID"].isin(with_post),
    }
    reasons = pd.Series("", index=adsl.index, dtype=object)
    reasons[~randomized] = "not randomized"
    for criterion in plan.mitt:
        lacking = randomized & missing[criterion] & (reasons == "")
        reasons[lacking] = _LACKING[criterion]
    adsl["MITTFL"] = _flag(reasons == "")
    adsl["MITTRSN"] = reasons
    deviations = data.deviations
    excluding = (
        deviations[deviations["category"].isin(plan.per_protocol_excludes)]
        if len(deviations)
        else pd.DataFrame(columns=["subject", "category"])
    )
    kinds = excluding.groupby("subject")["category"].agg(
        lambda c: "; ".join(dict.fromkeys(DEVIATION_CATEGORIES[k].lower() for k in c))
    )
    pp_reason = reasons.where(reasons != "", "")
    pp_reason = pp_reason.mask(
        (reasons != "") & randomized, "not in the modified ITT set (" + reasons + ")"
    )
    deviated = subject.map(kinds).astype(object)
    pp_reason = pp_reason.mask(
        (pp_reason == "") & deviated.notna(), "deviation: " + deviated.fillna("")
    )
    adsl["PPROTFL"] = _flag(pp_reason == "")
    adsl["PPROTRSN"] = pp_reason
    return adsl
