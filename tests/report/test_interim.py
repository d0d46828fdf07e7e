"""Interim looks from the data: a Simon study filled to stage 1 with r1 responders stops
for futility and with r1 + 1 continues; before stage 1 is complete nothing is decided; a
Bayesian study's predictive probability is Lee & Liu's from the responders so far. The
studies are invented (SYNTHETIC) and built through the store's own functions."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import yaml

from pustula.analysis import build_analysis
from pustula.design import simon_designs
from pustula.design.bayes import predictive_probability
from pustula.design.protocol import bayesian_protocol, simon_protocol
from pustula.errors import AnalysisError, SignatureError
from pustula.protocol import parse_protocol
from pustula.report.interim import bayesian_look, simon_look
from pustula.store import Store, add_exposure, add_study, enrol_subject, record_visit
from pustula.store.records.casebook import end_participation
from pustula.store.transfer.extract import read_study

DESIGN = simon_designs(0.2, 0.4, nmax=60).optimal  # n1 = 13, r1 = 3 (Simon 1989)
REGIONS = ("right_palm", "left_palm", "right_sole", "left_sole")


def _pppasi(level: int) -> dict[str, int]:
    items = {f"{r}_{s}": level for r in REGIONS for s in ("erythema", "pustules", "desquamation")}
    return items | {f"{r}_area_pct": 40 if level else 0 for r in REGIONS}


def _study(protocol_text: str, outcomes: list[str], url: str = "sqlite://") -> Store:
    """One subject per outcome: "responder" (PPPASI cleared at week 16), "non-responder"
    (unchanged), "withdrawn" (left before week 16), "ongoing" (no week 16 yet)."""
    protocol = parse_protocol(yaml.safe_load(protocol_text))
    store = Store.open(url)
    store.create_schema()
    with store.transaction(user="test") as tx:
        study = add_study(tx, protocol, sites=[("SITE1", "A")], synthetic=True)
    for n, outcome in enumerate(outcomes, start=1):
        first = date(2025, 1, 6) + timedelta(days=n)
        with store.transaction(user="test", reason="synthetic") as tx:
            subject = enrol_subject(
                tx, study, code=f"P{n:02d}", site="SITE1", screened_on=first - timedelta(days=7),
                baseline={"age": 40, "sex": "female", "disease_duration_months": 24,
                          "eraspen_ppp": True, "smoking": "never", "pack_years": None,
                          "triggers": [], "comorbidities": [],
                          "screening": {"tuberculosis": "negative", "hepatitis": "negative"}},
                prior_therapies=[
                    {"category": "topical", "drug": "clobetasol propionate", "response": "none"},
                    {"category": "systemic", "drug": "acitretin", "response": "none"}],
                screening_labs={"lymphocytes": 1800, "neutrophils": 4000, "haemoglobin": 13.5},
            ).subject  # fmt: skip
            add_exposure(tx, subject, {"drug": "tofacitinib", "dose": 5, "unit": "mg",
                                       "frequency": "twice daily", "start_date": first})  # fmt: skip
            record_visit(tx, study, subject, visit_code="W0", visit_date=first,
                         assessments={"pppasi": _pppasi(2), "pga": {"pga": 3}})  # fmt: skip
            if outcome in ("responder", "non-responder"):
                record_visit(tx, study, subject, visit_code="W16",
                             visit_date=first + timedelta(days=112),
                             assessments={"pppasi": _pppasi(0 if outcome == "responder" else 2),
                                          "pga": {"pga": 1}})  # fmt: skip
            elif outcome == "withdrawn":
                end_participation(tx, subject, outcome="withdrawn",
                                  ended_on=first + timedelta(days=30), reason="moved away",
                                  last_dose=first + timedelta(days=29))  # fmt: skip
    return store


def _simon(outcomes: list[str], url: str = "sqlite://") -> Store:
    return _study(simon_protocol(DESIGN, p0=0.2, p1=0.4, alpha=0.05, power=0.8), outcomes, url)


def test_the_design_is_simons_optimal_13_and_3() -> None:
    assert (DESIGN.n1, DESIGN.r1) == (13, 3)


def test_r1_responders_in_stage_1_stop_the_study_for_futility() -> None:
    outcomes = ["responder"] * 3 + ["non-responder"] * 9 + ["withdrawn"]
    look = simon_look(build_analysis(read_study(_simon(outcomes))))
    assert (look.evaluable, look.responders, look.decision) == (13, 3, "stop for futility")


def test_r1_plus_one_responders_continue_to_stage_2() -> None:
    outcomes = ["responder"] * 4 + ["non-responder"] * 9
    look = simon_look(build_analysis(read_study(_simon(outcomes))))
    assert (look.evaluable, look.responders, look.decision) == (13, 4, "continue")
    assert "stage 2 opens" in look.reason


def test_stage_1_waits_while_the_outcome_is_open_and_decides_once_it_is_not() -> None:
    waiting = ["responder"] * 2 + ["non-responder"] * 8 + ["ongoing"] * 3
    look = simon_look(build_analysis(read_study(_simon(waiting))))
    assert (look.evaluable, look.decision) == (10, "not yet")
    settled = ["responder"] * 4 + ["ongoing"] * 9  # more than r1 already: stage 2 opens
    assert simon_look(build_analysis(read_study(_simon(settled)))).decision == "continue"
    hopeless = ["non-responder"] * 12 + ["ongoing"]  # at most 1 of 13 can respond
    assert simon_look(build_analysis(read_study(_simon(hopeless)))).decision == (
        "stop for futility")  # fmt: skip


def test_the_bayesian_look_is_lee_and_lius_predictive_probability() -> None:
    text = bayesian_protocol(a=0.5, b=0.5, nmax=40, p0=0.2, theta_t=0.95, theta_l=0.05)
    outcomes = ["responder"] * 3 + ["non-responder"] * 7 + ["ongoing"] * 2
    look = bayesian_look(build_analysis(read_study(_study(text, outcomes))))
    expected = predictive_probability(0.5, 0.5, 3, 10, 40, 0.2, 0.95).predictive_probability
    assert (look.x, look.n) == (3, 10)
    assert look.predictive_probability == pytest.approx(expected)
    assert look.decision == ("stop for futility" if expected < 0.05 else "continue")


def test_a_look_the_design_does_not_plan_is_refused() -> None:
    outcomes = ["responder"]
    with pytest.raises(AnalysisError, match="not a Bayesian"):
        bayesian_look(build_analysis(read_study(_simon(outcomes))))


def test_a_decision_is_recorded_with_the_password_and_audited() -> None:
    from pustula.demo import create_demo_users
    from pustula.store.services.trial import interim_log, record_interim

    store = _simon(["responder"] * 4 + ["non-responder"] * 9)
    create_demo_users(store)
    look = simon_look(build_analysis(read_study(store)))
    entry = {"look": "Simon stage 1", "evaluable": look.evaluable,
             "responders": look.responders, "statistic": None, "decision": look.decision,
             "reason": look.reason}  # fmt: skip
    with pytest.raises(SignatureError):
        record_interim(store, "statistician", password="wrong", look=entry, comment="")
    assert interim_log(store) == []
    logged = record_interim(store, "statistician", password="pustula-demo", look=entry,
                            comment="DMC met on 3 June")  # fmt: skip
    assert [(d["decision"], d["by"], d["comment"]) for d in logged] == [
        ("continue", "statistician", "DMC met on 3 June")]  # fmt: skip
    from sqlalchemy import select

    from pustula.store.db.models import AuditLog

    with store.reader() as session:
        audited = session.scalars(select(AuditLog.new_value).where(
            AuditLog.table_name == "interim_decision", AuditLog.action == "insert")).all()  # fmt: skip
    assert [(json.loads(a)["decision"], json.loads(a)["responders"]) for a in audited] == [
        ("continue", 4)]  # fmt: skip
