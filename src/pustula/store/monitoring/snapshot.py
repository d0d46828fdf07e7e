"""A subject's whole record read in one statement, as typed views
(:mod:`pustula.store.records.views`).

The subject page and the API's subject reads were dominated by the ORM: thirteen queries,
each costing more in object loading than in the database. Here each of the subject's rows
comes back as a JSON object from one ``UNION ALL`` statement (``row_to_json`` on
PostgreSQL, ``json_object`` on SQLite), decoded by column type into the same Python values
the ORM would give.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    Float,
    Select,
    Table,
    bindparam,
    case,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from pustula.store.db.models import (
    AdverseEvent,
    Assessment,
    Baseline,
    ConMed,
    Consent,
    DataQuery,
    DiaryEntry,
    EligibilityResult,
    Exposure,
    ExposureInterruption,
    Lab,
    Photograph,
    PriorTherapy,
    ProtocolVersion,
    Record,
    Signature,
    StudyLock,
    Subject,
    Verification,
    Visit,
)
from pustula.store.records.amendments import APPROVED
from pustula.store.records.views import (
    VIEWS,
    AdverseEventView,
    AssessmentView,
    BaselineView,
    ConMedView,
    ConsentView,
    DiaryEntryView,
    EligibilityView,
    ExposureView,
    InterruptionView,
    LabView,
    LockView,
    PhotographView,
    PriorTherapyView,
    ProtocolVersionView,
    QueryView,
    SignatureView,
    VerificationView,
    VisitView,
)

__all__ = ["SubjectRows", "subject_consents", "subject_records"]

V = TypeVar("V")

#: The subject's own tables, read for its timeline (assessments come through its visits).
SUBJECT_TABLES: tuple[type[Record], ...] = (
    Baseline, EligibilityResult, PriorTherapy, Exposure, Visit, AdverseEvent, Lab, ConMed,
    DataQuery, Verification, Signature, Photograph, DiaryEntry,
)  # fmt: skip


@dataclass(frozen=True)
class SubjectRows:
    """Every live row of a subject's tables, as typed views, each list in id order."""

    baseline: list[BaselineView]
    eligibility_result: list[EligibilityView]
    prior_therapy: list[PriorTherapyView]
    exposure: list[ExposureView]
    exposure_interruption: list[InterruptionView]
    visit: list[VisitView]
    assessment: list[AssessmentView]
    adverse_event: list[AdverseEventView]
    lab: list[LabView]
    con_med: list[ConMedView]
    data_query: list[QueryView]
    verification: list[VerificationView]
    signature: list[SignatureView]
    #: the locks that hold now over this subject: its own, and the whole study's
    study_lock: list[LockView]
    photograph: list[PhotographView]
    diary_entry: list[DiaryEntryView]


def _of(rows: list[Any], view: type[V]) -> list[V]:
    return sorted((r for r in rows if isinstance(r, view)), key=lambda r: r.id)  # type: ignore[attr-defined]


def subject_records(connection: Connection, subject_id: int) -> SubjectRows:
    """Every live row of the subject's tables and its visits' assessments, as views.

    One statement and one round trip; rows are in id order within each table.
    """
    return _rows(_read(connection, subject_id, consents=False))


def subject_consents(
    connection: Connection, subject_id: int
) -> tuple[SubjectRows, list[ConsentView], list[ProtocolVersionView]]:
    """:func:`subject_records`, with the subject's new consents and the study's approved
    protocol versions, in the same statement: what the subject's page shows.

    The consents are not among the records (a casebook signature or lock covers the
    clinical data, as before consents were kept).
    """
    found = _read(connection, subject_id, consents=True)
    consents = sorted((r for r in found if isinstance(r, ConsentView)),
                      key=lambda c: (c.consented_on, c.id))  # fmt: skip
    versions = [r for r in found if isinstance(r, ProtocolVersionView)]
    # oldest first, as the study's protocol history orders them
    versions.sort(key=lambda v: (v.effective_on is not None, v.effective_on or date.min, v.id))
    return _rows(found), consents, versions


def _read(connection: Connection, subject_id: int, *, consents: bool) -> list[Any]:
    statement = _statement(connection.dialect.name, consents)
    decoders = _decoders()
    found: list[Any] = []
    for table, doc in connection.execute(statement, {"subject_id": subject_id}):
        values = json.loads(doc) if isinstance(doc, str) else doc
        for column, decode in decoders[table]:
            value = values[column]
            if value is not None:
                values[column] = decode(value)
        found.append(VIEWS[table].from_row(values))
    return found


def _rows(found: list[Any]) -> SubjectRows:
    return SubjectRows(
        baseline=_of(found, BaselineView),
        eligibility_result=_of(found, EligibilityView),
        prior_therapy=_of(found, PriorTherapyView),
        exposure=_of(found, ExposureView),
        exposure_interruption=_of(found, InterruptionView),
        visit=_of(found, VisitView),
        assessment=_of(found, AssessmentView),
        adverse_event=_of(found, AdverseEventView),
        lab=_of(found, LabView),
        con_med=_of(found, ConMedView),
        data_query=_of(found, QueryView),
        verification=_of(found, VerificationView),
        signature=_of(found, SignatureView),
        study_lock=_of(found, LockView),
        photograph=_of(found, PhotographView),
        diary_entry=_of(found, DiaryEntryView),
    )


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _column_decoders(
    table: Table, names: tuple[str, ...] | None = None
) -> list[tuple[str, Callable[[Any], Any]]]:
    decoders: list[tuple[str, Callable[[Any], Any]]] = []
    for column in table.columns:
        if names is not None and column.name not in names:
            continue
        if isinstance(column.type, Boolean):
            decoders.append((column.name, bool))
        elif isinstance(column.type, Float):
            decoders.append((column.name, float))
        elif isinstance(column.type, Date):
            decoders.append((column.name, _as_date))
    return decoders


@functools.cache
def _decoders() -> dict[str, list[tuple[str, Callable[[Any], Any]]]]:
    models: tuple[type[Record], ...] = (
        *SUBJECT_TABLES, Assessment, ExposureInterruption, StudyLock, Consent,
    )  # fmt: skip
    decoders = {m.__tablename__: _column_decoders(m.__table__) for m in models}  # type: ignore[arg-type]
    versions: Table = ProtocolVersion.__table__  # type: ignore[assignment]
    decoders["protocol_version"] = _column_decoders(versions, VERSION_COLUMNS)
    return decoders


#: What a subject's page reads of an approved protocol version (not its text).
VERSION_COLUMNS = ("id", "protocol_version", "effective_on", "reconsent")


def _json_row(
    table: Table, dialect: str, names: tuple[str, ...] | None = None
) -> ColumnElement[Any]:
    if dialect == "postgresql" and names is not None:
        pairs: list[Any] = []
        for name in names:
            pairs += [literal_column(f"'{name}'"), table.c[name]]
        return func.json_build_object(*pairs)
    if dialect == "postgresql":
        # the whole row by name; listing the columns made the statement too long for
        # psycopg's query cache, and it re-parsed the text on every request
        return func.row_to_json(table.table_valued())
    pairs = []
    for column in table.columns:
        if names is not None and column.name not in names:
            continue
        pairs.append(literal_column(f"'{column.name}'"))
        value: Any = column
        if dialect == "sqlite":
            if isinstance(column.type, JSON):
                value = func.json(column)
            elif isinstance(column.type, Float):
                # json_object prints 15 significant digits; 17 give back the same double
                # ("!" lifts SQLite's printf limit of 16)
                value = case((column.is_(None), null()), else_=func.printf("%!.17g", column))
        pairs.append(value)
    return func.json_object(*pairs)


@functools.cache
def _statement(dialect: str, consents: bool = False) -> Select[Any]:
    subject: Any = bindparam("subject_id")
    parts: list[Select[Any]] = []
    models: tuple[type[Record], ...] = (*SUBJECT_TABLES, Consent) if consents else SUBJECT_TABLES
    for model in models:
        table: Table = model.__table__  # type: ignore[assignment]
        parts.append(
            select(literal_column(f"'{table.name}'"), _json_row(table, dialect)).where(
                table.c.subject_id == subject, table.c.deleted_at.is_(None)
            )
        )
    visit: Table = Visit.__table__  # type: ignore[assignment]
    assessment: Table = Assessment.__table__  # type: ignore[assignment]
    parts.append(
        select(literal_column("'assessment'"), _json_row(assessment, dialect))
        .join_from(assessment, visit, visit.c.id == assessment.c.visit_id)
        .where(
            visit.c.subject_id == subject,
            visit.c.deleted_at.is_(None),
            assessment.c.deleted_at.is_(None),
        )
    )
    exposure: Table = Exposure.__table__  # type: ignore[assignment]
    pause: Table = ExposureInterruption.__table__  # type: ignore[assignment]
    parts.append(
        select(literal_column("'exposure_interruption'"), _json_row(pause, dialect))
        .join_from(pause, exposure, exposure.c.id == pause.c.exposure_id)
        .where(
            exposure.c.subject_id == subject,
            exposure.c.deleted_at.is_(None),
            pause.c.deleted_at.is_(None),
        )
    )
    lock: Table = StudyLock.__table__  # type: ignore[assignment]
    subjects: Table = Subject.__table__  # type: ignore[assignment]
    study = select(subjects.c.study_id).where(subjects.c.id == subject).scalar_subquery()
    parts.append(
        select(literal_column("'study_lock'"), _json_row(lock, dialect)).where(
            lock.c.study_id == study,
            or_(lock.c.subject_id.is_(None), lock.c.subject_id == subject),
            lock.c.unlocked_at.is_(None),
            lock.c.deleted_at.is_(None),
        )
    )
    if consents:
        versions: Table = ProtocolVersion.__table__  # type: ignore[assignment]
        parts.append(
            select(literal_column("'protocol_version'"),
                   _json_row(versions, dialect, VERSION_COLUMNS))
            .where(versions.c.study_id == study, versions.c.status == APPROVED,
                   versions.c.deleted_at.is_(None))
        )  # fmt: skip
    return union_all(*parts)  # type: ignore[return-value]
