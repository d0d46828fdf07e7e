"""Store services for changes to a subject's records after enrolment, each with a reason.

Like :mod:`pustula.store.services.clinical`, each opens its own unit of work and answers with a
typed view; the reason goes into the audit trail with every field the change touched.
A record is found through its subject, so another subject's record is "not found".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal, TypeVar

from sqlalchemy.orm import Session

from pustula.errors import DataValidationError, RecordNotFoundError
from pustula.store.db.models import (
    AdverseEvent,
    ConMed,
    Exposure,
    ExposureInterruption,
    Lab,
    Record,
    Study,
    Subject,
    Visit,
)
from pustula.store.db.uow import Store, Transaction, get_record, remove
from pustula.store.records import casebook
from pustula.store.records.enrolment import Enrolment, rescreen_subject
from pustula.store.records.safety import add_interruption, update_adverse_event
from pustula.store.records.schemas import ExposureIn
from pustula.store.records.study import get_study, get_subject
from pustula.store.records.visits import update_visit
from pustula.store.services.clinical import view_of

__all__ = [
    "EditableKind",
    "change_dose",
    "change_record",
    "change_visit_date",
    "end_interruption",
    "end_participation",
    "interrupt_treatment",
    "remove_record",
    "rescreen",
    "start_treatment",
    "stop_treatment",
]

R = TypeVar("R", bound=Record)
EditableKind = Literal["ae", "lab", "conmed"]
_MODELS: dict[str, type[Record]] = {"ae": AdverseEvent, "lab": Lab, "conmed": ConMed}


def _reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise DataValidationError(
            "reason: say why the saved record is changed (it goes into the audit trail)",
            field="reason",
        )
    return reason.strip()


def _subject(tx: Transaction, code: str) -> tuple[Study, Subject]:
    study = get_study(tx.session)
    return study, get_subject(tx.session, study, code)


def _owned(session: Session, model: type[R], record_id: int, subject: Subject) -> R:
    row = get_record(session, model, record_id)
    owner = getattr(row, "subject_id", None)
    if isinstance(row, ExposureInterruption):
        owner = get_record(session, Exposure, row.exposure_id).subject_id
    if owner != subject.id:
        raise RecordNotFoundError(f"{row.label} is not a record of subject {subject.code}")
    return row


def rescreen(
    store: Store, user: str, code: str, payload: Mapping[str, Any], *, reason: str
) -> Enrolment:
    """Screen a pending subject or a screen failure again, keeping the earlier screening."""
    with store.transaction(user=user, reason=_reason(reason)) as tx:
        study, subject = _subject(tx, code)
        return rescreen_subject(tx, study, subject, **payload)


def end_participation(
    store: Store, user: str, code: str, *, outcome: casebook.EndOutcome, ended_on: date,
    reason: str, last_contact: date | None = None, last_dose: date | None = None,
) -> Any:  # fmt: skip
    """Withdrawal, discontinuation or end of study; ``reason`` is also the audit's reason."""
    with store.transaction(user=user, reason=_reason(reason)) as tx:
        _, subject = _subject(tx, code)
        casebook.end_participation(
            tx, subject, outcome=outcome, ended_on=ended_on, reason=reason,
            last_contact=last_contact, last_dose=last_dose,
        )  # fmt: skip
        return view_of(subject)


def start_treatment(
    store: Store, user: str, code: str, data: Mapping[str, Any] | ExposureIn,
    *, reason: str | None = None,
) -> Any:  # fmt: skip
    """The first dose of study drug (or a new course after a stop); ``reason`` goes into
    the audit trail (why a dose outside the protocol was given, say)."""
    with store.transaction(user=user, reason=reason.strip() if reason else None) as tx:
        _, subject = _subject(tx, code)
        return view_of(casebook.start_treatment(tx, subject, data))


def change_dose(
    store: Store, user: str, code: str, exposure_id: int, *, dose: float, unit: str,
    frequency: str, from_date: date, reason: str,
) -> Any:  # fmt: skip
    with store.transaction(user=user, reason=_reason(reason)) as tx:
        _, subject = _subject(tx, code)
        exposure = _owned(tx.session, Exposure, exposure_id, subject)
        new = casebook.change_dose(
            tx, exposure, dose=dose, unit=unit, frequency=frequency, from_date=from_date
        )
        return view_of(new)


def stop_treatment(
    store: Store, user: str, code: str, exposure_id: int, *, end_date: date,
    expected_version: int, reason: str,
) -> Any:  # fmt: skip
    with store.transaction(user=user, reason=_reason(reason)) as tx:
        _, subject = _subject(tx, code)
        exposure = _owned(tx.session, Exposure, exposure_id, subject)
        casebook.stop_treatment(tx, exposure, end_date=end_date, expected_version=expected_version)
        return view_of(exposure)


def interrupt_treatment(
    store: Store, user: str, code: str, exposure_id: int, *, start_date: date,
    end_date: date | None, cause: str,
) -> Any:  # fmt: skip
    """An interruption of dosing, with its cause (the cause is also the audit's reason)."""
    with store.transaction(user=user, reason=_reason(cause)) as tx:
        _, subject = _subject(tx, code)
        exposure = _owned(tx.session, Exposure, exposure_id, subject)
        return view_of(
            add_interruption(tx, exposure, start_date=start_date, end_date=end_date, cause=cause)
        )


def end_interruption(
    store: Store, user: str, code: str, interruption_id: int, *, end_date: date,
    expected_version: int, reason: str,
) -> Any:  # fmt: skip
    with store.transaction(user=user, reason=_reason(reason)) as tx:
        _, subject = _subject(tx, code)
        row = _owned(tx.session, ExposureInterruption, interruption_id, subject)
        casebook.end_interruption(tx, row, end_date=end_date, expected_version=expected_version)
        return view_of(row)


def change_visit_date(
    store: Store, user: str, code: str, visit_id: int, *, visit_date: date,
    expected_version: int, reason: str,
) -> Any:  # fmt: skip
    """A corrected visit date; study day and window status are derived again."""
    with store.transaction(user=user, reason=_reason(reason)) as tx:
        study, subject = _subject(tx, code)
        visit = _owned(tx.session, Visit, visit_id, subject)
        if visit.visit_date is None:
            raise DataValidationError(
                "visit_date: a missed visit has no date to change", field="visit_date"
            )
        update_visit(
            tx, study, visit, {"visit_date": visit_date}, expected_version=expected_version
        )
        return view_of(visit)


def change_record(
    store: Store, user: str, kind: EditableKind, code: str, record_id: int,
    changes: Mapping[str, Any], *, expected_version: int, reason: str,
) -> Any:  # fmt: skip
    """Follow up an adverse event, or correct a lab value or a medication."""
    with store.transaction(user=user, reason=_reason(reason)) as tx:
        study, subject = _subject(tx, code)
        row = _owned(tx.session, _MODELS[kind], record_id, subject)
        if isinstance(row, AdverseEvent):
            update_adverse_event(tx, row, changes, expected_version=expected_version)
        elif isinstance(row, Lab):
            casebook.update_lab(tx, study, row, changes, expected_version=expected_version)
        elif isinstance(row, ConMed):
            casebook.update_con_med(tx, row, changes, expected_version=expected_version)
        return view_of(row)


def remove_record(
    store: Store, user: str, kind: EditableKind, code: str, record_id: int, *,
    expected_version: int, reason: str,
) -> None:  # fmt: skip
    """Remove (soft-delete) a lab value, a medication or an adverse event entered in error."""
    with store.transaction(user=user, reason=_reason(reason)) as tx:
        _, subject = _subject(tx, code)
        row = _owned(tx.session, _MODELS[kind], record_id, subject)
        remove(tx, row, expected_version=expected_version)
