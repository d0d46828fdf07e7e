"""The randomized demo trial (``pustula demo --trial``): SYNTHETIC data, never patient data.

Tofacitinib versus placebo 2:1, double-blind, stratified by site and smoking, visits at
weeks 0, 2, 4, 8, 12 and 16 (``protocols/tofacitinib-ppp-rct.yaml``). 90 synthetic subjects
are enrolled and randomized through the same store functions the web app calls, from a
recorded demo seed; about one in ten withdraws and about one visit in twenty is missed.
One in ten more is screened and not eligible. One subject in 31 withdraws after
randomization and before the first dose, a few have
protocol deviations (dosing compliance, a prohibited medication), and adverse events are
more frequent on tofacitinib (upper respiratory infections, acne) than on placebo.
The PPPASI falls by about two thirds on tofacitinib and a third on placebo by week 16,
with subject-to-subject spread: illustrative values for trying the software, not a result.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from pustula.demo import REGIONS, trial_protocol
from pustula.protocol import Protocol
from pustula.randomization import RandomStream
from pustula.store import (
    Store,
    Study,
    add_adverse_event,
    add_exposure,
    add_lab,
    add_study,
    enrol_subject,
    record_visit,
)
from pustula.store.records.casebook import end_participation
from pustula.store.records.deviations import record_deviation
from pustula.store.records.randomization import arm_of, generate_list, randomize

__all__ = ["TRIAL_NOTICE", "TRIAL_SEED", "TRIAL_SUBJECTS", "TRIAL_USERS", "create_trial_study"]

TRIAL_NOTICE = (
    "SYNTHETIC DEMO TRIAL: 90 invented subjects, randomized tofacitinib versus placebo 2:1 "
    "to show how Pustula runs a blinded trial. Not patient data and not a trial result."
)
#: The demo's recorded allocation seed (a real list's seed is drawn at random and concealed).
TRIAL_SEED = "5ca1ab1e" * 8
TRIAL_SUBJECTS = 90
#: Besides the demo's accounts (all blinded), the two roles that see arms.
TRIAL_USERS = (
    ("unblinded-stat", "unblinded_statistician", ("*",)),
    ("dmc", "dmc", ("*",)),
)
_SITES = [("SITE1", "Demo site A"), ("SITE2", "Demo site B")]
_WEEKS = (("W0", 0), ("W2", 14), ("W4", 28), ("W8", 56), ("W12", 84), ("W16", 112))
#: Mean fraction of the baseline PPPASI left at each week, per arm (synthetic).
_LEFT = {"TOFA5": (1.0, 0.8, 0.6, 0.45, 0.38, 0.33), "PLCB": (1.0, 0.92, 0.82, 0.74, 0.68, 0.62)}
#: The spread of that fraction from subject to subject and visit to visit, per arm.
_SPREAD = {"TOFA5": 0.4, "PLCB": 0.8}


def create_trial_study(
    store: Store, *, subjects: int = TRIAL_SUBJECTS, user: str = "demo", allocate: bool = True,
    progress: Callable[[str], None] | None = None, protocol: Protocol | None = None,
) -> Study:  # fmt: skip
    """Create the demo trial: study, sites, allocation list, and ``subjects`` randomized
    subjects with their visits (one unit of work per subject). With ``allocate`` False,
    only the study and its sites, for the unblinded statistician to generate the list.
    ``protocol`` replaces the shipped one (a longer list for a benchmark, say).

    Examples
    --------
    >>> from pustula.store import Store
    >>> store = Store.open("sqlite:///trial.sqlite3")
    >>> store.create_schema()
    >>> create_trial_study(store, subjects=3).code
    'TOFA-PPP-RCT'
    """
    protocol = protocol or trial_protocol()
    with store.transaction(user=user) as tx:
        study = add_study(tx, protocol, sites=_SITES, synthetic=True)
    if not allocate:
        return study
    with store.transaction(user="demo-unblinded-statistician") as tx:
        generate_list(tx, study, protocol, seed=TRIAL_SEED)
    rng = RandomStream(TRIAL_SEED, "demo subjects")
    with store.transaction(user=user) as tx:
        for n in range(1, max(1, subjects // 10) + 1):
            _screen_failure(tx, study, n)
    for n in range(1, subjects + 1):
        # a withdrawal changes the saved subject, and every change carries a reason
        with store.transaction(user=user, reason="synthetic demo trial") as tx:
            _create_subject(tx, study, protocol, n, rng)
        if progress:
            progress(f"subject T{n:03d}")
    return study


def _create_subject(tx: Any, study: Study, protocol: Protocol, n: int, rng: RandomStream) -> None:
    code, site = f"T{n:03d}", _SITES[rng.below(2)][0]
    first = date(2025, 1, 6) + timedelta(days=(4 * n) % 480)  # a large demo wraps round
    smoking = ("current", "former", "never")[min(rng.below(10) // 4, 2)]
    enrolled = enrol_subject(
        tx, study, code=code, site=site, screened_on=first - timedelta(days=7),
        baseline={"age": 30 + rng.below(40), "sex": ("female", "male")[rng.below(10) // 7],
                  "disease_duration_months": 6 + rng.below(120), "eraspen_ppp": True,
                  "smoking": smoking,
                  "pack_years": None if smoking == "never" else 5 + rng.below(30),
                  "triggers": [], "comorbidities": [],
                  "screening": {"tuberculosis": "negative", "hepatitis": "negative"}},
        prior_therapies=[
            {"category": "topical", "drug": "clobetasol propionate", "response": "none"},
            {"category": "systemic", "drug": "acitretin", "response": "none"}],
        screening_labs={"lymphocytes": 1800, "neutrophils": 4000, "haemoglobin": 13.5},
    )  # fmt: skip
    subject = enrolled.subject
    baseline = _baseline_items(rng)
    week0 = {"pppasi": baseline, "pga": {"pga": 3}, "dlqi": _dlqi(n, 1.0)}
    record_visit(tx, study, subject, visit_code="W0", visit_date=first, assessments=week0)
    # the coordinator confirms the strata as recorded; one subject is put in the wrong one
    recorded = "ever" if smoking != "never" else "never"
    confirmed = {"site": site, "smoking": recorded if n != 17 else {"ever": "never"}.get(
        recorded, "ever")}  # fmt: skip
    randomize(tx, study, protocol, subject, confirmed=confirmed, on=first)
    arm = arm_of(tx.session, subject) or "PLCB"
    if n % 31 == 0:
        end_participation(tx, subject, outcome="withdrawn", ended_on=first + timedelta(days=2),
                          reason="withdrew consent before the first dose (synthetic)")  # fmt: skip
        return
    dropout = rng.below(10) == 0
    last = 1 + rng.below(4) if dropout else len(_WEEKS) - 1
    add_exposure(tx, subject, {"drug": "tofacitinib or placebo (blinded)", "dose": 1,
                               "unit": "tablet", "frequency": "twice daily", "start_date": first,
                               "end_date": first + timedelta(days=_WEEKS[last][1])})  # fmt: skip
    for index, (visit, day) in enumerate(_WEEKS[1 : last + 1], start=1):
        when = first + timedelta(days=day + rng.below(5) - 2)
        if rng.below(20) == 0:
            record_visit(tx, study, subject, visit_code=visit, visit_date=None,
                         status="missed", notes="subject could not attend (synthetic)")  # fmt: skip
            continue
        left = min(1.0, max(0.0, _LEFT[arm][index] + (rng.uniform() - 0.5) * _SPREAD[arm]))
        items = _scaled(baseline, left)
        assessments: dict[str, Any] = {"pppasi": items, "pga": {"pga": _pga(left)}}
        if visit in ("W4", "W16"):
            assessments["dlqi"] = _dlqi(n, left)
        record_visit(tx, study, subject, visit_code=visit, visit_date=when,
                     assessments=assessments)  # fmt: skip
    add_lab(tx, study, subject, {"test": "neutrophils", "value": 3900.0, "unit": "/mm3",
                                 "sample_date": first + timedelta(days=28)})  # fmt: skip
    _adverse_events(tx, subject, n, arm, first)
    if n in _DEVIATIONS:
        kind, text = _DEVIATIONS[n]
        record_deviation(tx, subject, category=kind, description=text,
                         occurred_on=first + timedelta(days=30))  # fmt: skip
    if dropout:
        end_participation(tx, subject, outcome="withdrawn",
                          ended_on=first + timedelta(days=_WEEKS[last][1] + 3),
                          reason="withdrew consent (synthetic)")  # fmt: skip


def _screen_failure(tx: Any, study: Study, n: int) -> None:
    """A screened subject who is not eligible: under 18, not refractory to a systemic
    drug, or neutropenic (synthetic), in turn."""
    kind = n % 3
    enrol_subject(
        tx, study, code=f"X{n:02d}", site=_SITES[n % 2][0],
        screened_on=date(2025, 1, 2) + timedelta(days=9 * n),
        baseline={"age": 17 if kind == 0 else 45, "sex": "female",
                  "disease_duration_months": 30, "eraspen_ppp": True, "smoking": "current",
                  "pack_years": 10, "triggers": [], "comorbidities": [],
                  "screening": {"tuberculosis": "negative", "hepatitis": "negative"}},
        prior_therapies=[
            {"category": "topical", "drug": "clobetasol propionate", "response": "none"},
            *([] if kind == 1 else [
                {"category": "systemic", "drug": "acitretin", "response": "none"}])],
        screening_labs={"lymphocytes": 1800, "neutrophils": 800 if kind == 2 else 4000,
                        "haemoglobin": 13.5},
    )  # fmt: skip


#: Subject number -> a protocol deviation (synthetic).
_DEVIATIONS = {
    5: ("treatment compliance", "took 60% of the planned doses between weeks 2 and 8"),
    28: ("treatment compliance", "took 70% of the planned doses between weeks 4 and 8"),
    12: ("prohibited medication", "took oral prednisolone for 10 days for asthma"),
    60: ("prohibited medication", "used a potent topical steroid on the soles for 3 weeks"),
}

#: (term, MedDRA PT code, PT, SOC code, SOC): the demo's adverse events.
_URTI = ("Common cold", "10046306", "Upper respiratory tract infection", "10021881",
         "Infections and infestations")  # fmt: skip
_ACNE = ("Acne on the face", "10000496", "Acne", "10040785",
         "Skin and subcutaneous tissue disorders")  # fmt: skip
_HEADACHE = ("Headache", "10019211", "Headache", "10029205", "Nervous system disorders")
_ZOSTER = ("Shingles", "10019974", "Herpes zoster", "10021881", "Infections and infestations")


def _adverse_events(tx: Any, subject: Any, n: int, arm: str, first: date) -> None:
    """More infections and acne on tofacitinib, headaches in both arms (synthetic)."""
    events = []
    if arm == "TOFA5" and n % 3 == 1:
        events.append((_URTI, 20 + n % 30, 1, "possible"))
    if arm == "TOFA5" and n % 7 == 3:
        events.append((_ACNE, 35, 1, "probable"))
    if n % 6 == 2:
        events.append((_HEADACHE, 10 + n % 20, 1, "unlikely"))
    if arm == "PLCB" and n % 9 == 4:
        events.append((_URTI, 40, 1, "unlikely"))
    for (term, pt_code, pt, soc_code, soc), day, grade, related in events:
        add_adverse_event(tx, subject, {
            "term": term, "meddra_pt_code": pt_code, "meddra_pt": pt,
            "meddra_soc_code": soc_code, "meddra_soc": soc,
            "start_date": first + timedelta(days=day), "end_date": first + timedelta(days=day + 7),
            "grade": grade, "serious": False, "relatedness": related, "action_taken": "none",
            "outcome": "recovered"})  # fmt: skip
    if arm == "TOFA5" and n % 29 == 15:
        term, pt_code, pt, soc_code, soc = _ZOSTER
        add_adverse_event(tx, subject, {
            "term": term, "meddra_pt_code": pt_code, "meddra_pt": pt,
            "meddra_soc_code": soc_code, "meddra_soc": soc,
            "start_date": first + timedelta(days=50), "end_date": first + timedelta(days=71),
            "grade": 3, "serious": True, "serious_criteria": ["hospitalisation"],
            "relatedness": "probable", "action_taken": "none", "outcome": "recovered"})  # fmt: skip


def _dlqi(n: int, left: float) -> dict[str, int]:
    """DLQI answers (0-3) that ease as the PPPASI does: a baseline total of 10 to 20."""
    return {f"dlqi_q{i}": round((1 + (n + i) % 3 // 2 + (i <= 2)) * left) for i in range(1, 11)}


def _baseline_items(rng: RandomStream) -> dict[str, int]:
    items: dict[str, int] = {}
    for region in REGIONS:
        for sign in ("erythema", "pustules", "desquamation"):
            items[f"{region}_{sign}"] = 1 + rng.below(4)
        items[f"{region}_area_pct"] = 10 + 10 * rng.below(6)
    return items


def _scaled(baseline: dict[str, int], left: float) -> dict[str, int]:
    return {k: (round(v * left / 5) * 5 if k.endswith("_area_pct") else round(v * left))
            for k, v in baseline.items()}  # fmt: skip


def _pga(left: float) -> int:
    return 0 if left < 0.1 else 1 if left < 0.3 else 2 if left < 0.6 else 3
