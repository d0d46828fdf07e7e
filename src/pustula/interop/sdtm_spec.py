"""SDTM metadata: each dataset's variables (name, label, type, core, codelist, origin) and
the controlled terminology Pustula writes.

One table serves the XPT labels, Define-XML and the conformance check, so the three never
disagree. Cores and variable order follow SDTMIG 3.4; terms follow CDISC SDTM Controlled
Terminology (NCI EVS). Terms marked *sponsor* extend or stand in for CDISC terminology and are
flagged ``def:ExtendedValue`` in Define-XML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

import pandas as pd

__all__ = ["CODELISTS", "DATASETS", "DatasetSpec", "VarSpec", "dataset_frame", "dataset_spec"]

Core = Literal["Req", "Exp", "Perm"]


@dataclass(frozen=True)
class VarSpec:
    name: str
    label: str
    numeric: bool
    core: Core
    codelist: str | None = None
    origin: str = "Collected"  # Define-XML def:Origin Type: Collected, Derived, Assigned, Protocol


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    label: str
    klass: str  # Define-XML def:Class
    structure: str
    keys: tuple[str, ...]
    variables: tuple[VarSpec, ...]

    def var(self, name: str) -> VarSpec:
        return next(v for v in self.variables if v.name == name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)


def _vars(text: str) -> tuple[VarSpec, ...]:
    """Rows ``NAME|Label|C or N|core|codelist|origin`` (the last two may be empty)."""
    out = []
    for line in filter(None, text.strip().splitlines()):
        name, label, kind, core, codelist, origin = (p.strip() for p in line.split("|"))
        numeric = kind == "N"
        out.append(VarSpec(name, label, numeric, cast(Core, core), codelist or None,
                           origin or "Collected"))  # fmt: skip
    return tuple(out)


_ID = """
STUDYID|Study Identifier|C|Req||Assigned
DOMAIN|Domain Abbreviation|C|Req||Assigned
USUBJID|Unique Subject Identifier|C|Req||Assigned
"""

_SUPP = """
STUDYID|Study Identifier|C|Req||Assigned
RDOMAIN|Related Domain Abbreviation|C|Req||Assigned
USUBJID|Unique Subject Identifier|C|Req||Assigned
IDVAR|Identifying Variable|C|Exp||Assigned
IDVARVAL|Identifying Variable Value|C|Exp||Assigned
QNAM|Qualifier Variable Name|C|Req||Assigned
QLABEL|Qualifier Variable Label|C|Req||Assigned
QVAL|Data Value|C|Req||Collected
QORIG|Origin|C|Req||Assigned
QEVAL|Evaluator|C|Exp||Assigned
"""

_DATASETS = {
    "DM": (
        "Demographics",
        "SPECIAL PURPOSE",
        "One record per subject",
        ("STUDYID", "USUBJID"),
        _ID
        + """
SUBJID|Subject Identifier for the Study|C|Req||Collected
RFSTDTC|Subject Reference Start Date/Time|C|Exp||Derived
RFENDTC|Subject Reference End Date/Time|C|Exp||Derived
RFXSTDTC|Date/Time of First Study Treatment|C|Exp||Derived
RFXENDTC|Date/Time of Last Study Treatment|C|Exp||Derived
RFICDTC|Date/Time of Informed Consent|C|Exp||Collected
RFPENDTC|Date/Time of End of Participation|C|Exp||Derived
SITEID|Study Site Identifier|C|Req||Assigned
AGE|Age|N|Exp||Collected
AGEU|Age Units|C|Exp|AGEU|Assigned
SEX|Sex|C|Req|SEX|Collected
RACE|Race|C|Exp|RACE|Collected
ETHNIC|Ethnicity|C|Perm|ETHNIC|Collected
ARMCD|Planned Arm Code|C|Exp||Assigned
ARM|Description of Planned Arm|C|Exp||Assigned
ACTARMCD|Actual Arm Code|C|Exp||Derived
ACTARM|Description of Actual Arm|C|Exp||Derived
ARMNRS|Reason Arm and/or Actual Arm is Null|C|Exp|ARMNULRS|Derived
COUNTRY|Country|C|Req|COUNTRY|Protocol
""",
    ),
    "DS": (
        "Disposition",
        "EVENTS",
        "One record per disposition status or protocol milestone per subject",
        ("STUDYID", "USUBJID", "DSSEQ"),
        _ID
        + """
DSSEQ|Sequence Number|N|Req||Derived
DSTERM|Reported Term for the Disposition Event|C|Req||Collected
DSDECOD|Standardized Disposition Term|C|Req|NCOMPLT|Derived
DSCAT|Category for Disposition Event|C|Exp|DSCAT|Assigned
EPOCH|Epoch|C|Perm|EPOCH|Derived
DSSTDTC|Start Date/Time of Disposition Event|C|Exp||Collected
DSSTDY|Study Day of Start of Disposition Event|N|Perm||Derived
""",
    ),
    "SV": (
        "Subject Visits",
        "SPECIAL PURPOSE",
        "One record per actual or planned visit per subject",
        ("STUDYID", "USUBJID", "VISITNUM"),
        _ID
        + """
VISITNUM|Visit Number|N|Req||Protocol
VISIT|Visit Name|C|Perm||Protocol
SVPRESP|Pre-specified|C|Perm|NY|Protocol
SVOCCUR|Occurrence|C|Perm|NY|Collected
SVREASOC|Reason for Occur Value|C|Perm||Collected
EPOCH|Epoch|C|Perm|EPOCH|Derived
SVSTDTC|Start Date/Time of Observation|C|Exp||Collected
SVENDTC|End Date/Time of Observation|C|Exp||Collected
SVSTDY|Study Day of Start of Observation|N|Perm||Derived
SVENDY|Study Day of End of Observation|N|Perm||Derived
""",
    ),
    "EX": (
        "Exposure",
        "INTERVENTIONS",
        "One record per constant dosing interval per subject",
        ("STUDYID", "USUBJID", "EXTRT", "EXSTDTC"),
        _ID
        + """
EXSEQ|Sequence Number|N|Req||Derived
EXTRT|Name of Treatment|C|Req||Collected
EXDOSE|Dose|N|Exp||Collected
EXDOSU|Dose Units|C|Exp|UNIT|Collected
EXDOSFRQ|Dosing Frequency per Interval|C|Perm|FREQ|Collected
EXROUTE|Route of Administration|C|Perm|ROUTE|Protocol
EPOCH|Epoch|C|Perm|EPOCH|Derived
EXSTDTC|Start Date/Time of Treatment|C|Exp||Collected
EXENDTC|End Date/Time of Treatment|C|Exp||Collected
EXSTDY|Study Day of Start of Treatment|N|Perm||Derived
EXENDY|Study Day of End of Treatment|N|Perm||Derived
""",
    ),
    "CM": (
        "Concomitant/Prior Medications",
        "INTERVENTIONS",
        "One record per recorded medication per subject",
        ("STUDYID", "USUBJID", "CMSEQ"),
        _ID
        + """
CMSEQ|Sequence Number|N|Req||Derived
CMTRT|Reported Name of Drug, Med, or Therapy|C|Req||Collected
CMCAT|Category for Medication|C|Perm||Assigned
CMSCAT|Subcategory for Medication|C|Perm||Collected
CMINDC|Indication|C|Perm||Collected
CMDOSTXT|Dose Description|C|Perm||Collected
EPOCH|Epoch|C|Perm|EPOCH|Derived
CMSTDTC|Start Date/Time of Medication|C|Perm||Collected
CMENDTC|End Date/Time of Medication|C|Perm||Collected
CMSTDY|Study Day of Start of Medication|N|Perm||Derived
CMENDY|Study Day of End of Medication|N|Perm||Derived
CMSTRF|Start Relative to Reference Period|C|Perm|STENRF|Derived
CMENRF|End Relative to Reference Period|C|Perm|STENRF|Derived
""",
    ),
    "MH": (
        "Medical History",
        "EVENTS",
        "One record per medical history event per subject",
        ("STUDYID", "USUBJID", "MHSEQ"),
        _ID
        + """
MHSEQ|Sequence Number|N|Req||Derived
MHTERM|Reported Term for the Medical History|C|Req||Collected
MHCAT|Category for Medical History|C|Perm||Assigned
MHPRESP|Medical History Event Pre-Specified|C|Perm|NY|Assigned
MHOCCUR|Medical History Occurrence|C|Perm|NY|Collected
""",
    ),
    "AE": (
        "Adverse Events",
        "EVENTS",
        "One record per adverse event per subject",
        ("STUDYID", "USUBJID", "AEDECOD", "AESTDTC"),
        _ID
        + """
AESEQ|Sequence Number|N|Req||Derived
AETERM|Reported Term for the Adverse Event|C|Req||Collected
AEDECOD|Dictionary-Derived Term|C|Req||Assigned
AEPTCD|Preferred Term Code|N|Exp||Assigned
AEBODSYS|Body System or Organ Class|C|Exp||Assigned
AEBDSYCD|Body System or Organ Class Code|N|Exp||Assigned
AESOC|Primary System Organ Class|C|Exp||Assigned
AESOCCD|Primary System Organ Class Code|N|Exp||Assigned
AESER|Serious Event|C|Exp|NY|Collected
AEACN|Action Taken with Study Treatment|C|Exp|ACN|Collected
AEREL|Causality|C|Exp|AEREL|Collected
AEOUT|Outcome of Adverse Event|C|Perm|OUT|Collected
AESCONG|Congenital Anomaly or Birth Defect|C|Perm|NY|Collected
AESDISAB|Persist or Signif Disability/Incapacity|C|Perm|NY|Collected
AESDTH|Results in Death|C|Perm|NY|Collected
AESHOSP|Requires or Prolongs Hospitalization|C|Perm|NY|Collected
AESLIFE|Is Life Threatening|C|Perm|NY|Collected
AESMIE|Other Medically Important Serious Event|C|Perm|NY|Collected
AETOXGR|Standard Toxicity Grade|C|Perm|TOXGR|Collected
EPOCH|Epoch|C|Perm|EPOCH|Derived
AESTDTC|Start Date/Time of Adverse Event|C|Exp||Collected
AEENDTC|End Date/Time of Adverse Event|C|Exp||Collected
AESTDY|Study Day of Start of Adverse Event|N|Perm||Derived
AEENDY|Study Day of End of Adverse Event|N|Perm||Derived
""",
    ),
    "LB": (
        "Laboratory Test Results",
        "FINDINGS",
        "One record per lab test per time point per subject",
        ("STUDYID", "USUBJID", "LBTESTCD", "LBDTC"),
        _ID
        + """
LBSEQ|Sequence Number|N|Req||Derived
LBTESTCD|Lab Test or Examination Short Name|C|Req|LBTESTCD|Assigned
LBTEST|Lab Test or Examination Name|C|Req|LBTEST|Assigned
LBCAT|Category for Lab Test|C|Exp||Assigned
LBORRES|Result or Finding in Original Units|C|Exp||Collected
LBORRESU|Original Units|C|Exp|UNIT|Collected
LBORNRLO|Reference Range Lower Limit in Orig Unit|C|Exp||Collected
LBORNRHI|Reference Range Upper Limit in Orig Unit|C|Exp||Collected
LBSTRESC|Character Result/Finding in Std Format|C|Exp||Derived
LBSTRESN|Numeric Result/Finding in Standard Units|N|Exp||Derived
LBSTRESU|Standard Units|C|Exp|UNIT|Derived
LBNRIND|Reference Range Indicator|C|Exp|NRIND|Derived
LBTOXGR|Standard Toxicity Grade|C|Perm|TOXGR|Derived
LBLOBXFL|Last Observation Before Exposure Flag|C|Exp|NY|Derived
VISITNUM|Visit Number|N|Exp||Derived
VISIT|Visit Name|C|Perm||Derived
EPOCH|Epoch|C|Perm|EPOCH|Derived
LBDTC|Date/Time of Specimen Collection|C|Exp||Collected
LBDY|Study Day of Specimen Collection|N|Perm||Derived
""",
    ),
    "QS": (
        "Questionnaires",
        "FINDINGS",
        "One record per questionnaire per question per visit per subject",
        ("STUDYID", "USUBJID", "QSCAT", "QSTESTCD", "VISITNUM"),
        _ID
        + """
QSSEQ|Sequence Number|N|Req||Derived
QSTESTCD|Question Short Name|C|Req|QSTESTCD|Assigned
QSTEST|Question Name|C|Req|QSTEST|Assigned
QSCAT|Category of Question|C|Req|QSCAT|Assigned
QSORRES|Finding in Original Units|C|Exp||Collected
QSORRESU|Original Units|C|Perm|UNIT|Collected
QSSTRESC|Character Result/Finding in Std Format|C|Exp||Derived
QSSTRESN|Numeric Finding in Standard Units|N|Perm||Derived
QSSTAT|Completion Status|C|Perm|ND|Collected
QSREASND|Reason Not Performed|C|Perm||Collected
QSDRVFL|Derived Flag|C|Perm|NY|Derived
QSLOBXFL|Last Observation Before Exposure Flag|C|Exp|NY|Derived
QSEVAL|Evaluator|C|Perm|EVAL|Assigned
VISITNUM|Visit Number|N|Exp||Protocol
VISIT|Visit Name|C|Perm||Protocol
EPOCH|Epoch|C|Perm|EPOCH|Derived
QSDTC|Date/Time of Finding|C|Exp||Collected
QSDY|Study Day of Visit/Collection/Exam|N|Perm||Derived
""",
    ),
    "SUPPDM": (
        "Supplemental Qualifiers for DM",
        "RELATIONSHIP",
        "One record per IDVARVAL per QNAM",
        ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"),
        _SUPP,
    ),
    "SUPPAE": (
        "Supplemental Qualifiers for AE",
        "RELATIONSHIP",
        "One record per IDVARVAL per QNAM",
        ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"),
        _SUPP,
    ),
    "SUPPCM": (
        "Supplemental Qualifiers for CM",
        "RELATIONSHIP",
        "One record per IDVARVAL per QNAM",
        ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"),
        _SUPP,
    ),
    "TS": (
        "Trial Summary",
        "TRIAL DESIGN",
        "One record per trial summary parameter value",
        ("STUDYID", "TSPARMCD", "TSSEQ"),
        """
STUDYID|Study Identifier|C|Req||Assigned
DOMAIN|Domain Abbreviation|C|Req||Assigned
TSSEQ|Sequence Number|N|Req||Assigned
TSGRPID|Group ID|C|Perm||Assigned
TSPARMCD|Trial Summary Parameter Short Name|C|Req|TSPARMCD|Assigned
TSPARM|Trial Summary Parameter|C|Req|TSPARM|Assigned
TSVAL|Parameter Value|C|Exp||Protocol
TSVALNF|Parameter Null Flavor|C|Perm||Assigned
TSVALCD|Parameter Value Code|C|Exp||Assigned
TSVCDREF|Name of the Reference Terminology|C|Exp||Assigned
TSVCDVER|Version of the Reference Terminology|C|Exp||Assigned
""",
    ),
    "TA": (
        "Trial Arms",
        "TRIAL DESIGN",
        "One record per planned Element per Arm",
        ("STUDYID", "ARMCD", "TAETORD"),
        """
STUDYID|Study Identifier|C|Req||Assigned
DOMAIN|Domain Abbreviation|C|Req||Assigned
ARMCD|Planned Arm Code|C|Req||Protocol
ARM|Description of Planned Arm|C|Req||Protocol
TAETORD|Planned Order of Element within Arm|N|Req||Protocol
ETCD|Element Code|C|Req||Protocol
ELEMENT|Description of Element|C|Perm||Protocol
TABRANCH|Branch|C|Exp||Protocol
TATRANS|Transition Rule|C|Exp||Protocol
EPOCH|Epoch|C|Req|EPOCH|Protocol
""",
    ),
    "TE": (
        "Trial Elements",
        "TRIAL DESIGN",
        "One record per planned Element",
        ("STUDYID", "ETCD"),
        """
STUDYID|Study Identifier|C|Req||Assigned
DOMAIN|Domain Abbreviation|C|Req||Assigned
ETCD|Element Code|C|Req||Protocol
ELEMENT|Description of Element|C|Req||Protocol
TESTRL|Rule for Start of Element|C|Req||Protocol
TEENRL|Rule for End of Element|C|Perm||Protocol
TEDUR|Planned Duration of Element|C|Perm||Protocol
""",
    ),
    "TV": (
        "Trial Visits",
        "TRIAL DESIGN",
        "One record per planned Visit per Arm",
        ("STUDYID", "ARMCD", "VISITNUM"),
        """
STUDYID|Study Identifier|C|Req||Assigned
DOMAIN|Domain Abbreviation|C|Req||Assigned
VISITNUM|Visit Number|N|Req||Protocol
VISIT|Visit Name|C|Perm||Protocol
VISITDY|Planned Study Day of Visit|N|Perm||Protocol
ARMCD|Planned Arm Code|C|Exp||Protocol
ARM|Description of Planned Arm|C|Perm||Protocol
TVSTRL|Visit Start Rule|C|Req||Protocol
TVENRL|Visit End Rule|C|Perm||Protocol
""",
    ),
    "TI": (
        "Trial Inclusion/Exclusion Criteria",
        "TRIAL DESIGN",
        "One record per I/E criterion",
        ("STUDYID", "IETESTCD"),
        """
STUDYID|Study Identifier|C|Req||Assigned
DOMAIN|Domain Abbreviation|C|Req||Assigned
IETESTCD|Incl/Excl Criterion Short Name|C|Req||Protocol
IETEST|Inclusion/Exclusion Criterion|C|Req||Protocol
IECAT|Inclusion/Exclusion Category|C|Req|IECAT|Protocol
TIVERS|Protocol Criteria Versions|C|Perm||Protocol
""",
    ),
}

DATASETS: dict[str, DatasetSpec] = {
    name: DatasetSpec(name, label, klass, structure, keys, _vars(text))
    for name, (label, klass, structure, keys, text) in _DATASETS.items()
}


def dataset_spec(name: str) -> DatasetSpec:
    return DATASETS[name]


def dataset_frame(name: str, rows: list[dict[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """Rows as the dataset: its variables in order, numbers as floats, text never null."""
    spec = DATASETS[name]
    frame = pd.DataFrame(rows, columns=list(spec.names))
    for var in spec.variables:
        if var.numeric:
            frame[var.name] = pd.to_numeric(frame[var.name], errors="coerce").astype(float)
        else:
            frame[var.name] = frame[var.name].fillna("").astype(str)
    return frame


#: Controlled terminology, code -> decode. ``None`` as decode means the code is its own.
#: A leading ``*`` on a codelist name marks sponsor-defined terms (extensible lists).
CODELISTS: dict[str, dict[str, str | None]] = {
    "AGEU": {"YEARS": None},
    "SEX": {"F": "Female", "M": "Male", "U": "Unknown", "UNDIFFERENTIATED": "Undifferentiated"},
    "RACE": dict.fromkeys(
        (
            "AMERICAN INDIAN OR ALASKA NATIVE",
            "ASIAN",
            "BLACK OR AFRICAN AMERICAN",
            "NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER",
            "WHITE",
            "MULTIPLE",
            "NOT REPORTED",
            "OTHER",
            "UNKNOWN",
        )
    ),
    "ETHNIC": dict.fromkeys(
        ("HISPANIC OR LATINO", "NOT HISPANIC OR LATINO", "NOT REPORTED", "UNKNOWN")
    ),
    "NY": {"N": "No", "Y": "Yes", "U": "Unknown", "NA": "Not applicable"},
    "ND": {"NOT DONE": None},
    "EVAL": dict.fromkeys(("INVESTIGATOR", "STUDY SUBJECT")),
    "ARMNULRS": dict.fromkeys(("SCREEN FAILURE", "NOT ASSIGNED", "ASSIGNED, NOT TREATED")),
    "NCOMPLT": dict.fromkeys(
        (
            "COMPLETED",
            "SCREEN FAILURE",
            "ADVERSE EVENT",
            "LACK OF EFFICACY",
            "LOST TO FOLLOW-UP",
            "WITHDRAWAL BY SUBJECT",
            "PHYSICIAN DECISION",
            "PREGNANCY",
            "DEATH",
            "OTHER",
            "ELIGIBILITY CRITERIA MET",
        )
    ),
    "DSCAT": dict.fromkeys(("DISPOSITION EVENT", "PROTOCOL MILESTONE")),
    "EPOCH": dict.fromkeys(("SCREENING", "TREATMENT", "FOLLOW-UP")),
    "ACN": dict.fromkeys(
        (
            "DOSE NOT CHANGED",
            "DOSE REDUCED",
            "DRUG INTERRUPTED",
            "DRUG WITHDRAWN",
            "NOT APPLICABLE",
            "UNKNOWN",
        )
    ),
    "OUT": dict.fromkeys(
        (
            "RECOVERED/RESOLVED",
            "RECOVERING/RESOLVING",
            "NOT RECOVERED/NOT RESOLVED",
            "RECOVERED/RESOLVED WITH SEQUELAE",
            "FATAL",
            "UNKNOWN",
        )
    ),
    # sponsor-defined: CDISC publishes no codelist for causality
    "AEREL": dict.fromkeys(
        (
            "NOT RELATED",
            "UNLIKELY RELATED",
            "POSSIBLY RELATED",
            "PROBABLY RELATED",
            "RELATED",
        )
    ),
    "TOXGR": dict.fromkeys(("0", "1", "2", "3", "4", "5")),
    "NRIND": dict.fromkeys(("LOW", "NORMAL", "HIGH", "ABNORMAL")),
    "STENRF": dict.fromkeys(("BEFORE", "DURING", "AFTER", "DURING/AFTER", "ONGOING", "U")),
    "FREQ": {
        "QD": "once daily",
        "BID": "twice daily",
        "TID": "three times daily",
        "QID": "four times daily",
        "QW": "once weekly",
        "Q2W": "every 2 weeks",
        "Q4W": "every 4 weeks",
        "QOD": "every other day",
    },
    "ROUTE": dict.fromkeys(("ORAL", "SUBCUTANEOUS", "INTRAVENOUS", "TOPICAL", "TRANSDERMAL")),
    "UNIT": {
        "/mm3": None,
        "/uL": None,
        "cells/uL": None,
        "10^9/L": None,
        "g/dL": None,
        "g/L": None,
        "U/L": None,
        "ukat/L": None,
        "mmol/L": None,
        "mg/dL": None,
        "umol/L": None,
        "mg/L": None,
        "mg": None,
        "%": None,
    },
    "IECAT": dict.fromkeys(("INCLUSION", "EXCLUSION")),
    "COUNTRY": {},  # ISO 3166-1 alpha-3: checked by pattern, not by list
}
