"""Captions: the words that name a record where a list points at it (queries, histories).

Runs on SQLite and on PostgreSQL (the ``store`` fixture).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from pustula.protocol import load_protocol
from pustula.store import Store, get_study, get_subject
from pustula.store.db.models import Baseline
from pustula.store.monitoring.captions import caption_of, captions
from pustula.store.services.changes import remove_record
from pustula.store.services.clinical import add_subject_record, save_visit, view_of
from tests.store.helpers import FIRST_DOSE, PROTOCOL, enrol, make_study, pppasi


def test_each_record_is_named_as_the_casebook_shows_it(store: Store) -> None:
    enrol(store, make_study(store))
    with store.reader() as session:
        subject = view_of(get_subject(session, get_study(session), "S01"))
    visit, (first, second) = save_visit(
        store, "c", protocol=load_protocol(PROTOCOL), subject=subject, visit_code="W4",
        visit_date=FIRST_DOSE + timedelta(days=28),
        assessments={"pppasi": pppasi(), "pga": {"pga": 2}},
    )  # fmt: skip
    ae = add_subject_record(store, "c", "ae", "S01", {
        "term": "Itchy rash", "start_date": FIRST_DOSE + timedelta(days=3), "grade": 1,
        "relatedness": "unlikely", "action_taken": "none", "outcome": "not_recovered"})  # fmt: skip
    lab = add_subject_record(store, "c", "lab", "S01", {
        "test": "lymphocytes", "value": 1450, "unit": "/mm3",
        "sample_date": FIRST_DOSE + timedelta(days=28)})  # fmt: skip
    with store.reader() as session:
        baseline = session.scalars(select(Baseline.id)).one()
        names = captions(session, [
            ("visit", visit.id), ("assessment", first.id), ("assessment", second.id),
            ("adverse_event", ae.id), ("lab", lab.id), ("subject", subject.id),
            ("baseline", baseline), ("data_query", 1)])  # fmt: skip
    by_instrument = {first.instrument: first.id, second.instrument: second.id}
    assert {key: caption.text for key, caption in names.items()} == {
        ("visit", visit.id): "Week 4, 2024-04-01",
        ("assessment", by_instrument["pppasi"]): "PPPASI at Week 4",
        ("assessment", by_instrument["pga"]): "PPP PGA at Week 4",
        ("adverse_event", ae.id): "Itchy rash, from 2024-03-07",
        ("lab", lab.id): "Lymphocytes, 2024-04-01",
        ("subject", subject.id): "S01",
        ("baseline", baseline): "S01",  # one per subject
    }  # a data query is not a casebook record: no caption
    assert {caption.subject for caption in names.values()} == {"S01"}  # whose record it is
    # a record removed in error is still named, since its queries and history remain
    remove_record(store, "c", "ae", "S01", ae.id, expected_version=ae.version,
                  reason="entered for the wrong subject")  # fmt: skip
    with store.reader() as session:
        assert caption_of(session, "adverse_event", ae.id) == "Itchy rash, from 2024-03-07"
        assert caption_of(session, "adverse_event", ae.id + 1000) == ""
        assert caption_of(session, "no_such_table", 1) == ""
