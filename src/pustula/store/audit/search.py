"""Finding audit entries by subject, user, table and date, a page at a time.

A subject's entries are those of every record that belongs to it (its baseline, visits,
assessments, exposure and its interruptions, safety data), removed records included.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, or_, select
from sqlalchemy.orm import Session

from pustula.store.audit.chain import history_row
from pustula.store.db.models import (
    Allocation,
    AllocationList,
    AuditLog,
    Base,
    Site,
    Study,
    Subject,
)
from pustula.store.db.uow import Store

__all__ = ["AuditFilter", "AuditPage", "audit_batches", "search_audit"]


@dataclass(frozen=True)
class AuditFilter:
    subject: str | None = None
    user: str | None = None
    table: str | None = None
    since: date | None = None
    until: date | None = None
    #: only subjects at these sites (None: every site)
    sites: tuple[str, ...] | None = None
    #: only the records of this study (by code; None: the whole database)
    study: str | None = None


@dataclass(frozen=True)
class AuditPage:
    rows: list[dict[str, Any]]  # newest first
    older: int | None  # the id to continue from, when there are older entries


#: Records that belong to a record one step up (an assessment to its visit, and so on).
_CHILDREN = (("assessment", "visit_id", "visit"), ("exposure_interruption", "exposure_id",
             "exposure"), ("query_message", "query_id", "data_query"))  # fmt: skip
#: Not study data: accounts and sessions belong to the server, not to one study.
_SERVER_TABLES = frozenset({"app_user", "web_session", "login_failure", "patient_contact"})


def _audited() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables
            if t.name not in _SERVER_TABLES and "created_at" in t.c]  # fmt: skip


def _owned(f: AuditFilter) -> ColumnElement[bool] | None:
    """Which entries belong to the study, or to the subjects, the filter names: each
    table's records as a subquery (a study can hold hundreds of thousands)."""
    if f.subject is None and f.sites is None and f.study is None:
        return None
    study_id = select(Study.id).where(Study.code == f.study).scalar_subquery()
    subjects = select(Subject.id).join(Site, Site.id == Subject.site_id)
    if f.study is not None:
        subjects = subjects.where(Subject.study_id == study_id)
    if f.subject is not None:
        subjects = subjects.where(Subject.code == f.subject)
    if f.sites is not None:
        subjects = subjects.where(Site.code.in_(f.sites))
    whole_study = f.subject is None and f.sites is None
    ids: dict[str, Any] = {"subject": subjects}
    for table in _audited():
        if table.name == "subject":
            continue
        if "subject_id" in table.c:
            ids[table.name] = select(table.c.id).where(table.c.subject_id.in_(subjects))
            if whole_study and "study_id" in table.c:
                ids[table.name] = select(table.c.id).where(table.c.study_id == study_id)
        elif whole_study and "study_id" in table.c:
            ids[table.name] = select(table.c.id).where(table.c.study_id == study_id)
    if whole_study:
        ids["study"] = select(Study.id).where(Study.id == study_id)
        lists = select(AllocationList.id).where(AllocationList.study_id == study_id)
        ids["allocation"] = select(Allocation.id).where(Allocation.list_id.in_(lists))
    for child, column, parent in _CHILDREN:
        table = Base.metadata.tables[child]
        ids[child] = select(table.c.id).where(table.c[column].in_(ids[parent]))
    return or_(*(and_(AuditLog.table_name == name, AuditLog.record_id.in_(query))
                 for name, query in ids.items()))  # fmt: skip


def _query(session: Session, f: AuditFilter) -> Select[Any]:
    query = select(AuditLog)
    if f.user:
        query = query.where(AuditLog.user == f.user)
    if f.table:
        query = query.where(AuditLog.table_name == f.table)
    if f.since is not None:
        query = query.where(AuditLog.at >= f.since.isoformat())
    if f.until is not None:
        query = query.where(AuditLog.at < (f.until + timedelta(days=1)).isoformat())
    owned = _owned(f)
    if owned is not None:
        query = query.where(owned)
    return query


def search_audit(
    store: Store, f: AuditFilter, *, before: int | None = None, size: int = 100
) -> AuditPage:
    """One page of matching entries, newest first, older than entry ``before``."""
    with store.reader() as session:
        query = _query(session, f)
        if before is not None:
            query = query.where(AuditLog.id < before)
        rows = list(session.scalars(query.order_by(AuditLog.id.desc()).limit(size + 1)))
    older = rows[size - 1].id if len(rows) > size else None
    return AuditPage([history_row(r) for r in rows[:size]], older)


def audit_batches(
    store: Store, f: AuditFilter, *, chunk: int = 2000
) -> Iterator[list[dict[str, Any]]]:
    """Every matching entry, oldest first, ``chunk`` at a time (for a CSV export)."""
    after = 0
    while True:
        with store.reader() as session:
            query = _query(session, f).where(AuditLog.id > after)
            rows: Iterable[AuditLog] = list(
                session.scalars(query.order_by(AuditLog.id).limit(chunk))
            )
        batch = [history_row(r) for r in rows]
        if batch:
            yield batch
        if len(batch) < chunk:
            return
        after = batch[-1]["id"]
