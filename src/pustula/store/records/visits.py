"""Visits and their assessments, scored by :mod:`pustula.scoring` as they are saved."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from pustula.checks.values import check_date, check_text
from pustula.errors import DataValidationError
from pustula.protocol import Protocol, day_zero, study_day, window_status
from pustula.protocol.amendments import ProtocolHistory
from pustula.protocol.status import SubjectStatus, VisitStatus
from pustula.scoring import ScoreResult, get_instrument
from pustula.store.db.models import Assessment, Study, Subject, Visit
from pustula.store.db.uow import Transaction, update_record
from pustula.store.records.amendments import protocol_history
from pustula.store.records.study import protocol_of
from pustula.store.records.timing import first_dose_of
from pustula.store.records.views import SubjectView

__all__ = [
    "assessment_columns",
    "check_new_visit",
    "day_zero_of",
    "first_dose_date",
    "record_visit",
    "save_assessment",
    "save_assessments",
    "timing_of",
    "update_assessment",
    "update_visit",
]


def first_dose_date(session: Session, subject: Subject) -> date | None:
    return session.scalar(select(first_dose_of(subject.id)))


def _timing(
    session: Session, study: Study, subject: Subject, code: str, when: date | None
) -> dict[str, Any]:
    protocol = protocol_of(study)
    _, first_dose, baseline_date = _visit_facts(
        session, subject.id, code, protocol.baseline_visit.code
    )
    anchor = day_zero_of(protocol, code, when, first_dose, baseline_date, subject.enrolled_on)
    return timing_of(protocol_history(session, study), code, when, anchor=anchor)


def day_zero_of(
    protocol: Protocol,
    code: str,
    when: date | None,
    first_dose: date | None,
    baseline_date: date | None,
    enrolled_on: date | None,
) -> date | None:
    """:func:`pustula.protocol.day_zero`; the baseline visit itself is day 0 of its date."""
    if protocol.visit(code).baseline:
        return when
    return day_zero(first_dose=first_dose, baseline_date=baseline_date, enrolled_on=enrolled_on)


def timing_of(
    plan: Protocol | ProtocolHistory, code: str, when: date | None, *, anchor: date | None
) -> dict[str, Any]:
    """A visit's study day and window status, and the protocol version whose window it
    follows: the one in force on the visit date (:class:`ProtocolHistory`)."""
    if when is None or anchor is None:
        return {"study_day": None, "window_status": None, "protocol_version": None}
    history = plan if isinstance(plan, ProtocolHistory) else ProtocolHistory.single(plan)
    visit, version = history.window_of(code, when)
    if visit is None:
        raise DataValidationError(f"visit `{code}` is not in the protocol", field="visit_code")
    day = study_day(when, first_dose=anchor)
    return {"study_day": day, "window_status": window_status(visit, day),
            "protocol_version": version}  # fmt: skip


def _visit_facts_statement() -> Select[Any]:
    visit = Visit.__table__
    subject_id: Any = bindparam("subject_id")
    recorded = (
        select(visit.c.id)
        .where(visit.c.subject_id == subject_id, visit.c.visit_code == bindparam("visit_code"))
        .limit(1)
        .scalar_subquery()
    )
    first_dose = first_dose_of(subject_id)
    baseline = (
        select(visit.c.visit_date)
        .where(
            visit.c.subject_id == subject_id,
            visit.c.visit_code == bindparam("baseline_code"),
            visit.c.deleted_at.is_(None),
        )
        .limit(1)
        .scalar_subquery()
    )
    return select(recorded, first_dose, baseline)


# built once: building a statement costs more than running it
_VISIT_FACTS = _visit_facts_statement()


def _visit_facts(
    session: Session, subject_id: int, visit_code: str, baseline_code: str
) -> tuple[int | None, date | None, date | None]:
    """The visit already recorded with this code, the first dose and the baseline date.

    One round trip: a save's checks are the largest part of its time on a busy server.
    """
    params = {"subject_id": subject_id, "visit_code": visit_code, "baseline_code": baseline_code}
    row = session.execute(_VISIT_FACTS, params).one()
    return row[0], row[1], row[2]


def check_new_visit(
    protocol: Protocol,
    subject: Any,
    *,
    visit_code: str,
    visit_date: date | None,
    status: str,
    notes: str,
) -> None:
    """Refuse a visit the protocol or the subject's status does not allow (``subject``:
    anything with ``status`` and ``code``)."""
    if subject.status != SubjectStatus.ENROLLED:
        raise DataValidationError(
            f"subject {subject.code} is not enrolled ({subject.status}); visits cannot be recorded",
            field="subject",
        )
    try:
        protocol.visit(visit_code)
    except KeyError as exc:
        raise DataValidationError(str(exc.args[0]), field="visit_code") from exc
    if status not in tuple(VisitStatus):
        raise DataValidationError(f"status: must be done or missed; got {status}", field="status")
    if status == VisitStatus.DONE and visit_date is None:
        raise DataValidationError(
            "visit_date: a visit that took place needs its date", field="visit_date"
        )
    if visit_date is not None:
        check_date(visit_date, field="visit_date")
    check_text(notes, field="notes", max_length=2000, multiline=True)
    if status == VisitStatus.MISSED and not notes.strip():
        raise DataValidationError("notes: say why the visit was missed", field="notes")


def record_visit(
    tx: Transaction,
    study: Study | Protocol,
    subject: Subject | SubjectView,
    *,
    visit_code: str,
    visit_date: date | None,
    status: str = VisitStatus.DONE,
    notes: str = "",
    assessments: Mapping[str, Mapping[str, object]] | None = None,
    not_done: Mapping[str, str] | None = None,
) -> Visit:
    """Save a visit and its assessments in one unit of work.

    ``study`` is the study or its protocol; ``subject`` the subject or its snapshot.
    ``assessments`` maps an instrument name to its flat item values. Each is scored on
    save; a bad item value raises :class:`~pustula.errors.ScoringInputError` and, because
    the whole visit is one transaction, nothing of the visit is saved. ``not_done`` maps
    an instrument that was not done at this visit to the reason.

    Examples
    --------
    >>> from datetime import date
    >>> from pustula.store import enrol_subject, get_study
    >>> refractory = [{"category": "topical", "drug": "clobetasol propionate", "response": "none"},
    ...               {"category": "systemic", "drug": "acitretin", "response": "none"}]
    >>> store = demo_store()
    >>> with store.transaction(user="dr.k") as tx:
    ...     study = get_study(tx.session)
    ...     subject = enrol_subject(
    ...         tx, study, code="S07", site="SITE1", screened_on=date(2024, 9, 2),
    ...         baseline={"age": 51, "sex": "male", "disease_duration_months": 30,
    ...                   "eraspen_ppp": True, "smoking": "former",
    ...                   "screening": {"tuberculosis": "negative", "hepatitis": "negative"}},
    ...         prior_therapies=refractory,
    ...         screening_labs={"lymphocytes": 1800, "neutrophils": 3600, "haemoglobin": 14.1},
    ...     ).subject
    ...     visit = record_visit(tx, study, subject, visit_code="W0", visit_date=date(2024, 9, 9),
    ...                          assessments={"pga": {"pga": 3}})
    >>> visit.visit_code, visit.status, visit.study_day
    ('W0', <VisitStatus.DONE: 'done'>, 0)
    """
    session = tx.session
    protocol = study if isinstance(study, Protocol) else protocol_of(study)
    check_new_visit(protocol, subject, visit_code=visit_code, visit_date=visit_date,
                    status=status, notes=notes)  # fmt: skip
    recorded, first_dose, baseline_date = _visit_facts(
        session, subject.id, visit_code, protocol.baseline_visit.code
    )
    if recorded is not None:
        raise DataValidationError(
            f"visit {visit_code} of subject {subject.code} is already recorded; edit it instead",
            field="visit_code",
        )
    anchor = day_zero_of(
        protocol, visit_code, visit_date, first_dose, baseline_date, subject.enrolled_on
    )
    history = protocol_history(session, subject.study_id)
    visit = Visit(
        subject_id=subject.id, visit_code=visit_code, visit_date=visit_date, status=status,
        notes=notes, **timing_of(history, visit_code, visit_date, anchor=anchor),
    )  # fmt: skip
    session.add(visit)
    session.flush()
    save_assessments(tx, visit, assessments or {}, not_done=not_done)
    return visit


def _score_columns(result: ScoreResult) -> dict[str, Any]:
    return {
        "instrument_version": result.version,
        "total": result.total,
        "band": result.band,
        "subscores": dict(result.subscores),
        "warnings": list(result.warnings),
    }


def save_assessment(
    tx: Transaction, visit: Visit, *, instrument: str, items: Mapping[str, object]
) -> Assessment:
    """Score ``items`` with ``instrument`` and save items, score and version together.

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import Visit
    >>> store = demo_store()
    >>> with store.transaction(user="dr.k") as tx:
    ...     visit = tx.session.scalars(select(Visit).where(Visit.id == 2)).one()
    ...     itch = save_assessment(tx, visit, instrument="itch_nrs", items={"itch_nrs": 6})
    >>> itch.instrument, itch.total
    ('itch_nrs', 6.0)
    """
    return save_assessments(tx, visit, {instrument: items})[0]


def save_assessments(
    tx: Transaction,
    visit: Visit,
    by_instrument: Mapping[str, Mapping[str, object]],
    *,
    not_done: Mapping[str, str] | None = None,
    source: Mapping[str, Any] | None = None,
) -> list[Assessment]:
    """Score and save several instruments' items for ``visit``, in one multi-row INSERT.

    ``not_done`` instruments are saved without items or score, with the reason.
    ``source`` sets who answered (``source``, ``answered_at``, ``device``) on each.

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import Visit
    >>> store = demo_store()
    >>> with store.transaction(user="dr.k") as tx:
    ...     visit = tx.session.scalars(select(Visit).where(Visit.id == 2)).one()
    ...     saved = save_assessments(tx, visit, {"itch_nrs": {"itch_nrs": 6},
    ...                                          "pain_nrs": {"pain_nrs": 2}})
    >>> [(a.instrument, a.total) for a in saved]
    [('itch_nrs', 6.0), ('pain_nrs', 2.0)]
    """
    skipped = dict(not_done or {})
    both = sorted(set(skipped) & set(by_instrument))
    if both:
        raise DataValidationError(
            f"{both[0]}: values are given for an instrument marked not done", field=both[0]
        )
    saved = [_new_assessment(visit, name, items) for name, items in by_instrument.items()]
    saved += [_not_done(visit, name, reason) for name, reason in skipped.items()]
    for assessment in saved:
        for column, value in (source or {}).items():
            setattr(assessment, column, value)
    tx.session.add_all(saved)
    tx.session.flush()
    return saved


def _check_reason(instrument: str, reason: str) -> str:
    field = f"{instrument}_not_done_reason"
    check_text(reason, field=field, max_length=500, multiline=True)
    if not reason.strip():
        raise DataValidationError(f"{field}: say why the {instrument} was not done", field=field)
    return reason.strip()


def _not_done_columns(instrument: str, reason: str) -> dict[str, Any]:
    scorer = get_instrument(instrument)
    return {
        "instrument_version": scorer.version, "items": {}, "total": None, "band": None,
        "subscores": {}, "warnings": [], "not_done_reason": _check_reason(scorer.name, reason),
    }  # fmt: skip


def _not_done(visit: Visit, instrument: str, reason: str) -> Assessment:
    if visit.status != VisitStatus.DONE:
        raise DataValidationError(f"visit {visit.visit_code} was missed; it has no assessments")
    columns = _not_done_columns(instrument, reason)
    return Assessment(visit_id=visit.id, instrument=get_instrument(instrument).name, **columns)


def _new_assessment(visit: Visit, instrument: str, items: Mapping[str, object]) -> Assessment:
    if visit.status != VisitStatus.DONE:
        raise DataValidationError(f"visit {visit.visit_code} was missed; it has no assessments")
    return Assessment(
        visit_id=visit.id, **assessment_columns(get_instrument(instrument).score(items), items)
    )


def assessment_columns(result: ScoreResult, items: Mapping[str, object]) -> dict[str, Any]:
    """A scored assessment's columns: the items as entered, with the score that goes with them."""
    return {"instrument": result.instrument, "items": dict(items), **_score_columns(result)}


def update_assessment(
    tx: Transaction,
    assessment: Assessment,
    *,
    items: Mapping[str, object] | None,
    expected_version: int,
    not_done_reason: str | None = None,
) -> Assessment:
    """Replace the item values and re-score, or mark the instrument not done (with why).

    The old values stay in the audit trail.

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import Assessment
    >>> store = demo_store()
    >>> with store.transaction(user="dr.k", reason="transcription error") as tx:
    ...     query = select(Assessment).where(Assessment.instrument == "pga")
    ...     pga = tx.session.scalars(query).first()
    ...     pga = update_assessment(tx, pga, items={"pga": 2}, expected_version=pga.version)
    >>> pga.total, pga.band, pga.version
    (2.0, 'mild', 2)
    """
    if not_done_reason is not None:
        changes = _not_done_columns(assessment.instrument, not_done_reason)
    else:
        result = get_instrument(assessment.instrument).score(items or {})
        changes = {"items": dict(items or {}), **_score_columns(result), "not_done_reason": None}
    return update_record(tx, assessment, changes, expected_version=expected_version)


def update_visit(
    tx: Transaction,
    study: Study,
    visit: Visit,
    changes: Mapping[str, Any],
    *,
    expected_version: int,
) -> Visit:
    """Change a visit's date, status or notes; timing is re-derived from the new date.

    Examples
    --------
    >>> from datetime import timedelta
    >>> from sqlalchemy import select
    >>> from pustula.store import Visit, get_study
    >>> store = demo_store()
    >>> with store.transaction(user="dr.k", reason="date typed wrong") as tx:
    ...     visit = tx.session.scalars(select(Visit).where(Visit.id == 2)).one()
    ...     next_day = visit.visit_date + timedelta(days=1)
    ...     visit = update_visit(tx, get_study(tx.session), visit, {"visit_date": next_day},
    ...                          expected_version=visit.version)
    >>> visit.study_day, visit.window_status
    (15, <WindowStatus.IN_WINDOW: 'in_window'>)
    """
    allowed = {"visit_date", "status", "notes"}
    unknown = set(changes) - allowed
    if unknown:
        field = sorted(unknown)[0]
        raise DataValidationError(f"{field}: a visit's {field} cannot be edited", field=field)
    merged = dict(changes)
    if changes.get("visit_date") is not None:
        check_date(changes["visit_date"], field="visit_date")
    if "notes" in changes:
        check_text(str(changes["notes"]), field="notes", max_length=2000, multiline=True)
    if "visit_date" in changes:
        subject = tx.session.get_one(Subject, visit.subject_id)
        merged |= _timing(tx.session, study, subject, visit.visit_code, changes["visit_date"])
    return update_record(tx, visit, merged, expected_version=expected_version)
