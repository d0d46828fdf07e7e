"""SDTM trial design datasets from the protocol: TS, TA, TE, TV and TI.

Elements: a screening element and one treatment element per arm, which lasts until the
last scheduled visit. Planned study days follow the SDTM rule (the first dose is day 1).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pustula.interop.sdtm_dates import iso
from pustula.interop.sdtm_spec import dataset_frame
from pustula.protocol import Protocol
from pustula.protocol.model import Arm
from pustula.protocol.randomization import are_pooled

__all__ = ["TS_PARAMETERS", "trial_design"]

#: TSPARMCD -> TSPARM (CDISC CT codelists TSPARMCD/TSPARM)
TS_PARAMETERS = {
    "TITLE": "Trial Title",
    "STYPE": "Study Type",
    "TBLIND": "Trial Blinding Schema",
    "TCNTRL": "Control Type",
    "INDIC": "Trial Disease/Condition Indication",
    "TRT": "Investigational Therapy or Treatment",
    "COMPTRT": "Comparative Treatment Name",
    "ROUTE": "Route of Administration",
    "DOSE": "Dose per Administration",
    "DOSU": "Dose Units",
    "DOSFRQ": "Dosing Frequency",
    "NARMS": "Planned Number of Arms",
    "RANDOM": "Trial is Randomized",
    "STRATFCT": "Stratification Factor",
    "AGEMIN": "Planned Minimum Age of Subjects",
    "SEXPOP": "Sex of Participants",
    "SSTDTC": "Study Start Date",
    "TPHASE": "Trial Phase",
    "PLANSUB": "Planned Number of Subjects",
    "SDTIGVER": "SDTM IG Version",
    "REGID": "Registry Identifier",
}


#: TBLIND (CDISC CT "Trial Blinding Schema") of the protocol's blinding
BLINDING = {"open": "OPEN LABEL", "single": "SINGLE BLIND", "double": "DOUBLE BLIND"}
#: STRATFCT of each stratification factor, in the words of the protocol's strata
STRATA = {"site": "SITE", "sex": "SEX", "smoking": "SMOKING STATUS",
          "pppasi_band": "BASELINE PPPASI TOTAL"}  # fmt: skip


def _placebo(arm: Arm) -> bool:
    """An arm whose every treatment is a placebo (the drug's name says so)."""
    return bool(arm.treatments) and all("placebo" in t.drug.lower().split() for t in arm.treatments)


def _ts(protocol: Protocol, subjects: pd.DataFrame) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(code: str, value: Any, null_flavor: str = "") -> None:
        same = sum(r["TSPARMCD"] == code for r in rows)
        rows.append(
            {
                "TSSEQ": same + 1,
                "TSPARMCD": code,
                "TSPARM": TS_PARAMETERS[code],
                "TSVAL": "" if null_flavor else str(value)[:200],
                "TSVALNF": null_flavor,
            }
        )

    add("TITLE", protocol.title)
    add("STYPE", "INTERVENTIONAL")
    randomization = protocol.randomization
    add("TBLIND", BLINDING[randomization.blinding if randomization else "open"])
    # a blinded reader's protocol has its arms pooled: the design's arms, control and
    # treatments are masked there, not made up from the one pooled arm
    masked = are_pooled(protocol.arms)
    if masked:
        add("TCNTRL", "", "MSK")
    elif len(protocol.arms) == 1:
        add("TCNTRL", "NONE")
    elif any(_placebo(arm) for arm in protocol.arms):
        add("TCNTRL", "PLACEBO")
    else:  # the protocol does not say which arm controls
        add("TCNTRL", "", "UNK")
    add("INDIC", "Palmoplantar pustulosis")
    if masked:
        add("TRT", "", "MSK")
    for arm in protocol.arms:
        if _placebo(arm):  # the comparator, not an investigational treatment
            add("COMPTRT", "PLACEBO")
            continue
        for t in arm.treatments:
            add("TRT", t.drug.upper())
            add("ROUTE", t.route.upper())
            add("DOSE", f"{t.dose:g}")
            add("DOSU", t.unit)
            add("DOSFRQ", t.frequency.upper())
    if masked:
        add("NARMS", "", "MSK")
    else:
        add("NARMS", len(protocol.arms))
    add("RANDOM", "Y" if randomization else "N")
    for stratum in randomization.strata if randomization else ():
        add("STRATFCT", STRATA[stratum.factor])
    ages = [
        c.rule
        for c in protocol.eligibility.inclusion
        if getattr(c.rule, "field", None) == "age" and getattr(c.rule, "op", "") == ">="
    ]
    if ages:
        add("AGEMIN", f"P{int(ages[0].value)}Y")  # type: ignore[union-attr, arg-type]
    else:
        add("AGEMIN", "", "NI")
    add("SEXPOP", "BOTH")
    start = subjects["screened_on"].min() if len(subjects) else None
    add("SSTDTC", iso(start), "" if iso(start) else "NI")
    add("TPHASE", "", "NA")  # a case series has no trial phase
    if protocol.design is not None and protocol.design.planned_subjects:
        add("PLANSUB", protocol.design.planned_subjects)
    else:
        add("PLANSUB", "", "NI")
    add("REGID", "", "NI")
    add("SDTIGVER", "3.4")
    return rows


def _elements(protocol: Protocol) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    last = max(v.day for v in protocol.visits)
    te = [
        {
            "ETCD": "SCRN",
            "ELEMENT": "Screening",
            "TESTRL": "Start of screening",
            "TEENRL": "First dose of study drug",
            "TEDUR": "",
        }
    ]
    # records after the last dose are FOLLOW-UP (sdtm_dates.epoch): the design has that epoch
    te.append(
        {
            "ETCD": "FU",
            "ELEMENT": "Follow-up",
            "TESTRL": "Day after the last dose of study drug",
            "TEENRL": "End of participation",
            "TEDUR": "",
        }
    )
    ta = []
    for arm in protocol.arms:
        code = arm.code[:8]
        te.append(
            {
                "ETCD": code,
                "ELEMENT": arm.label[:200],
                "TESTRL": "First dose of study drug",
                "TEENRL": f"Last dose of study drug (planned on day {last + 1})",
                "TEDUR": f"P{last + 1}D",
            }
        )
        for order, (etcd, element, epoch) in enumerate(
            (
                ("SCRN", "Screening", "SCREENING"),
                (code, arm.label, "TREATMENT"),
                ("FU", "Follow-up", "FOLLOW-UP"),
            ),
            start=1,
        ):
            ta.append(
                {
                    "ARMCD": arm.code,
                    "ARM": arm.label,
                    "TAETORD": order,
                    "ETCD": etcd,
                    "ELEMENT": element,
                    "TABRANCH": "",
                    "TATRANS": "",
                    "EPOCH": epoch,
                }
            )
    return ta, te


def _tv(protocol: Protocol) -> list[dict[str, Any]]:
    rows = []
    for number, visit in enumerate(protocol.visits, start=1):
        day = visit.day + 1  # SDTM: the first dose is day 1
        for arm in protocol.arms:
            rows.append(
                {
                    "VISITNUM": number,
                    "VISIT": visit.label,
                    "VISITDY": day,
                    "ARMCD": arm.code,
                    "ARM": arm.label,
                    "TVSTRL": (
                        "First dose of study drug, before dosing"
                        if visit.baseline
                        else f"Day {day - visit.window_before} (target day {day})"
                    ),
                    "TVENRL": "" if visit.baseline else f"Day {day + visit.window_after}",
                }
            )
    return rows


def _ti(protocol: Protocol) -> list[dict[str, Any]]:
    criteria = [("INCLUSION", c) for c in protocol.eligibility.inclusion]
    criteria += [("EXCLUSION", c) for c in protocol.eligibility.exclusion]
    return [
        {
            "IETESTCD": c.id[:8].upper(),
            "IETEST": c.text[:200],
            "IECAT": cat,
            "TIVERS": protocol.version,
        }
        for cat, c in criteria
    ]


def trial_design(protocol: Protocol, subjects: pd.DataFrame) -> dict[str, pd.DataFrame]:
    ta, te = _elements(protocol)
    return {
        "TS": dataset_frame("TS", _ts(protocol, subjects)),
        "TA": dataset_frame("TA", ta),
        "TE": dataset_frame("TE", te),
        "TV": dataset_frame("TV", _tv(protocol)),
        "TI": dataset_frame("TI", _ti(protocol)),
    }
