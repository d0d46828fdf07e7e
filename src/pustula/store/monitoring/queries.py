"""Read-only views the web app and API need: lists, a subject's timeline, record owners."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Select, String, Table, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from pustula.errors import RecordNotFoundError
from pustula.protocol import Protocol, day_zero, first_dose
from pustula.protocol.amendments import ConsentState, consent_state
from pustula.protocol.status import SubjectStatus, VisitStatus, WindowStatus
from pustula.store.accounts.sessions import SessionPolicy
from pustula.store.accounts.studies import SERVER_ADMIN, study_in_scope
from pustula.store.db.models import (
    AdverseEvent,
    Assessment,
    Baseline,
    ConMed,
    DiaryEntry,
    EligibilityResult,
    Exposure,
    ExposureInterruption,
    Lab,
    Photograph,
    PriorTherapy,
    Record,
    Site,
    Study,
    StudyRole,
    Subject,
    User,
    Visit,
    WebSession,
)
from pustula.store.db.uow import MAX_ID
from pustula.store.monitoring.snapshot import subject_consents
from pustula.store.records.amendments import protocol_history
from pustula.store.records.study import protocol_from_text, protocol_of
from pustula.store.records.timing import doses_by_subject
from pustula.store.records.views import (
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
    SubjectView,
    UserView,
    VerificationView,
    VisitView,
)

__all__ = [
    "RequestScope",
    "StudyScope",
    "SubjectRow",
    "Timeline",
    "list_sites",
    "list_subjects",
    "request_scope",
    "site_of_record",
    "subject_timeline",
    "visit_schedule",
]


_USER_COLUMNS = ("id", "username", "role", "sites")
_SUBJECT: Table = Subject.__table__  # type: ignore[assignment]


def _scope_statement() -> Select[Any]:
    """The user, their role in the study asked for (else the oldest study), and the subject
    of that study with the code asked for: one statement for every request."""
    user: Table = User.__table__  # type: ignore[assignment]
    site: Table = Site.__table__  # type: ignore[assignment]
    study: Table = Study.__table__  # type: ignore[assignment]
    held: Table = StudyRole.__table__  # type: ignore[assignment]
    oldest = study.alias("oldest")
    default_study = (
        select(oldest.c.code).where(oldest.c.deleted_at.is_(None))
        .order_by(oldest.c.id).limit(1).scalar_subquery()
    )  # fmt: skip
    asked = func.coalesce(bindparam("study", type_=String), default_study)
    subject_at_site = _SUBJECT.join(site, site.c.id == _SUBJECT.c.site_id)
    in_study = and_(study.c.code == asked, study.c.deleted_at.is_(None))
    role_held = and_(
        held.c.user_id == user.c.id, held.c.study_id == study.c.id, held.c.deleted_at.is_(None)
    )
    subject_named = and_(
        _SUBJECT.c.code == bindparam("code"),
        _SUBJECT.c.study_id == study.c.id,
        _SUBJECT.c.deleted_at.is_(None),
    )
    joined = (
        user.outerjoin(study, in_study)
        .outerjoin(held, role_held)
        .outerjoin(subject_at_site, subject_named)
    )
    return (
        select(
            *(user.c[name].label(f"user_{name}") for name in _USER_COLUMNS),
            held.c.role.label("study_role"),
            held.c.sites.label("study_sites"),
            study.c.code.label("study_code"),
            study.c.title.label("study_title"),
            study.c.synthetic.label("study_synthetic"),
            study.c.protocol_yaml,
            *_SUBJECT.c,
            site.c.code.label("site_code"),
        )
        .select_from(joined)
        .where(user.c.active.is_(True), user.c.deleted_at.is_(None))
    )


_SCOPE_BY_TOKEN = _scope_statement().where(
    User.token_hash == bindparam("token_hash"),
    or_(User.token_expires.is_(None), User.token_expires > bindparam("now")),
)
_SESSION: Table = WebSession.__table__  # type: ignore[assignment]
_SCOPE_BY_SESSION = (
    _scope_statement()
    .add_columns(_SESSION.c.last_seen.label("session_last_seen"))
    .join(_SESSION, _SESSION.c.user_id == User.id)
    .where(
        _SESSION.c.token_hash == bindparam("session_hash"),
        _SESSION.c.revoked.is_(None),
        _SESSION.c.last_seen > bindparam("idle_cutoff"),
        _SESSION.c.created > bindparam("absolute_cutoff"),
    )
)


@dataclass(frozen=True)
class SubjectRow:
    id: int
    code: str
    site: str
    status: str
    screened_on: date
    enrolled_on: date | None


def list_subjects(
    session: Session, study: Study, *, sites: list[str] | None = None
) -> list[SubjectRow]:
    """Subjects of ``study`` (only those at ``sites`` when given), by code."""
    query = (
        select(Subject, Site.code)
        .join(Site, Site.id == Subject.site_id)
        .where(Subject.study_id == study.id, Subject.deleted_at.is_(None))
        .order_by(Subject.code)
    )
    if sites is not None:
        query = query.where(Site.code.in_(sites))
    return [
        SubjectRow(s.id, s.code, site, s.status, s.screened_on, s.enrolled_on)
        for s, site in session.execute(query)
    ]


@dataclass(frozen=True)
class StudyScope:
    """The study a request works in."""

    code: str
    title: str
    synthetic: bool
    protocol: Protocol


@dataclass(frozen=True)
class RequestScope:
    """Who is asking, in which study, and the subject their request names with its site.

    ``user`` carries the role and sites the user holds in ``study`` (a server
    administrator's are ``admin`` and every site); a user with no role there has role
    ``""`` and no sites. ``study`` is None when the study asked for does not exist.
    """

    user: UserView
    subject: SubjectView | None = None
    site: str | None = None
    protocol: Protocol | None = None
    session_last_seen: float | None = None
    study: StudyScope | None = None
    server_admin: bool = False


def request_scope(
    connection: Connection,
    *,
    token_hash: str | None = None,
    session_hash: str | None = None,
    subject_code: str | None = None,
    study_code: str | None = None,
    now: float | None = None,
    policy: SessionPolicy | None = None,
) -> RequestScope | None:
    """The active user with this API token hash (else this web session), their role in the
    study ``study_code`` (None: the oldest study), and the named subject of that study.

    Every request starts here, so it is one statement. None when no active user matches,
    the token expired, or the session was revoked or timed out; ``subject`` is None when
    the code names no live subject of the study.
    """
    moment = time.time() if now is None else now
    rules = policy or SessionPolicy()
    params: dict[str, Any]
    if token_hash is not None:
        statement, params = _SCOPE_BY_TOKEN, {"token_hash": token_hash, "now": moment}
    elif session_hash is not None:
        statement, params = (
            _SCOPE_BY_SESSION,
            {
                "session_hash": session_hash,
                "idle_cutoff": moment - rules.idle,
                "absolute_cutoff": moment - rules.absolute,
            },
        )
    else:
        return None
    row = connection.execute(
        statement, params | {"code": subject_code, "study": study_code}
    ).first()
    if row is None:
        return None
    values = row._asdict()
    last_seen = values.pop("session_last_seen", None)
    account = {name: values.pop(f"user_{name}") for name in _USER_COLUMNS}
    role, sites = values.pop("study_role"), values.pop("study_sites")
    server_admin = account["role"] == SERVER_ADMIN
    if server_admin:
        role, sites = SERVER_ADMIN, ["*"]
    user = UserView.from_row(account | {"role": role or "", "sites": list(sites or [])})
    code, text = values.pop("study_code"), values.pop("protocol_yaml")
    title, synthetic = values.pop("study_title"), values.pop("study_synthetic")
    site = values.pop("site_code")
    if code is None:
        return RequestScope(user, session_last_seen=last_seen, server_admin=server_admin)
    protocol = protocol_from_text(text, code)
    study = StudyScope(code, title, bool(synthetic), protocol)
    if values["id"] is None or not role:
        return RequestScope(user, None, None, protocol, last_seen, study, server_admin)
    return RequestScope(
        user, SubjectView.from_row(values), site, protocol, last_seen, study, server_admin
    )


def list_sites(session: Session, study: Study) -> list[str]:
    query = select(Site.code).where(Site.study_id == study.id, Site.deleted_at.is_(None))
    return list(session.scalars(query.order_by(Site.code)))


#: Subjects still in the study (unless ended): they owe a consent an amendment asks for.
STILL_IN_STUDY = (SubjectStatus.ENROLLED, SubjectStatus.SCREENING_PENDING)


@dataclass(frozen=True)
class Timeline:
    """A subject's whole record as typed, read-only views, for pages and API answers."""

    subject: SubjectView | Subject
    site: str
    first_dose: date | None
    baseline: BaselineView | None
    eligibility: list[EligibilityView]
    prior_therapies: list[PriorTherapyView]
    exposure: list[ExposureView]
    visits: list[VisitView]
    interruptions: list[InterruptionView] = field(default_factory=list)
    assessments: dict[int, list[AssessmentView]] = field(default_factory=dict)
    adverse_events: list[AdverseEventView] = field(default_factory=list)
    labs: list[LabView] = field(default_factory=list)
    con_meds: list[ConMedView] = field(default_factory=list)
    queries: list[QueryView] = field(default_factory=list)
    verifications: list[VerificationView] = field(default_factory=list)
    signatures: list[SignatureView] = field(default_factory=list)
    #: the locks that hold now: the whole study's, and the subject's own
    locks: list[LockView] = field(default_factory=list)
    #: photographs not removed, and the patient's diary (by day)
    photographs: list[PhotographView] = field(default_factory=list)
    diary: list[DiaryEntryView] = field(default_factory=list)
    #: the subject's new consents (oldest first) and the study's approved versions
    consents: list[ConsentView] = field(default_factory=list)
    protocol_versions: list[ProtocolVersionView] = field(default_factory=list)

    @property
    def consent(self) -> ConsentState | None:
        """The versions the subject consented to and the one they still owe (decision
        0020); None for a study whose protocol versions are not kept."""
        if not self.protocol_versions:
            return None
        approved = [(v.protocol_version, v.effective_on, bool(v.reconsent))
                    for v in self.protocol_versions]  # fmt: skip
        in_study = (self.subject.status in STILL_IN_STUDY
                    and getattr(self.subject, "ended_on", None) is None)  # fmt: skip
        return consent_state(self.subject.screened_on,
                             [(c.protocol_version, c.consented_on) for c in self.consents],
                             approved, in_study=in_study)  # fmt: skip

    @property
    def lock(self) -> LockView | None:
        """The lock that stops changes to this subject's record (the study's first), if any."""
        return min(self.locks, key=lambda k: k.subject_id is not None, default=None)

    @property
    def last_dose(self) -> date | None:
        """The day of the last dose of study drug, once every course has ended."""
        ends = [e.end_date for e in self.exposure]
        if not ends or None in ends:
            return None
        return max(e for e in ends if e is not None)

    def after_end(self, when: date | None) -> str:
        """Whether a record dated ``when`` comes after the end of the study for this subject,
        or after its last dose of study drug: the words to mark it with, or ``""``."""
        ended = getattr(self.subject, "ended_on", None)
        if when is None:
            return ""
        if ended is not None and when > ended:
            return "after the end of study"
        last = self.last_dose
        if last is not None and when > last:
            return "after the last dose"
        return ""

    @property
    def signature(self) -> SignatureView | None:
        """The casebook's latest valid signature, if any (a change invalidates it)."""
        valid = [g for g in self.signatures if g.invalidated_at is None and g.visit_id is None]
        return valid[-1] if valid else None

    @functools.cached_property
    def _open_by_record(self) -> dict[tuple[str, int], list[QueryView]]:
        found: dict[tuple[str, int], list[QueryView]] = {}
        for q in self.queries:
            if q.state != "closed":
                found.setdefault((q.table_name, q.record_id), []).append(q)
        return found

    @functools.cached_property
    def _verified_versions(self) -> set[tuple[str, int, int]]:
        return {(v.table_name, v.record_id, v.record_version)
                for v in self.verifications if v.field is None}  # fmt: skip

    def open_queries(self, table: str, record_id: int) -> list[QueryView]:
        """The record's queries that are not closed."""
        return self._open_by_record.get((table, record_id), [])

    def verified(self, table: str, record_id: int, version: int) -> bool:
        """Whether the record is verified at this version (a later change clears it)."""
        return (table, record_id, version) in self._verified_versions


def subject_timeline(
    connection: Connection, subject: SubjectView | Subject, *, site: str | None = None
) -> Timeline:
    """Everything recorded for ``subject`` (its view or its record), read in one statement."""
    if site is None:
        site = connection.execute(select(Site.code).where(Site.id == subject.site_id)).scalar_one()
    rows, consents, versions = subject_consents(connection, subject.id)
    visits = sorted(rows.visit, key=lambda v: (v.visit_date or date.max, v.id))
    assessments: dict[int, list[AssessmentView]] = {v.id: [] for v in visits}
    for a in rows.assessment:
        assessments[a.visit_id].append(a)
    return Timeline(
        subject=subject,
        site=site,
        first_dose=first_dose(e.start_date for e in rows.exposure),
        baseline=rows.baseline[0] if rows.baseline else None,
        eligibility=rows.eligibility_result,
        prior_therapies=rows.prior_therapy,
        exposure=rows.exposure,
        interruptions=rows.exposure_interruption,
        visits=visits,
        assessments=assessments,
        adverse_events=rows.adverse_event,
        labs=sorted(rows.lab, key=lambda x: (x.sample_date, x.id)),
        con_meds=rows.con_med,
        queries=rows.data_query,
        verifications=rows.verification,
        signatures=rows.signature,
        locks=rows.study_lock,
        photographs=rows.photograph,
        diary=sorted(rows.diary_entry, key=lambda d: d.entry_date),
        consents=consents,
        protocol_versions=versions,
    )


@dataclass(frozen=True)
class PlannedVisit:
    subject: str
    site: str
    visit_code: str
    label: str
    due: date
    window_end: date
    state: str  # done, due, upcoming, overdue, out_of_window, missed


def visit_schedule(
    session: Session, study: Study, *, sites: list[str] | None, today: date
) -> list[PlannedVisit]:
    """Each enrolled subject's planned visits with their state on ``today``.

    Three queries for the whole study (subjects, first doses, visits), not three per subject.
    """
    protocol = protocol_of(study)
    history = protocol_history(session, study)
    # a visit an amendment added is not owed where its window closed before it took effect
    since = {v.code: history.planned_since(v.code) for v in protocol.visits}
    enrolled = [
        r for r in list_subjects(session, study, sites=sites) if r.status == SubjectStatus.ENROLLED
    ]
    ids = [r.id for r in enrolled]
    doses = session.execute(doses_by_subject().where(Exposure.subject_id.in_(ids)))
    first_doses: dict[int, date] = {row.subject_id: row.first_dose for row in doses}
    done: dict[int, dict[str, Visit]] = {i: {} for i in ids}
    for visit in session.scalars(
        select(Visit).where(Visit.subject_id.in_(ids), Visit.deleted_at.is_(None))
    ):
        done[visit.subject_id][visit.visit_code] = visit
    result = []
    for row in enrolled:
        base = done[row.id].get(protocol.baseline_visit.code)
        anchor = day_zero(
            first_dose=first_doses.get(row.id),
            baseline_date=base.visit_date if base else None,
            enrolled_on=row.enrolled_on,
        )
        if anchor is None:
            continue
        for planned in protocol.visits:
            due = anchor + timedelta(days=planned.day)
            end = due + timedelta(days=planned.window_after)
            added = since[planned.code]
            if added is not None and end < added and planned.code not in done[row.id]:
                continue
            state = _visit_state(done[row.id].get(planned.code), planned, due, end, today)
            result.append(
                PlannedVisit(row.code, row.site, planned.code, planned.label, due, end, state)
            )
    return result


def _visit_state(visit: Visit | None, planned: Any, due: date, end: date, today: date) -> str:
    if visit is not None:
        if visit.status == VisitStatus.MISSED:
            return "missed"
        return (
            "out_of_window" if visit.window_status not in (None, WindowStatus.IN_WINDOW) else "done"
        )
    if today > end:
        return "overdue"
    if today >= due - timedelta(days=planned.window_before):
        return "due"
    return "upcoming"


SUBJECT_RECORD_TABLES: dict[str, type[Record]] = {
    "baseline": Baseline,
    "eligibility_result": EligibilityResult,
    "prior_therapy": PriorTherapy,
    "exposure": Exposure,
    "visit": Visit,
    "adverse_event": AdverseEvent,
    "lab": Lab,
    "con_med": ConMed,
    "photograph": Photograph,
    "diary_entry": DiaryEntry,
}


def site_of_record(session: Session, table: str, record_id: int) -> tuple[str, str]:
    """(site code, subject code) of a subject's record, for access checks on its history."""
    if not 0 < record_id <= MAX_ID:
        raise RecordNotFoundError(f"{table} {record_id} does not exist")
    subject_id: int | None
    if table == "subject":
        subject_id = record_id
    elif table == "assessment":
        assessment = session.get(Assessment, record_id)
        visit = None if assessment is None else session.get(Visit, assessment.visit_id)
        subject_id = None if visit is None else visit.subject_id
    elif table == "exposure_interruption":
        pause = session.get(ExposureInterruption, record_id)
        course = None if pause is None else session.get(Exposure, pause.exposure_id)
        subject_id = None if course is None else course.subject_id
    elif table in SUBJECT_RECORD_TABLES:
        row = session.get(SUBJECT_RECORD_TABLES[table], record_id)
        subject_id = None if row is None else row.subject_id  # type: ignore[attr-defined]
    else:
        raise RecordNotFoundError(f"{table} records have no subject history view")
    subject = None if subject_id is None else session.get(Subject, subject_id)
    # a record of another study is as absent as one that never was
    if subject is None or subject.study_id != study_in_scope(session).id:
        raise RecordNotFoundError(f"{table} {record_id} does not exist")
    return session.get_one(Site, subject.site_id).code, subject.code
