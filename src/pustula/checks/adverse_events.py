"""Edit checks for adverse events, on plain values (no database, no web).

Severity (CTCAE grade) and seriousness (ICH E2A) are separate fields and are checked
separately: a grade 3 event need not be serious, and a serious event may be grade 2.
"""

from __future__ import annotations

from datetime import date

from pustula.checks.vocabulary import codes
from pustula.errors import DataValidationError

__all__ = [
    "ACTIONS",
    "OUTCOMES",
    "RELATEDNESS",
    "SERIOUS_CRITERIA",
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
    """Raise :class:`DataValidationError` naming the first field that is not valid.

    >>> check_adverse_event(  # doctest: +ELLIPSIS
    ...     term="Nasopharyngitis", start=date(2024, 2, 1), end=None,
    ...     grade=1, serious=True, serious_criteria=(), relatedness="unlikely",
    ...     action="none", outcome="recovered")
    Traceback (most recent call last):
    ...
    pustula.errors.DataValidationError: serious_criteria: a serious event needs at least one ...
    """
    if not term.strip():
        raise DataValidationError("term: the adverse event term is required", field="term")
    if end is not None and end < start:
        raise DataValidationError(
            f"end_date: the event ends ({end}) before it starts ({start})", field="end_date"
        )
    if grade not in (1, 2, 3, 4, 5):
        raise DataValidationError(f"grade: CTCAE grade must be 1 to 5; got {grade}", field="grade")
    _one_of("relatedness", relatedness, RELATEDNESS)
    _one_of("action_taken", action, ACTIONS)
    _one_of("outcome", outcome, OUTCOMES)
    for criterion in serious_criteria:
        _one_of("serious_criteria", criterion, SERIOUS_CRITERIA)
    if serious and not serious_criteria:
        raise DataValidationError(
            "serious_criteria: a serious event needs at least one seriousness criterion",
            field="serious_criteria",
        )
    if not serious and serious_criteria:
        raise DataValidationError(
            "serious_criteria: criteria are given but the event is not marked serious",
            field="serious_criteria",
        )
    if outcome in ("recovered", "recovered_with_sequelae") and end is None:
        raise DataValidationError(
            "end_date: an event the subject recovered from needs its end date", field="end_date"
        )
    if end is not None and outcome in ("recovering", "not_recovered"):
        raise DataValidationError(
            "outcome: an event with an end date has ended; choose how it ended", field="outcome"
        )
    if (grade == 5) != (outcome == "fatal"):
        raise DataValidationError(
            "outcome: grade 5 (death) and outcome `fatal` go together", field="outcome"
        )


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


def _one_of(field: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise DataValidationError(
            f"{field}: must be one of {', '.join(allowed)}; got `{value}`", field=field
        )
