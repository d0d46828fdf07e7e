"""Where an actual visit falls relative to its planned window."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pustula.protocol.model import Visit

__all__ = ["WindowStatus", "study_day", "window_status"]

WindowStatus = Literal["in_window", "early", "late"]


def study_day(visit_date: date, *, first_dose: date) -> int:
    """Days since the first dose; the day of the first dose is day 0.

    >>> study_day(date(2024, 1, 29), first_dose=date(2024, 1, 1))
    28
    """
    return (visit_date - first_dose).days


def window_status(visit: Visit, day: int) -> WindowStatus:
    """``in_window`` when ``day`` is within ``[day - before, day + after]`` of the plan.

    >>> from pustula.protocol.model import Visit
    >>> w4 = Visit(code="W4", label="Week 4", day=28, window_before=3, window_after=3)
    >>> [window_status(w4, d) for d in (24, 25, 31, 32)]
    ['early', 'in_window', 'in_window', 'late']
    """
    if day < visit.day - visit.window_before:
        return "early"
    if day > visit.day + visit.window_after:
        return "late"
    return "in_window"
