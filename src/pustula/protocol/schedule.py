"""Where an actual visit falls relative to its planned window."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from pustula.protocol.model import Visit
from pustula.protocol.status import WindowStatus

__all__ = ["WindowStatus", "day_zero", "first_dose", "study_day", "window_status"]


def first_dose(starts: Iterable[date | None]) -> date | None:
    """The first dose: the earliest start of the subject's exposure records (removed
    records are not passed in). None before any dose.

    The store computes the same rule in SQL as ``min(start_date)`` over live exposure
    rows (``pustula.store.records.timing``).

    >>> first_dose([date(2024, 3, 18), date(2024, 3, 4), None])
    datetime.date(2024, 3, 4)
    """
    return min((d for d in starts if d is not None), default=None)


def day_zero(
    *, first_dose: date | None, baseline_date: date | None, enrolled_on: date | None = None
) -> date | None:
    """The date the schedule counts from: the first dose; before any dose, the baseline
    visit's date; before that too, the enrolment date. One rule for visit timing, the
    schedule's due dates, the web app, the report and the exports.

    >>> day_zero(first_dose=None, baseline_date=date(2024, 3, 1), enrolled_on=date(2024, 2, 26))
    datetime.date(2024, 3, 1)
    """
    return first_dose or baseline_date or enrolled_on


def study_day(visit_date: date, *, first_dose: date) -> int:
    """Days since the first dose; the day of the first dose is day 0.

    >>> study_day(date(2024, 1, 29), first_dose=date(2024, 1, 1))
    28
    """
    return (visit_date - first_dose).days


def window_status(visit: Visit, day: int) -> WindowStatus:
    """``in_window`` when ``day`` is within ``[day - before, day + after]`` of the plan.

    Examples
    --------
    >>> from pustula.protocol.model import Visit
    >>> w4 = Visit(code="W4", label="Week 4", day=28, window_before=3, window_after=3)
    >>> [str(window_status(w4, d)) for d in (24, 25, 31, 32)]
    ['early', 'in_window', 'in_window', 'late']
    """
    if day < visit.day - visit.window_before:
        return WindowStatus.EARLY
    if day > visit.day + visit.window_after:
        return WindowStatus.LATE
    return WindowStatus.IN_WINDOW
