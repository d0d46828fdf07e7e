"""A save is one transaction; changing saved data needs a reason; no silent overwrite."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pustula.errors import (
    ConflictError,
    ReasonRequiredError,
    RecordNotFoundError,
    ScoringInputError,
    StoreError,
)
from pustula.store import (
    Assessment,
    Store,
    Visit,
    get_record,
    get_study,
    record_visit,
    remove,
    update_assessment,
    update_record,
    verify_audit,
)
from pustula.store.db.models import AuditLog
from tests.store.helpers import audit_count, count, enrol, make_study, pppasi


def test_a_visit_with_a_bad_assessment_saves_nothing(store: Store) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    before = audit_count(store)
    bad = pppasi() | {"left_sole_pustules": 5}
    with pytest.raises(
        ScoringInputError, match="pustules for left_sole must be a whole number from 0 to 4; got 5"
    ):
        with store.transaction(user="tester") as tx:
            record_visit(
                tx, study, subject, visit_code="W0", visit_date=date(2024, 3, 4),
                assessments={"pga": {"pga": 3}, "pppasi": bad},
            )  # fmt: skip
    assert count(store, Visit) == 0
    assert count(store, Assessment) == 0
    assert audit_count(store) == before


def test_an_exception_in_the_caller_rolls_back_everything(store: Store) -> None:
    study = make_study(store)
    subject = enrol(store, study)
    before = audit_count(store)
    with pytest.raises(RuntimeError), store.transaction(user="tester") as tx:
        record_visit(tx, study, subject, visit_code="W0", visit_date=date(2024, 3, 4),
                     assessments={"pppasi": pppasi()})  # fmt: skip
        raise RuntimeError("crash after the flush, before the commit")
    assert count(store, Visit) == 0
    assert audit_count(store) == before


def _saved_assessment(store: Store) -> int:
    study = make_study(store)
    subject = enrol(store, study)
    with store.transaction(user="tester") as tx:
        visit = record_visit(tx, study, subject, visit_code="W0", visit_date=date(2024, 3, 4),
                             assessments={"pppasi": pppasi()})  # fmt: skip
        return tx.session.scalars(
            select(Assessment.id).where(Assessment.visit_id == visit.id)
        ).one()


def test_changing_saved_data_without_a_reason_is_refused(store: Store) -> None:
    assessment_id = _saved_assessment(store)
    with pytest.raises(ReasonRequiredError, match="needs a reason"):
        with store.transaction(user="tester") as tx:
            row = get_record(tx.session, Assessment, assessment_id)
            update_assessment(tx, row, items=pppasi(e=1), expected_version=1)
    with store.reader() as session:
        # (2+2+2) x area score 3 (30 %) x (0.2+0.2+0.3+0.3) = 18
        assert get_record(session, Assessment, assessment_id).total == pytest.approx(18.0)


@pytest.mark.parametrize("reason", ["\u200b", " \u200b\u2060 ", "\u00a0\t", "\u200d\ufeff"])
def test_a_reason_of_invisible_characters_is_no_reason(store: Store, reason: str) -> None:
    """A zero-width space, a word joiner, a no-break space or a byte-order mark explains
    nothing; before, a reason of only U+200B was accepted."""
    assessment_id = _saved_assessment(store)
    with pytest.raises(ReasonRequiredError, match="needs a reason in words"):
        with store.transaction(user="tester", reason=reason) as tx:
            row = get_record(tx.session, Assessment, assessment_id)
            update_assessment(tx, row, items=pppasi(e=1), expected_version=1)


def test_an_edit_rescores_and_bumps_the_version(store: Store) -> None:
    assessment_id = _saved_assessment(store)
    with store.transaction(user="tester", reason="transcription error") as tx:
        row = get_record(tx.session, Assessment, assessment_id)
        update_assessment(tx, row, items=pppasi(e=1), expected_version=1)
    with store.reader() as session:
        row = get_record(session, Assessment, assessment_id)
        # (1+2+2) x area score 3 x (0.2+0.2+0.3+0.3) = 15
        assert (row.total, row.version, row.updated_by) == (pytest.approx(15.0), 2, "tester")


def test_a_stale_version_is_a_conflict_naming_the_record(store: Store) -> None:
    assessment_id = _saved_assessment(store)
    with store.transaction(user="ann", reason="correction") as tx:
        row = get_record(tx.session, Assessment, assessment_id)
        update_assessment(tx, row, items=pppasi(e=1), expected_version=1)
    with pytest.raises(
        ConflictError, match=f"assessment {assessment_id} was changed by someone else"
    ):
        with store.transaction(user="bob", reason="correction") as tx:
            row = get_record(tx.session, Assessment, assessment_id)
            update_assessment(tx, row, items=pppasi(e=3), expected_version=1)
    with store.reader() as session:
        assert get_record(session, Assessment, assessment_id).total == pytest.approx(15.0)


def test_the_version_check_in_the_update_closes_the_race(store: Store) -> None:
    """Bob loads version 1, Ann saves version 2, then Bob saves: his UPDATE matches no row."""
    if store.engine.dialect.name == "sqlite":
        pytest.skip("SQLite writers are serialised by BEGIN IMMEDIATE; they cannot interleave")
    assessment_id = _saved_assessment(store)
    with pytest.raises(ConflictError, match=f"assessment {assessment_id} was changed"):
        with store.transaction(user="bob", reason="r") as bob:
            stale = get_record(bob.session, Assessment, assessment_id)
            with store.transaction(user="ann", reason="r") as ann:
                fresh = get_record(ann.session, Assessment, assessment_id)
                update_assessment(ann, fresh, items=pppasi(e=1), expected_version=1)
            update_assessment(bob, stale, items=pppasi(e=3), expected_version=1)
    with store.reader() as session:
        assert get_record(session, Assessment, assessment_id).total == pytest.approx(15.0)


def test_removal_is_a_soft_delete_with_a_reason(store: Store) -> None:
    assessment_id = _saved_assessment(store)
    with store.transaction(user="tester", reason="entered on the wrong visit") as tx:
        remove(tx, get_record(tx.session, Assessment, assessment_id), expected_version=1)
    with store.reader() as session:
        with pytest.raises(RecordNotFoundError):
            get_record(session, Assessment, assessment_id)
        assert session.get(Assessment, assessment_id) is not None  # still stored


def test_a_hard_delete_is_refused(store: Store) -> None:
    assessment_id = _saved_assessment(store)
    with pytest.raises(StoreError, match="never deleted"):
        with store.transaction(user="tester", reason="x") as tx:
            tx.session.delete(get_record(tx.session, Assessment, assessment_id))
    assert count(store, Assessment) == 1


def test_a_reader_session_cannot_write(store: Store) -> None:
    study = make_study(store)
    with store.reader() as session, pytest.raises(StoreError, match="read-only"):
        found = get_study(session, study.code)
        found.title = "changed"
        session.flush()


def test_unknown_fields_are_refused(store: Store) -> None:
    assessment_id = _saved_assessment(store)
    with pytest.raises(StoreError, match="colour: not a field of assessment"):
        with store.transaction(user="tester", reason="x") as tx:
            row = get_record(tx.session, Assessment, assessment_id)
            update_record(tx, row, {"colour": "red"}, expected_version=1)


def test_a_save_needs_a_user() -> None:
    store = Store.open("sqlite://")
    with pytest.raises(StoreError, match="needs a user"), store.transaction(user=" "):
        pass


def test_a_snapshot_does_not_see_saves_made_after_its_first_read(store: Store) -> None:
    """Exports, analyses and the audit check read several tables; they must agree."""
    study = make_study(store)
    enrol(store, study, code="S01")
    with store.snapshot_connection() as connection:
        before = connection.scalar(select(func.count()).select_from(AuditLog))
        enrol(store, study, code="S02")  # committed by another unit of work meanwhile
        assert connection.scalar(select(func.count()).select_from(AuditLog)) == before
        assert verify_audit(connection, store.audit_key).ok
    with store.reader() as session:
        assert session.scalar(select(func.count()).select_from(AuditLog)) == audit_count(store)
        assert audit_count(store) > (before or 0)


def test_a_read_connection_reads_without_holding_a_transaction_open(store: Store) -> None:
    """A request's quick reads: on PostgreSQL each statement commits on its own."""
    study = make_study(store)
    enrol(store, study, code="S01")
    with store.read_connection() as connection:
        assert connection.scalar(select(func.count()).select_from(AuditLog)) == audit_count(store)
        if store.engine.dialect.name == "postgresql":
            enrol(store, study, code="S02")  # committed meanwhile: the next statement sees it
            assert connection.scalar(select(func.count()).select_from(AuditLog)) == audit_count(
                store
            )
            assert connection.connection.dbapi_connection.autocommit  # type: ignore[union-attr]


def test_a_database_without_tables_is_named_as_the_cause(tmp_path: Path) -> None:
    """The README's store example on a new file said "could not complete the save… try
    again": the real cause is a database never initialised."""
    from pustula.errors import StoreError
    from pustula.store import get_study

    store = Store.open(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    with pytest.raises(StoreError, match=r"the database has no tables: run `pustula init`"):
        with store.transaction(user="dr.k") as tx:
            get_study(tx.session, "TOFA-PPP")
