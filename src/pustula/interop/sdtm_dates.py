"""SDTM timing: ISO 8601 dates, study days without a day 0, and epochs."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

__all__ = ["epoch", "iso", "study_day"]


def _day(value: Any) -> date | None:
    if value is None or pd.isna(value):  # NaT is a date too
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value if isinstance(value, date) else pd.Timestamp(value).date()


def iso(value: Any) -> str:
    """``YYYY-MM-DD``, or "" for a missing date (SDTM character dates are never null)."""
    day = _day(value)
    return day.isoformat() if day else ""


def study_day(value: Any, reference: Any) -> float | None:
    """--DY: the reference start (first dose) is day 1, the day before it day -1."""
    day, ref = _day(value), _day(reference)
    if day is None or ref is None:
        return None
    delta = (day - ref).days
    return float(delta + 1 if delta >= 0 else delta)


def epoch(value: Any, first_dose: Any, last_dose: Any, *, before_dose: bool = False) -> str:
    """SCREENING before the first dose (or on its day, before dosing), TREATMENT up to the
    last dose, FOLLOW-UP after it; "" when the date or the first dose is unknown."""
    day, first, last = _day(value), _day(first_dose), _day(last_dose)
    if day is None:
        return ""
    if first is None or day < first or (day == first and before_dose):
        return "SCREENING"
    if last is not None and day > last:
        return "FOLLOW-UP"
    return "TREATMENT"
