"""Patient entry in the store: invitations whose token is kept only as a hash, answers saved
as the patient's own and scored at once, tokens useless after use, expiry, or a lock, and
answers no staff write path can change (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from pustula.demo import create_demo_study
from pustula.errors import InvitationError, PatientAnswerError, StoreError
from pustula.store import Store, update_record
from pustula.store.db.models import Assessment, AuditLog, PatientInvitation, Subject, Visit
from pustula.store.services import clinical
from pustula.store.services import monitoring as monitor
from pustula.store.services.patient import (
    invite,
    mark_not_used,
    open_patient_visit,
    submit_answers,
)
from pustula.store.transfer.extract import read_study

#: DLQI by hand: 3 + 2 + 1 + 0 + 0 (not relevant) + 1 + 3 (item 7 "yes") + 0 + 0 + 1 = 11
DLQI = {"dlqi_q1": 3, "dlqi_q2": 2, "dlqi_q3": 1, "dlqi_q4": 0, "dlqi_q5": "not_relevant",
        "dlqi_q6": 1, "dlqi_q7": "yes", "dlqi_q8": 0, "dlqi_q9": 0, "dlqi_q10": 1}  # fmt: skip
ANSWERS = {"dlqi": DLQI, "itch_nrs": {"itch_nrs": 7}, "pain_nrs": {"pain_nrs": 4}}


@pytest.fixture
def demo(store: Store) -> Store:
    create_demo_study(store)
    return store


def _week4(store: Store, code: str = "S01") -> int:
    with store.reader() as session:
        return session.scalars(select(Visit.id).join(Subject, Subject.id == Visit.subject_id)
                               .where(Subject.code == code, Visit.visit_code == "W4")).one()  # fmt: skip


def _patient_rows(store: Store, visit_id: int) -> list[Assessment]:
    with store.reader() as session:
        return list(session.scalars(select(Assessment).where(
            Assessment.visit_id == visit_id, Assessment.source == "patient")
            .order_by(Assessment.instrument)))  # fmt: skip


def test_the_token_is_stored_only_as_its_hash_and_never_in_the_audit_trail(demo: Store) -> None:
    issued = invite(demo, "coordinator", "S01", _week4(demo), kind="link", language="en")
    assert len(issued.token) >= 43 and issued.instruments == ("itch_nrs", "pain_nrs", "dlqi")
    with demo.reader() as session:
        stored = session.scalars(select(PatientInvitation)).one()
        trail = " ".join(str(row) for row in session.execute(select(AuditLog)).all())
    assert stored.token_hash != issued.token and issued.token not in stored.token_hash
    assert issued.token not in trail and stored.token_hash not in trail
    assert open_patient_visit(demo, issued.token).visit_label == "Week 4"


def test_answers_are_the_patients_own_scored_at_once_and_the_trail_says_who(demo: Store) -> None:
    visit_id = _week4(demo)
    issued = invite(demo, "coordinator", "S01", visit_id, kind="link", language="de")
    submit_answers(demo, issued.token, ANSWERS, device="Mozilla/5.0 (iPhone)")
    rows = {a.instrument: a for a in _patient_rows(demo, visit_id)}
    assert (rows["dlqi"].total, rows["itch_nrs"].total, rows["pain_nrs"].total) == (11, 7, 4)
    assert all(a.answered_at and a.device == "Mozilla/5.0 (iPhone)" for a in rows.values())
    with demo.reader() as session:
        users = set(session.scalars(select(AuditLog.user).where(
            AuditLog.table_name == "assessment", AuditLog.record_id == rows["dlqi"].id)))  # fmt: skip
    assert users == {"patient S01"}
    assert clinical.chain_report(demo).ok


def test_a_token_is_useless_after_use_expiry_a_lock_or_when_guessed(demo: Store) -> None:
    visit_id = _week4(demo)
    used = invite(demo, "coordinator", "S01", visit_id, kind="link", language="en")
    submit_answers(demo, used.token, {"itch_nrs": {"itch_nrs": 2}}, device="")
    with pytest.raises(InvitationError) as refused:
        submit_answers(demo, used.token, {"pain_nrs": {"pain_nrs": 2}}, device="")
    assert refused.value.reason == "used"
    with pytest.raises(InvitationError) as refused:
        open_patient_visit(demo, used.token[:-1] + ("A" if used.token[-1] != "A" else "B"))
    assert refused.value.reason == "unknown"
    late = invite(demo, "coordinator", "S01", visit_id, kind="link", language="en")
    with demo.engine.begin() as connection:  # a week has passed
        connection.execute(update(PatientInvitation).where(PatientInvitation.id == late.id)
                           .values(expires_at="2020-01-01T00:00:00+00:00"))  # fmt: skip
    with pytest.raises(InvitationError) as refused:
        open_patient_visit(demo, late.token)
    assert refused.value.reason == "expired"
    locked = invite(demo, "coordinator", "S01", visit_id, kind="kiosk", language="en")
    monitor.lock(demo, "admin", reason="database lock", subject="S01")
    for attempt in (lambda: open_patient_visit(demo, locked.token),
                    lambda: submit_answers(demo, locked.token, ANSWERS, device="")):  # fmt: skip
        with pytest.raises(InvitationError) as refused:
            attempt()
        assert refused.value.reason == "locked"
    assert [a.instrument for a in _patient_rows(demo, visit_id)] == ["itch_nrs"]


def test_a_kiosk_session_lasts_at_most_an_hour(demo: Store) -> None:
    from datetime import UTC, datetime

    issued = invite(demo, "coordinator", "S01", _week4(demo), kind="kiosk", language="en",
                    hours=48)  # fmt: skip
    left = datetime.fromisoformat(issued.expires_at) - datetime.now(UTC)
    assert timedelta(minutes=58) < left <= timedelta(hours=1)


def test_no_staff_write_path_changes_a_patients_answers(demo: Store) -> None:
    visit_id = _week4(demo)
    submit_answers(demo, invite(demo, "coordinator", "S01", visit_id, kind="link",
                                language="en").token, ANSWERS, device="")  # fmt: skip
    dlqi = next(a for a in _patient_rows(demo, visit_id) if a.instrument == "dlqi")
    subject_id = demo.reader().__enter__().get_one(Visit, visit_id).subject_id
    with pytest.raises(PatientAnswerError):  # the service the web form and the API use
        clinical.edit_assessment(demo, "investigator", reason="transcription", subject_id=subject_id,
                                 assessment_id=dlqi.id, items={**DLQI, "dlqi_q1": 0},
                                 expected_version=dlqi.version)  # fmt: skip
    with pytest.raises(PatientAnswerError):  # "not done" instead of the answers
        clinical.edit_assessment(demo, "investigator", reason="x", subject_id=subject_id,
                                 assessment_id=dlqi.id, items=None, not_done_reason="refused",
                                 expected_version=dlqi.version)  # fmt: skip
    for changes in ({"total": 0.0}, {"source": "site"}, {"deleted_at": "2026-01-01"}):
        with pytest.raises(PatientAnswerError), demo.transaction(user="dm", reason="x") as tx:
            update_record(tx, tx.session.get_one(Assessment, dlqi.id), changes,
                          expected_version=dlqi.version)  # fmt: skip
    with pytest.raises(StoreError), demo.transaction(user="dm", reason="x") as tx:
        tx.session.delete(tx.session.get_one(Assessment, dlqi.id))
    after = next(a for a in _patient_rows(demo, visit_id) if a.instrument == "dlqi")
    assert (after.total, after.items, after.version) == (11, DLQI, dlqi.version)


def test_answers_marked_not_used_stay_and_leave_the_analysis(demo: Store) -> None:
    visit_id = _week4(demo)
    submit_answers(demo, invite(demo, "coordinator", "S01", visit_id, kind="link",
                                language="en").token, ANSWERS, device="")  # fmt: skip
    itch = next(a for a in _patient_rows(demo, visit_id) if a.instrument == "itch_nrs")
    analysed = read_study(demo).assessments
    week4 = (analysed["subject"] == "S01") & (analysed["visit_code"] == "W4")
    assert 7 in set(analysed.loc[week4 & (analysed["instrument"] == "itch_nrs"), "total"])
    mark_not_used(demo, "monitor", "S01", itch.id, reason="answered by a relative, not the patient",
                  expected_version=itch.version)  # fmt: skip
    kept = next(a for a in _patient_rows(demo, visit_id) if a.instrument == "itch_nrs")
    assert kept.total == 7 and kept.not_used_reason == "answered by a relative, not the patient"
    analysed = read_study(demo).assessments
    week4 = (analysed["subject"] == "S01") & (analysed["visit_code"] == "W4")
    assert "itch_nrs" not in set(analysed.loc[week4, "instrument"])
    assert clinical.chain_report(demo).ok


def test_a_visit_whose_questionnaires_staff_recorded_meanwhile_is_not_offered(
    demo: Store,
) -> None:
    visit_id = _week4(demo)
    issued = invite(demo, "coordinator", "S01", visit_id, kind="link", language="en")
    with demo.transaction(user="coordinator") as tx:
        from pustula.store.records.visits import save_assessments

        save_assessments(tx, tx.session.get_one(Visit, visit_id), {
            "itch_nrs": {"itch_nrs": 1}, "pain_nrs": {"pain_nrs": 1}, "dlqi": DLQI})  # fmt: skip
    with pytest.raises(InvitationError) as refused:
        open_patient_visit(demo, issued.token)
    assert refused.value.reason == "answered"
