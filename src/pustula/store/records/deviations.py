"""Protocol deviations: recorded with their kind, date and description, and kept; the
per-protocol analysis leaves out subjects with the kinds its protocol names."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pustula.errors import DataValidationError
from pustula.protocol.populations import DEVIATION_CATEGORIES
from pustula.store.db.models import Deviation, Subject
from pustula.store.db.uow import Transaction

__all__ = ["deviations_of", "record_deviation"]


def record_deviation(
    tx: Transaction, subject: Subject, *, category: str, description: str, occurred_on: date | None
) -> Deviation:
    """Record one deviation; every missing or wrong answer is named at once."""
    errors = {}
    if category not in DEVIATION_CATEGORIES:
        errors["category"] = "choose the kind of deviation from the list"
    if not description.strip():
        errors["description"] = "describe what happened"
    if occurred_on is None:
        errors["occurred_on"] = "enter the date of the deviation"
    elif occurred_on > date.today():
        errors["occurred_on"] = "the date of the deviation cannot be in the future"
    elif subject.screened_on and occurred_on < subject.screened_on:
        errors["occurred_on"] = "the deviation cannot be before the subject was screened"
    if errors:
        first = next(iter(errors))
        raise DataValidationError(errors[first], field=first, errors=errors)
    assert occurred_on is not None
    row = Deviation(subject_id=subject.id, category=category,
                    description=description.strip(), occurred_on=occurred_on)  # fmt: skip
    tx.session.add(row)
    tx.flush()
    return row


def deviations_of(session: Session, subject: Subject) -> list[dict[str, Any]]:
    """A subject's deviations, oldest first (kind, its wording, date, description)."""
    rows = session.scalars(
        select(Deviation)
        .where(Deviation.subject_id == subject.id, Deviation.deleted_at.is_(None))
        .order_by(Deviation.occurred_on, Deviation.id)
    )
    return [
        {"category": r.category, "kind": DEVIATION_CATEGORIES.get(r.category, r.category),
         "occurred_on": r.occurred_on, "description": r.description}
        for r in rows
    ]  # fmt: skip
