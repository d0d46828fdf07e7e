"""The life of a subject's records after enrolment: treatment, visits, safety data, the end.

Each function changes records inside the caller's unit of work; the reason for a change is
the transaction's, so it lands in the audit trail with every field the change touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import select

from pustula.checks.values import check_date, check_interval, check_text
from pustula.errors import DataValidationError
from pustula.protocol.status import SubjectStatus
from pustula.store.db.models import (
    ConMed,
    Exposure,
    ExposureInterruption,
    Lab,
    Study,
    Subject,
)
from pustula.store.db.uow import Transaction, update_record
from pustula.store.records.safety import add_exposure, lab_fields
from pustula.store.records.schemas import ConMedIn, ExposureIn, LabIn, parse_input

__all__ = [
    "NO_LAST_DOSE",
    "EndOutcome",
    "change_dose",
    "end_columns",
    "end_interruption",
    "end_participation",
    "start_treatment",
    "stop_treatment",
    "update_con_med",
    "update_lab",
]

EndOutcome = Literal["withdrawn", "completed"]


def _require_enrolled(subject: Any, what: str) -> None:
    if subject.status != SubjectStatus.ENROLLED:
        raise DataValidationError(
            f"subject {subject.code} is {subject.status.replace('_', ' ')}; {what} needs an "
            "enrolled subject",
            field="subject",
        )


def _open_exposures(tx: Transaction, subject: Subject) -> list[Exposure]:
    return list(
        tx.session.scalars(
            select(Exposure).where(
                Exposure.subject_id == subject.id,
                Exposure.end_date.is_(None),
                Exposure.deleted_at.is_(None),
            )
        )
    )


def start_treatment(
    tx: Transaction, subject: Subject, data: Mapping[str, Any] | ExposureIn
) -> Exposure:
    """The first dose (or a new course): study drug from ``start_date``."""
    _require_enrolled(subject, "a dose")
    exposure = parse_input(ExposureIn, data)
    if subject.enrolled_on is not None and exposure.start_date < subject.enrolled_on:
        raise DataValidationError(
            "start_date: the first dose is before enrolment", field="start_date"
        )
    if _open_exposures(tx, subject):
        raise DataValidationError(
            "start_date: study drug is already being given; change the dose or stop it first",
            field="start_date",
        )
    return add_exposure(tx, subject, exposure)


def change_dose(
    tx: Transaction,
    exposure: Exposure,
    *,
    dose: float,
    unit: str,
    frequency: str,
    from_date: date,
) -> Exposure:
    """A new dose from ``from_date``: the current course ends the day before, a new one starts.

    One row per constant dose is how exposure is analysed (and how CDISC EX keeps it).
    """
    if exposure.end_date is not None:
        raise DataValidationError(
            "from_date: this course of study drug has already stopped", field="from_date"
        )
    check_date(from_date, field="from_date")
    if from_date <= exposure.start_date:
        raise DataValidationError(
            f"from_date: a new dose starts after the current one began ({exposure.start_date})",
            field="from_date",
        )
    subject = tx.session.get_one(Subject, exposure.subject_id)
    new = parse_input(
        ExposureIn,
        {"drug": exposure.drug, "dose": dose, "unit": unit, "frequency": frequency,
         "start_date": from_date},
    )  # fmt: skip
    update_record(
        tx, exposure, {"end_date": from_date - timedelta(days=1)}, expected_version=exposure.version
    )
    return add_exposure(tx, subject, new)


def stop_treatment(
    tx: Transaction, exposure: Exposure, *, end_date: date, expected_version: int
) -> Exposure:
    """Study drug stopped: ``end_date`` is the day of the last dose."""
    if exposure.end_date is not None:
        raise DataValidationError(
            "end_date: this course of study drug has already stopped", field="end_date"
        )
    check_date(end_date, field="end_date")
    check_interval(exposure.start_date, end_date)
    return update_record(tx, exposure, {"end_date": end_date}, expected_version=expected_version)


def end_interruption(
    tx: Transaction, interruption: ExposureInterruption, *, end_date: date, expected_version: int
) -> ExposureInterruption:
    """Dosing resumed after an interruption: ``end_date`` is the last day without drug."""
    check_date(end_date, field="end_date")
    check_interval(interruption.start_date, end_date)
    return update_record(
        tx, interruption, {"end_date": end_date}, expected_version=expected_version
    )


def end_participation(
    tx: Transaction,
    subject: Subject,
    *,
    outcome: EndOutcome,
    ended_on: date,
    reason: str,
    last_contact: date | None = None,
    last_dose: date | None = None,
) -> Subject:
    """Withdrawal or discontinuation (``withdrawn``) or end of study (``completed``).

    The schedule stops listing visits as due or overdue for the subject. While study drug
    is still being given, the day of the last dose is required: it ends the open course.
    """
    changes = end_columns(subject, outcome=outcome, ended_on=ended_on, reason=reason,
                          last_contact=last_contact)  # fmt: skip
    for course in _open_exposures(tx, subject):
        if last_dose is None:
            raise DataValidationError(NO_LAST_DOSE, field="last_dose")
        stop_treatment(tx, course, end_date=last_dose, expected_version=course.version)
    return update_record(tx, subject, changes, expected_version=subject.version)


NO_LAST_DOSE = "last_dose: study drug is still being given; enter the day of the last dose"


def end_columns(
    subject: Any, *, outcome: str, ended_on: date, reason: str, last_contact: date | None
) -> dict[str, Any]:
    """The subject's columns after a checked end of participation (``subject``: anything
    with ``status``, ``code`` and ``enrolled_on``)."""
    _require_enrolled(subject, "an end of participation")
    if outcome not in ("withdrawn", "completed"):
        raise DataValidationError(
            f"outcome: must be withdrawn or completed; got {outcome}", field="outcome"
        )
    check_date(ended_on, field="ended_on")
    check_interval(subject.enrolled_on, ended_on, field="ended_on")
    check_text(reason, field="end_reason", max_length=500, multiline=True)
    if not reason.strip():
        raise DataValidationError("end_reason: the reason is required", field="end_reason")
    if last_contact is not None:
        check_date(last_contact, field="last_contact")
    return {
        "status": SubjectStatus(outcome),
        "ended_on": ended_on,
        "end_reason": reason.strip(),
        "last_contact": last_contact,
    }


def update_lab(
    tx: Transaction, study: Study, lab: Lab, changes: Mapping[str, Any], *, expected_version: int
) -> Lab:
    """Correct a lab value: its alerts and CTCAE grade are derived again."""
    current = {k: getattr(lab, k) for k in LabIn.model_fields}
    data = parse_input(LabIn, current | dict(changes))
    subject = tx.session.get_one(Subject, lab.subject_id)
    return update_record(
        tx, lab, lab_fields(tx, study, subject, data, exclude=lab.id),
        expected_version=expected_version,
    )  # fmt: skip


def update_con_med(
    tx: Transaction, med: ConMed, changes: Mapping[str, Any], *, expected_version: int
) -> ConMed:
    current = {k: getattr(med, k) for k in ConMedIn.model_fields}
    data = parse_input(ConMedIn, current | dict(changes))
    return update_record(tx, med, data.model_dump(), expected_version=expected_version)
