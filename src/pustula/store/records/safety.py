"""Safety data: exposure, adverse events, labs with alerts and CTCAE grades, medications."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pustula.checks import (
    BaselineLab,
    check_adverse_event,
    convert_unit,
    ctcae_grade,
    evaluate_lab_alerts,
    is_treatment_emergent,
)
from pustula.checks.values import check_date, check_interval, check_text
from pustula.errors import DataValidationError
from pustula.protocol import Protocol
from pustula.store.db.models import (
    AdverseEvent,
    ConMed,
    Exposure,
    ExposureInterruption,
    Lab,
    Study,
    Subject,
)
from pustula.store.db.uow import Transaction, update_record
from pustula.store.records.schemas import AdverseEventIn, ConMedIn, ExposureIn, LabIn, parse_input
from pustula.store.records.study import protocol_of
from pustula.store.records.visits import first_dose_date

__all__ = [
    "add_adverse_event",
    "add_con_med",
    "add_exposure",
    "add_interruption",
    "add_lab",
    "ae_columns",
    "check_interruption",
    "lab_columns",
    "lab_fields",
    "update_adverse_event",
]


def add_exposure(
    tx: Transaction, subject: Subject, data: Mapping[str, Any] | ExposureIn
) -> Exposure:
    """Save a course of study drug of ``subject`` (validated: drug, dose, dates).

    Examples
    --------
    >>> from datetime import date
    >>> from pustula.store import get_study, get_subject
    >>> store = demo_store()
    >>> with store.transaction(user="dr.k") as tx:
    ...     subject = get_subject(tx.session, get_study(tx.session), "S03")
    ...     course = add_exposure(tx, subject, {"drug": "tofacitinib", "dose": 5, "unit": "mg",
    ...                                         "frequency": "once daily",
    ...                                         "start_date": date(2024, 9, 1)})
    >>> course.frequency, course.end_date
    ('once daily', None)
    """
    exposure = Exposure(subject_id=subject.id, **parse_input(ExposureIn, data).model_dump())
    tx.session.add(exposure)
    tx.session.flush()
    return exposure


def add_interruption(
    tx: Transaction, exposure: Exposure, *, start_date: date, end_date: date | None, cause: str
) -> ExposureInterruption:
    """Save an interruption of ``exposure`` from ``start_date`` (to ``end_date`` if known),
    with its cause; it must lie within the course.

    Examples
    --------
    >>> from datetime import date
    >>> from sqlalchemy import select
    >>> from pustula.store import Exposure
    >>> store = demo_store()
    >>> with store.transaction(user="dr.k") as tx:
    ...     course = tx.session.scalars(select(Exposure).where(Exposure.subject_id == 1)).one()
    ...     pause = add_interruption(tx, course, start_date=date(2024, 4, 1),
    ...                              end_date=date(2024, 4, 7), cause="adverse event")
    >>> pause.start_date, pause.end_date
    (datetime.date(2024, 4, 1), datetime.date(2024, 4, 7))
    """
    check_interruption(start_date=start_date, end_date=end_date, cause=cause)
    row = ExposureInterruption(
        exposure_id=exposure.id, start_date=start_date, end_date=end_date, cause=cause
    )
    tx.session.add(row)
    tx.session.flush()
    return row


def ae_columns(ae: AdverseEventIn, *, first_dose: date | None) -> dict[str, Any]:
    """A checked AE's columns; treatment-emergence is derived from the first dose."""
    check_adverse_event(
        term=ae.term, start=ae.start_date, end=ae.end_date, grade=ae.grade, serious=ae.serious,
        serious_criteria=tuple(ae.serious_criteria), relatedness=ae.relatedness,
        action=ae.action_taken, outcome=ae.outcome,
    )  # fmt: skip
    emergent = is_treatment_emergent(
        ae.start_date, first_dose=first_dose, worsened_on_treatment=ae.worsened_on_treatment
    )
    return {**ae.model_dump(), "treatment_emergent": emergent}


def check_interruption(*, start_date: date, end_date: date | None, cause: str) -> None:
    check_date(start_date, field="start_date")
    if end_date is not None:
        check_date(end_date, field="end_date")
    check_interval(start_date, end_date)
    check_text(cause, field="cause", max_length=500, multiline=True)


def _ae_fields(session: Session, subject: Subject, ae: AdverseEventIn) -> dict[str, Any]:
    return ae_columns(ae, first_dose=first_dose_date(session, subject))


def add_adverse_event(
    tx: Transaction, subject: Subject, data: Mapping[str, Any] | AdverseEventIn
) -> AdverseEvent:
    """Check and save an AE; treatment-emergence is derived from the first dose.

    Examples
    --------
    >>> from datetime import date
    >>> from pustula.store import get_study, get_subject
    >>> store = demo_store()
    >>> with store.transaction(user="dr.k") as tx:
    ...     subject = get_subject(tx.session, get_study(tx.session), "S02")
    ...     event = add_adverse_event(tx, subject, {
    ...         "term": "Headache", "start_date": date(2024, 4, 2), "grade": 1, "serious": False,
    ...         "relatedness": "unlikely", "action_taken": "none", "outcome": "recovering"})
    >>> event.term, event.treatment_emergent
    ('Headache', True)
    """
    fields = _ae_fields(tx.session, subject, parse_input(AdverseEventIn, data))
    event = AdverseEvent(subject_id=subject.id, **fields)
    tx.session.add(event)
    tx.session.flush()
    return event


def update_adverse_event(
    tx: Transaction, event: AdverseEvent, changes: Mapping[str, Any], *, expected_version: int
) -> AdverseEvent:
    """Change an adverse event's fields (``changes``) at ``expected_version``; the
    transaction's reason is audited with each changed field.

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import AdverseEvent
    >>> store = demo_store()
    >>> with store.transaction(user="dr.k", reason="graded again at the next visit") as tx:
    ...     event = tx.session.scalars(select(AdverseEvent).where(AdverseEvent.id == 1)).one()
    ...     event = update_adverse_event(tx, event, {"grade": 2}, expected_version=event.version)
    >>> event.grade, event.version
    (2, 2)
    """
    current = AdverseEventIn.model_fields.keys()
    merged = {k: getattr(event, k) for k in current} | dict(changes)
    subject = tx.session.get_one(Subject, event.subject_id)
    fields = _ae_fields(tx.session, subject, parse_input(AdverseEventIn, merged))
    return update_record(tx, event, fields, expected_version=expected_version)


def _lab_baseline(
    session: Session, subject: Subject, test: str, first_dose: date | None, exclude: int | None
) -> Lab | None:
    if first_dose is None:
        return None
    return session.scalar(
        select(Lab)
        .where(
            Lab.subject_id == subject.id,
            Lab.test == test,
            Lab.sample_date <= first_dose,
            Lab.deleted_at.is_(None),
            Lab.id != (exclude or 0),
        )
        .order_by(Lab.sample_date.desc(), Lab.id.desc())
        .limit(1)
    )


def lab_fields(
    tx: Transaction, study: Study, subject: Subject, lab: LabIn, *, exclude: int | None = None
) -> dict[str, Any]:
    """A lab value's columns (:func:`lab_columns`) with the subject's first dose and the
    baseline of the same test from the database (``exclude``: the row being corrected,
    which is not its own baseline)."""
    first = first_dose_date(tx.session, subject)

    def baseline() -> BaselineLab | None:
        base = _lab_baseline(tx.session, subject, lab.test, first, exclude)
        return None if base is None else BaselineLab(base.value, base.unit, base.upper_limit)

    return lab_columns(protocol_of(study), lab, first_dose=first, baseline=baseline)


def lab_columns(
    protocol: Protocol, lab: LabIn, *, first_dose: date | None,
    baseline: Callable[[], BaselineLab | None],
) -> dict[str, Any]:  # fmt: skip
    """A lab value's columns with the protocol's alerts and, where defined, its CTCAE grade.

    A sample taken after the first dose day is on treatment; only then is ``baseline()``
    asked for the last sample of the same test on or before the first dose,
    for drop rules and grades.
    """
    on_treatment = first_dose is not None and lab.sample_date > first_dose
    base = baseline() if on_treatment else None
    alerts = evaluate_lab_alerts(
        protocol.lab_rules,
        test=lab.test,
        value=lab.value,
        unit=lab.unit,
        on_treatment=on_treatment,
        baseline=base,
    )
    return {
        **lab.model_dump(), "on_treatment": on_treatment,
        "ctcae_grade": _ctcae_grade(lab, base),
        "alerts": [{"rule": a.rule_id, "action": a.action, "text": a.text,
                    "confirm": a.needs_confirmation} for a in alerts],
    }  # fmt: skip


def add_lab(
    tx: Transaction, study: Study, subject: Subject, data: Mapping[str, Any] | LabIn
) -> Lab:
    """Save a lab value with its alerts and grade (:func:`lab_fields`).

    Examples
    --------
    >>> from datetime import date
    >>> from pustula.store import get_study, get_subject
    >>> store = demo_store()
    >>> with store.transaction(user="dr.k") as tx:
    ...     study = get_study(tx.session)
    ...     lab = add_lab(tx, study, get_subject(tx.session, study, "S01"),
    ...                   {"test": "alt", "value": 130.0, "unit": "U/L", "upper_limit": 40.0,
    ...                    "sample_date": date(2024, 4, 1)})
    >>> lab.ctcae_grade
    2
    """
    row = Lab(subject_id=subject.id, **lab_fields(tx, study, subject, parse_input(LabIn, data)))
    tx.session.add(row)
    tx.session.flush()
    return row


def _ctcae_grade(lab: LabIn, baseline: BaselineLab | None) -> int | None:
    """Neutrophil grades are defined per mm³, so counts in 10^9/L are converted first.

    ALT/AST use the subject's baseline sample of the same test (CTCAE's rule for an
    abnormal baseline): its value and its own upper limit, both expressed in this value's
    unit. A baseline that cannot be converted is not used, and the grade falls back to
    multiples of the ULN.
    """

    def graded(value: float) -> float:
        if lab.test != "neutrophils":
            return value
        return convert_unit(lab.test, value, lab.unit, to="/mm3")

    base_value = base_limit = None
    if baseline is not None and lab.test in ("alt", "ast"):
        try:
            base_value = convert_unit(lab.test, baseline.value, baseline.unit, to=lab.unit)
            if baseline.upper_limit is not None:
                base_limit = convert_unit(
                    lab.test, baseline.upper_limit, baseline.unit, to=lab.unit
                )
        except DataValidationError:
            base_value = base_limit = None
    lower = None if lab.lower_limit is None else graded(lab.lower_limit)
    return ctcae_grade(
        lab.test,
        graded(lab.value),
        lower_limit=lower,
        upper_limit=lab.upper_limit,
        baseline=base_value,
        baseline_upper_limit=base_limit,
    )


def add_con_med(tx: Transaction, subject: Subject, data: Mapping[str, Any] | ConMedIn) -> ConMed:
    """Save a concomitant medication of ``subject`` in the unit of work ``tx``.

    Examples
    --------
    >>> from datetime import date
    >>> from pustula.store import get_study, get_subject
    >>> store = demo_store()
    >>> with store.transaction(user="dr.k") as tx:
    ...     subject = get_subject(tx.session, get_study(tx.session), "S01")
    ...     med = add_con_med(tx, subject, {"drug": "cetirizine", "indication": "itch",
    ...                                     "dose": "10 mg daily", "start_date": date(2024, 3, 10)})
    >>> med.drug, med.end_date
    ('cetirizine', None)
    """
    med = ConMed(subject_id=subject.id, **parse_input(ConMedIn, data).model_dump())
    tx.session.add(med)
    tx.session.flush()
    return med
