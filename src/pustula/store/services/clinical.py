"""Store services for the web app and the API: each opens its own unit of work or read,
and answers with typed views (:mod:`pustula.store.records.views`), so routes never open a
session or touch an ORM class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pustula.errors import RecordNotFoundError
from pustula.protocol import Protocol
from pustula.protocol.status import VisitStatus
from pustula.store.accounts.users import authenticate
from pustula.store.audit.chain import AuditReport, audit_history, verify_audit
from pustula.store.audit.sources import ImportSource
from pustula.store.db.models import Assessment, AuditHead, Record, Visit
from pustula.store.db.uow import Store, get_record
from pustula.store.monitoring.captions import Caption, captions
from pustula.store.monitoring.queries import (
    PlannedVisit,
    SubjectRow,
    list_sites,
    list_subjects,
    site_of_record,
    visit_schedule,
)
from pustula.store.records.enrolment import Enrolment, enrol_subject
from pustula.store.records.safety import (
    add_adverse_event,
    add_con_med,
    add_lab,
)
from pustula.store.records.study import get_study, get_subject, protocol_of
from pustula.store.records.views import (
    VIEWS,
    AdverseEventView,
    AssessmentView,
    ConMedView,
    LabView,
    SubjectView,
    VisitView,
)
from pustula.store.records.visits import record_visit, save_assessments, update_assessment
from pustula.store.transfer.bulk import SubjectParts, import_casebooks

__all__ = [
    "Casebook",
    "ImportedSubject",
    "ImportedVisit",
    "RecordKind",
    "StudyPage",
    "add_subject_record",
    "assessment_of",
    "casebooks",
    "chain_report",
    "check_password",
    "data_version",
    "edit_assessment",
    "enrol",
    "holds_synthetic_data",
    "import_subjects",
    "record_captions",
    "record_history",
    "save_visit",
    "study_page",
    "study_protocol",
    "subject_rows",
    "view_of",
]

RecordKind = Literal["ae", "lab", "conmed"]


def view_of(record: Record) -> Any:
    """The typed view of a saved record (its values after the save)."""
    view = VIEWS[record.__tablename__]
    return view.from_row({c.key: getattr(record, c.key) for c in record.__table__.columns})


def subject_rows(store: Store, *, sites: list[str] | None) -> list[SubjectRow]:
    """The study's subjects (only those at ``sites`` when given), by code."""
    with store.reader() as session:
        return list_subjects(session, get_study(session), sites=sites)


def save_visit(
    store: Store,
    user: str,
    *,
    protocol: Protocol,
    subject: SubjectView,
    visit_code: str,
    visit_date: date | None,
    assessments: Mapping[str, Mapping[str, object]],
    not_done: Mapping[str, str] | None = None,
    missed_reason: str | None = None,
) -> tuple[VisitView, list[AssessmentView]]:
    """Record a visit with its assessments in one unit of work; the saved, scored rows.

    With ``missed_reason`` the visit is recorded as missed (no date, no assessments).
    """
    missed = missed_reason is not None
    with store.transaction(user=user, reason=missed_reason or None) as tx:
        visit = record_visit(
            tx, protocol, subject, visit_code=visit_code, visit_date=visit_date,
            status=VisitStatus.MISSED if missed else VisitStatus.DONE, notes=missed_reason or "",
        )  # fmt: skip
        saved = save_assessments(tx, visit, assessments, not_done=not_done)
        return view_of(visit), [view_of(a) for a in saved]


def assessment_of(store: Store, *, subject_id: int, assessment_id: int) -> AssessmentView:
    """An assessment of this subject; another subject's is not found."""
    with store.reader() as session:
        row = get_record(session, Assessment, assessment_id)
        if get_record(session, Visit, row.visit_id).subject_id != subject_id:
            raise RecordNotFoundError(f"assessment {assessment_id} is not a record of this subject")
        view: AssessmentView = view_of(row)
        return view


def edit_assessment(
    store: Store,
    user: str,
    *,
    reason: str,
    subject_id: int,
    assessment_id: int,
    items: Mapping[str, object] | None,
    expected_version: int,
    not_done_reason: str | None = None,
) -> AssessmentView:
    """Replace an assessment's items (re-scored), or mark it not done with why, if it is
    this subject's and unchanged."""
    with store.transaction(user=user, reason=reason) as tx:
        row = get_record(tx.session, Assessment, assessment_id)
        if get_record(tx.session, Visit, row.visit_id).subject_id != subject_id:
            raise RecordNotFoundError(f"assessment {assessment_id} is not a record of this subject")
        update_assessment(
            tx, row, items=items, expected_version=expected_version,
            not_done_reason=not_done_reason,
        )  # fmt: skip
        view: AssessmentView = view_of(row)
        return view


def add_subject_record(
    store: Store, user: str, kind: RecordKind, subject_code: str, data: Any
) -> AdverseEventView | LabView | ConMedView:
    """Add an adverse event, a lab value or a concomitant medication to a subject."""
    with store.transaction(user=user) as tx:
        study = get_study(tx.session)
        subject = get_subject(tx.session, study, subject_code)
        if kind == "ae":
            saved: Record = add_adverse_event(tx, subject, data)
        elif kind == "lab":
            saved = add_lab(tx, study, subject, data)
        else:
            saved = add_con_med(tx, subject, data)
        return view_of(saved)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Casebook:
    """One subject's whole record as typed views: what data exchange writes out."""

    subject: SubjectView
    site: str
    records: Any  # pustula.store.monitoring.snapshot.SubjectRows


def study_protocol(store: Store, code: str | None = None) -> Protocol:
    """The protocol of the study (the only one when ``code`` is None)."""
    with store.reader() as session:
        return protocol_of(get_study(session, code))


def casebooks(store: Store) -> list[Casebook]:
    """Every subject of the study with its records, by code (one snapshot)."""
    from pustula.store.monitoring.snapshot import subject_records

    with store.snapshot() as session:
        study = get_study(session)
        rows = list_subjects(session, study, sites=None)
        found = []
        for row in rows:
            subject = view_of(get_subject(session, study, row.code))
            found.append(Casebook(subject, row.site,
                                  subject_records(session.connection(), subject.id)))  # fmt: skip
        return found


@dataclass(frozen=True)
class ImportedVisit:
    visit_code: str
    visit_date: date
    assessments: dict[str, dict[str, object]]
    where: str  # how the source names it, for messages ("record S01, event week_4_arm_1")


@dataclass(frozen=True)
class ImportedRecord:
    """One record of a casebook beyond enrolment and visits (an exposure, an interruption,
    an AE, a lab, a medication), with where the source has it."""

    kind: str  # exposure, interruption, adverse_event, lab, con_med
    data: dict[str, Any]
    where: str


@dataclass(frozen=True)
class ImportedSubject:
    code: str
    enrolment: dict[str, Any]
    visits: list[ImportedVisit]
    where: str
    records: tuple[ImportedRecord, ...] = ()
    #: withdrawal or end of study: outcome, ended_on, reason, last_contact
    end: dict[str, Any] | None = None
    #: the (first, last) lines of the source file its rows are on, when it has lines
    lines: tuple[tuple[int, int], ...] = ()
    #: the same rows as (start, end) byte offsets, the file's header first, when the file
    #: was read a part at a time: one casebook can then be read again on its own
    spans: tuple[tuple[int, int], ...] = ()


def import_subjects(
    store: Store,
    user: str,
    subjects: list[ImportedSubject] | SubjectParts,
    *,
    reason: str,
    source: ImportSource | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Enrol subjects with every record of their casebooks, scored and checked as their
    forms would be, in one unit of work: all or nothing (:mod:`pustula.store.transfer.bulk`).

    With ``source`` (the file the subjects were read from), the file is kept in the
    database and each casebook's audit entry holds the file's hash, its lines and the hash
    of the values stored, from which ``audit verify`` replays them (decision 0007);
    without it, each entry holds all the casebook's values. An error names where in the
    source it came from (record, event). ``progress`` hears each subject's code once its
    casebook is built (the transaction may still roll back).
    """
    return import_casebooks(store, user, subjects, reason=reason, source=source, progress=progress)


def record_history(
    store: Store, table: str, record_id: int
) -> tuple[str, str, list[dict[str, Any]]]:
    """(site, subject code, audit rows) of one record of a subject, oldest first."""
    with store.reader() as session:
        site, subject = site_of_record(session, table, record_id)
    with store.snapshot_connection() as connection:
        return site, subject, audit_history(connection, table=table, record=record_id)


def data_version(store: Store) -> tuple[int, str]:
    """The last audit entry's number and hash. Every saved change moves it (and the hash
    chains all entries before it), so what is computed from the data holds until it moves."""
    with store.reader() as session:
        head = session.get(AuditHead, 1)
        return (0, "") if head is None else (head.last_id, head.last_hash)


def record_captions(
    store: Store, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], Caption]:
    """Which records they are, in a reader's words (pustula.store.monitoring.captions)."""
    with store.reader() as session:
        return captions(session, keys)


@dataclass(frozen=True)
class StudyPage:
    """What the subject list and the dashboard show of the study."""

    code: str
    title: str
    synthetic: bool
    protocol: Protocol
    sites: list[str]
    subjects: list[SubjectRow]
    schedule: list[PlannedVisit]


def study_page(store: Store, *, sites: list[str] | None, today: date) -> StudyPage:
    """The study, its sites, the subjects of ``sites`` and their visit schedule on ``today``."""
    with store.reader() as session:
        study = get_study(session)
        return StudyPage(
            study.code, study.title, study.synthetic, protocol_of(study),
            list_sites(session, study), list_subjects(session, study, sites=sites),
            visit_schedule(session, study, sites=sites, today=today),
        )  # fmt: skip


def enrol(store: Store, user: str, payload: Mapping[str, Any]) -> Enrolment:
    """Screen and enrol a subject in the study (one unit of work)."""
    with store.transaction(user=user) as tx:
        return enrol_subject(tx, get_study(tx.session), **payload)


def chain_report(store: Store) -> AuditReport:
    """The audit chain's verification (every entry's hash and the key's signature)."""
    with store.snapshot_connection() as connection:
        return verify_audit(connection, store.audit_key)


def check_password(store: Store, username: str, password: str) -> int | None:
    """The id of the active user with this name and password, or None (same time either way)."""
    with store.reader() as session:
        user = authenticate(session, username, password)
        return None if user is None else user.id


def holds_synthetic_data(store: Store) -> bool:
    """Whether the study is the synthetic demo (False when there is no study yet)."""
    try:
        with store.reader() as session:
            return bool(get_study(session).synthetic)
    except RecordNotFoundError:
        return False
