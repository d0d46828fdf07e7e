"""Store services for patient entry: invite, open the patient's page, save their answers,
and the staff's one change to them (not used in the analysis, with a reason).

The audit trail records a patient's save under the user ``patient <code>`` with the
invitation's number as the reason, so that the trail says who answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from pustula.checks.vocabulary import label
from pustula.errors import DataValidationError, InvitationError, LockedError, RecordNotFoundError
from pustula.store.db.models import (
    Assessment,
    DiaryEntry,
    PatientInvitation,
    Study,
    Subject,
    Visit,
)
from pustula.store.db.uow import Store, update_record
from pustula.store.monitoring.on_save import refuse_if_locked
from pustula.store.records import patient
from pustula.store.records.contacts import check_address, keep_address
from pustula.store.records.study import get_study, get_subject, protocol_of

__all__ = [
    "Invitation",
    "PatientVisit",
    "invite",
    "invite_diary",
    "mark_diary_day_not_used",
    "mark_not_used",
    "open_patient_visit",
    "submit_answers",
]


@dataclass(frozen=True)
class Invitation:
    """An invitation just issued: its token is shown this once and never stored."""

    id: int
    token: str
    kind: str
    language: str
    expires_at: str
    instruments: tuple[str, ...]
    visit_label: str


@dataclass(frozen=True)
class PatientVisit:
    """What the patient's page needs: no name, no subject code, only the visit and the
    questionnaires to answer."""

    invitation_id: int
    study_title: str
    visit_label: str
    instruments: tuple[str, ...]
    language: str
    kind: str
    expires_at: str
    #: a diary's day to answer (None for a visit's questionnaires); instruments are empty
    #: once that day is recorded
    diary_day: date | None = None

    @property
    def diary(self) -> bool:
        return self.kind in patient.DIARY_KINDS


def _today() -> date:
    """The diary's day: the server's calendar date (a site runs its server in its zone)."""
    return date.today()


def _visit_label(study: Study, visit: Visit) -> str:
    labels = {v.code: v.label for v in protocol_of(study).visits}
    return labels.get(visit.visit_code, visit.visit_code)


def invite(
    store: Store, user: str, code: str, visit_id: int, *, kind: str, language: str,
    hours: float | None = None,
) -> Invitation:  # fmt: skip
    """Issue an invitation for subject ``code`` to answer at visit ``visit_id``."""
    with store.transaction(user=user) as tx:
        study = get_study(tx.session)
        subject = get_subject(tx.session, study, code)
        visit = tx.session.get(Visit, visit_id)
        if visit is None or visit.subject_id != subject.id:
            raise RecordNotFoundError(f"subject {code} has no visit {visit_id}")
        refuse_if_locked(tx.session.connection(), {subject.id})
        lifetime = timedelta(hours=hours) if hours else None
        found, token = patient.issue_invitation(
            tx, subject, visit, kind=kind, language=language, lifetime=lifetime
        )
        return Invitation(found.id, token, found.kind, found.language, found.expires_at,
                          tuple(found.instruments), _visit_label(study, visit))  # fmt: skip


def invite_diary(
    store: Store, user: str, code: str, *, language: str, days: int, reminders: bool = False,
    email: str | None = None,
) -> Invitation:  # fmt: skip
    """A diary link for subject ``code`` for ``days`` days from its latest visit; with
    ``reminders``, the patient's e-mail address is kept apart (:mod:`.reminders`) and a
    daily reminder sends a link of the day."""
    if reminders:
        email = check_address(email or "")
    with store.transaction(user=user) as tx:
        study = get_study(tx.session)
        subject = get_subject(tx.session, study, code)
        refuse_if_locked(tx.session.connection(), {subject.id})
        visits = [v for v in tx.session.scalars(select(Visit).where(
            Visit.subject_id == subject.id, Visit.status == "done",
            Visit.deleted_at.is_(None))) if v.visit_date]  # fmt: skip
        if not visits:
            raise DataValidationError(f"subject {code} has no visit yet to start a diary from")
        latest = max(visits, key=lambda v: (v.visit_date, v.id))
        found, token = patient.issue_diary(
            tx, subject, latest, language=language, lifetime=timedelta(days=days),
            reminders=reminders,
        )  # fmt: skip
        if reminders and email:
            keep_address(tx.session, subject.id, email)
        return Invitation(found.id, token, found.kind, found.language, found.expires_at,
                          tuple(found.instruments), _visit_label(study, latest))  # fmt: skip


def open_patient_visit(store: Store, token: str) -> PatientVisit:
    """The patient's page behind ``token``, or :class:`InvitationError` (``locked`` too)."""
    with store.reader() as session:
        found = patient.open_invitation(session, token)
        _refuse_if_locked(session.connection(), found)
        visit = session.get_one(Visit, found.visit_id)
        study = session.get_one(Study, session.get_one(Subject, found.subject_id).study_id)
        if found.kind in patient.DIARY_KINDS:
            day = _today()
            done = patient.diary_done(session, found.subject_id, day)
            if done and found.kind == "diary_day":
                raise InvitationError(f"the diary of {day} is recorded", reason="answered")
            return PatientVisit(found.id, study.title, _visit_label(study, visit),
                                () if done else tuple(found.instruments), found.language,
                                found.kind, found.expires_at, diary_day=day)  # fmt: skip
        still = set(patient.open_instruments(session, visit))
        return PatientVisit(
            found.id, study.title, _visit_label(study, visit),
            tuple(i for i in found.instruments if i in still), found.language, found.kind,
            found.expires_at,
        )  # fmt: skip


def _refuse_if_locked(connection: object, found: PatientInvitation) -> None:
    number, subject_id = found.id, found.subject_id
    try:
        refuse_if_locked(connection, {subject_id})  # type: ignore[arg-type]
    except LockedError as exc:
        raise InvitationError(f"invitation {number}: {exc.message}", reason="locked") from exc


def submit_answers(
    store: Store, token: str, answers: Mapping[str, Mapping[str, object]], *, device: str
) -> list[int]:
    """Save the patient's answers behind ``token``; the ids of the assessments saved."""
    with store.reader() as session:
        found = patient.open_invitation(session, token)
        code, number = session.get_one(Subject, found.subject_id).code, found.id
        _refuse_if_locked(session.connection(), found)
    try:
        with store.transaction(
            user=f"patient {code}", reason=f"answered by the patient (invitation {number})"
        ) as tx:
            found = patient.open_invitation(tx.session, token)  # again, inside the save
            if found.kind in patient.DIARY_KINDS:
                entry = patient.save_diary_day(tx, found, answers, device=device, day=_today())
                return [entry.id]
            saved = patient.save_patient_answers(tx, found, answers, device=device)
            return [a.id for a in saved]
    except LockedError as exc:  # locked between the look and the save
        raise InvitationError(f"invitation {number}: {exc.message}", reason="locked") from exc


def _why_not_used(reason: str, what: str) -> str:
    if not reason.strip():
        raise DataValidationError(
            f"reason: say why {what} not used (it goes into the audit trail)",
            field="reason",
        )
    return reason.strip()


def mark_not_used(
    store: Store, user: str, code: str, assessment_id: int, *, reason: str, expected_version: int
) -> None:
    """Mark a patient's answers as not used in the analysis; they stay, audited."""
    with store.transaction(user=user, reason=_why_not_used(reason, "these answers are")) as tx:
        subject = get_subject(tx.session, get_study(tx.session), code)
        found = tx.session.get(Assessment, assessment_id)
        visit = tx.session.get(Visit, found.visit_id) if found else None
        if found is None or visit is None or visit.subject_id != subject.id:
            raise RecordNotFoundError(f"subject {code} has no assessment {assessment_id}")
        if found.source != "patient":
            raise DataValidationError(
                f"{label('instrument', found.instrument)} was entered by the site: correct it "
                "with a reason instead"
            )
        update_record(tx, found, {"not_used_reason": reason.strip()},
                      expected_version=expected_version)  # fmt: skip


def mark_diary_day_not_used(
    store: Store, user: str, code: str, entry_id: int, *, reason: str, expected_version: int
) -> None:
    """Mark one day of the patient's diary as not used; it stays, audited."""
    with store.transaction(user=user, reason=_why_not_used(reason, "this day is")) as tx:
        subject = get_subject(tx.session, get_study(tx.session), code)
        found = tx.session.get(DiaryEntry, entry_id)
        if found is None or found.subject_id != subject.id or found.deleted_at is not None:
            raise RecordNotFoundError(f"subject {code} has no diary day {entry_id}")
        update_record(tx, found, {"not_used_reason": reason.strip()},
                      expected_version=expected_version)  # fmt: skip
