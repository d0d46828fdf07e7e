"""The demo study: six SYNTHETIC subjects modelled on the tofacitinib PPP case series.

These are not patient data. The paper (Xu et al., Infect Drug Resist 2023;16:5165-5172,
doi:10.2147/IDR.S421299) publishes aggregates only, so each value below was chosen to
reproduce them exactly:

- week 4: 6/6 reach ≥ 50 % PPPASI reduction, 3/6 reach ≥ 80 % (and > 80 %);
- week 12: 5/6 reach ≥ 80 %.

No subject sits exactly on a cut-off, so "≥" and ">" give the same counts.

S03 is still on study drug (its exposure has no end date), as a running study's subjects
are: the demo shows what a last dose that has not happened yet does to reference dates,
epochs and the exposure figure.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from importlib import resources
from typing import Any

from pustula.protocol import Protocol, load_protocol
from pustula.store import (
    Store,
    Study,
    add_adverse_event,
    add_exposure,
    add_interruption,
    add_lab,
    add_study,
    enrol_subject,
    record_visit,
)

__all__ = [
    "DEMO_NOTICE",
    "DEMO_PASSWORD",
    "DEMO_PROTOCOL",
    "DEMO_USERS",
    "SUBJECTS",
    "TRIAL_PROTOCOL",
    "create_demo_study",
    "create_demo_users",
    "demo_protocol_file",
    "pppasi_items",
    "trial_protocol",
    "trial_protocol_file",
]

DEMO_NOTICE = (
    "SYNTHETIC DEMO DATA: illustrative values chosen to match the published aggregates of "
    "Xu et al. 2023 (doi:10.2147/IDR.S421299). Not patient data."
)
DEMO_PROTOCOL = "tofacitinib-ppp-case-series.yaml"
#: The randomized, double-blind follow-up trial (``pustula demo --trial``).
TRIAL_PROTOCOL = "tofacitinib-ppp-rct.yaml"
REGIONS = ("right_palm", "left_palm", "right_sole", "left_sole")
VISITS = (("W0", 0), ("W2", 14), ("W4", 28), ("W12", 84))

# Per subject: per visit, per region (erythema, pustules, desquamation, area %).
_PPPASI: dict[str, list[list[tuple[int, int, int, int]]]] = {
    "S01": [[(3, 3, 2, 40), (3, 2, 2, 30), (3, 3, 3, 50), (2, 3, 2, 40)],
            [(2, 2, 2, 30), (2, 2, 1, 20), (2, 2, 2, 40), (2, 2, 1, 30)],
            [(1, 1, 1, 10), (1, 0, 1, 5), (1, 1, 1, 10), (1, 0, 1, 5)],
            [(1, 0, 0, 5), (0, 0, 0, 0), (1, 0, 1, 5), (0, 0, 0, 0)]],
    "S02": [[(2, 3, 2, 30), (2, 3, 2, 30), (3, 4, 3, 60), (3, 4, 3, 60)],
            [(2, 2, 2, 20), (2, 2, 2, 20), (2, 3, 2, 50), (2, 3, 2, 40)],
            [(1, 1, 1, 5), (1, 0, 1, 5), (1, 1, 1, 10), (1, 1, 1, 10)],
            [(0, 0, 0, 0), (0, 0, 0, 0), (0, 0, 0, 0), (0, 0, 0, 0)]],
    "S03": [[(3, 4, 3, 50), (3, 3, 3, 50), (2, 3, 2, 30), (2, 2, 2, 20)],
            [(2, 3, 2, 40), (2, 3, 2, 40), (2, 2, 2, 20), (2, 2, 1, 20)],
            [(1, 0, 1, 5), (1, 1, 1, 5), (1, 0, 1, 5), (0, 0, 0, 0)],
            [(1, 0, 1, 5), (0, 0, 0, 0), (0, 0, 1, 5), (0, 0, 0, 0)]],
    "S04": [[(2, 3, 2, 30), (2, 2, 2, 20), (3, 3, 3, 50), (3, 3, 2, 40)],
            [(2, 3, 2, 30), (2, 2, 1, 20), (3, 2, 2, 40), (2, 3, 2, 30)],
            [(1, 2, 1, 20), (1, 1, 1, 10), (2, 2, 1, 30), (2, 1, 1, 20)],
            [(1, 0, 1, 5), (0, 0, 0, 0), (1, 1, 1, 10), (1, 0, 1, 5)]],
    "S05": [[(3, 3, 3, 40), (2, 3, 2, 30), (2, 3, 2, 30), (2, 2, 2, 20)],
            [(2, 3, 2, 30), (2, 2, 2, 30), (2, 2, 2, 30), (2, 2, 1, 20)],
            [(2, 2, 1, 20), (1, 1, 1, 10), (2, 1, 1, 20), (1, 1, 1, 10)],
            [(1, 0, 1, 5), (1, 0, 0, 5), (1, 0, 1, 5), (0, 0, 0, 0)]],
    "S06": [[(3, 3, 2, 30), (3, 3, 2, 30), (3, 4, 3, 50), (3, 3, 3, 40)],
            [(3, 3, 2, 30), (2, 3, 2, 30), (3, 3, 3, 40), (3, 3, 2, 40)],
            [(2, 2, 1, 20), (2, 2, 1, 20), (2, 2, 2, 30), (2, 2, 2, 30)],
            [(1, 1, 1, 10), (1, 1, 1, 10), (2, 1, 1, 20), (1, 1, 1, 10)]],
}  # fmt: skip
_PGA = {"S01": (3, 2, 1, 0), "S02": (4, 3, 1, 0), "S03": (3, 2, 1, 1),
        "S04": (3, 3, 2, 1), "S05": (3, 2, 2, 1), "S06": (4, 3, 2, 2)}  # fmt: skip

#: Subjects still taking study drug: their exposure record stays open (no end date).
STILL_ON_DRUG = frozenset({"S03"})

SUBJECTS: list[dict[str, Any]] = [
    {"code": "S01", "age": 42, "sex": "female", "duration": 26, "smoking": "current",
     "pack_years": 12, "triggers": ["smoking", "focal_infection_tonsillitis"],
     "comorbidities": ["thyroid_disease"], "first_dose": date(2024, 3, 4),
     "prior": [("topical", "clobetasol propionate", "none"), ("systemic", "acitretin", "none")]},
    {"code": "S02", "age": 58, "sex": "female", "duration": 84, "smoking": "former",
     "pack_years": 20, "triggers": ["smoking", "metal_allergy"],
     "comorbidities": ["psoriasis_vulgaris", "dyslipidaemia"], "first_dose": date(2024, 3, 18),
     "prior": [("topical", "calcipotriol", "none"), ("systemic", "methotrexate", "none"),
               ("systemic", "ciclosporin", "intolerant")]},
    {"code": "S03", "age": 47, "sex": "male", "duration": 40, "smoking": "current",
     "pack_years": 25, "triggers": ["smoking", "focal_infection_dental"],
     "comorbidities": ["pustulotic_arthro_osteitis"], "first_dose": date(2024, 4, 8),
     "prior": [("topical", "clobetasol propionate", "none"), ("phototherapy", "NB-UVB", "partial"),
               ("systemic", "methotrexate", "none")]},
    {"code": "S04", "age": 51, "sex": "female", "duration": 14, "smoking": "never",
     "pack_years": None, "triggers": ["stress"], "comorbidities": ["diabetes"],
     "first_dose": date(2024, 5, 6),
     "prior": [("topical", "betamethasone", "none"), ("systemic", "apremilast", "none")]},
    {"code": "S05", "age": 55, "sex": "female", "duration": 60, "smoking": "former",
     "pack_years": 8, "triggers": ["focal_infection_sinus"], "comorbidities": [],
     "first_dose": date(2024, 5, 20),
     "prior": [("topical", "calcipotriol", "none"), ("systemic", "acitretin", "partial"),
               ("biologic", "secukinumab", "none")]},
    {"code": "S06", "age": 44, "sex": "male", "duration": 30, "smoking": "current",
     "pack_years": 18, "triggers": ["smoking"], "comorbidities": ["psoriasis_vulgaris"],
     "first_dose": date(2024, 6, 3),
     "prior": [("topical", "clobetasol propionate", "none"),
               ("systemic", "ciclosporin", "none")]},
]  # fmt: skip

# (subject, day, term, PT code, PT, SOC code, SOC, grade, relatedness, days to resolve, action)
_AES = [
    ("S01", 20, "Nasopharyngitis", "10028810", "Nasopharyngitis",
     "10021881", "Infections and infestations", 1, "possible", 7, "none"),
    ("S02", 40, "Acne", "10000496", "Acne",
     "10040785", "Skin and subcutaneous tissue disorders", 1, "probable", 30, "none"),
    ("S03", 10, "Headache", "10019211", "Headache",
     "10029205", "Nervous system disorders", 1, "unlikely", 2, "none"),
    ("S05", 56, "Blood cholesterol increased", "10005425", "Blood cholesterol increased",
     "10022891", "Investigations", 1, "probable", None, "none"),
    ("S06", 30, "Nasopharyngitis", "10028810", "Nasopharyngitis",
     "10021881", "Infections and infestations", 2, "possible", 10, "none"),
    # the week-4 ANC of 950/mm³ (CTCAE grade 3) that interrupted the drug is an AE too
    ("S06", 28, "Neutrophil count decreased", "10029366", "Neutrophil count decreased",
     "10022891", "Investigations", 3, "probable", 8, "interrupted"),
]  # fmt: skip


def pppasi_items(subject: str, visit_index: int) -> dict[str, int]:
    """The flat PPPASI item values of a demo subject at a visit (0 = week 0)."""
    items: dict[str, int] = {}
    for region, (e, p, d, area) in zip(REGIONS, _PPPASI[subject][visit_index], strict=True):
        items |= {f"{region}_erythema": e, f"{region}_pustules": p,
                  f"{region}_desquamation": d, f"{region}_area_pct": area}  # fmt: skip
    return items


def _labs(code: str, first: date) -> list[dict[str, Any]]:
    base = {"lymphocytes": 1900.0, "neutrophils": 4100.0, "haemoglobin": 13.8, "alt": 24.0}
    later = dict(base)
    if code == "S06":
        later["neutrophils"] = 950.0  # an on-treatment alert: interrupt until > 1000
    if code == "S02":
        later["alt"] = 52.0  # CTCAE grade 1 (> ULN 40)
    rows = []
    # lymphocytes, neutrophils and haemoglobin at screening (day -7) come with enrolment
    screening = {"alt": base["alt"]}
    for day, values in ((-7, screening), (28, later), (84, base)):
        for test, value in values.items():
            unit = "g/dL" if test == "haemoglobin" else "U/L" if test == "alt" else "/mm3"
            limits = {"alt": (None, 40.0), "neutrophils": (1800.0, 7500.0)}.get(test, (None, None))
            rows.append({"test": test, "value": value, "unit": unit, "lower_limit": limits[0],
                         "upper_limit": limits[1],
                         "sample_date": first + timedelta(days=day)})  # fmt: skip
    return rows


def demo_protocol_file() -> str:
    """The path of the protocol the demo study runs under (shipped with Pustula), for
    examples and for a new study modelled on it.

    >>> from pustula.protocol import Protocol, load_protocol
    >>> load_protocol(demo_protocol_file()).id
    'TOFA-PPP'
    """
    return str(resources.files("pustula").joinpath("protocols", DEMO_PROTOCOL))


def trial_protocol_file() -> str:
    """The path of the shipped randomized trial protocol: tofacitinib versus placebo 2:1,
    double-blind, stratified by site and smoking.

    >>> from pustula.protocol import Protocol, load_protocol
    >>> load_protocol(trial_protocol_file()).randomization.blinding
    'double'
    """
    return str(resources.files("pustula").joinpath("protocols", TRIAL_PROTOCOL))


def trial_protocol() -> Protocol:
    """The shipped randomized trial protocol, loaded.

    >>> [(a.code, a.ratio) for a in trial_protocol().arms]
    [('TOFA5', 2), ('PLCB', 1)]
    """
    return load_protocol(trial_protocol_file())


def create_demo_study(
    store: Store, *, user: str = "demo", progress: Callable[[str], None] | None = None
) -> Study:
    """Create the demo study, one unit of work per subject after the study itself.

    ``progress`` is called once per step with what was done (for a progress bar).
    """
    protocol = load_protocol(demo_protocol_file())
    with store.transaction(user=user) as tx:
        study = add_study(
            tx, protocol, sites=[("SITE1", "Demo site A"), ("SITE2", "Demo site B")], synthetic=True
        )
    if progress:
        progress("study and sites")
    for i, s in enumerate(SUBJECTS):
        with store.transaction(user=user) as tx:
            _create_subject(tx, study, s, site="SITE1" if i < 4 else "SITE2")
        if progress:
            progress(f"subject {s['code']}")
    return study


def _create_subject(tx: Any, study: Study, s: dict[str, Any], *, site: str) -> None:
    first: date = s["first_dose"]
    enrolment = enrol_subject(
        tx, study, code=s["code"], site=site, screened_on=first - timedelta(days=7),
        baseline={"age": s["age"], "sex": s["sex"], "disease_duration_months": s["duration"],
                  "eraspen_ppp": True, "smoking": s["smoking"], "pack_years": s["pack_years"],
                  "triggers": s["triggers"], "comorbidities": s["comorbidities"],
                  "screening": {"tuberculosis": "negative", "hepatitis": "negative"}},
        prior_therapies=[{"category": c, "drug": d, "response": r} for c, d, r in s["prior"]],
        screening_labs={"lymphocytes": 1900, "neutrophils": 4100, "haemoglobin": 13.8},
    )  # fmt: skip
    subject = enrolment.subject
    exposure = add_exposure(tx, subject, {"drug": "tofacitinib", "dose": 5, "unit": "mg",
                                          "frequency": "twice daily", "start_date": first,
                                          "end_date": None if s["code"] in STILL_ON_DRUG
                                          else first + timedelta(days=84)})  # fmt: skip
    for index, (code, day) in enumerate(VISITS):
        late = 9 if (s["code"] == "S05" and code == "W12") else 0  # one visit out of window
        record_visit(
            tx, study, subject, visit_code=code, visit_date=first + timedelta(days=day + late),
            assessments={"pppasi": pppasi_items(s["code"], index),
                         "pga": {"pga": _PGA[s["code"]][index]}},
        )  # fmt: skip
    for lab in _labs(s["code"], first):
        add_lab(tx, study, subject, lab)
    if s["code"] == "S06":
        add_interruption(
            tx, exposure, start_date=first + timedelta(days=29),
            end_date=first + timedelta(days=36), cause="ANC 950/mm³ at week 4",
        )  # fmt: skip
    for ae in (a for a in _AES if a[0] == s["code"]):
        _, day, term, pt_code, pt, soc_code, soc, grade, related, lasts, action = ae
        start = first + timedelta(days=day)
        add_adverse_event(tx, subject, {
            "term": term, "meddra_pt_code": pt_code, "meddra_pt": pt,
            "meddra_soc_code": soc_code, "meddra_soc": soc, "start_date": start,
            "end_date": None if lasts is None else start + timedelta(days=lasts),
            "grade": grade, "serious": False, "relatedness": related, "action_taken": action,
            "outcome": "recovering" if lasts is None else "recovered"})  # fmt: skip


#: Demo mode only: every demo account uses this password, printed when the demo starts.
DEMO_PASSWORD = "pustula-demo"
DEMO_USERS = (
    ("investigator", "investigator", ("SITE1", "SITE2")),
    ("monitor", "monitor", ("*",)),
    ("statistician", "statistician", ("*",)),
    ("site-b", "data_entry", ("SITE2",)),
    ("admin", "admin", ("*",)),
)


def _sites_in_study(session: Any, sites: tuple[str, ...]) -> list[str]:
    from pustula.store.db.models import Site
    from pustula.store.records.study import get_study

    if "*" in sites:
        return ["*"]
    study = get_study(session)
    known = {s.code for s in session.query(Site).filter(Site.study_id == study.id)}
    return [s for s in sites if s in known]


def create_demo_users(
    store: Store, *, user: str = "demo",
    also: tuple[tuple[str, str, tuple[str, ...]], ...] = (),
) -> list[tuple[str, str, tuple[str, ...]]]:  # fmt: skip
    """Create the demo accounts (and ``also`` these) that do not exist yet; return them all."""
    from pustula.errors import DataValidationError
    from pustula.store.accounts.users import add_user

    for username, role, sites in (*DEMO_USERS, *also):
        try:
            with store.transaction(user=user) as tx:
                # a demo account sees the sites of the study it is in (a study built for a
                # test can have fewer than the demo's two)
                kept = _sites_in_study(tx.session, sites)
                if not kept:
                    continue
                add_user(tx, username=username, password=DEMO_PASSWORD, role=role, sites=kept)
        except DataValidationError as exc:
            if "already exists" not in exc.message:
                raise
    return [*DEMO_USERS, *also]
