"""What every save does for monitoring, inside its own unit of work, before its audit rows:

- note which subjects (and visits) the save touched (an ``after_flush`` listener);
- re-run the edit checks of those subjects: automatic queries open and close with the data;
- invalidate the signatures of the data that changed (the invalidation is audited);
- refuse the save if its subjects, or the study, are locked. The check runs after the
  audit chain's head is locked, which orders every commit: a writer that began before a
  lock and commits after it sees the lock and is refused.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, event, or_, select
from sqlalchemy.orm import Session, UOWTransaction

from pustula.errors import DataValidationError, LockedError
from pustula.store.db.hooks import SAVE_HOOKS
from pustula.store.db.models import (
    Assessment,
    DataQuery,
    Exposure,
    ExposureInterruption,
    QueryMessage,
    Record,
    Signature,
    Study,
    StudyLock,
    Subject,
    Visit,
)
from pustula.store.db.uow import AuditedSession
from pustula.store.monitoring.edit_checks import RULES_OF_TABLE, findings

__all__ = [
    "CLINICAL",
    "answering_query",
    "before_audit",
    "collect_touched",
    "enforce_locks",
    "refuse_if_locked",
    "run_answering",
]

T = TypeVar("T")
TOUCHED = "pustula_touched"
#: Tables of a subject's clinical data: a change re-runs the checks and breaks signatures.
CLINICAL = frozenset({
    "subject", "baseline", "eligibility_result", "prior_therapy", "exposure",
    "exposure_interruption", "visit", "assessment", "adverse_event", "lab", "con_med",
    "photograph", "diary_entry",
})  # fmt: skip
#: Tables a lock does not cover: the lock itself and the people who sign in.
_NOT_LOCKED = frozenset({"study_lock", "app_user"})
#: The query a change answers (the web and the API set it around a correction).
_ANSWERS: contextvars.ContextVar[int | None] = contextvars.ContextVar("answers", default=None)
CHECKS = "edit check"


@contextmanager
def answering_query(query_id: int | None) -> Iterator[None]:
    """Saves made inside are the answer to query ``query_id`` (linked in its thread)."""
    token = _ANSWERS.set(query_id)
    try:
        yield
    finally:
        _ANSWERS.reset(token)


def run_answering(query_id: int | None, work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` as the answer to ``query_id`` (for a worker thread of its own)."""
    with answering_query(query_id):
        return work(*args)


def current_answer() -> int | None:
    return _ANSWERS.get()


def _owner(session: Session, obj: Record) -> tuple[int | None, int | None]:
    """(subject id, visit id) a record belongs to; (None, None) for study-wide records."""
    if isinstance(obj, Subject):
        return obj.id, None
    if isinstance(obj, Visit):
        return obj.subject_id, obj.id
    if isinstance(obj, Assessment):
        visit = session.get(Visit, obj.visit_id)
        return (visit.subject_id if visit else None), obj.visit_id
    if isinstance(obj, ExposureInterruption):
        course = session.get(Exposure, obj.exposure_id)
        return (course.subject_id if course else None), None
    if isinstance(obj, QueryMessage):
        query = session.get(DataQuery, obj.query_id)
        return (query.subject_id if query else None), None
    return getattr(obj, "subject_id", None), None


def collect_touched(session: Session, _context: UOWTransaction) -> None:
    """After each flush: note (table, subject, visit) of every record it wrote."""
    touched: set[tuple[str, int | None, int | None]] = session.info.setdefault(TOUCHED, set())
    for obj in [*session.new, *session.dirty, *session.deleted]:
        if isinstance(obj, Record):
            touched.add((obj.__tablename__, *_owner(session, obj)))


def before_audit(session: Session, *, user: str, at: str, reason: str | None) -> None:
    """Checks, query answers and signature invalidation for what this save touched."""
    touched = session.info.get(TOUCHED, set())
    changed = {(s, v) for table, s, v in touched if table in CLINICAL and s is not None}
    subjects = sorted({s for s, _ in changed})
    query_id = current_answer()
    if query_id is not None:
        _answer_with_change(session, query_id, subjects, user=user, at=at, reason=reason)
    if not subjects:
        return
    for subject_id in subjects:
        subject = session.get_one(Subject, subject_id)
        tables = {table for table, s, _ in touched if s == subject_id}
        rules = frozenset(r for t in tables for r in RULES_OF_TABLE.get(t, ()))
        if rules:
            _refresh_queries(session, subject, rules, at=at)
        _invalidate_signatures(session, subject_id, {v for s, v in changed if s == subject_id},
                               at=at, reason=reason)  # fmt: skip
    session.flush()


def _refresh_queries(session: Session, subject: Subject, rules: frozenset[str], *, at: str) -> None:
    """Open and close the automatic queries of ``rules`` (those the save could change)."""
    from pustula.store.records.study import protocol_of

    study = session.get_one(Study, subject.study_id)
    now = {f.key: f for f in findings(session, subject, protocol_of(study), rules)}
    existing = {
        (q.rule, q.table_name, q.record_id, q.field): q
        for q in session.scalars(
            select(DataQuery).where(
                DataQuery.subject_id == subject.id, DataQuery.kind == "auto",
                DataQuery.rule.in_(rules), DataQuery.state != "closed",
                DataQuery.deleted_at.is_(None),
            )
        )
    }  # fmt: skip
    for key, query in existing.items():
        if key not in now:
            query.state, query.closed_at = "closed", at
            session.add(QueryMessage(query_id=query.id, action="resolve", at=at, by=CHECKS,
                                     text="Closed automatically: the data no longer raise "
                                          "this check."))  # fmt: skip
    for key, finding in now.items():
        if key not in existing:
            query = DataQuery(
                subject_id=subject.id, table_name=finding.table_name, record_id=finding.record_id,
                field=finding.field, kind="auto", rule=finding.rule, state="open",
                text=finding.text, opened_at=at,
            )  # fmt: skip
            session.add(query)
            session.flush()
            session.add(QueryMessage(query_id=query.id, action="raise", text=finding.text, at=at,
                                     by=CHECKS))  # fmt: skip


def _invalidate_signatures(
    session: Session, subject_id: int, visits: set[int | None], *, at: str, reason: str | None
) -> None:
    valid = session.scalars(
        select(Signature).where(
            Signature.subject_id == subject_id, Signature.invalidated_at.is_(None),
            Signature.deleted_at.is_(None),
        )
    )  # fmt: skip
    for signature in valid:
        if signature.visit_id is None or signature.visit_id in visits:
            signature.invalidated_at = at
            signature.invalidated_reason = (
                f"signed data changed after signing{': ' + reason if reason else ''}"
            )


def _answer_with_change(
    session: Session, query_id: int, subjects: list[int], *, user: str, at: str,
    reason: str | None,
) -> None:  # fmt: skip
    query = session.get(DataQuery, query_id)
    if query is None or query.deleted_at is not None or query.subject_id not in subjects:
        raise DataValidationError("the change is not a change of the query's subject",
                                  field="query")  # fmt: skip
    if query.state == "closed":
        raise DataValidationError("this query is closed; re-open it first", field="query")
    query.state = "answered"
    session.add(QueryMessage(query_id=query.id, action="answer", at=at, by=user,
                             text=f"Value changed: {reason or 'no reason given'}",
                             change_at=at))  # fmt: skip


def enforce_locks(connection: Connection, touched: set[tuple[str, Any, Any]]) -> None:
    """Refuse the save if a lock covers what it touched (run with the chain's head locked)."""
    tables = {table for table, _, _ in touched} - _NOT_LOCKED
    if not tables:
        return
    subjects = {s for table, s, _ in touched if table not in _NOT_LOCKED and s is not None}
    refuse_if_locked(connection, subjects)


def refuse_if_locked(connection: Connection, subjects: set[Any]) -> None:
    """Raise :class:`LockedError` if the study, or one of ``subjects`` (ids), is locked.

    The save itself checks this with the chain's head held (:func:`enforce_locks`); the
    API also asks first, before it reads the request's body, so that a locked record
    answers "locked" (423) whatever was sent, not "invalid" (422) for a value that could
    not have been saved anyway.
    """
    lock = StudyLock.__table__
    query = select(lock.c.subject_id).where(
        lock.c.unlocked_at.is_(None), lock.c.deleted_at.is_(None),
        or_(lock.c.subject_id.is_(None), lock.c.subject_id.in_(subjects)),
    ).limit(1)  # fmt: skip
    row = connection.execute(query).first()
    if row is not None:
        what = "the study is locked" if row[0] is None else "this subject is locked"
        raise LockedError(
            f"{what} for analysis; nothing was saved. An administrator can unlock it, with a reason"
        )


def _check_before_record(session: Session, user: str, at: str, reason: str | None) -> None:
    before_audit(session, user=user, at=at, reason=reason)


def _locks_under_head(connection: Connection, session: Session) -> None:
    enforce_locks(connection, session.info.get(TOUCHED, set()))


event.listen(AuditedSession, "after_flush", collect_touched)
SAVE_HOOKS.before_record.append(_check_before_record)
SAVE_HOOKS.under_head_lock.append(_locks_under_head)
