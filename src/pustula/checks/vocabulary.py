"""The one table of labels: every coded value and every field, in the words a person reads.

Codes are what the store keeps and what exports carry; labels are what pages, messages,
the report and codebooks show. The allowed values of each coded list are defined here,
so a code cannot exist without its label (``tests/checks/test_vocabulary.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from pustula.checks.values import LAB_TESTS
from pustula.protocol.facts import FACTS
from pustula.protocol.status import SubjectStatus, VisitStatus, WindowStatus
from pustula.scoring import PPPASI, list_instruments

__all__ = ["CODELISTS", "DLQI_ITEMS", "FIELD_LABELS", "codes", "field_label", "label", "labels"]

CODELISTS: dict[str, dict[str, str]] = {
    "sex": {"female": "Female", "male": "Male", "other": "Other", "unknown": "Unknown"},
    "smoking": {
        "never": "Never smoked", "current": "Current smoker", "former": "Former smoker",
        "unknown": "Unknown",
    },
    "trigger": {
        "smoking": "Smoking", "focal_infection_tonsillitis": "Focal infection: tonsillitis",
        "focal_infection_dental": "Focal infection: dental",
        "focal_infection_sinus": "Focal infection: sinusitis", "metal_allergy": "Metal allergy",
        "stress": "Stress", "other": "Other trigger",
    },
    "comorbidity": {
        "psoriasis_vulgaris": "Psoriasis vulgaris",
        "pustular_psoriasis_elsewhere": "Pustular psoriasis elsewhere",
        "pustulotic_arthro_osteitis": "Pustulotic arthro-osteitis",
        "sapho": "SAPHO syndrome", "thyroid_disease": "Thyroid disease", "diabetes": "Diabetes",
        "dyslipidaemia": "Dyslipidaemia", "hypertension": "Hypertension",
        "other": "Other comorbidity",
    },
    "prior_category": {
        "topical": "Topical", "phototherapy": "Phototherapy",
        "systemic": "Conventional systemic", "biologic": "Biologic",
    },
    "prior_response": {
        "none": "No response", "partial": "Partial response",
        "intolerant": "Stopped: not tolerated", "good": "Good response", "unknown": "Unknown",
    },
    "screening_result": {
        "negative": "Negative", "positive": "Positive", "indeterminate": "Indeterminate",
        "not_done": "Not done",
    },
    "grade": {
        "1": "1 · Mild", "2": "2 · Moderate", "3": "3 · Severe", "4": "4 · Life-threatening",
        "5": "5 · Death",
    },
    "serious_criterion": {
        "death": "Results in death", "life_threatening": "Life-threatening",
        "hospitalisation": "Hospitalisation or prolonged hospitalisation",
        "disability": "Persistent or significant disability",
        "congenital_anomaly": "Congenital anomaly or birth defect",
        "medically_important": "Medically important event",
    },
    "relatedness": {
        "not_related": "Not related", "unlikely": "Unlikely related",
        "possible": "Possibly related", "probable": "Probably related",
        "definite": "Definitely related",
    },
    "action_taken": {
        "none": "Dose not changed", "dose_reduced": "Dose reduced",
        "interrupted": "Drug interrupted", "withdrawn": "Drug withdrawn",
        "not_applicable": "Not applicable",
    },
    "outcome": {
        "recovered": "Recovered / resolved", "recovering": "Recovering / resolving",
        "not_recovered": "Not recovered / not resolved",
        "recovered_with_sequelae": "Recovered with sequelae", "fatal": "Fatal",
        "unknown": "Unknown",
    },
    "subject_status": {
        SubjectStatus.SCREENING_PENDING: "Screening pending",
        SubjectStatus.ENROLLED: "Enrolled", SubjectStatus.SCREEN_FAILURE: "Screen failure",
        SubjectStatus.WITHDRAWN: "Withdrawn or discontinued",
        SubjectStatus.COMPLETED: "Completed the study",
    },
    "end_outcome": {"withdrawn": "Withdrawal or discontinuation", "completed": "End of study"},
    "visit_status": {VisitStatus.DONE: "Done", VisitStatus.MISSED: "Missed"},
    "window_status": {
        WindowStatus.IN_WINDOW: "In window", WindowStatus.EARLY: "Early (before the window)",
        WindowStatus.LATE: "Late (after the window)",
    },
    "schedule_state": {
        "done": "Done", "due": "Due", "upcoming": "Upcoming", "overdue": "Overdue",
        "out_of_window": "Done out of window", "missed": "Missed",
    },
    "instrument": {i.name: i.display_name for i in list_instruments()},
    "lab_test": {code: test.label for code, test in LAB_TESTS.items()},
    "unit": {
        "/mm3": "/mm³", "/uL": "/µL", "cells/uL": "cells/µL", "10^9/L": "×10⁹/L",
        "g/dL": "g/dL", "g/L": "g/L", "U/L": "U/L", "ukat/L": "µkat/L", "mmol/L": "mmol/L",
        "mg/dL": "mg/dL", "umol/L": "µmol/L", "mg/L": "mg/L",
    },
    "pppasi_severity": {
        "0": "0 · None", "1": "1 · Slight", "2": "2 · Moderate", "3": "3 · Severe",
        "4": "4 · Very severe",
    },
    "pga": {
        "0": "0 · Clear", "1": "1 · Almost clear", "2": "2 · Mild", "3": "3 · Moderate",
        "4": "4 · Severe",
    },
    "dlqi_answer": {"3": "Very much", "2": "A lot", "1": "A little", "0": "Not at all"},
    "yes_no": {"yes": "Yes", "no": "No"},
    "role": {
        "admin": "Administrator", "investigator": "Investigator", "data_entry": "Data entry",
        "monitor": "Monitor", "statistician": "Statistician (blinded)",
        "unblinded_statistician": "Unblinded statistician",
        "dmc": "Data monitoring committee",
    },
}  # fmt: skip

#: DLQI items by their CDISC short test names (DLQI1TN; the full wording is copyrighted).
DLQI_ITEMS: dict[str, str] = {
    "dlqi_q1": "Itchy, sore, painful, stinging",
    "dlqi_q2": "Embarrassed, self-conscious",
    "dlqi_q3": "Interfered shopping, home, garden",
    "dlqi_q4": "Influenced clothes you wear",
    "dlqi_q5": "Affected social, leisure activity",
    "dlqi_q6": "Made it difficult to do any sport",
    "dlqi_q7": "Prevented working or studying",
    "dlqi_q8": "Problem with partner, friends, relatives",
    "dlqi_q9": "Caused any sexual difficulties",
    "dlqi_q10": "Problem from treatment",
}


def _pppasi_fields() -> dict[str, str]:
    meta = PPPASI.metadata()
    fields: dict[str, str] = {}
    for region in meta["regions"]:
        for sign in meta["signs"]:
            fields[f"{region['code']}_{sign['code']}"] = (
                f"{region['label']} {sign['label'].lower()}"
            )
        fields[f"{region['code']}_area_pct"] = f"{region['label']} area (%)"
        fields[f"{region['code']}_area_score"] = f"{region['label']} area score"
    return fields


FIELD_LABELS: dict[str, str] = {
    "code": "Study code", "site": "Site", "screened_on": "Screening date", "age": "Age",
    "sex": "Sex", "disease_duration_months": "PPP duration (months)",
    "eraspen_ppp": "PPP by ERASPEN criteria", "smoking": "Smoking", "pack_years": "Pack-years",
    "triggers": "Triggers", "comorbidities": "Comorbidities", "screening": "Screening results",
    "tuberculosis": "Tuberculosis screen", "hepatitis": "Hepatitis B/C screen",
    "lab_lymphocytes": "Lymphocytes", "lab_neutrophils": "Neutrophils",
    "lab_haemoglobin": "Haemoglobin", "category": "Therapy type", "drug": "Drug",
    "response": "Response", "dose": "Dose", "unit": "Unit", "frequency": "Frequency",
    "start_date": "Start date", "end_date": "End date", "from_date": "New dose from",
    "cause": "Reason for the interruption", "visit_code": "Visit", "visit_date": "Visit date",
    "notes": "Reason the visit was missed", "term": "Adverse event term",
    "meddra_pt": "MedDRA preferred term", "meddra_pt_code": "MedDRA PT code",
    "meddra_soc": "MedDRA system organ class", "meddra_soc_code": "MedDRA SOC code",
    "grade": "CTCAE grade", "ctcae_grade": "CTCAE grade", "serious": "Serious",
    "serious_criteria": "Seriousness criteria",
    "relatedness": "Relatedness to study drug", "action_taken": "Action taken with study drug",
    "outcome": "Outcome", "worsened_on_treatment": "Pre-existing, worsened on treatment",
    "test": "Test", "value": "Value", "lower_limit": "Lower limit of normal",
    "upper_limit": "Upper limit of normal", "sample_date": "Sample date",
    "indication": "Indication", "reason": "Reason for the change", "ended_on": "Date",
    "end_reason": "Reason", "last_contact": "Last contact", "last_dose": "Last dose of study drug",
    "outcome_kind": "What ended", "pga": "PPP PGA", "pain_nrs": "Pain NRS (0–10)",
    "itch_nrs": "Itch NRS (0–10)", "subject": "Subject", "version": "Version",
    "username": "User name",
    **_pppasi_fields(), **DLQI_ITEMS,
    **{f"{i.name}_not_done_reason": f"Why the {i.display_name} was not done"
       for i in list_instruments()},
    **{path: fact.label for path, fact in FACTS.items()},
}  # fmt: skip


def label(codelist: str, code: object) -> str:
    """The label of ``code`` in ``codelist``; an unknown code is shown in words, not raw."""
    if code is None or code == "":
        return ""
    text = str(code)
    return CODELISTS.get(codelist, {}).get(text) or text.replace("_", " ")


def labels(codelist: str, values: Iterable[object]) -> str:
    """Several codes' labels, comma-separated."""
    return ", ".join(label(codelist, v) for v in values)


def codes(codelist: str) -> tuple[str, ...]:
    return tuple(CODELISTS[codelist])


def field_label(name: str) -> str:
    """A field's label; an unknown field is named in words (never its raw name)."""
    base = name.split(".")[-1] if name not in FIELD_LABELS else name
    return FIELD_LABELS.get(base) or base.replace("_", " ").capitalize()
