"""A subject's records after enrolment: every change has a reason and lands in the audit.

Runs on SQLite and on PostgreSQL (the ``store`` fixture).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from pustula.errors import DataValidationError, RecordNotFoundError
from pustula.protocol import load_protocol
from pustula.store import Store
from pustula.store.db.models import AuditLog, EligibilityResult, Exposure, Lab, Subject
from pustula.store.records.views import SubjectView
from pustula.store.services.changes import (
    change_dose,
    change_record,
    change_visit_date,
    end_interruption,
    end_participation,
    interrupt_treatment,
    remove_record,
    rescreen,
    start_treatment,
    stop_treatment,
)
from pustula.store.services.clinical import (
    add_subject_record,
    edit_assessment,
    save_visit,
    study_page,
)
from tests.store.helpers import BASELINE, FIRST_DOSE, LABS, PRIOR, PROTOCOL, enrol, make_study

TOFA = {"drug": "tofacitinib", "dose": 5, "unit": "mg", "frequency": "twice daily"}


def _view(store: Store, code: str) -> SubjectView:
    with store.reader() as session:
        row = session.scalars(select(Subject).where(Subject.code == code)).one()
        from pustula.store.services.clinical import view_of

        view: SubjectView = view_of(row)
        return view


def _audit(store: Store, table: str, field: str) -> list[tuple[object, object, str | None]]:
    """(old, new, reason) of each audited change of ``field`` (values as JSON in the trail)."""

    def value(text: str | None) -> object:
        return None if text is None else json.loads(text)

    with store.reader() as session:
        rows = session.scalars(
            select(AuditLog)
            .where(AuditLog.table_name == table, AuditLog.field == field)
            .order_by(AuditLog.id)
        )
        return [(value(r.old_value), value(r.new_value), r.reason) for r in rows]


def test_a_pending_screening_is_completed_by_a_rescreen_that_keeps_the_first(
    store: Store,
) -> None:
    make_study(store)
    from pustula.store.services.clinical import enrol as enrol_service

    pending = enrol_service(store, "coordinator", {
        "code": "S20", "site": "A", "screened_on": date(2024, 2, 1),
        "baseline": BASELINE | {"screening": {"hepatitis": "negative"}},
        "prior_therapies": PRIOR, "screening_labs": LABS,
    })  # fmt: skip
    assert pending.subject.status == "screening_pending"
    result = rescreen(store, "coordinator", "S20", {
        "screened_on": date(2024, 2, 8), "baseline": BASELINE, "prior_therapies": PRIOR,
        "screening_labs": LABS,
    }, reason="TB result arrived")  # fmt: skip
    assert result.enrolled
    subject = _view(store, "S20")
    assert (subject.status, subject.enrolled_on) == ("enrolled", date(2024, 2, 8))
    with store.reader() as session:
        rows = session.scalars(
            select(EligibilityResult).where(EligibilityResult.subject_id == subject.id)
        ).all()
    # both screenings are kept, numbered; E4 was not evaluable the first time only
    e4 = {r.screening: r.met for r in rows if r.criterion_id == "E4"}
    assert e4 == {1: None, 2: False}
    assert ("screening_pending", "enrolled", "TB result arrived") in _audit(
        store, "subject", "status"
    )
    assert study_page(store, sites=None, today=date(2024, 2, 9)).subjects[0].status == "enrolled"


def test_an_enrolled_subject_cannot_be_rescreened(store: Store) -> None:
    enrol(store, make_study(store), "S01", dosed=False)
    with pytest.raises(DataValidationError, match="only a pending screening"):
        rescreen(store, "c", "S01", {"screened_on": date(2024, 2, 8), "baseline": BASELINE},
                 reason="again")  # fmt: skip


def test_a_change_without_a_reason_is_refused_and_changes_nothing(store: Store) -> None:
    study = make_study(store)
    enrol(store, study, dosed=False)
    with pytest.raises(DataValidationError, match="say why") as caught:
        end_participation(store, "c", "S01", outcome="withdrawn", ended_on=date(2024, 3, 1),
                          reason="  ")  # fmt: skip
    assert caught.value.field == "reason"
    assert _view(store, "S01").status == "enrolled"


def test_first_dose_dose_change_interruption_and_stop(store: Store) -> None:
    study = make_study(store)
    enrol(store, study, dosed=False)
    first = start_treatment(store, "c", "S01", TOFA | {"start_date": FIRST_DOSE})
    with pytest.raises(DataValidationError, match="already being given"):
        start_treatment(store, "c", "S01", TOFA | {"start_date": FIRST_DOSE})
    second = change_dose(store, "c", "S01", first.id, dose=10, unit="mg",
                         frequency="twice daily", from_date=FIRST_DOSE + timedelta(days=28),
                         reason="inadequate response at week 4")  # fmt: skip
    pause = interrupt_treatment(store, "c", "S01", second.id,
                                start_date=FIRST_DOSE + timedelta(days=40), end_date=None,
                                cause="pneumonia")  # fmt: skip
    end_interruption(store, "c", "S01", pause.id, end_date=FIRST_DOSE + timedelta(days=50),
                     expected_version=pause.version, reason="infection resolved")  # fmt: skip
    stop_treatment(store, "c", "S01", second.id, end_date=FIRST_DOSE + timedelta(days=84),
                   expected_version=second.version, reason="end of treatment")  # fmt: skip
    with store.reader() as session:
        courses = session.scalars(select(Exposure).order_by(Exposure.start_date)).all()
    # one row per constant dose: the 5 mg course ends the day before 10 mg starts
    assert [(c.dose, c.start_date, c.end_date) for c in courses] == [
        (5, FIRST_DOSE, FIRST_DOSE + timedelta(days=27)),
        (10, FIRST_DOSE + timedelta(days=28), FIRST_DOSE + timedelta(days=84)),
    ]
    assert _audit(store, "exposure", "end_date")[-1][2] == "end of treatment"


def test_withdrawal_ends_the_open_course_and_the_schedule(store: Store) -> None:
    study = make_study(store)
    enrol(store, study)
    today = FIRST_DOSE + timedelta(days=60)
    before = study_page(store, sites=None, today=today).schedule
    assert {v.state for v in before} >= {"overdue"}
    with pytest.raises(DataValidationError, match="day of the last dose") as caught:
        end_participation(store, "c", "S01", outcome="withdrawn", ended_on=today,
                          reason="moved away")  # fmt: skip
    assert caught.value.field == "last_dose"
    end_participation(store, "c", "S01", outcome="withdrawn", ended_on=today, reason="moved away",
                      last_contact=today, last_dose=today - timedelta(days=2))  # fmt: skip
    subject = _view(store, "S01")
    assert (subject.status, subject.ended_on, subject.end_reason) == (
        "withdrawn", today, "moved away")  # fmt: skip
    assert study_page(store, sites=None, today=today).schedule == []
    with store.reader() as session:
        assert session.scalars(select(Exposure.end_date)).one() == today - timedelta(days=2)


def test_a_missed_visit_needs_a_reason_and_a_date_change_rederives_the_window(
    store: Store,
) -> None:
    study = make_study(store)
    enrol(store, study)
    protocol = load_protocol(PROTOCOL)
    subject = _view(store, "S01")
    missed, _ = save_visit(store, "c", protocol=protocol, subject=subject, visit_code="W2",
                           visit_date=None, assessments={}, missed_reason="subject ill")  # fmt: skip
    assert (missed.status, missed.notes) == ("missed", "subject ill")
    with pytest.raises(DataValidationError, match="missed visit has no date"):
        change_visit_date(store, "c", "S01", missed.id, visit_date=FIRST_DOSE,
                          expected_version=1, reason="x")  # fmt: skip
    w4, _ = save_visit(store, "c", protocol=protocol, subject=subject, visit_code="W4",
                       visit_date=FIRST_DOSE + timedelta(days=45), assessments={})  # fmt: skip
    assert w4.window_status == "late"
    fixed = change_visit_date(store, "c", "S01", w4.id, visit_date=FIRST_DOSE + timedelta(days=28),
                              expected_version=w4.version, reason="date typed wrong")  # fmt: skip
    # day 0 is the first dose (the protocol's schedule), so 28 days later is day 28
    assert (fixed.study_day, fixed.window_status) == (28, "in_window")


def test_an_instrument_not_done_has_no_score_and_can_be_done_later(store: Store) -> None:
    study = make_study(store)
    enrol(store, study)
    protocol = load_protocol(PROTOCOL)
    subject = _view(store, "S01")
    _, saved = save_visit(store, "c", protocol=protocol, subject=subject, visit_code="W2",
                          visit_date=FIRST_DOSE + timedelta(days=14), assessments={},
                          not_done={"dlqi": "questionnaire not returned"})  # fmt: skip
    dlqi = saved[0]
    assert (dlqi.instrument, dlqi.total, dlqi.items, dlqi.not_done_reason) == (
        "dlqi", None, {}, "questionnaire not returned")  # fmt: skip
    with pytest.raises(DataValidationError, match="say why the dlqi was not done"):
        save_visit(store, "c", protocol=protocol, subject=subject, visit_code="W4",
                   visit_date=FIRST_DOSE + timedelta(days=28), assessments={},
                   not_done={"dlqi": " "})  # fmt: skip
    done = edit_assessment(store, "c", reason="returned late", subject_id=subject.id,
                           assessment_id=dlqi.id, items={f"dlqi_q{i}": 1 for i in range(1, 11)},
                           expected_version=dlqi.version)  # fmt: skip
    assert (done.total, done.not_done_reason) == (10, None)


AE = {"term": "Pneumonia", "start_date": FIRST_DOSE + timedelta(days=30), "grade": 3,
      "serious": True, "serious_criteria": ["hospitalisation"], "relatedness": "possible",
      "action_taken": "interrupted", "outcome": "not_recovered"}  # fmt: skip


def test_an_adverse_event_is_followed_up_to_resolution(store: Store) -> None:
    study = make_study(store)
    enrol(store, study)
    ae = add_subject_record(store, "c", "ae", "S01", AE)
    with pytest.raises(DataValidationError, match="needs its end date") as caught:
        change_record(store, "c", "ae", "S01", ae.id, {"outcome": "recovered"},
                      expected_version=ae.version, reason="resolved")  # fmt: skip
    assert caught.value.field == "end_date"
    worse = change_record(store, "c", "ae", "S01", ae.id, {"grade": 4},
                          expected_version=ae.version, reason="ICU admission")  # fmt: skip
    end = FIRST_DOSE + timedelta(days=44)
    done = change_record(store, "c", "ae", "S01", ae.id,
                         {"end_date": end, "outcome": "recovered"},
                         expected_version=worse.version, reason="discharged, resolved")  # fmt: skip
    assert (done.grade, done.end_date, done.outcome, done.version) == (4, end, "recovered", 3)
    assert _audit(store, "adverse_event", "grade") == [(3, 4, "ICU admission")]


def test_a_serious_event_cannot_be_saved_recovered_without_an_end_date(store: Store) -> None:
    study = make_study(store)
    enrol(store, study)
    with pytest.raises(DataValidationError, match="needs its end date"):
        add_subject_record(store, "c", "ae", "S01", AE | {"outcome": "recovered"})


def test_a_lab_correction_rederives_its_alerts_and_a_removal_keeps_the_row(store: Store) -> None:
    study = make_study(store)
    enrol(store, study)
    lab = add_subject_record(store, "c", "lab", "S01", {
        "test": "lymphocytes", "value": 450, "unit": "/mm3",
        "sample_date": FIRST_DOSE + timedelta(days=28)})  # fmt: skip
    assert lab.alerts
    fixed = change_record(store, "c", "lab", "S01", lab.id, {"value": 1450},
                          expected_version=lab.version, reason="transcription error")  # fmt: skip
    assert fixed.alerts == [] and fixed.value == 1450
    remove_record(store, "c", "lab", "S01", lab.id, expected_version=fixed.version,
                  reason="duplicate entry")  # fmt: skip
    with store.reader() as session:
        row = session.get_one(Lab, lab.id)
    assert row.deleted_at is not None  # soft delete: the row stays, marked removed
    assert _audit(store, "lab", "deleted_at")[-1][2] == "duplicate entry"
    with pytest.raises(RecordNotFoundError):
        change_record(store, "c", "lab", "S01", lab.id, {"value": 1},
                      expected_version=row.version, reason="x")  # fmt: skip


def test_another_subjects_record_is_not_found(store: Store) -> None:
    study = make_study(store)
    enrol(store, study, "S01")
    enrol(store, study, "S02")
    med = add_subject_record(store, "c", "conmed", "S01",
                             {"drug": "cetirizine", "indication": "itch"})  # fmt: skip
    with pytest.raises(RecordNotFoundError, match="not a record of subject S02"):
        change_record(store, "c", "conmed", "S02", med.id, {"dose": "10 mg"},
                      expected_version=med.version, reason="x")  # fmt: skip
    changed = change_record(store, "c", "conmed", "S01", med.id, {"dose": "10 mg daily"},
                            expected_version=med.version, reason="dose added")  # fmt: skip
    assert changed.dose == "10 mg daily"
