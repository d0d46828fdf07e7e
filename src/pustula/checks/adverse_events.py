"""Edit checks for adverse events, on plain values (no database, no web).

Severity (CTCAE grade) and seriousness (ICH E2A) are separate fields and are checked
separately: a grade 3 event need not be serious, and a serious event may be grade 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pustula.checks.vocabulary import codes
from pustula.errors import DataValidationError

__all__ = [
    "ACTIONS",
    "OUTCOMES",
    "RELATEDNESS",
    "SERIOUS_CRITERIA",
    "adverse_event_problems",
    "check_adverse_event",
    "is_treatment_emergent",
]

SERIOUS_CRITERIA = codes("serious_criterion")
RELATEDNESS = codes("relatedness")
ACTIONS = codes("action_taken")
OUTCOMES = codes("outcome")


def check_adverse_event(
    *,
    term: str,
    start: date,
    end: date | None,
    grade: int,
    serious: bool,
    serious_criteria: tuple[str, ...],
    relatedness: str,
    action: str,
    outcome: str,
) -> None:
    """Raise one :class:`DataValidationError` naming every field that is not valid (its
    ``errors``), the first in its message.

    >>> check_adverse_event(  # doctest: +ELLIPSIS
    ...     term="Nasopharyngitis", start=date(2024, 2, 1), end=None,
    ...     grade=1, serious=True, serious_criteria=(), relatedness="unlikely",
    ...     action="none", outcome="recovered")
    Traceback (most recent call last):
    ...
    pustula.errors.DataValidationError: serious_criteria: a serious event needs at least one ...
    """
    found = adverse_event_problems({
        "term": term, "start_date": start, "end_date": end, "grade": grade, "serious": serious,
        "serious_criteria": serious_criteria, "relatedness": relatedness,
        "action_taken": action, "outcome": outcome,
    })  # fmt: skip
    if found:
        first = next(iter(found))
        raise DataValidationError(found[first], field=first, errors=found)


def adverse_event_problems(values: Mapping[str, Any]) -> dict[str, str]:
    """Every rule an adverse event breaks, by field (``field: message``), checking each
    rule whose fields are given: a form shows them all at once, even while other fields
    are still missing.

    >>> sorted(adverse_event_problems({
    ...     "start_date": date(2024, 2, 10), "end_date": date(2024, 2, 1),
    ...     "serious": True, "serious_criteria": ()}))
    ['end_date', 'serious_criteria']
    """
    found: dict[str, str] = {}

    def add(field: str, message: str) -> None:
        found.setdefault(field, f"{field}: {message}")

    v = values.get
    start, end, grade, outcome = v("start_date"), v("end_date"), v("grade"), v("outcome")
    criteria = tuple(v("serious_criteria") or ())
    if "term" in values and not str(v("term") or "").strip():
        add("term", "the adverse event term is required")
    if start is not None and end is not None and end < start:
        add("end_date", f"the event ends ({end}) before it starts ({start})")
    if grade is not None and grade not in (1, 2, 3, 4, 5):
        add("grade", f"CTCAE grade must be 1 to 5; got {grade}")
    for field, allowed in (("relatedness", RELATEDNESS), ("action_taken", ACTIONS),
                           ("outcome", OUTCOMES)):  # fmt: skip
        if v(field) is not None and v(field) not in allowed:
            add(field, f"must be one of {', '.join(allowed)}; got {v(field)}")
    unknown = [c for c in criteria if c not in SERIOUS_CRITERIA]
    if unknown:
        add("serious_criteria", f"must be one of {', '.join(SERIOUS_CRITERIA)}; got {unknown[0]}")
    if v("serious") is True and not criteria:
        add("serious_criteria", "a serious event needs at least one seriousness criterion")
    if v("serious") is False and criteria:
        add("serious_criteria", "criteria are given but the event is not marked serious")
    if outcome in ("recovered", "recovered_with_sequelae") and end is None and "end_date" in values:
        add("end_date", "an event the subject recovered from needs its end date")
    if end is not None and outcome in ("recovering", "not_recovered"):
        add("outcome", "an event with an end date has ended; choose how it ended")
    if grade is not None and outcome is not None and (grade == 5) != (outcome == "fatal"):
        add("outcome", "grade 5 (death) and the outcome fatal go together")
    return found


def is_treatment_emergent(
    start: date, *, first_dose: date | None, worsened_on_treatment: bool = False
) -> bool | None:
    """Treatment-emergent: started on or after the first dose day, or worsened after it.

    The first dose day counts as on treatment because dosing times are not recorded.
    None when there is no first dose yet.

    >>> is_treatment_emergent(date(2024, 1, 1), first_dose=date(2024, 1, 1))
    True
    """
    if first_dose is None:
        return None
    return start >= first_dose or worsened_on_treatment
