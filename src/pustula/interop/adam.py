"""ADaM for submission: ADSL and ADQS as the analysis builds them, with traceability to SDTM.

Every observed ADQS record names the SDTM record it came from (SRCDOM, SRCVAR, SRCSEQ: the
QS record's QSSEQ); imputed records (DTYPE set) have none, as ADaMIG 1.3 allows. Variable
names follow the analysis, which already uses ADaM names; lists (triggers, comorbidities)
are written as text joined with "; ".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pustula.analysis.datasets import AnalysisData
from pustula.interop.sdtm import SdtmPackage, visit_numbers
from pustula.interop.xpt import ascii_text
from pustula.randomization.strata import factor_levels

__all__ = ["ADAM_LABELS", "AdamPackage", "build_adam", "qs_test_of"]

#: ADaM PARAMCD -> the QS test code its AVAL comes from
qs_test_of = {
    "PPPASI": "PPPASI",
    "PGA": "PPPPGA",
    "DLQI": "DLQITOT",
    "PAINNRS": "PAINNRS",
    "ITCHNRS": "ITCHNRS",
}

ADAM_LABELS = {
    "STUDYID": "Study Identifier",
    "USUBJID": "Unique Subject Identifier",
    "SUBJID": "Subject Identifier for the Study",
    "SITEID": "Study Site Identifier",
    "AGE": "Age",
    "AGEU": "Age Units",
    "SEX": "Sex",
    "RACE": "Race",
    "ARM": "Description of Planned Arm",
    "ACTARM": "Description of Actual Arm",
    "TRT01P": "Planned Treatment for Period 01",
    "TRT01A": "Actual Treatment for Period 01",
    "RANDFL": "Randomized Population Flag",
    "ARMCD": "Planned Arm Code",
    "ITTFL": "Intent-To-Treat Population Flag",
    "MITTFL": "Modified Intent-To-Treat Population Flag",
    "MITTRSN": "Reason Not in Modified ITT Population",
    "PPROTFL": "Per-Protocol Population Flag",
    "PPROTRSN": "Reason Not in Per-Protocol Population",
    "RANDDT": "Date of Randomization",
    **{f"STRAT{n}R": f"Stratification Factor {n} as Randomized" for n in range(1, 5)},
    "STATUS": "Subject Status",
    "SCRNDT": "Date of Screening",
    "TRTSDT": "Date of First Exposure to Treatment",
    "TRTEDT": "Date of Last Exposure to Treatment",
    "ENRLFL": "Enrolled Population Flag",
    "SAFFL": "Safety Population Flag",
    "FASFL": "Full Analysis Set Population Flag",
    "WDFL": "Withdrawal Flag",
    "EOSSTT": "End of Study Status",
    "EOSDT": "End of Study Date",
    "DCSREAS": "Reason for Discontinuation from Study",
    "DURDISM": "PPP Duration (Months)",
    "SMOKING": "Smoking Status",
    "PACKYRS": "Pack-Years",
    "TRIGGERS": "PPP Trigger Factors",
    "COMORB": "Comorbidities",
    "PARAMCD": "Parameter Code",
    "PARAM": "Parameter",
    "PARAMN": "Parameter (N)",
    "VISITCD": "Protocol Visit Code",
    "AVISIT": "Analysis Visit",
    "AVISITN": "Analysis Visit (N)",
    "ADT": "Analysis Date",
    "ADY": "Analysis Relative Day",
    "AVAL": "Analysis Value",
    "INSTVER": "Instrument Version",
    "DTYPE": "Derivation Type",
    "AWTDIFF": "Diff Between Analysis and Target Day",
    "OUTWINFL": "Outside Visit Window Flag",
    "ABLFL": "Baseline Record Flag",
    "BASE": "Baseline Value",
    "CHG": "Change from Baseline",
    "PCHG": "Percent Change from Baseline",
    "SRCDOM": "Source Data",
    "SRCVAR": "Source Variable",
    "SRCSEQ": "Source Sequence Number",
}


@dataclass(frozen=True)
class AdamPackage:
    study: str
    datasets: dict[str, pd.DataFrame]
    labels: dict[str, dict[str, str]]  # dataset -> variable -> label
    synthetic: bool = False
    randomized: bool = False
    #: variable -> its permissible values with their meaning, for define.xml's codelists
    terms: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)


def _text(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "; ".join(map(str, v)) if isinstance(v, list | tuple) else v)


def _adsl(analysis: AnalysisData, sdtm: SdtmPackage) -> pd.DataFrame:
    """ADSL as ADaMIG 1.3 asks: RACE, ARM and ACTARM are DM's own values (ARM and ACTARM
    the arm *descriptions*, ACTARM empty for a subject never dosed), so that ADSL traces
    to DM variable for variable."""
    adsl = analysis.adsl.copy()
    dm = sdtm.datasets["DM"].set_index("USUBJID")
    for column in ("RACE", "ARM", "ACTARM"):
        adsl[column] = adsl["USUBJID"].map(dm[column]).fillna("")
    adsl["AGEU"] = np.where(adsl["AGE"].notna(), "YEARS", "")
    adsl["TRT01P"] = np.where(adsl["ENRLFL"] == "Y", adsl["ARM"].fillna(""), "")
    adsl["TRT01A"] = np.where(adsl["SAFFL"] == "Y", adsl["ACTARM"], "")
    randomization = analysis.study.protocol.randomization
    if randomization is not None:
        _randomized(adsl, analysis.study.allocation, [s.factor for s in randomization.strata])
    for column in ("TRIGGERS", "COMORB"):
        adsl[column] = _text(adsl[column])
    adsl["AGE"] = adsl["AGE"].astype(float)
    first = [
        "STUDYID",
        "USUBJID",
        "SUBJID",
        "SITEID",
        "AGE",
        "AGEU",
        "SEX",
        "RACE",
        "ARM",
        "ACTARM",
        "TRT01P",
        "TRT01A",
    ]
    return adsl[first + [c for c in adsl.columns if c not in first]]


def _randomized(adsl: pd.DataFrame, allocation: pd.DataFrame, factors: list[str]) -> None:
    """RANDFL, RANDDT and each stratification factor as randomized (STRATwR), in place."""
    by_subject = allocation.set_index("subject") if len(allocation) else None
    subject = adsl["SUBJID"]
    if by_subject is None:
        adsl["RANDFL"], adsl["RANDDT"] = "N", pd.NaT
    else:
        adsl["RANDFL"] = np.where(subject.isin(by_subject.index), "Y", "N")
        adsl["RANDDT"] = subject.map(by_subject["randomized_on"])
    for number, factor in enumerate(factors, start=1):
        strata = by_subject["strata"] if by_subject is not None else pd.Series(dtype=object)
        adsl[f"STRAT{number}R"] = subject.map(
            lambda code, f=factor, s=strata: str(s[code].get(f, "")) if code in s.index else ""
        )


_FACTOR_NAMES = {
    "site": "Site",
    "sex": "Sex",
    "smoking": "Smoking status",
    "pppasi_band": "Baseline PPPASI",
}


def _stratum_terms(
    analysis: AnalysisData, adsl: pd.DataFrame
) -> dict[str, tuple[tuple[str, str], ...]]:
    """Each STRATwR's levels in the protocol's order, as the XPT file spells them (ASCII),
    with the factor they stratify by; a site factor's levels are the study's sites."""
    randomization = analysis.study.protocol.randomization
    if randomization is None:
        return {}
    sites = sorted(set(analysis.study.subjects["site"].dropna()))
    terms = {}
    for number, stratum in enumerate(randomization.strata, start=1):
        factor = _FACTOR_NAMES[stratum.factor]
        levels = factor_levels(stratum, sites)
        terms[f"STRAT{number}R"] = tuple((ascii_text(v), f"{factor}: {v}") for v in levels)
    return {k: v for k, v in terms.items() if k in adsl}


def _adqs(analysis: AnalysisData, sdtm: SdtmPackage) -> pd.DataFrame:
    adqs = analysis.adqs.copy()
    adqs.insert(0, "STUDYID", analysis.study.code)
    order = {code: i for i, code in enumerate(qs_test_of, start=1)}
    adqs.insert(list(adqs.columns).index("PARAM") + 1, "PARAMN", adqs["PARAMCD"].map(order))
    numbers = {code: num for code, (num, _) in visit_numbers(analysis.study.protocol).items()}
    qs = sdtm.datasets["QS"]
    source = qs.loc[qs["QSSTAT"] == "", ["USUBJID", "QSTESTCD", "VISITNUM", "QSSEQ"]]
    keyed = adqs.assign(
        QSTESTCD=adqs["PARAMCD"].map(qs_test_of), VISITNUM=adqs["VISITCD"].map(numbers)
    ).merge(source, on=["USUBJID", "QSTESTCD", "VISITNUM"], how="left", validate="many_to_one")
    observed = adqs["DTYPE"].isna().to_numpy() & keyed["QSSEQ"].notna().to_numpy()
    adqs["SRCDOM"] = np.where(observed, "QS", "")
    adqs["SRCVAR"] = np.where(observed, "QSSTRESN", "")
    adqs["SRCSEQ"] = np.where(observed, keyed["QSSEQ"], np.nan)
    for column in adqs.columns:
        if adqs[column].dtype.kind in "iub":
            adqs[column] = adqs[column].astype(float)
    return adqs


def build_adam(analysis: AnalysisData, sdtm: SdtmPackage) -> AdamPackage:
    adqs = _adqs(analysis, sdtm)
    adqs_labels = dict(ADAM_LABELS)
    for column in adqs.columns:
        if column.startswith("CRIT") and not column.endswith("FL"):
            texts = adqs[column].dropna().unique()
            adqs_labels[column] = f"Analysis Criterion {column[4:]}"
            adqs_labels[f"{column}FL"] = f"Criterion {column[4:]} Evaluation Result Flag"
            if len(texts) == 1:
                # ASCII, as the XPT file holds it: define.xml must say the same (<=, not ≤)
                adqs_labels[column] = ascii_text(f"Criterion {column[4:]}: {texts[0]}")[:40]
    adsl = _adsl(analysis, sdtm)
    datasets = {"ADSL": adsl, "ADQS": adqs}
    labels = {
        name: {c: adqs_labels.get(c, c) for c in frame.columns} for name, frame in datasets.items()
    }
    study = analysis.study
    return AdamPackage(
        study.code,
        datasets,
        labels,
        study.synthetic,
        study.protocol.randomized,
        _stratum_terms(analysis, adsl),
    )
