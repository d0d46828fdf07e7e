"""Read-only views the web app and API need: lists, a subject's timeline, record owners."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pustula.errors import RecordNotFoundError
from pustula.store.models import (
    AdverseEvent,
    Assessment,
    Baseline,
    ConMed,
    EligibilityResult,
    Exposure,
    Lab,
    PriorTherapy,
    Record,
    Site,
    Study,
    Subject,
    Visit,
)
from pustula.store.study import protocol_of
from pustula.store.visits import first_dose_date

__all__ = [
    "SubjectRow",
    "Timeline",
    "list_sites",
    "list_subjects",
    "site_of_record",
    "subject_timeline",
    "subject_with_site",
    "visit_schedule",
]


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


def subject_with_site(session: Session, code: str) -> tuple[Subject, str] | None:
    """The subject with this code in the (only) live study, and its site code, in one query."""
    row = session.execute(
        select(Subject, Site.code)
        .join(Site, Site.id == Subject.site_id)
        .join(Study, Study.id == Subject.study_id)
        .where(Subject.code == code, Subject.deleted_at.is_(None), Study.deleted_at.is_(None))
    ).first()
    return None if row is None else (row[0], row[1])


def list_sites(session: Session, study: Study) -> list[str]:
    query = select(Site.code).where(Site.study_id == study.id, Site.deleted_at.is_(None))
    return list(session.scalars(query.order_by(Site.code)))


def _live(session: Session, model: type[Any], **where: Any) -> list[Any]:
    query = select(model).where(model.deleted_at.is_(None))
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    return list(session.scalars(query.order_by(model.id)))


@dataclass
class Timeline:
    subject: Subject
    site: str
    first_dose: date | None
    baseline: Baseline | None
    eligibility: list[EligibilityResult]
    prior_therapies: list[PriorTherapy]
    exposure: list[Exposure]
    visits: list[Visit]
    assessments: dict[int, list[Assessment]] = field(default_factory=dict)
    adverse_events: list[AdverseEvent] = field(default_factory=list)
    labs: list[Lab] = field(default_factory=list)
    con_meds: list[ConMed] = field(default_factory=list)


def subject_timeline(session: Session, subject: Subject, *, site: str | None = None) -> Timeline:
    site = site or session.get_one(Site, subject.site_id).code
    visits = _live(session, Visit, subject_id=subject.id)
    visits.sort(key=lambda v: (v.visit_date or date.max, v.id))
    assessments: dict[int, list[Assessment]] = {v.id: [] for v in visits}
    if visits:
        rows = session.scalars(
            select(Assessment).where(
                Assessment.visit_id.in_(list(assessments)), Assessment.deleted_at.is_(None)
            )
        )
        for a in rows:
            assessments[a.visit_id].append(a)
    baseline = session.scalar(select(Baseline).where(Baseline.subject_id == subject.id))
    return Timeline(
        subject=subject,
        site=site,
        first_dose=first_dose_date(session, subject),
        baseline=baseline,
        eligibility=_live(session, EligibilityResult, subject_id=subject.id),
        prior_therapies=_live(session, PriorTherapy, subject_id=subject.id),
        exposure=_live(session, Exposure, subject_id=subject.id),
        visits=visits,
        assessments=assessments,
        adverse_events=_live(session, AdverseEvent, subject_id=subject.id),
        labs=sorted(
            _live(session, Lab, subject_id=subject.id), key=lambda x: (x.sample_date, x.id)
        ),
        con_meds=_live(session, ConMed, subject_id=subject.id),
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
    enrolled = [r for r in list_subjects(session, study, sites=sites) if r.status == "enrolled"]
    ids = [r.id for r in enrolled]
    doses = session.execute(
        select(Exposure.subject_id, func.min(Exposure.start_date))
        .where(Exposure.subject_id.in_(ids), Exposure.deleted_at.is_(None))
        .group_by(Exposure.subject_id)
    )
    first_doses: dict[int, date] = {subject_id: first for subject_id, first in doses}
    done: dict[int, dict[str, Visit]] = {i: {} for i in ids}
    for visit in session.scalars(
        select(Visit).where(Visit.subject_id.in_(ids), Visit.deleted_at.is_(None))
    ):
        done[visit.subject_id][visit.visit_code] = visit
    result = []
    for row in enrolled:
        base = done[row.id].get(protocol.baseline_visit.code)
        anchor = first_doses.get(row.id) or (base.visit_date if base else None) or row.enrolled_on
        if anchor is None:
            continue
        for planned in protocol.visits:
            due = anchor + timedelta(days=planned.day)
            end = due + timedelta(days=planned.window_after)
            state = _visit_state(done[row.id].get(planned.code), planned, due, end, today)
            result.append(
                PlannedVisit(row.code, row.site, planned.code, planned.label, due, end, state)
            )
    return result


def _visit_state(visit: Visit | None, planned: Any, due: date, end: date, today: date) -> str:
    if visit is not None:
        if visit.status == "missed":
            return "missed"
        return "out_of_window" if visit.window_status not in (None, "in_window") else "done"
    if today > end:
        return "overdue"
    if today >= due - timedelta(days=planned.window_before):
        return "due"
    return "upcoming"


_SUBJECT_COLUMN: dict[str, type[Record]] = {
    "baseline": Baseline,
    "eligibility_result": EligibilityResult,
    "prior_therapy": PriorTherapy,
    "exposure": Exposure,
    "visit": Visit,
    "adverse_event": AdverseEvent,
    "lab": Lab,
    "con_med": ConMed,
}


def site_of_record(session: Session, table: str, record_id: int) -> tuple[str, str]:
    """(site code, subject code) of a subject's record, for access checks on its history."""
    subject_id: int | None
    if table == "subject":
        subject_id = record_id
    elif table == "assessment":
        assessment = session.get(Assessment, record_id)
        visit = None if assessment is None else session.get(Visit, assessment.visit_id)
        subject_id = None if visit is None else visit.subject_id
    elif table in _SUBJECT_COLUMN:
        row = session.get(_SUBJECT_COLUMN[table], record_id)
        subject_id = None if row is None else row.subject_id  # type: ignore[attr-defined]
    else:
        raise RecordNotFoundError(f"{table} records have no subject history view")
    subject = None if subject_id is None else session.get(Subject, subject_id)
    if subject is None:
        raise RecordNotFoundError(f"{table} {record_id} does not exist")
    return session.get_one(Site, subject.site_id).code, subject.code
