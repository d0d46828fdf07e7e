"""Finding audit entries by subject, user, table and date, a page at a time.

A subject's entries are those of every record that belongs to it (its baseline, visits,
assessments, exposure and its interruptions, safety data), removed records included.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.orm import Session

from pustula.store.audit.chain import history_row
from pustula.store.db.models import (
    AdverseEvent,
    Assessment,
    AuditLog,
    Baseline,
    ConMed,
    EligibilityResult,
    Exposure,
    ExposureInterruption,
    Lab,
    PriorTherapy,
    Site,
    Subject,
    Visit,
)
from pustula.store.db.uow import Store

__all__ = ["AuditFilter", "AuditPage", "audit_batches", "search_audit"]

_OWN_TABLES = (Baseline, EligibilityResult, PriorTherapy, Exposure, Visit, AdverseEvent, Lab,
               ConMed)  # fmt: skip


@dataclass(frozen=True)
class AuditFilter:
    subject: str | None = None
    user: str | None = None
    table: str | None = None
    since: date | None = None
    until: date | None = None
    #: only subjects at these sites (None: every site)
    sites: tuple[str, ...] | None = None


@dataclass(frozen=True)
class AuditPage:
    rows: list[dict[str, Any]]  # newest first
    older: int | None  # the id to continue from, when there are older entries


def _subject_ids(session: Session, f: AuditFilter) -> list[int] | None:
    if f.subject is None and f.sites is None:
        return None
    query = select(Subject.id).join(Site, Site.id == Subject.site_id)
    if f.subject is not None:
        query = query.where(Subject.code == f.subject)
    if f.sites is not None:
        query = query.where(Site.code.in_(f.sites))
    return list(session.scalars(query))


def _records(session: Session, subjects: list[int]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {"subject": list(subjects)}
    for model in _OWN_TABLES:
        ids = select(model.id).where(model.subject_id.in_(subjects))
        found[model.__tablename__] = list(session.scalars(ids))
    visits = found["visit"]
    found["assessment"] = list(
        session.scalars(select(Assessment.id).where(Assessment.visit_id.in_(visits)))
    )
    found["exposure_interruption"] = list(
        session.scalars(
            select(ExposureInterruption.id).where(
                ExposureInterruption.exposure_id.in_(found["exposure"])
            )
        )
    )
    return found


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
    subjects = _subject_ids(session, f)
    if subjects is not None:
        owned = [
            and_(AuditLog.table_name == table, AuditLog.record_id.in_(ids))
            for table, ids in _records(session, subjects).items()
            if ids
        ]
        query = query.where(or_(*owned) if owned else false())
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
