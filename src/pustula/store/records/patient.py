"""Patient entry: one-time invitations, the patient's own answers, and their protection.

A coordinator invites a subject to answer their own questionnaires at a visit (a link with
a QR code, or a kiosk session on a site tablet). The token is 32 random bytes; only its
SHA-256 is stored, and never in the audit trail. The answers are saved as the subject's
own (``source = patient``, with the time and the device), scored at once, and the token is
spent in the same transaction.

Once saved, a patient's answers cannot be changed by staff through any write path: a
flush that would change or remove them is refused (:class:`PatientAnswerError`). Staff can
raise a query, or mark the answers not used in the analysis, with a reason.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from pustula.errors import DataValidationError, InvitationError, PatientAnswerError
from pustula.protocol.status import SubjectStatus, VisitStatus
from pustula.store.db.models import Assessment, DiaryEntry, PatientInvitation, Subject, Visit
from pustula.store.db.uow import AuditedSession, Transaction
from pustula.store.records.visits import save_assessments

__all__ = [
    "DIARY_INSTRUMENTS",
    "DIARY_KINDS",
    "KINDS",
    "LANGUAGES",
    "PATIENT_INSTRUMENTS",
    "PROTECTED",
    "diary_done",
    "hash_token",
    "issue_diary",
    "issue_invitation",
    "open_instruments",
    "open_invitation",
    "save_diary_day",
    "save_patient_answers",
]

#: What a patient answers themselves, in the order the page asks.
PATIENT_INSTRUMENTS: tuple[str, ...] = ("itch_nrs", "pain_nrs", "dlqi")
#: A link lasts up to a week; a kiosk session on a site tablet an hour.
KINDS: dict[str, timedelta] = {"link": timedelta(days=7), "kiosk": timedelta(hours=1)}
#: A diary link opens a day's itch and pain each day until the next visit (at most 12
#: weeks); a reminder's link of the day works once, for a day and a half.
DIARY_KINDS: dict[str, timedelta] = {"diary": timedelta(weeks=12),
                                     "diary_day": timedelta(hours=36)}  # fmt: skip
#: What a diary day asks: the worst itch and pain of the last 24 hours.
DIARY_INSTRUMENTS: tuple[str, ...] = ("itch_nrs", "pain_nrs")
#: The interface languages a patient can be invited in.
LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch"}
#: The columns of a patient's answers no one but the patient sets.
PROTECTED = frozenset({
    "items", "total", "band", "subscores", "warnings", "not_done_reason", "source",
    "answered_at", "device", "instrument", "instrument_version", "visit_id", "deleted_at",
})  # fmt: skip


#: A diary day's columns: the patient's alone (staff mark it not used, nothing else).
DIARY_PROTECTED = frozenset({
    "entry_date", "itch_nrs", "pain_nrs", "answered_at", "device", "subject_id",
    "invitation_id", "deleted_at",
})  # fmt: skip
_DIARY_REFUSAL = (
    "the diary of {day} was written by the patient and cannot be changed by staff; raise a "
    "query, or mark it not used with a reason"
)


def hash_token(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored and looked up.

    >>> len(hash_token("abc")), hash_token("abc") == hash_token("abc")
    (64, True)
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def open_instruments(session: Session, visit: Visit) -> list[str]:
    """The patient's questionnaires not yet recorded at ``visit``, in the page's order."""
    recorded = set(session.scalars(select(Assessment.instrument).where(
        Assessment.visit_id == visit.id, Assessment.deleted_at.is_(None))))  # fmt: skip
    return [i for i in PATIENT_INSTRUMENTS if i not in recorded]


def issue_invitation(
    tx: Transaction, subject: Subject, visit: Visit, *, kind: str, language: str,
    lifetime: timedelta | None = None,
) -> tuple[PatientInvitation, str]:  # fmt: skip
    """A new invitation for ``subject`` to answer at ``visit``, and its token (shown once).

    Raises :class:`DataValidationError` when the subject is not on study, the visit was
    missed, or every patient questionnaire of the visit is recorded already.
    """
    if kind not in KINDS:
        raise DataValidationError(f"kind: choose one of {', '.join(KINDS)}", field="kind")
    if language not in LANGUAGES:
        raise DataValidationError("language: choose one of the listed languages", field="language")
    if subject.status != SubjectStatus.ENROLLED:  # efficacy answers end with participation
        raise DataValidationError(f"subject {subject.code} is not on study")
    if visit.subject_id != subject.id or visit.deleted_at is not None:
        raise DataValidationError("choose a visit of this subject", field="visit")
    if visit.status != VisitStatus.DONE:
        raise DataValidationError(f"visit {visit.visit_code} was missed; nothing to answer")
    instruments = open_instruments(tx.session, visit)
    if not instruments:
        raise DataValidationError(
            f"every patient questionnaire of visit {visit.visit_code} is recorded already"
        )
    longest = KINDS[kind]
    lifetime = min(lifetime or longest, longest)
    token = secrets.token_urlsafe(32)
    invitation = PatientInvitation(
        subject_id=subject.id, visit_id=visit.id, token_hash=hash_token(token), kind=kind,
        instruments=instruments, language=language,
        expires_at=(_now() + lifetime).isoformat(timespec="seconds"),
    )  # fmt: skip
    tx.session.add(invitation)
    tx.session.flush()
    return invitation, token


def open_invitation(session: Session, token: str) -> PatientInvitation:
    """The invitation ``token`` opens, if it can still be used (locks are the caller's).

    Raises :class:`InvitationError` with ``reason`` ``unknown``, ``used``, ``expired`` or
    ``answered`` (the visit's questionnaires were recorded meanwhile).
    """
    found = session.scalars(select(PatientInvitation).where(
        PatientInvitation.token_hash == hash_token(token),
        PatientInvitation.deleted_at.is_(None))).first()  # fmt: skip
    if found is None:
        raise InvitationError("no such invitation", reason="unknown")
    if found.used_at is not None:
        raise InvitationError(f"invitation {found.id} was used already", reason="used")
    if datetime.fromisoformat(found.expires_at) <= _now():
        raise InvitationError(f"invitation {found.id} has expired", reason="expired")
    if found.kind in DIARY_KINDS:
        return found
    visit = session.get(Visit, found.visit_id)
    if (
        visit is None
        or visit.deleted_at is not None
        or not (set(found.instruments) & set(open_instruments(session, visit)))
    ):
        raise InvitationError(
            f"the questionnaires of invitation {found.id} are recorded already", reason="answered"
        )
    return found


def save_patient_answers(
    tx: Transaction, invitation: PatientInvitation, answers: Mapping[str, Mapping[str, object]],
    *, device: str,
) -> list[Assessment]:  # fmt: skip
    """Score and save the patient's answers as their own, and spend the invitation.

    Only the invitation's instruments still open at its visit are taken; a bad answer
    raises :class:`~pustula.errors.ScoringInputError` and nothing is saved.
    """
    visit = tx.session.get_one(Visit, invitation.visit_id)
    wanted = [i for i in invitation.instruments if i in open_instruments(tx.session, visit)]
    given = {name: items for name, items in answers.items() if name in wanted}
    if not given:
        raise DataValidationError("answer at least one of the questions", field="answers")
    answered_at = _now().isoformat(timespec="seconds")
    who = {"source": "patient", "answered_at": answered_at, "device": device[:200] or None}
    saved = save_assessments(tx, visit, given, source=who)
    invitation.used_at = answered_at
    tx.session.flush()
    return saved


def issue_diary(
    tx: Transaction, subject: Subject, visit: Visit, *, language: str, lifetime: timedelta,
    reminders: bool = False, parent: PatientInvitation | None = None,
) -> tuple[PatientInvitation, str]:  # fmt: skip
    """A diary link for ``subject`` from ``visit`` on (or, with ``parent``, a reminder's
    link of the day for that diary), and its token (shown or sent once)."""
    kind = "diary" if parent is None else "diary_day"
    if language not in LANGUAGES:
        raise DataValidationError("language: choose one of the listed languages", field="language")
    if subject.status != SubjectStatus.ENROLLED:
        raise DataValidationError(f"subject {subject.code} is not on study")
    if visit.subject_id != subject.id or visit.status != VisitStatus.DONE:
        raise DataValidationError("choose a visit of this subject that took place", field="visit")
    lifetime = min(lifetime, DIARY_KINDS[kind])
    token = secrets.token_urlsafe(32)
    invitation = PatientInvitation(
        subject_id=subject.id, visit_id=visit.id, token_hash=hash_token(token), kind=kind,
        instruments=list(DIARY_INSTRUMENTS), language=language, reminders=reminders,
        expires_at=(_now() + lifetime).isoformat(timespec="seconds"),
        parent_id=None if parent is None else parent.id,
    )  # fmt: skip
    tx.session.add(invitation)
    tx.session.flush()
    return invitation, token


def diary_done(session: Session, subject_id: int, day: date) -> bool:
    """Whether the subject's diary of ``day`` is recorded."""
    return session.scalars(select(DiaryEntry.id).where(
        DiaryEntry.subject_id == subject_id, DiaryEntry.entry_date == day,
        DiaryEntry.deleted_at.is_(None))).first() is not None  # fmt: skip


def save_diary_day(
    tx: Transaction, invitation: PatientInvitation, answers: Mapping[str, Mapping[str, object]],
    *, device: str, day: date,
) -> DiaryEntry:  # fmt: skip
    """The patient's itch and pain of ``day``; a day is recorded once."""
    if diary_done(tx.session, invitation.subject_id, day):
        raise InvitationError(f"the diary of {day} is recorded already", reason="answered")
    values = {}
    for name in DIARY_INSTRUMENTS:
        raw = answers.get(name, {}).get(name)
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 10:
            raise DataValidationError(f"{name}: choose a number from 0 to 10", field=name)
        values[name] = raw
    answered_at = _now().isoformat(timespec="seconds")
    entry = DiaryEntry(subject_id=invitation.subject_id, invitation_id=invitation.id,
                       entry_date=day, answered_at=answered_at, device=device[:200] or None,
                       **values)  # fmt: skip
    tx.session.add(entry)
    if invitation.kind == "diary_day":
        invitation.used_at = answered_at
    tx.session.flush()
    return entry


def _original(obj: Assessment) -> Any:
    history = inspect(obj).attrs.source.history
    return (history.deleted or history.unchanged or [obj.source])[0]


def _refuse_staff_edits(session: Session, _context: Any, _instances: Any) -> None:
    """Before every flush: a patient's saved answers are changed or removed by no one."""
    for obj in session.dirty:
        if isinstance(obj, Assessment) and _original(obj) == "patient":
            state = inspect(obj)
            changed = {a.key for a in state.attrs if a.history.has_changes()}
            if changed & PROTECTED:
                raise PatientAnswerError(_refusal(obj))
        if isinstance(obj, DiaryEntry) and inspect(obj).has_identity:
            state = inspect(obj)
            if {a.key for a in state.attrs if a.history.has_changes()} & DIARY_PROTECTED:
                raise PatientAnswerError(_DIARY_REFUSAL.format(day=obj.entry_date))
    for obj in session.deleted:
        if isinstance(obj, Assessment) and _original(obj) == "patient":
            raise PatientAnswerError(_refusal(obj))
        if isinstance(obj, DiaryEntry):
            raise PatientAnswerError(_DIARY_REFUSAL.format(day=obj.entry_date))


def _refusal(obj: Assessment) -> str:
    return (
        f"the {obj.instrument} answers of assessment {obj.id} were given by the patient and "
        "cannot be changed by staff; raise a query, or mark them not used with a reason"
    )


event.listen(AuditedSession, "before_flush", _refuse_staff_edits)
