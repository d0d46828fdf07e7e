"""Pustula's codes turned into SDTM terms and test codes.

Lab test codes and names follow CDISC SDTM CT (LBTESTCD/LBTEST). DLQI items use the CDISC
test codes DLQI101–DLQI110 (codelist DLQI1TC) with Pustula's short item names, never the
copyrighted question text; verify the names against the current NCI EVS file before a
submission. PPPASI, the PPP PGA and the NRS have no CDISC terminology: their test codes are
sponsor-defined (``EXTENDED`` below) and documented in Define-XML.
"""

from __future__ import annotations

from pustula.checks.vocabulary import DLQI_ITEMS
from pustula.scoring import PPPASI

__all__ = [
    "ACTION",
    "EXTENDED",
    "FREQUENCY",
    "LAB_TESTS",
    "OUTCOME",
    "QS_CATEGORY",
    "RELATEDNESS",
    "SERIOUS_FLAGS",
    "STANDARD_UNIT",
    "disposition_term",
    "qs_tests",
]

RELATEDNESS = {
    "not_related": "NOT RELATED",
    "unlikely": "UNLIKELY RELATED",
    "possible": "POSSIBLY RELATED",
    "probable": "PROBABLY RELATED",
    "definite": "RELATED",
}
ACTION = {
    "none": "DOSE NOT CHANGED",
    "dose_reduced": "DOSE REDUCED",
    "interrupted": "DRUG INTERRUPTED",
    "withdrawn": "DRUG WITHDRAWN",
    "not_applicable": "NOT APPLICABLE",
}
OUTCOME = {
    "recovered": "RECOVERED/RESOLVED",
    "recovering": "RECOVERING/RESOLVING",
    "not_recovered": "NOT RECOVERED/NOT RESOLVED",
    "recovered_with_sequelae": "RECOVERED/RESOLVED WITH SEQUELAE",
    "fatal": "FATAL",
    "unknown": "UNKNOWN",
}
#: Pustula's seriousness criteria and the AE flag each sets.
SERIOUS_FLAGS = {
    "death": "AESDTH",
    "life_threatening": "AESLIFE",
    "hospitalisation": "AESHOSP",
    "disability": "AESDISAB",
    "congenital_anomaly": "AESCONG",
    "medically_important": "AESMIE",
}
FREQUENCY = {
    "once daily": "QD",
    "daily": "QD",
    "twice daily": "BID",
    "three times daily": "TID",
    "four times daily": "QID",
    "once weekly": "QW",
    "weekly": "QW",
    "every 2 weeks": "Q2W",
    "every 4 weeks": "Q4W",
    "every other day": "QOD",
}

#: Pustula lab test -> (LBTESTCD, LBTEST, LBCAT)
LAB_TESTS = {
    "lymphocytes": ("LYM", "Lymphocytes", "HEMATOLOGY"),
    "neutrophils": ("NEUT", "Neutrophils", "HEMATOLOGY"),
    "leukocytes": ("WBC", "Leukocytes", "HEMATOLOGY"),
    "platelets": ("PLAT", "Platelets", "HEMATOLOGY"),
    "haemoglobin": ("HGB", "Hemoglobin", "HEMATOLOGY"),
    "alt": ("ALT", "Alanine Aminotransferase", "CHEMISTRY"),
    "ast": ("AST", "Aspartate Aminotransferase", "CHEMISTRY"),
    "ldl": ("LDL", "LDL Cholesterol", "CHEMISTRY"),
    "creatinine": ("CREAT", "Creatinine", "CHEMISTRY"),
    "crp": ("CRP", "C Reactive Protein", "CHEMISTRY"),
}
#: The unit each test is standardised to (LBSTRESU): the unit the protocol's rules use.
STANDARD_UNIT = {
    "lymphocytes": "/mm3",
    "neutrophils": "/mm3",
    "leukocytes": "/mm3",
    "platelets": "/mm3",
    "haemoglobin": "g/dL",
    "alt": "U/L",
    "ast": "U/L",
}

QS_CATEGORY = {
    "pppasi": "PPPASI",
    "pga": "PPP PGA",
    "dlqi": "DLQI",
    "pain_nrs": "NRS",
    "itch_nrs": "NRS",
}

#: Who rates each instrument (QSEVAL, CDISC codelist EVAL): the investigator scores the
#: skin; the patient answers the DLQI and the NRS, whoever typed the answers in.
QS_EVALUATOR = {
    "pppasi": "INVESTIGATOR",
    "pga": "INVESTIGATOR",
    "dlqi": "STUDY SUBJECT",
    "pain_nrs": "STUDY SUBJECT",
    "itch_nrs": "STUDY SUBJECT",
}

_REGION = {"right_palm": "RP", "left_palm": "LP", "right_sole": "RS", "left_sole": "LS"}
_SIGN = {"erythema": "ERY", "pustules": "PUS", "desquamation": "DES"}


def _pppasi_tests() -> dict[str, tuple[str, str]]:
    labels = {r["code"]: r["label"] for r in PPPASI.metadata()["regions"]}
    out: dict[str, tuple[str, str]] = {}
    for region, short in _REGION.items():
        for sign, code in _SIGN.items():
            out[f"{region}_{sign}"] = (f"{short}{code}", f"{labels[region]} {sign.capitalize()}")
        out[f"{region}_area_pct"] = (f"{short}AREA", f"{labels[region]} Area Involved (%)")
        out[f"{region}_area_score"] = (f"{short}ARSC", f"{labels[region]} Area Score")
        out[f"{region}:score"] = (f"{short}SCORE", f"{labels[region]} Region Score")
    out[":total"] = ("PPPASI", "PPPASI Total Score")
    return out


#: instrument -> {item (or ``region:score``, ``:total``) -> (QSTESTCD, QSTEST)}
_QS_TESTS: dict[str, dict[str, tuple[str, str]]] = {
    "pppasi": _pppasi_tests(),
    "dlqi": {
        **{
            item: (f"DLQI1{int(item.removeprefix('dlqi_q')):02d}", f"DLQI1-{text}"[:40])
            for item, text in DLQI_ITEMS.items()
        },
        ":total": ("DLQITOT", "DLQI Total Score"),
    },
    "pga": {"pga": ("PPPPGA", "PPP Physician Global Assessment")},
    "pga_composite": {
        "pga_erythema": ("PGAERY", "PPP PGA Erythema"),
        "pga_pustules": ("PGAPUS", "PPP PGA Pustules"),
        "pga_scaling": ("PGASCAL", "PPP PGA Scaling"),
        ":total": ("PGACOMP", "PPP PGA Composite Score"),
    },
    "pain_nrs": {"pain_nrs": ("PAINNRS", "Pain Numeric Rating Scale")},
    "itch_nrs": {"itch_nrs": ("ITCHNRS", "Itch Numeric Rating Scale")},
}
#: Test codes with no CDISC terminology (sponsor-defined, def:ExtendedValue in Define-XML).
EXTENDED = frozenset(
    code
    for instrument, tests in _QS_TESTS.items()
    for key, (code, _) in tests.items()
    if instrument != "dlqi" or key == ":total"
)


def qs_tests(instrument: str) -> dict[str, tuple[str, str]]:
    return _QS_TESTS[instrument]


_DISPOSITION_WORDS = (
    ("adverse event", "ADVERSE EVENT"),
    ("side effect", "ADVERSE EVENT"),
    ("lack of efficacy", "LACK OF EFFICACY"),
    ("not effective", "LACK OF EFFICACY"),
    ("lost to follow", "LOST TO FOLLOW-UP"),
    ("pregnan", "PREGNANCY"),
    ("death", "DEATH"),
    ("died", "DEATH"),
    ("consent", "WITHDRAWAL BY SUBJECT"),
    ("subject decision", "WITHDRAWAL BY SUBJECT"),
    ("physician", "PHYSICIAN DECISION"),
    ("investigator", "PHYSICIAN DECISION"),
)


def disposition_term(reason: str) -> str:
    """DSDECOD for a free-text withdrawal reason; OTHER when no standard term fits."""
    text = reason.lower()
    return next((term for words, term in _DISPOSITION_WORDS if words in text), "OTHER")
