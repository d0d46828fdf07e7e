"""Store services for monitoring: data queries, source data verification, e-signatures and
the database lock. Each opens its own unit of work or read and answers with typed views.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pustula.errors import DataValidationError, RecordNotFoundError, SignatureError
from pustula.store.accounts.users import authenticate
from pustula.store.audit.chain import lock_chain_head
from pustula.store.db.models import (
    DataQuery,
    QueryMessage,
    Record,
    Signature,
    Site,
    Study,
    StudyLock,
    Subject,
    Verification,
    Visit,
)
from pustula.store.db.uow import Store, get_record
from pustula.store.monitoring.captions import caption_of, captions
from pustula.store.monitoring.on_save import refuse_if_locked
from pustula.store.monitoring.queries import SUBJECT_RECORD_TABLES, site_of_record
from pustula.store.monitoring.snapshot import subject_records
from pustula.store.records.study import get_study, get_subject
from pustula.store.records.views import LockView, QueryMessageView, QueryView, SignatureView
from pustula.store.services.clinical import view_of

__all__ = [
    "QueryRow",
    "SdvRow",
    "answer_query",
    "close_query",
    "lock",
    "lock_status",
    "query_step",
    "query_thread",
    "raise_query",
    "refuse_writes_if_locked",
    "reopen_query",
    "sdv_progress",
    "search_queries",
    "sign",
    "signatures_of",
    "unlock",
    "verify",
]

#: The records a query or a verification can be about (a subject's clinical data).
TABLES: dict[str, type[Record]] = {**SUBJECT_RECORD_TABLES, "subject": Subject}
MEANINGS = (
    "I approve the data in this casebook",
    "I have reviewed the data in this casebook",
    "I approve the data of this visit",
)


def _text(text: str, field: str = "text") -> str:
    if not text or not text.strip():
        raise DataValidationError(f"{field}: write the message", field=field)
    if len(text) > 4000:
        raise DataValidationError(f"{field}: at most 4,000 characters", field=field)
    return text.strip()


def _record_of(session: Session, subject: Subject, table: str, record_id: int) -> Record:
    if table == "assessment" or table in TABLES:
        _site, code = site_of_record(session, table, record_id)
        if code != subject.code:
            raise RecordNotFoundError(f"{table} {record_id} is not a record of {subject.code}")
        from pustula.store.db.models import Assessment

        model = Assessment if table == "assessment" else TABLES[table]
        return get_record(session, model, record_id)
    raise RecordNotFoundError(f"{table} records cannot have queries")


def _field_value(
    session: Session, subject: Subject, table: str, record_id: int, field: str | None
) -> Any:
    """The value a query is about, as stored now: a column, or an item of an assessment."""
    if not field:
        return None
    try:
        record = _record_of(session, subject, table, record_id)
    except RecordNotFoundError:
        return None
    if field in record.__table__.columns:
        return getattr(record, field)
    items = getattr(record, "items", None)
    return items.get(field) if isinstance(items, dict) else None


# -- queries ---------------------------------------------------------------------------------


def raise_query(
    store: Store, user: str, code: str, *, table: str, record_id: int, field: str | None,
    text: str,
) -> QueryView:  # fmt: skip
    """A monitor's question about a record (or one of its fields)."""
    with store.transaction(user=user) as tx:
        subject = get_subject(tx.session, get_study(tx.session), code)
        record = _record_of(tx.session, subject, table, record_id)
        columns = set(record.__table__.columns.keys())
        items = set(getattr(record, "items", {}) or {})
        if field and field not in columns | items:
            raise DataValidationError("field: choose a field of this record", field="field")
        query = open_manual_query(
            tx.session, user, subject.id, table=table, record_id=record_id,
            field=field or None, text=_text(text),
        )  # fmt: skip
        view: QueryView = view_of(query)
        return view


def open_manual_query(
    session: Session, user: str, subject_id: int, *, table: str, record_id: int,
    field: str | None, text: str, rule: str | None = None,
) -> DataQuery:  # fmt: skip
    """A person's query on a record, with the first message of its thread (``rule`` names
    the data quality rule that found it, if one did)."""
    at = str(session.info["at"])
    query = DataQuery(subject_id=subject_id, table_name=table, record_id=record_id,
                      field=field, kind="manual", rule=rule, state="open", text=text,
                      opened_at=at)  # fmt: skip
    session.add(query)
    session.flush()
    session.add(QueryMessage(query_id=query.id, action="raise", text=text, at=at, by=user))
    return query


_NEXT = {"answer": ("open", "answered"), "close": ("open", "answered"), "reopen": ("closed",)}


def query_step(store: Store, user: str, query_id: int, action: str, text: str) -> QueryView:
    """``answer``, ``close`` or ``reopen`` a query, with the message for its thread."""
    if action not in _NEXT:
        raise DataValidationError(f"action: a query can be answered, closed or re-opened; "
                                  f"got `{action}`", field="action")  # fmt: skip
    with store.transaction(user=user, reason=f"query {query_id}: {action}") as tx:
        query = _query_of_study(tx.session, query_id)
        allowed = _NEXT[action]
        if query.state not in allowed:
            raise DataValidationError(
                f"this query is {query.state}; it cannot be {action}ed now", field="state"
            )
        at = str(tx.session.info["at"])
        query.state = {"answer": "answered", "close": "closed", "reopen": "open"}[action]
        query.closed_at = at if action == "close" else None
        tx.session.add(QueryMessage(query_id=query.id, action=action, text=_text(text), at=at,
                                    by=user))  # fmt: skip
        tx.flush()
        view: QueryView = view_of(query)
        return view


def answer_query(store: Store, user: str, query_id: int, text: str) -> QueryView:
    """The site's answer, without changing the value (a change is linked on its own save)."""
    return query_step(store, user, query_id, "answer", text)


def close_query(store: Store, user: str, query_id: int, text: str) -> QueryView:
    return query_step(store, user, query_id, "close", text)


def reopen_query(store: Store, user: str, query_id: int, text: str) -> QueryView:
    return query_step(store, user, query_id, "reopen", text)


@dataclass(frozen=True)
class QueryRow:
    query: QueryView
    subject: str
    site: str
    age_days: int
    #: the subject's state, which decides whether the record can still be corrected
    subject_status: str = ""
    #: which record, in a reader's words ("Itchy rash, from 2024-05-02"; see captions)
    record_caption: str = ""
    #: the queried field's value as stored now (None for a query on the whole record)
    value: Any = None


def search_queries(
    store: Store, *, sites: list[str] | None, subject: str | None = None,
    state: str | None = None, kind: str | None = None, min_age: int | None = None,
    today: date, captioned: bool = False,
) -> list[QueryRow]:  # fmt: skip
    """Queries of the subjects at ``sites`` (None: every site), newest first; ``captioned``
    names each queried record (a read of every one: lists shown to people, not counts)."""
    with store.reader() as session:
        statement = (
            select(DataQuery, Subject.code, Site.code, Subject.status)
            .join(Subject, Subject.id == DataQuery.subject_id)
            .join(Site, Site.id == Subject.site_id)
            .where(DataQuery.deleted_at.is_(None))
            .order_by(DataQuery.id.desc())
        )
        if sites is not None:
            statement = statement.where(Site.code.in_(sites))
        statement = statement.where(Subject.study_id == get_study(session).id)
        if subject:
            statement = statement.where(Subject.code == subject)
        if state:
            statement = statement.where(DataQuery.state == state)
        if kind:
            statement = statement.where(DataQuery.kind == kind)
        found = []
        for query, code, site, status in session.execute(statement):
            age = (today - datetime.fromisoformat(query.opened_at).date()).days
            if min_age is None or age >= min_age:
                found.append((query, code, site, age, status))
        keys = ((q.table_name, q.record_id) for q, *_ in found)
        names = captions(session, keys) if captioned else {}
        return [QueryRow(view_of(q), code, site, age, status,
                         getattr(names.get((q.table_name, q.record_id)), "text", ""))
                for q, code, site, age, status in found]  # fmt: skip


def _query_of_study(session: Session, query_id: int) -> DataQuery:
    """The query, if it is one of the session's study (another study's is not found)."""
    query = get_record(session, DataQuery, query_id)
    subject = session.get_one(Subject, query.subject_id)
    if subject.study_id != get_study(session).id:
        raise RecordNotFoundError(f"data_query {query_id} does not exist")
    return query


def query_thread(store: Store, query_id: int) -> tuple[QueryRow, list[QueryMessageView]]:
    """A query with its subject and site, and its messages, oldest first."""
    with store.reader() as session:
        query = _query_of_study(session, query_id)
        subject = session.get_one(Subject, query.subject_id)
        site = session.get_one(Site, subject.site_id).code
        messages = session.scalars(
            select(QueryMessage).where(QueryMessage.query_id == query_id).order_by(QueryMessage.id)
        )
        age = (date.today() - datetime.fromisoformat(query.opened_at).date()).days
        caption = caption_of(session, query.table_name, query.record_id)
        value = _field_value(session, subject, query.table_name, query.record_id, query.field)
        row = QueryRow(view_of(query), subject.code, site, age, subject.status, caption, value)
        return row, [view_of(m) for m in messages]


# -- source data verification ------------------------------------------------------------------


def verify(
    store: Store, user: str, code: str, *, table: str, record_id: int, field: str | None = None
) -> Any:
    """Mark a record (or one field) verified against the source, at its current version.

    A record with an open query is not verified: its value is still in question.
    """
    with store.transaction(user=user) as tx:
        subject = get_subject(tx.session, get_study(tx.session), code)
        record = _record_of(tx.session, subject, table, record_id)
        queried = tx.session.scalars(
            select(DataQuery.id).where(
                DataQuery.subject_id == subject.id, DataQuery.table_name == table,
                DataQuery.record_id == record_id, DataQuery.state != "closed",
                DataQuery.deleted_at.is_(None),
            )
        ).first()  # fmt: skip
        if queried is not None:
            raise DataValidationError(
                f"record: query #{queried} on this record is open; close it first", field="record"
            )
        row = Verification(subject_id=subject.id, table_name=table, record_id=record_id,
                           field=field, record_version=record.version, verified_by=user,
                           verified_at=str(tx.session.info["at"]))  # fmt: skip
        tx.session.add(row)
        tx.flush()
        return view_of(row)


@dataclass(frozen=True)
class Verified:
    """What one action of verification did: records verified, and those left, with why."""

    verified: int
    left: tuple[tuple[str, int, str], ...]  # (table, record, why it was not verified)


def verify_records(store: Store, user: str, code: str, records: list[tuple[str, int]]) -> Verified:
    """Verify several records of one subject in one action (a visit with its assessments,
    or every record of a form), each at its current version, in one transaction.

    Records already verified at their version are counted as done; a record with an open
    query is left, with the query named: its value is still in question.
    """
    with store.transaction(user=user) as tx:
        subject = get_subject(tx.session, get_study(tx.session), code)
        already = verified_keys(tx.session, subject.id)
        open_queries = {
            (q.table_name, q.record_id): q.id
            for q in tx.session.scalars(
                select(DataQuery).where(
                    DataQuery.subject_id == subject.id, DataQuery.state != "closed",
                    DataQuery.deleted_at.is_(None),
                )
            )
        }  # fmt: skip
        done, left = 0, []
        at = str(tx.session.info["at"])
        for table, record_id in records:
            record = _record_of(tx.session, subject, table, record_id)
            if (table, record_id) in open_queries:
                query = open_queries[table, record_id]
                left.append((table, record_id, f"query #{query} is open; close it first"))
                continue
            if (table, record_id, record.version) not in already:
                tx.session.add(Verification(
                    subject_id=subject.id, table_name=table, record_id=record_id, field=None,
                    record_version=record.version, verified_by=user, verified_at=at,
                ))  # fmt: skip
            done += 1
        tx.flush()
        return Verified(done, tuple(left))


@dataclass(frozen=True)
class SdvRow:
    subject: str
    site: str
    records: int
    verified: int

    @property
    def percent(self) -> float:
        return 100.0 * self.verified / self.records if self.records else 0.0


_SDV_TABLES = ("visit", "assessment", "adverse_event", "lab", "con_med", "exposure", "photograph")


def verified_keys(session: Session, subject_id: int) -> set[tuple[str, int, int]]:
    """(table, record, version) of every record verification of the subject."""
    return {
        (v.table_name, v.record_id, v.record_version)
        for v in session.scalars(
            select(Verification).where(
                Verification.subject_id == subject_id, Verification.field.is_(None)
            )
        )
    }


def sdv_progress(store: Store, *, sites: list[str] | None) -> list[SdvRow]:
    """Per subject: how many of its records are verified at their current version."""
    with store.reader() as session:
        study = get_study(session)
        subjects = session.execute(
            select(Subject.id, Subject.code, Site.code)
            .join(Site, Site.id == Subject.site_id)
            .where(Subject.study_id == study.id, Subject.deleted_at.is_(None))
            .order_by(Subject.code)
        ).all()
        rows = []
        for subject_id, code, site in subjects:
            if sites is not None and site not in sites:
                continue
            records = subject_records(session.connection(), subject_id)
            current = {(t, r.id, r.version) for t in _SDV_TABLES for r in getattr(records, t)}
            done = verified_keys(session, subject_id) & current
            rows.append(SdvRow(code, site, len(current), len(done)))
        return rows


# -- electronic signatures ---------------------------------------------------------------------


def _data_hash(session: Session, subject_id: int, visit_id: int | None) -> str:
    records = subject_records(session.connection(), subject_id)
    if visit_id is None:
        signed: Any = {name: [r.as_dict() for r in getattr(records, name)]
                       for name in records.__dataclass_fields__}  # fmt: skip
    else:
        signed = {"visit": [v.as_dict() for v in records.visit if v.id == visit_id],
                  "assessment": [a.as_dict() for a in records.assessment
                                 if a.visit_id == visit_id]}  # fmt: skip
    text = json.dumps(signed, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def sign(
    store: Store, user: str, *, username: str, password: str, code: str, meaning: str,
    visit_id: int | None = None,
) -> SignatureView:  # fmt: skip
    """Sign a casebook (or one visit) as ``user``, who re-enters user name and password."""
    if meaning not in MEANINGS:
        raise DataValidationError("meaning: choose what the signature means", field="meaning")
    with store.transaction(user=user) as tx:
        who = authenticate(tx.session, username, password)
        if who is None or who.username != user:
            raise SignatureError(
                "the user name or password is not yours; the signature was not made"
            )
        subject = get_subject(tx.session, get_study(tx.session), code)
        if visit_id is not None:
            visit = get_record(tx.session, Visit, visit_id)
            if visit.subject_id != subject.id:
                raise RecordNotFoundError(f"visit {visit_id} is not a visit of {code}")
        row = Signature(subject_id=subject.id, visit_id=visit_id, signer=user,
                        signed_at=str(tx.session.info["at"]), meaning=meaning,
                        data_hash=_data_hash(tx.session, subject.id, visit_id))  # fmt: skip
        tx.session.add(row)
        tx.flush()
        view: SignatureView = view_of(row)
        return view


def signatures_of(store: Store, code: str) -> list[SignatureView]:
    with store.reader() as session:
        subject = get_subject(session, get_study(session), code)
        rows = session.scalars(
            select(Signature).where(Signature.subject_id == subject.id).order_by(Signature.id)
        )
        return [view_of(r) for r in rows]


# -- database lock -------------------------------------------------------------------------


def lock(store: Store, user: str, *, reason: str, subject: str | None = None) -> LockView:
    """Lock the study (or one subject) for analysis, recording the data's SHA-256."""
    from pustula.store.transfer.extract import read_study, restrict

    with store.transaction(user=user, reason=_text(reason, "reason")) as tx:
        # holding the chain's head: no save can commit until this lock has
        lock_chain_head(tx.session)
        study = get_study(tx.session)
        target = None if subject is None else get_subject(tx.session, study, subject)
        if _active(tx.session, study, target) is not None:
            raise DataValidationError("it is already locked", field="subject")
        data = read_study(store)
        if subject is not None:
            data = restrict(data, {subject})
        row = StudyLock(study_id=study.id, subject_id=None if target is None else target.id,
                        locked_by=user, locked_at=str(tx.session.info["at"]),
                        lock_reason=reason.strip(),
                        snapshot_sha256=data.snapshot_hash())  # fmt: skip
        tx.session.add(row)
        tx.flush()
        view: LockView = view_of(row)
        return view


def _active(session: Session, study: Study, subject: Subject | None) -> StudyLock | None:
    statement = select(StudyLock).where(
        StudyLock.study_id == study.id, StudyLock.unlocked_at.is_(None),
        StudyLock.deleted_at.is_(None),
        StudyLock.subject_id.is_(None) if subject is None
        else StudyLock.subject_id == subject.id,
    )  # fmt: skip
    return session.scalars(statement).first()


def unlock(store: Store, user: str, *, reason: str, subject: str | None = None) -> LockView:
    with store.transaction(user=user, reason=_text(reason, "reason")) as tx:
        study = get_study(tx.session)
        target = None if subject is None else get_subject(tx.session, study, subject)
        row = _active(tx.session, study, target)
        if row is None:
            raise DataValidationError("it is not locked", field="subject")
        row.unlocked_by, row.unlocked_at = user, str(tx.session.info["at"])
        row.unlock_reason = reason.strip()
        tx.flush()
        view: LockView = view_of(row)
        return view


def refuse_writes_if_locked(store: Store, subject_id: int) -> None:
    """Raise :class:`~pustula.errors.LockedError` when the study or the subject is locked:
    asked before a request's input is read (the save checks it again)."""
    with store.read_connection() as connection:
        refuse_if_locked(connection, {subject_id})


def lock_status(store: Store) -> list[LockView]:
    """Every lock that holds now: the study's and each subject's."""
    with store.reader() as session:
        rows = session.scalars(
            select(StudyLock)
            .where(StudyLock.unlocked_at.is_(None), StudyLock.deleted_at.is_(None))
            .order_by(StudyLock.id)
        )
        return [view_of(r) for r in rows]
