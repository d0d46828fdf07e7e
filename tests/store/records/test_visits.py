"""Visits: timing against the protocol's windows; assessments scored on save."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from pustula.errors import DataValidationError, ScoringInputError
from pustula.scoring import get_instrument
from pustula.store import (
    Assessment,
    Store,
    Visit,
    get_record,
    record_visit,
    save_assessments,
    update_visit,
)
from tests.store.helpers import FIRST_DOSE, enrol, make_study, pppasi


@pytest.mark.parametrize(
    ("offset", "day", "status"),
    [
        (25, 25, "in_window"),
        (28, 28, "in_window"),
        (31, 31, "in_window"),
        (24, 24, "early"),
        (32, 32, "late"),
    ],
)
def test_week_4_window_is_plus_minus_3_days_from_the_first_dose(
    store: Store, offset: int, day: int, status: str
) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    with store.transaction(user="t") as tx:
        visit = record_visit(
            tx, study, subject, visit_code="W4", visit_date=FIRST_DOSE + timedelta(days=offset)
        )
    assert (visit.study_day, visit.window_status) == (day, status)


def test_without_a_dose_day_0_is_the_baseline_visit(store: Store) -> None:
    study = make_study(store)
    subject = enrol(store, study, dosed=False)
    with store.transaction(user="t") as tx:
        record_visit(tx, study, subject, visit_code="W0", visit_date=date(2024, 5, 1))
        w2 = record_visit(tx, study, subject, visit_code="W2", visit_date=date(2024, 5, 16))
    assert (w2.study_day, w2.window_status) == (15, "in_window")


def test_assessments_are_saved_with_score_and_instrument_version(store: Store) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    items = pppasi(e=3, p=1, d=0, area=9)
    with store.transaction(user="t") as tx:
        visit = record_visit(tx, study, subject, visit_code="W0", visit_date=FIRST_DOSE,
                             assessments={"pppasi": items, "pga": {"pga": 3}})  # fmt: skip
    with store.reader() as session:
        rows = {
            a.instrument: a
            for a in session.scalars(select(Assessment).where(Assessment.visit_id == visit.id))
        }
    expected = get_instrument("pppasi").score(items)
    # by hand: (3+1+0) x area score 1 (9 %) x (0.2+0.2+0.3+0.3) = 4.0
    assert rows["pppasi"].total == expected.total == pytest.approx(4.0)
    assert rows["pppasi"].instrument_version == expected.version
    assert rows["pppasi"].items == items
    assert (rows["pga"].total, rows["pga"].band) == (3.0, "moderate")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"visit_code": "W8"}, "visit `W8` is not in the protocol"),
        ({"visit_date": None}, "a visit that took place needs its date"),
        ({"status": "lost"}, "status: must be done or missed; got lost"),
    ],
)
def test_bad_visits_are_refused(store: Store, kwargs: dict[str, object], message: str) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    args: dict[str, object] = {"visit_code": "W2", "visit_date": FIRST_DOSE} | kwargs
    with pytest.raises(DataValidationError, match=message), store.transaction(user="t") as tx:
        record_visit(tx, study, subject, **args)  # type: ignore[arg-type]


def test_a_visit_is_recorded_once(store: Store) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    with store.transaction(user="t") as tx:
        record_visit(
            tx, study, subject, visit_code="W2", visit_date=FIRST_DOSE + timedelta(days=14)
        )
    with pytest.raises(DataValidationError, match="already recorded; edit it instead"):
        with store.transaction(user="t") as tx:
            record_visit(
                tx, study, subject, visit_code="W2", visit_date=FIRST_DOSE + timedelta(days=15)
            )


def test_a_missed_visit_has_no_assessments(store: Store) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    with pytest.raises(DataValidationError, match="was missed"), store.transaction(user="t") as tx:
        record_visit(tx, study, subject, visit_code="W2", visit_date=None, status="missed",
                     notes="ill", assessments={"pga": {"pga": 2}})  # fmt: skip


def test_changing_the_date_rederives_the_window(store: Store) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    with store.transaction(user="t") as tx:
        visit_id = record_visit(
            tx, study, subject, visit_code="W4", visit_date=FIRST_DOSE + timedelta(days=28)
        ).id
    with store.transaction(user="t", reason="date typo") as tx:
        visit = get_record(tx.session, Visit, visit_id)
        update_visit(
            tx, study, visit, {"visit_date": FIRST_DOSE + timedelta(days=40)}, expected_version=1
        )
    assert (visit.study_day, visit.window_status, visit.version) == (40, "late", 2)


def test_screen_failures_have_no_visits(store: Store) -> None:
    from pustula.store import enrol_subject
    from tests.store.helpers import BASELINE, PRIOR

    study = make_study(store)
    with store.transaction(user="t") as tx:
        failed = enrol_subject(tx, study, code="S02", site="A", screened_on=FIRST_DOSE,
                               baseline=BASELINE, prior_therapies=PRIOR, screening_labs={}).subject  # fmt: skip
    with (
        pytest.raises(DataValidationError, match="not enrolled"),
        store.transaction(user="t") as tx,
    ):
        record_visit(tx, study, failed, visit_code="W0", visit_date=FIRST_DOSE)


def test_a_visit_can_be_recorded_from_the_protocol_and_a_subject_snapshot(store: Store) -> None:
    """What the web app holds after its access check: no study or subject record is loaded."""
    from pustula.store import protocol_of
    from pustula.store.accounts.users import add_user
    from pustula.store.monitoring.queries import request_scope

    study = make_study(store)
    enrol(store, study)
    with store.transaction(user="t") as tx:
        user_id = add_user(tx, username="ines", password="a long password", role="investigator",
                           sites=["A"]).id  # fmt: skip
    from pustula.store.accounts.sessions import session_hash, start_session

    signed_in = session_hash(start_session(store, user_id))
    with store.read_connection() as connection:
        scope = request_scope(connection, session_hash=signed_in, subject_code="S01")
    assert scope is not None and scope.subject is not None and scope.protocol is not None
    with store.transaction(user="t") as tx:
        visit = record_visit(tx, scope.protocol, scope.subject, visit_code="W4",
                             visit_date=FIRST_DOSE + timedelta(days=28))  # fmt: skip
    assert scope.protocol == protocol_of(study)
    assert (visit.study_day, visit.window_status) == (28, "in_window")


def test_several_instruments_are_saved_together_or_not_at_all(store: Store) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    with store.transaction(user="t") as tx:
        visit = record_visit(tx, study, subject, visit_code="W0", visit_date=FIRST_DOSE)
        saved = save_assessments(tx, visit, {"pga": {"pga": 1}, "pppasi": pppasi(1, 1, 1, area=9)})
    # by hand: PPPASI (1+1+1) x area score 1 (9 %) x 1.0 = 3.0; PGA 1 is "almost clear"
    assert [(a.instrument, a.total) for a in saved] == [("pga", 1.0), ("pppasi", 3.0)]
    assert all(a.id is not None and a.version == 1 for a in saved)
    with pytest.raises(ScoringInputError), store.transaction(user="t") as tx:
        w2 = record_visit(tx, study, subject, visit_code="W2", visit_date=FIRST_DOSE + timedelta(14))  # fmt: skip
        save_assessments(tx, w2, {"pga": {"pga": 2}, "pppasi": pppasi(e=5)})
    with store.reader() as session:
        assert session.scalar(select(Visit).where(Visit.visit_code == "W2")) is None
        assert len(session.scalars(select(Assessment)).all()) == 2
