"""A subject's record read in one statement gives the same values as the ORM, on both databases."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from pustula.store import (
    Store,
    add_adverse_event,
    add_con_med,
    add_lab,
    get_study,
    get_subject,
    record_visit,
    remove,
)
from pustula.store.db.models import (
    AdverseEvent,
    Assessment,
    Baseline,
    ConMed,
    EligibilityResult,
    Exposure,
    Lab,
    PriorTherapy,
    Record,
    Visit,
)
from pustula.store.monitoring.queries import subject_timeline
from pustula.store.monitoring.snapshot import VERSION_COLUMNS, subject_consents, subject_records
from pustula.store.records.views import VIEWS, SubjectView
from tests.store.helpers import enrol, make_study, pppasi

# 0.1 + 0.2: a double that needs 17 significant digits (SQLite's json_object prints 15)
AWKWARD = 0.30000000000000004


def _columns(record: Record) -> dict[str, Any]:
    return {c.key: getattr(record, c.key) for c in record.__table__.columns}


@pytest.fixture
def full_subject(store: Store) -> int:
    study = make_study(store)
    subject = enrol(store, study)
    enrol(store, study, code="S02")  # another subject's rows must not appear
    with store.transaction(user="tester") as tx:
        record_visit(tx, study, subject, visit_code="W0", visit_date=date(2024, 3, 4),
                     assessments={"pppasi": pppasi(area=30), "pga": {"pga": 3}})  # fmt: skip
        record_visit(tx, study, subject, visit_code="W4", visit_date=date(2024, 4, 1),
                     assessments={"pppasi": pppasi(e=1, p=1, d=0, area=10)})  # fmt: skip
        add_adverse_event(tx, subject, {
            "term": "Acne", "start_date": date(2024, 3, 20), "grade": 1, "serious": False,
            "relatedness": "possible", "action_taken": "none", "outcome": "recovered",
            "end_date": date(2024, 3, 25),
        })  # fmt: skip
        add_adverse_event(tx, subject, {
            "term": "Pneumonia", "start_date": date(2024, 4, 2), "grade": 3, "serious": True,
            "serious_criteria": ["hospitalisation"], "relatedness": "unlikely",
            "action_taken": "none", "outcome": "recovering",
        })  # fmt: skip
        add_lab(tx, study, subject, {"test": "crp", "value": AWKWARD, "unit": "mg/L",
                                     "sample_date": date(2024, 4, 1)})  # fmt: skip
        gone = add_con_med(tx, subject, {"drug": "cetirizine", "indication": "itch"})
        add_con_med(tx, subject, {"drug": "emollient", "indication": "dry skin",
                                  "start_date": date(2024, 3, 1)})  # fmt: skip
    with store.transaction(user="tester", reason="entered in error") as tx:
        remove(tx, tx.session.get_one(ConMed, gone.id), expected_version=1)
    return subject.id


MODELS: list[type[Record]] = [
    Baseline, EligibilityResult, PriorTherapy, Exposure, Visit, AdverseEvent, Lab, ConMed,
]  # fmt: skip


def test_each_row_has_the_values_the_orm_loads(store: Store, full_subject: int) -> None:
    with store.reader() as session:
        found = subject_records(session.connection(), full_subject)
        for model in MODELS:
            expected = session.scalars(
                select(model)
                .where(model.subject_id == full_subject, model.deleted_at.is_(None))  # type: ignore[attr-defined]
                .order_by(model.id)
            ).all()
            assert [s.as_dict() for s in getattr(found, model.__tablename__)] == [
                _columns(r) for r in expected
            ], model.__tablename__
        visits = select(Visit.id).where(Visit.subject_id == full_subject)
        assessments = session.scalars(
            select(Assessment).where(Assessment.visit_id.in_(visits)).order_by(Assessment.id)
        ).all()
        assert [s.as_dict() for s in found.assessment] == [_columns(a) for a in assessments]
    assert len(found.assessment) == 3
    assert [m.drug for m in found.con_med] == ["emollient"]  # the removed one is left out
    # the screening labs of enrolment come first; then the lab this test added
    lab = next(x for x in found.lab if x.test == "crp")
    assert lab.value == AWKWARD and isinstance(lab.value, float)
    assert isinstance(found.adverse_event[1].serious, bool)
    assert found.adverse_event[1].serious_criteria == ["hospitalisation"]
    assert found.visit[0].visit_date == date(2024, 3, 4)


def test_the_timeline_orders_visits_by_date_and_groups_assessments(
    store: Store, full_subject: int
) -> None:
    with store.reader() as session:
        subject = get_subject(session, get_study(session), "S01")
    with store.read_connection() as connection:
        t = subject_timeline(connection, subject)  # no site given: it is looked up
    assert t.site == "A"
    assert [v.visit_code for v in t.visits] == ["W0", "W4"]
    assert [a.instrument for a in t.assessments[t.visits[0].id]] == ["pppasi", "pga"]
    assert t.first_dose == date(2024, 3, 4)
    assert t.baseline is not None and t.baseline.age == 50
    assert [e.term for e in t.adverse_events] == ["Acne", "Pneumonia"]


def test_a_view_is_read_only_and_typed() -> None:
    import dataclasses

    subject = SubjectView(
        id=1, study_id=1, site_id=1, code="S01", status="enrolled", arm="TOFA",
        screened_on=date(2024, 2, 26), enrolled_on=date(2024, 2, 26), ended_on=None,
        end_reason=None, last_contact=None, version=1,
        created_at="2024-02-26", created_by="t", updated_at=None, updated_by=None,
        deleted_at=None,
    )  # fmt: skip
    with pytest.raises(dataclasses.FrozenInstanceError):
        subject.status = "withdrawn"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        _ = subject.name  # type: ignore[attr-defined]
    assert subject.code == "S01" and subject.label == "subject 1"


def test_every_view_has_the_columns_of_its_table() -> None:
    import dataclasses

    from pustula.store.db.models import Base

    for table, view in VIEWS.items():
        columns = set(Base.metadata.tables[table].columns.keys())
        if table == "protocol_version":  # the subject page's part of it, without the text
            columns = set(VERSION_COLUMNS)
        assert {f.name for f in dataclasses.fields(view)} == columns, table


def test_the_timeline_names_the_lock_that_holds_over_the_subject(
    store: Store, full_subject: int
) -> None:
    from pustula.store.services.monitoring import lock, unlock

    def timeline_of(code: str) -> Any:
        with store.reader() as session:
            subject = get_subject(session, get_study(session), code)
        with store.read_connection() as connection:
            return subject_timeline(connection, subject)

    assert timeline_of("S01").lock is None
    lock(store, "admin", reason="interim analysis", subject="S02")
    assert timeline_of("S01").lock is None  # another subject's lock is not this one's
    assert timeline_of("S02").lock is not None
    lock(store, "admin", reason="final analysis")
    found = timeline_of("S02")
    assert len(found.locks) == 2 and found.lock.subject_id is None  # the study's comes first
    assert found.lock.lock_reason == "final analysis"
    unlock(store, "admin", reason="query to answer")
    assert timeline_of("S01").lock is None
    assert timeline_of("S02").lock.lock_reason == "interim analysis"


def test_the_subject_page_reads_consents_and_approved_versions_in_the_same_statement(
    store: Store, full_subject: int
) -> None:
    from pustula.store.db.models import ProtocolVersion, Subject
    from pustula.store.records.amendments import add_consent

    with store.transaction(user="tester") as tx:
        subject = tx.session.get_one(Subject, full_subject)
        first = tx.session.scalars(select(ProtocolVersion)).one()
        tx.session.add(ProtocolVersion(
            study_id=first.study_id, protocol_version="1.1", protocol_yaml=first.protocol_yaml,
            status="approved", summary="adds week 8", effective_on=date(2024, 6, 20),
            reconsent=True,
        ))  # fmt: skip
        tx.session.add(ProtocolVersion(
            study_id=first.study_id, protocol_version="1.2", protocol_yaml=first.protocol_yaml,
            status="draft", summary="not approved", effective_on=date(2024, 9, 1),
        ))  # fmt: skip
        add_consent(tx, subject, version="1.1", on=date(2024, 6, 25))
    with store.read_connection() as connection:
        records, consents, versions = subject_consents(connection, full_subject)
        assert records == subject_records(connection, full_subject)

    assert [(c.protocol_version, c.consented_on) for c in consents] == [("1.1", date(2024, 6, 25))]
    # approved versions only, oldest first, each typed
    assert [(v.protocol_version, v.effective_on, v.reconsent) for v in versions] == [
        (first.protocol_version, None, first.reconsent),
        ("1.1", date(2024, 6, 20), True),
    ]
