"""Every change leaves audit rows in a hash chain that detects tampering."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from pustula.store import Assessment, AuditLog, Store, get_record, record_visit, update_assessment
from pustula.store.audit.chain import audit_history, verify_audit
from tests.store.helpers import drop_audit_triggers, enrol, make_study, pppasi


def _entries(store: Store, table: str) -> list[AuditLog]:
    with store.reader() as session:
        query = select(AuditLog).where(AuditLog.table_name == table).order_by(AuditLog.id)
        return list(session.scalars(query))


def _visit_with_edit(store: Store) -> int:
    study = make_study(store)
    subject = enrol(store, study)
    with store.transaction(user="ann") as tx:
        visit = record_visit(tx, study, subject, visit_code="W0", visit_date=date(2024, 3, 4),
                             assessments={"pppasi": pppasi()})  # fmt: skip
        assessment_id = tx.session.scalars(
            select(Assessment.id).where(Assessment.visit_id == visit.id)
        ).one()
    with store.transaction(user="bob", reason="source document says erythema 1") as tx:
        row = get_record(tx.session, Assessment, assessment_id)
        update_assessment(tx, row, items=pppasi() | {"right_palm_erythema": 1}, expected_version=1)
    return assessment_id


def test_an_insert_is_one_row_with_the_whole_record(store: Store) -> None:
    assessment_id = _visit_with_edit(store)
    insert = _entries(store, "assessment")[0]
    assert (insert.action, insert.record_id, insert.user, insert.field) == (
        "insert",
        assessment_id,
        "ann",
        None,
    )
    assert json.loads(insert.new_value or "")["total"] == 18.0


def test_an_edit_is_one_row_per_changed_field_with_old_new_who_why(store: Store) -> None:
    assessment_id = _visit_with_edit(store)
    updates = {e.field: e for e in _entries(store, "assessment") if e.action == "update"}
    # right palm: (1+2+2) x 3 x 0.2 = 3.0 instead of 3.6, so the total falls by 0.6.
    assert set(updates) == {"items", "total", "subscores"}
    total = updates["total"]
    assert (total.old_value, total.new_value) == ("18.0", "17.4")
    assert (total.user, total.reason, total.record_id) == (
        "bob",
        "source document says erythema 1",
        assessment_id,
    )
    assert json.loads(updates["items"].old_value or "")["right_palm_erythema"] == 2
    assert json.loads(updates["items"].new_value or "")["right_palm_erythema"] == 1


def test_the_history_can_keep_only_the_newest_entries(store: Store) -> None:
    assessment_id = _visit_with_edit(store)
    with store.reader() as session:
        connection = session.connection()
        everything = audit_history(connection)
        newest = audit_history(connection, last=3)
        of_record = audit_history(connection, table="assessment", record=assessment_id)
        last_two = audit_history(connection, table="assessment", record=assessment_id, last=2)
    assert newest == everything[-3:] and len(everything) > 3
    assert [e["id"] for e in newest] == sorted(e["id"] for e in newest)  # still oldest first
    assert last_two == of_record[-2:] and len(of_record) == 4  # the insert and 3 fields


def test_the_chain_verifies_after_normal_use(store: Store) -> None:
    _visit_with_edit(store)
    with store.engine.connect() as connection:
        report = verify_audit(connection, store.audit_key)
    assert report.ok, report.problem
    assert report.entries == len(_all(store))


def _all(store: Store) -> list[AuditLog]:
    with store.reader() as session:
        return list(session.scalars(select(AuditLog)))


def test_the_database_refuses_to_update_or_delete_audit_rows(store: Store) -> None:
    _visit_with_edit(store)
    for statement in (
        "UPDATE audit_log SET reason = 'x' WHERE id = 1",
        "DELETE FROM audit_log WHERE id = 1",
    ):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
            connection.execute(text(statement))


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ("UPDATE audit_log SET new_value = '\"99\"' WHERE id = 3", "audit row 3 was altered"),
        ("DELETE FROM audit_log WHERE id = 2", "audit row 2 is missing"),
        ("DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)", "were removed"),
    ],
)
def test_verify_catches_a_tampered_row(store: Store, statement: str, problem: str) -> None:
    _visit_with_edit(store)
    drop_audit_triggers(store)
    with store.engine.begin() as connection:
        connection.execute(text(statement))
    with store.engine.connect() as connection:
        report = verify_audit(connection, store.audit_key)
    assert not report.ok
    assert problem in (report.problem or "")
